use super::*;
use crate::format::wal::RecordReader;

/// CPU time of the calling thread in ns (`/proc/thread-self/schedstat`).
fn cpu_ns() -> u64 {
    fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn reframe_snappy(seg: &[u8]) -> Vec<u8> {
    const PAGE: usize = 32768;
    let mut out = Vec::new();
    let mut enc = snap::raw::Encoder::new();
    let mut r = RecordReader::new(seg);
    while let Some(Ok(rec)) = r.next_record() {
        let c = enc.compress_vec(rec.data).unwrap_or_default();
        let mut rest = &c[..];
        let mut i = 0;
        loop {
            let left = PAGE - out.len() % PAGE;
            if left < 7 {
                out.resize(out.len() + left, 0);
                continue;
            }
            let (part, r2) = rest.split_at(rest.len().min(left - 7));
            let typ = match (i == 0, r2.is_empty()) {
                (true, true) => 1u8,
                (true, false) => 2,
                (false, true) => 4,
                (false, false) => 3,
            };
            out.push(typ | 0x08);
            out.extend_from_slice(&(part.len() as u16).to_be_bytes());
            out.extend_from_slice(&crate::format::decode::crc32c(part).to_be_bytes());
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

fn measure(name: &str, seg: &[u8]) {
    let mut iters = 0u64;
    let start = cpu_ns();
    let mut samples = 0;
    while cpu_ns() - start < 3_000_000_000 || iters < 3 {
        let s = scan_segment(seg, &mut HashSet::from([ALL_SERIES_KNOWN]));
        samples = s.counts.float_samples + s.counts.histogram_samples;
        iters += 1;
    }
    let ns = (cpu_ns() - start) as f64;
    let bytes = seg.len() as f64 * iters as f64;
    eprintln!(
        "{name}: {} bytes, {samples} samples: scan_segment {:.2} GB/s per core (CPU time), {:.1} M \
         samples/s",
        seg.len(),
        bytes / ns,
        samples as f64 * iters as f64 / ns * 1e3
    );
    let start = cpu_ns();
    let mut n = 0u64;
    for _ in 0..iters {
        let mut r = RecordReader::new(seg);
        while let Some(Ok(rec)) = r.next_record() {
            n += rec.data.len() as u64;
        }
    }
    let ns = (cpu_ns() - start) as f64;
    eprintln!(
        "{name}: framing+crc+decompress only {:.2} GB/s per core ({n} bytes out)",
        bytes / ns
    );
}

#[test]
#[ignore = "timing; run in release"]
fn throughput() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let path = std::env::var_os("PROMSNAP_BENCH_WAL")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("bench/data/wal-12m/storage/wal/00000000"));
    let seg = fs::read(&path)
        .or_else(|_| fs::read(root.join("testdata/wal/nativehist/wal/00000004")))
        .unwrap_or_default();
    measure(&path.display().to_string(), &seg);
    let snappy = scan_segment(&seg, &mut HashSet::from([ALL_SERIES_KNOWN]))
        .counts
        .compression
        .snappy;
    if snappy == 0 {
        let re = reframe_snappy(&seg);
        measure("same records, snappy re-framed", &re);
    }
}
