//! The stateless translator's configuration: the address pools and the
//! options a kernel or Jool would otherwise supply.
//!
//! Names follow Jool's options where one exists (`lowest-ipv6-mtu`,
//! `amend-udp-checksum-zero`, `rfc6791v4-prefix`, ...), so operators find
//! what they know.

use alloc::vec::Vec;
use core::net::{Ipv4Addr, Ipv6Addr};

use crate::addr::{Ipv4Prefix, Ipv6Prefix, Prefix64};
use crate::eamt::{Eamt, HairpinMode};

/// RFC 1191 section 7 plateaus, as Jool's `mtu-plateaus` default.
pub const DEFAULT_MTU_PLATEAUS: [u16; 11] = [65535, 32000, 17914, 8166, 4352, 2002, 1492, 1006, 508, 296, 68];

/// A configuration that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// Neither pool6 nor an EAMT entry.
    #[error("nothing to translate with: set pool6 (e.g. 64:ff9b::/96) or add EAMT entries")]
    NoMapping,
    /// lowest-ipv6-mtu below the IPv6 minimum.
    #[error("lowest_ipv6_mtu is {0}, below the IPv6 minimum MTU of 1280 (RFC 8200 section 5)")]
    LowestIpv6Mtu(u32),
    /// An egress MTU that cannot carry a header.
    #[error("{which} is {value}; it must be at least {min}")]
    Mtu {
        /// Option name.
        which: &'static str,
        /// Given value.
        value: u32,
        /// Minimum.
        min: u32,
    },
    /// Generated errors would die at the first router.
    #[error("error_hop_limit is 0: the ICMP errors the translator sends would be dropped by the first router; use 64")]
    ErrorHopLimit,
    /// Plateaus must be a non-empty list.
    #[error("mtu_plateaus is empty; give at least one value (RFC 1191 section 7 lists 68 to 65535)")]
    NoPlateaus,
}

/// Where the IPv4 Identification of unfragmented 6->4 packets comes from
/// (RFC 7915 section 5.1 leaves it to the translator).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Ipv4IdPolicy {
    /// Always this value (0 is what Linux uses for DF packets, RFC 6864).
    Fixed(u16),
    /// A counter starting at this value, advanced per packet that needs one;
    /// DF=1 packets get 0 (RFC 6864 section 4.1: atomic datagrams).
    Counter(u16),
}

/// The stateless translator's configuration (SIIT, RFC 7915 + RFC 7757).
#[derive(Debug, Clone)]
pub struct Config {
    /// RFC 6052 prefix for pool6-based translation.
    pub pool6: Option<Prefix64>,
    /// RFC 6052 section 3.1: with the Well-Known Prefix, refuse non-global
    /// IPv4 addresses. On by default; Jool has no such check.
    pub wkp_forbids_non_global: bool,
    /// RFC 7757 explicit address mappings.
    pub eamt: Eamt,
    /// RFC 7757 section 4.2 hairpinning.
    pub eam_hairpin_mode: HairpinMode,
    /// IPv4 prefixes never translated with pool6 (Jool `denylist4`).
    pub denylist4: Vec<Ipv4Prefix>,
    /// RFC 6791 pool: sources for translated ICMPv6 errors whose source
    /// cannot be translated.
    pub rfc6791v4_prefix: Option<Ipv4Prefix>,
    /// The IPv6 counterpart (Jool `rfc6791v6-prefix`).
    pub rfc6791v6_prefix: Option<Ipv6Prefix>,
    /// Pick a pseudo-random pool address (keyed by the packet) rather than
    /// the hop-limit-th one.
    pub randomize_rfc6791_addresses: bool,
    /// The translator's own IPv4 address: source of ICMPv4 errors it
    /// generates, RFC 6791 fallback, implicitly denylisted.
    pub own_ipv4: Option<Ipv4Addr>,
    /// The translator's own IPv6 address: source of ICMPv6 errors it
    /// generates and RFC 6791 fallback.
    pub own_ipv6: Option<Ipv6Addr>,
    /// Egress MTU towards IPv4.
    pub mtu4: u32,
    /// Egress MTU towards IPv6.
    pub mtu6: u32,
    /// RFC 7915 section 4 / Jool `lowest-ipv6-mtu`: DF=0 IPv4 packets are
    /// fragmented so that every IPv6 fragment fits this.
    pub lowest_ipv6_mtu: u32,
    /// RFC 1191 plateaus for Fragmentation Needed with MTU 0.
    pub mtu_plateaus: Vec<u16>,
    /// RFC 7915 section 4.5: compute the checksum of unfragmented IPv4 UDP
    /// datagrams that have none (else drop with ICMPv4 3/13). Also the
    /// operator's consent to compute one for unfragmented IPv6 UDP datagrams
    /// with checksum 0 (invalid in IPv6, RFC 8200 section 8.1), which are
    /// otherwise dropped. The stateful NAT64 always computes it 4->6 (RFC
    /// 6146 section 3.4: it reassembles first).
    pub amend_udp_checksum_zero: bool,
    /// Forward a UDP checksum of 0 unchanged in both directions (Jool's
    /// `forward-udp-checksum-zero`, Jool issue 446), for tunnels that rely on
    /// RFC 6935 / RFC 6936 zero-checksum UDP over IPv6. It takes precedence
    /// over `amend_udp_checksum_zero` and over the drop of IPv6 UDP with
    /// checksum 0 (RFC 8200 section 8.1), in SIIT and in the stateful NAT64.
    pub forward_udp_checksum_zero: bool,
    /// 4->6: Traffic Class 0 instead of a copy of the TOS.
    pub zeroize_traffic_class: bool,
    /// 6->4: this TOS instead of a copy of the Traffic Class.
    pub override_tos: Option<u8>,
    /// TTL / hop limit of ICMP errors the translator generates.
    pub error_hop_limit: u8,
    /// IPv4 Identification of unfragmented 6->4 packets.
    pub ipv4_id: Ipv4IdPolicy,
    /// Secret mixed into the RFC 6791 address choice.
    pub seed: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            pool6: None,
            wkp_forbids_non_global: true,
            eamt: Eamt::new(),
            eam_hairpin_mode: HairpinMode::Intrinsic,
            denylist4: Vec::new(),
            rfc6791v4_prefix: None,
            rfc6791v6_prefix: None,
            randomize_rfc6791_addresses: true,
            own_ipv4: None,
            own_ipv6: None,
            mtu4: 1500,
            mtu6: 1500,
            lowest_ipv6_mtu: 1280,
            mtu_plateaus: DEFAULT_MTU_PLATEAUS.to_vec(),
            amend_udp_checksum_zero: false,
            forward_udp_checksum_zero: false,
            zeroize_traffic_class: false,
            override_tos: None,
            error_hop_limit: 64,
            ipv4_id: Ipv4IdPolicy::Counter(1),
            seed: 0x6e61_7436_345f_7369,
        }
    }
}

impl Config {
    /// A configuration with this pool6 and defaults for everything else.
    pub fn with_pool6(pool6: Prefix64) -> Self {
        Config {
            pool6: Some(pool6),
            ..Config::default()
        }
    }

    /// Checks that the configuration can work.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.pool6.is_none() && self.eamt.is_empty() {
            return Err(ConfigError::NoMapping);
        }
        if self.lowest_ipv6_mtu < 1280 {
            return Err(ConfigError::LowestIpv6Mtu(self.lowest_ipv6_mtu));
        }
        if self.mtu6 < 1280 {
            return Err(ConfigError::Mtu {
                which: "mtu6",
                value: self.mtu6,
                min: 1280,
            });
        }
        if self.mtu4 < 68 {
            return Err(ConfigError::Mtu {
                which: "mtu4",
                value: self.mtu4,
                min: 68,
            });
        }
        if self.error_hop_limit == 0 {
            return Err(ConfigError::ErrorHopLimit);
        }
        if self.mtu_plateaus.is_empty() {
            return Err(ConfigError::NoPlateaus);
        }
        Ok(())
    }
}
