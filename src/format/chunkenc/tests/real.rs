//! Real chunks from Prometheus 2.42: the Go golden decode of the fixture
//! segment, and the native-histogram fixture against its HTTP API oracle.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::*;
/// Walks a chunk segment file: (absolute offset of data, encoding byte, data).
pub(super) fn walk_segment(file: &[u8]) -> Vec<(u64, u8, &[u8])> {
    walk_records(file, 8)
}

/// The samples of the histogram chunks among `records` (as
/// [`walk_records`] yields them), each as (t, float histogram): integer
/// histograms converted.
fn histogram_samples(records: &[(u64, u8, &[u8])]) -> Vec<(i64, FloatHistogram)> {
    let mut out = Vec::new();
    for &(off, enc, data) in records {
        let encoding = Encoding::from_u8(enc).unwrap();
        if encoding.is_float() {
            continue;
        }
        for s in samples(encoding, data, off).unwrap() {
            let s = s.unwrap();
            let f = match &s.value {
                Value::Histogram(h) => h.to_float(),
                Value::FloatHistogram(f) => (**f).clone(),
                Value::Float(_) => unreachable!(),
            };
            out.push((s.t, f));
        }
    }
    out
}

/// Walks chunk records from `start`: (absolute offset of data, encoding, data).
pub(super) fn walk_records(file: &[u8], start: usize) -> Vec<(u64, u8, &[u8])> {
    let mut out = Vec::new();
    let mut d = crate::format::decode::Decoder::new(&file[start..], start as u64);
    while !d.is_empty() {
        let Ok(len) = d.uvarint() else { break };
        if len == 0 {
            break;
        }
        let enc = d.u8().unwrap();
        let off = d.offset();
        let data = d.bytes(len as usize).unwrap();
        let crc = d.be_u32().unwrap();
        let mut covered = vec![enc];
        covered.extend_from_slice(data);
        assert_eq!(crc, crate::format::decode::crc32c(&covered), "CRC at {off}");
        out.push((off, enc, data));
    }
    out
}

fn hint_code(h: CounterResetHint) -> u8 {
    match h {
        CounterResetHint::Unknown => 0,
        CounterResetHint::CounterReset => 1,
        CounterResetHint::NotCounterReset => 2,
        CounterResetHint::Gauge => 3,
    }
}

pub(super) fn testdata(name: &str) -> Vec<u8> {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/chunkenc")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// One line per sample in the format of `go_golden.txt`.
fn golden_lines(s: &Sample) -> Vec<String> {
    match &s.value {
        Value::Float(v) => vec![format!("x {} {:016x}", s.t, v.to_bits())],
        Value::Histogram(h) => {
            let f = h.to_float();
            vec![
                format!("h {} {} {}", s.t, hint_code(h.counter_reset_hint), h),
                format!("f {} {} {}", s.t, hint_code(f.counter_reset_hint), f),
            ]
        }
        Value::FloatHistogram(f) => {
            vec![format!(
                "f {} {} {}",
                s.t,
                hint_code(f.counter_reset_hint),
                f
            )]
        }
    }
}

#[test]
fn real_chunks_match_go_golden() {
    let bin = testdata("chunks.bin");
    let golden = String::from_utf8(testdata("go_golden.txt")).unwrap();
    let recs = walk_records(&bin, 0);
    assert_eq!(recs.len(), 13);
    let mut blocks = golden.split("chunk ").filter(|b| !b.is_empty());
    let mut seen_encodings = std::collections::BTreeSet::new();
    for (off, enc, data) in &recs {
        let block = blocks.next().expect("golden block");
        let mut lines = block.lines();
        let head: Vec<u64> = lines
            .next()
            .unwrap()
            .split(' ')
            .map(|x| x.parse().unwrap())
            .collect();
        assert_eq!((head[0], head[1]), (*off, u64::from(*enc)));
        let encoding = Encoding::from_u8(*enc).unwrap();
        seen_encodings.insert(*enc);
        let n = num_samples(encoding, data, *off).unwrap();
        assert_eq!(u64::from(n), head[2]);
        let got: Vec<Sample> = samples(encoding, data, *off)
            .unwrap()
            .collect::<Result<_>>()
            .unwrap();
        assert_eq!(got.len(), usize::from(n));
        assert!(got.windows(2).all(|w| w[0].t < w[1].t), "chunk at {off}");
        let per = if *enc == 2 { 2 } else { 1 };
        let ours: Vec<String> = got.iter().flat_map(golden_lines).collect();
        let mut checked = 0;
        for (k, line) in lines.enumerate() {
            let (idx, want) = line.split_once(' ').unwrap();
            let idx: usize = idx.parse().unwrap();
            let pos = idx * per + if per == 2 { k % 2 } else { 0 };
            // v2.45 said "counter reset" (1) where Prometheus now says unknown (0).
            let want = match want.split_once(" 1 {") {
                Some((a, b)) if idx == 0 => format!("{a} 0 {{{b}"),
                _ => want.to_string(),
            };
            assert_eq!(ours[pos], want, "chunk at {off}, sample {idx}");
            checked += 1;
        }
        assert!(checked >= 1);
        if encoding == Encoding::Xor {
            assert_eq!(xor_first_timestamp(data, *off).unwrap(), Some(got[0].t));
        }
    }
    assert_eq!(
        seen_encodings.into_iter().collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    // Headers: gauge, counter reset and the stale marker's chunk.
    let header = |i: usize| {
        let (off, enc, data) = recs[i];
        counter_reset_header(Encoding::from_u8(enc).unwrap(), data, off).unwrap()
    };
    assert_eq!(header(1), Some(CounterResetHint::Gauge));
    assert_eq!(header(4), Some(CounterResetHint::CounterReset));
    assert_eq!(header(9), None);
    let stale: Vec<Sample> = samples(Encoding::FloatHistogram, recs[5].2, 0)
        .unwrap()
        .collect::<Result<_>>()
        .unwrap();
    assert!(stale[0].value.is_stale());
    let xor_stale = samples(Encoding::Xor, recs[9].2, 0)
        .unwrap()
        .filter(|s| s.as_ref().unwrap().value.is_stale())
        .count();
    assert_eq!(xor_stale, 1);
}

type ApiRow = (i64, f64, f64, Vec<(u8, f64, f64, f64)>);

fn api_rows() -> Vec<ApiRow> {
    use std::io::Read as _;
    let gz = testdata("api_samples.jsonl.gz");
    let mut text = String::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_string(&mut text)
        .unwrap();
    let num = |v: &serde_json::Value| -> f64 { v.as_str().unwrap().parse().unwrap() };
    text.lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let buckets = v["buckets"]
                .as_array()
                .unwrap()
                .iter()
                .map(|b| {
                    (
                        b[0].as_u64().unwrap() as u8,
                        num(&b[1]),
                        num(&b[2]),
                        num(&b[3]),
                    )
                })
                .collect();
            (
                v["t"].as_i64().unwrap(),
                num(&v["count"]),
                num(&v["sum"]),
                buckets,
            )
        })
        .collect()
}

#[test]
fn real_histograms_match_http_api() {
    let bin = testdata("chunks.bin");
    let rows = api_rows();
    assert_eq!(rows.len(), 200);
    let mut matched = vec![false; rows.len()];
    for (st, f) in histogram_samples(&walk_records(&bin, 0)) {
        if f.is_stale() {
            continue;
        }
        let ours = f.api_buckets();
        for (i, (t, count, sum, buckets)) in rows.iter().enumerate() {
            if *t == st && count.to_bits() == f.count.to_bits() && sum.to_bits() == f.sum.to_bits()
            {
                let same = ours.len() == buckets.len()
                    && ours.iter().zip(buckets).all(|(a, b)| {
                        a.0 == b.0
                            && a.1.to_bits() == b.1.to_bits()
                            && a.2.to_bits() == b.2.to_bits()
                            && a.3.to_bits() == b.3.to_bits()
                    });
                assert!(same, "t {t}: ours {ours:?}\n api {buckets:?}");
                matched[i] = true;
            }
        }
    }
    let missing: Vec<_> = rows
        .iter()
        .zip(&matched)
        .filter(|(_, m)| !**m)
        .map(|(r, _)| r.0)
        .collect();
    assert!(missing.is_empty(), "API samples not decoded: {missing:?}");
}

/// Every histogram sample of the native-histogram fixture's API oracle
/// (`api_raw_samples.json.gz`, 14,388 samples) must equal a decoded sample of
/// the fixture's blocks (the samples that are only in the head are matched
/// by the data-dir dump test).
#[test]
fn matches_http_api_full() {
    use std::io::Read as _;
    let root =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/prom-2.42-nativehist");
    let gz = std::fs::read(root.join("oracle/data/api_raw_samples.json.gz")).unwrap();
    let mut text = String::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_string(&mut text)
        .unwrap();
    let api: serde_json::Value = serde_json::from_str(&text).unwrap();
    let num = |v: &serde_json::Value| -> f64 { v.as_str().unwrap().parse().unwrap() };
    // (t, count bits, sum bits) -> buckets of every decoded sample.
    type Buckets = Vec<(u8, f64, f64, f64)>;
    let mut ours: std::collections::HashMap<(i64, u64, u64), Vec<Buckets>> = Default::default();
    for block in std::fs::read_dir(root.join("data")).unwrap() {
        let p = block.unwrap().path().join("chunks/000001");
        let Ok(file) = std::fs::read(&p) else {
            continue;
        };
        for (t, f) in histogram_samples(&walk_segment(&file)) {
            ours.entry((t, f.count.to_bits(), f.sum.to_bits()))
                .or_default()
                .push(f.api_buckets());
        }
    }
    // Samples after the newest block are in the head (WAL), not in blocks.
    let max_t = ours.keys().map(|k| k.0).max().unwrap();
    let mut n = 0;
    for series in api["results"].as_object().unwrap().values() {
        for s in series.as_array().unwrap() {
            let Some(hs) = s.get("histograms") else {
                continue;
            };
            for h in hs.as_array().unwrap() {
                let t = (h[0].as_f64().unwrap() * 1000.0).round() as i64;
                if t > max_t {
                    continue;
                }
                let h = &h[1];
                let want: Vec<(u8, f64, f64, f64)> = h
                    .get("buckets")
                    .map(|b| {
                        b.as_array()
                            .unwrap()
                            .iter()
                            .map(|b| {
                                (
                                    b[0].as_u64().unwrap() as u8,
                                    num(&b[1]),
                                    num(&b[2]),
                                    num(&b[3]),
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let key = (t, num(&h["count"]).to_bits(), num(&h["sum"]).to_bits());
                let cands = ours
                    .get(&key)
                    .unwrap_or_else(|| panic!("no decoded sample for {key:?}"));
                assert!(
                    cands.iter().any(|c| c.len() == want.len()
                        && c.iter().zip(&want).all(|(a, b)| a.0 == b.0
                            && a.1.to_bits() == b.1.to_bits()
                            && a.2.to_bits() == b.2.to_bits()
                            && a.3.to_bits() == b.3.to_bits())),
                    "t {t}: {want:?} not in {cands:?}"
                );
                n += 1;
            }
        }
    }
    eprintln!("{n} API histogram samples match");
    assert!(n > 10_000);
}
