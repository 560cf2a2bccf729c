//! The malformed-input catalogue: one row per kind of bad packet, with the
//! exact verdict the translator must give it (a drop reason, the ICMP error
//! it answers with, a hand-back to the host, or a translation when the RFCs
//! say the defect is not the translator's business). Every row is listed,
//! one line each, in `docs/MALFORMED.md`; keep the two in step.
//!
//! Rows run against three translators: SIIT (`Mode::Siit`), the stateful
//! NAT64 (`Mode::Stateful`), and for the fragment rows the stateful NAT64
//! fed a sequence of fragments (`Mode::StatefulSeq`, the verdict of the last
//! one, and every earlier one held).

mod common;

use std::net::Ipv6Addr;

use common::*;
use nat64_core::nat64::{Instant, Nat64, Nat64Config, Pool4Entry, ReassemblyLimits};
use nat64_core::{Config, DropReason, Eamt, Held, NotOurs, Translator, Verdict};

// ------------------------------------------------------------------ setup

/// The IPv6 client (EAM-mapped to 192.0.2.5 for SIIT).
const C6: &str = "2001:db8:1::5";
const C4: &str = "192.0.2.5";
/// A global IPv4 host, under the Well-Known Prefix on the IPv6 side.
const R4: &str = "8.8.8.8";
/// pool4 of the stateful translator.
const P4: &str = "198.51.100.1";

fn r6() -> Ipv6Addr {
    embed(v6("64:ff9b::"), 96, v4(R4))
}
fn wkp(a: &str) -> Ipv6Addr {
    embed(v6("64:ff9b::"), 96, v4(a))
}

fn siit() -> Translator {
    let mut c = Config::with_pool6("64:ff9b::/96".parse().unwrap());
    let mut eamt = Eamt::new();
    eamt.add(
        "192.0.2.0/24".parse().unwrap(),
        "2001:db8:1::/120".parse().unwrap(),
        false,
    )
    .unwrap();
    c.eamt = eamt;
    c.denylist4 = vec!["9.9.9.0/24".parse().unwrap()];
    c.own_ipv4 = Some(v4("203.0.113.254"));
    c.own_ipv6 = Some(v6("2001:db8:ffff::1"));
    Translator::new(c).unwrap()
}

fn nat64() -> Nat64 {
    let mut e = Pool4Entry::new(P4.parse().unwrap());
    e.first_port = 1000;
    e.last_port = 1999;
    let mut c = Nat64Config::new("64:ff9b::/96".parse().unwrap(), vec![e]);
    c.xlat.own_ipv4 = Some(v4("203.0.113.254"));
    c.xlat.own_ipv6 = Some(v6("2001:db8:ffff::1"));
    c.reassembly = ReassemblyLimits {
        max_fragments_per_datagram: 4,
        ..ReassemblyLimits::default()
    };
    Nat64::new(c).unwrap()
}

// --------------------------------------------------------------- packets

fn udp6_from(src: Ipv6Addr, dst: Ipv6Addr, payload: &[u8]) -> Vec<u8> {
    V6::new(src, dst).build(UDP, &udp(Ips::V6(src, dst), 4000, 53, payload))
}
fn udp6(payload: &[u8]) -> Vec<u8> {
    udp6_from(v6(C6), r6(), payload)
}
fn with_hop(mut p: Vec<u8>, hop: u8) -> Vec<u8> {
    p[7] = hop;
    p
}
fn ext6(exts: &[Ext], proto: u8, l4: &[u8]) -> Vec<u8> {
    V6::new(v6(C6), r6()).build_ext(exts, proto, l4)
}
fn udp6_l4(payload: &[u8]) -> Vec<u8> {
    udp(Ips::V6(v6(C6), r6()), 4000, 53, payload)
}
fn tcp6(flags: u8) -> Vec<u8> {
    let (s, d) = (v6(C6), r6());
    let mut t = tcp(Ips::V6(s, d), 4000, 80, 1, b"");
    t[13] = flags;
    t[16] = 0;
    t[17] = 0;
    let c = inet_checksum(&[&Ips::V6(s, d).pseudo(TCP, t.len()), &t]);
    t[16..18].copy_from_slice(&c.to_be_bytes());
    V6::new(s, d).build(TCP, &t)
}
/// An ICMPv6 error from a router on the IPv6 side to the IPv4 host (under
/// pool6), quoting `inner`.
fn icmp6_err(ty: u8, code: u8, rest: [u8; 4], inner: &[u8]) -> Vec<u8> {
    let (s, d) = (v6("2001:db8:1::fe"), r6());
    V6::new(s, d).build(ICMPV6, &icmp6(s, d, ty, code, rest, inner))
}
/// What the IPv4 host sent to the IPv6 client, as quoted in an error.
fn quoted6() -> Vec<u8> {
    udp6_from(r6(), v6(C6), b"quoted")
}

fn v4hdr(src: &str, dst: &str, proto: u8) -> V4 {
    V4::new(v4(src), v4(dst), proto)
}
fn udp4_from(src: &str, dst: &str, payload: &[u8]) -> Vec<u8> {
    v4hdr(src, dst, UDP).build(&udp(Ips::V4(v4(src), v4(dst)), 53, 4000, payload))
}
fn udp4(payload: &[u8]) -> Vec<u8> {
    udp4_from(R4, C4, payload)
}
fn v4_with(f: impl FnOnce(&mut V4), proto: u8, l4: &[u8]) -> Vec<u8> {
    let mut h = v4hdr(R4, C4, proto);
    f(&mut h);
    h.build(l4)
}
fn edit4(mut p: Vec<u8>, f: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    f(&mut p);
    fix_v4_checksum(&mut p);
    p
}
/// An ICMPv4 error from a router on the IPv4 side to the IPv6 client's
/// IPv4 address, quoting `inner`.
fn icmp4_err(ty: u8, code: u8, rest: [u8; 4], inner: &[u8]) -> Vec<u8> {
    v4hdr("8.8.4.4", C4, ICMP).build(&icmp4(ty, code, rest, inner))
}
fn quoted4() -> Vec<u8> {
    udp4_from(C4, R4, b"quoted")
}

// ---------------------------------------------------------- expectations

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Translated (the defect is not the translator's to judge).
    Xlat,
    /// Dropped silently for this reason.
    Drop(DropReason),
    /// Answered with an ICMP error for this reason.
    Icmp(DropReason),
    /// Handed back to the host.
    Back(NotOurs),
    /// Kept (stateful).
    Hold(Held),
}

#[derive(Debug, Clone, Copy)]
enum Mode {
    Siit,
    Stateful,
    /// The stateful translator fed every packet of the row in turn: all but
    /// the last must be held as fragments.
    StatefulSeq,
}

struct Row {
    name: &'static str,
    mode: Mode,
    packets: Vec<Vec<u8>>,
    expect: Expect,
}

fn row(name: &'static str, mode: Mode, p: Vec<u8>, expect: Expect) -> Row {
    Row {
        name,
        mode,
        packets: vec![p],
        expect,
    }
}
fn seq(name: &'static str, packets: Vec<Vec<u8>>, expect: Expect) -> Row {
    Row {
        name,
        mode: Mode::StatefulSeq,
        packets,
        expect,
    }
}

fn matches(v: &Verdict, e: Expect) -> bool {
    match (*v, e) {
        (Verdict::Translated(_), Expect::Xlat) => true,
        (Verdict::Dropped(r), Expect::Drop(w)) => r == w,
        (Verdict::IcmpError { reason, .. }, Expect::Icmp(w)) => reason == w,
        (Verdict::NotOurs(r), Expect::Back(w)) => r == w,
        (Verdict::Held(h), Expect::Hold(w)) => h == w,
        _ => false,
    }
}

use DropReason as D;
use Expect::*;
use Mode::*;

/// IPv6 fragment of a UDP datagram: `data` at byte `offset`.
fn frag6(offset: u16, mf: bool, id: u32, data: &[u8]) -> Vec<u8> {
    ext6(
        &[Ext::Fragment {
            offset: offset / 8,
            mf,
            id,
        }],
        UDP,
        data,
    )
}
fn frag4(offset: u16, mf: bool, id: u16, data: &[u8]) -> Vec<u8> {
    v4_with(
        |h| {
            h.src = v4(R4);
            h.dst = v4(P4);
            h.id = id;
            h.mf = mf;
            h.frag_off = offset / 8;
        },
        UDP,
        data,
    )
}

fn catalogue() -> Vec<Row> {
    let u = udp6(b"payload!");
    let u4 = udp4(b"payload!");
    let full_l4 = udp6_l4(&[7u8; 40]);
    let full_l4_4 = udp(Ips::V4(v4(R4), v4(P4)), 53, 1000, &[7u8; 40]);
    let mut rows = vec![
        // ---------------------------------------------------------- not IP
        row("empty buffer", Siit, vec![], Back(NotOurs::NotIp)),
        row("IP version 5", Siit, vec![0x50; 40], Back(NotOurs::NotIp)),
        // ------------------------------------------------------ IPv6 header
        row(
            "IPv6 header cut at 39 bytes",
            Siit,
            u[..39].to_vec(),
            Drop(D::Truncated),
        ),
        row(
            "IPv6 Payload Length past the buffer",
            Siit,
            u[..44].to_vec(),
            Drop(D::Truncated),
        ),
        row(
            "IPv6 bytes after Payload Length (ignored)",
            Siit,
            [&u[..], &[0xee; 9][..]].concat(),
            Xlat,
        ),
        row(
            "IPv6 Payload Length 0 with Hop-by-Hop (jumbogram)",
            Siit,
            {
                let mut p = ext6(&[Ext::HopByHop(0)], UDP, &udp6_l4(b"x"));
                p[4] = 0;
                p[5] = 0;
                p
            },
            Drop(D::Jumbogram),
        ),
        row(
            "IPv6 hop limit 0",
            Siit,
            with_hop(u.clone(), 0),
            Icmp(D::HopLimitExceeded),
        ),
        row(
            "IPv6 hop limit 1",
            Siit,
            with_hop(u.clone(), 1),
            Icmp(D::HopLimitExceeded),
        ),
        row(
            "IPv6 hop limit 2 (leaves with TTL 1)",
            Siit,
            with_hop(u.clone(), 2),
            Xlat,
        ),
        // ------------------------------------------------ extension headers
        row(
            "Hop-by-Hop header cut short",
            Siit,
            {
                let mut p = ext6(&[Ext::HopByHop(1)], UDP, &[]);
                p.truncate(44);
                p[4..6].copy_from_slice(&4u16.to_be_bytes());
                p
            },
            Drop(D::BadExtensionHeaders),
        ),
        row(
            "extension header length past the packet",
            Siit,
            {
                let mut p = ext6(&[Ext::DstOpts(0)], UDP, &udp6_l4(b""));
                p[41] = 200;
                p
            },
            Drop(D::BadExtensionHeaders),
        ),
        row(
            "eight Destination Options headers (the most walked)",
            Siit,
            ext6(&[Ext::DstOpts(0); 8], UDP, &udp6_l4(b"x")),
            Xlat,
        ),
        row(
            "nine Destination Options headers (chain too long)",
            Siit,
            ext6(&[Ext::DstOpts(0); 9], UDP, &udp6_l4(b"x")),
            Drop(D::BadExtensionHeaders),
        ),
        row(
            "Hop-by-Hop header twice (the chain loops back to its start)",
            Siit,
            ext6(&[Ext::HopByHop(0), Ext::HopByHop(0)], UDP, &udp6_l4(b"x")),
            Drop(D::BadExtensionHeaders),
        ),
        row(
            "Hop-by-Hop header not first",
            Siit,
            ext6(&[Ext::DstOpts(0), Ext::HopByHop(0)], UDP, &udp6_l4(b"x")),
            Drop(D::BadExtensionHeaders),
        ),
        row(
            "Routing header with Segments Left 1",
            Siit,
            ext6(&[Ext::Routing(1)], UDP, &udp6_l4(b"x")),
            Icmp(D::SegmentsLeft),
        ),
        row(
            "Routing header with Segments Left 0 (skipped)",
            Siit,
            ext6(&[Ext::Routing(0)], UDP, &udp6_l4(b"x")),
            Xlat,
        ),
        row(
            "extension header after the Fragment header",
            Siit,
            ext6(
                &[
                    Ext::Fragment {
                        offset: 0,
                        mf: true,
                        id: 1,
                    },
                    Ext::DstOpts(0),
                ],
                UDP,
                &udp6_l4(b"x"),
            ),
            Icmp(D::FragmentThenExtension),
        ),
        // ---------------------------------------------------- IPv6 transport
        row(
            "UDP header cut (4 bytes)",
            Siit,
            V6::new(v6(C6), r6()).build(UDP, &[0, 1, 0, 2]),
            Drop(D::TransportTruncated),
        ),
        row(
            "TCP header cut (12 bytes)",
            Siit,
            V6::new(v6(C6), r6()).build(TCP, &[0; 12]),
            Drop(D::TransportTruncated),
        ),
        row(
            "ICMPv6 header cut (4 bytes)",
            Siit,
            V6::new(v6(C6), r6()).build(ICMPV6, &[128, 0, 0, 0]),
            Drop(D::TransportTruncated),
        ),
        row(
            "UDP with a wrong checksum (passed on, still wrong)",
            Siit,
            {
                let mut p = u.clone();
                p[46] ^= 0x55;
                p
            },
            Xlat,
        ),
        row(
            "UDP with source and destination port 0",
            Siit,
            V6::new(v6(C6), r6()).build(UDP, &udp(Ips::V6(v6(C6), r6()), 0, 0, b"zero")),
            Xlat,
        ),
        row(
            "ICMPv6 with no IPv4 counterpart (Neighbor Solicitation)",
            Siit,
            V6::new(v6(C6), r6()).build(ICMPV6, &icmp6(v6(C6), r6(), 135, 0, [0; 4], &[0; 16])),
            Drop(D::IcmpUntranslatableType),
        ),
        row(
            "fragmented ICMPv6 echo",
            Siit,
            ext6(
                &[Ext::Fragment {
                    offset: 0,
                    mf: true,
                    id: 2,
                }],
                ICMPV6,
                &icmp6_echo(v6(C6), r6(), true, 1, 1, &[0; 16]),
            ),
            Drop(D::FragmentedIcmp),
        ),
        row(
            "tiny non-final IPv6 fragment (4 bytes: passed on as it is)",
            Siit,
            frag6(8, true, 3, &[1, 2, 3, 4]),
            Xlat,
        ),
        row(
            "IPv6 packet too big for the IPv4 MTU",
            Siit,
            udp6(&[0; 1500]),
            Icmp(D::PacketTooBig),
        ),
        // ----------------------------------------------------- IPv6 addresses
        row(
            "IPv6 destination outside pool6 and the EAMT",
            Siit,
            udp6_from(v6(C6), v6("2001:db8:9::1"), b"x"),
            Back(NotOurs::DestinationNotMapped),
        ),
        row(
            "IPv6 destination multicast (ff02::1)",
            Siit,
            udp6_from(v6(C6), v6("ff02::1"), b"x"),
            Back(NotOurs::DestinationNotMapped),
        ),
        row(
            "IPv6 destination under the WKP embedding 10.0.0.1 (RFC 6052 section 3.1)",
            Siit,
            udp6_from(v6(C6), wkp("10.0.0.1"), b"x"),
            Drop(D::NonGlobalWithWellKnownPrefix),
        ),
        row(
            "IPv6 destination embedding 224.0.0.1 (multicast: the implicit denylist)",
            Siit,
            udp6_from(v6(C6), wkp("224.0.0.1"), b"x"),
            Back(NotOurs::DestinationDenylisted),
        ),
        row(
            "IPv6 destination embedding a denylist4 address",
            Siit,
            udp6_from(v6(C6), wkp("9.9.9.9"), b"x"),
            Back(NotOurs::DestinationDenylisted),
        ),
        row(
            "IPv6 source outside pool6 and the EAMT",
            Siit,
            udp6_from(v6("2001:db8:9::1"), r6(), b"x"),
            Icmp(D::SourceUntranslatable),
        ),
        row(
            "IPv6 source multicast (ff02::1)",
            Siit,
            udp6_from(v6("ff02::1"), r6(), b"x"),
            Drop(D::SourceUntranslatable),
        ),
        row(
            "IPv6 source unspecified (::)",
            Siit,
            udp6_from(v6("::"), r6(), b"x"),
            Drop(D::SourceUntranslatable),
        ),
        // --------------------------------------------------- ICMPv6 errors
        row(
            "ICMPv6 error with a wrong checksum",
            Siit,
            {
                let mut p = icmp6_err(1, 4, [0; 4], &quoted6());
                p[42] ^= 1;
                p
            },
            Drop(D::IcmpChecksum),
        ),
        row(
            "ICMPv6 error inside an ICMPv6 error",
            Siit,
            icmp6_err(1, 4, [0; 4], &{
                let (s, d) = (r6(), v6(C6));
                V6::new(s, d).build(ICMPV6, &icmp6(s, d, 3, 0, [0; 4], &quoted6()[..48]))
            }),
            Drop(D::IcmpErrorInIcmpError),
        ),
        row(
            "ICMPv6 error quoting less than an IPv6 header",
            Siit,
            icmp6_err(1, 4, [0; 4], &quoted6()[..30]),
            Drop(D::BadInnerPacket),
        ),
        row(
            "ICMPv6 error quoting unmapped addresses",
            Siit,
            icmp6_err(1, 4, [0; 4], &udp6_from(v6("2001:db8:9::1"), v6("2001:db8:9::2"), b"q")),
            Drop(D::InnerUntranslatable),
        ),
        row(
            "ICMPv6 error about a non-first fragment",
            Siit,
            icmp6_err(1, 4, [0; 4], &{
                let (s, d) = (r6(), v6(C6));
                V6::new(s, d).build_ext(
                    &[Ext::Fragment {
                        offset: 2,
                        mf: false,
                        id: 9,
                    }],
                    UDP,
                    b"later bytes",
                )
            }),
            Xlat,
        ),
        row(
            "ICMPv6 Destination Unreachable code 7 (no counterpart)",
            Siit,
            icmp6_err(1, 7, [0; 4], &quoted6()),
            Drop(D::IcmpUntranslatableCode),
        ),
        row(
            "ICMPv6 Parameter Problem pointing at the Flow Label",
            Siit,
            icmp6_err(4, 0, [0, 0, 0, 2], &quoted6()),
            Drop(D::IcmpUntranslatablePointer),
        ),
        row(
            "ICMPv6 error cut inside its header",
            Siit,
            V6::new(v6("2001:db8:1::fe"), r6()).build(ICMPV6, &[1, 4, 0, 0]),
            Drop(D::TransportTruncated),
        ),
        // ------------------------------------------------------ IPv4 header
        row(
            "IPv4 header cut at 19 bytes",
            Siit,
            u4[..19].to_vec(),
            Drop(D::Truncated),
        ),
        row(
            "IPv4 IHL 4",
            Siit,
            edit4(u4.clone(), |p| p[0] = 0x44),
            Drop(D::BadIpv4Header),
        ),
        row(
            "IPv4 IHL 0",
            Siit,
            edit4(u4.clone(), |p| p[0] = 0x40),
            Drop(D::BadIpv4Header),
        ),
        row(
            "IPv4 options past the buffer (IHL 15 in 40 bytes)",
            Siit,
            {
                let mut p = u4.clone();
                p[0] = 0x4f;
                p.truncate(40);
                p
            },
            Drop(D::BadIpv4Header),
        ),
        row(
            "IPv4 Total Length below the header",
            Siit,
            edit4(u4.clone(), |p| p[2..4].copy_from_slice(&16u16.to_be_bytes())),
            Drop(D::BadIpv4Header),
        ),
        row(
            "IPv4 Total Length past the buffer",
            Siit,
            edit4(u4.clone(), |p| p[2..4].copy_from_slice(&200u16.to_be_bytes())),
            Drop(D::Truncated),
        ),
        row(
            "IPv4 bytes after Total Length (ignored)",
            Siit,
            [&u4[..], &[0xee; 9][..]].concat(),
            Xlat,
        ),
        row(
            "IPv4 header checksum wrong",
            Siit,
            {
                let mut p = u4.clone();
                p[10] ^= 1;
                p
            },
            Drop(D::BadIpv4Checksum),
        ),
        row(
            "IPv4 TTL 0",
            Siit,
            v4_with(|h| h.ttl = 0, UDP, &udp4(b"x")[20..]),
            Icmp(D::HopLimitExceeded),
        ),
        row(
            "IPv4 TTL 1",
            Siit,
            v4_with(|h| h.ttl = 1, UDP, &udp4(b"x")[20..]),
            Icmp(D::HopLimitExceeded),
        ),
        row(
            "IPv4 TTL 2 (leaves with hop limit 1)",
            Siit,
            v4_with(|h| h.ttl = 2, UDP, &udp4(b"x")[20..]),
            Xlat,
        ),
        row(
            "IPv4 unexpired loose source route",
            Siit,
            v4_with(|h| h.options = vec![131, 7, 4, 198, 51, 100, 7], UDP, &udp4(b"x")[20..]),
            Icmp(D::SourceRoute),
        ),
        row(
            "IPv4 expired loose source route (translated, options dropped)",
            Siit,
            v4_with(|h| h.options = vec![131, 7, 8, 198, 51, 100, 7], UDP, &udp4(b"x")[20..]),
            Xlat,
        ),
        // ---------------------------------------------------- IPv4 transport
        row(
            "IPv4 UDP checksum 0",
            Siit,
            v4hdr(R4, C4, UDP).build(&udp_no_checksum(53, 4000, b"x")),
            Icmp(D::UdpChecksumZero),
        ),
        row(
            "fragmented IPv4 UDP checksum 0",
            Siit,
            v4_with(|h| h.mf = true, UDP, &udp_no_checksum(53, 4000, &[0; 16])),
            Icmp(D::FragmentedUdpChecksumZero),
        ),
        row(
            "IPv4 TCP header cut (10 bytes)",
            Siit,
            v4hdr(R4, C4, TCP).build(&[0; 10]),
            Drop(D::TransportTruncated),
        ),
        row(
            "IPv4 TCP with a wrong checksum (passed on, still wrong)",
            Siit,
            {
                let mut p = v4hdr(R4, C4, TCP).build(&tcp(Ips::V4(v4(R4), v4(C4)), 80, 4000, 1, b"x"));
                p[37] ^= 0x10;
                p
            },
            Xlat,
        ),
        row(
            "IPv4 ICMP timestamp (no ICMPv6 counterpart)",
            Siit,
            v4hdr(R4, C4, ICMP).build(&icmp4(13, 0, [0; 4], &[0; 12])),
            Drop(D::IcmpUntranslatableType),
        ),
        row(
            "fragmented IPv4 ICMP echo",
            Siit,
            v4_with(|h| h.mf = true, ICMP, &icmp4_echo(true, 1, 1, &[0; 16])),
            Drop(D::FragmentedIcmp),
        ),
        row(
            "tiny IPv4 non-first fragment (1 byte: passed on as it is)",
            Siit,
            v4_with(|h| h.frag_off = 3, UDP, &[9]),
            Xlat,
        ),
        row(
            "IPv4 DF packet too big for the IPv6 MTU",
            Siit,
            v4_with(
                |h| h.df = true,
                UDP,
                &udp(Ips::V4(v4(R4), v4(C4)), 53, 4000, &[0; 1480]),
            ),
            Icmp(D::PacketTooBig),
        ),
        // ---------------------------------------------------- IPv4 addresses
        row(
            "IPv4 destination broadcast 255.255.255.255",
            Siit,
            udp4_from(R4, "255.255.255.255", b"x"),
            Back(NotOurs::DestinationDenylisted),
        ),
        row(
            "IPv4 destination multicast 224.0.0.1",
            Siit,
            udp4_from(R4, "224.0.0.1", b"x"),
            Back(NotOurs::DestinationDenylisted),
        ),
        row(
            "IPv4 destination 0.0.0.0",
            Siit,
            udp4_from(R4, "0.0.0.0", b"x"),
            Back(NotOurs::DestinationDenylisted),
        ),
        row(
            "IPv4 destination loopback 127.0.0.1",
            Siit,
            udp4_from(R4, "127.0.0.1", b"x"),
            Back(NotOurs::DestinationDenylisted),
        ),
        row(
            "IPv4 destination private 10.0.0.1 under the WKP",
            Siit,
            udp4_from(R4, "10.0.0.1", b"x"),
            Drop(D::NonGlobalWithWellKnownPrefix),
        ),
        row(
            "IPv4 source broadcast 255.255.255.255",
            Siit,
            udp4_from("255.255.255.255", C4, b"x"),
            Drop(D::SourceUntranslatable),
        ),
        row(
            "IPv4 source multicast 224.0.0.1",
            Siit,
            udp4_from("224.0.0.1", C4, b"x"),
            Drop(D::SourceUntranslatable),
        ),
        row(
            "IPv4 source private 10.0.0.1 under the WKP",
            Siit,
            udp4_from("10.0.0.1", C4, b"x"),
            Drop(D::NonGlobalWithWellKnownPrefix),
        ),
        // --------------------------------------------------- ICMPv4 errors
        row(
            "ICMPv4 error with a wrong checksum",
            Siit,
            {
                let mut p = icmp4_err(3, 3, [0; 4], &quoted4());
                p[22] ^= 1;
                p
            },
            Drop(D::IcmpChecksum),
        ),
        row(
            "ICMPv4 error inside an ICMPv4 error",
            Siit,
            icmp4_err(
                3,
                3,
                [0; 4],
                &v4hdr(C4, R4, ICMP).build(&icmp4(3, 1, [0; 4], &quoted4()[..28])),
            ),
            Drop(D::IcmpErrorInIcmpError),
        ),
        row(
            "ICMPv4 error quoting less than an IPv4 header",
            Siit,
            icmp4_err(3, 3, [0; 4], &quoted4()[..12]),
            Drop(D::BadInnerPacket),
        ),
        row(
            "ICMPv4 error about a non-first fragment",
            Siit,
            icmp4_err(
                3,
                3,
                [0; 4],
                &v4_with(
                    |h| {
                        h.src = v4(C4);
                        h.dst = v4(R4);
                        h.frag_off = 4;
                    },
                    UDP,
                    b"later bytes",
                ),
            ),
            Xlat,
        ),
        row(
            "ICMPv4 Parameter Problem pointing at the Identification",
            Siit,
            icmp4_err(12, 0, [4, 0, 0, 0], &quoted4()),
            Drop(D::IcmpUntranslatablePointer),
        ),
        row(
            "fragmented ICMPv4 error",
            Siit,
            v4_with(
                |h| {
                    h.src = v4("8.8.4.4");
                    h.mf = true;
                },
                ICMP,
                &icmp4(3, 3, [0; 4], &quoted4()),
            ),
            Drop(D::FragmentedIcmp),
        ),
        // ------------------------------------------------------- stateful
        row(
            "stateful: IPv6 header cut",
            Stateful,
            u[..39].to_vec(),
            Drop(D::Truncated),
        ),
        row(
            "stateful: IPv6 hop limit 1",
            Stateful,
            with_hop(u.clone(), 1),
            Icmp(D::HopLimitExceeded),
        ),
        row(
            "stateful: IPv6 hop limit 0",
            Stateful,
            with_hop(u.clone(), 0),
            Icmp(D::HopLimitExceeded),
        ),
        row(
            "stateful: IPv4 IHL 4",
            Stateful,
            edit4(udp4_from(R4, P4, b"x"), |p| p[0] = 0x44),
            Drop(D::BadIpv4Header),
        ),
        row(
            "stateful: IPv4 TTL 1 to pool4",
            Stateful,
            v4_with(
                |h| {
                    h.dst = v4(P4);
                    h.ttl = 1;
                },
                UDP,
                &udp(Ips::V4(v4(R4), v4(P4)), 53, 1000, b"x"),
            ),
            Icmp(D::HopLimitExceeded),
        ),
        row(
            "stateful: TCP ACK without a session",
            Stateful,
            tcp6(0x10),
            Drop(D::TcpNoSession),
        ),
        row(
            "stateful: IPv4 UDP to a port outside pool4's range",
            Stateful,
            udp4_from(R4, P4, b"x"),
            Back(NotOurs::DestinationNotMapped),
        ),
        row(
            "stateful: IPv4 UDP to a pool4 port with no binding",
            Stateful,
            v4hdr(R4, P4, UDP).build(&udp(Ips::V4(v4(R4), v4(P4)), 53, 1000, b"x")),
            Icmp(D::NoBinding),
        ),
        row(
            "stateful: IPv4 UDP to pool4 port 0",
            Stateful,
            v4hdr(R4, P4, UDP).build(&udp(Ips::V4(v4(R4), v4(P4)), 53, 0, b"x")),
            Back(NotOurs::DestinationNotMapped),
        ),
        row(
            "stateful: IPv6 UDP from port 0 (bound like any port)",
            Stateful,
            V6::new(v6(C6), r6()).build(UDP, &udp(Ips::V6(v6(C6), r6()), 0, 53, b"x")),
            Xlat,
        ),
        row(
            "stateful: IPv4 TCP SYN with no binding (held for a simultaneous open)",
            Stateful,
            {
                let t = tcp(Ips::V4(v4(R4), v4(P4)), 80, 1000, 1, b"");
                let mut t = t;
                t[13] = 0x02;
                t[16] = 0;
                t[17] = 0;
                let c = inet_checksum(&[&Ips::V4(v4(R4), v4(P4)).pseudo(TCP, t.len()), &t]);
                t[16..18].copy_from_slice(&c.to_be_bytes());
                v4hdr(R4, P4, TCP).build(&t)
            },
            Hold(Held::SimultaneousOpen),
        ),
        row(
            "stateful: IPv4 echo request to pool4 with no binding",
            Stateful,
            v4hdr(R4, P4, ICMP).build(&icmp4_echo(true, 1000, 1, b"x")),
            Drop(D::NoBinding),
        ),
        row(
            "stateful: GRE from IPv6 (no BIB for it)",
            Stateful,
            V6::new(v6(C6), r6()).build(47, &[0; 8]),
            Icmp(D::UnsupportedProtocol),
        ),
        row(
            "stateful: ICMPv6 error about no session",
            Stateful,
            icmp6_err(1, 4, [0; 4], &quoted6()),
            Drop(D::NoBinding),
        ),
        row(
            "stateful: ICMPv4 error about no session",
            Stateful,
            v4hdr("8.8.4.4", P4, ICMP).build(&icmp4(
                3,
                3,
                [0; 4],
                &v4hdr(P4, R4, UDP).build(&udp(Ips::V4(v4(P4), v4(R4)), 1000, 53, b"q")),
            )),
            Drop(D::NoBinding),
        ),
        row(
            "stateful: IPv4 source inside pool4 (spoofed; a documentation address under the WKP)",
            Stateful,
            v4hdr(P4, P4, UDP).build(&udp(Ips::V4(v4(P4), v4(P4)), 53, 1000, b"x")),
            Drop(D::NonGlobalWithWellKnownPrefix),
        ),
        row(
            "stateful: IPv6 source under pool6 to pool4 (hairpin loop)",
            Stateful,
            udp6_from(wkp("8.8.4.4"), wkp(P4), b"x"),
            Drop(D::HairpinLoop),
        ),
        row(
            "stateful: IPv6 destination under the WKP embedding 10.0.0.1",
            Stateful,
            udp6_from(v6(C6), wkp("10.0.0.1"), b"x"),
            Drop(D::NonGlobalWithWellKnownPrefix),
        ),
        row(
            "stateful: IPv6 atomic fragment (RFC 6946)",
            Stateful,
            ext6(
                &[Ext::Fragment {
                    offset: 0,
                    mf: false,
                    id: 5,
                }],
                UDP,
                &udp6_l4(b"atomic"),
            ),
            Xlat,
        ),
        // ----------------------------------------------- stateful reassembly
        seq(
            "stateful: two IPv6 fragments reassembled",
            vec![frag6(0, true, 10, &full_l4[..24]), frag6(24, false, 10, &full_l4[24..])],
            Xlat,
        ),
        seq(
            "stateful: overlapping IPv6 fragments (RFC 5722)",
            vec![frag6(0, true, 11, &full_l4[..24]), frag6(16, false, 11, &full_l4[16..])],
            Drop(D::FragmentReassembly),
        ),
        seq(
            "stateful: tiny non-final IPv6 fragment (not a multiple of 8)",
            vec![frag6(0, true, 12, &full_l4[..12])],
            Drop(D::FragmentReassembly),
        ),
        seq(
            "stateful: empty IPv6 fragment",
            vec![frag6(0, true, 13, &full_l4[..24]), frag6(24, true, 13, &[])],
            Drop(D::FragmentReassembly),
        ),
        seq(
            "stateful: second final IPv6 fragment with another end",
            vec![
                frag6(0, true, 14, &full_l4[..16]),
                frag6(32, false, 14, &full_l4[32..]),
                frag6(16, false, 14, &full_l4[16..24]),
            ],
            Drop(D::FragmentReassembly),
        ),
        seq(
            "stateful: IPv6 fragment past 65535 bytes",
            vec![frag6(0, true, 15, &full_l4[..16]), frag6(65528, false, 15, &[0; 16])],
            Drop(D::FragmentReassembly),
        ),
        seq(
            "stateful: more IPv6 fragments than max_fragments_per_datagram (4)",
            vec![
                frag6(0, true, 16, &full_l4[..8]),
                frag6(8, true, 16, &full_l4[8..16]),
                frag6(16, true, 16, &full_l4[16..24]),
                frag6(24, true, 16, &full_l4[24..32]),
                frag6(32, false, 16, &full_l4[32..]),
            ],
            Drop(D::FragmentReassembly),
        ),
        seq(
            "stateful: overlapping IPv4 fragments (RFC 5722 by analogy)",
            vec![
                frag4(0, true, 20, &full_l4_4[..24]),
                frag4(16, false, 20, &full_l4_4[16..]),
            ],
            Drop(D::FragmentReassembly),
        ),
        seq(
            "stateful: tiny non-final IPv4 fragment (4 bytes)",
            vec![frag4(0, true, 21, &full_l4_4[..4])],
            Drop(D::FragmentReassembly),
        ),
    ];
    // Truncation at every header boundary of an IPv6 packet (header,
    // Hop-by-Hop, Fragment, UDP) and of an IPv4 one (header, options, UDP):
    // the Payload Length / Total Length left as it was.
    let p6 = ext6(
        &[
            Ext::HopByHop(0),
            Ext::Fragment {
                offset: 0,
                mf: false,
                id: 7,
            },
        ],
        UDP,
        &udp6_l4(b"body"),
    );
    for (name, cut) in [
        ("IPv6 cut at 0 bytes", 0),
        ("IPv6 cut at 1 byte", 1),
        ("IPv6 cut at 20 bytes", 20),
        ("IPv6 cut after the fixed header (40)", 40),
        ("IPv6 cut inside Hop-by-Hop (44)", 44),
        ("IPv6 cut after Hop-by-Hop (48)", 48),
        ("IPv6 cut inside the Fragment header (52)", 52),
        ("IPv6 cut after the Fragment header (56)", 56),
        ("IPv6 cut inside UDP (60)", 60),
        ("IPv6 cut after the UDP header (64)", 64),
    ] {
        let e = match cut {
            0 => Back(NotOurs::NotIp),
            _ => Drop(D::Truncated),
        };
        rows.push(row(name, Siit, p6[..cut].to_vec(), e));
    }
    // The same cuts with the Payload Length made to agree: now the chain or
    // the transport header is what is short.
    for (name, cut, e) in [
        ("IPv6 fixed header only, Payload Length 0", 40, Drop(D::Jumbogram)),
        (
            "Hop-by-Hop cut, Payload Length agreeing",
            44,
            Drop(D::BadExtensionHeaders),
        ),
        (
            "Fragment header cut, Payload Length agreeing",
            52,
            Drop(D::BadExtensionHeaders),
        ),
        (
            "UDP cut after the Fragment header, Payload Length agreeing",
            60,
            Drop(D::TransportTruncated),
        ),
    ] {
        let mut p = p6[..cut].to_vec();
        p[4..6].copy_from_slice(&((cut - 40) as u16).to_be_bytes());
        rows.push(row(name, Siit, p, e));
    }
    let p4 = v4_with(|h| h.options = vec![1, 1, 1, 0], UDP, &udp4(b"body")[20..]);
    for (name, cut) in [
        ("IPv4 cut at 10 bytes", 10),
        ("IPv4 cut after the fixed header (20)", 20),
        ("IPv4 cut inside the UDP header (28)", 28),
        ("IPv4 cut after the UDP header (32)", 32),
    ] {
        let e = match cut {
            0..=19 => Drop(D::Truncated),
            20 => Drop(D::BadIpv4Header),
            _ => Drop(D::Truncated),
        };
        rows.push(row(name, Siit, p4[..cut].to_vec(), e));
    }
    for (name, cut, e) in [
        (
            "IPv4 options and nothing else, Total Length agreeing",
            24,
            Drop(D::TransportTruncated),
        ),
        (
            "IPv4 UDP header cut, Total Length agreeing",
            28,
            Drop(D::TransportTruncated),
        ),
    ] {
        let mut p = p4[..cut].to_vec();
        p[2..4].copy_from_slice(&(cut as u16).to_be_bytes());
        fix_v4_checksum(&mut p);
        rows.push(row(name, Siit, p, e));
    }
    rows
}

/// The catalogue, each row against a fresh translator.
#[test]
fn malformed_catalogue() {
    let mut out = vec![0u8; OUT_LEN];
    let mut failures = Vec::new();
    let rows = catalogue();
    let mut names = std::collections::HashSet::new();
    for r in &rows {
        assert!(names.insert(r.name), "row {:?} twice", r.name);
        let v = match r.mode {
            Siit => siit().translate(&r.packets[0], &mut out),
            Stateful => nat64().translate(&r.packets[0], &mut out, Instant::from_secs(1)),
            StatefulSeq => {
                let mut n = nat64();
                let (last, first) = r.packets.split_last().unwrap();
                for (i, p) in first.iter().enumerate() {
                    let v = n.translate(p, &mut out, Instant::from_secs(1));
                    if v != Verdict::Held(Held::Fragment) {
                        failures.push(format!("{}: fragment {} not held: {v:?}", r.name, i + 1));
                    }
                }
                n.translate(last, &mut out, Instant::from_secs(1))
            }
        };
        if !matches(&v, r.expect) {
            failures.push(format!("{}: expected {:?}, got {v:?}", r.name, r.expect));
        }
        // Whatever the verdict, what was written must be well formed.
        match v {
            Verdict::Translated(e) => {
                for p in e.packets(&out) {
                    check_any_output(p, e.direction.output_is_v6());
                }
            }
            Verdict::IcmpError { len, .. } => {
                let from_v6 = r.packets.last().unwrap().first().is_some_and(|b| b >> 4 == 6);
                check_any_output(&out[..len as usize], from_v6);
            }
            _ => {}
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} rows:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );
    // Keep docs/MALFORMED.md in step: every row named there.
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/MALFORMED.md"))
        .expect("docs/MALFORMED.md");
    let missing: Vec<_> = rows.iter().filter(|r| !doc.contains(r.name)).map(|r| r.name).collect();
    assert!(missing.is_empty(), "rows missing from docs/MALFORMED.md: {missing:#?}");
}

/// The counters count each row once, under its reason.
#[test]
fn malformed_rows_are_counted() {
    let mut out = vec![0u8; OUT_LEN];
    let mut t = siit();
    let mut want = std::collections::HashMap::<DropReason, u64>::new();
    for r in catalogue().iter().filter(|r| matches!(r.mode, Siit)) {
        if let Expect::Drop(d) | Expect::Icmp(d) = r.expect {
            *want.entry(d).or_default() += 1;
        }
        let _ = t.translate(&r.packets[0], &mut out);
    }
    for (d, n) in want {
        assert_eq!(t.counters().drops(d), n, "counter {}", d.label());
    }
}

/// Prints the catalogue as the table of `docs/MALFORMED.md`:
/// `cargo test -p nat64-core --test malformed -- --ignored --nocapture print_catalogue`.
#[test]
#[ignore = "prints docs/MALFORMED.md's table"]
fn print_catalogue() {
    println!("| # | translator | bad packet | verdict |");
    println!("|---|---|---|---|");
    for (i, r) in catalogue().iter().enumerate() {
        let mode = match r.mode {
            Siit => "SIIT",
            Stateful => "NAT64",
            StatefulSeq => "NAT64, fragments in turn",
        };
        let verdict = match r.expect {
            Xlat => "translated".to_owned(),
            Drop(d) => format!("dropped: `{}`", d.label()),
            Icmp(d) => format!("ICMP error: `{}`", d.label()),
            Back(n) => format!("not ours: `{}`", n.label()),
            Hold(h) => format!("held: {h:?}"),
        };
        println!("| {} | {mode} | {} | {verdict} |", i + 1, r.name);
    }
}
