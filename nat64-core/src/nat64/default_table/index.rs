//! The hash index: bucketized open addressing over `u32` entries (see the
//! module documentation of [`super`]).

use alloc::vec::Vec;

use super::HARD_CAP;

/// `u32` per bucket (one cache line).
const BUCKET: usize = 16;
/// Entries per bucket; `bucket[SLOTS]` is the overflow count.
pub(super) const SLOTS: usize = 15;
/// Entries per bucket at the capacity the index is sized for (load 0.8).
const SIZED_LOAD: usize = 12;
/// A vacant entry.
pub(super) const EMPTY: u32 = u32::MAX;
const EMPTY_BUCKET: [u32; BUCKET] = {
    let mut b = [EMPTY; BUCKET];
    b[SLOTS] = 0;
    b
};

/// A hash index whose entries are `tag | slot`: `slot` in the bits of
/// `mask`, the tag (bits of the hash) above. A slot is always below `mask`,
/// so no entry equals [`EMPTY`].
pub(super) struct Index {
    pub(super) buckets: Vec<[u32; BUCKET]>,
    pub(super) mask: u32,
    pub(super) len: usize,
}

impl Index {
    pub(super) const fn new() -> Self {
        Index {
            buckets: Vec::new(),
            mask: 1,
            len: 0,
        }
    }

    /// An index for slots `0..cap` (at most `cap` entries).
    pub(super) fn for_capacity(cap: usize) -> Result<Self, ()> {
        let cap = cap.min(HARD_CAP);
        let nb = cap.div_ceil(SIZED_LOAD).max(1);
        let mut buckets = Vec::new();
        buckets.try_reserve_exact(nb).map_err(drop)?;
        buckets.resize(nb, EMPTY_BUCKET);
        let bits = (usize::BITS - cap.leading_zeros()).max(1);
        Ok(Index {
            buckets,
            mask: (1u32 << bits) - 1,
            len: 0,
        })
    }

    #[inline(always)]
    pub(super) fn home(&self, h: u64) -> usize {
        (((h >> 32) * self.buckets.len() as u64) >> 32) as usize
    }

    #[inline(always)]
    pub(super) fn tag(&self, h: u64) -> u32 {
        (h as u32) & !self.mask
    }

    /// The buckets that may hold entries of hash `h`, in the order they
    /// are tried: its home bucket, then the following ones, wrapping
    /// around, each bucket once.
    #[inline(always)]
    fn probe(&self, h: u64) -> Probe {
        Probe {
            next: self.home(h),
            left: self.buckets.len(),
            buckets: self.buckets.len(),
        }
    }

    /// The slot whose record `eq` accepts, among the entries of hash `h`.
    #[inline]
    pub(super) fn find(&self, h: u64, mut eq: impl FnMut(u32) -> bool) -> Option<u32> {
        let tag = self.tag(h);
        for b in self.probe(h) {
            let bucket = self.buckets.get(b)?;
            let mut m = 0u32;
            for (i, &e) in bucket.iter().enumerate() {
                m |= u32::from((e ^ tag) & !self.mask == 0) << i;
            }
            m &= (1 << SLOTS) - 1;
            while m != 0 {
                let s = bucket[m.trailing_zeros() as usize] & self.mask;
                m &= m - 1;
                if s != self.mask && eq(s) {
                    return Some(s);
                }
            }
            if bucket[SLOTS] == 0 {
                return None;
            }
        }
        None
    }

    /// Adds `slot` under hash `h`; false if the index is full (never, when
    /// sized for the slab).
    pub(super) fn insert(&mut self, h: u64, slot: u32) -> bool {
        let nb = self.buckets.len();
        if self.len >= nb * SLOTS || slot >= self.mask {
            return false;
        }
        let e = self.tag(h) | slot;
        for b in self.probe(h) {
            let Some(bucket) = self.buckets.get_mut(b) else {
                return false;
            };
            if let Some(p) = bucket[..SLOTS].iter_mut().find(|x| **x == EMPTY) {
                *p = e;
                self.len += 1;
                return true;
            }
            bucket[SLOTS] = bucket[SLOTS].saturating_add(1);
        }
        false
    }

    /// Where entry `slot` of hash `h` is: (bucket, position, buckets passed).
    fn locate(&self, h: u64, slot: u32) -> Option<(usize, usize, usize)> {
        let e = self.tag(h) | slot;
        for (step, b) in self.probe(h).enumerate() {
            let bucket = self.buckets.get(b)?;
            if let Some(p) = bucket[..SLOTS].iter().position(|x| *x == e) {
                return Some((b, p, step));
            }
            if bucket[SLOTS] == 0 {
                return None;
            }
        }
        None
    }

    /// Removes entry `slot` of hash `h`; false if absent.
    pub(super) fn remove(&mut self, h: u64, slot: u32) -> bool {
        let Some((b, p, steps)) = self.locate(h, slot) else {
            return false;
        };
        self.buckets[b][p] = EMPTY;
        self.len -= 1;
        for c in self.probe(h).take(steps) {
            self.buckets[c][SLOTS] = self.buckets[c][SLOTS].saturating_sub(1);
        }
        true
    }

    /// Makes entry `old` of hash `h` point to `new`; false if absent.
    pub(super) fn replace(&mut self, h: u64, old: u32, new: u32) -> bool {
        let Some((b, p, _)) = self.locate(h, old) else {
            return false;
        };
        if new >= self.mask {
            return false;
        }
        self.buckets[b][p] = self.tag(h) | new;
        true
    }

    pub(super) fn heap_bytes(&self) -> usize {
        self.buckets.capacity() * core::mem::size_of::<[u32; BUCKET]>()
    }
}

/// The probe sequence of [`Index::probe`].
struct Probe {
    next: usize,
    left: usize,
    buckets: usize,
}

impl Iterator for Probe {
    type Item = usize;
    #[inline(always)]
    fn next(&mut self) -> Option<usize> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let b = self.next;
        self.next = if b + 1 == self.buckets { 0 } else { b + 1 };
        Some(b)
    }
}
