//! Segmentation offload (GRO/GSO super-packets): translated once, judged on
//! the segment size against DF and the egress MTU (RFC 7915 sections 4 and
//! 5), never fragmented, and with the partial-checksum convention of
//! `CHECKSUM_PARTIAL` carried across the new pseudo-header.

use etherparse::{NetSlice, SlicedPacket, TransportSlice};
use nat64_core::nat64::{Instant, Nat64, Nat64Config, Pool4Entry};
use nat64_core::{Config, Direction, DropReason, Translator, Verdict, OUTPUT_BUFFER_LEN};
use std::net::{Ipv4Addr, Ipv6Addr};

fn sum(b: &[u8]) -> u32 {
    b.chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum()
}
fn fold(mut s: u32) -> u16 {
    while s > 0xffff {
        s = (s & 0xffff) + (s >> 16);
    }
    s as u16
}
fn pseudo6(src: Ipv6Addr, dst: Ipv6Addr, len: usize) -> u32 {
    sum(&src.octets()) + sum(&dst.octets()) + 6 + len as u32
}
fn pseudo4(src: Ipv4Addr, dst: Ipv4Addr, len: usize) -> u32 {
    sum(&src.octets()) + sum(&dst.octets()) + 6 + len as u32
}

/// An IPv6 TCP super-packet of `n` payload bytes; `partial`: the checksum
/// field holds the pseudo-header sum (CHECKSUM_PARTIAL), else a full one.
fn tcp6(src: Ipv6Addr, dst: Ipv6Addr, n: usize, partial: bool) -> Vec<u8> {
    let mut tcp = vec![0u8; 20 + n];
    tcp[0..2].copy_from_slice(&40000u16.to_be_bytes());
    tcp[2..4].copy_from_slice(&443u16.to_be_bytes());
    tcp[12] = 5 << 4;
    tcp[13] = 0x10;
    for (i, b) in tcp[20..].iter_mut().enumerate() {
        *b = i as u8;
    }
    let p = pseudo6(src, dst, tcp.len());
    let c = if partial { fold(p) } else { !fold(p + sum(&tcp)) };
    tcp[16..18].copy_from_slice(&c.to_be_bytes());
    let mut pkt = vec![0x60, 0, 0, 0];
    pkt.extend_from_slice(&(tcp.len() as u16).to_be_bytes());
    pkt.extend_from_slice(&[6, 64]);
    pkt.extend_from_slice(&src.octets());
    pkt.extend_from_slice(&dst.octets());
    pkt.extend_from_slice(&tcp);
    pkt
}

fn translator() -> Translator {
    let mut c = Config::with_pool6("2001:db8:64::/96".parse().unwrap());
    c.own_ipv6 = Some("2001:db8::1".parse().unwrap());
    c.own_ipv4 = Some("192.0.2.1".parse().unwrap());
    Translator::new(c).unwrap()
}

const SRC6: &str = "2001:db8:64::c000:221";
const DST6: &str = "2001:db8:64::c633:6407";

/// A 20 000-byte super-packet with 1440-byte segments: one IPv4 packet, DF
/// set (each segment is above 1260 bytes), valid checksum, no Packet Too
/// Big although the whole exceeds the 1500-byte MTU.
#[test]
fn super_packet_6to4_translated_whole() {
    let mut t = translator();
    let pkt = tcp6(SRC6.parse().unwrap(), DST6.parse().unwrap(), 20_000, false);
    let mut out = vec![0u8; OUTPUT_BUFFER_LEN];
    let v = t.translate_gso(&pkt, &mut out, 1440);
    let Verdict::Translated(e) = v else { panic!("{v:?}") };
    assert_eq!(
        (e.direction, e.count, e.total_len()),
        (Direction::SixToFour, 1, 20 + 20 + 20_000)
    );
    let s = SlicedPacket::from_ip(&out[..e.total_len()]).unwrap();
    let Some(NetSlice::Ipv4(ip)) = &s.net else { panic!() };
    assert!(ip.header().dont_fragment());
    let Some(TransportSlice::Tcp(tcp)) = &s.transport else {
        panic!()
    };
    let want = tcp
        .to_header()
        .calc_checksum_ipv4(&ip.header().to_header(), tcp.payload())
        .unwrap();
    assert_eq!(tcp.checksum(), want);
    // The same packet without the offload is too big for the IPv4 link.
    let v = t.translate(&pkt, &mut out);
    assert!(
        matches!(
            v,
            Verdict::IcmpError {
                reason: DropReason::PacketTooBig,
                ..
            }
        ),
        "{v:?}"
    );
}

/// CHECKSUM_PARTIAL: complemented before and after, the field comes out as
/// the new pseudo-header sum, as the kernel expects to finish it.
#[test]
fn partial_checksum_follows_the_new_pseudo_header() {
    let mut t = translator();
    let mut pkt = tcp6(SRC6.parse().unwrap(), DST6.parse().unwrap(), 9_000, true);
    let f = u16::from_be_bytes([pkt[56], pkt[57]]);
    pkt[56..58].copy_from_slice(&(!f).to_be_bytes());
    let mut out = vec![0u8; OUTPUT_BUFFER_LEN];
    let Verdict::Translated(e) = t.translate_gso(&pkt, &mut out, 1440) else {
        panic!()
    };
    let o = &mut out[..e.total_len()];
    let c = u16::from_be_bytes([o[36], o[37]]);
    o[36..38].copy_from_slice(&(!c).to_be_bytes());
    let got = u16::from_be_bytes([o[36], o[37]]);
    let want = fold(pseudo4(
        "192.0.2.33".parse().unwrap(),
        "198.51.100.7".parse().unwrap(),
        20 + 9_000,
    ));
    assert_eq!(got, want);
}

/// Segments bigger than the IPv4 MTU still get Packet Too Big with the MTU
/// a segment may have (RFC 7915 section 5: mtu4 + 20).
#[test]
fn segments_too_big_get_packet_too_big() {
    let mut t = translator();
    let pkt = tcp6(SRC6.parse().unwrap(), DST6.parse().unwrap(), 20_000, false);
    let mut out = vec![0u8; OUTPUT_BUFFER_LEN];
    let v = t.translate_gso(&pkt, &mut out, 1480);
    let Verdict::IcmpError {
        len,
        reason: DropReason::PacketTooBig,
    } = v
    else {
        panic!("{v:?}")
    };
    assert_eq!(&out[40..42], &[2, 0]);
    assert_eq!(u32::from_be_bytes([out[44], out[45], out[46], out[47]]), 1520);
    assert!(len as usize <= 1280);
}

/// IPv4 -> IPv6 (GRO on the IPv4 side): one IPv6 packet, no Fragmentation
/// Needed and no fragmentation although the whole exceeds mtu6; the
/// stateful translator does the same.
#[test]
fn super_packet_4to6_and_stateful() {
    // Stateless 4->6: build by translating an IPv6 super-packet the other way first.
    let mut t = translator();
    let pkt6 = tcp6(SRC6.parse().unwrap(), DST6.parse().unwrap(), 30_000, false);
    let mut v4 = vec![0u8; OUTPUT_BUFFER_LEN];
    let Verdict::Translated(e) = t.translate_gso(&pkt6, &mut v4, 1440) else {
        panic!()
    };
    let v4 = v4[..e.total_len()].to_vec();
    let mut out = vec![0u8; OUTPUT_BUFFER_LEN];
    let v = t.translate_gso(&v4, &mut out, 1440);
    let Verdict::Translated(e) = v else { panic!("{v:?}") };
    assert_eq!((e.direction, e.count), (Direction::FourToSix, 1));
    assert_eq!(&out[8..e.total_len()], &pkt6[8..], "round trip restores the packet");
    // Stateful 6->4.
    let mut cfg = Nat64Config::new(
        "2001:db8:64::/96".parse().unwrap(),
        vec![Pool4Entry::new("203.0.113.1".parse().unwrap())],
    );
    cfg.xlat.own_ipv6 = Some("2001:db8::1".parse().unwrap());
    let mut n = Nat64::new(cfg).unwrap();
    let client = tcp6("2001:db8::5".parse().unwrap(), DST6.parse().unwrap(), 30_000, false);
    let mut syn = tcp6("2001:db8::5".parse().unwrap(), DST6.parse().unwrap(), 0, false);
    syn[40 + 13] = 0x02;
    let v = n.translate(&syn, &mut out, Instant::from_secs(1));
    assert!(matches!(v, Verdict::Translated(_)), "{v:?}");
    let v = n.translate_gso(&client, &mut out, Instant::from_secs(2), 1440);
    assert!(matches!(v, Verdict::Translated(e) if e.count == 1), "{v:?}");
}
