//! `Nat64::reconfigure`: a new configuration over the same BIB and session
//! tables (RFC 6146 sections 3.1, 3.2 and 3.5), and its report of what went.
//! Packets are built by hand (`common`), the translations read back with
//! etherparse.

mod common;

use std::net::Ipv6Addr;
use std::time::Duration;

use common::*;
use nat64_core::nat64::{
    Bib, Instant, Nat64, Nat64Config, Nat64ConfigError, Pool4Entry, Proto, ReconfigureReport, SessionFilter,
    TableLimits, Taddr4, Taddr6,
};
use nat64_core::{Held, Verdict};

const POOL6: &str = "2001:db8:64::";
const C1: &str = "2001:db8:1::2";
const C2: &str = "2001:db8:1::3";
const R1: &str = "203.0.113.2";

fn p6(a: &str) -> Ipv6Addr {
    embed(v6(POOL6), 96, v4(a))
}

fn config(pool6: &str, pool4: &str) -> Nat64Config {
    let mut e = Pool4Entry::new(pool4.parse().unwrap());
    e.first_port = 1000;
    e.last_port = 1999;
    let mut cfg = Nat64Config::new(pool6.parse().unwrap(), vec![e]);
    cfg.xlat.wkp_forbids_non_global = false;
    cfg
}

fn base() -> Nat64Config {
    config("2001:db8:64::/96", "198.51.100.0/30")
}

fn udp6(src: &str, sport: u16) -> Vec<u8> {
    let (s, d) = (v6(src), p6(R1));
    V6::new(s, d).build(UDP, &udp(Ips::V6(s, d), sport, 8080, b"ping"))
}

/// Sends a UDP packet from `src`#`sport`; returns the pool4 transport
/// address the translation left from (read with etherparse).
fn send(n: &mut Nat64, src: &str, sport: u16) -> Taddr4 {
    let mut out = vec![0u8; OUT_LEN];
    let v = n.translate(&udp6(src, sport), &mut out, Instant::from_secs(10));
    let Verdict::Translated(e) = v else { panic!("{v:?}") };
    let seen = check_v4(&out[..e.total_len()]);
    Taddr4 {
        addr: seen.src,
        port: be16(&seen.payload, 0),
    }
}

fn sessions(n: &Nat64) -> Vec<(Taddr6, Taddr4)> {
    let mut all = Vec::new();
    n.for_each_session(SessionFilter::default(), &mut |s| all.push((s.v6, s.v4)));
    all.sort();
    all
}

fn static_bib(client: &str, cport: u16, v4a: &str, port: u16) -> Bib {
    Bib {
        proto: Proto::Udp,
        v6: Taddr6 {
            addr: v6(client),
            port: cport,
        },
        v4: Taddr4 { addr: v4(v4a), port },
        is_static: true,
    }
}

#[test]
fn a_new_timeout_keeps_every_session_and_the_counters() {
    let mut n = Nat64::new(base()).unwrap();
    let a = send(&mut n, C1, 5000);
    let mut cfg = base();
    cfg.timeouts.icmp = Duration::from_secs(5);
    let r = n.reconfigure(cfg).unwrap();
    assert_eq!(r, ReconfigureReport::default());
    assert_eq!(n.config().timeouts.icmp, Duration::from_secs(5));
    assert_eq!(n.stats().sessions, 1);
    // The counters carry on, and the flow keeps its binding.
    assert_eq!(n.counters().translated_6to4, 1);
    assert_eq!(send(&mut n, C1, 5000), a);
    assert_eq!(n.counters().translated_6to4, 2);
    assert_eq!(n.stats().sessions, 1);
}

#[test]
fn s3_5_bindings_outside_the_new_pool4_go_the_others_stay() {
    let mut cfg = base();
    cfg.pool4.push({
        let mut e = Pool4Entry::new("198.51.100.8/30".parse().unwrap());
        e.first_port = 1000;
        e.last_port = 1999;
        e
    });
    let mut n = Nat64::new(cfg).unwrap();
    // Enough clients that both pool4 prefixes are in use (a client keeps
    // one pool4 address, RFC 6146 section 3.5.1.1's paired pooling).
    let clients: Vec<String> = (1..=32).map(|i| format!("2001:db8:1::{i:x}")).collect();
    let mut bound = Vec::new();
    for c in &clients {
        bound.push(send(&mut n, c, 5000));
    }
    let outside = bound.iter().filter(|t| t.addr.octets()[3] < 8).count();
    assert!(outside > 0 && outside < bound.len(), "{bound:?}");
    let r = n.reconfigure(config("2001:db8:64::/96", "198.51.100.8/30")).unwrap();
    assert!(r.pool4_changed && !r.pool6_changed);
    assert_eq!(r.removed_bibs.len(), outside, "{r:?}");
    assert_eq!(r.removed_sessions, outside);
    assert!(r.removed_bibs.iter().all(|b| b.v4.addr.octets()[3] < 8 && !b.is_static));
    let left = sessions(&n);
    assert_eq!(left.len(), bound.len() - outside);
    assert!(left.iter().all(|(_, t)| t.addr.octets()[3] >= 8), "{left:?}");
    // A removed flow binds again, inside the new pool4.
    let gone = bound.iter().position(|t| t.addr.octets()[3] < 8).unwrap();
    let again = send(&mut n, &clients[gone], 5000);
    assert!(again.addr.octets()[3] >= 8, "{again}");
}

#[test]
fn s3_5_1_1_a_new_pool6_flushes_the_dynamic_entries_not_the_static_ones() {
    let mut cfg = base();
    cfg.static_bib = vec![static_bib(C2, 53, "198.51.100.1", 53)];
    let mut n = Nat64::new(cfg.clone()).unwrap();
    send(&mut n, C1, 5000);
    send(&mut n, C1, 5001);
    send(&mut n, C2, 53);
    assert_eq!(n.stats().sessions, 3);
    let mut new = config("2001:db8:65::/96", "198.51.100.0/30");
    new.static_bib = cfg.static_bib.clone();
    let r = n.reconfigure(new).unwrap();
    assert!(r.pool6_changed && !r.pool4_changed);
    assert_eq!(r.removed_bibs.len(), 2, "{r:?}");
    assert_eq!(r.removed_sessions, 2);
    // The static entry and its session stay.
    assert_eq!(sessions(&n), vec![(cfg.static_bib[0].v6, cfg.static_bib[0].v4)]);
    let mut bibs = Vec::new();
    n.for_each_bib(None, &mut |b| bibs.push(*b));
    assert_eq!(bibs, cfg.static_bib);
}

#[test]
fn s3_1_static_entries_removed_added_and_dynamic_ones_give_way() {
    let mut cfg = base();
    cfg.static_bib = vec![static_bib(C2, 53, "198.51.100.1", 53)];
    let mut n = Nat64::new(cfg).unwrap();
    let dynamic = send(&mut n, C1, 5000);
    send(&mut n, C2, 53);
    // The old static entry is no longer configured; a new one takes the
    // dynamic binding's IPv6 transport address.
    let mut new = base();
    let published = static_bib(C1, 5000, "198.51.100.2", 80);
    new.static_bib = vec![published];
    let r = n.reconfigure(new).unwrap();
    assert!(!r.pool4_changed && !r.pool6_changed);
    let mut removed = r.removed_bibs.clone();
    removed.sort_by_key(|b| b.is_static);
    assert_eq!(removed.len(), 2, "{r:?}");
    assert_eq!((removed[0].v4, removed[0].is_static), (dynamic, false));
    assert_eq!(removed[1], static_bib(C2, 53, "198.51.100.1", 53));
    assert_eq!(r.removed_sessions, 2);
    let mut bibs = Vec::new();
    n.for_each_bib(None, &mut |b| bibs.push(*b));
    assert_eq!(bibs, vec![published]);
    // The client's flow now leaves through the published address.
    assert_eq!(send(&mut n, C1, 5000), published.v4);
}

#[test]
fn a_broken_configuration_changes_nothing() {
    let mut n = Nat64::new(base()).unwrap();
    send(&mut n, C1, 5000);
    let mut cfg = base();
    cfg.timeouts.udp = Duration::from_secs(10);
    assert!(matches!(n.reconfigure(cfg), Err(Nat64ConfigError::UdpTimeout(_))));
    let mut cfg = config("2001:db8:64::/96", "198.51.100.8/30");
    cfg.static_bib = vec![static_bib(C2, 53, "198.51.100.1", 53)];
    assert!(matches!(n.reconfigure(cfg), Err(Nat64ConfigError::StaticBib { .. })));
    let mut cfg = base();
    cfg.static_bib = vec![
        static_bib(C2, 53, "198.51.100.1", 53),
        static_bib(C2, 54, "198.51.100.1", 53),
    ];
    assert!(matches!(n.reconfigure(cfg), Err(Nat64ConfigError::StaticBib { .. })));
    assert_eq!(n.stats().sessions, 1);
    assert_eq!(n.config().timeouts.udp, base().timeouts.udp);
    assert_eq!(n.config().pool4, base().pool4);
}

#[test]
fn held_syns_and_partial_datagrams_are_dropped_and_reported() {
    let mut n = Nat64::new(base()).unwrap();
    let mut out = vec![0u8; OUT_LEN];
    // An unsolicited IPv4 SYN (RFC 6146 section 3.5.2.2) ...
    let (s, d) = (v4(R1), v4("198.51.100.1"));
    let mut syn = vec![0u8; 20];
    syn[0..2].copy_from_slice(&40000u16.to_be_bytes());
    syn[2..4].copy_from_slice(&1500u16.to_be_bytes());
    syn[12] = 0x50;
    syn[13] = 0x02;
    let c = inet_checksum(&[&Ips::V4(s, d).pseudo(TCP, 20), &syn]);
    syn[16..18].copy_from_slice(&c.to_be_bytes());
    let v = n.translate(&V4::new(s, d, TCP).build(&syn), &mut out, Instant::from_secs(1));
    assert!(matches!(v, Verdict::Held(Held::SimultaneousOpen)), "{v:?}");
    // ... and the first fragment of an IPv6 datagram.
    let (s6, d6) = (v6(C1), p6(R1));
    let frag = V6::new(s6, d6).build_ext(
        &[Ext::Fragment {
            offset: 0,
            mf: true,
            id: 7,
        }],
        UDP,
        &[0u8; 16],
    );
    let v = n.translate(&frag, &mut out, Instant::from_secs(1));
    assert!(matches!(v, Verdict::Held(_)), "{v:?}");
    assert_eq!(n.stats().held_syns, 1);
    assert_eq!(n.reassembly_stats().in_progress, 1);
    let r = n.reconfigure(base()).unwrap();
    assert_eq!((r.dropped_held_syns, r.dropped_partial_datagrams), (1, 1), "{r:?}");
    assert_eq!(n.stats().held_syns, 0);
    assert_eq!(n.reassembly_stats().in_progress, 0);
    // Nothing is left to answer: the held SYN's 6 s pass silently.
    assert!(n.poll(Instant::from_secs(30), &mut out).is_none());
}

#[test]
fn reconfigure_with_passes_the_new_limits_to_the_table() {
    let mut n = Nat64::new(base()).unwrap();
    let mut cfg = base();
    cfg.limits = TableLimits {
        max_sessions: 7,
        ..cfg.limits
    };
    let mut seen = None;
    n.reconfigure_with(cfg, |t, l| {
        seen = Some(l.max_sessions);
        t.set_limits(l)
    })
    .unwrap();
    assert_eq!(seen, Some(7));
    assert_eq!(n.table().limits().max_sessions, 7);
    // The plain call applies them too.
    let mut cfg = base();
    cfg.limits.max_sessions = 9;
    n.reconfigure(cfg).unwrap();
    assert_eq!(n.table().limits().max_sessions, 9);
}
