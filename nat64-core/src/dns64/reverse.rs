//! Reverse-mapping names: `ip6.arpa` (RFC 3596 section 2.5) and
//! `in-addr.arpa` (RFC 1035 section 3.5), for the PTR rule of RFC 6147
//! section 5.3.1.

use core::net::{Ipv4Addr, Ipv6Addr};

use super::wire::{strip_suffix, Labels};

/// `ip6.arpa.` in wire format.
pub const IP6_ARPA: &[u8] = b"\x03ip6\x04arpa\x00";
/// `in-addr.arpa.` in wire format.
pub const IN_ADDR_ARPA: &[u8] = b"\x07in-addr\x04arpa\x00";

/// The `in-addr.arpa` name of an IPv4 address, in wire format, built
/// without allocation (at most 30 bytes: `255.255.255.255.in-addr.arpa.`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct InAddrName {
    buf: [u8; 30],
    len: u8,
    addr: Ipv4Addr,
}

impl InAddrName {
    /// `d.c.b.a.in-addr.arpa.` for `a.b.c.d`.
    pub fn new(addr: Ipv4Addr) -> Self {
        let mut buf = [0u8; 30];
        let mut n = 0;
        for &o in addr.octets().iter().rev() {
            let mut digits = [0u8; 3];
            let mut k = 0;
            let mut v = o;
            loop {
                digits[k] = b'0' + v % 10;
                k += 1;
                v /= 10;
                if v == 0 {
                    break;
                }
            }
            buf[n] = k as u8;
            n += 1;
            for i in (0..k).rev() {
                buf[n] = digits[i];
                n += 1;
            }
        }
        buf[n..n + IN_ADDR_ARPA.len()].copy_from_slice(IN_ADDR_ARPA);
        n += IN_ADDR_ARPA.len();
        InAddrName {
            buf,
            len: n as u8,
            addr,
        }
    }
    /// The name in wire format.
    pub fn wire(&self) -> &[u8] {
        &self.buf[..usize::from(self.len)]
    }
    /// The IPv4 address it names.
    pub fn addr(&self) -> Ipv4Addr {
        self.addr
    }
}

impl core::fmt::Debug for InAddrName {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}", super::wire::DisplayName(self.wire(), 0))
    }
}

/// The IPv6 address of a full `ip6.arpa` name (32 one-nibble labels, least
/// significant first, RFC 3596 section 2.5), or `None` for any other name
/// (shorter names are zone cuts, not addresses).
pub fn parse_ip6_arpa(buf: &[u8], off: usize) -> Option<Ipv6Addr> {
    if strip_suffix(buf, off, IP6_ARPA)? != 32 {
        return None;
    }
    let mut v: u128 = 0;
    for (i, label) in Labels::new(buf, off).take(32).enumerate() {
        let &[c] = label else {
            return None;
        };
        let nib = (c as char).to_digit(16)?;
        v |= u128::from(nib) << (4 * i);
    }
    Some(Ipv6Addr::from(v))
}

/// The `ip6.arpa` name of `a` in wire format (74 bytes), for tests and tools.
pub fn ip6_arpa_name(a: Ipv6Addr) -> [u8; 74] {
    let mut out = [0u8; 74];
    let v = u128::from(a);
    for i in 0..32 {
        let nib = ((v >> (4 * i)) & 0xf) as u8;
        out[2 * i] = 1;
        out[2 * i + 1] = if nib < 10 { b'0' + nib } else { b'a' + nib - 10 };
    }
    out[64..].copy_from_slice(IP6_ARPA);
    out
}

/// The IPv4 address of a full `in-addr.arpa` name (four decimal labels).
pub fn parse_in_addr_arpa(buf: &[u8], off: usize) -> Option<Ipv4Addr> {
    if strip_suffix(buf, off, IN_ADDR_ARPA)? != 4 {
        return None;
    }
    let mut o = [0u8; 4];
    for (i, label) in Labels::new(buf, off).take(4).enumerate() {
        if label.is_empty() || label.len() > 3 || (label.len() > 1 && label[0] == b'0') {
            return None;
        }
        let mut v: u16 = 0;
        for &c in label {
            if !c.is_ascii_digit() {
                return None;
            }
            v = v * 10 + u16::from(c - b'0');
        }
        o[3 - i] = u8::try_from(v).ok()?;
    }
    Some(Ipv4Addr::from(o))
}
