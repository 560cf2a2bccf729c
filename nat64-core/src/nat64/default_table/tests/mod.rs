//! Unit tests of the default table, its invariant checker and a model test.

use super::records::{state_code, STATES};
use super::*;
use crate::nat64::table::{Bib, InsertError, SessionTable};
use alloc::vec;
use proptest::prelude::*;

// --- helpers -------------------------------------------------------------

fn c6(i: u16, port: u16) -> Taddr6 {
    Taddr6 {
        addr: Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, i),
        port,
    }
}
fn p4(i: u8, port: u16) -> Taddr4 {
    Taddr4 {
        addr: Ipv4Addr::new(192, 0, 2, i),
        port,
    }
}
fn r4(i: u8, port: u16) -> Taddr4 {
    Taddr4 {
        addr: Ipv4Addr::new(198, 51, 100, i),
        port,
    }
}
fn at(s: u64) -> Instant {
    Instant::from_secs(s)
}
fn sess(proto: Proto, v6: Taddr6, v4: Taddr4, remote: Taddr4, exp: u64) -> Session {
    Session {
        proto,
        v6,
        v4,
        remote,
        state: TcpState::None,
        expires: at(exp),
    }
}
fn udp(v6: Taddr6, v4: Taddr4, remote: Taddr4, exp: u64) -> Session {
    sess(Proto::Udp, v6, v4, remote, exp)
}
fn lim(max: usize, per: usize, plen: u8) -> TableLimits {
    TableLimits {
        max_sessions: max,
        max_sessions_per_client: per,
        client_prefix_len: plen,
    }
}
fn table(l: TableLimits) -> DefaultTable {
    DefaultTable::with_seed(l, 0, 0x5eed)
}
fn sessions(t: &DefaultTable) -> Vec<Session> {
    let mut v = Vec::new();
    t.for_each_session(&mut |s| v.push(*s));
    v.sort_by_key(skey);
    v
}
fn bibs(t: &DefaultTable) -> Vec<Bib> {
    let mut v = Vec::new();
    t.for_each_bib(&mut |b| v.push(*b));
    v.sort_by_key(bkey);
    v
}
fn skey(s: &Session) -> (usize, Ipv6Addr, u16, Taddr4, Taddr4, u8, u64) {
    (
        s.proto.index(),
        s.v6.addr,
        s.v6.port,
        s.v4,
        s.remote,
        state_code(s.state),
        s.expires.0,
    )
}
fn bkey(b: &Bib) -> (usize, Taddr6, Taddr4, bool) {
    (b.proto.index(), b.v6, b.v4, b.is_static)
}

mod check;
mod model;

// --- unit tests -------------------------------------------------------------

#[test]
fn limits_default_and_sizes() {
    let l = TableLimits::default();
    assert_eq!(
        (l.max_sessions, l.max_sessions_per_client, l.client_prefix_len),
        (1 << 20, 0, 128)
    );
    assert_eq!(core::mem::size_of::<Rec>(), 64);
    assert_eq!(core::mem::size_of::<BibRec>(), 32);
    let t = DefaultTable::default();
    assert_eq!(t.limits(), l);
    assert_eq!((t.session_count(), t.bib_count(), t.next_expiry()), (0, 0, None));
    t.check();
}

#[test]
fn bib_lookups_both_ways_and_conflicts() {
    let mut t = table(lim(100, 0, 128));
    let b = Bib {
        proto: Proto::Tcp,
        v6: c6(1, 1000),
        v4: p4(1, 2000),
        is_static: false,
    };
    t.add_bib(b).unwrap();
    assert_eq!(t.bib_by_v6(Proto::Tcp, c6(1, 1000)), Some(b));
    assert_eq!(t.bib_by_v4(Proto::Tcp, p4(1, 2000)), Some(b));
    // Other protocol, other port: nothing.
    assert_eq!(t.bib_by_v6(Proto::Udp, c6(1, 1000)), None);
    assert_eq!(t.bib_by_v4(Proto::Tcp, p4(1, 2001)), None);
    // Conflicts.
    let e = t.add_bib(Bib { v6: c6(2, 1000), ..b }).unwrap_err();
    assert_eq!(
        e,
        InsertError::V4InUse {
            proto: Proto::Tcp,
            v4: p4(1, 2000)
        }
    );
    let e = t.add_bib(Bib { v4: p4(1, 2001), ..b }).unwrap_err();
    assert_eq!(
        e,
        InsertError::V6InUse {
            proto: Proto::Tcp,
            v6: c6(1, 1000)
        }
    );
    // The same entry again is fine; as static it becomes static.
    t.add_bib(b).unwrap();
    assert_eq!(t.bib_count(), 1);
    t.add_bib(Bib { is_static: true, ..b }).unwrap();
    assert!(t.bib_by_v4(Proto::Tcp, p4(1, 2000)).unwrap().is_static);
    t.add_bib(b).unwrap();
    assert!(
        t.bib_by_v4(Proto::Tcp, p4(1, 2000)).unwrap().is_static,
        "a dynamic add does not demote"
    );
    // Same addresses in another protocol are another BIB.
    t.add_bib(Bib { proto: Proto::Udp, ..b }).unwrap();
    assert_eq!(t.bib_count(), 2);
    assert_eq!(bibs(&t).len(), 2);
    t.check();
    assert!(t.remove_bib(Proto::Udp, p4(1, 2000)));
    assert!(!t.remove_bib(Proto::Udp, p4(1, 2000)));
    assert_eq!(t.bib_count(), 1);
    t.check();
}

#[test]
fn insert_find_get_both_sides() {
    let mut t = table(lim(100, 0, 128));
    let s = Session {
        state: TcpState::Established,
        ..sess(Proto::Tcp, c6(1, 1000), p4(1, 2000), r4(7, 80), 100)
    };
    t.add_bib(Bib {
        proto: Proto::Tcp,
        v6: s.v6,
        v4: s.v4,
        is_static: false,
    })
    .unwrap();
    let h = t.insert(s).unwrap();
    assert_eq!(t.get(h), s);
    assert_eq!(t.find_v6(Proto::Tcp, s.v6, s.remote), Some(h));
    assert_eq!(t.find_v4(Proto::Tcp, s.v4, s.remote), Some(h));
    assert_eq!(t.find_v6(Proto::Tcp, s.v6, r4(7, 81)), None);
    assert_eq!(t.find_v4(Proto::Tcp, s.v4, r4(8, 80)), None);
    assert_eq!(t.find_v6(Proto::Udp, s.v6, s.remote), None);
    assert_eq!(t.find_v4(Proto::Tcp, p4(1, 2001), s.remote), None);
    assert_eq!((t.session_count(), t.bib_count()), (1, 1));
    assert_eq!(sessions(&t), vec![s]);
    t.check();
}

#[test]
fn insert_creates_missing_bib_and_checks_conflicts() {
    let mut t = table(lim(100, 0, 128));
    let s = udp(c6(1, 1000), p4(1, 2000), r4(1, 53), 10);
    t.insert(s).unwrap();
    let b = t.bib_by_v6(Proto::Udp, c6(1, 1000)).unwrap();
    assert_eq!((b.v4, b.is_static), (p4(1, 2000), false));
    // v4 bound to another client; v6 bound to another pool4 address.
    let e = t.insert(udp(c6(2, 1000), p4(1, 2000), r4(1, 53), 10)).unwrap_err();
    assert_eq!(
        e,
        InsertError::V4InUse {
            proto: Proto::Udp,
            v4: p4(1, 2000)
        }
    );
    let e = t.insert(udp(c6(1, 1000), p4(1, 2001), r4(1, 53), 10)).unwrap_err();
    assert_eq!(
        e,
        InsertError::V6InUse {
            proto: Proto::Udp,
            v6: c6(1, 1000)
        }
    );
    assert_eq!((t.session_count(), t.bib_count()), (1, 1));
    t.check();
}

#[test]
fn insert_of_an_existing_session_updates_it() {
    let mut t = table(lim(1, 0, 128));
    let s = udp(c6(1, 1000), p4(1, 2000), r4(1, 53), 10);
    let h = t.insert(s).unwrap();
    // Full, yet the same session again is an update, not a new one.
    let h2 = t.insert(Session { expires: at(50), ..s }).unwrap();
    assert_eq!(h, h2);
    assert_eq!(t.get(h).expires, at(50));
    assert_eq!(t.next_expiry(), Some(at(50)));
    assert_eq!(t.session_count(), 1);
    t.check();
}

#[test]
fn sessions_expire_exactly_at_their_time() {
    let mut t = table(lim(100, 0, 128));
    let a = udp(c6(1, 1), p4(1, 1), r4(1, 1), 300);
    let b = udp(c6(2, 1), p4(1, 2), r4(1, 1), 60);
    t.insert(a).unwrap();
    t.insert(b).unwrap();
    assert_eq!(t.next_expiry(), Some(at(60)));
    assert_eq!(t.expire(Instant(at(60).0 - 1)), 0);
    assert_eq!(t.session_count(), 2);
    assert!(t.find_v6(Proto::Udp, b.v6, b.remote).is_some());
    assert_eq!(t.expire(at(60)), 1);
    assert_eq!(t.find_v6(Proto::Udp, b.v6, b.remote), None);
    assert_eq!(
        t.bib_by_v6(Proto::Udp, b.v6),
        None,
        "its dynamic BIB entry went with it"
    );
    assert_eq!(t.next_expiry(), Some(at(300)));
    assert_eq!(t.expire(at(299)), 0);
    assert_eq!(t.expire(at(300)), 1);
    assert_eq!((t.session_count(), t.bib_count(), t.next_expiry()), (0, 0, None));
    t.check();
}

#[test]
fn refresh_pushes_expiry_later() {
    let mut t = table(lim(100, 0, 128));
    let s = udp(c6(1, 1), p4(1, 1), r4(1, 1), 300);
    let h = t.insert(s).unwrap();
    let other = t.insert(udp(c6(2, 1), p4(1, 2), r4(1, 1), 350)).unwrap();
    // At t=200 a packet refreshes it to 500.
    t.update(h, TcpState::None, at(500));
    assert_eq!(t.expire(at(300)), 0);
    assert_eq!(t.next_expiry(), Some(at(350)));
    assert_eq!(t.expire(at(350)), 1);
    assert_eq!(t.get(other), STALE_SESSION);
    assert_eq!(t.next_expiry(), Some(at(500)));
    assert_eq!(t.expire(at(499)), 0);
    assert_eq!(t.get(h).expires, at(500));
    assert_eq!(t.expire(at(500)), 1);
    t.check();
}

#[test]
fn shortening_expiry_works() {
    let mut t = table(lim(100, 0, 128));
    let est = 7440;
    let mut hs = Vec::new();
    for i in 0..10u16 {
        let s = Session {
            state: TcpState::Established,
            ..sess(Proto::Tcp, c6(i, 1), p4(1, i), r4(1, 443), est + u64::from(i))
        };
        hs.push(t.insert(s).unwrap());
    }
    // Session 5 moves to TRANS at t=100: 4 minutes.
    t.update(hs[5], TcpState::Trans, at(100 + 240));
    assert_eq!(t.next_expiry(), Some(at(340)));
    assert_eq!(t.get(hs[5]).state, TcpState::Trans);
    t.check();
    assert_eq!(t.expire(at(339)), 0);
    assert_eq!(t.expire(at(340)), 1);
    assert_eq!(t.get(hs[5]), STALE_SESSION);
    assert_eq!(t.next_expiry(), Some(at(est)));
    assert_eq!(t.expire(at(est + 4)), 5);
    assert_eq!(t.session_count(), 4);
    t.check();
}

#[test]
fn timeout_classes_keep_few_lanes() {
    // Monotonic time, three timeout classes interleaved, refreshes: one
    // lane per class, never the fallback (tests have 4 lanes).
    let mut t = DefaultTable::with_seed(lim(10_000, 0, 128), 0, 1);
    let classes = [60u64, 7440, 300];
    let mut hs = Vec::new();
    for now in 0..2000u64 {
        let c = classes[(now % 3) as usize];
        let s = sess(
            Proto::Udp,
            c6((now % 500) as u16, now as u16),
            p4(1, now as u16),
            r4(2, 53),
            now + c,
        );
        hs.push(t.insert(s).unwrap());
        if now % 2 == 0 {
            let h = hs[(now * 7 / 8) as usize];
            if let Some(s) = t.try_get(h) {
                t.update(h, s.state, at(now + classes[usize::from(s.v4.port) % 3]));
            }
        }
        if now % 50 == 0 {
            t.expire(at(now));
        }
        assert!(t.n_lanes <= 3, "{} lanes at {now}", t.n_lanes);
    }
    t.check();
}

#[test]
fn lane_overflow_goes_to_the_heap_or_the_sorted_walk() {
    for no_heap in [false, true] {
        let mut t = table(lim(1000, 0, 128));
        t.no_heap = no_heap;
        // Strictly decreasing expiries: every one would need a new lane.
        for i in 0..200u16 {
            t.insert(udp(c6(i, 1), p4(1, i), r4(1, 1), 1000 - u64::from(i)))
                .unwrap();
        }
        assert_eq!(t.n_lanes, MAX_LANES);
        assert_eq!(t.heap.len(), if no_heap { 0 } else { 200 - MAX_LANES });
        t.check();
        // Refreshes move some out of the heap into lanes.
        for i in (0..200u16).step_by(5) {
            let h = t.find_v6(Proto::Udp, c6(i, 1), r4(1, 1)).unwrap();
            t.update(h, TcpState::None, at(1001 + u64::from(i)));
        }
        t.check();
        for now in (800..=1300).step_by(7) {
            let before = t.session_count();
            let n = t.expire(at(now));
            let left = sessions(&t);
            assert!(left.iter().all(|s| s.expires > at(now)));
            assert_eq!(before - n, left.len());
            assert_eq!(t.next_expiry(), left.iter().map(|s| s.expires).min());
            t.check();
        }
        assert_eq!(t.session_count(), 0);
    }
}

#[test]
fn clock_stepping_back_stays_correct() {
    // Each step back opens a lane; past the lanes, sessions use the heap.
    let mut t = table(lim(10_000, 0, 128));
    let mut hs = Vec::new();
    let mut id = 0u16;
    for round in 0..10u64 {
        let base = 1000 - round * 50;
        for k in 0..40u64 {
            id += 1;
            hs.push(t.insert(udp(c6(id, 1), p4(1, id), r4(1, 1), base + k)).unwrap());
            let h = hs[(k as usize * 7) % hs.len()];
            t.update(h, TcpState::None, at(base + k + 300));
        }
        t.check();
    }
    let mut all = sessions(&t);
    all.sort_by_key(|s| s.expires);
    let mut now = 0;
    while let Some(next) = t.next_expiry() {
        assert_eq!(Some(next), all.first().map(|s| s.expires));
        let n = t.expire(next);
        assert_eq!(n, all.iter().take_while(|s| s.expires <= next).count());
        all.drain(..n);
        now += 1;
        if now % 16 == 0 {
            t.check();
        }
    }
    assert!(all.is_empty());
    t.check();
}

#[test]
fn next_expiry_is_exact_through_updates_and_removals() {
    let mut t = table(lim(100, 0, 128));
    let h1 = t.insert(udp(c6(1, 1), p4(1, 1), r4(1, 1), 30)).unwrap();
    let h2 = t.insert(udp(c6(2, 1), p4(1, 2), r4(1, 1), 20)).unwrap();
    let h3 = t.insert(udp(c6(3, 1), p4(1, 3), r4(1, 1), 40)).unwrap();
    assert_eq!(t.next_expiry(), Some(at(20)));
    t.remove(h2);
    assert_eq!(t.next_expiry(), Some(at(30)));
    t.update(h3, TcpState::None, at(10));
    assert_eq!(t.next_expiry(), Some(at(10)));
    t.update(h3, TcpState::None, at(35));
    assert_eq!(t.next_expiry(), Some(at(30)));
    t.update(h1, TcpState::None, at(36));
    assert_eq!(t.next_expiry(), Some(at(35)));
    t.check();
}

#[test]
fn dynamic_bib_goes_with_last_session_static_stays() {
    let mut t = table(lim(100, 0, 128));
    let dynb = Bib {
        proto: Proto::Udp,
        v6: c6(1, 1),
        v4: p4(1, 1),
        is_static: false,
    };
    let statb = Bib {
        proto: Proto::Udp,
        v6: c6(2, 1),
        v4: p4(1, 2),
        is_static: true,
    };
    t.add_bib(dynb).unwrap();
    t.add_bib(statb).unwrap();
    let a1 = t.insert(udp(dynb.v6, dynb.v4, r4(1, 1), 10)).unwrap();
    let a2 = t.insert(udp(dynb.v6, dynb.v4, r4(2, 1), 20)).unwrap();
    t.insert(udp(statb.v6, statb.v4, r4(1, 1), 10)).unwrap();
    t.remove(a1);
    assert!(t.bib_by_v4(Proto::Udp, dynb.v4).is_some(), "one session left");
    t.remove(a2);
    assert_eq!(t.bib_by_v4(Proto::Udp, dynb.v4), None);
    assert_eq!(t.expire(at(10)), 1);
    assert_eq!(t.bib_by_v4(Proto::Udp, statb.v4), Some(statb));
    assert_eq!((t.session_count(), t.bib_count()), (0, 1));
    // A static entry takes new sessions after that.
    t.insert(udp(statb.v6, statb.v4, r4(3, 1), 30)).unwrap();
    t.check();
}

#[test]
fn dynamic_bib_without_sessions_goes_at_next_expire() {
    let mut t = table(lim(100, 0, 128));
    let b = Bib {
        proto: Proto::Icmp,
        v6: c6(1, 7),
        v4: p4(1, 7),
        is_static: false,
    };
    t.add_bib(b).unwrap();
    t.check();
    assert_eq!(t.expire(at(1)), 0);
    assert_eq!((t.bib_count(), t.bib_by_v6(Proto::Icmp, b.v6)), (0, None));
    // With a session it stays until the session goes.
    t.add_bib(b).unwrap();
    t.insert(sess(Proto::Icmp, b.v6, b.v4, r4(1, 7), 60)).unwrap();
    t.expire(at(2));
    assert_eq!(t.bib_count(), 1);
    t.expire(at(60));
    assert_eq!(t.bib_count(), 0);
    t.check();
}

#[test]
fn remove_bib_removes_its_sessions() {
    let mut t = table(lim(100, 0, 128));
    let b = Bib {
        proto: Proto::Tcp,
        v6: c6(1, 1),
        v4: p4(1, 1),
        is_static: true,
    };
    t.add_bib(b).unwrap();
    let mut hs = Vec::new();
    for i in 0..5 {
        hs.push(
            t.insert(sess(Proto::Tcp, b.v6, b.v4, r4(i % 2, u16::from(i)), 100))
                .unwrap(),
        );
    }
    let other = t.insert(sess(Proto::Tcp, c6(2, 1), p4(1, 2), r4(0, 0), 100)).unwrap();
    assert!(t.remove_bib(Proto::Tcp, b.v4));
    assert!(hs.iter().all(|h| t.try_get(*h).is_none()));
    assert!(!t.has_session_with(Proto::Tcp, b.v4, r4(0, 0).addr));
    assert_eq!((t.session_count(), t.bib_count()), (1, 1));
    assert!(t.try_get(other).is_some());
    assert!(!t.remove_bib(Proto::Tcp, b.v4));
    t.check();
}

#[test]
fn table_full_and_restored_on_expiry() {
    let mut t = table(lim(3, 0, 128));
    for i in 0..3 {
        t.insert(udp(c6(i, 1), p4(1, i), r4(1, 1), 10 + u64::from(i))).unwrap();
    }
    let s = udp(c6(9, 1), p4(1, 9), r4(1, 1), 50);
    assert_eq!(t.insert(s), Err(InsertError::TableFull { max: 3 }));
    // BIB entries count too.
    let b = Bib {
        proto: Proto::Udp,
        v6: s.v6,
        v4: s.v4,
        is_static: true,
    };
    assert_eq!(t.add_bib(b), Err(InsertError::TableFull { max: 3 }));
    assert_eq!((t.session_count(), t.bib_count()), (3, 3));
    assert_eq!(t.expire(at(10)), 1);
    t.insert(s).unwrap();
    assert_eq!(
        t.insert(udp(c6(8, 1), p4(1, 8), r4(1, 1), 50)),
        Err(InsertError::TableFull { max: 3 })
    );
    t.check();
}

#[test]
fn per_address_quota_restored_on_expiry_and_remove() {
    let mut t = table(lim(100, 2, 128));
    let h = t.insert(udp(c6(1, 1), p4(1, 1), r4(1, 1), 10)).unwrap();
    t.insert(udp(c6(1, 2), p4(1, 2), r4(1, 1), 20)).unwrap();
    let e = t.insert(udp(c6(1, 3), p4(1, 3), r4(1, 1), 20));
    assert_eq!(
        e,
        Err(InsertError::ClientQuota {
            client: c6(1, 0).addr,
            max: 2
        })
    );
    // Another address is another client.
    t.insert(udp(c6(2, 3), p4(1, 3), r4(1, 1), 20)).unwrap();
    t.check();
    t.remove(h);
    t.insert(udp(c6(1, 4), p4(1, 4), r4(1, 1), 30)).unwrap();
    assert!(t.insert(udp(c6(1, 5), p4(1, 5), r4(1, 1), 30)).is_err());
    assert_eq!(t.expire(at(20)), 2);
    t.insert(udp(c6(1, 5), p4(1, 5), r4(1, 1), 30)).unwrap();
    t.check();
}

#[test]
fn per_prefix_quota() {
    let mut t = table(lim(100, 2, 64));
    let a = Taddr6 {
        addr: "2001:db8:0:1::a".parse().unwrap(),
        port: 1,
    };
    let b = Taddr6 {
        addr: "2001:db8:0:1::b".parse().unwrap(),
        port: 1,
    };
    let c = Taddr6 {
        addr: "2001:db8:0:2::a".parse().unwrap(),
        port: 1,
    };
    t.insert(udp(a, p4(1, 1), r4(1, 1), 10)).unwrap();
    t.insert(udp(b, p4(1, 2), r4(1, 1), 10)).unwrap();
    let e = t
        .insert(udp(Taddr6 { port: 2, ..a }, p4(1, 3), r4(1, 1), 10))
        .unwrap_err();
    let client: Ipv6Addr = "2001:db8:0:1::".parse().unwrap();
    assert_eq!(e, InsertError::ClientQuota { client, max: 2 });
    t.insert(udp(c, p4(1, 4), r4(1, 1), 10)).unwrap();
    t.check();
    assert_eq!(t.expire(at(10)), 3);
    assert_eq!(t.clients.len, 0);
    t.check();
}

#[test]
fn set_limits_recounts_clients() {
    let mut t = table(lim(100, 0, 128));
    for i in 0..4 {
        t.insert(udp(c6(1, i), p4(1, i), r4(1, 1), 10)).unwrap();
    }
    t.set_limits(lim(100, 4, 128));
    t.check();
    assert!(matches!(
        t.insert(udp(c6(1, 9), p4(1, 9), r4(1, 1), 10)),
        Err(InsertError::ClientQuota { .. })
    ));
    t.set_limits(lim(4, 0, 128));
    t.check();
    assert_eq!(
        t.insert(udp(c6(1, 9), p4(1, 9), r4(1, 1), 10)),
        Err(InsertError::TableFull { max: 4 })
    );
    t.set_limits(lim(5, 5, 0));
    t.check();
    t.insert(udp(c6(2, 9), p4(1, 9), r4(1, 1), 10)).unwrap();
    // Full and at the quota (every client is one under /0): the quota
    // is reported, it is checked first.
    assert!(matches!(
        t.insert(udp(c6(3, 9), p4(1, 10), r4(1, 1), 10)),
        Err(InsertError::ClientQuota { .. })
    ));
    t.check();
}

#[test]
fn has_session_with_any_port() {
    let mut t = table(lim(100, 0, 128));
    let (v6, v4) = (c6(1, 1), p4(1, 1));
    assert!(!t.has_session_with(Proto::Udp, v4, r4(1, 0).addr));
    let a = t.insert(udp(v6, v4, r4(1, 53), 10)).unwrap();
    let b = t.insert(udp(v6, v4, r4(2, 53), 10)).unwrap();
    let c = t.insert(udp(v6, v4, r4(1, 54), 20)).unwrap();
    let d = t.insert(udp(v6, v4, r4(1, 55), 30)).unwrap();
    assert!(t.has_session_with(Proto::Udp, v4, r4(1, 0).addr));
    assert!(t.has_session_with(Proto::Udp, v4, r4(2, 0).addr));
    assert!(!t.has_session_with(Proto::Udp, v4, r4(3, 0).addr));
    assert!(!t.has_session_with(Proto::Tcp, v4, r4(1, 0).addr));
    assert!(!t.has_session_with(Proto::Udp, p4(1, 2), r4(1, 0).addr));
    t.check();
    // Whichever member the index holds, removing members one by one keeps
    // the answer right.
    t.remove(a);
    assert!(t.has_session_with(Proto::Udp, v4, r4(1, 0).addr));
    t.remove(b);
    assert!(!t.has_session_with(Proto::Udp, v4, r4(2, 0).addr));
    t.check();
    assert_eq!(t.expire(at(20)), 1);
    assert!(t.has_session_with(Proto::Udp, v4, r4(1, 0).addr));
    assert!(t.try_get(c).is_none());
    t.remove(d);
    assert!(!t.has_session_with(Proto::Udp, v4, r4(1, 0).addr));
    t.check();
}

#[test]
fn sessions_due_for_expiry_are_not_returned() {
    let mut t = table(lim(100, 0, 128));
    let s1 = udp(c6(1, 1), p4(1, 1), r4(1, 1), 100);
    let s2 = udp(c6(1, 1), p4(1, 1), r4(1, 2), 100);
    let h1 = t.insert(s1).unwrap();
    t.insert(s2).unwrap();
    t.expire(at(50));
    // Set into the past (at or before the last expire's now).
    t.update(h1, TcpState::None, at(50));
    assert_eq!(t.find_v6(Proto::Udp, s1.v6, s1.remote), None);
    assert_eq!(t.find_v4(Proto::Udp, s1.v4, s1.remote), None);
    assert!(
        t.has_session_with(Proto::Udp, s1.v4, s1.remote.addr),
        "s2 has the same address"
    );
    let h2 = t.handle_v6(&s2);
    t.update(h2, TcpState::None, at(40));
    assert!(!t.has_session_with(Proto::Udp, s1.v4, s1.remote.addr));
    assert_eq!(t.get(h1).expires, at(50), "still readable through its handle");
    assert_eq!(t.next_expiry(), Some(at(40)));
    assert_eq!(t.expire(at(50)), 2);
    t.check();
}

#[test]
fn stale_handles_are_harmless() {
    let mut t = table(lim(100, 0, 128));
    let s = udp(c6(1, 1), p4(1, 1), r4(1, 1), 100);
    let h = t.insert(s).unwrap();
    t.remove(h);
    assert_eq!(t.get(h), STALE_SESSION);
    assert_eq!(t.try_get(h), None);
    // The slot is reused by another session: the old handle still misses.
    let s2 = udp(c6(2, 1), p4(1, 2), r4(1, 1), 200);
    let h2 = t.insert(s2).unwrap();
    assert_eq!(h2.slot, h.slot);
    assert_ne!(h2, h);
    t.update(h, TcpState::Trans, at(1));
    t.remove(h);
    assert_eq!(t.get(h2), s2);
    // A handle from another table, out of range.
    let big = SessionHandle { slot: 1 << 20, gen: 0 };
    assert_eq!(t.get(big), STALE_SESSION);
    t.update(big, TcpState::None, at(0));
    t.remove(big);
    assert_eq!(t.session_count(), 1);
    t.check();
}

#[test]
fn states_and_protocols_round_trip() {
    let mut t = table(lim(100, 0, 128));
    for (i, st) in STATES.iter().enumerate() {
        for proto in [Proto::Tcp, Proto::Udp, Proto::Icmp] {
            let s = Session {
                state: *st,
                ..sess(proto, c6(i as u16, 1), p4(1, i as u16), r4(1, 1), 5)
            };
            let h = t.insert(s).unwrap();
            assert_eq!(t.get(h), s);
        }
    }
    assert_eq!(t.session_count(), 27);
    assert_eq!(sessions(&t).len(), 27);
    t.check();
}

#[test]
fn grows_and_stays_consistent() {
    let mut t = table(lim(1 << 20, 0, 128));
    let mut hs = Vec::new();
    for i in 0..5000u32 {
        let s = udp(
            c6((i % 700) as u16, i as u16),
            p4((i % 3) as u8, i as u16),
            r4((i % 5) as u8, 1),
            u64::from(i),
        );
        hs.push(t.insert(s).unwrap());
    }
    assert!(t.capacity() >= 5000);
    t.check();
    for (i, h) in hs.iter().enumerate() {
        assert_eq!(t.get(*h).expires, at(i as u64));
    }
    assert_eq!(t.expire(at(2499)), 2500);
    t.check();
    assert_eq!(t.next_expiry(), Some(at(2500)));
}

#[test]
fn with_capacity_fits_the_memory_budget() {
    let n = 100_000;
    let mut t = DefaultTable::with_capacity(lim(1 << 20, 0, 128), n);
    let before = t.heap_bytes();
    for i in 0..n as u32 {
        let v6 = Taddr6 {
            addr: Ipv6Addr::from_bits(0x2001_0db8 << 96 | u128::from(i)),
            port: 1,
        };
        let v4 = p4((i >> 16) as u8, i as u16);
        t.insert(udp(v6, v4, r4(1, 1), 10)).unwrap();
    }
    assert_eq!(t.heap_bytes(), before, "no growth within the capacity");
    let per = t.heap_bytes() as f64 / n as f64;
    assert!(per <= 128.0, "{per} bytes per session");
}

#[test]
fn seeds_change_the_layout_not_the_behaviour() {
    for seed in [0, 1, u64::MAX] {
        let mut t = DefaultTable::with_seed(lim(100, 0, 128), 8, seed);
        for i in 0..50 {
            t.insert(udp(c6(i, 1), p4(1, i), r4(1, 1), 10)).unwrap();
        }
        assert_eq!(t.session_count(), 50);
        t.check();
    }
    assert_eq!(client_mask(0), 0);
    assert_eq!(client_mask(200), u128::MAX);
}

#[test]
fn zero_limits_refuse_everything() {
    let mut t = table(lim(0, 0, 128));
    let s = udp(c6(1, 1), p4(1, 1), r4(1, 1), 10);
    assert_eq!(t.insert(s), Err(InsertError::TableFull { max: 0 }));
    let b = Bib {
        proto: Proto::Udp,
        v6: s.v6,
        v4: s.v4,
        is_static: true,
    };
    assert_eq!(t.add_bib(b), Err(InsertError::TableFull { max: 0 }));
    assert_eq!(t.expire(at(100)), 0);
    t.check();
}
