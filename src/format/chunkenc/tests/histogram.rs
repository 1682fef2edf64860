//! Native histogram chunks: round trips of generated layouts through the
//! test encoder, and the reserved schemas Prometheus reduces to 8.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::*;

/// The error of the first sample of a one-sample `enc` chunk at `base`:
/// the sample count, then the `body` bits.
pub(super) fn first_sample_error(enc: Encoding, body: &str, base: u64) -> DecodeError {
    let mut data = vec![0x00, 0x01, 0x00];
    data.extend(bits(body));
    samples(enc, &data, base)
        .unwrap()
        .next()
        .unwrap()
        .unwrap_err()
}

/// Histogram layouts for the round trips: (layout, number of positive and
/// negative buckets).
fn layouts() -> Vec<LayoutIn> {
    let sp = |offset, length| Span { offset, length };
    vec![
        LayoutIn {
            schema: 0,
            zero_threshold: 2f64.powi(-128),
            pos_spans: vec![],
            neg_spans: vec![],
            custom_values: vec![],
        },
        LayoutIn {
            schema: 3,
            zero_threshold: 0.001,
            pos_spans: vec![sp(-20, 4), sp(2, 1), sp(10, 7)],
            neg_spans: vec![sp(3, 2)],
            custom_values: vec![],
        },
        LayoutIn {
            schema: -4,
            zero_threshold: 0.0,
            pos_spans: vec![sp(0, 3)],
            neg_spans: vec![sp(-2, 5), sp(0, 1)],
            custom_values: vec![],
        },
        LayoutIn {
            schema: 8,
            zero_threshold: 1024.0,
            pos_spans: vec![sp(1000, 40)],
            neg_spans: vec![],
            custom_values: vec![],
        },
        LayoutIn {
            schema: CUSTOM_BUCKETS_SCHEMA,
            zero_threshold: 0.0,
            pos_spans: vec![sp(0, 3), sp(1, 2)],
            neg_spans: vec![],
            custom_values: vec![
                0.005,
                0.1,
                1.0,
                2.5,
                1e9,
                f64::from_bits(0x3ff0_0000_0000_0001),
            ],
        },
    ]
}

fn hist_series(rng: &mut Rng, l: &LayoutIn, n: usize, float: bool, st_mode: u8) -> Vec<HistIn> {
    let n_pos: u32 = l.pos_spans.iter().map(|s| s.length).sum();
    let n_neg: u32 = l.neg_spans.iter().map(|s| s.length).sum();
    let mut t = rng.next() as i64 >> 20;
    let mut pos = vec![0u64; n_pos as usize];
    let mut neg = vec![0u64; n_neg as usize];
    let stale_from = if rng.chance(30) {
        rng.below(n as u64 + 1) as usize
    } else {
        n
    };
    let mut out = Vec::new();
    for i in 0..n {
        t = t.wrapping_add(match rng.below(4) {
            0 => 1000,
            1 => 1000 + rng.below(50) as i64,
            2 => rng.below(1 << 40) as i64,
            _ => 15_000,
        });
        let st = match st_mode {
            0 => 0,
            1 => 1,
            2 => {
                if i > 130 {
                    t - 5
                } else {
                    0
                }
            }
            _ => t - (rng.below(3) as i64) * 100,
        };
        if i >= stale_from {
            out.push(HistIn {
                st,
                t,
                count: 0,
                zero_count: 0,
                sum: STALE_NAN_BITS,
                pos: pos.clone(),
                neg: neg.clone(),
            });
            continue;
        }
        for b in pos.iter_mut().chain(neg.iter_mut()) {
            *b = if float {
                (f64::from_bits(*b) + rng.below(8) as f64 * 0.125).to_bits()
            } else if rng.chance(5) {
                rng.next() >> rng.below(64) // anything, incl. "negative" counts
            } else {
                b.wrapping_add(rng.below(10))
            };
        }
        let count = if float {
            (rng.below(1000) as f64 / 3.0).to_bits()
        } else {
            rng.below(1 << 20)
        };
        let zero_count = if float {
            (rng.below(10) as f64).to_bits()
        } else {
            rng.below(100)
        };
        let sum = (rng.next() as f64 / 7.0).to_bits();
        out.push(HistIn {
            st,
            t,
            count,
            zero_count,
            sum,
            pos: pos.clone(),
            neg: neg.clone(),
        });
    }
    out
}

// One randomized round trip over every encoding and layout.
#[allow(clippy::too_many_lines)]
#[test]
fn histogram_round_trips() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut checked = 0;
    for case in 0..400 {
        let layouts = layouts();
        let l = &layouts[case % layouts.len()];
        let enc = [
            Encoding::Histogram,
            Encoding::FloatHistogram,
            Encoding::HistogramSt,
            Encoding::FloatHistogramSt,
        ][(case / layouts.len()) % 4];
        let float = matches!(enc, Encoding::FloatHistogram | Encoding::FloatHistogramSt);
        let st_mode = if matches!(enc, Encoding::HistogramSt | Encoding::FloatHistogramSt) {
            (rng.below(4)) as u8
        } else {
            0
        };
        let crh = [
            CounterResetHint::Unknown,
            CounterResetHint::CounterReset,
            CounterResetHint::NotCounterReset,
            CounterResetHint::Gauge,
        ][rng.below(4) as usize];
        let n = [0usize, 1, 2, 3, 10, 140][rng.below(6) as usize];
        let series = hist_series(&mut rng, l, n, float, st_mode);
        let data = encode_hist(enc, crh, l, &series);
        assert_eq!(usize::from(num_samples(enc, &data, 0).unwrap()), n);
        assert_eq!(counter_reset_header(enc, &data, 0).unwrap(), Some(crh));
        let got: Vec<Sample> = samples(enc, &data, 0)
            .unwrap()
            .collect::<Result<_>>()
            .unwrap_or_else(|e| panic!("case {case}: {e}"));
        assert_eq!(got.len(), n, "case {case}");
        for (i, (g, w)) in got.iter().zip(&series).enumerate() {
            assert_eq!(g.t, w.t, "case {case} sample {i}");
            let want_st = if st_mode == 0 { 0 } else { w.st };
            assert_eq!(g.st, want_st, "case {case} sample {i} st");
            let hint = match (crh, i) {
                (CounterResetHint::Gauge, _) => CounterResetHint::Gauge,
                (_, 0) => CounterResetHint::Unknown,
                _ => CounterResetHint::NotCounterReset,
            };
            let cv = if l.schema == CUSTOM_BUCKETS_SCHEMA {
                l.custom_values.clone()
            } else {
                vec![]
            };
            match &g.value {
                Value::Histogram(h) => {
                    assert!(!float);
                    if w.sum == STALE_NAN_BITS {
                        assert!(h.is_stale() && h.count == 0 && h.positive_buckets.is_empty());
                        continue;
                    }
                    let want = Histogram {
                        counter_reset_hint: hint,
                        schema: l.schema,
                        zero_threshold: l.zero_threshold,
                        zero_count: w.zero_count,
                        count: w.count,
                        sum: f64::from_bits(w.sum),
                        positive_spans: l.pos_spans.clone(),
                        negative_spans: l.neg_spans.clone(),
                        positive_buckets: w.pos.iter().map(|&b| b as i64).collect(),
                        negative_buckets: w.neg.iter().map(|&b| b as i64).collect(),
                        custom_values: cv,
                    };
                    assert_eq!(h.sum.to_bits(), w.sum);
                    let mut h2 = (**h).clone();
                    h2.sum = want.sum;
                    assert_eq!(h2, want, "case {case} sample {i}");
                }
                Value::FloatHistogram(h) => {
                    assert!(float);
                    if w.sum == STALE_NAN_BITS {
                        assert!(h.is_stale());
                        continue;
                    }
                    assert_eq!(h.counter_reset_hint, hint);
                    assert_eq!(h.custom_values, cv);
                    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                    assert_eq!(
                        (h.count.to_bits(), h.zero_count.to_bits(), h.sum.to_bits()),
                        (w.count, w.zero_count, w.sum)
                    );
                    assert_eq!(bits(&h.positive_buckets), w.pos);
                    assert_eq!(bits(&h.negative_buckets), w.neg);
                    assert_eq!(h.positive_spans, l.pos_spans);
                }
                Value::Float(_) => panic!("float sample"),
            }
            checked += 1;
        }
    }
    assert!(checked > 5000, "{checked}");
}

/// Reserved schemas 9..=52 come out reduced to schema 8, as Prometheus's
/// iterator returns them.
#[test]
fn reserved_schema_is_reduced_to_8() {
    let sp = |offset, length| Span { offset, length };
    let l = LayoutIn {
        schema: 10,
        zero_threshold: 0.0,
        pos_spans: vec![sp(1, 6), sp(2, 3)],
        neg_spans: vec![sp(-10, 2), sp(20, 1)],
        custom_values: vec![],
    };
    let h = |t, pos: Vec<u64>, neg: Vec<u64>| HistIn {
        st: 0,
        t,
        count: 50,
        zero_count: 0,
        sum: 1.5f64.to_bits(),
        pos,
        neg,
    };
    let data = encode_hist(
        Encoding::Histogram,
        CounterResetHint::Unknown,
        &l,
        &[
            h(1000, vec![1, 2, 3, 4, 5, 6, 7, 8, 9], vec![10, 11, 12]),
            h(2000, vec![2, 2, 3, 4, 5, 6, 7, 8, 9], vec![10, 11, 13]),
        ],
    );
    let s = collect(Encoding::Histogram, &data);
    let Value::Histogram(h1) = &s[1].value else {
        panic!()
    };
    // Positive indexes 1..=6 and 9..=11 map to ((i - 1) >> 2) + 1: 1,1,1,1,2,2 and 3,3,3.
    assert_eq!(h1.schema, 8);
    assert_eq!(h1.positive_spans, vec![sp(1, 3)]);
    assert_eq!(h1.positive_buckets, vec![2 + 2 + 3 + 4, 5 + 6, 7 + 8 + 9]);
    // Negative indexes -10, -9 map to -2; 12 maps to 3.
    assert_eq!(h1.negative_spans, vec![sp(-2, 1), sp(4, 1)]);
    assert_eq!(h1.negative_buckets, vec![21, 13]);
    let f = encode_hist(
        Encoding::FloatHistogram,
        CounterResetHint::Gauge,
        &l,
        &[HistIn {
            pos: [0.5f64, 0.25, 1.0, 1.0, 2.0, 2.0, 0.125, 0.125, 0.125]
                .iter()
                .map(|v| v.to_bits())
                .collect(),
            neg: [1.0f64, 2.0, 3.0].iter().map(|v| v.to_bits()).collect(),
            ..h(5, vec![], vec![])
        }],
    );
    let s = collect(Encoding::FloatHistogram, &f);
    let Value::FloatHistogram(fh) = &s[0].value else {
        panic!()
    };
    assert_eq!(
        (fh.schema, fh.positive_buckets.clone()),
        (8, vec![2.75, 4.0, 0.375])
    );
    assert_eq!(fh.negative_buckets, vec![3.0, 3.0]);
    // A later span with a negative offset cannot be reduced (Go panics).
    let bad = LayoutIn {
        pos_spans: vec![sp(1, 1), sp(-1, 1)],
        neg_spans: vec![],
        ..l
    };
    let data = encode_hist(
        Encoding::Histogram,
        CounterResetHint::Unknown,
        &bad,
        &[h(1, vec![1, 1], vec![])],
    );
    let err = samples(Encoding::Histogram, &data, 0)
        .unwrap()
        .next()
        .unwrap()
        .unwrap_err();
    assert!(matches!(err, DecodeError::HistogramSpans { .. }), "{err:?}");
}

/// A reserved-schema layout announcing 2^32 - 1 buckets in a few bytes is an
/// error before anything is planned or allocated per bucket.
#[test]
fn huge_reserved_schema_layout_is_refused() {
    let body = concat!(
        "00000000 ",       // zero threshold 0
        "1110 000001010 ", // schema 10
        "10001 ",          // one positive span
        // length 2^32-1, offset 0
        "11111110 00000000000000000000000011111111111111111111111111111111 0 ",
        "0 ", // no negative spans
        "0 0 0",
    );
    let err = first_sample_error(Encoding::Histogram, body, 0);
    assert!(
        matches!(err, DecodeError::HistogramBuckets { .. }),
        "{err:?}"
    );
}
