//! The Rust side of `benches/bindings.sh`: prints the benchmark packet (hex)
//! for the bindings to load, then the per-packet cost of the same operations
//! in Rust, measured the way every binding measures them (best of 7 runs of a
//! timed loop, after a warm-up):
//!
//! - `single`: `Translator::translate(&pkt, &mut out)`, one packet per call;
//! - `batch`: 1000 packets translated back to back into one buffer, as the
//!   bindings' batch calls do.
//!
//! `cargo run --release -p nat64-benches --example bindings_baseline [PAYLOAD]`
use std::hint::black_box;
use std::time::Instant;

use nat64_benches::{translator, udp_v6};
use nat64_core::Verdict;

const N: usize = 200_000;
const BATCH: usize = 1000;

fn best(mut f: impl FnMut() -> f64) -> f64 {
    f();
    (0..7).map(|_| f()).fold(f64::INFINITY, f64::min)
}

fn main() {
    let payload = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(64);
    let pkt = udp_v6(payload);
    println!("packet {}", pkt.iter().map(|b| format!("{b:02x}")).collect::<String>());
    let mut t = translator();
    let mut out = vec![0u8; nat64_core::OUTPUT_BUFFER_LEN];
    assert!(matches!(t.translate(&pkt, &mut out), Verdict::Translated(_)));
    let single = best(|| {
        let start = Instant::now();
        for _ in 0..N {
            let _ = black_box(t.translate(black_box(&pkt), &mut out));
        }
        start.elapsed().as_nanos() as f64 / N as f64
    });
    println!("rust single {single:.1}");
    let batch: Vec<&[u8]> = vec![&pkt; BATCH];
    let mut big = vec![0u8; BATCH * (pkt.len() * 2 + 1024)];
    let rounds = N / BATCH;
    let per = best(|| {
        let start = Instant::now();
        for _ in 0..rounds {
            let mut at = 0;
            for p in &batch {
                if let Verdict::Translated(e) = t.translate(black_box(p), &mut big[at..]) {
                    at += e.total_len();
                }
            }
            black_box(at);
        }
        start.elapsed().as_nanos() as f64 / (rounds * BATCH) as f64
    });
    println!("rust batch {per:.1}");
}
