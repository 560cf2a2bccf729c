//! Slab management: growth, BIB records, session records and their links.

use super::super::table::{Proto, Session, Taddr4, Taddr6};
use super::index::Index;
use super::records::{pack, BibRec, Rec, BIB_LIVE, BIB_STATIC, VACANT_REC};
use super::{DefaultTable, MIN_GROWTH, NONE, VACANT};

impl DefaultTable {
    /// Grows the session slab and rebuilds its indexes for `cap` slots.
    pub(super) fn grow_sessions(&mut self, cap: usize) -> Result<(), ()> {
        if cap <= self.s_cap {
            return Ok(());
        }
        self.recs.try_reserve_exact(cap - self.recs.len()).map_err(drop)?;
        let mut v6 = Index::for_capacity(cap)?;
        let mut v4 = Index::for_capacity(cap)?;
        let mut adf = Index::for_capacity(cap)?;
        for (i, r) in self.recs.iter().enumerate() {
            if r.vacant() {
                continue;
            }
            let i = i as u32;
            v6.insert(r.hash_v6(&self.keys), i);
            v4.insert(r.hash_v4(&self.keys), i);
            let ha = r.hash_adf(&self.keys);
            let recs = &self.recs;
            if adf
                .find(ha, |c| recs.get(c as usize).is_some_and(|o| o.same_group(r)))
                .is_none()
            {
                adf.insert(ha, i);
            }
        }
        self.by_v6 = v6;
        self.by_v4 = v4;
        self.adf = adf;
        self.s_cap = cap;
        Ok(())
    }

    pub(super) fn grow_bibs(&mut self, cap: usize) -> Result<(), ()> {
        if cap <= self.b_cap {
            return Ok(());
        }
        self.bibs.try_reserve_exact(cap - self.bibs.len()).map_err(drop)?;
        let mut b6 = Index::for_capacity(cap)?;
        let mut b4 = Index::for_capacity(cap)?;
        for (i, b) in self.bibs.iter().enumerate() {
            if b.live() {
                b6.insert(self.keys.bib6(b.proto(), b.v6.addr, b.v6.port), i as u32);
                b4.insert(self.keys.bib4(b.proto(), b.v4.addr, b.v4.port), i as u32);
            }
        }
        self.bib6 = b6;
        self.bib4 = b4;
        self.b_cap = cap;
        Ok(())
    }

    fn next_cap(cur: usize, max: usize) -> usize {
        cur.saturating_mul(2).max(MIN_GROWTH).min(max)
    }

    /// A vacant session slot is available (growing if needed).
    pub(super) fn session_room(&mut self) -> Result<(), ()> {
        if self.s_free != NONE || self.recs.len() < self.s_cap {
            return Ok(());
        }
        if self.recs.len() >= self.max {
            return Err(());
        }
        self.grow_sessions(Self::next_cap(self.s_cap, self.max))
    }

    pub(super) fn bib_room(&mut self) -> Result<(), ()> {
        if self.b_free != NONE || self.bibs.len() < self.b_cap {
            return Ok(());
        }
        if self.bibs.len() >= self.max {
            return Err(());
        }
        self.grow_bibs(Self::next_cap(self.b_cap, self.max))
    }

    // --- BIB --------------------------------------------------------------

    pub(super) fn find_bib6(&self, proto: Proto, v6: Taddr6) -> Option<u32> {
        self.find_bib6_h(self.keys.bib6(proto, v6.addr, v6.port), proto, v6)
    }

    pub(super) fn find_bib6_h(&self, h: u64, proto: Proto, v6: Taddr6) -> Option<u32> {
        let bibs = &self.bibs;
        self.bib6.find(h, |c| {
            bibs.get(c as usize).is_some_and(|b| b.v6 == v6 && b.proto() == proto)
        })
    }

    pub(super) fn find_bib4(&self, proto: Proto, v4: Taddr4) -> Option<u32> {
        self.find_bib4_h(self.keys.bib4(proto, v4.addr, v4.port), proto, v4)
    }

    pub(super) fn find_bib4_h(&self, h: u64, proto: Proto, v4: Taddr4) -> Option<u32> {
        let bibs = &self.bibs;
        self.bib4.find(h, |c| {
            bibs.get(c as usize).is_some_and(|b| b.v4 == v4 && b.proto() == proto)
        })
    }

    /// Adds a BIB record whose index hashes are `h6` and `h4`;
    /// [`DefaultTable::bib_room`] must have succeeded.
    pub(super) fn new_bib(
        &mut self,
        proto: Proto,
        v6: Taddr6,
        v4: Taddr4,
        is_static: bool,
        (h6, h4): (u64, u64),
    ) -> u32 {
        let rec = BibRec {
            v6,
            v4,
            head: NONE,
            flags: proto.index() as u8 | BIB_LIVE | if is_static { BIB_STATIC } else { 0 },
        };
        let b = if self.b_free != NONE {
            let b = self.b_free;
            self.b_free = self.bibs[b as usize].head;
            self.bibs[b as usize] = rec;
            b
        } else {
            self.bibs.push(rec);
            (self.bibs.len() - 1) as u32
        };
        self.bib6.insert(h6, b);
        self.bib4.insert(h4, b);
        self.b_len += 1;
        b
    }

    /// Drops a BIB record (its sessions must be gone).
    pub(super) fn drop_bib(&mut self, b: u32) {
        let Some(r) = self.bibs.get(b as usize).copied() else {
            return;
        };
        if !r.live() {
            return;
        }
        self.bib6.remove(self.keys.bib6(r.proto(), r.v6.addr, r.v6.port), b);
        self.bib4.remove(self.keys.bib4(r.proto(), r.v4.addr, r.v4.port), b);
        self.bibs[b as usize] = BibRec {
            head: self.b_free,
            flags: 0,
            ..r
        };
        self.b_free = b;
        self.b_len -= 1;
    }

    // --- sessions ---------------------------------------------------------

    pub(super) fn find_v6_slot(&self, proto: Proto, v6: Taddr6, remote: Taddr4) -> Option<u32> {
        let h = self.keys.v6(proto, v6.addr, v6.port, remote.addr, remote.port);
        let recs = &self.recs;
        self.by_v6.find(h, |c| {
            recs.get(c as usize)
                .is_some_and(|r| r.v6 == v6 && r.remote == remote && r.proto() == proto)
        })
    }

    pub(super) fn find_v4_slot(&self, proto: Proto, v4: Taddr4, remote: Taddr4) -> Option<u32> {
        let h = self.keys.v4(proto, v4.addr, v4.port, remote.addr, remote.port);
        let recs = &self.recs;
        self.by_v4.find(h, |c| {
            recs.get(c as usize)
                .is_some_and(|r| r.v4 == v4 && r.remote == remote && r.proto() == proto)
        })
    }

    /// Removes session `slot`; with `drop_bib`, also its BIB entry if that
    /// is dynamic and left without sessions.
    pub(super) fn remove_slot(&mut self, slot: u32, drop_bib: bool) {
        let Some(r) = self.recs.get(slot as usize).copied() else {
            return;
        };
        if r.vacant() {
            return;
        }
        self.by_v6.remove(r.hash_v6(&self.keys), slot);
        self.by_v4.remove(r.hash_v4(&self.keys), slot);
        // The filtering index: hand over to a neighbour of the same group.
        let ha = r.hash_adf(&self.keys);
        let same = |x: u32| x != NONE && self.recs[x as usize].remote.addr == r.remote.addr;
        let heir = if same(r.bnext) {
            r.bnext
        } else if same(r.bprev) {
            r.bprev
        } else {
            NONE
        };
        if heir != NONE {
            self.adf.replace(ha, slot, heir);
        } else {
            self.adf.remove(ha, slot);
        }
        // The BIB's list.
        if r.bprev != NONE {
            self.recs[r.bprev as usize].bnext = r.bnext;
        } else if let Some(b) = self.bibs.get_mut(r.bib as usize) {
            b.head = r.bnext;
        }
        if r.bnext != NONE {
            self.recs[r.bnext as usize].bprev = r.bprev;
        }
        self.unlink_exp(slot);
        if self.quota() > 0 {
            self.clients.decr(&self.keys, r.v6.addr.to_bits() & self.client_mask);
        }
        let x = &mut self.recs[slot as usize];
        x.lane = VACANT;
        x.gen = x.gen.wrapping_add(1);
        x.enext = self.s_free;
        self.s_free = slot;
        self.s_len -= 1;
        if drop_bib {
            if let Some(b) = self.bibs.get(r.bib as usize) {
                if b.live() && b.head == NONE && !b.is_static() {
                    self.drop_bib(r.bib);
                }
            }
        }
    }

    /// Adds a new session to BIB `b`; the room checks must have succeeded.
    pub(super) fn add_session(&mut self, s: &Session, b: u32) -> u32 {
        let slot = if self.s_free != NONE {
            let x = self.s_free;
            self.s_free = self.recs[x as usize].enext;
            x
        } else {
            self.recs.push(VACANT_REC);
            (self.recs.len() - 1) as u32
        };
        let gen = self.recs[slot as usize].gen;
        let rec = Rec {
            expires: s.expires.0,
            v6: s.v6,
            v4: s.v4,
            remote: s.remote,
            ps: pack(s.proto, s.state),
            lane: VACANT,
            gen,
            bib: b,
            bprev: NONE,
            bnext: NONE,
            eprev: NONE,
            enext: NONE,
        };
        self.recs[slot as usize] = rec;
        self.by_v6.insert(rec.hash_v6(&self.keys), slot);
        self.by_v4.insert(rec.hash_v4(&self.keys), slot);
        let ha = rec.hash_adf(&self.keys);
        let recs = &self.recs;
        let member = if self.bibs[b as usize].head == NONE {
            // The BIB entry's first session: if `add_bib` just listed the
            // entry as having none, unlist it.
            if self.orphans.last() == Some(&b) {
                self.orphans.pop();
            }
            None
        } else {
            self.adf.find(ha, |c| {
                recs.get(c as usize).is_some_and(|o| c != slot && o.same_group(&rec))
            })
        };
        match member {
            Some(m) => {
                // Right after a member of its group: groups stay contiguous.
                let n = self.recs[m as usize].bnext;
                self.recs[slot as usize].bprev = m;
                self.recs[slot as usize].bnext = n;
                self.recs[m as usize].bnext = slot;
                if n != NONE {
                    self.recs[n as usize].bprev = slot;
                }
            }
            None => {
                self.adf.insert(ha, slot);
                let h = self.bibs[b as usize].head;
                self.recs[slot as usize].bnext = h;
                if h != NONE {
                    self.recs[h as usize].bprev = slot;
                }
                self.bibs[b as usize].head = slot;
            }
        }
        self.link_exp(slot);
        if self.quota() > 0 {
            self.clients.incr(&self.keys, s.v6.addr.to_bits() & self.client_mask);
        }
        self.s_len += 1;
        slot
    }
}
