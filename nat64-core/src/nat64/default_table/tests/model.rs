//! The table against an obvious implementation, on random operation
//! sequences.

use super::*;
use crate::nat64::default_table::session_table::existing_bib;

// --- model test -------------------------------------------------------------

/// The obvious implementation, to compare against.
#[derive(Default)]
struct Model {
    max: usize,
    per: usize,
    mask: u128,
    bibs: Vec<Bib>,
    sessions: Vec<(usize, Session)>,
    floor: Option<u64>,
    next_id: usize,
}

fn same_key(a: &Session, b: &Session) -> bool {
    a.proto == b.proto && a.v6 == b.v6 && a.remote == b.remote
}

impl Model {
    fn alive(&self, s: &Session) -> bool {
        self.floor.is_none_or(|f| s.expires.0 > f)
    }
    fn bib4(&self, proto: Proto, v4: Taddr4) -> Option<usize> {
        self.bibs.iter().position(|b| b.proto == proto && b.v4 == v4)
    }
    fn bib6(&self, proto: Proto, v6: Taddr6) -> Option<usize> {
        self.bibs.iter().position(|b| b.proto == proto && b.v6 == v6)
    }
    fn add_bib(&mut self, bib: Bib) -> Result<(), InsertError> {
        match existing_bib(&bib, self.bib4(bib.proto, bib.v4), self.bib6(bib.proto, bib.v6))? {
            Some(x) => {
                self.bibs[x].is_static |= bib.is_static;
                Ok(())
            }
            None if self.bibs.len() >= self.max => Err(InsertError::TableFull { max: self.max }),
            None => {
                self.bibs.push(bib);
                Ok(())
            }
        }
    }
    /// Ok(id) of the new or updated session.
    fn insert(&mut self, s: Session) -> Result<usize, InsertError> {
        let b = self.bib4(s.proto, s.v4);
        match b {
            Some(b) if self.bibs[b].v6 != s.v6 => {
                return Err(InsertError::V4InUse {
                    proto: s.proto,
                    v4: s.v4,
                })
            }
            Some(_) => {
                if let Some((id, x)) = self.sessions.iter_mut().find(|(_, x)| same_key(x, &s)) {
                    x.state = s.state;
                    x.expires = s.expires;
                    return Ok(*id);
                }
            }
            None if self.bib6(s.proto, s.v6).is_some() => {
                return Err(InsertError::V6InUse {
                    proto: s.proto,
                    v6: s.v6,
                })
            }
            None => {}
        }
        if self.per > 0 {
            let key = s.v6.addr.to_bits() & self.mask;
            let n = self
                .sessions
                .iter()
                .filter(|(_, x)| x.v6.addr.to_bits() & self.mask == key)
                .count();
            if n >= self.per {
                return Err(InsertError::ClientQuota {
                    client: Ipv6Addr::from_bits(key),
                    max: self.per,
                });
            }
        }
        if self.sessions.len() >= self.max {
            return Err(InsertError::TableFull { max: self.max });
        }
        if b.is_none() {
            if self.bibs.len() >= self.max {
                return Err(InsertError::TableFull { max: self.max });
            }
            self.bibs.push(Bib {
                proto: s.proto,
                v6: s.v6,
                v4: s.v4,
                is_static: false,
            });
        }
        self.next_id += 1;
        self.sessions.push((self.next_id, s));
        Ok(self.next_id)
    }
    fn remove_at(&mut self, i: usize, drop_bib: bool) {
        let (_, s) = self.sessions.remove(i);
        if drop_bib && !self.sessions.iter().any(|(_, x)| x.proto == s.proto && x.v4 == s.v4) {
            if let Some(b) = self.bib4(s.proto, s.v4) {
                if !self.bibs[b].is_static {
                    self.bibs.remove(b);
                }
            }
        }
    }
    fn remove_bib(&mut self, proto: Proto, v4: Taddr4) -> bool {
        let Some(b) = self.bib4(proto, v4) else { return false };
        self.sessions.retain(|(_, x)| !(x.proto == proto && x.v4 == v4));
        self.bibs.remove(b);
        true
    }
    fn expire(&mut self, now: u64) -> usize {
        self.floor = Some(now);
        let mut n = 0;
        while let Some(i) = self.sessions.iter().position(|(_, x)| x.expires.0 <= now) {
            self.remove_at(i, true);
            n += 1;
        }
        let sessions = &self.sessions;
        self.bibs
            .retain(|b| b.is_static || sessions.iter().any(|(_, x)| x.proto == b.proto && x.v4 == b.v4));
        n
    }
    fn find_v6(&self, proto: Proto, v6: Taddr6, remote: Taddr4) -> Option<Session> {
        let s = self
            .sessions
            .iter()
            .find(|(_, x)| x.proto == proto && x.v6 == v6 && x.remote == remote);
        s.map(|(_, x)| *x).filter(|x| self.alive(x))
    }
    fn find_v4(&self, proto: Proto, v4: Taddr4, remote: Taddr4) -> Option<Session> {
        let s = self
            .sessions
            .iter()
            .find(|(_, x)| x.proto == proto && x.v4 == v4 && x.remote == remote);
        s.map(|(_, x)| *x).filter(|x| self.alive(x))
    }
    fn has_session_with(&self, proto: Proto, v4: Taddr4, remote: Ipv4Addr) -> bool {
        self.sessions
            .iter()
            .any(|(_, x)| x.proto == proto && x.v4 == v4 && x.remote.addr == remote && self.alive(x))
    }
}

#[derive(Debug, Clone)]
enum Op {
    AddBib {
        proto: u8,
        c: u8,
        cport: u8,
        p: u8,
        pport: u8,
        stat: bool,
    },
    RemoveBib {
        proto: u8,
        p: u8,
        pport: u8,
    },
    Insert {
        proto: u8,
        c: u8,
        cport: u8,
        use_bib: bool,
        p: u8,
        pport: u8,
        r: u8,
        rport: u8,
        state: u8,
        exp: u8,
    },
    Update {
        k: usize,
        state: u8,
        exp: u8,
    },
    Remove {
        k: usize,
    },
    OldHandle {
        k: usize,
        remove: bool,
        exp: u8,
    },
    Expire {
        now: u8,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => (0..3u8, 0..4u8, 0..3u8, 0..2u8, 0..3u8, any::<bool>())
            .prop_map(|(proto, c, cport, p, pport, stat)| Op::AddBib { proto, c, cport, p, pport, stat }),
        1 => (0..3u8, 0..2u8, 0..3u8).prop_map(|(proto, p, pport)| Op::RemoveBib { proto, p, pport }),
        8 => (0..3u8, 0..4u8, 0..3u8, any::<bool>(), 0..2u8, 0..3u8, 0..3u8, 0..2u8, 0..9u8, 0..100u8)
            .prop_map(|(proto, c, cport, use_bib, p, pport, r, rport, state, exp)| Op::Insert {
                proto, c, cport, use_bib, p, pport, r, rport, state, exp
            }),
        3 => (any::<usize>(), 0..9u8, 0..100u8).prop_map(|(k, state, exp)| Op::Update { k, state, exp }),
        1 => any::<usize>().prop_map(|k| Op::Remove { k }),
        1 => (any::<usize>(), any::<bool>(), 0..100u8).prop_map(|(k, remove, exp)| Op::OldHandle { k, remove, exp }),
        2 => (0..100u8).prop_map(|now| Op::Expire { now }),
    ]
}

const PROTOS: [Proto; 3] = [Proto::Tcp, Proto::Udp, Proto::Icmp];

fn client(c: u8, port: u8) -> Taddr6 {
    // Clients 0 and 1 share a /64, 2 and 3 another.
    let net = u128::from(c / 2) << 64;
    Taddr6 {
        addr: Ipv6Addr::from_bits(0x2001_0db8 << 96 | net | u128::from(c % 2 + 1)),
        port: u16::from(port),
    }
}

fn compare(t: &DefaultTable, m: &Model) {
    t.check();
    let mut ms: Vec<Session> = m.sessions.iter().map(|(_, s)| *s).collect();
    ms.sort_by_key(skey);
    assert_eq!(sessions(t), ms);
    let mut mb = m.bibs.clone();
    mb.sort_by_key(bkey);
    assert_eq!(bibs(t), mb);
    assert_eq!(t.session_count(), m.sessions.len());
    assert_eq!(t.bib_count(), m.bibs.len());
    assert_eq!(t.next_expiry(), ms.iter().map(|s| s.expires).min());
    for proto in PROTOS {
        for p in 0..2 {
            for pport in 0..3 {
                let v4 = p4(p, pport);
                assert_eq!(t.bib_by_v4(proto, v4), m.bib4(proto, v4).map(|i| m.bibs[i]));
                for r in 0..3 {
                    assert_eq!(
                        t.has_session_with(proto, v4, r4(r, 0).addr),
                        m.has_session_with(proto, v4, r4(r, 0).addr)
                    );
                    for rport in 0..2 {
                        let h = t.find_v4(proto, v4, r4(r, rport)).map(|h| t.get(h));
                        assert_eq!(h, m.find_v4(proto, v4, r4(r, rport)));
                    }
                }
            }
        }
        for c in 0..4 {
            for cport in 0..3 {
                let v6 = client(c, cport);
                assert_eq!(t.bib_by_v6(proto, v6), m.bib6(proto, v6).map(|i| m.bibs[i]));
                for r in 0..3 {
                    for rport in 0..2 {
                        let h = t.find_v6(proto, v6, r4(r, rport)).map(|h| t.get(h));
                        assert_eq!(h, m.find_v6(proto, v6, r4(r, rport)));
                    }
                }
            }
        }
    }
}

fn run(limits: TableLimits, cap: usize, no_heap: bool, ops: Vec<Op>) {
    let mut t = DefaultTable::with_seed(limits, cap, 7);
    t.no_heap = no_heap;
    let mut m = Model {
        max: limits.max_sessions,
        per: limits.max_sessions_per_client,
        mask: client_mask(limits.client_prefix_len),
        ..Model::default()
    };
    let mut handles: Vec<(usize, SessionHandle)> = Vec::new();
    for op in ops {
        match op {
            Op::AddBib {
                proto,
                c,
                cport,
                p,
                pport,
                stat,
            } => {
                let b = Bib {
                    proto: PROTOS[proto as usize],
                    v6: client(c, cport),
                    v4: p4(p, pport.into()),
                    is_static: stat,
                };
                assert_eq!(t.add_bib(b), m.add_bib(b));
            }
            Op::RemoveBib { proto, p, pport } => {
                let (proto, v4) = (PROTOS[proto as usize], p4(p, pport.into()));
                assert_eq!(t.remove_bib(proto, v4), m.remove_bib(proto, v4));
            }
            Op::Insert {
                proto,
                c,
                cport,
                use_bib,
                p,
                pport,
                r,
                rport,
                state,
                exp,
            } => {
                let proto = PROTOS[proto as usize];
                let v6 = client(c, cport);
                let v4 = match m.bib6(proto, v6) {
                    Some(b) if use_bib => m.bibs[b].v4,
                    _ => p4(p, pport.into()),
                };
                let s = Session {
                    proto,
                    v6,
                    v4,
                    remote: r4(r, rport.into()),
                    state: STATES[state as usize],
                    expires: Instant(exp.into()),
                };
                let got = t.insert(s);
                let want = m.insert(s);
                assert_eq!(got.is_ok(), want.is_ok(), "{got:?} {want:?}");
                match (got, want) {
                    (Ok(h), Ok(id)) => {
                        assert_eq!(t.get(h), s);
                        handles.push((id, h));
                    }
                    (Err(a), Err(b)) => assert_eq!(a, b),
                    _ => unreachable!(),
                }
            }
            Op::Update { k, state, exp } if !m.sessions.is_empty() => {
                let i = k % m.sessions.len();
                let h = t.handle_v6(&m.sessions[i].1);
                let s = &mut m.sessions[i].1;
                s.state = STATES[state as usize];
                s.expires = Instant(exp.into());
                t.update(h, s.state, s.expires);
                assert_eq!(t.get(h), *s);
            }
            Op::Remove { k } if !m.sessions.is_empty() => {
                let i = k % m.sessions.len();
                let h = t.handle_v6(&m.sessions[i].1);
                m.remove_at(i, true);
                t.remove(h);
                assert_eq!(t.get(h), STALE_SESSION);
            }
            Op::OldHandle { k, remove, exp } if !handles.is_empty() => {
                let (id, h) = handles[k % handles.len()];
                match m.sessions.iter().position(|(x, _)| *x == id) {
                    Some(i) => {
                        if remove {
                            m.remove_at(i, true);
                        } else {
                            m.sessions[i].1.expires = Instant(exp.into());
                        }
                    }
                    None => assert_eq!(t.get(h), STALE_SESSION),
                }
                if remove {
                    t.remove(h);
                } else {
                    t.update(h, t.get(h).state, Instant(exp.into()));
                }
            }
            Op::Expire { now } => {
                assert_eq!(t.expire(Instant(now.into())), m.expire(now.into()));
            }
            _ => {}
        }
        compare(&t, &m);
    }
}

fn limits() -> impl Strategy<Value = TableLimits> {
    (
        prop_oneof![Just(2usize), Just(5), Just(40)],
        prop_oneof![Just(0usize), Just(1), Just(3)],
        prop_oneof![Just(128u8), Just(64)],
    )
        .prop_map(|(max, per, plen)| lim(max, per, plen))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]
    #[test]
    fn matches_the_model(limits in limits(), cap in prop_oneof![Just(0usize), Just(3), Just(64)],
                         no_heap in any::<bool>(), ops in proptest::collection::vec(op(), 1..80)) {
        run(limits, cap, no_heap, ops);
    }
}
