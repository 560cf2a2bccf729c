//! Unit tests of the negative PTR answers (RFC 6147 section 5.3.1), the AD
//! bit behind a validating upstream (section 5.5), `translate_all` for names
//! with only AAAA records (section 5.1.1), and `mapped` lists with
//! exclusions (section 5.1.7). Helpers come from `tests.rs`.

use alloc::string::ToString;
use alloc::vec;
use alloc::vec::Vec;

use super::reverse::ip6_arpa_name;
use super::testing::*;
use super::tests::{answers, client6, dns64, resolve, v4, v6};
use super::wire::*;
use super::*;
use crate::addr::Ipv4Prefix;

// ---- section 5.3.1: PTR under a prefix whose in-addr.arpa name has no PTR ----

const TARGET: &str = "10.100.51.198.in-addr.arpa";
const REV_ZONE: &str = "100.51.198.in-addr.arpa";
/// NSEC (RFC 4034), only to see it left out.
const NSEC: u16 = 47;

/// A DO query for the ip6.arpa name of 2001:db8:64::198.51.100.10, its plan's
/// in-addr.arpa name, and the DNS64 with that prefix.
fn ptr_setup() -> (Dns64, Vec<u8>, String) {
    let d = dns64(Dns64Config {
        prefixes: vec![PrefixRule::new("2001:db8:64::/96".parse().unwrap())],
        ..Dns64Config::default()
    });
    let qn = ip6_arpa_name(v6("2001:db8:64::c633:640a"));
    let qname = alloc::format!("{}", DisplayName(&qn, 0));
    let q = MessageBuilder::query(0x6147, &qname, rtype::PTR)
        .edns(1232, true)
        .build();
    (d, q, qname)
}

fn ptr_answer(d: &Dns64, q: &[u8], upstream: &[u8]) -> Option<(Written, Vec<u8>)> {
    let qq = Query::parse(q).unwrap();
    let Plan::Ptr(target) = d.plan(&qq, client6()) else {
        panic!("not a PTR plan")
    };
    assert_eq!(target.wire(), name(TARGET).as_slice());
    let mut out = vec![0u8; 1232];
    let w = d.synthesize_ptr(&qq, &target, upstream, &mut out).unwrap()?;
    out.truncate(w.len);
    Message::parse(&out).expect("valid DNS");
    Some((w, out))
}

#[test]
fn s5_3_1_ptr_whose_in_addr_arpa_name_does_not_exist_is_nxdomain_with_its_soa() {
    let (d, q, qname) = ptr_setup();
    let nx = MessageBuilder::response(1, TARGET, rtype::PTR, rcode::NXDOMAIN)
        .set_flags(flags::AD)
        .authority()
        .soa(REV_ZONE, 3600, 300)
        .rrsig(REV_ZONE, 3600, rtype::SOA)
        .rr(REV_ZONE, NSEC, 300, &name("11.100.51.198.in-addr.arpa"))
        .edns(1232, true)
        .build();
    let (w, out) = ptr_answer(&d, &q, &nx).expect("answered here, not forwarded");
    assert_eq!(w.answer, Answer::Empty);
    let m = Message::parse(&out).unwrap();
    assert_eq!((m.id(), m.rcode(), m.qtype()), (0x6147, rcode::NXDOMAIN, rtype::PTR));
    assert_eq!(
        alloc::format!("{}", DisplayName(&out, m.qname())),
        qname,
        "for the ip6.arpa name asked"
    );
    assert!(answers(&out).is_empty());
    let ns = read_section(&out, Section::Authority);
    assert_eq!(ns.len(), 1, "the SOA only, not its RRSIG nor the NSEC: {ns:?}");
    assert_eq!(
        (ns[0].rtype, ns[0].name.as_str(), ns[0].ttl),
        (rtype::SOA, "100.51.198.in-addr.arpa.", 3600)
    );
    assert_eq!(m.flags() & flags::AD, 0, "nothing proves the ip6.arpa name's absence");
    assert!(m.edns().unwrap().dnssec_ok);
    // RFC 2308: cacheable for min(SOA TTL, MINIMUM).
    assert_eq!(cache_ttl(&m), Some(300));

    // Without an SOA: NXDOMAIN all the same.
    let bare = MessageBuilder::response(1, TARGET, rtype::PTR, rcode::NXDOMAIN).build();
    let (_, out) = ptr_answer(&d, &q, &bare).unwrap();
    assert_eq!(rcode_of(&out), rcode::NXDOMAIN);
    assert!(read_section(&out, Section::Authority).is_empty());
}

#[test]
fn s5_3_1_ptr_whose_in_addr_arpa_name_has_no_ptr_is_an_empty_answer() {
    let (d, q, _) = ptr_setup();
    let nodata = MessageBuilder::response(1, TARGET, rtype::PTR, rcode::NOERROR)
        .authority()
        .soa(REV_ZONE, 600, 120)
        .build();
    let (w, out) = ptr_answer(&d, &q, &nodata).expect("answered here");
    assert_eq!((w.answer, rcode_of(&out)), (Answer::Empty, rcode::NOERROR));
    assert!(answers(&out).is_empty());
    assert_eq!(read_section(&out, Section::Authority)[0].rtype, rtype::SOA);
    // Another type at the name (no PTR): the same.
    let txt = MessageBuilder::response(1, TARGET, rtype::PTR, rcode::NOERROR)
        .rr(TARGET, rtype::TXT, 60, b"\x02hi")
        .build();
    assert_eq!(ptr_answer(&d, &q, &txt).unwrap().0.answer, Answer::Empty);
}

#[test]
fn s5_3_1_failures_and_cnames_at_the_in_addr_arpa_name_are_still_forwarded() {
    let (d, q, _) = ptr_setup();
    for rc in [rcode::SERVFAIL, rcode::REFUSED] {
        let f = MessageBuilder::response(1, TARGET, rtype::PTR, rc).build();
        assert!(ptr_answer(&d, &q, &f).is_none(), "rcode {rc}");
    }
    // RFC 2317 delegation to a name that does not exist: not our NXDOMAIN
    // (the CNAME would make the chain longer, the section's SHOULD).
    let cn = MessageBuilder::response(1, TARGET, rtype::PTR, rcode::NXDOMAIN)
        .cname(TARGET, 60, "10.0-63.100.51.198.in-addr.arpa")
        .build();
    assert!(ptr_answer(&d, &q, &cn).is_none());
    let dn = MessageBuilder::response(1, TARGET, rtype::PTR, rcode::NOERROR)
        .dname(REV_ZONE, 60, "other.example")
        .cname(TARGET, 60, "10.other.example")
        .build();
    assert!(ptr_answer(&d, &q, &dn).is_none());
}

// ---- section 5.5: AD behind a validating upstream ------------------------------

/// A AAAA query for `www.signed.example` with these flags and DO.
fn signed_query(cd: bool, dnssec_ok: bool) -> Vec<u8> {
    let b = MessageBuilder::query(1, "www.signed.example", rtype::AAAA).edns(1232, dnssec_ok);
    if cd {
        b.set_flags(flags::CD).build()
    } else {
        b.build()
    }
}

fn signed_aaaa_nodata(ad: bool) -> Vec<u8> {
    MessageBuilder::response(1, "www.signed.example", rtype::AAAA, 0)
        .set_flags(if ad { flags::AD } else { 0 })
        .authority()
        .soa("signed.example", 300, 300)
        .rrsig("signed.example", 300, rtype::SOA)
        .rr("www.signed.example", NSEC, 300, &name("x.signed.example"))
        .rrsig("www.signed.example", 300, NSEC)
        .build()
}

fn signed_a(ad: bool) -> Vec<u8> {
    MessageBuilder::response(1, "www.signed.example", rtype::A, 0)
        .set_flags(if ad { flags::AD } else { 0 })
        .a("www.signed.example", 300, v4("93.184.216.61"))
        .rrsig("www.signed.example", 300, rtype::A)
        .edns(1232, true)
        .build()
}

fn validating(upstream_validates: bool) -> Dns64 {
    dns64(Dns64Config {
        upstream_validates,
        ..Dns64Config::default()
    })
}

fn ad_of(d: &Dns64, q: &[u8], aaaa: Option<&[u8]>, a: &[u8]) -> bool {
    let (w, out) = resolve(d, q, aaaa, Some(a));
    assert_eq!(w.answer, Answer::Synthesized { records: 1 });
    Message::parse(&out).unwrap().flags() & flags::AD != 0
}

#[test]
fn s5_5_2_synthesized_answer_carries_ad_when_both_answers_validated_upstream() {
    let d = validating(true);
    let (aaaa, a) = (signed_aaaa_nodata(true), signed_a(true));
    let q = signed_query(false, true);
    assert!(
        ad_of(&d, &q, Some(&aaaa), &a),
        "DO, no CD, both AD, validating upstream"
    );
    // The answer is still the synthesized one: no RRSIG over the A RRset.
    let (_, out) = resolve(&d, &q, Some(&aaaa), Some(&a));
    let types: Vec<u16> = answers(&out).iter().map(|r| r.rtype).collect();
    assert_eq!(types, vec![rtype::AAAA]);
    // An answer with only excluded AAAA records is a validated "no usable
    // AAAA" (section 5.1.4): AD too.
    let mapped = MessageBuilder::response(1, "www.signed.example", rtype::AAAA, 0)
        .set_flags(flags::AD)
        .aaaa("www.signed.example", 300, v6("::ffff:93.184.216.61"))
        .rrsig("www.signed.example", 300, rtype::AAAA)
        .build();
    assert!(ad_of(&d, &q, Some(&mapped), &a));
}

#[test]
fn s5_5_ad_stays_clear_otherwise() {
    let (aaaa, a) = (signed_aaaa_nodata(true), signed_a(true));
    let q = signed_query(false, true);
    // The operator did not say the upstream validates (the default).
    assert!(!Dns64Config::default().upstream_validates);
    assert!(!ad_of(&validating(false), &q, Some(&aaaa), &a));
    let d = validating(true);
    // Item 1: no DO, no AD in any response.
    assert!(!ad_of(&d, &signed_query(false, false), Some(&aaaa), &a));
    // CD alone: synthesis (not item 3), but the upstream did not validate.
    let cd = signed_query(true, false);
    assert_eq!(d.plan(&Query::parse(&cd).unwrap(), client6()), Plan::Aaaa);
    assert!(!ad_of(&d, &cd, Some(&aaaa), &a));
    // One of the two answers without AD.
    assert!(!ad_of(&d, &q, Some(&signed_aaaa_nodata(false)), &a));
    assert!(!ad_of(&d, &q, Some(&aaaa), &signed_a(false)));
    // The AAAA query timed out or failed: no validated negative answer.
    assert!(!ad_of(&d, &q, None, &a));
    let fail = MessageBuilder::response(1, "www.signed.example", rtype::AAAA, rcode::SERVFAIL)
        .set_flags(flags::AD)
        .build();
    assert!(!ad_of(&d, &q, Some(&fail), &a));
    // translate_all replacing validated real AAAA records: not a negative
    // answer either.
    let t = dns64(Dns64Config {
        upstream_validates: true,
        translate_all: true,
        ..Dns64Config::default()
    });
    let real = MessageBuilder::response(1, "www.signed.example", rtype::AAAA, 0)
        .set_flags(flags::AD)
        .aaaa("www.signed.example", 300, v6("2001:db8::61"))
        .build();
    assert!(!ad_of(&t, &q, Some(&real), &a));
}

#[test]
fn s5_5_3_cd_and_do_forward_with_the_upstreams_ad() {
    let d = validating(true);
    let q = signed_query(true, true);
    let qq = Query::parse(&q).unwrap();
    assert_eq!(d.plan(&qq, client6()), Plan::Forward, "item 3: no synthesis");
    // The upstream query keeps CD and DO; the relayed answer keeps AD.
    let mut up = [0u8; 512];
    let n = d.upstream_query(&qq, 9, qq.qname_wire(), rtype::AAAA, &mut up).unwrap();
    let um = Message::parse(&up[..n]).unwrap();
    assert!(um.flags() & flags::CD != 0 && um.edns().unwrap().dnssec_ok);
    let mut out = [0u8; 1232];
    let w = d.relay(&qq, &signed_aaaa_nodata(true), &mut out).unwrap();
    assert_ne!(Message::parse(&out[..w.len]).unwrap().flags() & flags::AD, 0);
}

// ---- section 5.1.1: translate_all and names with only AAAA records -----------

#[test]
fn translate_all_keeps_the_real_aaaa_of_a_name_with_nothing_to_synthesize_from() {
    let d = dns64(Dns64Config {
        translate_all: true,
        ..Dns64Config::default()
    });
    let q = query(1, "v6-only.example", rtype::AAAA);
    let aaaa = MessageBuilder::response(1, "v6-only.example", rtype::AAAA, 0)
        .aaaa("v6-only.example", 300, v6("2001:db8::6"))
        .aaaa("v6-only.example", 300, v6("::ffff:192.0.2.6"))
        .build();
    let qq = Query::parse(&q).unwrap();
    assert_eq!(d.needs_a_query(&qq, Some(&aaaa)).unwrap(), Decision::QueryA);
    // No A record (NODATA), only a non-global A under the Well-Known
    // Prefix, a failed A query, or none at all: the real AAAA record, the
    // excluded one removed (section 5.1.4).
    let nodata = MessageBuilder::response(1, "v6-only.example", rtype::A, 0)
        .authority()
        .soa("example", 300, 300)
        .build();
    let private = a_response("v6-only.example", &[v4("10.0.0.6")], 300);
    let servfail = MessageBuilder::response(1, "v6-only.example", rtype::A, rcode::SERVFAIL).build();
    for a in [Some(&nodata), Some(&private), Some(&servfail), None] {
        let (w, out) = resolve(&d, &q, Some(&aaaa), a.map(|v| v.as_slice()));
        assert_eq!(w.answer, Answer::Filtered { removed: 1 });
        assert_eq!(
            (rcode_of(&out), answer_aaaa(&out)),
            (rcode::NOERROR, vec![v6("2001:db8::6")])
        );
    }
    // Without excluded records: relayed as they came.
    let clean = MessageBuilder::response(1, "v6-only.example", rtype::AAAA, 0)
        .aaaa("v6-only.example", 300, v6("2001:db8::6"))
        .build();
    let (w, out) = resolve(&d, &q, Some(&clean), Some(&nodata));
    assert_eq!(
        (w.answer, answer_aaaa(&out)),
        (Answer::Relayed, vec![v6("2001:db8::6")])
    );
    // A name with neither: the empty answer, as without translate_all.
    let (w, out) = resolve(&d, &q, Some(&aaaa_nodata("v6-only.example", 300)), Some(&nodata));
    assert_eq!((w.answer, answers(&out).len()), (Answer::Empty, 0));
}

// ---- section 5.1.7: mapped lists with exclusions -------------------------------

fn rule(prefix: &str, mapped: &[&str]) -> PrefixRule {
    PrefixRule {
        prefix: prefix.parse().unwrap(),
        mapped: mapped.iter().map(|m| m.parse().unwrap()).collect(),
    }
}

#[test]
fn mapped_elements_parse_with_negation_and_any() {
    let m: MappedRange = "!10.0.0.0/8".parse().unwrap();
    assert_eq!(m, MappedRange::exclude("10.0.0.0/8".parse().unwrap()));
    assert_eq!(m.to_string(), "!10.0.0.0/8");
    let any: MappedRange = " ANY ".parse().unwrap();
    assert_eq!(any, MappedRange::include("0.0.0.0/0".parse().unwrap()));
    assert_eq!("! any".parse::<MappedRange>().unwrap().to_string(), "!0.0.0.0/0");
    assert_eq!(
        "192.0.2.1".parse::<MappedRange>().unwrap(),
        MappedRange::from("192.0.2.1/32".parse::<Ipv4Prefix>().unwrap())
    );
    for bad in [
        "!",
        "!!10.0.0.0/8",
        "!10.0.0.0/33",
        "10.0.0.1/8",
        "any/8",
        "2001:db8::/32",
    ] {
        assert!(bad.parse::<MappedRange>().is_err(), "{bad:?}");
    }
    let e = "!10.0.0.1/8".parse::<MappedRange>().unwrap_err().to_string();
    assert!(e.contains("10.0.0.0/8"), "{e}");
    assert_eq!(
        rule("2001:db8:1::/96", &["!10.0.0.0/8", "any"]).to_string(),
        "2001:db8:1::/96=!10.0.0.0/8,0.0.0.0/0"
    );
}

#[test]
fn mapped_first_match_wins_and_exclusions_alone_mean_all_but_them() {
    let r = rule("2001:db8:1::/96", &["!10.0.0.0/8", "any"]);
    assert!(r.maps(v4("93.184.216.1")) && !r.maps(v4("10.1.2.3")));
    let alone = rule("2001:db8:1::/96", &["!10.0.0.0/8", "!172.16.0.0/12"]);
    assert!(alone.maps(v4("93.184.216.1")) && alone.maps(v4("192.168.1.1")));
    assert!(!alone.maps(v4("10.1.2.3")) && !alone.maps(v4("172.20.0.1")));
    // A hole in a range: the exclusion comes first.
    let hole = rule("2001:db8:1::/96", &["!10.1.0.0/16", "10.0.0.0/8"]);
    assert!(hole.maps(v4("10.2.0.1")) && !hole.maps(v4("10.1.2.3")));
    assert!(
        !hole.maps(v4("93.184.216.1")),
        "a positive list: what it does not hold is not mapped"
    );
    assert!(rule("2001:db8:1::/96", &[]).maps(v4("10.1.2.3")), "empty: all");
}

#[test]
fn mapped_elements_that_are_never_reached_are_refused() {
    for (list, element, by) in [
        (&["any", "!10.0.0.0/8"][..], "!10.0.0.0/8", "0.0.0.0/0"),
        (&["10.0.0.0/8", "!10.1.0.0/16"][..], "!10.1.0.0/16", "10.0.0.0/8"),
        (
            &["!198.51.100.0/24", "198.51.100.7"][..],
            "198.51.100.7/32",
            "!198.51.100.0/24",
        ),
    ] {
        let e = Dns64::new(Dns64Config {
            prefixes: vec![rule("2001:db8:1::/96", list)],
            ..Dns64Config::default()
        })
        .unwrap_err();
        assert!(matches!(e, Dns64ConfigError::ShadowedRange { .. }), "{list:?}");
        let msg = e.to_string();
        assert!(
            msg.contains("2001:db8:1::/96") && msg.contains(element) && msg.contains(by),
            "{msg}"
        );
    }
    // Redundant elements of the same sign are harmless.
    assert!(Dns64::new(Dns64Config {
        prefixes: vec![rule("2001:db8:1::/96", &["10.0.0.0/8", "10.1.0.0/16"])],
        ..Dns64Config::default()
    })
    .is_ok());
}

#[test]
fn s5_1_7_each_a_record_gets_the_prefix_its_range_selects() {
    // One prefix for 198.51.100.0/24, another for everything else, with no
    // hand-made complement list.
    let d = dns64(Dns64Config {
        prefixes: vec![
            rule("2001:db8:1::/96", &["198.51.100.0/24"]),
            rule("2001:db8:2::/96", &["!198.51.100.0/24"]),
        ],
        ..Dns64Config::default()
    });
    let q = query(1, "m.example", rtype::AAAA);
    let a = a_response(
        "m.example",
        &[v4("198.51.100.1"), v4("93.184.216.1"), v4("10.9.9.9")],
        300,
    );
    let (w, out) = resolve(&d, &q, Some(&aaaa_nodata("m.example", 300)), Some(&a));
    assert_eq!(w.answer, Answer::Synthesized { records: 3 });
    assert_eq!(
        answer_aaaa(&out),
        vec![
            v6("2001:db8:1::198.51.100.1"),
            v6("2001:db8:2::93.184.216.1"),
            v6("2001:db8:2::10.9.9.9")
        ]
    );
    // An exclusion under the Well-Known Prefix, next to RFC 6052 section
    // 3.1: 93.184.216.0/24 goes to the NSP only.
    let d = dns64(Dns64Config {
        prefixes: vec![
            rule("64:ff9b::/96", &["!93.184.216.0/24"]),
            rule("2001:db8:3::/96", &["93.184.216.0/24"]),
        ],
        ..Dns64Config::default()
    });
    let a = a_response(
        "m.example",
        &[v4("93.184.216.1"), v4("93.184.217.1"), v4("10.9.9.9")],
        300,
    );
    let (_, out) = resolve(&d, &q, Some(&aaaa_nodata("m.example", 300)), Some(&a));
    assert_eq!(
        answer_aaaa(&out),
        vec![v6("2001:db8:3::93.184.216.1"), v6("64:ff9b::93.184.217.1")]
    );
    // PTR queries go by the prefix alone (section 5.3.1: "whether its
    // prefix matches any of the locally configured Pref64::/n").
    let qn = ip6_arpa_name(v6("2001:db8:3::93.184.217.1"));
    let pq = query(2, &alloc::format!("{}", DisplayName(&qn, 0)), rtype::PTR);
    assert!(matches!(d.plan(&Query::parse(&pq).unwrap(), client6()), Plan::Ptr(t) if t.addr() == v4("93.184.217.1")));
}
