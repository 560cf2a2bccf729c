//! What the fuzz targets share: a byte reader for structured inputs, packet
//! builders with correct checksums, and the oracles every emitted packet is
//! checked against.
//!
//! The checksum and header code here is written again from the RFCs, not
//! taken from `nat64-core`, so a bug in the core cannot hide behind the same
//! bug in its oracle.

use std::net::{Ipv4Addr, Ipv6Addr};

use nat64_core::{Direction, Verdict};

/// IP protocol numbers.
pub const ICMP: u8 = 1;
pub const TCP: u8 = 6;
pub const UDP: u8 = 17;
pub const FRAGMENT: u8 = 44;
pub const ICMPV6: u8 = 58;

/// Big enough for anything a translator writes (a 65 535-byte datagram cut
/// into fragments, each with its own headers).
pub const OUT_LEN: usize = 2 * 65_536;

// ------------------------------------------------------------------ reader

/// Reads a structured input from the fuzzer's bytes; past the end every read
/// is zero, so any input decodes.
pub struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Reader { data, pos: 0 }
    }
    pub fn is_empty(&self) -> bool {
        self.pos >= self.data.len()
    }
    pub fn u8(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }
    pub fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.u8(), self.u8()])
    }
    pub fn u32(&mut self) -> u32 {
        u32::from_be_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }
    pub fn bool(&mut self) -> bool {
        self.u8() & 1 != 0
    }
    /// Up to `n` bytes (fewer at the end).
    pub fn bytes(&mut self, n: usize) -> &'a [u8] {
        let start = self.pos.min(self.data.len());
        let end = (self.pos + n).min(self.data.len());
        self.pos += n;
        &self.data[start..end]
    }
    /// Everything left.
    pub fn rest(&mut self) -> &'a [u8] {
        let start = self.pos.min(self.data.len());
        self.pos = self.data.len();
        &self.data[start..]
    }
}

// ---------------------------------------------------------------- checksum

/// One's-complement sum of 16-bit big-endian words (RFC 1071), folded.
pub fn ones_sum(parts: &[&[u8]]) -> u16 {
    let mut acc: u64 = 0;
    let mut odd: Option<u8> = None;
    for p in parts {
        for &b in *p {
            match odd.take() {
                Some(hi) => acc += (u64::from(hi) << 8) | u64::from(b),
                None => odd = Some(b),
            }
        }
    }
    if let Some(hi) = odd {
        acc += u64::from(hi) << 8;
    }
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc as u16
}

pub fn checksum(parts: &[&[u8]]) -> u16 {
    !ones_sum(parts)
}

pub fn pseudo4(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, len: usize) -> Vec<u8> {
    let mut p = Vec::with_capacity(12);
    p.extend_from_slice(&src.octets());
    p.extend_from_slice(&dst.octets());
    p.extend_from_slice(&[0, proto]);
    p.extend_from_slice(&(len as u16).to_be_bytes());
    p
}

pub fn pseudo6(src: Ipv6Addr, dst: Ipv6Addr, proto: u8, len: usize) -> Vec<u8> {
    let mut p = Vec::with_capacity(40);
    p.extend_from_slice(&src.octets());
    p.extend_from_slice(&dst.octets());
    p.extend_from_slice(&(len as u32).to_be_bytes());
    p.extend_from_slice(&[0, 0, 0, proto]);
    p
}

fn a4(b: &[u8]) -> Ipv4Addr {
    Ipv4Addr::new(b[0], b[1], b[2], b[3])
}
fn a6(b: &[u8]) -> Ipv6Addr {
    let mut o = [0u8; 16];
    o.copy_from_slice(&b[..16]);
    Ipv6Addr::from(o)
}
pub fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

// ------------------------------------------------------------------ views

/// The transport part of an IP packet, as far as the oracles need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct L4<'a> {
    pub proto: u8,
    pub bytes: &'a [u8],
    /// First fragment (or not fragmented).
    pub first: bool,
    /// Fragmented at all.
    pub fragment: bool,
}

/// The upper layer of an IPv4 packet that passed [`check_v4`].
pub fn l4_of_v4(p: &[u8]) -> L4<'_> {
    let hl = usize::from(p[0] & 0xf) * 4;
    let ff = be16(p, 6);
    L4 {
        proto: p[9],
        bytes: &p[hl..],
        first: ff & 0x1fff == 0,
        fragment: ff & 0x3fff != 0,
    }
}

/// The upper layer of an IPv6 packet (extension headers walked), or `None`
/// when the chain does not parse.
pub fn l4_of_v6(p: &[u8]) -> Option<L4<'_>> {
    walk_v6(p).map(|(l4, _)| l4)
}

/// [`l4_of_v6`], and the Fragment Offset (in bytes) of the first Fragment
/// header, if the chain has one.
fn walk_v6(p: &[u8]) -> Option<(L4<'_>, Option<usize>)> {
    let mut next = p[6];
    let mut off = 40;
    let mut first = true;
    let mut fragment = false;
    let mut frag_offset = None;
    for _ in 0..16 {
        match next {
            0 | 43 | 60 => {
                let h = p.get(off..off + 2)?;
                next = h[0];
                off += (usize::from(h[1]) + 1) * 8;
            }
            FRAGMENT => {
                let h = p.get(off..off + 8)?;
                next = h[0];
                let fo = be16(h, 2);
                first = fo >> 3 == 0;
                fragment = fo & 0xfff9 != 0;
                frag_offset = frag_offset.or(Some(usize::from(fo & 0xfff8)));
                off += 8;
            }
            _ => {
                let l4 = L4 {
                    proto: next,
                    bytes: p.get(off..)?,
                    first,
                    fragment,
                };
                return Some((l4, frag_offset));
            }
        }
    }
    None
}

/// Whether the transport checksum of an unfragmented packet is right:
/// `None` when it cannot be told (fragment, short header, UDP without a
/// checksum, a protocol without one).
pub fn l4_checksum_valid(p: &[u8]) -> Option<bool> {
    let (l4, ph) = match p.first()? >> 4 {
        4 => {
            if p.len() < 20 || usize::from(p[0] & 0xf) < 5 || usize::from(p[0] & 0xf) * 4 > p.len() {
                return None;
            }
            let p = p.get(..usize::from(be16(p, 2)))?;
            if usize::from(p[0] & 0xf) * 4 > p.len() {
                return None;
            }
            let l4 = l4_of_v4(p);
            let ph = pseudo4(a4(&p[12..16]), a4(&p[16..20]), l4.proto, l4.bytes.len());
            (l4, ph)
        }
        6 => {
            if p.len() < 40 {
                return None;
            }
            let p = p.get(..40 + usize::from(be16(p, 4)))?;
            let l4 = l4_of_v6(p)?;
            let ph = pseudo6(a6(&p[8..24]), a6(&p[24..40]), l4.proto, l4.bytes.len());
            (l4, ph)
        }
        _ => return None,
    };
    if l4.fragment {
        return None;
    }
    let b = l4.bytes;
    let v6 = p[0] >> 4 == 6;
    match l4.proto {
        // ICMP of the other family has no checksum rule here.
        ICMP if v6 => None,
        ICMPV6 if !v6 => None,
        TCP if b.len() >= 20 => Some(ones_sum(&[&ph, b]) == 0xffff),
        UDP if b.len() >= 8 && be16(b, 6) != 0 => Some(ones_sum(&[&ph, b]) == 0xffff),
        ICMP if b.len() >= 8 => Some(ones_sum(&[b]) == 0xffff),
        ICMPV6 if b.len() >= 8 => Some(ones_sum(&[&ph, b]) == 0xffff),
        _ => None,
    }
}

/// Checks an emitted IPv4 packet: a well-formed header whose Total Length
/// is the packet's length, a right header checksum, a live TTL.
pub fn check_v4(p: &[u8]) {
    assert!(p.len() >= 20, "IPv4 packet of {} bytes", p.len());
    assert_eq!(p[0] >> 4, 4, "version");
    let hl = usize::from(p[0] & 0xf) * 4;
    assert!(hl >= 20 && hl <= p.len(), "IHL {hl}");
    assert_eq!(usize::from(be16(p, 2)), p.len(), "Total Length vs the bytes emitted");
    assert_eq!(ones_sum(&[&p[..hl]]), 0xffff, "IPv4 header checksum");
    assert!(p[8] >= 1, "emitted with TTL 0");
    assert!(
        fragment_end(p) <= 65_535,
        "emitted a fragment that ends past 65535 bytes"
    );
}

/// Where the datagram of a fragment ends: for IPv4 header, offset and
/// data (RFC 791: Total Length of the datagram <= 65 535); for IPv6 the
/// offset and data of the fragmentable part (RFC 8200 section 4.5).
pub fn fragment_end(p: &[u8]) -> usize {
    if p[0] >> 4 == 4 {
        let hl = usize::from(p[0] & 0xf) * 4;
        usize::from(be16(p, 6) & 0x1fff) * 8 + p.len() - hl + hl
    } else {
        match walk_v6(p) {
            Some((l4, Some(off))) => off + l4.bytes.len(),
            _ => 0,
        }
    }
}

/// A fragment the translator cut (not the last): its data is a multiple of
/// 8 bytes (RFC 791 section 3.2, RFC 8200 section 4.5). Fragments that come
/// in are translated as they are, odd lengths included.
pub fn check_cut_fragment(p: &[u8]) {
    let (data, mf) = if p[0] >> 4 == 4 {
        (p.len() - usize::from(p[0] & 0xf) * 4, be16(p, 6) & 0x2000 != 0)
    } else {
        let l4 = l4_of_v6(p).expect("a fragment cut by the translator has a Fragment header");
        (l4.bytes.len(), l4.fragment)
    };
    assert!(mf, "a fragment cut by the translator, not the last, without MF");
    assert_eq!(data % 8, 0, "a fragment cut by the translator is not a multiple of 8");
}

/// Checks an emitted IPv6 packet: Payload Length is the packet's length,
/// the extension chain parses, a live hop limit.
pub fn check_v6(p: &[u8]) {
    assert!(p.len() >= 40, "IPv6 packet of {} bytes", p.len());
    assert_eq!(p[0] >> 4, 6, "version");
    assert_eq!(
        usize::from(be16(p, 4)) + 40,
        p.len(),
        "Payload Length vs the bytes emitted"
    );
    assert!(p[7] >= 1, "emitted with hop limit 0");
    assert!(l4_of_v6(p).is_some(), "extension header chain of an emitted packet");
    assert!(
        fragment_end(p) <= 65_535,
        "emitted a fragment that ends past 65535 bytes"
    );
}

/// Whether an ICMP message (of `proto`) is an error message.
pub fn is_icmp_error(proto: u8, ty: u8) -> bool {
    match proto {
        ICMP => matches!(ty, 3 | 4 | 5 | 11 | 12),
        ICMPV6 => ty < 128,
        _ => false,
    }
}

/// Checks one emitted packet in the family it should have. ICMP errors
/// the translator writes or translates (`icmp_written`: an ICMP error
/// verdict, or a translated packet that was ICMP of the input's family) are
/// written from scratch, so their checksum must be right whatever came in.
/// (An IPv6 packet with Next Header 1, or an IPv4 one with protocol 58, is
/// copied as it is, RFC 7915 sections 4.1 and 5.1: no such promise.)
pub fn check_packet(p: &[u8], v6: bool) {
    check_packet_icmp(p, v6, true)
}

/// [`check_packet`], saying whether an ICMP error in it was written by the
/// translator.
pub fn check_packet_icmp(p: &[u8], v6: bool, icmp_written: bool) {
    if v6 {
        check_v6(p);
    } else {
        check_v4(p);
    }
    let Some(l4) = (if v6 { l4_of_v6(p) } else { Some(l4_of_v4(p)) }) else {
        return;
    };
    if icmp_written && l4.first && !l4.fragment && l4.bytes.len() >= 8 && is_icmp_error(l4.proto, l4.bytes[0]) {
        assert_eq!(l4_checksum_valid(p), Some(true), "checksum of an emitted ICMP error");
    }
}

/// Checks a verdict and what it wrote, for an `input`: the bytes are inside
/// `out`, every packet is well formed and of the right family, ICMP errors
/// go back in the sender's family within the RFC 4443 / RFC 1812 size caps,
/// and a single translated packet whose transport checksum was right still
/// has a right one.
pub fn check_verdict(input: &[u8], v: &Verdict, out: &[u8]) {
    match *v {
        Verdict::Translated(e) => {
            let total = e.total_len();
            assert!(total <= out.len(), "emitted {total} bytes into {}", out.len());
            assert!(e.count >= 1);
            let mut sum = 0;
            let mut n = 0;
            let from_v6 = input.first().is_some_and(|b| b >> 4 == 6);
            let native_icmp = if from_v6 {
                input.len() >= 40 && l4_of_v6(input).is_some_and(|l| l.proto == ICMPV6)
            } else {
                input.len() >= 20 && input[9] == ICMP
            };
            for (i, p) in e.packets(out).enumerate() {
                check_packet_icmp(p, e.direction.output_is_v6(), native_icmp);
                if i + 1 < usize::from(e.count) {
                    check_cut_fragment(p);
                }
                sum += p.len();
                n += 1;
            }
            assert_eq!(sum, total);
            assert_eq!(n, usize::from(e.count));
            match e.direction {
                Direction::SixToFour | Direction::SixToSix => assert!(from_v6, "{:?} from IPv4", e.direction),
                Direction::FourToSix => assert!(!from_v6, "4->6 from IPv6"),
            }
            if e.count == 1 && l4_checksum_valid(input) == Some(true) {
                assert_eq!(
                    l4_checksum_valid(&out[..total]),
                    Some(true),
                    "a packet with a right transport checksum was emitted with a wrong one"
                );
            }
        }
        Verdict::IcmpError { len, .. } => {
            let len = len as usize;
            assert!(len <= out.len());
            let v6 = input.first().is_some_and(|b| b >> 4 == 6);
            check_packet(&out[..len], v6);
            if v6 {
                assert!(len <= 1280, "ICMPv6 error of {len} bytes (RFC 4443 section 2.4 (c))");
            } else {
                assert!(len <= 576, "ICMPv4 error of {len} bytes (RFC 1812 section 4.3.2.3)");
            }
            let l4 = if v6 {
                l4_of_v6(&out[..len]).unwrap()
            } else {
                l4_of_v4(&out[..len])
            };
            let proto = if v6 { ICMPV6 } else { ICMP };
            assert_eq!(l4.proto, proto, "an ICMP error that is not ICMP");
            assert!(
                is_icmp_error(proto, l4.bytes[0]),
                "ICMP type {} is not an error",
                l4.bytes[0]
            );
        }
        Verdict::Dropped(_) | Verdict::NotOurs(_) | Verdict::Held(_) => {}
    }
}

/// Bugs found by fuzzing and reported, whose fix is pending: with
/// `NAT64_FUZZ_KNOWN_BUGS=1` in the environment the oracles let them pass,
/// so that a long run can look for others. Without it (smoke runs, CI, the
/// replay of `regressions/`) they fail. None is open: all eight bugs of
/// FUZZING.md are fixed. A new one gets a variant here, a check at the
/// oracle (`if known_bug(KnownBug::X, data) { return; }`) and an ignored
/// test in `nat64-core/tests/fuzz_regressions.rs`; the fix removes all three.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KnownBug {}

pub fn known_bug(bug: KnownBug, _input: &[u8]) -> bool {
    if std::env::var_os("NAT64_FUZZ_KNOWN_BUGS").is_none() {
        return false;
    }
    match bug {}
}

// ---------------------------------------------------------------- builders

/// An IPv6 packet: header (traffic class, hop limit) and `payload` after
/// a first Next Header of `next`.
pub fn v6_packet(src: Ipv6Addr, dst: Ipv6Addr, next: u8, hop: u8, tc: u8, payload: &[u8]) -> Vec<u8> {
    let mut p = Vec::with_capacity(40 + payload.len());
    let w0 = (6u32 << 28) | (u32::from(tc) << 20);
    p.extend_from_slice(&w0.to_be_bytes());
    p.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    p.push(next);
    p.push(hop);
    p.extend_from_slice(&src.octets());
    p.extend_from_slice(&dst.octets());
    p.extend_from_slice(payload);
    p
}

/// IPv4 header fields for [`v4_packet`].
#[derive(Debug, Clone, Copy)]
pub struct V4Fields {
    pub tos: u8,
    pub id: u16,
    pub df: bool,
    pub mf: bool,
    /// In 8-byte units.
    pub frag_off: u16,
    pub ttl: u8,
}

impl Default for V4Fields {
    fn default() -> Self {
        V4Fields {
            tos: 0,
            id: 0x1234,
            df: false,
            mf: false,
            frag_off: 0,
            ttl: 64,
        }
    }
}

/// An IPv4 packet with a 20-byte header and its checksum.
pub fn v4_packet(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, f: V4Fields, payload: &[u8]) -> Vec<u8> {
    let total = 20 + payload.len();
    let mut p = Vec::with_capacity(total);
    p.push(0x45);
    p.push(f.tos);
    p.extend_from_slice(&(total as u16).to_be_bytes());
    p.extend_from_slice(&f.id.to_be_bytes());
    let ff = (u16::from(f.df) << 14) | (u16::from(f.mf) << 13) | (f.frag_off & 0x1fff);
    p.extend_from_slice(&ff.to_be_bytes());
    p.push(f.ttl);
    p.push(proto);
    p.extend_from_slice(&[0, 0]);
    p.extend_from_slice(&src.octets());
    p.extend_from_slice(&dst.octets());
    let c = checksum(&[&p[..20]]);
    p[10..12].copy_from_slice(&c.to_be_bytes());
    p.extend_from_slice(payload);
    p
}

/// A transport header and payload with its checksum left zero; see
/// [`fix_checksums`].
pub fn transport(proto: u8, sport: u16, dport: u16, flags: u8, payload: &[u8]) -> Vec<u8> {
    let mut t = Vec::new();
    match proto {
        TCP => {
            t.extend_from_slice(&sport.to_be_bytes());
            t.extend_from_slice(&dport.to_be_bytes());
            t.extend_from_slice(&0x1000_0000u32.to_be_bytes());
            t.extend_from_slice(&0x2000_0000u32.to_be_bytes());
            t.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
        }
        UDP => {
            t.extend_from_slice(&sport.to_be_bytes());
            t.extend_from_slice(&dport.to_be_bytes());
            t.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
            t.extend_from_slice(&[0, 0]);
        }
        // ICMP / ICMPv6 echo: `flags` is the type, `sport` the identifier.
        _ => {
            t.extend_from_slice(&[flags, 0, 0, 0]);
            t.extend_from_slice(&sport.to_be_bytes());
            t.extend_from_slice(&dport.to_be_bytes());
        }
    }
    t.extend_from_slice(payload);
    t
}

/// Recomputes the IPv4 header checksum (when `ip`) and the transport
/// checksum of an unfragmented or first-fragment packet (when `l4`, over the
/// bytes present), in place. Leaves anything it cannot parse alone.
pub fn fix_checksums(p: &mut [u8], ip: bool, l4: bool) {
    match p.first().map(|b| b >> 4) {
        Some(4) => {
            if p.len() < 20 {
                return;
            }
            let hl = usize::from(p[0] & 0xf) * 4;
            if hl < 20 || hl > p.len() {
                return;
            }
            let total = usize::from(be16(p, 2)).clamp(hl, p.len());
            if l4 && be16(p, 6) & 0x1fff == 0 {
                let (src, dst, proto) = (a4(&p[12..16]), a4(&p[16..20]), p[9]);
                let ph = pseudo4(src, dst, proto, total - hl);
                fix_l4(&mut p[hl..total], proto, &ph);
            }
            if ip {
                p[10] = 0;
                p[11] = 0;
                let c = checksum(&[&p[..hl]]);
                p[10..12].copy_from_slice(&c.to_be_bytes());
            }
        }
        Some(6) => {
            if !l4 || p.len() < 40 {
                return;
            }
            let end = (40 + usize::from(be16(p, 4))).min(p.len());
            let (src, dst) = (a6(&p[8..24]), a6(&p[24..40]));
            let Some(l) = l4_of_v6(&p[..end]) else { return };
            if !l.first {
                return;
            }
            let (proto, len) = (l.proto, l.bytes.len());
            let off = end - len;
            let ph = pseudo6(src, dst, proto, len);
            fix_l4(&mut p[off..end], proto, &ph);
        }
        _ => {}
    }
}

fn fix_l4(b: &mut [u8], proto: u8, ph: &[u8]) {
    let at = match proto {
        TCP if b.len() >= 18 => 16,
        UDP if b.len() >= 8 => 6,
        ICMP | ICMPV6 if b.len() >= 4 => 2,
        _ => return,
    };
    b[at] = 0;
    b[at + 1] = 0;
    let mut c = if proto == ICMP {
        checksum(&[b])
    } else {
        checksum(&[ph, b])
    };
    if proto == UDP && c == 0 {
        c = 0xffff;
    }
    b[at..at + 2].copy_from_slice(&c.to_be_bytes());
}

/// RFC 6052 section 2.2, restated: the IPv4 address after `len` bits of
/// `prefix`, skipping the u-octet (bits 64-71).
pub fn embed(prefix: Ipv6Addr, len: u8, a: Ipv4Addr) -> Ipv6Addr {
    let mut o = prefix.octets();
    for b in &mut o[usize::from(len / 8)..] {
        *b = 0;
    }
    let mut pos = usize::from(len / 8);
    for byte in a.octets() {
        if pos == 8 {
            pos += 1;
        }
        o[pos] = byte;
        pos += 1;
    }
    Ipv6Addr::from(o)
}

// ------------------------------------------------------------ stateful ops

/// The operations of the `stateful` target, one byte of opcode each (the
/// opcode is taken modulo the number of operations), then its operands.
pub mod ops {
    /// IPv6 client -> IPv4 remote: client, sport, remote, dport, proto,
    /// flags, payload length, fragment byte.
    pub const SEND6: u8 = 0;
    /// IPv4 remote -> pool4: remote, sport, pool4 address, dport (or an
    /// existing binding), proto, flags, payload length, fragment byte.
    pub const SEND4: u8 = 1;
    /// Raw bytes: length, then the packet (checksums fixed or not).
    pub const RAW: u8 = 2;
    /// An ICMP error about a session, from either side.
    pub const ERROR: u8 = 3;
    /// Clock step: 16-bit amount and a scale.
    pub const STEP: u8 = 4;
    /// poll() until it has nothing.
    pub const POLL: u8 = 5;
    /// A burst of new IPv6 flows from one client.
    pub const FLOOD: u8 = 6;
    /// Number of operations.
    pub const COUNT: u8 = 7;
}

// ----------------------------------------------------------------- configs

pub fn v4(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}
pub fn v6(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

/// The stateless configurations the packet targets run against: each input
/// picks one (or all) with its first byte.
///
/// 0. pool6 64:ff9b::/96 (RFC 6052 section 3.1 check on), two EAMT entries,
///    intrinsic hairpinning, RFC 6791 pools, a denylist, own addresses.
/// 1. pool6 2001:db8:100::/40, mtu4 576 (IPv4 fragmentation), UDP checksum
///    zero amended, simple hairpinning, zeroized traffic class, overridden
///    TOS, no own IPv6 address.
/// 2. EAMT only (no pool6), no hairpinning, lowest-ipv6-mtu 1400, IPv6 MTU
///    1500 and IPv4 MTU 1400.
pub fn siit_configs() -> Vec<nat64_core::Config> {
    use nat64_core::{Config, Eamt, HairpinMode, Ipv4IdPolicy};
    let mut eamt = Eamt::new();
    eamt.add(
        "192.0.2.0/24".parse().unwrap(),
        "2001:db8:1::/120".parse().unwrap(),
        false,
    )
    .unwrap();
    eamt.add(
        "198.51.100.8/29".parse().unwrap(),
        "2001:db8:2::8/125".parse().unwrap(),
        false,
    )
    .unwrap();
    let mut a = Config::with_pool6("64:ff9b::/96".parse().unwrap());
    a.eamt = eamt.clone();
    a.own_ipv4 = Some(v4("203.0.113.254"));
    a.own_ipv6 = Some(v6("2001:db8:ffff::1"));
    a.rfc6791v4_prefix = Some("203.0.113.0/28".parse().unwrap());
    a.rfc6791v6_prefix = Some("2001:db8:ffff::/124".parse().unwrap());
    a.denylist4 = vec!["10.0.0.0/8".parse().unwrap()];
    a.ipv4_id = Ipv4IdPolicy::Fixed(0);

    let mut b = Config::with_pool6("2001:db8:100::/40".parse().unwrap());
    b.eamt = eamt.clone();
    b.eam_hairpin_mode = HairpinMode::Simple;
    b.mtu4 = 576;
    b.mtu6 = 1280;
    b.amend_udp_checksum_zero = true;
    b.zeroize_traffic_class = true;
    b.override_tos = Some(0x28);
    b.own_ipv4 = Some(v4("203.0.113.254"));
    b.ipv4_id = Ipv4IdPolicy::Counter(7);

    let c = Config {
        eamt,
        eam_hairpin_mode: HairpinMode::Off,
        lowest_ipv6_mtu: 1400,
        mtu6: 1500,
        mtu4: 1400,
        own_ipv4: Some(v4("203.0.113.254")),
        own_ipv6: Some(v6("2001:db8:ffff::1")),
        ipv4_id: Ipv4IdPolicy::Fixed(0),
        ..Config::default()
    };
    vec![a, b, c]
}

/// Addresses the structured targets pick from (index modulo the length):
/// IPv6 addresses every configuration above maps (pool6 embeddings under
/// both prefixes, EAM addresses) and their IPv4 counterparts.
pub fn v6_hosts() -> [Ipv6Addr; 8] {
    [
        v6("64:ff9b::c633:6401"),    // 198.51.100.1 under the WKP
        v6("64:ff9b::808:808"),      // 8.8.8.8
        v6("2001:db8:1::5"),         // EAM 192.0.2.5
        v6("2001:db8:2::9"),         // EAM 198.51.100.9
        v6("2001:db8:1c6:3364:1::"), // 198.51.100.1 under /40
        v6("2001:db8:108:808::"),    // 8.8.8.8 under /40
        v6("64:ff9b::a00:1"),        // 10.0.0.1: denylisted / non-global
        v6("2001:db8:ffff::77"),     // nobody's
    ]
}

pub fn v4_hosts() -> [Ipv4Addr; 8] {
    [
        v4("198.51.100.1"),
        v4("8.8.8.8"),
        v4("192.0.2.5"),
        v4("198.51.100.9"),
        v4("203.0.113.9"),
        v4("10.1.2.3"),
        v4("224.0.0.1"),
        v4("255.255.255.255"),
    ]
}

/// The stateless packet targets: `data[0]` picks the configuration (bits
/// 0-1; 3 means all) and whether to fix the IPv4 header checksum (bit 2) and
/// the transport checksum (bit 3); the rest is the packet, whose version
/// nibble is forced to `version`.
pub fn run_stateless(xlats: &mut [nat64_core::Translator], out: &mut [u8], data: &[u8], version: u8) {
    let Some((&sel, pkt)) = data.split_first() else { return };
    let mut pkt = pkt.to_vec();
    if let Some(b) = pkt.first_mut() {
        *b = (*b & 0x0f) | (version << 4);
    }
    fix_checksums(&mut pkt, sel & 4 != 0, sel & 8 != 0);
    let which = usize::from(sel & 3);
    for (i, t) in xlats.iter_mut().enumerate() {
        if which != 3 && which != i {
            continue;
        }
        let v = t.translate(&pkt, out);
        check_verdict(&pkt, &v, out);
        // A second time: the same verdict (the translator keeps no state
        // but counters and the IPv4 identification).
        let again = t.translate(&pkt, out);
        assert_eq!(core::mem::discriminant(&v), core::mem::discriminant(&again));
    }
}

// --------------------------------------------------------------------- DNS

/// Checks a DNS message this crate wrote for a client: it parses, is a
/// response with the client's ID, repeats the question when it has one,
/// and is no longer than the buffer it was written into.
pub fn check_dns_response(msg: &[u8], id: u16, question: Option<(&[u8], u16, u16)>, truncated: Option<bool>) {
    use nat64_core::dns64::wire::{flags, Message};
    let m = Message::parse(msg).unwrap_or_else(|e| panic!("a response we wrote does not parse: {e}"));
    assert!(m.is_response(), "QR clear in a response");
    assert_eq!(m.id(), id, "response ID");
    if let Some((qname, qtype, qclass)) = question {
        assert!(
            m.question_is(qname, qtype, qclass),
            "the response repeats another question"
        );
    }
    if let Some(tc) = truncated {
        assert_eq!(m.flags() & flags::TC != 0, tc, "TC vs Written::truncated");
    }
}
