//! DNS64 (RFC 6147) on arbitrary client queries and upstream answers: every
//! response the module writes must be valid DNS with the client's ID and
//! question, fit the buffer it was given, and say TC exactly when it was
//! truncated.
//!
//! Input: byte 0: bits 0-1 the configuration, bit 2 no AAAA answer (timed
//! out), bit 3 no A answer, bit 4 give both answers the query's question
//! (so that they are not refused as answers to another question), bit 5 the
//! client is IPv4; byte 1 the output size (0: 512, 1: the UDP limit of the
//! query, 2: 65535, else 12 + 4 * byte 2); byte 2; then three chunks with a
//! 16-bit length each: the query, the AAAA answer, the A answer.
#![no_main]

use std::net::IpAddr;

use libfuzzer_sys::fuzz_target;
use nat64_core::dns64::wire::{rcode, rtype, skip_name, HEADER_LEN};
use nat64_core::dns64::{ClientPrefix, Dns64, Dns64Config, Plan, PrefixRule, Query};
use nat64_fuzz::{check_dns_response, Reader};

fn configs() -> Vec<Dns64> {
    let a = Dns64Config::default();
    let b = Dns64Config {
        prefixes: vec![
            PrefixRule {
                prefix: "2001:db8:64::/96".parse().unwrap(),
                mapped: vec!["192.0.2.0/24".parse().unwrap(), "198.51.100.0/24".parse().unwrap()],
            },
            PrefixRule::new("2001:db8:100::/40".parse().unwrap()),
            PrefixRule::new("64:ff9b::/96".parse().unwrap()),
        ],
        exclude: vec!["::ffff:0:0/96".parse().unwrap(), "2001:db8:bad::/48".parse().unwrap()],
        translate_all: true,
        ..Dns64Config::default()
    };
    let c = Dns64Config {
        allow_ipv4: true,
        allow_non_global: true,
        clients: vec![ClientPrefix::V6("2001:db8::/32".parse().unwrap())],
        edns_udp_size: 4096,
        ..Dns64Config::default()
    };
    [a, b, c].into_iter().map(|c| Dns64::new(c).unwrap()).collect()
}

/// `chunk` as an answer to the query's question with `qtype`: its header,
/// QDCOUNT 1 and QR set, the question, then the rest of the chunk.
fn answer_to(query: &[u8], qtype: u16, chunk: &[u8]) -> Vec<u8> {
    let Ok(end) = skip_name(query, HEADER_LEN) else {
        return chunk.to_vec();
    };
    let mut m = chunk
        .get(..HEADER_LEN)
        .map_or_else(|| vec![0u8; HEADER_LEN], <[u8]>::to_vec);
    if chunk.len() < HEADER_LEN {
        m.resize(HEADER_LEN, 0);
    }
    m[2] |= 0x80;
    m[4] = 0;
    m[5] = 1;
    m.extend_from_slice(&query[HEADER_LEN..end]);
    m.extend_from_slice(&qtype.to_be_bytes());
    m.extend_from_slice(query.get(end + 2..end + 4).unwrap_or(&[0, 1]));
    m.extend_from_slice(chunk.get(HEADER_LEN..).unwrap_or(&[]));
    m
}

fuzz_target!(|data: &[u8]| {
    thread_local! {
        static DNS64: Vec<Dns64> = configs();
    }
    let mut r = Reader::new(data);
    let sel = r.u8();
    let size_sel = r.u8();
    let size_b = r.u8();
    let n = usize::from(r.u16());
    let q = r.bytes(n).to_vec();
    let n = usize::from(r.u16());
    let mut aaaa = r.bytes(n).to_vec();
    let n = usize::from(r.u16());
    let mut a = r.bytes(n).to_vec();
    if sel & 16 != 0 {
        aaaa = answer_to(&q, rtype::AAAA, &aaaa);
        a = answer_to(&q, rtype::A, &a);
    }
    let client: IpAddr = if sel & 32 != 0 {
        "192.0.2.77".parse().unwrap()
    } else {
        "2001:db8::77".parse().unwrap()
    };
    DNS64.with(|all| {
        let d = &all[usize::from(sel & 3) % all.len()];
        let query = match Query::parse(&q) {
            Ok(query) => query,
            Err(e) => {
                let mut out = vec![0u8; 512];
                let rc = e.rcode().unwrap_or(rcode::SERVFAIL);
                match d.error_response(&q, rc, &mut out) {
                    Ok(Some(n)) => {
                        assert!(e.rcode().is_some(), "an answer to a message that must be ignored");
                        assert!(n <= out.len());
                        check_dns_response(&out[..n], u16::from_be_bytes([q[0], q[1]]), None, None);
                    }
                    Ok(None) => assert!(e.rcode().is_none(), "{e:?} not answered"),
                    Err(_) => {}
                }
                return;
            }
        };
        let size = match size_sel & 3 {
            0 => 512,
            1 => d.response_limit(&query, false),
            2 => d.response_limit(&query, true),
            _ => HEADER_LEN + 4 * usize::from(size_b),
        };
        assert!((512..=65_535).contains(&d.response_limit(&query, false)));
        let mut out = vec![0u8; size];
        let id = query.id();
        let question = Some((query.qname_wire(), query.qtype(), query.qclass()));
        let check = |out: &[u8], w: nat64_core::dns64::Written| {
            assert!(w.len <= out.len(), "wrote {} bytes into {}", w.len, out.len());
            check_dns_response(&out[..w.len], id, question, Some(w.truncated));
        };
        let aaaa_r = (sel & 4 == 0).then_some(&aaaa[..]);
        let a_r = (sel & 8 == 0).then_some(&a[..]);

        let plan = d.plan(&query, client);
        let mut up = [0u8; 512];
        if let Ok(n) = d.upstream_query(&query, 7, query.qname_wire(), rtype::AAAA, &mut up) {
            let m = nat64_core::dns64::wire::Message::parse(&up[..n]).expect("our upstream query parses");
            assert!(m.question_is(query.qname_wire(), rtype::AAAA, query.qclass()));
            assert!(!m.is_response());
        }
        let _ = d.needs_a_query(&query, aaaa_r);
        if let Ok(w) = d.synthesize(&query, aaaa_r, a_r, &mut out) {
            check(&out, w);
        }
        if let Ok(w) = d.relay(&query, &aaaa, &mut out) {
            check(&out, w);
        }
        if let Ok(w) = d.answer_local(&query, true, &mut out) {
            check(&out, w);
        }
        if let Plan::Ptr(name) = plan {
            let ptr = if sel & 16 != 0 {
                // An answer to the in-addr.arpa question.
                let mut qq = q[..HEADER_LEN].to_vec();
                qq.extend_from_slice(name.wire());
                qq.extend_from_slice(&[0, 12, 0, 1]);
                answer_to(&qq, rtype::PTR, &a)
            } else {
                a.clone()
            };
            if let Ok(Some(w)) = d.synthesize_ptr(&query, &name, &ptr, &mut out) {
                check(&out, w);
            }
        }
        for rc in [rcode::SERVFAIL, rcode::REFUSED, rcode::BADVERS] {
            if let Ok(Some(n)) = d.error_response(&q, rc, &mut out) {
                assert!(n <= out.len());
                check_dns_response(&out[..n], id, question, None);
            }
        }
    });
});
