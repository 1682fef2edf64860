//! WAL read throughput: framing + CRC + decompression, then record decoding.
//!
//! Input: the segment named by `PROMSNAP_BENCH_WAL` (`bench/run.sh` names
//! the first segment of the snappy WAL the real server recorded,
//! `wal-snappy`), else the real 128 MiB segment
//! `bench/data/wal-12m/storage/wal/00000000` made by
//! `bench/make-bench-data.sh bench/data wal` (promtool 2.42
//! `tsdb bench write`), else the small segments in `testdata/wal/`.
//!
//! `cargo bench --bench wal`; throughput is per core (single-threaded).

use std::collections::HashSet;
use std::hint::black_box;
use std::path::PathBuf;

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, Throughput, criterion_main};
use promsnap::format::record::{self, RecordType};
use promsnap::format::wal::{Compression, FragmentReader, FragmentType, RecordReader};
use promsnap::walinfo::{scan_segment, scan_segment_file};

fn input() -> (String, Vec<u8>) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let candidates = [
        std::env::var_os("PROMSNAP_BENCH_WAL").map(PathBuf::from),
        Some(root.join("bench/data/wal-12m/storage/wal/00000000")),
    ];
    for p in candidates.into_iter().flatten() {
        if let Ok(b) = std::fs::read(&p) {
            return (p.display().to_string(), b);
        }
    }
    let mut all = Vec::new();
    for s in ["00000004", "00000005", "00000006"] {
        let p = root.join("testdata/wal/nativehist/wal").join(s);
        all.extend(std::fs::read(p).unwrap_or_default());
    }
    (
        "testdata/wal/nativehist/wal/0000000{4,5,6} (concatenated)".into(),
        all,
    )
}

/// Re-frames the records of `seg` as a snappy WAL (each record compressed
/// with `snap`, split into 32 KiB pages as Prometheus does), to measure a
/// snappy WAL made of real records when the input is uncompressed.
fn snappy_reframe(seg: &[u8]) -> Vec<u8> {
    const PAGE: usize = 32768;
    let mut out = Vec::with_capacity(seg.len());
    let mut enc = snap::raw::Encoder::new();
    let mut r = RecordReader::new(seg);
    while let Some(Ok(rec)) = r.next_record() {
        let c = enc.compress_vec(rec.data).unwrap_or_default();
        let (mut rest, flag) = if c.len() < rec.data.len() {
            (&c[..], 0x08u8)
        } else {
            (rec.data, 0)
        };
        let mut i = 0;
        loop {
            let left = PAGE - out.len() % PAGE;
            if left < 7 {
                out.resize(out.len() + left, 0);
                continue;
            }
            let (part, r2) = rest.split_at(rest.len().min(left - 7));
            let typ = match (i == 0, r2.is_empty()) {
                (true, true) => 1,
                (true, false) => 2,
                (false, true) => 4,
                (false, false) => 3,
            };
            out.push(typ | flag);
            out.extend_from_slice(&(part.len() as u16).to_be_bytes());
            out.extend_from_slice(&promsnap::format::decode::crc32c(part).to_be_bytes());
            out.extend_from_slice(part);
            rest = r2;
            i += 1;
            if rest.is_empty() {
                break;
            }
        }
    }
    out
}

/// The stored (compressed) bytes of each snappy record of `seg`, its
/// fragments joined: the decoder's input, for the kernel that times the
/// snappy decoder alone. Stops at the first damaged fragment.
fn snappy_records(seg: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut cur = Vec::new();
    for frag in FragmentReader::new(seg) {
        let Ok(f) = frag else { break };
        if f.compression != Compression::Snappy {
            continue;
        }
        if matches!(f.kind, FragmentType::Full | FragmentType::First) {
            cur.clear();
        }
        cur.extend_from_slice(f.data);
        if matches!(f.kind, FragmentType::Full | FragmentType::Last) {
            out.push(std::mem::take(&mut cur));
        }
    }
    out
}

/// Prints what the input holds; returns its number of snappy records.
fn describe(name: &str, seg: &[u8]) -> usize {
    let mut r = RecordReader::new(seg);
    let (mut decoded, mut snappy, mut samples) = (0usize, 0usize, 0usize);
    while let Some(Ok(rec)) = r.next_record() {
        decoded += rec.data.len();
        snappy += usize::from(rec.compression == promsnap::format::wal::Compression::Snappy);
        if let Ok((n, _)) = record::sample_time_range(rec.data, 0) {
            samples += n;
        }
    }
    eprintln!(
        "bench input: {name}: {} bytes on disk, {decoded} decoded ({:.2}x), {} records ({snappy} \
         snappy), {samples} float samples",
        seg.len(),
        decoded as f64 / seg.len().max(1) as f64,
        r.records()
    );
    snappy
}

fn bench(c: &mut Criterion) {
    let (name, raw) = input();
    let snappy = describe(&name, &raw);
    let mut inputs = vec![("", raw)];
    if snappy == 0 {
        let re = snappy_reframe(&inputs[0].1);
        describe("same records, snappy re-framed", &re);
        inputs.push(("snappy-reframed ", re));
    }
    for (prefix, seg) in &inputs {
        bench_one(c, prefix, seg);
    }
}

fn bench_one(c: &mut Criterion, prefix: &str, seg: &[u8]) {
    let mut g = c.benchmark_group(format!("wal {prefix}").trim_end().to_string());
    g.throughput(Throughput::Bytes(seg.len() as u64));
    g.sample_size(10);

    g.bench_function("records (framing+crc+decompress)", |b| {
        b.iter(|| {
            let mut r = RecordReader::new(black_box(seg));
            let mut n = 0usize;
            while let Some(rec) = r.next_record() {
                n += rec.map(|r| r.data.len()).unwrap_or(0);
            }
            n
        })
    });

    bench_framing(&mut g, seg);

    // The snappy decoder alone (`snap`, one reused decoder and output
    // buffer) on the same records: the share of the scan no framing or
    // record-decoding change can remove. Throughput is still per on-disk
    // byte of the whole segment.
    let stored = snappy_records(seg);
    if !stored.is_empty() {
        let mut dec = snap::raw::Decoder::new();
        let mut buf = Vec::new();
        g.bench_function("snappy decode alone (snap)", |b| {
            b.iter(|| {
                let mut n = 0usize;
                for r in &stored {
                    let len = snap::raw::decompress_len(r).unwrap_or(0);
                    if buf.len() < len {
                        buf.resize(len, 0);
                    }
                    let out = buf.get_mut(..len).unwrap_or(&mut []);
                    n += dec.decompress(black_box(r), out).unwrap_or(0);
                }
                n
            })
        });
    }

    g.bench_function("records + count samples", |b| {
        b.iter(|| {
            let mut r = RecordReader::new(black_box(seg));
            let (mut samples, mut lo, mut hi) = (0usize, i64::MAX, i64::MIN);
            while let Some(Ok(rec)) = r.next_record() {
                if record::record_type(rec.data) == Some(RecordType::Samples)
                    && let Ok((n, Some((a, z)))) = record::sample_time_range(rec.data, 0)
                {
                    samples += n;
                    lo = lo.min(a);
                    hi = hi.max(z);
                }
            }
            (samples, lo, hi)
        })
    });

    g.bench_function("records + for_each_sample", |b| {
        b.iter(|| {
            let mut r = RecordReader::new(black_box(seg));
            let mut sum = 0f64;
            while let Some(Ok(rec)) = r.next_record() {
                if record::record_type(rec.data) == Some(RecordType::Samples) {
                    let _ = record::for_each_sample(rec.data, 0, |_, _, v| sum += v);
                }
            }
            sum
        })
    });

    g.bench_function("walinfo::scan_segment", |b| {
        b.iter(|| {
            let mut series = HashSet::new();
            scan_segment(black_box(seg), &mut series)
        })
    });
    // The file read window by window, as `promsnap wal` reads it (page
    // cache warm): re-reads of records cut by a window end, buffers handed
    // from window to window.
    if prefix.is_empty()
        && let Some(path) = std::env::var_os("PROMSNAP_BENCH_WAL")
    {
        g.bench_function("walinfo::scan_segment_file", |b| {
            b.iter(|| {
                let mut series = HashSet::new();
                scan_segment_file(black_box(std::path::Path::new(&path)), &mut series)
                    .map(|(n, _)| n)
                    .unwrap_or(0)
            })
        });
    }
    g.finish();
}

/// Framing alone: fragment headers, page padding and CRC32C, no reassembly
/// or decompression; and framing plus the reassembly of split records (the
/// copies a decoder that needs one contiguous input costs). With "snappy
/// decode alone" they split "records" into its parts.
fn bench_framing(g: &mut BenchmarkGroup<'_, WallTime>, seg: &[u8]) {
    g.bench_function("fragments (framing+crc)", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for f in FragmentReader::new(black_box(seg)) {
                n += f.map(|f| f.data.len()).unwrap_or(0);
            }
            n
        })
    });
    let mut assembly = Vec::new();
    g.bench_function("fragments + reassembly", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for f in FragmentReader::new(black_box(seg)) {
                let Ok(f) = f else { break };
                match f.kind {
                    FragmentType::Full => n += f.data.len(),
                    FragmentType::First => {
                        assembly.clear();
                        assembly.extend_from_slice(f.data);
                    }
                    FragmentType::Middle => assembly.extend_from_slice(f.data),
                    FragmentType::Last => {
                        assembly.extend_from_slice(f.data);
                        n += black_box(&assembly).len();
                    }
                    FragmentType::PageTerm => {}
                }
            }
            n
        })
    });
}

// In a private module: the group function criterion generates has no doc
// (the crate denies missing_docs, Cargo.toml's [lints]).
mod group {
    criterion::criterion_group!(benches, super::bench);
}
criterion_main!(group::benches);
