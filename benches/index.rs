//! Kernels of the block reader: CRC32C (Castagnoli) throughput and
//! series-entry decoding (length, CRC, labels, chunk metas) over the real
//! 500-series index in testdata.

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_main};
use promsnap::format::decode::crc32c;
use promsnap::format::index::{IndexReader, SeriesEntry};

fn bench(c: &mut Criterion) {
    let buf: Vec<u8> = (0..(1u32 << 20))
        .map(|i| (i * 2_654_435_761) as u8)
        .collect();
    let mut g = c.benchmark_group("crc32c");
    g.throughput(Throughput::Bytes(buf.len() as u64));
    g.bench_function("1MiB", |b| b.iter(|| crc32c(black_box(&buf))));
    g.finish();

    let index = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("testdata/backfill-small/blocks/01M88Z547SWC2057Y39068VCCB/index"),
    )
    .unwrap();
    let r = IndexReader::open(&index).unwrap();
    let mut n = 0u64;
    let mut e = SeriesEntry::default();
    let mut it = r.series();
    while let Some(x) = it.next_into(&mut e) {
        x.unwrap();
        n += 1;
    }
    let mut g = c.benchmark_group("series_entries");
    g.throughput(Throughput::Elements(n));
    g.bench_function("decode_all", |b| {
        b.iter(|| {
            let mut it = r.series();
            let mut e = SeriesEntry::default();
            let mut chunks = 0usize;
            while let Some(x) = it.next_into(&mut e) {
                x.unwrap();
                chunks += e.chunks.len();
            }
            black_box(chunks)
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
