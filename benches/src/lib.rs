//! Packet builders shared by the `nat64` benchmarks.
//!
//! Every builder returns a complete, valid packet (correct IPv4 header
//! checksum and transport checksum, including the ones of a packet quoted
//! inside an ICMP error) that the translator returned by [`translator`]
//! translates: the benchmarks must never measure a drop path. The test at the
//! bottom of this file checks that for every [`cases`] entry.
//!
//! Addressing (SIIT with pool6 `2001:db8:64::/96`, a network-specific prefix,
//! so the RFC 6052 section 3.1 check for non-global addresses does not apply):
//!
//! | node        | IPv4            | IPv6                       |
//! |-------------|-----------------|----------------------------|
//! | IPv6 host   | [`HOST6_V4`]    | [`HOST6`] `2001:db8:64::c000:201`  |
//! | IPv4 host   | [`HOST4`]       | [`HOST4_V6`] `2001:db8:64::c633:6407` |
//!
//! 6->4 packets go from [`HOST6`] to [`HOST4_V6`]; 4->6 packets are their
//! mirror image, from [`HOST4`] to [`HOST6_V4`].

use std::net::{Ipv4Addr, Ipv6Addr};

use nat64_core::{Config, Direction, Translator};

/// The pool6 prefix the benchmarks translate with.
pub const POOL6: &str = "2001:db8:64::/96";
/// The IPv6 host, `2001:db8:64::c000:201` (embeds 192.0.2.1).
pub const HOST6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0x64, 0, 0, 0, 0xc000, 0x0201);
/// The IPv6 host as IPv4 nodes see it.
pub const HOST6_V4: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
/// The IPv4 host.
pub const HOST4: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 7);
/// The IPv4 host as IPv6 nodes see it, `2001:db8:64::c633:6407`.
pub const HOST4_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0x64, 0, 0, 0, 0xc633, 0x6407);

/// Port of the IPv6 host.
pub const PORT6: u16 = 40_000;
/// Port of the IPv4 host.
pub const PORT4: u16 = 443;

/// Transport payload sizes benchmarked (bytes after the TCP/UDP/ICMP header).
pub const PAYLOAD_SIZES: [usize; 2] = [64, 1400];
/// Transport payload of the packet quoted inside the ICMP error benchmarks.
pub const ERROR_QUOTED_PAYLOAD: usize = 64;

/// Size of the output buffer the benchmarks translate into.
pub const OUT_LEN: usize = 70_000;

const TCP: u8 = 6;
const UDP: u8 = 17;
const ICMP: u8 = 1;
const ICMPV6: u8 = 58;

/// The benchmark configuration: pool6 [`POOL6`], everything else default
/// (mtu4 = mtu6 = 1500).
pub fn config() -> Config {
    Config::with_pool6(POOL6.parse().expect("valid pool6"))
}

/// A translator with [`config`].
pub fn translator() -> Translator {
    Translator::new(config()).expect("valid configuration")
}

/// An output buffer of [`OUT_LEN`] bytes.
pub fn output_buffer() -> Vec<u8> {
    vec![0; OUT_LEN]
}

/// `len` bytes of a deterministic, non-constant payload.
pub fn payload(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + 3) as u8).collect()
}

// ------------------------------------------------------------- checksums

/// The 32-bit one's complement sum of `data` as big-endian 16-bit words
/// (an odd last byte is padded with zero), not yet folded.
pub fn sum(data: &[u8]) -> u32 {
    let mut chunks = data.chunks_exact(2);
    let mut s: u64 = chunks
        .by_ref()
        .map(|c| u64::from(u16::from_be_bytes([c[0], c[1]])))
        .sum();
    if let [last] = chunks.remainder() {
        s += u64::from(*last) << 8;
    }
    fold(s)
}

fn fold(mut s: u64) -> u32 {
    while s > 0xffff {
        s = (s & 0xffff) + (s >> 16);
    }
    s as u32
}

/// Folds and complements a sum into the value to put in a checksum field.
pub fn finish(s: u32) -> u16 {
    !(fold(u64::from(s)) as u16)
}

/// Whether `s` (a sum over data including its checksum field) verifies.
fn verifies(s: u32) -> bool {
    fold(u64::from(s)) == 0xffff
}

/// Sum of the IPv4 pseudo-header.
pub fn pseudo_v4(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, len: usize) -> u32 {
    sum(&src.octets()) + sum(&dst.octets()) + u32::from(proto) + len as u32
}

/// Sum of the IPv6 pseudo-header.
pub fn pseudo_v6(src: Ipv6Addr, dst: Ipv6Addr, next: u8, len: usize) -> u32 {
    sum(&src.octets()) + sum(&dst.octets()) + u32::from(next) + len as u32
}

/// Offset of the checksum field in a transport header, if the protocol has
/// one the builders fill in.
fn checksum_offset(proto: u8) -> Option<usize> {
    match proto {
        TCP => Some(16),
        UDP => Some(6),
        ICMP | ICMPV6 => Some(2),
        _ => None,
    }
}

// ------------------------------------------------------ transport headers

/// A TCP segment (20-byte header, ACK|PSH) with a zero checksum; the IP
/// builders fill it in.
pub fn tcp_segment(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut s = Vec::with_capacity(20 + payload.len());
    s.extend_from_slice(&sport.to_be_bytes());
    s.extend_from_slice(&dport.to_be_bytes());
    s.extend_from_slice(&0x1234_5678u32.to_be_bytes()); // sequence
    s.extend_from_slice(&0x9abc_def0u32.to_be_bytes()); // acknowledgement
    s.extend_from_slice(&[5 << 4, 0x18]); // data offset 5, ACK|PSH
    s.extend_from_slice(&64_240u16.to_be_bytes()); // window
    s.extend_from_slice(&[0, 0, 0, 0]); // checksum, urgent pointer
    s.extend_from_slice(payload);
    s
}

/// A UDP datagram with a zero checksum; the IP builders fill it in.
pub fn udp_datagram(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut d = Vec::with_capacity(8 + payload.len());
    d.extend_from_slice(&sport.to_be_bytes());
    d.extend_from_slice(&dport.to_be_bytes());
    d.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    d.extend_from_slice(&[0, 0]);
    d.extend_from_slice(payload);
    d
}

/// An ICMP or ICMPv6 message: type, code, the 4 bytes after the checksum,
/// then `body`; zero checksum, the IP builders fill it in.
pub fn icmp_message(ty: u8, code: u8, rest: [u8; 4], body: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(8 + body.len());
    m.extend_from_slice(&[ty, code, 0, 0]);
    m.extend_from_slice(&rest);
    m.extend_from_slice(body);
    m
}

/// Echo identifier and sequence number of the echo builders.
const ECHO_REST: [u8; 4] = [0x42, 0x42, 0, 1];

// -------------------------------------------------------------- IP packets

/// An IPv6 packet (hop limit 64, no extension headers) around `l4`, whose
/// TCP/UDP/ICMPv6 checksum is computed here.
pub fn ipv6_packet(src: Ipv6Addr, dst: Ipv6Addr, next: u8, mut l4: Vec<u8>) -> Vec<u8> {
    if let Some(at) = checksum_offset(next) {
        l4[at..at + 2].fill(0);
        let c = finish(pseudo_v6(src, dst, next, l4.len()) + sum(&l4));
        l4[at..at + 2].copy_from_slice(&c.to_be_bytes());
    }
    let mut p = Vec::with_capacity(40 + l4.len());
    p.extend_from_slice(&[0x60, 0, 0, 0]);
    p.extend_from_slice(&(l4.len() as u16).to_be_bytes());
    p.extend_from_slice(&[next, 64]);
    p.extend_from_slice(&src.octets());
    p.extend_from_slice(&dst.octets());
    p.extend_from_slice(&l4);
    p
}

/// An IPv4 packet (TTL 64, no options, Identification `id`) around `l4`,
/// with its header checksum and its TCP/UDP/ICMP checksum computed here.
pub fn ipv4_packet(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, df: bool, id: u16, mut l4: Vec<u8>) -> Vec<u8> {
    if let Some(at) = checksum_offset(proto) {
        l4[at..at + 2].fill(0);
        let pseudo = if proto == ICMP {
            0
        } else {
            pseudo_v4(src, dst, proto, l4.len())
        };
        let c = finish(pseudo + sum(&l4));
        l4[at..at + 2].copy_from_slice(&c.to_be_bytes());
    }
    let mut p = Vec::with_capacity(20 + l4.len());
    p.extend_from_slice(&[0x45, 0]);
    p.extend_from_slice(&((20 + l4.len()) as u16).to_be_bytes());
    p.extend_from_slice(&id.to_be_bytes());
    p.extend_from_slice(&(if df { 0x4000u16 } else { 0 }).to_be_bytes());
    p.extend_from_slice(&[64, proto, 0, 0]);
    p.extend_from_slice(&src.octets());
    p.extend_from_slice(&dst.octets());
    let c = finish(sum(&p));
    p[10..12].copy_from_slice(&c.to_be_bytes());
    p.extend_from_slice(&l4);
    p
}

// ------------------------------------------------------- benchmark packets

/// IPv6 TCP, [`HOST6`]:[`PORT6`] -> [`HOST4_V6`]:[`PORT4`].
pub fn tcp_v6(payload_len: usize) -> Vec<u8> {
    ipv6_packet(HOST6, HOST4_V6, TCP, tcp_segment(PORT6, PORT4, &payload(payload_len)))
}

/// IPv6 UDP, [`HOST6`]:[`PORT6`] -> [`HOST4_V6`]:[`PORT4`].
pub fn udp_v6(payload_len: usize) -> Vec<u8> {
    ipv6_packet(HOST6, HOST4_V6, UDP, udp_datagram(PORT6, PORT4, &payload(payload_len)))
}

/// ICMPv6 Echo Request, [`HOST6`] -> [`HOST4_V6`], `payload_len` bytes of
/// data after the 8-byte header.
pub fn icmp_echo_v6(payload_len: usize) -> Vec<u8> {
    ipv6_packet(
        HOST6,
        HOST4_V6,
        ICMPV6,
        icmp_message(128, 0, ECHO_REST, &payload(payload_len)),
    )
}

/// IPv4 TCP, [`HOST4`]:[`PORT4`] -> [`HOST6_V4`]:[`PORT6`], DF set (so the
/// 1400-byte payload is not fragmented to `lowest_ipv6_mtu`).
pub fn tcp_v4(payload_len: usize) -> Vec<u8> {
    ipv4_packet(
        HOST4,
        HOST6_V4,
        TCP,
        true,
        0,
        tcp_segment(PORT4, PORT6, &payload(payload_len)),
    )
}

/// IPv4 UDP, [`HOST4`]:[`PORT4`] -> [`HOST6_V4`]:[`PORT6`], DF set.
pub fn udp_v4(payload_len: usize) -> Vec<u8> {
    ipv4_packet(
        HOST4,
        HOST6_V4,
        UDP,
        true,
        0,
        udp_datagram(PORT4, PORT6, &payload(payload_len)),
    )
}

/// ICMPv4 Echo Request, [`HOST4`] -> [`HOST6_V4`], DF set.
pub fn icmp_echo_v4(payload_len: usize) -> Vec<u8> {
    ipv4_packet(
        HOST4,
        HOST6_V4,
        ICMP,
        true,
        0,
        icmp_message(8, 0, ECHO_REST, &payload(payload_len)),
    )
}

/// ICMPv6 Destination Unreachable 1/4 (Port Unreachable) from [`HOST6`] to
/// [`HOST4_V6`], quoting in full the IPv6 UDP datagram [`HOST4_V6`]:[`PORT4`]
/// -> [`HOST6`]:[`PORT6`] with `quoted_payload` bytes of payload (what the
/// IPv6 host answers to a 4->6-translated datagram to a closed port).
/// Translates to ICMPv4 3/3.
pub fn icmp6_port_unreachable(quoted_payload: usize) -> Vec<u8> {
    let quoted = ipv6_packet(
        HOST4_V6,
        HOST6,
        UDP,
        udp_datagram(PORT4, PORT6, &payload(quoted_payload)),
    );
    ipv6_packet(HOST6, HOST4_V6, ICMPV6, icmp_message(1, 4, [0; 4], &quoted))
}

/// ICMPv4 Destination Unreachable 3/3 (Port Unreachable) from [`HOST4`] to
/// [`HOST6_V4`], quoting in full the IPv4 UDP datagram [`HOST6_V4`]:[`PORT6`]
/// -> [`HOST4`]:[`PORT4`] with `quoted_payload` bytes of payload (the mirror
/// image of [`icmp6_port_unreachable`]). Translates to ICMPv6 1/4.
pub fn icmp4_port_unreachable(quoted_payload: usize) -> Vec<u8> {
    let quoted = ipv4_packet(
        HOST6_V4,
        HOST4,
        UDP,
        true,
        0,
        udp_datagram(PORT6, PORT4, &payload(quoted_payload)),
    );
    ipv4_packet(
        HOST4,
        HOST6_V4,
        ICMP,
        false,
        0x2a2a,
        icmp_message(3, 3, [0; 4], &quoted),
    )
}

/// One benchmarked packet.
#[derive(Debug, Clone)]
pub struct Case {
    /// Benchmark group name, e.g. `tcp_6to4_64B`.
    pub name: String,
    /// The input packet.
    pub packet: Vec<u8>,
    /// The direction its translation must have.
    pub direction: Direction,
}

/// Every benchmarked packet: TCP, UDP and ICMP echo in both directions with
/// each of [`PAYLOAD_SIZES`], then the two ICMP errors.
pub fn cases() -> Vec<Case> {
    type Builder = fn(usize) -> Vec<u8>;
    let kinds: [(&str, Builder, Builder); 3] = [
        ("tcp", tcp_v6, tcp_v4),
        ("udp", udp_v6, udp_v4),
        ("icmp_echo", icmp_echo_v6, icmp_echo_v4),
    ];
    let mut cases = Vec::new();
    for size in PAYLOAD_SIZES {
        for (kind, v6, v4) in kinds {
            cases.push(Case {
                name: format!("{kind}_6to4_{size}B"),
                packet: v6(size),
                direction: Direction::SixToFour,
            });
            cases.push(Case {
                name: format!("{kind}_4to6_{size}B"),
                packet: v4(size),
                direction: Direction::FourToSix,
            });
        }
    }
    cases.push(Case {
        name: "icmp_error_6to4".into(),
        packet: icmp6_port_unreachable(ERROR_QUOTED_PAYLOAD),
        direction: Direction::SixToFour,
    });
    cases.push(Case {
        name: "icmp_error_4to6".into(),
        packet: icmp4_port_unreachable(ERROR_QUOTED_PAYLOAD),
        direction: Direction::FourToSix,
    });
    cases
}

// ------------------------------------------------------------ verification

/// Checks a complete IPv4 packet: header checksum, Total Length, and the
/// TCP/UDP/ICMP checksum. Returns its protocol and transport bytes.
pub fn check_ipv4(p: &[u8]) -> Result<(u8, &[u8]), String> {
    if p.len() < 20 || p[0] != 0x45 {
        return Err(format!(
            "not an option-less IPv4 header: {:02x?}",
            &p[..p.len().min(20)]
        ));
    }
    if !verifies(sum(&p[..20])) {
        return Err("bad IPv4 header checksum".into());
    }
    let total = usize::from(u16::from_be_bytes([p[2], p[3]]));
    if total != p.len() {
        return Err(format!("Total Length {total} but {} bytes", p.len()));
    }
    let proto = p[9];
    let l4 = &p[20..];
    let src = Ipv4Addr::new(p[12], p[13], p[14], p[15]);
    let dst = Ipv4Addr::new(p[16], p[17], p[18], p[19]);
    let s = match proto {
        ICMP => sum(l4),
        _ => pseudo_v4(src, dst, proto, l4.len()) + sum(l4),
    };
    if !verifies(s) {
        return Err(format!("bad checksum of protocol {proto}"));
    }
    Ok((proto, l4))
}

/// Checks a complete IPv6 packet without extension headers: Payload Length
/// and the TCP/UDP/ICMPv6 checksum. Returns its next header and payload.
pub fn check_ipv6(p: &[u8]) -> Result<(u8, &[u8]), String> {
    if p.len() < 40 || p[0] >> 4 != 6 {
        return Err("not an IPv6 header".into());
    }
    let plen = usize::from(u16::from_be_bytes([p[4], p[5]]));
    if plen + 40 != p.len() {
        return Err(format!("Payload Length {plen} but {} bytes", p.len()));
    }
    let next = p[6];
    let l4 = &p[40..];
    let src = Ipv6Addr::from(<[u8; 16]>::try_from(&p[8..24]).unwrap());
    let dst = Ipv6Addr::from(<[u8; 16]>::try_from(&p[24..40]).unwrap());
    if !verifies(pseudo_v6(src, dst, next, l4.len()) + sum(l4)) {
        return Err(format!("bad checksum of next header {next}"));
    }
    Ok((next, l4))
}

#[cfg(test)]
mod tests {
    use super::*;
    use nat64_core::Verdict;

    #[test]
    fn builders_make_valid_packets() {
        for case in cases() {
            let r = match case.direction {
                Direction::SixToFour => check_ipv6(&case.packet),
                _ => check_ipv4(&case.packet),
            };
            r.unwrap_or_else(|e| panic!("{}: input: {e}", case.name));
        }
        // The quoted packets are complete and valid too.
        let e6 = icmp6_port_unreachable(ERROR_QUOTED_PAYLOAD);
        check_ipv6(&e6[48..]).unwrap();
        let e4 = icmp4_port_unreachable(ERROR_QUOTED_PAYLOAD);
        check_ipv4(&e4[28..]).unwrap();
        assert_eq!(&tcp_v6(64)[8..40], &[HOST6.octets(), HOST4_V6.octets()].concat()[..]);
        assert_eq!(HOST6, "2001:db8:64::c000:201".parse::<Ipv6Addr>().unwrap());
        assert_eq!(HOST4_V6, "2001:db8:64::c633:6407".parse::<Ipv6Addr>().unwrap());
    }

    /// Every benchmarked packet takes the translation path (never a drop,
    /// an ICMP error reply or a hand-back), emits one valid packet, and does
    /// so again on a reused translator and buffer, as in the benchmark loop.
    #[test]
    fn every_case_translates() {
        let mut t = translator();
        let mut out = output_buffer();
        for case in cases() {
            for _ in 0..3 {
                let e = match t.translate(&case.packet, &mut out) {
                    Verdict::Translated(e) => e,
                    other => panic!("{}: {other:?}", case.name),
                };
                assert_eq!(e.direction, case.direction, "{}", case.name);
                assert_eq!(e.count, 1, "{}: fragmented", case.name);
                let o = &out[..e.total_len()];
                let is_error = case.name.starts_with("icmp_error");
                // 20 bytes of header difference, twice for an error (outer
                // and quoted packet).
                let delta = if is_error { 40 } else { 20 };
                match case.direction {
                    Direction::SixToFour => {
                        let (proto, l4) = check_ipv4(o).unwrap_or_else(|err| panic!("{}: {err}", case.name));
                        assert_eq!(
                            &o[12..20],
                            &[HOST6_V4.octets(), HOST4.octets()].concat()[..],
                            "{}",
                            case.name
                        );
                        assert_eq!(e.total_len(), case.packet.len() - delta, "{}", case.name);
                        if is_error {
                            assert_eq!((proto, l4[0], l4[1]), (ICMP, 3, 3), "{}", case.name);
                            let (iproto, _) =
                                check_ipv4(&l4[8..]).unwrap_or_else(|err| panic!("{}: inner: {err}", case.name));
                            assert_eq!(iproto, UDP);
                        }
                    }
                    _ => {
                        let (next, l4) = check_ipv6(o).unwrap_or_else(|err| panic!("{}: {err}", case.name));
                        assert_eq!(
                            &o[8..40],
                            &[HOST4_V6.octets(), HOST6.octets()].concat()[..],
                            "{}",
                            case.name
                        );
                        assert_eq!(e.total_len(), case.packet.len() + delta, "{}", case.name);
                        if is_error {
                            assert_eq!((next, l4[0], l4[1]), (ICMPV6, 1, 4), "{}", case.name);
                            let (inext, _) =
                                check_ipv6(&l4[8..]).unwrap_or_else(|err| panic!("{}: inner: {err}", case.name));
                            assert_eq!(inext, UDP);
                        }
                    }
                }
            }
        }
        let c = t.counters();
        assert_eq!(c.drop_reasons().count(), 0);
        assert_eq!(c.not_ours_reasons().count(), 0);
        assert_eq!(c.icmp_errors_generated, 0);
    }
}
