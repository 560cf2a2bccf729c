//! Expiry lanes and the overflow heap (see the module documentation of
//! [`super`]).

use super::{DefaultTable, IN_HEAP, MAX_LANES, NONE};

/// An expiry lane: a list sorted by `expires`, with its ends' expiries
/// cached so lane choice and `next_expiry` touch no record.
#[derive(Clone, Copy)]
pub(super) struct Lane {
    pub(super) head: u32,
    pub(super) tail: u32,
    pub(super) head_exp: u64,
    pub(super) tail_exp: u64,
    /// Holds only evictable sessions ([`Rec::evictable`]) or only others;
    /// set when the lane gets its first session.
    pub(super) evictable: bool,
}

/// An entry of the overflow heap, a binary min-heap on `exp`.
#[derive(Clone, Copy)]
pub(super) struct HeapEntry {
    pub(super) exp: u64,
    pub(super) slot: u32,
}

pub(super) const EMPTY_LANE: Lane = Lane {
    head: NONE,
    tail: NONE,
    head_exp: 0,
    tail_exp: 0,
    evictable: false,
};

impl DefaultTable {
    /// Links `slot` (whose `expires` is set) into an expiry lane.
    pub(super) fn link_exp(&mut self, slot: u32) {
        let e = self.recs[slot as usize].expires;
        let class = self.recs[slot as usize].evictable();
        let (mut best, mut best_t) = (usize::MAX, 0u64);
        let mut free = usize::MAX;
        let (mut above, mut above_t) = (usize::MAX, u64::MAX);
        for (i, l) in self.lanes[..self.n_lanes].iter().enumerate() {
            if l.head == NONE {
                if free == usize::MAX {
                    free = i;
                }
            } else if l.evictable != class {
                // Evictable sessions keep to lanes of their own, so that
                // the oldest of them is a lane head (evict_for_room).
            } else if l.tail_exp <= e {
                if best == usize::MAX || l.tail_exp > best_t {
                    (best, best_t) = (i, l.tail_exp);
                }
            } else if l.tail_exp < above_t {
                (above, above_t) = (i, l.tail_exp);
            }
        }
        let li = if best != usize::MAX {
            best
        } else if free != usize::MAX {
            free
        } else if self.n_lanes < MAX_LANES {
            self.n_lanes += 1;
            self.n_lanes - 1
        } else {
            if !self.heap_push(slot, e) {
                self.insert_sorted(above, slot, e);
            }
            return;
        };
        let tail = self.lanes[li].tail;
        let r = &mut self.recs[slot as usize];
        r.lane = li as u8;
        r.eprev = tail;
        r.enext = NONE;
        let lane = &mut self.lanes[li];
        if tail == NONE {
            lane.head = slot;
            lane.head_exp = e;
            lane.evictable = class;
        } else {
            self.recs[tail as usize].enext = slot;
        }
        lane.tail = slot;
        lane.tail_exp = e;
    }

    /// Fallback of the fallback, when the heap cannot grow: places `slot`
    /// in lane `li` (whose tail expires after `e`) by walking back from its
    /// tail.
    fn insert_sorted(&mut self, li: usize, slot: u32, e: u64) {
        let li = li.min(MAX_LANES - 1);
        let mut p = self.lanes[li].tail;
        while p != NONE && self.recs[p as usize].expires > e {
            p = self.recs[p as usize].eprev;
        }
        let n = if p == NONE {
            self.lanes[li].head
        } else {
            self.recs[p as usize].enext
        };
        let r = &mut self.recs[slot as usize];
        r.lane = li as u8;
        r.eprev = p;
        r.enext = n;
        let lane = &mut self.lanes[li];
        if p == NONE {
            lane.head = slot;
            lane.head_exp = e;
        } else {
            self.recs[p as usize].enext = slot;
        }
        if n == NONE {
            lane.tail = slot;
            lane.tail_exp = e;
        } else {
            self.recs[n as usize].eprev = slot;
        }
    }

    /// Puts `slot` in the overflow heap; false if the heap cannot grow.
    fn heap_push(&mut self, slot: u32, e: u64) -> bool {
        #[cfg(test)]
        if self.no_heap {
            return false;
        }
        if self.heap.try_reserve(1).is_err() {
            return false;
        }
        self.heap.push(HeapEntry { exp: e, slot });
        self.recs[slot as usize].lane = IN_HEAP;
        self.recs[slot as usize].enext = NONE;
        self.sift_up(self.heap.len() - 1);
        true
    }

    fn heap_set(&mut self, pos: usize, e: HeapEntry) {
        self.heap[pos] = e;
        self.recs[e.slot as usize].eprev = pos as u32;
    }

    fn sift_up(&mut self, mut pos: usize) {
        let e = self.heap[pos];
        while pos > 0 {
            let parent = (pos - 1) / 2;
            let p = self.heap[parent];
            if p.exp <= e.exp {
                break;
            }
            self.heap_set(pos, p);
            pos = parent;
        }
        self.heap_set(pos, e);
    }

    fn sift_down(&mut self, mut pos: usize) {
        let e = self.heap[pos];
        let n = self.heap.len();
        loop {
            let l = 2 * pos + 1;
            if l >= n {
                break;
            }
            let c = if l + 1 < n && self.heap[l + 1].exp < self.heap[l].exp {
                l + 1
            } else {
                l
            };
            let ce = self.heap[c];
            if ce.exp >= e.exp {
                break;
            }
            self.heap_set(pos, ce);
            pos = c;
        }
        self.heap_set(pos, e);
    }

    fn heap_remove(&mut self, slot: u32) {
        let pos = self.recs[slot as usize].eprev as usize;
        if self.heap.get(pos).is_none_or(|x| x.slot != slot) {
            return;
        }
        let Some(last) = self.heap.pop() else { return };
        if pos < self.heap.len() {
            self.heap_set(pos, last);
            self.sift_down(pos);
            self.sift_up(pos);
        }
    }

    pub(super) fn unlink_exp(&mut self, slot: u32) {
        let r = self.recs[slot as usize];
        if r.lane == IN_HEAP {
            self.heap_remove(slot);
            return;
        }
        let li = usize::from(r.lane);
        if li >= MAX_LANES {
            return;
        }
        if r.eprev != NONE {
            self.recs[r.eprev as usize].enext = r.enext;
        } else {
            self.lanes[li].head = r.enext;
            self.lanes[li].head_exp = if r.enext != NONE {
                self.recs[r.enext as usize].expires
            } else {
                0
            };
        }
        if r.enext != NONE {
            self.recs[r.enext as usize].eprev = r.eprev;
        } else {
            self.lanes[li].tail = r.eprev;
            self.lanes[li].tail_exp = if r.eprev != NONE {
                self.recs[r.eprev as usize].expires
            } else {
                0
            };
        }
        while self.n_lanes > 0 && self.lanes[self.n_lanes - 1].head == NONE {
            self.n_lanes -= 1;
        }
    }

    pub(super) fn set_expiry(&mut self, slot: u32, e: u64) {
        let r = self.recs[slot as usize];
        if r.expires == e {
            return;
        }
        // Still in order where it is in its lane? Then only the lane's cached
        // ends move.
        let li = usize::from(r.lane);
        let in_order = li < MAX_LANES
            && (r.eprev == NONE || self.recs[r.eprev as usize].expires <= e)
            && (r.enext == NONE || e <= self.recs[r.enext as usize].expires);
        if in_order {
            self.recs[slot as usize].expires = e;
            let lane = &mut self.lanes[li];
            if r.eprev == NONE {
                lane.head_exp = e;
            }
            if r.enext == NONE {
                lane.tail_exp = e;
            }
            return;
        }
        self.unlink_exp(slot);
        self.recs[slot as usize].expires = e;
        self.link_exp(slot);
    }
}
