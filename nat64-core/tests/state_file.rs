//! `Nat64::save_sessions` / `restore_sessions`: the sessions of one NAT64
//! carried to another (a restart from a state file), lifetimes preserved
//! (RFC 6146 section 3.5), and a damaged or foreign file refused whole.
//! Packets are built by hand (`common`), translations read back by hand.

mod common;

use std::net::Ipv6Addr;

use common::*;
use nat64_core::nat64::{
    Instant, Nat64, Nat64Config, Pool4Entry, Proto, RestoreReport, SessionFilter, StateError, StateFile, Taddr4,
    TcpState,
};
use nat64_core::Verdict;

const POOL6: &str = "2001:db8:64::";
const C1: &str = "2001:db8:1::2";
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

fn udp6(sport: u16) -> Vec<u8> {
    let (s, d) = (v6(C1), p6(R1));
    V6::new(s, d).build(UDP, &udp(Ips::V6(s, d), sport, 8080, b"ping"))
}

fn syn6(sport: u16) -> Vec<u8> {
    let (s, d) = (v6(C1), p6(R1));
    let mut t = tcp(Ips::V6(s, d), sport, 80, 1, b"");
    t[13] = 0x02;
    t[16..18].fill(0);
    let c = inet_checksum(&[&Ips::V6(s, d).pseudo(TCP, t.len()), &t]);
    t[16..18].copy_from_slice(&c.to_be_bytes());
    V6::new(s, d).build(TCP, &t)
}

/// Translates `pkt` at `now`; the pool4 transport address it left from.
fn send(n: &mut Nat64, pkt: &[u8], now: Instant) -> Taddr4 {
    let mut out = vec![0u8; OUT_LEN];
    let v = n.translate(pkt, &mut out, now);
    let Verdict::Translated(e) = v else { panic!("{v:?}") };
    let seen = check_v4(&out[..e.total_len()]);
    Taddr4 {
        addr: seen.src,
        port: be16(&seen.payload, 0),
    }
}

/// The UDP reply from R1 to `to` at `now`, translated: the IPv6 client
/// port it reached.
fn reply(n: &mut Nat64, to: Taddr4, now: Instant) -> u16 {
    let (s, d) = (v4(R1), to.addr);
    let pkt = V4::new(s, d, UDP).build(&udp(Ips::V4(s, d), 8080, to.port, b"pong"));
    let mut out = vec![0u8; OUT_LEN];
    let v = n.translate(&pkt, &mut out, now);
    let Verdict::Translated(e) = v else {
        panic!("reply: {v:?}")
    };
    let seen = check_v6(&out[..e.total_len()]);
    assert_eq!(seen.dst, v6(C1));
    be16(&seen.payload, 2)
}

fn sessions(n: &Nat64) -> Vec<(Proto, u16, Taddr4, TcpState, Instant)> {
    let mut all = Vec::new();
    n.for_each_session(SessionFilter::default(), &mut |s| {
        all.push((s.proto, s.v6.port, s.v4, s.state, s.expires))
    });
    all.sort_by_key(|s| (s.1, s.2));
    all
}

const T0: Instant = Instant::from_secs(10);

#[test]
fn a_restart_keeps_every_session_its_mapping_and_what_was_left_of_its_lifetime() {
    let mut old = Nat64::new(base()).unwrap();
    let a = send(&mut old, &udp6(5000), T0);
    let b = send(&mut old, &udp6(5001), T0);
    let c = send(&mut old, &syn6(6000), T0);
    let before = sessions(&old);
    assert_eq!(before.len(), 3);
    // Saved 30 s later; loaded by a new process whose clock reads 500 s.
    let saved_at = Instant::from_secs(40);
    let mut file = Vec::new();
    assert_eq!(old.save_sessions(saved_at, &mut file), 3);

    let mut new = Nat64::new(base()).unwrap();
    let loaded_at = Instant::from_secs(500);
    let r = new.restore_sessions(&file, loaded_at).unwrap();
    assert_eq!(r.restored, 3, "{r:?}");
    assert_eq!(
        (r.expired, r.outside_pool4, r.conflicts, r.refused, r.pool6_changed),
        (0, 0, 0, 0, false)
    );
    let after = sessions(&new);
    for (o, n) in before.iter().zip(&after) {
        assert_eq!((o.0, o.1, o.2, o.3), (n.0, n.1, n.2, n.3));
        // expires - saved_at == expires' - loaded_at
        assert_eq!(o.4.since(saved_at), n.4.since(loaded_at));
    }
    assert_eq!(after[2].3, TcpState::V6Init);
    // The flows go on: the IPv4 replies reach the client through the same
    // pool4 addresses and ports, and the client's next packets leave by them.
    assert_eq!(reply(&mut new, a, loaded_at), 5000);
    assert_eq!(reply(&mut new, b, loaded_at), 5001);
    assert_eq!(send(&mut new, &udp6(5000), loaded_at), a);
    assert_eq!(send(&mut new, &syn6(6000), loaded_at), c);
    assert_eq!(new.stats().bib_entries, 3);
}

#[test]
fn sessions_whose_lifetime_ran_out_are_not_saved_or_restored() {
    let mut old = Nat64::new(base()).unwrap();
    send(&mut old, &udp6(5000), T0);
    let mut file = Vec::new();
    // The UDP timeout is 5 min: 10 min later nothing is left to save.
    assert_eq!(old.save_sessions(Instant::from_secs(610), &mut file), 0);
    assert_eq!(StateFile::parse(&file).unwrap().len(), 0);
}

#[test]
fn a_file_is_refused_whole_when_torn_corrupt_foreign_or_of_another_version() {
    let mut old = Nat64::new(base()).unwrap();
    send(&mut old, &udp6(5000), T0);
    send(&mut old, &udp6(5001), T0);
    let mut file = Vec::new();
    old.save_sessions(T0, &mut file);
    let mut new = Nat64::new(base()).unwrap();
    let torn = &file[..file.len() - 41];
    assert!(matches!(new.restore_sessions(torn, T0), Err(StateError::Length { .. })));
    let mut bad = file.clone();
    bad[40] ^= 1;
    assert_eq!(new.restore_sessions(&bad, T0), Err(StateError::Check));
    assert_eq!(new.restore_sessions(b"#!/bin/sh\n", T0), Err(StateError::NotAStateFile));
    let mut v2 = file.clone();
    v2[9] = 2;
    assert_eq!(new.restore_sessions(&v2, T0), Err(StateError::Version { found: 2 }));
    // Nothing of any of them was installed.
    assert_eq!(new.stats().sessions, 0);
    // A record no session can have, with a valid check value: refused by
    // its position.
    let mut odd = file.clone();
    let first_record = 8 + 2 + 17 + 4;
    odd[first_record] = 99;
    let n = odd.len() - 8;
    let check = odd[..n].iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, &x| {
        (h ^ u64::from(x)).wrapping_mul(0x0100_0000_01b3)
    });
    odd[n..].copy_from_slice(&check.to_be_bytes());
    assert_eq!(
        new.restore_sessions(&odd, T0),
        Err(StateError::Record {
            index: 0,
            what: "unknown protocol"
        })
    );
    assert!(new.restore_sessions(&file, T0).unwrap().restored == 2);
}

#[test]
fn what_the_configuration_in_force_does_not_own_is_skipped_and_counted() {
    let mut old = Nat64::new(base()).unwrap();
    send(&mut old, &udp6(5000), T0);
    send(&mut old, &udp6(5001), T0);
    let mut file = Vec::new();
    old.save_sessions(T0, &mut file);

    // Another pool6: the sessions' IPv6 view of their remotes is gone.
    let mut other6 = Nat64::new(config("2001:db8:65::/96", "198.51.100.0/30")).unwrap();
    let r = other6.restore_sessions(&file, T0).unwrap();
    assert!(r.pool6_changed && r.restored == 0);
    // Another pool4: the addresses are not ours any more.
    let mut other4 = Nat64::new(config("2001:db8:64::/96", "192.0.2.0/30")).unwrap();
    let r = other4.restore_sessions(&file, T0).unwrap();
    assert_eq!((r.restored, r.outside_pool4), (0, 2));
    assert_eq!(other4.stats().bib_entries, 0);
    // Loaded twice: the second time every session is there already.
    let mut same = Nat64::new(base()).unwrap();
    assert_eq!(same.restore_sessions(&file, T0).unwrap().restored, 2);
    let r = same.restore_sessions(&file, T0).unwrap();
    let mut want = RestoreReport::default();
    want.conflicts = 2;
    assert_eq!(r, want);
    assert_eq!(same.stats().sessions, 2);
}

#[test]
fn a_table_that_is_full_refuses_the_rest_and_keeps_no_bib_entry_without_a_session() {
    let mut old = Nat64::new(base()).unwrap();
    for p in 0..5 {
        send(&mut old, &udp6(5000 + p), T0);
    }
    let mut file = Vec::new();
    old.save_sessions(T0, &mut file);
    let mut cfg = base();
    cfg.limits.max_sessions = 3;
    let mut small = Nat64::new(cfg).unwrap();
    let r = small.restore_sessions(&file, T0).unwrap();
    assert_eq!((r.restored, r.refused), (3, 2));
    assert_eq!(small.stats().bib_entries, 3);
}
