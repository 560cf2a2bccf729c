//! ICMP errors: the translation of an ICMP error and the packet it quotes
//! (RFC 7915 sections 4.2, 4.3, 5.2 and 5.3, RFC 4884), and the errors the
//! translator originates about a packet it cannot translate.

use super::body::{inner_l4, To4, To6};
use super::{Engine, ErrorMap, Pass, DF_THRESHOLD, ICMP4_ERROR_MAX, ICMP6_ERROR_MAX, RFC4884_MIN_ORIGINAL};
use crate::checksum;
use crate::icmp::{self, Mapped, Rest};
use crate::verdict::{Direction, DropReason, Emitted, Verdict};
use crate::wire::{self, be16, be32, proto, walk_chain, V4Header, V6Header};

impl Engine {
    /// RFC 7915 sections 5.2 and 5.3: an ICMPv6 error and its quoted packet.
    pub(crate) fn error64<M: ErrorMap>(
        &mut self,
        pkt: &[u8],
        h: &V6Header,
        chain: &wire::Chain,
        map: &mut M,
        hairpin: bool,
        out: &mut [u8],
    ) -> Verdict {
        let l4 = &pkt[chain.l4_off..];
        let pseudo = checksum::pseudo_v6(h.src, h.dst, proto::ICMPV6, l4.len() as u32);
        let (ty, code, rest) = match error_header(l4, chain.is_fragment(), pseudo, |l4| {
            icmp::map_6to4(l4[0], l4[1], be32(l4, 4))
        }) {
            Ok(m) => m,
            Err(r) => return Verdict::Dropped(r),
        };
        // RFC 4884: Destination Unreachable and Time Exceeded carry the length
        // of the quoted datagram (64-bit words) when an extension follows.
        let (orig, ext) = split_rfc4884(&l4[8..], matches!(l4[0], 1 | 3), l4[4], 8);
        let Some(ih) = V6Header::parse(orig) else {
            return Verdict::Dropped(DropReason::BadInnerPacket);
        };
        let iend = (40 + usize::from(ih.payload_len)).min(orig.len());
        let ichain = match walk_chain(orig, iend, ih.next) {
            Ok(c) => c,
            Err(_) => return Verdict::Dropped(DropReason::BadInnerPacket),
        };
        let il4 = &orig[ichain.l4_off..iend];
        if ichain.proto == proto::ICMPV6 && ichain.is_first() && il4.first().is_some_and(|&t| icmp::is_icmp6_error(t)) {
            return Verdict::Dropped(DropReason::IcmpErrorInIcmpError);
        }
        let (outer, imap) = match map.error64(self, h, &ih, ichain.proto, il4) {
            Ok(m) => m,
            Err(r) => return Verdict::Dropped(r),
        };
        let (src4, dst4, isrc, idst) = (outer.src, outer.dst, imap.src, imap.dst);
        let cap = ICMP4_ERROR_MAX.min(self.cfg.mtu4 as usize);
        if out.len() < cap {
            return Verdict::Dropped(DropReason::OutputTooSmall);
        }
        // The quoted packet, translated, at out[28..].
        let ipl_declared = usize::from(ih.payload_len).saturating_sub(ichain.l4_off - 40);
        let inner_total = 20 + ipl_declared;
        let avail = il4.len().min(cap - 48);
        let inner = &mut out[28..];
        inner[20..20 + avail].copy_from_slice(&il4[..avail]);
        let iproto = inner_l4::<To4>(
            &mut inner[20..20 + avail],
            ichain.proto,
            ichain.is_first(),
            ih.src,
            ih.dst,
            ipl_declared,
            &imap,
        );
        let (iid, ioff, imf) = match ichain.frag() {
            Some(f) => (f.id as u16, f.offset, f.mf),
            None => (0, 0, false),
        };
        V4Header {
            hlen: 20,
            tos: self.cfg.override_tos.unwrap_or(ih.tc),
            total_len: inner_total.min(usize::from(u16::MAX)) as u16,
            id: iid,
            df: !ichain.has_frag && inner_total > DF_THRESHOLD,
            mf: imf,
            frag_off: ioff,
            ttl: ih.hop,
            proto: iproto,
            src: isrc,
            dst: idst,
        }
        .write(&mut inner[..20]);
        let (body_len, attr) = place_rfc4884(&mut out[28..cap], 20 + avail, 20 + il4.len(), ext, 4);
        let icmp_len = 8 + body_len;
        let rest = match rest {
            Rest::Mtu => {
                let m = icmp::fn_mtu_from_ptb(be32(l4, 4), self.cfg.mtu4, self.cfg.mtu6);
                [0, 0, (m >> 8) as u8, m as u8]
            }
            Rest::Pointer(p) => [p, 0, 0, 0],
            Rest::Unused => [0, attr, 0, 0],
        };
        icmp_header(&mut out[20..20 + icmp_len], ty, code, rest, 0);
        let total = 20 + icmp_len;
        let id = match chain.frag() {
            Some(f) => f.id as u16,
            None => self.next_ipv4_id(false),
        };
        V4Header {
            hlen: 20,
            tos: self.cfg.override_tos.unwrap_or(h.tc),
            total_len: total as u16,
            id,
            df: false,
            mf: false,
            frag_off: 0,
            ttl: if hairpin { h.hop } else { h.hop - 1 },
            proto: proto::ICMP,
            src: src4,
            dst: dst4,
        }
        .write(&mut out[..20]);
        Verdict::Translated(Emitted::single(total, Direction::SixToFour))
    }

    /// RFC 7915 sections 4.2 and 4.3: an ICMPv4 error and its quoted packet.
    pub(crate) fn error46<M: ErrorMap>(
        &mut self,
        pkt: &[u8],
        h: &V4Header,
        map: &mut M,
        pass: Pass,
        out: &mut [u8],
    ) -> Verdict {
        let l4 = &pkt[h.hlen..];
        let (ty, code, rest) = match error_header(l4, h.is_fragment(), 0, |l4| icmp::map_4to6(l4[0], l4[1], l4[4])) {
            Ok(m) => m,
            Err(r) => return Verdict::Dropped(r),
        };
        // RFC 4884: types 3, 11 and 12 carry a length in 32-bit words. Only
        // ICMPv6 types 1 and 3 can carry the extension on (RFC 7915 s4.2).
        let (orig, ext) = split_rfc4884(&l4[8..], matches!(l4[0], 3 | 11 | 12), l4[5], 4);
        let ext = if matches!(ty, 1 | 3) { ext } else { &[][..] };
        let Some(ih) = V4Header::parse(orig) else {
            return Verdict::Dropped(DropReason::BadInnerPacket);
        };
        let iend = usize::from(ih.total_len).clamp(ih.hlen, orig.len());
        let il4 = &orig[ih.hlen..iend];
        if ih.proto == proto::ICMP && ih.frag_off == 0 && il4.first().is_some_and(|&t| icmp::is_icmp4_error(t)) {
            return Verdict::Dropped(DropReason::IcmpErrorInIcmpError);
        }
        let (outer, imap) = match map.error46(self, h, &ih, il4) {
            Ok(m) => m,
            Err(r) => return Verdict::Dropped(r),
        };
        let (src6, dst6, isrc, idst) = (outer.src, outer.dst, imap.src, imap.dst);
        let cap = ICMP6_ERROR_MAX.min(self.cfg.mtu6 as usize);
        if out.len() < cap {
            return Verdict::Dropped(DropReason::OutputTooSmall);
        }
        let ifrag = ih.is_fragment();
        let ihl6 = if ifrag { 48 } else { 40 };
        let ipl_declared = usize::from(ih.total_len).saturating_sub(ih.hlen);
        let avail = il4.len().min(cap - 48 - ihl6);
        {
            let inner = &mut out[48..];
            inner[ihl6..ihl6 + avail].copy_from_slice(&il4[..avail]);
            let inext = inner_l4::<To6>(
                &mut inner[ihl6..ihl6 + avail],
                ih.proto,
                ih.frag_off == 0,
                ih.src,
                ih.dst,
                ipl_declared,
                &imap,
            );
            let tc = if self.cfg.zeroize_traffic_class { 0 } else { ih.tos };
            let ipl = (ipl_declared + ihl6 - 40).min(usize::from(u16::MAX)) as u16;
            if ifrag {
                wire::write_v6(inner, tc, ipl, proto::FRAGMENT, ih.ttl, isrc, idst);
                wire::write_frag(&mut inner[40..48], inext, ih.frag_off, ih.mf, u32::from(ih.id));
            } else {
                wire::write_v6(inner, tc, ipl, inext, ih.ttl, isrc, idst);
            }
        }
        let (body_len, attr) = place_rfc4884(&mut out[48..cap], ihl6 + avail, ihl6 + il4.len(), ext, 8);
        let icmp_len = 8 + body_len;
        let rest = match rest {
            Rest::Mtu => icmp::ptb_mtu_from_fn(
                be16(l4, 6),
                ih.total_len,
                self.cfg.mtu6,
                self.cfg.mtu4,
                &self.cfg.mtu_plateaus,
            )
            .to_be_bytes(),
            Rest::Pointer(p) => u32::from(p).to_be_bytes(),
            Rest::Unused => [attr, 0, 0, 0],
        };
        let pseudo = checksum::pseudo_v6(src6, dst6, proto::ICMPV6, icmp_len as u32);
        icmp_header(&mut out[40..40 + icmp_len], ty, code, rest, pseudo);
        let tc = if self.cfg.zeroize_traffic_class { 0 } else { h.tos };
        wire::write_v6(out, tc, icmp_len as u16, proto::ICMPV6, h.ttl - 1, src6, dst6);
        let direction = if pass == Pass::Wire {
            Direction::FourToSix
        } else {
            Direction::SixToSix
        };
        Verdict::Translated(Emitted::single(40 + icmp_len, direction))
    }

    /// An ICMPv4 error about `pkt` for its sender (RFC 7915 section 4, RFC
    /// 1812 section 4.3.2.7 for when not to send one).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn reply_v4(
        &mut self,
        pkt: &[u8],
        h: &V4Header,
        ty: u8,
        code: u8,
        rest: [u8; 4],
        reason: DropReason,
        out: &mut [u8],
    ) -> Verdict {
        let Some(src) = self.cfg.own_ipv4 else {
            return Verdict::Dropped(reason);
        };
        let l4 = &pkt[h.hlen..];
        let about_error =
            h.proto == proto::ICMP && h.frag_off == 0 && l4.first().is_some_and(|&t| icmp::is_icmp4_error(t));
        let s = h.src.octets();
        if about_error || h.frag_off != 0 || s[0] == 0 || s[0] >= 224 || s[0] == 127 {
            return Verdict::Dropped(reason);
        }
        let quote = pkt.len().min(ICMP4_ERROR_MAX - 28);
        let total = 28 + quote;
        if out.len() < total {
            return Verdict::Dropped(DropReason::OutputTooSmall);
        }
        out[28..total].copy_from_slice(&pkt[..quote]);
        icmp_header(&mut out[20..total], ty, code, rest, 0);
        let id = self.next_ipv4_id(false);
        V4Header {
            hlen: 20,
            tos: 0,
            total_len: total as u16,
            id,
            df: false,
            mf: false,
            frag_off: 0,
            ttl: self.cfg.error_hop_limit,
            proto: proto::ICMP,
            src,
            dst: h.src,
        }
        .write(&mut out[..20]);
        Verdict::IcmpError {
            len: total as u32,
            reason,
        }
    }

    /// An ICMPv6 error about `pkt` for its sender (RFC 4443 section 2.4).
    pub(crate) fn reply_v6(
        &mut self,
        pkt: &[u8],
        ty: u8,
        code: u8,
        rest: [u8; 4],
        reason: DropReason,
        out: &mut [u8],
    ) -> Verdict {
        let Some(src) = self.cfg.own_ipv6 else {
            return Verdict::Dropped(reason);
        };
        let Some(h) = V6Header::parse(pkt) else {
            return Verdict::Dropped(reason);
        };
        if h.src.is_multicast() || h.src.is_unspecified() {
            return Verdict::Dropped(reason);
        }
        // Never an error about an error (RFC 4443 section 2.4 (e)).
        if let Ok(c) = walk_chain(pkt, pkt.len(), h.next) {
            let l4 = &pkt[c.l4_off..];
            if c.proto == proto::ICMPV6 && c.is_first() && l4.first().is_some_and(|&t| icmp::is_icmp6_error(t)) {
                return Verdict::Dropped(reason);
            }
        }
        let quote = pkt.len().min(ICMP6_ERROR_MAX - 48);
        let total = 48 + quote;
        if out.len() < total {
            return Verdict::Dropped(DropReason::OutputTooSmall);
        }
        out[48..total].copy_from_slice(&pkt[..quote]);
        let pseudo = checksum::pseudo_v6(src, h.src, proto::ICMPV6, (total - 40) as u32);
        icmp_header(&mut out[40..total], ty, code, rest, pseudo);
        wire::write_v6(
            out,
            0,
            (total - 40) as u16,
            proto::ICMPV6,
            self.cfg.error_hop_limit,
            src,
            h.src,
        );
        Verdict::IcmpError {
            len: total as u32,
            reason,
        }
    }
}

/// Writes the ICMP header (type, code, rest of header) at `o[..8]`, in front
/// of the message body at `o[8..]`, and its checksum over `o` and `pseudo`:
/// 0 for ICMPv4, the pseudo-header for ICMPv6 (RFC 4443 section 2.3).
#[inline]
fn icmp_header(o: &mut [u8], ty: u8, code: u8, rest: [u8; 4], pseudo: u32) {
    o[0] = ty;
    o[1] = code;
    o[2] = 0;
    o[3] = 0;
    o[4..8].copy_from_slice(&rest);
    let c = checksum::finish(checksum::add(pseudo, checksum::sum(o)));
    o[2..4].copy_from_slice(&c.to_be_bytes());
}

/// The checks every ICMP error passes before translation (RFC 7915
/// sections 4.2 and 5.2: not a fragment, a whole ICMP header, a right
/// checksum over `l4` and `pseudo`, 0 for ICMPv4), and its type, code and
/// rest of header as `map` translates them; an informational type there is
/// untranslatable.
#[inline]
fn error_header(
    l4: &[u8],
    fragment: bool,
    pseudo: u32,
    map: impl FnOnce(&[u8]) -> Result<Mapped, DropReason>,
) -> Result<(u8, u8, Rest), DropReason> {
    if fragment {
        return Err(DropReason::FragmentedIcmp);
    }
    if l4.len() < 8 {
        return Err(DropReason::TransportTruncated);
    }
    if checksum::fold(checksum::add(pseudo, checksum::sum(l4))) != 0xffff {
        return Err(DropReason::IcmpChecksum);
    }
    match map(l4)? {
        Mapped::Error { ty, code, rest } => Ok((ty, code, rest)),
        Mapped::Info { .. } => Err(DropReason::IcmpUntranslatableType),
    }
}

/// Splits an ICMP error body into the quoted datagram and an RFC 4884
/// extension. `words` is the length attribute, `unit` its unit in bytes.
/// A length that does not fit means there is no (usable) extension.
fn split_rfc4884(body: &[u8], has_attr: bool, words: u8, unit: usize) -> (&[u8], &[u8]) {
    let n = usize::from(words) * unit;
    if has_attr && n != 0 && n <= body.len() {
        body.split_at(n)
    } else {
        (body, &[])
    }
}

/// RFC 4884 section 5 with Jool's truncation priorities: the first 128
/// bytes of the quoted packet, then the extension, then the rest of the
/// quoted packet. Returns (quoted length incl. padding, length attribute,
/// extension bytes kept). `have` is what was copied, `full` what the
/// quoted packet holds; `room` the space after the ICMP header.
fn fit_rfc4884(have: usize, full: usize, ext: &[u8], room: usize, unit: usize) -> (usize, u8, usize) {
    if ext.is_empty() {
        return (have.min(room), 0, 0);
    }
    let padded = full.div_ceil(unit) * unit;
    let padded = padded.max(RFC4884_MIN_ORIGINAL);
    if padded + ext.len() <= room {
        let q = padded.min(have.div_ceil(unit) * unit).max(RFC4884_MIN_ORIGINAL);
        return (q, (q / unit) as u8, ext.len());
    }
    if room >= ext.len() + RFC4884_MIN_ORIGINAL {
        let q = ((room - ext.len()) / unit) * unit;
        let q = q.min(padded);
        return (q, (q / unit) as u8, ext.len());
    }
    (have.min(room), 0, 0)
}

/// Lays out an ICMP error's body after its 8-byte header, `body` (up to the
/// size cap): the quoted packet, `have` bytes of it already copied in of the
/// `full` it holds, then the RFC 4884 extension `ext` as [`fit_rfc4884`]
/// fits them, with the zero padding between. Returns the body's length and
/// the length attribute for the header.
#[inline]
fn place_rfc4884(body: &mut [u8], have: usize, full: usize, ext: &[u8], unit: usize) -> (usize, u8) {
    let (qlen, attr, ext_len) = fit_rfc4884(have, full, ext, body.len(), unit);
    if qlen > have {
        body[have..qlen].fill(0);
    }
    if ext_len > 0 {
        body[qlen..qlen + ext_len].copy_from_slice(&ext[..ext_len]);
    }
    (qlen + ext_len, attr)
}
