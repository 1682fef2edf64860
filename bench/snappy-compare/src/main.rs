//! Times `snap` and the C++ snappy decoder on the snappy records of one WAL
//! segment, alternating them round by round in one process (so that the
//! machine's load hits both alike), and prints each one's median, the
//! ratio and the load average.
//!
//! usage: snappy-compare SEGMENT [ROUNDS]

use std::time::Instant;

/// The stored (compressed) bytes of each snappy record of `seg`, its
/// fragments joined (32 KiB pages, 7-byte fragment headers; stops at the
/// first fragment that does not fit).
fn snappy_records(seg: &[u8]) -> Vec<Vec<u8>> {
    const PAGE: usize = 32768;
    let (mut out, mut cur, mut pos) = (Vec::new(), Vec::new(), 0usize);
    while pos + 7 <= seg.len() {
        let t = seg[pos];
        if t == 0 {
            pos = (pos / PAGE + 1) * PAGE;
            continue;
        }
        let len = usize::from(u16::from_be_bytes([seg[pos + 1], seg[pos + 2]]));
        let Some(data) = seg.get(pos + 7..pos + 7 + len) else {
            break;
        };
        let kind = t & 7;
        if kind == 1 || kind == 2 {
            cur.clear();
        }
        cur.extend_from_slice(data);
        if (kind == 1 || kind == 4) && t & 0x08 != 0 {
            out.push(std::mem::take(&mut cur));
        }
        pos += 7 + len;
    }
    out
}

fn decode_snap(recs: &[Vec<u8>], dec: &mut snap::raw::Decoder, buf: &mut Vec<u8>) -> usize {
    let mut n = 0;
    for r in recs {
        let len = snap::raw::decompress_len(r).expect("snappy header");
        if buf.len() < len {
            buf.resize(len, 0);
        }
        n += dec.decompress(r, &mut buf[..len]).expect("snap decodes");
    }
    n
}

fn decode_cpp(recs: &[Vec<u8>], buf: &mut Vec<u8>) -> usize {
    let mut n = 0;
    for r in recs {
        let mut len = 0usize;
        // SAFETY: `r` is a live slice; `len` a valid out-pointer.
        let st =
            unsafe { snappy_src::snappy_uncompressed_length(r.as_ptr().cast(), r.len(), &mut len) };
        assert_eq!(st, 0, "snappy header");
        if buf.len() < len {
            buf.resize(len, 0);
        }
        let mut out_len = buf.len();
        // SAFETY: input and output are live slices of the lengths passed.
        let st = unsafe {
            snappy_src::snappy_uncompress(
                r.as_ptr().cast(),
                r.len(),
                buf.as_mut_ptr().cast(),
                &mut out_len,
            )
        };
        assert_eq!(st, 0, "C++ snappy decodes");
        n += out_len;
    }
    n
}

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: snappy-compare SEGMENT [ROUNDS]");
    let rounds: usize = args.next().map_or(9, |s| s.parse().expect("ROUNDS"));
    let seg = std::fs::read(&path).expect("read the segment");
    let recs = snappy_records(&seg);
    let stored: usize = recs.iter().map(Vec::len).sum();
    let (mut dec, mut buf) = (snap::raw::Decoder::new(), Vec::new());
    let (mut t_snap, mut t_cpp) = (Vec::new(), Vec::new());
    let load0 = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let out = decode_snap(&recs, &mut dec, &mut buf);
    assert_eq!(
        decode_cpp(&recs, &mut buf),
        out,
        "both decode the same length"
    );
    for round in 0..rounds {
        for which in if round % 2 == 0 { [0, 1] } else { [1, 0] } {
            let t = Instant::now();
            if which == 0 {
                std::hint::black_box(decode_snap(&recs, &mut dec, &mut buf));
                t_snap.push(t.elapsed().as_secs_f64());
            } else {
                std::hint::black_box(decode_cpp(&recs, &mut buf));
                t_cpp.push(t.elapsed().as_secs_f64());
            }
        }
    }
    let load1 = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let med = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        (v[v.len() / 2], v[0], v[v.len() - 1])
    };
    println!(
        "{path}: {} bytes, {} snappy records, {stored} stored bytes, {out} decoded; {rounds} rounds",
        seg.len(),
        recs.len()
    );
    for (name, v) in [("snap", &mut t_snap), ("C++ snappy", &mut t_cpp)] {
        let (m, lo, hi) = med(v);
        println!(
            "{name:>10}: median {:.1} ms (range {:.1}-{:.1}), {:.2} GB/s of the segment",
            m * 1e3,
            lo * 1e3,
            hi * 1e3,
            seg.len() as f64 / m / 1e9
        );
    }
    println!(
        "C++ / snap time: {:.2}; load {} -> {}",
        med(&mut t_cpp).0 / med(&mut t_snap).0,
        load0
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" "),
        load1
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
}
