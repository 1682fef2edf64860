//! Go's `%g` (what `dump` prints for every float sample): integer-valued
//! counters and gauges like bench-100k's, and random doubles (the hard case
//! for shortest round-trip digits). Per value, so "time per element" is the
//! ns/value figure.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_main};
use promsnap::format::chunkenc::go_format_g;

fn values() -> Vec<(&'static str, Vec<f64>)> {
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let counters: Vec<f64> = (0..100_000).map(|_| (next() % 5_000_000) as f64).collect();
    let random: Vec<f64> = (0..100_000)
        .map(|_| f64::from_bits(next() >> 2 | 0x3000_0000_0000_0000))
        .collect();
    let decimals: Vec<f64> = (0..100_000)
        .map(|_| (next() % 100_000_000) as f64 / 1000.0)
        .collect();
    vec![
        ("integers", counters),
        ("decimals (3 places)", decimals),
        ("random doubles", random),
    ]
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("gofmt %g");
    for (name, vals) in values() {
        g.throughput(Throughput::Elements(vals.len() as u64));
        let mut out = String::with_capacity(vals.len() * 24);
        g.bench_function(name, |b| {
            b.iter(|| {
                out.clear();
                for &v in &vals {
                    go_format_g(black_box(v), &mut out);
                    out.push(' ');
                }
                out.len()
            })
        });
    }
    g.finish();
}

// In a private module: the group function criterion generates has no doc
// (the crate denies missing_docs, Cargo.toml's [lints]).
mod group {
    criterion::criterion_group!(benches, super::bench);
}
criterion_main!(group::benches);
