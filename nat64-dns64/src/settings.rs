//! What the resolver runs with. The `nat64-config` crate makes them from
//! `nat64 dns64`'s flags and the `[dns64]` table of a TOML file; an
//! embedder can fill them in directly.

use std::net::SocketAddr;
use std::time::Duration;

use nat64_core::dns64::Dns64Config;

/// Everything the resolver needs, from flags and file.
#[derive(Debug, Clone)]
pub struct Settings {
    /// DNS64 rules.
    pub dns64: Dns64Config,
    /// Listening addresses.
    pub listen: Vec<SocketAddr>,
    /// Upstreams.
    pub upstreams: Vec<SocketAddr>,
    /// Per-upstream timeout.
    pub timeout: Duration,
    /// Cache entries.
    pub cache_size: usize,
    /// Cache TTL cap.
    pub max_cache_ttl: u32,
    /// Metrics interval (zero: off).
    pub metrics_interval: Duration,
    /// Worker threads (at least 1).
    pub threads: usize,
}
