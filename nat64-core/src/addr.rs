//! RFC 6052 IPv4-embedded IPv6 addresses, and the IPv4/IPv6 prefix types the
//! rest of the core uses.
//!
//! This module owns the one implementation of the RFC 6052 section 2.2
//! embedding (every caller, including the EAMT-less fallback of ICMP error
//! sources, goes through [`Prefix64`]) and the RFC 6052 section 3.1 test of
//! which IPv4 addresses may appear under the Well-Known Prefix.

use core::fmt;
use core::net::{Ipv4Addr, Ipv6Addr};
use core::str::FromStr;

/// Why an address or prefix given by the operator was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PrefixError {
    /// The text is not `address/length`.
    #[error("{0:?} is not a prefix: write it as address/length, e.g. 64:ff9b::/96 or 192.0.2.0/24")]
    Malformed(PrefixText),
    /// The length is above 32 (IPv4) or 128 (IPv6).
    #[error("prefix length /{len} is too long for an {family} address (at most /{max})")]
    LengthTooLong {
        /// The family.
        family: &'static str,
        /// Given length.
        len: u8,
        /// Largest allowed.
        max: u8,
    },
    /// Bits after the prefix length are set.
    #[error("{addr}/{len} has bits set after the first {len}: did you mean {masked}/{len}?")]
    HostBitsSet {
        /// The address as given.
        addr: IpText,
        /// The length.
        len: u8,
        /// The address with host bits cleared.
        masked: IpText,
    },
    /// RFC 6052 section 2.2 allows only these lengths.
    #[error("an RFC 6052 prefix must be /32, /40, /48, /56, /64 or /96, not /{0}")]
    Rfc6052Length(u8),
    /// RFC 6052 section 2.2: bits 64 to 71 (the "u" octet) must be zero.
    #[error("{0} sets bits 64-71 (the RFC 6052 u-octet), which must be zero")]
    UOctet(IpText),
}

/// Text of a malformed prefix, kept inline so errors need no allocation.
#[derive(Clone, PartialEq, Eq)]
pub struct PrefixText {
    buf: [u8; 64],
    len: u8,
}

impl PrefixText {
    fn new(s: &str) -> Self {
        let mut buf = [0u8; 64];
        let mut n = s.len().min(64);
        while !s.is_char_boundary(n) {
            n -= 1;
        }
        buf[..n].copy_from_slice(&s.as_bytes()[..n]);
        PrefixText { buf, len: n as u8 }
    }
    fn as_str(&self) -> &str {
        core::str::from_utf8(&self.buf[..usize::from(self.len)]).unwrap_or("?")
    }
}
impl fmt::Debug for PrefixText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

/// An address inside an error message.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum IpText {
    /// IPv4.
    V4(Ipv4Addr),
    /// IPv6.
    V6(Ipv6Addr),
}
impl fmt::Display for IpText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IpText::V4(a) => a.fmt(f),
            IpText::V6(a) => a.fmt(f),
        }
    }
}

fn split_prefix(s: &str) -> Result<(&str, u8), PrefixError> {
    let (a, l) = s
        .trim()
        .split_once('/')
        .ok_or_else(|| PrefixError::Malformed(PrefixText::new(s)))?;
    let l: u8 = l.parse().map_err(|_| PrefixError::Malformed(PrefixText::new(s)))?;
    Ok((a, l))
}

/// The IPv4 and IPv6 prefix types: one implementation for both families,
/// which differ only in the address type, its width in bits and its mask.
macro_rules! prefix_type {
    (
        $(#[$doc:meta])*
        $name:ident, $addr:ty, $bits:ty, $width:literal, $mask:ident, $family:literal, $text:ident
    ) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name {
            addr: $addr,
            len: u8,
        }

        impl $name {
            #[doc = concat!("A prefix; fails when `len > ", $width, "` or host bits are set.")]
            pub fn new(addr: $addr, len: u8) -> Result<Self, PrefixError> {
                if len > $width {
                    return Err(PrefixError::LengthTooLong {
                        family: $family,
                        len,
                        max: $width,
                    });
                }
                let masked = <$addr>::from(<$bits>::from(addr) & $mask(len));
                if masked != addr {
                    return Err(PrefixError::HostBitsSet {
                        addr: IpText::$text(addr),
                        len,
                        masked: IpText::$text(masked),
                    });
                }
                Ok($name { addr, len })
            }
            #[doc = concat!("A single address as a /", $width, ".")]
            pub const fn host(addr: $addr) -> Self {
                $name { addr, len: $width }
            }
            /// The network address.
            pub const fn addr(&self) -> $addr {
                self.addr
            }
            /// The prefix length in bits.
            pub const fn prefix_len(&self) -> u8 {
                self.len
            }
            /// Whether `a` lies inside.
            #[inline]
            pub fn contains(&self, a: $addr) -> bool {
                (<$bits>::from(a) & $mask(self.len)) == <$bits>::from(self.addr)
            }
            /// Whether the two prefixes share any address.
            pub fn overlaps(&self, o: &$name) -> bool {
                self.contains(o.addr) || o.contains(self.addr)
            }
            /// The `i`-th address (modulo the size).
            pub fn nth(&self, i: $bits) -> $addr {
                let host = if self.len == 0 { i } else { i & !$mask(self.len) };
                <$addr>::from(<$bits>::from(self.addr) | host)
            }
        }

        impl FromStr for $name {
            type Err = PrefixError;
            #[doc = concat!("`addr/len`, or a bare address meaning /", $width, ".")]
            fn from_str(s: &str) -> Result<Self, PrefixError> {
                let malformed = || PrefixError::Malformed(PrefixText::new(s));
                if !s.contains('/') {
                    return s.trim().parse().map(Self::host).map_err(|_| malformed());
                }
                let (a, l) = split_prefix(s)?;
                Self::new(a.parse().map_err(|_| malformed())?, l)
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}/{}", self.addr, self.len)
            }
        }
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(self, f)
            }
        }
    };
}

prefix_type! {
    /// An IPv4 prefix (`192.0.2.0/24`) with no host bits set.
    Ipv4Prefix, Ipv4Addr, u32, 32, mask32, "IPv4", V4
}

prefix_type! {
    /// An IPv6 prefix (`2001:db8::/32`) with no host bits set.
    Ipv6Prefix, Ipv6Addr, u128, 128, mask128, "IPv6", V6
}

impl Ipv4Prefix {
    /// Number of addresses, saturating at `u32::MAX` for /0.
    pub fn size(&self) -> u32 {
        if self.len == 0 {
            u32::MAX
        } else {
            1u32 << (32 - self.len)
        }
    }
}

#[inline]
pub(crate) fn mask32(len: u8) -> u32 {
    if len == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(len))
    }
}

#[inline]
pub(crate) fn mask128(len: u8) -> u128 {
    if len == 0 {
        0
    } else {
        u128::MAX << (128 - u32::from(len))
    }
}

/// The Well-Known Prefix of RFC 6052 section 2.1.
pub const WELL_KNOWN_PREFIX: Ipv6Addr = Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, 0, 0);
/// RFC 8215's local-use prefix 64:ff9b:1::/48.
pub const LOCAL_USE_PREFIX: Ipv6Addr = Ipv6Addr::new(0x64, 0xff9b, 1, 0, 0, 0, 0, 0);

/// An RFC 6052 translation prefix ("pool6"): one of the lengths 32, 40, 48,
/// 56, 64 or 96, with the u-octet (bits 64-71) zero.
///
/// RFC 6052 section 2.2 places the 32 IPv4 bits around the u-octet:
///
/// ```text
/// +--+---+---+---+---+---+---+---+---+---+---+---+---+---+---+---+---+
/// |PL| 0-------------32--40--48--56--64--72--80--88--96--104---------|
/// +--+---+---+---+---+---+---+---+---+---+---+---+---+---+---+---+---+
/// |32|     prefix    |v4(32)         | u | suffix                    |
/// |40|     prefix        |v4(24)     | u |(8)| suffix                |
/// |48|     prefix            |v4(16) | u | (16)  | suffix            |
/// |56|     prefix                |(8)| u |  v4(24)   | suffix        |
/// |64|     prefix                    | u |   v4(32)      | suffix    |
/// |96|     prefix                                    |    v4(32)     |
/// +--+---+---+---+---+---+---+---+---+---+---+---+---+---+---+---+---+
/// ```
///
/// ```
/// use nat64_core::Prefix64;
/// let p: Prefix64 = "2001:db8:100::/40".parse().unwrap();
/// let v6 = p.embed("192.0.2.33".parse().unwrap());
/// assert_eq!(v6, "2001:db8:1c0:2:21::".parse::<std::net::Ipv6Addr>().unwrap());
/// assert_eq!(p.extract(v6), Some("192.0.2.33".parse().unwrap()));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Prefix64 {
    prefix: Ipv6Prefix,
    // The network and mask as integers, computed once: `contains` is on
    // the per-packet path.
    net: u128,
    mask: u128,
}

impl Prefix64 {
    /// Validates an RFC 6052 prefix (section 2.2).
    pub fn new(addr: Ipv6Addr, len: u8) -> Result<Self, PrefixError> {
        let prefix = Ipv6Prefix::new(addr, len)?;
        if !matches!(len, 32 | 40 | 48 | 56 | 64 | 96) {
            return Err(PrefixError::Rfc6052Length(len));
        }
        if addr.octets()[8] != 0 {
            return Err(PrefixError::UOctet(IpText::V6(addr)));
        }
        Ok(Self::from_valid(prefix))
    }
    fn from_valid(prefix: Ipv6Prefix) -> Self {
        Prefix64 {
            prefix,
            net: u128::from(prefix.addr),
            mask: mask128(prefix.len),
        }
    }
    /// 64:ff9b::/96.
    pub fn well_known() -> Self {
        Self::from_valid(Ipv6Prefix {
            addr: WELL_KNOWN_PREFIX,
            len: 96,
        })
    }
    /// The prefix as a plain IPv6 prefix.
    pub fn prefix(&self) -> Ipv6Prefix {
        self.prefix
    }
    /// The prefix length in bits.
    pub fn prefix_len(&self) -> u8 {
        self.prefix.len
    }
    /// Whether this is the Well-Known Prefix 64:ff9b::/96, where RFC 6052
    /// section 3.1 forbids non-global IPv4 addresses.
    pub fn is_well_known(&self) -> bool {
        self.prefix.addr == WELL_KNOWN_PREFIX && self.prefix.len == 96
    }
    /// Whether `a` is under this prefix.
    #[inline]
    pub fn contains(&self, a: Ipv6Addr) -> bool {
        u128::from(a) & self.mask == self.net
    }

    /// RFC 6052 section 2.2: the IPv4-embedded IPv6 address of `v4`. The
    /// u-octet and the suffix are zero.
    #[inline(always)]
    pub fn embed(&self, v4: Ipv4Addr) -> Ipv6Addr {
        // Integer arithmetic rather than byte stores: the result is read as
        // a whole right away, and byte-wise stores would stall that load.
        let v = u128::from(u32::from(v4));
        let len = u32::from(self.prefix.len);
        let bits = match len {
            96 => v,
            64 => v << 24,
            32 => v << 64,
            _ => {
                // The v4 bits before the u-octet end at bit 64; the rest
                // start at bit 72.
                let lo = len - 32;
                ((v >> lo) << 64) | ((v & ((1 << lo) - 1)) << (56 - lo))
            }
        };
        Ipv6Addr::from(self.net | bits)
    }

    /// RFC 6052 section 2.3: the IPv4 address embedded in `v6`, or `None`
    /// when `v6` is not under this prefix. The u-octet and suffix are ignored,
    /// as the section says.
    #[inline(always)]
    pub fn extract(&self, v6: Ipv6Addr) -> Option<Ipv4Addr> {
        let a = u128::from(v6);
        if a & self.mask != self.net {
            return None;
        }
        let len = u32::from(self.prefix.len);
        let v = match len {
            96 => a,
            64 => a >> 24,
            32 => a >> 64,
            _ => {
                let lo = len - 32;
                let hi_part = (a >> 64) & ((1 << (32 - lo)) - 1);
                let lo_part = (a >> (56 - lo)) & ((1 << lo) - 1);
                (hi_part << lo) | lo_part
            }
        };
        Some(Ipv4Addr::from(v as u32))
    }
}

impl FromStr for Prefix64 {
    type Err = PrefixError;
    fn from_str(s: &str) -> Result<Self, PrefixError> {
        let (a, l) = split_prefix(s)?;
        let a = a.parse().map_err(|_| PrefixError::Malformed(PrefixText::new(s)))?;
        Self::new(a, l)
    }
}
impl fmt::Display for Prefix64 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.prefix.fmt(f)
    }
}
impl fmt::Debug for Prefix64 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Prefix64({})", self.prefix)
    }
}

/// Whether `a` is a non-global address in the IANA IPv4 Special-Purpose
/// Address Registry (RFC 6890 and its updates), the addresses RFC 6052
/// section 3.1 keeps out of the Well-Known Prefix.
///
/// The registry entries whose "Globally Reachable" column is False:
/// 0/8, 10/8, 100.64/10, 127/8, 169.254/16, 172.16/12, 192.0.0.0/24 (except
/// the /32s 192.0.0.9 and 192.0.0.10, which are global), 192.0.2/24,
/// 192.168/16, 198.18/15, 198.51.100/24, 203.0.113/24, 240/4 and
/// 255.255.255.255. (192.88.99/24 is deprecated by RFC 7526 and treated as
/// non-global.)
pub fn is_non_global_v4(a: Ipv4Addr) -> bool {
    let o = a.octets();
    let v = u32::from(a);
    let within = |net: u32, len: u8| (v & mask32(len)) == net;
    o[0] == 0
        || o[0] == 10
        || within(0x6440_0000, 10)
        || o[0] == 127
        || within(0xa9fe_0000, 16)
        || within(0xac10_0000, 12)
        || (within(0xc000_0000, 24) && v != 0xc000_0009 && v != 0xc000_000a)
        || within(0xc000_0200, 24)
        || within(0xc058_6300, 24)
        || within(0xc0a8_0000, 16)
        || within(0xc612_0000, 15)
        || within(0xc633_6400, 24)
        || within(0xcb00_7100, 24)
        || o[0] >= 240
}

/// RFC 6052 section 2.4's table of examples: each prefix, and 192.0.2.33
/// embedded under it. The Well-Known Prefix's row comes last.
#[cfg(test)]
pub(crate) const RFC6052_EXAMPLES: [(&str, &str); 7] = [
    ("2001:db8::/32", "2001:db8:c000:221::"),
    ("2001:db8:100::/40", "2001:db8:1c0:2:21::"),
    ("2001:db8:122::/48", "2001:db8:122:c000:2:2100::"),
    ("2001:db8:122:300::/56", "2001:db8:122:3c0:0:221::"),
    ("2001:db8:122:344::/64", "2001:db8:122:344:c0:2:2100::"),
    ("2001:db8:122:344::/96", "2001:db8:122:344::192.0.2.33"),
    ("64:ff9b::/96", "64:ff9b::192.0.2.33"),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn v6(s: &str) -> Ipv6Addr {
        s.parse().unwrap()
    }

    /// RFC 6052 section 2.4, the table of examples.
    #[test]
    fn rfc6052_section_2_4_table() {
        let v4: Ipv4Addr = "192.0.2.33".parse().unwrap();
        for (p, a) in RFC6052_EXAMPLES {
            let p: Prefix64 = p.parse().unwrap();
            assert_eq!(p.embed(v4), v6(a), "{p}");
            assert_eq!(p.extract(v6(a)), Some(v4), "{p}");
        }
    }

    #[test]
    fn rejects_bad_lengths_and_u_octet() {
        assert_eq!("2001:db8::/33".parse::<Prefix64>(), Err(PrefixError::Rfc6052Length(33)));
        assert!(matches!(
            "2001:db8:0:0:ff00::/96".parse::<Prefix64>(),
            Err(PrefixError::UOctet(_))
        ));
        assert!(matches!(
            "2001:db8::1/32".parse::<Prefix64>(),
            Err(PrefixError::HostBitsSet { .. })
        ));
        assert!(matches!(
            "2001:db8::/129".parse::<Prefix64>(),
            Err(PrefixError::LengthTooLong { .. })
        ));
        assert!(matches!("nonsense".parse::<Prefix64>(), Err(PrefixError::Malformed(_))));
        let e = "2001:db8::1/32".parse::<Prefix64>().unwrap_err().to_string();
        assert!(e.contains("did you mean 2001:db8::/32"), "{e}");
    }

    #[test]
    fn extract_outside_prefix_is_none() {
        let p: Prefix64 = "64:ff9b::/96".parse().unwrap();
        assert_eq!(p.extract(v6("2001:db8::1")), None);
        assert!(p.is_well_known());
        assert!(!"64:ff9b:1::/48".parse::<Prefix64>().unwrap().is_well_known());
    }

    #[test]
    fn non_global_registry() {
        for a in [
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "100.64.0.2",
            "127.0.0.1",
            "169.254.1.1",
            "0.1.2.3",
            "192.0.2.1",
            "198.51.100.1",
            "203.0.113.5",
            "198.18.0.1",
            "240.0.0.1",
            "255.255.255.255",
            "192.0.0.8",
        ] {
            assert!(is_non_global_v4(a.parse().unwrap()), "{a}");
        }
        for a in [
            "8.8.8.8",
            "1.1.1.1",
            "172.32.0.1",
            "192.0.0.9",
            "192.0.0.10",
            "100.128.0.1",
            "203.0.114.1",
        ] {
            assert!(!is_non_global_v4(a.parse().unwrap()), "{a}");
        }
    }

    #[test]
    fn prefix_helpers() {
        let p: Ipv4Prefix = "203.0.113.8/29".parse().unwrap();
        assert_eq!(p.size(), 8);
        assert_eq!(p.nth(9), "203.0.113.9".parse::<Ipv4Addr>().unwrap());
        assert!(p.contains("203.0.113.15".parse().unwrap()));
        assert!(!p.contains("203.0.113.16".parse().unwrap()));
        let h: Ipv4Prefix = "203.0.113.8".parse().unwrap();
        assert_eq!(h.prefix_len(), 32);
    }
}
