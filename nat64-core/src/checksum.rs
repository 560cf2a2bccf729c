//! The Internet checksum, in one place: sums, pseudo-headers and incremental
//! update.
//!
//! Every checksum the translator writes goes through this module: the IPv4
//! header checksum (RFC 791), the TCP/UDP/ICMPv6 pseudo-header sums (RFC 9293,
//! RFC 768, RFC 8200 section 8.1) and the incremental update of RFC 1624 that
//! RFC 7915 sections 4.5 and 5.5 rely on. Sums are kept unfolded in a `u32`
//! (or `u64` for long buffers) and folded once at the end.

use core::net::{Ipv4Addr, Ipv6Addr};

/// One's-complement sum of `data` as big-endian 16-bit words (an odd final
/// byte is padded with zero), not yet folded or inverted.
#[inline]
pub fn sum(data: &[u8]) -> u32 {
    let mut acc: u64 = 0;
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        let v = u64::from_be_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        // Adding the two 32-bit halves keeps every carry inside the u64 for any
        // realistic packet length (< 2^32 words).
        acc += (v >> 32) + (v & 0xffff_ffff);
    }
    let rest = chunks.remainder();
    let mut pairs = rest.chunks_exact(2);
    for p in &mut pairs {
        acc += u64::from(u16::from_be_bytes([p[0], p[1]]));
    }
    if let [last] = pairs.remainder() {
        acc += u64::from(*last) << 8;
    }
    fold64(acc)
}

#[inline]
fn fold64(mut acc: u64) -> u32 {
    while acc > 0xffff_ffff {
        acc = (acc & 0xffff_ffff) + (acc >> 32);
    }
    acc as u32
}

/// Folds a 32-bit accumulator into 16 bits (with end-around carry).
#[inline]
pub fn fold(mut acc: u32) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc as u16
}

/// Adds two accumulators without overflow.
#[inline]
pub fn add(a: u32, b: u32) -> u32 {
    let (s, carry) = a.overflowing_add(b);
    s + u32::from(carry)
}

/// The checksum to write: the complement of the folded sum.
#[inline]
pub fn finish(acc: u32) -> u16 {
    !fold(acc)
}

/// Sum of an IPv4 address as two 16-bit words.
#[inline]
pub fn sum_v4(a: Ipv4Addr) -> u32 {
    let o = a.octets();
    u32::from(u16::from_be_bytes([o[0], o[1]])) + u32::from(u16::from_be_bytes([o[2], o[3]]))
}

/// Sum of an IPv6 address as eight 16-bit words.
#[inline]
pub fn sum_v6(a: Ipv6Addr) -> u32 {
    let v = u128::from(a);
    let (hi, lo) = ((v >> 64) as u64, v as u64);
    // Four 32-bit halves summed in 64 bits cannot overflow; folded to 16
    // bits so callers can add several sums in a u32.
    u32::from(fold(fold64(
        (hi >> 32) + (hi & 0xffff_ffff) + (lo >> 32) + (lo & 0xffff_ffff),
    )))
}

/// Pseudo-header sum from the two addresses' sums ([`sum_v4`] or
/// [`sum_v6`]): the same words in both families but for the length's width
/// (16 bits in IPv4, 32 in IPv6; an IPv4 length always fits in 16).
#[inline(always)]
pub fn pseudo(addrs: u32, proto: u8, len: u32) -> u32 {
    addrs + u32::from(proto) + (len >> 16) + (len & 0xffff)
}

/// Pseudo-header sum for IPv4 (RFC 768 / RFC 9293 section 3.1).
#[inline]
pub fn pseudo_v4(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, len: u16) -> u32 {
    pseudo(sum_v4(src) + sum_v4(dst), proto, u32::from(len))
}

/// Pseudo-header sum for IPv6 (RFC 8200 section 8.1).
#[inline]
pub fn pseudo_v6(src: Ipv6Addr, dst: Ipv6Addr, proto: u8, len: u32) -> u32 {
    pseudo(sum_v6(src) + sum_v6(dst), proto, len)
}

/// RFC 1624 equation 3: `HC' = ~(~HC + ~m + m')`, where `old` is the
/// one's-complement sum of the words removed from the covered data and `new`
/// the sum of the words that replace them.
///
/// Incremental update is what RFC 7915 sections 4.5 and 5.5 ask for: a
/// checksum that was wrong on input stays wrong by the same amount (as Jool
/// does), instead of being silently repaired.
#[inline]
pub fn update(checksum: u16, old: u32, new: u32) -> u16 {
    let acc = add(add(u32::from(!checksum), u32::from(!fold(old))), new);
    !fold(acc)
}

/// Computes the IPv4 header checksum of `header` (whose checksum field must
/// already be zero or is skipped by the caller) and returns it.
#[inline]
pub fn ipv4_header(header: &[u8]) -> u16 {
    // The checksum field (bytes 10-11) is excluded so callers need not zero it.
    let s = add(sum(&header[..10]), sum(&header[12..]));
    finish(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 1071 section 3 example: the words 0001 f203 f4f5 f6f7 sum to ddf2.
    #[test]
    fn rfc1071_example() {
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(fold(sum(&data)), 0xddf2);
    }

    #[test]
    fn address_sums_match_word_sums() {
        let a: Ipv6Addr = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe".parse().unwrap();
        let words: u32 = a.segments().iter().map(|&s| u32::from(s)).sum();
        assert_eq!(fold(sum_v6(a)), fold(words));
        assert!(sum_v6(a) <= 0xffff);
    }

    #[test]
    fn odd_length_pads_with_zero() {
        assert_eq!(fold(sum(&[0x12, 0x34, 0x56])), 0x1234 + 0x5600);
    }

    #[test]
    fn long_buffers_match_bytewise_sum() {
        let data: Vec<u8> = (0..5000u32).map(|i| (i * 7 + 3) as u8).collect();
        let mut naive: u32 = 0;
        for w in data.chunks(2) {
            let v = if w.len() == 2 {
                u16::from_be_bytes([w[0], w[1]])
            } else {
                u16::from(w[0]) << 8
            };
            naive = add(naive, u32::from(v));
        }
        assert_eq!(fold(sum(&data)), fold(naive));
    }

    /// Incremental update equals recomputation when the input was correct.
    #[test]
    fn incremental_equals_full() {
        let mut data = [
            0x45u8, 0, 0, 40, 0x12, 0x34, 0x40, 0, 64, 6, 0, 0, 192, 0, 2, 1, 198, 51, 100, 7,
        ];
        let c = ipv4_header(&data);
        data[10..12].copy_from_slice(&c.to_be_bytes());
        let old = sum(&data[12..20]);
        data[12..20].copy_from_slice(&[203, 0, 113, 9, 10, 1, 2, 3]);
        let new = sum(&data[12..20]);
        let inc = update(c, old, new);
        assert_eq!(inc, ipv4_header(&data));
    }

    /// A wrong checksum stays wrong by the same difference.
    #[test]
    fn incremental_preserves_error() {
        let good = 0x1234u16;
        let bad = 0x1235u16;
        let (o, n) = (sum_v4(Ipv4Addr::new(1, 2, 3, 4)), sum_v4(Ipv4Addr::new(5, 6, 7, 8)));
        let g = update(good, o, n);
        let b = update(bad, o, n);
        assert_ne!(g, b);
    }
}
