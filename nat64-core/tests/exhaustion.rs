//! Exhaustion: floods of new flows and of fragments against the stateful
//! NAT64, at virtual time, checking that the table stays within its caps
//! (`TableLimits`, `ReassemblyLimits`), that the per-client quota keeps the
//! other clients' new sessions succeeding, that established sessions
//! survive, and that every packet is counted under a verdict.
//!
//! The always-on tests flood with 200 000 flows (fast enough in a debug
//! build); the `#[ignore]`d `*_10m` ones with 10 million, for release
//! builds:
//!
//! ```sh
//! cargo test --release -p nat64-core --test exhaustion -- --ignored
//! ```

mod common;

use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use common::*;
use nat64_core::nat64::{Instant, Nat64, Nat64Config, Pool4Entry, ReassemblyLimits, TableLimits};
use nat64_core::{Counters, Direction, DropReason, Held, Verdict};

const SMALL: u64 = 200_000;
const BIG: u64 = 10_000_000;

/// Session cap, and quota per client.
const MAX_SESSIONS: usize = 100_000;
const QUOTA: usize = 64;
/// Legitimate clients with sessions established before the flood.
const LEGIT: u16 = 200;
/// Bytes per session the table may use: the module documentation's 123
/// bytes, doubled for a table grown by inserts, rounded up.
const BYTES_PER_SESSION: usize = 256;

fn pool4() -> Vec<Pool4Entry> {
    // 4 addresses x 64 512 ports per protocol: room for the cap.
    let mut e = Pool4Entry::new("192.0.2.0/30".parse().unwrap());
    e.first_port = 1024;
    e.last_port = 65535;
    vec![e]
}

fn config(client_prefix_len: u8) -> Nat64Config {
    let mut c = Nat64Config::new("64:ff9b::/96".parse().unwrap(), pool4());
    // The remotes are documentation addresses.
    c.xlat.wkp_forbids_non_global = false;
    c.xlat.own_ipv4 = Some(v4("192.0.2.254"));
    c.xlat.own_ipv6 = Some(v6("2001:db8:ffff::1"));
    c.limits = TableLimits {
        max_sessions: MAX_SESSIONS,
        max_sessions_per_client: QUOTA,
        client_prefix_len,
    };
    c
}

/// The IPv6 address of legitimate client `i` (each in its own /64).
fn legit(i: u16) -> Ipv6Addr {
    let mut o = v6("2001:db8:100::1").octets();
    o[6..8].copy_from_slice(&i.to_be_bytes());
    Ipv6Addr::from(o)
}

/// A UDP packet from `src` to IPv4 `remote` (through pool6) that the flood
/// loop rewrites in place: source address at 8..24, remote at 36..40,
/// source port at 40..42. The translator does not verify UDP checksums
/// (it updates them), so the rewritten packets need no new one.
fn udp_template(src: Ipv6Addr, remote: Ipv4Addr) -> Vec<u8> {
    let d = embed(v6("64:ff9b::"), 96, remote);
    V6::new(src, d).build(UDP, &udp(Ips::V6(src, d), 1, 53, b"flood"))
}

fn tcp_seg(src: Ipv6Addr, remote: Ipv4Addr, sport: u16, flags: u8) -> Vec<u8> {
    let d = embed(v6("64:ff9b::"), 96, remote);
    let mut t = tcp(Ips::V6(src, d), sport, 443, 1, b"");
    t[13] = flags;
    t[16] = 0;
    t[17] = 0;
    let c = inet_checksum(&[&Ips::V6(src, d).pseudo(TCP, t.len()), &t]);
    t[16..18].copy_from_slice(&c.to_be_bytes());
    V6::new(src, d).build(TCP, &t)
}

fn tcp4_seg(remote: Ipv4Addr, pool: Ipv4Addr, dport: u16, flags: u8) -> Vec<u8> {
    let mut t = tcp(Ips::V4(remote, pool), 443, dport, 1, b"");
    t[13] = flags;
    t[16] = 0;
    t[17] = 0;
    let c = inet_checksum(&[&Ips::V4(remote, pool).pseudo(TCP, t.len()), &t]);
    t[16..18].copy_from_slice(&c.to_be_bytes());
    V4::new(remote, pool, TCP).build(&t)
}

fn udp4_pkt(remote: Ipv4Addr, pool: Ipv4Addr, dport: u16) -> Vec<u8> {
    V4::new(remote, pool, UDP).build(&udp(Ips::V4(remote, pool), 53, dport, b"reply"))
}

/// One established TCP connection and one UDP flow of a legitimate client:
/// their pool4 transport addresses.
struct Legit {
    client: Ipv6Addr,
    tcp4: (Ipv4Addr, u16),
    udp4: (Ipv4Addr, u16),
}

const REMOTE: &str = "203.0.113.80";

struct Rig {
    nat: Nat64,
    out: Vec<u8>,
    sent: u64,
    now_us: u64,
}

impl Rig {
    fn new(cfg: Nat64Config) -> Rig {
        Rig {
            nat: Nat64::new(cfg).unwrap(),
            out: vec![0; OUT_LEN],
            sent: 0,
            now_us: 1_000_000,
        }
    }
    fn now(&self) -> Instant {
        Instant::from_micros(self.now_us)
    }
    fn send(&mut self, p: &[u8]) -> Verdict {
        self.sent += 1;
        let now = self.now();
        self.nat.translate(p, &mut self.out, now)
    }
    /// Sends and expects one translated packet; returns its IPv4 source
    /// transport address (for 6->4).
    fn out4(&mut self, p: &[u8]) -> (Ipv4Addr, u16) {
        match self.send(p) {
            Verdict::Translated(e) if e.direction == Direction::SixToFour => {
                let o = &self.out;
                (Ipv4Addr::new(o[12], o[13], o[14], o[15]), be16(o, 20))
            }
            other => panic!("expected a 6->4 translation, got {other:?}"),
        }
    }
    fn open(&mut self, i: u16) -> Legit {
        let client = legit(i);
        let remote = v4(REMOTE);
        let tcp4 = self.out4(&tcp_seg(client, remote, 5000, 0x02));
        let synack = tcp4_seg(remote, tcp4.0, tcp4.1, 0x12);
        assert!(matches!(self.send(&synack), Verdict::Translated(_)));
        self.out4(&tcp_seg(client, remote, 5000, 0x10));
        let mut u = udp_template(client, remote);
        u[40..42].copy_from_slice(&6000u16.to_be_bytes());
        fix_udp(&mut u);
        let udp4 = self.out4(&u);
        Legit { client, tcp4, udp4 }
    }
    /// The legitimate client's UDP flow, both ways (keeps it alive).
    fn keepalive(&mut self, l: &Legit) -> bool {
        let mut u = udp_template(l.client, v4(REMOTE));
        u[40..42].copy_from_slice(&6000u16.to_be_bytes());
        fix_udp(&mut u);
        let a = matches!(self.send(&u), Verdict::Translated(_));
        let b = matches!(
            self.send(&udp4_pkt(v4(REMOTE), l.udp4.0, l.udp4.1)),
            Verdict::Translated(_)
        );
        a && b
    }
    /// The established TCP connection and the UDP flow still translate
    /// both ways.
    fn alive(&mut self, l: &Legit) -> bool {
        let a = matches!(
            self.send(&tcp_seg(l.client, v4(REMOTE), 5000, 0x18)),
            Verdict::Translated(_)
        );
        let b = matches!(
            self.send(&tcp4_seg(v4(REMOTE), l.tcp4.0, l.tcp4.1, 0x18)),
            Verdict::Translated(_)
        );
        a && b && self.keepalive(l)
    }
    /// Every packet sent has exactly one verdict in the counters.
    fn assert_all_counted(&self) {
        let c: &Counters = self.nat.counters();
        let total = c.translated_6to4
            + c.translated_4to6
            + c.hairpinned
            + c.dropped.iter().sum::<u64>()
            + c.not_ours.iter().sum::<u64>()
            + c.held;
        // ICMP errors are counted under their reason too.
        assert_eq!(total, self.sent, "packets sent vs counted");
    }
    fn assert_within_caps(&self) {
        let st = self.nat.stats();
        assert!(st.sessions <= MAX_SESSIONS, "{} sessions", st.sessions);
        assert!(st.bib_entries <= MAX_SESSIONS, "{} BIB entries", st.bib_entries);
        let bytes = self.nat.table().heap_bytes();
        assert!(
            bytes <= MAX_SESSIONS * BYTES_PER_SESSION + (1 << 20),
            "the table holds {bytes} bytes for a cap of {MAX_SESSIONS} sessions"
        );
    }
}

/// Recomputes the UDP checksum of an IPv6 packet built by `udp_template`.
fn fix_udp(p: &mut [u8]) {
    let (s, d) = (addr6(&p[8..24]), addr6(&p[24..40]));
    p[46] = 0;
    p[47] = 0;
    let c = inet_checksum(&[&Ips::V6(s, d).pseudo(UDP, p.len() - 40), &p[40..]]);
    p[46..48].copy_from_slice(&c.to_be_bytes());
}

fn addr6(b: &[u8]) -> Ipv6Addr {
    let mut o = [0u8; 16];
    o.copy_from_slice(b);
    Ipv6Addr::from(o)
}

/// How flooding clients are chosen.
#[derive(Clone, Copy, Debug)]
enum Attack {
    /// One address.
    OneClient,
    /// 1 000 addresses, each its own /64: each is held to the quota (1 000
    /// quotas fit in the table).
    ManyClients,
    /// Every flow from another address of one /64, with clients counted
    /// per /64: the /64 is held to the quota.
    OneSlash64,
}

/// The flood: `flows` new UDP flows (each a new source port or remote), 10
/// per virtual millisecond, so that UDP sessions of the flood start to
/// expire (5 min) during a long run. Every 1 000 flood packets a
/// legitimate client opens a new flow; every virtual minute the
/// established flows exchange a packet each way.
fn flood(attack: Attack, flows: u64) {
    let prefix_len = match attack {
        Attack::OneSlash64 => 64,
        _ => 128,
    };
    let mut r = Rig::new(config(prefix_len));
    let legit_flows: Vec<Legit> = (0..LEGIT).map(|i| r.open(i)).collect();
    let base = v6("2001:db8:bad::1");
    let mut pkt = udp_template(base, v4("198.51.100.1"));
    let (mut fresh_ok, mut fresh) = (0u64, 0u64);
    let mut next_keepalive = r.now_us + 60_000_000;
    for n in 0..flows {
        r.now_us += 100;
        // A new flow: source port and remote change; the address as the
        // attack says.
        pkt[40..42].copy_from_slice(&((n % 64_000) as u16 + 1024).to_be_bytes());
        pkt[38..40].copy_from_slice(&((n / 64_000) as u16).to_be_bytes());
        match attack {
            Attack::OneClient => {}
            Attack::ManyClients => pkt[14..16].copy_from_slice(&((n % 1000) as u16).to_be_bytes()),
            Attack::OneSlash64 => pkt[16..24].copy_from_slice(&n.to_be_bytes()),
        }
        let v = r.send(&pkt);
        assert!(
            matches!(
                v,
                Verdict::Translated(_)
                    | Verdict::Dropped(DropReason::ClientQuota)
                    | Verdict::Dropped(DropReason::SessionTableFull)
                    | Verdict::Dropped(DropReason::Pool4Exhausted)
            ),
            "flood packet {n}: {v:?}"
        );
        if n % 1000 == 999 {
            // A legitimate client's new flow.
            fresh += 1;
            let l = &legit_flows[(n / 1000 % u64::from(LEGIT)) as usize];
            let mut u = udp_template(l.client, v4("203.0.113.90"));
            u[40..42].copy_from_slice(&((n / 1000 / u64::from(LEGIT)) as u16 + 7000).to_be_bytes());
            fix_udp(&mut u);
            if matches!(r.send(&u), Verdict::Translated(_)) {
                fresh_ok += 1;
            }
        }
        if r.now_us >= next_keepalive {
            next_keepalive += 60_000_000;
            for l in &legit_flows {
                assert!(r.keepalive(l), "an established flow was lost during the flood");
            }
            r.assert_within_caps();
        }
        if n % 100_000 == 0 {
            r.assert_within_caps();
        }
    }
    r.assert_within_caps();
    for l in &legit_flows {
        assert!(r.alive(l), "an established session did not survive the flood");
    }
    assert!(
        fresh_ok * 100 >= fresh * 99,
        "{attack:?}: {fresh_ok} of {fresh} new flows of other clients succeeded"
    );
    r.assert_all_counted();
    let c = r.nat.counters();
    let refused = c.drops(DropReason::ClientQuota) + c.drops(DropReason::SessionTableFull);
    assert!(
        refused > 0 || flows < QUOTA as u64,
        "{attack:?}: the flood was never refused"
    );
    // What a flooding client holds.
    let st = r.nat.stats();
    eprintln!(
        "{attack:?}, {flows} flows: {} sessions, {} BIB entries, {} bytes of table; refused: quota {}, table full {}, \
         pool4 {}; new flows of others {fresh_ok}/{fresh}",
        st.sessions,
        st.bib_entries,
        r.nat.table().heap_bytes(),
        c.drops(DropReason::ClientQuota),
        c.drops(DropReason::SessionTableFull),
        c.drops(DropReason::Pool4Exhausted),
    );
}

#[test]
fn flood_one_client() {
    flood(Attack::OneClient, SMALL);
}

#[test]
fn flood_many_clients() {
    flood(Attack::ManyClients, SMALL);
}

#[test]
fn flood_one_slash64_with_rotating_addresses() {
    flood(Attack::OneSlash64, SMALL);
}

#[test]
#[ignore = "10 million flows: run in release (see the module documentation)"]
fn flood_one_client_10m() {
    flood(Attack::OneClient, BIG);
}

#[test]
#[ignore = "10 million flows: run in release (see the module documentation)"]
fn flood_many_clients_10m() {
    flood(Attack::ManyClients, BIG);
}

#[test]
#[ignore = "10 million flows: run in release (see the module documentation)"]
fn flood_one_slash64_with_rotating_addresses_10m() {
    flood(Attack::OneSlash64, BIG);
}

/// A flood from more clients than the quota can hold back (every flow from
/// its own /64): the table fills to its cap and stays there, new sessions
/// are refused as `session_table_full` and counted, established sessions
/// keep working, and once the flood's sessions expire new ones succeed
/// again.
#[test]
fn flood_beyond_the_cap() {
    let mut r = Rig::new(config(64));
    let legit_flows: Vec<Legit> = (0..LEGIT).map(|i| r.open(i)).collect();
    let mut pkt = udp_template(v6("2001:db8:bad::1"), v4("198.51.100.1"));
    let flows = 2 * MAX_SESSIONS as u64;
    for n in 0..flows {
        r.now_us += 10;
        pkt[8..16].copy_from_slice(&(0x2001_0db8_8000_0000u64 + n).to_be_bytes());
        let v = r.send(&pkt);
        assert!(
            matches!(
                v,
                Verdict::Translated(_) | Verdict::Dropped(DropReason::SessionTableFull)
            ),
            "{v:?}"
        );
    }
    r.assert_within_caps();
    assert_eq!(r.nat.stats().sessions, MAX_SESSIONS, "the table is full");
    let full = r.nat.counters().drops(DropReason::SessionTableFull);
    assert!(full >= flows - MAX_SESSIONS as u64, "{full} refused");
    for l in &legit_flows {
        assert!(r.alive(l), "an established session did not survive");
    }
    // A new client is refused now, and welcome once the flood has expired.
    let mut u = udp_template(v6("2001:db8:600d::1"), v4("203.0.113.90"));
    fix_udp(&mut u);
    assert_eq!(r.send(&u), Verdict::Dropped(DropReason::SessionTableFull));
    r.now_us += 301_000_000;
    assert!(
        matches!(r.send(&u), Verdict::Translated(_)),
        "new sessions after the flood expired"
    );
    r.assert_all_counted();
}

/// Fragment floods: first fragments of datagrams that never complete, from
/// many sources, fill the reassembly memory up to its bound and no further;
/// the excess is refused and counted; after the timeout the memory is free
/// and a legitimate fragmented datagram goes through.
fn fragment_flood(n: u64) {
    let mut cfg = config(128);
    let limits = ReassemblyLimits {
        max_bytes: 256 << 10,
        max_datagrams: 128,
        timeout: Duration::from_secs(15),
        max_fragments_per_datagram: 16,
        hash_seed: 7,
    };
    cfg.reassembly = limits;
    let mut r = Rig::new(cfg);
    let remote = v4("198.51.100.1");
    let d = embed(v6("64:ff9b::"), 96, remote);
    let src = v6("2001:db8:bad::1");
    let l4 = udp(Ips::V6(src, d), 1, 53, &[0x5a; 1200]);
    let mut frag = V6::new(src, d).build_ext(
        &[Ext::Fragment {
            offset: 0,
            mf: true,
            id: 0,
        }],
        UDP,
        &l4[..1200],
    );
    let (mut held, mut refused) = (0u64, 0u64);
    for i in 0..n {
        r.now_us += 50;
        // A new datagram: identification and source change.
        frag[44..48].copy_from_slice(&(i as u32).to_be_bytes());
        frag[22..24].copy_from_slice(&((i % 4096) as u16).to_be_bytes());
        match r.send(&frag) {
            Verdict::Held(Held::Fragment) => held += 1,
            Verdict::Dropped(DropReason::FragmentReassembly) => refused += 1,
            other => panic!("fragment {i}: {other:?}"),
        }
        if i % 1000 == 0 {
            let st = r.nat.reassembly_stats();
            assert!(
                st.bytes_buffered <= limits.max_bytes,
                "{} bytes buffered",
                st.bytes_buffered
            );
            assert!(st.in_progress <= limits.max_datagrams, "{} datagrams", st.in_progress);
        }
    }
    let st = r.nat.reassembly_stats();
    assert!(st.bytes_buffered <= limits.max_bytes);
    assert!(refused > 0, "the flood never hit the bound");
    assert_eq!(
        st.dropped_memory, refused,
        "refusals are counted as reassembly memory drops"
    );
    assert_eq!(held + refused, n);
    assert_eq!(
        st.timed_out + st.in_progress as u64,
        held,
        "every held datagram times out or is in progress"
    );
    // After the timeout: memory free, and a legitimate datagram in two
    // fragments is reassembled and translated.
    r.now_us += 16_000_000;
    let now = r.now();
    let _ = r.nat.poll(now, &mut vec![0; OUT_LEN]);
    let st = r.nat.reassembly_stats();
    assert_eq!((st.bytes_buffered, st.in_progress), (0, 0), "memory after the timeout");
    let good = v6("2001:db8:600d::1");
    let l4 = udp(Ips::V6(good, d), 7, 53, &[1; 600]);
    let a = V6::new(good, d).build_ext(
        &[Ext::Fragment {
            offset: 0,
            mf: true,
            id: 99,
        }],
        UDP,
        &l4[..304],
    );
    let b = V6::new(good, d).build_ext(
        &[Ext::Fragment {
            offset: 304 / 8,
            mf: false,
            id: 99,
        }],
        UDP,
        &l4[304..],
    );
    assert_eq!(r.send(&a), Verdict::Held(Held::Fragment));
    assert!(matches!(r.send(&b), Verdict::Translated(_)));
    r.assert_all_counted();
}

#[test]
fn fragment_flood_stays_within_the_reassembly_bound() {
    fragment_flood(50_000);
}

#[test]
#[ignore = "10 million fragments: run in release (see the module documentation)"]
fn fragment_flood_10m() {
    fragment_flood(BIG);
}
