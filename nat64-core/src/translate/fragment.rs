//! Fragmentation of a translated packet: IPv4 fragments for a small IPv4
//! MTU (RFC 791), IPv6 fragments for a DF=0 packet (RFC 7915 section 4).

use crate::verdict::{Direction, DropReason, Emitted, Verdict};
use crate::wire::{self, proto, V4Header};

/// Splits a translated IPv4 packet at `out[..total]` into fragments of at
/// most `mtu` bytes (the translator acting as an IPv4 router, RFC 791).
pub(super) fn fragment_ipv4(out: &mut [u8], total: usize, mtu: usize, hdr: V4Header) -> Verdict {
    let payload = total - 20;
    let chunk = ((mtu - 20) / 8) * 8;
    if chunk == 0 {
        return Verdict::Dropped(DropReason::PacketTooBig);
    }
    let n = payload.div_ceil(chunk);
    if usize::from(hdr.frag_off) * 8 + payload > usize::from(u16::MAX) - 20 {
        return Verdict::Dropped(DropReason::FragmentBeyondMaximum);
    }
    let len = payload + 20 * n;
    if out.len() < len {
        return Verdict::Dropped(DropReason::OutputTooSmall);
    }
    // Move chunks back to front so none is overwritten before it is moved.
    for i in (0..n).rev() {
        let src = 20 + i * chunk;
        let size = chunk.min(payload - i * chunk);
        let dst = i * (chunk + 20) + 20;
        out.copy_within(src..src + size, dst);
        let last = i + 1 == n;
        V4Header {
            hlen: 20,
            total_len: (20 + size) as u16,
            mf: if last { hdr.mf } else { true },
            frag_off: hdr.frag_off + (i * chunk / 8) as u16,
            ..hdr
        }
        .write(&mut out[dst - 20..dst]);
    }
    Verdict::Translated(Emitted::split(len, n, chunk + 20, Direction::SixToFour))
}

/// RFC 7915 section 4 / Jool `lowest-ipv6-mtu`: splits the translated DF=0
/// packet (IPv6 header at `out[..40]`, payload at `out[40+fh..]`) into IPv6
/// fragments of at most `limit` bytes, keeping the IPv4 Identification.
pub(super) fn fragment_ipv6(
    out: &mut [u8],
    l4_len: usize,
    was_fragment: bool,
    limit: usize,
    h: &V4Header,
    next: u8,
    direction: Direction,
) -> Verdict {
    let chunk = ((limit - 48) / 8) * 8;
    let n = l4_len.div_ceil(chunk);
    // RFC 8200 section 4.5: the reassembled Payload Length (offset plus
    // data; nothing unfragmentable follows our header) may reach 65 535.
    // The IPv6 header does not count, so every IPv4 datagram (at most
    // 65 535 bytes with its own header) fits.
    if usize::from(h.frag_off) * 8 + l4_len > usize::from(u16::MAX) {
        return Verdict::Dropped(DropReason::FragmentBeyondMaximum);
    }
    let len = l4_len + 48 * n;
    if out.len() < len {
        return Verdict::Dropped(DropReason::OutputTooSmall);
    }
    let mut base = [0u8; 40];
    base.copy_from_slice(&out[..40]);
    // The payload sits at 40 when there was no Fragment header yet.
    if !was_fragment {
        out.copy_within(40..40 + l4_len, 48);
    }
    for i in (0..n).rev() {
        let src = 48 + i * chunk;
        let size = chunk.min(l4_len - i * chunk);
        let dst = i * (chunk + 48) + 48;
        out.copy_within(src..src + size, dst);
        let last = i + 1 == n;
        let o = &mut out[dst - 48..dst];
        o[..40].copy_from_slice(&base);
        o[4..6].copy_from_slice(&((8 + size) as u16).to_be_bytes());
        o[6] = proto::FRAGMENT;
        wire::write_frag(
            &mut o[40..48],
            next,
            h.frag_off + (i * chunk / 8) as u16,
            if last { h.mf } else { true },
            u32::from(h.id),
        );
    }
    Verdict::Translated(Emitted::split(len, n, chunk + 48, direction))
}
