//! The response cache shared by the worker threads: the core's bounded
//! [`ResponseCache`] in shards with a lock each, so that workers rarely
//! wait for one another, and the clock that turns `std` time into the
//! core's [`Instant`].

use std::sync::Mutex;

use nat64_core::dns64::{Cache, CacheKey, Hit, Query, ResponseCache};
use nat64_core::nat64::Instant;

/// Shards used from this many entries on (below, one).
const SHARDED_FROM: usize = 1024;
/// How many shards a large cache has.
const SHARDS: usize = 16;

/// [`ResponseCache`]s behind locks, chosen by the key's hash.
pub struct SharedCache {
    shards: Box<[Mutex<ResponseCache>]>,
    enabled: bool,
    max_ttl: u32,
}

impl SharedCache {
    /// At most about `capacity` responses (0: none), each kept at most
    /// `max_ttl` seconds.
    pub fn new(capacity: usize, max_ttl: u32) -> Self {
        let n = if capacity >= SHARDED_FROM { SHARDS } else { 1 };
        SharedCache {
            shards: (0..n)
                .map(|_| Mutex::new(ResponseCache::new(capacity.div_ceil(n), max_ttl)))
                .collect(),
            enabled: capacity > 0,
            max_ttl,
        }
    }

    /// Whether it keeps anything.
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    fn shard(&self, key: &CacheKey) -> &Mutex<ResponseCache> {
        &self.shards[key.fnv1a() as usize % self.shards.len()]
    }

    /// Responses held, every shard added up.
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().map_or(0, |s| s.len())).sum()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Cache for SharedCache {
    fn get(&self, key: &CacheKey, q: &Query<'_>, now: Instant, out: &mut [u8]) -> Option<Hit> {
        if !self.enabled {
            return None;
        }
        self.shard(key).lock().ok()?.get(key, q, now, out)
    }

    fn put(&self, key: &CacheKey, response: &[u8], now: Instant) {
        if !self.enabled {
            return;
        }
        if let Ok(mut s) = self.shard(key).lock() {
            s.put(key, response, now);
        }
    }

    /// `--max-cache-ttl` caps the TTLs served even with the cache off.
    fn max_ttl(&self) -> Option<u32> {
        Some(self.max_ttl)
    }
}

/// The core's time: microseconds since the resolver started.
#[derive(Clone, Copy)]
pub struct Clock {
    epoch: std::time::Instant,
}

impl Clock {
    /// A clock starting now.
    pub fn new() -> Self {
        Clock {
            epoch: std::time::Instant::now(),
        }
    }

    /// `t` on this clock.
    pub fn at(&self, t: std::time::Instant) -> Instant {
        let us = t.saturating_duration_since(self.epoch).as_micros();
        Instant::from_micros(u64::try_from(us).unwrap_or(u64::MAX))
    }

    /// Now on this clock.
    pub fn now(&self) -> Instant {
        self.at(std::time::Instant::now())
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nat64_core::dns64::testing::{a_response, query};
    use nat64_core::dns64::wire::rtype;

    #[test]
    fn a_large_cache_is_sharded_and_stays_bounded() {
        let cache = SharedCache::new(2000, 86400);
        assert_eq!(cache.shards.len(), SHARDS);
        let t0 = Instant::from_secs(1);
        for i in 0..3000 {
            let qn = format!("n{i}.example");
            let qm = query(1, &qn, rtype::A);
            let q = Query::parse(&qm).unwrap();
            let r = a_response(&qn, &["192.0.2.1".parse().unwrap()], 60);
            cache.put(&CacheKey::new(&q, false).unwrap(), &r, t0);
        }
        // 125 per shard at most.
        assert!(cache.len() <= 2000 && cache.len() > 1500, "{}", cache.len());
        let qm = query(1, "n2999.example", rtype::A);
        let q = Query::parse(&qm).unwrap();
        let mut out = [0u8; 512];
        let k = CacheKey::new(&q, false).unwrap();
        assert!(matches!(cache.get(&k, &q, t0, &mut out), Some(Hit::Written(_))));
        let off = SharedCache::new(0, 86400);
        off.put(
            &k,
            &a_response("n2999.example", &["192.0.2.1".parse().unwrap()], 60),
            t0,
        );
        assert!(!off.enabled() && off.is_empty());
    }

    #[test]
    fn the_clock_counts_from_its_start() {
        let c = Clock::new();
        let later = std::time::Instant::now() + std::time::Duration::from_secs(3);
        assert!(c.at(later).as_micros() >= 3_000_000);
        if let Some(before) = c.epoch.checked_sub(std::time::Duration::from_secs(1)) {
            assert_eq!(c.at(before), Instant::from_micros(0));
        }
    }
}
