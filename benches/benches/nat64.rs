//! The stateful NAT64's whole packet path (RFC 6146), per packet:
//!
//! - `established/{1k,100k,1m}/{hot,random}`: a 64-byte UDP payload from an
//!   IPv6 client whose session exists, translated 6->4, with the table
//!   holding that many sessions; `hot` repeats one session, `random` picks a
//!   uniformly random one each time (cache-missing, as real traffic does).
//! - `new_session`: a packet from a new client port: BIB entry, RFC 6056 port
//!   choice, session insert and translation, per new session.
//! - `copy`: the copy baseline of the same packet, measured in the same run.
//!
//! The process's resident memory is read before and after each population,
//! and the bytes per session (table, BIB and indexes included) printed.
//! Targets (issue 3): <= 150 ns per packet at 1M random, >= 5 M new
//! sessions/s, <= 128 bytes per session.

use std::hint::black_box;
use std::net::Ipv6Addr;
use std::time::{Duration, Instant as StdInstant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use nat64_benches::{ipv6_packet, payload, udp_datagram};
use nat64_core::nat64::{Instant, Nat64, Nat64Config, Pool4Entry, TableLimits};
use nat64_core::{Verdict, OUTPUT_BUFFER_LEN};

/// Resident memory of this process, from /proc/self/statm (Linux), in
/// bytes: the memory a population of sessions really touches.
fn resident() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

const NOW: Instant = Instant::from_secs(1_000);

fn nat64(max_sessions: usize) -> Nat64 {
    let mut e = Pool4Entry::new("203.0.113.0/24".parse().unwrap());
    e.first_port = 1024;
    e.last_port = 65535;
    let mut cfg = Nat64Config::new("2001:db8:64::/96".parse().unwrap(), vec![e]);
    cfg.limits = TableLimits {
        max_sessions,
        ..TableLimits::default()
    };
    Nat64::new(cfg).unwrap()
}

/// Client `i`: address 2001:db8:c::/96 + (i / 50000), port 10000 + i % 50000.
fn client(i: usize) -> (Ipv6Addr, u16) {
    let a = Ipv6Addr::from(0x2001_0db8_000c_0000_0000_0000_0000_0000u128 + (i / 50_000) as u128);
    (a, 10_000 + (i % 50_000) as u16)
}

fn packet(i: usize) -> Vec<u8> {
    let (a, port) = client(i);
    let dst: Ipv6Addr = "2001:db8:64::c633:6407".parse().unwrap();
    ipv6_packet(a, dst, 17, udp_datagram(port, 53, &payload(64)))
}

/// Rewrites a template packet for client `i` in place (source address and
/// port); checksums are not checked by the translator, so the packet stays
/// valid for the path measured.
fn retarget(p: &mut [u8], i: usize) {
    let (a, port) = client(i);
    p[8..24].copy_from_slice(&a.octets());
    p[40..42].copy_from_slice(&port.to_be_bytes());
}

fn populate(t: &mut Nat64, n: usize, out: &mut [u8]) {
    let mut p = packet(0);
    for i in 0..n {
        retarget(&mut p, i);
        let v = t.translate(&p, out, NOW);
        assert!(matches!(v, Verdict::Translated(_)), "session {i}: {v:?}");
    }
}

/// xorshift64*: cheap, deterministic random indexes.
struct Rng(u64);
impl Rng {
    fn next(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n as u64) as usize
    }
}

fn established(c: &mut Criterion) {
    let mut out = vec![0u8; OUTPUT_BUFFER_LEN];
    let mut g = c.benchmark_group("nat64_established");
    g.throughput(Throughput::Elements(1));
    let template = packet(0);
    g.bench_function("copy", |b| {
        b.iter(|| {
            out[..template.len()].copy_from_slice(black_box(&template));
            black_box(&out[0]);
        })
    });
    for (name, n) in [("1k", 1_000usize), ("100k", 100_000), ("1m", 1_000_000)] {
        let mut t = nat64(n + 1024);
        // Only what the sessions add: the translator's fixed buffers
        // (scratch, reassembly arena) are left out.
        let before = resident();
        populate(&mut t, n, &mut out);
        let bytes = resident().saturating_sub(before);
        eprintln!(
            "nat64 {name}: {} sessions, {} BIB entries, resident memory +{} bytes = {:.1} bytes per session (BIB and indexes included)",
            t.stats().sessions,
            t.stats().bib_entries,
            bytes,
            bytes as f64 / n as f64
        );
        let mut p = template.clone();
        retarget(&mut p, n / 2);
        g.bench_with_input(BenchmarkId::new(name, "hot"), &n, |b, _| {
            b.iter(|| black_box(t.translate(black_box(&p), &mut out, NOW)))
        });
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        g.bench_with_input(BenchmarkId::new(name, "random"), &n, |b, &n| {
            b.iter(|| {
                retarget(&mut p, rng.next(n));
                black_box(t.translate(black_box(&p), &mut out, NOW))
            })
        });
    }
    g.finish();
}

fn new_sessions(c: &mut Criterion) {
    let mut out = vec![0u8; OUTPUT_BUFFER_LEN];
    let mut g = c.benchmark_group("nat64_new_session");
    g.throughput(Throughput::Elements(1));
    g.bench_function("setup", |b| {
        b.iter_custom(|iters| {
            let n = iters as usize;
            let mut t = nat64(n + 1024);
            let mut p = packet(0);
            let start = StdInstant::now();
            for i in 0..n {
                retarget(&mut p, i);
                let _ = black_box(t.translate(&p, &mut out, NOW));
            }
            let d = start.elapsed();
            assert_eq!(t.stats().sessions, n);
            d
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = established, new_sessions
}
criterion_main!(benches);
