//! `nat64-gateway`: the I/O adapters that turn the no-I/O `nat64-core` into
//! a gateway, and the only crate of the workspace (besides the FFI
//! bindings) with `unsafe` code, all of it in [`sys`] (and its AF_PACKET
//! part, [`sys::packet`]).
//!
//! - [`Gateway`]: the TUN adapter and its runtime: worker threads reading
//!   packets from a TUN device (one queue per worker with IFF_MULTI_QUEUE,
//!   or one shared queue), translating them with the core and writing the
//!   results back; the stateful translator's timers on a monotonic
//!   [`Clock`]; reload keeping sessions. With offloads ([`vnet`]), TCP
//!   arrives as 64 KiB super-packets translated once each.
//! - The AF_PACKET adapter (`[gateway] adapter = "af_packet"`): the gateway
//!   on two Ethernet interfaces, TPACKET_V3 receive rings with fanout across
//!   workers, batched sends, next hops from the kernel's neighbour table
//!   ([`neigh`]).
//! - [`SharedTable`]: the session table (RFC 6146 section 3.1) shared by
//!   the workers and kept across reloads.
//! - [`Settings`]: what a gateway runs with.
//! - [`control`]: the local control socket (`nat64 session display`,
//!   `nat64 stats`); [`metrics`]: the Prometheus endpoint.
//! - [`mod@log`]: structured `key=value` logs; [`netconf`]: `ip` commands.

#![deny(missing_docs)]

mod afpacket;
pub mod clock;
pub mod control;
mod gateway;
pub mod log;
pub mod metrics;
pub mod neigh;
pub mod netconf;
pub mod settings;
pub mod sys;
pub mod table;
pub mod vnet;

pub use clock::Clock;
pub use gateway::{Gateway, GatewayError};
pub use settings::{Adapter, Cidr, Clients, Device, Mode, NextHop, PacketSide, Settings, Xlat};
pub use table::SharedTable;
