//! What a gateway runs with: the translation mode and its core
//! configuration, the client filter, the TUN device and its addresses and
//! routes, the control socket and the metrics address. The `nat64 gateway`
//! command builds a [`Settings`] from its TOML file; an embedder can build
//! one directly.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use nat64_core::nat64::Nat64Config;
use nat64_core::{Config, IcmpRateLimit, Ipv4Prefix, Ipv6Prefix};

/// What the gateway translates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Stateless SIIT (RFC 7915, RFC 7757 EAMT, RFC 6052 pool6).
    Siit,
    /// Stateful NAT64 (RFC 6146): IPv6 clients share pool4.
    Nat64,
    /// The customer-side translator of 464XLAT (RFC 6877 section 6.3): the
    /// host's IPv4 applications reach IPv4 through a PLAT (a NAT64) over
    /// IPv6. Stateless: an EAMT entry maps the host's IPv4 address
    /// (192.0.0.0/29, RFC 7335) to an IPv6 address of the host, pool6 is
    /// the PLAT's prefix.
    Clat,
}

impl Mode {
    /// The name used in the configuration file.
    pub const fn name(self) -> &'static str {
        match self {
            Mode::Siit => "siit",
            Mode::Nat64 => "nat64",
            Mode::Clat => "clat",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The core's configuration for the mode.
#[derive(Debug, Clone)]
pub enum Xlat {
    /// SIIT and CLAT.
    Stateless(Box<Config>),
    /// NAT64.
    Stateful(Box<Nat64Config>),
}

impl Xlat {
    /// The RFC 7915 settings shared by both.
    pub fn xlat(&self) -> &Config {
        match self {
            Xlat::Stateless(c) => c,
            Xlat::Stateful(n) => &n.xlat,
        }
    }
}

/// Whose packets are translated (the core's client filter, which keeps the
/// gateway from being an open relay): IPv6 sources in SIIT and NAT64 mode,
/// IPv4 sources (the host's own applications) in CLAT mode; an ICMP error is
/// judged by the client it quotes.
pub use nat64_core::clients::Clients;

/// An address or route prefix: `addr/len`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cidr {
    /// Address.
    pub addr: IpAddr,
    /// Prefix length.
    pub len: u8,
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

impl From<Ipv4Prefix> for Cidr {
    fn from(p: Ipv4Prefix) -> Self {
        Cidr {
            addr: p.addr().into(),
            len: p.prefix_len(),
        }
    }
}

impl From<Ipv6Prefix> for Cidr {
    fn from(p: Ipv6Prefix) -> Self {
        Cidr {
            addr: p.addr().into(),
            len: p.prefix_len(),
        }
    }
}

/// The TUN device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// Interface name (at most 15 bytes).
    pub name: String,
    /// Worker threads.
    pub workers: usize,
    /// One TUN queue per worker (IFF_MULTI_QUEUE); otherwise the workers
    /// share one descriptor.
    pub multi_queue: bool,
    /// The device's MTU.
    pub mtu: u32,
    /// TUN offloads (IFF_VNET_HDR, TUNSETOFFLOAD): TCP arrives as
    /// super-packets of up to 64 KiB, translated once each, and partial
    /// checksums are finished by the kernel or the adapter (see
    /// [`crate::vnet`]).
    pub offload: bool,
    /// Bring the device up and install `addresses` and `routes` with the
    /// `ip` command (iproute2); off, the operator does it.
    pub configure: bool,
    /// Addresses given to the device.
    pub addresses: Vec<Cidr>,
    /// Routes through the device. The gateway adds the
    /// [`eamt_routes`](Device::eamt_routes) it installs.
    pub routes: Vec<Cidr>,
    /// Routes through the device only where the kernel does not already
    /// reach the whole prefix through another interface (a route other than
    /// a default route, see [`crate::netconf::reached_elsewhere`]): the two
    /// sides of each SIIT EAMT entry (RFC 7757). The translator must
    /// receive IPv6 traffic to the IPv6 side of an entry whose node lives on
    /// the IPv4 network, and IPv4 traffic to the IPv4 side of an entry whose
    /// node lives on the IPv6 network; the other side of each is that node's
    /// own address, which the kernel reaches on its link, and routing it into
    /// the device would capture the translator's own output. Decided when the
    /// gateway starts and at each reload, and logged (`route_added`,
    /// `route_skipped`).
    pub eamt_routes: Vec<Cidr>,
}

/// Where the next hop of a side's packets is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextHop {
    /// From the kernel's routes of the interface: the route's gateway, or
    /// the destination itself when it is on-link; its link-layer address
    /// from the kernel's neighbour table.
    Auto,
    /// Every packet goes to this router (its link-layer address from the
    /// kernel's neighbour table).
    Address(IpAddr),
    /// Every packet goes to this link-layer address.
    Mac([u8; 6]),
}

impl fmt::Display for NextHop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NextHop::Auto => f.write_str("auto"),
            NextHop::Address(a) => write!(f, "{a}"),
            NextHop::Mac(m) => write!(
                f,
                "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
                m[0], m[1], m[2], m[3], m[4], m[5]
            ),
        }
    }
}

/// One side of the AF_PACKET adapter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PacketSide {
    /// The interface (Ethernet).
    pub interface: String,
    /// Where its packets go.
    pub next_hop: NextHop,
}

/// How the gateway meets the network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Adapter {
    /// A TUN device ([`Device`]): the kernel routes pool6 and pool4 into it.
    Tun,
    /// AF_PACKET on two Ethernet interfaces (they may be the same one): the
    /// gateway reads their frames from memory-mapped rings and sends its
    /// translations itself; the kernel is told to discard what it routes
    /// to pool6 and pool4 (blackhole routes).
    AfPacket {
        /// The IPv6 side.
        ipv6: PacketSide,
        /// The IPv4 side.
        ipv4: PacketSide,
    },
}

/// Everything a gateway runs with.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The mode.
    pub mode: Mode,
    /// The core's configuration.
    pub xlat: Xlat,
    /// Whose packets are translated.
    pub clients: Clients,
    /// The TUN device (with [`Adapter::AfPacket`]: its worker count, and
    /// its routes, which become blackhole routes).
    pub device: Device,
    /// TUN or AF_PACKET.
    pub adapter: Adapter,
    /// The control socket (`nat64 session display`, `nat64 stats`).
    pub control_socket: Option<PathBuf>,
    /// The Prometheus endpoint (loopback).
    pub metrics: Option<SocketAddr>,
    /// How many ICMP errors the translator may send (RFC 4443 section
    /// 2.4 (f)); `IcmpRateLimit::default()` is Linux's limits.
    pub icmp_rate: IcmpRateLimit,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv6Addr;

    fn v6(src: &str, dst: &str, nh: u8, payload: &[u8]) -> Vec<u8> {
        let mut p = vec![0x60, 0, 0, 0];
        p.extend_from_slice(&(payload.len() as u16).to_be_bytes());
        p.extend_from_slice(&[nh, 64]);
        p.extend_from_slice(&src.parse::<Ipv6Addr>().unwrap().octets());
        p.extend_from_slice(&dst.parse::<Ipv6Addr>().unwrap().octets());
        p.extend_from_slice(payload);
        p
    }

    #[test]
    fn clients_v6() {
        let c = Clients::V6(vec!["2001:db8:1::/64".parse().unwrap()]);
        assert!(c.allows(&v6("2001:db8:1::5", "64:ff9b::1", 17, &[0; 8])));
        assert!(!c.allows(&v6("2001:db8:2::5", "64:ff9b::1", 17, &[0; 8])));
        // An ICMPv6 error from a router outside the prefix about a client.
        let inner = v6("64:ff9b::1", "2001:db8:1::5", 17, &[0; 8]);
        let mut icmp = vec![1, 4, 0, 0, 0, 0, 0, 0];
        icmp.extend_from_slice(&inner);
        assert!(c.allows(&v6("2001:db8:99::1", "64:ff9b::1", 58, &icmp)));
        let inner = v6("64:ff9b::1", "2001:db8:9::5", 17, &[0; 8]);
        let mut icmp = vec![1, 4, 0, 0, 0, 0, 0, 0];
        icmp.extend_from_slice(&inner);
        assert!(!c.allows(&v6("2001:db8:99::1", "64:ff9b::1", 58, &icmp)));
        // Echo requests are judged by their source.
        assert!(!c.allows(&v6("2001:db8:99::1", "64:ff9b::1", 58, &[128, 0, 0, 0, 0, 1, 0, 1])));
        // IPv4 and garbage pass to the core.
        assert!(c.allows(&[0x45; 20]));
        assert!(c.allows(&[0xff, 1]));
    }

    #[test]
    fn clients_v4() {
        let c = Clients::V4(vec!["192.0.0.0/29".parse().unwrap()]);
        let mut p = vec![0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, 192, 0, 0, 2, 203, 0, 113, 1];
        p.extend_from_slice(&[0; 8]);
        assert!(c.allows(&p));
        p[12..16].copy_from_slice(&[198, 51, 100, 1]);
        assert!(!c.allows(&p));
    }
}
