//! Bugs found by the fuzz targets (`fuzz/`), one test each, on the smallest
//! input that shows them. The crashing inputs themselves are in
//! `fuzz/regressions/TARGET/`, replayed by `fuzz/smoke.sh`.
//!
//! A test marked `#[ignore = "BUG: ..."]` fails until the core is fixed;
//! the fix removes the mark (and the matching `KnownBug` of
//! `fuzz/src/lib.rs`).

mod common;

use std::net::Ipv6Addr;

use common::*;
use nat64_core::dns64::wire::{age_ttls, rcode, Message};
use nat64_core::dns64::{Dns64, Dns64Config, Query};
use nat64_core::{Config, DropReason, Eamt, Translator, Verdict};

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
    c.own_ipv4 = Some(v4("203.0.113.254"));
    c.own_ipv6 = Some(v6("2001:db8:ffff::1"));
    Translator::new(c).unwrap()
}

/// fuzz/regressions/xlat64/icmp-echo-reply-all-zero-checksum: an ICMPv6
/// echo reply with identifier 0, sequence 0 and no data becomes an ICMPv4
/// message of eight zero bytes but its checksum. The incremental update
/// (RFC 1624 eqn. 3) gives 0x0000, but the sum of the message is then
/// +0, not -0 (0xffff): receivers drop it. 0xffff is the right checksum
/// (and is never wrong where 0x0000 would be right), so `patch_csum` can
/// map 0 to 0xffff for every protocol, as it does for UDP.
#[test]
fn icmp_echo_reply_all_zero_checksum() {
    let (s, d) = (wkp("8.8.8.8"), wkp("1.1.1.1"));
    let p = V6::new(s, d).build(ICMPV6, &icmp6_echo(s, d, false, 0, 0, b""));
    let mut out = vec![0u8; OUT_LEN];
    let v = siit().translate(&p, &mut out);
    let Verdict::Translated(e) = v else { panic!("{v:?}") };
    let icmp = &out[20..e.total_len()];
    assert_eq!(icmp, &[0, 0, 0xff, 0xff, 0, 0, 0, 0], "ICMPv4 echo reply of zeros");
    assert!(checksum_ok(&[icmp]));
}

/// fuzz/regressions/xlat64/fragment-past-65535: an IPv6 fragment at offset
/// 65 528 with 16 bytes is translated into an IPv4 fragment whose datagram
/// would be 65 564 bytes long (a "ping of death": RFC 791 caps Total
/// Length at 65 535). Even a valid IPv6 fragment near the end (offset plus
/// length up to 65 535) does not fit IPv4 once the 20-byte header counts.
/// `DropReason::FragmentBeyondMaximum` exists for this (it is used when the
/// translator fragments itself).
#[test]
fn fragment_past_65535_6to4() {
    let (s, d) = (v6("2001:db8:1::5"), wkp("8.8.8.8"));
    let mut t = siit();
    let mut out = vec![0u8; OUT_LEN];
    for (offset, len) in [(65_528u16, 16usize), (65_512, 16)] {
        let p = V6::new(s, d).build_ext(
            &[Ext::Fragment {
                offset: offset / 8,
                mf: false,
                id: 1,
            }],
            UDP,
            &vec![0xab; len],
        );
        let v = t.translate(&p, &mut out);
        assert_eq!(
            v,
            Verdict::Dropped(DropReason::FragmentBeyondMaximum),
            "IPv6 fragment at {offset} with {len} bytes"
        );
    }
}

/// The same 4->6: an IPv4 fragment at offset 65 528 (8191 units) with 36
/// bytes becomes an IPv6 fragment ending at 65 564.
#[test]
fn fragment_past_65535_4to6() {
    let mut h = V4::new(v4("8.8.8.8"), v4("192.0.2.5"), UDP);
    h.frag_off = 8191;
    let p = h.build(&[0xab; 36]);
    let v = siit().translate(&p, &mut vec![0u8; OUT_LEN]);
    assert_eq!(v, Verdict::Dropped(DropReason::FragmentBeyondMaximum));
}

/// fuzz/regressions/xlat46/ipv4-protocol-0-becomes-hop-by-hop: an IPv4
/// packet whose Protocol is an IPv6 extension header number (0 Hop-by-Hop,
/// 43 Routing, 44 Fragment, 60 Destination Options) is translated with that
/// Next Header (RFC 7915 section 4.1 copies the field), so the IPv4
/// sender's payload is parsed on the IPv6 side as an extension header: a
/// malformed one, or one it chose (a Fragment header, a Routing header
/// with segments left). Such a packet cannot be a valid IPv4 packet; it
/// should not be translated (a drop reason of its own, or
/// `UnsupportedProtocol` reworded).
#[test]
fn ipv4_protocol_extension_header_numbers() {
    let mut t = siit();
    let mut out = vec![0u8; OUT_LEN];
    for proto in [0u8, 43, 44, 60] {
        // A Routing header (type 0, segments left 1) in the payload.
        let p = V4::new(v4("8.8.8.8"), v4("192.0.2.5"), proto).build(&[17, 0, 0, 1, 0, 0, 0, 0, 1, 2, 3, 4]);
        let v = t.translate(&p, &mut out);
        assert!(
            !matches!(v, Verdict::Translated(_)),
            "IPv4 protocol {proto} translated into an IPv6 extension header"
        );
    }
}

/// fuzz/regressions/dns64/qname-pointer-into-header and
/// fuzz/regressions/dns_wire/qname-pointer-into-header: a query whose
/// QNAME ends in a compression pointer. The question is the first name of
/// the message, so the pointer can only point into the header; the parser
/// rejects a pointer as the first byte of the name only. The query is
/// accepted, `Query::qname_wire` returns the in-place bytes with the
/// pointer, and `Dns64::error_response` copies them as they are: the
/// response's pointer now points into the response's own header, and the
/// response does not parse (`plan` and `upstream_query` read the same
/// slice, resolving the pointer against the slice). Fix: reject any
/// pointer in the question name (`Message::parse`), or any pointer below
/// the header.
#[test]
fn dns64_qname_pointer_into_header() {
    // ID 10, RD, one question: "340.0.0" then a pointer to offset 3.
    let mut q = vec![0, 10, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0];
    q.extend_from_slice(&[3, b'3', b'4', b'0', 1, b'0', 1, b'0', 0xc0, 3]);
    q.extend_from_slice(&[0, 28, 0, 1]);
    let d = Dns64::new(Dns64Config::default()).unwrap();
    let mut out = [0u8; 512];
    match Query::parse(&q) {
        Err(e) => {
            // The fix that rejects it: a FORMERR that parses.
            let n = d.error_response(&q, e.rcode().unwrap(), &mut out).unwrap().unwrap();
            Message::parse(&out[..n]).expect("the FORMERR response parses");
        }
        Ok(_) => {
            let n = d.error_response(&q, rcode::SERVFAIL, &mut out).unwrap().unwrap();
            Message::parse(&out[..n]).expect("the SERVFAIL response parses");
        }
    }
}

/// fuzz/regressions/dns_wire/age-ttls-pointer-into-ttl: `age_ttls` on a
/// valid message whose last name is a compression pointer into the TTL
/// field of an earlier record. Ageing rewrote the TTL, so the name changed
/// and the message no longer parsed. Fixed: `age_ttls` checks every name
/// before writing and refuses such a message, leaving it unchanged.
#[test]
fn dns_age_ttls_pointer_into_ttl() {
    let mut m: Vec<u8> = vec![
        0x2c, 0x01, 0x81, 0x80, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x07, 0x65, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x01, 0x00, 0x20, 0x04, 0xc0, 0x00, 0x02, 0x00, 0x00, 0x00, 0xb6, 0x00, 0x00, 0x00, 0x00,
        0x02, 0x07, 0x65, 0x00, 0x00, 0x1a, 0x34, 0x81, 0x82, 0x00, 0x01, 0x00, 0x00, 0x08, 0xc4, 0x00, 0x00, 0x00,
        0x6c, 0xff, 0xff, 0xff, 0x02, 0x00,
    ];
    Message::parse(&m).expect("the input is a valid message");
    let before = m.clone();
    match age_ttls(&mut m, 1000) {
        Ok(()) => {
            Message::parse(&m).expect("an aged valid message parses");
        }
        Err(e) => {
            assert!(e.what.contains("reads a TTL field"), "{e}");
            assert_eq!(m, before, "a refused message is left unchanged");
        }
    }
}

/// The ordinary case next to it: names compressed to earlier names (as
/// every compressor writes them) age, and the names stay the same.
#[test]
fn dns_age_ttls_compressed_names_age() {
    // example. A 192.0.2.1 ttl 300; answer owner is a pointer to the qname.
    let mut m: Vec<u8> = vec![
        0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, 7, b'e', b'x', b'a', b'm', b'p', b'l', b'e', 0, 0, 1, 0, 1,
        0xc0, 12, 0, 1, 0, 1, 0, 0, 1, 44, 0, 4, 192, 0, 2, 1,
    ];
    age_ttls(&mut m, 100).unwrap();
    let msg = Message::parse(&m).unwrap();
    let rr = msg.records(nat64_core::dns64::wire::Section::Answer).next().unwrap();
    assert_eq!(rr.ttl, 200);
    age_ttls(&mut m, 1000).unwrap();
    let msg = Message::parse(&m).unwrap();
    assert_eq!(
        msg.records(nat64_core::dns64::wire::Section::Answer)
            .next()
            .unwrap()
            .ttl,
        0
    );
}

/// fuzz/regressions/config/mtu4-u32-max-overflow: `mtu4 = 4294967295`
/// passes `Config::validate`, and an ICMPv4 Fragmentation Needed then makes
/// `icmp::ptb_mtu_from_fn` compute `mtu4 + 20`: a panic with overflow
/// checks (debug builds, the tests), a wrong MTU (1280) in release. Fix:
/// `mtu4.saturating_add(20)` there (and in `body64`'s `mtu4 + 20`), or an
/// upper bound on the MTUs in `validate`.
#[test]
fn mtu4_near_u32_max_does_not_overflow() {
    let mut c = Config::with_pool6("2001:db8:64::/96".parse().unwrap());
    c.mtu4 = u32::MAX;
    c.mtu6 = 1500;
    c.own_ipv6 = Some(v6("2001:db8:ffff::1"));
    let Ok(mut t) = Translator::new(c) else {
        return; // a fix that refuses the value is fine too
    };
    let quoted = V4::new(v4("192.0.2.7"), v4("198.51.100.1"), UDP).build(&udp(
        Ips::V4(v4("192.0.2.7"), v4("198.51.100.1")),
        1,
        2,
        &[0; 1400],
    ));
    let err = V4::new(v4("203.0.113.1"), v4("192.0.2.7"), ICMP).build(&icmp4(3, 4, [0, 0, 0x05, 0xdc], &quoted[..548]));
    let mut out = vec![0u8; OUT_LEN];
    let v = t.translate(&err, &mut out);
    let Verdict::Translated(e) = v else { panic!("{v:?}") };
    // RFC 7915 section 4.2: max(1280, min(1500 + 20, mtu6, mtu4 + 20)).
    let mtu = u32::from_be_bytes([out[44], out[45], out[46], out[47]]);
    assert_eq!(mtu, 1500, "PTB MTU ({} bytes emitted)", e.total_len());
}

/// fuzz/regressions/config/error-hop-limit-0: `error_hop_limit = 0` passes
/// `Config::validate`, and every ICMP error the translator generates then
/// leaves with TTL (or hop limit) 0: the first router drops it, so senders
/// never learn of Packet Too Big or Time Exceeded. Fix: refuse 0 in
/// `validate` (a `ConfigError` naming `error_hop_limit`).
#[test]
fn error_hop_limit_0_is_refused_or_not_used() {
    let mut c = Config::with_pool6("64:ff9b::/96".parse().unwrap());
    c.own_ipv6 = Some(v6("2001:db8:ffff::1"));
    c.error_hop_limit = 0;
    let Ok(mut t) = Translator::new(c) else {
        return; // refused: fixed
    };
    let (s, d) = (v6("2001:db8::7"), wkp("8.8.8.8"));
    let mut p = V6::new(s, d).build(UDP, &udp(Ips::V6(s, d), 1, 2, b"x"));
    p[7] = 1; // hop limit 1: Time Exceeded
    let mut out = vec![0u8; OUT_LEN];
    let v = t.translate(&p, &mut out);
    let Verdict::IcmpError { .. } = v else { panic!("{v:?}") };
    assert!(out[7] >= 1, "an ICMPv6 error generated with hop limit {}", out[7]);
}

/// fuzz/regressions/dns_wire/age-ttls-rdata-name-not-a-name: an RP record
/// (RDATA of two names) whose RDATA is one byte, a label length running
/// past the end. `Message::parse` does not check RDATA names, so the
/// message is valid, and the first version of the `age_ttls` fix refused
/// it (it walked RDATA names with `skip_name` and returned its error).
/// RDATA that is not a name is opaque: the message ages.
#[test]
fn dns_age_ttls_rdata_name_that_is_not_a_name() {
    let mut m: Vec<u8> = vec![
        0, 0, 129, 128, 0, 1, 0, 0, 0, 1, 0, 0, 0, 126, 28, 0, 116, 0, 0, 17, 0, 0, 23, 0, 129, 128, 0, 1, 44,
    ];
    Message::parse(&m).expect("the input is a valid message");
    age_ttls(&mut m, 1000).expect("a message whose RDATA is opaque ages");
    let msg = Message::parse(&m).unwrap();
    let rr = msg.records(nat64_core::dns64::wire::Section::Authority).next().unwrap();
    assert_eq!(rr.ttl, 0x1700_8180 - 1000);
}
