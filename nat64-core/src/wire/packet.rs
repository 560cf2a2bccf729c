//! Public checked views of IPv4 and IPv6 packets, for adapters that need to
//! look at a packet (to filter it, log it, or set up offloads) without
//! parsing headers by hand.
//!
//! In smoltcp's style: a view wraps any `T: AsRef<[u8]>`;
//! [`Ipv4Packet::new_checked`] / [`Ipv6Packet::new_checked`] check an
//! untrusted buffer once, after which no accessor panics; `new_unchecked`
//! skips the check for a buffer known to be good. The packet quoted inside
//! an ICMP error is usually cut short (RFC 7915 sections 4.3 and 5.3):
//! `new_lax` accepts that, and [`Ipv4Packet::icmp_error_quote`] /
//! [`Ipv6Packet::icmp_error_quote`] hand it out. The IPv6 upper layer is
//! found by walking the extension headers (RFC 8200 section 4) with the
//! walk the translator uses.

use core::fmt;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::{be16, proto, walk_lax, Chain};
use crate::{checksum, icmp};

/// The layer a [`WireError`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layer {
    /// The IPv4 header (with its options).
    Ipv4,
    /// The fixed IPv6 header.
    Ipv6,
    /// The IPv6 extension headers.
    Ipv6Extension,
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Layer::Ipv4 => "IPv4 header",
            Layer::Ipv6 => "IPv6 header",
            Layer::Ipv6Extension => "IPv6 extension headers",
        })
    }
}

/// Why a buffer is not a packet a checked view accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// Empty buffer: no version to read.
    #[error("empty buffer: not an IP packet")]
    Empty,
    /// The version nibble is not the one the view reads.
    #[error("IP version {found}, expected {expected}")]
    Version {
        /// The version in the buffer.
        found: u8,
        /// The version the view reads.
        expected: u8,
    },
    /// The version nibble is neither 4 nor 6 ([`IpPacket`]).
    #[error("IP version {found}: not IPv4 or IPv6")]
    NotIp {
        /// The version in the buffer.
        found: u8,
    },
    /// The buffer ends before what the header says is there.
    #[error("{layer} needs {required} bytes, the buffer has {len}")]
    Truncated {
        /// Where.
        layer: Layer,
        /// Bytes needed from the start of the packet.
        required: usize,
        /// Bytes in the buffer.
        len: usize,
    },
    /// An IPv4 Internet Header Length below 5 words.
    #[error("IPv4 header length {0} bytes, below the 20-byte minimum")]
    HeaderLength(usize),
    /// An IPv4 Total Length below the header length.
    #[error("IPv4 total length {total} below the header length {header}")]
    TotalLength {
        /// The Total Length field.
        total: usize,
        /// The header length (IHL x 4).
        header: usize,
    },
    /// The IPv6 extension headers do not parse: one runs past the payload,
    /// Hop-by-Hop is not first, a second Fragment header, or more than 8.
    #[error(
        "malformed IPv6 extension headers (truncated, Hop-by-Hop not first, two Fragment headers, or more than 8)"
    )]
    ExtensionHeaders,
}

/// The version nibble of `b` is `expected`.
fn check_version(b: &[u8], expected: u8) -> Result<(), WireError> {
    match b.first().map(|b| b >> 4) {
        None => Err(WireError::Empty),
        Some(found) if found != expected => Err(WireError::Version { found, expected }),
        Some(_) => Ok(()),
    }
}

/// The transport ports of a TCP, UDP or UDP-Lite header at the start of
/// `l4`, if its first four bytes are there.
fn ports_of(protocol: u8, first: bool, l4: &[u8]) -> Option<(u16, u16)> {
    const UDPLITE: u8 = 136;
    if !first || !matches!(protocol, proto::TCP | proto::UDP | UDPLITE) || l4.len() < 4 {
        return None;
    }
    Some((be16(l4, 0), be16(l4, 2)))
}

/// `view`, if `check` accepts it: the checked constructors of the views.
#[inline]
fn checked<V>(view: V, check: impl FnOnce(&V) -> Result<(), WireError>) -> Result<V, WireError> {
    check(&view)?;
    Ok(view)
}

// ---------------------------------------------------------------------------
// IPv4

/// A view of an IPv4 packet (RFC 791 section 3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ipv4Packet<T> {
    /// A view of `buffer` without checks: accessors may panic if it is not
    /// a packet [`Ipv4Packet::new_checked`] would accept.
    pub const fn new_unchecked(buffer: T) -> Self {
        Ipv4Packet { buffer }
    }

    /// A view of an untrusted buffer: version 4, the header and its options
    /// present, and Total Length within the buffer and not below the header
    /// (bytes past Total Length, such as Ethernet padding, are ignored).
    /// No accessor of the view panics.
    ///
    /// ```
    /// use nat64_core::wire::{Ipv4Packet, WireError};
    /// let mut p = [0u8; 28];
    /// p[..12].copy_from_slice(&[0x45, 0, 0, 28, 0, 0, 0x40, 0, 64, 17, 0, 0]);
    /// p[12..20].copy_from_slice(&[192, 0, 2, 1, 198, 51, 100, 7]);
    /// p[20..24].copy_from_slice(&[0x30, 0x39, 0, 53]);
    /// let v = Ipv4Packet::new_checked(&p[..]).unwrap();
    /// assert_eq!((v.protocol(), v.ports()), (17, Some((12345, 53))));
    /// assert_eq!(v.dst_addr(), "198.51.100.7".parse::<std::net::Ipv4Addr>().unwrap());
    /// assert!(matches!(Ipv4Packet::new_checked(&p[..27]), Err(WireError::Truncated { .. })));
    /// ```
    pub fn new_checked(buffer: T) -> Result<Self, WireError> {
        checked(Self::new_unchecked(buffer), Self::check_len)
    }

    /// A view of a packet that may be cut short, as the packet quoted in an
    /// ICMP error is: version 4 and the header with its options present;
    /// [`Ipv4Packet::payload`] is what of the payload the buffer holds. No
    /// accessor of the view panics.
    pub fn new_lax(buffer: T) -> Result<Self, WireError> {
        checked(Self::new_unchecked(buffer), Self::check_header)
    }

    /// The checks of [`Ipv4Packet::new_checked`].
    pub fn check_len(&self) -> Result<(), WireError> {
        self.check_header()?;
        let (len, header) = (self.buffer.as_ref().len(), self.header_len());
        let total = usize::from(self.total_len());
        if total < header {
            return Err(WireError::TotalLength { total, header });
        }
        if total > len {
            return Err(WireError::Truncated {
                layer: Layer::Ipv4,
                required: total,
                len,
            });
        }
        Ok(())
    }

    fn check_header(&self) -> Result<(), WireError> {
        let b = self.buffer.as_ref();
        check_version(b, 4)?;
        let header = self.header_len();
        if header < 20 {
            return Err(WireError::HeaderLength(header));
        }
        if b.len() < header {
            return Err(WireError::Truncated {
                layer: Layer::Ipv4,
                required: header,
                len: b.len(),
            });
        }
        Ok(())
    }

    /// The buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The whole buffer, up to Total Length.
    pub fn as_bytes(&self) -> &[u8] {
        let b = self.buffer.as_ref();
        &b[..usize::from(self.total_len()).clamp(self.header_len().min(b.len()), b.len())]
    }

    /// Header length in bytes (IHL x 4), options included.
    pub fn header_len(&self) -> usize {
        usize::from(self.buffer.as_ref()[0] & 0xf) * 4
    }
    /// Type of Service (DSCP and ECN).
    pub fn tos(&self) -> u8 {
        self.buffer.as_ref()[1]
    }
    /// Total Length: header and payload, in bytes.
    pub fn total_len(&self) -> u16 {
        be16(self.buffer.as_ref(), 2)
    }
    /// Identification.
    pub fn ident(&self) -> u16 {
        be16(self.buffer.as_ref(), 4)
    }
    /// Don't Fragment.
    pub fn dont_frag(&self) -> bool {
        self.buffer.as_ref()[6] & 0x40 != 0
    }
    /// More Fragments.
    pub fn more_frags(&self) -> bool {
        self.buffer.as_ref()[6] & 0x20 != 0
    }
    /// Fragment Offset, in bytes.
    pub fn frag_offset(&self) -> u16 {
        (be16(self.buffer.as_ref(), 6) & 0x1fff) << 3
    }
    /// A fragment: More Fragments set or a non-zero offset.
    pub fn is_fragment(&self) -> bool {
        self.more_frags() || self.frag_offset() != 0
    }
    /// Time to Live.
    pub fn ttl(&self) -> u8 {
        self.buffer.as_ref()[8]
    }
    /// Protocol.
    pub fn protocol(&self) -> u8 {
        self.buffer.as_ref()[9]
    }
    /// Header Checksum.
    pub fn checksum(&self) -> u16 {
        be16(self.buffer.as_ref(), 10)
    }
    /// Whether the Header Checksum is right (RFC 1071).
    pub fn verify_checksum(&self) -> bool {
        checksum::fold(checksum::sum(&self.buffer.as_ref()[..self.header_len()])) == 0xffff
    }
    /// Source Address.
    pub fn src_addr(&self) -> Ipv4Addr {
        let b = self.buffer.as_ref();
        Ipv4Addr::new(b[12], b[13], b[14], b[15])
    }
    /// Destination Address.
    pub fn dst_addr(&self) -> Ipv4Addr {
        let b = self.buffer.as_ref();
        Ipv4Addr::new(b[16], b[17], b[18], b[19])
    }
    /// The options (empty without).
    pub fn options(&self) -> &[u8] {
        &self.buffer.as_ref()[20..self.header_len()]
    }
    /// The payload: from the end of the header to Total Length (or to the
    /// end of the buffer, for a view made by [`Ipv4Packet::new_lax`]).
    pub fn payload(&self) -> &[u8] {
        let b = self.buffer.as_ref();
        let h = self.header_len();
        &b[h..usize::from(self.total_len()).clamp(h, b.len())]
    }
    /// Source and destination port of a TCP, UDP or UDP-Lite packet (not a
    /// later fragment) whose payload holds them.
    pub fn ports(&self) -> Option<(u16, u16)> {
        ports_of(self.protocol(), self.frag_offset() == 0, self.payload())
    }
    /// The packet an ICMP error message (RFC 792: Destination Unreachable,
    /// Source Quench, Redirect, Time Exceeded, Parameter Problem) quotes,
    /// as far as it is there: view it with [`Ipv4Packet::new_lax`].
    pub fn icmp_error_quote(&self) -> Option<&[u8]> {
        let l4 = self.payload();
        let error =
            self.protocol() == proto::ICMP && self.frag_offset() == 0 && l4.len() >= 8 && icmp::is_icmp4_error(l4[0]);
        error.then(|| &l4[8..])
    }
}

// ---------------------------------------------------------------------------
// IPv6

/// A view of an IPv6 packet (RFC 8200 section 3) and its extension headers
/// (section 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv6Packet<T: AsRef<[u8]>> {
    buffer: T,
}

/// The Fragment header of an IPv6 packet (RFC 8200 section 4.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv6Fragment {
    /// Fragment Offset, in bytes.
    pub offset: u16,
    /// More Fragments.
    pub more: bool,
    /// Identification.
    pub ident: u32,
}

impl<T: AsRef<[u8]>> Ipv6Packet<T> {
    /// A view of `buffer` without checks: accessors may panic if it is not
    /// a packet [`Ipv6Packet::new_checked`] would accept.
    pub const fn new_unchecked(buffer: T) -> Self {
        Ipv6Packet { buffer }
    }

    /// A view of an untrusted buffer: version 6, the fixed header and
    /// Payload Length within the buffer (bytes past it are ignored), and
    /// extension headers that parse. A Payload Length of 0 is an empty
    /// payload (a jumbogram's real length is in a Hop-by-Hop option this
    /// view does not read). No accessor of the view panics.
    ///
    /// ```
    /// use nat64_core::wire::{Ipv6Packet, Ipv6Fragment};
    /// let mut p = vec![0x60, 0, 0, 0, 0, 16, 44, 64];
    /// p.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    /// p.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0x64, 0, 0, 0, 0, 0, 0, 0xc0, 0, 2, 1]);
    /// // Fragment header (first fragment, more to come), then UDP ports.
    /// p.extend_from_slice(&[17, 0, 0, 1, 0, 0, 0, 9, 0x04, 0xd2, 0, 53, 0, 8, 0, 0]);
    /// let v = Ipv6Packet::new_checked(&p[..]).unwrap();
    /// assert_eq!(v.next_header(), 44);
    /// assert_eq!((v.protocol(), v.ports()), (17, Some((1234, 53))));
    /// assert_eq!(v.fragment(), Some(Ipv6Fragment { offset: 0, more: true, ident: 9 }));
    /// ```
    pub fn new_checked(buffer: T) -> Result<Self, WireError> {
        checked(Self::new_unchecked(buffer), Self::check_len)
    }

    /// A view of a packet that may be cut short, as the packet quoted in an
    /// ICMP error is: version 6 and the fixed header present. The payload
    /// is what the buffer holds of it; extension headers cut short leave
    /// the upper layer unknown ([`Ipv6Packet::upper_layer`] is `None`). No
    /// accessor of the view panics.
    pub fn new_lax(buffer: T) -> Result<Self, WireError> {
        checked(Self::new_unchecked(buffer), Self::check_header)
    }

    /// The checks of [`Ipv6Packet::new_checked`].
    pub fn check_len(&self) -> Result<(), WireError> {
        self.check_header()?;
        let len = self.buffer.as_ref().len();
        let required = 40 + usize::from(self.payload_len());
        if required > len {
            return Err(WireError::Truncated {
                layer: Layer::Ipv6,
                required,
                len,
            });
        }
        match self.walk() {
            Some(_) => Ok(()),
            None => Err(WireError::ExtensionHeaders),
        }
    }

    fn check_header(&self) -> Result<(), WireError> {
        let b = self.buffer.as_ref();
        check_version(b, 6)?;
        if b.len() < 40 {
            return Err(WireError::Truncated {
                layer: Layer::Ipv6,
                required: 40,
                len: b.len(),
            });
        }
        Ok(())
    }

    /// End of the packet: Payload Length, or the buffer if shorter.
    fn end(&self) -> usize {
        (40 + usize::from(self.payload_len())).min(self.buffer.as_ref().len())
    }

    fn walk(&self) -> Option<Chain> {
        walk_lax(self.buffer.as_ref(), self.end(), self.next_header()).ok()
    }

    /// The buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The whole packet, up to Payload Length.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buffer.as_ref()[..self.end()]
    }

    /// Traffic Class.
    pub fn traffic_class(&self) -> u8 {
        let b = self.buffer.as_ref();
        (b[0] << 4) | (b[1] >> 4)
    }
    /// Flow Label.
    pub fn flow_label(&self) -> u32 {
        let b = self.buffer.as_ref();
        u32::from_be_bytes([0, b[1] & 0xf, b[2], b[3]])
    }
    /// Payload Length: the bytes after the fixed header.
    pub fn payload_len(&self) -> u16 {
        be16(self.buffer.as_ref(), 4)
    }
    /// Next Header of the fixed header (the first extension header, if
    /// any).
    pub fn next_header(&self) -> u8 {
        self.buffer.as_ref()[6]
    }
    /// Hop Limit.
    pub fn hop_limit(&self) -> u8 {
        self.buffer.as_ref()[7]
    }
    /// Source Address.
    pub fn src_addr(&self) -> Ipv6Addr {
        let mut a = [0u8; 16];
        a.copy_from_slice(&self.buffer.as_ref()[8..24]);
        Ipv6Addr::from(a)
    }
    /// Destination Address.
    pub fn dst_addr(&self) -> Ipv6Addr {
        let mut a = [0u8; 16];
        a.copy_from_slice(&self.buffer.as_ref()[24..40]);
        Ipv6Addr::from(a)
    }
    /// The payload after the fixed header: extension headers and upper
    /// layer.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[40..self.end()]
    }
    /// The upper layer after the Hop-by-Hop, Routing, Destination Options
    /// and Fragment headers: its protocol and its bytes (in a later
    /// fragment, the fragment's data). `None` if the extension headers do
    /// not parse (only in a view made by `new_lax` or `new_unchecked`).
    pub fn upper_layer(&self) -> Option<(u8, &[u8])> {
        let c = self.walk()?;
        Some((c.proto, &self.buffer.as_ref()[c.l4_off..self.end()]))
    }
    /// The upper-layer protocol ([`Ipv6Packet::upper_layer`]); the Next
    /// Header of the fixed header if the extension headers do not parse.
    pub fn protocol(&self) -> u8 {
        self.upper_layer().map_or(self.next_header(), |(p, _)| p)
    }
    /// The Fragment header, if there is one.
    pub fn fragment(&self) -> Option<Ipv6Fragment> {
        self.walk()?.frag().map(|f| Ipv6Fragment {
            offset: f.offset << 3,
            more: f.mf,
            ident: f.id,
        })
    }
    /// A fragment: a Fragment header with More Fragments or an offset (an
    /// atomic fragment, RFC 6946, is not one).
    pub fn is_fragment(&self) -> bool {
        self.fragment().is_some_and(|f| f.more || f.offset != 0)
    }
    /// Source and destination port of a TCP, UDP or UDP-Lite packet (not a
    /// later fragment) whose payload holds them.
    pub fn ports(&self) -> Option<(u16, u16)> {
        let c = self.walk()?;
        ports_of(c.proto, c.is_first(), &self.buffer.as_ref()[c.l4_off..self.end()])
    }
    /// The packet an ICMPv6 error message (type below 128, RFC 4443
    /// section 2.1) quotes, as far as it is there: view it with
    /// [`Ipv6Packet::new_lax`].
    pub fn icmp_error_quote(&self) -> Option<&[u8]> {
        let c = self.walk()?;
        let l4 = &self.buffer.as_ref()[c.l4_off..self.end()];
        let error = c.proto == proto::ICMPV6 && c.is_first() && l4.len() >= 8 && icmp::is_icmp6_error(l4[0]);
        error.then(|| &l4[8..])
    }
}

// ---------------------------------------------------------------------------
// Either

/// A view of an IPv4 or IPv6 packet, by its version nibble.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpPacket<T: AsRef<[u8]>> {
    /// IPv4.
    V4(Ipv4Packet<T>),
    /// IPv6.
    V6(Ipv6Packet<T>),
}

impl<T: AsRef<[u8]>> IpPacket<T> {
    /// [`Ipv4Packet::new_checked`] or [`Ipv6Packet::new_checked`], by the
    /// version.
    ///
    /// ```
    /// use nat64_core::wire::{IpPacket, WireError};
    /// let p = [0x60, 0, 0, 0, 0, 0, 59, 64].iter().chain(&[0u8; 32]).copied().collect::<Vec<u8>>();
    /// let v = IpPacket::new_checked(&p[..]).unwrap();
    /// assert_eq!(v.summary().to_string(), "ipv6 :: > :: proto 59 len 40");
    /// assert_eq!(IpPacket::new_checked(&[0x20u8][..]), Err(WireError::NotIp { found: 2 }));
    /// ```
    pub fn new_checked(buffer: T) -> Result<Self, WireError> {
        match buffer.as_ref().first().map(|b| b >> 4) {
            None => Err(WireError::Empty),
            Some(4) => Ipv4Packet::new_checked(buffer).map(IpPacket::V4),
            Some(6) => Ipv6Packet::new_checked(buffer).map(IpPacket::V6),
            Some(found) => Err(WireError::NotIp { found }),
        }
    }

    /// [`Ipv4Packet::new_lax`] or [`Ipv6Packet::new_lax`], by the version:
    /// a packet that may be cut short (a quoted packet, or one to describe
    /// in a log however malformed its lengths are).
    ///
    /// ```
    /// use nat64_core::wire::{IpPacket, WireError};
    /// let mut p = vec![0x45, 0, 0x05, 0xdc, 0, 0, 0, 0, 64, 17, 0, 0];
    /// p.extend_from_slice(&[192, 0, 2, 1, 198, 51, 100, 7]);
    /// assert!(matches!(IpPacket::new_checked(&p[..]), Err(WireError::Truncated { .. })));
    /// let v = IpPacket::new_lax(&p[..]).unwrap();
    /// assert_eq!(v.summary().to_string(), "ipv4 192.0.2.1 > 198.51.100.7 udp len 20");
    /// ```
    pub fn new_lax(buffer: T) -> Result<Self, WireError> {
        if check_version(buffer.as_ref(), 6).is_ok() {
            return Ipv6Packet::new_lax(buffer).map(IpPacket::V6);
        }
        Ipv4Packet::new_lax(buffer).map(IpPacket::V4).map_err(|e| match e {
            WireError::Version { found, .. } => WireError::NotIp { found },
            e => e,
        })
    }

    /// Source address.
    pub fn src_addr(&self) -> IpAddr {
        match self {
            IpPacket::V4(p) => p.src_addr().into(),
            IpPacket::V6(p) => p.src_addr().into(),
        }
    }
    /// Destination address.
    pub fn dst_addr(&self) -> IpAddr {
        match self {
            IpPacket::V4(p) => p.dst_addr().into(),
            IpPacket::V6(p) => p.dst_addr().into(),
        }
    }
    /// Upper-layer protocol (for IPv6, after the extension headers).
    pub fn protocol(&self) -> u8 {
        match self {
            IpPacket::V4(p) => p.protocol(),
            IpPacket::V6(p) => p.protocol(),
        }
    }
    /// Transport ports, when there are.
    pub fn ports(&self) -> Option<(u16, u16)> {
        match self {
            IpPacket::V4(p) => p.ports(),
            IpPacket::V6(p) => p.ports(),
        }
    }
    /// Whether the packet is a fragment.
    pub fn is_fragment(&self) -> bool {
        match self {
            IpPacket::V4(p) => p.is_fragment(),
            IpPacket::V6(p) => p.is_fragment(),
        }
    }
    /// The packet an ICMP error quotes, as far as it is there.
    pub fn icmp_error_quote(&self) -> Option<&[u8]> {
        match self {
            IpPacket::V4(p) => p.icmp_error_quote(),
            IpPacket::V6(p) => p.icmp_error_quote(),
        }
    }
    /// The packet's length (Total Length, or 40 + Payload Length).
    pub fn len(&self) -> usize {
        match self {
            IpPacket::V4(p) => p.as_bytes().len(),
            IpPacket::V6(p) => p.as_bytes().len(),
        }
    }
    /// Whether [`IpPacket::len`] is 0 (never, for a checked view).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The fields a log line wants, owned.
    pub fn summary(&self) -> Summary {
        Summary {
            src: self.src_addr(),
            dst: self.dst_addr(),
            protocol: self.protocol(),
            ports: self.ports(),
            fragment: self.is_fragment(),
            len: self.len(),
        }
    }
}

/// A packet's addresses, protocol, ports and length, for logs:
/// `ipv4 192.0.2.1 > 198.51.100.7 udp 12345 > 53 len 28`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// Upper-layer protocol.
    pub protocol: u8,
    /// Transport ports, when there are.
    pub ports: Option<(u16, u16)>,
    /// A fragment.
    pub fragment: bool,
    /// Packet length.
    pub len: usize,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let family = if self.src.is_ipv4() { "ipv4" } else { "ipv6" };
        write!(f, "{family} {} > {} ", self.src, self.dst)?;
        match self.protocol {
            proto::TCP => f.write_str("tcp")?,
            proto::UDP => f.write_str("udp")?,
            proto::ICMP => f.write_str("icmp")?,
            proto::ICMPV6 => f.write_str("icmpv6")?,
            p => write!(f, "proto {p}")?,
        }
        if let Some((s, d)) = self.ports {
            write!(f, " {s} > {d}")?;
        }
        if self.fragment {
            f.write_str(" fragment")?;
        }
        write!(f, " len {}", self.len)
    }
}
