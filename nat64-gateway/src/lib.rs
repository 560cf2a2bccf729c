//! `nat64-gateway`: the I/O adapters that turn the no-I/O `nat64-core` into
//! a gateway, and the only crate of the workspace (besides the FFI
//! bindings) with `unsafe` code, all of it in [`sys`] (and its AF_PACKET
//! part, [`sys::packet`]).
//!
//! - [`Gateway`]: settings checked, the runtime over one of two packet
//!   ports, the control and metrics threads, reload and shutdown.
//! - The runtime (`runtime.rs`): worker threads that receive packets from
//!   a port, read their offload metadata, filter and translate them with
//!   the core and send the results; the stateful translator's timers on a
//!   monotonic [`Clock`]; reload keeping sessions. With offloads
//!   ([`vnet`]), TCP arrives as 64 KiB super-packets translated once each.
//! - The packet ports (`port.rs`), side by side: the TUN adapter
//!   (`tun.rs`: one queue per worker with IFF_MULTI_QUEUE, or one shared
//!   queue) and the AF_PACKET adapter (`afpacket.rs`, `[gateway] adapter =
//!   "af_packet"`: the gateway on two Ethernet interfaces, TPACKET_V3
//!   receive rings with fanout across workers, batched sends, next hops
//!   from the kernel's neighbour table, [`neigh`]).
//! - [`SharedTable`]: the session table (RFC 6146 section 3.1) shared by
//!   the workers and kept across reloads.
//! - [`Settings`]: what a gateway runs with.
//! - [`control`]: the local control socket (`nat64 session display`,
//!   `nat64 stats`); [`metrics`]: the Prometheus endpoint; both read a
//!   [`snapshot`] of the counters, never the gateway.
//! - [`mod@log`]: structured `key=value` logs; [`netconf`]: `ip` commands.

#![deny(missing_docs)]

mod afpacket;
pub mod clock;
pub mod control;
mod error;
mod gateway;
pub mod log;
pub mod metrics;
pub mod neigh;
pub mod netconf;
mod port;
mod runtime;
pub mod settings;
pub mod snapshot;
pub mod sys;
pub mod table;
mod tun;
pub mod vnet;

pub use clock::Clock;
pub use error::GatewayError;
pub use gateway::Gateway;
pub use settings::{Adapter, Cidr, Clients, Device, Mode, NextHop, PacketSide, Settings, Xlat};
pub use table::SharedTable;

/// Locks `m`; a poisoned lock (a thread panicked while holding it) is taken
/// over: nothing the gateway guards is left half-done by a panic.
pub(crate) fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
