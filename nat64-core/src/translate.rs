//! The stateless IP/ICMP translator of RFC 7915 (SIIT), with RFC 7757 EAM
//! hairpinning and RFC 6791 error sources.
//!
//! [`Translator::translate`] reads one packet and writes its translation
//! (or an ICMP error for the sender) into the caller's buffer: check and view
//! the input, map the fields, emit the output. It never allocates and never
//! panics on any input.

use alloc::{vec, vec::Vec};
use core::net::{Ipv4Addr, Ipv6Addr};

use crate::addr::is_non_global_v4;
use crate::checksum;
use crate::config::{Config, ConfigError, Ipv4IdPolicy};
use crate::eamt::HairpinMode;
use crate::icmp::{self, Mapped, Rest};
use crate::verdict::{Counters, Direction, DropReason, Emitted, NotOurs, Verdict};
use crate::wire::{self, be16, be32, proto, walk_chain, ChainError, V4Header, V4Out, V6Header};

/// RFC 792 / RFC 1812: an ICMPv4 error may be at most 576 bytes.
const ICMP4_ERROR_MAX: usize = 576;
/// RFC 4443 section 2.4 (c): an ICMPv6 error may be at most 1280 bytes.
const ICMP6_ERROR_MAX: usize = 1280;
/// RFC 4884 section 4: with an extension, the quoted datagram is padded to
/// at least 128 bytes.
const RFC4884_MIN_ORIGINAL: usize = 128;
/// RFC 7915 section 5.1: above this size the translated IPv4 packet gets DF.
const DF_THRESHOLD: usize = 1260;

/// An output buffer this long holds the translation of any packet under any
/// valid configuration: a 65 535-byte IPv6 packet fragmented for the smallest
/// IPv4 MTU (68) becomes 1 365 fragments of 20 + 48 bytes (92 815 bytes).
pub const OUTPUT_BUFFER_LEN: usize = 96 * 1024;

/// Why an address did not map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AddrMiss {
    NotMapped,
    Denylisted,
    NonGlobal,
}

/// Which pass of translation this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pass {
    /// A packet from the wire.
    Wire,
    /// The 4->6 half of a hairpin (RFC 7757 section 4.2); `intrinsic`
    /// takes the source from pool6.
    Hairpin { intrinsic: bool },
}

/// The stateless translator (SIIT): the RFC 7915 engine shared with the stateful NAT64, with RFC 6052 /
/// RFC 7757 address mapping, counters, and a scratch buffer for hairpins.
#[derive(Debug)]
pub struct Translator {
    eng: Engine,
    counters: Counters,
    scratch: Vec<u8>,
}

/// The RFC 7915 header and ICMP translation shared by the stateless and the
/// stateful translators: the configuration and the IPv4 Identification
/// counter. Address (and port) mapping is decided by the caller and handed
/// in as a [`Map64`] / [`Map46`], or through [`ErrorMap`] for ICMP errors,
/// whose mapping depends on the quoted packet.
#[derive(Debug)]
pub(crate) struct Engine {
    pub(crate) cfg: Config,
    next_id: u16,
    /// Set for the duration of a `translate_gso` call: the TCP payload size
    /// of the segments the super-packet will be cut into.
    pub(crate) gso_mss: Option<u16>,
    /// Set by the stateful NAT64: IPv4 UDP with checksum 0 gets one
    /// computed (RFC 6146 section 3.4), whatever `amend_udp_checksum_zero`.
    pub(crate) amend_udp_zero: bool,
}

/// Where an IPv6 -> IPv4 packet goes: its IPv4 addresses, and the source
/// port (or ICMP identifier) and destination port to write, if they change.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Map64 {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub sport: Option<u16>,
    pub dport: Option<u16>,
}

/// Where an IPv4 -> IPv6 packet goes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Map46 {
    pub src: Ipv6Addr,
    pub dst: Ipv6Addr,
    pub sport: Option<u16>,
    pub dport: Option<u16>,
}

impl Map64 {
    pub(crate) fn addrs(src: Ipv4Addr, dst: Ipv4Addr) -> Self {
        Map64 {
            src,
            dst,
            sport: None,
            dport: None,
        }
    }
}
impl Map46 {
    pub(crate) fn addrs(src: Ipv6Addr, dst: Ipv6Addr) -> Self {
        Map46 {
            src,
            dst,
            sport: None,
            dport: None,
        }
    }
}

/// How the addresses of a translated ICMP error and of the packet it quotes
/// are mapped: (outer, inner). SIIT uses pool6/EAMT and RFC 6791; the
/// stateful NAT64 finds the session through the quoted packet (RFC 6146
/// section 3.5.3).
pub(crate) trait ErrorMap {
    /// ICMPv6 error `h` quoting `ih` (upper layer `iproto`, bytes `il4`).
    fn error64(
        &mut self,
        eng: &Engine,
        h: &V6Header,
        ih: &V6Header,
        iproto: u8,
        il4: &[u8],
    ) -> Result<(Map64, Map64), DropReason>;
    /// ICMPv4 error `h` quoting `ih` (upper layer bytes `il4`).
    fn error46(&mut self, eng: &Engine, h: &V4Header, ih: &V4Header, il4: &[u8]) -> Result<(Map46, Map46), DropReason>;
}

/// SIIT's error mapping: EAMT then pool6, leniently (RFC 7915 sections 4.3
/// and 5.3), with the RFC 6791 pool for an untranslatable outer source.
struct SiitErrors {
    dst4: Ipv4Addr,
    dst6: Ipv6Addr,
    intrinsic: bool,
}

impl ErrorMap for SiitErrors {
    fn error64(
        &mut self,
        eng: &Engine,
        h: &V6Header,
        ih: &V6Header,
        _iproto: u8,
        _il4: &[u8],
    ) -> Result<(Map64, Map64), DropReason> {
        let (Ok(isrc), Ok(idst)) = (eng.addr64(ih.src, false), eng.addr64(ih.dst, false)) else {
            return Err(DropReason::InnerUntranslatable);
        };
        let src4 = match eng.addr64(h.src, false) {
            Ok(a) => a,
            Err(_) => eng
                .rfc6791_v4(key6(ih.src, ih.dst), h.hop)
                .ok_or(DropReason::NoErrorSource)?,
        };
        Ok((Map64::addrs(src4, self.dst4), Map64::addrs(isrc, idst)))
    }

    fn error46(
        &mut self,
        eng: &Engine,
        h: &V4Header,
        ih: &V4Header,
        _il4: &[u8],
    ) -> Result<(Map46, Map46), DropReason> {
        // The quoted packet went from the IPv6 side (its source) to the IPv4
        // side; in an intrinsic hairpin its destination is the IPv6 node we
        // answer through pool6.
        let (Ok(isrc), Ok(idst)) = (
            eng.addr46(ih.src, false, false),
            eng.addr46(ih.dst, false, self.intrinsic),
        ) else {
            return Err(DropReason::InnerUntranslatable);
        };
        let src6 = match eng.addr46(h.src, false, self.intrinsic) {
            Ok(a) => a,
            Err(_) => eng
                .rfc6791_v6(key4(ih.src, ih.dst), h.ttl)
                .ok_or(DropReason::NoErrorSource)?,
        };
        Ok((Map46::addrs(src6, self.dst6), Map46::addrs(isrc, idst)))
    }
}

impl Translator {
    /// Checks the configuration and builds a translator.
    pub fn new(cfg: Config) -> Result<Self, ConfigError> {
        cfg.validate()?;
        Ok(Translator {
            eng: Engine::new(cfg),
            counters: Counters::default(),
            scratch: vec![0; 65536 + 128],
        })
    }

    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.eng.cfg
    }

    /// Replaces the configuration (counters are kept).
    pub fn set_config(&mut self, cfg: Config) -> Result<(), ConfigError> {
        cfg.validate()?;
        self.eng.cfg = cfg;
        Ok(())
    }

    /// Counters per verdict and per reason since creation.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// Translates one IPv4 or IPv6 packet (its first byte is the IP version)
    /// into `out`. See [`Verdict`] for what lands in `out`. An `out` of
    /// [`OUTPUT_BUFFER_LEN`] bytes always suffices; a smaller one gives
    /// `Dropped(OutputTooSmall)` for packets that do not fit.
    #[inline]
    pub fn translate(&mut self, input: &[u8], out: &mut [u8]) -> Verdict {
        let v = match input.first().map(|b| b >> 4) {
            Some(6) => self.xlat64(input, out),
            Some(4) => self.xlat46(input, out, Pass::Wire),
            _ => Verdict::NotOurs(NotOurs::NotIp),
        };
        self.counters.record(&v);
        v
    }

    /// [`Translator::translate`] for a TCP super-packet under segmentation
    /// offload (GRO/GSO: Linux `virtio_net_hdr` with a `gso_size`, TUN
    /// `IFF_VNET_HDR`): translated once, whole, and cut into segments of
    /// `mss` payload bytes by the kernel afterwards. DF and the egress MTU
    /// (RFC 7915 sections 4 and 5) are judged on one segment, and the
    /// super-packet is never fragmented. Other protocols are handled as by
    /// `translate`.
    ///
    /// With a partial checksum (`VIRTIO_NET_HDR_F_NEEDS_CSUM`,
    /// `CHECKSUM_PARTIAL`) the TCP checksum field holds the pseudo-header
    /// sum, not a checksum: complement it (`!`) before and after the call, and
    /// the incremental update (RFC 1624) carries it across the new
    /// pseudo-header exactly.
    pub fn translate_gso(&mut self, input: &[u8], out: &mut [u8], mss: u16) -> Verdict {
        self.eng.gso_mss = Some(mss.max(1));
        let v = self.translate(input, out);
        self.eng.gso_mss = None;
        v
    }
}

impl Engine {
    pub(crate) fn new(cfg: Config) -> Self {
        let next_id = match cfg.ipv4_id {
            Ipv4IdPolicy::Counter(s) | Ipv4IdPolicy::Fixed(s) => s,
        };
        Engine {
            cfg,
            next_id,
            gso_mss: None,
            amend_udp_zero: false,
        }
    }

    /// The engine of the stateful NAT64, which computes the checksum of
    /// IPv4 UDP datagrams that have none (RFC 6146 section 3.4).
    pub(crate) fn for_nat64(cfg: Config) -> Self {
        Engine {
            amend_udp_zero: true,
            ..Engine::new(cfg)
        }
    }

    /// RFC 6052 / RFC 7757 address lookup, IPv6 -> IPv4: EAMT first, then
    /// pool6. `strict` applies the denylists and the RFC 6052 section 3.1
    /// check (not for ICMP error sources and quoted packets, RFC 7915 s4.3).
    #[inline(always)]
    pub(crate) fn addr64(&self, a: Ipv6Addr, strict: bool) -> Result<Ipv4Addr, AddrMiss> {
        if let Some(v4) = self.cfg.eamt.to_v4(a) {
            return Ok(v4);
        }
        let p = self.cfg.pool6.as_ref().ok_or(AddrMiss::NotMapped)?;
        let v4 = p.extract(a).ok_or(AddrMiss::NotMapped)?;
        if strict {
            self.check_pool6_v4(v4, p.is_well_known())?;
        }
        Ok(v4)
    }

    /// IPv4 -> IPv6: EAMT first (unless `pool6_only`), then pool6.
    #[inline(always)]
    pub(crate) fn addr46(&self, a: Ipv4Addr, strict: bool, pool6_only: bool) -> Result<Ipv6Addr, AddrMiss> {
        if !pool6_only {
            if let Some(v6) = self.cfg.eamt.to_v6(a) {
                return Ok(v6);
            }
        }
        let p = self.cfg.pool6.as_ref().ok_or(AddrMiss::NotMapped)?;
        if strict {
            self.check_pool6_v4(a, p.is_well_known())?;
        }
        Ok(p.embed(a))
    }

    /// The implicit denylist, denylist4, and RFC 6052 section 3.1.
    #[inline(always)]
    pub(crate) fn check_pool6_v4(&self, a: Ipv4Addr, wkp: bool) -> Result<(), AddrMiss> {
        let o = a.octets();
        if o[0] == 0
            || o[0] == 127
            || (o[0] == 169 && o[1] == 254)
            || (o[0] & 0xf0) == 224
            || a == Ipv4Addr::BROADCAST
            || Some(a) == self.cfg.own_ipv4
            || self.cfg.denylist4.iter().any(|p| p.contains(a))
        {
            return Err(AddrMiss::Denylisted);
        }
        if wkp && self.cfg.wkp_forbids_non_global && is_non_global_v4(a) {
            return Err(AddrMiss::NonGlobal);
        }
        Ok(())
    }

    /// RFC 7915 section 5.4: an IPv6 packet whose source cannot be
    /// translated is discarded, and its sender SHOULD get ICMPv6 1/1
    /// (administratively prohibited), unless the packet is itself an ICMPv6
    /// message. Only a first fragment (or a whole packet) is answered: a
    /// later fragment could be a piece of an ICMPv6 error, and one answer per
    /// datagram is enough. A non-global IPv4 address embedded under the
    /// Well-Known Prefix is refused by RFC 6052 section 3.1 as source as much
    /// as destination, and says so.
    pub(crate) fn refuse_source64(
        &mut self,
        pkt: &[u8],
        chain: &wire::Chain,
        miss: AddrMiss,
        out: &mut [u8],
    ) -> Verdict {
        let reason = source_reason(miss);
        if !chain.is_first() || chain.proto == proto::ICMPV6 {
            return Verdict::Dropped(reason);
        }
        self.reply_v6(pkt, 1, 1, [0; 4], reason, out)
    }

    pub(crate) fn next_ipv4_id(&mut self, df: bool) -> u16 {
        match self.cfg.ipv4_id {
            Ipv4IdPolicy::Fixed(v) => v,
            Ipv4IdPolicy::Counter(_) if df => 0,
            Ipv4IdPolicy::Counter(_) => {
                let id = self.next_id;
                self.next_id = self.next_id.wrapping_add(1);
                id
            }
        }
    }

    /// RFC 6791: a source for a translated ICMP error whose own source does
    /// not translate, from the pool, else the translator's own address.
    pub(crate) fn rfc6791_v4(&self, key: u64, hop: u8) -> Option<Ipv4Addr> {
        match self.cfg.rfc6791v4_prefix {
            Some(p) => Some(p.nth(self.pool_index(key, hop, p.size()))),
            None => self.cfg.own_ipv4,
        }
    }
    pub(crate) fn rfc6791_v6(&self, key: u64, hop: u8) -> Option<Ipv6Addr> {
        match self.cfg.rfc6791v6_prefix {
            Some(p) => {
                let host_bits = 128 - u32::from(p.prefix_len());
                let size = if host_bits >= 32 { u32::MAX } else { 1u32 << host_bits };
                Some(p.nth(u128::from(self.pool_index(key, hop, size))))
            }
            None => self.cfg.own_ipv6,
        }
    }
    pub(crate) fn pool_index(&self, key: u64, hop: u8, size: u32) -> u32 {
        if size <= 1 {
            return 0;
        }
        if self.cfg.randomize_rfc6791_addresses {
            (mix(key ^ self.cfg.seed) % u64::from(size)) as u32
        } else {
            u32::from(hop) % size
        }
    }
}

impl Translator {
    // ---------------------------------------------------------------- 6 -> 4

    /// RFC 7915 section 5: IPv6 to IPv4.
    #[inline(always)]
    fn xlat64(&mut self, inp: &[u8], out: &mut [u8]) -> Verdict {
        let Some(h) = V6Header::parse(inp) else {
            return Verdict::Dropped(DropReason::Truncated);
        };
        let dst4 = match self.eng.addr64(h.dst, true) {
            Ok(a) => a,
            Err(AddrMiss::NotMapped) => return Verdict::NotOurs(NotOurs::DestinationNotMapped),
            Err(AddrMiss::Denylisted) => return Verdict::NotOurs(NotOurs::DestinationDenylisted),
            Err(AddrMiss::NonGlobal) => return Verdict::Dropped(DropReason::NonGlobalWithWellKnownPrefix),
        };
        let (pkt, chain) = match self.eng.checks64(&h, inp, out) {
            Ok(x) => x,
            Err(v) => return v,
        };
        let hairpin = self.eng.cfg.eam_hairpin_mode != HairpinMode::Off && self.eng.cfg.eamt.contains4(dst4);
        let l4 = &pkt[chain.l4_off..];
        let mut errs = SiitErrors {
            dst4,
            dst6: h.src,
            intrinsic: false,
        };
        let is_icmp_error =
            chain.proto == proto::ICMPV6 && chain.is_first() && l4.first().is_some_and(|&t| icmp::is_icmp6_error(t));

        let src4 = if is_icmp_error {
            Ipv4Addr::UNSPECIFIED
        } else {
            match self.eng.addr64(h.src, true) {
                Ok(a) => a,
                Err(miss) => return self.eng.refuse_source64(pkt, &chain, miss, out),
            }
        };
        if !hairpin {
            return if is_icmp_error {
                self.eng.error64(pkt, &h, &chain, &mut errs, false, out)
            } else {
                self.eng.body64(pkt, &h, &chain, Map64::addrs(src4, dst4), false, out)
            };
        }
        // RFC 7757 section 4.2: translate into scratch, then back to IPv6.
        // The packet leaves on the IPv6 side with the same size it came in
        // with, so the IPv6 egress MTU is checked here, against the sender.
        let mtu6 = self.eng.cfg.mtu6;
        if pkt.len() - (chain.l4_off - if chain.has_frag { 48 } else { 40 }) > mtu6 as usize {
            return self
                .eng
                .reply_v6(pkt, 2, 0, mtu6.to_be_bytes(), DropReason::PacketTooBig, out);
        }
        let mut scratch = core::mem::take(&mut self.scratch);
        let r = if is_icmp_error {
            self.eng.error64(pkt, &h, &chain, &mut errs, true, &mut scratch)
        } else {
            self.eng
                .body64(pkt, &h, &chain, Map64::addrs(src4, dst4), true, &mut scratch)
        };
        let r = match r {
            Verdict::Translated(e) => {
                let intrinsic = self.eng.cfg.eam_hairpin_mode == HairpinMode::Intrinsic;
                match self.xlat46(&scratch[..e.total_len()], out, Pass::Hairpin { intrinsic }) {
                    Verdict::Translated(e2) => Verdict::Translated(Emitted {
                        direction: Direction::SixToSix,
                        ..e2
                    }),
                    Verdict::IcmpError { reason, .. } => Verdict::Dropped(reason),
                    other => other,
                }
            }
            other => other,
        };
        self.scratch = scratch;
        r
    }
}

impl Engine {
    /// The length of each packet the output becomes on the wire: itself, or
    /// for a TCP super-packet under segmentation offload, one segment
    /// (`hdr` + TCP header + MSS).
    #[inline]
    fn segment_len(&self, hdr: usize, ip_proto: u8, l4: &[u8], total: usize) -> usize {
        match self.gso_mss {
            Some(mss) if ip_proto == proto::TCP && l4.len() >= 20 => {
                (hdr + usize::from(l4[12] >> 4) * 4 + usize::from(mss)).min(total)
            }
            _ => total,
        }
    }

    /// RFC 7915 section 5.1 checks every IPv6 packet passes once its
    /// destination is known to be ours: length, extension headers (with the
    /// ICMPv6 errors they call for) and hop limit. Returns the packet cut to
    /// its Payload Length and its extension header chain.
    #[inline(always)]
    pub(crate) fn checks64<'a>(
        &mut self,
        h: &V6Header,
        inp: &'a [u8],
        out: &mut [u8],
    ) -> Result<(&'a [u8], wire::Chain), Verdict> {
        // Payload Length 0 with a Hop-by-Hop header is a jumbogram (RFC
        // 2675); otherwise it is just empty (e.g. No Next Header).
        if h.payload_len == 0 && h.next == proto::HOPOPT {
            return Err(Verdict::Dropped(DropReason::Jumbogram));
        }
        let end = 40 + usize::from(h.payload_len);
        if end > inp.len() {
            return Err(Verdict::Dropped(DropReason::Truncated));
        }
        let pkt = &inp[..end];
        let chain = match walk_chain(pkt, end, h.next) {
            Ok(c) => c,
            Err(ChainError::SegmentsLeft(ptr)) => {
                return Err(self.reply_v6(pkt, 4, 0, ptr.to_be_bytes(), DropReason::SegmentsLeft, out))
            }
            Err(ChainError::FragmentThenExtension) => {
                return Err(self.reply_v6(pkt, 1, 1, [0; 4], DropReason::FragmentThenExtension, out))
            }
            Err(ChainError::Malformed) => return Err(Verdict::Dropped(DropReason::BadExtensionHeaders)),
        };
        if h.hop <= 1 {
            return Err(self.reply_v6(pkt, 3, 0, [0; 4], DropReason::HopLimitExceeded, out));
        }
        Ok((pkt, chain))
    }

    /// RFC 7915 section 4.1 checks on an IPv4 packet that is ours: an
    /// unexpired source route and the TTL.
    #[inline(always)]
    pub(crate) fn checks46(&mut self, h: &V4Header, pkt: &[u8], out: &mut [u8]) -> Result<(), Verdict> {
        if h.hlen > 20 && wire::has_unexpired_source_route(&pkt[20..h.hlen]) {
            return Err(self.reply_v4(pkt, h, 3, 5, [0; 4], DropReason::SourceRoute, out));
        }
        if h.ttl <= 1 {
            return Err(self.reply_v4(pkt, h, 11, 0, [0; 4], DropReason::HopLimitExceeded, out));
        }
        Ok(())
    }

    /// RFC 7915 sections 5.1 and 5.5: a non-error packet.
    #[inline(always)]
    pub(crate) fn body64(
        &mut self,
        pkt: &[u8],
        h: &V6Header,
        chain: &wire::Chain,
        m: Map64,
        hairpin: bool,
        out: &mut [u8],
    ) -> Verdict {
        let (src4, dst4) = (m.src, m.dst);
        let l4 = &pkt[chain.l4_off..];
        let first = chain.is_first();
        let fragmented = chain.is_fragment();
        let total = 20 + l4.len();
        if total > usize::from(u16::MAX) {
            return Verdict::Dropped(DropReason::Jumbogram);
        }
        // RFC 791: a datagram ends at 65 535 bytes, header included.
        if chain.has_frag && usize::from(chain.frag_offset) * 8 + total > usize::from(u16::MAX) {
            return Verdict::Dropped(DropReason::FragmentBeyondMaximum);
        }
        if out.len() < total {
            return Verdict::Dropped(DropReason::OutputTooSmall);
        }
        let mtu4 = self.cfg.mtu4 as usize;
        // A GSO super-packet leaves as segments: those are what DF and the
        // MTU are about, and it is never fragmented itself.
        let seg = self.segment_len(20, chain.proto, l4, total);
        let df = !chain.has_frag && seg > DF_THRESHOLD;
        let mut fragment_v4 = false;
        if !hairpin && seg > mtu4 {
            // RFC 7915 section 5 / RFC 8200 section 5: IPv6 senders expect
            // Packet Too Big. Only when the IPv4 MTU is below what a PTB can
            // express (a tunnel under 1260) and DF is clear do we fragment
            // instead, so small links are not a black hole.
            let ptb = self.cfg.mtu4.saturating_add(20);
            if df || ptb >= 1280 || self.gso_mss.is_some() {
                let m = ptb.max(1280);
                return self.reply_v6(pkt, 2, 0, m.to_be_bytes(), DropReason::PacketTooBig, out);
            }
            fragment_v4 = true;
        }
        let mut new_proto = chain.proto;
        let body = &mut out[20..total];
        body.copy_from_slice(l4);
        match chain.proto {
            proto::TCP | proto::UDP if first => {
                let at = if chain.proto == proto::TCP { 16 } else { 6 };
                if l4.len() < at + 2 || (chain.proto == proto::TCP && l4.len() < 20) {
                    return Verdict::Dropped(DropReason::TransportTruncated);
                }
                let old = checksum::sum_v6(h.src) + checksum::sum_v6(h.dst);
                let new = checksum::sum_v4(src4) + checksum::sum_v4(dst4);
                let (old, new) = rewrite_ports(body, 0, 2, m.sport, m.dport, old, new);
                if chain.proto == proto::UDP && be16(l4, 6) == 0 {
                    // RFC 8200 section 8.1: zero is no checksum in IPv6; an
                    // update from it would be a wrong IPv4 checksum.
                    if self.cfg.forward_udp_checksum_zero {
                        // Zero means "none" in IPv4 too (RFC 768).
                    } else if self.cfg.amend_udp_checksum_zero && !fragmented {
                        udp_full_checksum(body, checksum::pseudo_v4(src4, dst4, proto::UDP, l4.len() as u16));
                    } else {
                        return Verdict::Dropped(DropReason::Ipv6UdpChecksumZero);
                    }
                } else {
                    patch_csum(body, at, old, new, chain.proto == proto::UDP);
                }
            }
            proto::ICMPV6 => {
                if fragmented {
                    return Verdict::Dropped(DropReason::FragmentedIcmp);
                }
                if l4.len() < 8 {
                    return Verdict::Dropped(DropReason::TransportTruncated);
                }
                let Ok(Mapped::Info { ty }) = icmp::map_6to4(l4[0], l4[1], 0) else {
                    return Verdict::Dropped(DropReason::IcmpUntranslatableType);
                };
                let old = checksum::pseudo_v6(h.src, h.dst, proto::ICMPV6, l4.len() as u32)
                    + u32::from(u16::from_be_bytes([l4[0], l4[1]]));
                let new = u32::from(u16::from_be_bytes([ty, l4[1]]));
                let (old, new) = rewrite_ports(body, 4, 4, m.sport.or(m.dport), None, old, new);
                body[0] = ty;
                patch_csum(body, 2, old, new, false);
                new_proto = proto::ICMP;
            }
            _ => {}
        }
        let (id, frag_off, mf) = match chain.frag() {
            Some(f) => (f.id as u16, f.offset, f.mf),
            None => (self.next_ipv4_id(df), 0, false),
        };
        let hdr = V4Out {
            tos: self.cfg.override_tos.unwrap_or(h.tc),
            total_len: total as u16,
            id,
            df,
            mf,
            frag_off,
            ttl: if hairpin { h.hop } else { h.hop - 1 },
            proto: new_proto,
            src: src4,
            dst: dst4,
        };
        hdr.write(&mut out[..20]);
        if fragment_v4 {
            return fragment_ipv4(out, total, mtu4, hdr);
        }
        Verdict::Translated(Emitted::single(total, Direction::SixToFour))
    }

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
        if chain.is_fragment() {
            return Verdict::Dropped(DropReason::FragmentedIcmp);
        }
        if l4.len() < 8 {
            return Verdict::Dropped(DropReason::TransportTruncated);
        }
        let cs = checksum::add(
            checksum::pseudo_v6(h.src, h.dst, proto::ICMPV6, l4.len() as u32),
            checksum::sum(l4),
        );
        if checksum::fold(cs) != 0xffff {
            return Verdict::Dropped(DropReason::IcmpChecksum);
        }
        let (ty, code, rest) = match icmp::map_6to4(l4[0], l4[1], be32(l4, 4)) {
            Ok(Mapped::Error { ty, code, rest }) => (ty, code, rest),
            Ok(Mapped::Info { .. }) => return Verdict::Dropped(DropReason::IcmpUntranslatableType),
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
        let iproto = inner_l4_64(&mut inner[20..20 + avail], &ih, &ichain, ipl_declared, &imap);
        let (iid, ioff, imf) = match ichain.frag() {
            Some(f) => (f.id as u16, f.offset, f.mf),
            None => (0, 0, false),
        };
        V4Out {
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
        let (qlen, attr, ext_len) = fit_rfc4884(20 + avail, 20 + il4.len(), ext, cap - 28, 4);
        if qlen > 20 + avail {
            out[28 + 20 + avail..28 + qlen].fill(0);
        }
        if ext_len > 0 {
            out[28 + qlen..28 + qlen + ext_len].copy_from_slice(&ext[..ext_len]);
        }
        let icmp_len = 8 + qlen + ext_len;
        let o = &mut out[20..20 + icmp_len];
        o[0] = ty;
        o[1] = code;
        o[2] = 0;
        o[3] = 0;
        o[4..8].copy_from_slice(&match rest {
            Rest::Mtu => {
                let m = icmp::fn_mtu_from_ptb(be32(l4, 4), self.cfg.mtu4, self.cfg.mtu6);
                [0, 0, (m >> 8) as u8, m as u8]
            }
            Rest::Pointer(p) => [p, 0, 0, 0],
            Rest::Unused => [0, attr, 0, 0],
        });
        let c = checksum::finish(checksum::sum(o));
        o[2..4].copy_from_slice(&c.to_be_bytes());
        let total = 20 + icmp_len;
        let id = match chain.frag() {
            Some(f) => f.id as u16,
            None => self.next_ipv4_id(false),
        };
        V4Out {
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
}

impl Translator {
    // ---------------------------------------------------------------- 4 -> 6

    /// RFC 7915 section 4: IPv4 to IPv6.
    #[inline]
    fn xlat46(&mut self, inp: &[u8], out: &mut [u8], pass: Pass) -> Verdict {
        let (h, pkt) = match parse46(inp, pass == Pass::Wire) {
            Ok(x) => x,
            Err(v) => return v,
        };
        let intrinsic = matches!(pass, Pass::Hairpin { intrinsic: true });
        let dst6 = match self.eng.addr46(h.dst, true, false) {
            Ok(a) => a,
            Err(AddrMiss::NotMapped) => return Verdict::NotOurs(NotOurs::DestinationNotMapped),
            Err(AddrMiss::Denylisted) => return Verdict::NotOurs(NotOurs::DestinationDenylisted),
            Err(AddrMiss::NonGlobal) => return Verdict::Dropped(DropReason::NonGlobalWithWellKnownPrefix),
        };
        if pass != Pass::Wire && self.eng.cfg.pool6.is_some_and(|p| p.contains(dst6)) {
            return Verdict::Dropped(DropReason::HairpinLoop);
        }
        if let Err(v) = self.eng.checks46(&h, pkt, out) {
            return v;
        }
        let l4 = &pkt[h.hlen..];
        let first = h.frag_off == 0;
        if h.proto == proto::ICMP && first && l4.first().is_some_and(|&t| icmp::is_icmp4_error(t)) {
            let mut errs = SiitErrors {
                dst4: h.dst,
                dst6,
                intrinsic,
            };
            return self.eng.error46(pkt, &h, &mut errs, pass, out);
        }
        match self.eng.addr46(h.src, true, intrinsic) {
            Ok(src6) => self.eng.body46(pkt, &h, Map46::addrs(src6, dst6), pass, out),
            Err(miss) => Verdict::Dropped(source_reason(miss)),
        }
    }
}

impl Engine {
    /// RFC 7915 sections 4.1 and 4.5: a non-error packet whose addresses
    /// (and ports) are decided.
    #[inline(always)]
    pub(crate) fn body46(&mut self, pkt: &[u8], h: &V4Header, m: Map46, pass: Pass, out: &mut [u8]) -> Verdict {
        let (src6, dst6) = (m.src, m.dst);
        let l4 = &pkt[h.hlen..];
        let first = h.frag_off == 0;
        let fragmented = h.is_fragment();
        // RFC 791 / RFC 8200 section 4.5: no fragment may end past the
        // 65 535-byte maximum (the header counts for IPv4).
        if fragmented && usize::from(h.frag_off) * 8 + h.hlen + l4.len() > usize::from(u16::MAX) {
            return Verdict::Dropped(DropReason::FragmentBeyondMaximum);
        }
        // RFC 7915 section 4.1 copies Protocol into Next Header; an IPv4
        // Protocol that is an IPv6 extension header number would make the
        // payload parse as a header the sender never wrote.
        if matches!(
            h.proto,
            proto::HOPOPT | proto::ROUTING | proto::FRAGMENT | proto::DSTOPTS
        ) {
            return Verdict::Dropped(DropReason::UnsupportedProtocol);
        }
        let fh = if fragmented { 8 } else { 0 };
        let plen = fh + l4.len();
        let total6 = 40 + plen;
        let seg6 = self.segment_len(40 + fh, h.proto, l4, total6);
        let mtu6 = self.cfg.mtu6 as usize;
        if (h.df || self.gso_mss.is_some()) && seg6 > mtu6 && pass == Pass::Wire {
            let m = (self.cfg.mtu6 - 20).min(u32::from(u16::MAX)) as u16;
            return self.reply_v4(
                pkt,
                h,
                3,
                4,
                [0, 0, (m >> 8) as u8, m as u8],
                DropReason::PacketTooBig,
                out,
            );
        }
        let limit = if h.df {
            mtu6
        } else {
            mtu6.min(self.cfg.lowest_ipv6_mtu as usize)
        };
        let split = total6 > limit && !h.df && self.gso_mss.is_none();
        let need = if split {
            let chunk = ((limit - 48) / 8) * 8;
            l4.len() + 48 * l4.len().div_ceil(chunk)
        } else {
            total6
        };
        if out.len() < need.max(48 + l4.len()) {
            return Verdict::Dropped(DropReason::OutputTooSmall);
        }
        let mut next = h.proto;
        let hdr_len = 40 + fh;
        let body = &mut out[hdr_len..hdr_len + l4.len()];
        body.copy_from_slice(l4);
        match h.proto {
            proto::TCP | proto::UDP if first => {
                let at = if h.proto == proto::TCP { 16 } else { 6 };
                if l4.len() < at + 2 || (h.proto == proto::TCP && l4.len() < 20) {
                    return Verdict::Dropped(DropReason::TransportTruncated);
                }
                if h.proto == proto::UDP && be16(l4, 6) == 0 {
                    // RFC 6146 section 3.4: a stateful NAT64 (which has
                    // reassembled) always computes it.
                    let amend = self.amend_udp_zero || (self.cfg.amend_udp_checksum_zero && pass == Pass::Wire);
                    if self.cfg.forward_udp_checksum_zero {
                        // Forwarded as "no checksum" (RFC 6935 tunnels).
                        rewrite_ports(body, 0, 2, m.sport, m.dport, 0, 0);
                    } else if fragmented {
                        return self.reply_v4(pkt, h, 3, 13, [0; 4], DropReason::FragmentedUdpChecksumZero, out);
                    } else if !amend {
                        return self.reply_v4(pkt, h, 3, 13, [0; 4], DropReason::UdpChecksumZero, out);
                    } else {
                        rewrite_ports(body, 0, 2, m.sport, m.dport, 0, 0);
                        udp_full_checksum(body, checksum::pseudo_v6(src6, dst6, proto::UDP, l4.len() as u32));
                    }
                } else {
                    let old = checksum::sum_v4(h.src) + checksum::sum_v4(h.dst);
                    let new = checksum::sum_v6(src6) + checksum::sum_v6(dst6);
                    let (old, new) = rewrite_ports(body, 0, 2, m.sport, m.dport, old, new);
                    patch_csum(body, at, old, new, h.proto == proto::UDP);
                }
            }
            proto::ICMP => {
                if fragmented {
                    return Verdict::Dropped(DropReason::FragmentedIcmp);
                }
                if l4.len() < 8 {
                    return Verdict::Dropped(DropReason::TransportTruncated);
                }
                let ty = match icmp::map_4to6(l4[0], l4[1], 0) {
                    Ok(Mapped::Info { ty }) => ty,
                    _ => return Verdict::Dropped(DropReason::IcmpUntranslatableType),
                };
                let old = u32::from(u16::from_be_bytes([l4[0], l4[1]]));
                let new = checksum::pseudo_v6(src6, dst6, proto::ICMPV6, l4.len() as u32)
                    + u32::from(u16::from_be_bytes([ty, l4[1]]));
                let (old, new) = rewrite_ports(body, 4, 4, m.sport.or(m.dport), None, old, new);
                body[0] = ty;
                patch_csum(body, 2, old, new, false);
                next = proto::ICMPV6;
            }
            _ => {}
        }
        let tc = if self.cfg.zeroize_traffic_class { 0 } else { h.tos };
        let hop = h.ttl - 1;
        if fragmented {
            wire::write_v6(out, tc, plen as u16, proto::FRAGMENT, hop, src6, dst6);
            wire::write_frag(&mut out[40..48], next, h.frag_off, h.mf, u32::from(h.id));
        } else {
            wire::write_v6(out, tc, plen as u16, next, hop, src6, dst6);
        }
        let direction = if pass == Pass::Wire {
            Direction::FourToSix
        } else {
            Direction::SixToSix
        };
        if split {
            return fragment_ipv6(out, l4.len(), fragmented, limit, h, next, direction);
        }
        Verdict::Translated(Emitted::single(total6, direction))
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
        if h.is_fragment() {
            return Verdict::Dropped(DropReason::FragmentedIcmp);
        }
        if l4.len() < 8 {
            return Verdict::Dropped(DropReason::TransportTruncated);
        }
        if checksum::fold(checksum::sum(l4)) != 0xffff {
            return Verdict::Dropped(DropReason::IcmpChecksum);
        }
        let (ty, code, rest) = match icmp::map_4to6(l4[0], l4[1], l4[4]) {
            Ok(Mapped::Error { ty, code, rest }) => (ty, code, rest),
            Ok(Mapped::Info { .. }) => return Verdict::Dropped(DropReason::IcmpUntranslatableType),
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
            let inext = inner_l4_46(&mut inner[ihl6..ihl6 + avail], &ih, ipl_declared, &imap);
            let tc = if self.cfg.zeroize_traffic_class { 0 } else { ih.tos };
            let ipl = (ipl_declared + ihl6 - 40).min(usize::from(u16::MAX)) as u16;
            if ifrag {
                wire::write_v6(inner, tc, ipl, proto::FRAGMENT, ih.ttl, isrc, idst);
                wire::write_frag(&mut inner[40..48], inext, ih.frag_off, ih.mf, u32::from(ih.id));
            } else {
                wire::write_v6(inner, tc, ipl, inext, ih.ttl, isrc, idst);
            }
        }
        let (qlen, attr, ext_len) = fit_rfc4884(ihl6 + avail, ihl6 + il4.len(), ext, cap - 48, 8);
        if qlen > ihl6 + avail {
            out[48 + ihl6 + avail..48 + qlen].fill(0);
        }
        if ext_len > 0 {
            out[48 + qlen..48 + qlen + ext_len].copy_from_slice(&ext[..ext_len]);
        }
        let icmp_len = 8 + qlen + ext_len;
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
        let o = &mut out[40..40 + icmp_len];
        o[0] = ty;
        o[1] = code;
        o[2] = 0;
        o[3] = 0;
        o[4..8].copy_from_slice(&rest);
        let s = checksum::add(
            checksum::pseudo_v6(src6, dst6, proto::ICMPV6, icmp_len as u32),
            checksum::sum(o),
        );
        o[2..4].copy_from_slice(&checksum::finish(s).to_be_bytes());
        let tc = if self.cfg.zeroize_traffic_class { 0 } else { h.tos };
        wire::write_v6(out, tc, icmp_len as u16, proto::ICMPV6, h.ttl - 1, src6, dst6);
        let direction = if pass == Pass::Wire {
            Direction::FourToSix
        } else {
            Direction::SixToSix
        };
        Verdict::Translated(Emitted::single(40 + icmp_len, direction))
    }

    // ------------------------------------------------------ generated errors

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
        let o = &mut out[20..total];
        o[0] = ty;
        o[1] = code;
        o[2] = 0;
        o[3] = 0;
        o[4..8].copy_from_slice(&rest);
        let c = checksum::finish(checksum::sum(o));
        o[2..4].copy_from_slice(&c.to_be_bytes());
        let id = self.next_ipv4_id(false);
        V4Out {
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
        let o = &mut out[40..total];
        o[0] = ty;
        o[1] = code;
        o[2] = 0;
        o[3] = 0;
        o[4..8].copy_from_slice(&rest);
        let s = checksum::add(
            checksum::pseudo_v6(src, h.src, proto::ICMPV6, (total - 40) as u32),
            checksum::sum(o),
        );
        o[2..4].copy_from_slice(&checksum::finish(s).to_be_bytes());
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

/// Why a source address did not map, as a drop reason.
pub(crate) fn source_reason(miss: AddrMiss) -> DropReason {
    match miss {
        AddrMiss::NonGlobal => DropReason::NonGlobalWithWellKnownPrefix,
        AddrMiss::NotMapped | AddrMiss::Denylisted => DropReason::SourceUntranslatable,
    }
}

/// Views an IPv4 packet: header sane, Total Length within the buffer (the
/// packet is cut to it), and (for packets from the wire) the header
/// checksum right.
#[inline(always)]
pub(crate) fn parse46(inp: &[u8], verify: bool) -> Result<(V4Header, &[u8]), Verdict> {
    let Some(h) = V4Header::parse(inp) else {
        return Err(Verdict::Dropped(if inp.len() >= 20 {
            DropReason::BadIpv4Header
        } else {
            DropReason::Truncated
        }));
    };
    let total = usize::from(h.total_len);
    if total < h.hlen {
        return Err(Verdict::Dropped(DropReason::BadIpv4Header));
    }
    if total > inp.len() {
        return Err(Verdict::Dropped(DropReason::Truncated));
    }
    let pkt = &inp[..total];
    if verify && checksum::fold(checksum::sum(&pkt[..h.hlen])) != 0xffff {
        return Err(Verdict::Dropped(DropReason::BadIpv4Checksum));
    }
    Ok((h, pkt))
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

/// The transport header of a quoted IPv6 packet, made IPv4 in place:
/// checksums updated where the bytes are present, ports rewritten when the
/// mapping says so. Returns the protocol.
fn inner_l4_64(b: &mut [u8], ih: &V6Header, ichain: &wire::Chain, declared: usize, m: &Map64) -> u8 {
    if !ichain.is_first() {
        return if ichain.proto == proto::ICMPV6 {
            proto::ICMP
        } else {
            ichain.proto
        };
    }
    let old = checksum::sum_v6(ih.src) + checksum::sum_v6(ih.dst);
    let new = checksum::sum_v4(m.src) + checksum::sum_v4(m.dst);
    match ichain.proto {
        proto::TCP | proto::UDP if b.len() >= 4 => {
            let at = if ichain.proto == proto::TCP { 16 } else { 6 };
            let (old, new) = rewrite_ports(b, 0, 2, m.sport, m.dport, old, new);
            if b.len() >= at + 2 && (ichain.proto == proto::TCP || be16(b, 6) != 0) {
                patch_csum(b, at, old, new, ichain.proto == proto::UDP);
            }
        }
        proto::ICMPV6 => {
            if b.len() >= 4 {
                if let Ok(Mapped::Info { ty }) = icmp::map_6to4(b[0], b[1], 0) {
                    let old = checksum::pseudo_v6(ih.src, ih.dst, proto::ICMPV6, declared as u32)
                        + u32::from(u16::from_be_bytes([b[0], b[1]]));
                    let new = u32::from(u16::from_be_bytes([ty, b[1]]));
                    let (old, new) = if b.len() >= 6 {
                        rewrite_ports(b, 4, 4, m.sport.or(m.dport), None, old, new)
                    } else {
                        (old, new)
                    };
                    b[0] = ty;
                    patch_csum(b, 2, old, new, false);
                }
            }
            return proto::ICMP;
        }
        _ => {}
    }
    ichain.proto
}

/// The transport header of a quoted IPv4 packet, made IPv6 in place.
fn inner_l4_46(b: &mut [u8], ih: &V4Header, declared: usize, m: &Map46) -> u8 {
    if ih.frag_off != 0 {
        return if ih.proto == proto::ICMP {
            proto::ICMPV6
        } else {
            ih.proto
        };
    }
    let old = checksum::sum_v4(ih.src) + checksum::sum_v4(ih.dst);
    let new = checksum::sum_v6(m.src) + checksum::sum_v6(m.dst);
    match ih.proto {
        proto::TCP | proto::UDP if b.len() >= 4 => {
            let at = if ih.proto == proto::TCP { 16 } else { 6 };
            let (old, new) = rewrite_ports(b, 0, 2, m.sport, m.dport, old, new);
            if b.len() >= at + 2 && (ih.proto == proto::TCP || be16(b, 6) != 0) {
                patch_csum(b, at, old, new, ih.proto == proto::UDP);
            }
        }
        proto::ICMP => {
            if b.len() >= 4 {
                if let Ok(Mapped::Info { ty }) = icmp::map_4to6(b[0], b[1], 0) {
                    let old = u32::from(u16::from_be_bytes([b[0], b[1]]));
                    let new = checksum::pseudo_v6(m.src, m.dst, proto::ICMPV6, declared as u32)
                        + u32::from(u16::from_be_bytes([ty, b[1]]));
                    let (old, new) = if b.len() >= 6 {
                        rewrite_ports(b, 4, 4, m.sport.or(m.dport), None, old, new)
                    } else {
                        (old, new)
                    };
                    b[0] = ty;
                    patch_csum(b, 2, old, new, false);
                }
            }
            return proto::ICMPV6;
        }
        _ => {}
    }
    ih.proto
}

/// Computes the checksum of the UDP datagram `body` (its checksum field 0)
/// under `pseudo`; a sum of 0 is sent as 0xffff (RFC 768: 0 means none).
fn udp_full_checksum(body: &mut [u8], pseudo: u32) {
    let c = checksum::finish(checksum::add(pseudo, checksum::sum(body)));
    body[6..8].copy_from_slice(&if c == 0 { 0xffff_u16 } else { c }.to_be_bytes());
}

/// Incremental checksum update of the 16-bit field at `at`.
#[inline]
fn patch_csum(b: &mut [u8], at: usize, old: u32, new: u32, _udp: bool) {
    // RFC 1624's equation 3 can yield 0x0000 where the data sum to -0;
    // 0xffff is then the checksum (and never wrong where 0x0000 would be
    // right). For UDP 0 would even mean "no checksum" (RFC 768).
    let mut n = checksum::update(be16(b, at), old, new);
    if n == 0 {
        n = 0xffff;
    }
    b[at..at + 2].copy_from_slice(&n.to_be_bytes());
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

/// Splits a translated IPv4 packet at `out[..total]` into fragments of at
/// most `mtu` bytes (the translator acting as an IPv4 router, RFC 791).
fn fragment_ipv4(out: &mut [u8], total: usize, mtu: usize, hdr: V4Out) -> Verdict {
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
        V4Out {
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
fn fragment_ipv6(
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

/// A key for the RFC 6791 pool choice, from the quoted packet's addresses.
fn key6(a: Ipv6Addr, b: Ipv6Addr) -> u64 {
    let (a, b) = (u128::from(a), u128::from(b));
    (a as u64) ^ ((a >> 64) as u64).rotate_left(17) ^ (b as u64).rotate_left(31) ^ ((b >> 64) as u64)
}
fn key4(a: Ipv4Addr, b: Ipv4Addr) -> u64 {
    (u64::from(u32::from(a)) << 32) | u64::from(u32::from(b))
}

/// SplitMix64 finaliser: a cheap keyed spread for pool selection.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
