//! The stateless IP/ICMP translator of RFC 7915 (SIIT), with RFC 7757 EAM
//! hairpinning and RFC 6791 error sources.
//!
//! [`Translator::translate`] reads one packet and writes its translation
//! (or an ICMP error for the sender) into the caller's buffer: check and view
//! the input, map the fields, emit the output. It never allocates and never
//! panics on any input.

mod body;
mod errors;
mod fragment;

use alloc::{vec, vec::Vec};
use core::net::{Ipv4Addr, Ipv6Addr};

use crate::addr::is_non_global_v4;
use crate::checksum;
use crate::config::{Config, ConfigError, Ipv4IdPolicy};
use crate::eamt::HairpinMode;
use crate::icmp;
use crate::verdict::{Counters, Direction, DropReason, Emitted, NotOurs, Verdict};
use crate::wire::{self, proto, walk_chain, ChainError, V4Header, V6Header};

pub(crate) use body::{To4, To6};

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

/// Where a translated packet goes: its addresses (of the output family
/// `A`), and the source port (or ICMP identifier) and destination port to
/// write, if they change.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Map<A> {
    pub src: A,
    pub dst: A,
    pub sport: Option<u16>,
    pub dport: Option<u16>,
}

/// Where an IPv6 -> IPv4 packet goes.
pub(crate) type Map64 = Map<Ipv4Addr>;
/// Where an IPv4 -> IPv6 packet goes.
pub(crate) type Map46 = Map<Ipv6Addr>;

impl<A> Map<A> {
    /// New addresses, ports unchanged.
    pub(crate) fn addrs(src: A, dst: A) -> Self {
        Map {
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
                self.eng
                    .body::<To4>(pkt, (&h, &chain), Map64::addrs(src4, dst4), false, out)
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
                .body::<To4>(pkt, (&h, &chain), Map64::addrs(src4, dst4), true, &mut scratch)
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
            Ok(src6) => self
                .eng
                .body::<To6>(pkt, &h, Map46::addrs(src6, dst6), pass != Pass::Wire, out),
            Err(miss) => Verdict::Dropped(source_reason(miss)),
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
