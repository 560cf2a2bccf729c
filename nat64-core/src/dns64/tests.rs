//! Unit tests, one group per RFC section, on messages the tests build.

use alloc::vec;
use alloc::vec::Vec;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::discovery::*;
use super::reverse::{ip6_arpa_name, parse_in_addr_arpa, parse_ip6_arpa};
use super::testing::*;
use super::wire::*;
use super::*;

pub(super) fn v4(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}
pub(super) fn v6(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}
pub(super) fn client6() -> IpAddr {
    "2001:db8:aaaa::53".parse().unwrap()
}
pub(super) fn dns64(cfg: Dns64Config) -> Dns64 {
    Dns64::new(cfg).unwrap()
}
pub(super) fn wkp() -> Dns64 {
    dns64(Dns64Config::default())
}
pub(super) fn with_prefixes(ps: &[&str]) -> Dns64 {
    dns64(Dns64Config {
        prefixes: ps.iter().map(|p| PrefixRule::new(p.parse().unwrap())).collect(),
        ..Dns64Config::default()
    })
}

/// Runs the AAAA path the way a resolver does: needs_a_query, then
/// synthesize with the A answer only when asked for.
pub(super) fn resolve(d: &Dns64, q: &[u8], aaaa: Option<&[u8]>, a: Option<&[u8]>) -> (Written, Vec<u8>) {
    let q = Query::parse(q).unwrap();
    let a = match d.needs_a_query(&q, aaaa).unwrap() {
        Decision::Respond => None,
        Decision::QueryA => a,
    };
    let mut out = vec![0u8; 4096];
    let w = d.synthesize(&q, aaaa, a, &mut out).unwrap();
    out.truncate(w.len);
    Message::parse(&out).expect("the response is valid DNS");
    (w, out)
}

pub(super) fn answers(msg: &[u8]) -> Vec<ReadRr> {
    read_section(msg, Section::Answer)
}

// ---- wire format -------------------------------------------------------

#[test]
fn wire_rejects_bad_names_without_panicking() {
    // A pointer to itself, a forward pointer, a label past the end, a
    // 256-byte name, an unknown label type.
    let mut self_ptr = query(1, "a.example", 1);
    self_ptr.extend_from_slice(&[0xc0, 29, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0]);
    self_ptr[7] = 1; // ANCOUNT 1
    let e = Message::parse(&self_ptr).unwrap_err();
    assert!(e.what.contains("backwards"), "{e}");

    let mut fwd = query(1, "a.example", 1);
    fwd[7] = 1;
    fwd.extend_from_slice(&[0xc0, 40, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0]);
    assert!(Message::parse(&fwd).is_err());

    let mut long = vec![0u8, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0];
    for _ in 0..5 {
        long.push(60);
        long.extend_from_slice(&[b'a'; 60]);
    }
    long.extend_from_slice(&[0, 0, 1, 0, 1]);
    assert_eq!(Message::parse(&long).unwrap_err().what, "name longer than 255 bytes");

    let mut ext = vec![0u8, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x41, 0, 0, 1, 0, 1];
    assert!(Message::parse(&ext).unwrap_err().what.contains("label type"));
    ext.truncate(13);
    assert!(Message::parse(&ext).is_err());
}

#[test]
fn wire_every_truncation_of_a_response_is_an_error_not_a_panic() {
    let msg = MessageBuilder::response(7, "www.example.com", rtype::A, 0)
        .cname("www.example.com", 60, "web.example.com")
        .a("web.example.com", 60, v4("192.0.2.1"))
        .authority()
        .soa("example.com", 60, 30)
        .edns(1232, true)
        .build();
    assert!(Message::parse(&msg).is_ok());
    for n in 0..msg.len() {
        assert!(Message::parse(&msg[..n]).is_err(), "length {n}");
    }
}

#[test]
fn wire_opt_rules_of_rfc_6891() {
    // Two OPT records.
    let mut m = MessageBuilder::query(1, "example", rtype::A).edns(1232, false).build();
    m.extend_from_slice(&[0, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 0]);
    m[11] = 2;
    assert!(Message::parse(&m).unwrap_err().what.contains("more than one OPT"));
    // OPT in the answer section.
    let m = MessageBuilder::response(1, "example", rtype::A, 0)
        .rr(".", rtype::OPT, 0, &[])
        .build();
    assert!(Message::parse(&m).unwrap_err().what.contains("outside the additional"));
}

#[test]
fn wire_names_compare_case_insensitively_through_pointers() {
    let msg = MessageBuilder::response(1, "WWW.Example.COM", rtype::A, 0)
        .cname_ptr("@", 60, "web", 1) // web.Example.COM, compressed
        .build();
    let m = Message::parse(&msg).unwrap();
    let rr = m.records(Section::Answer).next().unwrap();
    assert!(name_eq(&msg, rr.rdata, &name("web.example.com"), 0));
    assert!(name_eq(&msg, rr.name, &name("www.example.com"), 0));
    assert!(!name_eq(&msg, rr.name, &name("www.example.co"), 0));
    assert_eq!(alloc::format!("{}", DisplayName(&msg, rr.rdata)), "web.Example.COM.");
}

#[test]
fn wire_cache_ttl_and_ageing() {
    let mut msg = MessageBuilder::response(1, "a.example", rtype::A, 0)
        .a("a.example", 300, v4("192.0.2.1"))
        .a("a.example", 100, v4("192.0.2.2"))
        .edns(1232, false)
        .build();
    assert_eq!(cache_ttl(&Message::parse(&msg).unwrap()), Some(100));
    age_ttls(&mut msg, 150).unwrap();
    let r = answers(&msg);
    assert_eq!((r[0].ttl, r[1].ttl), (150, 0));
    // The OPT's TTL field (flags) is left alone.
    assert_eq!(Message::parse(&msg).unwrap().edns().unwrap().udp_size, 1232);
    // Negative answers: RFC 2308, min(SOA TTL, MINIMUM).
    let neg = aaaa_nodata("a.example", 30);
    assert_eq!(cache_ttl(&Message::parse(&neg).unwrap()), Some(30));
    let servfail = MessageBuilder::response(1, "a.example", rtype::A, rcode::SERVFAIL).build();
    assert_eq!(cache_ttl(&Message::parse(&servfail).unwrap()), None);
}

#[test]
fn wire_reverse_names() {
    let a = v6("64:ff9b::c000:221");
    let n = ip6_arpa_name(a);
    assert_eq!(parse_ip6_arpa(&n, 0), Some(a));
    assert_eq!(parse_ip6_arpa(&name("1.2.ip6.arpa"), 0), None);
    let i = InAddrName::new(v4("192.0.2.33"));
    assert_eq!(i.wire(), name("33.2.0.192.in-addr.arpa").as_slice());
    assert_eq!(parse_in_addr_arpa(i.wire(), 0), Some(v4("192.0.2.33")));
    assert_eq!(parse_in_addr_arpa(&name("033.2.0.192.in-addr.arpa"), 0), None);
    assert_eq!(parse_in_addr_arpa(&name("256.2.0.192.in-addr.arpa"), 0), None);
    assert_eq!(
        InAddrName::new(v4("0.0.0.0")).wire(),
        name("0.0.0.0.in-addr.arpa").as_slice()
    );
}

// ---- queries -----------------------------------------------------------

#[test]
fn query_errors_map_to_rcodes() {
    assert_eq!(Query::parse(&[0; 11]).unwrap_err(), QueryError::Ignore);
    let resp = MessageBuilder::response(1, "example", rtype::A, 0).build();
    assert_eq!(Query::parse(&resp).unwrap_err(), QueryError::Ignore);
    let notify = MessageBuilder::new(1, 4 << 11, "example", rtype::SOA).build();
    assert_eq!(Query::parse(&notify).unwrap_err().rcode(), Some(rcode::NOTIMP));
    let mut noq = query(1, "example", rtype::A);
    noq[5] = 0;
    assert_eq!(Query::parse(&noq).unwrap_err().rcode(), Some(rcode::FORMERR));
    let mut v1 = MessageBuilder::query(1, "example", rtype::A).edns(1232, false).build();
    let n = v1.len();
    v1[n - 5] = 1; // EDNS version 1
    assert_eq!(Query::parse(&v1).unwrap_err(), QueryError::BadVers(1));
    let e = QueryError::NotImp(4).to_string();
    assert!(e.contains("NOTIMP"), "{e}");
}

#[test]
fn error_responses_echo_id_and_question() {
    let d = wkp();
    let mut out = [0u8; 512];
    let q = MessageBuilder::query(0xbeef, "Example.org", rtype::AAAA)
        .edns(4096, true)
        .build();
    let n = d.error_response(&q, rcode::SERVFAIL, &mut out).unwrap().unwrap();
    let m = Message::parse(&out[..n]).unwrap();
    assert_eq!((m.id(), m.rcode(), m.qtype()), (0xbeef, rcode::SERVFAIL, rtype::AAAA));
    assert!(m.is_response() && m.flags() & flags::RD != 0);
    assert_eq!(m.qname_wire(), &q[12..12 + 13]);
    assert!(m.edns().unwrap().dnssec_ok);
    // BADVERS is extended: 16 = OPT upper bits 1, header 0.
    let n = d.error_response(&q, rcode::BADVERS, &mut out).unwrap().unwrap();
    assert_eq!(Message::parse(&out[..n]).unwrap().rcode(), rcode::BADVERS);
    // Garbage after a header: FORMERR with no question.
    let junk = [0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0xff];
    let n = d.error_response(&junk, rcode::FORMERR, &mut out).unwrap().unwrap();
    let m = Message::parse(&out[..n]).unwrap();
    assert_eq!((m.id(), m.rcode(), m.has_question()), (0x1234, rcode::FORMERR, false));
    // Responses and runts are never answered.
    assert_eq!(d.error_response(&[1, 2, 3], rcode::FORMERR, &mut out).unwrap(), None);
    let resp = MessageBuilder::response(1, "x", 1, 0).build();
    assert_eq!(d.error_response(&resp, rcode::FORMERR, &mut out).unwrap(), None);
}

// ---- plan: which queries DNS64 handles ---------------------------------

#[test]
fn plan_section_5_1_only_aaaa_in_class_in() {
    let d = wkp();
    let plan = |q: &[u8]| d.plan(&Query::parse(q).unwrap(), client6());
    assert_eq!(plan(&query(1, "example.com", rtype::AAAA)), Plan::Aaaa);
    assert_eq!(plan(&query(1, "example.com", rtype::A)), Plan::Forward);
    assert_eq!(plan(&query(1, "example.com", rtype::MX)), Plan::Forward);
    // Section 5.1: other classes behave as with no DNS64.
    let ch = MessageBuilder::query(1, "example.com", rtype::AAAA).qclass(3).build();
    assert_eq!(plan(&ch), Plan::Forward);
}

#[test]
fn plan_allow_ipv4_and_client_acl() {
    let q = query(1, "example.com", rtype::AAAA);
    let q = Query::parse(&q).unwrap();
    let v4c: IpAddr = "192.0.2.10".parse().unwrap();
    let mapped: IpAddr = "::ffff:192.0.2.10".parse().unwrap();
    // CoreDNS's default: IPv4 clients are not translated.
    let d = wkp();
    assert_eq!(d.plan(&q, v4c), Plan::Forward);
    assert_eq!(d.plan(&q, mapped), Plan::Forward);
    let d = dns64(Dns64Config {
        allow_ipv4: true,
        ..Dns64Config::default()
    });
    assert_eq!(d.plan(&q, v4c), Plan::Aaaa);
    // BIND's `clients`.
    let d = dns64(Dns64Config {
        allow_ipv4: true,
        clients: vec!["2001:db8:aaaa::/48".parse().unwrap(), "192.0.2.0/28".parse().unwrap()],
        ..Dns64Config::default()
    });
    assert_eq!(d.plan(&q, client6()), Plan::Aaaa);
    assert_eq!(d.plan(&q, "2001:db8:bbbb::1".parse().unwrap()), Plan::Forward);
    assert_eq!(d.plan(&q, mapped), Plan::Aaaa);
    assert_eq!(d.plan(&q, "192.0.2.100".parse().unwrap()), Plan::Forward);
}

// ---- RFC 6147 section 5.1.1: real AAAA data --------------------------------

#[test]
fn s5_1_1_real_aaaa_is_returned_without_synthesis() {
    let d = wkp();
    let q = query(0x4242, "dual.example", rtype::AAAA);
    let aaaa = MessageBuilder::response(9, "dual.example", rtype::AAAA, 0)
        .aaaa("dual.example", 300, v6("2001:db8::1"))
        .build();
    let a = a_response("dual.example", &[v4("192.0.2.1")], 300);
    let (w, out) = resolve(&d, &q, Some(&aaaa), Some(&a));
    assert_eq!(w.answer, Answer::Relayed);
    assert_eq!(answer_aaaa(&out), vec![v6("2001:db8::1")]);
    assert_eq!(Message::parse(&out).unwrap().id(), 0x4242, "the client's ID");
}

// ---- section 5.1.2: RCODEs -------------------------------------------------

#[test]
fn s5_1_2_nxdomain_is_never_synthesized() {
    let d = wkp();
    let q = query(1, "nx.example", rtype::AAAA);
    let nx = MessageBuilder::response(1, "nx.example", rtype::AAAA, rcode::NXDOMAIN)
        .authority()
        .soa("example", 60, 60)
        .build();
    let qq = Query::parse(&q).unwrap();
    assert_eq!(d.needs_a_query(&qq, Some(&nx)).unwrap(), Decision::Respond);
    // Even if a (broken) A answer were there.
    let a = a_response("nx.example", &[v4("192.0.2.1")], 300);
    let mut out = [0u8; 512];
    let w = d.synthesize(&qq, Some(&nx), Some(&a), &mut out).unwrap();
    assert_eq!(rcode_of(&out[..w.len]), rcode::NXDOMAIN);
    assert!(answer_aaaa(&out[..w.len]).is_empty());
    assert_eq!(read_section(&out[..w.len], Section::Authority).len(), 1, "SOA kept");
}

#[test]
fn s5_1_2_other_rcodes_are_treated_as_empty_noerror() {
    let d = wkp();
    let q = query(1, "lame.example", rtype::AAAA);
    let a = a_response("lame.example", &[v4("93.184.216.1")], 300);
    for rc in [rcode::SERVFAIL, rcode::REFUSED, rcode::NOTIMP, rcode::FORMERR] {
        let aaaa = MessageBuilder::response(1, "lame.example", rtype::AAAA, rc).build();
        let (w, out) = resolve(&d, &q, Some(&aaaa), Some(&a));
        assert_eq!(w.answer, Answer::Synthesized { records: 1 }, "rcode {rc}");
        assert_eq!(rcode_of(&out), rcode::NOERROR);
        assert_eq!(answer_aaaa(&out), vec![v6("64:ff9b::93.184.216.1")]);
    }
}

// ---- section 5.1.3: timeouts ----------------------------------------------

#[test]
fn s5_1_3_a_timed_out_aaaa_query_is_servfail_so_empty() {
    let d = wkp();
    let q = query(1, "slow.example", rtype::AAAA);
    let qq = Query::parse(&q).unwrap();
    assert_eq!(d.needs_a_query(&qq, None).unwrap(), Decision::QueryA);
    let a = a_response("slow.example", &[v4("93.184.216.2")], 3600);
    let (w, out) = resolve(&d, &q, None, Some(&a));
    assert_eq!(w.answer, Answer::Synthesized { records: 1 });
    assert_eq!(answers(&out)[0].ttl, 600, "no SOA: 600 s cap");
    let mut buf = [0u8; 512];
    assert_eq!(d.synthesize(&qq, None, None, &mut buf), Err(Dns64Error::NoAnswer));
}

// ---- section 5.1.4: exclusion ---------------------------------------------

#[test]
fn s5_1_4_only_excluded_aaaa_is_an_empty_answer() {
    let d = wkp();
    let q = query(1, "mapped.example", rtype::AAAA);
    let aaaa = MessageBuilder::response(1, "mapped.example", rtype::AAAA, 0)
        .aaaa("mapped.example", 300, v6("::ffff:192.0.2.1"))
        .build();
    let a = a_response("mapped.example", &[v4("93.184.216.3")], 300);
    let (w, out) = resolve(&d, &q, Some(&aaaa), Some(&a));
    assert_eq!(w.answer, Answer::Synthesized { records: 1 });
    assert_eq!(answer_aaaa(&out), vec![v6("64:ff9b::93.184.216.3")]);
}

#[test]
fn s5_1_4_excluded_records_are_removed_from_a_mixed_answer() {
    let d = wkp();
    let q = MessageBuilder::query(1, "mixed.example", rtype::AAAA)
        .edns(1232, true)
        .build();
    let aaaa = MessageBuilder::response(1, "mixed.example", rtype::AAAA, 0)
        .set_flags(flags::AD)
        .aaaa("mixed.example", 300, v6("::ffff:192.0.2.1"))
        .aaaa("mixed.example", 300, v6("2001:db8::7"))
        .rrsig("mixed.example", 300, rtype::AAAA)
        .build();
    let (w, out) = resolve(&d, &q, Some(&aaaa), None);
    assert_eq!(w.answer, Answer::Filtered { removed: 1 });
    assert_eq!(answer_aaaa(&out), vec![v6("2001:db8::7")]);
    // The RRSIG no longer matches the RRset, and the data was changed.
    assert_eq!(answers(&out).len(), 1);
    assert_eq!(Message::parse(&out).unwrap().flags() & flags::AD, 0);
}

#[test]
fn s5_1_4_configured_exclusions_replace_the_default() {
    let d = dns64(Dns64Config {
        exclude: vec!["2001:db8:bad::/48".parse().unwrap()],
        ..Dns64Config::default()
    });
    let q = query(1, "x.example", rtype::AAAA);
    let bad = MessageBuilder::response(1, "x.example", rtype::AAAA, 0)
        .aaaa("x.example", 300, v6("2001:db8:bad::1"))
        .build();
    let a = a_response("x.example", &[v4("93.184.216.4")], 300);
    let (w, _) = resolve(&d, &q, Some(&bad), Some(&a));
    assert_eq!(w.answer, Answer::Synthesized { records: 1 });
    // ::ffff:0:0/96 is no longer excluded.
    let mapped = MessageBuilder::response(1, "x.example", rtype::AAAA, 0)
        .aaaa("x.example", 300, v6("::ffff:192.0.2.1"))
        .build();
    let (w, _) = resolve(&d, &q, Some(&mapped), Some(&a));
    assert_eq!(w.answer, Answer::Relayed);
}

// ---- section 5.1.5: CNAME and DNAME -----------------------------------------

#[test]
fn s5_1_5_cname_chain_is_kept_in_front_of_the_synthesized_records() {
    let d = wkp();
    let q = query(1, "www.example.com", rtype::AAAA);
    let aaaa = MessageBuilder::response(1, "www.example.com", rtype::AAAA, 0)
        .cname("www.example.com", 120, "edge.cdn.example")
        .authority()
        .soa("cdn.example", 900, 60)
        .build();
    let qq = Query::parse(&q).unwrap();
    assert_eq!(d.needs_a_query(&qq, Some(&aaaa)).unwrap(), Decision::QueryA);
    let a = MessageBuilder::response(1, "www.example.com", rtype::A, 0)
        .cname("www.example.com", 120, "edge.cdn.example")
        .a("edge.cdn.example", 20, v4("203.0.113.9")) // non-global, but not the WKP below
        .a("edge.cdn.example", 20, v4("93.184.216.9"))
        .build();
    let d2 = with_prefixes(&["2001:db8:64::/96"]);
    let (w, out) = resolve(&d2, &q, Some(&aaaa), Some(&a));
    assert_eq!(w.answer, Answer::Synthesized { records: 2 });
    let r = answers(&out);
    assert_eq!(r.len(), 3);
    assert_eq!((r[0].rtype, r[0].name.as_str()), (rtype::CNAME, "www.example.com."));
    assert_eq!(r[0].target.as_deref(), Some("edge.cdn.example."));
    assert_eq!(
        (r[1].rtype, r[1].name.as_str(), r[1].ttl),
        (rtype::AAAA, "edge.cdn.example.", 20)
    );
    assert_eq!(
        answer_aaaa(&out),
        vec![v6("2001:db8:64::203.0.113.9"), v6("2001:db8:64::93.184.216.9")]
    );
    // With the WKP, 203.0.113.9 (documentation, non-global) is left out.
    let (w, _) = resolve(&d, &q, Some(&aaaa), Some(&a));
    assert_eq!(w.answer, Answer::Synthesized { records: 1 });
}

#[test]
fn s5_1_5_dname_and_compressed_targets_survive() {
    let d = wkp();
    let q = query(1, "host.old.example", rtype::AAAA);
    let a = MessageBuilder::response(1, "host.old.example", rtype::A, 0)
        .dname("old.example", 300, "new.example")
        .cname_ptr("@", 300, "host", 0) // host.host.old.example, compressed
        .a("host.host.old.example", 300, v4("93.184.216.77"))
        .build();
    let aaaa = aaaa_nodata("host.old.example", 300);
    let (w, out) = resolve(&d, &q, Some(&aaaa), Some(&a));
    assert_eq!(w.answer, Answer::Synthesized { records: 1 });
    let r = answers(&out);
    assert_eq!(r[0].rtype, rtype::DNAME);
    assert_eq!(r[0].target.as_deref(), Some("new.example."));
    assert_eq!(r[1].target.as_deref(), Some("host.host.old.example."));
    assert_eq!(r[2].name, "host.host.old.example.");
}

// ---- section 5.1.6: nothing to synthesize from ---------------------------------

#[test]
fn s5_1_6_empty_or_failed_a_answer_is_the_response() {
    let d = wkp();
    let q = query(1, "none.example", rtype::AAAA);
    let aaaa = aaaa_nodata("none.example", 300);
    // A NODATA: the AAAA negative answer goes back.
    let a_empty = MessageBuilder::response(1, "none.example", rtype::A, 0)
        .authority()
        .soa("example", 300, 300)
        .build();
    let (w, out) = resolve(&d, &q, Some(&aaaa), Some(&a_empty));
    assert_eq!(w.answer, Answer::Empty);
    assert_eq!(rcode_of(&out), rcode::NOERROR);
    assert!(answers(&out).is_empty());
    // A SERVFAIL: the error goes back.
    let a_fail = MessageBuilder::response(1, "none.example", rtype::A, rcode::SERVFAIL).build();
    let (w, out) = resolve(&d, &q, Some(&aaaa), Some(&a_fail));
    assert_eq!((w.answer, rcode_of(&out)), (Answer::Empty, rcode::SERVFAIL));
    // AAAA timed out and A is empty: the A answer, as a AAAA answer.
    let (w, out) = resolve(&d, &q, None, Some(&a_empty));
    assert_eq!((w.answer, rcode_of(&out)), (Answer::Empty, rcode::NOERROR));
    assert_eq!(Message::parse(&out).unwrap().qtype(), rtype::AAAA);
    assert_eq!(read_section(&out, Section::Authority)[0].rtype, rtype::SOA);
}

// ---- section 5.1.7: the synthesized record ---------------------------------------

#[test]
fn s5_1_7_ttl_is_min_of_a_ttl_and_soa() {
    let d = wkp();
    let q = query(1, "t.example", rtype::AAAA);
    let a = a_response("t.example", &[v4("93.184.216.5")], 3600);
    let a_short = a_response("t.example", &[v4("93.184.216.5")], 30);
    // SOA minimum 300 < A TTL 3600.
    let (_, out) = resolve(&d, &q, Some(&aaaa_nodata("t.example", 300)), Some(&a));
    assert_eq!(answers(&out)[0].ttl, 300);
    // A TTL 30 < SOA 300.
    let (_, out) = resolve(&d, &q, Some(&aaaa_nodata("t.example", 300)), Some(&a_short));
    assert_eq!(answers(&out)[0].ttl, 30);
    // The SOA record's own TTL, when below its MINIMUM (RFC 2308 section 5).
    let soa_ttl = MessageBuilder::response(1, "t.example", rtype::AAAA, 0)
        .authority()
        .soa("example", 45, 900)
        .build();
    let (_, out) = resolve(&d, &q, Some(&soa_ttl), Some(&a));
    assert_eq!(answers(&out)[0].ttl, 45);
    // No SOA: min(A TTL, 600).
    let no_soa = MessageBuilder::response(1, "t.example", rtype::AAAA, 0).build();
    let (_, out) = resolve(&d, &q, Some(&no_soa), Some(&a));
    assert_eq!(answers(&out)[0].ttl, 600);
    let (_, out) = resolve(&d, &q, Some(&no_soa), Some(&a_short));
    assert_eq!(answers(&out)[0].ttl, 30);
}

#[test]
fn s5_1_7_record_fields() {
    let d = with_prefixes(&["2001:db8:64::/96"]);
    let q = query(1, "f.example", rtype::AAAA);
    let a = MessageBuilder::response(1, "f.example", rtype::A, 0)
        .a("f.example", 300, v4("192.0.2.33"))
        .rr("f.example", rtype::TXT, 300, b"\x02hi")
        .build();
    let (w, out) = resolve(&d, &q, Some(&aaaa_nodata("f.example", 300)), Some(&a));
    assert_eq!(w.answer, Answer::Synthesized { records: 1 });
    let m = Message::parse(&out).unwrap();
    let mut rrs = m.records(Section::Answer);
    let rr = rrs.next().unwrap();
    // NAME from the A record, TYPE 28, CLASS 1, RDLENGTH 16, the RFC 6052 address.
    assert!(name_eq(&out, rr.name, &name("f.example"), 0));
    assert_eq!((rr.rtype, rr.class, rr.rdlen), (rtype::AAAA, CLASS_IN, 16));
    assert_eq!(rr.rdata(&out), &v6("2001:db8:64::192.0.2.33").octets());
    // Other answer records are kept as they are.
    assert_eq!(rrs.next().unwrap().rtype, rtype::TXT);
}

// ---- section 5.2 and RFC 6052: prefixes --------------------------------------

#[test]
fn s5_2_every_rfc6052_length_and_several_prefixes() {
    let v = v4("192.0.2.33");
    // RFC 6052 section 2.4's table, less the Well-Known Prefix (section 3.1
    // keeps 192.0.2.33, a non-global address, from it).
    let rows = &crate::addr::RFC6052_EXAMPLES[..6];
    let q = query(1, "p.example", rtype::AAAA);
    let aaaa = aaaa_nodata("p.example", 300);
    let a = a_response("p.example", &[v], 300);
    for &(p, want) in rows {
        let (_, out) = resolve(&with_prefixes(&[p]), &q, Some(&aaaa), Some(&a));
        assert_eq!(answer_aaaa(&out), vec![v6(want)], "{p}");
    }
    // Several prefixes: one AAAA per prefix per A record.
    let d = with_prefixes(&["2001:db8:122:344::/96", "2001:db8:100::/40"]);
    let (w, out) = resolve(&d, &q, Some(&aaaa), Some(&a));
    assert_eq!(w.answer, Answer::Synthesized { records: 2 });
    assert_eq!(
        answer_aaaa(&out),
        vec![v6("2001:db8:122:344::192.0.2.33"), v6("2001:db8:1c0:2:21::")]
    );
}

#[test]
fn s5_separate_ipv4_ranges_map_to_separate_prefixes() {
    let d = dns64(Dns64Config {
        prefixes: vec![
            PrefixRule {
                prefix: "2001:db8:1::/96".parse().unwrap(),
                mapped: vec!["198.51.100.0/24".parse().unwrap()],
            },
            PrefixRule {
                prefix: "2001:db8:2::/96".parse().unwrap(),
                mapped: vec!["203.0.113.0/24".parse().unwrap()],
            },
        ],
        ..Dns64Config::default()
    });
    let q = query(1, "m.example", rtype::AAAA);
    let a = a_response(
        "m.example",
        &[v4("198.51.100.1"), v4("203.0.113.1"), v4("192.0.2.1")],
        300,
    );
    let (w, out) = resolve(&d, &q, Some(&aaaa_nodata("m.example", 300)), Some(&a));
    assert_eq!(w.answer, Answer::Synthesized { records: 2 });
    assert_eq!(
        answer_aaaa(&out),
        vec![v6("2001:db8:1::198.51.100.1"), v6("2001:db8:2::203.0.113.1")]
    );
}

#[test]
fn rfc6052_3_1_non_global_addresses_and_the_well_known_prefix() {
    let q = query(1, "private.example", rtype::AAAA);
    let aaaa = aaaa_nodata("private.example", 300);
    let a = a_response("private.example", &[v4("10.1.2.3"), v4("192.168.0.1")], 300);
    let (w, out) = resolve(&wkp(), &q, Some(&aaaa), Some(&a));
    assert_eq!(w.answer, Answer::Empty);
    assert!(answers(&out).is_empty());
    // Allowed by configuration.
    let d = dns64(Dns64Config {
        allow_non_global: true,
        ..Dns64Config::default()
    });
    let (_, out) = resolve(&d, &q, Some(&aaaa), Some(&a));
    assert_eq!(
        answer_aaaa(&out),
        vec![v6("64:ff9b::10.1.2.3"), v6("64:ff9b::192.168.0.1")]
    );
    // A Network-Specific Prefix is not restricted.
    let (_, out) = resolve(&with_prefixes(&["64:ff9b:1::/48"]), &q, Some(&aaaa), Some(&a));
    assert_eq!(answer_aaaa(&out).len(), 2);
}

// ---- section 5.3: PTR, additional, other records ----------------------------------

#[test]
fn s5_3_1_ptr_under_a_prefix_is_a_cname_to_in_addr_arpa() {
    let d = with_prefixes(&["2001:db8:64::/96"]);
    let qname_bytes = ip6_arpa_name(v6("2001:db8:64::c633:640a"));
    let qname = alloc::format!("{}", DisplayName(&qname_bytes, 0));
    let q = query(5, &qname, rtype::PTR);
    let qq = Query::parse(&q).unwrap();
    let Plan::Ptr(target) = d.plan(&qq, client6()) else {
        panic!("not a PTR plan")
    };
    assert_eq!(target.wire(), name("10.100.51.198.in-addr.arpa").as_slice());
    let ptr = MessageBuilder::response(1, "10.100.51.198.in-addr.arpa", rtype::PTR, 0)
        .ptr("10.100.51.198.in-addr.arpa", 3600, "host.example.net")
        .build();
    let mut out = [0u8; 1024];
    let w = d.synthesize_ptr(&qq, &target, &ptr, &mut out).unwrap().unwrap();
    assert_eq!(w.answer, Answer::PtrCname);
    let r = answers(&out[..w.len]);
    assert_eq!((r[0].rtype, r[0].name.as_str()), (rtype::CNAME, qname.as_str()));
    assert_eq!(r[0].target.as_deref(), Some("10.100.51.198.in-addr.arpa."));
    assert_eq!(
        (r[1].rtype, r[1].target.as_deref()),
        (rtype::PTR, Some("host.example.net."))
    );
    // A CNAME already: no synthesized CNAME (forward the query as it is).
    // No PTR data there: see tests_options.rs.
    let cn = MessageBuilder::response(1, "10.100.51.198.in-addr.arpa", rtype::PTR, 0)
        .cname("10.100.51.198.in-addr.arpa", 60, "10.0-63.100.51.198.in-addr.arpa")
        .ptr("10.0-63.100.51.198.in-addr.arpa", 60, "h.example")
        .build();
    assert_eq!(d.synthesize_ptr(&qq, &target, &cn, &mut out).unwrap(), None);
    // Outside every prefix: forwarded (and answers relayed unchanged).
    let other = ip6_arpa_name(v6("2001:db8:65::1"));
    let q2 = query(5, &alloc::format!("{}", DisplayName(&other, 0)), rtype::PTR);
    assert_eq!(d.plan(&Query::parse(&q2).unwrap(), client6()), Plan::Forward);
}

#[test]
fn s5_3_2_additional_section_is_passed_unchanged() {
    let d = wkp();
    let q = query(1, "mx.example", rtype::AAAA);
    let a = MessageBuilder::response(1, "mx.example", rtype::A, 0)
        .a("mx.example", 300, v4("93.184.216.20"))
        .authority()
        .rr("example", rtype::NS, 300, &name("ns1.example"))
        .additional()
        .a("ns1.example", 300, v4("93.184.216.53"))
        .build();
    let (_, out) = resolve(&d, &q, Some(&aaaa_nodata("mx.example", 300)), Some(&a));
    let add = read_section(&out, Section::Additional);
    assert_eq!(add.len(), 1);
    assert_eq!(
        (add[0].rtype, add[0].rdata.as_slice()),
        (rtype::A, &[93, 184, 216, 53][..])
    );
    let ns = read_section(&out, Section::Authority);
    assert_eq!(ns[0].target.as_deref(), Some("ns1.example."));
}

#[test]
fn s5_3_3_other_records_are_relayed_unchanged() {
    let d = wkp();
    let q = MessageBuilder::query(77, "Example.NET", rtype::MX)
        .edns(4096, false)
        .build();
    let qq = Query::parse(&q).unwrap();
    assert_eq!(d.plan(&qq, client6()), Plan::Forward);
    let resp = MessageBuilder::response(1, "example.net", rtype::MX, 0)
        .rr(
            "example.net",
            rtype::MX,
            300,
            &[0, 10, 4, b'm', b'a', b'i', b'l', 0xc0, 12],
        )
        .edns(4096, false)
        .build();
    let mut out = [0u8; 512];
    let w = d.relay(&qq, &resp, &mut out).unwrap();
    assert_eq!(w.answer, Answer::Relayed);
    let r = answers(&out[..w.len]);
    // The compressed MX exchange is expanded against the new message.
    let m = Message::parse(&out[..w.len]).unwrap();
    let rr = m.records(Section::Answer).next().unwrap();
    assert!(name_eq(&out, rr.rdata + 2, &name("mail.example.net"), 0));
    assert_eq!(r.len(), 1);
    assert_eq!(m.id(), 77);
    assert_eq!(m.qname_wire(), name("Example.NET").as_slice(), "client's spelling");
    assert_eq!(
        m.edns().unwrap().udp_size,
        DEFAULT_EDNS_UDP_SIZE,
        "our EDNS, not the upstream's"
    );
    // Answers to another question are refused.
    let wrong = MessageBuilder::response(1, "example.org", rtype::MX, 0).build();
    assert_eq!(
        d.relay(&qq, &wrong, &mut out),
        Err(Dns64Error::QuestionMismatch { which: "forwarded" })
    );
    assert_eq!(
        d.relay(&qq, &q, &mut out),
        Err(Dns64Error::NotAResponse { which: "forwarded" })
    );
}

// ---- section 5.4: assembly ----------------------------------------------------

#[test]
fn s5_4_header_and_question_come_from_the_client() {
    let d = wkp();
    let q = MessageBuilder::query(0xabcd, "MiXeD.Example", rtype::AAAA)
        .set_flags(flags::CD)
        .edns(1400, false)
        .build();
    let a = MessageBuilder::response(3, "mixed.example", rtype::A, 0)
        .set_flags(flags::AA)
        .a("mixed.example", 300, v4("93.184.216.40"))
        .authority()
        .rr("example", rtype::NS, 300, &name("ns.example"))
        .edns(4096, false)
        .build();
    let (_, out) = resolve(&d, &q, Some(&aaaa_nodata("mixed.example", 300)), Some(&a));
    let m = Message::parse(&out).unwrap();
    assert_eq!(m.id(), 0xabcd);
    assert_eq!(m.qname_wire(), name("MiXeD.Example").as_slice());
    let f = m.flags();
    assert!(f & flags::QR != 0 && f & flags::RD != 0 && f & flags::RA != 0 && f & flags::CD != 0);
    assert_eq!(f & (flags::AA | flags::TC | flags::AD), 0);
    // The answer owner is compressed against the question: the client's case.
    assert_eq!(answers(&out)[0].name, "MiXeD.Example.");
    assert_eq!(read_section(&out, Section::Authority).len(), 1);
    assert_eq!(m.edns().unwrap().udp_size, DEFAULT_EDNS_UDP_SIZE);
    assert_eq!(m.count(Section::Additional), 1, "only our OPT");
}

#[test]
fn s5_4_truncation_when_the_response_does_not_fit() {
    let d = wkp();
    let q = query(9, "big.example", rtype::AAAA);
    let mut b = MessageBuilder::response(1, "big.example", rtype::A, 0);
    for i in 0..40u8 {
        b = b.a("big.example", 300, Ipv4Addr::new(93, 184, 216, i));
    }
    let a = b.build();
    let aaaa = aaaa_nodata("big.example", 300);
    let qq = Query::parse(&q).unwrap();
    let limit = d.response_limit(&qq, false);
    assert_eq!(limit, 512, "no EDNS: 512");
    let mut out = vec![0u8; limit];
    let w = d.synthesize(&qq, Some(&aaaa), Some(&a), &mut out).unwrap();
    assert!(w.truncated);
    let m = Message::parse(&out[..w.len]).unwrap();
    assert!(m.flags() & flags::TC != 0);
    assert_eq!((m.count(Section::Answer), m.id()), (0, 9));
    // Over TCP it fits: 40 records of 28 bytes.
    let mut out = vec![0u8; d.response_limit(&qq, true)];
    let w = d.synthesize(&qq, Some(&aaaa), Some(&a), &mut out).unwrap();
    assert_eq!((w.truncated, w.answer), (false, Answer::Synthesized { records: 40 }));
    // EDNS sizes are bounded by ours and by 512.
    let q = MessageBuilder::query(9, "big.example", rtype::AAAA)
        .edns(4096, false)
        .build();
    assert_eq!(d.response_limit(&Query::parse(&q).unwrap(), false), 1232);
    let q = MessageBuilder::query(9, "big.example", rtype::AAAA)
        .edns(100, false)
        .build();
    assert_eq!(d.response_limit(&Query::parse(&q).unwrap(), false), 512);
    // Not even a header fits.
    assert_eq!(
        d.synthesize(&qq, Some(&aaaa), Some(&a), &mut [0u8; 20]),
        Err(Dns64Error::BufferTooSmall { len: 20 })
    );
}

// ---- section 5.5: DNSSEC ----------------------------------------------------

#[test]
fn s5_5_cd_and_do_together_mean_no_synthesis() {
    let d = wkp();
    let q = MessageBuilder::query(1, "signed.example", rtype::AAAA)
        .set_flags(flags::CD)
        .edns(1232, true)
        .build();
    assert_eq!(d.plan(&Query::parse(&q).unwrap(), client6()), Plan::Forward);
    // CD alone, or DO alone: synthesis.
    let q = MessageBuilder::query(1, "signed.example", rtype::AAAA)
        .set_flags(flags::CD)
        .build();
    assert_eq!(d.plan(&Query::parse(&q).unwrap(), client6()), Plan::Aaaa);
}

#[test]
fn s5_5_synthesized_answers_never_carry_ad_nor_a_signatures() {
    let d = wkp();
    let q = MessageBuilder::query(1, "www.signed.example", rtype::AAAA)
        .edns(1232, true)
        .build();
    let qq = Query::parse(&q).unwrap();
    assert_eq!(d.plan(&qq, client6()), Plan::Aaaa);
    let aaaa = MessageBuilder::response(1, "www.signed.example", rtype::AAAA, 0)
        .set_flags(flags::AD)
        .cname("www.signed.example", 300, "h.signed.example")
        .rrsig("www.signed.example", 300, rtype::CNAME)
        .authority()
        .soa("signed.example", 300, 300)
        .rrsig("signed.example", 300, rtype::SOA)
        .build();
    let a = MessageBuilder::response(1, "www.signed.example", rtype::A, 0)
        .set_flags(flags::AD)
        .cname("www.signed.example", 300, "h.signed.example")
        .rrsig("www.signed.example", 300, rtype::CNAME)
        .a("h.signed.example", 300, v4("93.184.216.60"))
        .rrsig("h.signed.example", 300, rtype::A)
        .edns(1232, true)
        .build();
    let (w, out) = resolve(&d, &q, Some(&aaaa), Some(&a));
    assert_eq!(w.answer, Answer::Synthesized { records: 1 });
    let m = Message::parse(&out).unwrap();
    assert_eq!(m.flags() & flags::AD, 0, "AD never set on synthesized data");
    assert!(m.edns().unwrap().dnssec_ok, "DO echoed");
    let types: Vec<u16> = answers(&out).iter().map(|r| r.rtype).collect();
    assert_eq!(types, vec![rtype::CNAME, rtype::RRSIG, rtype::AAAA]);
    // The upstream query carries the client's CD and DO.
    let mut up = [0u8; 512];
    let n = d
        .upstream_query(&qq, 0x5555, qq.qname_wire(), rtype::A, &mut up)
        .unwrap();
    let um = Message::parse(&up[..n]).unwrap();
    assert!(um.edns().unwrap().dnssec_ok);
    assert_eq!(
        (um.id(), um.qtype(), um.flags() & flags::RD),
        (0x5555, rtype::A, flags::RD)
    );
}

#[test]
fn s5_5_relayed_real_aaaa_keeps_ad() {
    let d = wkp();
    let q = MessageBuilder::query(1, "v6.signed.example", rtype::AAAA)
        .edns(1232, true)
        .build();
    let aaaa = MessageBuilder::response(1, "v6.signed.example", rtype::AAAA, 0)
        .set_flags(flags::AD)
        .aaaa("v6.signed.example", 300, v6("2001:db8::6"))
        .rrsig("v6.signed.example", 300, rtype::AAAA)
        .build();
    let (w, out) = resolve(&d, &q, Some(&aaaa), None);
    assert_eq!(w.answer, Answer::Relayed);
    assert_ne!(Message::parse(&out).unwrap().flags() & flags::AD, 0);
    assert_eq!(answers(&out).len(), 2);
}

// ---- options of the peers ---------------------------------------------------

#[test]
fn translate_all_replaces_real_aaaa() {
    let d = dns64(Dns64Config {
        translate_all: true,
        ..Dns64Config::default()
    });
    let q = query(1, "dual.example", rtype::AAAA);
    let aaaa = MessageBuilder::response(1, "dual.example", rtype::AAAA, 0)
        .aaaa("dual.example", 300, v6("2001:db8::1"))
        .build();
    let qq = Query::parse(&q).unwrap();
    assert_eq!(d.needs_a_query(&qq, Some(&aaaa)).unwrap(), Decision::QueryA);
    let a = a_response("dual.example", &[v4("93.184.216.1")], 300);
    let (w, out) = resolve(&d, &q, Some(&aaaa), Some(&a));
    assert_eq!(w.answer, Answer::Synthesized { records: 1 });
    assert_eq!(answer_aaaa(&out), vec![v6("64:ff9b::93.184.216.1")]);
    // NXDOMAIN stays NXDOMAIN.
    let nx = MessageBuilder::response(1, "dual.example", rtype::AAAA, rcode::NXDOMAIN).build();
    assert_eq!(d.needs_a_query(&qq, Some(&nx)).unwrap(), Decision::Respond);
}

#[test]
fn config_errors_say_what_to_fix() {
    let e = Dns64::new(Dns64Config {
        edns_udp_size: 100,
        ..Dns64Config::default()
    })
    .unwrap_err();
    assert!(e.to_string().contains("1232"), "{e}");
    let p: Prefix64 = "64:ff9b::/96".parse().unwrap();
    let e = Dns64::new(Dns64Config {
        prefixes: vec![PrefixRule::new(p), PrefixRule::new(p)],
        ..Dns64Config::default()
    })
    .unwrap_err();
    assert!(e.to_string().contains("listed twice"), "{e}");
    assert_eq!(wkp().config().prefixes, vec![PrefixRule::new(Prefix64::well_known())]);
}

#[test]
fn upstream_errors_are_reported_not_panicked() {
    let d = wkp();
    let q = query(1, "e.example", rtype::AAAA);
    let qq = Query::parse(&q).unwrap();
    let garbage = [0x80u8, 0, 0x80, 0, 0, 1, 0, 0];
    assert!(matches!(
        d.needs_a_query(&qq, Some(&garbage)),
        Err(Dns64Error::UpstreamMalformed { which: "AAAA", .. })
    ));
    let other = aaaa_nodata("other.example", 60);
    assert_eq!(
        d.needs_a_query(&qq, Some(&other)),
        Err(Dns64Error::QuestionMismatch { which: "AAAA" })
    );
    // An SOA with a bad RDATA length is found when copying.
    let bad_soa = MessageBuilder::response(1, "e.example", rtype::A, 0)
        .a("e.example", 60, v4("93.184.216.1"))
        .authority()
        .rr("example", rtype::SOA, 60, &[0, 0, 1, 2])
        .build();
    let mut out = [0u8; 512];
    let e = d.synthesize(&qq, None, Some(&bad_soa), &mut out).unwrap_err();
    assert!(e.to_string().contains("SERVFAIL"), "{e}");
}

// ---- RFC 8880: ipv4only.arpa ----------------------------------------------------

#[test]
fn rfc8880_ipv4only_arpa_is_answered_locally() {
    let d = with_prefixes(&["2001:db8:64::/96", "2001:db8:100::/40"]);
    let local = |q: &[u8], client: IpAddr| {
        let qq = Query::parse(q).unwrap();
        let Plan::Local { synthesize } = d.plan(&qq, client) else {
            panic!("not local")
        };
        let mut out = vec![0u8; 1024];
        let w = d.answer_local(&qq, synthesize, &mut out).unwrap();
        out.truncate(w.len);
        out
    };
    let out = local(&query(1, "IPv4only.ARPA", rtype::A), client6());
    let r = answers(&out);
    assert_eq!(r.len(), 2);
    assert_eq!(r[0].rdata, vec![192, 0, 0, 170]);
    assert_eq!(r[1].rdata, vec![192, 0, 0, 171]);
    let out = local(&query(1, "ipv4only.arpa", rtype::AAAA), client6());
    let got = answer_aaaa(&out);
    assert_eq!(got.len(), 4);
    // RFC 7050 discovery on our own answer finds both prefixes.
    let found = prefixes_from_response(&out).unwrap();
    assert_eq!(
        found,
        vec![
            "2001:db8:64::/96".parse().unwrap(),
            "2001:db8:100::/40".parse().unwrap()
        ]
    );
    // A client DNS64 does not serve: no AAAA, an SOA.
    let out = local(&query(1, "ipv4only.arpa", rtype::AAAA), "192.0.2.1".parse().unwrap());
    assert!(answers(&out).is_empty());
    assert_eq!(read_section(&out, Section::Authority)[0].rtype, rtype::SOA);
    // Below the name: NXDOMAIN.
    let out = local(&query(1, "x.ipv4only.arpa", rtype::A), client6());
    assert_eq!(rcode_of(&out), rcode::NXDOMAIN);
    // Reverse names.
    let out = local(&query(1, "170.0.0.192.in-addr.arpa", rtype::PTR), client6());
    assert_eq!(answers(&out)[0].target.as_deref(), Some("ipv4only.arpa."));
    assert_eq!(
        d.plan(
            &Query::parse(&query(1, "172.0.0.192.in-addr.arpa", rtype::PTR)).unwrap(),
            client6()
        ),
        Plan::Forward
    );
}

// ---- RFC 7050 and RFC 8781: discovery -------------------------------------------

#[test]
fn rfc7050_every_prefix_length_is_found() {
    for p in [
        "2001:db8::/32",
        "2001:db8:100::/40",
        "2001:db8:122::/48",
        "2001:db8:122:300::/56",
        "2001:db8:122:344::/64",
        "2001:db8:122:344::/96",
        "64:ff9b::/96",
    ] {
        let p: Prefix64 = p.parse().unwrap();
        let got = prefixes_from_addresses([p.embed(WELL_KNOWN_IPV4[0]), p.embed(WELL_KNOWN_IPV4[1])]).unwrap();
        assert_eq!(got, vec![p]);
        // One Well-Known Address is enough.
        assert_eq!(prefixes_from_addresses([p.embed(WELL_KNOWN_IPV4[1])]).unwrap(), vec![p]);
    }
}

#[test]
fn rfc7050_failures_and_ambiguity() {
    assert_eq!(
        prefixes_from_addresses([v6("2001:db8::1")]).unwrap_err(),
        DiscoveryError::NoPrefix
    );
    // 192.0.0.170 at both the /32 and /96 positions of one address; the
    // second address settles it on /96.
    let amb = v6("2001:db8:c000:aa::c000:aa"); // at /32 and at /96
    let err = prefixes_from_addresses([amb]).unwrap_err();
    assert_eq!(err, DiscoveryError::Ambiguous(amb));
    let p96: Prefix64 = "2001:db8:c000:aa::/96".parse().unwrap();
    let got = prefixes_from_addresses([amb, p96.embed(WELL_KNOWN_IPV4[1])]).unwrap();
    assert_eq!(got, vec![p96]);
    // From a response message, wrong question refused.
    let r = MessageBuilder::response(1, "ipv4only.arpa", rtype::A, 0).build();
    assert_eq!(prefixes_from_response(&r).unwrap_err(), DiscoveryError::WrongQuestion);
    assert!(DiscoveryError::NoPrefix.to_string().contains("does not do DNS64"));
}

#[test]
fn rfc8781_pref64_encode_decode() {
    for (p, plc) in [
        ("64:ff9b::/96", 0),
        ("2001:db8:122:344::/64", 1),
        ("2001:db8:122:300::/56", 2),
        ("2001:db8:122::/48", 3),
        ("2001:db8:100::/40", 4),
        ("2001:db8::/32", 5),
    ] {
        let o = Pref64::new(p.parse().unwrap(), 1800);
        let b = o.encode().unwrap();
        assert_eq!((b[0], b[1]), (38, 2));
        assert_eq!(u16::from_be_bytes([b[2], b[3]]), (225 << 3) | plc, "{p}");
        assert_eq!(Pref64::decode(&b).unwrap(), o);
        assert_eq!(o.lifetime_secs(), 1800);
    }
    // Section 4.1 scaling.
    assert_eq!(scale_lifetime(0), 0);
    assert_eq!(scale_lifetime(1), 1);
    assert_eq!(scale_lifetime(8), 1);
    assert_eq!(scale_lifetime(9), 2);
    assert_eq!(scale_lifetime(65528), 8191);
    assert_eq!(scale_lifetime(1_000_000), 8191);
    // Receivers ignore unknown codes, bad lengths; host bits are ignored.
    let mut b = Pref64::new(Prefix64::well_known(), 600).encode().unwrap();
    b[3] |= 7;
    assert_eq!(Pref64::decode(&b), Err(Pref64Error::UnknownPlc(7)));
    let mut b = Pref64::new("2001:db8::/32".parse().unwrap(), 600).encode().unwrap();
    b[10] = 0xff; // beyond /32
    assert_eq!(Pref64::decode(&b).unwrap().prefix, "2001:db8::/32".parse().unwrap());
    b[1] = 3;
    assert_eq!(Pref64::decode(&b), Err(Pref64Error::WrongLength(3)));
    assert_eq!(Pref64::decode(&b[..10]), Err(Pref64Error::TooShort(10)));
}

// ---- robustness -------------------------------------------------------------

mod fuzz {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Arbitrary client bytes: parse or refuse, never panic; an error
        /// response is always valid DNS.
        #[test]
        fn any_query_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let d = wkp();
            let mut out = [0u8; 512];
            match Query::parse(&bytes) {
                Ok(q) => {
                    let _ = d.plan(&q, client6());
                    let _ = d.relay(&q, &bytes, &mut out);
                }
                Err(e) => {
                    if let Some(rc) = e.rcode() {
                        let n = d.error_response(&bytes, rc, &mut out).unwrap().unwrap();
                        prop_assert!(Message::parse(&out[..n]).is_ok());
                    }
                }
            }
        }

        /// Arbitrary upstream bytes after a valid header and question: every
        /// path returns a result, and every response written is valid DNS.
        #[test]
        fn any_upstream_bytes(tail in proptest::collection::vec(any::<u8>(), 0..200), an in 0u8..4, ns in 0u8..3) {
            let d = wkp();
            let q = query(1, "f.example", rtype::AAAA);
            let qq = Query::parse(&q).unwrap();
            let mut aaaa = MessageBuilder::response(1, "f.example", rtype::AAAA, 0).build();
            let mut a = MessageBuilder::response(1, "f.example", rtype::A, 0).build();
            for m in [&mut aaaa, &mut a] {
                m[7] = an;
                m[9] = ns;
                m.extend_from_slice(&tail);
            }
            let mut out = [0u8; 1232];
            let _ = d.needs_a_query(&qq, Some(&aaaa));
            if let Ok(w) = d.synthesize(&qq, Some(&aaaa), Some(&a), &mut out) {
                prop_assert!(Message::parse(&out[..w.len]).is_ok());
            }
            if let Ok(w) = d.synthesize(&qq, None, Some(&a), &mut out) {
                prop_assert!(Message::parse(&out[..w.len]).is_ok());
            }
        }
    }
}
