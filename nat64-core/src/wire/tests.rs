//! Tests of the public packet views: against etherparse as an independent
//! parser, the error cases, and no panic on any input.

use alloc::vec::Vec;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use etherparse::{IpNumber, PacketBuilder, SlicedPacket};
use proptest::prelude::*;

use super::*;

const S4: [u8; 4] = [192, 0, 2, 1];
const D4: [u8; 4] = [198, 51, 100, 7];
const S6: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
const D6: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0x64, 0, 0, 0, 0, 0, 0, 198, 51, 100, 7];

fn udp4(payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    PacketBuilder::ipv4(S4, D4, 64)
        .udp(1234, 53)
        .write(&mut v, payload)
        .unwrap();
    v
}

fn tcp6(payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    PacketBuilder::ipv6(S6, D6, 64)
        .tcp(40000, 443, 1, 1000)
        .write(&mut v, payload)
        .unwrap();
    v
}

/// An IPv6 packet with the extension headers `ext` (each `[next, len, ...]`
/// already chained, the last one's next header `upper`) and payload `l4`.
fn v6_with(first: u8, ext: &[u8], l4: &[u8]) -> Vec<u8> {
    let plen = (ext.len() + l4.len()) as u16;
    let mut v = Vec::from([0x60, 0, 0, 0]);
    v.extend_from_slice(&plen.to_be_bytes());
    v.extend_from_slice(&[first, 64]);
    v.extend_from_slice(&S6);
    v.extend_from_slice(&D6);
    v.extend_from_slice(ext);
    v.extend_from_slice(l4);
    v
}

#[test]
fn ipv4_fields_match_etherparse() {
    let mut p = udp4(b"hello");
    p.extend_from_slice(&[0; 6]); // link-layer padding past Total Length
    let v = Ipv4Packet::new_checked(&p[..]).unwrap();
    let e = SlicedPacket::from_ip(&p).unwrap();
    let Some(etherparse::NetSlice::Ipv4(ip)) = e.net else {
        panic!("etherparse: not IPv4")
    };
    let h = ip.header();
    assert_eq!(v.header_len(), usize::from(h.ihl()) * 4);
    assert_eq!(v.total_len(), h.total_len());
    assert_eq!(v.ident(), h.identification());
    assert_eq!(v.dont_frag(), h.dont_fragment());
    assert_eq!(v.more_frags(), h.more_fragments());
    assert_eq!(v.frag_offset(), h.fragments_offset().byte_offset());
    assert_eq!(v.ttl(), h.ttl());
    assert_eq!(v.protocol(), h.protocol().0);
    assert_eq!(v.checksum(), h.header_checksum());
    assert!(v.verify_checksum());
    assert_eq!(v.src_addr(), Ipv4Addr::from(h.source()));
    assert_eq!(v.dst_addr(), Ipv4Addr::from(h.destination()));
    assert_eq!(v.payload(), ip.payload().payload);
    assert_eq!(v.as_bytes().len(), p.len() - 6);
    assert_eq!(v.ports(), Some((1234, 53)));
    assert!(!v.is_fragment());
    assert_eq!(v.icmp_error_quote(), None);
    let s = IpPacket::new_checked(&p[..]).unwrap().summary();
    assert_eq!(s.to_string(), "ipv4 192.0.2.1 > 198.51.100.7 udp 1234 > 53 len 33");
}

#[test]
fn ipv6_fields_match_etherparse() {
    let p = tcp6(b"data");
    let v = Ipv6Packet::new_checked(&p[..]).unwrap();
    let e = SlicedPacket::from_ip(&p).unwrap();
    let Some(etherparse::NetSlice::Ipv6(ip)) = e.net else {
        panic!("etherparse: not IPv6")
    };
    let h = ip.header();
    assert_eq!(v.traffic_class(), h.traffic_class());
    assert_eq!(v.flow_label(), h.flow_label().value());
    assert_eq!(v.payload_len(), h.payload_length());
    assert_eq!(v.next_header(), h.next_header().0);
    assert_eq!(v.hop_limit(), h.hop_limit());
    assert_eq!(v.src_addr(), Ipv6Addr::from(h.source()));
    assert_eq!(v.dst_addr(), Ipv6Addr::from(h.destination()));
    assert_eq!(v.protocol(), u8::from(IpNumber::TCP));
    assert_eq!(v.upper_layer().unwrap().1, ip.payload().payload);
    assert_eq!(v.ports(), Some((40000, 443)));
    assert_eq!(v.fragment(), None);
    let s = IpPacket::new_checked(&p[..]).unwrap().summary();
    assert_eq!(s.src, IpAddr::V6(Ipv6Addr::from(S6)));
    assert_eq!(
        s.to_string(),
        "ipv6 2001:db8::1 > 2001:db8:64::c633:6407 tcp 40000 > 443 len 64"
    );
}

#[test]
fn ipv6_extension_headers_are_walked() {
    let udp = [0x04, 0xd2, 0, 53, 0, 12, 0, 0, 1, 2, 3, 4];
    // Hop-by-Hop (PadN), Routing with Segments Left 1 (which the translator
    // refuses but a view walks past), Fragment (first, more), Destination
    // Options, then UDP.
    let mut ext = Vec::new();
    ext.extend_from_slice(&[proto::ROUTING, 0, 1, 4, 0, 0, 0, 0]);
    ext.extend_from_slice(&[proto::FRAGMENT, 0, 0, 1, 0, 0, 0, 0]);
    ext.extend_from_slice(&[proto::DSTOPTS, 0, 0, 1, 0, 0, 0, 7]);
    ext.extend_from_slice(&[proto::UDP, 0, 1, 4, 0, 0, 0, 0]);
    let p = v6_with(proto::HOPOPT, &ext, &udp);
    let v = Ipv6Packet::new_checked(&p[..]).unwrap();
    assert_eq!(v.upper_layer(), Some((proto::UDP, &udp[..])));
    assert_eq!(v.ports(), Some((1234, 53)));
    assert_eq!(
        v.fragment(),
        Some(Ipv6Fragment {
            offset: 0,
            more: true,
            ident: 7
        })
    );
    assert!(v.is_fragment());
    // etherparse agrees on where the upper layer starts.
    let e = SlicedPacket::from_ip(&p).unwrap();
    let Some(etherparse::NetSlice::Ipv6(ip)) = e.net else {
        panic!("etherparse: not IPv6")
    };
    assert_eq!(ip.payload().ip_number.0, proto::UDP);
    assert_eq!(ip.payload().payload, &udp[..]);
    // The translator's strict walk refuses the same chain.
    assert_eq!(
        walk_chain(&p, p.len(), proto::HOPOPT).unwrap_err(),
        ChainError::SegmentsLeft(40 + 8 + 3)
    );

    // A later fragment: what follows the Fragment header is data.
    // (By hand: etherparse 0.16 puts the offset bits of the Fragment header
    // where RFC 8200 section 4.5 does not.)
    let frag = [proto::UDP, 0, 0, 2 << 3, 0, 0, 0, 99];
    let p = v6_with(proto::FRAGMENT, &frag, &udp);
    let v = Ipv6Packet::new_checked(&p[..]).unwrap();
    assert_eq!(v.protocol(), proto::UDP);
    assert_eq!(v.ports(), None);
    assert_eq!(
        v.fragment(),
        Some(Ipv6Fragment {
            offset: 16,
            more: false,
            ident: 99
        })
    );
    assert_eq!(v.upper_layer().unwrap().1, &udp[..]);
}

#[test]
fn errors_say_what_is_wrong() {
    assert_eq!(Ipv4Packet::new_checked(&[][..]), Err(WireError::Empty));
    let p = udp4(b"x");
    assert_eq!(
        Ipv4Packet::new_checked(&p[..p.len() - 1]),
        Err(WireError::Truncated {
            layer: Layer::Ipv4,
            required: p.len(),
            len: p.len() - 1
        })
    );
    assert_eq!(
        Ipv6Packet::new_checked(&p[..]),
        Err(WireError::Version { found: 4, expected: 6 })
    );
    let mut bad = p.clone();
    bad[0] = 0x44;
    assert_eq!(Ipv4Packet::new_checked(&bad[..]), Err(WireError::HeaderLength(16)));
    let mut bad = p.clone();
    bad[0] = 0x4f;
    assert_eq!(
        Ipv4Packet::new_checked(&bad[..]),
        Err(WireError::Truncated {
            layer: Layer::Ipv4,
            required: 60,
            len: p.len()
        })
    );
    let mut bad = p.clone();
    bad[2..4].copy_from_slice(&19u16.to_be_bytes());
    assert_eq!(
        Ipv4Packet::new_checked(&bad[..]),
        Err(WireError::TotalLength { total: 19, header: 20 })
    );
    let q = tcp6(b"");
    assert_eq!(
        Ipv6Packet::new_checked(&q[..39]),
        Err(WireError::Truncated {
            layer: Layer::Ipv6,
            required: 40,
            len: 39
        })
    );
    assert_eq!(
        Ipv6Packet::new_checked(&q[..q.len() - 1]),
        Err(WireError::Truncated {
            layer: Layer::Ipv6,
            required: q.len(),
            len: q.len() - 1
        })
    );
    // Hop-by-Hop after another extension header.
    let ext = [proto::HOPOPT, 0, 1, 4, 0, 0, 0, 0, proto::UDP, 0, 1, 4, 0, 0, 0, 0];
    let r = v6_with(proto::DSTOPTS, &ext, &[0; 8]);
    assert_eq!(Ipv6Packet::new_checked(&r[..]), Err(WireError::ExtensionHeaders));
    assert!(Ipv6Packet::new_lax(&r[..]).unwrap().upper_layer().is_none());
    assert_eq!(Ipv6Packet::new_lax(&r[..]).unwrap().protocol(), proto::DSTOPTS);
    let msg = WireError::Truncated {
        layer: Layer::Ipv6Extension,
        required: 48,
        len: 44,
    };
    assert_eq!(
        msg.to_string(),
        "IPv6 extension headers needs 48 bytes, the buffer has 44"
    );
}

#[test]
fn icmp_error_quotes_are_found_and_viewed_laxly() {
    // ICMPv4 Destination Unreachable quoting the first 28 bytes of a UDP
    // packet; the quote's Total Length says more than is there.
    let inner = udp4(b"a longer payload than quoted");
    let mut v = Vec::new();
    PacketBuilder::ipv4(D4, S4, 64)
        .icmpv4(etherparse::Icmpv4Type::DestinationUnreachable(
            etherparse::icmpv4::DestUnreachableHeader::Port,
        ))
        .write(&mut v, &inner[..28])
        .unwrap();
    let outer = Ipv4Packet::new_checked(&v[..]).unwrap();
    let quote = outer.icmp_error_quote().unwrap();
    assert_eq!(quote, &inner[..28]);
    assert!(Ipv4Packet::new_checked(quote).is_err());
    let q = Ipv4Packet::new_lax(quote).unwrap();
    assert_eq!((q.src_addr(), q.dst_addr()), (Ipv4Addr::from(S4), Ipv4Addr::from(D4)));
    assert_eq!(q.ports(), Some((1234, 53)));
    assert_eq!(q.payload().len(), 8);

    // ICMPv6 Packet Too Big quoting a TCP packet cut to 60 bytes.
    let inner = tcp6(b"payload");
    let mut v = Vec::new();
    PacketBuilder::ipv6(D6, S6, 64)
        .icmpv6(etherparse::Icmpv6Type::PacketTooBig { mtu: 1280 })
        .write(&mut v, &inner[..60])
        .unwrap();
    let outer = IpPacket::new_checked(&v[..]).unwrap();
    let quote = outer.icmp_error_quote().unwrap();
    let q = Ipv6Packet::new_lax(quote).unwrap();
    assert_eq!(q.dst_addr(), Ipv6Addr::from(D6));
    assert_eq!(q.ports(), Some((40000, 443)));
    // An echo request is no error.
    let mut v = Vec::new();
    PacketBuilder::ipv6(S6, D6, 64)
        .icmpv6_echo_request(1, 2)
        .write(&mut v, b"ping")
        .unwrap();
    assert_eq!(IpPacket::new_checked(&v[..]).unwrap().icmp_error_quote(), None);
}

/// Every accessor of every view, so a panic anywhere shows.
fn touch_v4(v: &Ipv4Packet<&[u8]>) -> usize {
    let mut n = v.header_len() + usize::from(v.tos()) + usize::from(v.total_len()) + usize::from(v.ident());
    n += usize::from(v.dont_frag()) + usize::from(v.more_frags()) + usize::from(v.frag_offset());
    n += usize::from(v.is_fragment()) + usize::from(v.ttl()) + usize::from(v.protocol());
    n += usize::from(v.checksum()) + usize::from(v.verify_checksum());
    n += v.src_addr().octets()[0] as usize + v.dst_addr().octets()[0] as usize;
    n += v.options().len() + v.payload().len() + v.as_bytes().len();
    n += v.ports().map_or(0, |(a, b)| usize::from(a ^ b));
    if let Some(q) = v.icmp_error_quote() {
        n += q.len();
        if let Ok(i) = Ipv4Packet::new_lax(q) {
            n += touch_v4(&i);
        }
    }
    n
}

fn touch_v6(v: &Ipv6Packet<&[u8]>) -> usize {
    let mut n = usize::from(v.traffic_class()) + v.flow_label() as usize + usize::from(v.payload_len());
    n += usize::from(v.next_header()) + usize::from(v.hop_limit()) + usize::from(v.protocol());
    n += v.src_addr().octets()[0] as usize + v.dst_addr().octets()[0] as usize;
    n += v.payload().len() + v.as_bytes().len() + usize::from(v.is_fragment());
    n += v.upper_layer().map_or(0, |(p, b)| usize::from(p) + b.len());
    n += v.fragment().map_or(0, |f| f.ident as usize + usize::from(f.offset));
    n += v.ports().map_or(0, |(a, b)| usize::from(a ^ b));
    if let Some(q) = v.icmp_error_quote() {
        n += q.len();
        if let Ok(i) = Ipv6Packet::new_lax(q) {
            n += touch_v6(&i);
        }
    }
    n
}

/// Bytes that often make a packet the views accept: a version nibble,
/// plausible lengths and next headers, then noise.
fn packetish() -> impl Strategy<Value = Vec<u8>> {
    (
        prop_oneof![Just(0x45u8), Just(0x46), Just(0x60), any::<u8>()],
        prop::collection::vec(
            prop_oneof![
                Just(0u8),
                Just(proto::ICMP),
                Just(proto::UDP),
                Just(proto::ROUTING),
                Just(proto::FRAGMENT),
                Just(proto::ICMPV6),
                Just(proto::DSTOPTS),
                any::<u8>()
            ],
            0..160,
        ),
        any::<bool>(),
    )
        .prop_map(|(first, mut rest, fix_len)| {
            rest.insert(0, first);
            // Often make the length fields match the buffer.
            if fix_len && rest.len() >= 40 && first >> 4 == 6 {
                let plen = (rest.len() - 40) as u16;
                rest[4..6].copy_from_slice(&plen.to_be_bytes());
            } else if fix_len && rest.len() >= 24 && first >> 4 == 4 {
                let total = rest.len() as u16;
                rest[2..4].copy_from_slice(&total.to_be_bytes());
            }
            rest
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    /// No accessor panics on any input a constructor accepted.
    #[test]
    fn no_accessor_panics(b in packetish()) {
        let b = &b[..];
        if let Ok(v) = Ipv4Packet::new_checked(b) {
            touch_v4(&v);
        }
        if let Ok(v) = Ipv4Packet::new_lax(b) {
            touch_v4(&v);
        }
        if let Ok(v) = Ipv6Packet::new_checked(b) {
            touch_v6(&v);
            prop_assert!(v.upper_layer().is_some());
        }
        if let Ok(v) = Ipv6Packet::new_lax(b) {
            touch_v6(&v);
        }
        if let Ok(v) = IpPacket::new_checked(b) {
            let s = v.summary();
            prop_assert_eq!(s.len, v.len());
            prop_assert!(!v.is_empty());
            let _ = alloc::format!("{s}");
            prop_assert_eq!(IpPacket::new_lax(b).map(|l| l.summary()), Ok(s));
        }
        match IpPacket::new_lax(b) {
            Ok(IpPacket::V4(v)) => {
                prop_assert!(Ipv4Packet::new_lax(b).is_ok());
                touch_v4(&v);
            }
            Ok(IpPacket::V6(v)) => {
                prop_assert!(Ipv6Packet::new_lax(b).is_ok());
                touch_v6(&v);
            }
            Err(_) => prop_assert!(Ipv4Packet::new_lax(b).is_err() && Ipv6Packet::new_lax(b).is_err()),
        }
        if let Ok(v) = IpPacket::new_lax(b) {
            let _ = alloc::format!("{}", v.summary());
        }
    }

    /// Where etherparse reads a whole packet, the views read the same
    /// addresses, protocol and upper-layer bytes.
    #[test]
    fn agrees_with_etherparse(b in packetish()) {
        let (Ok(e), Ok(v)) = (SlicedPacket::from_ip(&b), IpPacket::new_checked(&b[..])) else {
            return Ok(());
        };
        match (e.net, v) {
            (Some(etherparse::NetSlice::Ipv4(ip)), IpPacket::V4(v)) => {
                prop_assert_eq!(v.src_addr(), Ipv4Addr::from(ip.header().source()));
                prop_assert_eq!(v.dst_addr(), Ipv4Addr::from(ip.header().destination()));
                // etherparse reads an Authentication Header as part of IP.
                if v.protocol() == 51 {
                    return Ok(());
                }
                prop_assert_eq!(v.protocol(), ip.payload().ip_number.0);
                prop_assert_eq!(v.payload(), ip.payload().payload);
            }
            (Some(etherparse::NetSlice::Ipv6(ip)), IpPacket::V6(v)) => {
                prop_assert_eq!(v.src_addr(), Ipv6Addr::from(ip.header().source()));
                prop_assert_eq!(v.dst_addr(), Ipv6Addr::from(ip.header().destination()));
                // etherparse 0.16 reads the Fragment header's offset from
                // other bits than RFC 8200 section 4.5 (and walks on in a
                // later fragment): compared only without one.
                // A Payload Length of 0 is an empty payload to the views and
                // "the rest of the buffer" (a jumbogram) to etherparse.
                if v.fragment().is_some() || v.payload_len() == 0 {
                    return Ok(());
                }
                let (p, l4) = v.upper_layer().unwrap();
                // The views leave an Authentication Header to the upper
                // layer (as the translator does); etherparse walks it.
                if p == 51 {
                    return Ok(());
                }
                prop_assert_eq!(p, ip.payload().ip_number.0);
                prop_assert_eq!(l4, ip.payload().payload);
            }
            _ => {}
        }
    }
}
