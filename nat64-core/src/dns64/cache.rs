//! A cache of final DNS64 responses, with no clock: every call takes `now`.
//!
//! What is cached is the response as it was written for the first client
//! that asked (synthesized, relayed, or local), for the TTL RFC 2181 section
//! 8 and RFC 2308 section 5 give it ([`cache_ttl`]: the smallest TTL of the
//! answer and authority records, or for a negative answer the smaller of
//! the SOA's TTL and MINIMUM), capped by the operator's maximum (which caps
//! every TTL a client is told too, [`cap_ttls`]). A hit is
//! the cached response with the asking client's ID, RD bit and question
//! spelling, and every TTL aged by the time it spent in the cache (RFC 1035
//! section 7.4). The key holds what changes the response besides the name
//! (in lower case, RFC 4343): type, class, DO, CD, whether the client gets
//! DNS64, and whether it used EDNS.
//!
//! [`ResponseCache`] is one bounded map; a resolver with several threads
//! keeps several behind locks and implements [`Cache`] over them. When it is
//! full, expired entries go first, then the entry stored longest ago: never
//! one chosen by its name, which a client that can make the resolver cache
//! names of its choosing could otherwise use to push out everyone else's.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::time::Duration;

use super::wire::{age_ttls, cache_ttl, rtype, Message, Section, HEADER_LEN, MAX_NAME_LEN};
use super::{Plan, Query};
use crate::nat64::Instant;

/// Longest cache key: a name, type, class and a flags byte.
const KEY_MAX: usize = MAX_NAME_LEN + 5;

/// A cache key, built on the stack: the question with the name in lower
/// case, then DO, CD, whether the client gets DNS64 and whether it used EDNS
/// (which decides whether the response has an OPT record).
#[derive(Clone)]
pub struct CacheKey {
    buf: [u8; KEY_MAX],
    len: usize,
}

impl core::fmt::Debug for CacheKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_tuple("CacheKey").field(&self.bytes()).finish()
    }
}

impl CacheKey {
    /// The key of `q`; `synthesizes` says whether its client gets DNS64
    /// ([`Plan::gets_dns64`]). `None` for a name too long to be a key.
    pub fn new(q: &Query<'_>, synthesizes: bool) -> Option<Self> {
        let name = q.qname_wire();
        let n = name.len();
        // `Query::parse` refuses a compressed question name, so the name is
        // written out at this same length (what a hit relies on).
        if n > MAX_NAME_LEN {
            return None;
        }
        let mut buf = [0u8; KEY_MAX];
        for (d, s) in buf[..n].iter_mut().zip(name) {
            *d = s.to_ascii_lowercase();
        }
        buf[n..n + 2].copy_from_slice(&q.qtype().to_be_bytes());
        buf[n + 2..n + 4].copy_from_slice(&q.qclass().to_be_bytes());
        buf[n + 4] = u8::from(q.dnssec_ok())
            | u8::from(q.checking_disabled()) << 1
            | u8::from(synthesizes) << 2
            | u8::from(q.edns().is_some()) << 3;
        Some(CacheKey { buf, len: n + 5 })
    }

    /// The key of `q` answered by `plan`.
    pub fn for_plan(q: &Query<'_>, plan: &Plan) -> Option<Self> {
        Self::new(q, plan.gets_dns64())
    }

    /// The key's bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// A hash of the key (FNV-1a), to choose among several maps.
    pub fn fnv1a(&self) -> u64 {
        let h = self.bytes().iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        });
        h ^ (h >> 32)
    }
}

impl Plan {
    /// Whether the client of this plan gets DNS64 (part of the cache key:
    /// the same question may be answered with and without synthesis).
    pub fn gets_dns64(&self) -> bool {
        match self {
            Plan::Forward => false,
            Plan::Local { synthesize } => *synthesize,
            Plan::Aaaa | Plan::Ptr(_) => true,
        }
    }
}

/// What the cache had for a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hit {
    /// The response, written into the caller's buffer: this many bytes.
    Written(usize),
    /// The response (TTLs aged) is larger than the caller's buffer: the
    /// caller truncates it (see [`super::Exchange`], which uses
    /// [`super::Dns64::relay`]).
    TooBig(Vec<u8>),
}

/// A final response as it was sent to the first client that asked (its
/// TTLs capped, [`cap_ttls`]).
#[derive(Debug, Clone)]
pub struct CachedResponse {
    msg: Box<[u8]>,
    /// Where its TTL fields are (OPT left out) and their values when stored.
    ttls: Box<[(u16, u32)]>,
    stored: Instant,
    ttl: u32,
}

impl CachedResponse {
    /// The entry for a response written at `now`, or `None` when it may
    /// not be cached: not valid DNS, nothing says for how long (SERVFAIL,
    /// a NODATA without SOA), a TTL of zero (RFC 1035 section 3.2.1: use
    /// only for this transaction), or a question that is not written out
    /// right after the header. The lifetime is [`cache_ttl`], at most
    /// `max_ttl` seconds, and no record's TTL is served above `max_ttl`.
    pub fn new(msg: &[u8], now: Instant, max_ttl: u32) -> Option<Self> {
        let m = Message::parse(msg).ok()?;
        let ttl = cache_ttl(&m)?.min(max_ttl);
        if ttl == 0 || m.qname() != HEADER_LEN {
            return None;
        }
        // The response as capped for its first client (see `cap_ttls`).
        let ttls: Box<[(u16, u32)]> = ttl_fields(&m).map(|(at, t)| (at as u16, t.min(max_ttl))).collect();
        let mut msg: Box<[u8]> = msg.into();
        for &(at, t) in ttls.iter() {
            let at = usize::from(at);
            msg[at..at + 4].copy_from_slice(&t.to_be_bytes());
        }
        Some(CachedResponse {
            msg,
            ttls,
            stored: now,
            ttl,
        })
    }

    /// Its lifetime in seconds.
    pub fn ttl(&self) -> u32 {
        self.ttl
    }

    /// Whole seconds spent in the cache at `now`, if still fresh.
    fn age(&self, now: Instant) -> Option<u32> {
        let age = now.since(self.stored).as_secs();
        (age < u64::from(self.ttl)).then_some(age as u32)
    }

    /// Whether it may still be used at `now`.
    pub fn is_fresh(&self, now: Instant) -> bool {
        self.age(now).is_some()
    }

    /// The response for `q` at `now`: written into `out` with the client's
    /// ID, RD bit and question spelling and its TTLs aged; or, when it
    /// does not fit, an aged copy to truncate. `None` once expired.
    pub fn answer(&self, q: &Query<'_>, now: Instant, out: &mut [u8]) -> Option<Hit> {
        let age = self.age(now)?;
        let n = self.msg.len();
        if n > out.len() {
            let mut m = self.msg.to_vec();
            age_ttls(&mut m, age).ok()?;
            return Some(Hit::TooBig(m));
        }
        out[..n].copy_from_slice(&self.msg);
        for &(at, ttl) in self.ttls.iter() {
            let at = usize::from(at);
            out[at..at + 4].copy_from_slice(&ttl.saturating_sub(age).to_be_bytes());
        }
        // The names are equal but for case, so they have the same length;
        // names in the records that point at the question follow its case.
        let qb = q.message().bytes();
        let name = q.qname_wire();
        out[..2].copy_from_slice(&qb[..2]);
        out[2] = (out[2] & !0x01) | (qb[2] & 0x01); // RD
        out[HEADER_LEN..HEADER_LEN + name.len()].copy_from_slice(name);
        Some(Hit::Written(n))
    }
}

/// Where the TTL fields of a message's records are (OPT left out) and
/// their values.
fn ttl_fields<'m>(m: &'m Message<'_>) -> impl Iterator<Item = (usize, u32)> + 'm {
    [Section::Answer, Section::Authority, Section::Additional]
        .into_iter()
        .flat_map(|s| m.records(s))
        .filter(|rr| rr.rtype != rtype::OPT)
        .map(|rr| (rr.ttl_at, rr.ttl))
}

/// Lowers every record TTL of the response `msg` above `max_ttl` to it, so
/// that no client is told to keep a record longer than the operator allows
/// (as unbound's `cache-max-ttl` does, for the first answer and the cached
/// ones alike). A message that does not parse is left alone.
pub fn cap_ttls(msg: &mut [u8], max_ttl: u32) {
    let over: Vec<usize> = match Message::parse(msg) {
        Ok(m) => ttl_fields(&m).filter(|&(_, t)| t > max_ttl).map(|(at, _)| at).collect(),
        Err(_) => return,
    };
    for at in over {
        msg[at..at + 4].copy_from_slice(&max_ttl.to_be_bytes());
    }
}

/// Where an [`Exchange`](super::Exchange) looks for and leaves responses.
/// Shared (`&self`): a multi-threaded resolver implements it over maps
/// behind locks. One cache serves the exchanges of one [`Dns64`](super::Dns64)
/// only: a [`CacheKey`] does not name the DNS64 rules, so a response
/// synthesized under one prefix would be served under another.
pub trait Cache {
    /// The fresh response to `q` under `key`, for a buffer of `out.len()`
    /// bytes (see [`CachedResponse::answer`]).
    fn get(&self, key: &CacheKey, q: &Query<'_>, now: Instant, out: &mut [u8]) -> Option<Hit>;
    /// Keeps `response`, written at `now`, under `key` (if it may be
    /// cached at all, see [`CachedResponse::new`]).
    fn put(&self, key: &CacheKey, response: &[u8], now: Instant);
    /// The largest TTL a response may carry ([`cap_ttls`]); `None`: no cap.
    fn max_ttl(&self) -> Option<u32> {
        None
    }
}

/// No cache: every query is resolved.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoCache;

impl Cache for NoCache {
    fn get(&self, _: &CacheKey, _: &Query<'_>, _: Instant, _: &mut [u8]) -> Option<Hit> {
        None
    }
    fn put(&self, _: &CacheKey, _: &[u8], _: Instant) {}
}

/// A bounded map of [`CachedResponse`]s.
#[derive(Debug, Clone)]
pub struct ResponseCache {
    /// Key -> (when it was stored, as a sequence number; the response).
    map: BTreeMap<Box<[u8]>, (u64, CachedResponse)>,
    /// The same entries by sequence number: the oldest first.
    by_age: BTreeMap<u64, Box<[u8]>>,
    next_seq: u64,
    capacity: usize,
    max_ttl: u32,
    last_sweep: Option<Instant>,
}

impl ResponseCache {
    /// How many responses a resolver keeps unless told otherwise
    /// (`nat64 dns64 --cache-size`, the bindings' cache objects).
    pub const DEFAULT_CAPACITY: usize = 10_000;
    /// The longest a resolver keeps a response, and the largest TTL it
    /// serves, unless told otherwise: a day (`--max-cache-ttl`, as unbound's
    /// `cache-max-ttl`).
    pub const DEFAULT_MAX_TTL: u32 = 86_400;

    /// A cache of at most `capacity` responses (0: caches nothing), each
    /// kept at most `max_ttl` seconds.
    pub fn new(capacity: usize, max_ttl: u32) -> Self {
        ResponseCache {
            map: BTreeMap::new(),
            by_age: BTreeMap::new(),
            next_seq: 0,
            capacity,
            max_ttl,
            last_sweep: None,
        }
    }

    /// How many responses it holds (some perhaps expired).
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// The fresh response to `q`; an expired one is removed.
    pub fn get(&mut self, key: &CacheKey, q: &Query<'_>, now: Instant, out: &mut [u8]) -> Option<Hit> {
        let (seq, e) = self.map.get(key.bytes())?;
        match e.answer(q, now, out) {
            Some(hit) => Some(hit),
            None => {
                if !e.is_fresh(now) {
                    let seq = *seq;
                    self.map.remove(key.bytes());
                    self.by_age.remove(&seq);
                }
                None
            }
        }
    }

    /// Keeps `response` under `key`. When full, the expired entries are
    /// dropped (a sweep at most once a second), else the oldest entry.
    pub fn put(&mut self, key: &CacheKey, response: &[u8], now: Instant) {
        if self.capacity == 0 {
            return;
        }
        let Some(entry) = CachedResponse::new(response, now, self.max_ttl) else {
            return;
        };
        if self.map.len() >= self.capacity && !self.map.contains_key(key.bytes()) {
            if self.last_sweep.is_none_or(|t| now.since(t) >= Duration::from_secs(1)) {
                self.last_sweep = Some(now);
                self.map.retain(|_, (_, e)| e.is_fresh(now));
                let map = &self.map;
                self.by_age.retain(|_, k| map.contains_key(k));
            }
            if self.map.len() >= self.capacity {
                if let Some((_, oldest)) = self.by_age.pop_first() {
                    self.map.remove(&oldest);
                }
            }
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        let key: Box<[u8]> = key.bytes().into();
        if let Some((old, _)) = self.map.insert(key.clone(), (seq, entry)) {
            self.by_age.remove(&old);
        }
        self.by_age.insert(seq, key);
    }
}

impl Cache for core::cell::RefCell<ResponseCache> {
    fn get(&self, key: &CacheKey, q: &Query<'_>, now: Instant, out: &mut [u8]) -> Option<Hit> {
        self.borrow_mut().get(key, q, now, out)
    }
    fn put(&self, key: &CacheKey, response: &[u8], now: Instant) {
        self.borrow_mut().put(key, response, now)
    }
    fn max_ttl(&self) -> Option<u32> {
        Some(self.borrow().max_ttl)
    }
}

/// For a cache the caller holds by `&mut` (a binding's cache object) for
/// the length of one step.
impl Cache for core::cell::RefCell<&mut ResponseCache> {
    fn get(&self, key: &CacheKey, q: &Query<'_>, now: Instant, out: &mut [u8]) -> Option<Hit> {
        self.borrow_mut().get(key, q, now, out)
    }
    fn put(&self, key: &CacheKey, response: &[u8], now: Instant) {
        self.borrow_mut().put(key, response, now)
    }
    fn max_ttl(&self) -> Option<u32> {
        Some(self.borrow().max_ttl)
    }
}
