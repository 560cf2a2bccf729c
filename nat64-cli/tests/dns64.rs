//! `nat64 dns64` end to end on loopback: a fake authoritative upstream (a UDP
//! and TCP socket answering canned responses built here), the resolver
//! binary, and queries built by hand.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use nat64_core::dns64::testing::{answer_aaaa, read_section, MessageBuilder};
use nat64_core::dns64::wire::{flags, rcode, rtype, DisplayName, Message, Section};

const ZONE: &str = "test.example";

fn v4(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}
fn v6(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

/// The canned answers of the fake authoritative server for `test.example`.
/// `None`: stay silent. `tcp`: whether the query came over TCP.
fn zone(id: u16, qname: &str, qtype: u16, tcp: bool) -> Option<Vec<u8>> {
    let name = qname.trim_end_matches('.').to_ascii_lowercase();
    let host = name.strip_suffix(&format!(".{ZONE}")).unwrap_or("");
    let resp = |rc| MessageBuilder::response(id, qname, qtype, rc).set_flags(flags::AA);
    let nodata = |soa_min: u32| resp(rcode::NOERROR).authority().soa(ZONE, soa_min, soa_min).build();
    if name == "34.216.184.93.in-addr.arpa" && qtype == rtype::PTR {
        return Some(resp(0).ptr(qname, 3600, &format!("a-only.{ZONE}")).build());
    }
    // The reverse zone of 93.184.216.0/24: 35 exists without a PTR record,
    // the other names do not exist.
    if let Some(host) = name.strip_suffix(".216.184.93.in-addr.arpa") {
        const REV: &str = "216.184.93.in-addr.arpa";
        let rc = if host == "35" { rcode::NOERROR } else { rcode::NXDOMAIN };
        return Some(resp(rc).authority().soa(REV, 3600, 120).build());
    }
    // As so often in the real ip6.arpa tree under a NAT64 prefix: nobody
    // answers.
    if name.ends_with(".ip6.arpa") {
        return None;
    }
    let m = match (host, qtype) {
        ("a-only", rtype::A) => resp(0).a(qname, 3600, v4("93.184.216.34")).build(),
        ("a-only", _) => nodata(300),
        ("short", rtype::A) => resp(0).a(qname, 30, v4("93.184.216.30")).build(),
        ("short", _) => nodata(300),
        ("nosoa", rtype::A) => resp(0).a(qname, 3600, v4("93.184.216.60")).build(),
        ("nosoa", _) => resp(0).build(),
        ("v6-only", rtype::AAAA) => resp(0).aaaa(qname, 300, v6("2001:db8::6")).build(),
        ("v6-only", _) => nodata(300),
        ("dual", rtype::A) => resp(0).a(qname, 300, v4("93.184.216.35")).build(),
        ("dual", rtype::AAAA) => resp(0).aaaa(qname, 300, v6("2001:db8::35")).build(),
        // As a validating resolver answers a signed name: AD set.
        ("signed", rtype::A) => resp(0)
            .set_flags(flags::AD)
            .a(qname, 300, v4("93.184.216.62"))
            .rrsig(qname, 300, rtype::A)
            .build(),
        ("signed", _) => resp(0)
            .set_flags(flags::AD)
            .authority()
            .soa(ZONE, 300, 300)
            .rrsig(ZONE, 300, rtype::SOA)
            .build(),
        ("www", rtype::A) => resp(0)
            .cname(qname, 120, &format!("a-only.{ZONE}"))
            .a(&format!("a-only.{ZONE}"), 3600, v4("93.184.216.34"))
            .build(),
        ("www", rtype::AAAA) => resp(0)
            .cname(qname, 120, &format!("a-only.{ZONE}"))
            .authority()
            .soa(ZONE, 300, 300)
            .build(),
        ("big", rtype::A) if !tcp => resp(0).set_flags(flags::TC).build(),
        ("big", rtype::A) => {
            let mut b = resp(0);
            for i in 1..=40u8 {
                b = b.a(qname, 300, Ipv4Addr::new(93, 184, 216, i));
            }
            b.build()
        }
        ("big", _) => nodata(300),
        // 60 addresses: about 1000 bytes as A records (more than 512, less
        // than 1232), about 1700 once synthesized as AAAA (more than 1232).
        ("wide", rtype::A) => (1..=60u8)
            .fold(resp(0), |b, i| b.a("@", 300, Ipv4Addr::new(93, 184, 217, i)))
            .build(),
        ("wide", _) => nodata(300),
        // The largest DNS message there is (RFC 1035 section 4.2.2: the
        // TCP length field): see `huge_a`.
        ("huge", rtype::A) => huge_a(id, qname),
        ("huge", _) => nodata(300),
        // Any number of distinct A-only names, so that every query misses
        // the cache and goes upstream.
        (h, rtype::A) if h.starts_with("v4-") => resp(0).a(qname, 3600, v4("93.184.216.34")).build(),
        (h, _) if h.starts_with("v4-") => nodata(300),
        // Silent: the resolver's upstream timeout runs out.
        (h, _) if h.starts_with("slow") => return None,
        _ => resp(rcode::NXDOMAIN).authority().soa(ZONE, 300, 300).build(),
    };
    Some(m)
}

/// Records of the "huge" A answer, all with the owner compressed to the question.
const HUGE_A_RECORDS: usize = 4090;

/// An A response of exactly 65 535 bytes, OPT included (the resolver always
/// asks upstream with EDNS): `HUGE_A_RECORDS` A records, then one TXT record
/// whose length makes up the rest.
fn huge_a(id: u16, qname: &str) -> Vec<u8> {
    let mut b = MessageBuilder::response(id, qname, rtype::A, 0).set_flags(flags::AA);
    for i in 0..HUGE_A_RECORDS {
        b = b.a("@", 300, Ipv4Addr::from(0x5db8_0000 + i as u32));
    }
    let base = b.clone().edns(1232, false).build().len();
    // The TXT record: owner pointer (2), fixed fields (10), then strings of
    // at most 255 bytes, each after its length byte.
    let mut rdata = Vec::new();
    let mut left = 65535 - base - 12;
    while left > 0 {
        let n = (left - 1).min(255);
        rdata.push(n as u8);
        rdata.extend(std::iter::repeat_n(b'x', n));
        left -= n + 1;
    }
    let m = b.rr("@", rtype::TXT, 300, &rdata).edns(1232, false).build();
    assert_eq!(m.len(), 65535);
    m
}

fn answer_query(q: &[u8], tcp: bool) -> Option<Vec<u8>> {
    let m = Message::parse(q).ok()?;
    let qname = format!("{}", DisplayName(q, m.qname()));
    let r = zone(m.id(), &qname, m.qtype(), tcp)?;
    // Over UDP an answer larger than the query's EDNS size (512 without
    // EDNS) is truncated, as a real server does (RFC 6891 section 7, RFC
    // 2181 section 9): header and question only, TC set.
    let limit = m.edns().map_or(512, |e| usize::from(e.udp_size.max(512)));
    if !tcp && r.len() > limit {
        let mut b = MessageBuilder::response(m.id(), &qname, m.qtype(), 0).set_flags(flags::AA | flags::TC);
        if let Some(e) = m.edns() {
            b = b.edns(e.udp_size, false);
        }
        return Some(b.build());
    }
    Some(r)
}

/// A fake authoritative server on 127.0.0.1 (UDP and TCP on one port).
struct Upstream {
    addr: SocketAddr,
    udp_queries: Arc<AtomicUsize>,
    tcp_queries: Arc<AtomicUsize>,
}

/// One thing a scripted upstream sends back.
enum Out {
    /// A datagram (UDP) or a length-prefixed message (TCP).
    Msg(Vec<u8>),
    /// UDP only: a datagram to the resolver from another port of
    /// 127.0.0.1, as an off-path attacker would forge it.
    Forged(Vec<u8>),
}

/// What a scripted upstream sends back to one query (`tcp`: it came over
/// TCP), in order; nothing stays silent.
type Script = Arc<dyn Fn(&[u8], bool) -> Vec<Out> + Send + Sync>;

fn upstream(silent: bool) -> Upstream {
    upstream_with(Arc::new(move |q, tcp| {
        if silent {
            return Vec::new();
        }
        answer_query(q, tcp).into_iter().map(Out::Msg).collect()
    }))
}

fn upstream_with(script: Script) -> Upstream {
    let (udp, tcp) = loop {
        let u = UdpSocket::bind("127.0.0.1:0").unwrap();
        if let Ok(t) = TcpListener::bind(u.local_addr().unwrap()) {
            break (u, t);
        }
    };
    let addr = udp.local_addr().unwrap();
    let udp_queries = Arc::new(AtomicUsize::new(0));
    let tcp_queries = Arc::new(AtomicUsize::new(0));
    let uq = udp_queries.clone();
    let script2 = script.clone();
    thread::spawn(move || {
        let forger = UdpSocket::bind("127.0.0.1:0").unwrap();
        let mut buf = [0u8; 4096];
        while let Ok((n, peer)) = udp.recv_from(&mut buf) {
            uq.fetch_add(1, Ordering::SeqCst);
            for out in script2(&buf[..n], false) {
                let _ = match out {
                    Out::Msg(m) => udp.send_to(&m, peer),
                    Out::Forged(m) => forger.send_to(&m, peer),
                };
            }
        }
    });
    let tq = tcp_queries.clone();
    thread::spawn(move || {
        for s in tcp.incoming() {
            let Ok(mut s) = s else { continue };
            let (tq, script) = (tq.clone(), script.clone());
            thread::spawn(move || {
                let mut len = [0u8; 2];
                while s.read_exact(&mut len).is_ok() {
                    let mut q = vec![0u8; usize::from(u16::from_be_bytes(len))];
                    if s.read_exact(&mut q).is_err() {
                        return;
                    }
                    tq.fetch_add(1, Ordering::SeqCst);
                    for out in script(&q, true) {
                        if let Out::Msg(r) = out {
                            let mut m = (r.len() as u16).to_be_bytes().to_vec();
                            m.extend_from_slice(&r);
                            let _ = s.write_all(&m);
                        }
                    }
                }
            });
        }
    });
    Upstream {
        addr,
        udp_queries,
        tcp_queries,
    }
}

/// The resolver process; killed on drop.
struct Resolver {
    child: Child,
    addr: SocketAddr,
    stderr: Arc<Mutex<Vec<String>>>,
}

impl Drop for Resolver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The arguments of `nat64 dns64` for [`resolver`].
fn resolver_args(listen: &str, upstreams: &[SocketAddr], extra: &[&str]) -> Vec<String> {
    let mut args = vec!["dns64", "--listen", listen, "--metrics-interval", "1"];
    if !extra.contains(&"--timeout-ms") {
        args.extend(["--timeout-ms", "300"]);
    }
    let ups: Vec<String> = upstreams.iter().map(|u| u.to_string()).collect();
    for u in &ups {
        args.extend(["--upstream", u]);
    }
    args.extend(extra);
    args.into_iter().map(String::from).collect()
}

fn resolver(listen: &str, upstreams: &[SocketAddr], extra: &[&str]) -> Resolver {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_nat64"));
    cmd.args(resolver_args(listen, upstreams, extra));
    spawn_resolver(cmd)
}

/// Starts the resolver command and waits for its listening address.
fn spawn_resolver(mut cmd: Command) -> Resolver {
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start nat64 dns64");
    let stderr = child.stderr.take().unwrap();
    let lines = Arc::new(Mutex::new(Vec::new()));
    let (tx, rx) = std::sync::mpsc::channel();
    let l2 = lines.clone();
    thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if let Some(a) = line.strip_prefix("nat64 dns64: listening on udp ") {
                let a: SocketAddr = a.split_whitespace().next().unwrap().parse().unwrap();
                let _ = tx.send(a);
            }
            l2.lock().unwrap().push(line);
        }
    });
    let addr = match rx.recv_timeout(Duration::from_secs(20)) {
        Ok(a) => a,
        Err(_) => {
            let _ = child.kill();
            panic!("the resolver did not start: {:?}", lines.lock().unwrap());
        }
    };
    Resolver {
        child,
        addr,
        stderr: lines,
    }
}

fn udp_ask(server: SocketAddr, msg: &[u8]) -> Option<Vec<u8>> {
    let bind = if server.is_ipv4() { "127.0.0.1:0" } else { "[::1]:0" };
    let s = UdpSocket::bind(bind).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    s.send_to(msg, server).unwrap();
    let mut buf = [0u8; 65535];
    let (n, _) = s.recv_from(&mut buf).ok()?;
    Some(buf[..n].to_vec())
}

fn tcp_ask(server: SocketAddr, msg: &[u8]) -> Vec<u8> {
    let mut s = TcpStream::connect(server).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    let mut m = (msg.len() as u16).to_be_bytes().to_vec();
    m.extend_from_slice(msg);
    s.write_all(&m).unwrap();
    let mut len = [0u8; 2];
    s.read_exact(&mut len).unwrap();
    let mut r = vec![0u8; usize::from(u16::from_be_bytes(len))];
    s.read_exact(&mut r).unwrap();
    r
}

fn ask(server: SocketAddr, name: &str, qtype: u16) -> Vec<u8> {
    let id = 0x5a5a ^ qtype;
    let q = MessageBuilder::query(id, name, qtype).edns(1232, false).build();
    let r = udp_ask(server, &q).unwrap_or_else(|| panic!("no answer for {name}"));
    let m = Message::parse(&r).expect("valid DNS");
    assert_eq!(m.id(), id);
    assert!(m.is_response());
    r
}

fn fqdn(host: &str) -> String {
    format!("{host}.{ZONE}")
}

/// One resolver on 127.0.0.1 (with --allow-ipv4) over one fake upstream.
fn setup(extra: &[&str]) -> (Upstream, Resolver) {
    let up = upstream(false);
    let mut args = vec!["--allow-ipv4"];
    args.extend_from_slice(extra);
    let r = resolver("127.0.0.1:0", &[up.addr], &args);
    (up, r)
}

#[test]
fn a_only_name_gets_a_synthesized_aaaa_with_the_ttl_rule() {
    let (_up, r) = setup(&[]);
    let resp = ask(r.addr, &fqdn("a-only"), rtype::AAAA);
    assert_eq!(answer_aaaa(&resp), vec![v6("64:ff9b::93.184.216.34")]);
    let ans = read_section(&resp, Section::Answer);
    // RFC 6147 section 5.1.7: min(A TTL 3600, SOA 300).
    assert!(ans[0].ttl <= 300 && ans[0].ttl >= 298, "ttl {}", ans[0].ttl);
    // A TTL below the SOA's.
    let resp = ask(r.addr, &fqdn("short"), rtype::AAAA);
    assert_eq!(read_section(&resp, Section::Answer)[0].ttl, 30);
    // No SOA with the negative AAAA answer: 600 s cap.
    let resp = ask(r.addr, &fqdn("nosoa"), rtype::AAAA);
    assert_eq!(read_section(&resp, Section::Answer)[0].ttl, 600);
    // The A query itself is not touched.
    let resp = ask(r.addr, &fqdn("a-only"), rtype::A);
    assert_eq!(read_section(&resp, Section::Answer)[0].rdata, vec![93, 184, 216, 34]);
}

#[test]
fn aaaa_only_and_dual_stack_names_return_their_real_aaaa() {
    let (_up, r) = setup(&[]);
    let resp = ask(r.addr, &fqdn("v6-only"), rtype::AAAA);
    assert_eq!(answer_aaaa(&resp), vec![v6("2001:db8::6")]);
    let resp = ask(r.addr, &fqdn("dual"), rtype::AAAA);
    assert_eq!(answer_aaaa(&resp), vec![v6("2001:db8::35")]);
}

#[test]
fn translate_all_synthesizes_for_dual_stack_names_too() {
    let (_up, r) = setup(&["--translate-all"]);
    let resp = ask(r.addr, &fqdn("dual"), rtype::AAAA);
    assert_eq!(answer_aaaa(&resp), vec![v6("64:ff9b::93.184.216.35")]);
    // A name with only AAAA records keeps them: nothing to synthesize from
    // (RFC 6147 section 5.1.1's option replaces real records, it does not
    // hide IPv6-only names).
    let resp = ask(r.addr, &fqdn("v6-only"), rtype::AAAA);
    assert_eq!(u16::from(resp[3] & 0xf), rcode::NOERROR);
    assert_eq!(answer_aaaa(&resp), vec![v6("2001:db8::6")]);
}

#[test]
fn nxdomain_stays_nxdomain() {
    let (_up, r) = setup(&[]);
    let resp = ask(r.addr, &fqdn("nowhere"), rtype::AAAA);
    assert_eq!(u16::from(resp[3] & 0xf), rcode::NXDOMAIN);
    assert!(answer_aaaa(&resp).is_empty());
    assert_eq!(read_section(&resp, Section::Authority)[0].rtype, rtype::SOA);
}

#[test]
fn cname_chain_is_kept() {
    let (_up, r) = setup(&[]);
    let resp = ask(r.addr, &fqdn("www"), rtype::AAAA);
    let ans = read_section(&resp, Section::Answer);
    assert_eq!(ans.len(), 2, "{ans:?}");
    assert_eq!(ans[0].rtype, rtype::CNAME);
    assert_eq!(ans[0].target.as_deref(), Some("a-only.test.example."));
    assert_eq!(ans[1].name, "a-only.test.example.");
    assert_eq!(answer_aaaa(&resp), vec![v6("64:ff9b::93.184.216.34")]);
}

#[test]
fn malformed_queries_get_formerr_and_the_resolver_survives() {
    let (_up, r) = setup(&[]);
    // A header saying one question, then a label running past the end.
    let bad = [0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0x3f, b'a'];
    let resp = udp_ask(r.addr, &bad).expect("FORMERR");
    let m = Message::parse(&resp).unwrap();
    assert_eq!((m.id(), m.rcode()), (0x1234, rcode::FORMERR));
    // A compression loop in the question.
    let lp = [0x12, 0x35, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 28, 0, 1];
    let m2 = udp_ask(r.addr, &lp).expect("FORMERR");
    assert_eq!(Message::parse(&m2).unwrap().rcode(), rcode::FORMERR);
    // An unknown opcode.
    let notify = MessageBuilder::new(7, 4 << 11, "x.example", rtype::SOA).build();
    let m3 = udp_ask(r.addr, &notify).expect("NOTIMP");
    assert_eq!(Message::parse(&m3).unwrap().rcode(), rcode::NOTIMP);
    // Runts and responses get nothing...
    for junk in [
        &[1u8, 2, 3][..],
        &MessageBuilder::response(1, "x.example", 1, 0).build(),
    ] {
        let s = UdpSocket::bind("127.0.0.1:0").unwrap();
        s.set_read_timeout(Some(Duration::from_millis(300))).unwrap();
        s.send_to(junk, r.addr).unwrap();
        assert!(s.recv_from(&mut [0u8; 512]).is_err(), "no answer to junk");
    }
    // ... and a malformed TCP message too, while the server keeps working.
    let resp = tcp_ask(r.addr, &bad);
    assert_eq!(Message::parse(&resp).unwrap().rcode(), rcode::FORMERR);
    let resp = ask(r.addr, &fqdn("a-only"), rtype::AAAA);
    assert_eq!(answer_aaaa(&resp).len(), 1);
}

#[test]
fn upstream_timeout_gives_servfail() {
    let silent = upstream(true);
    let r = resolver("127.0.0.1:0", &[silent.addr], &["--allow-ipv4"]);
    let t = Instant::now();
    let resp = ask(r.addr, &fqdn("a-only"), rtype::A);
    assert_eq!(u16::from(resp[3] & 0xf), rcode::SERVFAIL);
    // AAAA: the AAAA timeout counts as an empty answer (RFC 6147 section
    // 5.1.3), then the A query times out too.
    let resp = ask(r.addr, &fqdn("a-only"), rtype::AAAA);
    assert_eq!(u16::from(resp[3] & 0xf), rcode::SERVFAIL);
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    assert!(silent.udp_queries.load(Ordering::SeqCst) >= 3);
}

#[test]
fn failover_to_the_second_upstream() {
    let silent = upstream(true);
    let good = upstream(false);
    let r = resolver("127.0.0.1:0", &[silent.addr, good.addr], &["--allow-ipv4"]);
    let resp = ask(r.addr, &fqdn("a-only"), rtype::AAAA);
    assert_eq!(answer_aaaa(&resp), vec![v6("64:ff9b::93.184.216.34")]);
    assert!(silent.udp_queries.load(Ordering::SeqCst) >= 1);
    // The answering upstream is now tried first.
    let before = silent.udp_queries.load(Ordering::SeqCst);
    let resp = ask(r.addr, &fqdn("dual"), rtype::AAAA);
    assert_eq!(answer_aaaa(&resp), vec![v6("2001:db8::35")]);
    assert_eq!(silent.udp_queries.load(Ordering::SeqCst), before);
    // The metrics line counts the failover.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let found = r
            .stderr
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.starts_with('{'))
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .any(|v| v["dns64_metrics"]["upstream_failovers"].as_u64() >= Some(1));
        if found {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no metrics line: {:?}",
            r.stderr.lock().unwrap()
        );
        thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn truncation_both_ways_with_tcp_retry() {
    let (up, r) = setup(&[]);
    // The upstream truncates the A answer over UDP: the resolver retries
    // over TCP, synthesizes 40 AAAA records, which do not fit in 512 bytes.
    let q = MessageBuilder::query(0x7777, &fqdn("big"), rtype::AAAA).build();
    let resp = udp_ask(r.addr, &q).unwrap();
    let m = Message::parse(&resp).unwrap();
    assert!(m.flags() & flags::TC != 0, "truncated for a 512-byte client");
    assert!(up.tcp_queries.load(Ordering::SeqCst) >= 1, "TCP retry upstream");
    let resp = tcp_ask(r.addr, &q);
    assert_eq!(answer_aaaa(&resp).len(), 40);
    assert_eq!(answer_aaaa(&resp)[0], v6("64:ff9b::93.184.216.1"));
    // With EDNS 1232 it fits over UDP (40 * 28 + header).
    let q = MessageBuilder::query(0x7778, &fqdn("big"), rtype::AAAA)
        .edns(4096, false)
        .build();
    let resp = udp_ask(r.addr, &q).unwrap();
    assert_eq!(answer_aaaa(&resp).len(), 40);
    assert_eq!(Message::parse(&resp).unwrap().edns().unwrap().udp_size, 1232);
}

#[test]
fn answers_are_cached_for_their_ttl() {
    let (up, r) = setup(&[]);
    let first = ask(r.addr, &fqdn("a-only"), rtype::AAAA);
    let n = up.udp_queries.load(Ordering::SeqCst);
    assert_eq!(n, 2, "AAAA then A");
    thread::sleep(Duration::from_millis(1100));
    let again = ask(r.addr, &fqdn("A-ONLY"), rtype::AAAA);
    assert_eq!(up.udp_queries.load(Ordering::SeqCst), n, "served from the cache");
    assert_eq!(answer_aaaa(&again), answer_aaaa(&first));
    let t1 = read_section(&first, Section::Answer)[0].ttl;
    let t2 = read_section(&again, Section::Answer)[0].ttl;
    assert!(t2 < t1, "TTL counts down: {t1} then {t2}");
    // The client's spelling of the name comes back.
    assert!(Message::parse(&again).unwrap().qname_wire().starts_with(b"\x06A-ONLY"));
}

#[test]
fn ipv4only_arpa_and_ptr() {
    let (_up, r) = setup(&["--prefix", "2001:db8:64::/96"]);
    let resp = ask(r.addr, "ipv4only.arpa", rtype::AAAA);
    assert_eq!(
        answer_aaaa(&resp),
        vec![v6("2001:db8:64::192.0.0.170"), v6("2001:db8:64::192.0.0.171")]
    );
    // PTR under the prefix: a CNAME to in-addr.arpa, then the PTR record
    // (RFC 6147 section 5.3.1).
    let name = nat64_core::dns64::reverse::ip6_arpa_name(v6("2001:db8:64::93.184.216.34"));
    let qname = format!("{}", DisplayName(&name, 0));
    let resp = ask(r.addr, &qname, rtype::PTR);
    let ans = read_section(&resp, Section::Answer);
    assert_eq!(ans[0].rtype, rtype::CNAME);
    assert_eq!(ans[0].target.as_deref(), Some("34.216.184.93.in-addr.arpa."));
    assert_eq!(ans[1].target.as_deref(), Some("a-only.test.example."));
    // The in-addr.arpa name does not exist: NXDOMAIN for the ip6.arpa
    // name, with the reverse zone's SOA, answered here (the upstream does
    // not answer for ip6.arpa names at all).
    let name = nat64_core::dns64::reverse::ip6_arpa_name(v6("2001:db8:64::93.184.216.99"));
    let qname = format!("{}", DisplayName(&name, 0));
    let resp = ask(r.addr, &qname, rtype::PTR);
    let m = Message::parse(&resp).unwrap();
    assert_eq!(
        m.rcode(),
        rcode::NXDOMAIN,
        "not the SERVFAIL of the ip6.arpa query's timeout"
    );
    assert_eq!(format!("{}", DisplayName(&resp, m.qname())), qname);
    assert!(read_section(&resp, Section::Answer).is_empty());
    let ns = read_section(&resp, Section::Authority);
    assert_eq!(
        (ns.len(), ns[0].rtype, ns[0].name.as_str()),
        (1, rtype::SOA, "216.184.93.in-addr.arpa.")
    );
    // It exists without a PTR record: an empty answer.
    let name = nat64_core::dns64::reverse::ip6_arpa_name(v6("2001:db8:64::93.184.216.35"));
    let resp = ask(r.addr, &format!("{}", DisplayName(&name, 0)), rtype::PTR);
    assert_eq!(u16::from(resp[3] & 0xf), rcode::NOERROR);
    assert!(read_section(&resp, Section::Answer).is_empty());
    assert_eq!(read_section(&resp, Section::Authority)[0].rtype, rtype::SOA);
}

/// The AD bit of the answer to a AAAA query for `signed.test.example`.
fn ad_bit(server: SocketAddr, id: u16, dnssec_ok: bool, cd: bool) -> bool {
    let mut b = MessageBuilder::query(id, &fqdn("signed"), rtype::AAAA).edns(1232, dnssec_ok);
    if cd {
        b = b.set_flags(flags::CD);
    }
    let resp = udp_ask(server, &b.build()).expect("an answer");
    let m = Message::parse(&resp).unwrap();
    assert_eq!(m.id(), id);
    if !(cd && dnssec_ok) {
        assert_eq!(answer_aaaa(&resp), vec![v6("64:ff9b::93.184.216.62")]);
    }
    m.flags() & flags::AD != 0
}

#[test]
fn ad_on_synthesized_answers_only_behind_an_upstream_marked_as_validating() {
    // RFC 6147 section 5.5 item 2: DO set, CD clear, both upstream answers
    // with AD.
    let (_up, r) = setup(&["--upstream-validates"]);
    assert!(ad_bit(r.addr, 1, true, false));
    assert!(!ad_bit(r.addr, 2, false, false), "item 1: no DO, no AD");
    assert!(!ad_bit(r.addr, 3, false, true), "CD: the upstream did not validate");
    // Item 3: CD and DO, forwarded; the upstream's answer (AD) relayed.
    assert!(ad_bit(r.addr, 4, true, true));
    // Without the flag, the upstream's AD is not trusted.
    let (_up, r) = setup(&[]);
    assert!(!ad_bit(r.addr, 5, true, false));
}

#[test]
fn ipv4_clients_get_no_synthesis_unless_allowed_and_ipv6_loopback_works() {
    let up = upstream(false);
    let r = resolver("127.0.0.1:0", &[up.addr], &[]);
    let resp = ask(r.addr, &fqdn("a-only"), rtype::AAAA);
    assert!(answer_aaaa(&resp).is_empty(), "CoreDNS's allow_ipv4 default");
    if UdpSocket::bind("[::1]:0").is_err() {
        eprintln!("no IPv6 loopback here: skipping the [::1] half");
        return;
    }
    let r6 = resolver("[::1]:0", &[up.addr], &[]);
    assert!(matches!(r6.addr.ip(), IpAddr::V6(_)));
    let resp = ask(r6.addr, &fqdn("a-only"), rtype::AAAA);
    assert_eq!(answer_aaaa(&resp), vec![v6("64:ff9b::93.184.216.34")]);
}

#[test]
fn bad_flags_and_config_are_refused_with_a_message() {
    let out = Command::new(env!("CARGO_BIN_EXE_nat64"))
        .args(["dns64", "--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(e.contains("--upstream"), "{e}");
    let out = Command::new(env!("CARGO_BIN_EXE_nat64"))
        .args(["dns64", "--upstream", "127.0.0.1", "--prefix", "64:ff9b::/95"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("/96"));
    // A bad element of a prefix's IPv4 ranges is named.
    let out = Command::new(env!("CARGO_BIN_EXE_nat64"))
        .args([
            "dns64",
            "--upstream",
            "127.0.0.1",
            "--prefix",
            "2001:db8:1::/96=any,!10.0.0.0/33",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(e.contains("\"!10.0.0.0/33\"") && e.contains("/32"), "{e}");
    // An element never reached (first match wins) is refused at start.
    let out = Command::new(env!("CARGO_BIN_EXE_nat64"))
        .args(resolver_args(
            "127.0.0.1:0",
            &["127.0.0.1:9".parse().unwrap()],
            &["--prefix", "2001:db8:1::/96=any,!10.0.0.0/8"],
        ))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(e.contains("!10.0.0.0/8 is never reached"), "{e}");
}

#[test]
fn prefix_exclusions_choose_the_prefix_per_address() {
    // 93.184.216.30 (short) under one prefix, every other address under
    // another, with `!` instead of a complement list.
    let (_up, r) = setup(&[
        "--prefix",
        "2001:db8:1::/96=93.184.216.30",
        "--prefix",
        "2001:db8:2::/96=!93.184.216.30",
    ]);
    let resp = ask(r.addr, &fqdn("short"), rtype::AAAA);
    assert_eq!(answer_aaaa(&resp), vec![v6("2001:db8:1::93.184.216.30")]);
    let resp = ask(r.addr, &fqdn("a-only"), rtype::AAAA);
    assert_eq!(answer_aaaa(&resp), vec![v6("2001:db8:2::93.184.216.34")]);
}

#[test]
fn concurrent_clients_are_all_answered() {
    let (_up, r) = setup(&[]);
    let done = Arc::new(AtomicBool::new(true));
    let hs: Vec<_> = (0..8)
        .map(|i| {
            let (addr, done) = (r.addr, done.clone());
            thread::spawn(move || {
                for j in 0..25 {
                    let host = ["a-only", "dual", "v6-only", "www", "short"][(i + j) % 5];
                    let resp = ask(addr, &fqdn(host), rtype::AAAA);
                    if answer_aaaa(&resp).is_empty() {
                        done.store(false, Ordering::SeqCst);
                    }
                }
            })
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
    assert!(done.load(Ordering::SeqCst));
}

// ---- abuse: malformed queries, oversized answers, bad and slow upstreams ----

/// The resolver's limits that the abuse tests lean on (see nat64-dns64/src/lib.rs).
const MAX_TCP_CONNS: usize = 256;
const MAX_IN_FLIGHT: usize = 4096;
const TCP_IDLE: Duration = Duration::from_secs(10);

/// xorshift64: reproducible junk without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// What the resolver must do with a malformed message.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Expect {
    /// FORMERR (RFC 1035 section 4.1.1).
    Formerr,
    /// NOTIMP: an opcode other than QUERY.
    Notimp,
    /// BADVERS: EDNS version above 0 (RFC 6891 section 6.1.3).
    Badvers,
    /// No answer: runts and responses (answering responses invites loops,
    /// RFC 1035 section 7.3, and spoofed reflection).
    Silence,
    /// Random bytes: anything but a crash.
    Anything,
}

/// Malformed datagrams per second in the flood test. The resolver must keep
/// up with them: beyond what it can read, the kernel drops datagrams at its
/// socket, legitimate ones too, which no resolver can help. On a loaded
/// 2-core machine (the flooders, the resolver and other jobs sharing it) it
/// read about 50 000 a second with none lost inside it; 20 000 leaves room
/// for slower CI machines.
const FLOOD_RATE: usize = 20_000;

/// Kinds of malformed message made by [`junk`].
const JUNK_KINDS: usize = 13;
/// The kind that is a 65 507-byte datagram (the largest UDP payload over
/// IPv4), sent rarely in the flood.
const JUNK_HUGE: usize = 6;

/// A malformed message of kind `k` and what it must get.
fn junk(k: usize, rng: &mut Rng) -> (Vec<u8>, Expect) {
    let id = rng.next() as u16;
    let good = |t| MessageBuilder::query(id, &fqdn("a-only"), t).build();
    let hdr = |qd: u8| vec![(id >> 8) as u8, id as u8, 0x01, 0x00, 0, qd, 0, 0, 0, 0, 0, 0];
    match k {
        0 => {
            let n = 12 + rng.below(600);
            (rng.bytes(n), Expect::Anything)
        }
        // Shorter than a header (an empty datagram included).
        1 => {
            let n = rng.below(12);
            (rng.bytes(n), Expect::Silence)
        }
        // QDCOUNT 2 (RFC 9619: a query has exactly one question).
        2 => {
            let mut m = good(rtype::AAAA);
            let q = m[12..].to_vec();
            m.extend_from_slice(&q);
            m[5] = 2;
            (m, Expect::Formerr)
        }
        // A compression pointer to itself.
        3 => {
            let mut m = hdr(1);
            m.extend_from_slice(&[0xc0, 12, 0, 28, 0, 1]);
            (m, Expect::Formerr)
        }
        // A label running past the end.
        4 => {
            let mut m = hdr(1);
            m.extend_from_slice(&[0x3f, b'a', b'b']);
            (m, Expect::Formerr)
        }
        // Responses, one of them carrying a forged answer.
        5 => {
            let m = if rng.below(2) == 0 {
                MessageBuilder::response(id, &fqdn("a-only"), rtype::AAAA, 0).build()
            } else {
                MessageBuilder::response(id, &fqdn("a-only"), rtype::A, 0)
                    .a("@", 86400, v4("6.6.6.6"))
                    .build()
            };
            (m, Expect::Silence)
        }
        // 65 507 bytes: a question name of five 63-byte labels (past the
        // 255-byte limit, RFC 1035 section 2.3.4), then garbage.
        JUNK_HUGE => {
            let mut m = hdr(1);
            m[6..8].copy_from_slice(&[0xff, 0xff]);
            for _ in 0..5 {
                m.push(63);
                m.extend(rng.bytes(63).iter().map(|b| b'a' + b % 26));
            }
            let rest = 65507 - m.len();
            m.extend(rng.bytes(rest));
            (m, Expect::Formerr)
        }
        // Another opcode (1 to 15), whatever follows.
        7 => {
            let n = 12 + rng.below(100);
            let mut m = rng.bytes(n);
            m[2] = (1 + rng.below(15) as u8) << 3;
            (m, Expect::Notimp)
        }
        // EDNS version 1.
        8 => {
            let mut m = MessageBuilder::query(id, &fqdn("a-only"), rtype::AAAA)
                .edns(1232, false)
                .build();
            let n = m.len();
            m[n - 5] = 1;
            (m, Expect::Badvers)
        }
        // ANCOUNT 65535 and no records.
        9 => {
            let mut m = good(rtype::A);
            m[6..8].copy_from_slice(&[0xff, 0xff]);
            (m, Expect::Formerr)
        }
        // No question.
        10 => (hdr(0), Expect::Formerr),
        // A name of 5 * 64 bytes, terminated.
        11 => {
            let mut m = hdr(1);
            for _ in 0..5 {
                m.push(63);
                m.extend_from_slice(&[b'x'; 63]);
            }
            m.extend_from_slice(&[0, 0, 28, 0, 1]);
            (m, Expect::Formerr)
        }
        // A pointer past the end.
        _ => {
            let mut m = hdr(1);
            m.extend_from_slice(&[0xc0, 0xff]);
            (m, Expect::Formerr)
        }
    }
}

/// The JSON metrics lines the resolver has written so far.
fn metrics_lines(r: &Resolver) -> Vec<serde_json::Value> {
    r.stderr
        .lock()
        .unwrap()
        .iter()
        .filter(|l| l.starts_with('{'))
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// The first metrics line written after `after` lines, waiting for it.
fn next_metrics(r: &Resolver, after: usize) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(v) = metrics_lines(r).get(after) {
            return v["dns64_metrics"].clone();
        }
        assert!(
            Instant::now() < deadline,
            "no metrics line: {:?}",
            r.stderr.lock().unwrap()
        );
        thread::sleep(Duration::from_millis(50));
    }
}

fn counter(m: &serde_json::Value, name: &str) -> u64 {
    m[name].as_u64().unwrap_or_else(|| panic!("no counter {name} in {m}"))
}

/// p50, p99 and the maximum.
fn percentiles(mut v: Vec<Duration>) -> (Duration, Duration, Duration) {
    assert!(!v.is_empty());
    v.sort();
    let at = |q: f64| v[((v.len() as f64 * q).ceil() as usize).clamp(1, v.len()) - 1];
    (at(0.5), at(0.99), v[v.len() - 1])
}

/// How long a legitimate client waits before sending its query again.
const RESEND: Duration = Duration::from_millis(300);

/// A legitimate client: asks `name`/AAAA with EDNS over UDP, sending the
/// query again every [`RESEND`] as stub resolvers do (RFC 1035 section
/// 4.2.1; a datagram dropped by an overloaded kernel is not the resolver's
/// doing), waiting at most `limit` in all; the answer, how long it took and
/// how many times the query was sent again.
fn timed_ask(server: SocketAddr, id: u16, name: &str, limit: Duration) -> Result<(Vec<u8>, Duration, usize), String> {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    let q = MessageBuilder::query(id, name, rtype::AAAA).edns(1232, false).build();
    let t = Instant::now();
    s.send_to(&q, server).unwrap();
    let mut resent = 0;
    let mut buf = [0u8; 2048];
    loop {
        if t.elapsed() >= RESEND * (resent + 1) as u32 {
            resent += 1;
            s.send_to(&q, server).unwrap();
        }
        let Some(left) = limit.checked_sub(t.elapsed()).filter(|d| !d.is_zero()) else {
            return Err(format!("no answer for {name} within {limit:?}"));
        };
        let next = (RESEND * (resent + 1) as u32).saturating_sub(t.elapsed());
        s.set_read_timeout(Some(left.min(next).max(Duration::from_millis(1))))
            .unwrap();
        if let Ok(n) = s.recv(&mut buf) {
            if Message::parse(&buf[..n]).is_ok_and(|m| m.id() == id) {
                return Ok((buf[..n].to_vec(), t.elapsed(), resent));
            }
        }
    }
}

/// Legitimate AAAA questions while something else goes on, until `stop`:
/// a cached name, a name missing the cache each time (two upstream
/// exchanges), a dual-stack name. Each must get its synthesized (or real)
/// AAAA within `limit`; returns the latencies and the number of queries
/// sent again.
fn legit_client(server: SocketAddr, tag: u16, stop: Arc<AtomicBool>, limit: Duration) -> (Vec<Duration>, usize) {
    let mut lat = Vec::new();
    let mut resent = 0;
    let mut i = 0u16;
    while !stop.load(Ordering::SeqCst) || i < 10 {
        let (name, want) = match i % 3 {
            0 => (fqdn("a-only"), v6("64:ff9b::93.184.216.34")),
            1 => (fqdn(&format!("v4-{tag}-{i}")), v6("64:ff9b::93.184.216.34")),
            _ => (fqdn("dual"), v6("2001:db8::35")),
        };
        match timed_ask(server, tag.wrapping_mul(0x1000).wrapping_add(i), &name, limit) {
            Ok((resp, t, again)) => {
                assert_eq!(answer_aaaa(&resp), vec![want], "answer to {name}");
                lat.push(t);
                resent += again;
            }
            Err(e) => panic!("legitimate query {i}: {e}"),
        }
        i += 1;
        thread::sleep(Duration::from_millis(2));
    }
    (lat, resent)
}

#[test]
fn a_flood_of_malformed_udp_queries_does_not_starve_legitimate_clients() {
    let (_up, mut r) = setup(&["--threads", "2"]);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);

    // Each kind once, waiting for its answer: the right RCODE with the
    // query's ID, or silence; and never more bytes back than came in (no
    // amplification for spoofed sources, RFC 5358 section 4).
    let probes: Vec<_> = (0..JUNK_KINDS)
        .map(|k| {
            let (m, want) = junk(k, &mut rng);
            let s = UdpSocket::bind("127.0.0.1:0").unwrap();
            s.send_to(&m, r.addr).unwrap();
            (k, m, want, s)
        })
        .collect();
    for (k, m, want, s) in probes {
        s.set_read_timeout(Some(Duration::from_millis(400))).unwrap();
        let mut buf = [0u8; 65535];
        let got = s.recv(&mut buf).ok().map(|n| buf[..n].to_vec());
        let rc = |rc| {
            let g = got
                .as_ref()
                .unwrap_or_else(|| panic!("kind {k}: no answer, wanted {want:?}"));
            assert!(g.len() <= m.len(), "kind {k}: {} bytes back for {}", g.len(), m.len());
            assert_eq!(g[..2], m[..2], "kind {k}: the query's ID");
            assert_eq!(u16::from(g[3] & 0xf), rc & 0xf, "kind {k}: {g:?}");
            assert!(g[2] & 0x80 != 0, "kind {k}: QR");
        };
        match want {
            Expect::Formerr => rc(rcode::FORMERR),
            Expect::Notimp => rc(rcode::NOTIMP),
            // BADVERS is 16: the low bits are 0, the rest in the OPT record.
            Expect::Badvers => {
                rc(rcode::BADVERS);
                let g = got.unwrap();
                assert_eq!(Message::parse(&g).unwrap().edns().unwrap().ext_rcode, 1, "kind {k}");
            }
            Expect::Silence => assert!(got.is_none(), "kind {k}: answered {got:?}"),
            Expect::Anything => {}
        }
    }

    // The flood: three threads sending every kind (the 65 507-byte one one
    // time in 64) at FLOOD_RATE in all for three seconds, from 4 ports
    // each, never reading the answers. Meanwhile a legitimate client asks.
    let stop = Arc::new(AtomicBool::new(false));
    let lines_before = metrics_lines(&r).len();
    let legit = {
        let (addr, stop) = (r.addr, stop.clone());
        thread::spawn(move || legit_client(addr, 1, stop, Duration::from_secs(1)))
    };
    let flooders: Vec<_> = (0..3u64)
        .map(|t| {
            let (addr, stop) = (r.addr, stop.clone());
            thread::spawn(move || {
                let mut rng = Rng(0x2545_f491_4f6c_dd1d ^ (t + 1).wrapping_mul(0x9e37_79b9));
                let socks: Vec<_> = (0..4).map(|_| UdpSocket::bind("127.0.0.1:0").unwrap()).collect();
                let mut sent = [0u64; 5];
                let mut bytes = 0u64;
                let mut i = 0usize;
                let per_ms = FLOOD_RATE / 3 / 1000;
                let start = Instant::now();
                while !stop.load(Ordering::Relaxed) {
                    if i % per_ms == 0 {
                        let due = start + Duration::from_millis((i / per_ms) as u64);
                        if let Some(d) = due.checked_duration_since(Instant::now()) {
                            thread::sleep(d);
                        }
                    }
                    let mut k = rng.below(JUNK_KINDS);
                    if k == JUNK_HUGE && rng.below(64) != 0 {
                        k = 0;
                    }
                    let (m, want) = junk(k, &mut rng);
                    if socks[i % 4].send_to(&m, addr).is_ok() {
                        sent[want as usize] += 1;
                        bytes += m.len() as u64;
                    }
                    i += 1;
                }
                (sent, bytes)
            })
        })
        .collect();
    let t0 = Instant::now();
    thread::sleep(Duration::from_secs(3));
    stop.store(true, Ordering::SeqCst);
    let mut sent = [0u64; 5];
    let mut bytes = 0;
    for f in flooders {
        let (s, b) = f.join().unwrap();
        for (a, b) in sent.iter_mut().zip(s) {
            *a += b;
        }
        bytes += b;
    }
    let secs = t0.elapsed().as_secs_f64();
    let (lat, resent) = legit.join().unwrap();
    let n = lat.len();
    let (p50, p99, max) = percentiles(lat);
    let total: u64 = sent.iter().sum();
    eprintln!(
        "flood: {total} malformed datagrams in {secs:.1} s ({:.0}/s, {:.1} MB/s; formerr {}, notimp {}, badvers {}, \
         silence {}, random {}); {n} legitimate queries: p50 {p50:?}, p99 {p99:?}, max {max:?}, {} resent",
        total as f64 / secs,
        bytes as f64 / secs / 1e6,
        sent[0],
        sent[1],
        sent[2],
        sent[3],
        sent[4],
        resent,
    );
    assert!(n >= 10, "only {n} legitimate queries in {secs:.1} s");
    assert!(p99 < Duration::from_millis(500), "p99 {p99:?}");

    // Still alive and answering.
    assert!(r.child.try_wait().unwrap().is_none(), "the resolver died");
    let resp = ask(r.addr, &fqdn("a-only"), rtype::AAAA);
    assert_eq!(answer_aaaa(&resp), vec![v6("64:ff9b::93.184.216.34")]);
    // The forged responses sent to it (kind 5) were not taken as answers.
    let resp = ask(r.addr, &fqdn("a-only"), rtype::A);
    assert_eq!(read_section(&resp, Section::Answer)[0].rdata, [93, 184, 216, 34]);

    // The metrics count them. Once the flood is over, every datagram read is
    // either answered or dropped (or given up for a silent upstream, which
    // does not happen here): none is lost inside the resolver. (The
    // kernel may drop some before the resolver reads them, so the totals are
    // at most what was sent.)
    thread::sleep(Duration::from_millis(300));
    let before = metrics_lines(&r).len().max(lines_before);
    let m = next_metrics(&r, before);
    let (q, resp, dropped) = (
        counter(&m, "queries_udp"),
        counter(&m, "responses"),
        counter(&m, "dropped"),
    );
    assert_eq!(q, resp + dropped + counter(&m, "slow_abandoned"), "{m}");
    assert!(q > n as u64, "{m}");
    for (name, i) in [("formerr", 0), ("notimp", 1), ("badvers", 2)] {
        let c = counter(&m, name);
        assert!(c >= 1, "{name}: {m}");
        // Random bytes (kind 0) may happen to be any of these.
        assert!(c <= sent[i] + sent[4] + 1, "{name} {c} > sent {}: {m}", sent[i]);
    }
    assert!(counter(&m, "dropped") >= 1, "{m}");
    eprintln!(
        "flood metrics: queries_udp {q}, formerr {}, dropped {dropped}, dns64_latency {}",
        counter(&m, "formerr"),
        metrics_lines(&r).last().unwrap()["dns64_latency"]
    );
}

/// One DNS message over a new TCP connection (RFC 7766 section 8: a
/// two-byte length, then the message), or the error.
fn try_tcp_ask(server: SocketAddr, msg: &[u8], limit: Duration) -> std::io::Result<Vec<u8>> {
    let mut s = TcpStream::connect_timeout(&server, limit)?;
    s.set_read_timeout(Some(limit))?;
    let mut m = (msg.len() as u16).to_be_bytes().to_vec();
    m.extend_from_slice(msg);
    s.write_all(&m)?;
    read_framed(&mut s)
}

fn read_framed(s: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut len = [0u8; 2];
    s.read_exact(&mut len)?;
    let mut r = vec![0u8; usize::from(u16::from_be_bytes(len))];
    s.read_exact(&mut r)?;
    Ok(r)
}

/// Whether the server has closed `s` (EOF or reset), waiting up to `wait`.
fn closed_within(s: &mut TcpStream, wait: Duration) -> bool {
    s.set_read_timeout(Some(wait)).unwrap();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                return false
            }
            Err(_) => return true,
        }
    }
}

#[test]
fn stalled_and_malformed_tcp_connections_do_not_lock_clients_out() {
    let (_up, mut r) = setup(&["--threads", "2"]);
    let addr = r.addr;
    let stop = Arc::new(AtomicBool::new(false));
    let legit_udp = {
        let stop = stop.clone();
        thread::spawn(move || legit_client(addr, 2, stop, Duration::from_secs(1)))
    };
    // (A connection the listen queue had no room for waits for the SYN to be
    // sent again, after 1 s, then 3 s.)
    let connect = || {
        let s = TcpStream::connect_timeout(&addr, Duration::from_secs(10)).unwrap();
        s.set_nodelay(true).unwrap();
        s
    };
    let query = |id, name: &str, t| MessageBuilder::query(id, name, t).edns(1232, false).build();
    let framed = |m: &[u8]| {
        let mut f = (m.len() as u16).to_be_bytes().to_vec();
        f.extend_from_slice(m);
        f
    };

    // Messages the resolver cannot use: a zero length, a runt, a response.
    // Each gets the connection closed at once (nothing to answer: RFC 1035
    // section 7.3); FORMERR junk gets FORMERR and the connection stays.
    for bad in [
        vec![],
        vec![1, 2, 3],
        MessageBuilder::response(9, "x.example", 1, 0).build(),
    ] {
        let mut s = connect();
        s.write_all(&framed(&bad)).unwrap();
        assert!(closed_within(&mut s, Duration::from_secs(2)), "{bad:?} left open");
    }
    let mut s = connect();
    let (junk_msg, _) = junk(3, &mut Rng(7));
    s.write_all(&framed(&junk_msg)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    assert_eq!(
        Message::parse(&read_framed(&mut s).unwrap()).unwrap().rcode(),
        rcode::FORMERR
    );
    // Pipelined on the same connection (RFC 7766 section 6.2.1.1).
    for id in [1u16, 2] {
        s.write_all(&framed(&query(id, &fqdn("a-only"), rtype::AAAA))).unwrap();
    }
    for id in [1u16, 2] {
        let resp = read_framed(&mut s).unwrap();
        assert_eq!(Message::parse(&resp).unwrap().id(), id);
        assert_eq!(answer_aaaa(&resp), vec![v6("64:ff9b::93.184.216.34")]);
    }
    // A length, then the end of the connection: no answer may come to the
    // message that never arrived (from what the resolver's buffer held).
    let q = framed(&query(5, &fqdn("a-only"), rtype::AAAA));
    s.write_all(&q[..2]).unwrap();
    s.shutdown(std::net::Shutdown::Write).unwrap();
    let mut rest = Vec::new();
    let _ = s.read_to_end(&mut rest);
    assert!(rest.is_empty(), "an answer to half a message: {rest:?}");
    drop(s);

    // More stalled connections than the resolver's cap, all at once: idle
    // ones, half a length, a length and half a message, 65 535 announced
    // and a thousand sent.
    let t_crowd = Instant::now();
    let mut crowd: Vec<TcpStream> = (0..MAX_TCP_CONNS + 60)
        .map(|i| {
            let mut s = connect();
            let stub = match i % 4 {
                0 => vec![],
                1 => vec![0],
                2 => {
                    let mut f = framed(&query(3, &fqdn("a-only"), rtype::AAAA));
                    f.truncate(10);
                    f
                }
                _ => {
                    let mut f = vec![0xff, 0xff];
                    f.extend_from_slice(&[0u8; 1000]);
                    f
                }
            };
            s.write_all(&stub).unwrap();
            s
        })
        .collect();
    eprintln!("{} stalled connections opened in {:?}", crowd.len(), t_crowd.elapsed());

    // New TCP clients are still answered (and UDP ones, by `legit_udp`).
    let mut lat = Vec::new();
    for i in 0..20u16 {
        let t = Instant::now();
        let name = fqdn(&format!("v4-tcp-{i}"));
        let resp = try_tcp_ask(addr, &query(100 + i, &name, rtype::AAAA), Duration::from_secs(4))
            .unwrap_or_else(|e| panic!("TCP query {i} with {} stalled connections: {e}", crowd.len()));
        assert_eq!(answer_aaaa(&resp), vec![v6("64:ff9b::93.184.216.34")]);
        lat.push(t.elapsed());
    }
    let (p50, p99, max) = percentiles(lat);
    eprintln!("TCP queries among stalled connections: p50 {p50:?}, p99 {p99:?}, max {max:?}");

    // Stalled connections opened now, watched: each is closed after the
    // idle timeout (RFC 7766 section 6.2.3), not before; a slowloris
    // sending its message one byte every 500 ms too.
    let t_watch = Instant::now();
    let watched: Vec<_> = (0..5)
        .map(|i| {
            let mut s = connect();
            let q = framed(&query(4, &fqdn("a-only"), rtype::AAAA));
            match i {
                0 => {}
                1 => s.write_all(&q[..1]).unwrap(),
                2 => s.write_all(&q[..12]).unwrap(),
                3 => s.write_all(&[0xff, 0xff, 0, 0, 0]).unwrap(),
                _ => {
                    let mut w = s.try_clone().unwrap();
                    thread::spawn(move || {
                        for b in q.iter().chain(std::iter::repeat(&0u8)) {
                            if w.write_all(&[*b]).is_err() {
                                return;
                            }
                            thread::sleep(Duration::from_millis(500));
                        }
                    });
                }
            }
            thread::spawn(move || {
                let closed = closed_within(&mut s, TCP_IDLE + Duration::from_secs(5));
                (closed, t_watch.elapsed())
            })
        })
        .collect();

    // A client that sends queries for a 65 535-byte answer and never reads:
    // once the socket buffers are full the resolver cannot write, and must
    // give up on the connection rather than keep it forever.
    let mut deaf = connect();
    let n_deaf = 200;
    let mut qs = Vec::new();
    for i in 0..n_deaf {
        qs.extend_from_slice(&framed(&query(1000 + i, &fqdn("huge"), rtype::A)));
    }
    deaf.write_all(&qs).unwrap();

    for (i, w) in watched.into_iter().enumerate() {
        let (closed, at) = w.join().unwrap();
        eprintln!("stalled connection {i} closed after {at:?}");
        assert!(closed, "stalled connection {i} still open after {at:?}");
        assert!(at >= TCP_IDLE / 2, "stalled connection {i} closed already after {at:?}");
    }
    // By now the crowd is gone too (idle timeout, or room made for others).
    let open = crowd
        .iter_mut()
        .map(|s| !closed_within(s, Duration::from_millis(1)))
        .filter(|&open| open)
        .count();
    assert_eq!(open, 0, "crowd connections still open");

    // The deaf client: draining its socket now gives fewer answers than it
    // asked for, then the end of the connection.
    deaf.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    let mut answers = 0;
    while read_framed(&mut deaf).is_ok() {
        answers += 1;
    }
    eprintln!("deaf client: {answers} of {n_deaf} answers before the resolver gave up");
    assert!(answers < n_deaf, "the resolver waited for a client that does not read");

    stop.store(true, Ordering::SeqCst);
    let (lat, resent) = legit_udp.join().unwrap();
    let (p50, p99, max) = percentiles(lat);
    eprintln!("UDP queries meanwhile: p50 {p50:?}, p99 {p99:?}, max {max:?}, {resent} resent");
    assert!(r.child.try_wait().unwrap().is_none(), "the resolver died");
    // Room was made for the newcomers (316 + 20 + 6 connections through 256
    // slots), and none was refused: no connection was busy for long.
    let m = next_metrics(&r, metrics_lines(&r).len());
    assert!(counter(&m, "tcp_evicted") >= 60, "{m}");
    assert_eq!(counter(&m, "tcp_refused"), 0, "{m}");
}

/// Asks over UDP with this EDNS size (`None`: no EDNS) and checks the answer
/// fits: at most the size the client can take (RFC 6891 section 6.2.5, 512
/// without EDNS; the resolver offers 1232 at most).
fn ask_sized(server: SocketAddr, id: u16, name: &str, qtype: u16, edns: Option<u16>) -> Vec<u8> {
    let mut b = MessageBuilder::query(id, name, qtype);
    if let Some(size) = edns {
        b = b.edns(size, false);
    }
    let resp = udp_ask(server, &b.build()).unwrap_or_else(|| panic!("no answer for {name} ({edns:?})"));
    let limit = edns.map_or(512, |s| usize::from(s.clamp(512, 1232)));
    assert!(resp.len() <= limit, "{name} {edns:?}: {} bytes", resp.len());
    let m = Message::parse(&resp).expect("valid DNS");
    assert_eq!((m.id(), m.rcode()), (id, rcode::NOERROR), "{name} {edns:?}");
    resp
}

fn truncated(resp: &[u8]) -> bool {
    Message::parse(resp).unwrap().flags() & flags::TC != 0
}

#[test]
fn answers_too_big_for_the_client_are_truncated_and_whole_over_tcp() {
    let (up, r) = setup(&[]);
    let want_aaaa: Vec<Ipv6Addr> = (1..=60).map(|i| v6(&format!("64:ff9b::93.184.217.{i}"))).collect();
    // About 1000 bytes of A records: too big for 512 (no EDNS, or EDNS 512),
    // whole with EDNS 1232 or more. Twice each: the second answer comes from
    // the cache, which truncates on its own path.
    for round in 0..2 {
        for (edns, fits) in [
            (None, false),
            (Some(512), false),
            (Some(1232), true),
            (Some(4096), true),
        ] {
            let resp = ask_sized(r.addr, 10 + round, &fqdn("wide"), rtype::A, edns);
            assert_eq!(truncated(&resp), !fits, "round {round}, {edns:?}");
            let n = read_section(&resp, Section::Answer).len();
            assert_eq!(n, if fits { 60 } else { 0 }, "round {round}, {edns:?}");
        }
        // About 1700 bytes once synthesized: truncated at every UDP size...
        for edns in [None, Some(512), Some(1232), Some(4096)] {
            let resp = ask_sized(r.addr, 20 + round, &fqdn("wide"), rtype::AAAA, edns);
            assert!(truncated(&resp), "round {round}, {edns:?}");
        }
        // ... and whole over TCP, where the client goes next (RFC 7766
        // section 5).
        let q = MessageBuilder::query(30 + round, &fqdn("wide"), rtype::AAAA)
            .edns(1232, false)
            .build();
        let resp = tcp_ask(r.addr, &q);
        assert!(!truncated(&resp));
        assert_eq!(answer_aaaa(&resp), want_aaaa);
    }

    // The largest answer there is, 65 535 bytes from upstream (over TCP
    // after a truncated UDP answer): relayed whole over TCP, at the very
    // same size (the client's question and our OPT record take the room of
    // the upstream's), truncated over UDP.
    for round in 0..2 {
        let q = MessageBuilder::query(40 + round, &fqdn("huge"), rtype::A)
            .edns(1232, false)
            .build();
        let resp = tcp_ask(r.addr, &q);
        assert_eq!(resp.len(), 65535, "round {round}");
        assert!(!truncated(&resp));
        let an = read_section(&resp, Section::Answer);
        assert_eq!(an.len(), HUGE_A_RECORDS + 1);
        assert_eq!(an[HUGE_A_RECORDS].rtype, rtype::TXT);
        assert!(truncated(&ask_sized(
            r.addr,
            50 + round,
            &fqdn("huge"),
            rtype::A,
            Some(1232)
        )));
    }
    assert!(up.tcp_queries.load(Ordering::SeqCst) >= 1, "TCP retry upstream");
    // Synthesized, the same addresses would take 4090 * 28 bytes: more than
    // any DNS message over TCP. The answer is a valid, truncated message of
    // at most 65 535 bytes.
    let q = MessageBuilder::query(60, &fqdn("huge"), rtype::AAAA).build();
    let resp = tcp_ask(r.addr, &q);
    assert!(resp.len() <= 65535);
    let m = Message::parse(&resp).unwrap();
    eprintln!(
        "huge AAAA over TCP: {} bytes, {} AAAA records, TC={}, rcode {}",
        resp.len(),
        answer_aaaa(&resp).len(),
        truncated(&resp),
        m.rcode()
    );
    assert!(truncated(&resp));
    // And the resolver still answers.
    let resp = ask(r.addr, &fqdn("a-only"), rtype::AAAA);
    assert_eq!(answer_aaaa(&resp), vec![v6("64:ff9b::93.184.216.34")]);
}

/// A lying upstream. Before each real answer it sends junk that a resolver
/// must not take for the answer (RFC 5452 section 4.3: the ID, the question
/// and the source must all match): garbage, a runt, the answer under another
/// ID, an answer to another name, to another type, the query itself sent
/// back, a header-only body claiming a record, and a forged copy with a
/// poisoned address from another port (off path). The junk carries
/// 6.6.6.6, which must never be seen. For names starting with "liar" there
/// is no real answer at all; for "tcpliar" the UDP answer says TC and the
/// TCP one has another ID.
fn liar() -> Upstream {
    upstream_with(Arc::new(|q, tcp| {
        let Ok(m) = Message::parse(q) else { return Vec::new() };
        let (id, qtype) = (m.id(), m.qtype());
        let qname = format!("{}", DisplayName(q, m.qname()));
        let evil = |id, name: &str, t| {
            let b = MessageBuilder::response(id, name, t, 0);
            match t {
                rtype::AAAA => b.aaaa("@", 86400, v6("2001:db8:666::6")),
                _ => b.a("@", 86400, v4("6.6.6.6")),
            }
            .build()
        };
        if qname.starts_with("tcpliar") {
            return vec![Out::Msg(if tcp {
                evil(id ^ 1, &qname, qtype)
            } else {
                MessageBuilder::response(id, &qname, qtype, 0)
                    .set_flags(flags::TC)
                    .build()
            })];
        }
        let mut query_back = q.to_vec();
        query_back[2] &= 0x7f;
        let mut claims = evil(id, &qname, qtype);
        claims.truncate(qname.len() + 2 + 4 + 12);
        let mut out = vec![
            Out::Forged(evil(id, &qname, qtype)),
            Out::Msg(Rng(u64::from(id) | 1).bytes(60)),
            Out::Msg(vec![0xab; 7]),
            Out::Msg(evil(id ^ 0x8000, &qname, qtype)),
            Out::Msg(evil(id, &format!("evil.{qname}"), qtype)),
            Out::Msg(evil(id, &qname, if qtype == rtype::A { rtype::AAAA } else { rtype::A })),
            Out::Msg(query_back),
            Out::Msg(claims),
        ];
        if !qname.starts_with("liar") {
            out.extend(answer_query(q, tcp).map(Out::Msg));
        }
        out
    }))
}

fn has_evil(resp: &[u8]) -> bool {
    read_section(resp, Section::Answer)
        .iter()
        .any(|r| r.rdata == [6, 6, 6, 6] || r.rdata == v6("2001:db8:666::6").octets())
}

#[test]
fn bogus_upstream_responses_are_ignored_not_relayed() {
    let up = liar();
    let r = resolver("127.0.0.1:0", &[up.addr], &["--allow-ipv4"]);
    // The real answer after the junk: taken, synthesized, quickly.
    let t = Instant::now();
    let resp = ask(r.addr, &fqdn("a-only"), rtype::AAAA);
    assert_eq!(answer_aaaa(&resp), vec![v6("64:ff9b::93.184.216.34")]);
    let resp = ask(r.addr, &fqdn("dual"), rtype::A);
    assert_eq!(read_section(&resp, Section::Answer)[0].rdata, [93, 184, 216, 35]);
    assert!(t.elapsed() < Duration::from_millis(300), "{:?}", t.elapsed());
    // Nothing of the junk went into the cache: the name the junk answered
    // is still unknown.
    for t in [rtype::A, rtype::AAAA] {
        let resp = ask(r.addr, &fqdn("evil.a-only"), t);
        assert_eq!(u16::from(resp[3] & 0xf), rcode::NXDOMAIN);
        assert!(!has_evil(&resp));
    }
    // No real answer: SERVFAIL once the upstream timeout (300 ms) is over,
    // not the junk.
    for (name, t) in [("liar", rtype::A), ("liar-2", rtype::AAAA), ("tcpliar", rtype::A)] {
        let start = Instant::now();
        let resp = ask(r.addr, &fqdn(name), t);
        assert_eq!(u16::from(resp[3] & 0xf), rcode::SERVFAIL, "{name}");
        assert!(!has_evil(&resp), "{name}");
        eprintln!("{name}: SERVFAIL after {:?}", start.elapsed());
    }
    assert!(up.tcp_queries.load(Ordering::SeqCst) >= 1, "TCP retry upstream");
    // The metrics count what was ignored: 7 junk datagrams per UDP
    // exchange but tcpliar's (the forged one never reaches the resolver's
    // connected socket), and tcpliar's TCP answer with the wrong ID.
    let m = next_metrics(&r, metrics_lines(&r).len());
    let exchanges = up.udp_queries.load(Ordering::SeqCst) as u64 - 1;
    assert_eq!(counter(&m, "upstream_bad_responses"), 7 * exchanges + 1, "{m}");
}

/// The soft limit on open files of a process (Linux), if it can be read.
fn open_files_limit(pid: u32) -> Option<u64> {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// Sends `n` queries for distinct silent names (A, or AAAA for every
/// `aaaa_every`-th) from one socket, spread over `over`; returns the socket
/// to collect the answers on.
fn slow_burst(server: SocketAddr, tag: &str, n: usize, aaaa_every: usize, over: Duration) -> UdpSocket {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    let start = Instant::now();
    for i in 0..n {
        let due = start + over.mul_f64(i as f64 / n as f64);
        if let Some(d) = due.checked_duration_since(Instant::now()) {
            thread::sleep(d);
        }
        let t = if aaaa_every > 0 && i % aaaa_every == 0 {
            rtype::AAAA
        } else {
            rtype::A
        };
        let q = MessageBuilder::query(i as u16, &fqdn(&format!("slow-{tag}-{i}")), t)
            .edns(1232, false)
            .build();
        s.send_to(&q, server).unwrap();
    }
    s
}

#[test]
fn silent_upstream_names_time_out_while_other_names_are_answered_promptly() {
    // 1. Upstream timeout 1 s: an A query for a silent name takes 1 s, a
    // AAAA query 2 s (the AAAA then the A query time out, RFC 6147 section
    // 5.1.3). 300 of them within 300 ms (a third AAAA), and a legitimate
    // client asking names that miss the cache meanwhile: those must not
    // wait behind the silent ones. (Not all 300 at once: the kernel holds
    // only about 250 small datagrams for a socket with the default receive
    // buffer and drops the rest, legitimate ones too.)
    let (_up, mut r) = setup(&["--timeout-ms", "1000"]);
    let timeout = Duration::from_secs(1);
    let stop = Arc::new(AtomicBool::new(false));
    let legit = {
        let (addr, stop) = (r.addr, stop.clone());
        thread::spawn(move || legit_client(addr, 3, stop, Duration::from_secs(1)))
    };
    let t0 = Instant::now();
    let s = slow_burst(r.addr, "a", 300, 3, Duration::from_millis(300));
    s.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
    let mut got = std::collections::HashMap::new();
    let mut buf = [0u8; 2048];
    while got.len() < 300 && t0.elapsed() < 2 * timeout + Duration::from_secs(2) {
        if let Ok(n) = s.recv(&mut buf) {
            let m = Message::parse(&buf[..n]).unwrap();
            got.insert(m.id(), (m.rcode(), m.qtype(), t0.elapsed()));
        }
    }
    stop.store(true, Ordering::SeqCst);
    let (lat, resent) = legit.join().unwrap();
    let n = lat.len();
    let (p50, p99, max) = percentiles(lat);
    eprintln!(
        "{n} legitimate queries among 300 silent ones: p50 {p50:?}, p99 {p99:?}, max {max:?}, {resent} resent; \
         {} silent ones answered",
        got.len()
    );
    // Every silent name that reached the resolver gets SERVFAIL once its
    // timeouts are over (all of them but on a badly overloaded machine).
    assert!(got.len() >= 270, "{} of 300 silent names answered", got.len());
    for (id, (rc, t, at)) in &got {
        assert_eq!(*rc, rcode::SERVFAIL, "query {id}");
        let want = if *t == rtype::AAAA { 2 * timeout } else { timeout };
        assert!(*at >= want, "query {id} answered after {at:?}");
    }
    // Each answered in under the 1 s limit (`legit_client`), most at once.
    assert!(p99 < timeout / 2, "legitimate queries: p99 {p99:?}");
    assert!(r.child.try_wait().unwrap().is_none(), "the resolver died");
    drop(r);

    // 2. More silent names than the resolver has room for in flight: 5 296
    // within 2 s, with a 3 s upstream timeout (about 2 650 a second, which
    // the resolver reads as they come; each holds its room for 3 s).
    // Legitimate queries must still find room: each answered within 1 s.
    let (_up, mut r) = setup(&["--timeout-ms", "3000"]);
    let enough_files = open_files_limit(r.child.id()).is_none_or(|l| l > 2 * MAX_IN_FLIGHT as u64);
    if !enough_files {
        // Each query in flight holds a socket; with fewer files the
        // resolver runs out of them before it runs out of room.
        eprintln!(
            "open files limited to {:?}: skipping the second half",
            open_files_limit(r.child.id())
        );
        return;
    }
    let m0 = next_metrics(&r, metrics_lines(&r).len());
    let stop = Arc::new(AtomicBool::new(false));
    let legit = {
        let (addr, stop) = (r.addr, stop.clone());
        thread::spawn(move || legit_client(addr, 4, stop, Duration::from_secs(1)))
    };
    let burst = MAX_IN_FLIGHT + 1200;
    let t0 = Instant::now();
    let _s = slow_burst(r.addr, "b", burst, 0, Duration::from_secs(2));
    let sent_in = t0.elapsed();
    // Until the first silent names time out.
    thread::sleep(Duration::from_millis(1200));
    stop.store(true, Ordering::SeqCst);
    let (lat, resent) = legit.join().unwrap();
    let n = lat.len();
    let (p50, p99, max) = percentiles(lat);
    let m = next_metrics(&r, metrics_lines(&r).len());
    // How many of the silent queries the resolver read (the kernel drops
    // what it cannot read in time at its socket).
    let read = counter(&m, "queries_udp") - counter(&m0, "queries_udp") - (n + resent) as u64;
    eprintln!(
        "{n} legitimate queries among {burst} silent ones (sent in {sent_in:?}, {read} read): p50 {p50:?}, \
         p99 {p99:?}, max {max:?}, {resent} resent; metrics {m}"
    );
    assert!(p99 < Duration::from_millis(500), "legitimate queries: p99 {p99:?}");
    assert!(r.child.try_wait().unwrap().is_none(), "the resolver died");
    // Having read more silent queries than it has room for, the resolver
    // gave some up once half its room was taken by them (with no answer:
    // `slow_abandoned`), and so dropped nothing for want of room: the
    // queries younger than 200 ms (after which a query counts as slow) fill
    // about 530 slots, the slow ones at most 2 048 of the 4 096. (On a
    // machine too busy to read them all, the room is not tested: nothing to
    // check but the legitimate answers.)
    if read > MAX_IN_FLIGHT as u64 {
        assert!(counter(&m, "slow_abandoned") >= 1, "{m}");
    } else {
        eprintln!("only {read} silent queries read: the room for them was not filled");
    }
    assert_eq!(counter(&m, "dropped"), 0, "{m}");
}

/// User and system CPU time of a process so far (Linux).
#[cfg(target_os = "linux")]
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // The fields after the command name, which is in parentheses.
    let f: Vec<&str> = stat.rsplit_once(')').unwrap().1.split_whitespace().collect();
    let ticks: u64 = f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap();
    // USER_HZ is 100 on Linux.
    Duration::from_millis(ticks * 10)
}

#[cfg(target_os = "linux")]
#[test]
fn out_of_file_descriptors_the_resolver_waits_and_recovers() {
    // 64 open files: each query in flight holds a socket to ask upstream
    // with, so 100 silent names use them all up for the upstream timeout.
    let up = upstream(false);
    let mut cmd = Command::new("sh");
    cmd.args(["-c", "ulimit -n 64 && exec \"$0\" \"$@\"", env!("CARGO_BIN_EXE_nat64")]);
    let extra = ["--allow-ipv4", "--threads", "1", "--timeout-ms", "1000"];
    cmd.args(resolver_args("127.0.0.1:0", &[up.addr], &extra));
    let r = spawn_resolver(cmd);
    let t0 = Instant::now();
    let _s = slow_burst(r.addr, "fd", 100, 0, Duration::from_millis(50));
    thread::sleep(Duration::from_millis(100));

    // A TCP client meanwhile: the kernel queues its connection, which the
    // resolver cannot accept without a descriptor. It must wait for one,
    // not spin on accept (which fails at once as long as it is queued).
    let addr = r.addr;
    let tcp = thread::spawn(move || {
        let q = MessageBuilder::query(1, &fqdn("v4-fd"), rtype::AAAA).build();
        try_tcp_ask(addr, &q, Duration::from_secs(4)).map(|resp| (resp, t0.elapsed()))
    });
    thread::sleep(Duration::from_millis(100));
    let c0 = cpu_time(r.child.id());
    thread::sleep(Duration::from_millis(500));
    let busy = cpu_time(r.child.id()) - c0;
    eprintln!("out of descriptors: {busy:?} of CPU in 500 ms");
    assert!(busy < Duration::from_millis(150), "{busy:?} of CPU in 500 ms");

    // Once the silent names have timed out, the TCP client is answered.
    let (resp, at) = tcp.join().unwrap().expect("answered once descriptors are back");
    eprintln!("TCP client answered after {at:?}");
    assert_eq!(answer_aaaa(&resp), vec![v6("64:ff9b::93.184.216.34")]);
    let resp = ask(r.addr, &fqdn("a-only"), rtype::AAAA);
    assert_eq!(answer_aaaa(&resp), vec![v6("64:ff9b::93.184.216.34")]);
}

/// An upstream that ignores the EDNS size we advertise (1232) and sends a
/// 2 400-byte answer over UDP without TC: the resolver reads at most what it
/// advertised (RFC 6891 section 6.2.3: the responder must not send more),
/// so it takes the cut datagram as truncated and asks again over TCP; the
/// client, asking over TCP, gets every record.
#[test]
fn an_upstream_ignoring_our_edns_size_is_asked_again_over_tcp() {
    let up = upstream_with(Arc::new(|q: &[u8], _tcp: bool| {
        let Ok(m) = Message::parse(q) else { return Vec::new() };
        let qname = format!("{}", DisplayName(q, m.qname()));
        let mut b = MessageBuilder::response(m.id(), &qname, m.qtype(), rcode::NOERROR).set_flags(flags::AA);
        if m.qtype() == rtype::A {
            for i in 0..150u8 {
                b = b.a(&qname, 300, Ipv4Addr::new(198, 51, 100, i));
            }
        }
        vec![Out::Msg(b.build())]
    }));
    let r = resolver("127.0.0.1:0", &[up.addr], &[]);
    let q = MessageBuilder::query(7, &fqdn("big-udp"), rtype::A)
        .edns(4096, false)
        .build();
    let resp = tcp_ask(r.addr, &q);
    let m = Message::parse(&resp).unwrap();
    assert_eq!(m.rcode(), rcode::NOERROR);
    assert_eq!(m.flags() & flags::TC, 0);
    assert_eq!(
        read_section(&resp, Section::Answer).len(),
        150,
        "every record, from the TCP retry"
    );
    assert_eq!(up.udp_queries.load(Ordering::SeqCst), 1);
    assert_eq!(
        up.tcp_queries.load(Ordering::SeqCst),
        1,
        "the oversized UDP answer was asked again over TCP"
    );
}
