//! Views of IPv4 and IPv6 headers, the IPv6 extension header walk, and the
//! header writers. Parsing comes in two strengths: strict for packets the
//! translator receives, and lax for the packet quoted inside an ICMP error,
//! which is usually truncated (RFC 7915 sections 4.3 and 5.3).
//!
//! The public part is the checked packet views, [`Ipv4Packet`],
//! [`Ipv6Packet`] and [`IpPacket`] (with [`Summary`] for logs), for adapters
//! that need to look at packets; the translator's own header views and
//! writers are crate-private.

use core::net::{Ipv4Addr, Ipv6Addr};

use crate::checksum;

mod packet;
#[cfg(test)]
mod tests;

pub use packet::{IpPacket, Ipv4Packet, Ipv6Fragment, Ipv6Packet, Layer, Summary, WireError};

/// IP protocol numbers the translator treats specially.
pub mod proto {
    /// IPv6 Hop-by-Hop Options.
    pub const HOPOPT: u8 = 0;
    /// ICMPv4.
    pub const ICMP: u8 = 1;
    /// TCP.
    pub const TCP: u8 = 6;
    /// UDP.
    pub const UDP: u8 = 17;
    /// IPv6 Routing header.
    pub const ROUTING: u8 = 43;
    /// IPv6 Fragment header.
    pub const FRAGMENT: u8 = 44;
    /// ICMPv6.
    pub const ICMPV6: u8 = 58;
    /// IPv6 Destination Options.
    pub const DSTOPTS: u8 = 60;
}

#[inline]
pub(crate) fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}
#[inline]
pub(crate) fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// The fields of an IPv4 header the translator uses.
///
/// ```text
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |Version|  IHL  |Type of Service|          Total Length         |
/// |         Identification        |Flags|      Fragment Offset    |
/// |  Time to Live |    Protocol   |         Header Checksum       |
/// |                       Source Address                          |
/// |                    Destination Address                        |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
#[derive(Debug, Clone, Copy)]
pub(crate) struct V4Header {
    pub hlen: usize,
    pub tos: u8,
    pub total_len: u16,
    pub id: u16,
    pub df: bool,
    pub mf: bool,
    /// In 8-byte units.
    pub frag_off: u16,
    pub ttl: u8,
    pub proto: u8,
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
}

impl V4Header {
    /// Reads the header; `None` when shorter than 20 bytes, not version 4,
    /// IHL < 5 or the options run past `b`.
    #[inline(always)]
    pub fn parse(b: &[u8]) -> Option<V4Header> {
        if b.len() < 20 || b[0] >> 4 != 4 {
            return None;
        }
        let hlen = usize::from(b[0] & 0xf) * 4;
        if hlen < 20 || b.len() < hlen {
            return None;
        }
        let ff = be16(b, 6);
        Some(V4Header {
            hlen,
            tos: b[1],
            total_len: be16(b, 2),
            id: be16(b, 4),
            df: ff & 0x4000 != 0,
            mf: ff & 0x2000 != 0,
            frag_off: ff & 0x1fff,
            ttl: b[8],
            proto: b[9],
            src: Ipv4Addr::new(b[12], b[13], b[14], b[15]),
            dst: Ipv4Addr::new(b[16], b[17], b[18], b[19]),
        })
    }
    #[inline]
    pub fn is_fragment(&self) -> bool {
        self.mf || self.frag_off != 0
    }
}

impl V4Header {
    /// Writes it as a 20-byte header (no options: `hlen` is not read) with
    /// its checksum into `o[..20]`.
    #[inline]
    pub fn write(&self, o: &mut [u8]) {
        let ff = (u16::from(self.df) << 14) | (u16::from(self.mf) << 13) | (self.frag_off & 0x1fff);
        o[0] = 0x45;
        o[1] = self.tos;
        o[2..4].copy_from_slice(&self.total_len.to_be_bytes());
        o[4..6].copy_from_slice(&self.id.to_be_bytes());
        o[6..8].copy_from_slice(&ff.to_be_bytes());
        o[8] = self.ttl;
        o[9] = self.proto;
        o[10] = 0;
        o[11] = 0;
        o[12..16].copy_from_slice(&self.src.octets());
        o[16..20].copy_from_slice(&self.dst.octets());
        // Summed from the fields, not re-read from `o`: reading back the
        // bytes just stored stalls store-to-load forwarding.
        let s = 0x4500
            + u32::from(self.tos)
            + u32::from(self.total_len)
            + u32::from(self.id)
            + u32::from(ff)
            + (u32::from(self.ttl) << 8)
            + u32::from(self.proto)
            + checksum::sum_v4(self.src)
            + checksum::sum_v4(self.dst);
        o[10..12].copy_from_slice(&checksum::finish(s).to_be_bytes());
    }
}

/// The fixed IPv6 header.
#[derive(Debug, Clone, Copy)]
pub(crate) struct V6Header {
    pub tc: u8,
    pub payload_len: u16,
    pub next: u8,
    pub hop: u8,
    pub src: Ipv6Addr,
    pub dst: Ipv6Addr,
}

impl V6Header {
    #[inline(always)]
    pub fn parse(b: &[u8]) -> Option<V6Header> {
        if b.len() < 40 || b[0] >> 4 != 6 {
            return None;
        }
        let mut s = [0u8; 16];
        let mut d = [0u8; 16];
        s.copy_from_slice(&b[8..24]);
        d.copy_from_slice(&b[24..40]);
        Some(V6Header {
            tc: (b[0] << 4) | (b[1] >> 4),
            payload_len: be16(b, 4),
            next: b[6],
            hop: b[7],
            src: Ipv6Addr::from(s),
            dst: Ipv6Addr::from(d),
        })
    }
}

/// Writes a 40-byte IPv6 header (flow label 0, RFC 7915 section 4.1).
#[inline]
pub(crate) fn write_v6(o: &mut [u8], tc: u8, payload_len: u16, next: u8, hop: u8, src: Ipv6Addr, dst: Ipv6Addr) {
    o[0] = 0x60 | (tc >> 4);
    o[1] = tc << 4;
    o[2] = 0;
    o[3] = 0;
    o[4..6].copy_from_slice(&payload_len.to_be_bytes());
    o[6] = next;
    o[7] = hop;
    o[8..24].copy_from_slice(&src.octets());
    o[24..40].copy_from_slice(&dst.octets());
}

/// Writes an 8-byte Fragment header.
#[inline]
pub(crate) fn write_frag(o: &mut [u8], next: u8, offset: u16, mf: bool, id: u32) {
    o[0] = next;
    o[1] = 0;
    o[2..4].copy_from_slice(&((offset << 3) | u16::from(mf)).to_be_bytes());
    o[4..8].copy_from_slice(&id.to_be_bytes());
}

/// An IPv6 Fragment header's fields.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Frag6 {
    /// In 8-byte units.
    pub offset: u16,
    pub mf: bool,
    pub id: u32,
}

/// Where the upper layer starts after the extension headers, and the
/// Fragment header's fields if there is one. Plain fields rather than an
/// `Option<Frag6>`: the packed option layout was read back with wider loads
/// than it was written with, a store-forwarding stall per packet.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Chain {
    pub l4_off: usize,
    pub frag_id: u32,
    /// In 8-byte units.
    pub frag_offset: u16,
    pub proto: u8,
    pub has_frag: bool,
    pub frag_mf: bool,
}

impl Chain {
    #[inline]
    pub fn frag(&self) -> Option<Frag6> {
        self.has_frag.then_some(Frag6 {
            offset: self.frag_offset,
            mf: self.frag_mf,
            id: self.frag_id,
        })
    }
    #[inline]
    pub fn is_fragment(&self) -> bool {
        self.has_frag && (self.frag_offset != 0 || self.frag_mf)
    }
    #[inline]
    pub fn is_first(&self) -> bool {
        !self.has_frag || self.frag_offset == 0
    }
}

/// Why the extension header chain cannot be translated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChainError {
    /// RFC 7915 section 5.1: Segments Left != 0; the offset of that field.
    SegmentsLeft(u32),
    /// RFC 7915 section 5.1: an extension header after the Fragment header.
    FragmentThenExtension,
    /// Truncated, too long, or HBH not first.
    Malformed,
}

/// More headers than this is an attack, not a packet.
const MAX_EXTENSION_HEADERS: usize = 8;

/// Walks the extension headers of `b[..end]` (RFC 8200 section 4) that RFC
/// 7915 section 5.1 skips: Hop-by-Hop, Destination Options, Routing (with
/// Segments Left 0) and Fragment.
#[inline]
pub(crate) fn walk_chain(b: &[u8], end: usize, first: u8) -> Result<Chain, ChainError> {
    walk::<true>(b, end, first)
}

/// The extension header walk. `STRICT` (the translator's): a Routing header
/// with Segments Left and an extension header after the Fragment header
/// are errors (RFC 7915 section 5.1). Otherwise (the public views) both are
/// walked past; headers after a Fragment header are walked only in a first
/// fragment (in a later one they are data), and a second Fragment header is
/// malformed. `end` must not exceed `b.len()`.
#[inline(always)]
fn walk<const STRICT: bool>(b: &[u8], end: usize, first: u8) -> Result<Chain, ChainError> {
    let mut next = first;
    let mut off = 40;
    let mut seen = 0;
    // A first fragment's Fragment header, walked past (lax walk only).
    let (mut has_frag, mut frag_offset, mut frag_mf, mut frag_id) = (false, 0, false, 0);
    loop {
        match next {
            proto::HOPOPT | proto::ROUTING | proto::DSTOPTS => {
                if next == proto::HOPOPT && seen != 0 {
                    return Err(ChainError::Malformed);
                }
                if off + 8 > end {
                    return Err(ChainError::Malformed);
                }
                let len = (usize::from(b[off + 1]) + 1) * 8;
                if off + len > end {
                    return Err(ChainError::Malformed);
                }
                if STRICT && next == proto::ROUTING && b[off + 3] != 0 {
                    return Err(ChainError::SegmentsLeft(off as u32 + 3));
                }
                next = b[off];
                off += len;
            }
            proto::FRAGMENT => {
                if off + 8 > end || has_frag {
                    return Err(ChainError::Malformed);
                }
                let fo = be16(b, off + 2);
                let after = b[off];
                if STRICT && matches!(after, proto::HOPOPT | proto::ROUTING | proto::DSTOPTS | proto::FRAGMENT) {
                    return Err(ChainError::FragmentThenExtension);
                }
                if STRICT || fo >> 3 != 0 {
                    return Ok(Chain {
                        proto: after,
                        l4_off: off + 8,
                        has_frag: true,
                        frag_offset: fo >> 3,
                        frag_mf: fo & 1 != 0,
                        frag_id: be32(b, off + 4),
                    });
                }
                (has_frag, frag_offset, frag_mf, frag_id) = (true, 0, fo & 1 != 0, be32(b, off + 4));
                next = after;
                off += 8;
            }
            _ => {
                return Ok(Chain {
                    proto: next,
                    l4_off: off,
                    has_frag,
                    frag_offset,
                    frag_mf,
                    frag_id,
                })
            }
        }
        seen += 1;
        if seen > MAX_EXTENSION_HEADERS {
            return Err(ChainError::Malformed);
        }
    }
}

/// [`walk`] for the public views: Segments Left and headers after a first
/// fragment's Fragment header allowed.
#[inline]
pub(crate) fn walk_lax(b: &[u8], end: usize, first: u8) -> Result<Chain, ChainError> {
    walk::<false>(b, end, first)
}

/// RFC 7915 section 4.1: whether the IPv4 options hold an unexpired Loose
/// or Strict Source Route (pointer not past the option's end).
pub(crate) fn has_unexpired_source_route(opts: &[u8]) -> bool {
    let mut i = 0;
    while i < opts.len() {
        match opts[i] {
            0 => return false,
            1 => i += 1,
            t => {
                if i + 1 >= opts.len() {
                    return false;
                }
                let len = usize::from(opts[i + 1]);
                if len < 2 || i + len > opts.len() {
                    return false;
                }
                if (t == 0x83 || t == 0x89) && len >= 3 && usize::from(opts[i + 2]) <= len {
                    return true;
                }
                i += len;
            }
        }
    }
    false
}
