//! The translation of a packet that is not an ICMP error, and of the
//! transport header of the packet an ICMP error quotes, written once for
//! both directions.
//!
//! What differs between IPv6 -> IPv4 (RFC 7915 section 5) and IPv4 -> IPv6
//! (section 4) is a [`Dir`]: its input and output address [`Family`] (the
//! checksum pseudo-headers and the ICMP protocol numbers), the ICMP type
//! table, the UDP checksum-zero policy, and the IP header checks and
//! writing. The shared
//! steps, [`Engine::body`] and [`inner_l4`], are generic over it; each
//! direction is a zero-sized type and every method is inlined, so the
//! monomorphised code is the straight-line code of one direction.

use core::net::{Ipv4Addr, Ipv6Addr};

use super::fragment::{fragment_ipv4, fragment_ipv6};
use super::{Engine, Map, DF_THRESHOLD};
use crate::checksum;
use crate::icmp::{self, Mapped};
use crate::verdict::{Direction, DropReason, Emitted, Verdict};
use crate::wire::{self, be16, proto, V4Header, V6Header};

/// An address family, as the checksum and ICMP rules see it.
pub(crate) trait Family: Copy {
    /// Its ICMP's protocol number.
    const ICMP: u8;
    /// Whether its ICMP checksum covers a pseudo-header: ICMPv6's does
    /// (RFC 4443 section 2.3), ICMPv4's does not.
    const ICMP_PSEUDO: bool;
    /// Sum of the address's 16-bit words (its part of a pseudo-header).
    fn sum(self) -> u32;
    /// The pseudo-header of a transport segment of `len` bytes (RFC 768,
    /// RFC 9293 section 3.1, RFC 8200 section 8.1: [`checksum::pseudo`]).
    #[inline(always)]
    fn pseudo(src: Self, dst: Self, proto: u8, len: usize) -> u32 {
        checksum::pseudo(src.sum() + dst.sum(), proto, len as u32)
    }
    /// The pseudo-header its ICMP checksum covers (0 for none).
    #[inline(always)]
    fn icmp_pseudo(src: Self, dst: Self, len: usize) -> u32 {
        if Self::ICMP_PSEUDO {
            Self::pseudo(src, dst, Self::ICMP, len)
        } else {
            0
        }
    }
}

impl Family for Ipv4Addr {
    const ICMP: u8 = proto::ICMP;
    const ICMP_PSEUDO: bool = false;
    #[inline(always)]
    fn sum(self) -> u32 {
        checksum::sum_v4(self)
    }
}

impl Family for Ipv6Addr {
    const ICMP: u8 = proto::ICMPV6;
    const ICMP_PSEUDO: bool = true;
    #[inline(always)]
    fn sum(self) -> u32 {
        checksum::sum_v6(self)
    }
}

/// What the transport translation reads of the input packet.
pub(crate) struct L4In<'p, A> {
    /// The transport header and payload (from the first byte after the IP
    /// headers to the end of the packet).
    pub l4: &'p [u8],
    /// Upper-layer protocol (after the extension headers, for IPv6).
    pub proto: u8,
    /// Not a fragment, or the first fragment: the transport header is here.
    pub first: bool,
    /// A fragment (first or later).
    pub fragmented: bool,
    /// The input addresses.
    pub src: A,
    pub dst: A,
}

/// What a UDP datagram with checksum 0 becomes (RFC 7915 sections 4.5 and
/// 5.5, RFC 6146 section 3.4).
pub(crate) enum UdpZero {
    /// Sent on with checksum 0 (ports still rewritten).
    Forward,
    /// Given a computed checksum.
    Amend,
    /// Refused, with this reason; [`Dir::refuse_udp_zero`] says how.
    Refuse(DropReason),
}

/// Why the transport translation failed.
pub(crate) enum L4Error {
    /// Dropped silently.
    Drop(DropReason),
    /// A UDP datagram with checksum 0 refused by the policy.
    UdpZero(DropReason),
}

/// One direction of RFC 7915 translation.
pub(crate) trait Dir {
    /// Input address family.
    type In: Family;
    /// Output address family.
    type Out: Family;
    /// The view of the input's IP header(s).
    type Hdr<'h>: Copy;
    /// What the header checks decided, for [`Dir::emit`].
    type Plan: Copy;
    /// The transport part of the input packet.
    fn view<'p>(pkt: &'p [u8], h: Self::Hdr<'_>) -> L4In<'p, Self::In>;
    /// The IP-level checks (sizes, MTU, with the ICMP errors they call
    /// for) before the body is translated: the output header length and the
    /// plan.
    fn prepare(
        eng: &mut Engine,
        pkt: &[u8],
        h: Self::Hdr<'_>,
        v: &L4In<'_, Self::In>,
        hairpin: bool,
        out: &mut [u8],
    ) -> Result<(usize, Self::Plan), Verdict>;
    /// Writes the output IP header(s) (fragmenting if the plan says so),
    /// once the body at `out[hdr_len..]` is translated with upper-layer
    /// protocol `next`.
    fn emit(
        eng: &mut Engine,
        h: Self::Hdr<'_>,
        m: &Map<Self::Out>,
        plan: Self::Plan,
        next: u8,
        hairpin: bool,
        out: &mut [u8],
    ) -> Verdict;
    /// The UDP checksum-zero policy.
    fn udp_zero(eng: &Engine, fragmented: bool, hairpin: bool) -> UdpZero;
    /// The verdict on a UDP datagram refused by [`Dir::udp_zero`].
    fn refuse_udp_zero(eng: &mut Engine, pkt: &[u8], h: Self::Hdr<'_>, reason: DropReason, out: &mut [u8]) -> Verdict;
    /// RFC 7915 sections 4.2 and 5.2: the type of a translated ICMP query
    /// (echo request and reply); `None` for any other type.
    fn info_type(ty: u8, code: u8) -> Option<u8>;
}

/// IPv6 -> IPv4 (RFC 7915 section 5).
pub(crate) struct To4;
/// IPv4 -> IPv6 (RFC 7915 section 4).
pub(crate) struct To6;

/// [`To4`]'s plan.
#[derive(Clone, Copy)]
pub(crate) struct Plan4 {
    total: usize,
    df: bool,
    /// Fragment for an IPv4 MTU below what a Packet Too Big can express.
    fragment: bool,
}

/// [`To6`]'s plan.
#[derive(Clone, Copy)]
pub(crate) struct Plan6 {
    l4_len: usize,
    fragmented: bool,
    plen: usize,
    total: usize,
    /// Split into IPv6 fragments of at most `limit` bytes.
    split: bool,
    limit: usize,
}

impl Dir for To4 {
    type In = Ipv6Addr;
    type Out = Ipv4Addr;
    type Hdr<'h> = (&'h V6Header, &'h wire::Chain);
    type Plan = Plan4;

    #[inline(always)]
    fn view<'p>(pkt: &'p [u8], (h, chain): Self::Hdr<'_>) -> L4In<'p, Ipv6Addr> {
        L4In {
            l4: &pkt[chain.l4_off..],
            proto: chain.proto,
            first: chain.is_first(),
            fragmented: chain.is_fragment(),
            src: h.src,
            dst: h.dst,
        }
    }

    /// RFC 7915 section 5.1: sizes, DF, and the IPv4 MTU.
    #[inline(always)]
    fn prepare(
        eng: &mut Engine,
        pkt: &[u8],
        (_, chain): Self::Hdr<'_>,
        v: &L4In<'_, Ipv6Addr>,
        hairpin: bool,
        out: &mut [u8],
    ) -> Result<(usize, Plan4), Verdict> {
        let total = 20 + v.l4.len();
        if total > usize::from(u16::MAX) {
            return Err(Verdict::Dropped(DropReason::Jumbogram));
        }
        // RFC 791: a datagram ends at 65 535 bytes, header included.
        if chain.has_frag && usize::from(chain.frag_offset) * 8 + total > usize::from(u16::MAX) {
            return Err(Verdict::Dropped(DropReason::FragmentBeyondMaximum));
        }
        if out.len() < total {
            return Err(Verdict::Dropped(DropReason::OutputTooSmall));
        }
        // A GSO super-packet leaves as segments: those are what DF and the
        // MTU are about, and it is never fragmented itself.
        let seg = eng.segment_len(20, chain.proto, v.l4, total);
        let df = !chain.has_frag && seg > DF_THRESHOLD;
        let mut fragment = false;
        if !hairpin && seg > eng.cfg.mtu4 as usize {
            // RFC 7915 section 5 / RFC 8200 section 5: IPv6 senders expect
            // Packet Too Big. Only when the IPv4 MTU is below what a PTB can
            // express (a tunnel under 1260) and DF is clear do we fragment
            // instead, so small links are not a black hole.
            let ptb = eng.cfg.mtu4.saturating_add(20);
            if df || ptb >= 1280 || eng.gso_mss.is_some() {
                let m = ptb.max(1280);
                return Err(eng.reply_v6(pkt, 2, 0, m.to_be_bytes(), DropReason::PacketTooBig, out));
            }
            fragment = true;
        }
        Ok((20, Plan4 { total, df, fragment }))
    }

    #[inline(always)]
    fn emit(
        eng: &mut Engine,
        (h, chain): Self::Hdr<'_>,
        m: &Map<Ipv4Addr>,
        plan: Plan4,
        next: u8,
        hairpin: bool,
        out: &mut [u8],
    ) -> Verdict {
        let (id, frag_off, mf) = match chain.frag() {
            Some(f) => (f.id as u16, f.offset, f.mf),
            None => (eng.next_ipv4_id(plan.df), 0, false),
        };
        let hdr = V4Header {
            hlen: 20,
            tos: eng.cfg.override_tos.unwrap_or(h.tc),
            total_len: plan.total as u16,
            id,
            df: plan.df,
            mf,
            frag_off,
            ttl: if hairpin { h.hop } else { h.hop - 1 },
            proto: next,
            src: m.src,
            dst: m.dst,
        };
        hdr.write(&mut out[..20]);
        if plan.fragment {
            return fragment_ipv4(out, plan.total, eng.cfg.mtu4 as usize, hdr);
        }
        Verdict::Translated(Emitted::single(plan.total, Direction::SixToFour))
    }

    /// RFC 8200 section 8.1: zero is no checksum in IPv6; an update from it
    /// would be a wrong IPv4 checksum.
    #[inline]
    fn udp_zero(eng: &Engine, fragmented: bool, _hairpin: bool) -> UdpZero {
        if eng.cfg.forward_udp_checksum_zero {
            // Zero means "none" in IPv4 too (RFC 768).
            UdpZero::Forward
        } else if eng.cfg.amend_udp_checksum_zero && !fragmented {
            UdpZero::Amend
        } else {
            UdpZero::Refuse(DropReason::Ipv6UdpChecksumZero)
        }
    }

    fn refuse_udp_zero(_: &mut Engine, _: &[u8], _: Self::Hdr<'_>, reason: DropReason, _: &mut [u8]) -> Verdict {
        Verdict::Dropped(reason)
    }

    #[inline(always)]
    fn info_type(ty: u8, code: u8) -> Option<u8> {
        match icmp::map_6to4(ty, code, 0) {
            Ok(Mapped::Info { ty }) => Some(ty),
            _ => None,
        }
    }
}

impl Dir for To6 {
    type In = Ipv4Addr;
    type Out = Ipv6Addr;
    type Hdr<'h> = &'h V4Header;
    type Plan = Plan6;

    #[inline(always)]
    fn view<'p>(pkt: &'p [u8], h: &V4Header) -> L4In<'p, Ipv4Addr> {
        L4In {
            l4: &pkt[h.hlen..],
            proto: h.proto,
            first: h.frag_off == 0,
            fragmented: h.is_fragment(),
            src: h.src,
            dst: h.dst,
        }
    }

    /// RFC 7915 section 4.1: sizes, the protocol, DF and the IPv6 MTU, and
    /// whether to split (Jool's `lowest-ipv6-mtu`).
    #[inline(always)]
    fn prepare(
        eng: &mut Engine,
        pkt: &[u8],
        h: &V4Header,
        v: &L4In<'_, Ipv4Addr>,
        hairpin: bool,
        out: &mut [u8],
    ) -> Result<(usize, Plan6), Verdict> {
        let l4 = v.l4;
        // RFC 791 / RFC 8200 section 4.5: no fragment may end past the
        // 65 535-byte maximum (the header counts for IPv4).
        if v.fragmented && usize::from(h.frag_off) * 8 + h.hlen + l4.len() > usize::from(u16::MAX) {
            return Err(Verdict::Dropped(DropReason::FragmentBeyondMaximum));
        }
        // RFC 7915 section 4.1 copies Protocol into Next Header; an IPv4
        // Protocol that is an IPv6 extension header number would make the
        // payload parse as a header the sender never wrote.
        if matches!(
            h.proto,
            proto::HOPOPT | proto::ROUTING | proto::FRAGMENT | proto::DSTOPTS
        ) {
            return Err(Verdict::Dropped(DropReason::UnsupportedProtocol));
        }
        let fh = if v.fragmented { 8 } else { 0 };
        let plen = fh + l4.len();
        let total = 40 + plen;
        let seg6 = eng.segment_len(40 + fh, h.proto, l4, total);
        let mtu6 = eng.cfg.mtu6 as usize;
        if (h.df || eng.gso_mss.is_some()) && seg6 > mtu6 && !hairpin {
            let m = (eng.cfg.mtu6 - 20).min(u32::from(u16::MAX)) as u16;
            return Err(eng.reply_v4(
                pkt,
                h,
                3,
                4,
                [0, 0, (m >> 8) as u8, m as u8],
                DropReason::PacketTooBig,
                out,
            ));
        }
        let limit = if h.df {
            mtu6
        } else {
            mtu6.min(eng.cfg.lowest_ipv6_mtu as usize)
        };
        let split = total > limit && !h.df && eng.gso_mss.is_none();
        let need = if split {
            let chunk = ((limit - 48) / 8) * 8;
            l4.len() + 48 * l4.len().div_ceil(chunk)
        } else {
            total
        };
        if out.len() < need.max(48 + l4.len()) {
            return Err(Verdict::Dropped(DropReason::OutputTooSmall));
        }
        let plan = Plan6 {
            l4_len: l4.len(),
            fragmented: v.fragmented,
            plen,
            total,
            split,
            limit,
        };
        Ok((40 + fh, plan))
    }

    #[inline(always)]
    fn emit(
        eng: &mut Engine,
        h: &V4Header,
        m: &Map<Ipv6Addr>,
        plan: Plan6,
        next: u8,
        hairpin: bool,
        out: &mut [u8],
    ) -> Verdict {
        let tc = if eng.cfg.zeroize_traffic_class { 0 } else { h.tos };
        let hop = h.ttl - 1;
        if plan.fragmented {
            wire::write_v6(out, tc, plan.plen as u16, proto::FRAGMENT, hop, m.src, m.dst);
            wire::write_frag(&mut out[40..48], next, h.frag_off, h.mf, u32::from(h.id));
        } else {
            wire::write_v6(out, tc, plan.plen as u16, next, hop, m.src, m.dst);
        }
        let direction = if hairpin {
            Direction::SixToSix
        } else {
            Direction::FourToSix
        };
        if plan.split {
            return fragment_ipv6(out, plan.l4_len, plan.fragmented, plan.limit, h, next, direction);
        }
        Verdict::Translated(Emitted::single(plan.total, direction))
    }

    /// RFC 7915 section 4.5: a stateless translator MAY compute the checksum
    /// (not for a fragment); RFC 6146 section 3.4: a stateful NAT64 (which
    /// has reassembled) always computes it.
    #[inline]
    fn udp_zero(eng: &Engine, fragmented: bool, hairpin: bool) -> UdpZero {
        let amend = eng.amend_udp_zero || (eng.cfg.amend_udp_checksum_zero && !hairpin);
        if eng.cfg.forward_udp_checksum_zero {
            // Forwarded as "no checksum" (RFC 6935 tunnels).
            UdpZero::Forward
        } else if fragmented {
            UdpZero::Refuse(DropReason::FragmentedUdpChecksumZero)
        } else if !amend {
            UdpZero::Refuse(DropReason::UdpChecksumZero)
        } else {
            UdpZero::Amend
        }
    }

    /// ICMPv4 Destination Unreachable, Communication Administratively
    /// Prohibited (3/13) for the sender.
    fn refuse_udp_zero(eng: &mut Engine, pkt: &[u8], h: &V4Header, reason: DropReason, out: &mut [u8]) -> Verdict {
        eng.reply_v4(pkt, h, 3, 13, [0; 4], reason, out)
    }

    #[inline(always)]
    fn info_type(ty: u8, code: u8) -> Option<u8> {
        match icmp::map_4to6(ty, code, 0) {
            Ok(Mapped::Info { ty }) => Some(ty),
            _ => None,
        }
    }
}

impl Engine {
    /// RFC 7915 sections 4.1 and 4.5 (IPv4 -> IPv6) and 5.1 and 5.5 (IPv6 ->
    /// IPv4): a packet that is not an ICMP error, whose addresses (and
    /// ports) are decided. `hairpin`: the first half of an RFC 7757 hairpin
    /// (6 -> 4, into scratch, no MTU check and no hop decrement) or the
    /// second (4 -> 6, direction 6 -> 6, no MTU check, no UDP amendment by
    /// the stateless policy).
    #[inline(always)]
    pub(crate) fn body<D: Dir>(
        &mut self,
        pkt: &[u8],
        h: D::Hdr<'_>,
        m: Map<D::Out>,
        hairpin: bool,
        out: &mut [u8],
    ) -> Verdict {
        let v = D::view(pkt, h);
        let (hdr_len, plan) = match D::prepare(self, pkt, h, &v, hairpin, out) {
            Ok(x) => x,
            Err(verdict) => return verdict,
        };
        let body = &mut out[hdr_len..hdr_len + v.l4.len()];
        body.copy_from_slice(v.l4);
        let next = match self.transport::<D>(body, &v, &m, hairpin) {
            Ok(next) => next,
            Err(L4Error::Drop(r)) => return Verdict::Dropped(r),
            Err(L4Error::UdpZero(r)) => return D::refuse_udp_zero(self, pkt, h, r, out),
        };
        D::emit(self, h, &m, plan, next, hairpin, out)
    }

    /// RFC 7915 sections 4.2 / 5.2 (ICMP queries) and 4.5 / 5.5 (TCP,
    /// UDP): the transport header at the start of `body` (a copy of
    /// `v.l4`), translated in place. Returns the output upper-layer
    /// protocol.
    #[inline(always)]
    fn transport<D: Dir>(
        &self,
        body: &mut [u8],
        v: &L4In<'_, D::In>,
        m: &Map<D::Out>,
        hairpin: bool,
    ) -> Result<u8, L4Error> {
        let l4 = v.l4;
        match v.proto {
            proto::TCP | proto::UDP if v.first => {
                let at = if v.proto == proto::TCP { 16 } else { 6 };
                if l4.len() < at + 2 || (v.proto == proto::TCP && l4.len() < 20) {
                    return Err(L4Error::Drop(DropReason::TransportTruncated));
                }
                if v.proto == proto::UDP && be16(l4, 6) == 0 {
                    match D::udp_zero(self, v.fragmented, hairpin) {
                        UdpZero::Forward => {
                            rewrite_ports(body, 0, 2, m.sport, m.dport, 0, 0);
                        }
                        UdpZero::Amend => {
                            rewrite_ports(body, 0, 2, m.sport, m.dport, 0, 0);
                            udp_full_checksum(body, D::Out::pseudo(m.src, m.dst, proto::UDP, l4.len()));
                        }
                        UdpZero::Refuse(r) => return Err(L4Error::UdpZero(r)),
                    }
                } else {
                    tcp_udp(body, at, v.src.sum() + v.dst.sum(), m.src.sum() + m.dst.sum(), m);
                }
                Ok(v.proto)
            }
            p if p == D::In::ICMP => {
                if v.fragmented {
                    return Err(L4Error::Drop(DropReason::FragmentedIcmp));
                }
                if l4.len() < 8 {
                    return Err(L4Error::Drop(DropReason::TransportTruncated));
                }
                let Some(ty) = D::info_type(l4[0], l4[1]) else {
                    return Err(L4Error::Drop(DropReason::IcmpUntranslatableType));
                };
                icmp_query::<D>(body, ty, v.src, v.dst, m, l4.len());
                Ok(D::Out::ICMP)
            }
            p => Ok(p),
        }
    }
}

/// The transport header of a quoted packet (RFC 7915 sections 4.3 and
/// 5.3), translated in place in `b` (as much of it as was quoted):
/// checksums updated where the bytes are present, ports rewritten when the
/// mapping says so. `first`: the quoted packet is not a later fragment;
/// `src`, `dst`: its input addresses; `declared`: its transport length by
/// its own header. Returns the output upper-layer protocol.
#[inline]
pub(crate) fn inner_l4<D: Dir>(
    b: &mut [u8],
    iproto: u8,
    first: bool,
    src: D::In,
    dst: D::In,
    declared: usize,
    m: &Map<D::Out>,
) -> u8 {
    let icmp = iproto == D::In::ICMP;
    if !first {
        return if icmp { D::Out::ICMP } else { iproto };
    }
    match iproto {
        proto::TCP | proto::UDP if b.len() >= 4 => {
            let at = if iproto == proto::TCP { 16 } else { 6 };
            let old = src.sum() + dst.sum();
            let new = m.src.sum() + m.dst.sum();
            if b.len() >= at + 2 && (iproto == proto::TCP || be16(b, 6) != 0) {
                tcp_udp(b, at, old, new, m);
            } else {
                rewrite_ports(b, 0, 2, m.sport, m.dport, old, new);
            }
            iproto
        }
        _ if icmp => {
            if b.len() >= 4 {
                if let Some(ty) = D::info_type(b[0], b[1]) {
                    icmp_query::<D>(b, ty, src, dst, m, declared);
                }
            }
            D::Out::ICMP
        }
        _ => iproto,
    }
}

/// TCP or UDP (checksum at `at`, present): new ports, and the checksum
/// updated for them and the new pseudo-header (`old`, `new`: the address
/// sums).
#[inline(always)]
fn tcp_udp<A>(b: &mut [u8], at: usize, old: u32, new: u32, m: &Map<A>) {
    let (old, new) = rewrite_ports(b, 0, 2, m.sport, m.dport, old, new);
    patch_csum(b, at, old, new);
}

/// An ICMP query (at least 4 bytes in `b`) translated to type `ty`: the
/// identifier rewritten if the mapping says so and present, the checksum
/// moved to the other ICMP's pseudo-header rules (`len`: the message
/// length).
#[inline(always)]
fn icmp_query<D: Dir>(b: &mut [u8], ty: u8, src: D::In, dst: D::In, m: &Map<D::Out>, len: usize) {
    let old = D::In::icmp_pseudo(src, dst, len) + u32::from(u16::from_be_bytes([b[0], b[1]]));
    let new = D::Out::icmp_pseudo(m.src, m.dst, len) + u32::from(u16::from_be_bytes([ty, b[1]]));
    let (old, new) = if b.len() >= 6 {
        rewrite_ports(b, 4, 4, m.sport.or(m.dport), None, old, new)
    } else {
        (old, new)
    };
    b[0] = ty;
    patch_csum(b, 2, old, new);
}

/// Writes new ports (or an ICMP identifier) at `b[s..]` and `b[d..]` and
/// adds the old and new words to the checksum sums.
#[inline]
fn rewrite_ports(
    b: &mut [u8],
    s: usize,
    d: usize,
    sport: Option<u16>,
    dport: Option<u16>,
    mut old: u32,
    mut new: u32,
) -> (u32, u32) {
    if let Some(p) = sport {
        old += u32::from(be16(b, s));
        new += u32::from(p);
        b[s..s + 2].copy_from_slice(&p.to_be_bytes());
    }
    if let Some(p) = dport {
        old += u32::from(be16(b, d));
        new += u32::from(p);
        b[d..d + 2].copy_from_slice(&p.to_be_bytes());
    }
    (old, new)
}

/// Computes the checksum of the UDP datagram `body` (its checksum field 0)
/// under `pseudo`; a sum of 0 is sent as 0xffff (RFC 768: 0 means none).
fn udp_full_checksum(body: &mut [u8], pseudo: u32) {
    let c = checksum::finish(checksum::add(pseudo, checksum::sum(body)));
    body[6..8].copy_from_slice(&if c == 0 { 0xffff_u16 } else { c }.to_be_bytes());
}

/// Incremental checksum update of the 16-bit field at `at`.
#[inline]
fn patch_csum(b: &mut [u8], at: usize, old: u32, new: u32) {
    // RFC 1624's equation 3 can yield 0x0000 where the data sum to -0;
    // 0xffff is then the checksum (and never wrong where 0x0000 would be
    // right). For UDP 0 would even mean "no checksum" (RFC 768).
    let mut n = checksum::update(be16(b, at), old, new);
    if n == 0 {
        n = 0xffff;
    }
    b[at..at + 2].copy_from_slice(&n.to_be_bytes());
}
