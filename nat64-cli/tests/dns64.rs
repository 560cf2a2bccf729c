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
        ("slow", _) => return None,
        _ => resp(rcode::NXDOMAIN).authority().soa(ZONE, 300, 300).build(),
    };
    Some(m)
}

fn answer_query(q: &[u8], tcp: bool) -> Option<Vec<u8>> {
    let m = Message::parse(q).ok()?;
    let qname = format!("{}", DisplayName(q, m.qname()));
    zone(m.id(), &qname, m.qtype(), tcp)
}

/// A fake authoritative server on 127.0.0.1 (UDP and TCP on one port).
struct Upstream {
    addr: SocketAddr,
    udp_queries: Arc<AtomicUsize>,
    tcp_queries: Arc<AtomicUsize>,
}

fn upstream(silent: bool) -> Upstream {
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
    thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok((n, peer)) = udp.recv_from(&mut buf) {
            uq.fetch_add(1, Ordering::SeqCst);
            if silent {
                continue;
            }
            if let Some(r) = answer_query(&buf[..n], false) {
                let _ = udp.send_to(&r, peer);
            }
        }
    });
    let tq = tcp_queries.clone();
    thread::spawn(move || {
        for s in tcp.incoming() {
            let Ok(mut s) = s else { continue };
            let tq = tq.clone();
            thread::spawn(move || {
                let mut len = [0u8; 2];
                while s.read_exact(&mut len).is_ok() {
                    let mut q = vec![0u8; usize::from(u16::from_be_bytes(len))];
                    if s.read_exact(&mut q).is_err() {
                        return;
                    }
                    tq.fetch_add(1, Ordering::SeqCst);
                    if silent {
                        continue;
                    }
                    if let Some(r) = answer_query(&q, true) {
                        let mut out = (r.len() as u16).to_be_bytes().to_vec();
                        out.extend_from_slice(&r);
                        let _ = s.write_all(&out);
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

fn resolver(listen: &str, upstreams: &[SocketAddr], extra: &[&str]) -> Resolver {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_nat64"));
    cmd.args([
        "dns64",
        "--listen",
        listen,
        "--timeout-ms",
        "300",
        "--metrics-interval",
        "1",
    ]);
    for u in upstreams {
        cmd.args(["--upstream", &u.to_string()]);
    }
    cmd.args(extra);
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
    // No PTR data there: the ip6.arpa query goes upstream as it is.
    let name = nat64_core::dns64::reverse::ip6_arpa_name(v6("2001:db8:64::93.184.216.99"));
    let resp = ask(r.addr, &format!("{}", DisplayName(&name, 0)), rtype::PTR);
    assert_eq!(u16::from(resp[3] & 0xf), rcode::NXDOMAIN);
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
