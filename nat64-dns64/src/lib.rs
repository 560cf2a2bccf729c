//! `nat64-dns64`: the I/O of a DNS64 resolver (RFC 6147) around the
//! sans-IO exchange of [`nat64_core::dns64`].
//!
//! It listens on UDP and TCP, forwards queries to one or more upstream
//! resolvers (in order, failing over on timeouts, network errors, SERVFAIL
//! and REFUSED), retries over TCP when an upstream truncates, and lets
//! [`nat64_core::dns64::Exchange`] decide everything RFC 6147 decides:
//! synthesized AAAA records (section 5.1), PTR CNAMEs (section 5.3.1), the
//! RFC 8880 names answered locally, everything else relayed unchanged;
//! FORMERR, NOTIMP, BADVERS for bad queries and SERVFAIL when every
//! upstream fails (section 5.1.3). Responses are cached for their TTL (RFC
//! 2181 section 8, RFC 2308 for negative answers) in the core's
//! [`ResponseCache`](nat64_core::dns64::ResponseCache), in locked shards
//! ([`SharedCache`]).
//!
//! Worker threads each run a single-threaded runtime on the same sockets
//! and share the cache. A UDP query answered from the cache is answered in
//! the receive loop itself, with no task and no allocation.
//!
//! Metrics (counters, and upstream and DNS64 latency histograms) go to
//! standard error as one JSON line every `metrics_interval`.
//!
//! Used by `nat64 dns64` and by `nat64 gateway` when its file has a
//! `[dns64]` table: [`Settings`] (from flags and the table: the
//! `nat64-config` crate), then [`start`].

#![deny(missing_docs)]

mod cache;
mod metrics;
mod resolver;
mod server;
mod settings;
pub mod sys;
mod upstream;

use std::net::SocketAddr;
use std::time::Duration;

pub use cache::{Clock, SharedCache};
pub use metrics::{Counters, Histogram, Metrics, WorkerMetrics};
pub use resolver::Resolver;
pub use server::{start, Running};
pub use settings::Settings;

/// Largest DNS message (TCP length field).
pub const MAX_MSG: usize = 65535;
/// UDP queries handled at once; more are dropped (the client retries).
/// At most half of them may be slow ones, waiting longer than [`JOSTLE`]
/// for their answer.
pub const MAX_IN_FLIGHT: usize = 4096;
/// How long a UDP query may wait for its answer before it counts as slow
/// (as unbound's `jostle-timeout`, whose default this is: about one
/// round trip to a distant server).
pub const JOSTLE: Duration = Duration::from_millis(200);
/// The receive buffer asked for each listening UDP socket.
pub const UDP_RCVBUF: usize = 4 << 20;
/// TCP connections open at once.
pub const MAX_TCP_CONNS: usize = 256;
/// How long a client TCP connection may wait for the next message, for the
/// rest of a message, or for room to write an answer, before it is closed
/// (RFC 7766 section 6.2.3).
pub const TCP_IDLE: Duration = Duration::from_secs(10);

/// Why the resolver cannot start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A flag or a key of the `[dns64]` table is wrong (the message names
    /// it).
    #[error("{0}")]
    Settings(String),
    /// The DNS64 rules are inconsistent.
    #[error(transparent)]
    Dns64(#[from] nat64_core::dns64::Dns64ConfigError),
    /// A listening address cannot be bound.
    #[error("cannot listen on {addr}: {err} (port 53 needs root or CAP_NET_BIND_SERVICE)")]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// What the system said.
        err: std::io::Error,
    },
    /// A worker's runtime or sockets cannot be set up (out of descriptors,
    /// say).
    #[error("cannot set up the worker threads: {0}")]
    Workers(std::io::Error),
    /// Another system error.
    #[error("{0}")]
    Io(std::io::Error),
}

impl From<String> for Error {
    fn from(s: String) -> Self {
        Error::Settings(s)
    }
}

impl From<&str> for Error {
    fn from(s: &str) -> Self {
        Error::Settings(s.to_owned())
    }
}
