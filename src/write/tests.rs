#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::*;
use crate::format::chunkenc::{self, CounterResetHint, Histogram, STALE_NAN_BITS, Span};

fn decode(c: &EncodedChunk) -> Vec<(i64, Value)> {
    chunkenc::samples(c.encoding, &c.data, 0)
        .unwrap()
        .map(|s| {
            let s = s.unwrap();
            (s.t, s.value)
        })
        .collect()
}

fn hist(count: u64, buckets: [i64; 2]) -> Value {
    Value::Histogram(Box::new(Histogram {
        counter_reset_hint: CounterResetHint::Unknown,
        schema: 1,
        zero_threshold: 1e-128,
        zero_count: 0,
        count,
        sum: count as f64 * 1.5,
        positive_spans: vec![Span {
            offset: 0,
            length: 2,
        }],
        negative_spans: Vec::new(),
        positive_buckets: buckets.to_vec(),
        negative_buckets: Vec::new(),
        custom_values: Vec::new(),
    }))
}

/// Floats are cut every 120 samples and decode to the same bits (stale
/// markers included).
#[test]
fn floats_cut_at_120_and_round_trip() {
    let s: Vec<(i64, Value)> = (0..300)
        .map(|i| {
            let v = if i == 150 {
                f64::from_bits(STALE_NAN_BITS)
            } else {
                (i as f64).sin()
            };
            (i * 15_000 + (i % 3), Value::Float(v))
        })
        .collect();
    let chunks = encode_chunks(&s);
    assert_eq!(
        chunks.iter().map(|c| c.samples).collect::<Vec<_>>(),
        vec![120, 120, 60]
    );
    let back: Vec<_> = chunks.iter().flat_map(decode).collect();
    assert_eq!(back.len(), s.len());
    for ((t1, v1), (t2, v2)) in s.iter().zip(&back) {
        assert_eq!(t1, t2);
        match (v1, v2) {
            (Value::Float(a), Value::Float(b)) => assert_eq!(a.to_bits(), b.to_bits()),
            _ => panic!("kind changed"),
        }
    }
}

/// Histograms: a counter reset and a stale marker followed by data cut new
/// chunks; values come back exactly.
#[test]
fn histograms_cut_at_resets_and_after_stale() {
    let stale = Value::Histogram(Box::new(Histogram::stale()));
    let s = vec![
        (1000, hist(3, [1, 2])),
        (2000, hist(5, [2, 3])),
        (3000, hist(1, [0, 1])),
        (4000, stale),
        (5000, hist(2, [1, 1])),
        (6000, Value::Float(1.0)),
    ];
    let chunks = encode_chunks(&s);
    assert_eq!(
        chunks.iter().map(|c| c.samples).collect::<Vec<_>>(),
        vec![2, 2, 1, 1]
    );
    assert_eq!(
        chunkenc::counter_reset_header(chunks[1].encoding, &chunks[1].data, 0).unwrap(),
        Some(CounterResetHint::CounterReset)
    );
    let back: Vec<_> = chunks.iter().flat_map(decode).collect();
    for (i, ((t1, v1), (t2, v2))) in s.iter().zip(&back).enumerate() {
        assert_eq!(t1, t2);
        assert_eq!(v1.is_stale(), v2.is_stale(), "sample {i}");
        if let (Value::Histogram(a), Value::Histogram(b)) = (v1, v2)
            && !a.is_stale()
        {
            assert_eq!(a.count, b.count);
            assert_eq!(a.positive_buckets, b.positive_buckets);
            assert_eq!(a.positive_spans, b.positive_spans);
        }
    }
}

#[test]
fn ulids_are_valid_and_distinct() {
    let a = new_ulid();
    let b = new_ulid();
    assert!(crate::format::meta::is_valid_ulid(&a), "{a}");
    assert_ne!(a, b);
}

fn floats(n: i64, step: i64) -> Vec<(i64, Value)> {
    (0..n)
        .map(|i| (1000 + i * step, Value::Float(i as f64 * 0.5)))
        .collect()
}

/// The order check compares a series with the previous one from their
/// first differing label on: equal, smaller and prefix label sets are
/// refused, and labels after a shared prefix are still checked (sorted,
/// non-empty); a refused series adds nothing and the next good one goes in.
#[test]
fn order_checked_past_the_shared_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = BlockWriter::create(dir.path(), 0, 1_000_000).unwrap();
    let s = floats(3, 1000);
    let l = |ls: &[(&'static str, &'static str)]| -> Vec<(&[u8], &[u8])> {
        ls.iter()
            .map(|(n, v)| (n.as_bytes(), v.as_bytes()))
            .collect()
    };
    w.add_series(&l(&[("a", "1"), ("b", "2")]), &s).unwrap();
    for bad in [
        l(&[("a", "1"), ("b", "2")]),
        l(&[("a", "1"), ("b", "1")]),
        l(&[("a", "1")]),
        l(&[("a", "1"), ("b", "2"), ("d", "1"), ("c", "1")]),
        l(&[("a", "1"), ("b", "2"), ("c", "")]),
        l(&[("a", "1"), ("b", "3"), ("b", "4")]),
    ] {
        assert!(w.add_series(&bad, &s).is_err(), "{bad:?} accepted");
    }
    w.add_series(&l(&[("a", "1"), ("b", "2"), ("c", "1")]), &s)
        .unwrap();
    w.add_series(&l(&[("a", "1"), ("b", "3")]), &s).unwrap();
    assert_eq!(w.series(), 3);
}

/// A block written series by series and the same series written in
/// batches (chunks encoded in parallel, by `add_batch` and by `Encoded` +
/// `add_encoded`) have the same chunk and index bytes.
#[test]
fn batches_write_the_bytes_series_do() {
    let names = ["instance", "job", "zone"];
    let series: Vec<SeriesIn<Vec<u8>>> = (0..700)
        .map(|i| {
            let labels = names
                .iter()
                .enumerate()
                .map(|(k, n)| {
                    (
                        n.as_bytes().to_vec(),
                        format!("v{}", (i >> k) % 97).into_bytes(),
                    )
                })
                .collect();
            (labels, floats(1 + i % 300, 15_000 + i))
        })
        .collect();
    let mut series = series;
    series.sort_by(|a, b| a.0.cmp(&b.0));
    series.dedup_by(|a, b| a.0 == b.0);
    let write = |how: u8| {
        let dir = tempfile::tempdir().unwrap();
        let mut w = BlockWriter::create(dir.path(), 0, 10_000_000).unwrap();
        match how {
            0 => series.iter().for_each(|(l, s)| w.add_series(l, s).unwrap()),
            1 => series.chunks(64).for_each(|b| w.add_batch(b).unwrap()),
            _ => {
                let mut e = Encoded::default();
                series.iter().for_each(|(_, s)| e.push(s));
                assert_eq!(e.len(), series.len());
                w.add_encoded(series.iter().map(|(l, _)| l.as_slice()), &e)
                    .unwrap();
            }
        }
        let b = w.finish().unwrap().unwrap();
        let read = |f: &str| std::fs::read(b.dir.join(f)).unwrap();
        (read("index"), read("chunks/000001"), dir)
    };
    let (index, chunks, _d) = write(0);
    for how in [1, 2] {
        let (i, c, _d) = write(how);
        assert!(i == index, "index differs ({how})");
        assert!(c == chunks, "chunks differ ({how})");
    }
    // More label sets than series encoded: refused.
    let mut e = Encoded::default();
    e.push(&series[0].1);
    let dir = tempfile::tempdir().unwrap();
    let mut w = BlockWriter::create(dir.path(), 0, 10_000_000).unwrap();
    let too_many = series.iter().take(2).map(|(l, _)| l.as_slice());
    assert!(w.add_encoded(too_many, &e).is_err());
}

/// Labels given as ordinals into a symbol table given up front (one with
/// symbols no series uses, and the empty string) write the bytes the same
/// labels as strings write.
#[test]
fn symbol_ordinals_write_the_bytes_strings_do() {
    let series: Vec<SeriesIn<Vec<u8>>> = (0..500)
        .map(|i| {
            let labels = vec![
                (b"job".to_vec(), format!("j{}", i % 7).into_bytes()),
                (b"pod".to_vec(), format!("p{i:04}").into_bytes()),
            ];
            (labels, floats(1 + i % 250, 15_000 + i))
        })
        .collect();
    let mut series = series;
    series.sort_by(|a, b| a.0.cmp(&b.0));
    let mut symbols: Vec<Vec<u8>> = vec![b"".to_vec(), b"a_unused".to_vec(), b"zz".to_vec()];
    for (l, _) in &series {
        for (n, v) in l {
            symbols.extend([n.clone(), v.clone()]);
        }
    }
    symbols.sort();
    symbols.dedup();
    let ord = |s: &[u8]| symbols.binary_search_by(|x| x.as_slice().cmp(s)).unwrap() as u32;
    let ids: Vec<Vec<(u32, u32)>> = series
        .iter()
        .map(|(l, _)| l.iter().map(|(n, v)| (ord(n), ord(v))).collect())
        .collect();
    let mut e = Encoded::default();
    series.iter().for_each(|(_, s)| e.push(s));
    let write = |by_ids: bool| {
        let dir = tempfile::tempdir().unwrap();
        let mut w = BlockWriter::create(dir.path(), 0, 10_000_000).unwrap();
        if by_ids {
            w.use_symbols(symbols.iter().map(Vec::as_slice)).unwrap();
            w.add_encoded_ids(ids.iter().map(Vec::as_slice), &e)
                .unwrap();
        } else {
            w.add_encoded(series.iter().map(|(l, _)| l.as_slice()), &e)
                .unwrap();
        }
        let b = w.finish().unwrap().unwrap();
        let read = |f: &str| std::fs::read(b.dir.join(f)).unwrap();
        (read("index"), read("chunks/000001"), dir)
    };
    let (index, chunks, _d) = write(false);
    let (i, c, _d) = write(true);
    assert!(i == index, "index differs");
    assert!(c == chunks, "chunks differ");
}

/// With symbols given, the checks hold on ordinals: unsorted tables,
/// symbols given late, strings, unknown ordinals, out-of-order series,
/// unsorted or empty labels are refused; a refused series adds nothing.
#[test]
fn symbol_ordinals_checked() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = BlockWriter::create(dir.path(), 0, 1_000_000).unwrap();
    let syms: [&[u8]; 6] = [b"", b"1", b"2", b"a", b"b", b"c"];
    assert!(w.use_symbols([&b"b"[..], b"a"]).is_err());
    w.use_symbols(syms).unwrap();
    assert!(w.use_symbols(syms).is_err(), "given twice");
    let s = floats(3, 1000);
    let one = |w: &mut BlockWriter, ls: &[(u32, u32)]| {
        let mut e = Encoded::default();
        e.push(&s);
        w.add_encoded_ids([ls], &e)
    };
    let strings: [(&[u8], &[u8]); 1] = [(b"a", b"1")];
    assert!(w.add_series(&strings, &s).is_err(), "strings after symbols");
    one(&mut w, &[(3, 1), (4, 2)]).unwrap();
    for bad in [
        vec![(3, 1), (4, 2)],
        vec![(3, 1), (4, 1)],
        vec![(3, 1)],
        vec![(3, 1), (4, 2), (5, 0)],
        vec![(3, 1), (5, 2), (4, 2)],
        vec![(3, 1), (4, 9)],
        vec![],
    ] {
        assert!(one(&mut w, &bad).is_err(), "{bad:?} accepted");
    }
    one(&mut w, &[(3, 1), (4, 2), (5, 1)]).unwrap();
    one(&mut w, &[(3, 2)]).unwrap();
    assert_eq!(w.series(), 3);
}

/// An index large enough for every part of its parallel writing to be
/// cut several times (symbols, series windows, postings lists and the
/// postings offset table): read back, every postings list holds exactly
/// the series with its label, in increasing order, and every series the
/// labels it was added with.
#[test]
fn a_large_index_reads_back_list_by_list() {
    use crate::format::index::{IndexReader, SeriesEntry};
    let n = 70_000usize;
    let labels = |i: usize| -> Vec<(Vec<u8>, Vec<u8>)> {
        vec![
            (b"a".to_vec(), format!("x{}", i % 3).into_bytes()),
            (b"b".to_vec(), format!("y{i:06}").into_bytes()),
        ]
    };
    let dir = tempfile::tempdir().unwrap();
    let mut w = BlockWriter::create(dir.path(), 0, 1_000).unwrap();
    let mut e = Encoded::default();
    let mut all: Vec<_> = (0..n).map(labels).collect();
    all.sort();
    for _ in 0..n {
        e.push(&[(1, Value::Float(0.5))]);
    }
    w.add_encoded(all.iter().map(Vec::as_slice), &e).unwrap();
    let b = w.finish().unwrap().unwrap();
    let bytes = std::fs::read(b.dir.join("index")).unwrap();
    let ix = IndexReader::open(&bytes).unwrap();
    let mut entry = SeriesEntry::default();
    let mut got = Vec::new();
    let mut it = ix.series();
    let mut ids = Vec::new();
    while let Some(r) = it.next_into(&mut entry) {
        r.unwrap();
        ix.resolve_labels(&entry, &mut got).unwrap();
        let want = &all[ids.len()];
        assert_eq!(got.len(), want.len());
        for ((gn, gv), (wn, wv)) in got.iter().zip(want) {
            assert_eq!((*gn, *gv), (wn.as_slice(), wv.as_slice()));
        }
        ids.push(entry.id.get() as u32);
    }
    assert_eq!(ids.len(), n);
    let mut want: std::collections::HashMap<(&[u8], &[u8]), Vec<u32>> = Default::default();
    for (i, ls) in all.iter().enumerate() {
        want.entry((&b""[..], &b""[..])).or_default().push(ids[i]);
        for (ln, lv) in ls {
            want.entry((ln.as_slice(), lv.as_slice()))
                .or_default()
                .push(ids[i]);
        }
    }
    let table = ix.postings_table().unwrap();
    assert_eq!(table.len(), 1 + 3 + n);
    let mut listed = 0;
    for p in &table {
        let list: Vec<u32> = ix.postings(p.offset).unwrap().iter().collect();
        assert_eq!(list, want[&(p.name, p.value)], "{:?}={:?}", p.name, p.value);
        listed += list.len();
    }
    assert_eq!(listed, 3 * n);
}

/// A series entry whose body takes 128 bytes or more (a two-byte length:
/// the body, encoded after a one-byte one, moves along) between short
/// ones in the same part: every entry reads back (length and CRC checked)
/// with the labels and chunk times it was added with, and the block
/// verifies without a finding.
#[test]
fn long_series_entries_read_back() {
    use crate::format::index::{IndexReader, SeriesEntry};
    let label = |k: usize, i: usize| {
        (
            format!("l{k:02}").into_bytes(),
            format!("v{i}").into_bytes(),
        )
    };
    let sets: Vec<Vec<(Vec<u8>, Vec<u8>)>> = vec![
        (0..2).map(|k| label(k, 0)).collect(),
        (0..60).map(|k| label(k, 1)).collect(),
        (0..2).map(|k| label(k, 2)).collect(),
        (0..3).map(|k| label(k, 3)).collect(),
    ];
    let samples = [
        floats(5, 15_000),
        floats(2000, 15_000),
        floats(300, 15_000),
        floats(1, 1),
    ];
    let dir = tempfile::tempdir().unwrap();
    let mut w = BlockWriter::create(dir.path(), 0, 100_000_000).unwrap();
    let mut e = Encoded::with_capacity(1, 1);
    samples.iter().for_each(|s| e.push(s));
    w.add_encoded(sets.iter().map(Vec::as_slice), &e).unwrap();
    let b = w.finish().unwrap().unwrap();
    let bytes = std::fs::read(b.dir.join("index")).unwrap();
    let ix = IndexReader::open(&bytes).unwrap();
    let (mut entry, mut got, mut it, mut n) = (SeriesEntry::default(), Vec::new(), ix.series(), 0);
    while let Some(r) = it.next_into(&mut entry) {
        r.unwrap();
        ix.resolve_labels(&entry, &mut got).unwrap();
        let want: Vec<(&[u8], &[u8])> = sets[n].iter().map(|(a, b)| (&a[..], &b[..])).collect();
        assert_eq!(got, want, "series {n}");
        let s = &samples[n];
        assert_eq!(entry.chunks.len(), encode_chunks(s).len(), "series {n}");
        assert_eq!(entry.chunks.first().unwrap().mint, s.first().unwrap().0);
        assert_eq!(entry.chunks.last().unwrap().maxt, s.last().unwrap().0);
        if n == 1 {
            // Length field, body of 128 bytes or more, CRC.
            assert!(entry.encoded_len >= 2 + 128 + 4, "{}", entry.encoded_len);
        }
        n += 1;
    }
    assert_eq!(n, sets.len());
    let check = crate::check::block::verify_block(&b.dir, &Default::default());
    assert!(check.findings.is_empty(), "{:?}", check.findings);
}
