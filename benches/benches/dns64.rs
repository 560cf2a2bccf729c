//! DNS64 synthesis in the core (`nat64_core::dns64`), for a typical A-only
//! name: the client's AAAA query (with EDNS), the upstream's NOERROR/NODATA
//! AAAA answer (with its SOA) and the A answer with one record. Target: at
//! most 1 us per response for `a_only/full_path`.
//!
//! Functions, in one criterion group:
//!
//! - `full_path`: what a resolver does per response: `Query::parse`,
//!   `Dns64::plan`, `Dns64::needs_a_query` and `Dns64::synthesize` into a
//!   caller buffer;
//! - `synthesize`: `Dns64::synthesize` alone (query already parsed);
//! - `relay`: `Dns64::relay` of the A answer (the path of every query DNS64
//!   does not touch);
//! - `hickory` (with `--features hickory` only): the same synthesis written
//!   with hickory-proto 0.25 (parse the three messages into `Message`s, build
//!   the response `Message`, encode it), the comparison behind the choice of
//!   a zero-copy parser of our own. Run it with
//!   `cargo bench -p nat64-benches --features hickory --bench dns64`.

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use nat64_core::dns64::testing::{answer_aaaa, MessageBuilder};
use nat64_core::dns64::wire::rtype;
use nat64_core::dns64::{Answer, Decision, Dns64, Dns64Config, Plan, PrefixRule, Query};

const NAME: &str = "www.example.com";
const V4: Ipv4Addr = Ipv4Addr::new(93, 184, 216, 34);

struct Msgs {
    query: Vec<u8>,
    aaaa: Vec<u8>,
    a: Vec<u8>,
}

fn msgs() -> Msgs {
    Msgs {
        query: MessageBuilder::query(0x1234, NAME, rtype::AAAA)
            .edns(1232, false)
            .build(),
        aaaa: MessageBuilder::response(0x9999, NAME, rtype::AAAA, 0)
            .authority()
            .soa("example.com", 300, 300)
            .edns(1232, false)
            .build(),
        a: MessageBuilder::response(0x9998, NAME, rtype::A, 0)
            .a(NAME, 3600, V4)
            .edns(1232, false)
            .build(),
    }
}

fn dns64() -> Dns64 {
    Dns64::new(Dns64Config {
        prefixes: vec![PrefixRule::new("64:ff9b::/96".parse().unwrap())],
        ..Dns64Config::default()
    })
    .unwrap()
}

fn bench(c: &mut Criterion) {
    let d = dns64();
    let m = msgs();
    let client: IpAddr = "2001:db8::1".parse().unwrap();
    let mut out = vec![0u8; 1232];
    // Never measure a failure path.
    let q = Query::parse(&m.query).unwrap();
    assert_eq!(d.plan(&q, client), Plan::Aaaa);
    assert_eq!(d.needs_a_query(&q, Some(&m.aaaa)).unwrap(), Decision::QueryA);
    let w = d.synthesize(&q, Some(&m.aaaa), Some(&m.a), &mut out).unwrap();
    assert_eq!(w.answer, Answer::Synthesized { records: 1 });
    let ours = answer_aaaa(&out[..w.len]);
    assert_eq!(ours, ["64:ff9b::5db8:d822".parse::<std::net::Ipv6Addr>().unwrap()]);

    let mut g = c.benchmark_group("a_only");
    g.throughput(Throughput::Elements(1));
    g.bench_function("full_path", |b| {
        b.iter(|| {
            let q = Query::parse(black_box(&m.query)).unwrap();
            let plan = d.plan(&q, client);
            let dec = d.needs_a_query(&q, Some(black_box(&m.aaaa))).unwrap();
            let w = d
                .synthesize(
                    &q,
                    Some(black_box(&m.aaaa)),
                    Some(black_box(&m.a)),
                    black_box(&mut out[..]),
                )
                .unwrap();
            (plan, dec, w)
        })
    });
    g.bench_function("synthesize", |b| {
        b.iter(|| {
            d.synthesize(
                &q,
                Some(black_box(&m.aaaa)),
                Some(black_box(&m.a)),
                black_box(&mut out[..]),
            )
        })
    });
    let qa = MessageBuilder::query(0x1234, NAME, rtype::A).edns(1232, false).build();
    let qa = Query::parse(&qa).unwrap();
    g.bench_function("relay", |b| {
        b.iter(|| d.relay(&qa, black_box(&m.a), black_box(&mut out[..])))
    });
    #[cfg(feature = "hickory")]
    {
        assert_eq!(answer_aaaa(&hickory::synthesize(&m.query, &m.aaaa, &m.a)), ours);
        g.bench_function("hickory", |b| {
            b.iter(|| hickory::synthesize(black_box(&m.query), black_box(&m.aaaa), black_box(&m.a)))
        });
    }
    g.finish();
}

#[cfg(feature = "hickory")]
mod hickory {
    use hickory_proto::op::{Message, MessageType};
    use hickory_proto::rr::rdata::AAAA;
    use hickory_proto::rr::{RData, Record};
    use nat64_core::Prefix64;

    /// The same RFC 6147 synthesis as `Dns64::synthesize` for this case.
    pub fn synthesize(query: &[u8], aaaa: &[u8], a: &[u8]) -> Vec<u8> {
        let prefix = Prefix64::well_known();
        let q = Message::from_vec(query).unwrap();
        let aaaa = Message::from_vec(aaaa).unwrap();
        let a = Message::from_vec(a).unwrap();
        let cap = aaaa
            .name_servers()
            .iter()
            .find_map(|r| match r.data() {
                RData::SOA(s) => Some(s.minimum().min(r.ttl())),
                _ => None,
            })
            .unwrap_or(600);
        let mut resp = Message::new();
        resp.set_id(q.id())
            .set_message_type(MessageType::Response)
            .set_recursion_desired(q.recursion_desired())
            .set_recursion_available(true);
        resp.add_queries(q.queries().to_vec());
        for r in a.answers() {
            match r.data() {
                RData::A(v4) => {
                    let v6 = prefix.embed(v4.0);
                    resp.add_answer(Record::from_rdata(
                        r.name().clone(),
                        r.ttl().min(cap),
                        RData::AAAA(AAAA(v6)),
                    ));
                }
                _ => {
                    resp.add_answer(r.clone());
                }
            }
        }
        resp.add_name_servers(a.name_servers().to_vec());
        if let Some(e) = q.extensions() {
            resp.set_edns(e.clone());
        }
        resp.to_vec().unwrap()
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
