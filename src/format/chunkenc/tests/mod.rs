//! Unit tests over hand-annotated byte strings (docs/FORMAT.md worked examples and
//! hand-built streams), real chunks from Prometheus 2.42, and round trips
//! through a tiny test-only XOR encoder.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
// Bounds below are literal Go outputs, not approximations of constants.
#![allow(clippy::approx_constant)]

use super::*;

mod histogram;
mod real;
mod xor_scan;

use histogram::first_sample_error;
use real::{testdata, walk_records, walk_segment};

// ---- Round trips through the test-only encoder -------------------------------

use crate::write::encode::{HistIn, LayoutIn, encode_hist, encode_xor, encode_xor2};
use proptest::prelude::*;

fn collect(enc: Encoding, data: &[u8]) -> Vec<Sample> {
    samples(enc, data, 0)
        .unwrap()
        .collect::<Result<Vec<_>>>()
        .unwrap()
}

#[test]
fn xor_worked_example() {
    // docs/FORMAT.md §3.8.
    #[rustfmt::skip]
    let data = [
        0x00, 0x05,                                     // num_samples 5
        0x80, 0xa0, 0xab, 0xfe, 0xf9, 0x62,             // varint t0 = 1700000000000
        0x3f, 0xf0, 0, 0, 0, 0, 0, 0,                   // v0 = 1.0
        0x98, 0x75,                                     // uvarint delta 15000
        0x30, 0x97, 0xff, 0xe0, 0x19, 0x17, 0xe7, 0x1b, 0x02, 0xc0, 0x28, // bits
    ];
    assert_eq!(num_samples(Encoding::Xor, &data, 0).unwrap(), 5);
    let got: Vec<(i64, f64)> = XorIter::new(&data, 0)
        .unwrap()
        .collect::<Result<_>>()
        .unwrap();
    let t0 = 1_700_000_000_000;
    assert_eq!(
        got,
        vec![
            (t0, 1.0),
            (t0 + 15000, 1.0),
            (t0 + 30000, 2.0),
            (t0 + 45100, 2.0),
            (t0 + 60000, 3.5)
        ]
    );
    assert_eq!(xor_first_timestamp(&data, 0).unwrap(), Some(t0));
    let s = collect(Encoding::Xor, &data);
    assert_eq!(s[4].value, Value::Float(3.5));
    assert_eq!(s[4].st, 0);
    // The record's CRC from docs/FORMAT.md covers the encoding byte + data.
    let mut rec = vec![1u8];
    rec.extend_from_slice(&data);
    assert_eq!(crate::format::decode::crc32c(&rec), 0x878B_550E);
}

#[test]
fn histogram_worked_example() {
    // docs/FORMAT.md §3.9: t=1000, count 3, zero count 1, sum 5, schema 0,
    // threshold 2^-128, one positive span {0, 2}, buckets [1, 1].
    let data = [
        0x00, 0x01, 0x00, 0x74, 0x46, 0x47, 0x8f, 0xa2, 0x71, 0x40, 0x14, 0, 0, 0, 0, 0, 0, 0x88,
    ];
    let s = collect(Encoding::Histogram, &data);
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].t, 1000);
    let Value::Histogram(h) = &s[0].value else {
        panic!("not a histogram")
    };
    assert_eq!(
        **h,
        Histogram {
            counter_reset_hint: CounterResetHint::Unknown,
            schema: 0,
            zero_threshold: 2f64.powi(-128),
            zero_count: 1,
            count: 3,
            sum: 5.0,
            positive_spans: vec![Span {
                offset: 0,
                length: 2
            }],
            negative_spans: vec![],
            positive_buckets: vec![1, 1],
            negative_buckets: vec![],
            custom_values: vec![],
        }
    );
    assert_eq!(
        h.to_string(),
        "{count:3, sum:5, [-2.938735877055719e-39,2.938735877055719e-39]:1, (0.5,1]:1, (1,2]:1}"
    );
}

/// A small deterministic generator (xorshift64*), for the histogram cases.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, pct: u64) -> bool {
        self.below(100) < pct
    }
}

fn value_strategy() -> impl Strategy<Value = u64> {
    prop_oneof![
        3 => Just(1.0f64.to_bits()),
        2 => (0u32..1000).prop_map(|v| f64::from(v).to_bits()),
        1 => any::<u64>(),
        1 => Just(STALE_NAN_BITS),
        1 => Just(0x7ff8_0000_0000_0001u64),
        1 => Just(0u64),
        1 => Just(0x8000_0000_0000_0000u64),
        1 => (any::<f64>()).prop_map(|v| (v * 1e-300).to_bits()),
    ]
}

fn delta_strategy() -> impl Strategy<Value = i64> {
    prop_oneof![
        4 => Just(15_000i64),
        2 => 14_000i64..16_000,
        1 => -1_000_000i64..1_000_000,
        1 => any::<i64>(),
        1 => Just(0i64),
    ]
}

/// Samples from a first time and (delta, value bits) rows.
fn accumulate(t0: i64, rows: &[(i64, u64)]) -> Vec<(i64, u64)> {
    let mut t = t0;
    rows.iter()
        .map(|(d, v)| {
            t = t.wrapping_add(*d);
            (t, *v)
        })
        .collect()
}

proptest! {
    // No regression files outside this module: failures found once are kept
    // as unit tests below (`proptest_regressions`).
    #![proptest_config(ProptestConfig {
        cases: 300,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn xor_round_trip(
        t0 in any::<i64>(),
        rows in proptest::collection::vec((delta_strategy(), value_strategy()), 0..300),
    ) {
        let series = accumulate(t0, &rows);
        let data = encode_xor(&series);
        let got: Vec<(i64, u64)> = XorIter::new(&data, 0)
            .unwrap()
            .map(|r| r.map(|(t, v)| (t, v.to_bits())))
            .collect::<Result<_>>()
            .unwrap();
        prop_assert_eq!(&got, &series);
        let generic: Vec<(i64, u64)> = samples(Encoding::Xor, &data, 0)
            .unwrap()
            .map(|r| {
                let s = r.unwrap();
                match s.value {
                    Value::Float(v) => (s.t, v.to_bits()),
                    _ => unreachable!(),
                }
            })
            .collect();
        prop_assert_eq!(&generic, &series);
        // An extra zero byte (writers < 3.0) changes nothing.
        let mut padded = data.clone();
        padded.push(0);
        prop_assert_eq!(XorIter::new(&padded, 0).unwrap().count(), series.len());
    }

    #[test]
    fn xor2_round_trip(
        t0 in any::<i64>(),
        rows in proptest::collection::vec((delta_strategy(), value_strategy()), 0..300),
        st_mode in 0u8..4,
        change_at in 0usize..300,
    ) {
        let mut t = t0;
        let series: Vec<(i64, i64, u64)> = rows
            .iter()
            .enumerate()
            .map(|(i, (d, v))| {
                t = t.wrapping_add(*d);
                let st = match st_mode {
                    0 => 0,
                    1 => t0.wrapping_sub(1000),
                    2 => if i >= change_at { t.wrapping_sub(7) } else { 0 },
                    _ => t.wrapping_sub((i as i64 % 5) * 1000),
                };
                (st, t, *v)
            })
            .collect();
        let data = encode_xor2(&series);
        let got: Vec<(i64, i64, u64)> = samples(Encoding::Xor2, &data, 0)
            .unwrap()
            .map(|r| {
                let s = r.unwrap();
                match s.value {
                    Value::Float(v) => (s.st, s.t, v.to_bits()),
                    _ => unreachable!(),
                }
            })
            .collect();
        prop_assert_eq!(got.len(), series.len());
        for (i, (g, w)) in got.iter().zip(&series).enumerate() {
            prop_assert_eq!((g.1, g.2), (w.1, w.2), "sample {}", i);
            prop_assert_eq!(g.0, w.0, "st of sample {}", i);
        }
    }

    #[test]
    fn damaged_input_never_panics(
        data in proptest::collection::vec(any::<u8>(), 0..400),
        enc in 1u8..=6,
    ) {
        let e = Encoding::from_u8(enc).unwrap();
        let _ = num_samples(e, &data, 0);
        if let Ok(it) = samples(e, &data, 0) {
            let mut errs = 0;
            for s in it.take(70_000) {
                if s.is_err() {
                    errs += 1;
                }
            }
            prop_assert!(errs <= 1);
        }
    }
}

/// Packs '0'/'1' characters (other characters ignored) MSB-first.
fn bits(s: &str) -> Vec<u8> {
    let mut w = crate::write::encode::BitWriter::default();
    for c in s.chars() {
        match c {
            '0' => w.bit(false),
            '1' => w.bit(true),
            _ => {}
        }
    }
    w.bytes
}

#[test]
fn xor2_hand_built() {
    // 4 samples; ST header: first ST known, first ST change at sample 2.
    let mut data = vec![0x00, 0x04, 0x82];
    data.extend_from_slice(&[0xd0, 0x0f]); // varint t0 = 1000
    data.extend_from_slice(&1.0f64.to_bits().to_be_bytes()); // v0
    data.extend_from_slice(&[0xc8, 0x01]); // varint t0 - st0 = 100
    data.extend_from_slice(&[0xe8, 0x07]); // uvarint t1 - t0 = 1000
    data.extend(bits(concat!(
        "0 ",                             // s1: <xor2> unchanged (no ST: change is at 2)
        "10 1 00001 001011 11111111111 ", // s2: dod 0, changed, new window: 1.0 -> 2.0
        "11110 000111110100 ",            // s2 ST: d2 = t1 - st2 = 500 (raw)
        "11111 ",                         // s3: dod 0, StaleNaN
        "11110 001111101000",             // s3 ST: d3 - d2 = 1000
    )));
    let got: Vec<(i64, i64, u64)> = collect(Encoding::Xor2, &data)
        .into_iter()
        .map(|s| match s.value {
            Value::Float(v) => (s.st, s.t, v.to_bits()),
            _ => unreachable!(),
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (900, 1000, 1.0f64.to_bits()),
            (900, 2000, 1.0f64.to_bits()),
            (1500, 3000, 2.0f64.to_bits()),
            (1500, 4000, STALE_NAN_BITS),
        ]
    );
    // The same through the test encoder.
    assert_eq!(
        crate::write::encode::encode_xor2(&[
            (900, 1000, 1.0f64.to_bits()),
            (900, 2000, 1.0f64.to_bits()),
            (1500, 3000, 2.0f64.to_bits()),
            (1500, 4000, STALE_NAN_BITS),
        ]),
        data
    );
    // Truncated in the middle of the last ST field (65 bits after the
    // uvarint at data[15..17]): its 12-bit payload starts at bit 53, in byte
    // 17 + 6.
    let err = samples(Encoding::Xor2, &data[..data.len() - 1], 100)
        .unwrap()
        .find_map(|r| r.err())
        .unwrap();
    assert!(matches!(err, DecodeError::UnexpectedEof { .. }), "{err:?}");
    assert_eq!(err.offset(), 100 + 17 + 6);
}

#[test]
fn histogram_st_hand_built() {
    // Gauge header, 2 samples; ST header: first known, change on sample 1.
    let mut data = vec![0xc0, 0x02, 0x81];
    data.extend(bits(concat!(
        "00000000 ",                                                         // zero threshold 0
        "0 ",                                                                // schema 0
        "10001 10001 0 ", // 1 positive span: length 1, offset 0
        "0 ",             // no negative spans
        "110000101 ",     // s0: t = 5
        "10010 0 ",       // count 2, zero count 0
        "0100000000000000000000000000000000000000000000000000000000000000 ", // sum 2.0
        "10010 ",         // bucket 2
        "00000100 ",      // ST: varint t0 - st0 = 2
        "10010 ",         // s1: t dod 2
        "10001 0 ",       // count dod 1, zero count dod 0
        "11 01100 000001 1 ", // sum 2.0 -> 3.0: new window, 1 bit
        "10001 ",         // bucket dod 1
        "10001",          // ST: t0 - st1 = 1
    )));
    let s = collect(Encoding::HistogramSt, &data);
    assert_eq!(num_samples(Encoding::HistogramSt, &data, 0).unwrap(), 2);
    assert_eq!(
        counter_reset_header(Encoding::HistogramSt, &data, 0).unwrap(),
        Some(CounterResetHint::Gauge)
    );
    assert_eq!((s[0].t, s[0].st, s[1].t, s[1].st), (5, 3, 7, 4));
    let Value::Histogram(h) = &s[1].value else {
        panic!()
    };
    assert_eq!(
        (h.count, h.sum, h.positive_buckets.clone()),
        (3, 3.0, vec![3])
    );
    assert_eq!(h.counter_reset_hint, CounterResetHint::Gauge);
    assert_eq!(h.to_string(), "{count:3, sum:3, (0.5,1]:3}");
    // FloatHistogramST from the test encoder, with the same shape.
    let l = LayoutIn {
        schema: 0,
        zero_threshold: 0.0,
        pos_spans: vec![Span {
            offset: 0,
            length: 1,
        }],
        neg_spans: vec![],
        custom_values: vec![],
    };
    let f = |st, t, c: f64| HistIn {
        st,
        t,
        count: c.to_bits(),
        zero_count: 0,
        sum: c.to_bits(),
        pos: vec![c.to_bits()],
        neg: vec![],
    };
    let enc = encode_hist(
        Encoding::FloatHistogramSt,
        CounterResetHint::NotCounterReset,
        &l,
        &[f(3, 5, 2.0), f(4, 7, 3.0)],
    );
    let s = collect(Encoding::FloatHistogramSt, &enc);
    assert_eq!((s[0].st, s[1].st), (3, 4));
    let Value::FloatHistogram(h) = &s[1].value else {
        panic!()
    };
    assert_eq!(h.to_string(), "{count:3, sum:3, (0.5,1]:3}");
    assert_eq!(h.api_buckets(), vec![(0, 0.5, 1.0, 3.0)]);
}

#[test]
fn display_and_api_buckets() {
    let sp = |offset, length| Span { offset, length };
    let h = Histogram {
        counter_reset_hint: CounterResetHint::Unknown,
        schema: 1,
        zero_threshold: 0.25,
        zero_count: 2,
        count: 9,
        sum: -1.5,
        positive_spans: vec![sp(-3, 2), sp(1, 1)],
        negative_spans: vec![sp(0, 2)],
        positive_buckets: vec![1, 0, 3],
        negative_buckets: vec![2, 1],
        custom_values: vec![],
    };
    // Negative buckets from the lowest up; zero bucket; positive; zero counts skipped.
    assert_eq!(
        h.to_string(),
        "{count:9, sum:-1.5, [-1.414213562373095,-1):1, [-1,-0.7071067811865475):2, \
         [-0.25,0.25]:2, (0.25,0.35355339059327373]:1, (0.7071067811865475,1]:3}"
    );
    // The API clips the bucket that overlaps the zero bucket.
    assert_eq!(
        h.to_float().api_buckets(),
        vec![
            (1, -1.414213562373095, -1.0, 1.0),
            (1, -1.0, -0.7071067811865475, 2.0),
            (3, -0.25, 0.25, 2.0),
            (0, 0.25, 0.35355339059327373, 1.0),
            (0, 0.7071067811865475, 1.0, 3.0),
        ]
    );
    let c = FloatHistogram {
        counter_reset_hint: CounterResetHint::Unknown,
        schema: CUSTOM_BUCKETS_SCHEMA,
        zero_threshold: 0.0,
        zero_count: 0.0,
        count: 6.5,
        sum: 12.0,
        positive_spans: vec![sp(0, 2), sp(1, 1)],
        negative_spans: vec![],
        positive_buckets: vec![1.0, 2.5, 3.0],
        negative_buckets: vec![],
        custom_values: vec![0.5, 1.0, 10.0],
    };
    assert_eq!(
        c.to_string(),
        "{count:6.5, sum:12, [-Inf,0.5]:1, (0.5,1]:2.5, (10,+Inf]:3}"
    );
    assert_eq!(
        c.api_buckets(),
        vec![
            (3, f64::NEG_INFINITY, 0.5, 1.0),
            (0, 0.5, 1.0, 2.5),
            (0, 10.0, f64::INFINITY, 3.0)
        ]
    );
    assert_eq!(FloatHistogram::stale().to_string(), "{count:0, sum:NaN}");
}

#[test]
fn encoding_names_and_headers() {
    for b in 1..=6u8 {
        let e = Encoding::from_u8(b).unwrap();
        assert_eq!(e.to_u8(), b);
        assert_eq!(e.is_float(), b == 1 || b == 4);
    }
    assert_eq!(Encoding::from_u8(0), None);
    assert_eq!(Encoding::from_u8(7), None);
    let names: Vec<_> = (1..=6u8)
        .map(|b| Encoding::from_u8(b).unwrap().name())
        .collect();
    assert_eq!(
        names,
        [
            "XOR",
            "Histogram",
            "FloatHistogram",
            "XOR2",
            "HistogramST",
            "FloatHistogramST"
        ]
    );
    // 14-bit count for the ST histogram encodings.
    assert_eq!(
        num_samples(Encoding::HistogramSt, &[0xff, 0xff, 0], 0).unwrap(),
        0x3fff
    );
    assert_eq!(
        num_samples(Encoding::Histogram, &[0xff, 0xff, 0], 0).unwrap(),
        0xffff
    );
    assert!(matches!(
        num_samples(Encoding::Xor, &[1], 40),
        Err(DecodeError::UnexpectedEof { offset: 40, .. })
    ));
    assert!(matches!(
        samples_for_byte(9, 17, &[0, 0], 18),
        Err(DecodeError::UnsupportedEncoding {
            offset: 17,
            encoding: 9
        })
    ));
    // An empty chunk yields nothing and reads no layout.
    assert_eq!(collect(Encoding::Histogram, &[0, 0, 0]).len(), 0);
}

#[test]
fn corrupt_streams_give_errors_with_offsets() {
    // Unknown schema 60 in an otherwise valid layout: error at the schema field.
    let err = first_sample_error(
        Encoding::Histogram,
        "00000000 111110 000000000000111100 0 0 110000101 0 0",
        1000,
    );
    let schema_60 = DecodeError::HistogramSchema {
        offset: 1004,
        schema: 60,
    };
    assert_eq!(err, schema_60);
    // A span count too large for the data: an error, not a huge allocation.
    first_sample_error(
        Encoding::Histogram,
        "00000000 0 1111111 1111111111111111111111111 0",
        0,
    );
    // Bucket lengths summing far beyond the data.
    let err = first_sample_error(
        Encoding::FloatHistogram,
        concat!(
            "00000000 0 10001 11111110 ",
            "11111111111111111111111111111111111111111111111111111111 0 0 0000000000000000",
        ),
        0,
    );
    assert!(
        matches!(err, DecodeError::HistogramBuckets { .. }),
        "{err:?}"
    );
    // XOR window with leading + significant > 64.
    let mut data = vec![0x00, 0x02, 0x02];
    data.extend_from_slice(&0u64.to_be_bytes());
    data.extend_from_slice(&[0x01]);
    data.extend(bits("11 11111 111111 0000000"));
    let mut it = XorIter::new(&data, 0).unwrap();
    assert!(it.next().unwrap().is_ok());
    assert!(matches!(
        it.next().unwrap(),
        Err(DecodeError::XorWindow { .. })
    ));
    assert!(it.next().is_none(), "fused");
}

/// Every prefix and every single-bit flip of the real chunks decodes to
/// samples or one error, never a panic.
#[test]
fn truncated_and_bit_flipped_real_chunks() {
    let bin = testdata("chunks.bin");
    let mut outcomes = [0usize; 2];
    for (off, enc, data) in walk_records(&bin, 0) {
        let e = Encoding::from_u8(enc).unwrap();
        let run = |d: &[u8], outcomes: &mut [usize; 2]| {
            if let Ok(it) = samples(e, d, off) {
                let mut errs = 0;
                for s in it {
                    if let Err(err) = s {
                        errs += 1;
                        assert!(err.offset() >= off && err.offset() <= off + d.len() as u64);
                    }
                }
                assert!(errs <= 1);
                outcomes[errs] += 1;
            }
        };
        for n in 0..data.len() {
            run(&data[..n], &mut outcomes);
        }
        let mut d = data.to_vec();
        for bit in 0..d.len() * 8 {
            d[bit / 8] ^= 0x80 >> (bit % 8);
            run(&d, &mut outcomes);
            d[bit / 8] ^= 0x80 >> (bit % 8);
        }
    }
    assert!(outcomes[0] > 1000 && outcomes[1] > 1000, "{outcomes:?}");
}

/// Every chunk of every block chunk file of the fixture data sets under
/// `$CHUNKENC_FIXTURES` (`.ci/run` sets it) decodes; sample counts add up
/// and timestamps strictly increase within a chunk. Skipped without it.
#[test]
fn all_fixture_chunks_decode() {
    let Some(root) = std::env::var_os("CHUNKENC_FIXTURES").map(std::path::PathBuf::from) else {
        return;
    };
    let sets = [
        "prom-2.42-nativehist/data",
        "prom-2.42-live/data",
        "backfill-small/blocks",
    ];
    let mut files = 0;
    let mut by_enc = [0usize; 4];
    for set in sets {
        let Ok(dir) = std::fs::read_dir(root.join(set)) else {
            continue;
        };
        for block in dir {
            let path = block.unwrap().path().join("chunks/000001");
            let Ok(file) = std::fs::read(&path) else {
                continue;
            };
            files += 1;
            for (off, enc, data) in walk_segment(&file) {
                let e = Encoding::from_u8(enc).unwrap();
                by_enc[usize::from(enc)] += 1;
                let n = num_samples(e, data, off).unwrap();
                assert!(n >= 1);
                let got: Vec<Sample> = samples(e, data, off)
                    .unwrap()
                    .collect::<Result<_>>()
                    .unwrap_or_else(|err| panic!("{}: {err}", path.display()));
                assert_eq!(got.len(), usize::from(n));
                assert!(got.windows(2).all(|w| w[0].t < w[1].t));
                if e == Encoding::Xor {
                    assert_eq!(xor_first_timestamp(data, off).unwrap(), Some(got[0].t));
                    let fast: Vec<(i64, u64)> = XorIter::new(data, off)
                        .unwrap()
                        .map(|r| r.map(|(t, v)| (t, v.to_bits())))
                        .collect::<Result<_>>()
                        .unwrap();
                    assert_eq!(fast.len(), got.len());
                }
            }
        }
    }
    if files == 0 {
        eprintln!("no fixtures under {}; skipped", root.display());
        return;
    }
    assert_eq!(files, 10);
    // From the fixtures' READMEs: the native-histogram blocks hold XOR 189,
    // Histogram 84 and FloatHistogram 597 chunks.
    assert!(by_enc[2] == 84 && by_enc[3] == 597, "{by_enc:?}");
}

/// Cases proptest once shrank to (a shift overflow when a 64-bit read found
/// exactly 64 bits in the register).
#[test]
fn proptest_regressions() {
    let data = [0u8, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    let got: Vec<_> = samples(Encoding::Xor2, &data, 0).unwrap().collect();
    assert_eq!(got.len(), 1);
    let series: Vec<(i64, i64, u64)> = (0..200)
        .map(|i| {
            (
                if i >= 150 { i * 15000 - 7 } else { 0 },
                i * 15000,
                (i as u64) << 60,
            )
        })
        .collect();
    let enc = crate::write::encode::encode_xor2(&series);
    assert_eq!(
        samples(Encoding::Xor2, &enc, 0)
            .unwrap()
            .map(|s| s.unwrap().st)
            .collect::<Vec<_>>(),
        series.iter().map(|s| s.0).collect::<Vec<_>>()
    );
}
