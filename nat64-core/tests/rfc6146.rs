//! The stateful NAT64's own tests (RFC 6146), on packets built by hand and
//! checked with etherparse (through `common`), with virtual time only: every
//! timer is driven by the `Instant` passed to `translate` and `poll`, so
//! nothing sleeps.
//!
//! Names start with the RFC 6146 section they test (`s3_5_1_*` is section
//! 3.5.1, ...); `s4_*` is section 4 (timeouts). What Jool's packet vectors
//! cannot show is covered here: state and lifetimes, port choice, filtering,
//! exhaustion and caps, held SYNs and reassembly timers.

mod common;

use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use common::*;
use nat64_core::nat64::{
    Bib, Instant, Nat64, Nat64Config, Nat64ConfigError, Pool4Entry, Proto, Session, SessionFilter, Taddr4, Taddr6,
    TcpState,
};
use nat64_core::{Direction, DropReason, Held, NotOurs, Verdict};

// ------------------------------------------------------------------ setup

const POOL6: &str = "64:ff9b::";
/// IPv6 clients: two in one /64, a third in another /64.
const C1: &str = "2001:db8::a";
const C2: &str = "2001:db8::b";
const C3: &str = "2001:db8:1::c";
/// The pool4 address of most tests (ports 6000-6999).
const P4: &str = "192.0.2.1";
/// IPv4 remotes and a router on the IPv4 side.
const R1: &str = "198.51.100.1";
const R2: &str = "198.51.100.2";
const ROUTER4: &str = "198.51.100.254";
/// The translator's own addresses (sources of the ICMP errors it makes).
const OWN4: &str = "192.0.2.254";
const OWN6: &str = "2001:db8:ffff::1";

/// TCP flags.
const FIN: u8 = 0x01;
const SYN: u8 = 0x02;
const RST: u8 = 0x04;
const ACK: u8 = 0x10;

/// RFC 6146 section 4 defaults, in seconds.
const UDP_DEFAULT: u64 = 300;
const TCP_EST: u64 = 2 * 3600 + 4 * 60;
const TCP_TRANS: u64 = 240;
const ICMP_DEFAULT: u64 = 60;
const TCP_INCOMING_SYN: u64 = 6;

/// pool6 embedding (our RFC 6052 code, not the crate's).
fn p6(a: &str) -> Ipv6Addr {
    embed(v6(POOL6), 96, v4(a))
}
fn at(s: u64) -> Instant {
    Instant::from_secs(s)
}
/// One microsecond before second `s`.
fn before(s: u64) -> Instant {
    Instant::from_micros(s * 1_000_000 - 1)
}

fn entry(prefix: &str, first: u16, last: u16) -> Pool4Entry {
    let mut e = Pool4Entry::new(prefix.parse().unwrap());
    e.first_port = first;
    e.last_port = last;
    e
}

/// pool6 64:ff9b::/96 (non-global IPv4 allowed under it, since every
/// address here is a documentation one), own addresses set, this pool4.
fn config(pool4: Vec<Pool4Entry>) -> Nat64Config {
    let mut cfg = Nat64Config::new(format!("{POOL6}/96").parse().unwrap(), pool4);
    cfg.xlat.wkp_forbids_non_global = false;
    cfg.xlat.own_ipv4 = Some(v4(OWN4));
    cfg.xlat.own_ipv6 = Some(v6(OWN6));
    cfg
}
/// The default test configuration: pool4 192.0.2.1 ports 6000-6999.
fn base() -> Nat64Config {
    config(vec![entry(P4, 6000, 6999)])
}

// ---------------------------------------------------------------- packets

/// A 20-byte TCP header with these flags and a correct checksum.
fn tcp_seg(ips: Ips, sport: u16, dport: u16, flags: u8) -> Vec<u8> {
    let mut t = vec![0u8; 20];
    t[0..2].copy_from_slice(&sport.to_be_bytes());
    t[2..4].copy_from_slice(&dport.to_be_bytes());
    t[4..8].copy_from_slice(&0x1000_0000u32.to_be_bytes());
    if flags & ACK != 0 {
        t[8..12].copy_from_slice(&0x2000_0000u32.to_be_bytes());
    }
    t[12] = 0x50;
    t[13] = flags;
    t[14..16].copy_from_slice(&0xffffu16.to_be_bytes());
    let c = inet_checksum(&[&ips.pseudo(TCP, t.len()), &t]);
    t[16..18].copy_from_slice(&c.to_be_bytes());
    t
}
/// IPv6 TCP from `src` to `dst4` through pool6.
fn tcp6(src: &str, sport: u16, dst4: &str, dport: u16, flags: u8) -> Vec<u8> {
    let (s, d) = (v6(src), p6(dst4));
    V6::new(s, d).build(TCP, &tcp_seg(Ips::V6(s, d), sport, dport, flags))
}
fn tcp4(src: &str, sport: u16, dst: &str, dport: u16, flags: u8) -> Vec<u8> {
    let (s, d) = (v4(src), v4(dst));
    V4::new(s, d, TCP).build(&tcp_seg(Ips::V4(s, d), sport, dport, flags))
}
fn udp6(src: &str, sport: u16, dst4: &str, dport: u16, payload: &[u8]) -> Vec<u8> {
    let (s, d) = (v6(src), p6(dst4));
    V6::new(s, d).build(UDP, &udp(Ips::V6(s, d), sport, dport, payload))
}
fn udp4(src: &str, sport: u16, dst: &str, dport: u16, payload: &[u8]) -> Vec<u8> {
    let (s, d) = (v4(src), v4(dst));
    V4::new(s, d, UDP).build(&udp(Ips::V4(s, d), sport, dport, payload))
}
fn echo6(src: &str, dst4: &str, id: u16, seq: u16) -> Vec<u8> {
    let (s, d) = (v6(src), p6(dst4));
    V6::new(s, d).build(ICMPV6, &icmp6_echo(s, d, true, id, seq, b"ping"))
}
fn echo4(src: &str, dst: &str, request: bool, id: u16, seq: u16) -> Vec<u8> {
    V4::new(v4(src), v4(dst), ICMP).build(&icmp4_echo(request, id, seq, b"ping"))
}

/// The ports of a transport header (the identifier twice for ICMP echo).
fn ports(proto: u8, l4: &[u8]) -> (u16, u16) {
    match proto {
        TCP | UDP => (be16(l4, 0), be16(l4, 2)),
        ICMP | ICMPV6 => (be16(l4, 4), be16(l4, 4)),
        p => panic!("no ports for protocol {p}"),
    }
}
/// An emitted IPv4 packet, checked by the oracle (header and transport
/// checksums), with its ports.
fn parse4(p: &[u8]) -> (Seen4, u16, u16) {
    let s = check_v4(p);
    let (a, b) = ports(s.proto, &s.payload);
    (s, a, b)
}
/// An emitted IPv6 packet likewise.
fn parse6(p: &[u8]) -> (Seen6, u16, u16) {
    let s = check_v6(p);
    let (a, b) = ports(s.proto, &s.payload);
    (s, a, b)
}

// -------------------------------------------------------------------- rig

/// A translator with its output buffer.
struct Rig {
    nat: Nat64,
    out: Vec<u8>,
}

impl Rig {
    fn new(cfg: Nat64Config) -> Rig {
        Rig {
            nat: Nat64::new(cfg).expect("a valid configuration"),
            out: vec![0; OUT_LEN],
        }
    }
    fn send(&mut self, pkt: &[u8], now: Instant) -> Verdict {
        self.nat.translate(pkt, &mut self.out, now)
    }
    /// Sends and expects exactly one packet out, going `dir`.
    fn xlat(&mut self, pkt: &[u8], now: Instant, dir: Direction) -> Vec<u8> {
        match self.send(pkt, now) {
            Verdict::Translated(e) => {
                assert_eq!(e.direction, dir);
                assert_eq!(e.count, 1, "one packet");
                self.out[..e.total_len()].to_vec()
            }
            other => panic!("expected a {dir:?} translation, got {other:?}"),
        }
    }
    fn out4(&mut self, pkt: &[u8], now: Instant) -> (Seen4, u16, u16) {
        let p = self.xlat(pkt, now, Direction::SixToFour);
        parse4(&p)
    }
    fn out6(&mut self, pkt: &[u8], now: Instant) -> (Seen6, u16, u16) {
        let p = self.xlat(pkt, now, Direction::FourToSix);
        parse6(&p)
    }
    /// Sends and expects an ICMP error back, for `reason`.
    fn icmp(&mut self, pkt: &[u8], now: Instant, reason: DropReason) -> Vec<u8> {
        match self.send(pkt, now) {
            Verdict::IcmpError { len, reason: r } => {
                assert_eq!(r, reason);
                self.out[..len as usize].to_vec()
            }
            other => panic!("expected an ICMP error for {reason:?}, got {other:?}"),
        }
    }
    /// Runs the timers at `now` until they have nothing more to say.
    fn poll(&mut self, now: Instant) -> Vec<(Verdict, Vec<u8>)> {
        let mut v = Vec::new();
        while let Some(x) = self.nat.poll(now, &mut self.out) {
            let bytes = match x {
                Verdict::IcmpError { len, .. } => self.out[..len as usize].to_vec(),
                _ => Vec::new(),
            };
            v.push((x, bytes));
            assert!(v.len() < 1000, "poll never returns None");
        }
        v
    }
    fn sessions(&self, filter: SessionFilter) -> Vec<Session> {
        let mut v = Vec::new();
        self.nat.for_each_session(filter, &mut |s| v.push(*s));
        v.sort_by_key(|s| (s.proto, s.v6, s.remote));
        v
    }
    fn all(&self) -> Vec<Session> {
        self.sessions(SessionFilter::default())
    }
    fn of(&self, proto: Proto) -> Vec<Session> {
        self.sessions(SessionFilter {
            proto: Some(proto),
            client: None,
        })
    }
    /// The only session of `proto`.
    fn one(&self, proto: Proto) -> Session {
        let v = self.of(proto);
        assert_eq!(v.len(), 1, "{v:?}");
        v[0]
    }
    fn bibs(&self, proto: Option<Proto>) -> Vec<Bib> {
        let mut v = Vec::new();
        self.nat.for_each_bib(proto, &mut |b| v.push(*b));
        v.sort_by_key(|b| (b.proto, b.v6));
        v
    }
    fn bib_of(&self, proto: Proto, addr: &str, port: u16) -> Option<Taddr4> {
        let want = Taddr6 { addr: v6(addr), port };
        self.bibs(Some(proto)).iter().find(|b| b.v6 == want).map(|b| b.v4)
    }
    fn drops(&self, r: DropReason) -> u64 {
        self.nat.counters().drops(r)
    }
}

fn t4(addr: &str, port: u16) -> Taddr4 {
    Taddr4 { addr: v4(addr), port }
}
fn t6(addr: &str, port: u16) -> Taddr6 {
    Taddr6 { addr: v6(addr), port }
}

/// Checks an ICMPv4 error: type/code, source, destination, and that it
/// quotes `quoted` (as much of it as fits).
fn assert_icmp4(p: &[u8], ty: u8, code: u8, src: &str, dst: &str, quoted: &[u8]) {
    let s = check_v4(p);
    assert_eq!((s.proto, s.src, s.dst), (ICMP, v4(src), v4(dst)));
    assert_eq!((s.payload[0], s.payload[1]), (ty, code));
    let q = &s.payload[8..];
    assert!(!q.is_empty() && q.len() <= quoted.len());
    assert_eq!(q, &quoted[..q.len()], "the quote");
}
/// Likewise for ICMPv6.
fn assert_icmp6(p: &[u8], ty: u8, code: u8, src: Ipv6Addr, dst: Ipv6Addr, quoted: &[u8]) {
    let s = check_v6(p);
    assert_eq!((s.proto, s.src, s.dst), (ICMPV6, src, dst));
    assert_eq!((s.payload[0], s.payload[1]), (ty, code));
    let q = &s.payload[8..];
    assert!(!q.is_empty() && q.len() <= quoted.len());
    assert_eq!(q, &quoted[..q.len()], "the quote");
}

// =========================================================== 3.5.1 mapping

/// RFC 6146 section 3.5.1: the first IPv6 UDP, TCP and ICMP packets of a
/// client create one BIB entry each, with a pool4 transport address inside
/// the configured range, and go out from it with valid checksums.
#[test]
fn s3_5_1_first_packets_create_bib_entries_inside_pool4() {
    let pool = ["203.0.113.0", "203.0.113.1", "203.0.113.2", "203.0.113.3"].map(v4);
    let mut r = Rig::new(config(vec![entry("203.0.113.0/30", 20000, 20999)]));
    assert_eq!(r.nat.stats().pool4_size, [4000, 4000, 4000]);
    let now = at(10);

    let (u, sp, dp) = r.out4(&udp6(C1, 4000, R1, 53, b"query"), now);
    assert_eq!((u.proto, u.dst, dp), (UDP, v4(R1), 53));
    assert!(pool.contains(&u.src) && (20000..=20999).contains(&sp), "{} {sp}", u.src);
    assert_eq!(&u.payload[8..], b"query");

    let (t, tsp, tdp) = r.out4(&tcp6(C1, 5000, R1, 80, SYN), now);
    assert_eq!((t.proto, t.dst, tdp, t.payload[13]), (TCP, v4(R1), 80, SYN));
    assert!(pool.contains(&t.src) && (20000..=20999).contains(&tsp));

    let (i, id, _) = r.out4(&echo6(C1, R1, 0x1234, 1), now);
    assert_eq!((i.proto, i.dst, i.payload[0]), (ICMP, v4(R1), 8));
    assert!(
        pool.contains(&i.src) && (20000..=20999).contains(&id),
        "identifier {id}"
    );

    let bibs = r.bibs(None);
    assert_eq!(bibs.len(), 3);
    let want = [
        (Proto::Tcp, t6(C1, 5000), Taddr4 { addr: t.src, port: tsp }),
        (Proto::Udp, t6(C1, 4000), Taddr4 { addr: u.src, port: sp }),
        (Proto::Icmp, t6(C1, 0x1234), Taddr4 { addr: i.src, port: id }),
    ];
    for (b, (proto, v6s, v4s)) in bibs.iter().zip(want) {
        assert_eq!((b.proto, b.v6, b.v4, b.is_static), (proto, v6s, v4s, false));
    }
    let st = r.nat.stats();
    assert_eq!((st.sessions, st.bib_entries, st.held_syns), (3, 3, 0));
    assert_eq!(r.nat.counters().translated_6to4, 3);
}

/// RFC 6146 section 3.5.1.1 (RFC 6056): ports are not handed out in
/// sequence. Two clients, and one client's successive flows, get ports that
/// are not consecutive in a large range; another secret gives other ports.
#[test]
fn s3_5_1_1_ports_are_not_sequential() {
    let cfg = config(vec![Pool4Entry::new(P4.parse().unwrap())]);
    let mut r = Rig::new(cfg.clone());
    let (_, a, _) = r.out4(&udp6(C1, 40000, R1, 53, b"x"), at(1));
    let (_, b, _) = r.out4(&udp6(C2, 40000, R1, 53, b"x"), at(1));
    for p in [a, b] {
        assert!((61001..=65535).contains(&p), "default range: {p}");
    }
    assert!(a.abs_diff(b) > 1, "two clients got neighbouring ports {a} and {b}");

    // One client's flows to different remotes start from unrelated points.
    let mut got = Vec::new();
    for i in 0..16u16 {
        let remote = format!("198.51.100.{}", 10 + i);
        let (_, p, _) = r.out4(&udp6(C3, 30000 + i, &remote, 53, b"x"), at(1));
        got.push(p);
    }
    let neighbours = got.windows(2).filter(|w| w[0].abs_diff(w[1]) <= 1).count();
    assert!(neighbours <= 2, "sequential-looking allocation: {got:?}");
    let mut uniq = got.clone();
    uniq.sort_unstable();
    uniq.dedup();
    assert_eq!(uniq.len(), got.len(), "ports handed out twice: {got:?}");
    // (Flows of one client to one remote transport address share the hash
    // offset: RFC 6056 Algorithm 3 keys it on the addresses and the remote
    // port only, so from that remote's view they differ by the counter.)

    // The choice depends on a secret: another key, another port.
    let mut other = cfg;
    other.secret = [1, 2];
    let mut r2 = Rig::new(other);
    let mut differs = 0;
    for i in 0..4u16 {
        let remote = format!("198.51.100.{}", 10 + i);
        let (_, x, _) = r2.out4(&udp6(C3, 30000 + i, &remote, 53, b"x"), at(1));
        differs += usize::from(x != got[usize::from(i)]);
    }
    assert!(differs >= 3, "the secret does not change the ports");
}

/// RFC 6056 Algorithm 3 with its `next_ephemeral` counter: many flows of
/// one client to one remote transport address (same hash offset) do not
/// re-probe the ports they hold, so more than `max_iterations` (1024 with
/// the default "auto") of them can be alive while pool4 has room.
#[test]
fn s3_5_1_1_many_flows_to_one_remote_do_not_exhaust_pool4() {
    let mut r = Rig::new(config(vec![Pool4Entry::new(P4.parse().unwrap())]));
    let mut got = Vec::new();
    for i in 0..1100u16 {
        let (_, p, _) = r.out4(&udp6(C1, 10000 + i, R1, 443, b"x"), at(1));
        got.push(p);
    }
    got.sort_unstable();
    got.dedup();
    assert_eq!(got.len(), 1100);
    assert_eq!(r.nat.stats().bib_entries, 1100);
}

/// RFC 6146 section 3.5.1 (endpoint-independent mapping, RFC 4787 REQ-1):
/// one IPv6 transport address talking to two remotes uses one IPv4
/// transport address: one BIB entry, two sessions.
#[test]
fn s3_5_1_endpoint_independent_mapping() {
    let mut r = Rig::new(base());
    for proto in [UDP, TCP] {
        let mk = |dst: &str| match proto {
            UDP => udp6(C1, 4000, dst, 53, b"q"),
            _ => tcp6(C1, 4000, dst, 53, SYN),
        };
        let (a, pa, _) = r.out4(&mk(R1), at(1));
        let (b, pb, _) = r.out4(&mk(R2), at(2));
        assert_eq!((a.src, pa), (b.src, pb), "protocol {proto}");
        assert_eq!((a.dst, b.dst), (v4(R1), v4(R2)));
    }
    let (a, ia, _) = r.out4(&echo6(C1, R1, 99, 1), at(3));
    let (b, ib, _) = r.out4(&echo6(C1, R2, 99, 1), at(3));
    assert_eq!((a.src, ia), (b.src, ib), "ICMP");
    let st = r.nat.stats();
    assert_eq!((st.bib_entries, st.sessions), (3, 6));
}

/// RFC 6146 section 3.5.1: a static BIB entry publishes a service: an IPv4
/// SYN reaches the IPv6 server, the server's packets leave from the static
/// address, and the entry outlives its sessions.
#[test]
fn s3_5_1_static_bib_entries_are_used_and_kept() {
    let mut cfg = base();
    cfg.static_bib = vec![
        Bib {
            proto: Proto::Tcp,
            v6: t6(C1, 8080),
            v4: t4(P4, 80),
            is_static: true,
        },
        Bib {
            proto: Proto::Udp,
            v6: t6(C1, 5353),
            v4: t4(P4, 53),
            is_static: false, // made static anyway
        },
    ];
    let mut r = Rig::new(cfg);
    assert_eq!(r.nat.stats().bib_entries, 2);
    assert!(r.bibs(None).iter().all(|b| b.is_static));

    // IPv4-initiated TCP through the static entry.
    let (s, sp, dp) = r.out6(&tcp4(R1, 50000, P4, 80, SYN), at(10));
    assert_eq!(
        (s.src, s.dst, sp, dp, s.payload[13]),
        (p6(R1), v6(C1), 50000, 8080, SYN)
    );
    assert_eq!(r.one(Proto::Tcp).state, TcpState::V4Init);
    let (o, osp, odp) = r.out4(&tcp6(C1, 8080, R1, 50000, SYN | ACK), at(11));
    assert_eq!((o.src, o.dst, osp, odp), (v4(P4), v4(R1), 80, 50000));
    assert_eq!(r.one(Proto::Tcp).state, TcpState::Established);

    // Outbound from the published port to someone else uses it too.
    let (o, osp, _) = r.out4(&udp6(C1, 5353, R2, 5353, b"mdns"), at(12));
    assert_eq!((o.src, osp), (v4(P4), 53));

    // Long after every session expired, the entries stay.
    r.poll(at(12 + TCP_EST + 1));
    let st = r.nat.stats();
    assert_eq!((st.sessions, st.bib_entries), (0, 2));
    let (s, _, dp) = r.out6(&udp4(R2, 1, P4, 53, b"again"), at(20000));
    assert_eq!((s.dst, dp), (v6(C1), 5353));
}

/// A static BIB entry outside pool4 or clashing with another is refused.
#[test]
fn s3_5_1_static_bib_entries_are_validated() {
    let bib = |v6p: u16, v4a: &str, v4p: u16| Bib {
        proto: Proto::Tcp,
        v6: t6(C1, v6p),
        v4: t4(v4a, v4p),
        is_static: true,
    };
    let mut cfg = base();
    cfg.static_bib = vec![bib(80, "192.0.2.77", 80)];
    assert!(matches!(Nat64::new(cfg), Err(Nat64ConfigError::StaticBib { .. })));
    let mut cfg = base();
    cfg.static_bib = vec![bib(80, P4, 80), bib(81, P4, 80)];
    assert!(matches!(Nat64::new(cfg), Err(Nat64ConfigError::StaticBib { .. })));
    let mut cfg = base();
    cfg.static_bib = vec![bib(80, P4, 80), bib(80, P4, 81)];
    assert!(matches!(Nat64::new(cfg), Err(Nat64ConfigError::StaticBib { .. })));
}

/// RFC 6146 section 3.5.1 / 3.5.2 / 3.5.3: replies from IPv4 come back to
/// the right client, with its own port (identifier), the remote's address
/// through pool6, and valid checksums.
#[test]
fn s3_5_1_replies_go_back_to_the_right_client() {
    let mut r = Rig::new(base());
    let (_, p1, _) = r.out4(&udp6(C1, 4000, R1, 53, b"q1"), at(1));
    let (_, p2, _) = r.out4(&udp6(C2, 4000, R1, 53, b"q2"), at(1));
    assert_ne!(p1, p2);
    let (s, sp, dp) = r.out6(&udp4(R1, 53, P4, p2, b"answer2"), at(2));
    assert_eq!((s.proto, s.src, s.dst, sp, dp), (UDP, p6(R1), v6(C2), 53, 4000));
    assert_eq!(&s.payload[8..], b"answer2");
    let (s, _, dp) = r.out6(&udp4(R1, 53, P4, p1, b"answer1"), at(2));
    assert_eq!((s.dst, dp), (v6(C1), 4000));

    let (_, tp, _) = r.out4(&tcp6(C1, 5000, R1, 443, SYN), at(3));
    let (s, sp, dp) = r.out6(&tcp4(R1, 443, P4, tp, SYN | ACK), at(3));
    assert_eq!((s.proto, s.src, s.dst, sp, dp), (TCP, p6(R1), v6(C1), 443, 5000));
    assert_eq!(s.payload[13], SYN | ACK);

    let (_, id, _) = r.out4(&echo6(C2, R1, 0x4242, 7), at(4));
    let (s, rid, _) = r.out6(&echo4(R1, P4, false, id, 7), at(4));
    assert_eq!((s.proto, s.src, s.dst, rid), (ICMPV6, p6(R1), v6(C2), 0x4242));
    assert_eq!((s.payload[0], be16(&s.payload, 6)), (129, 7));
    assert_eq!(r.nat.counters().translated_4to6, 4);
}

// ========================================================== 3.5 filtering

/// RFC 6146 section 3.5 (endpoint-independent filtering, the default): once
/// a client has a BIB entry, any IPv4 host may reach it, which adds a
/// session.
#[test]
fn s3_5_endpoint_independent_filtering_admits_new_remotes() {
    let mut r = Rig::new(base());
    let (_, p, _) = r.out4(&udp6(C1, 4000, R1, 3478, b"stun"), at(1));
    let (s, sp, dp) = r.out6(&udp4(R2, 9999, P4, p, b"peer"), at(2));
    assert_eq!((s.src, s.dst, sp, dp), (p6(R2), v6(C1), 9999, 4000));
    let v = r.of(Proto::Udp);
    assert_eq!(v.len(), 2);
    assert_eq!(v[1].remote, t4(R2, 9999));
    assert_eq!(v[1].expires, at(2 + UDP_DEFAULT));
}

/// RFC 6146 section 3.5 (address-dependent filtering): an IPv4 host with no
/// session on the binding is refused (ICMPv4 3/13 from the translator); a
/// host that has one may use another port.
#[test]
fn s3_5_address_dependent_filtering() {
    let mut cfg = base();
    cfg.address_dependent_filtering = true;
    let mut r = Rig::new(cfg);
    let (_, p, _) = r.out4(&udp6(C1, 4000, R1, 3478, b"stun"), at(1));

    let intruder = udp4(R2, 9999, P4, p, b"intruder");
    let e = r.icmp(&intruder, at(2), DropReason::AddressDependentFiltering);
    assert_icmp4(&e, 3, 13, OWN4, R2, &intruder);
    assert_eq!(r.drops(DropReason::AddressDependentFiltering), 1);
    assert_eq!(r.nat.stats().sessions, 1);

    let (s, sp, dp) = r.out6(&udp4(R1, 3479, P4, p, b"other port"), at(3));
    assert_eq!((s.src, s.dst, sp, dp), (p6(R1), v6(C1), 3479, 4000));
    assert_eq!(r.nat.stats().sessions, 2);

    // Without own_ipv4 the refusal is silent.
    let mut cfg = base();
    cfg.address_dependent_filtering = true;
    cfg.xlat.own_ipv4 = None;
    let mut r = Rig::new(cfg);
    let (_, p, _) = r.out4(&udp6(C1, 4000, R1, 3478, b"stun"), at(1));
    assert_eq!(
        r.send(&udp4(R2, 9999, P4, p, b"x"), at(2)),
        Verdict::Dropped(DropReason::AddressDependentFiltering)
    );
}

/// RFC 6146 section 3.5.1 / 3.5.3: IPv4 packets for a pool4 transport
/// address nobody bound: UDP gets ICMPv4 3/3, an echo request is dropped,
/// and neither creates state.
#[test]
fn s3_5_no_binding() {
    let mut r = Rig::new(base());
    let pkt = udp4(R1, 53, P4, 6123, b"nobody");
    let e = r.icmp(&pkt, at(1), DropReason::NoBinding);
    assert_icmp4(&e, 3, 3, OWN4, R1, &pkt);
    assert_eq!(
        r.send(&echo4(R1, P4, true, 6123, 1), at(1)),
        Verdict::Dropped(DropReason::NoBinding)
    );
    assert_eq!(
        r.send(&tcp4(R1, 80, P4, 6123, ACK), at(1)),
        Verdict::Dropped(DropReason::NoBinding)
    );
    assert_eq!(r.drops(DropReason::NoBinding), 3);
    assert_eq!(r.nat.counters().icmp_errors_generated, 1);
    let st = r.nat.stats();
    assert_eq!((st.sessions, st.bib_entries, st.held_syns), (0, 0, 0));
    // Not pool4 at all: handed back.
    assert_eq!(
        r.send(&udp4(R1, 53, "192.0.2.2", 6123, b"x"), at(1)),
        Verdict::NotOurs(NotOurs::DestinationNotMapped)
    );
}

// ========================================================= 3.5.2.2 TCP

/// RFC 6146 section 3.5.2.2, IPv6-initiated, IPv4 closes first: CLOSED ->
/// V6 INIT -> ESTABLISHED -> V4 FIN RCV -> V4 FIN + V6 FIN RCV -> gone
/// after TCP_TRANS, with each lifetime checked.
#[test]
fn s3_5_2_2_tcp_v6_open_v4_closes_first() {
    let mut r = Rig::new(base());
    let (_, p, _) = r.out4(&tcp6(C1, 5000, R1, 80, SYN), at(100));
    let s = r.one(Proto::Tcp);
    assert_eq!((s.state, s.expires), (TcpState::V6Init, at(100 + TCP_TRANS)));
    assert_eq!((s.v6, s.v4, s.remote), (t6(C1, 5000), t4(P4, p), t4(R1, 80)));

    let step = |r: &mut Rig, v6side: bool, flags: u8, now: u64, state: TcpState, exp: u64| {
        if v6side {
            r.out4(&tcp6(C1, 5000, R1, 80, flags), at(now));
        } else {
            r.out6(&tcp4(R1, 80, P4, p, flags), at(now));
        }
        let s = r.one(Proto::Tcp);
        assert_eq!(
            (s.state, s.expires),
            (state, at(exp)),
            "after flags {flags:#x} at {now}"
        );
    };
    step(&mut r, false, SYN | ACK, 101, TcpState::Established, 101 + TCP_EST);
    step(&mut r, true, ACK, 102, TcpState::Established, 102 + TCP_EST);
    step(&mut r, false, ACK, 103, TcpState::Established, 103 + TCP_EST);
    step(&mut r, false, FIN | ACK, 104, TcpState::V4FinRcv, 104 + TCP_EST);
    step(&mut r, true, ACK, 105, TcpState::V4FinRcv, 105 + TCP_EST);
    step(&mut r, true, FIN | ACK, 106, TcpState::V4FinV6FinRcv, 106 + TCP_TRANS);
    // Final ACKs no longer refresh.
    step(&mut r, false, ACK, 107, TcpState::V4FinV6FinRcv, 106 + TCP_TRANS);
    step(&mut r, true, ACK, 108, TcpState::V4FinV6FinRcv, 106 + TCP_TRANS);

    assert_eq!(r.nat.next_expiry(), Some(at(106 + TCP_TRANS)));
    assert!(r.poll(before(106 + TCP_TRANS)).is_empty());
    assert_eq!(r.nat.stats().sessions, 1);
    r.poll(at(106 + TCP_TRANS));
    let st = r.nat.stats();
    assert_eq!((st.sessions, st.bib_entries), (0, 0));
    assert_eq!(r.nat.next_expiry(), None);
}

/// RFC 6146 section 3.5.2.2: IPv6 closes first: ESTABLISHED -> V6 FIN RCV
/// -> V4 FIN + V6 FIN RCV.
#[test]
fn s3_5_2_2_tcp_v6_closes_first() {
    let mut r = Rig::new(base());
    let (_, p, _) = r.out4(&tcp6(C1, 5000, R1, 80, SYN), at(1));
    r.out6(&tcp4(R1, 80, P4, p, SYN | ACK), at(2));
    r.out4(&tcp6(C1, 5000, R1, 80, FIN | ACK), at(3));
    let s = r.one(Proto::Tcp);
    assert_eq!((s.state, s.expires), (TcpState::V6FinRcv, at(3 + TCP_EST)));
    r.out6(&tcp4(R1, 80, P4, p, ACK), at(4));
    assert_eq!(r.one(Proto::Tcp).state, TcpState::V6FinRcv);
    r.out6(&tcp4(R1, 80, P4, p, FIN | ACK), at(5));
    let s = r.one(Proto::Tcp);
    assert_eq!((s.state, s.expires), (TcpState::V4FinV6FinRcv, at(5 + TCP_TRANS)));
}

/// RFC 6146 section 3.5.2.2: RST -> TRANS (TCP_TRANS); a non-RST packet in
/// TRANS -> ESTABLISHED again; an RST in TRANS does not refresh; TRANS
/// expires after TCP_TRANS.
#[test]
fn s3_5_2_2_tcp_rst_trans_and_back() {
    let mut r = Rig::new(base());
    let (_, p, _) = r.out4(&tcp6(C1, 5000, R1, 80, SYN), at(1));
    r.out6(&tcp4(R1, 80, P4, p, SYN | ACK), at(2));

    r.out6(&tcp4(R1, 80, P4, p, RST), at(10));
    let s = r.one(Proto::Tcp);
    assert_eq!((s.state, s.expires), (TcpState::Trans, at(10 + TCP_TRANS)));
    r.out4(&tcp6(C1, 5000, R1, 80, ACK), at(20));
    let s = r.one(Proto::Tcp);
    assert_eq!((s.state, s.expires), (TcpState::Established, at(20 + TCP_EST)));

    r.out4(&tcp6(C1, 5000, R1, 80, RST), at(30));
    assert_eq!(r.one(Proto::Tcp).expires, at(30 + TCP_TRANS));
    r.out6(&tcp4(R1, 80, P4, p, RST | ACK), at(40));
    let s = r.one(Proto::Tcp);
    assert_eq!((s.state, s.expires), (TcpState::Trans, at(30 + TCP_TRANS)));

    r.poll(before(30 + TCP_TRANS));
    assert_eq!(r.nat.stats().sessions, 1);
    r.poll(at(30 + TCP_TRANS));
    assert_eq!(r.nat.stats().sessions, 0);
}

/// RFC 6146 section 3.5.2.2: IPv4-initiated through an existing binding
/// (endpoint-independent filtering): V4 INIT, then the IPv6 SYN(-ACK) ->
/// ESTABLISHED.
#[test]
fn s3_5_2_2_tcp_v4_open_through_existing_binding() {
    let mut r = Rig::new(base());
    let (_, p, _) = r.out4(&tcp6(C1, 5000, R1, 80, SYN), at(1));
    let (s, sp, dp) = r.out6(&tcp4(R2, 7000, P4, p, SYN), at(2));
    assert_eq!((s.src, s.dst, sp, dp), (p6(R2), v6(C1), 7000, 5000));
    let v = r.of(Proto::Tcp);
    assert_eq!(v.len(), 2);
    let from_r2 = v.iter().find(|s| s.remote == t4(R2, 7000)).unwrap();
    assert_eq!((from_r2.state, from_r2.expires), (TcpState::V4Init, at(2 + TCP_TRANS)));
    // Repeated IPv4 SYNs do not refresh V4 INIT.
    r.out6(&tcp4(R2, 7000, P4, p, SYN), at(3));
    r.out4(&tcp6(C1, 5000, R2, 7000, SYN | ACK), at(4));
    let v = r.of(Proto::Tcp);
    let from_r2 = v.iter().find(|s| s.remote == t4(R2, 7000)).unwrap();
    assert_eq!(
        (from_r2.state, from_r2.expires),
        (TcpState::Established, at(4 + TCP_EST))
    );
}

/// RFC 6146 section 3.5.2.2: V6 INIT lives TCP_TRANS, to the microsecond:
/// present just before, gone (with its BIB entry) at that instant.
#[test]
fn s3_5_2_2_v6_init_expires_after_tcp_trans() {
    let mut r = Rig::new(base());
    r.out4(&tcp6(C1, 5000, R1, 80, SYN), at(10));
    assert_eq!(r.nat.next_expiry(), Some(at(10 + TCP_TRANS)));
    // A retransmitted SYN refreshes V6 INIT.
    r.out4(&tcp6(C1, 5000, R1, 80, SYN), at(13));
    assert_eq!(r.nat.next_expiry(), Some(at(13 + TCP_TRANS)));
    // A non-SYN from the IPv6 side does not.
    r.out4(&tcp6(C1, 5000, R1, 80, ACK), at(14));
    assert_eq!(r.nat.next_expiry(), Some(at(13 + TCP_TRANS)));

    assert!(r.poll(before(13 + TCP_TRANS)).is_empty());
    assert_eq!(r.nat.stats().sessions, 1);
    assert!(r.poll(at(13 + TCP_TRANS)).is_empty());
    let st = r.nat.stats();
    assert_eq!((st.sessions, st.bib_entries), (0, 0));
    // poll is idempotent.
    assert!(r.poll(at(13 + TCP_TRANS)).is_empty());
}

/// RFC 6146 section 3.5.2.2: ESTABLISHED lives TCP_EST (2 h 4 min) and
/// every packet restarts it.
#[test]
fn s3_5_2_2_established_lives_tcp_est_and_is_refreshed() {
    let mut r = Rig::new(base());
    let (_, p, _) = r.out4(&tcp6(C1, 5000, R1, 80, SYN), at(0));
    r.out6(&tcp4(R1, 80, P4, p, SYN | ACK), at(1));
    assert_eq!(r.nat.next_expiry(), Some(at(1 + TCP_EST)));
    r.poll(before(1 + TCP_EST));
    assert_eq!(r.nat.stats().sessions, 1);
    // Refreshed from the IPv4 side at 1 h.
    r.out6(&tcp4(R1, 80, P4, p, ACK), at(3600));
    r.poll(at(1 + TCP_EST));
    assert_eq!(r.one(Proto::Tcp).expires, at(3600 + TCP_EST));
    r.poll(before(3600 + TCP_EST));
    assert_eq!(r.nat.stats().sessions, 1);
    r.poll(at(3600 + TCP_EST));
    assert_eq!(r.nat.stats().sessions, 0);
}

/// Jool's handle-rst-during-fin-rcv: an RST in V4 FIN RCV (or V6 FIN RCV)
/// goes to TRANS only when asked; by default it is an ordinary packet.
#[test]
fn s3_5_2_2_rst_during_fin_rcv() {
    for handle in [false, true] {
        let mut cfg = base();
        cfg.handle_rst_during_fin_rcv = handle;
        let mut r = Rig::new(cfg);
        let (_, p, _) = r.out4(&tcp6(C1, 5000, R1, 80, SYN), at(1));
        r.out6(&tcp4(R1, 80, P4, p, SYN | ACK), at(2));
        r.out6(&tcp4(R1, 80, P4, p, FIN | ACK), at(3));
        r.out4(&tcp6(C1, 5000, R1, 80, RST), at(4));
        let s = r.one(Proto::Tcp);
        if handle {
            assert_eq!((s.state, s.expires), (TcpState::Trans, at(4 + TCP_TRANS)));
        } else {
            assert_eq!((s.state, s.expires), (TcpState::V4FinRcv, at(4 + TCP_EST)));
        }
    }
}

/// Configured TCP lifetimes are the ones used.
#[test]
fn s4_tcp_timeouts_are_configuration() {
    let mut cfg = base();
    cfg.timeouts.tcp_trans = Duration::from_secs(30);
    cfg.timeouts.tcp_est = Duration::from_secs(600);
    let mut r = Rig::new(cfg);
    let (_, p, _) = r.out4(&tcp6(C1, 5000, R1, 80, SYN), at(0));
    assert_eq!(r.one(Proto::Tcp).expires, at(30));
    r.out6(&tcp4(R1, 80, P4, p, SYN | ACK), at(1));
    assert_eq!(r.one(Proto::Tcp).expires, at(601));
    r.out6(&tcp4(R1, 80, P4, p, RST), at(2));
    assert_eq!(r.one(Proto::Tcp).expires, at(32));
    r.poll(at(32));
    assert_eq!(r.nat.stats().sessions, 0);
}

/// RFC 6146 section 3.5.2.2: a TCP segment other than a SYN with no session
/// is dropped, from either side, and creates nothing.
#[test]
fn s3_5_2_2_non_syn_without_session_is_dropped() {
    let mut r = Rig::new(base());
    let no = Verdict::Dropped(DropReason::TcpNoSession);
    assert_eq!(r.send(&tcp6(C1, 5000, R1, 80, ACK), at(1)), no);
    assert_eq!(r.send(&tcp6(C1, 5000, R1, 80, FIN | ACK), at(1)), no);
    assert_eq!(r.nat.stats().bib_entries, 0);

    let (_, p, _) = r.out4(&tcp6(C1, 5000, R1, 80, SYN), at(2));
    // The binding exists, but not the session to R2.
    assert_eq!(r.send(&tcp6(C1, 5000, R2, 80, ACK), at(3)), no);
    assert_eq!(r.send(&tcp4(R2, 80, P4, p, ACK), at(3)), no);
    assert_eq!(r.send(&tcp4(R2, 80, P4, p, RST), at(3)), no);
    assert_eq!(r.drops(DropReason::TcpNoSession), 5);
    assert_eq!(r.nat.stats().sessions, 1);
}

/// RFC 6146 section 3.5.2.2: with drop_externally_initiated_tcp, IPv4 SYNs
/// that would open a connection are dropped (not held), replies are not.
#[test]
fn s3_5_2_2_drop_externally_initiated_tcp() {
    let mut cfg = base();
    cfg.drop_externally_initiated_tcp = true;
    cfg.static_bib = vec![Bib {
        proto: Proto::Tcp,
        v6: t6(C2, 22),
        v4: t4(P4, 2222),
        is_static: true,
    }];
    let mut r = Rig::new(cfg);
    let ext = Verdict::Dropped(DropReason::ExternallyInitiatedTcp);
    let (_, p, _) = r.out4(&tcp6(C1, 5000, R1, 80, SYN), at(1));
    assert_eq!(r.send(&tcp4(R2, 80, P4, p, SYN), at(2)), ext, "dynamic binding");
    assert_eq!(r.send(&tcp4(R2, 80, P4, 2222, SYN), at(2)), ext, "static binding");
    assert_eq!(r.send(&tcp4(R2, 80, P4, 6666, SYN), at(2)), ext, "no binding");
    assert_eq!(r.drops(DropReason::ExternallyInitiatedTcp), 3);
    assert_eq!(r.nat.stats().held_syns, 0);
    // The answer to our own SYN still passes.
    r.out6(&tcp4(R1, 80, P4, p, SYN | ACK), at(3));
    assert_eq!(r.one(Proto::Tcp).state, TcpState::Established);
    // UDP is not concerned.
    let (_, u, _) = r.out4(&udp6(C1, 4000, R1, 53, b"q"), at(4));
    r.out6(&udp4(R2, 53, P4, u, b"x"), at(4));
}

// ================================================ 3.5.2.2 simultaneous open

/// RFC 6146 section 3.5.2.2: an unsolicited IPv4 SYN is held
/// TCP_INCOMING_SYN (6 s); with no IPv6 SYN in that time, poll answers it
/// with ICMPv4 3/3 from the translator, quoting it.
#[test]
fn s3_5_2_2_unsolicited_syn_held_then_refused() {
    let mut r = Rig::new(base());
    let syn = tcp4(R1, 7000, P4, 6500, SYN);
    assert_eq!(r.send(&syn, at(20)), Verdict::Held(Held::SimultaneousOpen));
    let st = r.nat.stats();
    assert_eq!((st.held_syns, st.sessions, st.bib_entries), (1, 0, 0));
    assert_eq!(r.nat.counters().held, 1);
    assert_eq!(r.nat.next_expiry(), Some(at(20 + TCP_INCOMING_SYN)));

    assert!(r.poll(before(20 + TCP_INCOMING_SYN)).is_empty());
    let got = r.poll(at(20 + TCP_INCOMING_SYN));
    assert_eq!(got.len(), 1);
    assert!(matches!(
        got[0].0,
        Verdict::IcmpError {
            reason: DropReason::SimultaneousOpenTimeout,
            ..
        }
    ));
    assert_icmp4(&got[0].1, 3, 3, OWN4, R1, &syn);
    assert_eq!(r.nat.stats().held_syns, 0);
    assert_eq!(r.drops(DropReason::SimultaneousOpenTimeout), 1);
    assert!(r.poll(at(100)).is_empty());
    assert_eq!(r.nat.next_expiry(), None);
}

/// RFC 6146 section 3.5.2.2: a simultaneous open: the IPv6 SYN to the
/// remote of a held SYN, within 6 s, leaves from the held SYN's pool4
/// transport address; the held SYN is dropped and nothing comes later.
#[test]
fn s3_5_2_2_simultaneous_open_completes() {
    let mut r = Rig::new(base());
    assert_eq!(
        r.send(&tcp4(R1, 7000, P4, 6500, SYN), at(20)),
        Verdict::Held(Held::SimultaneousOpen)
    );
    let (o, sp, dp) = r.out4(&tcp6(C1, 5555, R1, 7000, SYN), at(25));
    assert_eq!((o.src, o.dst, sp, dp), (v4(P4), v4(R1), 6500, 7000));
    assert_eq!(r.bib_of(Proto::Tcp, C1, 5555), Some(t4(P4, 6500)));
    let s = r.one(Proto::Tcp);
    assert_eq!((s.state, s.expires), (TcpState::Established, at(25 + TCP_EST)));
    assert_eq!(r.nat.stats().held_syns, 0);
    assert!(r.poll(at(20 + TCP_INCOMING_SYN)).is_empty());
    assert!(r.poll(at(60)).is_empty());
    // And the connection works both ways.
    let (s, sp, dp) = r.out6(&tcp4(R1, 7000, P4, 6500, SYN | ACK), at(61));
    assert_eq!((s.dst, sp, dp), (v6(C1), 7000, 5555));
}

/// TCP_INCOMING_SYN is configuration too.
#[test]
fn s3_5_2_2_incoming_syn_timeout_is_configuration() {
    let mut cfg = base();
    cfg.timeouts.tcp_incoming_syn = Duration::from_secs(2);
    let mut r = Rig::new(cfg);
    assert_eq!(
        r.send(&tcp4(R1, 7000, P4, 6500, SYN), at(10)),
        Verdict::Held(Held::SimultaneousOpen)
    );
    assert_eq!(r.nat.next_expiry(), Some(at(12)));
    assert!(r.poll(before(12)).is_empty());
    assert_eq!(r.poll(at(12)).len(), 1);
}

/// The IPv6 SYN comes too late (after the 6 s): the held SYN has been
/// refused and the client gets a port of its own.
#[test]
fn s3_5_2_2_simultaneous_open_too_late() {
    let mut r = Rig::new(base());
    assert_eq!(
        r.send(&tcp4(R1, 7000, P4, 6500, SYN), at(20)),
        Verdict::Held(Held::SimultaneousOpen)
    );
    assert_eq!(r.poll(at(26)).len(), 1);
    r.out4(&tcp6(C1, 5555, R1, 7000, SYN), at(27));
    assert_eq!(r.one(Proto::Tcp).state, TcpState::V6Init);
}

/// `max_simultaneous_opens` held SYNs at most: the next one is answered at
/// once with ICMPv4 3/3.
#[test]
fn s3_5_2_2_simultaneous_open_limit() {
    let mut cfg = base();
    cfg.max_simultaneous_opens = 2;
    let mut r = Rig::new(cfg);
    for port in [7001, 7002] {
        assert_eq!(
            r.send(&tcp4(R1, port, P4, 6500, SYN), at(1)),
            Verdict::Held(Held::SimultaneousOpen)
        );
    }
    let third = tcp4(R1, 7003, P4, 6501, SYN);
    let e = r.icmp(&third, at(2), DropReason::SimultaneousOpenFull);
    assert_icmp4(&e, 3, 3, OWN4, R1, &third);
    assert_eq!(r.nat.stats().held_syns, 2);
    let got = r.poll(at(7));
    assert_eq!(got.len(), 2);
    // Room again.
    assert_eq!(r.send(&third, at(8)), Verdict::Held(Held::SimultaneousOpen));
}

// Regression (was a bug): a retransmitted unsolicited SYN is held a second time, and the copy
// survives the simultaneous open it belongs to. Input: pool4 192.0.2.1
// ports 6000-6999; IPv4 TCP SYN 198.51.100.1:7000 -> 192.0.2.1:6500 at t=20 s
// and the same SYN again at t=21 s (both Held(SimultaneousOpen),
// stats().held_syns == 2); IPv6 SYN [2001:db8::a]:5555 -> [64:ff9b::
// 198.51.100.1]:7000 at t=22 s (translated from 192.0.2.1:6500, session
// ESTABLISHED, held_syns == 1). Wrong output: poll(t=27 s) returns
// IcmpError { reason: SimultaneousOpenTimeout }: an ICMPv4 3/3 to
// 198.51.100.1 quoting the SYN of a connection that did open (its own
// IPv4 stack may abort it). Expected: the duplicate is not queued (Jool's
// pktqueue keeps one SYN per session), or every held SYN of that
// connection is dropped when the IPv6 SYN arrives; poll returns nothing.
// (Also: each retransmission takes one of max_simultaneous_opens.)
#[test]
fn s3_5_2_2_retransmitted_syn_is_not_held_twice() {
    let mut r = Rig::new(base());
    let syn = tcp4(R1, 7000, P4, 6500, SYN);
    assert_eq!(r.send(&syn, at(20)), Verdict::Held(Held::SimultaneousOpen));
    let _ = r.send(&syn, at(21));
    assert_eq!(r.nat.stats().held_syns, 1);
    r.out4(&tcp6(C1, 5555, R1, 7000, SYN), at(22));
    assert!(r.poll(at(27)).is_empty());
}

// Regression (was a bug): any IPv4 SYN to a pool4 *address* is held, whatever the port, and a
// simultaneous open then binds the IPv6 client to that port even though it
// is outside every pool4 range (RFC 6146 section 3.5.1.1: the IPv4
// transport address comes from pool4). Input: pool4 192.0.2.1 ports
// 6000-6999; IPv4 SYN 198.51.100.1:7000 -> 192.0.2.1:22 at t=20 s (Held);
// IPv6 SYN [2001:db8::a]:5555 -> [64:ff9b::198.51.100.1]:7000 at t=21 s.
// Wrong output: the SYN leaves from 192.0.2.1:22 and the BIB entry is
// [2001:db8::a]:5555 <-> 192.0.2.1:22 (a port the operator kept out of
// pool4, e.g. the host's own SSH). An outsider picks the client's mapping.
// Expected: a packet for a pool4 address but a port outside pool4 (and no
// static entry) is not claimed (Jool hands it back to the host:
// NotOurs), so the client gets a port in 6000-6999.
#[test]
fn s3_5_1_1_simultaneous_open_stays_inside_pool4() {
    let mut r = Rig::new(base());
    let _ = r.send(&tcp4(R1, 7000, P4, 22, SYN), at(20));
    let (o, sp, _) = r.out4(&tcp6(C1, 5555, R1, 7000, SYN), at(21));
    assert_eq!(o.src, v4(P4));
    assert!((6000..=6999).contains(&sp), "bound outside pool4: {sp}");
}

// Regression (was a bug): with
// address-dependent filtering, an IPv4 SYN to an existing binding from an
// address with no session is refused at once with ICMPv4 3/13, instead of
// being held TCP_INCOMING_SYN for a simultaneous open (Jool
// tcp_closed_v4_syn: `if (!bib || drop_by_addr) -> pktqueue`). That breaks
// TCP hole punching under ADF, the case the stored SYN exists for. Input:
// address_dependent_filtering = true; IPv6 SYN [2001:db8::a]:5000 ->
// [64:ff9b::198.51.100.1]:80 (binding 192.0.2.1:p); IPv4 SYN
// 198.51.100.2:7000 -> 192.0.2.1:p. Wrong output: IcmpError { reason:
// AddressDependentFiltering } (ICMPv4 3/13). Expected: Held(SimultaneousOpen),
// and an IPv6 SYN from [2001:db8::a]:5000 to 198.51.100.2:7000 within 6 s
// completes the open.
#[test]
fn s3_5_2_2_adf_holds_syn_for_simultaneous_open() {
    let mut cfg = base();
    cfg.address_dependent_filtering = true;
    let mut r = Rig::new(cfg);
    let (_, p, _) = r.out4(&tcp6(C1, 5000, R1, 80, SYN), at(1));
    assert_eq!(
        r.send(&tcp4(R2, 7000, P4, p, SYN), at(2)),
        Verdict::Held(Held::SimultaneousOpen)
    );
    r.out4(&tcp6(C1, 5000, R2, 7000, SYN), at(3));
    assert!(r.poll(at(9)).is_empty());
}

/// Address-dependent filtering and TCP as the code does it today: a SYN
/// from a known address passes, one from an unknown address is refused
/// with 3/13 (see the BUG note above for the held-SYN question).
#[test]
fn s3_5_address_dependent_filtering_tcp() {
    let mut cfg = base();
    cfg.address_dependent_filtering = true;
    let mut r = Rig::new(cfg);
    let (_, p, _) = r.out4(&tcp6(C1, 5000, R1, 80, SYN), at(1));
    r.out6(&tcp4(R1, 81, P4, p, SYN), at(2));
    let from_r2 = tcp4(R2, 7000, P4, p, SYN);
    let v = r.send(&from_r2, at(2));
    assert!(
        matches!(
            v,
            Verdict::IcmpError {
                reason: DropReason::AddressDependentFiltering,
                ..
            } | Verdict::Held(Held::SimultaneousOpen)
        ),
        "{v:?}"
    );
}

// ============================================================ 4 timeouts

// Formerly doubtful, now fixed: `translate` expires due sessions itself, so
// a dead session is neither used nor revived even without `poll`. Before: An embedder that translates at time `now`
// without polling first uses, and revives, sessions that died in virtual
// time. Input: IPv6 UDP [2001:db8::a]:4000 -> [64:ff9b::198.51.100.1]:53 at
// t=0 (expires 300 s); no poll; IPv4 UDP 198.51.100.1:53 -> 192.0.2.1:p at
// t=1000 s. Output: Translated, and the session now expires at 1300 s.
// (With address-dependent filtering this also lets in a remote whose
// session is long dead.) Either document "poll before translate" or have
// the table treat `expires <= now` as absent.

/// RFC 6146 section 4: a session dead in virtual time is neither used nor
/// revived by `translate`, even when the embedder never called `poll`.
#[test]
fn s4_dead_session_is_not_revived_without_poll() {
    let mut r = Rig::new(base());
    let (_, p, _) = r.out4(&udp6(C1, 4000, R1, 53, b"q"), at(0));
    let v = r.send(&udp4(R1, 53, P4, p, b"late"), at(1000));
    assert!(!matches!(v, Verdict::Translated(_)), "{v:?}");
    assert_eq!(r.nat.stats().sessions, 0);
}

/// RFC 6146 section 4: UDP sessions live 5 minutes by default, refreshed by
/// traffic from either side; the BIB entry goes with the last session.
#[test]
fn s4_udp_default_timeout_and_refresh() {
    let mut r = Rig::new(base());
    let (_, p, _) = r.out4(&udp6(C1, 4000, R1, 53, b"q"), at(0));
    assert_eq!(r.one(Proto::Udp).expires, at(UDP_DEFAULT));
    assert_eq!(r.nat.next_expiry(), Some(at(UDP_DEFAULT)));
    r.poll(before(UDP_DEFAULT));
    assert_eq!(r.nat.stats().sessions, 1);
    // Refreshed by the client at 200 s and by the remote at 400 s.
    r.out4(&udp6(C1, 4000, R1, 53, b"q"), at(200));
    r.poll(at(UDP_DEFAULT));
    assert_eq!(r.one(Proto::Udp).expires, at(200 + UDP_DEFAULT));
    r.out6(&udp4(R1, 53, P4, p, b"a"), at(400));
    r.poll(at(200 + UDP_DEFAULT));
    assert_eq!(r.one(Proto::Udp).expires, at(400 + UDP_DEFAULT));
    r.poll(before(400 + UDP_DEFAULT));
    assert_eq!(r.nat.stats().sessions, 1);
    r.poll(at(400 + UDP_DEFAULT));
    let st = r.nat.stats();
    assert_eq!((st.sessions, st.bib_entries), (0, 0));
    // The binding is gone: the remote is refused now.
    r.icmp(&udp4(R1, 53, P4, p, b"late"), at(701), DropReason::NoBinding);
}

/// RFC 6146 section 4: ICMP query sessions live 1 minute by default.
#[test]
fn s4_icmp_default_timeout() {
    let mut r = Rig::new(base());
    let (_, id, _) = r.out4(&echo6(C1, R1, 7, 1), at(0));
    assert_eq!(r.one(Proto::Icmp).expires, at(ICMP_DEFAULT));
    r.out6(&echo4(R1, P4, false, id, 1), at(30));
    assert_eq!(r.one(Proto::Icmp).expires, at(30 + ICMP_DEFAULT));
    r.poll(before(30 + ICMP_DEFAULT));
    assert_eq!(r.nat.stats().sessions, 1);
    r.poll(at(30 + ICMP_DEFAULT));
    assert_eq!(r.nat.stats().bib_entries, 0);
    assert_eq!(
        r.send(&echo4(R1, P4, false, id, 2), at(91)),
        Verdict::Dropped(DropReason::NoBinding)
    );
}

/// RFC 6146 section 4: the timeouts are configuration, and UDP below
/// UDP_MIN (2 min) is refused.
#[test]
fn s4_timeouts_are_configuration_with_udp_min() {
    let mut cfg = base();
    cfg.timeouts.udp = Duration::from_secs(119);
    assert_eq!(
        Nat64::new(cfg).err(),
        Some(Nat64ConfigError::UdpTimeout(Duration::from_secs(119)))
    );
    let mut cfg = base();
    cfg.timeouts.udp = nat64_core::nat64::UDP_MIN;
    cfg.timeouts.icmp = Duration::from_secs(10);
    let mut r = Rig::new(cfg);
    r.out4(&udp6(C1, 4000, R1, 53, b"q"), at(0));
    r.out4(&echo6(C1, R1, 7, 1), at(0));
    r.poll(at(10));
    assert_eq!(r.of(Proto::Icmp).len(), 0);
    assert_eq!(r.of(Proto::Udp).len(), 1);
    r.poll(at(120));
    assert_eq!(r.nat.stats().sessions, 0);

    // The other refusals of Nat64::new.
    assert_eq!(Nat64::new(config(vec![])).err(), Some(Nat64ConfigError::NoPool4));
    // No pool6: refused (by the shared validation, whose message speaks of
    // pool6 or the EAMT; NoPool6 itself needs an EAMT to be reached).
    let mut cfg = base();
    cfg.xlat.pool6 = None;
    let e = Nat64::new(cfg).expect_err("no pool6 must be refused");
    assert!(e.to_string().contains("pool6"), "{e}");
    assert!(matches!(
        Nat64::new(config(vec![entry(P4, 10, 9)])),
        Err(Nat64ConfigError::Pool4(_))
    ));
}

// ======================================================= 3.5.3 / 3.6 ICMP

/// RFC 6146 sections 3.5.3 and 3.6: an ICMPv4 error quoting a translated
/// packet reaches the right client, with the quoted packet translated back
/// (inner ports the client's), and neither creates nor refreshes state.
#[test]
fn s3_6_icmpv4_error_reaches_the_client_without_refreshing() {
    for better in [true, false] {
        let mut cfg = base();
        cfg.source_icmpv6_errors_better = better;
        let mut r = Rig::new(cfg);
        r.out4(&udp6(C2, 4000, R1, 53, b"other client"), at(10));
        let sent = r.xlat(&udp6(C1, 4000, R1, 53, b"query!"), at(10), Direction::SixToFour);
        let before_sessions = r.all();
        let bibs = r.bibs(None);

        for quote_len in [sent.len(), 28] {
            let body = icmp4(3, 3, [0; 4], &sent[..quote_len]);
            let err = V4::new(v4(ROUTER4), v4(P4), ICMP).build(&body);
            let s = check_v6(&r.xlat(&err, at(100), Direction::FourToSix));
            let src = if better { p6(ROUTER4) } else { p6(R1) };
            assert_eq!((s.proto, s.src, s.dst), (ICMPV6, src, v6(C1)));
            assert_eq!((s.payload[0], s.payload[1]), (1, 4), "port unreachable");
            let inner = &s.payload[8..];
            assert_eq!(inner[0] >> 4, 6);
            assert_eq!(inner[6], UDP);
            assert_eq!(Ipv6Addr::from(<[u8; 16]>::try_from(&inner[8..24]).unwrap()), v6(C1));
            assert_eq!(Ipv6Addr::from(<[u8; 16]>::try_from(&inner[24..40]).unwrap()), p6(R1));
            assert_eq!(ports(UDP, &inner[40..]), (4000, 53), "inner ports are the client's");
            if quote_len == sent.len() {
                assert_eq!(&inner[48..], b"query!");
                check_reassembled_v6(v6(C1), p6(R1), UDP, &inner[40..]);
            }
        }
        assert_eq!(r.all(), before_sessions, "sessions created or refreshed by an error");
        assert_eq!(r.bibs(None), bibs);
    }
}

/// The same for errors quoting a ping (Time Exceeded, as traceroute gets)
/// and a TCP segment: the inner identifier and port are the client's again,
/// and the TCP state does not move.
#[test]
fn s3_6_icmpv4_errors_quoting_echo_and_tcp() {
    let mut r = Rig::new(base());
    let ping = r.xlat(&echo6(C1, R1, 0x0bad, 3), at(1), Direction::SixToFour);
    let err = V4::new(v4(ROUTER4), v4(P4), ICMP).build(&icmp4(11, 0, [0; 4], &ping));
    let s = check_v6(&r.xlat(&err, at(2), Direction::FourToSix));
    assert_eq!((s.proto, s.src, s.dst), (ICMPV6, p6(ROUTER4), v6(C1)));
    assert_eq!((s.payload[0], s.payload[1]), (3, 0), "time exceeded in transit");
    let inner = &s.payload[8..];
    assert_eq!((inner[6], inner[40]), (ICMPV6, 128));
    assert_eq!(be16(inner, 44), 0x0bad, "the client's identifier");
    assert_eq!(r.one(Proto::Icmp).expires, at(1 + ICMP_DEFAULT));

    let syn = r.xlat(&tcp6(C1, 5000, R1, 80, SYN), at(3), Direction::SixToFour);
    let before_tcp = r.one(Proto::Tcp);
    let err = V4::new(v4(R1), v4(P4), ICMP).build(&icmp4(3, 3, [0; 4], &syn));
    let s = check_v6(&r.xlat(&err, at(4), Direction::FourToSix));
    assert_eq!((s.src, s.dst, s.payload[0], s.payload[1]), (p6(R1), v6(C1), 1, 4));
    let inner = &s.payload[8..];
    assert_eq!((inner[6], ports(TCP, &inner[40..])), (TCP, (5000, 80)));
    check_reassembled_v6(v6(C1), p6(R1), TCP, &inner[40..]);
    assert_eq!(r.one(Proto::Tcp), before_tcp, "an error moved the TCP state");
}

/// Errors about a packet of no session are dropped, and create nothing.
#[test]
fn s3_6_icmpv4_errors_for_unknown_sessions_are_dropped() {
    let mut r = Rig::new(base());
    let (_, p, _) = r.out4(&udp6(C1, 4000, R1, 53, b"q"), at(1));
    let n = r.nat.stats();
    for quoted in [
        udp4(P4, p, R2, 53, b"never sent to R2"),
        udp4(P4, 6999, R1, 53, b"no such binding"),
        tcp4(P4, p, R1, 53, SYN),
    ] {
        let err = V4::new(v4(ROUTER4), v4(P4), ICMP).build(&icmp4(3, 1, [0; 4], &quoted));
        assert_eq!(r.send(&err, at(2)), Verdict::Dropped(DropReason::NoBinding));
    }
    assert_eq!(r.nat.stats(), n);
}

/// RFC 6146 section 3.5.3 / 3.6: an ICMPv6 error from the client about a
/// packet it got from the remote goes out as ICMPv4 from the client's pool4
/// address, quoting the packet as the remote sent it; unknown sessions are
/// dropped.
#[test]
fn s3_6_icmpv6_error_from_the_client() {
    let mut r = Rig::new(base());
    let (_, p, _) = r.out4(&udp6(C1, 4000, R1, 53, b"q"), at(1));
    let got = r.xlat(&udp4(R1, 53, P4, p, b"unwanted"), at(2), Direction::FourToSix);
    let before_sessions = r.all();

    let (c, d) = (v6(C1), p6(R1));
    let err = V6::new(c, d).build(ICMPV6, &icmp6(c, d, 1, 4, [0; 4], &got));
    let out = r.xlat(&err, at(50), Direction::SixToFour);
    let s = check_v4(&out);
    assert_eq!((s.proto, s.src, s.dst), (ICMP, v4(P4), v4(R1)));
    assert_eq!((s.payload[0], s.payload[1]), (3, 3));
    let inner = &s.payload[8..];
    assert_eq!(inner[0] >> 4, 4);
    assert_eq!(inner[9], UDP);
    assert_eq!(
        (Ipv4Addr::from(be32(inner, 12)), Ipv4Addr::from(be32(inner, 16))),
        (v4(R1), v4(P4))
    );
    assert_eq!(ports(UDP, &inner[20..]), (53, p));
    check_reassembled_v4(v4(R1), v4(P4), UDP, &inner[20..]);
    assert_eq!(r.all(), before_sessions);

    // About a packet from a remote with no session: dropped.
    let r2 = p6(R2);
    let fake = V6::new(r2, c).build(UDP, &udp(Ips::V6(r2, c), 53, 4000, b"?"));
    let err = V6::new(c, r2).build(ICMPV6, &icmp6(c, r2, 1, 4, [0; 4], &fake));
    assert_eq!(r.send(&err, at(51)), Verdict::Dropped(DropReason::NoBinding));
    assert_eq!(r.all(), before_sessions);
}

// ========================================================= 3.8 hairpinning

/// RFC 6146 section 3.8: client B reaches client A through A's pool4
/// transport address; the packet comes out as IPv6 to A, from B's pool4
/// transport address under pool6, and A's answer goes back the same way.
#[test]
fn s3_8_hairpinning() {
    let mut r = Rig::new(base());
    let (_, pa, _) = r.out4(&udp6(C1, 4000, R1, 3478, b"stun"), at(1));

    let out = r.xlat(&udp6(C2, 5000, P4, pa, b"hello A"), at(2), Direction::SixToSix);
    let (s, sp, dp) = parse6(&out);
    let pb = r.bib_of(Proto::Udp, C2, 5000).expect("B got a binding");
    assert_eq!((s.proto, s.src, s.dst), (UDP, p6(&pb.addr.to_string()), v6(C1)));
    assert_eq!((sp, dp), (pb.port, 4000));
    assert_eq!(&s.payload[8..], b"hello A");
    assert_eq!(r.nat.counters().hairpinned, 1);

    let out = r.xlat(&udp6(C1, 4000, P4, pb.port, b"hello B"), at(3), Direction::SixToSix);
    let (s, sp, dp) = parse6(&out);
    assert_eq!((s.src, s.dst, sp, dp), (p6(P4), v6(C2), pa, 5000));
    // A: R1 and B; B: A.
    assert_eq!(r.nat.stats().sessions, 3);

    // Hairpinned TCP with the state machine on both halves.
    let (_, ta, _) = r.out4(&tcp6(C1, 8000, R1, 80, SYN), at(4));
    let out = r.xlat(&tcp6(C2, 9000, P4, ta, SYN), at(5), Direction::SixToSix);
    let (s, _, dp) = parse6(&out);
    assert_eq!((s.dst, dp, s.payload[13]), (v6(C1), 8000, SYN));
    let tb = r.bib_of(Proto::Tcp, C2, 9000).unwrap();
    r.xlat(&tcp6(C1, 8000, P4, tb.port, SYN | ACK), at(6), Direction::SixToSix);
    for s in r.of(Proto::Tcp).iter().filter(|s| s.remote.addr == v4(P4)) {
        assert_eq!(s.state, TcpState::Established, "{s:?}");
    }
}

// Regression (was a bug): an ICMPv6 error about a hairpinned packet is not hairpinned (RFC
// 6146 section 3.8: what is translated to a pool4 destination is processed
// as an incoming IPv4 packet); it leaves on the IPv4 side addressed to the
// translator's own pool4 address. Input: pool4 192.0.2.1 ports 6000-6999;
// [2001:db8::a]:4000 -> [64:ff9b::198.51.100.1]:3478 UDP (binding
// 192.0.2.1:pa); [2001:db8::b]:5000 -> [64:ff9b::192.0.2.1]:pa UDP
// (hairpinned, arrives at ::a from [64:ff9b::192.0.2.1]:pb); ::a answers
// with ICMPv6 1/4 from 2001:db8::a to 64:ff9b::c000:201 quoting that
// packet. Wrong output: Translated { direction: SixToFour }, an ICMPv4 3/3
// from 192.0.2.1 to 192.0.2.1. Expected: Translated { direction: SixToSix },
// an ICMPv6 1/4 to 2001:db8::b (source 64:ff9b::192.0.2.1) quoting
// [2001:db8::b]:5000 -> [64:ff9b::192.0.2.1]:pa. (xlat64 returns
// `eng.error64(..)` before looking at `hairpin`.)
#[test]
fn s3_8_icmp_error_about_a_hairpinned_packet_is_hairpinned() {
    let mut r = Rig::new(base());
    let (_, pa, _) = r.out4(&udp6(C1, 4000, R1, 3478, b"stun"), at(1));
    let got = r.xlat(&udp6(C2, 5000, P4, pa, b"hello A"), at(2), Direction::SixToSix);
    let (c, d) = (v6(C1), p6(P4));
    let err = V6::new(c, d).build(ICMPV6, &icmp6(c, d, 1, 4, [0; 4], &got));
    let out = r.xlat(&err, at(3), Direction::SixToSix);
    let s = check_v6(&out);
    assert_eq!(
        (s.proto, s.src, s.dst, s.payload[0], s.payload[1]),
        (ICMPV6, p6(P4), v6(C2), 1, 4)
    );
    assert_eq!(ports(UDP, &s.payload[48..]), (5000, pa));
}

/// RFC 6146 section 3.8: a hairpinned packet to a pool4 transport address
/// with no binding is refused towards its IPv6 sender (ICMPv6 1/4 from the
/// translator); an unsolicited hairpinned SYN is held and refused the same
/// way after 6 s.
#[test]
fn s3_8_hairpin_to_nobody() {
    let mut r = Rig::new(base());
    let pkt = udp6(C2, 5000, P4, 6123, b"nobody home");
    let e = r.icmp(&pkt, at(1), DropReason::NoBinding);
    assert_icmp6(&e, 1, 4, v6(OWN6), v6(C2), &pkt);

    let syn = tcp6(C2, 5001, P4, 6124, SYN);
    assert_eq!(r.send(&syn, at(2)), Verdict::Held(Held::SimultaneousOpen));
    let got = r.poll(at(2 + TCP_INCOMING_SYN));
    assert_eq!(got.len(), 1);
    assert_icmp6(&got[0].1, 1, 4, v6(OWN6), v6(C2), &syn);
}

/// Hairpinning under address-dependent filtering: B is an IPv4 stranger to
/// A's binding, so B gets ICMPv6 1/1 (administratively prohibited) from the
/// translator.
#[test]
fn s3_8_hairpin_with_address_dependent_filtering() {
    let mut cfg = base();
    cfg.address_dependent_filtering = true;
    let mut r = Rig::new(cfg);
    let (_, pa, _) = r.out4(&udp6(C1, 4000, R1, 3478, b"stun"), at(1));
    let pkt = udp6(C2, 5000, P4, pa, b"hello A");
    let e = r.icmp(&pkt, at(2), DropReason::AddressDependentFiltering);
    assert_icmp6(&e, 1, 1, v6(OWN6), v6(C2), &pkt);
    assert_eq!(
        r.sessions(SessionFilter {
            proto: None,
            client: Some(v6(C1))
        })
        .len(),
        1
    );
}

// DOUBTFUL: an IPv4 packet from the wire whose *source* is a pool4 address
// (a martian: our own address) is translated like any remote, and creates
// a session whose remote is pool4. To the client it looks exactly like a
// hairpinned packet from another IPv6 client, and under address-dependent
// filtering, one real hairpin to A opens A to spoofed wire packets from
// 192.0.2.1:any. Input: [2001:db8::a]:4000 -> [64:ff9b::198.51.100.1]:3478
// UDP (binding 192.0.2.1:pa); from the wire IPv4 UDP 192.0.2.1:6001 ->
// 192.0.2.1:pa. Output: Translated (FourToSix) to [2001:db8::a]:4000 from
// [64:ff9b::192.0.2.1]:6001, and a session with remote 192.0.2.1:6001.
// Expected (suggested): dropped on the wire path (pool4 sources only come
// through the hairpin).

/// RFC 6146 section 3.8: a packet whose source is itself under pool6 would
/// go around again: dropped.
#[test]
fn s3_8_hairpin_loop_is_dropped() {
    let mut r = Rig::new(base());
    r.out4(&udp6(C1, 4000, R1, 53, b"q"), at(1));
    let (s, d) = (p6("198.51.100.7"), p6(P4));
    let pkt = V6::new(s, d).build(UDP, &udp(Ips::V6(s, d), 1, 6000, b"loop"));
    assert_eq!(r.send(&pkt, at(2)), Verdict::Dropped(DropReason::HairpinLoop));
    assert_eq!(r.drops(DropReason::HairpinLoop), 1);
    assert_eq!(r.nat.stats().sessions, 1);
}

// ============================================== exhaustion, caps, quotas

/// pool4 entries serve only the protocols they name, and an empty pool for
/// a protocol is exhaustion, not a panic.
#[test]
fn s3_5_1_1_pool4_per_protocol() {
    let mut tcp_only = entry("192.0.2.1", 7000, 7099);
    tcp_only.protocols = [true, false, false];
    let mut udp_only = entry("192.0.2.2", 8000, 8099);
    udp_only.protocols = [false, true, false];
    let mut r = Rig::new(config(vec![tcp_only, udp_only]));
    assert_eq!(r.nat.stats().pool4_size, [100, 100, 0]);
    let (t, tp, _) = r.out4(&tcp6(C1, 5000, R1, 80, SYN), at(1));
    assert_eq!(t.src, v4("192.0.2.1"));
    assert!((7000..=7099).contains(&tp));
    let (u, up, _) = r.out4(&udp6(C1, 5000, R1, 53, b"q"), at(1));
    assert_eq!(u.src, v4("192.0.2.2"));
    assert!((8000..=8099).contains(&up));
    r.icmp(&echo6(C1, R1, 1, 1), at(1), DropReason::Pool4Exhausted);
}

/// RFC 6146 section 3.5.1.1: pool4 192.0.2.1 ports 1000-1009 gives out
/// exactly ten UDP bindings; the eleventh flow is refused (ICMPv6 1/3) and
/// counted; existing flows keep working; once the sessions expire, new
/// bindings succeed again.
#[test]
fn s3_5_1_1_pool4_exhaustion_and_recovery() {
    let mut r = Rig::new(config(vec![entry(P4, 1000, 1009)]));
    assert_eq!(r.nat.stats().pool4_size, [10, 10, 10]);
    let mut got = Vec::new();
    for i in 0..10 {
        let (o, p, _) = r.out4(&udp6(C1, 40000 + i, R1, 53, b"q"), at(1));
        assert_eq!(o.src, v4(P4));
        got.push(p);
    }
    got.sort_unstable();
    assert_eq!(got, (1000..=1009).collect::<Vec<u16>>());

    let pkt = udp6(C2, 40000, R1, 53, b"one too many");
    let e = r.icmp(&pkt, at(2), DropReason::Pool4Exhausted);
    assert_icmp6(&e, 1, 3, v6(OWN6), v6(C2), &pkt);
    // ICMP has identifiers of its own.
    r.out4(&echo6(C2, R1, 1, 1), at(2));
    assert_eq!(r.drops(DropReason::Pool4Exhausted), 1);
    assert_eq!(r.bib_of(Proto::Udp, C2, 40000), None);
    // An existing binding still talks, to a new remote too.
    r.out4(&udp6(C1, 40003, R2, 53, b"q"), at(3));
    assert_eq!(r.nat.stats().bib_entries, 11);

    r.poll(at(3 + UDP_DEFAULT));
    assert_eq!(r.of(Proto::Udp).len(), 0);
    let (o, p, _) = r.out4(&pkt, at(400));
    assert_eq!(o.src, v4(P4));
    assert!((1000..=1009).contains(&p));
}

/// TCP exhausts the same way, and a refused SYN leaves no binding behind.
#[test]
fn s3_5_1_1_pool4_exhaustion_tcp() {
    let mut r = Rig::new(config(vec![entry(P4, 1000, 1001)]));
    r.out4(&tcp6(C1, 1, R1, 80, SYN), at(1));
    r.out4(&tcp6(C1, 2, R1, 80, SYN), at(1));
    r.icmp(&tcp6(C1, 3, R1, 80, SYN), at(1), DropReason::Pool4Exhausted);
    assert_eq!(r.nat.stats().bib_entries, 2);
    r.poll(at(1 + TCP_TRANS));
    r.out4(&tcp6(C1, 3, R1, 80, SYN), at(1 + TCP_TRANS));
}

/// `limits.max_sessions`: a new session beyond the cap is dropped
/// (SessionTableFull), leaving no binding behind; room comes back on expiry.
#[test]
fn max_sessions_cap() {
    let mut cfg = base();
    cfg.limits.max_sessions = 3;
    let mut r = Rig::new(cfg);
    for remote in [R1, "198.51.100.12", "198.51.100.13"] {
        r.out4(&udp6(C1, 4000, remote, 53, b"q"), at(1));
    }
    let full = Verdict::Dropped(DropReason::SessionTableFull);
    assert_eq!(r.send(&udp6(C1, 4000, "198.51.100.14", 53, b"q"), at(2)), full);
    assert_eq!(r.send(&udp6(C2, 4000, R1, 53, b"q"), at(2)), full);
    let p = r.bib_of(Proto::Udp, C1, 4000).unwrap().port;
    assert_eq!(r.send(&udp4(R2, 1, P4, p, b"inbound"), at(2)), full);
    // Existing sessions still pass.
    r.out4(&udp6(C1, 4000, R1, 53, b"q"), at(2));
    assert_eq!(r.drops(DropReason::SessionTableFull), 3);
    let st = r.nat.stats();
    assert_eq!((st.sessions, st.bib_entries), (3, 1));
    r.poll(at(1 + UDP_DEFAULT));
    r.out4(&udp6(C2, 4000, R1, 53, b"q"), at(400));
}

/// A full table makes room for a new flow by evicting the half-open or
/// closing TCP session closest to its end (as conntrack's early drop):
/// established TCP and UDP sessions stay, the oldest SYN goes first, and
/// with nothing evictable the new flow is refused as before.
#[test]
fn full_table_evicts_the_oldest_half_open_session() {
    let mut cfg = base();
    cfg.limits.max_sessions = 4;
    let mut r = Rig::new(cfg);
    // An established connection and a UDP flow.
    let (_, p, _) = r.out4(&tcp6(C1, 1000, R1, 80, SYN), at(1));
    r.out6(&tcp4(R1, 80, P4, p, SYN | ACK), at(1));
    r.out4(&udp6(C1, 2000, R1, 53, b"q"), at(1));
    // Two SYNs nobody answers (half-open, V6 INIT), the first one older.
    r.out4(&tcp6(C2, 3000, R2, 80, SYN), at(2));
    r.out4(&tcp6(C2, 3001, R2, 80, SYN), at(3));
    assert_eq!(r.nat.stats().sessions, 4);
    // A new flow: the older SYN's session (and its binding) makes room.
    r.out4(&udp6(C1, 2001, R1, 53, b"q"), at(4));
    let st = r.nat.stats();
    assert_eq!((st.sessions, st.sessions_evicted), (4, 1));
    assert!(
        r.bib_of(Proto::Tcp, C2, 3000).is_none(),
        "the evicted session's binding went with it"
    );
    assert!(r.bib_of(Proto::Tcp, C2, 3001).is_some(), "the younger SYN stays");
    assert_eq!(r.drops(DropReason::SessionTableFull), 0);
    // A new SYN evicts the remaining half-open one.
    r.out4(&tcp6(C2, 3002, R2, 80, SYN), at(5));
    assert!(r.bib_of(Proto::Tcp, C2, 3001).is_none());
    // Established and UDP sessions are never evicted: with only them and
    // the SYN just admitted, the SYN goes for the next flow; then nothing
    // is left to evict.
    r.out4(&udp6(C1, 2002, R1, 53, b"q"), at(6));
    assert_eq!(r.nat.stats().sessions_evicted, 3);
    let full = Verdict::Dropped(DropReason::SessionTableFull);
    assert_eq!(r.send(&udp6(C1, 2003, R1, 53, b"q"), at(7)), full);
    assert_eq!(r.send(&tcp6(C2, 3003, R2, 80, SYN), at(7)), full);
    let states: Vec<(Proto, TcpState)> = r.all().iter().map(|s| (s.proto, s.state)).collect();
    assert_eq!(states.len(), 4);
    assert!(states.contains(&(Proto::Tcp, TcpState::Established)), "{states:?}");
    // The established connection still passes both ways.
    r.out4(&tcp6(C1, 1000, R1, 80, ACK), at(8));
    r.out6(&tcp4(R1, 80, P4, p, ACK), at(8));
}

/// Eviction finds the oldest SYN even when the SYNs arrived while an older
/// UDP session was the latest-expiring one (they must not queue behind it):
/// evictable sessions keep to expiry lanes of their own.
#[test]
fn eviction_is_not_blocked_by_an_older_udp_session() {
    let mut cfg = base();
    cfg.limits.max_sessions = 4;
    let mut r = Rig::new(cfg);
    r.out4(&udp6(C1, 2000, R1, 53, b"q"), at(1)); // expires at 301
    for (i, t) in [61, 62, 63].into_iter().enumerate() {
        r.out4(&tcp6(C2, 3000 + i as u16, R2, 80, SYN), at(t)); // expire at 301-303
    }
    r.out4(&udp6(C1, 2001, R1, 53, b"q"), at(64));
    assert_eq!(r.nat.stats().sessions_evicted, 1);
    assert!(r.bib_of(Proto::Tcp, C2, 3000).is_none(), "the oldest SYN went");
    assert!(r.bib_of(Proto::Udp, C1, 2000).is_some(), "the UDP session stays");
    assert_eq!(r.drops(DropReason::SessionTableFull), 0);
}

/// A client at its quota is refused as such even when the table is full,
/// and evicts nobody: it cannot wipe out other clients' handshakes.
#[test]
fn a_client_at_its_quota_evicts_nothing() {
    let mut cfg = base();
    cfg.limits.max_sessions = 4;
    cfg.limits.max_sessions_per_client = 2;
    let mut r = Rig::new(cfg);
    r.out4(&udp6(C1, 2000, R1, 53, b"q"), at(1));
    r.out4(&udp6(C1, 2001, R1, 53, b"q"), at(1));
    r.out4(&tcp6(C2, 3000, R2, 80, SYN), at(2));
    r.out4(&tcp6(C2, 3001, R2, 80, SYN), at(2));
    let quota = Verdict::Dropped(DropReason::ClientQuota);
    for port in 2002..2010 {
        assert_eq!(r.send(&udp6(C1, port, R1, 53, b"q"), at(3)), quota);
    }
    // On an existing binding too.
    assert_eq!(r.send(&udp6(C1, 2000, R2, 53, b"q"), at(3)), quota);
    assert_eq!(r.nat.stats().sessions_evicted, 0);
    assert!(r.bib_of(Proto::Tcp, C2, 3000).is_some() && r.bib_of(Proto::Tcp, C2, 3001).is_some());
    assert_eq!(r.drops(DropReason::SessionTableFull), 0);
}

/// The second half of a hairpin does not evict: the only half-open session
/// would be the one its first half has just created, and the packet would
/// leave from a binding that no longer exists. With the table full, the
/// hairpinned SYN is refused; the connection is retried like any other.
#[test]
fn hairpin_second_half_does_not_evict_the_first() {
    let mut cfg = base();
    cfg.limits.max_sessions = 3;
    let mut r = Rig::new(cfg);
    r.out4(&udp6(C1, 4000, R1, 53, b"q"), at(1));
    let (_, ta, _) = r.out4(&tcp6(C1, 8000, R1, 80, SYN), at(1));
    r.out6(&tcp4(R1, 80, P4, ta, SYN | ACK), at(1));
    // Two sessions, two bindings; the hairpin's first half takes the last
    // slot of each, its second half finds the table full.
    let v = r.send(&tcp6(C2, 9000, P4, ta, SYN), at(2));
    assert_eq!(v, Verdict::Dropped(DropReason::SessionTableFull));
    assert_eq!(r.nat.stats().sessions_evicted, 0);
    // Every session left is reachable through a binding that exists.
    for s in r.all() {
        assert!(
            nat64_core::nat64::SessionTable::bib_by_v4(r.nat.table(), s.proto, s.v4).is_some(),
            "{s:?} lost its binding"
        );
    }
}

/// `limits.max_sessions_per_client` with clients as addresses (/128): the
/// greedy client is refused (ClientQuota) while another still gets
/// sessions; its count comes back on expiry.
#[test]
fn client_quota_per_address() {
    let mut cfg = base();
    cfg.limits.max_sessions_per_client = 5;
    cfg.limits.client_prefix_len = 128;
    let mut r = Rig::new(cfg);
    for i in 0..5 {
        r.out4(&udp6(C1, 4000 + i, R1, 53, b"q"), at(1));
    }
    let quota = Verdict::Dropped(DropReason::ClientQuota);
    assert_eq!(r.send(&udp6(C1, 4005, R1, 53, b"q"), at(2)), quota);
    // Another session on an existing binding counts too.
    assert_eq!(r.send(&udp6(C1, 4000, R2, 53, b"q"), at(2)), quota);
    assert_eq!(r.send(&tcp6(C1, 4000, R2, 80, SYN), at(2)), quota);
    // So do sessions opened from outside.
    let p = r.bib_of(Proto::Udp, C1, 4000).unwrap().port;
    assert_eq!(r.send(&udp4(R2, 1, P4, p, b"x"), at(2)), quota);
    assert_eq!(r.drops(DropReason::ClientQuota), 4);
    // The refused flows left no bindings.
    assert_eq!(r.nat.stats().bib_entries, 5);
    // C2, in the same /64, is another client here.
    for i in 0..5 {
        r.out4(&udp6(C2, 4000 + i, R1, 53, b"q"), at(3));
    }
    r.poll(at(1 + UDP_DEFAULT));
    assert_eq!(r.nat.stats().sessions, 5);
    r.out4(&udp6(C1, 4005, R1, 53, b"q"), at(302));
}

/// The same quota per /64: two addresses of one /64 share it, a client in
/// another /64 does not.
#[test]
fn client_quota_per_prefix() {
    let mut cfg = base();
    cfg.limits.max_sessions_per_client = 5;
    cfg.limits.client_prefix_len = 64;
    let mut r = Rig::new(cfg);
    for i in 0..3 {
        r.out4(&udp6(C1, 4000 + i, R1, 53, b"q"), at(1));
    }
    for i in 0..2 {
        r.out4(&udp6(C2, 4000 + i, R1, 53, b"q"), at(2));
    }
    let quota = Verdict::Dropped(DropReason::ClientQuota);
    assert_eq!(r.send(&udp6(C1, 4100, R1, 53, b"q"), at(3)), quota);
    assert_eq!(r.send(&udp6(C2, 4100, R1, 53, b"q"), at(3)), quota);
    for i in 0..5 {
        r.out4(&udp6(C3, 4000 + i, R1, 53, b"q"), at(3));
    }
    assert_eq!(r.send(&udp6(C3, 4100, R1, 53, b"q"), at(3)), quota);
    // C1's three expire first: the /64 has room for three again.
    r.poll(at(1 + UDP_DEFAULT));
    for i in 0..3 {
        r.out4(&udp6(C2, 4200 + i, R1, 53, b"q"), at(1 + UDP_DEFAULT));
    }
    assert_eq!(r.send(&udp6(C1, 4300, R1, 53, b"q"), at(1 + UDP_DEFAULT)), quota);
}

// ============================================================== fragments

/// RFC 6146 section 3.4 (the stateful path needs the transport header): an
/// IPv6 UDP datagram in three fragments, out of order, is held until whole
/// and leaves as one IPv4 packet with the mapped port and a valid checksum.
#[test]
fn s3_4_ipv6_fragments_are_reassembled() {
    let mut r = Rig::new(base());
    let (s, d) = (v6(C1), p6(R1));
    let payload: Vec<u8> = (0u8..40).collect();
    let l4 = udp(Ips::V6(s, d), 4000, 53, &payload);
    assert_eq!(l4.len(), 48);
    let frag = |off: usize, end: usize, mf: bool| {
        V6::new(s, d).build_ext(
            &[Ext::Fragment {
                offset: (off / 8) as u16,
                mf,
                id: 0xabcd,
            }],
            UDP,
            &l4[off..end],
        )
    };
    let (f1, f2, f3) = (frag(0, 16, true), frag(16, 32, true), frag(32, 48, false));
    assert_eq!(r.send(&f2, at(1)), Verdict::Held(Held::Fragment));
    assert_eq!(r.send(&f3, at(1)), Verdict::Held(Held::Fragment));
    assert_eq!(r.nat.stats().sessions, 0, "no state before the first fragment");
    let (o, sp, dp) = r.out4(&f1, at(1));
    assert_eq!((o.proto, o.src, o.dst, dp), (UDP, v4(P4), v4(R1), 53));
    assert_eq!(sp, r.bib_of(Proto::Udp, C1, 4000).unwrap().port);
    assert!(!o.mf && o.frag_off == 0);
    assert_eq!(&o.payload[8..], &payload[..]);
    assert_eq!(r.nat.reassembly_stats().completed, 1);
}

/// The same from the IPv4 side: a fragmented reply becomes one IPv6 packet.
#[test]
fn s3_4_ipv4_fragments_are_reassembled() {
    let mut r = Rig::new(base());
    let (_, p, _) = r.out4(&udp6(C1, 4000, R1, 53, b"q"), at(1));
    let (s, d) = (v4(R1), v4(P4));
    let payload: Vec<u8> = (100u8..140).collect();
    let l4 = udp(Ips::V4(s, d), 53, p, &payload);
    let frag = |off: usize, end: usize, mf: bool| {
        let mut h = V4::new(s, d, UDP);
        h.id = 0x4242;
        h.mf = mf;
        h.frag_off = (off / 8) as u16;
        h.build(&l4[off..end])
    };
    let (f1, f2, f3) = (frag(0, 24, true), frag(24, 40, true), frag(40, 48, false));
    assert_eq!(r.send(&f3, at(2)), Verdict::Held(Held::Fragment));
    assert_eq!(r.send(&f1, at(2)), Verdict::Held(Held::Fragment));
    let (o, sp, dp) = r.out6(&f2, at(2));
    assert_eq!((o.proto, o.src, o.dst, sp, dp), (UDP, p6(R1), v6(C1), 53, 4000));
    assert!(o.frag.is_none_or(|(off, mf, _)| off == 0 && !mf), "{:?}", o.frag);
    assert_eq!(&o.payload[8..], &payload[..]);
}

/// Reassembly runs on virtual time: an incomplete datagram is abandoned by
/// the poll at its timeout (15 s by default), not before, and a late
/// fragment does not complete it.
#[test]
fn s3_4_fragment_timeout() {
    let mut r = Rig::new(base());
    let (s, d) = (v6(C1), p6(R1));
    let l4 = udp(Ips::V6(s, d), 4000, 53, &[7u8; 24]);
    let frag = |off: usize, end: usize, mf: bool| {
        V6::new(s, d).build_ext(
            &[Ext::Fragment {
                offset: (off / 8) as u16,
                mf,
                id: 77,
            }],
            UDP,
            &l4[off..end],
        )
    };
    assert_eq!(r.send(&frag(0, 16, true), at(10)), Verdict::Held(Held::Fragment));
    assert_eq!(r.nat.reassembly_stats().in_progress, 1);
    assert_eq!(r.nat.next_expiry(), Some(at(25)));
    r.poll(before(25));
    assert_eq!(r.nat.reassembly_stats().timed_out, 0);
    assert_eq!(r.nat.reassembly_stats().in_progress, 1);
    r.poll(at(25));
    let st = r.nat.reassembly_stats();
    assert_eq!((st.timed_out, st.in_progress), (1, 0));
    assert_eq!(r.send(&frag(16, 32, false), at(26)), Verdict::Held(Held::Fragment));
    let st = r.nat.stats();
    assert_eq!((st.sessions, st.bib_entries), (0, 0));

    // The same on the IPv4 side, with a configured timeout.
    let mut cfg = base();
    cfg.reassembly.timeout = Duration::from_secs(3);
    let mut r = Rig::new(cfg);
    let mut h = V4::new(v4(R1), v4(P4), UDP);
    h.mf = true;
    let f = h.build(&udp(Ips::V4(v4(R1), v4(P4)), 53, 6000, &[1u8; 16])[..16]);
    assert_eq!(r.send(&f, at(1)), Verdict::Held(Held::Fragment));
    r.poll(at(4));
    assert_eq!(r.nat.reassembly_stats().timed_out, 1);
}

// ============================================================= inspection

/// `for_each_session` with its filters, `for_each_bib`, and `stats`.
#[test]
fn inspection_filters_and_stats() {
    let mut r = Rig::new(base());
    r.out4(&udp6(C1, 4000, R1, 53, b"q"), at(1));
    r.out4(&udp6(C1, 4000, R2, 53, b"q"), at(2));
    r.out4(&udp6(C2, 4000, R1, 53, b"q"), at(3));
    let (_, tp, _) = r.out4(&tcp6(C1, 5000, R1, 80, SYN), at(4));
    let (_, id, _) = r.out4(&echo6(C2, R1, 77, 1), at(5));

    let st = r.nat.stats();
    assert_eq!(
        (st.sessions, st.bib_entries, st.pool4_size, st.held_syns),
        (5, 4, [1000, 1000, 1000], 0)
    );
    let f = |proto, client: Option<&str>| SessionFilter {
        proto,
        client: client.map(v6),
    };
    assert_eq!(r.sessions(f(Some(Proto::Udp), None)).len(), 3);
    assert_eq!(r.sessions(f(None, Some(C1))).len(), 3);
    assert_eq!(r.sessions(f(Some(Proto::Udp), Some(C2))).len(), 1);
    assert_eq!(r.sessions(f(None, Some("2001:db8::dead"))).len(), 0);

    let tcp = r.sessions(f(Some(Proto::Tcp), Some(C1)));
    assert_eq!(tcp.len(), 1);
    let s = tcp[0];
    assert_eq!(
        (s.v6, s.v4, s.remote, s.state, s.expires),
        (
            t6(C1, 5000),
            t4(P4, tp),
            t4(R1, 80),
            TcpState::V6Init,
            at(4 + TCP_TRANS)
        )
    );
    let icmp = r.sessions(f(Some(Proto::Icmp), None));
    assert_eq!(icmp.len(), 1);
    let s = icmp[0];
    assert_eq!(
        (s.v6, s.v4, s.remote.addr, s.state, s.expires),
        (t6(C2, 77), t4(P4, id), v4(R1), TcpState::None, at(5 + ICMP_DEFAULT))
    );
    let udp_c1 = r.sessions(f(Some(Proto::Udp), Some(C1)));
    assert_eq!(udp_c1.iter().map(|s| s.expires).collect::<Vec<_>>(), [at(301), at(302)]);
    assert!(udp_c1.iter().all(|s| s.state == TcpState::None && s.v4 == udp_c1[0].v4));

    assert_eq!(r.bibs(Some(Proto::Udp)).len(), 2);
    assert_eq!(r.bibs(Some(Proto::Tcp)).len(), 1);
    assert_eq!(r.bibs(None).len(), 4);
    assert_eq!(r.nat.next_expiry(), Some(at(5 + ICMP_DEFAULT)));
    r.poll(at(5 + ICMP_DEFAULT));
    assert_eq!(r.nat.stats().bib_entries, 3);
}

// =================================================================== misc

/// RFC 6146 section 3.5.3: drop_icmpv6_info drops IPv6 pings; protocols
/// without a BIB are dropped; traffic outside pool6 is handed back.
#[test]
fn s3_5_3_filters_and_unsupported_protocols() {
    let mut cfg = base();
    cfg.drop_icmpv6_info = true;
    let mut r = Rig::new(cfg);
    assert_eq!(
        r.send(&echo6(C1, R1, 1, 1), at(1)),
        Verdict::Dropped(DropReason::Icmpv6InfoFiltered)
    );
    // Section 3.4: protocols without a BIB are answered, ICMPv6 1/4 and
    // ICMPv4 3/2 (protocol unreachable), as Jool does.
    let (s, d) = (v6(C1), p6(R1));
    let gre = V6::new(s, d).build(47, &[0u8; 8]);
    let e = r.icmp(&gre, at(1), DropReason::UnsupportedProtocol);
    assert_icmp6(&e, 1, 4, v6(OWN6), v6(C1), &gre);
    let sctp = V4::new(v4(R1), v4(P4), 132).build(&[0u8; 12]);
    let e = r.icmp(&sctp, at(1), DropReason::UnsupportedProtocol);
    assert_icmp4(&e, 3, 2, OWN4, R1, &sctp);
    assert_eq!(r.drops(DropReason::UnsupportedProtocol), 2);
    let elsewhere = V6::new(s, v6("2001:db8:99::1")).build(UDP, &udp(Ips::V6(s, v6("2001:db8:99::1")), 1, 2, b""));
    assert_eq!(
        r.send(&elsewhere, at(1)),
        Verdict::NotOurs(NotOurs::DestinationNotMapped)
    );
    assert_eq!(r.nat.stats().bib_entries, 0);
}

/// RFC 6146 section 3.5: an IPv6 source under pool6 is discarded on every
/// path, not only when hairpinned (it used to get a binding when `clients`
/// let it through).
#[test]
fn s3_5_source_under_pool6_is_discarded() {
    let mut r = Rig::new(base());
    let (s, d) = (p6("203.0.113.9"), p6(R1));
    let pkt = V6::new(s, d).build(UDP, &udp(Ips::V6(s, d), 5000, 53, b"disguised"));
    assert_eq!(r.send(&pkt, at(1)), Verdict::Dropped(DropReason::SourceInPool6));
    let tcp = V6::new(s, d).build(TCP, &tcp_seg(Ips::V6(s, d), 5000, 80, SYN));
    assert_eq!(r.send(&tcp, at(1)), Verdict::Dropped(DropReason::SourceInPool6));
    assert_eq!(r.drops(DropReason::SourceInPool6), 2);
    let st = r.nat.stats();
    assert_eq!((st.sessions, st.bib_entries), (0, 0));
}

/// RFC 6146 section 3.4: an IPv4 UDP datagram without a checksum gets one
/// computed by default (a stateful NAT64 reassembles, so it can), fragmented
/// or not; `forward_udp_checksum_zero` keeps the zero.
#[test]
fn s3_4_ipv4_udp_checksum_zero_is_computed() {
    let mut r = Rig::new(base());
    let (_, p, _) = r.out4(&udp6(C1, 4000, R1, 53, b"query"), at(1));
    let mut pkt = udp4(R1, 53, P4, p, b"answer with no checksum");
    zero_udp4_checksum(&mut pkt);
    let (s6, sport, dport) = r.out6(&pkt, at(2));
    assert_eq!((sport, dport), (53, 4000));
    assert_ne!(
        be16(&s6.payload, 6),
        0,
        "a checksum was computed (check_v6 verified it)"
    );
    // Fragmented: reassembled, then computed.
    let mut big = udp4(R1, 53, P4, p, &[7u8; 600]);
    zero_udp4_checksum(&mut big);
    let (a, b) = frag4(&big, 256);
    assert_eq!(r.send(&a, at(3)), Verdict::Held(Held::Fragment));
    let (s6, _, _) = r.out6(&b, at(3));
    assert_eq!(s6.payload.len(), 8 + 600);
    assert_ne!(be16(&s6.payload, 6), 0);
    // forward_udp_checksum_zero: unchanged.
    let mut cfg = base();
    cfg.xlat.forward_udp_checksum_zero = true;
    let mut r = Rig::new(cfg);
    let (_, p, _) = r.out4(&udp6(C1, 4000, R1, 53, b"query"), at(1));
    let mut pkt = udp4(R1, 53, P4, p, b"tunnel");
    zero_udp4_checksum(&mut pkt);
    let out = r.xlat(&pkt, at(2), Direction::FourToSix);
    assert_eq!(be16(&out[40..], 6), 0);
    assert_eq!(be16(&out[40..], 2), 4000, "the port is still rewritten");
}

/// RFC 8200 section 8.1 in the stateful NAT64: IPv6 UDP with checksum 0 is
/// dropped (it would leave with a wrong IPv4 checksum), unless forwarded.
#[test]
fn s3_4_ipv6_udp_checksum_zero_is_dropped() {
    let mut r = Rig::new(base());
    let mut pkt = udp6(C1, 4000, R1, 53, b"bad");
    pkt[40 + 6] = 0;
    pkt[40 + 7] = 0;
    assert_eq!(r.send(&pkt, at(1)), Verdict::Dropped(DropReason::Ipv6UdpChecksumZero));
    let st = r.nat.stats();
    assert_eq!((st.sessions, st.bib_entries), (0, 0), "no binding taken for it");
    let mut cfg = base();
    cfg.xlat.forward_udp_checksum_zero = true;
    let mut r = Rig::new(cfg);
    let out = r.xlat(&pkt, at(1), Direction::SixToFour);
    assert_eq!(be16(&out[20..], 6), 0);
}

fn zero_udp4_checksum(pkt: &mut [u8]) {
    let hl = usize::from(pkt[0] & 15) * 4;
    pkt[hl + 6] = 0;
    pkt[hl + 7] = 0;
}

/// Splits an unfragmented IPv4 packet in two fragments at `at` payload bytes
/// (a multiple of 8), with fresh header checksums.
fn frag4(pkt: &[u8], at: usize) -> (Vec<u8>, Vec<u8>) {
    let hl = usize::from(pkt[0] & 15) * 4;
    let body = &pkt[hl..];
    let mk = |part: &[u8], off: usize, mf: bool| {
        let mut h = pkt[..hl].to_vec();
        h[2..4].copy_from_slice(&((hl + part.len()) as u16).to_be_bytes());
        h[4..6].copy_from_slice(&0x4242u16.to_be_bytes());
        let fo = (off / 8) as u16 | if mf { 0x2000 } else { 0 };
        h[6..8].copy_from_slice(&fo.to_be_bytes());
        h[10..12].copy_from_slice(&[0, 0]);
        let c = inet_checksum(&[&h]);
        h[10..12].copy_from_slice(&c.to_be_bytes());
        h.extend_from_slice(part);
        h
    };
    (mk(&body[..at], 0, true), mk(&body[at..], at, false))
}
