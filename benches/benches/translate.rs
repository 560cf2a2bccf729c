//! `Translator::translate` against a plain copy of the same packet.
//!
//! One criterion group per packet (see `nat64_benches::cases`), each with two
//! functions measured in the same run:
//!
//! - `copy`: `out[..len].copy_from_slice(&pkt)` into the same output buffer,
//!   the floor any translator that writes into a separate buffer pays;
//! - `translate`: `Translator::translate(&pkt, &mut out)`.
//!
//! Absolute times depend on the machine and its load; read every figure as
//! the ratio `translate / copy` of its own group (target: at most 5x for the
//! 64-byte-payload TCP packets). See benches/README.md.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use nat64_benches::{cases, output_buffer, translator};
use nat64_core::Verdict;

fn translate(c: &mut Criterion) {
    let mut t = translator();
    let mut out = output_buffer();
    for case in cases() {
        // Never measure a drop path (the unit tests check this in detail).
        match t.translate(&case.packet, &mut out) {
            Verdict::Translated(e) if e.direction == case.direction && e.count == 1 => {}
            other => panic!("{}: not translated: {other:?}", case.name),
        }
        let pkt = case.packet.as_slice();
        let mut g = c.benchmark_group(&case.name);
        g.throughput(Throughput::Elements(1));
        g.bench_function("copy", |b| {
            b.iter(|| {
                // The length comes through black_box too, so the copy cannot
                // be specialised for a constant size.
                let p = black_box(pkt);
                let o = black_box(&mut out[..]);
                o[..p.len()].copy_from_slice(p);
            })
        });
        g.bench_function("translate", |b| {
            b.iter(|| t.translate(black_box(pkt), black_box(&mut out[..])))
        });
        g.finish();
    }
}

criterion_group!(benches, translate);
criterion_main!(benches);
