//! Why a gateway could not start, or a reload was refused.

use std::path::PathBuf;

use nat64_core::nat64::{Nat64ConfigError, Pool4Error};
use nat64_core::{ConfigError, IcmpRateLimitError};

use crate::netconf;

/// Why a gateway could not start, or a reload was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GatewayError {
    /// The stateless configuration cannot work.
    #[error("[translator] {0}")]
    Config(#[from] ConfigError),
    /// The stateful configuration cannot work.
    #[error("[nat64] {0}")]
    Nat64(#[from] Nat64ConfigError),
    /// pool4 cannot work.
    #[error("[nat64] pool4: {0}")]
    Pool4(#[from] Pool4Error),
    /// The ICMP error rate limit cannot work.
    #[error("[gateway] icmp_errors_*: {0}")]
    IcmpRate(#[from] IcmpRateLimitError),
    /// An interface of the AF_PACKET adapter.
    #[error("[af_packet] interface {interface:?}: {error} (the AF_PACKET adapter needs CAP_NET_RAW and an existing Ethernet interface)")]
    Packet {
        /// The interface.
        interface: String,
        /// Why.
        error: std::io::Error,
    },
    /// The TUN device.
    #[error("cannot open TUN device {name:?}: {error} (the gateway needs root or CAP_NET_ADMIN and /dev/net/tun; `modprobe tun` if it is missing)")]
    Tun {
        /// The device.
        name: String,
        /// Why.
        error: std::io::Error,
    },
    /// Configuring the device.
    #[error(transparent)]
    Ip(#[from] netconf::IpError),
    /// The control socket.
    #[error("[gateway] control_socket = {path:?}: cannot listen: {error}")]
    ControlSocket {
        /// The path.
        path: PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// The metrics endpoint.
    #[error("[gateway] metrics = \"{addr}\": cannot listen: {error} (pick another port, or set metrics = \"\" to turn it off)")]
    Metrics {
        /// The address.
        addr: std::net::SocketAddr,
        /// Why.
        error: std::io::Error,
    },
    /// A setting that cannot change while running.
    #[error("{0}")]
    Reload(String),
    /// `workers = 0` and the like.
    #[error("[gateway] {key}: {why}")]
    Invalid {
        /// The key.
        key: &'static str,
        /// What is wrong.
        why: String,
    },
    /// A thread could not start.
    #[error("cannot start a thread: {0}")]
    Thread(std::io::Error),
}
