//! Unit tests (may panic).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::*;
use crate::format::wal::RecordReader;

/// Test encoder helpers (Go `encoding.Encbuf` equivalents).
#[derive(Default)]
struct E(Vec<u8>);

impl E {
    fn u8(&mut self, b: u8) -> &mut Self {
        self.0.push(b);
        self
    }
    fn be64(&mut self, v: u64) -> &mut Self {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    fn f64(&mut self, v: f64) -> &mut Self {
        self.be64(v.to_bits())
    }
    fn uvarint(&mut self, mut v: u64) -> &mut Self {
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                self.0.push(b);
                return self;
            }
            self.0.push(b | 0x80);
        }
    }
    fn varint(&mut self, v: i64) -> &mut Self {
        self.uvarint(((v << 1) ^ (v >> 63)) as u64)
    }
    fn str(&mut self, s: &str) -> &mut Self {
        self.uvarint(s.len() as u64);
        self.0.extend_from_slice(s.as_bytes());
        self
    }
    fn labels(&mut self, l: &[(&str, &str)]) -> &mut Self {
        self.uvarint(l.len() as u64);
        for (n, v) in l {
            self.str(n).str(v);
        }
        self
    }
    fn histogram(&mut self, h: &WalHistogram) -> &mut Self {
        self.u8(h.counter_reset_hint)
            .varint(h.schema.into())
            .f64(h.zero_threshold)
            .uvarint(h.zero_count)
            .uvarint(h.count)
            .f64(h.sum);
        for spans in [&h.positive_spans, &h.negative_spans] {
            self.uvarint(spans.len() as u64);
            for &(offset, length) in spans {
                self.varint(offset.into()).uvarint(length.into());
            }
        }
        for b in [&h.positive_deltas, &h.negative_deltas] {
            self.uvarint(b.len() as u64);
            for &d in b {
                self.varint(d);
            }
        }
        if h.schema == CUSTOM_BUCKETS_SCHEMA {
            self.uvarint(h.custom_values.len() as u64);
            for &v in &h.custom_values {
                self.f64(v);
            }
        }
        self
    }
    fn float_histogram(&mut self, h: &WalFloatHistogram) -> &mut Self {
        self.u8(h.counter_reset_hint)
            .varint(h.schema.into())
            .f64(h.zero_threshold)
            .f64(h.zero_count)
            .f64(h.count)
            .f64(h.sum);
        for spans in [&h.positive_spans, &h.negative_spans] {
            self.uvarint(spans.len() as u64);
            for &(offset, length) in spans {
                self.varint(offset.into()).uvarint(length.into());
            }
        }
        for b in [&h.positive_buckets, &h.negative_buckets] {
            self.uvarint(b.len() as u64);
            for &d in b {
                self.f64(d);
            }
        }
        if h.schema == CUSTOM_BUCKETS_SCHEMA {
            self.uvarint(h.custom_values.len() as u64);
            for &v in &h.custom_values {
                self.f64(v);
            }
        }
        self
    }
}

#[test]
fn types_and_names() {
    for b in 0..=255u8 {
        assert_eq!(RecordType::from_byte(b).byte(), b);
    }
    assert_eq!(record_type(&[]), None);
    assert_eq!(
        record_type(&[8, 1]),
        Some(RecordType::FloatHistogramSamples)
    );
    assert_eq!(record_type(&[99]), Some(RecordType::Unknown(99)));
    assert_eq!(RecordType::Unknown(99).to_string(), "unknown(99)");
    assert_eq!(
        RecordType::HistogramSamplesV2.name(),
        "histogram_samples_v2"
    );
    assert!(RecordType::SamplesV2.is_float_samples());
    assert!(RecordType::CustomBucketsHistogramSamples.is_histogram_samples());
    assert!(RecordType::FloatHistogramSamplesV2.is_float_histogram_samples());
}

#[test]
fn samples_v1_format_md_example() {
    // docs/FORMAT.md §5.5: refs 1,2; t=1700000000000; 1.0, 0.5.
    let rec: Vec<u8> = vec![
        0x02, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0x8b, 0xcf, 0xe5, 0x68, 0x00, 0x00, 0x00, 0x3f,
        0xf0, 0, 0, 0, 0, 0, 0, 0x02, 0x00, 0x3f, 0xe0, 0, 0, 0, 0, 0, 0,
    ];
    let mut got = Vec::new();
    let n = for_each_sample(&rec, 0, |r, t, v| got.push((r.get(), t, v))).unwrap();
    assert_eq!(n, 2);
    assert_eq!(
        got,
        vec![(1, 1_700_000_000_000, 1.0), (2, 1_700_000_000_000, 0.5)]
    );
    assert_eq!(
        sample_time_range(&rec, 0).unwrap(),
        (2, Some((1_700_000_000_000, 1_700_000_000_000)))
    );
    // Empty samples record.
    assert_eq!(for_each_sample(&[2], 0, |_, _, _| {}).unwrap(), 0);
    assert_eq!(sample_time_range(&[2], 0).unwrap(), (0, None));
}

#[test]
fn samples_v1_negative_deltas() {
    let mut e = E::default();
    e.u8(2).be64(10).be64(1000);
    for (dr, dt, v) in [(0i64, 0i64, 1.5), (-3, -500, 2.0), (5, 70, -1.0)] {
        e.varint(dr).varint(dt).f64(v);
    }
    let mut got = Vec::new();
    for_each_sample(&e.0, 0, |r, t, v| got.push((r.get(), t, v))).unwrap();
    assert_eq!(got, vec![(10, 1000, 1.5), (7, 500, 2.0), (15, 1070, -1.0)]);
    assert_eq!(sample_time_range(&e.0, 0).unwrap(), (3, Some((500, 1070))));
}

#[test]
fn samples_v2() {
    let mut e = E::default();
    // first: ref 100, t 5000, st 4000, v 1
    e.u8(11).varint(100).varint(5000).varint(4000).f64(1.0);
    // ref +1, t +10, same ST
    e.varint(1).varint(10).u8(1).f64(2.0);
    // ref -5 (from prev), t +20, no ST
    e.varint(-5).varint(20).u8(0).f64(3.0);
    // ref +2, t -5, explicit ST = 4000 + 7
    e.varint(2).varint(-5).u8(2).varint(7).f64(4.0);
    let mut got = Vec::new();
    let n = for_each_sample_with_st(&e.0, 0, |s| got.push((s.series_ref.get(), s.t, s.st, s.v)))
        .unwrap();
    assert_eq!(n, 4);
    assert_eq!(
        got,
        vec![
            (100, 5000, 4000, 1.0),
            (101, 5010, 4000, 2.0),
            (96, 5020, 0, 3.0),
            (98, 4995, 4007, 4.0)
        ]
    );
    assert_eq!(sample_time_range(&e.0, 0).unwrap(), (4, Some((4995, 5020))));
    // Truncated value.
    let cut = &e.0[..e.0.len() - 3];
    assert!(matches!(
        for_each_sample(cut, 0, |_, _, _| {}),
        Err(DecodeError::UnexpectedEof { .. })
    ));
}

#[test]
fn series_records() {
    let mut e = E::default();
    e.u8(1)
        .be64(1)
        .labels(&[("__name__", "up"), ("job", "a")])
        .be64(2)
        .labels(&[]);
    let mut seen = Vec::new();
    let n = for_each_series(&e.0, 0, |r, l| {
        seen.push((r.get(), l.len(), l.get(b"job").map(|v| v.to_vec())));
    })
    .unwrap();
    assert_eq!(n, 2);
    assert_eq!(seen, vec![(1, 2, Some(b"a".to_vec())), (2, 0, None)]);
    let owned = decode_series(&e.0, 0).unwrap();
    assert_eq!(owned[1].labels, vec![]);
    // Truncated label value, with a base offset.
    let cut = &e.0[..20];
    let err = decode_series(cut, 1000).unwrap_err();
    assert!(err.offset() >= 1000);
    // Wrong type.
    assert!(matches!(
        for_each_series(&[2], 7, |_, _| {}),
        Err(DecodeError::RecordType {
            offset: 7,
            byte: 2,
            ..
        })
    ));
    // A huge label count cannot allocate: it just runs out of bytes.
    let mut e = E::default();
    e.u8(1).be64(1).uvarint(u64::MAX >> 1);
    assert!(decode_series(&e.0, 0).is_err());
}

#[test]
fn tombstones_exemplars_markers_metadata() {
    let mut e = E::default();
    e.u8(3)
        .be64(5)
        .varint(-10)
        .varint(20)
        .be64(6)
        .varint(0)
        .varint(i64::MAX);
    let mut t = Vec::new();
    assert_eq!(
        for_each_tombstone(&e.0, 0, |r, a, b| t.push((r.get(), a, b))).unwrap(),
        2
    );
    assert_eq!(t, vec![(5, -10, 20), (6, 0, i64::MAX)]);

    let mut e = E::default();
    e.u8(4).be64(10).be64(1000);
    e.varint(0)
        .varint(0)
        .f64(1.0)
        .labels(&[("trace_id", "abc")]);
    e.varint(2).varint(-1).f64(2.0).labels(&[]);
    let mut x = Vec::new();
    for_each_exemplar(&e.0, 0, |ex| {
        x.push((ex.series_ref.get(), ex.t, ex.v, ex.labels.to_vec()))
    })
    .unwrap();
    assert_eq!(
        x,
        vec![
            (10, 1000, 1.0, vec![("trace_id".into(), "abc".into())]),
            (12, 999, 2.0, vec![])
        ]
    );
    assert_eq!(for_each_exemplar(&[4], 0, |_| {}).unwrap(), 0);

    let mut e = E::default();
    e.u8(5).be64(1).be64((3 << 32) | 8).be64(2).be64(0);
    let mut m = Vec::new();
    for_each_mmap_marker(&e.0, 0, |a, b| m.push((a.get(), b.get()))).unwrap();
    assert_eq!(m, vec![(1, (3 << 32) | 8), (2, 0)]);

    let mut e = E::default();
    e.u8(6).uvarint(300).u8(1).uvarint(3);
    e.str("UNIT")
        .str("seconds")
        .str("OTHER")
        .str("x")
        .str("HELP")
        .str("Help text.");
    e.uvarint(7).u8(2).uvarint(0);
    let mut md = Vec::new();
    for_each_metadata(&e.0, 0, |m| {
        md.push((
            m.series_ref.get(),
            m.metric_type,
            m.unit.to_vec(),
            m.help.to_vec(),
        ))
    })
    .unwrap();
    assert_eq!(
        md,
        vec![
            (300, 1, b"seconds".to_vec(), b"Help text.".to_vec()),
            (7, 2, vec![], vec![])
        ]
    );

    let mut e = E::default();
    e.u8(14).be64((-5i64) as u64);
    assert_eq!(min_valid_time(&e.0, 0).unwrap(), -5);
    e.u8(0);
    assert!(min_valid_time(&e.0, 0).is_err());
}

fn sample_histogram(schema: i32) -> WalHistogram {
    WalHistogram {
        counter_reset_hint: 3,
        schema,
        zero_threshold: 0.001,
        zero_count: 2,
        count: 19,
        sum: 123.5,
        positive_spans: vec![(-2, 2), (3, 1)],
        negative_spans: vec![(0, 1)],
        positive_deltas: vec![5, -2, 4],
        negative_deltas: vec![1],
        custom_values: if schema == CUSTOM_BUCKETS_SCHEMA {
            vec![0.5, 1.0, 2.5]
        } else {
            vec![]
        },
    }
}

fn sample_float_histogram(schema: i32) -> WalFloatHistogram {
    WalFloatHistogram {
        counter_reset_hint: 1,
        schema,
        zero_threshold: 0.0,
        zero_count: 1.5,
        count: 10.0,
        sum: -3.25,
        positive_spans: vec![(1, 3)],
        negative_spans: vec![],
        positive_buckets: vec![1.0, 2.5, 5.0],
        negative_buckets: vec![],
        custom_values: if schema == CUSTOM_BUCKETS_SCHEMA {
            vec![10.0, 20.0, 30.0]
        } else {
            vec![]
        },
    }
}

#[test]
fn histogram_records_v1_and_custom_buckets() {
    for (ty, schema) in [(7u8, 3), (9, CUSTOM_BUCKETS_SCHEMA)] {
        let h1 = sample_histogram(schema);
        let mut h2 = sample_histogram(schema);
        h2.positive_deltas = vec![1, 1, 1];
        let mut e = E::default();
        e.u8(ty).be64(40).be64(9000);
        e.varint(0).varint(0).histogram(&h1);
        let first_end = e.0.len();
        e.varint(-1).varint(15).histogram(&h2);
        let mut got = Vec::new();
        let n = for_each_histogram(&e.0, 0, |at, h| got.push((at, h.clone()))).unwrap();
        assert_eq!(n, 2);
        assert_eq!(
            got[0].0,
            HistogramSampleRef {
                series_ref: SeriesRef(40),
                t: 9000,
                st: 0
            }
        );
        assert_eq!(got[0].1, h1);
        assert_eq!(
            got[1].0,
            HistogramSampleRef {
                series_ref: SeriesRef(39),
                t: 9015,
                st: 0
            }
        );
        assert_eq!(got[1].1, h2);
        // Float-histogram decoder refuses an integer-histogram record.
        assert!(for_each_float_histogram(&e.0, 0, |_, _| {}).is_err());
        // Every truncation fails cleanly.
        for cut in 2..e.0.len() {
            if cut == 17 || cut == first_end {
                continue; // bases only, or exactly one whole sample: valid
            }
            assert!(
                for_each_histogram(&e.0[..cut], 0, |_, _| {}).is_err(),
                "cut {cut}"
            );
        }
    }
}

#[test]
fn float_histogram_records() {
    for (ty, schema) in [(8u8, 0), (10, CUSTOM_BUCKETS_SCHEMA)] {
        let h = sample_float_histogram(schema);
        let mut e = E::default();
        e.u8(ty).be64(3).be64(100);
        e.varint(4).varint(-100).float_histogram(&h);
        let mut got = Vec::new();
        for_each_float_histogram(&e.0, 0, |at, fh| got.push((at, fh.clone()))).unwrap();
        assert_eq!(
            got,
            vec![(
                HistogramSampleRef {
                    series_ref: SeriesRef(7),
                    t: 0,
                    st: 0
                },
                h
            )]
        );
    }
}

#[test]
fn histogram_records_v2() {
    let h = sample_histogram(2);
    let mut e = E::default();
    e.u8(12).varint(50).varint(7000).varint(6000).histogram(&h);
    e.varint(3).varint(30).u8(1).histogram(&h);
    e.varint(-1).varint(60).u8(2).varint(-100).histogram(&h);
    let mut got = Vec::new();
    for_each_histogram(&e.0, 0, |at, _| {
        got.push((at.series_ref.get(), at.t, at.st))
    })
    .unwrap();
    assert_eq!(
        got,
        vec![(50, 7000, 6000), (53, 7030, 6000), (52, 7060, 5900)]
    );

    let fh = sample_float_histogram(1);
    let mut e = E::default();
    e.u8(13).varint(1).varint(2).varint(0).float_histogram(&fh);
    e.varint(1).varint(1).u8(0).float_histogram(&fh);
    let mut got = Vec::new();
    for_each_float_histogram(&e.0, 0, |at, h| {
        assert_eq!(h, &fh);
        got.push((at.series_ref.get(), at.t, at.st))
    })
    .unwrap();
    assert_eq!(got, vec![(1, 2, 0), (2, 3, 0)]);
}

#[test]
fn histogram_out_of_range_fields() {
    let mut h = sample_histogram(0);
    h.positive_spans.clear();
    h.positive_deltas.clear();
    let mut e = E::default();
    e.u8(7).be64(1).be64(1).varint(0).varint(0);
    // schema beyond i32
    e.u8(0).varint(i64::from(i32::MAX) + 1);
    assert!(for_each_histogram(&e.0, 0, |_, _| {}).is_err());
    // a bucket count that cannot fit in the remaining bytes
    let mut e = E::default();
    e.u8(8).be64(1).be64(1).varint(0).varint(0);
    e.u8(0).varint(0).f64(0.0).f64(0.0).f64(0.0).f64(0.0);
    e.uvarint(0).uvarint(0).uvarint(1 << 40);
    assert!(matches!(
        for_each_float_histogram(&e.0, 0, |_, _| {}),
        Err(DecodeError::OutOfBounds { .. })
    ));
}

/// Decoded counts of a real segment, compared with the independent walker.
#[test]
fn real_segment_decoded_counts() {
    let p = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/testdata/wal/nativehist/wal/00000004"
    );
    let seg = std::fs::read(p).unwrap();
    let mut r = RecordReader::new(&seg);
    let (mut floats, mut hists, mut fhists, mut hbuckets, mut fbuckets) = (0, 0, 0, 0, 0);
    let (mut h_gauge, mut fh_gauge, mut fh_stale) = (0, 0, 0);
    while let Some(rec) = r.next_record() {
        let rec = rec.unwrap();
        match record_type(rec.data).unwrap() {
            RecordType::Samples => floats += for_each_sample(rec.data, 0, |_, _, _| {}).unwrap(),
            RecordType::HistogramSamples => {
                hists += for_each_histogram(rec.data, 0, |_, h| {
                    hbuckets += h.positive_deltas.len() + h.negative_deltas.len();
                    h_gauge += usize::from(h.counter_reset_hint == 3);
                })
                .unwrap()
            }
            RecordType::FloatHistogramSamples => {
                fhists += for_each_float_histogram(rec.data, 0, |_, h| {
                    fbuckets += h.positive_buckets.len() + h.negative_buckets.len();
                    fh_gauge += usize::from(h.counter_reset_hint == 3);
                    fh_stale += usize::from(h.sum.to_bits() == 0x7FF0_0000_0000_0002);
                })
                .unwrap()
            }
            other => panic!("unexpected {other}"),
        }
    }
    // prom-2.42-nativehist/oracle/inspect_data.json, wal/00000004 "decoded".
    assert_eq!(floats, 3840);
    assert_eq!(hists, 1560);
    assert_eq!(fhists, 1039);
    assert_eq!(hbuckets, 48559);
    assert_eq!(fbuckets, 18527);
    assert_eq!(h_gauge, 120);
    assert_eq!(fh_gauge, 627);
    assert_eq!(fh_stale, 52);
}
