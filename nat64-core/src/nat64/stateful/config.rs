//! The stateful NAT64's configuration: RFC 6146 timeouts, pool4, the
//! filtering and session table options, and their checks.

use alloc::vec::Vec;
use core::time::Duration;

use crate::addr::Prefix64;
use crate::config::{Config, ConfigError};
use crate::nat64::default_table::TableLimits;
use crate::nat64::pool4::{Pool4Entry, Pool4Error};
use crate::nat64::reassembly::ReassemblyLimits;
use crate::nat64::table::{Bib, Proto, Taddr4, Taddr6};

/// RFC 6146 section 4 timeouts, with Jool's defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// UDP session lifetime (default 5 min; RFC 6146 says at least 2 min).
    pub udp: Duration,
    /// TCP established lifetime (default 2 h 4 min).
    pub tcp_est: Duration,
    /// TCP transitory lifetime (default 4 min).
    pub tcp_trans: Duration,
    /// ICMP query lifetime (default 1 min).
    pub icmp: Duration,
    /// How long an unsolicited IPv4 SYN is held (TCP_INCOMING_SYN, 6 s).
    pub tcp_incoming_syn: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            udp: Duration::from_secs(300),
            tcp_est: Duration::from_secs(2 * 3600 + 4 * 60),
            tcp_trans: Duration::from_secs(240),
            icmp: Duration::from_secs(60),
            tcp_incoming_syn: Duration::from_secs(6),
        }
    }
}

/// RFC 6146 section 4: UDP_MIN.
pub const UDP_MIN: Duration = Duration::from_secs(120);

/// The stateful NAT64's configuration.
#[derive(Debug, Clone)]
pub struct Nat64Config {
    /// The translation settings shared with SIIT: `pool6` (required),
    /// MTUs, own addresses, traffic class options. The EAMT is not used.
    pub xlat: Config,
    /// pool4 (empty: Jool would use the host's addresses; here it is an
    /// error, since the core does not know them).
    pub pool4: Vec<Pool4Entry>,
    /// Static BIB entries (published services).
    pub static_bib: Vec<Bib>,
    /// Session lifetimes.
    pub timeouts: Timeouts,
    /// RFC 6146 section 3.5: address-dependent filtering instead of
    /// endpoint-independent filtering.
    pub address_dependent_filtering: bool,
    /// RFC 6146 section 3.5.2.2: drop IPv4-initiated TCP.
    pub drop_externally_initiated_tcp: bool,
    /// RFC 6146 section 3.5.3: do not translate IPv6 pings.
    pub drop_icmpv6_info: bool,
    /// Unsolicited IPv4 SYNs held at once (Jool `maximum-simultaneous-opens`).
    pub max_simultaneous_opens: usize,
    /// Source of translated ICMPv4 errors: the error's real source through
    /// pool6 (true, Jool's default) or the quoted packet's destination (the
    /// RFC's literal reading).
    pub source_icmpv6_errors_better: bool,
    /// Jool `handle-rst-during-fin-rcv`.
    pub handle_rst_during_fin_rcv: bool,
    /// RFC 6056 probes per new binding (0: Jool's "auto").
    pub max_iterations: u64,
    /// Key of the RFC 6056 port choice; keep it secret.
    pub secret: [u64; 2],
    /// Session caps.
    pub limits: TableLimits,
    /// Reassembly bounds.
    pub reassembly: ReassemblyLimits,
}

impl Nat64Config {
    /// A configuration with this pool6 and pool4 and defaults elsewhere.
    pub fn new(pool6: Prefix64, pool4: Vec<Pool4Entry>) -> Self {
        Nat64Config {
            xlat: Config::with_pool6(pool6),
            pool4,
            static_bib: Vec::new(),
            timeouts: Timeouts::default(),
            address_dependent_filtering: false,
            drop_externally_initiated_tcp: false,
            drop_icmpv6_info: false,
            max_simultaneous_opens: 10,
            source_icmpv6_errors_better: true,
            handle_rst_during_fin_rcv: false,
            max_iterations: 0,
            secret: [0x6e61_7436_3473_6563, 0x7265_7420_6b65_7921],
            limits: TableLimits::default(),
            reassembly: ReassemblyLimits::default(),
        }
    }
}

/// A stateful configuration that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Nat64ConfigError {
    /// The shared settings.
    #[error(transparent)]
    Xlat(#[from] ConfigError),
    /// pool6 is mandatory.
    #[error("stateful NAT64 needs pool6 (e.g. 64:ff9b::/96)")]
    NoPool6,
    /// pool4 is mandatory.
    #[error("stateful NAT64 needs pool4: give at least one IPv4 address (ports default to 61001-65535)")]
    NoPool4,
    /// A pool4 entry.
    #[error(transparent)]
    Pool4(#[from] Pool4Error),
    /// RFC 6146 section 4.
    #[error("udp timeout {0:?} is below the 2-minute minimum of RFC 6146 section 4 (UDP_MIN)")]
    UdpTimeout(Duration),
    /// A static BIB entry outside pool4 or clashing with another.
    #[error("static BIB entry {proto} {v6} <-> {v4}: {why}")]
    StaticBib {
        /// Protocol.
        proto: Proto,
        /// IPv6 side.
        v6: Taddr6,
        /// IPv4 side.
        v4: Taddr4,
        /// What is wrong.
        why: &'static str,
    },
}
