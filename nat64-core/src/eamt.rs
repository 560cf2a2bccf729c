//! RFC 7757 Explicit Address Mapping Table.
//!
//! The EAMT owns the explicit IPv4 prefix <-> IPv6 prefix mappings, their
//! validation (section 3.2: suffix lengths; overlapping entries need
//! `force`) and the longest-prefix-match lookups in both directions
//! (section 3.3). The hairpinning modes of section 4.2 are applied by the
//! translator; [`HairpinMode`] lives here because it is an EAM setting.

use alloc::vec::Vec;
use core::net::{Ipv4Addr, Ipv6Addr};

use crate::addr::{mask128, mask32, Ipv4Prefix, Ipv6Prefix};

/// RFC 7757 section 4.2: what to do with a 6->4 translated packet whose IPv4
/// destination is itself EAM-mapped to an IPv6 node behind this translator.
///
/// A CLAT (RFC 6877) must use [`HairpinMode::Off`]: its EAM maps the host's
/// own IPv4 address, so every reply would otherwise be sent back around.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum HairpinMode {
    /// Send it out on the IPv4 side, as is.
    Off,
    /// Section 4.2.1: translate it back to IPv6 with the ordinary rules.
    /// ICMP errors are matched by the inner packet's source.
    Simple,
    /// Section 4.2.2: translate it back to IPv6, taking the source (the inner
    /// destination, for an ICMP error) from pool6 rather than the EAMT, so the
    /// receiver answers through the translator. Jool's default.
    #[default]
    Intrinsic,
}

impl HairpinMode {
    /// The name the configuration file and the bindings use: `off`,
    /// `simple` or `intrinsic` (Jool's `eam-hairpin-mode` names).
    pub const fn name(self) -> &'static str {
        match self {
            HairpinMode::Off => "off",
            HairpinMode::Simple => "simple",
            HairpinMode::Intrinsic => "intrinsic",
        }
    }
}

impl core::fmt::Display for HairpinMode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// Text that is not a hairpinning mode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HairpinModeError {
    /// Not `off`, `simple` or `intrinsic`.
    #[error("hairpin mode {0:?} is not off, simple or intrinsic (RFC 7757 section 4.2)")]
    Unknown(alloc::string::String),
}

impl core::str::FromStr for HairpinMode {
    type Err = HairpinModeError;

    /// `off`, `simple` or `intrinsic`, as [`HairpinMode::name`] prints them.
    fn from_str(s: &str) -> Result<Self, HairpinModeError> {
        match s {
            "off" => Ok(HairpinMode::Off),
            "simple" => Ok(HairpinMode::Simple),
            "intrinsic" => Ok(HairpinMode::Intrinsic),
            other => Err(HairpinModeError::Unknown(other.into())),
        }
    }
}

/// Why an EAMT entry was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EamtError {
    /// RFC 7757 section 3.2: the IPv4 suffix must fit in the IPv6 suffix.
    #[error(
        "EAM {v4} <-> {v6}: the IPv4 suffix ({s4} bits) is longer than the IPv6 suffix ({s6} bits); \
         lengthen the IPv4 prefix or shorten the IPv6 prefix"
    )]
    SuffixTooLong {
        /// IPv4 side.
        v4: Ipv4Prefix,
        /// IPv6 side.
        v6: Ipv6Prefix,
        /// Bits after the IPv4 prefix.
        s4: u8,
        /// Bits after the IPv6 prefix.
        s6: u8,
    },
    /// The same prefix is already mapped.
    #[error("EAM {v4} <-> {v6}: {side} is already in the table (entry {e4} <-> {e6}); remove that entry first")]
    Duplicate {
        /// IPv4 side.
        v4: Ipv4Prefix,
        /// IPv6 side.
        v6: Ipv6Prefix,
        /// "the IPv4 prefix" or "the IPv6 prefix".
        side: &'static str,
        /// The existing entry.
        e4: Ipv4Prefix,
        /// The existing entry.
        e6: Ipv6Prefix,
    },
    /// Overlapping entries make the mapping asymmetric; RFC 7757 section 3.2
    /// allows them, but only when asked for.
    #[error(
        "EAM {v4} <-> {v6} overlaps entry {e4} <-> {e6}: the longest match would win and the mapping \
         would be asymmetric; add it with force if that is intended"
    )]
    Overlap {
        /// IPv4 side.
        v4: Ipv4Prefix,
        /// IPv6 side.
        v6: Ipv6Prefix,
        /// The existing entry.
        e4: Ipv4Prefix,
        /// The existing entry.
        e6: Ipv6Prefix,
    },
}

/// One explicit address mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Eam {
    /// The IPv4 prefix.
    pub v4: Ipv4Prefix,
    /// The IPv6 prefix.
    pub v6: Ipv6Prefix,
}

impl Eam {
    /// Section 3.3: the IPv4 suffix is copied to the bits right after the
    /// IPv6 prefix; the remaining IPv6 bits are zero.
    #[inline]
    fn map4(&self, a: Ipv4Addr) -> Ipv6Addr {
        let s4 = 32 - u32::from(self.v4.prefix_len());
        let suffix = u128::from(u32::from(a) & !mask32(self.v4.prefix_len()));
        let shift = 128 - u32::from(self.v6.prefix_len()) - s4;
        Ipv6Addr::from(u128::from(self.v6.addr()) | (suffix << shift))
    }
    #[inline]
    fn map6(&self, a: Ipv6Addr) -> Ipv4Addr {
        let s4 = 32 - u32::from(self.v4.prefix_len());
        let shift = 128 - u32::from(self.v6.prefix_len()) - s4;
        let host = (u128::from(a) & !mask128(self.v6.prefix_len())) >> shift;
        let host = if s4 == 0 {
            0
        } else {
            (host as u32) & !mask32(self.v4.prefix_len())
        };
        Ipv4Addr::from(u32::from(self.v4.addr()) | host)
    }
}

/// The table. Entries are kept sorted by prefix length, longest first, in
/// one list per direction so that the first hit is the longest match.
#[derive(Debug, Clone, Default)]
pub struct Eamt {
    by4: Vec<Eam>,
    by6: Vec<Eam>,
}

impl Eamt {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an entry (RFC 7757 section 3.2). Exact duplicates of either side
    /// are always refused; other overlaps only without `force`.
    pub fn add(&mut self, v4: Ipv4Prefix, v6: Ipv6Prefix, force: bool) -> Result<(), EamtError> {
        let s4 = 32 - v4.prefix_len();
        let s6 = 128 - v6.prefix_len();
        if s4 > s6 {
            return Err(EamtError::SuffixTooLong { v4, v6, s4, s6 });
        }
        for e in &self.by4 {
            if e.v4 == v4 {
                return Err(EamtError::Duplicate {
                    v4,
                    v6,
                    side: "the IPv4 prefix",
                    e4: e.v4,
                    e6: e.v6,
                });
            }
            if e.v6 == v6 {
                return Err(EamtError::Duplicate {
                    v4,
                    v6,
                    side: "the IPv6 prefix",
                    e4: e.v4,
                    e6: e.v6,
                });
            }
            if !force && (e.v4.overlaps(&v4) || e.v6.overlaps(&v6)) {
                return Err(EamtError::Overlap {
                    v4,
                    v6,
                    e4: e.v4,
                    e6: e.v6,
                });
            }
        }
        let eam = Eam { v4, v6 };
        let i = self.by4.partition_point(|e| e.v4.prefix_len() >= v4.prefix_len());
        self.by4.insert(i, eam);
        let i = self.by6.partition_point(|e| e.v6.prefix_len() >= v6.prefix_len());
        self.by6.insert(i, eam);
        Ok(())
    }

    /// Removes the entry with this IPv4 prefix; returns whether one was.
    pub fn remove(&mut self, v4: Ipv4Prefix) -> bool {
        let before = self.by4.len();
        self.by4.retain(|e| e.v4 != v4);
        self.by6.retain(|e| e.v4 != v4);
        before != self.by4.len()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.by4.len()
    }
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.by4.is_empty()
    }
    /// The entries, longest IPv4 prefix first.
    pub fn entries(&self) -> &[Eam] {
        &self.by4
    }

    /// Section 3.3, IPv4 to IPv6, longest match.
    #[inline]
    pub fn to_v6(&self, a: Ipv4Addr) -> Option<Ipv6Addr> {
        self.by4.iter().find(|e| e.v4.contains(a)).map(|e| e.map4(a))
    }
    /// Section 3.3, IPv6 to IPv4, longest match.
    #[inline]
    pub fn to_v4(&self, a: Ipv6Addr) -> Option<Ipv4Addr> {
        self.by6.iter().find(|e| e.v6.contains(a)).map(|e| e.map6(a))
    }
    /// Whether an entry covers this IPv4 address.
    #[inline]
    pub fn contains4(&self, a: Ipv4Addr) -> bool {
        self.by4.iter().any(|e| e.v4.contains(a))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p4(s: &str) -> Ipv4Prefix {
        s.parse().unwrap()
    }
    fn p6(s: &str) -> Ipv6Prefix {
        s.parse().unwrap()
    }

    /// RFC 7757 section 3.2 / Appendix A examples.
    #[test]
    fn rfc7757_examples() {
        let mut t = Eamt::new();
        for (a, b) in [
            ("192.0.2.1/32", "2001:db8:aaaa::/128"),
            ("192.0.2.2/32", "2001:db8:bbbb::b/128"),
            ("192.0.2.16/28", "2001:db8:cccc::/124"),
            ("192.0.2.128/26", "2001:db8:dddd::/64"),
            ("192.0.2.192/29", "2001:db8:eeee:8::/62"),
            ("192.0.2.224/31", "64:ff9b::/127"),
        ] {
            t.add(p4(a), p6(b), false).unwrap();
        }
        for (a, b) in [
            ("192.0.2.1", "2001:db8:aaaa::"),
            ("192.0.2.24", "2001:db8:cccc::8"),
            ("192.0.2.152", "2001:db8:dddd:0:6000::"),
            ("192.0.2.195", "2001:db8:eeee:9:8000::"),
            ("192.0.2.225", "64:ff9b::1"),
        ] {
            let (a, b): (Ipv4Addr, Ipv6Addr) = (a.parse().unwrap(), b.parse().unwrap());
            assert_eq!(t.to_v6(a), Some(b));
            assert_eq!(t.to_v4(b), Some(a));
        }
        assert_eq!(t.to_v6("192.0.2.3".parse().unwrap()), None);
    }

    #[test]
    fn validation() {
        let mut t = Eamt::new();
        t.add(p4("1.0.0.4/30"), p6("1::c/126"), false).unwrap();
        assert!(matches!(
            t.add(p4("1.0.0.4/30"), p6("1::c/126"), true),
            Err(EamtError::Duplicate { .. })
        ));
        assert!(matches!(
            t.add(p4("1.0.0.6/31"), p6("2::a/127"), false),
            Err(EamtError::Overlap { .. })
        ));
        t.add(p4("1.0.0.6/31"), p6("2::a/127"), true).unwrap();
        assert!(matches!(
            t.add(p4("5.0.0.0/24"), p6("5::/124"), false),
            Err(EamtError::SuffixTooLong { .. })
        ));
        t.add(p4("5.0.0.0/28"), p6("5::/120"), false).unwrap();
        // The longer prefix wins, so 1.0.0.6 now maps through the /31.
        assert_eq!(t.to_v6("1.0.0.6".parse().unwrap()), Some("2::a".parse().unwrap()));
        assert_eq!(t.to_v6("1.0.0.4".parse().unwrap()), Some("1::c".parse().unwrap()));
        assert!(t.remove(p4("1.0.0.6/31")));
        assert_eq!(t.to_v6("1.0.0.6".parse().unwrap()), Some("1::e".parse().unwrap()));
    }

    #[test]
    fn hairpin_mode_names_round_trip() {
        use alloc::string::ToString;
        for m in [HairpinMode::Off, HairpinMode::Simple, HairpinMode::Intrinsic] {
            assert_eq!(m.to_string().parse::<HairpinMode>(), Ok(m));
        }
        let e = "sometimes".parse::<HairpinMode>().unwrap_err().to_string();
        assert!(e.contains("\"sometimes\"") && e.contains("intrinsic"), "{e}");
    }
}
