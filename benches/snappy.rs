//! Snappy decoders side by side on the records of a real snappy WAL: `snap`
//! (the crate promsnap used before) and promsnap's own safe decoder
//! (`format::wal::snappy`), each decompressing every record into one reused
//! buffer. Throughput is per compressed (on-disk) byte.
//!
//! Input: `PROMSNAP_BENCH_WAL_SNAPPY` (a segment), else
//! `bench/data/wal-snappy/storage/wal/00000000` (made by
//! `bench/make-bench-data.sh bench/data walsnappy`: the real Prometheus
//! server with WAL compression on), else the snappy segments in testdata.

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{Criterion, Throughput, criterion_main};
use promsnap::format::wal::{Compression, FragmentReader, FragmentType, snappy};

fn input() -> (String, Vec<u8>) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let candidates = [
        std::env::var_os("PROMSNAP_BENCH_WAL_SNAPPY").map(PathBuf::from),
        Some(root.join("bench/data/wal-snappy/storage/wal/00000000")),
    ];
    for p in candidates.into_iter().flatten() {
        if let Ok(b) = std::fs::read(&p) {
            return (p.display().to_string(), b);
        }
    }
    let mut all = Vec::new();
    for s in ["00000004", "00000005", "00000006"] {
        all.extend(
            std::fs::read(root.join("testdata/wal/nativehist/wal").join(s)).unwrap_or_default(),
        );
    }
    ("testdata/wal/nativehist/wal".into(), all)
}

/// The stored (compressed) bytes of every snappy record of `seg`.
fn snappy_records(seg: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut cur = Vec::new();
    for f in FragmentReader::new(seg).map_while(Result::ok) {
        if matches!(f.kind, FragmentType::Full | FragmentType::First) {
            cur.clear();
        }
        cur.extend_from_slice(f.data);
        if matches!(f.kind, FragmentType::Full | FragmentType::Last)
            && f.compression == Compression::Snappy
            && !cur.is_empty()
        {
            out.push(cur.clone());
        }
    }
    out
}

fn bench(c: &mut Criterion) {
    let (name, seg) = input();
    let recs = snappy_records(&seg);
    let stored: usize = recs.iter().map(Vec::len).sum();
    let decoded: usize = recs
        .iter()
        .map(|r| snap::raw::decompress_len(r).unwrap_or(0))
        .sum();
    eprintln!(
        "snappy input: {name}: {} snappy records, {stored} bytes stored, {decoded} decoded",
        recs.len()
    );
    let mut g = c.benchmark_group("snappy decode (WAL records)");
    g.throughput(Throughput::Bytes(stored as u64));
    g.sample_size(10);
    let mut out = Vec::new();
    g.bench_function("snap::raw::Decoder", |b| {
        let mut dec = snap::raw::Decoder::new();
        b.iter(|| {
            let mut n = 0;
            for r in &recs {
                let len = snap::raw::decompress_len(r).unwrap_or(0);
                if out.len() < len {
                    out.resize(len, 0);
                }
                n += dec.decompress(black_box(r), &mut out[..len]).unwrap_or(0);
            }
            n
        })
    });
    g.bench_function("promsnap snappy::decompress_into", |b| {
        b.iter(|| {
            let mut n = 0;
            for r in &recs {
                n += snappy::decompress_into(black_box(r), &mut out, usize::MAX).unwrap_or(0);
            }
            n
        })
    });
    g.finish();
}

// In a private module: the group function criterion generates has no doc
// (the crate denies missing_docs, Cargo.toml's [lints]).
mod group {
    criterion::criterion_group!(benches, super::bench);
}
criterion_main!(group::benches);
