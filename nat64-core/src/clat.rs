//! The customer-side translator of 464XLAT (RFC 6877): a stateless
//! translator on the host that carries the host's own IPv4 traffic over an
//! IPv6-only network to a PLAT (a stateful NAT64, RFC 6146).
//!
//! [`Clat`] is what an operator gives (the host's IPv6 address for
//! translated traffic and its IPv4 address) and [`Clat::apply`] turns it
//! into the RFC 7915 translator's [`Config`]: one explicit address mapping
//! (RFC 7757) between the two addresses, no hairpinning, and the addresses
//! generated ICMP errors come from. The PLAT's prefix is the translator's
//! `pool6` (RFC 6877 section 6.3: the CLAT translates IPv4 destinations
//! with the PLAT-side prefix, RFC 6052).

use core::net::{Ipv4Addr, Ipv6Addr};

use crate::addr::{Ipv4Prefix, Ipv6Prefix};
use crate::config::Config;
use crate::eamt::{Eamt, EamtError, HairpinMode};

/// A CLAT's addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clat {
    /// The host's IPv6 address for translated traffic (RFC 6877 section
    /// 6.3: a dedicated address, e.g. from the host's /64, assigned to no
    /// interface: the CLAT owns it). Translated packets leave from it and
    /// answers come back to it.
    pub ipv6: Ipv6Addr,
    /// The host's IPv4 address, the source of its IPv4 applications'
    /// packets: from the IPv4 Service Continuity Prefix 192.0.0.0/29
    /// (RFC 7335 section 3), [`Clat::DEFAULT_IPV4`] unless given.
    pub ipv4: Ipv4Addr,
}

impl Clat {
    /// The host's IPv4 address by default: 192.0.0.2, the host's address of
    /// the IPv4 Service Continuity Prefix (RFC 7335 section 3, which
    /// generalizes RFC 6333 section 5.7's B4 address to any IPv4 service
    /// continuity function).
    pub const DEFAULT_IPV4: Ipv4Addr = Ipv4Addr::new(192, 0, 0, 2);
    /// The translator's own IPv4 address by default, the source of the
    /// ICMPv4 errors it generates for the host: 192.0.0.1, the other end's
    /// address of the same prefix (RFC 6333 section 5.7, RFC 7335 section 3).
    pub const OWN_IPV4: Ipv4Addr = Ipv4Addr::new(192, 0, 0, 1);

    /// A CLAT for the host's IPv6 address `ipv6`, with the default IPv4
    /// address.
    pub const fn new(ipv6: Ipv6Addr) -> Self {
        Clat {
            ipv6,
            ipv4: Clat::DEFAULT_IPV4,
        }
    }

    /// The IPv4 Service Continuity Prefix, 192.0.0.0/29 (RFC 7335 section
    /// 3): the host's IPv4 addresses, so a CLAT's clients by default.
    pub fn continuity_prefix() -> Ipv4Prefix {
        Ipv4Prefix::new(Ipv4Addr::new(192, 0, 0, 0), 29).expect("192.0.0.0/29 is a prefix")
    }

    /// The explicit address mapping: the host's IPv4 address to its IPv6
    /// address, both single addresses (RFC 7757 section 3).
    pub fn eamt(&self) -> Result<Eamt, EamtError> {
        let mut eamt = Eamt::new();
        eamt.add(Ipv4Prefix::host(self.ipv4), Ipv6Prefix::host(self.ipv6), false)?;
        Ok(eamt)
    }

    /// Writes the CLAT's settings over `cfg`: the EAMT becomes the single
    /// mapping of [`Clat::eamt`]; hairpinning is off (RFC 7757 section 4.2
    /// hairpinning is for EAMs of nodes on the IPv6 side; a CLAT's EAM is
    /// the host's own IPv4 address, so every reply would be sent back to
    /// IPv6); the translator's own addresses default to
    /// [`Clat::OWN_IPV4`] and to the host's IPv6 address. `pool6` (the
    /// PLAT's prefix) and the other settings are left as they are.
    pub fn apply(&self, cfg: &mut Config) -> Result<(), EamtError> {
        cfg.eamt = self.eamt()?;
        cfg.eam_hairpin_mode = HairpinMode::Off;
        if cfg.own_ipv4.is_none() {
            cfg.own_ipv4 = Some(Clat::OWN_IPV4);
        }
        if cfg.own_ipv6.is_none() {
            cfg.own_ipv6 = Some(self.ipv6);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clat_maps_the_host_and_does_not_hairpin() {
        let host6: Ipv6Addr = "2001:db8:1::464".parse().unwrap();
        let mut cfg = Config::with_pool6("2001:db8:64::/96".parse().unwrap());
        Clat::new(host6).apply(&mut cfg).unwrap();
        assert_eq!(cfg.eamt.len(), 1);
        assert_eq!(cfg.eamt.to_v6(Clat::DEFAULT_IPV4), Some(host6));
        assert_eq!(cfg.eamt.to_v4(host6), Some(Clat::DEFAULT_IPV4));
        assert_eq!(cfg.eam_hairpin_mode, HairpinMode::Off);
        assert_eq!(cfg.own_ipv4, Some(Ipv4Addr::new(192, 0, 0, 1)));
        assert_eq!(cfg.own_ipv6, Some(host6));
        assert_eq!(cfg.pool6, Some("2001:db8:64::/96".parse().unwrap()));
        cfg.validate().unwrap();
        assert!(Clat::continuity_prefix().contains(Clat::DEFAULT_IPV4));
        assert!(Clat::continuity_prefix().contains(Clat::OWN_IPV4));
        assert_eq!(Clat::continuity_prefix().to_string(), "192.0.0.0/29");
    }

    #[test]
    fn given_addresses_are_kept() {
        let mut cfg = Config::with_pool6("64:ff9b::/96".parse().unwrap());
        cfg.own_ipv4 = Some(Ipv4Addr::new(192, 0, 0, 3));
        let c = Clat {
            ipv6: "2001:db8::1".parse().unwrap(),
            ipv4: Ipv4Addr::new(192, 0, 0, 4),
        };
        c.apply(&mut cfg).unwrap();
        assert_eq!(cfg.own_ipv4, Some(Ipv4Addr::new(192, 0, 0, 3)));
        assert_eq!(cfg.eamt.to_v6(Ipv4Addr::new(192, 0, 0, 4)), Some(c.ipv6));
    }
}
