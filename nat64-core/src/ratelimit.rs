//! Rate limiting of the ICMP errors the translator originates.
//!
//! RFC 4443 section 2.4 (f): an IPv6 node MUST limit the rate of the
//! ICMPv6 error messages it originates, so that a sender of erroneous
//! packets that ignores the errors does not turn the node into a traffic
//! amplifier; a token bucket is the recommended way, with configurable
//! parameters. RFC 1812 section 4.3.2.8 lets an IPv4 router do the same
//! for ICMPv4 errors. A translator originates both (Packet Too Big or
//! Fragmentation Needed, Time Exceeded, Destination Unreachable 1/1, 3/3,
//! 3/13 and so on: every `Verdict::IcmpError`), so [`IcmpRateLimiter`]
//! judges both families alike.
//!
//! The limits are Linux's (which is what Jool's errors are subject to, as
//! Jool sends them with the kernel's `icmp_send`/`icmpv6_send`):
//!
//! - a global token bucket, `icmp_msgs_per_sec` (1000 per second) with
//!   `icmp_msgs_burst` (50);
//! - a bucket per destination (the sender of the erroneous packet),
//!   `icmp_ratelimit` / `ratelimit` (one error per 1 000 ms) with Linux's
//!   burst of 6 intervals (`XRLIM_BURST_FACTOR`).
//!
//! An error goes out only if both buckets hold a token; a refused error
//! takes no token from either. As with Linux's default `ratemask`, Packet
//! Too Big and Fragmentation Needed ([`IcmpRateLimiter::admit_packet`])
//! skip the per-destination bucket but not the global one: a client with
//! many flows above the MTU must not have path MTU discovery stall.
//!
//! The core never reads a clock: every call takes the caller's
//! [`Instant`]. Time that goes backwards (two threads sharing a limiter
//! read the clock in one order and take its lock in the other) neither
//! panics nor adds tokens. The per-destination state is a fixed table of
//! [`DEST_SLOTS`] buckets allocated once by [`IcmpRateLimiter::new`]: no
//! allocation per packet, bounded memory however many senders there are.

use alloc::boxed::Box;
use alloc::vec;
use core::net::IpAddr;
use core::time::Duration;

use crate::nat64::Instant;

/// Destinations whose buckets are remembered at once (in sets of
/// [`DEST_WAYS`] chosen by a keyed hash of the address). When a set is full
/// of destinations that received an error recently, the one charged
/// longest ago is forgotten (it starts again with a full bucket if it comes
/// back); the global bucket bounds the total regardless.
pub const DEST_SLOTS: usize = 1024;
/// Buckets per hash set.
pub const DEST_WAYS: usize = 4;
const DEST_SETS: usize = DEST_SLOTS / DEST_WAYS;
/// The longest per-destination interval accepted (so that the token
/// arithmetic cannot overflow).
pub const MAX_DEST_INTERVAL: Duration = Duration::from_secs(3600);
/// Token units of the global bucket: one token is this many units, and
/// `per_sec` units arrive per microsecond.
const UNITS: u64 = 1_000_000;

/// How many ICMP errors may be sent: the parameters RFC 4443 section
/// 2.4 (f) asks to be configurable. The default is Linux's (see the module
/// documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IcmpRateLimit {
    /// Errors per second, all destinations together (Linux
    /// `icmp_msgs_per_sec`); 0: no global limit.
    pub per_sec: u32,
    /// How many may go at once after a quiet spell (Linux
    /// `icmp_msgs_burst`); at least 1 unless `per_sec` is 0.
    pub burst: u32,
    /// One error per this interval to any one destination (Linux
    /// `icmp_ratelimit`); zero: no per-destination limit.
    pub dest_interval: Duration,
    /// How many intervals' worth one destination may receive at once; at
    /// least 1 unless `dest_interval` is zero.
    pub dest_burst: u32,
}

impl IcmpRateLimit {
    /// No limit at all.
    pub const UNLIMITED: IcmpRateLimit = IcmpRateLimit {
        per_sec: 0,
        burst: 0,
        dest_interval: Duration::ZERO,
        dest_burst: 0,
    };

    /// Whether the parameters can work.
    pub fn validate(&self) -> Result<(), IcmpRateLimitError> {
        if self.per_sec > 0 && self.burst == 0 {
            return Err(IcmpRateLimitError::ZeroBurst { per_sec: self.per_sec });
        }
        if !self.dest_interval.is_zero() {
            if self.dest_burst == 0 {
                return Err(IcmpRateLimitError::ZeroDestBurst);
            }
            if self.dest_interval > MAX_DEST_INTERVAL {
                return Err(IcmpRateLimitError::DestIntervalTooLong(self.dest_interval));
            }
            if self.dest_interval < Duration::from_micros(1) {
                return Err(IcmpRateLimitError::DestIntervalTooShort(self.dest_interval));
            }
        }
        Ok(())
    }
}

impl Default for IcmpRateLimit {
    /// Linux's: 1000 per second, burst 50; one per second per destination,
    /// burst 6.
    fn default() -> Self {
        IcmpRateLimit {
            per_sec: 1000,
            burst: 50,
            dest_interval: Duration::from_secs(1),
            dest_burst: 6,
        }
    }
}

impl core::fmt::Display for IcmpRateLimit {
    /// `1000/s burst 50, per destination 1/1000ms burst 6`, with
    /// `unlimited` for a limit that is off.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.per_sec {
            0 => f.write_str("unlimited")?,
            n => write!(f, "{n}/s burst {}", self.burst)?,
        }
        f.write_str(", per destination ")?;
        if self.dest_interval.is_zero() {
            f.write_str("unlimited")
        } else {
            let us = self.dest_interval.as_micros();
            if us % 1000 == 0 {
                write!(f, "1/{}ms burst {}", us / 1000, self.dest_burst)
            } else {
                write!(f, "1/{us}us burst {}", self.dest_burst)
            }
        }
    }
}

/// Parameters that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IcmpRateLimitError {
    /// A global rate with no burst would refuse every error.
    #[error("a rate of {per_sec} ICMP errors per second with a burst of 0 would send none; give a burst of at least 1 (50 is Linux's), or a rate of 0 for no limit")]
    ZeroBurst {
        /// The rate given.
        per_sec: u32,
    },
    /// A per-destination interval with no burst would refuse every error.
    #[error("a per-destination interval with a burst of 0 would send no ICMP error; give a burst of at least 1 (6 is Linux's), or an interval of 0 for no per-destination limit")]
    ZeroDestBurst,
    /// Over [`MAX_DEST_INTERVAL`].
    #[error("a per-destination interval of {0:?} is over the limit of one hour; 1 s is Linux's")]
    DestIntervalTooLong(Duration),
    /// Under a microsecond, the clock's resolution.
    #[error("a per-destination interval of {0:?} is under the clock's resolution of 1 µs; give 0 for no per-destination limit")]
    DestIntervalTooShort(Duration),
}

/// A token bucket: `tokens` units, last refilled at `last` (microseconds).
#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: u64,
    last: u64,
}

impl Bucket {
    const fn full(cap: u64, now: u64) -> Bucket {
        Bucket { tokens: cap, last: now }
    }
    /// Adds what arrived since `last` at `gain` units per microsecond, up
    /// to `cap`. A `now` before `last` adds nothing and leaves `last` where
    /// it was, so that the time in between is never counted twice.
    fn refill(&mut self, now: u64, gain: u64, cap: u64) {
        if now > self.last {
            let add = (now - self.last).saturating_mul(gain);
            self.tokens = self.tokens.saturating_add(add).min(cap);
            self.last = now;
        }
    }
    /// Whether the bucket would be full at `now`: such a bucket says
    /// nothing a fresh one would not.
    fn idle(&self, now: u64, gain: u64, cap: u64) -> bool {
        let mut b = *self;
        b.refill(now, gain, cap);
        b.tokens >= cap
    }
}

#[derive(Debug, Clone, Copy)]
struct Slot {
    addr: Option<IpAddr>,
    bucket: Bucket,
}

/// The limiter: a global bucket and a bounded table of per-destination
/// buckets (see the module documentation).
///
/// ```
/// use nat64_core::{IcmpRateLimit, IcmpRateLimiter};
/// use nat64_core::nat64::Instant;
/// let mut l = IcmpRateLimiter::new(IcmpRateLimit::default(), 42).unwrap();
/// let client = "2001:db8::1".parse().unwrap();
/// let t = Instant::from_secs(10);
/// // Linux's default: 6 errors at once to one destination, then one a second.
/// assert_eq!((0..10).filter(|_| l.admit(t, client)).count(), 6);
/// assert!(l.admit(Instant::from_secs(11), client));
/// ```
#[derive(Debug, Clone)]
pub struct IcmpRateLimiter {
    cfg: IcmpRateLimit,
    global: Bucket,
    /// `DEST_SLOTS` slots, or none without a per-destination limit.
    dests: Box<[Slot]>,
    seed: u64,
}

impl IcmpRateLimiter {
    /// A limiter with full buckets. `seed` keys the hash that places
    /// destinations in the table: give a random one, so that senders
    /// cannot choose addresses that collide.
    pub fn new(cfg: IcmpRateLimit, seed: u64) -> Result<Self, IcmpRateLimitError> {
        cfg.validate()?;
        let dests = if cfg.dest_interval.is_zero() {
            Box::default()
        } else {
            vec![
                Slot {
                    addr: None,
                    bucket: Bucket::full(0, 0),
                };
                DEST_SLOTS
            ]
            .into_boxed_slice()
        };
        Ok(IcmpRateLimiter {
            cfg,
            global: Bucket::full(u64::from(cfg.burst) * UNITS, 0),
            dests,
            seed,
        })
    }

    /// The parameters.
    pub fn config(&self) -> &IcmpRateLimit {
        &self.cfg
    }

    /// Whether an ICMP error to `dst` (the sender of the packet it is
    /// about) may be sent at `now`; if so, it is charged to the global
    /// bucket and to `dst`'s. A refusal charges nothing.
    pub fn admit(&mut self, now: Instant, dst: IpAddr) -> bool {
        self.charge(now.as_micros(), Some(dst))
    }

    /// [`Self::admit`] for an ICMP error packet the translator built (an
    /// IPv4 or IPv6 packet): its destination is the key. A packet too short
    /// to have one is judged by the global bucket alone.
    ///
    /// Packet Too Big and Fragmentation Needed pass the global bucket only,
    /// as in Linux (its default `ratemask` / `icmpv4_mask_allow`): path MTU
    /// discovery (RFC 8201, RFC 1191) must not stall a client with many
    /// flows above the MTU behind a per-destination limit.
    pub fn admit_packet(&mut self, now: Instant, pkt: &[u8]) -> bool {
        let dst = if is_pmtu_signal(pkt) {
            None
        } else {
            error_destination(pkt)
        };
        self.charge(now.as_micros(), dst)
    }

    fn charge(&mut self, now: u64, dst: Option<IpAddr>) -> bool {
        let global = self.cfg.per_sec > 0;
        if global {
            self.global
                .refill(now, u64::from(self.cfg.per_sec), u64::from(self.cfg.burst) * UNITS);
            if self.global.tokens < UNITS {
                return false;
            }
        }
        if let (Some(dst), false) = (dst, self.dests.is_empty()) {
            let (cost, cap) = self.dest_cost_cap();
            let slot = self.slot(now, dst, cap);
            let b = &mut self.dests[slot].bucket;
            b.refill(now, 1, cap);
            if b.tokens < cost {
                return false;
            }
            b.tokens -= cost;
        }
        if global {
            self.global.tokens -= UNITS;
        }
        true
    }

    /// Units one error costs a destination's bucket, and the bucket's size:
    /// one unit per microsecond, so an error costs the interval.
    fn dest_cost_cap(&self) -> (u64, u64) {
        let cost = self.cfg.dest_interval.as_micros() as u64;
        (cost, cost * u64::from(self.cfg.dest_burst))
    }

    /// The slot of `dst`: its own, else an empty or idle one of its set
    /// (given a full bucket), else the set's least recently charged.
    fn slot(&mut self, now: u64, dst: IpAddr, cap: u64) -> usize {
        let base = (self.hash(dst) % DEST_SETS as u64) as usize * DEST_WAYS;
        let set = &self.dests[base..base + DEST_WAYS];
        if let Some(i) = set.iter().position(|s| s.addr == Some(dst)) {
            return base + i;
        }
        let i = set
            .iter()
            .position(|s| s.addr.is_none() || s.bucket.idle(now, 1, cap))
            .unwrap_or_else(|| {
                (0..DEST_WAYS)
                    .min_by_key(|&i| set[i].bucket.last)
                    .expect("DEST_WAYS > 0")
            });
        self.dests[base + i] = Slot {
            addr: Some(dst),
            bucket: Bucket::full(cap, now),
        };
        base + i
    }

    /// A keyed mix of the address (splitmix64's finalizer over both
    /// halves): not cryptographic, but with a secret seed a sender cannot
    /// aim its addresses at one set.
    fn hash(&self, dst: IpAddr) -> u64 {
        let (hi, lo, fam) = match dst {
            IpAddr::V4(a) => (0, u64::from(u32::from(a)), 4),
            IpAddr::V6(a) => {
                let v = u128::from(a);
                ((v >> 64) as u64, v as u64, 6)
            }
        };
        let mix = |mut z: u64| {
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        mix(mix(self.seed ^ hi ^ fam).wrapping_add(lo))
    }

    /// Destinations with a bucket now (for tests and diagnostics).
    pub fn tracked(&self) -> usize {
        self.dests.iter().filter(|s| s.addr.is_some()).count()
    }
}

/// The destination address of an IPv4 or IPv6 packet.
fn error_destination(pkt: &[u8]) -> Option<IpAddr> {
    match pkt.first()? >> 4 {
        4 if pkt.len() >= 20 => Some(IpAddr::from(<[u8; 4]>::try_from(&pkt[16..20]).ok()?)),
        6 if pkt.len() >= 40 => Some(IpAddr::from(<[u8; 16]>::try_from(&pkt[24..40]).ok()?)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::net::{Ipv4Addr, Ipv6Addr};

    fn v6(i: u32) -> IpAddr {
        IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, (i >> 16) as u16, i as u16))
    }
    fn at_ms(ms: u64) -> Instant {
        Instant::from_micros(1_000_000 + ms * 1000)
    }
    fn count(l: &mut IcmpRateLimiter, t: Instant, dst: IpAddr, n: usize) -> usize {
        (0..n).filter(|_| l.admit(t, dst)).count()
    }
    fn global_only(per_sec: u32, burst: u32) -> IcmpRateLimiter {
        let cfg = IcmpRateLimit {
            per_sec,
            burst,
            ..IcmpRateLimit::UNLIMITED
        };
        IcmpRateLimiter::new(cfg, 7).unwrap()
    }

    #[test]
    fn defaults_are_linuxs() {
        let d = IcmpRateLimit::default();
        assert_eq!(
            (d.per_sec, d.burst, d.dest_interval, d.dest_burst),
            (1000, 50, Duration::from_secs(1), 6)
        );
        assert_eq!(d.validate(), Ok(()));
        assert_eq!(d.to_string(), "1000/s burst 50, per destination 1/1000ms burst 6");
        assert_eq!(
            IcmpRateLimit::UNLIMITED.to_string(),
            "unlimited, per destination unlimited"
        );
    }

    #[test]
    fn global_burst_then_refused_then_refilled() {
        let mut l = global_only(1000, 50);
        // 50 distinct destinations at once: the burst, no more.
        let t = at_ms(0);
        let sent = (0..200).filter(|&i| l.admit(t, v6(i))).count();
        assert_eq!(sent, 50);
        assert!(!l.admit(t, v6(999)));
        // 1000 per second: 10 ms later, exactly 10 more.
        assert_eq!((0..100).filter(|&i| l.admit(at_ms(10), v6(i))).count(), 10);
        // A long quiet spell refills to the burst, never beyond.
        assert_eq!((0..500).filter(|&i| l.admit(at_ms(60_000), v6(i))).count(), 50);
    }

    #[test]
    fn fractional_rates_accumulate() {
        // 3 per second: one token every 333.3 ms, none lost to rounding
        // (the bucket never fills up here, so none is lost to the cap).
        let mut l = global_only(3, 3);
        let dst = v6(1);
        assert_eq!(count(&mut l, at_ms(0), dst, 10), 3);
        assert!(!l.admit(at_ms(333), dst));
        assert!(l.admit(at_ms(334), dst));
        let sent = (1..=3000).filter(|ms| l.admit(at_ms(334 + ms), dst)).count();
        assert_eq!(sent, 9, "3 s at 3 per second");
    }

    #[test]
    fn per_destination_burst_interval_and_independence() {
        let mut l = IcmpRateLimiter::new(IcmpRateLimit::default(), 1).unwrap();
        let (a, b) = (v6(1), IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)));
        assert_eq!(count(&mut l, at_ms(0), a, 20), 6);
        // b has its own bucket.
        assert_eq!(count(&mut l, at_ms(0), b, 20), 6);
        // Refused errors took nothing from the global bucket: 50 - 12.
        assert_eq!(l.global.tokens / UNITS, 38);
        // One interval later, one more each.
        assert_eq!(count(&mut l, at_ms(999), a, 5), 0);
        assert_eq!(count(&mut l, at_ms(1000), a, 5), 1);
        assert_eq!(count(&mut l, at_ms(1000), b, 5), 1);
        // Six intervals refill a destination completely, and no more.
        assert_eq!(count(&mut l, at_ms(100_000), a, 20), 6);
    }

    #[test]
    fn global_bucket_caps_many_destinations() {
        let mut l = IcmpRateLimiter::new(IcmpRateLimit::default(), 1).unwrap();
        let sent = (0..1000).filter(|&i| l.admit(at_ms(0), v6(i))).count();
        assert_eq!(sent, 50);
        // A destination refused by the global bucket was not charged: its
        // own burst is intact once the global bucket has tokens again.
        assert_eq!(count(&mut l, at_ms(1000), v6(999), 10), 6);
    }

    #[test]
    fn bounded_memory_and_a_returning_destination() {
        let l = IcmpRateLimiter::new(IcmpRateLimit::UNLIMITED, 3).unwrap();
        assert_eq!(l.dests.len(), 0, "no per-destination limit, no table");
        let cfg = IcmpRateLimit {
            per_sec: 0,
            ..IcmpRateLimit::default()
        };
        let mut l = IcmpRateLimiter::new(cfg, 3).unwrap();
        assert_eq!(l.dests.len(), DEST_SLOTS);
        for i in 0..100_000 {
            l.admit(at_ms(u64::from(i / 100)), v6(i));
        }
        assert_eq!(l.dests.len(), DEST_SLOTS);
        assert!(l.tracked() <= DEST_SLOTS);
        // A recent destination whose set was not overrun keeps its bucket.
        let mut l = IcmpRateLimiter::new(cfg, 3).unwrap();
        let a = v6(1);
        assert_eq!(count(&mut l, at_ms(0), a, 10), 6);
        for i in 2..200 {
            l.admit(at_ms(0), v6(i));
        }
        assert!(l.tracked() <= 200);
        // 199 destinations over 256 sets of 4: a's set (seed 3) is not
        // overrun, so a is remembered with its empty bucket.
        assert!(l.dests.iter().any(|s| s.addr == Some(a)));
        assert!(!l.admit(at_ms(0), a), "still remembered, still empty");
    }

    #[test]
    fn idle_slots_are_reused_before_busy_ones() {
        let cfg = IcmpRateLimit {
            per_sec: 0,
            ..IcmpRateLimit::default()
        };
        let mut l = IcmpRateLimiter::new(cfg, 9).unwrap();
        // Find DEST_WAYS + 1 addresses of one set.
        let set = |l: &IcmpRateLimiter, a| l.hash(a) % DEST_SETS as u64;
        let target = set(&l, v6(0));
        let same: Vec<IpAddr> = (0..100_000)
            .map(v6)
            .filter(|&a| set(&l, a) == target)
            .take(DEST_WAYS + 1)
            .collect();
        assert_eq!(same.len(), DEST_WAYS + 1);
        // The first DEST_WAYS exhaust their buckets at t = 0.
        for &a in &same[..DEST_WAYS] {
            assert_eq!(count(&mut l, at_ms(0), a, 10), 6);
        }
        // A newcomer to the full set evicts the least recently charged
        // (all equal: the first), not an arbitrary one.
        assert_eq!(count(&mut l, at_ms(1), same[DEST_WAYS], 10), 6);
        for &a in &same[1..DEST_WAYS] {
            assert_eq!(count(&mut l, at_ms(2), a, 1), 0, "still remembered");
        }
        // Once a bucket is idle (full again), its slot is free for others.
        assert_eq!(l.tracked(), DEST_WAYS);
        assert_eq!(count(&mut l, at_ms(10_000), same[0], 10), 6);
        assert_eq!(l.tracked(), DEST_WAYS);
    }

    #[test]
    fn zero_means_unlimited() {
        let mut l = IcmpRateLimiter::new(IcmpRateLimit::UNLIMITED, 0).unwrap();
        assert_eq!(count(&mut l, at_ms(0), v6(1), 100_000), 100_000);
        // Global limit off, per-destination on.
        let mut l = IcmpRateLimiter::new(
            IcmpRateLimit {
                per_sec: 0,
                ..IcmpRateLimit::default()
            },
            0,
        )
        .unwrap();
        assert_eq!((0..5000).filter(|&i| l.admit(at_ms(0), v6(i))).count(), 5000);
        // Per-destination off, global on.
        let mut l = global_only(1000, 50);
        assert_eq!(count(&mut l, at_ms(0), v6(1), 100), 50);
    }

    #[test]
    fn time_going_backwards_mints_nothing() {
        let mut l = IcmpRateLimiter::new(IcmpRateLimit::default(), 5).unwrap();
        let a = v6(1);
        assert_eq!(count(&mut l, at_ms(10_000), a, 10), 6);
        // Earlier times: no panic, no tokens.
        assert_eq!(count(&mut l, at_ms(0), a, 10), 0);
        assert_eq!(count(&mut l, Instant::from_micros(0), a, 10), 0);
        // Back to the high-water mark: still nothing; the time between the
        // early readings and the mark is not counted again.
        assert_eq!(count(&mut l, at_ms(10_000), a, 10), 0);
        assert_eq!(count(&mut l, at_ms(10_999), a, 10), 0);
        assert_eq!(count(&mut l, at_ms(11_000), a, 10), 1);
        // The global bucket likewise.
        let mut g = global_only(1000, 5);
        assert_eq!(count(&mut g, at_ms(5000), a, 10), 5);
        assert_eq!(count(&mut g, at_ms(0), a, 10), 0);
        assert_eq!(count(&mut g, at_ms(5000), a, 10), 0);
        assert_eq!(count(&mut g, at_ms(5001), a, 10), 1);
        // The far end of the clock saturates instead of overflowing.
        assert_eq!(count(&mut g, Instant::from_micros(u64::MAX), a, 10), 5);
        assert_eq!(count(&mut l, Instant::from_micros(u64::MAX), a, 10), 6);
    }

    #[test]
    fn extreme_parameters_do_not_overflow() {
        let cfg = IcmpRateLimit {
            per_sec: u32::MAX,
            burst: u32::MAX,
            dest_interval: MAX_DEST_INTERVAL,
            dest_burst: u32::MAX,
        };
        let mut l = IcmpRateLimiter::new(cfg, 0).unwrap();
        assert_eq!(count(&mut l, at_ms(0), v6(1), 1000), 1000);
        assert_eq!(count(&mut l, Instant::from_micros(u64::MAX), v6(1), 1000), 1000);
    }

    #[test]
    fn invalid_parameters_are_refused() {
        let d = IcmpRateLimit::default();
        let e = IcmpRateLimiter::new(IcmpRateLimit { burst: 0, ..d }, 0).unwrap_err();
        assert_eq!(e, IcmpRateLimitError::ZeroBurst { per_sec: 1000 });
        assert!(e.to_string().contains("burst of at least 1"), "{e}");
        assert_eq!(
            IcmpRateLimit { dest_burst: 0, ..d }.validate(),
            Err(IcmpRateLimitError::ZeroDestBurst)
        );
        assert!(matches!(
            IcmpRateLimit {
                dest_interval: Duration::from_secs(3601),
                ..d
            }
            .validate(),
            Err(IcmpRateLimitError::DestIntervalTooLong(_))
        ));
        assert!(matches!(
            IcmpRateLimit {
                dest_interval: Duration::from_nanos(10),
                ..d
            }
            .validate(),
            Err(IcmpRateLimitError::DestIntervalTooShort(_))
        ));
        // A burst without a rate, or without an interval, is harmless.
        assert_eq!(
            IcmpRateLimit {
                per_sec: 0,
                burst: 0,
                ..d
            }
            .validate(),
            Ok(())
        );
        assert_eq!(
            IcmpRateLimit {
                dest_interval: Duration::ZERO,
                dest_burst: 0,
                ..d
            }
            .validate(),
            Ok(())
        );
    }

    #[test]
    fn packets_are_keyed_by_their_destination() {
        let mut l = IcmpRateLimiter::new(IcmpRateLimit::default(), 2).unwrap();
        let mut p6 = [0u8; 48];
        p6[0] = 0x60;
        p6[24..40].copy_from_slice(&Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 2).octets());
        let mut p4 = [0u8; 28];
        p4[0] = 0x45;
        p4[16..20].copy_from_slice(&[198, 51, 100, 7]);
        assert_eq!((0..10).filter(|_| l.admit_packet(at_ms(0), &p6)).count(), 6);
        assert!(!l.admit(at_ms(0), "2001:db8:1::2".parse().unwrap()));
        assert_eq!((0..10).filter(|_| l.admit_packet(at_ms(0), &p4)).count(), 6);
        assert!(!l.admit(at_ms(0), "198.51.100.7".parse().unwrap()));
        // No destination to read: the global bucket alone (38 left).
        assert_eq!((0..100).filter(|_| l.admit_packet(at_ms(0), &[0x60, 0])).count(), 38);
        assert_eq!(l.tracked(), 2);
    }
}

/// Whether an error packet is Packet Too Big (ICMPv6 type 2) or
/// Fragmentation Needed (ICMPv4 3/4), with no extension headers before it
/// (as the translator builds them).
fn is_pmtu_signal(pkt: &[u8]) -> bool {
    match pkt.first().map(|b| b >> 4) {
        Some(4) if pkt.len() >= 20 => {
            let hl = usize::from(pkt[0] & 15) * 4;
            pkt[9] == 1 && pkt.get(hl) == Some(&3) && pkt.get(hl + 1) == Some(&4)
        }
        Some(6) => pkt.get(6) == Some(&58) && pkt.get(40) == Some(&2),
        _ => false,
    }
}

#[cfg(test)]
mod pmtu_tests {
    use super::*;

    #[test]
    fn packet_too_big_skips_the_per_destination_bucket() {
        let mut l = IcmpRateLimiter::new(IcmpRateLimit::default(), 3).unwrap();
        let mut ptb = [0u8; 48];
        ptb[0] = 0x60;
        ptb[6] = 58;
        ptb[24..40].copy_from_slice(&core::net::Ipv6Addr::LOCALHOST.octets());
        ptb[40] = 2;
        let mut te = ptb;
        te[40] = 3;
        let now = Instant::from_secs(1);
        // Far past the per-destination burst of 6, within the global 50.
        assert_eq!((0..40).filter(|_| l.admit_packet(now, &ptb)).count(), 40);
        let mut l = IcmpRateLimiter::new(IcmpRateLimit::default(), 3).unwrap();
        assert!((0..40).filter(|_| l.admit_packet(now, &te)).count() < 40);
        let mut fnd = [0u8; 28];
        fnd[0] = 0x45;
        fnd[9] = 1;
        fnd[20] = 3;
        fnd[21] = 4;
        assert!(is_pmtu_signal(&fnd));
        fnd[21] = 3;
        assert!(!is_pmtu_signal(&fnd));
    }
}
