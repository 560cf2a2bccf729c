//! Unit tests per RFC section, on packets built by `common` and checked with
//! etherparse and our own checksum code.
//!
//! Names start with the section they test: `s4_*` / `s5_*` are RFC 7915
//! (IPv4 -> IPv6 and IPv6 -> IPv4), `rfc6052_*`, `rfc6791_*`, `rfc7757_*`
//! the other RFCs the core implements.

mod common;

use std::net::{Ipv4Addr, Ipv6Addr};

use common::*;
use nat64_core::{Config, Direction, DropReason, HairpinMode, NotOurs, Translator, Verdict};

// ------------------------------------------------------------------ setup

/// The IPv6 host's IPv4 identity, the IPv4 server, an IPv4 router and the
/// translator's own addresses.
const H4: &str = "198.51.100.10";
const S4: &str = "203.0.113.5";
const R4: &str = "192.0.2.99";
const OWN4: &str = "192.0.2.254";
const OWN6: &str = "2001:db8:ffff::1";

fn pool() -> Pool {
    Pool::new("2001:db8:64::", 96)
}
/// pool6 embedding of an IPv4 address (our RFC 6052 code, not the crate's).
fn p6(a: &str) -> Ipv6Addr {
    pool().embed(v4(a))
}
fn h6() -> Ipv6Addr {
    p6(H4)
}
fn s6() -> Ipv6Addr {
    p6(S4)
}

/// pool6 2001:db8:64::/96 and both own addresses.
fn cfg() -> Config {
    let mut c = Config::with_pool6("2001:db8:64::/96".parse().unwrap());
    c.own_ipv4 = Some(v4(OWN4));
    c.own_ipv6 = Some(v6(OWN6));
    c
}
fn xl(c: Config) -> Translator {
    Translator::new(c).unwrap()
}

/// Translates and returns the verdict with the packets it wrote (every
/// emitted packet for `Translated`, the error for `IcmpError`).
fn go(t: &mut Translator, pkt: &[u8]) -> (Verdict, Vec<Vec<u8>>) {
    let mut out = vec![0u8; OUT_LEN];
    let v = t.translate(pkt, &mut out);
    let pkts = match v {
        Verdict::Translated(e) => emitted(&e, &out).into_iter().map(<[u8]>::to_vec).collect(),
        Verdict::IcmpError { len, .. } => vec![out[..len as usize].to_vec()],
        _ => Vec::new(),
    };
    (v, pkts)
}

/// Expects one translated packet going `dir`.
fn one(t: &mut Translator, pkt: &[u8], dir: Direction) -> Vec<u8> {
    let (v, mut p) = go(t, pkt);
    match v {
        Verdict::Translated(e) if e.direction == dir && e.count == 1 => p.remove(0),
        other => panic!("expected one {dir:?} packet, got {other:?}"),
    }
}

/// Expects an ICMP error for the sender, for `reason`.
fn icmp_error(t: &mut Translator, pkt: &[u8], reason: DropReason) -> Vec<u8> {
    let (v, mut p) = go(t, pkt);
    match v {
        Verdict::IcmpError { reason: r, .. } if r == reason => p.remove(0),
        other => panic!("expected an ICMP error for {reason:?}, got {other:?}"),
    }
}

fn payload(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 + 1) as u8).collect()
}

/// IPv4 UDP from `src` to `dst` with `n` payload bytes.
fn udp4(src: &str, dst: &str, n: usize) -> (V4, Vec<u8>) {
    let (s, d) = (v4(src), v4(dst));
    (V4::new(s, d, UDP), udp(Ips::V4(s, d), 1234, 53, &payload(n)))
}
fn udp4_pkt(src: &str, dst: &str, n: usize) -> Vec<u8> {
    let (h, l4) = udp4(src, dst, n);
    h.build(&l4)
}
/// IPv6 UDP likewise.
fn udp6_pkt(src: Ipv6Addr, dst: Ipv6Addr, n: usize) -> Vec<u8> {
    V6::new(src, dst).build(UDP, &udp(Ips::V6(src, dst), 1234, 53, &payload(n)))
}

/// The same UDP datagram but for the checksum, which translation changes
/// (its validity is checked by the oracles).
fn assert_same_udp(got: &[u8], sent: &[u8]) {
    assert_eq!(got.len(), sent.len());
    assert_eq!(&got[..6], &sent[..6], "ports and length");
    assert_eq!(&got[8..], &sent[8..], "payload");
}

fn addr6(b: &[u8]) -> Ipv6Addr {
    Ipv6Addr::from(<[u8; 16]>::try_from(&b[..16]).unwrap())
}
fn addr4(b: &[u8]) -> Ipv4Addr {
    Ipv4Addr::new(b[0], b[1], b[2], b[3])
}

/// Checks a generated ICMPv4 error (RFC 792 layout, RFC 1812 4.3.2.3
/// quoting): from `OWN4` to the sender, quoting the start of `orig`.
fn check_generated_v4(err: &[u8], orig: &[u8], ty: u8, code: u8) -> Seen4 {
    let s = check_v4(err);
    assert_eq!(s.proto, ICMP);
    assert_eq!(s.src, v4(OWN4));
    assert_eq!(s.dst, addr4(&orig[12..16]));
    assert_eq!((s.payload[0], s.payload[1]), (ty, code));
    assert!(
        err.len() <= 576,
        "RFC 1812 4.3.2.3: at most 576 bytes, got {}",
        err.len()
    );
    let q = &s.payload[8..];
    assert_eq!(q, &orig[..q.len()]);
    assert_eq!(q.len(), orig.len().min(576 - 28));
    s
}

/// Checks a generated ICMPv6 error (RFC 4443 2.4): from `OWN6` to the
/// sender, quoting as much of `orig` as fits in 1280 bytes.
fn check_generated_v6(err: &[u8], orig: &[u8], ty: u8, code: u8) -> Seen6 {
    let s = check_v6(err);
    assert_eq!(s.proto, ICMPV6);
    assert_eq!(s.src, v6(OWN6));
    assert_eq!(s.dst, addr6(&orig[8..24]));
    assert_eq!((s.payload[0], s.payload[1]), (ty, code));
    assert!(
        err.len() <= 1280,
        "RFC 4443 2.4(c): at most 1280 bytes, got {}",
        err.len()
    );
    let q = &s.payload[8..];
    assert_eq!(q, &orig[..q.len()]);
    assert_eq!(q.len(), orig.len().min(1280 - 48));
    s
}

// ============================================================ RFC 7915 s4

#[test]
fn s4_1_header_fields() {
    let mut t = xl(cfg());
    let (mut h, l4) = udp4(S4, H4, 100);
    h.tos = 0xb8;
    h.ttl = 37;
    h.id = 0x4242;
    let pkt = h.build(&l4);
    let out = one(&mut t, &pkt, Direction::FourToSix);
    let s = check_v6(&out);
    assert_eq!((s.src, s.dst), (s6(), h6()));
    assert_eq!(s.tc, 0xb8, "Traffic Class copied from TOS");
    assert_eq!(s.flow, 0, "Flow Label 0");
    assert_eq!(s.hop, 36, "Hop Limit = TTL - 1");
    assert_eq!(s.proto, UDP);
    assert!(s.frag.is_none(), "no Fragment header for a small DF=0 packet");
    assert_same_udp(&s.payload, &l4);
    assert_eq!(out.len(), pkt.len() + 20);
}

#[test]
fn s4_1_trailing_bytes_after_total_length_ignored() {
    let mut t = xl(cfg());
    let mut pkt = udp4_pkt(S4, H4, 10);
    let n = pkt.len();
    pkt.extend_from_slice(&[0xee; 12]); // e.g. Ethernet padding
    let out = one(&mut t, &pkt, Direction::FourToSix);
    assert_eq!(out.len(), n + 20);
    check_v6(&out);
}

#[test]
fn s4_1_bad_header_checksum_dropped() {
    let mut t = xl(cfg());
    let mut pkt = udp4_pkt(S4, H4, 10);
    pkt[10] ^= 1;
    assert_eq!(go(&mut t, &pkt).0, Verdict::Dropped(DropReason::BadIpv4Checksum));
    assert_eq!(go(&mut t, &pkt[..12]).0, Verdict::Dropped(DropReason::Truncated));
    let mut short = udp4_pkt(S4, H4, 10);
    short[2..4].copy_from_slice(&200u16.to_be_bytes());
    fix_v4_checksum(&mut short);
    assert_eq!(go(&mut t, &short).0, Verdict::Dropped(DropReason::Truncated));
    let mut ihl = udp4_pkt(S4, H4, 10);
    ihl[0] = 0x44;
    assert_eq!(go(&mut t, &ihl).0, Verdict::Dropped(DropReason::BadIpv4Header));
}

#[test]
fn s4_1_traffic_class_copied_or_zeroized() {
    let (mut h, l4) = udp4(S4, H4, 8);
    h.tos = 0x2e;
    let pkt = h.build(&l4);
    let mut t = xl(cfg());
    assert_eq!(check_v6(&one(&mut t, &pkt, Direction::FourToSix)).tc, 0x2e);
    let mut c = cfg();
    c.zeroize_traffic_class = true;
    let mut t = xl(c);
    assert_eq!(check_v6(&one(&mut t, &pkt, Direction::FourToSix)).tc, 0);
}

#[test]
fn s4_1_ipv4_options_dropped() {
    let mut t = xl(cfg());
    let (mut h, l4) = udp4(S4, H4, 30);
    // Record Route (7) with room for two addresses, then NOPs/EOL.
    h.options = vec![7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    let pkt = h.build(&l4);
    assert_eq!(pkt[0], 0x48);
    let out = one(&mut t, &pkt, Direction::FourToSix);
    let s = check_v6(&out);
    assert_same_udp(&s.payload, &l4);
    assert_eq!(out.len(), 40 + l4.len());
}

#[test]
fn s4_1_unexpired_source_route_gets_3_5() {
    for opt in [0x83u8, 0x89] {
        let mut t = xl(cfg());
        let (mut h, l4) = udp4(S4, H4, 20);
        // LSRR / SSRR, length 7, pointer 4: one address still to visit.
        h.options = vec![opt, 7, 4, 10, 0, 0, 1];
        let pkt = h.build(&l4);
        let err = icmp_error(&mut t, &pkt, DropReason::SourceRoute);
        check_generated_v4(&err, &pkt, 3, 5);
        assert_eq!(t.counters().drops(DropReason::SourceRoute), 1);
        // Expired (pointer past the end): translated, option dropped.
        let mut h2 = h.clone();
        h2.options = vec![opt, 7, 8, 10, 0, 0, 1];
        let out = one(&mut t, &h2.build(&l4), Direction::FourToSix);
        assert_same_udp(&check_v6(&out).payload, &l4);
    }
}

#[test]
fn s4_1_ttl_expired_gets_time_exceeded() {
    for ttl in [0u8, 1] {
        let (mut h, l4) = udp4(S4, H4, 64);
        h.ttl = ttl;
        let pkt = h.build(&l4);
        let mut t = xl(cfg());
        let err = icmp_error(&mut t, &pkt, DropReason::HopLimitExceeded);
        let s = check_generated_v4(&err, &pkt, 11, 0);
        assert_eq!(&s.payload[4..8], &[0, 0, 0, 0]);
        assert_eq!(t.counters().icmp_errors_generated, 1);
        // Without an own IPv4 address there is no source for the error.
        let mut c = cfg();
        c.own_ipv4 = None;
        let mut t = xl(c);
        assert_eq!(go(&mut t, &pkt).0, Verdict::Dropped(DropReason::HopLimitExceeded));
    }
    // TTL 2 passes with Hop Limit 1.
    let (mut h, l4) = udp4(S4, H4, 64);
    h.ttl = 2;
    let mut t = xl(cfg());
    assert_eq!(check_v6(&one(&mut t, &h.build(&l4), Direction::FourToSix)).hop, 1);
}

#[test]
fn s4_1_generated_error_capped_at_576() {
    let (mut h, l4) = udp4(S4, H4, 1400);
    h.ttl = 1;
    let pkt = h.build(&l4);
    let mut t = xl(cfg());
    let err = icmp_error(&mut t, &pkt, DropReason::HopLimitExceeded);
    assert_eq!(err.len(), 576);
    check_generated_v4(&err, &pkt, 11, 0);
}

#[test]
fn s4_1_no_error_about_an_icmp_error() {
    // An ICMPv4 error whose TTL expires at the translator: dropped silently
    // (RFC 1812 4.3.2.7), even with own_ipv4.
    let inner = udp4_pkt(H4, S4, 20);
    let mut h = V4::new(v4(R4), v4(H4), ICMP);
    h.ttl = 1;
    let pkt = h.build(&icmp4(3, 3, [0; 4], &inner));
    let mut t = xl(cfg());
    assert_eq!(go(&mut t, &pkt).0, Verdict::Dropped(DropReason::HopLimitExceeded));
    assert_eq!(t.counters().icmp_errors_generated, 0);
}

#[test]
fn s4_1_df_clear_fragmented_to_lowest_ipv6_mtu() {
    let (mut h, l4) = udp4(S4, H4, 1400);
    h.df = false;
    h.id = 0xbeef;
    let pkt = h.build(&l4);
    for (lowest, mtu6) in [(1280u32, 1500u32), (1400, 1500), (1280, 9000)] {
        let mut c = cfg();
        c.lowest_ipv6_mtu = lowest;
        c.mtu6 = mtu6;
        let mut t = xl(c);
        let (v, pkts) = go(&mut t, &pkt);
        let Verdict::Translated(e) = v else { panic!("{v:?}") };
        assert!(e.count >= 2, "{e:?}");
        let seen: Vec<Seen6> = pkts.iter().map(|p| check_v6(p)).collect();
        for (p, s) in pkts.iter().zip(&seen) {
            assert!(p.len() <= lowest as usize, "{} > lowest_ipv6_mtu {lowest}", p.len());
            assert_eq!(s.frag.unwrap().2, 0xbeef, "Identification copied");
            assert_eq!(s.proto, UDP);
            assert_eq!((s.src, s.dst), (s6(), h6()));
        }
        let whole = reassemble_v6(&seen);
        assert_same_udp(&whole, &l4);
        check_reassembled_v6(s6(), h6(), UDP, &whole);
        assert_eq!(t.counters().fragments_emitted, e.count as u64 - 1);
    }
    // Small enough: one packet, no Fragment header (RFC 7915 s4.1).
    let (mut h, l4) = udp4(S4, H4, 1232);
    h.df = false;
    let pkt = h.build(&l4);
    assert_eq!(pkt.len() + 20, 1280);
    let mut t = xl(cfg());
    assert!(check_v6(&one(&mut t, &pkt, Direction::FourToSix)).frag.is_none());
}

#[test]
fn s4_1_df_set_too_big_gets_frag_needed() {
    let mut t = xl(cfg());
    // 1480 bytes of IPv4 make 1500 of IPv6: fits mtu6 = 1500.
    let (mut h, l4) = udp4(S4, H4, 1480 - 28);
    h.df = true;
    let fits = h.build(&l4);
    let out = one(&mut t, &fits, Direction::FourToSix);
    assert_eq!(out.len(), 1500);
    assert!(check_v6(&out).frag.is_none());
    // One more byte: Fragmentation Needed with MTU 1500 - 20.
    let (mut h, l4) = udp4(S4, H4, 1481 - 28);
    h.df = true;
    let big = h.build(&l4);
    let err = icmp_error(&mut t, &big, DropReason::PacketTooBig);
    let s = check_generated_v4(&err, &big, 3, 4);
    assert_eq!(be16(&s.payload, 6), 1480);
    // No own address: dropped.
    let mut c = cfg();
    c.own_ipv4 = None;
    let mut t = xl(c);
    assert_eq!(go(&mut t, &big).0, Verdict::Dropped(DropReason::PacketTooBig));
}

#[test]
fn s4_1_ipv4_fragment_gets_fragment_header() {
    // A 2000-byte UDP datagram in two IPv4 fragments; the first is split
    // again for lowest_ipv6_mtu. All pieces reassemble on the IPv6 side.
    let (s, d) = (v4(S4), v4(H4));
    let l4 = udp(Ips::V4(s, d), 7, 9, &payload(1992));
    let (a, b) = l4.split_at(1400);
    let mut h = V4::new(s, d, UDP);
    h.id = 0x7777;
    h.mf = true;
    let f1 = h.build(a);
    h.mf = false;
    h.frag_off = 175;
    let f2 = h.build(b);
    let mut t = xl(cfg());
    let mut seen = Vec::new();
    let mut pieces = 0;
    for f in [f1, f2] {
        let (v, pkts) = go(&mut t, &f);
        assert!(
            matches!(v, Verdict::Translated(e) if e.direction == Direction::FourToSix),
            "{v:?}"
        );
        for p in &pkts {
            assert!(p.len() <= 1280);
            let s6 = check_v6(p);
            assert_eq!(s6.frag.unwrap().2, 0x7777);
            assert_eq!(s6.proto, UDP);
            seen.push(s6);
            pieces += 1;
        }
    }
    assert_eq!(pieces, 3, "the 1400-byte first fragment is split in two");
    let whole = reassemble_v6(&seen);
    assert_eq!(whole.len(), l4.len());
    check_reassembled_v6(s6(), h6(), UDP, &whole);
    assert_eq!(&whole[8..], &l4[8..]);
}

#[test]
fn s4_1_fragment_offset_copied() {
    // An IPv4 fragment near the end of the offset space (itself legal:
    // 20 + 8100 * 8 + 8 + 136 <= 65535) keeps its offset.
    let mut t = xl(cfg());
    let mut h = V4::new(v4(S4), v4(H4), UDP);
    h.frag_off = 8100;
    let pkt = h.build(&payload(136));
    let s = check_v6(&one(&mut t, &pkt, Direction::FourToSix));
    assert_eq!(s.frag.unwrap().0, 8100);
}

#[test]
fn s4_2_echo_translated() {
    let mut t = xl(cfg());
    for (ty, ty6) in [(8u8, 128u8), (0, 129)] {
        let m = icmp4(ty, 0, [0x12, 0x34, 0, 9], &payload(56));
        let pkt = V4::new(v4(S4), v4(H4), ICMP).build(&m);
        let s = check_v6(&one(&mut t, &pkt, Direction::FourToSix));
        assert_eq!(s.proto, ICMPV6);
        assert_eq!(s.payload[0], ty6);
        assert_eq!(&s.payload[4..], &m[4..]);
    }
}

/// An ICMPv4 error from router R4 to the IPv6 host's IPv4 identity, about
/// a UDP packet that host sent to S4.
fn icmp4_error_pkt(ty: u8, code: u8, rest: [u8; 4], quoted: &[u8]) -> Vec<u8> {
    V4::new(v4(R4), v4(H4), ICMP).build(&icmp4(ty, code, rest, quoted))
}

/// One row of an ICMP type table: (type, code) in, (type, code) out or
/// the reason the message is dropped.
type Row = ((u8, u8), Result<(u8, u8), DropReason>);

/// Checks the IPv6 packet quoted by a translated ICMPv6 error: the IPv4
/// packet `orig` (H4 -> S4, UDP) translated, its UDP checksum valid when
/// it is complete.
fn check_quoted_v6(q: &[u8], orig: &[u8]) {
    assert_eq!(q[0] >> 4, 6);
    assert_eq!(addr6(&q[8..]), h6(), "inner source");
    assert_eq!(addr6(&q[24..]), s6(), "inner destination");
    assert_eq!(q[6], orig[9]);
    assert_eq!(q[7], orig[8], "inner hop limit = inner TTL");
    assert_eq!(usize::from(be16(q, 4)), orig.len() - 20, "inner Payload Length");
    let l4 = &q[40..];
    if l4.len() == orig.len() - 20 {
        assert!(l4_checksum_ok(Ips::V6(h6(), s6()), q[6], l4), "inner checksum");
    }
}

#[test]
fn s4_2_icmp_type_table() {
    let orig = udp4_pkt(H4, S4, 40);
    // (type, code) -> Some((type, code)) or the drop reason.
    let mut rows: Vec<Row> = Vec::new();
    for c in [0, 1, 5, 6, 7, 8, 11, 12] {
        rows.push(((3, c), Ok((1, 0))));
    }
    rows.push(((3, 2), Ok((4, 1))));
    rows.push(((3, 3), Ok((1, 4))));
    rows.push(((3, 4), Ok((2, 0))));
    for c in [9, 10, 13, 15] {
        rows.push(((3, c), Ok((1, 1))));
    }
    for c in [14, 16, 200] {
        rows.push(((3, c), Err(DropReason::IcmpUntranslatableCode)));
    }
    rows.push(((11, 0), Ok((3, 0))));
    rows.push(((11, 1), Ok((3, 1))));
    rows.push(((12, 0), Ok((4, 0))));
    rows.push(((12, 2), Ok((4, 0))));
    rows.push(((12, 1), Err(DropReason::IcmpUntranslatableCode)));
    // Source Quench, Redirect: errors with no counterpart.
    rows.push(((4, 0), Err(DropReason::IcmpUntranslatableType)));
    for c in 0..4 {
        rows.push(((5, c), Err(DropReason::IcmpUntranslatableType)));
    }
    // Informational types other than echo.
    for ty in [6, 9, 10, 13, 14, 15, 16, 17, 18, 30, 42, 43] {
        rows.push(((ty, 0), Err(DropReason::IcmpUntranslatableType)));
    }
    for ((ty, code), want) in rows {
        let mut t = xl(cfg());
        let rest = if ty == 3 && code == 4 {
            [0, 0, 0x05, 0x78]
        } else {
            [0; 4]
        };
        let pkt = icmp4_error_pkt(ty, code, rest, &orig);
        let (v, pkts) = go(&mut t, &pkt);
        match want {
            Ok((ty6, code6)) => {
                assert!(
                    matches!(v, Verdict::Translated(e) if e.direction == Direction::FourToSix),
                    "{ty}/{code}: {v:?}"
                );
                let s = check_v6(&pkts[0]);
                assert_eq!((s.src, s.dst), (p6(R4), h6()), "{ty}/{code}");
                assert_eq!(s.proto, ICMPV6);
                assert_eq!((s.payload[0], s.payload[1]), (ty6, code6), "{ty}/{code}");
                let rest6 = be32(&s.payload, 4);
                match (ty6, code6) {
                    (4, 1) => assert_eq!(rest6, 6, "3/2: pointer to Next Header"),
                    (2, 0) => assert_eq!(rest6, 1420, "3/4: MTU 1400 + 20"),
                    (4, 0) => assert_eq!(rest6, 0, "pointer 0 -> 0"),
                    _ => assert_eq!(rest6, 0, "{ty}/{code}: unused"),
                }
                check_quoted_v6(&s.payload[8..], &orig);
            }
            Err(r) => assert_eq!(v, Verdict::Dropped(r), "{ty}/{code}"),
        }
    }
}

#[test]
fn s4_2_parameter_problem_pointer_map() {
    // RFC 7915 s4.2 Figure 3.
    let want = |p: u8| -> Option<u32> {
        Some(match p {
            0 => 0,
            1 => 1,
            2 | 3 => 4,
            8 => 7,
            9 => 6,
            12..=15 => 8,
            16..=19 => 24,
            _ => return None,
        })
    };
    let orig = udp4_pkt(H4, S4, 40);
    for p in 0..=40u8 {
        for code in [0u8, 2] {
            let mut t = xl(cfg());
            let (v, pkts) = go(&mut t, &icmp4_error_pkt(12, code, [p, 0, 0, 0], &orig));
            match want(p) {
                Some(q) => {
                    assert!(matches!(v, Verdict::Translated(_)), "pointer {p}: {v:?}");
                    let s = check_v6(&pkts[0]);
                    assert_eq!((s.payload[0], s.payload[1]), (4, 0));
                    assert_eq!(be32(&s.payload, 4), q, "pointer {p}");
                }
                None => assert_eq!(
                    v,
                    Verdict::Dropped(DropReason::IcmpUntranslatablePointer),
                    "pointer {p}"
                ),
            }
        }
    }
}

#[test]
fn s4_2_frag_needed_mtu() {
    // RFC 7915 s4.2: MTU = max(1280, min(FN MTU + 20, mtu6, mtu4 + 20));
    // an FN MTU of 0 uses the plateau below the quoted Total Length.
    let cases: [(u16, usize, u32, u32, u32); 6] = [
        (1400, 100, 1500, 1500, 1420),
        (1400, 100, 1350, 1500, 1350),
        (1400, 100, 1500, 1300, 1320),
        (500, 100, 1500, 1500, 1280),
        (0, 1500 - 28, 1500, 1500, 1500), // plateau 1492 -> 1512, capped at mtu6
        (0, 1400 - 28, 9000, 9000, 1280), // plateau 1006 -> 1026 -> 1280
    ];
    for (fn_mtu, n, mtu6, mtu4, want) in cases {
        let mut c = cfg();
        c.mtu6 = mtu6;
        c.mtu4 = mtu4;
        let mut t = xl(c);
        let orig = udp4_pkt(H4, S4, n);
        let [a, b] = fn_mtu.to_be_bytes();
        let (v, pkts) = go(
            &mut t,
            &icmp4_error_pkt(3, 4, [0, 0, a, b], &orig[..orig.len().min(548)]),
        );
        assert!(matches!(v, Verdict::Translated(_)), "{v:?}");
        let s = check_v6(&pkts[0]);
        assert_eq!((s.payload[0], s.payload[1]), (2, 0));
        assert_eq!(
            be32(&s.payload, 4),
            want,
            "FN MTU {fn_mtu}, quoted {}, mtu6 {mtu6}, mtu4 {mtu4}",
            orig.len()
        );
    }
}

#[test]
fn s4_3_inner_packet_translated() {
    let mut t = xl(cfg());
    // UDP, TCP and echo request, quoted whole.
    let (h, s) = (v4(H4), v4(S4));
    let ips = Ips::V4(h, s);
    for (proto, l4) in [
        (UDP, udp(ips, 1, 2, &payload(33))),
        (TCP, tcp(ips, 1, 2, 3, &payload(20))),
        (ICMP, icmp4_echo(true, 5, 6, &payload(24))),
    ] {
        let mut ih = V4::new(h, s, proto);
        ih.ttl = 9;
        let orig = ih.build(&l4);
        let pkt = icmp4_error_pkt(3, 1, [0; 4], &orig);
        let out = one(&mut t, &pkt, Direction::FourToSix);
        let s6_ = check_v6(&out);
        let q = &s6_.payload[8..];
        assert_eq!(q.len(), orig.len() + 20);
        assert_eq!(q[7], 9);
        assert_eq!(addr6(&q[8..]), h6());
        assert_eq!(addr6(&q[24..]), s6());
        let inner_proto = if proto == ICMP { ICMPV6 } else { proto };
        assert_eq!(q[6], inner_proto);
        assert_eq!(usize::from(be16(q, 4)), l4.len());
        assert!(
            l4_checksum_ok(Ips::V6(h6(), s6()), inner_proto, &q[40..]),
            "inner {proto} checksum"
        );
        if proto == ICMP {
            assert_eq!(q[40], 128);
        }
    }
}

#[test]
fn s4_3_inner_fragment_gets_fragment_header() {
    let mut t = xl(cfg());
    let mut ih = V4::new(v4(H4), v4(S4), UDP);
    ih.mf = true;
    ih.id = 0x0abc;
    let orig = ih.build(&udp(Ips::V4(v4(H4), v4(S4)), 1, 2, &payload(100))[..64]);
    let out = one(&mut t, &icmp4_error_pkt(11, 1, [0; 4], &orig), Direction::FourToSix);
    let s = check_v6(&out);
    assert_eq!((s.payload[0], s.payload[1]), (3, 1));
    let q = &s.payload[8..];
    assert_eq!(q[6], FRAGMENT);
    assert_eq!(q[40], UDP);
    assert_eq!(be16(q, 42), 1, "offset 0, M set");
    assert_eq!(be32(q, 44), 0x0abc);
    assert_eq!(usize::from(be16(q, 4)), 8 + 64);
}

#[test]
fn s4_3_no_icmp_error_about_icmp_error() {
    let mut t = xl(cfg());
    let inner_err = V4::new(v4(H4), v4(S4), ICMP).build(&icmp4(11, 0, [0; 4], &udp4_pkt(S4, H4, 8)));
    let pkt = icmp4_error_pkt(3, 1, [0; 4], &inner_err);
    assert_eq!(go(&mut t, &pkt).0, Verdict::Dropped(DropReason::IcmpErrorInIcmpError));
    assert_eq!(t.counters().drops(DropReason::IcmpErrorInIcmpError), 1);
    // An error about an echo request is fine.
    let inner_echo = V4::new(v4(H4), v4(S4), ICMP).build(&icmp4_echo(true, 1, 1, &[0; 8]));
    one(
        &mut t,
        &icmp4_error_pkt(3, 1, [0; 4], &inner_echo),
        Direction::FourToSix,
    );
}

#[test]
fn s4_3_bad_icmp_checksum_dropped() {
    let mut t = xl(cfg());
    let mut pkt = icmp4_error_pkt(3, 1, [0; 4], &udp4_pkt(H4, S4, 8));
    pkt[22] ^= 0x40;
    assert_eq!(go(&mut t, &pkt).0, Verdict::Dropped(DropReason::IcmpChecksum));
}

#[test]
fn s4_3_translated_error_capped_at_1280() {
    let mut t = xl(cfg());
    // A non-conforming router quoting 1400 bytes.
    let orig = udp4_pkt(H4, S4, 1400);
    let out = one(&mut t, &icmp4_error_pkt(3, 1, [0; 4], &orig), Direction::FourToSix);
    assert_eq!(out.len(), 1280);
    let s = check_v6(&out);
    let q = &s.payload[8..];
    assert_eq!(q.len(), 1280 - 48);
    check_quoted_v6(q, &orig);
}

/// An RFC 4884 ICMP extension structure (version 2, one object).
fn rfc4884_ext() -> Vec<u8> {
    let mut e = vec![0x20, 0, 0, 0, 0, 8, 1, 1, 0xde, 0xad, 0xbe, 0xef];
    let c = inet_checksum(&[&e]);
    e[2..4].copy_from_slice(&c.to_be_bytes());
    e
}

#[test]
fn s4_2_rfc4884_length_rescaled() {
    // ICMPv4 3/1 quoting a 128-byte datagram (length 32 words of 4 bytes)
    // plus an extension: the quoted IPv6 datagram is 148 bytes, padded to
    // 152, so the ICMPv6 length is 19 words of 8 bytes, at byte 4.
    let orig = udp4_pkt(H4, S4, 100);
    assert_eq!(orig.len(), 128);
    let ext = rfc4884_ext();
    let mut body = orig.clone();
    body.extend_from_slice(&ext);
    let pkt = icmp4_error_pkt(3, 1, [0, 32, 0, 0], &body);
    let mut t = xl(cfg());
    let out = one(&mut t, &pkt, Direction::FourToSix);
    let s = check_v6(&out);
    let m = &s.payload;
    assert_eq!((m[0], m[1]), (1, 0));
    assert_eq!(m[4], 19, "length attribute in 64-bit words");
    assert_eq!(&m[5..8], &[0, 0, 0]);
    assert_eq!(m.len(), 8 + 152 + ext.len());
    check_quoted_v6(&m[8..8 + 148], &orig);
    assert!(m[8 + 148..8 + 152].iter().all(|&b| b == 0), "zero padding");
    assert_eq!(&m[8 + 152..], &ext[..], "extension copied");
    // Time Exceeded carries it too; Parameter Problem cannot.
    let out = one(
        &mut t,
        &icmp4_error_pkt(11, 0, [0, 32, 0, 0], &body),
        Direction::FourToSix,
    );
    assert_eq!(check_v6(&out).payload[4], 19);
    let out = one(
        &mut t,
        &icmp4_error_pkt(12, 0, [9, 32, 0, 0], &body),
        Direction::FourToSix,
    );
    let s = check_v6(&out);
    assert_eq!(be32(&s.payload, 4), 6);
    assert_eq!(s.payload.len(), 8 + 148, "no extension on Parameter Problem");
}

#[test]
fn s4_5_udp_checksum_zero_dropped_with_3_13() {
    let (s, d) = (v4(S4), v4(H4));
    let pkt = V4::new(s, d, UDP).build(&udp_no_checksum(1, 2, &payload(20)));
    let mut t = xl(cfg());
    let err = icmp_error(&mut t, &pkt, DropReason::UdpChecksumZero);
    check_generated_v4(&err, &pkt, 3, 13);
    // Fragmented: cannot be amended even when enabled.
    let mut c = cfg();
    c.amend_udp_checksum_zero = true;
    let mut t = xl(c);
    let mut h = V4::new(s, d, UDP);
    h.mf = true;
    let frag = h.build(&udp_no_checksum(1, 2, &payload(100))[..64]);
    let err = icmp_error(&mut t, &frag, DropReason::FragmentedUdpChecksumZero);
    check_generated_v4(&err, &frag, 3, 13);
}

#[test]
fn s4_5_udp_checksum_zero_amended_when_enabled() {
    let (s, d) = (v4(S4), v4(H4));
    let u = udp_no_checksum(1, 2, &payload(21));
    let pkt = V4::new(s, d, UDP).build(&u);
    let mut c = cfg();
    c.amend_udp_checksum_zero = true;
    let mut t = xl(c);
    let out = one(&mut t, &pkt, Direction::FourToSix);
    let seen = check_v6(&out); // verifies the UDP checksum with etherparse
    assert_ne!(be16(&seen.payload, 6), 0);
    assert_eq!(&seen.payload[8..], &u[8..]);
}

#[test]
fn s4_5_checksum_update_is_incremental() {
    // A wrong checksum stays wrong by the same amount (not repaired).
    let (s, d) = (v4(S4), v4(H4));
    let mut u = udp(Ips::V4(s, d), 1, 2, &payload(30));
    let good = be16(&u, 6);
    u[6..8].copy_from_slice(&good.wrapping_sub(1).to_be_bytes());
    let pkt = V4::new(s, d, UDP).build(&u);
    let mut t = xl(cfg());
    let mut out = vec![0u8; OUT_LEN];
    let v = t.translate(&pkt, &mut out);
    let Verdict::Translated(e) = v else { panic!("{v:?}") };
    let l4 = &out[40..e.total_len()];
    assert_eq!(
        ones_sum(&[Ips::V6(s6(), h6()).pseudo(UDP, l4.len()), l4.to_vec()].concat()),
        0xfffe
    );
}

// ============================================================ RFC 7915 s5

#[test]
fn s5_1_header_fields() {
    let mut t = xl(cfg());
    let mut h = V6::new(h6(), s6());
    h.tc = 0x48;
    h.flow = 0xabcde;
    h.hop = 50;
    let l4 = udp(Ips::V6(h6(), s6()), 4, 5, &payload(200));
    let pkt = h.build(UDP, &l4);
    let out = one(&mut t, &pkt, Direction::SixToFour);
    let s = check_v4(&out);
    assert_eq!((s.src, s.dst), (v4(H4), v4(S4)));
    assert_eq!(s.tos, 0x48, "TOS copied from Traffic Class");
    assert_eq!(s.ttl, 49);
    assert_eq!(s.proto, UDP);
    assert!(!s.df && !s.mf && s.frag_off == 0);
    assert_same_udp(&s.payload, &l4);
}

#[test]
fn s5_1_tos_copied_or_overridden() {
    let mut h = V6::new(h6(), s6());
    h.tc = 0xfc;
    let pkt = h.build(UDP, &udp(Ips::V6(h6(), s6()), 4, 5, &payload(2)));
    let mut t = xl(cfg());
    assert_eq!(check_v4(&one(&mut t, &pkt, Direction::SixToFour)).tos, 0xfc);
    let mut c = cfg();
    c.override_tos = Some(0x10);
    let mut t = xl(c);
    assert_eq!(check_v4(&one(&mut t, &pkt, Direction::SixToFour)).tos, 0x10);
}

#[test]
fn s5_1_df_set_above_1260_bytes() {
    let mut t = xl(cfg());
    for (n, df) in [(1260 - 28, false), (1261 - 28, true)] {
        let out = one(&mut t, &udp6_pkt(h6(), s6(), n), Direction::SixToFour);
        let s = check_v4(&out);
        assert_eq!(s.df, df, "{} bytes", out.len());
        if df {
            assert_eq!(s.id, 0, "RFC 6864: atomic datagrams may use ID 0");
        }
    }
}

#[test]
fn s5_1_extension_headers_skipped() {
    let mut t = xl(cfg());
    let l4 = udp(Ips::V6(h6(), s6()), 4, 5, &payload(10));
    let exts = [Ext::HopByHop(0), Ext::DstOpts(1), Ext::Routing(0), Ext::DstOpts(0)];
    let pkt = V6::new(h6(), s6()).build_ext(&exts, UDP, &l4);
    let out = one(&mut t, &pkt, Direction::SixToFour);
    let s = check_v4(&out);
    assert_eq!(s.proto, UDP);
    assert_same_udp(&s.payload, &l4);
}

#[test]
fn s5_1_segments_left_gets_parameter_problem() {
    let mut t = xl(cfg());
    let l4 = udp(Ips::V6(h6(), s6()), 4, 5, &payload(10));
    // Routing header first: Segments Left is at offset 40 + 3.
    let pkt = V6::new(h6(), s6()).build_ext(&[Ext::Routing(1)], UDP, &l4);
    let err = icmp_error(&mut t, &pkt, DropReason::SegmentsLeft);
    let s = check_generated_v6(&err, &pkt, 4, 0);
    assert_eq!(be32(&s.payload, 4), 43);
    // After an 8-byte Hop-by-Hop header: 48 + 3.
    let pkt = V6::new(h6(), s6()).build_ext(&[Ext::HopByHop(0), Ext::Routing(3)], UDP, &l4);
    let err = icmp_error(&mut t, &pkt, DropReason::SegmentsLeft);
    let s = check_generated_v6(&err, &pkt, 4, 0);
    assert_eq!(be32(&s.payload, 4), 51);
}

#[test]
fn s5_1_hop_limit_expired_gets_time_exceeded() {
    for hop in [0u8, 1] {
        let mut h = V6::new(h6(), s6());
        h.hop = hop;
        let pkt = h.build(UDP, &udp(Ips::V6(h6(), s6()), 4, 5, &payload(1400)));
        let mut t = xl(cfg());
        let err = icmp_error(&mut t, &pkt, DropReason::HopLimitExceeded);
        check_generated_v6(&err, &pkt, 3, 0);
        assert_eq!(err.len(), 1280, "RFC 4443 2.4(c): capped at 1280");
        let mut c = cfg();
        c.own_ipv6 = None;
        let mut t = xl(c);
        assert_eq!(go(&mut t, &pkt).0, Verdict::Dropped(DropReason::HopLimitExceeded));
    }
}

#[test]
fn s5_1_fragment_header_translates_to_ipv4_fragment() {
    // A 2000-byte UDP datagram in two IPv6 fragments (ID 0x12345678):
    // IPv4 fragments with ID 0x5678, offsets and MF copied, DF clear; they
    // reassemble to a datagram whose UDP checksum is valid for IPv4.
    let (h, s) = (h6(), s6());
    let l4 = udp(Ips::V6(h, s), 7, 9, &payload(1992));
    let (a, b) = l4.split_at(1232);
    let f1 = V6::new(h, s).build_ext(
        &[Ext::Fragment {
            offset: 0,
            mf: true,
            id: 0x1234_5678,
        }],
        UDP,
        a,
    );
    let f2 = V6::new(h, s).build_ext(
        &[Ext::Fragment {
            offset: 154,
            mf: false,
            id: 0x1234_5678,
        }],
        UDP,
        b,
    );
    let mut t = xl(cfg());
    let o1 = check_v4(&one(&mut t, &f1, Direction::SixToFour));
    let o2 = check_v4(&one(&mut t, &f2, Direction::SixToFour));
    for (o, off, mf) in [(&o1, 0, true), (&o2, 154, false)] {
        assert_eq!(o.id, 0x5678, "low-order 16 bits of the Identification");
        assert_eq!((o.frag_off, o.mf, o.df), (off, mf, false));
        assert_eq!(o.proto, UDP);
        assert_eq!(o.ttl, 63);
    }
    let whole = reassemble_v4(&[o1, o2]);
    assert_eq!(whole.len(), l4.len());
    check_reassembled_v4(v4(H4), v4(S4), UDP, &whole);
    // An atomic fragment (offset 0, M clear) is an unfragmented datagram.
    let small = udp(Ips::V6(h, s), 7, 9, &payload(500));
    let atomic = V6::new(h, s).build_ext(
        &[Ext::Fragment {
            offset: 0,
            mf: false,
            id: 0xffff_0001,
        }],
        UDP,
        &small,
    );
    let o = check_v4(&one(&mut t, &atomic, Direction::SixToFour));
    assert_eq!((o.id, o.frag_off, o.mf, o.df), (1, 0, false, false));
}

#[test]
fn s5_1_extension_after_fragment_header_refused() {
    let mut t = xl(cfg());
    let l4 = udp(Ips::V6(h6(), s6()), 4, 5, &payload(10));
    let pkt = V6::new(h6(), s6()).build_ext(
        &[
            Ext::Fragment {
                offset: 0,
                mf: false,
                id: 1,
            },
            Ext::DstOpts(0),
        ],
        UDP,
        &l4,
    );
    let err = icmp_error(&mut t, &pkt, DropReason::FragmentThenExtension);
    check_generated_v6(&err, &pkt, 1, 1);
}

#[test]
fn s5_too_big_gets_packet_too_big() {
    // mtu4 1500: a 1521-byte IPv6 packet (1501 as IPv4) gets PTB 1520.
    let mut t = xl(cfg());
    let fits = udp6_pkt(h6(), s6(), 1500 - 28);
    assert_eq!(check_v4(&one(&mut t, &fits, Direction::SixToFour)).payload.len(), 1480);
    let big = udp6_pkt(h6(), s6(), 1501 - 28);
    let err = icmp_error(&mut t, &big, DropReason::PacketTooBig);
    let s = check_generated_v6(&err, &big, 2, 0);
    assert_eq!(be32(&s.payload, 4), 1520);
    // With a Fragment header too (the IPv6 sender can lower its size).
    let l4 = udp(Ips::V6(h6(), s6()), 1, 2, &payload(1600));
    let frag = V6::new(h6(), s6()).build_ext(
        &[Ext::Fragment {
            offset: 0,
            mf: true,
            id: 3,
        }],
        UDP,
        &l4[..1504],
    );
    let err = icmp_error(&mut t, &frag, DropReason::PacketTooBig);
    assert_eq!(be32(&check_generated_v6(&err, &frag, 2, 0).payload, 4), 1520);
    // A small IPv4 MTU: never below 1280 in a PTB.
    let mut c = cfg();
    c.mtu4 = 1000;
    let mut t = xl(c);
    let df = udp6_pkt(h6(), s6(), 1300);
    let err = icmp_error(&mut t, &df, DropReason::PacketTooBig);
    assert_eq!(be32(&check_generated_v6(&err, &df, 2, 0).payload, 4), 1280);
    // No own IPv6 address: dropped.
    let mut c = cfg();
    c.own_ipv6 = None;
    let mut t = xl(c);
    assert_eq!(go(&mut t, &big).0, Verdict::Dropped(DropReason::PacketTooBig));
}

#[test]
fn s5_small_ipv4_mtu_fragments_fragmented_packets() {
    // Below what a PTB can express, a packet without DF (it has a Fragment
    // header) is fragmented for the IPv4 link rather than answered.
    let mut c = cfg();
    c.mtu4 = 576;
    let mut t = xl(c);
    let l4 = udp(Ips::V6(h6(), s6()), 1, 2, &payload(1100));
    let pkt = V6::new(h6(), s6()).build_ext(
        &[Ext::Fragment {
            offset: 0,
            mf: false,
            id: 0x99,
        }],
        UDP,
        &l4,
    );
    let (v, pkts) = go(&mut t, &pkt);
    let Verdict::Translated(e) = v else { panic!("{v:?}") };
    assert!(e.count >= 2);
    let seen: Vec<Seen4> = pkts.iter().map(|p| check_v4(p)).collect();
    for (p, s) in pkts.iter().zip(&seen) {
        assert!(p.len() <= 576);
        assert_eq!(s.id, 0x99);
        assert!(!s.df);
    }
    let whole = reassemble_v4(&seen);
    assert_eq!(whole.len(), l4.len());
    check_reassembled_v4(v4(H4), v4(S4), UDP, &whole);
}

#[test]
fn s5_2_echo_translated() {
    let mut t = xl(cfg());
    for (ty, ty4) in [(128u8, 8u8), (129, 0)] {
        let m = icmp6(h6(), s6(), ty, 0, [0xab, 0xcd, 0, 1], &payload(48));
        let pkt = V6::new(h6(), s6()).build(ICMPV6, &m);
        let s = check_v4(&one(&mut t, &pkt, Direction::SixToFour));
        assert_eq!(s.proto, ICMP);
        assert_eq!(s.payload[0], ty4);
        assert_eq!(&s.payload[4..], &m[4..]);
    }
}

#[test]
fn s5_2_nd_mld_and_unknown_types_dropped() {
    let mut t = xl(cfg());
    for ty in [130u8, 131, 132, 133, 134, 135, 136, 137, 139, 140, 143, 200, 255] {
        let m = icmp6(h6(), s6(), ty, 0, [0; 4], &payload(16));
        let mut h = V6::new(h6(), s6());
        h.hop = 255;
        let (v, _) = go(&mut t, &h.build(ICMPV6, &m));
        assert_eq!(v, Verdict::Dropped(DropReason::IcmpUntranslatableType), "type {ty}");
    }
}

/// An ICMPv6 error from `from` to the IPv4 client's IPv6 identity (S6),
/// about a UDP packet that client sent to the IPv6 host (H6).
fn icmp6_error_pkt(from: Ipv6Addr, ty: u8, code: u8, rest: [u8; 4], quoted: &[u8]) -> Vec<u8> {
    V6::new(from, s6()).build(ICMPV6, &icmp6(from, s6(), ty, code, rest, quoted))
}

/// Checks the IPv4 packet quoted by a translated ICMPv4 error: `orig`
/// (S6 -> H6, UDP) translated; header checksum and (complete) UDP checksum
/// valid.
fn check_quoted_v4(q: &[u8], orig: &[u8]) {
    assert_eq!(q[0], 0x45);
    assert!(checksum_ok(&[&q[..20]]), "inner header checksum");
    assert_eq!(addr4(&q[12..]), v4(S4), "inner source");
    assert_eq!(addr4(&q[16..]), v4(H4), "inner destination");
    assert_eq!(q[9], if orig[6] == ICMPV6 { ICMP } else { orig[6] });
    assert_eq!(q[8], orig[7], "inner TTL = inner hop limit");
    assert_eq!(usize::from(be16(q, 2)), orig.len() - 20, "inner Total Length");
    let l4 = &q[20..];
    if l4.len() == orig.len() - 40 && q[9] != ICMP {
        assert!(l4_checksum_ok(Ips::V4(v4(S4), v4(H4)), q[9], l4), "inner checksum");
    }
    if l4.len() == orig.len() - 40 && q[9] == ICMP {
        assert!(checksum_ok(&[l4]), "inner ICMP checksum");
    }
}

#[test]
fn s5_2_icmp_type_table() {
    let orig = udp6_pkt(s6(), h6(), 40);
    let mut rows: Vec<Row> = Vec::new();
    for c in [0, 2, 3] {
        rows.push(((1, c), Ok((3, 1))));
    }
    rows.push(((1, 1), Ok((3, 10))));
    rows.push(((1, 4), Ok((3, 3))));
    for c in [5, 6, 7, 8] {
        rows.push(((1, c), Err(DropReason::IcmpUntranslatableCode)));
    }
    rows.push(((2, 0), Ok((3, 4))));
    rows.push(((3, 0), Ok((11, 0))));
    rows.push(((3, 1), Ok((11, 1))));
    rows.push(((4, 0), Ok((12, 0))));
    rows.push(((4, 1), Ok((3, 2))));
    for c in [2, 3] {
        rows.push(((4, c), Err(DropReason::IcmpUntranslatableCode)));
    }
    for ty in [0, 5, 100, 101, 127] {
        rows.push(((ty, 0), Err(DropReason::IcmpUntranslatableType)));
    }
    for ((ty, code), want) in rows {
        let mut t = xl(cfg());
        let rest = match (ty, code) {
            (2, 0) => 1400u32.to_be_bytes(),
            (4, 0) => 7u32.to_be_bytes(),
            _ => [0; 4],
        };
        let pkt = icmp6_error_pkt(h6(), ty, code, rest, &orig);
        let (v, pkts) = go(&mut t, &pkt);
        match want {
            Ok((ty4, code4)) => {
                assert!(
                    matches!(v, Verdict::Translated(e) if e.direction == Direction::SixToFour),
                    "{ty}/{code}: {v:?}"
                );
                let s = check_v4(&pkts[0]);
                assert_eq!((s.src, s.dst), (v4(H4), v4(S4)), "{ty}/{code}");
                assert_eq!(s.proto, ICMP);
                assert_eq!((s.payload[0], s.payload[1]), (ty4, code4), "{ty}/{code}");
                match (ty4, code4) {
                    (3, 4) => assert_eq!(be32(&s.payload, 4), 1380, "PTB 1400 - 20"),
                    (12, 0) => assert_eq!(be32(&s.payload, 4), 8 << 24, "pointer 7 -> 8"),
                    _ => assert_eq!(be32(&s.payload, 4), 0, "{ty}/{code}: unused"),
                }
                check_quoted_v4(&s.payload[8..], &orig);
            }
            Err(r) => assert_eq!(v, Verdict::Dropped(r), "{ty}/{code}"),
        }
    }
}

#[test]
fn s5_2_parameter_problem_pointer_map() {
    // RFC 7915 s5.2 Figure 6.
    let want = |p: u32| -> Option<u8> {
        Some(match p {
            0 => 0,
            1 => 1,
            4 | 5 => 2,
            6 => 9,
            7 => 8,
            8..=23 => 12,
            24..=39 => 16,
            _ => return None,
        })
    };
    let orig = udp6_pkt(s6(), h6(), 40);
    for p in (0..=48u32).chain([256, 0x0100_0006, u32::MAX]) {
        let mut t = xl(cfg());
        let (v, pkts) = go(&mut t, &icmp6_error_pkt(h6(), 4, 0, p.to_be_bytes(), &orig));
        match want(p) {
            Some(q) => {
                assert!(matches!(v, Verdict::Translated(_)), "pointer {p}: {v:?}");
                let s = check_v4(&pkts[0]);
                assert_eq!((s.payload[0], s.payload[1]), (12, 0));
                assert_eq!(&s.payload[4..8], &[q, 0, 0, 0], "pointer {p}");
            }
            None => assert_eq!(
                v,
                Verdict::Dropped(DropReason::IcmpUntranslatablePointer),
                "pointer {p}"
            ),
        }
    }
}

#[test]
fn s5_2_packet_too_big_mtu() {
    // RFC 7915 s5.2: MTU = min(PTB MTU - 20, mtu4, mtu6 - 20).
    for (ptb, mtu4, mtu6, want) in [
        (1400u32, 1500u32, 1500u32, 1380u16),
        (1280, 1500, 1500, 1260),
        (9000, 1400, 9000, 1400),
        (9000, 9000, 1500, 1480),
    ] {
        let mut c = cfg();
        c.mtu4 = mtu4;
        c.mtu6 = mtu6;
        let mut t = xl(c);
        let orig = udp6_pkt(s6(), h6(), 100);
        let (v, pkts) = go(&mut t, &icmp6_error_pkt(h6(), 2, 0, ptb.to_be_bytes(), &orig));
        assert!(matches!(v, Verdict::Translated(_)), "{v:?}");
        let s = check_v4(&pkts[0]);
        assert_eq!((s.payload[0], s.payload[1]), (3, 4));
        assert_eq!(be16(&s.payload, 4), 0);
        assert_eq!(be16(&s.payload, 6), want, "PTB {ptb}, mtu4 {mtu4}, mtu6 {mtu6}");
    }
}

#[test]
fn s5_3_inner_packet_translated() {
    let mut t = xl(cfg());
    let (s, h) = (s6(), h6());
    let ips = Ips::V6(s, h);
    for (proto, l4) in [
        (UDP, udp(ips, 1, 2, &payload(33))),
        (TCP, tcp(ips, 1, 2, 3, &payload(20))),
        (ICMPV6, icmp6_echo(s, h, true, 5, 6, &payload(24))),
    ] {
        let mut ih = V6::new(s, h);
        ih.hop = 11;
        let orig = ih.build(proto, &l4);
        let out = one(&mut t, &icmp6_error_pkt(h, 1, 4, [0; 4], &orig), Direction::SixToFour);
        let seen = check_v4(&out);
        assert_eq!((seen.payload[0], seen.payload[1]), (3, 3));
        let q = &seen.payload[8..];
        assert_eq!(q.len(), orig.len() - 20);
        check_quoted_v4(q, &orig);
        if proto == ICMPV6 {
            assert_eq!(q[20], 8, "inner echo request type");
        }
    }
    // Inner extension headers are skipped too.
    let l4 = udp(ips, 1, 2, &payload(12));
    let orig = V6::new(s, h).build_ext(&[Ext::DstOpts(0)], UDP, &l4);
    let out = one(&mut t, &icmp6_error_pkt(h, 1, 4, [0; 4], &orig), Direction::SixToFour);
    let q = &check_v4(&out).payload[8..];
    assert_eq!(q.len(), 20 + l4.len());
    assert_eq!(usize::from(be16(q, 2)), 20 + l4.len());
    assert!(l4_checksum_ok(Ips::V4(v4(S4), v4(H4)), UDP, &q[20..]));
}

#[test]
fn s5_3_no_icmp_error_about_icmp_error() {
    let mut t = xl(cfg());
    let inner = V6::new(s6(), h6()).build(ICMPV6, &icmp6(s6(), h6(), 1, 4, [0; 4], &payload(48)));
    let pkt = icmp6_error_pkt(h6(), 3, 0, [0; 4], &inner);
    assert_eq!(go(&mut t, &pkt).0, Verdict::Dropped(DropReason::IcmpErrorInIcmpError));
    // Nor is an ICMPv6 error answered by the translator itself (hop limit).
    let mut h = V6::new(h6(), s6());
    h.hop = 1;
    let pkt = h.build(ICMPV6, &icmp6(h6(), s6(), 1, 4, [0; 4], &udp6_pkt(s6(), h6(), 8)));
    assert_eq!(go(&mut t, &pkt).0, Verdict::Dropped(DropReason::HopLimitExceeded));
    assert_eq!(t.counters().icmp_errors_generated, 0);
}

#[test]
fn s5_3_bad_icmp_checksum_dropped() {
    let mut t = xl(cfg());
    let mut pkt = icmp6_error_pkt(h6(), 1, 4, [0; 4], &udp6_pkt(s6(), h6(), 8));
    pkt[60] ^= 1;
    assert_eq!(go(&mut t, &pkt).0, Verdict::Dropped(DropReason::IcmpChecksum));
}

#[test]
fn s5_3_translated_error_capped_at_576() {
    let mut t = xl(cfg());
    let orig = udp6_pkt(s6(), h6(), 1400);
    let out = one(
        &mut t,
        &icmp6_error_pkt(h6(), 2, 0, 1280u32.to_be_bytes(), &orig[..1232]),
        Direction::SixToFour,
    );
    assert_eq!(out.len(), 576);
    let s = check_v4(&out);
    check_quoted_v4(&s.payload[8..], &orig);
}

#[test]
fn s5_2_rfc4884_length_rescaled() {
    // ICMPv6 1/0 quoting a 128-byte datagram (16 words of 8 bytes) plus an
    // extension: the quoted IPv4 datagram is 108 bytes, padded to the RFC
    // 4884 minimum of 128, so the ICMPv4 length is 32 words, at byte 5.
    let orig = udp6_pkt(s6(), h6(), 80);
    assert_eq!(orig.len(), 128);
    let ext = rfc4884_ext();
    let mut body = orig.clone();
    body.extend_from_slice(&ext);
    let mut t = xl(cfg());
    let out = one(
        &mut t,
        &icmp6_error_pkt(h6(), 1, 0, [16, 0, 0, 0], &body),
        Direction::SixToFour,
    );
    let s = check_v4(&out);
    let m = &s.payload;
    assert_eq!((m[0], m[1]), (3, 1));
    assert_eq!(
        (m[4], m[5], m[6], m[7]),
        (0, 32, 0, 0),
        "length attribute in 32-bit words at byte 5"
    );
    assert_eq!(m.len(), 8 + 128 + ext.len());
    check_quoted_v4(&m[8..8 + 108], &orig);
    assert!(m[8 + 108..8 + 128].iter().all(|&b| b == 0), "zero padding");
    assert_eq!(&m[8 + 128..], &ext[..]);
    // Time Exceeded too.
    let out = one(
        &mut t,
        &icmp6_error_pkt(h6(), 3, 0, [16, 0, 0, 0], &body),
        Direction::SixToFour,
    );
    assert_eq!(check_v4(&out).payload[5], 32);
}

// =============================================================== RFC 6791

#[test]
fn rfc6791_pool_used_for_untranslatable_icmp_error_sources() {
    // A router outside pool6 and the EAMT reports about a packet from the
    // IPv4 side: its address cannot be translated.
    let router = v6("2001:db8:1::1");
    let orig = udp6_pkt(s6(), h6(), 40);
    let pkt = icmp6_error_pkt(router, 3, 0, [0; 4], &orig);
    let pool: nat64_core::Ipv4Prefix = "203.0.113.16/28".parse().unwrap();
    for randomize in [true, false] {
        let mut c = cfg();
        c.rfc6791v4_prefix = Some(pool);
        c.randomize_rfc6791_addresses = randomize;
        let mut t = xl(c);
        let s = check_v4(&one(&mut t, &pkt, Direction::SixToFour));
        assert!(pool.contains(s.src), "{} not in {pool}", s.src);
        assert_eq!(s.dst, v4(S4));
        assert_eq!((s.payload[0], s.payload[1]), (11, 0));
        check_quoted_v4(&s.payload[8..], &orig);
    }
    // No pool: the translator's own address; neither: dropped.
    let mut t = xl(cfg());
    assert_eq!(check_v4(&one(&mut t, &pkt, Direction::SixToFour)).src, v4(OWN4));
    let mut c = cfg();
    c.own_ipv4 = None;
    let mut t = xl(c);
    assert_eq!(go(&mut t, &pkt).0, Verdict::Dropped(DropReason::NoErrorSource));
}

#[test]
fn rfc6791_v6_pool_for_eamt_only_translator() {
    // No pool6: an ICMPv4 error from a router outside the EAMT gets an
    // IPv6 source from rfc6791v6_prefix.
    let mut c = Config::default();
    c.eamt
        .add(
            "198.51.100.0/24".parse().unwrap(),
            "2001:db8:6::/120".parse().unwrap(),
            false,
        )
        .unwrap();
    c.eamt
        .add(
            "203.0.113.0/24".parse().unwrap(),
            "2001:db8:7::/120".parse().unwrap(),
            false,
        )
        .unwrap();
    let p6pool: nat64_core::Ipv6Prefix = "2001:db8:eeee::/120".parse().unwrap();
    c.rfc6791v6_prefix = Some(p6pool);
    let mut t = xl(c);
    let orig = udp4_pkt(H4, S4, 20);
    let s = check_v6(&one(
        &mut t,
        &icmp4_error_pkt(3, 3, [0; 4], &orig),
        Direction::FourToSix,
    ));
    assert!(p6pool.contains(s.src), "{}", s.src);
    assert_eq!(s.dst, v6("2001:db8:6::a"));
    let q = &s.payload[8..];
    assert_eq!(addr6(&q[8..]), v6("2001:db8:6::a"));
    assert_eq!(addr6(&q[24..]), v6("2001:db8:7::5"));
    assert!(l4_checksum_ok(Ips::V6(addr6(&q[8..]), addr6(&q[24..])), UDP, &q[40..]));
}

// =============================================================== RFC 6052

#[test]
fn rfc6052_s3_1_wkp_refuses_non_global() {
    let wkp = Pool::new("64:ff9b::", 96);
    let src = wkp.embed(v4("1.1.1.1"));
    let dst = wkp.embed(v4("10.0.0.1"));
    assert_eq!(dst, v6("64:ff9b::a00:1"));
    let pkt = udp6_pkt(src, dst, 10);
    let mut c = Config::with_pool6("64:ff9b::/96".parse().unwrap());
    let mut t = xl(c.clone());
    assert_eq!(
        go(&mut t, &pkt).0,
        Verdict::Dropped(DropReason::NonGlobalWithWellKnownPrefix)
    );
    assert_eq!(t.counters().drops(DropReason::NonGlobalWithWellKnownPrefix), 1);
    // Non-global source: refused for the same reason as a destination (it is
    // under pool6; "untranslatable" would send the operator after pool6).
    let pkt2 = udp6_pkt(wkp.embed(v4("192.168.1.1")), wkp.embed(v4("8.8.8.8")), 10);
    assert_eq!(
        go(&mut t, &pkt2).0,
        Verdict::Dropped(DropReason::NonGlobalWithWellKnownPrefix)
    );
    // With an own IPv6 address the sender hears of it (RFC 7915 s5.4).
    let mut c6 = c.clone();
    c6.own_ipv6 = Some(v6(OWN6));
    let err = icmp_error(&mut xl(c6), &pkt2, DropReason::NonGlobalWithWellKnownPrefix);
    check_generated_v6(&err, &pkt2, 1, 1);
    // IPv4 -> IPv6 from a non-global source: the same reason.
    let p4s = udp4_pkt("10.1.1.1", "8.8.8.8", 10);
    assert_eq!(
        go(&mut t, &p4s).0,
        Verdict::Dropped(DropReason::NonGlobalWithWellKnownPrefix)
    );
    // IPv4 -> IPv6 towards a non-global address.
    let p4 = udp4_pkt("8.8.8.8", "10.0.0.1", 10);
    assert_eq!(
        go(&mut t, &p4).0,
        Verdict::Dropped(DropReason::NonGlobalWithWellKnownPrefix)
    );
    // The check off: translated.
    c.wkp_forbids_non_global = false;
    let mut t = xl(c);
    let s = check_v4(&one(&mut t, &pkt, Direction::SixToFour));
    assert_eq!(s.dst, v4("10.0.0.1"));
    // RFC 8215 local-use prefix: not the WKP, so allowed.
    let local = Pool::new("64:ff9b:1::", 48);
    let mut t = xl(Config::with_pool6("64:ff9b:1::/48".parse().unwrap()));
    let pkt = udp6_pkt(local.embed(v4("10.0.0.2")), local.embed(v4("10.0.0.1")), 10);
    let s = check_v4(&one(&mut t, &pkt, Direction::SixToFour));
    assert_eq!((s.src, s.dst), (v4("10.0.0.2"), v4("10.0.0.1")));
}

#[test]
fn rfc6052_s2_2_every_prefix_length_both_ways() {
    for (p, len) in POOLS {
        let pool = Pool::new(p, len);
        let mut t = xl(Config::with_pool6(pool.text().parse().unwrap()));
        let pkt = udp4_pkt("192.0.2.33", "198.51.100.77", 10);
        let s = check_v6(&one(&mut t, &pkt, Direction::FourToSix));
        assert_eq!(
            (s.src, s.dst),
            (pool.embed(v4("192.0.2.33")), pool.embed(v4("198.51.100.77"))),
            "/{len}"
        );
        assert_eq!(s.src.octets()[8], 0, "u-octet");
        let back = check_v4(&one(&mut t, &udp6_pkt(s.dst, s.src, 10), Direction::SixToFour));
        assert_eq!((back.src, back.dst), (v4("198.51.100.77"), v4("192.0.2.33")));
    }
    // RFC 6052 s2.4 table row.
    assert_eq!(
        embed(v6("2001:db8:122:300::"), 56, v4("192.0.2.33")),
        v6("2001:db8:122:3c0:0:221::")
    );
}

// ==================================================== denylist, not ours

#[test]
fn denylisted_destinations_are_not_ours() {
    let mut c = cfg();
    c.denylist4.push("198.18.0.0/15".parse().unwrap());
    let mut t = xl(c);
    for dst in [
        "0.1.2.3",
        "127.0.0.1",
        "169.254.1.1",
        "224.0.0.5",
        "239.255.255.250",
        "255.255.255.255",
        OWN4,
        "198.19.4.4",
    ] {
        let pkt = udp4_pkt(S4, dst, 10);
        assert_eq!(
            go(&mut t, &pkt).0,
            Verdict::NotOurs(NotOurs::DestinationDenylisted),
            "{dst}"
        );
        // Same the other way: an IPv6 packet to the pool6 image.
        let pkt6 = udp6_pkt(h6(), p6(dst), 10);
        assert_eq!(
            go(&mut t, &pkt6).0,
            Verdict::NotOurs(NotOurs::DestinationDenylisted),
            "6->4 {dst}"
        );
    }
    let n: u64 = t.counters().not_ours_reasons().map(|(_, n)| n).sum();
    assert_eq!(n, 16);
    // A denylisted source: not translatable.
    let pkt = udp4_pkt("127.0.0.1", H4, 10);
    assert_eq!(go(&mut t, &pkt).0, Verdict::Dropped(DropReason::SourceUntranslatable));
}

#[test]
fn unmapped_destinations_are_not_ours() {
    let mut t = xl(cfg());
    let pkt = udp6_pkt(h6(), v6("2001:db8:99::1"), 10);
    assert_eq!(go(&mut t, &pkt).0, Verdict::NotOurs(NotOurs::DestinationNotMapped));
    assert_eq!(go(&mut t, &[]).0, Verdict::NotOurs(NotOurs::NotIp));
    assert_eq!(go(&mut t, &[0x10, 0, 0]).0, Verdict::NotOurs(NotOurs::NotIp));
    // Without pool6 only the EAMT maps IPv4 destinations.
    let mut c = Config::default();
    c.eamt
        .add(
            "198.51.100.0/24".parse().unwrap(),
            "2001:db8:6::/120".parse().unwrap(),
            false,
        )
        .unwrap();
    let mut t = xl(c);
    assert_eq!(
        go(&mut t, &udp4_pkt(S4, "8.8.8.8", 10)).0,
        Verdict::NotOurs(NotOurs::DestinationNotMapped)
    );
    // Source outside: the destination is ours, the source is not mappable.
    assert_eq!(
        go(&mut t, &udp4_pkt(S4, H4, 10)).0,
        Verdict::Dropped(DropReason::SourceUntranslatable)
    );
}

// =============================================================== RFC 7757

#[test]
fn rfc7757_s3_3_longest_prefix_both_ways() {
    let mut c = cfg();
    c.eamt
        .add(
            "192.0.2.0/24".parse().unwrap(),
            "2001:db8:aaaa::/120".parse().unwrap(),
            false,
        )
        .unwrap();
    c.eamt
        .add(
            "192.0.2.128/25".parse().unwrap(),
            "2001:db8:bbbb::/121".parse().unwrap(),
            true,
        )
        .unwrap();
    let mut t = xl(c);
    for (a4, a6) in [
        ("192.0.2.5", "2001:db8:aaaa::5"),
        ("192.0.2.200", "2001:db8:bbbb::48"),
        ("192.0.2.128", "2001:db8:bbbb::"),
    ] {
        let s = check_v6(&one(&mut t, &udp4_pkt("8.8.8.8", a4, 10), Direction::FourToSix));
        assert_eq!(s.dst, v6(a6), "4->6 {a4}");
        assert_eq!(s.src, p6("8.8.8.8"), "pool6 for the rest");
        let s = check_v4(&one(&mut t, &udp6_pkt(v6(a6), p6("8.8.8.8"), 10), Direction::SixToFour));
        assert_eq!(s.src, v4(a4), "6->4 {a6}");
    }
    // An address under pool6 still maps through pool6, even when its IPv4
    // address lies inside an EAM.
    let s = check_v4(&one(
        &mut t,
        &udp6_pkt(p6("192.0.2.9"), p6("8.8.8.8"), 10),
        Direction::SixToFour,
    ));
    assert_eq!(s.src, v4("192.0.2.9"));
}

fn hairpin_cfg(mode: HairpinMode) -> Config {
    let mut c = cfg();
    c.eamt
        .add(
            "192.0.2.0/24".parse().unwrap(),
            "2001:db8:6::/120".parse().unwrap(),
            false,
        )
        .unwrap();
    c.eam_hairpin_mode = mode;
    c
}

#[test]
fn rfc7757_s4_2_intrinsic_hairpinning() {
    let mut t = xl(hairpin_cfg(HairpinMode::Intrinsic));
    let src = v6("2001:db8:6::5");
    let dst = v6("2001:db8:64::192.0.2.7");
    let mut h = V6::new(src, dst);
    h.hop = 30;
    let l4 = udp(Ips::V6(src, dst), 1000, 2000, &payload(77));
    let out = one(&mut t, &h.build(UDP, &l4), Direction::SixToSix);
    let s = check_v6(&out);
    assert_eq!(s.dst, v6("2001:db8:6::7"));
    assert_eq!(
        s.src,
        v6("2001:db8:64::192.0.2.5"),
        "source from pool6 in intrinsic mode"
    );
    assert_eq!(s.hop, 29);
    assert_eq!(&s.payload[8..], &l4[8..]);
    assert_eq!(t.counters().hairpinned, 1);
    // The reply goes the same way back.
    let l4 = udp(Ips::V6(s.dst, s.src), 2000, 1000, &payload(5));
    let back = check_v6(&one(
        &mut t,
        &V6::new(s.dst, s.src).build(UDP, &l4),
        Direction::SixToSix,
    ));
    assert_eq!(
        (back.src, back.dst),
        (v6("2001:db8:64::192.0.2.7"), v6("2001:db8:6::5"))
    );
    assert_eq!(t.counters().hairpinned, 2);
    assert_eq!(t.counters().translated_6to4 + t.counters().translated_4to6, 0);
}

#[test]
fn rfc7757_s4_2_simple_and_off() {
    let src = v6("2001:db8:6::5");
    let dst = v6("2001:db8:64::192.0.2.7");
    let pkt = V6::new(src, dst).build(UDP, &udp(Ips::V6(src, dst), 1, 2, &payload(9)));
    let mut t = xl(hairpin_cfg(HairpinMode::Simple));
    let s = check_v6(&one(&mut t, &pkt, Direction::SixToSix));
    assert_eq!((s.src, s.dst), (src, v6("2001:db8:6::7")), "simple: EAMT source");
    let mut t = xl(hairpin_cfg(HairpinMode::Off));
    let s = check_v4(&one(&mut t, &pkt, Direction::SixToFour));
    assert_eq!((s.src, s.dst), (v4("192.0.2.5"), v4("192.0.2.7")));
}

// =============================================================== counters

#[test]
fn counters_per_verdict_and_reason() {
    let mut t = xl(cfg());
    one(&mut t, &udp6_pkt(h6(), s6(), 10), Direction::SixToFour);
    let mut big = udp4(S4, H4, 1400);
    big.0.df = false;
    let (v, _) = go(&mut t, &big.0.build(&big.1));
    assert!(matches!(v, Verdict::Translated(e) if e.count == 2));
    let mut expired = udp4(S4, H4, 10);
    expired.0.ttl = 1;
    icmp_error(&mut t, &expired.0.build(&expired.1), DropReason::HopLimitExceeded);
    let mut bad = udp4_pkt(S4, H4, 10);
    bad[11] ^= 0xff;
    let _ = go(&mut t, &bad);
    let _ = go(&mut t, &bad);
    let _ = go(&mut t, &[0u8; 3]);
    let _ = go(&mut t, &udp6_pkt(h6(), v6("2001:db8:99::1"), 10));

    let c = t.counters();
    assert_eq!(c.translated_6to4, 1);
    assert_eq!(c.translated_4to6, 1);
    assert_eq!(c.fragments_emitted, 1);
    assert_eq!(c.hairpinned, 0);
    assert_eq!(c.icmp_errors_generated, 1);
    assert_eq!(c.drops(DropReason::HopLimitExceeded), 1);
    assert_eq!(c.drops(DropReason::BadIpv4Checksum), 2);
    assert_eq!(
        c.drop_reasons().collect::<Vec<_>>(),
        vec![(DropReason::BadIpv4Checksum, 2), (DropReason::HopLimitExceeded, 1)]
    );
    let mut no: Vec<_> = c.not_ours_reasons().collect();
    no.sort();
    assert_eq!(no, vec![(NotOurs::NotIp, 1), (NotOurs::DestinationNotMapped, 1)]);
}

#[test]
fn rfc7757_s4_2_intrinsic_hairpinning_of_icmp_errors() {
    // 2001:db8:6::7 answers the hairpinned packet of 2001:db8:6::5 (which
    // it sees as coming from 2001:db8:64::192.0.2.5) with Port Unreachable:
    // the error goes back to 2001:db8:6::5, from and quoting the pool6
    // address it sent to, with valid inner checksums.
    let mut t = xl(hairpin_cfg(HairpinMode::Intrinsic));
    let a = v6("2001:db8:6::5");
    let b = v6("2001:db8:6::7");
    let pa = v6("2001:db8:64::192.0.2.5");
    let pb = v6("2001:db8:64::192.0.2.7");
    let orig = V6::new(pa, b).build(UDP, &udp(Ips::V6(pa, b), 1, 2, &payload(20)));
    let err = V6::new(b, pa).build(ICMPV6, &icmp6(b, pa, 1, 4, [0; 4], &orig));
    let s = check_v6(&one(&mut t, &err, Direction::SixToSix));
    assert_eq!((s.src, s.dst), (pb, a));
    assert_eq!((s.payload[0], s.payload[1]), (1, 4), "1/4 -> 3/3 -> 1/4");
    let q = &s.payload[8..];
    assert_eq!((addr6(&q[8..]), addr6(&q[24..])), (a, pb));
    assert!(l4_checksum_ok(Ips::V6(a, pb), UDP, &q[40..]));
}

#[test]
fn rfc7757_s4_2_hairpin_loop_dropped() {
    // An EAM whose IPv6 side lies inside pool6 would send the packet
    // around again.
    let mut c = cfg();
    c.eamt
        .add(
            "192.0.2.0/24".parse().unwrap(),
            "2001:db8:64::c000:200/120".parse().unwrap(),
            false,
        )
        .unwrap();
    let mut t = xl(c);
    let (src, dst) = (v6("2001:db8:64::c000:205"), v6("2001:db8:64::c000:207"));
    let pkt = V6::new(src, dst).build(UDP, &udp(Ips::V6(src, dst), 1, 2, &payload(10)));
    assert_eq!(go(&mut t, &pkt).0, Verdict::Dropped(DropReason::HairpinLoop));
}

#[test]
/// RFC 7757 s4.2 with RFC 8201: a hairpinned packet too big for the IPv6
/// egress gets Packet Too Big, not an oversized packet.
fn rfc7757_s4_2_hairpin_respects_mtu6() {
    let mut c = hairpin_cfg(HairpinMode::Intrinsic);
    c.mtu6 = 1280;
    let mut t = xl(c);
    let (src, dst) = (v6("2001:db8:6::5"), v6("2001:db8:64::192.0.2.7"));
    let pkt = V6::new(src, dst).build(UDP, &udp(Ips::V6(src, dst), 1, 2, &payload(1400)));
    let (v, pkts) = go(&mut t, &pkt);
    assert!(
        matches!(
            v,
            Verdict::IcmpError {
                reason: DropReason::PacketTooBig,
                ..
            } | Verdict::Dropped(DropReason::PacketTooBig)
        ),
        "{v:?}"
    );
    for p in &pkts {
        assert!(p.len() <= 1280, "{v:?}: {} bytes on a 1280-byte link", p.len());
    }
}

#[test]
/// RFC 791: a fragment may not end past 65 535 bytes; re-fragmenting one
/// must not wrap the 13-bit offset.
fn s4_1_refragmenting_past_65535_bytes_dropped() {
    let mut t = xl(cfg());
    let mut h = V4::new(v4(S4), v4(H4), UDP);
    h.frag_off = 8100;
    let (v, pkts) = go(&mut t, &h.build(&payload(1400)));
    assert_eq!(v, Verdict::Dropped(DropReason::FragmentBeyondMaximum));
    assert!(pkts.is_empty());
}

#[test]
fn s4_3_s5_3_inner_untranslatable_dropped() {
    let mut t = xl(cfg());
    let orig = udp6_pkt(v6("2001:db8:99::1"), h6(), 10);
    let (v, _) = go(&mut t, &icmp6_error_pkt(h6(), 1, 4, [0; 4], &orig));
    assert_eq!(v, Verdict::Dropped(DropReason::InnerUntranslatable));
    let mut c = Config::default();
    c.eamt
        .add(
            "198.51.100.0/24".parse().unwrap(),
            "2001:db8:6::/120".parse().unwrap(),
            false,
        )
        .unwrap();
    c.rfc6791v6_prefix = Some("2001:db8:eeee::/120".parse().unwrap());
    let mut t = xl(c);
    let (v, _) = go(&mut t, &icmp4_error_pkt(3, 3, [0; 4], &udp4_pkt(H4, "8.8.8.8", 10)));
    assert_eq!(v, Verdict::Dropped(DropReason::InnerUntranslatable));
}

#[test]
fn s5_5_checksum_update_is_incremental() {
    // TCP 6->4 with a checksum off by 4 stays off by 4.
    let mut t = xl(cfg());
    let mut l4 = tcp(Ips::V6(h6(), s6()), 1, 2, 3, &payload(10));
    let c = be16(&l4, 16);
    l4[16..18].copy_from_slice(&c.wrapping_sub(4).to_be_bytes());
    let out = one(&mut t, &V6::new(h6(), s6()).build(TCP, &l4), Direction::SixToFour);
    let sum = ones_sum(&[Ips::V4(v4(H4), v4(S4)).pseudo(TCP, l4.len()), out[20..].to_vec()].concat());
    assert_eq!(sum, 0xfffb);
    // ICMPv4 echo 4->6 with a wrong checksum stays wrong.
    let mut m = icmp4_echo(true, 1, 2, &payload(10));
    let c = be16(&m, 2);
    m[2..4].copy_from_slice(&c.wrapping_sub(2).to_be_bytes());
    let out = one(&mut t, &V4::new(v4(S4), v4(H4), ICMP).build(&m), Direction::FourToSix);
    let sum = ones_sum(&[Ips::V6(s6(), h6()).pseudo(ICMPV6, m.len()), out[40..].to_vec()].concat());
    assert_eq!(sum, 0xfffd);
}

/// RFC 7915 section 5.4: an IPv6 packet dropped because its source cannot be
/// translated gets ICMPv6 1/1 (administratively prohibited) from the
/// translator, hairpinned or not; never for multicast or unspecified
/// sources, nor about an ICMPv6 error.
#[test]
fn s5_4_untranslatable_source_gets_icmpv6_1_1() {
    let mut t = xl(cfg());
    let pkt = udp6_pkt(v6("2001:db8:9::1"), s6(), 20);
    let err = icmp_error(&mut t, &pkt, DropReason::SourceUntranslatable);
    let seen = check_generated_v6(&err, &pkt, 1, 1);
    assert_eq!(&seen.payload[8..], &pkt[..], "the whole packet is quoted");
    assert_eq!(t.counters().drops(DropReason::SourceUntranslatable), 1);
    for src in ["ff02::1", "::"] {
        let p = udp6_pkt(v6(src), s6(), 20);
        assert_eq!(go(&mut t, &p).0, Verdict::Dropped(DropReason::SourceUntranslatable));
    }
    // Not about an ICMPv6 message, nor about a later fragment.
    let (u, d) = (v6("2001:db8:9::1"), s6());
    let ping = V6::new(u, d).build(ICMPV6, &icmp6_echo(u, d, true, 1, 1, b"x"));
    assert_eq!(go(&mut t, &ping).0, Verdict::Dropped(DropReason::SourceUntranslatable));
    let later = V6::new(u, d).build_ext(
        &[Ext::Fragment {
            offset: 10,
            mf: false,
            id: 9,
        }],
        UDP,
        &[0u8; 16],
    );
    assert_eq!(go(&mut t, &later).0, Verdict::Dropped(DropReason::SourceUntranslatable));
    // Without an own IPv6 address there is nothing to send it from.
    let mut c = cfg();
    c.own_ipv6 = None;
    assert_eq!(
        go(&mut xl(c), &pkt).0,
        Verdict::Dropped(DropReason::SourceUntranslatable)
    );
}

/// RFC 8200 section 8.1: IPv6 UDP with checksum 0 is invalid; it used to be
/// "updated" from 0 into a wrong IPv4 checksum. Dropped by default; computed
/// for unfragmented datagrams with amend_udp_checksum_zero; forwarded as 0
/// with forward_udp_checksum_zero.
#[test]
fn s5_1_ipv6_udp_checksum_zero() {
    let (s, d) = (h6(), s6());
    let u = udp_no_checksum(1000, 53, &payload(33));
    let pkt = V6::new(s, d).build(UDP, &u);
    let mut t = xl(cfg());
    assert_eq!(go(&mut t, &pkt).0, Verdict::Dropped(DropReason::Ipv6UdpChecksumZero));
    assert_eq!(t.counters().drops(DropReason::Ipv6UdpChecksumZero), 1);
    // Amended: a real IPv4 checksum (check_v4 verifies it with etherparse).
    let mut c = cfg();
    c.amend_udp_checksum_zero = true;
    let out = one(&mut xl(c.clone()), &pkt, Direction::SixToFour);
    let seen = check_v4(&out);
    assert_ne!(be16(&seen.payload, 6), 0);
    assert!(l4_checksum_ok(Ips::V4(v4(H4), v4(S4)), UDP, &seen.payload));
    // A first fragment cannot be amended.
    let frag = V6::new(s, d).build_ext(
        &[Ext::Fragment {
            offset: 0,
            mf: true,
            id: 7,
        }],
        UDP,
        &u[..24],
    );
    assert_eq!(
        go(&mut xl(c), &frag).0,
        Verdict::Dropped(DropReason::Ipv6UdpChecksumZero)
    );
    // Forwarded unchanged, in both directions, fragments too.
    let mut c = cfg();
    c.forward_udp_checksum_zero = true;
    let mut t = xl(c);
    let out = one(&mut t, &pkt, Direction::SixToFour);
    assert_eq!(be16(&out[20..], 6), 0);
    assert_eq!(&out[20..], &u[..], "the datagram is unchanged");
    let back = V4::new(v4(S4), v4(H4), UDP).build(&u);
    let out = one(&mut t, &back, Direction::FourToSix);
    assert_eq!(&out[40..], &u[..]);
    let mut h = V4::new(v4(S4), v4(H4), UDP);
    h.mf = true;
    let f4 = h.build(&u[..24]);
    let out = one(&mut t, &f4, Direction::FourToSix);
    assert_eq!(&out[48..], &u[..24]);
}

/// IPv4 datagrams of 65 516 to 65 535 bytes are legal; their IPv6
/// translation exceeds 65 535 bytes with the IPv6 header, but its Payload
/// Length (RFC 8200) does not, so they translate (fragmented to
/// lowest-ipv6-mtu) instead of `fragment_beyond_maximum`.
#[test]
fn s4_largest_ipv4_datagrams_translate() {
    for total in [65_515usize, 65_516, 65_535] {
        let n = total - 20 - 8;
        let (s, d) = (v4(S4), v4(H4));
        let u = udp(Ips::V4(s, d), 1, 2, &payload(n));
        let pkt = V4::new(s, d, UDP).build(&u);
        assert_eq!(pkt.len(), total);
        let mut t = xl(cfg());
        let (v, pkts) = go(&mut t, &pkt);
        assert!(matches!(v, Verdict::Translated(e) if e.count > 1), "{total}: {v:?}");
        let frags: Vec<Seen6> = pkts.iter().map(|p| check_v6(p)).collect();
        assert!(pkts.iter().all(|p| p.len() <= 1280));
        let l4 = reassemble_v6(&frags);
        assert_eq!(l4.len(), total - 20);
        check_reassembled_v6(v6_src_of(&frags), frags[0].dst, UDP, &l4);
        assert_eq!(&l4[8..], &u[8..]);
    }
}

fn v6_src_of(f: &[Seen6]) -> Ipv6Addr {
    f[0].src
}
