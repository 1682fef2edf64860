//! Chunk decoding speed over real chunks: XOR (the `XorIter` fast path and
//! the generic `samples` iterator) and native histograms.
//!
//! Input: every chunk of the block chunk files under `$CHUNKENC_FIXTURES`
//! (default `../shared/fixtures`, an optional data set outside the
//! repository) when present, else the 13 chunks of
//! `testdata/chunkenc/chunks.bin`. Throughput is reported per sample, so
//! criterion's "time per element" is the ns/sample figure.

use std::hint::black_box;
use std::path::{Path, PathBuf};

use criterion::{Criterion, Throughput, criterion_main};
use promsnap::format::chunkenc::{Encoding, Value, XorIter, num_samples, samples};
use promsnap::format::decode::Decoder;

/// (encoding, data) of every chunk record in `bytes` from offset `start`.
fn records(bytes: &[u8], start: usize) -> Vec<(Encoding, Vec<u8>)> {
    let mut out = Vec::new();
    let mut d = Decoder::new(bytes.get(start..).unwrap_or(&[]), start as u64);
    while let Ok(len) = d.uvarint() {
        if len == 0 {
            break;
        }
        let enc = d.u8().unwrap();
        let data = d.bytes(len as usize).unwrap();
        d.be_u32().unwrap();
        out.push((Encoding::from_u8(enc).unwrap(), data.to_vec()));
    }
    out
}

fn load() -> (Vec<(Encoding, Vec<u8>)>, &'static str) {
    // A real chunk segment, e.g. one of the bench blocks (random values:
    // the decoder's hard case; the fixtures' self-scrapes are mostly constant).
    if let Ok(seg) = std::env::var("CHUNKENC_SEGMENT") {
        let file = std::fs::read(&seg).unwrap();
        let mut chunks = records(&file, 8);
        chunks.truncate(200_000);
        return (chunks, "segment");
    }
    let root = std::env::var("CHUNKENC_FIXTURES").map_or_else(
        |_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures"),
        PathBuf::from,
    );
    let mut chunks = Vec::new();
    for set in [
        "prom-2.42-nativehist/data",
        "prom-2.42-live/data",
        "backfill-small/blocks",
    ] {
        let Ok(dir) = std::fs::read_dir(root.join(set)) else {
            continue;
        };
        for block in dir {
            if let Ok(file) = std::fs::read(block.unwrap().path().join("chunks/000001")) {
                chunks.extend(records(&file, 8));
            }
        }
    }
    if !chunks.is_empty() {
        return (chunks, "fixtures");
    }
    let bin =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/chunkenc/chunks.bin"))
            .unwrap();
    (records(&bin, 0), "testdata")
}

fn total_samples(chunks: &[(Encoding, Vec<u8>)]) -> u64 {
    chunks
        .iter()
        .map(|(e, d)| u64::from(num_samples(*e, d, 0).unwrap()))
        .sum()
}

fn bench(c: &mut Criterion) {
    let (all, source) = load();
    let pick = |f: fn(Encoding) -> bool| -> Vec<(Encoding, Vec<u8>)> {
        all.iter().filter(|(e, _)| f(*e)).cloned().collect()
    };
    let xor = pick(|e| e == Encoding::Xor);
    let hist = pick(|e| e == Encoding::Histogram);
    let fhist = pick(|e| e == Encoding::FloatHistogram);

    let mut g = c.benchmark_group(format!("chunkenc/{source}"));
    g.throughput(Throughput::Elements(total_samples(&xor)));
    g.bench_function("xor_iter", |b| {
        b.iter(|| {
            let mut acc = 0u64;
            for (_, d) in &xor {
                for s in XorIter::new(black_box(d), 0).unwrap() {
                    let (t, v) = s.unwrap();
                    acc = acc.wrapping_add(t as u64 ^ v.to_bits());
                }
            }
            acc
        })
    });
    g.bench_function("xor_scan_times", |b| {
        b.iter(|| {
            let mut acc = 0u64;
            for (_, d) in &xor {
                let (scan, err) = XorIter::new(black_box(d), 0).unwrap().scan_times();
                assert!(err.is_none());
                acc = acc.wrapping_add(scan.count ^ scan.last.unwrap_or(0) as u64);
            }
            acc
        })
    });
    g.bench_function("xor_samples", |b| {
        b.iter(|| {
            let mut acc = 0u64;
            for (e, d) in &xor {
                for s in samples(*e, black_box(d), 0).unwrap() {
                    let s = s.unwrap();
                    if let Value::Float(v) = s.value {
                        acc = acc.wrapping_add(s.t as u64 ^ v.to_bits());
                    }
                }
            }
            acc
        })
    });
    for (name, set) in [("histogram", &hist), ("float_histogram", &fhist)] {
        g.throughput(Throughput::Elements(total_samples(set)));
        g.bench_function(name, |b| {
            b.iter(|| {
                let mut n = 0usize;
                for (e, d) in set {
                    for s in samples(*e, black_box(d), 0).unwrap() {
                        n += usize::from(s.unwrap().t != 0);
                    }
                }
                n
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
