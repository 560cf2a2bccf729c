//! Classifying a packet as a fragment and finding its key, range and
//! headers (RFC 791 section 3.1, RFC 8200 section 4.5).

use core::ops::Range;

use super::{Key, ReassemblyDrop, MAX_IP_LEN, MAX_UNFRAGMENTABLE_HEADERS};
use crate::checksum;
use crate::wire::proto;

/// A parsed fragment (RFC 791 section 3.1, RFC 8200 section 4.5).
pub(super) struct Fragment {
    pub(super) key: Key,
    // Byte range in the fragmentable part.
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) more: bool,
    // Where the fragment data is in the packet.
    pub(super) data: Range<usize>,
    // The header to keep if this is the first fragment.
    pub(super) hdr_len: usize,
    pub(super) nh_pos: usize,
    pub(super) nh_val: u8,
}

pub(super) enum Parsed {
    NotFragment,
    Drop(ReassemblyDrop),
    /// RFC 6946: Fragment header at `frag_at`, packet ends at `end`.
    Atomic {
        frag_at: usize,
        nh_pos: usize,
        nh_val: u8,
        end: usize,
    },
    Fragment(Fragment),
}

pub(super) fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Classifies an IPv4 packet (RFC 791 section 3.1): MF or a non-zero offset
/// make it a fragment. The header checksum is verified (RFC 1122 section
/// 3.2.1.2) because reassembly writes a fresh one.
pub(super) fn parse_v4(b: &[u8]) -> Parsed {
    if b.len() < 20 {
        return Parsed::NotFragment;
    }
    let hlen = usize::from(b[0] & 0xf) * 4;
    if hlen < 20 || b.len() < hlen {
        return Parsed::NotFragment;
    }
    let ff = be16(b, 6);
    let more = ff & 0x2000 != 0;
    let start = usize::from(ff & 0x1fff) * 8;
    if !more && start == 0 {
        return Parsed::NotFragment;
    }
    let total_len = usize::from(be16(b, 2));
    if total_len < hlen || total_len > b.len() || checksum::fold(checksum::sum(&b[..hlen])) != 0xffff {
        return Parsed::Drop(ReassemblyDrop::Malformed);
    }
    let len = total_len - hlen;
    if len == 0 || (more && len % 8 != 0) {
        return Parsed::Drop(ReassemblyDrop::Malformed);
    }
    let end = start + len;
    if hlen + end > MAX_IP_LEN {
        return Parsed::Drop(ReassemblyDrop::TooBig);
    }
    let mut src = [0u8; 16];
    let mut dst = [0u8; 16];
    src[..4].copy_from_slice(&b[12..16]);
    dst[..4].copy_from_slice(&b[16..20]);
    Parsed::Fragment(Fragment {
        key: Key {
            v6: false,
            proto: b[9],
            id: u32::from(be16(b, 4)),
            src,
            dst,
        },
        start,
        end,
        more,
        data: hlen..total_len,
        hdr_len: hlen,
        nh_pos: 0,
        nh_val: 0,
    })
}

/// Finds the Fragment header after the Unfragmentable Part (RFC 8200 sections
/// 4.1 and 4.5: Hop-by-Hop, Destination Options, Routing). Anything that does
/// not parse that far is left to the translator's own checks.
pub(super) fn parse_v6(b: &[u8]) -> Parsed {
    if b.len() < 40 {
        return Parsed::NotFragment;
    }
    let plen = usize::from(be16(b, 4));
    let end = 40 + plen;
    if plen == 0 || end > b.len() {
        // Jumbograms cannot be fragmented (RFC 2675 section 3); truncated
        // packets get the translator's verdict.
        return Parsed::NotFragment;
    }
    let mut next = b[6];
    let mut nh_pos = 6;
    let mut off = 40;
    let mut seen = 0;
    loop {
        match next {
            proto::HOPOPT | proto::ROUTING | proto::DSTOPTS => {
                seen += 1;
                if seen > MAX_UNFRAGMENTABLE_HEADERS || off + 8 > end {
                    return Parsed::NotFragment;
                }
                let len = (usize::from(b[off + 1]) + 1) * 8;
                if off + len > end {
                    return Parsed::NotFragment;
                }
                nh_pos = off;
                next = b[off];
                off += len;
            }
            proto::FRAGMENT => break,
            _ => return Parsed::NotFragment,
        }
    }
    if off + 8 > end {
        return Parsed::Drop(ReassemblyDrop::Malformed);
    }
    let fo = be16(b, off + 2);
    let start = usize::from(fo >> 3) * 8;
    let more = fo & 1 != 0;
    let nh_val = b[off];
    if start == 0 && !more {
        return Parsed::Atomic {
            frag_at: off,
            nh_pos,
            nh_val,
            end,
        };
    }
    let len = end - (off + 8);
    if len == 0 || (more && len % 8 != 0) {
        return Parsed::Drop(ReassemblyDrop::Malformed);
    }
    let frag_end = start + len;
    if (off - 40) + frag_end > MAX_IP_LEN {
        return Parsed::Drop(ReassemblyDrop::TooBig);
    }
    let mut src = [0u8; 16];
    let mut dst = [0u8; 16];
    src.copy_from_slice(&b[8..24]);
    dst.copy_from_slice(&b[24..40]);
    Parsed::Fragment(Fragment {
        key: Key {
            v6: true,
            proto: 0,
            id: be32(b, off + 4),
            src,
            dst,
        },
        start,
        end: frag_end,
        more,
        data: off + 8..end,
        hdr_len: off,
        nh_pos,
        nh_val,
    })
}
