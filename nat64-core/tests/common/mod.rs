//! Packet builders, independent oracles and proptest strategies shared by the
//! integration tests of `nat64-core`.
//!
//! Everything here is written without the crate under test: the Internet
//! checksum, the RFC 6052 embedding and the packet layouts are restated from
//! the RFCs, and emitted packets are checked with `etherparse`, so a bug in
//! the core cannot hide behind the same bug in the test.
#![allow(dead_code)]

use std::net::{Ipv4Addr, Ipv6Addr};

use etherparse::{
    Icmpv4Slice, Icmpv6Slice, Ipv4HeaderSlice, Ipv6FragmentHeaderSlice, Ipv6HeaderSlice, LaxSlicedPacket, NetSlice,
    SlicedPacket, TcpSlice, TransportSlice, UdpSlice,
};
use nat64_core::{Emitted, Verdict};
use proptest::prelude::*;

// ------------------------------------------------------------------ numbers

/// IP protocol numbers.
pub const HOPOPT: u8 = 0;
pub const ICMP: u8 = 1;
pub const TCP: u8 = 6;
pub const UDP: u8 = 17;
pub const ROUTING: u8 = 43;
pub const FRAGMENT: u8 = 44;
pub const ICMPV6: u8 = 58;
pub const NO_NEXT: u8 = 59;
pub const DSTOPTS: u8 = 60;

/// Big enough for anything the translator may write.
pub const OUT_LEN: usize = 70_000;

pub fn v4(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}
pub fn v6(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}
pub fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}
pub fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

// ----------------------------------------------------------------- checksum

/// One's-complement sum of 16-bit big-endian words, byte by byte (RFC 1071),
/// with an odd final byte padded with zero. Deliberately naive.
pub fn ones_sum(data: &[u8]) -> u32 {
    let mut acc: u64 = 0;
    let mut i = 0;
    while i + 1 < data.len() {
        acc += (u64::from(data[i]) << 8) | u64::from(data[i + 1]);
        i += 2;
    }
    if i < data.len() {
        acc += u64::from(data[i]) << 8;
    }
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc as u32
}

/// The checksum over the concatenation of `parts` (each part is summed as
/// if it started on an even offset, which holds for every caller here).
pub fn inet_checksum(parts: &[&[u8]]) -> u16 {
    let mut all = Vec::new();
    for p in parts {
        all.extend_from_slice(p);
    }
    !(ones_sum(&all) as u16)
}

/// Whether data including its checksum field sums to 0xffff.
pub fn checksum_ok(parts: &[&[u8]]) -> bool {
    let mut all = Vec::new();
    for p in parts {
        all.extend_from_slice(p);
    }
    ones_sum(&all) == 0xffff
}

/// A pair of addresses for pseudo-headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ips {
    V4(Ipv4Addr, Ipv4Addr),
    V6(Ipv6Addr, Ipv6Addr),
}

impl Ips {
    /// RFC 768 / RFC 9293 / RFC 8200 section 8.1 pseudo-header.
    pub fn pseudo(&self, proto: u8, len: usize) -> Vec<u8> {
        let mut p = Vec::new();
        match *self {
            Ips::V4(s, d) => {
                p.extend_from_slice(&s.octets());
                p.extend_from_slice(&d.octets());
                p.extend_from_slice(&[0, proto]);
                p.extend_from_slice(&(len as u16).to_be_bytes());
            }
            Ips::V6(s, d) => {
                p.extend_from_slice(&s.octets());
                p.extend_from_slice(&d.octets());
                p.extend_from_slice(&(len as u32).to_be_bytes());
                p.extend_from_slice(&[0, 0, 0, proto]);
            }
        }
        p
    }
    pub fn reversed(&self) -> Ips {
        match *self {
            Ips::V4(s, d) => Ips::V4(d, s),
            Ips::V6(s, d) => Ips::V6(d, s),
        }
    }
}

/// Whether an upper-layer message (TCP, UDP, ICMPv6) has a valid checksum
/// under this pseudo-header.
pub fn l4_checksum_ok(ips: Ips, proto: u8, l4: &[u8]) -> bool {
    checksum_ok(&[&ips.pseudo(proto, l4.len()), l4])
}

// ------------------------------------------------------------------ RFC 6052

/// RFC 6052 section 2.2, restated: the 32 IPv4 bits follow the prefix and
/// skip octet 8 (the u-octet); the rest is zero.
pub fn embed(prefix: Ipv6Addr, len: u8, a: Ipv4Addr) -> Ipv6Addr {
    assert!(matches!(len, 32 | 40 | 48 | 56 | 64 | 96));
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

/// The pool6 prefixes exercised by the property tests (RFC 6052 section 2.4
/// style, all with a zero u-octet).
pub const POOLS: [(&str, u8); 6] = [
    ("2001:db8:64::", 96),
    ("2001:db8::", 32),
    ("2001:db8:100::", 40),
    ("2001:db8:122::", 48),
    ("2001:db8:122:300::", 56),
    ("2001:db8:122:344::", 64),
];

#[derive(Debug, Clone, Copy)]
pub struct Pool {
    pub addr: Ipv6Addr,
    pub len: u8,
}
impl Pool {
    pub fn new(s: &str, len: u8) -> Pool {
        Pool { addr: v6(s), len }
    }
    pub fn text(&self) -> String {
        format!("{}/{}", self.addr, self.len)
    }
    pub fn embed(&self, a: Ipv4Addr) -> Ipv6Addr {
        embed(self.addr, self.len, a)
    }
}

// ---------------------------------------------------------- upper layers

/// A 20-byte TCP header (ACK|PSH) and payload with a correct checksum.
pub fn tcp(ips: Ips, sport: u16, dport: u16, seq: u32, payload: &[u8]) -> Vec<u8> {
    let mut t = Vec::with_capacity(20 + payload.len());
    t.extend_from_slice(&sport.to_be_bytes());
    t.extend_from_slice(&dport.to_be_bytes());
    t.extend_from_slice(&seq.to_be_bytes());
    t.extend_from_slice(&0x0102_0304u32.to_be_bytes());
    t.extend_from_slice(&[0x50, 0x18]);
    t.extend_from_slice(&0xffffu16.to_be_bytes());
    t.extend_from_slice(&[0, 0, 0, 0]);
    t.extend_from_slice(payload);
    let c = inet_checksum(&[&ips.pseudo(TCP, t.len()), &t]);
    t[16..18].copy_from_slice(&c.to_be_bytes());
    t
}

/// A UDP datagram with a correct checksum (0 is sent as 0xffff).
pub fn udp(ips: Ips, sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut u = udp_no_checksum(sport, dport, payload);
    let mut c = inet_checksum(&[&ips.pseudo(UDP, u.len()), &u]);
    if c == 0 {
        c = 0xffff;
    }
    u[6..8].copy_from_slice(&c.to_be_bytes());
    u
}

/// A UDP datagram with checksum 0 (legal in IPv4 only).
pub fn udp_no_checksum(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut u = Vec::with_capacity(8 + payload.len());
    u.extend_from_slice(&sport.to_be_bytes());
    u.extend_from_slice(&dport.to_be_bytes());
    u.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    u.extend_from_slice(&[0, 0]);
    u.extend_from_slice(payload);
    u
}

/// An ICMPv4 message (no pseudo-header).
pub fn icmp4(ty: u8, code: u8, rest: [u8; 4], body: &[u8]) -> Vec<u8> {
    let mut m = vec![ty, code, 0, 0];
    m.extend_from_slice(&rest);
    m.extend_from_slice(body);
    let c = inet_checksum(&[&m]);
    m[2..4].copy_from_slice(&c.to_be_bytes());
    m
}

pub fn icmp4_echo(request: bool, id: u16, seq: u16, payload: &[u8]) -> Vec<u8> {
    let [a, b] = id.to_be_bytes();
    let [c, d] = seq.to_be_bytes();
    icmp4(if request { 8 } else { 0 }, 0, [a, b, c, d], payload)
}

/// An ICMPv6 message with its pseudo-header checksum.
pub fn icmp6(src: Ipv6Addr, dst: Ipv6Addr, ty: u8, code: u8, rest: [u8; 4], body: &[u8]) -> Vec<u8> {
    let mut m = vec![ty, code, 0, 0];
    m.extend_from_slice(&rest);
    m.extend_from_slice(body);
    let c = inet_checksum(&[&Ips::V6(src, dst).pseudo(ICMPV6, m.len()), &m]);
    m[2..4].copy_from_slice(&c.to_be_bytes());
    m
}

pub fn icmp6_echo(src: Ipv6Addr, dst: Ipv6Addr, request: bool, id: u16, seq: u16, payload: &[u8]) -> Vec<u8> {
    let [a, b] = id.to_be_bytes();
    let [c, d] = seq.to_be_bytes();
    icmp6(src, dst, if request { 128 } else { 129 }, 0, [a, b, c, d], payload)
}

// --------------------------------------------------------------- IP headers

/// IPv4 header fields; `build` writes the header and its checksum.
#[derive(Debug, Clone)]
pub struct V4 {
    pub tos: u8,
    pub id: u16,
    pub df: bool,
    pub mf: bool,
    /// In 8-byte units.
    pub frag_off: u16,
    pub ttl: u8,
    pub proto: u8,
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    /// Options, padded by `build` to a multiple of 4 with EOL.
    pub options: Vec<u8>,
}

impl V4 {
    pub fn new(src: Ipv4Addr, dst: Ipv4Addr, proto: u8) -> V4 {
        V4 {
            tos: 0,
            id: 0x1234,
            df: false,
            mf: false,
            frag_off: 0,
            ttl: 64,
            proto,
            src,
            dst,
            options: Vec::new(),
        }
    }
    pub fn build(&self, payload: &[u8]) -> Vec<u8> {
        let mut opts = self.options.clone();
        while opts.len() % 4 != 0 {
            opts.push(0);
        }
        let hlen = 20 + opts.len();
        let total = hlen + payload.len();
        let mut p = Vec::with_capacity(total);
        p.push(0x40 | (hlen / 4) as u8);
        p.push(self.tos);
        p.extend_from_slice(&(total as u16).to_be_bytes());
        p.extend_from_slice(&self.id.to_be_bytes());
        let ff = (u16::from(self.df) << 14) | (u16::from(self.mf) << 13) | (self.frag_off & 0x1fff);
        p.extend_from_slice(&ff.to_be_bytes());
        p.push(self.ttl);
        p.push(self.proto);
        p.extend_from_slice(&[0, 0]);
        p.extend_from_slice(&self.src.octets());
        p.extend_from_slice(&self.dst.octets());
        p.extend_from_slice(&opts);
        let c = inet_checksum(&[&p[..hlen]]);
        p[10..12].copy_from_slice(&c.to_be_bytes());
        p.extend_from_slice(payload);
        p
    }
}

/// Recomputes the IPv4 header checksum in place (after a test edits it).
pub fn fix_v4_checksum(p: &mut [u8]) {
    let hlen = usize::from(p[0] & 0xf) * 4;
    p[10] = 0;
    p[11] = 0;
    let c = inet_checksum(&[&p[..hlen]]);
    p[10..12].copy_from_slice(&c.to_be_bytes());
}

/// IPv6 header fields.
#[derive(Debug, Clone)]
pub struct V6 {
    pub tc: u8,
    pub flow: u32,
    pub hop: u8,
    pub src: Ipv6Addr,
    pub dst: Ipv6Addr,
}

/// An IPv6 extension header to put before the upper layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ext {
    /// Hop-by-Hop Options padded with PadN to `(units + 1) * 8` bytes.
    HopByHop(u8),
    /// Destination Options, likewise.
    DstOpts(u8),
    /// A Routing header (type 253, experimental) with this Segments Left.
    Routing(u8),
    /// A Fragment header.
    Fragment { offset: u16, mf: bool, id: u32 },
}

impl Ext {
    pub fn proto(&self) -> u8 {
        match self {
            Ext::HopByHop(_) => HOPOPT,
            Ext::DstOpts(_) => DSTOPTS,
            Ext::Routing(_) => ROUTING,
            Ext::Fragment { .. } => FRAGMENT,
        }
    }
    fn bytes(&self, next: u8) -> Vec<u8> {
        match *self {
            Ext::HopByHop(n) | Ext::DstOpts(n) => {
                let len = (usize::from(n) + 1) * 8;
                let mut b = vec![0u8; len];
                b[0] = next;
                b[1] = n;
                b[2] = 1; // PadN
                b[3] = (len - 4) as u8;
                b
            }
            Ext::Routing(sl) => vec![next, 0, 253, sl, 0, 0, 0, 0],
            Ext::Fragment { offset, mf, id } => {
                let mut b = vec![next, 0];
                b.extend_from_slice(&((offset << 3) | u16::from(mf)).to_be_bytes());
                b.extend_from_slice(&id.to_be_bytes());
                b
            }
        }
    }
}

impl V6 {
    pub fn new(src: Ipv6Addr, dst: Ipv6Addr) -> V6 {
        V6 {
            tc: 0,
            flow: 0,
            hop: 64,
            src,
            dst,
        }
    }
    /// The packet with `exts` between the header and an upper layer of
    /// protocol `proto`.
    pub fn build_ext(&self, exts: &[Ext], proto: u8, l4: &[u8]) -> Vec<u8> {
        let mut chain = Vec::new();
        for (i, e) in exts.iter().enumerate() {
            let next = exts.get(i + 1).map_or(proto, Ext::proto);
            chain.extend_from_slice(&e.bytes(next));
        }
        let first = exts.first().map_or(proto, Ext::proto);
        let plen = chain.len() + l4.len();
        let mut p = Vec::with_capacity(40 + plen);
        let w0 = (6u32 << 28) | (u32::from(self.tc) << 20) | (self.flow & 0xf_ffff);
        p.extend_from_slice(&w0.to_be_bytes());
        p.extend_from_slice(&(plen as u16).to_be_bytes());
        p.push(first);
        p.push(self.hop);
        p.extend_from_slice(&self.src.octets());
        p.extend_from_slice(&self.dst.octets());
        p.extend_from_slice(&chain);
        p.extend_from_slice(l4);
        p
    }
    pub fn build(&self, proto: u8, l4: &[u8]) -> Vec<u8> {
        self.build_ext(&[], proto, l4)
    }
}

// ------------------------------------------------------------------ oracles

/// What the oracle read from an emitted IPv4 packet.
#[derive(Debug, Clone)]
pub struct Seen4 {
    pub tos: u8,
    pub id: u16,
    pub df: bool,
    pub mf: bool,
    pub frag_off: u16,
    pub ttl: u8,
    pub proto: u8,
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub payload: Vec<u8>,
}

/// What the oracle read from an emitted IPv6 packet.
#[derive(Debug, Clone)]
pub struct Seen6 {
    pub tc: u8,
    pub flow: u32,
    pub hop: u8,
    pub src: Ipv6Addr,
    pub dst: Ipv6Addr,
    /// The Fragment header: (offset in 8-byte units, M, identification).
    pub frag: Option<(u16, bool, u32)>,
    /// The upper-layer protocol (after any Fragment header).
    pub proto: u8,
    /// Bytes after the IPv6 header and Fragment header.
    pub payload: Vec<u8>,
}

/// Parses an emitted IPv4 packet with etherparse and checks everything that
/// must hold for any packet: version, IHL 5, Total Length equal to the bytes
/// emitted, a correct header checksum (etherparse's computation and ours)
/// and, for an unfragmented TCP/UDP/ICMP packet, a correct transport
/// checksum (etherparse's computation where it offers one, and ours).
pub fn check_v4(p: &[u8]) -> Seen4 {
    let h = Ipv4HeaderSlice::from_slice(p).unwrap_or_else(|e| panic!("IPv4 header does not parse: {e:?}\n{p:02x?}"));
    assert_eq!(h.ihl(), 5, "the translator never emits IPv4 options");
    assert_eq!(usize::from(h.total_len()), p.len(), "Total Length vs bytes emitted");
    assert_eq!(
        h.header_checksum(),
        h.to_header().calc_header_checksum(),
        "IPv4 header checksum (etherparse)"
    );
    assert!(checksum_ok(&[&p[..20]]), "IPv4 header checksum (own)");
    let sliced =
        SlicedPacket::from_ip(p).unwrap_or_else(|e| panic!("etherparse rejects the IPv4 packet: {e:?}\n{p:02x?}"));
    let Some(NetSlice::Ipv4(ip)) = &sliced.net else {
        panic!("not IPv4")
    };
    assert_eq!(ip.payload().payload, &p[20..]);
    let src = h.source_addr();
    let dst = h.destination_addr();
    let seen = Seen4 {
        tos: p[1],
        id: h.identification(),
        df: h.dont_fragment(),
        mf: h.more_fragments(),
        frag_off: h.fragments_offset().value(),
        ttl: h.ttl(),
        proto: p[9],
        src,
        dst,
        payload: p[20..].to_vec(),
    };
    if !h.is_fragmenting_payload() {
        check_transport_v4(&sliced, src, dst, &p[20..]);
    }
    seen
}

/// A one's complement checksum compared as a value: 0x0000 and 0xffff are
/// both zero (RFC 1624 section 3), and the translator writes 0xffff for an
/// incremental result of zero where etherparse computes 0x0000 from
/// scratch. Receivers accept either; the "own" checks verify the sum.
fn csum_value(c: u16) -> u16 {
    if c == 0 {
        0xffff
    } else {
        c
    }
}

fn check_transport_v4(sliced: &SlicedPacket, src: Ipv4Addr, dst: Ipv4Addr, l4: &[u8]) {
    match &sliced.transport {
        Some(TransportSlice::Tcp(t)) => {
            assert_eq!(
                csum_value(t.calc_checksum_ipv4(src.octets(), dst.octets()).unwrap()),
                csum_value(t.checksum()),
                "TCP checksum (etherparse)"
            );
            assert!(l4_checksum_ok(Ips::V4(src, dst), TCP, l4), "TCP checksum (own)");
        }
        // IPv4 UDP checksum 0 means "none".
        Some(TransportSlice::Udp(u)) if u.checksum() != 0 => {
            let c = u
                .to_header()
                .calc_checksum_ipv4_raw(src.octets(), dst.octets(), u.payload())
                .unwrap();
            assert_eq!(c, u.checksum(), "UDP checksum (etherparse)");
            assert!(l4_checksum_ok(Ips::V4(src, dst), UDP, l4), "UDP checksum (own)");
        }
        Some(TransportSlice::Udp(_)) => {}
        Some(TransportSlice::Icmpv4(i)) => {
            if matches!(i.type_u8(), 0 | 8) {
                assert_eq!(
                    csum_value(i.icmp_type().calc_checksum(i.payload())),
                    csum_value(i.checksum()),
                    "ICMP echo checksum (etherparse)"
                );
            }
            assert!(checksum_ok(&[l4]), "ICMP checksum (own)");
        }
        Some(TransportSlice::Icmpv6(_)) => panic!("ICMPv6 inside IPv4"),
        None => {}
    }
}

/// Parses an emitted IPv6 packet with etherparse and checks: version,
/// Payload Length equal to the bytes emitted, at most a Fragment header as
/// extension, flow label 0 (RFC 7915 section 4.1), and for an unfragmented
/// (or reassembled by the caller) packet the transport checksum.
pub fn check_v6(p: &[u8]) -> Seen6 {
    let h = Ipv6HeaderSlice::from_slice(p).unwrap_or_else(|e| panic!("IPv6 header does not parse: {e:?}\n{p:02x?}"));
    assert_eq!(
        usize::from(h.payload_length()) + 40,
        p.len(),
        "Payload Length vs bytes emitted"
    );
    let sliced =
        SlicedPacket::from_ip(p).unwrap_or_else(|e| panic!("etherparse rejects the IPv6 packet: {e:?}\n{p:02x?}"));
    let Some(NetSlice::Ipv6(ip)) = &sliced.net else {
        panic!("not IPv6")
    };
    let src = h.source_addr();
    let dst = h.destination_addr();
    // The Fragment header is read by hand: etherparse 0.16 decodes its
    // offset and M flag from the wrong bits (JulianSchmid/etherparse#150,
    // fixed in 0.20), so only its length and identification are usable.
    let (frag, proto, l4) = if h.next_header().0 == FRAGMENT {
        let f = Ipv6FragmentHeaderSlice::from_slice(&p[40..]).expect("fragment header");
        assert_eq!(p[41], 0, "reserved byte");
        assert_eq!(p[43] & 0b110, 0, "reserved bits");
        (
            Some((be16(p, 42) >> 3, p[43] & 1 == 1, f.identification())),
            p[40],
            &p[48..],
        )
    } else {
        (None, h.next_header().0, &p[40..])
    };
    assert_eq!(
        ip.payload().payload,
        l4,
        "etherparse and us disagree on where the payload starts"
    );
    let seen = Seen6 {
        tc: h.traffic_class(),
        flow: h.flow_label().value(),
        hop: h.hop_limit(),
        src,
        dst,
        frag,
        proto,
        payload: l4.to_vec(),
    };
    // etherparse's own fragmentation test is unusable (see above): decide
    // from the RFC 8200 bits.
    if frag.is_none_or(|(off, mf, _)| off == 0 && !mf) {
        check_transport_v6(&sliced, src, dst, proto, l4);
    }
    seen
}

fn check_transport_v6(sliced: &SlicedPacket, src: Ipv6Addr, dst: Ipv6Addr, proto: u8, l4: &[u8]) {
    match &sliced.transport {
        Some(TransportSlice::Tcp(t)) => {
            assert_eq!(
                csum_value(t.calc_checksum_ipv6(src.octets(), dst.octets()).unwrap()),
                csum_value(t.checksum()),
                "TCP checksum (etherparse)"
            );
        }
        Some(TransportSlice::Udp(u)) => {
            assert_ne!(u.checksum(), 0, "IPv6 UDP needs a checksum");
            let c = u
                .to_header()
                .calc_checksum_ipv6_raw(src.octets(), dst.octets(), u.payload())
                .unwrap();
            assert_eq!(c, u.checksum(), "UDP checksum (etherparse)");
        }
        Some(TransportSlice::Icmpv6(i)) => {
            assert!(
                i.is_checksum_valid(src.octets(), dst.octets()),
                "ICMPv6 checksum (etherparse)"
            );
        }
        Some(TransportSlice::Icmpv4(_)) => panic!("ICMPv4 inside IPv6"),
        None => return,
    }
    assert!(l4_checksum_ok(Ips::V6(src, dst), proto, l4), "transport checksum (own)");
}

/// Upper-layer checksum check of a reassembled payload, with etherparse.
pub fn check_reassembled_v6(src: Ipv6Addr, dst: Ipv6Addr, proto: u8, l4: &[u8]) {
    match proto {
        TCP => {
            let t = TcpSlice::from_slice(l4).unwrap();
            assert_eq!(t.calc_checksum_ipv6(src.octets(), dst.octets()).unwrap(), t.checksum());
        }
        UDP => {
            let u = UdpSlice::from_slice(l4).unwrap();
            let c = u
                .to_header()
                .calc_checksum_ipv6_raw(src.octets(), dst.octets(), u.payload())
                .unwrap();
            assert_eq!(c, u.checksum());
        }
        ICMPV6 => {
            let i = Icmpv6Slice::from_slice(l4).unwrap();
            assert!(i.is_checksum_valid(src.octets(), dst.octets()));
        }
        _ => {}
    }
    assert!(l4_checksum_ok(Ips::V6(src, dst), proto, l4));
}

pub fn check_reassembled_v4(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, l4: &[u8]) {
    match proto {
        TCP => {
            let t = TcpSlice::from_slice(l4).unwrap();
            assert_eq!(t.calc_checksum_ipv4(src.octets(), dst.octets()).unwrap(), t.checksum());
            assert!(l4_checksum_ok(Ips::V4(src, dst), proto, l4));
        }
        UDP => {
            let u = UdpSlice::from_slice(l4).unwrap();
            let c = u
                .to_header()
                .calc_checksum_ipv4_raw(src.octets(), dst.octets(), u.payload())
                .unwrap();
            assert_eq!(c, u.checksum());
            assert!(l4_checksum_ok(Ips::V4(src, dst), proto, l4));
        }
        ICMP => {
            let _ = Icmpv4Slice::from_slice(l4).unwrap();
            assert!(checksum_ok(&[l4]));
        }
        _ => {}
    }
}

/// Reassembles IPv6 fragments (each already checked with [`check_v6`]):
/// they must share addresses, identification and upper protocol, cover the
/// payload without holes, and only the last may have M clear.
pub fn reassemble_v6(frags: &[Seen6]) -> Vec<u8> {
    let mut parts: Vec<&Seen6> = frags.iter().collect();
    parts.sort_by_key(|f| f.frag.unwrap().0);
    let (_, _, id) = parts[0].frag.unwrap();
    let mut data = Vec::new();
    for (i, f) in parts.iter().enumerate() {
        let (off, mf, fid) = f.frag.expect("every piece carries a Fragment header");
        assert_eq!(fid, id);
        assert_eq!((f.src, f.dst, f.proto), (parts[0].src, parts[0].dst, parts[0].proto));
        assert_eq!(usize::from(off) * 8, data.len(), "hole or overlap");
        assert_eq!(mf, i + 1 != parts.len(), "M flag");
        if mf {
            assert_eq!(f.payload.len() % 8, 0, "non-final fragment not a multiple of 8");
        }
        data.extend_from_slice(&f.payload);
    }
    data
}

/// Reassembles IPv4 fragments likewise (offsets relative to the first).
pub fn reassemble_v4(frags: &[Seen4]) -> Vec<u8> {
    let mut parts: Vec<&Seen4> = frags.iter().collect();
    parts.sort_by_key(|f| f.frag_off);
    let mut data = Vec::new();
    for (i, f) in parts.iter().enumerate() {
        assert_eq!(f.id, parts[0].id);
        assert_eq!((f.src, f.dst, f.proto), (parts[0].src, parts[0].dst, parts[0].proto));
        assert_eq!(usize::from(f.frag_off) * 8, data.len(), "hole or overlap");
        assert_eq!(f.mf, i + 1 != parts.len(), "MF flag");
        data.extend_from_slice(&f.payload);
    }
    data
}

/// The packets a verdict emitted.
pub fn emitted<'a>(e: &Emitted, out: &'a [u8]) -> Vec<&'a [u8]> {
    let v: Vec<&[u8]> = e.packets(out).collect();
    assert_eq!(v.len(), usize::from(e.count));
    assert_eq!(v.iter().map(|p| p.len()).sum::<usize>(), e.total_len());
    v
}

/// Unwraps a single translated packet.
pub fn single(v: Verdict, out: &[u8]) -> Vec<u8> {
    match v {
        Verdict::Translated(e) => {
            assert_eq!(e.count, 1, "expected one packet: {e:?}");
            out[..e.total_len()].to_vec()
        }
        other => panic!("expected a translation, got {other:?}"),
    }
}

/// Light structural check for whatever the translator emits on arbitrary
/// input: the IP header parses strictly with the right lengths and (IPv4)
/// header checksum, and etherparse's lax slicer accepts the packet.
pub fn check_any_output(p: &[u8], want_v6: bool) {
    if want_v6 {
        let h = Ipv6HeaderSlice::from_slice(p).unwrap_or_else(|e| panic!("IPv6 header: {e:?}\n{p:02x?}"));
        assert_eq!(
            usize::from(h.payload_length()) + 40,
            p.len(),
            "Payload Length\n{p:02x?}"
        );
    } else {
        let h = Ipv4HeaderSlice::from_slice(p).unwrap_or_else(|e| panic!("IPv4 header: {e:?}\n{p:02x?}"));
        assert_eq!(usize::from(h.total_len()), p.len(), "Total Length\n{p:02x?}");
        assert!(checksum_ok(&[&p[..h.slice().len()]]), "IPv4 header checksum\n{p:02x?}");
    }
    LaxSlicedPacket::from_ip(p).unwrap_or_else(|e| panic!("etherparse (lax) rejects the output: {e:?}\n{p:02x?}"));
}

// --------------------------------------------------------------- strategies

/// An IPv4 address the translator will map with pool6: not in 0/8, 127/8,
/// 169.254/16, 224/4 (which covers 240/4 and the broadcast address).
pub fn arb_mappable_v4() -> impl Strategy<Value = Ipv4Addr> {
    (1u8..=223, any::<[u8; 3]>())
        .prop_filter("implicit denylist", |(a, r)| *a != 127 && !(*a == 169 && r[0] == 254))
        .prop_map(|(a, r)| Ipv4Addr::new(a, r[0], r[1], r[2]))
}

/// One of the RFC 6052 prefix lengths.
pub fn arb_pool() -> impl Strategy<Value = Pool> {
    (0..POOLS.len()).prop_map(|i| Pool::new(POOLS[i].0, POOLS[i].1))
}

/// The transport of a generated packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum L4 {
    Tcp,
    Udp,
    /// ICMP echo request (true) or reply.
    Echo(bool),
}

pub fn arb_l4() -> impl Strategy<Value = L4> {
    prop_oneof![Just(L4::Tcp), Just(L4::Udp), any::<bool>().prop_map(L4::Echo)]
}

/// A random flow: everything a valid TCP/UDP/echo packet needs, in either
/// family. Addresses are IPv4; the IPv6 ones are their pool6 embedding.
#[derive(Debug, Clone)]
pub struct Flow {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub l4: L4,
    pub sport: u16,
    pub dport: u16,
    pub seq: u32,
    pub tos: u8,
    /// Hop limit / TTL, 2..=255.
    pub hop: u8,
    pub df: bool,
    pub id: u16,
    pub payload: Vec<u8>,
}

pub fn arb_flow(max_payload: usize) -> impl Strategy<Value = Flow> {
    (
        arb_mappable_v4(),
        arb_mappable_v4(),
        arb_l4(),
        any::<(u16, u16, u32)>(),
        any::<u8>(),
        2u8..=255,
        any::<(bool, u16)>(),
        proptest::collection::vec(any::<u8>(), 0..=max_payload),
    )
        .prop_map(
            |(src, dst, l4, (sport, dport, seq), tos, hop, (df, id), payload)| Flow {
                src,
                dst,
                l4,
                sport,
                dport,
                seq,
                tos,
                hop,
                df,
                id,
                payload,
            },
        )
}

impl Flow {
    pub fn proto4(&self) -> u8 {
        match self.l4 {
            L4::Tcp => TCP,
            L4::Udp => UDP,
            L4::Echo(_) => ICMP,
        }
    }
    pub fn proto6(&self) -> u8 {
        match self.l4 {
            L4::Echo(_) => ICMPV6,
            _ => self.proto4(),
        }
    }
    pub fn src6(&self, pool: Pool) -> Ipv6Addr {
        pool.embed(self.src)
    }
    pub fn dst6(&self, pool: Pool) -> Ipv6Addr {
        pool.embed(self.dst)
    }
    /// The upper layer as IPv4 would carry it.
    pub fn l4_v4(&self) -> Vec<u8> {
        let ips = Ips::V4(self.src, self.dst);
        match self.l4 {
            L4::Tcp => tcp(ips, self.sport, self.dport, self.seq, &self.payload),
            L4::Udp => udp(ips, self.sport, self.dport, &self.payload),
            L4::Echo(req) => icmp4_echo(req, self.sport, self.dport, &self.payload),
        }
    }
    /// The upper layer as IPv6 would carry it.
    pub fn l4_v6(&self, pool: Pool) -> Vec<u8> {
        let (s, d) = (self.src6(pool), self.dst6(pool));
        let ips = Ips::V6(s, d);
        match self.l4 {
            L4::Tcp => tcp(ips, self.sport, self.dport, self.seq, &self.payload),
            L4::Udp => udp(ips, self.sport, self.dport, &self.payload),
            L4::Echo(req) => icmp6_echo(s, d, req, self.sport, self.dport, &self.payload),
        }
    }
    pub fn v4_packet(&self) -> Vec<u8> {
        V4 {
            tos: self.tos,
            id: self.id,
            df: self.df,
            ttl: self.hop,
            ..V4::new(self.src, self.dst, self.proto4())
        }
        .build(&self.l4_v4())
    }
    pub fn v6_packet(&self, pool: Pool) -> Vec<u8> {
        V6 {
            tc: self.tos,
            flow: u32::from(self.id) * 7,
            hop: self.hop,
            ..V6::new(self.src6(pool), self.dst6(pool))
        }
        .build(self.proto6(), &self.l4_v6(pool))
    }
}

/// Checks that a translated upper layer carries the flow's ports/ids and
/// payload (the checksum is checked by the `check_*` oracles).
pub fn assert_same_l4(f: &Flow, l4: &[u8]) {
    match f.l4 {
        L4::Tcp => {
            assert_eq!((be16(l4, 0), be16(l4, 2), be32(l4, 4)), (f.sport, f.dport, f.seq));
            assert_eq!(&l4[20..], &f.payload[..]);
        }
        L4::Udp => {
            assert_eq!(
                (be16(l4, 0), be16(l4, 2), usize::from(be16(l4, 4))),
                (f.sport, f.dport, 8 + f.payload.len())
            );
            assert_eq!(&l4[8..], &f.payload[..]);
        }
        L4::Echo(_) => {
            assert_eq!((be16(l4, 4), be16(l4, 6)), (f.sport, f.dport));
            assert_eq!(&l4[8..], &f.payload[..]);
        }
    }
}
