//! The invariant checker the tests run after every step.

use super::super::index::{EMPTY, SLOTS};
use super::*;

// --- the invariant checker ------------------------------------------------

impl Index {
    /// Every overflow count equals the entries that passed its bucket.
    fn check(&self, hash_of: impl Fn(u32) -> u64) {
        let nb = self.buckets.len();
        let mut over = vec![0u32; nb];
        let mut n = 0;
        for (b, bucket) in self.buckets.iter().enumerate() {
            for &e in &bucket[..SLOTS] {
                if e == EMPTY {
                    continue;
                }
                n += 1;
                let h = hash_of(e & self.mask);
                assert_eq!(e & !self.mask, self.tag(h), "tag");
                let mut c = self.home(h);
                while c != b {
                    over[c] += 1;
                    c = (c + 1) % nb;
                }
            }
        }
        assert_eq!(n, self.len, "index length");
        for (b, bucket) in self.buckets.iter().enumerate() {
            assert_eq!(bucket[SLOTS], over[b], "overflow count of bucket {b}");
        }
    }
}

impl DefaultTable {
    pub(super) fn check(&self) {
        let t = self;
        let k = &t.keys;
        // Sessions and their two indexes.
        let mut live = 0;
        for (i, r) in t.recs.iter().enumerate() {
            if r.vacant() {
                continue;
            }
            live += 1;
            let s = r.session();
            assert_eq!(t.find_v6_slot(s.proto, s.v6, s.remote), Some(i as u32));
            assert_eq!(t.find_v4_slot(s.proto, s.v4, s.remote), Some(i as u32));
            let b = &t.bibs[r.bib as usize];
            assert!(b.live());
            assert_eq!((b.proto(), b.v6, b.v4), (s.proto, r.v6, r.v4));
            assert!(r.lane == IN_HEAP || usize::from(r.lane) < t.n_lanes);
        }
        assert_eq!(live, t.s_len);
        assert!(t.recs.len() <= t.s_cap);
        t.by_v6.check(|s| t.recs[s as usize].hash_v6(k));
        t.by_v4.check(|s| t.recs[s as usize].hash_v4(k));
        t.adf.check(|s| t.recs[s as usize].hash_adf(k));
        let mut free = 0;
        let mut f = t.s_free;
        while f != NONE {
            assert!(t.recs[f as usize].vacant());
            free += 1;
            assert!(free <= t.recs.len());
            f = t.recs[f as usize].enext;
        }
        assert_eq!(free + live, t.recs.len());

        // BIB entries, their session lists and the filtering groups.
        let (mut nbib, mut listed, mut groups) = (0, 0, 0);
        for (bi, b) in t.bibs.iter().enumerate() {
            if !b.live() {
                continue;
            }
            nbib += 1;
            let bib = b.bib();
            assert_eq!(t.find_bib6(bib.proto, bib.v6), Some(bi as u32));
            assert_eq!(t.find_bib4(bib.proto, bib.v4), Some(bi as u32));
            let mut seen: Vec<Ipv4Addr> = Vec::new();
            let (mut prev, mut c) = (NONE, b.head);
            while c != NONE {
                let r = &t.recs[c as usize];
                assert!(!r.vacant());
                assert_eq!(r.bib, bi as u32);
                assert_eq!(r.bprev, prev);
                if seen.last() != Some(&r.remote.addr) {
                    assert!(!seen.contains(&r.remote.addr), "filtering group split");
                    seen.push(r.remote.addr);
                    groups += 1;
                    let m = t.adf.find(r.hash_adf(k), |x| t.recs[x as usize].same_group(r));
                    let m = m.expect("group in the filtering index");
                    assert!(!t.recs[m as usize].vacant() && t.recs[m as usize].same_group(r));
                }
                listed += 1;
                assert!(listed <= live);
                (prev, c) = (c, r.bnext);
            }
            if !b.is_static() && b.head == NONE {
                assert!(t.orphans.contains(&(bi as u32)), "dynamic BIB entry without sessions");
            }
        }
        assert_eq!(listed, live);
        assert_eq!(t.adf.len, groups);
        assert_eq!(nbib, t.b_len);
        assert!(t.bibs.len() <= t.b_cap);
        let bib_of = |s: u32| t.bibs[s as usize];
        t.bib6
            .check(|s| k.bib6(bib_of(s).proto(), bib_of(s).v6.addr, bib_of(s).v6.port));
        t.bib4
            .check(|s| k.bib4(bib_of(s).proto(), bib_of(s).v4.addr, bib_of(s).v4.port));

        // Expiry lanes: sorted, complete, cached ends right.
        let mut laned = 0;
        for (li, l) in t.lanes.iter().enumerate() {
            if li >= t.n_lanes {
                assert_eq!((l.head, l.tail), (NONE, NONE));
                continue;
            }
            let (mut prev, mut c, mut last) = (NONE, l.head, 0u64);
            while c != NONE {
                let r = &t.recs[c as usize];
                assert_eq!(usize::from(r.lane), li);
                assert_eq!(r.eprev, prev);
                assert!(r.expires >= last, "lane out of order");
                // Kept apart except by the last resort of a heap that
                // cannot grow (insert_sorted), which these tests force.
                if !t.no_heap {
                    assert_eq!(r.evictable(), l.evictable, "evictable and other sessions share a lane");
                }
                if prev == NONE {
                    assert_eq!(l.head_exp, r.expires);
                }
                last = r.expires;
                laned += 1;
                assert!(laned <= live);
                (prev, c) = (c, r.enext);
            }
            assert_eq!(l.tail, prev);
            if prev != NONE {
                assert_eq!(l.tail_exp, last);
            }
        }
        for (pos, e) in t.heap.iter().enumerate() {
            let r = &t.recs[e.slot as usize];
            assert_eq!((r.lane, r.eprev as usize, r.expires), (IN_HEAP, pos, e.exp));
            if pos > 0 {
                assert!(t.heap[(pos - 1) / 2].exp <= e.exp, "heap order");
            }
        }
        assert_eq!(laned + t.heap.len(), live);
        assert!(t.n_lanes == 0 || t.lanes[t.n_lanes - 1].head != NONE);

        // Client counts.
        if t.quota() > 0 {
            let mut counts: Vec<(u128, usize)> = Vec::new();
            for r in t.recs.iter().filter(|r| !r.vacant()) {
                let key = r.v6.addr.to_bits() & t.client_mask;
                match counts.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, n)) => *n += 1,
                    None => counts.push((key, 1)),
                }
            }
            for &(key, n) in &counts {
                assert_eq!(t.clients.count(k, key), n);
            }
            assert_eq!(t.clients.len, counts.len());
        } else {
            assert_eq!(t.clients.len, 0);
        }
    }

    /// A handle even for a session due for expiry.
    pub(super) fn handle_v6(&self, s: &Session) -> SessionHandle {
        self.handle(self.find_v6_slot(s.proto, s.v6, s.remote).expect("session"))
    }
}
