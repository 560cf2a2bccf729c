//! Property tests of the translator against independent oracles
//! (`etherparse` and the checksum/RFC 6052 code in `common`).
//!
//! `PROPTEST_CASES` raises the case count of every property; without it the
//! suite keeps to a few hundred cases each so it runs in seconds in debug.

mod common;

use std::net::{Ipv4Addr, Ipv6Addr};

use common::*;
use nat64_core::{Config, Counters, Direction, DropReason, HairpinMode, Translator, Verdict};
use proptest::prelude::*;

/// `n` cases unless `PROPTEST_CASES` says otherwise.
fn cases(n: u32) -> ProptestConfig {
    let mut c = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        c.cases = n;
    }
    c
}

fn translator(pool: Pool) -> Translator {
    Translator::new(Config::with_pool6(pool.text().parse().unwrap())).unwrap()
}

/// Every call is counted exactly once.
fn counted(c: &Counters) -> u64 {
    c.translated_6to4
        + c.translated_4to6
        + c.hairpinned
        + c.dropped.iter().sum::<u64>()
        + c.not_ours.iter().sum::<u64>()
}

// ----------------------------------------------------------------- 6 -> 4

proptest! {
    #![proptest_config(cases(256))]

    /// RFC 7915 section 5.1 on random valid TCP/UDP/echo packets, for every
    /// RFC 6052 prefix length.
    #[test]
    fn six_to_four_translates_valid_packets(f in arb_flow(1400), pool in arb_pool()) {
        let mut t = translator(pool);
        let pkt = f.v6_packet(pool);
        let mut out = vec![0u8; OUT_LEN];
        let v = t.translate(&pkt, &mut out);
        let Verdict::Translated(e) = v else { panic!("{v:?}") };
        prop_assert_eq!(e.direction, Direction::SixToFour);
        let p = single(v, &out);
        let s = check_v4(&p);
        prop_assert_eq!((s.src, s.dst), (f.src, f.dst));
        prop_assert_eq!(s.ttl, f.hop - 1);
        prop_assert_eq!(s.tos, f.tos);
        prop_assert_eq!(s.proto, f.proto4());
        prop_assert_eq!(p.len(), pkt.len() - 20);
        prop_assert!(!s.mf && s.frag_off == 0);
        // RFC 7915 section 5.1: DF only when the IPv4 packet exceeds 1260
        // bytes; RFC 6864: atomic datagrams have ID 0.
        prop_assert_eq!(s.df, p.len() > 1260);
        if s.df {
            prop_assert_eq!(s.id, 0);
        }
        assert_same_l4(&f, &s.payload);
        if let L4::Echo(req) = f.l4 {
            prop_assert_eq!(s.payload[0], if req { 8 } else { 0 });
            prop_assert_eq!(s.payload[1], 0);
        }
        prop_assert_eq!(t.counters().translated_6to4, 1);
        prop_assert_eq!(counted(t.counters()), 1);
    }

    /// The same through extension headers RFC 7915 section 5.1 skips
    /// (Hop-by-Hop, Destination Options, Routing with Segments Left 0):
    /// they vanish and Total Length shrinks accordingly.
    #[test]
    fn six_to_four_skips_extension_headers(
        f in arb_flow(600),
        hbh in proptest::option::of(0u8..4),
        dst in proptest::option::of(0u8..4),
        rt in any::<bool>(),
    ) {
        let pool = Pool::new("2001:db8:64::", 96);
        let mut t = translator(pool);
        let mut exts = Vec::new();
        if let Some(n) = hbh { exts.push(Ext::HopByHop(n)); }
        if let Some(n) = dst { exts.push(Ext::DstOpts(n)); }
        if rt { exts.push(Ext::Routing(0)); }
        let l4 = f.l4_v6(pool);
        let hdr = V6 { tc: f.tos, hop: f.hop, ..V6::new(f.src6(pool), f.dst6(pool)) };
        let pkt = hdr.build_ext(&exts, f.proto6(), &l4);
        let mut out = vec![0u8; OUT_LEN];
        let p = single(t.translate(&pkt, &mut out), &out);
        let s = check_v4(&p);
        prop_assert_eq!(p.len(), 20 + l4.len());
        prop_assert_eq!(s.proto, f.proto4());
        assert_same_l4(&f, &s.payload);
    }
}

// ----------------------------------------------------------------- 4 -> 6

proptest! {
    #![proptest_config(cases(256))]

    /// RFC 7915 section 4.1 on random valid TCP/UDP/echo packets, DF random:
    /// DF=0 packets whose translation exceeds lowest_ipv6_mtu (1280) come out
    /// as IPv6 fragments, which must reassemble to the translated datagram.
    #[test]
    fn four_to_six_translates_valid_packets(f in arb_flow(1400), pool in arb_pool()) {
        let mut t = translator(pool);
        let pkt = f.v4_packet();
        let mut out = vec![0u8; OUT_LEN];
        let v = t.translate(&pkt, &mut out);
        let Verdict::Translated(e) = v else { panic!("{v:?}") };
        prop_assert_eq!(e.direction, Direction::FourToSix);
        let seen: Vec<Seen6> = emitted(&e, &out).into_iter().map(check_v6).collect();
        for s in &seen {
            prop_assert_eq!((s.src, s.dst), (f.src6(pool), f.dst6(pool)));
            prop_assert_eq!(s.hop, f.hop - 1);
            prop_assert_eq!(s.tc, f.tos);
            prop_assert_eq!(s.flow, 0);
            prop_assert_eq!(s.proto, f.proto6());
        }
        let total6 = pkt.len() + 20;
        let l4 = if !f.df && total6 > 1280 {
            prop_assert!(seen.len() > 1);
            for (s, p) in seen.iter().zip(e.packets(&out)) {
                prop_assert!(p.len() <= 1280, "fragment of {} bytes", p.len());
                prop_assert_eq!(s.frag.unwrap().2, u32::from(f.id));
            }
            prop_assert_eq!(t.counters().fragments_emitted, seen.len() as u64 - 1);
            let l4 = reassemble_v6(&seen);
            check_reassembled_v6(f.src6(pool), f.dst6(pool), f.proto6(), &l4);
            l4
        } else {
            prop_assert_eq!(seen.len(), 1);
            prop_assert!(seen[0].frag.is_none(), "no Fragment header unless needed (RFC 7915 section 4.1)");
            prop_assert_eq!(e.total_len(), total6);
            seen[0].payload.clone()
        };
        prop_assert_eq!(l4.len(), pkt.len() - 20);
        assert_same_l4(&f, &l4);
        if let L4::Echo(req) = f.l4 {
            prop_assert_eq!(l4[0], if req { 128 } else { 129 });
        }
        prop_assert_eq!(t.counters().translated_4to6, 1);
    }
}

// ------------------------------------------------------------- round trips

proptest! {
    #![proptest_config(cases(256))]

    /// 6 -> 4 -> 6 restores addresses, ports, payload and checksum validity.
    #[test]
    fn round_trip_6_4_6(f in arb_flow(1400), pool in arb_pool()) {
        let mut t = translator(pool);
        let pkt = f.v6_packet(pool);
        let mut out = vec![0u8; OUT_LEN];
        let p4 = single(t.translate(&pkt, &mut out), &out);
        let v = t.translate(&p4, &mut out);
        if f.hop == 2 {
            // TTL 1 after the first pass; no own_ipv4, so no Time Exceeded.
            prop_assert_eq!(v, Verdict::Dropped(DropReason::HopLimitExceeded));
            return Ok(());
        }
        let p6 = single(v, &out);
        let s = check_v6(&p6);
        prop_assert_eq!((s.src, s.dst), (f.src6(pool), f.dst6(pool)));
        prop_assert_eq!(s.hop, f.hop - 2);
        prop_assert_eq!(s.tc, f.tos);
        prop_assert!(s.frag.is_none());
        prop_assert_eq!(p6.len(), pkt.len());
        assert_same_l4(&f, &s.payload);
        prop_assert_eq!(s.payload[0], pkt[40]);
    }

    /// 4 -> 6 -> 4 restores addresses, ports, payload and checksum validity;
    /// IPv6 fragments made by the translator come back as IPv4 fragments
    /// with the original Identification that reassemble to the original.
    #[test]
    fn round_trip_4_6_4(f in arb_flow(1400), pool in arb_pool()) {
        let mut t = translator(pool);
        let pkt = f.v4_packet();
        let mut out = vec![0u8; OUT_LEN];
        let Verdict::Translated(e) = t.translate(&pkt, &mut out) else { panic!() };
        let v6s: Vec<Vec<u8>> = e.packets(&out).map(<[u8]>::to_vec).collect();
        let mut back = Vec::new();
        for p in &v6s {
            let v = t.translate(p, &mut out);
            if f.hop == 2 {
                prop_assert_eq!(v, Verdict::Dropped(DropReason::HopLimitExceeded));
                continue;
            }
            if v6s.len() > 1 && matches!(f.l4, L4::Echo(_)) {
                // A stateless translator cannot convert the checksum of a
                // fragmented ICMP message (RFC 7915 section 5.3).
                prop_assert_eq!(v, Verdict::Dropped(DropReason::FragmentedIcmp));
                continue;
            }
            back.push(check_v4(&single(v, &out)));
        }
        if back.is_empty() {
            return Ok(());
        }
        for s in &back {
            prop_assert_eq!((s.src, s.dst), (f.src, f.dst));
            prop_assert_eq!(s.ttl, f.hop - 2);
            prop_assert_eq!(s.tos, f.tos);
            prop_assert_eq!(s.proto, f.proto4());
        }
        let l4 = if back.len() > 1 {
            for s in &back {
                prop_assert_eq!(s.id, f.id);
                prop_assert!(!s.df);
            }
            let l4 = reassemble_v4(&back);
            check_reassembled_v4(f.src, f.dst, f.proto4(), &l4);
            l4
        } else {
            prop_assert!(!back[0].mf && back[0].frag_off == 0);
            back[0].payload.clone()
        };
        prop_assert_eq!(l4.len(), pkt.len() - 20);
        assert_same_l4(&f, &l4);
        prop_assert_eq!(l4[0], pkt[20]);
    }
}

// --------------------------------------------------- robustness / fuzzing

const EAM4: &str = "198.51.100.0/24";
const EAM6: &str = "2001:db8:6::/120";

/// Configurations the fuzz properties run against.
fn fuzz_config(which: u8) -> Config {
    match which % 3 {
        0 => {
            let mut c = Config::with_pool6("2001:db8:64::/96".parse().unwrap());
            c.own_ipv4 = Some(v4("192.0.2.1"));
            c.own_ipv6 = Some(v6("2001:db8:ffff::1"));
            c.rfc6791v4_prefix = Some("203.0.113.0/28".parse().unwrap());
            c.eamt.add(EAM4.parse().unwrap(), EAM6.parse().unwrap(), false).unwrap();
            c.amend_udp_checksum_zero = true;
            c
        }
        1 => {
            let mut c = Config::with_pool6("64:ff9b::/96".parse().unwrap());
            c.eamt.add(EAM4.parse().unwrap(), EAM6.parse().unwrap(), false).unwrap();
            c.eam_hairpin_mode = HairpinMode::Simple;
            c.rfc6791v6_prefix = Some("2001:db8:eeee::/120".parse().unwrap());
            c
        }
        _ => {
            let mut c = Config::with_pool6("2001:db8:64::/96".parse().unwrap());
            c.own_ipv4 = Some(v4("192.0.2.1"));
            c.own_ipv6 = Some(v6("2001:db8:ffff::1"));
            c.mtu4 = 576;
            c.mtu6 = 1280;
            c.zeroize_traffic_class = true;
            c.override_tos = Some(0x20);
            c
        }
    }
}

/// Runs one input and checks the invariants every verdict must keep.
fn fuzz_one(t: &mut Translator, input: &[u8], out: &mut [u8]) {
    let before = counted(t.counters());
    let v = t.translate(input, out);
    assert_eq!(counted(t.counters()), before + 1, "one counter per verdict: {v:?}");
    match v {
        Verdict::Translated(e) => {
            assert!(e.count >= 1 && e.total_len() <= out.len());
            let (mtu4, mtu6) = (t.config().mtu4 as usize, t.config().mtu6 as usize);
            let pkts = emitted(&e, out);
            for p in pkts {
                check_any_output(p, e.direction.output_is_v6());
                match e.direction {
                    Direction::SixToFour => assert!(p.len() <= mtu4, "{} > mtu4 {mtu4}", p.len()),
                    Direction::FourToSix | Direction::SixToSix => {
                        assert!(p.len() <= mtu6, "{} > mtu6 {mtu6}", p.len())
                    }
                }
            }
        }
        Verdict::IcmpError { len, .. } => {
            let len = len as usize;
            let p = &out[..len];
            let is_v6 = input[0] >> 4 == 6;
            check_any_output(p, is_v6);
            let sliced = etherparse::SlicedPacket::from_ip(p).unwrap_or_else(|e| panic!("{e:?}\n{p:02x?}"));
            if is_v6 {
                assert!(len <= 1280, "ICMPv6 error of {len} bytes");
                assert_eq!(p[6], ICMPV6);
                assert_eq!(&p[24..40], &input[8..24], "the error goes back to the sender");
                assert!(matches!(sliced.transport, Some(etherparse::TransportSlice::Icmpv6(_))));
                let (s, d) = (
                    Ipv6Addr::from(<[u8; 16]>::try_from(&p[8..24]).unwrap()),
                    Ipv6Addr::from(<[u8; 16]>::try_from(&p[24..40]).unwrap()),
                );
                assert!(l4_checksum_ok(Ips::V6(s, d), ICMPV6, &p[40..]));
                assert!(p[40] < 128, "an error message");
            } else {
                assert!(len <= 576, "ICMPv4 error of {len} bytes");
                assert_eq!(p[9], ICMP);
                assert_eq!(&p[16..20], &input[12..16], "the error goes back to the sender");
                assert!(matches!(sliced.transport, Some(etherparse::TransportSlice::Icmpv4(_))));
                assert!(checksum_ok(&[&p[20..]]));
                assert!(matches!(p[20], 3 | 11 | 12));
            }
        }
        Verdict::Dropped(_) | Verdict::NotOurs(_) => {}
        Verdict::Held(_) => panic!("the stateless translator never holds a packet"),
    }
}

/// Valid packets of every kind the translator handles, for mutation.
fn arb_valid_packet() -> impl Strategy<Value = Vec<u8>> {
    let pool = Pool::new("2001:db8:64::", 96);
    prop_oneof![
        arb_flow(300).prop_map(|f| f.v4_packet()),
        arb_flow(300).prop_map(move |f| f.v6_packet(pool)),
        // Big enough to be fragmented (4->6, DF clear) or to hit the MTUs.
        arb_flow(1400).prop_map(|mut f| {
            f.df = false;
            f.v4_packet()
        }),
        (arb_flow(1200), proptest::collection::vec(0u8..6, 0..4)).prop_map(move |(f, kinds)| {
            let exts: Vec<Ext> = kinds
                .iter()
                .map(|k| match k {
                    0 => Ext::HopByHop(1),
                    1 => Ext::DstOpts(0),
                    2 => Ext::Routing(0),
                    3 => Ext::Routing(2),
                    4 => Ext::Fragment {
                        offset: 0,
                        mf: true,
                        id: 0xdead_beef,
                    },
                    _ => Ext::Fragment {
                        offset: 5,
                        mf: false,
                        id: 7,
                    },
                })
                .collect();
            V6 {
                hop: f.hop,
                ..V6::new(f.src6(pool), f.dst6(pool))
            }
            .build_ext(&exts, f.proto6(), &f.l4_v6(pool))
        }),
        // ICMPv4 errors about a packet the IPv6 side sent.
        (
            arb_flow(200),
            arb_mappable_v4(),
            0u8..20,
            0u8..16,
            any::<[u8; 4]>(),
            0usize..400
        )
            .prop_map(|(f, router, ty, code, rest, cut)| {
                let q = f.v4_packet();
                let q = &q[..cut.min(q.len())];
                let m = icmp4(ty, code, rest, q);
                V4::new(router, f.src, ICMP).build(&m)
            }),
        // ICMPv6 errors about a packet the IPv4 side sent.
        (
            arb_flow(200),
            any::<bool>(),
            0u8..6,
            0u8..8,
            any::<[u8; 4]>(),
            0usize..400
        )
            .prop_map(move |(f, from_pool, ty, code, rest, cut)| {
                let router = if from_pool { f.dst6(pool) } else { v6("2001:db8:1::1") };
                let q = f.v6_packet(pool);
                let q = &q[..cut.min(q.len())];
                let m = icmp6(router, f.src6(pool), ty, code, rest, q);
                V6::new(router, f.src6(pool)).build(ICMPV6, &m)
            }),
        // Hairpinning candidates: EAM source, pool6 destination inside the EAM.
        (arb_flow(300), any::<u8>(), any::<u8>()).prop_map(move |(mut f, a, b)| {
            f.src = Ipv4Addr::new(198, 51, 100, a);
            f.dst = Ipv4Addr::new(198, 51, 100, b);
            let s = v6(&format!("2001:db8:6::{a:x}"));
            let d = pool.embed(f.dst);
            let l4 = match f.l4 {
                L4::Tcp => tcp(Ips::V6(s, d), f.sport, f.dport, f.seq, &f.payload),
                L4::Udp => udp(Ips::V6(s, d), f.sport, f.dport, &f.payload),
                L4::Echo(r) => icmp6_echo(s, d, r, f.sport, f.dport, &f.payload),
            };
            V6 {
                hop: f.hop,
                ..V6::new(s, d)
            }
            .build(f.proto6(), &l4)
        }),
    ]
}

/// Makes the length fields (and the IPv4 checksum) agree with the bytes, so
/// mutations reach past the first sanity checks.
fn fix_lengths(p: &mut [u8]) {
    match p.first().map(|b| b >> 4) {
        Some(4) if p.len() >= 20 => {
            let hl = usize::from(p[0] & 0xf) * 4;
            let n = p.len() as u16;
            p[2..4].copy_from_slice(&n.to_be_bytes());
            if (20..=p.len()).contains(&hl) {
                fix_v4_checksum(p);
            }
        }
        Some(6) if p.len() >= 40 => {
            let pl = (p.len() - 40) as u16;
            p[4..6].copy_from_slice(&pl.to_be_bytes());
        }
        _ => {}
    }
}

proptest! {
    #![proptest_config(cases(256))]

    /// Arbitrary bytes always get a verdict and never a panic.
    #[test]
    fn random_bytes_never_panic(
        bytes in proptest::collection::vec(any::<u8>(), 0..2000),
        version in prop_oneof![Just(None), Just(Some(0x45u8)), Just(Some(0x60u8)), Just(Some(0x4fu8))],
        fix in any::<bool>(),
        which in any::<u8>(),
    ) {
        let mut t = Translator::new(fuzz_config(which)).unwrap();
        let mut out = vec![0u8; OUT_LEN];
        let mut b = bytes;
        if let (Some(ver), Some(first)) = (version, b.first_mut()) {
            *first = ver;
        }
        if fix {
            fix_lengths(&mut b);
        }
        fuzz_one(&mut t, &b, &mut out);
    }

    /// Bit flips in valid packets (with and without repaired length fields
    /// and IPv4 checksum) never panic, and what is emitted parses.
    #[test]
    fn mutated_packets_never_panic(
        pkt in arb_valid_packet(),
        flips in proptest::collection::vec((any::<proptest::sample::Index>(), 1u8..=255), 0..6),
        fix in any::<bool>(),
        which in any::<u8>(),
    ) {
        let mut t = Translator::new(fuzz_config(which)).unwrap();
        let mut out = vec![0u8; OUT_LEN];
        // The unmutated packet first: valid input, checked outputs.
        fuzz_one(&mut t, &pkt, &mut out);
        let mut b = pkt;
        for (i, x) in flips {
            let at = i.index(b.len());
            b[at] ^= x;
        }
        if fix {
            fix_lengths(&mut b);
        }
        fuzz_one(&mut t, &b, &mut out);
    }
}

proptest! {
    #![proptest_config(cases(48))]

    /// Truncation at every length, with the length fields as sent and as
    /// repaired, under every fuzz configuration.
    #[test]
    fn truncated_packets_never_panic(pkt in arb_valid_packet()) {
        let mut out = vec![0u8; OUT_LEN];
        for which in 0..3 {
            let mut t = Translator::new(fuzz_config(which)).unwrap();
            for n in 0..=pkt.len() {
                fuzz_one(&mut t, &pkt[..n], &mut out);
                let mut b = pkt[..n].to_vec();
                fix_lengths(&mut b);
                fuzz_one(&mut t, &b, &mut out);
            }
        }
    }

    /// The output buffer may be any size: too small gives a verdict
    /// (OutputTooSmall or another), never a panic or an overrun.
    #[test]
    fn small_output_buffers_never_panic(pkt in arb_valid_packet(), len in 0usize..1600, which in any::<u8>()) {
        let mut t = Translator::new(fuzz_config(which)).unwrap();
        let mut out = vec![0u8; len];
        let v = t.translate(&pkt, &mut out);
        match v {
            Verdict::Translated(e) => {
                prop_assert!(e.total_len() <= len);
                for p in e.packets(&out) {
                    check_any_output(p, e.direction.output_is_v6());
                }
            }
            Verdict::IcmpError { len: l, .. } => prop_assert!(l as usize <= len),
            _ => {}
        }
    }
}

/// Guards the fuzz properties against being vacuous: the valid-packet
/// corpus they mutate reaches every kind of verdict under the fuzz
/// configurations.
#[test]
fn fuzz_corpus_reaches_every_verdict() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = arb_valid_packet();
    let mut out = vec![0u8; OUT_LEN];
    let mut totals = Counters::default();
    for which in 0..3 {
        let mut t = Translator::new(fuzz_config(which)).unwrap();
        for _ in 0..600 {
            let pkt = strategy.new_tree(&mut runner).unwrap().current();
            fuzz_one(&mut t, &pkt, &mut out);
        }
        let c = t.counters();
        totals.translated_6to4 += c.translated_6to4;
        totals.translated_4to6 += c.translated_4to6;
        totals.hairpinned += c.hairpinned;
        totals.fragments_emitted += c.fragments_emitted;
        totals.icmp_errors_generated += c.icmp_errors_generated;
        for (r, n) in c.drop_reasons() {
            totals.dropped[DropReason::ALL.iter().position(|&x| x == r).unwrap()] += n;
        }
    }
    assert!(totals.translated_6to4 > 0);
    assert!(totals.translated_4to6 > 0);
    assert!(totals.hairpinned > 0);
    assert!(totals.fragments_emitted > 0);
    assert!(totals.icmp_errors_generated > 0);
    assert!(totals.dropped.iter().filter(|&&n| n > 0).count() >= 5);
}
