//! The [`Exchange`] state machine (RFC 6147 section 5.1 sequence, section
//! 5.3.1 PTR, section 5.5 DNSSEC, RFC 8880 local names) and the response
//! cache (RFC 2181 section 8, RFC 2308 section 5), driven with virtual time.

use alloc::format;
use alloc::vec;
use alloc::vec::Vec;
use core::cell::RefCell;

use super::reverse::ip6_arpa_name;
use super::testing::*;
use super::tests::{client6, v4, v6, with_prefixes, wkp};
use super::wire::*;
use super::*;
use crate::nat64::Instant;

const T0: Instant = Instant::from_secs(1000);

fn secs(s: u64) -> Instant {
    Instant::from_secs(1000 + s)
}

/// An exchange driven by the test: it plays the upstreams, checking each
/// upstream query it is asked to send.
struct Drive<'a> {
    ex: Exchange<'a>,
    out: Vec<u8>,
    next_id: u16,
    /// (qname, qtype, flags, DO) of each upstream query.
    asked: Vec<(alloc::string::String, u16, u16, bool)>,
}

impl<'a> Drive<'a> {
    fn new(d: &'a Dns64, msg: &'a [u8]) -> Self {
        let ex = Exchange::new(d, msg, client6(), false);
        let out = vec![0u8; ex.response_limit()];
        Drive {
            ex,
            out,
            next_id: 0x100,
            asked: Vec::new(),
        }
    }
    fn start(&mut self, cache: &impl Cache, now: Instant) -> Step {
        let s = self.ex.start(cache, now, &mut self.out);
        self.note(s)
    }
    fn answer(&mut self, a: Option<&[u8]>, cache: &impl Cache, now: Instant) -> Step {
        let s = self.ex.on_answer(a, cache, now, &mut self.out);
        self.note(s)
    }
    /// Records the upstream query a step asks for, written with a fresh ID.
    fn note(&mut self, s: Step) -> Step {
        if let Step::Ask { qtype } = s {
            self.next_id += 1;
            let mut q = [0u8; 300];
            let n = self.ex.write_query(self.next_id, &mut q).unwrap();
            let m = Message::parse(&q[..n]).unwrap();
            assert_eq!(m.id(), self.next_id);
            assert_eq!(m.qtype(), qtype);
            let edns = m.edns().expect("upstream queries carry EDNS");
            self.asked.push((
                format!("{}", DisplayName(&q[..n], HEADER_LEN)),
                qtype,
                m.flags(),
                edns.dnssec_ok,
            ));
        }
        s
    }
    fn response(&self, s: Step) -> (Written, bool, Vec<u8>) {
        match s {
            Step::Done(Outcome::Answered { written, from_cache }) => {
                (written, from_cache, self.out[..written.len].to_vec())
            }
            other => panic!("expected a response, got {other:?}"),
        }
    }
}

#[test]
fn aaaa_present_is_relayed_and_cached() {
    let d = wkp();
    let q = query(7, "dual.example", rtype::AAAA);
    let cache = RefCell::new(ResponseCache::new(100, 86400));
    let mut x = Drive::new(&d, &q);
    assert_eq!(x.start(&cache, T0), Step::Ask { qtype: rtype::AAAA });
    let aaaa = MessageBuilder::response(0, "dual.example", rtype::AAAA, 0)
        .aaaa("dual.example", 300, v6("2001:db8::35"))
        .build();
    let s = x.answer(Some(&aaaa), &cache, T0);
    let (w, from_cache, out) = x.response(s);
    assert_eq!((w.answer, from_cache), (Answer::Relayed, false));
    assert_eq!(answer_aaaa(&out), [v6("2001:db8::35")]);
    assert_eq!(Message::parse(&out).unwrap().id(), 7);
    assert_eq!(x.asked.len(), 1, "no A query: section 5.1.1");
    assert_eq!(cache.borrow().len(), 1);

    // The same question 10 s later: from the cache, TTL aged, nothing asked.
    let q2 = query(8, "DUAL.example", rtype::AAAA);
    let mut y = Drive::new(&d, &q2);
    let s = y.start(&cache, secs(10));
    let (_, from_cache, out) = y.response(s);
    assert!(from_cache && y.asked.is_empty());
    assert_eq!(Message::parse(&out).unwrap().id(), 8);
    assert_eq!(read_section(&out, Section::Answer)[0].ttl, 290);
    assert_eq!(
        Message::parse(&out).unwrap().qname_wire(),
        name("DUAL.example").as_slice()
    );
}

#[test]
fn s5_1_6_aaaa_empty_then_a_is_synthesized() {
    let d = with_prefixes(&["2001:db8:64::/96"]);
    let q = query(7, "a-only.example", rtype::AAAA);
    let mut x = Drive::new(&d, &q);
    assert_eq!(x.start(&NoCache, T0), Step::Ask { qtype: rtype::AAAA });
    let nodata = aaaa_nodata("a-only.example", 120);
    assert_eq!(x.answer(Some(&nodata), &NoCache, T0), Step::Ask { qtype: rtype::A });
    let a = a_response("a-only.example", &[v4("192.0.2.33"), v4("198.51.100.10")], 3600);
    let s = x.answer(Some(&a), &NoCache, T0);
    let (w, _, out) = x.response(s);
    assert_eq!(w.answer, Answer::Synthesized { records: 2 });
    assert_eq!(
        answer_aaaa(&out),
        [v6("2001:db8:64::c000:221"), v6("2001:db8:64::c633:640a")]
    );
    // Section 5.1.7: the TTL is capped by the SOA of the negative answer.
    assert_eq!(read_section(&out, Section::Answer)[0].ttl, 120);
    let names: Vec<_> = x.asked.iter().map(|a| (a.0.as_str(), a.1)).collect();
    assert_eq!(names, [("a-only.example.", rtype::AAAA), ("a-only.example.", rtype::A)]);
}

#[test]
fn s5_1_3_aaaa_timeout_then_a_is_synthesized_with_the_600_s_cap() {
    let d = with_prefixes(&["2001:db8:64::/96"]);
    let q = query(7, "slow.example", rtype::AAAA);
    let mut x = Drive::new(&d, &q);
    x.start(&NoCache, T0);
    assert_eq!(x.answer(None, &NoCache, T0), Step::Ask { qtype: rtype::A });
    let a = a_response("slow.example", &[v4("198.51.100.10")], 3600);
    let s = x.answer(Some(&a), &NoCache, T0);
    let (w, _, out) = x.response(s);
    assert_eq!(w.answer, Answer::Synthesized { records: 1 });
    assert_eq!(read_section(&out, Section::Answer)[0].ttl, NO_SOA_TTL_CAP);
}

#[test]
fn s5_1_3_both_queries_failing_is_servfail_and_not_cached() {
    let d = wkp();
    let q = MessageBuilder::query(9, "dead.example", rtype::AAAA)
        .edns(1232, false)
        .build();
    let cache = RefCell::new(ResponseCache::new(100, 86400));
    let mut x = Drive::new(&d, &q);
    x.start(&cache, T0);
    assert_eq!(x.answer(None, &cache, T0), Step::Ask { qtype: rtype::A });
    let Step::Done(Outcome::Error { len, rcode: rc }) = x.answer(None, &cache, T0) else {
        panic!("SERVFAIL")
    };
    assert_eq!(rc, rcode::SERVFAIL);
    let m = Message::parse(&x.out[..len]).unwrap();
    assert_eq!((m.id(), m.rcode(), m.qtype()), (9, rcode::SERVFAIL, rtype::AAAA));
    assert!(m.edns().is_some(), "the client used EDNS");
    assert!(cache.borrow().is_empty());

    // A relayed SERVFAIL (the last upstream's) is not cached either.
    let mut x = Drive::new(&d, &q);
    x.start(&cache, T0);
    let sf = MessageBuilder::response(0, "dead.example", rtype::AAAA, rcode::SERVFAIL).build();
    assert_eq!(x.answer(Some(&sf), &cache, T0), Step::Ask { qtype: rtype::A });
    let sf_a = MessageBuilder::response(0, "dead.example", rtype::A, rcode::SERVFAIL).build();
    let s = x.answer(Some(&sf_a), &cache, T0);
    assert!(matches!(s, Step::Done(Outcome::Answered { .. })), "{s:?}");
    assert!(cache.borrow().is_empty());
}

#[test]
fn s5_3_1_ptr_under_a_prefix_then_forward_when_it_gives_nothing() {
    let d = with_prefixes(&["2001:db8:64::/96"]);
    let qn_bytes = ip6_arpa_name(v6("2001:db8:64::c633:640a"));
    let qn = format!("{}", DisplayName(&qn_bytes, 0));
    let q = query(5, &qn, rtype::PTR);
    let mut x = Drive::new(&d, &q);
    assert_eq!(x.start(&NoCache, T0), Step::Ask { qtype: rtype::PTR });
    assert_eq!(x.asked[0].0, "10.100.51.198.in-addr.arpa.");
    let ptr = MessageBuilder::response(0, "10.100.51.198.in-addr.arpa", rtype::PTR, 0)
        .ptr("10.100.51.198.in-addr.arpa", 3600, "host.example.net")
        .build();
    let s = x.answer(Some(&ptr), &NoCache, T0);
    let (w, _, out) = x.response(s);
    assert_eq!(w.answer, Answer::PtrCname);
    assert_eq!(read_section(&out, Section::Answer)[0].rtype, rtype::CNAME);

    // No answer for the in-addr.arpa name: the query goes as it is, and
    // without an answer to that either, SERVFAIL.
    let mut x = Drive::new(&d, &q);
    x.start(&NoCache, T0);
    assert_eq!(x.answer(None, &NoCache, T0), Step::Ask { qtype: rtype::PTR });
    assert_eq!(x.asked[1].0, qn);
    assert!(matches!(
        x.answer(None, &NoCache, T0),
        Step::Done(Outcome::Error {
            rcode: rcode::SERVFAIL,
            ..
        })
    ));
}

#[test]
fn s5_5_cd_and_do_are_forwarded_and_relayed_with_ad() {
    let d = wkp();
    let q = MessageBuilder::new(3, flags::RD | flags::CD, "a-only.example", rtype::AAAA)
        .edns(1232, true)
        .build();
    let mut x = Drive::new(&d, &q);
    assert_eq!(x.ex.plan(), Some(&Plan::Forward));
    assert_eq!(x.start(&NoCache, T0), Step::Ask { qtype: rtype::AAAA });
    let (_, _, f, dnssec_ok) = x.asked[0];
    assert!(
        f & flags::CD != 0 && f & flags::RD != 0 && dnssec_ok,
        "CD and DO go upstream"
    );
    let nodata = MessageBuilder::response(0, "a-only.example", rtype::AAAA, 0)
        .set_flags(flags::AD)
        .authority()
        .soa("example", 60, 60)
        .edns(1232, true)
        .build();
    let s = x.answer(Some(&nodata), &NoCache, T0);
    let (w, _, out) = x.response(s);
    assert_eq!(w.answer, Answer::Relayed, "no synthesis (section 5.5 item 3)");
    assert!(Message::parse(&out).unwrap().flags() & flags::AD != 0);
    assert_eq!(x.asked.len(), 1, "no A query");
}

#[test]
fn rfc8880_local_names_ask_nobody() {
    let d = wkp();
    let q = query(1, "ipv4only.arpa", rtype::AAAA);
    let mut x = Drive::new(&d, &q);
    let s = x.start(&NoCache, T0);
    let (w, _, out) = x.response(s);
    assert_eq!(w.answer, Answer::Local);
    assert_eq!(answer_aaaa(&out), [v6("64:ff9b::c000:aa"), v6("64:ff9b::c000:ab")]);
    assert!(x.asked.is_empty());
}

#[test]
fn refused_messages_get_their_rcode_or_silence() {
    let d = wkp();
    // A response: silence.
    let r = a_response("x.example", &[v4("198.51.100.1")], 60);
    let mut x = Drive::new(&d, &r);
    assert_eq!(x.start(&NoCache, T0), Step::Done(Outcome::Silent));
    // A truncated question: FORMERR with the client's ID.
    let mut q = query(0x4242, "x.example", rtype::A);
    q.truncate(q.len() - 3);
    let mut x = Drive::new(&d, &q);
    let Step::Done(Outcome::Error { len, rcode: rc }) = x.start(&NoCache, T0) else {
        panic!("FORMERR")
    };
    assert_eq!(rc, rcode::FORMERR);
    assert_eq!(Message::parse(&x.out[..len]).unwrap().id(), 0x4242);
    assert!(x.ex.cache_key().is_none());
}

#[test]
fn replies_are_judged_against_the_question_asked() {
    let d = wkp();
    let q = query(7, "a-only.example", rtype::AAAA);
    let mut ex = Exchange::new(&d, &q, client6(), false);
    let mut out = vec![0u8; 512];
    ex.start(&NoCache, T0, &mut out);
    let ok = MessageBuilder::response(77, "a-only.example", rtype::AAAA, 0).build();
    assert_eq!(ex.judge(77, &ok, Received::Udp), Reply::Answer { failed: false });
    assert_eq!(ex.judge(78, &ok, Received::Udp), Reply::Foreign, "another ID");
    let other = MessageBuilder::response(77, "b.example", rtype::AAAA, 0).build();
    assert_eq!(ex.judge(77, &other, Received::Udp), Reply::Foreign, "another question");
    let asked_a = MessageBuilder::response(77, "a-only.example", rtype::A, 0).build();
    assert_eq!(ex.judge(77, &asked_a, Received::Udp), Reply::Foreign, "another type");
    assert_eq!(ex.judge(77, &q, Received::Udp), Reply::Foreign, "a query");
    assert_eq!(ex.judge(77, &ok[..5], Received::Udp), Reply::Foreign, "a runt");
    let tc = MessageBuilder::response(77, "a-only.example", rtype::AAAA, 0)
        .set_flags(flags::TC)
        .build();
    assert_eq!(ex.judge(77, &tc, Received::Udp), Reply::Truncated);
    assert_eq!(ex.judge(77, &tc, Received::Tcp), Reply::Answer { failed: false });
    assert_eq!(ex.judge(77, &ok[..3], Received::UdpOversized), Reply::Truncated);
    assert_eq!(ex.judge(78, &ok[..3], Received::UdpOversized), Reply::Foreign);
    for rc in [rcode::SERVFAIL, rcode::REFUSED] {
        let f = MessageBuilder::response(77, "a-only.example", rtype::AAAA, rc).build();
        assert_eq!(ex.judge(77, &f, Received::Udp), Reply::Answer { failed: true });
    }
    let nx = MessageBuilder::response(77, "a-only.example", rtype::AAAA, rcode::NXDOMAIN).build();
    assert_eq!(ex.judge(77, &nx, Received::Tcp), Reply::Answer { failed: false });
    // After the AAAA answer, the A answer is the one awaited.
    ex.on_answer(Some(&aaaa_nodata("a-only.example", 60)), &NoCache, T0, &mut out);
    assert_eq!(ex.judge(77, &ok, Received::Udp), Reply::Foreign);
    assert_eq!(ex.judge(77, &asked_a, Received::Udp), Reply::Answer { failed: false });
}

// ---- the cache ------------------------------------------------------------------

#[test]
fn cache_hits_take_the_clients_id_rd_and_spelling_and_age_the_ttls() {
    let mut cache = ResponseCache::new(2000, 86400);
    let first = MessageBuilder::query(1, "www.example.net", rtype::AAAA)
        .edns(1232, false)
        .build();
    let q = Query::parse(&first).unwrap();
    // As the resolver wrote it for the first client: the owner points at the question.
    let resp = MessageBuilder::response(1, "www.example.net", rtype::AAAA, rcode::NOERROR)
        .aaaa("@", 300, "64:ff9b::1".parse().unwrap())
        .authority()
        .soa("example.net", 3600, 60)
        .edns(1232, false)
        .build();
    cache.put(&CacheKey::new(&q, true).unwrap(), &resp, T0);

    // Another client: other ID, no RD, 0x20 spelling, 7 s later.
    let second = MessageBuilder::new(0xbeef, 0, "wWw.ExAmple.NET", rtype::AAAA)
        .edns(4096, false)
        .build();
    let q2 = Query::parse(&second).unwrap();
    let mut out = [0u8; 1232];
    let k2 = CacheKey::new(&q2, true).unwrap();
    let Some(Hit::Written(n)) = cache.get(&k2, &q2, secs(7), &mut out) else {
        panic!("a hit")
    };
    let m = Message::parse(&out[..n]).unwrap();
    assert_eq!(m.id(), 0xbeef);
    assert_eq!(m.flags() & flags::RD, 0);
    assert!(m.is_response());
    assert_eq!(m.qname_wire(), q2.qname_wire(), "the client's spelling");
    let an = read_section(&out[..n], Section::Answer);
    assert_eq!(an[0].ttl, 293);
    assert_eq!(read_section(&out[..n], Section::Authority)[0].ttl, 3593);
    assert_eq!(m.edns().unwrap().udp_size, 1232, "OPT left alone");

    // Not for a client without EDNS, another DNS64 status, or DO.
    let plain = MessageBuilder::query(2, "www.example.net", rtype::AAAA).build();
    let qp = Query::parse(&plain).unwrap();
    assert!(cache
        .get(&CacheKey::new(&qp, true).unwrap(), &qp, T0, &mut out)
        .is_none());
    assert!(cache
        .get(&CacheKey::new(&q, false).unwrap(), &q, T0, &mut out)
        .is_none());
    let dnssec = MessageBuilder::query(3, "www.example.net", rtype::AAAA)
        .edns(1232, true)
        .build();
    let qd = Query::parse(&dnssec).unwrap();
    assert!(cache
        .get(&CacheKey::new(&qd, true).unwrap(), &qd, T0, &mut out)
        .is_none());

    // Too big for the client's buffer: an aged copy to truncate.
    let Some(Hit::TooBig(c)) = cache.get(&k2, &q2, secs(1), &mut out[..40]) else {
        panic!("too big")
    };
    assert_eq!(read_section(&c, Section::Answer)[0].ttl, 299);
    // Expired after its smallest TTL, 300 s (the answer has data: the
    // SOA minimum does not apply).
    assert!(cache.get(&k2, &q2, secs(300), &mut out).is_none());
    assert_eq!(cache.len(), 0, "removed once expired");
    assert!(cache.get(&k2, &q2, T0, &mut out).is_none());
}

#[test]
fn rfc2308_negative_answers_live_for_the_soa_minimum_and_max_ttl_caps() {
    let q = query(1, "none.example", rtype::AAAA);
    let q = Query::parse(&q).unwrap();
    let k = CacheKey::new(&q, true).unwrap();
    let nx = MessageBuilder::response(1, "none.example", rtype::AAAA, rcode::NXDOMAIN)
        .authority()
        .soa("example", 3600, 45)
        .build();
    let mut out = [0u8; 512];
    let mut cache = ResponseCache::new(10, 86400);
    cache.put(&k, &nx, T0);
    assert!(cache.get(&k, &q, secs(44), &mut out).is_some());
    assert!(cache.get(&k, &q, secs(45), &mut out).is_none());
    // The operator's cap.
    let mut capped = ResponseCache::new(10, 30);
    capped.put(&k, &nx, T0);
    assert!(capped.get(&k, &q, secs(29), &mut out).is_some());
    assert!(capped.get(&k, &q, secs(30), &mut out).is_none());
    // ... which caps the TTLs clients are told too (the SOA's 3600 s), in
    // the written response and in the copy of one too big for the buffer.
    let mut capped = ResponseCache::new(10, 30);
    capped.put(&k, &nx, T0);
    let Some(Hit::Written(n)) = capped.get(&k, &q, secs(10), &mut out) else {
        panic!("expected a hit")
    };
    assert_eq!(read_section(&out[..n], Section::Authority)[0].ttl, 20);
    let Some(Hit::TooBig(big)) = capped.get(&k, &q, secs(10), &mut out[..20]) else {
        panic!("expected a copy to truncate")
    };
    assert_eq!(read_section(&big, Section::Authority)[0].ttl, 20);
    // Nothing says how long: SERVFAIL, NODATA without SOA, TTL 0.
    let sf = MessageBuilder::response(1, "none.example", rtype::AAAA, rcode::SERVFAIL).build();
    let nosoa = MessageBuilder::response(1, "none.example", rtype::AAAA, 0).build();
    let zero = MessageBuilder::response(1, "none.example", rtype::AAAA, 0)
        .aaaa("none.example", 0, v6("2001:db8::1"))
        .build();
    for m in [sf, nosoa, zero] {
        assert!(CachedResponse::new(&m, T0, 86400).is_none());
    }
    // A disabled cache keeps nothing.
    let mut off = ResponseCache::new(0, 86400);
    off.put(&k, &nx, T0);
    assert!(off.is_empty());
}

#[test]
fn a_compressed_question_name_is_refused_so_cached_names_keep_their_length() {
    // QDCOUNT's high byte (0) read as the root name: "\xc0\x04".
    let mut m = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 4];
    m.extend_from_slice(&rtype::AAAA.to_be_bytes());
    m.extend_from_slice(&1u16.to_be_bytes());
    assert!(Query::parse(&m).is_err());
}

#[test]
fn a_full_cache_evicts_the_oldest_entry_not_the_smallest_name() {
    let mut cache = ResponseCache::new(3, 86400);
    let key = |qn: &str| {
        let qm = query(1, qn, rtype::A);
        let q = Query::parse(&qm).unwrap();
        (CacheKey::new(&q, false).unwrap(), qm)
    };
    let put = |cache: &mut ResponseCache, qn: &str, at: u64| {
        cache.put(&key(qn).0, &a_response(qn, &[v4("192.0.2.1")], 600), secs(at));
    };
    let held = |cache: &mut ResponseCache, qn: &str| {
        let (k, qm) = key(qn);
        let mut out = [0u8; 512];
        cache.get(&k, &Query::parse(&qm).unwrap(), secs(9), &mut out).is_some()
    };
    // Keys sort by the first label's length: "a" first, "zzzz" last.
    put(&mut cache, "zzzz.example", 0);
    put(&mut cache, "a.example", 1);
    put(&mut cache, "mm.example", 2);
    put(&mut cache, "bb.example", 3);
    assert_eq!(cache.len(), 3);
    assert!(
        !held(&mut cache, "zzzz.example"),
        "the oldest entry goes, not the smallest key"
    );
    assert!(held(&mut cache, "a.example") && held(&mut cache, "mm.example") && held(&mut cache, "bb.example"));
    // Storing a name again makes it the newest: "mm" is now the oldest.
    put(&mut cache, "a.example", 4);
    put(&mut cache, "ccc.example", 5);
    assert!(!held(&mut cache, "mm.example"));
    assert!(held(&mut cache, "a.example") && held(&mut cache, "bb.example") && held(&mut cache, "ccc.example"));
}

#[test]
fn a_full_cache_makes_room() {
    let mut cache = ResponseCache::new(4, 86400);
    for i in 0..10 {
        let qn = format!("n{i}.example");
        let qm = query(1, &qn, rtype::A);
        let q = Query::parse(&qm).unwrap();
        let r = a_response(&qn, &[v4("192.0.2.1")], 60);
        cache.put(&CacheKey::new(&q, false).unwrap(), &r, T0);
    }
    assert_eq!(cache.len(), 4);
    // Expired entries go first, in a sweep at most once a second.
    for i in 10..14 {
        let qn = format!("n{i}.example");
        let qm = query(1, &qn, rtype::A);
        let q = Query::parse(&qm).unwrap();
        let r = a_response(&qn, &[v4("192.0.2.1")], 600);
        cache.put(&CacheKey::new(&q, false).unwrap(), &r, secs(61));
    }
    assert_eq!(cache.len(), 4);
    let mut out = [0u8; 512];
    for i in 10..14 {
        let qn = format!("n{i}.example");
        let qm = query(1, &qn, rtype::A);
        let q = Query::parse(&qm).unwrap();
        let k = CacheKey::new(&q, false).unwrap();
        assert!(cache.get(&k, &q, secs(62), &mut out).is_some(), "{qn}");
    }
}

#[test]
fn the_owned_exchange_takes_the_same_steps_as_the_borrowed_one() {
    let d = with_prefixes(&["2001:db8:64::/96"]);
    let q = query(7, "a-only.example", rtype::AAAA);
    let nodata = aaaa_nodata("a-only.example", 120);
    let a = a_response("a-only.example", &[v4("192.0.2.33")], 3600);
    let mut cache = ResponseCache::new(10, 86400);

    let mut x = Drive::new(&d, &q);
    let mut o = OwnedExchange::new(&q, client6(), false);
    assert_eq!(o.response_limit(&d), x.ex.response_limit());
    assert_eq!(o.plan(&d), Some(Plan::Aaaa));
    let mut out = vec![0u8; o.response_limit(&d)];
    let mut uq = [0u8; 300];
    assert_eq!(
        o.write_query(&d, 1, &mut uq),
        Err(Dns64Error::NoQuestion),
        "not started"
    );
    let cell = RefCell::new(&mut cache);
    assert_eq!(o.start(&d, &cell, T0, &mut out), x.start(&NoCache, T0));
    // The upstream query and the judging of replies follow the question.
    let n = o.write_query(&d, 0x4242, &mut uq).unwrap();
    assert_eq!(Message::parse(&uq[..n]).unwrap().qtype(), rtype::AAAA);
    let mut reply = nodata.clone();
    reply[..2].copy_from_slice(&0x4242u16.to_be_bytes());
    assert_eq!(
        o.judge(&d, 0x4242, &reply, Received::Udp),
        Reply::Answer { failed: false }
    );
    assert_eq!(o.judge(&d, 0x4243, &reply, Received::Udp), Reply::Foreign);

    let s = o.on_answer(&d, Some(&nodata), &cell, T0, &mut out);
    assert_eq!(s, x.answer(Some(&nodata), &NoCache, T0));
    assert_eq!(s, Step::Ask { qtype: rtype::A });
    let n = o.write_query(&d, 9, &mut uq).unwrap();
    assert_eq!(Message::parse(&uq[..n]).unwrap().qtype(), rtype::A);
    assert!(!o.is_done());
    let s = o.on_answer(&d, Some(&a), &cell, T0, &mut out);
    let s2 = x.answer(Some(&a), &NoCache, T0);
    assert_eq!(s, s2);
    assert!(o.is_done());
    assert_eq!(o.write_query(&d, 1, &mut uq), Err(Dns64Error::NoQuestion), "finished");
    let (w, _, want) = x.response(s2);
    assert_eq!(&out[..w.len], want.as_slice());
    let _ = cell.into_inner();
    assert_eq!(cache.len(), 1, "the synthesized answer is cached");

    // Asked again: answered from the cache in one step.
    let mut o2 = OwnedExchange::new(&q, client6(), false);
    let cell = RefCell::new(&mut cache);
    match o2.start(&d, &cell, secs(1), &mut out) {
        Step::Done(Outcome::Answered { from_cache, .. }) => assert!(from_cache),
        other => panic!("expected a cache hit, got {other:?}"),
    }
    // A finished exchange answers SERVFAIL to a further answer.
    match o.on_answer(&d, Some(&a), &cell, T0, &mut out) {
        Step::Done(Outcome::Error { rcode: r, .. }) => assert_eq!(r, rcode::SERVFAIL),
        other => panic!("expected SERVFAIL, got {other:?}"),
    }
}

#[test]
fn max_ttl_caps_the_ttls_of_the_first_answer_too() {
    let d = wkp();
    let q = query(7, "dual.example", rtype::AAAA);
    let aaaa = MessageBuilder::response(0, "dual.example", rtype::AAAA, 0)
        .aaaa("dual.example", 3600, v6("2001:db8::35"))
        .build();
    let cache = RefCell::new(ResponseCache::new(100, 60));
    let mut x = Drive::new(&d, &q);
    x.start(&cache, T0);
    let s = x.answer(Some(&aaaa), &cache, T0);
    let (_, from_cache, out) = x.response(s);
    assert!(!from_cache);
    assert_eq!(
        read_section(&out, Section::Answer)[0].ttl,
        60,
        "the first client is told 60 too"
    );
    // Without a cache, nothing is capped.
    let mut y = Drive::new(&d, &q);
    y.start(&NoCache, T0);
    let s = y.answer(Some(&aaaa), &NoCache, T0);
    assert_eq!(read_section(&y.response(s).2, Section::Answer)[0].ttl, 3600);
}
