//! The gateway's clock: the core never reads one, so the adapters pass it
//! [`Instant`]s, microseconds of the monotonic clock since the gateway
//! started (plus one second, so that no real event happens at time zero).
//! Monotonic, so a wall-clock step (NTP, an operator) never expires or
//! extends sessions.

use std::time::Duration;

use nat64_core::nat64::Instant;

/// Converts between `std::time::Instant` and the core's [`Instant`].
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    epoch: std::time::Instant,
}

impl Default for Clock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock {
    /// A clock whose epoch is one second before now.
    pub fn new() -> Self {
        let now = std::time::Instant::now();
        Clock {
            epoch: now.checked_sub(Duration::from_secs(1)).unwrap_or(now),
        }
    }
    /// Now, for the core.
    pub fn now(&self) -> Instant {
        Instant::from_micros(self.epoch.elapsed().as_micros().min(u128::from(u64::MAX)) as u64)
    }
    /// How long from now until `t` (zero if past).
    pub fn until(&self, t: Instant) -> Duration {
        t.since(self.now())
    }
}
