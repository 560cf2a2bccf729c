//! Per-client session counts for the quota: a small open-addressing map.

use alloc::vec::Vec;

use super::hash::Keys;

#[derive(Clone, Copy, Default)]
pub(super) struct ClientSlot {
    pub(super) hi: u64,
    pub(super) lo: u64,
    /// 0 = vacant.
    pub(super) count: u32,
}

impl ClientSlot {
    fn key(&self) -> u128 {
        (u128::from(self.hi) << 64) | u128::from(self.lo)
    }
}

/// Linear probing, power-of-two size, load at most 1/2, backward-shift
/// deletion.
pub(super) struct Clients {
    pub(super) slots: Vec<ClientSlot>,
    pub(super) len: usize,
}

impl Clients {
    pub(super) const fn new() -> Self {
        Clients {
            slots: Vec::new(),
            len: 0,
        }
    }

    fn pos(&self, keys: &Keys, key: u128) -> usize {
        (keys.client(key) as usize) & (self.slots.len().wrapping_sub(1))
    }

    pub(super) fn find(&self, keys: &Keys, key: u128) -> Option<usize> {
        let n = self.slots.len();
        if n == 0 {
            return None;
        }
        let mut i = self.pos(keys, key);
        for _ in 0..n {
            let s = self.slots.get(i)?;
            if s.count == 0 {
                return None;
            }
            if s.key() == key {
                return Some(i);
            }
            i = (i + 1) & (n - 1);
        }
        None
    }

    pub(super) fn count(&self, keys: &Keys, key: u128) -> usize {
        self.find(keys, key).map_or(0, |i| self.slots[i].count as usize)
    }

    /// Room for one more key without allocating in [`Clients::incr`].
    pub(super) fn reserve_one(&mut self, keys: &Keys) -> Result<(), ()> {
        if (self.len + 1) * 2 <= self.slots.len() {
            return Ok(());
        }
        let n = (self.slots.len() * 2).max(16);
        let mut slots = Vec::new();
        slots.try_reserve_exact(n).map_err(drop)?;
        slots.resize(n, ClientSlot::default());
        let old = core::mem::replace(&mut self.slots, slots);
        for s in old.iter().filter(|s| s.count != 0) {
            self.place(keys, *s);
        }
        Ok(())
    }

    fn place(&mut self, keys: &Keys, s: ClientSlot) {
        let n = self.slots.len();
        let mut i = self.pos(keys, s.key());
        for _ in 0..n {
            if let Some(x) = self.slots.get_mut(i) {
                if x.count == 0 {
                    *x = s;
                    return;
                }
            }
            i = (i + 1) & (n - 1);
        }
    }

    pub(super) fn incr(&mut self, keys: &Keys, key: u128) {
        if let Some(i) = self.find(keys, key) {
            self.slots[i].count = self.slots[i].count.saturating_add(1);
        } else if self.len < self.slots.len() {
            self.place(
                keys,
                ClientSlot {
                    hi: (key >> 64) as u64,
                    lo: key as u64,
                    count: 1,
                },
            );
            self.len += 1;
        }
    }

    pub(super) fn decr(&mut self, keys: &Keys, key: u128) {
        let Some(i) = self.find(keys, key) else { return };
        self.slots[i].count -= 1;
        if self.slots[i].count != 0 {
            return;
        }
        self.len -= 1;
        let mask = self.slots.len() - 1;
        let mut hole = i;
        let mut j = i;
        loop {
            j = (j + 1) & mask;
            let s = self.slots[j];
            if s.count == 0 || j == i {
                break;
            }
            let k = self.pos(keys, s.key());
            if hole.wrapping_sub(k) & mask < j.wrapping_sub(k) & mask {
                self.slots[hole] = s;
                hole = j;
            }
        }
        self.slots[hole] = ClientSlot::default();
    }

    pub(super) fn clear(&mut self) {
        self.slots = Vec::new();
        self.len = 0;
    }
}
