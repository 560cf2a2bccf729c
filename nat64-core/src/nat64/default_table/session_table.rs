//! [`SessionTable`] for [`DefaultTable`].

use core::net::{Ipv4Addr, Ipv6Addr};

use super::super::table::{Bib, InsertError, Instant, Proto, Session, SessionTable, Taddr4, Taddr6, TcpState};
use super::records::{pack, BIB_STATIC};
use super::{DefaultTable, SessionHandle, NONE, STALE_SESSION};

/// RFC 6146 section 3.1 (a BIB maps each IPv6 transport address to one
/// IPv4 transport address and back) for adding `bib`, given the entry that
/// holds its IPv4 transport address (`on_v4`) and the one that holds its
/// IPv6 transport address (`on_v6`): `Some` entry when that one entry holds
/// both (`bib` is there already), `None` when neither address is taken,
/// and the error naming the address taken otherwise (IPv4 first).
pub(super) fn existing_bib<T: PartialEq>(
    bib: &Bib,
    on_v4: Option<T>,
    on_v6: Option<T>,
) -> Result<Option<T>, InsertError> {
    match (on_v4, on_v6) {
        (Some(x), Some(y)) if x == y => Ok(Some(x)),
        (Some(_), _) => Err(InsertError::V4InUse {
            proto: bib.proto,
            v4: bib.v4,
        }),
        (None, Some(_)) => Err(InsertError::V6InUse {
            proto: bib.proto,
            v6: bib.v6,
        }),
        (None, None) => Ok(None),
    }
}

impl SessionTable for DefaultTable {
    type Handle = SessionHandle;

    fn bib_by_v6(&self, proto: Proto, v6: Taddr6) -> Option<Bib> {
        self.find_bib6(proto, v6).map(|b| self.bibs[b as usize].bib())
    }

    fn bib_by_v4(&self, proto: Proto, v4: Taddr4) -> Option<Bib> {
        self.find_bib4(proto, v4).map(|b| self.bibs[b as usize].bib())
    }

    /// Adds `bib`. Adding an entry that exists with the same two addresses
    /// succeeds (a static one makes the existing entry static; a dynamic
    /// one changes nothing). A dynamic entry that has no session by the next
    /// [`SessionTable::expire`] is removed then. `max_sessions` also caps
    /// the BIB entries ([`InsertError::TableFull`]).
    fn add_bib(&mut self, bib: Bib) -> Result<(), InsertError> {
        let h6 = self.keys.bib6(bib.proto, bib.v6.addr, bib.v6.port);
        let h4 = self.keys.bib4(bib.proto, bib.v4.addr, bib.v4.port);
        let b4 = self.find_bib4_h(h4, bib.proto, bib.v4);
        let b6 = self.find_bib6_h(h6, bib.proto, bib.v6);
        match existing_bib(&bib, b4, b6)? {
            Some(x) => {
                if bib.is_static {
                    self.bibs[x as usize].flags |= BIB_STATIC;
                }
                Ok(())
            }
            None => {
                let full = InsertError::TableFull {
                    max: self.limits.max_sessions,
                };
                if self.b_len >= self.max {
                    return Err(full);
                }
                self.bib_room().map_err(|()| full)?;
                if !bib.is_static && self.orphans.len() >= 2 * self.b_len + 64 {
                    let bibs = &self.bibs;
                    self.orphans
                        .retain(|&b| bibs.get(b as usize).is_some_and(|r| r.live() && r.head == NONE));
                }
                if !bib.is_static && self.orphans.try_reserve(1).is_err() {
                    return Err(full);
                }
                let b = self.new_bib(bib.proto, bib.v6, bib.v4, bib.is_static, (h6, h4));
                if !bib.is_static {
                    self.orphans.push(b);
                }
                Ok(())
            }
        }
    }

    fn remove_bib(&mut self, proto: Proto, v4: Taddr4) -> bool {
        let Some(b) = self.find_bib4(proto, v4) else {
            return false;
        };
        loop {
            let h = self.bibs[b as usize].head;
            if h == NONE {
                break;
            }
            self.remove_slot(h, false);
        }
        self.drop_bib(b);
        true
    }

    #[inline]
    fn find_v6(&self, proto: Proto, v6: Taddr6, remote: Taddr4) -> Option<SessionHandle> {
        let slot = self.find_v6_slot(proto, v6, remote)?;
        let r = &self.recs[slot as usize];
        self.alive(r).then_some(SessionHandle { slot, gen: r.gen })
    }

    #[inline]
    fn find_v4(&self, proto: Proto, v4: Taddr4, remote: Taddr4) -> Option<SessionHandle> {
        let slot = self.find_v4_slot(proto, v4, remote)?;
        let r = &self.recs[slot as usize];
        self.alive(r).then_some(SessionHandle { slot, gen: r.gen })
    }

    fn has_session_with(&self, proto: Proto, v4: Taddr4, remote: Ipv4Addr) -> bool {
        let h = self.keys.adf(proto, v4.addr, v4.port, remote);
        let recs = &self.recs;
        let Some(m) = self.adf.find(h, |c| {
            recs.get(c as usize)
                .is_some_and(|r| r.v4 == v4 && r.remote.addr == remote && r.proto() == proto)
        }) else {
            return false;
        };
        if self.alive(&recs[m as usize]) {
            return true;
        }
        // The group's member in the index is due for expiry: look at the
        // rest of the group (contiguous in the BIB's list).
        for forward in [true, false] {
            let mut c = m;
            loop {
                let r = &recs[c as usize];
                c = if forward { r.bnext } else { r.bprev };
                if c == NONE || recs[c as usize].remote.addr != remote {
                    break;
                }
                if self.alive(&recs[c as usize]) {
                    return true;
                }
            }
        }
        false
    }

    /// The session, or [`STALE_SESSION`] if the handle's session was removed.
    #[inline]
    fn get(&self, h: SessionHandle) -> Session {
        self.try_get(h).unwrap_or(STALE_SESSION)
    }

    /// Adds `s`. If a session with the same tuple exists, it takes `s`'s
    /// state and expiry and its handle is returned. If neither transport
    /// address of `s` has a BIB entry, a dynamic one is created (counted
    /// against `max_sessions` like [`SessionTable::add_bib`]); if one of them
    /// is bound elsewhere, [`InsertError::V4InUse`] or
    /// [`InsertError::V6InUse`].
    fn insert(&mut self, s: Session) -> Result<SessionHandle, InsertError> {
        let h4 = self.keys.bib4(s.proto, s.v4.addr, s.v4.port);
        let h6 = self.keys.bib6(s.proto, s.v6.addr, s.v6.port);
        let bib = match self.find_bib4_h(h4, s.proto, s.v4) {
            Some(b) => {
                let r = &self.bibs[b as usize];
                if r.v6 != s.v6 {
                    return Err(InsertError::V4InUse {
                        proto: s.proto,
                        v4: s.v4,
                    });
                }
                // A BIB entry without sessions (just added) has no match.
                let found = if r.head == NONE {
                    None
                } else {
                    self.find_v6_slot(s.proto, s.v6, s.remote)
                };
                if let Some(x) = found {
                    let h = self.handle(x);
                    self.update(h, s.state, s.expires);
                    return Ok(h);
                }
                Some(b)
            }
            None if self.find_bib6_h(h6, s.proto, s.v6).is_some() => {
                return Err(InsertError::V6InUse {
                    proto: s.proto,
                    v6: s.v6,
                });
            }
            None => None,
        };
        let full = InsertError::TableFull {
            max: self.limits.max_sessions,
        };
        // The quota first: a client over it is refused as such, and a full
        // table does not evict anyone's session for it (evict_for_room).
        self.check_quota(s.v6.addr)?;
        if self.s_len >= self.max {
            return Err(full);
        }
        if self.quota() > 0 {
            self.clients.reserve_one(&self.keys).map_err(|()| full)?;
        }
        if bib.is_none() && self.b_len >= self.max {
            return Err(full);
        }
        self.session_room().map_err(|()| full)?;
        if bib.is_none() {
            self.bib_room().map_err(|()| full)?;
        }
        let b = match bib {
            Some(b) => b,
            None => self.new_bib(s.proto, s.v6, s.v4, false, (h6, h4)),
        };
        let slot = self.add_session(&s, b);
        Ok(self.handle(slot))
    }

    /// Sets state and expiry; ignores a stale handle.
    fn update(&mut self, h: SessionHandle, state: TcpState, expires: Instant) {
        let Some(i) = self.slot_of(h) else { return };
        let was = self.recs[i].evictable();
        let r = &mut self.recs[i];
        r.ps = pack(r.proto(), state);
        if r.evictable() != was {
            // Into the lanes of its class, wherever its expiry.
            self.unlink_exp(h.slot);
            self.recs[i].expires = expires.0;
            self.link_exp(h.slot);
        } else {
            self.set_expiry(h.slot, expires.0);
        }
    }

    /// Removes the session; ignores a stale handle.
    fn remove(&mut self, h: SessionHandle) {
        if self.slot_of(h).is_some() {
            self.remove_slot(h.slot, true);
        }
    }

    fn expire(&mut self, now: Instant) -> usize {
        self.floor = Some(now.0);
        let mut n = 0;
        let mut li = 0;
        while li < self.n_lanes {
            loop {
                let l = self.lanes[li];
                if l.head == NONE || l.head_exp > now.0 {
                    break;
                }
                self.remove_slot(l.head, true);
                n += 1;
            }
            li += 1;
        }
        while let Some(top) = self.heap.first().copied() {
            if top.exp > now.0 {
                break;
            }
            self.remove_slot(top.slot, true);
            n += 1;
        }
        let orphans = core::mem::take(&mut self.orphans);
        for &b in &orphans {
            if let Some(r) = self.bibs.get(b as usize) {
                if r.live() && !r.is_static() && r.head == NONE {
                    self.drop_bib(b);
                }
            }
        }
        // Keep a small allocation.
        if orphans.capacity() <= 256 {
            self.orphans = orphans;
            self.orphans.clear();
        }
        n
    }

    /// O(lanes): only lane heads are candidates. Evictable sessions keep to
    /// lanes of their own (a session moves lanes when its state crosses
    /// the line), each sorted by expiry, and all of them share the
    /// transitory timeout, so with a clock that does not go back they fill
    /// one lane and its head is the half-open or closing session closest
    /// to its end: the oldest SYN of a flood goes first, and a legitimate
    /// SYN sent during the flood keeps its slot until every older one has
    /// gone. Sessions in the overflow heap (a clock that went back more
    /// than the lanes absorb) are not candidates.
    fn evict_for_room(&mut self, _now: Instant) -> Option<Session> {
        let mut best: Option<(u64, u32)> = None;
        for l in &self.lanes[..self.n_lanes] {
            if l.head == NONE || !l.evictable {
                continue;
            }
            // The head itself is checked too: the last resort of a heap that
            // cannot grow (insert_sorted) may have mixed the kinds.
            if self.recs[l.head as usize].evictable() && best.is_none_or(|(e, _)| l.head_exp < e) {
                best = Some((l.head_exp, l.head));
            }
        }
        let (_, slot) = best?;
        let s = self.recs[slot as usize].session();
        self.remove_slot(slot, true);
        Some(s)
    }

    fn check_quota(&self, client: Ipv6Addr) -> Result<(), InsertError> {
        let quota = self.quota();
        if quota > 0 {
            let key = client.to_bits() & self.client_mask;
            if self.clients.count(&self.keys, key) >= quota {
                return Err(InsertError::ClientQuota {
                    client: Ipv6Addr::from_bits(key),
                    max: quota,
                });
            }
        }
        Ok(())
    }

    /// Exact: the smallest `expires` of all sessions (O(lanes)).
    fn next_expiry(&self) -> Option<Instant> {
        let lanes = self.lanes[..self.n_lanes]
            .iter()
            .filter(|l| l.head != NONE)
            .map(|l| l.head_exp);
        lanes.chain(self.heap.first().map(|e| e.exp)).min().map(Instant)
    }

    fn session_count(&self) -> usize {
        self.s_len
    }

    fn bib_count(&self) -> usize {
        self.b_len
    }

    fn for_each_session(&self, f: &mut dyn FnMut(&Session)) {
        for r in self.recs.iter().filter(|r| !r.vacant()) {
            f(&r.session());
        }
    }

    fn for_each_bib(&self, f: &mut dyn FnMut(&Bib)) {
        for b in self.bibs.iter().filter(|b| b.live()) {
            f(&b.bib());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6146 section 3.5: one BIB entry per IPv6 and per IPv4 transport
    /// address; the four cases by hand (the model test uses the function).
    #[test]
    fn existing_bib_cases() {
        let bib = Bib {
            proto: Proto::Udp,
            v6: Taddr6 {
                addr: Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1),
                port: 1000,
            },
            v4: Taddr4 {
                addr: Ipv4Addr::new(192, 0, 2, 1),
                port: 2000,
            },
            is_static: false,
        };
        let v4_taken = Err(InsertError::V4InUse {
            proto: Proto::Udp,
            v4: bib.v4,
        });
        let v6_taken = Err(InsertError::V6InUse {
            proto: Proto::Udp,
            v6: bib.v6,
        });
        assert_eq!(existing_bib::<u32>(&bib, None, None), Ok(None), "both free");
        assert_eq!(existing_bib(&bib, Some(7), Some(7)), Ok(Some(7)), "there already");
        assert_eq!(
            existing_bib(&bib, Some(7), Some(8)),
            v4_taken,
            "two entries: IPv4 named first"
        );
        assert_eq!(existing_bib(&bib, Some(7), None), v4_taken);
        assert_eq!(existing_bib(&bib, None, Some(8)), v6_taken);
    }
}
