//! The client filter (`nat64_core::clients`): sources judged, ICMP errors
//! judged by the client they quote, after IPv6 extension headers; packets
//! built by hand (`common`), independently of the crate's wire code.

mod common;

use std::net::Ipv6Addr;

use common::*;
use nat64_core::clients::{client_v4, client_v6, Clients};

const CLIENT: &str = "2001:db8:1::5";
const OUTSIDER: &str = "2001:db8:9::5";
const ROUTER: &str = "2001:db8:99::1";
const REMOTE: &str = "2001:db8:64::cb00:7102";

fn clients6() -> Clients {
    Clients::V6(vec!["2001:db8:1::/64".parse().unwrap()])
}

/// An ICMPv6 Destination Unreachable from `from`, quoting a packet from the
/// remote (through pool6) to `quoted_dst`: an error about `quoted_dst`'s flow,
/// with `exts` between its IPv6 header and the ICMPv6 header.
fn icmp6_error_about(from: &str, quoted_dst: &str, exts: &[Ext]) -> Vec<u8> {
    let quoted =
        V6::new(v6(REMOTE), v6(quoted_dst)).build(UDP, &udp(Ips::V6(v6(REMOTE), v6(quoted_dst)), 53, 5000, b"x"));
    let l4 = icmp6(v6(from), v6(REMOTE), 3, 0, [0; 4], &quoted);
    V6::new(v6(from), v6(REMOTE)).build_ext(exts, ICMPV6, &l4)
}

#[test]
fn sources_are_judged() {
    let c = clients6();
    let p = |src: &str, exts: &[Ext]| {
        V6::new(v6(src), v6(REMOTE)).build_ext(exts, UDP, &udp(Ips::V6(v6(src), v6(REMOTE)), 5000, 53, b"x"))
    };
    assert!(c.allows(&p(CLIENT, &[])));
    assert!(!c.allows(&p(OUTSIDER, &[])));
    for exts in [
        vec![Ext::HopByHop(0)],
        vec![Ext::HopByHop(1), Ext::DstOpts(0)],
        vec![Ext::Routing(0)],
        vec![Ext::Fragment {
            offset: 0,
            mf: true,
            id: 1,
        }],
    ] {
        assert!(c.allows(&p(CLIENT, &exts)), "{exts:?}");
        assert!(!c.allows(&p(OUTSIDER, &exts)), "{exts:?}");
    }
    assert_eq!(client_v6(&p(CLIENT, &[Ext::HopByHop(0)])), Some(v6(CLIENT)));
}

#[test]
fn rfc4443_s2_4_icmpv6_errors_are_judged_by_the_quoted_client() {
    let c = clients6();
    for exts in [
        vec![],
        vec![Ext::HopByHop(0)],
        vec![Ext::DstOpts(2)],
        vec![Ext::HopByHop(0), Ext::DstOpts(0), Ext::Routing(0)],
        // RFC 6946 atomic fragment: a whole packet with a Fragment header.
        vec![Ext::Fragment {
            offset: 0,
            mf: false,
            id: 9,
        }],
        vec![
            Ext::HopByHop(0),
            Ext::Fragment {
                offset: 0,
                mf: false,
                id: 9,
            },
        ],
    ] {
        let about_client = icmp6_error_about(ROUTER, CLIENT, &exts);
        assert_eq!(client_v6(&about_client), Some(v6(CLIENT)), "{exts:?}");
        assert!(c.allows(&about_client), "{exts:?}");
        let about_outsider = icmp6_error_about(ROUTER, OUTSIDER, &exts);
        assert!(!c.allows(&about_outsider), "{exts:?}");
    }
}

#[test]
fn informational_messages_and_fragments_are_judged_by_their_source() {
    let c = clients6();
    // Echo requests (type 128) behind a Hop-by-Hop header.
    let echo = |src: &str| {
        let l4 = icmp6_echo(v6(src), v6(REMOTE), true, 1, 1, b"");
        V6::new(v6(src), v6(REMOTE)).build_ext(&[Ext::HopByHop(0)], ICMPV6, &l4)
    };
    assert!(c.allows(&echo(CLIENT)));
    assert!(!c.allows(&echo(ROUTER)));
    // A real fragment (offset 0 with More Fragments, or any later one) is
    // judged by its source, even when it starts with an ICMPv6 error
    // quoting a client: all fragments of a datagram alike.
    for (offset, mf) in [(0, true), (4, true), (4, false)] {
        let frag = [Ext::Fragment { offset, mf, id: 3 }];
        let from_router = icmp6_error_about(ROUTER, CLIENT, &frag);
        assert_eq!(client_v6(&from_router), Some(v6(ROUTER)), "{offset} {mf}");
        assert!(!c.allows(&from_router));
        assert!(c.allows(&icmp6_error_about(CLIENT, OUTSIDER, &frag)));
    }
    // A Routing header with segments left, or a truncated chain: the
    // translator refuses those; the filter judges the source.
    let bad = icmp6_error_about(ROUTER, CLIENT, &[Ext::Routing(1)]);
    assert_eq!(client_v6(&bad), Some(v6(ROUTER)));
    let mut cut = icmp6_error_about(ROUTER, CLIENT, &[Ext::HopByHop(0)]);
    cut.truncate(44);
    assert_eq!(client_v6(&cut), Some(v6(ROUTER)));
    // An error whose quoted header is cut short: the source.
    let mut short = icmp6_error_about(ROUTER, CLIENT, &[Ext::DstOpts(0)]);
    short.truncate(40 + 8 + 8 + 39);
    assert_eq!(client_v6(&short), Some(v6(ROUTER)));
}

#[test]
fn other_packets_pass_to_the_translator() {
    let c = clients6();
    // Multicast (neighbour discovery, MLD) is the host's.
    let ns = V6::new(v6(OUTSIDER), "ff02::1:ff00:5".parse::<Ipv6Addr>().unwrap()).build(ICMPV6, &[135, 0, 0, 0]);
    assert!(c.allows(&ns));
    // IPv4 and garbage: the translator judges them.
    assert!(c.allows(&[0x45; 20]));
    assert!(c.allows(&[0xff, 1]));
    assert!(c.allows(&[0x60; 39]));
    assert_eq!(client_v6(&[0x45; 20]), None);
}

fn clients4() -> Clients {
    Clients::V4(vec!["192.0.0.0/29".parse().unwrap()])
}

fn udp4(src: &str) -> Vec<u8> {
    V4::new(v4(src), v4("203.0.113.1"), UDP).build(&udp(Ips::V4(v4(src), v4("203.0.113.1")), 5000, 53, b"x"))
}

#[test]
fn ipv4_sources_and_rfc792_errors() {
    let c = clients4();
    assert!(c.allows(&udp4("192.0.0.2")));
    assert!(!c.allows(&udp4("198.51.100.1")));
    // ICMP errors (Destination Unreachable, Time Exceeded, ...) from a
    // router, quoting a packet to the client: judged by that destination.
    let quoted = V4::new(v4("203.0.113.1"), v4("192.0.0.2"), UDP).build(&[0; 8]);
    for ty in [3u8, 4, 5, 11, 12] {
        let e = V4::new(v4("198.51.100.1"), v4("203.0.113.1"), ICMP).build(&icmp4(ty, 0, [0; 4], &quoted));
        assert_eq!(client_v4(&e), Some(v4("192.0.0.2")), "type {ty}");
        assert!(c.allows(&e));
        // With IPv4 options: the ICMP header is found after them.
        let mut h = V4::new(v4("198.51.100.1"), v4("203.0.113.1"), ICMP);
        h.options = vec![1, 1, 1, 1];
        assert_eq!(
            client_v4(&h.build(&icmp4(ty, 0, [0; 4], &quoted))),
            Some(v4("192.0.0.2"))
        );
    }
    // Echo (type 8) is judged by its source.
    let echo = V4::new(v4("198.51.100.1"), v4("203.0.113.1"), ICMP).build(&icmp4_echo(true, 1, 1, &quoted));
    assert!(!c.allows(&echo));
    // A later fragment whose data happens to look like an ICMP error is
    // judged by its source.
    let mut frag = V4::new(v4("198.51.100.1"), v4("203.0.113.1"), ICMP);
    frag.frag_off = 2;
    let mut looks_like_error = icmp4(3, 0, [0; 4], &quoted);
    looks_like_error[0] = 3;
    assert_eq!(client_v4(&frag.build(&looks_like_error)), Some(v4("198.51.100.1")));
    assert!(!c.allows(&frag.build(&looks_like_error)));
    // IPv6 and garbage pass.
    assert!(c.allows(&V6::new(v6(OUTSIDER), v6(REMOTE)).build(UDP, &[0; 8])));
    assert!(c.allows(&[0x45, 0, 0]));
}

#[test]
fn describe_lists_the_prefixes() {
    let c = Clients::V6(vec![
        "2001:db8:1::/64".parse().unwrap(),
        "2001:db8:2::/48".parse().unwrap(),
    ]);
    assert_eq!(c.describe(), "2001:db8:1::/64,2001:db8:2::/48");
    assert_eq!(clients4().describe(), "192.0.0.0/29");
}
