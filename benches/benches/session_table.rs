//! The default stateful NAT64 session table (`DefaultTable`).
//!
//! Every session has its own BIB entry (one client source port per flow, the
//! common case and the worst for memory). Keys are computed from an index,
//! so a lookup reads no key array:
//!
//! - `lookup/<n>/find_v6_hot`: the same session again and again;
//! - `lookup/<n>/find_v6_random`, `find_v4_random`: uniformly random among
//!   the `n` sessions (iterations are independent, so the CPU overlaps the
//!   cache misses of consecutive lookups, as it does for a packet burst);
//! - `lookup/<n>/packet_path_random`: what the engine does for a packet of a
//!   known flow: `bib_by_v6`, `find_v6`, `get`, `update` (refresh);
//! - `insert/<n>/add_bib+insert`: `n` new flows into a table sized for them,
//!   as the engine creates them (`add_bib` then `insert`); `insert`: the
//!   same with `insert` creating the BIB entry; `grown`: `add_bib` then
//!   `insert` from an empty table, including the growth steps.
//!
//! Before the groups it prints the heap per session at 1M sessions, both
//! from the table's own arithmetic (`heap_bytes`) and from the process's
//! resident memory. Targets (issue): <= 150 ns per lookup at 1M random for the
//! whole packet path, >= 5 million inserts/s, <= 128 bytes per session.

use std::hint::black_box;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant as Clock};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use nat64_core::nat64::default_table::{DefaultTable, TableLimits};
use nat64_core::nat64::table::{Bib, Instant, Proto, Session, SessionTable, Taddr4, Taddr6, TcpState};

/// Resident memory of this process (Linux /proc/self/statm), to check
/// `heap_bytes` independently without an allocator of our own.
fn resident() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse::<usize>().ok())
        .unwrap_or(0)
        * 4096
}

const SIZES: [usize; 3] = [1_000, 100_000, 1_000_000];
const UDP_TIMEOUT: u64 = 300;

/// Session `i`: its own client transport address and pool4 transport
/// address (so its own BIB entry), one of 256 remote servers.
fn key(i: u32) -> (Taddr6, Taddr4, Taddr4) {
    let v6 = Taddr6 {
        addr: Ipv6Addr::from_bits((0x2001_0db8_u128 << 96) | u128::from(i >> 4)),
        port: 1024 + (i & 15) as u16,
    };
    let v4 = Taddr4 {
        addr: Ipv4Addr::from_bits(0xC000_0200 | (i >> 16)),
        port: i as u16,
    };
    let h = i.wrapping_mul(0x9E37_79B9);
    let remote = Taddr4 {
        addr: Ipv4Addr::from_bits(0xCB00_7100 | (h >> 24)),
        port: 443,
    };
    (v6, v4, remote)
}

fn session(i: u32) -> Session {
    let (v6, v4, remote) = key(i);
    Session {
        proto: Proto::Udp,
        v6,
        v4,
        remote,
        state: TcpState::None,
        // Flows arrive in time order: 1 us apart.
        expires: Instant::from_micros(UDP_TIMEOUT * 1_000_000 + u64::from(i)),
    }
}

fn limits() -> TableLimits {
    TableLimits {
        max_sessions: 1 << 21,
        ..TableLimits::default()
    }
}

/// What the engine does for a new flow.
fn new_flow(t: &mut DefaultTable, i: u32) {
    let s = session(i);
    t.add_bib(Bib {
        proto: s.proto,
        v6: s.v6,
        v4: s.v4,
        is_static: false,
    })
    .unwrap();
    t.insert(s).unwrap();
}

fn filled(n: usize, sized: bool) -> DefaultTable {
    let mut t = if sized {
        DefaultTable::with_capacity(limits(), n)
    } else {
        DefaultTable::new(limits())
    };
    for i in 0..n as u32 {
        new_flow(&mut t, i);
    }
    // Clears the table's list of dynamic BIB entries added without a session.
    t.expire(Instant::from_secs(1));
    assert_eq!(t.session_count(), n);
    t
}

/// xorshift64*, scaled to `0..n` by multiply-shift.
struct Rng(u64);
impl Rng {
    #[inline(always)]
    fn below(&mut self, n: u32) -> u32 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let x = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D);
        (((x >> 32) * u64::from(n)) >> 32) as u32
    }
}

fn memory() {
    let n = 1_000_000;
    for (label, sized) in [("with_capacity(1M)", true), ("grown from empty", false)] {
        let before = resident();
        let t = filled(n, sized);
        let counted = resident().saturating_sub(before);
        println!(
            "session_table memory, {n} sessions with one BIB entry each, {label}: {:.1} bytes/session (heap_bytes), {:.1} bytes/session (resident memory)",
            t.heap_bytes() as f64 / n as f64,
            counted as f64 / n as f64
        );
        drop(t);
    }
}

fn lookup(c: &mut Criterion) {
    memory();
    for n in SIZES {
        let mut t = filled(n, true);
        let nn = n as u32;
        let mut g = c.benchmark_group(format!("lookup/{n}"));
        g.throughput(Throughput::Elements(1));
        g.bench_function("find_v6_hot", |b| {
            let (v6, _, remote) = key(nn / 2);
            b.iter(|| {
                let h = t.find_v6(Proto::Udp, black_box(v6), black_box(remote)).unwrap();
                t.get(h).expires
            })
        });
        g.bench_function("find_v6_random", |b| {
            let mut rng = Rng(0x1234_5678_9abc_def1);
            b.iter(|| {
                let (v6, _, remote) = key(rng.below(nn));
                let h = t.find_v6(Proto::Udp, v6, remote).unwrap();
                t.get(h).expires
            })
        });
        g.bench_function("find_v4_random", |b| {
            let mut rng = Rng(0x2345_6789_abcd_ef12);
            b.iter(|| {
                let (_, v4, remote) = key(rng.below(nn));
                let h = t.find_v4(Proto::Udp, v4, remote).unwrap();
                t.get(h).expires
            })
        });
        g.bench_function("has_session_with_random", |b| {
            let mut rng = Rng(0x3456_789a_bcde_f123);
            b.iter(|| {
                let (_, v4, remote) = key(rng.below(nn));
                t.has_session_with(Proto::Udp, v4, remote.addr)
            })
        });
        // Refreshes move forward in time, as the engine's do, across all the
        // samples (criterion calls the closure below once per sample).
        let mut now = Instant::from_secs(10);
        g.bench_function("packet_path_random", |b| {
            let mut rng = Rng(0x4567_89ab_cdef_1234);
            b.iter(|| {
                let (v6, _, remote) = key(rng.below(nn));
                let bib = t.bib_by_v6(Proto::Udp, v6).unwrap();
                let h = t.find_v6(Proto::Udp, v6, remote).unwrap();
                let s = t.get(h);
                now = Instant(now.0 + 1);
                t.update(h, s.state, now.add(Duration::from_secs(UDP_TIMEOUT)));
                bib.v4.port
            })
        });
        g.finish();
    }
}

fn insert(c: &mut Criterion) {
    for n in SIZES {
        let mut g = c.benchmark_group(format!("insert/{n}"));
        g.throughput(Throughput::Elements(n as u64));
        g.sample_size(10);
        for (label, sized, add_bib) in [
            ("add_bib+insert", true, true),
            ("insert", true, false),
            ("add_bib+insert grown", false, true),
        ] {
            g.bench_function(BenchmarkId::from_parameter(label), |b| {
                b.iter_custom(|iters| {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        let mut t = if sized {
                            DefaultTable::with_capacity(limits(), n)
                        } else {
                            DefaultTable::new(limits())
                        };
                        let start = Clock::now();
                        if add_bib {
                            for i in 0..n as u32 {
                                new_flow(&mut t, i);
                            }
                        } else {
                            for i in 0..n as u32 {
                                t.insert(session(i)).unwrap();
                            }
                        }
                        total += start.elapsed();
                        black_box(t.session_count());
                    }
                    total
                })
            });
        }
        g.finish();
    }
}

criterion_group!(benches, lookup, insert);
criterion_main!(benches);
