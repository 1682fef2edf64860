//! Unit tests (may panic).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::*;
use crate::format::record::{self, RecordType};

const FULL: u8 = 1;
const FIRST: u8 = 2;
const MIDDLE: u8 = 3;
const LAST: u8 = 4;

/// A test writer following the Prometheus page rules.
struct W {
    buf: Vec<u8>,
    page: usize,
}

impl W {
    fn new(page: usize) -> Self {
        Self {
            buf: Vec::new(),
            page,
        }
    }

    fn frag(&mut self, type_byte: u8, data: &[u8]) {
        self.buf.push(type_byte);
        self.buf
            .extend_from_slice(&(data.len() as u16).to_be_bytes());
        self.buf.extend_from_slice(&crc32c(data).to_be_bytes());
        self.buf.extend_from_slice(data);
    }

    /// Logs `stored` (already compressed as `flag` says), splitting at pages.
    fn log(&mut self, stored: &[u8], flag: u8) {
        let mut rest = stored;
        let mut i = 0;
        loop {
            let left = self.page - self.buf.len() % self.page;
            if left < FRAGMENT_HEADER_SIZE {
                self.buf.resize(self.buf.len() + left, 0);
                continue;
            }
            let l = rest.len().min(left - FRAGMENT_HEADER_SIZE);
            let (part, r) = rest.split_at(l);
            let typ = match (i == 0, r.is_empty()) {
                (true, true) => FULL,
                (true, false) => FIRST,
                (false, true) => LAST,
                (false, false) => MIDDLE,
            };
            self.frag(typ | flag, part);
            rest = r;
            i += 1;
            if rest.is_empty() {
                break;
            }
        }
    }

    fn pad(&mut self) {
        let left = (self.page - self.buf.len() % self.page) % self.page;
        self.buf.resize(self.buf.len() + left, 0);
    }
}

fn read_all(seg: &[u8], page: usize) -> (Vec<Record>, Option<WalError>, u64) {
    let mut r = RecordReader::with_page_size(seg, page);
    let mut recs = Vec::new();
    let mut err = None;
    for item in r.by_ref() {
        match item {
            Ok(rec) => recs.push(rec),
            Err(e) => err = Some(e),
        }
    }
    (recs, err, r.valid_offset())
}

fn payload(i: usize, len: usize) -> Vec<u8> {
    (0..len).map(|j| (i * 31 + j * 7) as u8 | 1).collect()
}

#[test]
fn format_md_example_fragment() {
    // docs/FORMAT.md §5.2: an uncompressed Series record for ref 1,
    // labels __name__="up", job="a".
    let seg: Vec<u8> = vec![
        0x01, 0x00, 0x1c, 0xe2, 0x13, 0x77, 0x03, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x01, 0x02, 0x08, 0x5f, 0x5f, 0x6e, 0x61, 0x6d, 0x65, 0x5f, 0x5f, 0x02, 0x75, 0x70, 0x03,
        0x6a, 0x6f, 0x62, 0x01, 0x61,
    ];
    let mut r = RecordReader::new(&seg);
    let rec = r.next_record().unwrap().unwrap();
    assert_eq!(rec.offset, 0);
    assert_eq!(rec.end_offset, 35);
    assert_eq!(rec.compression, Compression::None);
    assert_eq!(rec.fragments, 1);
    assert_eq!(record::record_type(rec.data), Some(RecordType::Series));
    let series = record::decode_series(rec.data, 0).unwrap();
    assert_eq!(series.len(), 1);
    assert_eq!(series[0].series_ref.get(), 1);
    assert_eq!(
        series[0].labels,
        vec![
            ("__name__".to_string(), "up".to_string()),
            ("job".to_string(), "a".to_string())
        ]
    );
    assert!(r.next_record().is_none());
    assert_eq!(r.valid_offset(), 35);
    // The same, zero-padded to a full page, reads the same.
    let mut padded = seg.clone();
    padded.resize(PAGE_SIZE, 0);
    let (recs, err, valid) = read_all(&padded, PAGE_SIZE);
    assert_eq!((recs.len(), err, valid), (1, None, 35));
}

#[test]
fn reassembly_across_tiny_pages() {
    for page in [8usize, 9, 13, 17, 64, 100, PAGE_SIZE] {
        let mut w = W::new(page);
        let lens = [0usize, 1, 5, 6, 7, 10, 33, 100, 250, 1000, 3];
        for (i, &l) in lens.iter().enumerate() {
            w.log(&payload(i, l), 0);
        }
        let (recs, err, valid) = read_all(&w.buf, page);
        assert_eq!(err, None, "page {page}");
        assert_eq!(recs.len(), lens.len(), "page {page}");
        for (i, (rec, &l)) in recs.iter().zip(&lens).enumerate() {
            assert_eq!(rec.data, payload(i, l), "page {page} record {i}");
        }
        assert_eq!(valid, w.buf.len() as u64);
        if page == 17 {
            assert!(recs.iter().any(|r| r.fragments > 2));
        }
        // Padding the last page changes nothing.
        w.pad();
        let (recs2, err2, valid2) = read_all(&w.buf, page);
        assert_eq!((recs2.len(), err2, valid2), (lens.len(), None, valid));
    }
}

#[test]
fn empty_segment_and_all_zero_pages() {
    assert_eq!(read_all(&[], PAGE_SIZE).0.len(), 0);
    let (recs, err, valid) = read_all(&[0u8; 3 * 64], 64);
    assert_eq!((recs.len(), err, valid), (0, None, 0));
}

#[test]
fn zero_length_first_fragment() {
    // Exactly 7 bytes left in the page: an empty `first` fragment.
    let mut w = W::new(32);
    w.log(&payload(0, 18), 0); // 7 + 18 = 25, 7 bytes left
    assert_eq!(w.buf.len(), 25);
    w.log(&payload(1, 30), 0);
    assert_eq!(w.buf[25] & 7, FIRST);
    assert_eq!(&w.buf[26..28], &[0, 0]);
    let (recs, err, _) = read_all(&w.buf, 32);
    assert_eq!(err, None);
    assert_eq!(recs[1].data, payload(1, 30));
    assert_eq!(recs[1].offset, 25);
    assert_eq!(recs[1].fragments, 3);
}

fn corrupt_code(seg: &[u8], page: usize) -> (DecodeError, u64) {
    let (_, err, valid) = read_all(seg, page);
    match err {
        Some(WalError::Corrupt(e)) => (e, valid),
        other => panic!("expected corruption, got {other:?}"),
    }
}

#[test]
fn fragment_order_violations() {
    let cases: &[(&[u8], &str)] = &[
        (&[MIDDLE], "middle with no record open"),
        (&[LAST], "last with no record open"),
        (&[FIRST, FULL], "full inside a record"),
        (&[FIRST, FIRST], "first inside a record"),
        (&[FIRST, MIDDLE, FIRST], "first after middle"),
    ];
    for (types, what) in cases {
        let mut w = W::new(PAGE_SIZE);
        w.log(b"\x02ok", 0);
        let good_end = w.buf.len() as u64;
        let mut bad_at = 0;
        for &t in *types {
            bad_at = w.buf.len() as u64;
            w.frag(t, b"xx");
        }
        let (e, valid) = corrupt_code(&w.buf, PAGE_SIZE);
        assert_eq!(e.offset(), bad_at, "{what}");
        assert_eq!(e.code(), "invalid_structure", "{what}");
        assert_eq!(valid, good_end, "{what}");
    }
}

#[test]
fn invalid_fragment_types() {
    for t in [5u8, 6, 7, 0x0d, 0x15] {
        let mut w = W::new(PAGE_SIZE);
        w.log(b"\x02abc", 0);
        let at = w.buf.len() as u64;
        w.frag(t, b"zz");
        let (e, valid) = corrupt_code(&w.buf, PAGE_SIZE);
        assert_eq!((e.offset(), valid), (at, at), "type {t}");
        assert!(e.to_string().contains("fragment type"), "{e}");
    }
    // A page terminator carrying a compression flag is refused too.
    let mut w = W::new(64);
    w.frag(FULL, b"abc");
    w.buf.push(SNAPPY_FLAG);
    w.pad();
    let (e, _) = corrupt_code(&w.buf, 64);
    assert_eq!(e.offset(), 10);
}

#[test]
fn bad_crc() {
    let mut w = W::new(PAGE_SIZE);
    w.log(&payload(0, 50), 0);
    let second = w.buf.len();
    w.log(&payload(1, 50), 0);
    w.log(&payload(2, 50), 0);
    w.buf[second + 20] ^= 0x40;
    let (recs, err, valid) = read_all(&w.buf, PAGE_SIZE);
    assert_eq!(recs.len(), 1);
    assert_eq!(valid, second as u64);
    match err {
        Some(WalError::Corrupt(DecodeError::Checksum {
            section: Section::WalFragment,
            offset,
            ..
        })) => assert_eq!(offset, second as u64),
        other => panic!("{other:?}"),
    }
}

#[test]
fn non_zero_padding() {
    let mut w = W::new(64);
    w.log(&payload(0, 10), 0);
    let pad_start = w.buf.len();
    w.pad();
    w.log(&payload(1, 10), 0);
    let mut bad = w.buf.clone();
    bad[pad_start + 5] = 0x01;
    let (e, valid) = corrupt_code(&bad, 64);
    assert_eq!(e.offset(), (pad_start + 5) as u64);
    assert_eq!(valid, pad_start as u64);
    // A (valid) fragment header that crosses the page boundary is accepted,
    // as Prometheus does, and counted.
    let mut w = W::new(32);
    w.log(&payload(0, 20), 0); // 27 bytes, 5 left
    w.frag(FULL, b"abcd");
    let mut r = RecordReader::with_page_size(&w.buf, 32);
    assert!(r.next_record().unwrap().is_ok());
    assert_eq!(r.next_record().unwrap().unwrap().data, b"abcd");
    assert_eq!(r.fragment_stats().page_crossings, 1);
    // The same bytes with a broken CRC are corruption at that fragment.
    w.buf[27 + 7] ^= 1;
    let (e, _) = corrupt_code(&w.buf, 32);
    assert_eq!((e.offset(), e.code()), (27, "checksum_mismatch"));
}

#[test]
fn length_beyond_page() {
    // A fragment running past its page but fitting in a page is accepted.
    let mut w = W::new(64);
    w.log(&payload(0, 10), 0);
    w.frag(FULL, &payload(1, 41)); // 47 bytes were left in the page
    let mut r = RecordReader::with_page_size(&w.buf, 64);
    while let Some(rec) = r.next_record() {
        rec.unwrap();
    }
    assert_eq!(r.fragment_stats().page_crossings, 1);
    // Longer than a page minus the header: corruption.
    let mut w = W::new(64);
    let at = w.buf.len();
    w.frag(FULL, &payload(1, 58));
    let (e, _) = corrupt_code(&w.buf, 64);
    assert_eq!(e.offset(), at as u64);
    assert!(e.to_string().contains("a page minus the header"), "{e}");
    // At 32 KiB pages the header length may not exceed 32761.
    let mut seg = vec![FULL, 0x7f, 0xfa, 0, 0, 0, 0];
    seg.resize(PAGE_SIZE + 10, 0);
    let (e, _) = corrupt_code(&seg, PAGE_SIZE);
    assert_eq!(e.offset(), 0);
}

/// The record sequences of Prometheus's `testReaderCases`
/// (`tsdb/wlog/reader_test.go`), restated.
// A table of Prometheus' reader cases.
#[allow(clippy::too_many_lines)]
#[test]
fn prometheus_reader_cases() {
    let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let enc = |t: u8, b: &[u8]| -> Vec<u8> {
        if t == 0 {
            let mut v = vec![0u8];
            v.extend_from_slice(b);
            return v;
        }
        let mut v = vec![t];
        v.extend_from_slice(&(b.len() as u16).to_be_bytes());
        v.extend_from_slice(&crc32c(b).to_be_bytes());
        v.extend_from_slice(b);
        v
    };
    let zeros = |n: usize| vec![0u8; n];
    type Case<'a> = (Vec<(u8, Vec<u8>)>, Vec<&'a [u8]>, bool);
    let d = |a: usize, b: usize| data[a..b].to_vec();
    let cases: Vec<Case<'_>> = vec![
        (
            vec![
                (FULL, d(0, 200)),
                (FIRST, d(200, 300)),
                (LAST, d(300, 400)),
                (FIRST, d(400, 800)),
                (MIDDLE, d(800, 900)),
                (0, zeros(PAGE_SIZE - 900 - 7 * 5 - 1)),
                (LAST, d(900, 900)),
                (FIRST, d(900, 1000)),
                (MIDDLE, d(1000, 1200)),
                (MIDDLE, d(1200, 30000)),
                (MIDDLE, d(30000, 30001)),
                (MIDDLE, d(30001, 30001)),
                (LAST, d(30001, 32000)),
            ],
            vec![
                &data[0..200],
                &data[200..400],
                &data[400..900],
                &data[900..32000],
            ],
            false,
        ),
        (
            vec![(FULL, d(0, PAGE_SIZE - 7))],
            vec![&data[..PAGE_SIZE - 7]],
            false,
        ),
        (vec![(FULL, d(0, PAGE_SIZE + 1))], vec![], true),
        // Two records that together overflow a page: accepted ("seen in production").
        (
            vec![(FULL, d(0, PAGE_SIZE / 2)), (FULL, d(0, PAGE_SIZE / 2))],
            vec![&data[..PAGE_SIZE / 2], &data[..PAGE_SIZE / 2]],
            false,
        ),
        (vec![(MIDDLE, d(0, 200))], vec![], true),
        (vec![(LAST, d(0, 200))], vec![], true),
        (vec![(FIRST, d(0, 200)), (FULL, d(200, 400))], vec![], true),
        (
            vec![
                (FIRST, d(0, 100)),
                (MIDDLE, d(100, 200)),
                (FULL, d(200, 400)),
            ],
            vec![],
            true,
        ),
        (
            vec![
                (FULL, d(0, 100)),
                (0, {
                    let mut z = zeros(PAGE_SIZE - 7 - 102);
                    z.push(1);
                    z
                }),
            ],
            vec![&data[..100]],
            true,
        ),
    ];
    for (i, (frags, exp, fail)) in cases.iter().enumerate() {
        let seg: Vec<u8> = frags.iter().flat_map(|(t, b)| enc(*t, b)).collect();
        let (recs, err, _) = read_all(&seg, PAGE_SIZE);
        let got: Vec<&[u8]> = recs.iter().map(|r| &r.data[..]).collect();
        assert_eq!(&got, exp, "case {i}");
        assert_eq!(err.is_some(), *fail, "case {i}: {err:?}");
        if let Some(e) = err {
            assert!(!e.is_torn(), "case {i}: {e}");
        }
    }
}

#[test]
fn torn_tail() {
    let mut w = W::new(64);
    w.log(&payload(0, 10), 0);
    let good = w.buf.len() as u64;
    w.log(&payload(1, 150), 0); // first, middle(s), last
    let full = w.buf.clone();
    assert_eq!(read_all(&full, 64).1, None);
    // Cut after each byte of the split record: always torn at `good`.
    for cut in (good as usize + 1)..full.len() {
        let (recs, err, valid) = read_all(&full[..cut], 64);
        assert_eq!(recs.len(), 1, "cut {cut}");
        assert_eq!(valid, good, "cut {cut}");
        match err {
            Some(WalError::Torn { offset, end }) => {
                assert_eq!((offset, end), (good, cut as u64), "cut {cut}")
            }
            // Cutting at a page boundary right after padding is still torn.
            other => panic!("cut {cut}: {other:?}"),
        }
    }
    // Cutting inside a single-fragment record is torn at that record.
    let mut w = W::new(PAGE_SIZE);
    w.log(&payload(0, 10), 0);
    let at = w.buf.len();
    w.log(&payload(1, 20), 0);
    for cut in at + 1..w.buf.len() {
        let (_, err, valid) = read_all(&w.buf[..cut], PAGE_SIZE);
        assert!(
            matches!(err, Some(WalError::Torn { offset, .. }) if offset == at as u64),
            "{err:?}"
        );
        assert_eq!(valid, at as u64);
    }
    let e = WalError::Torn { offset: 3, end: 9 };
    assert!(e.is_torn());
    assert_eq!((e.offset(), e.code()), (3, "torn_tail"));
}

#[test]
fn snappy_and_zstd_records() {
    let rec: Vec<u8> = std::iter::once(2u8)
        .chain((0..5000).flat_map(|i: u32| (i % 17).to_be_bytes()))
        .collect();
    let snappy = snap::raw::Encoder::new().compress_vec(&rec).unwrap();
    let zstd = zstd::bulk::compress(&rec, 3).unwrap();
    assert!(snappy.len() < rec.len() && zstd.len() < rec.len());
    for page in [64usize, PAGE_SIZE] {
        let mut w = W::new(page);
        w.log(&snappy, SNAPPY_FLAG);
        w.log(&zstd, ZSTD_FLAG);
        w.log(&rec, 0);
        w.log(&snappy, SNAPPY_FLAG | ZSTD_FLAG); // both bits: snappy wins
        w.log(&[], SNAPPY_FLAG); // empty compressed record = empty record
        let mut r = RecordReader::with_page_size(&w.buf, page);
        let expect = [
            (Compression::Snappy, &rec[..]),
            (Compression::Zstd, &rec[..]),
            (Compression::None, &rec[..]),
            (Compression::Snappy, &rec[..]),
            (Compression::Snappy, &[][..]),
        ];
        for (i, (c, data)) in expect.iter().enumerate() {
            let got = r.next_record().unwrap().unwrap();
            assert_eq!(
                (got.compression, got.data),
                (*c, *data),
                "page {page} rec {i}"
            );
        }
        assert!(r.next_record().is_none());
    }
    // A zstd stream without a content size (streamed) decodes too.
    let mut enc = zstd::stream::write::Encoder::new(Vec::new(), 1).unwrap();
    std::io::Write::write_all(&mut enc, &rec).unwrap();
    let streamed = enc.finish().unwrap();
    let mut w = W::new(PAGE_SIZE);
    w.log(&streamed, ZSTD_FLAG);
    let (recs, err, _) = read_all(&w.buf, PAGE_SIZE);
    assert_eq!(err, None);
    assert_eq!(recs[0].data, rec);
}

#[test]
fn decompression_errors() {
    let rec = vec![2u8; 1000];
    let snappy = snap::raw::Encoder::new().compress_vec(&rec).unwrap();
    let mut broken = snappy.clone();
    let n = broken.len();
    broken.truncate(n - 3);
    let mut w = W::new(PAGE_SIZE);
    w.log(b"\x01", 0);
    let at = w.buf.len() as u64;
    w.log(&broken, SNAPPY_FLAG);
    let (e, valid) = corrupt_code(&w.buf, PAGE_SIZE);
    assert_eq!((e.offset(), valid), (at, at));
    // Snappy header claiming a huge size.
    let mut w = W::new(PAGE_SIZE);
    w.log(&[0xff, 0xff, 0xff, 0xff, 0x0f, 0x00], SNAPPY_FLAG);
    let (e, _) = corrupt_code(&w.buf, PAGE_SIZE);
    assert!(e.to_string().contains("snappy"), "{e}");
    // Garbage flagged as zstd.
    let mut w = W::new(PAGE_SIZE);
    w.log(b"not zstd at all", ZSTD_FLAG);
    let (e, _) = corrupt_code(&w.buf, PAGE_SIZE);
    assert!(e.to_string().contains("zstd"), "{e}");
}

#[test]
fn compression_flag_must_not_change_inside_a_record() {
    let mut w = W::new(PAGE_SIZE);
    w.frag(FIRST | SNAPPY_FLAG, b"ab");
    let at = w.buf.len() as u64;
    w.frag(LAST, b"cd");
    let (e, valid) = corrupt_code(&w.buf, PAGE_SIZE);
    assert_eq!((e.offset(), valid), (at, 0));
}

#[test]
fn fragment_reader_yields_fragments() {
    let mut w = W::new(32);
    w.log(&payload(0, 60), 0);
    let frags: Vec<_> = FragmentReader::with_page_size(&w.buf, 32)
        .map(|f| f.unwrap())
        .collect();
    let kinds: Vec<_> = frags.iter().map(|f| f.kind).collect();
    assert_eq!(
        kinds,
        vec![
            FragmentType::First,
            FragmentType::Middle,
            FragmentType::Last
        ]
    );
    assert_eq!(frags[1].offset, 32);
    assert_eq!(frags.iter().map(|f| f.data.len()).sum::<usize>(), 60);
}

/// Counts per record type of one real segment.
fn count_types(
    seg: &[u8],
) -> (
    std::collections::BTreeMap<&'static str, u64>,
    FragmentStats,
    u64,
) {
    let mut r = RecordReader::new(seg);
    let mut m = std::collections::BTreeMap::new();
    let mut snappy = 0;
    while let Some(rec) = r.next_record() {
        let rec = rec.unwrap();
        if rec.compression == Compression::Snappy {
            snappy += 1;
        }
        let t = record::record_type(rec.data).unwrap();
        *m.entry(t.name()).or_insert(0) += 1;
    }
    assert!(r.valid_offset() as usize <= seg.len());
    (m, r.fragment_stats(), snappy)
}

fn testdata(rel: &str) -> Vec<u8> {
    let p = format!("{}/testdata/wal/{rel}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
}

#[test]
fn real_segments_match_oracle() {
    // prom-2.42-nativehist/oracle/inspect_data.json, "wal" section.
    let seg = testdata("nativehist/wal/00000004");
    let (m, f, snappy) = count_types(&seg);
    assert_eq!(m.get("samples"), Some(&360));
    assert_eq!(m.get("histogram_samples"), Some(&120));
    assert_eq!(m.get("float_histogram_samples"), Some(&578));
    assert_eq!((f.full, f.first, f.middle, f.last), (1050, 8, 0, 8));
    assert_eq!(snappy, 1058);

    let seg = testdata("nativehist/wal/00000005");
    let (m, f, _) = count_types(&seg);
    assert_eq!(m.get("samples"), Some(&360));
    assert_eq!(m.get("histogram_samples"), Some(&120));
    assert_eq!(m.get("float_histogram_samples"), Some(&598));
    assert_eq!((f.full, f.first, f.last), (1071, 7, 7));

    let seg = testdata("nativehist/wal/00000006");
    let (m, f, _) = count_types(&seg);
    assert_eq!(m.get("samples"), Some(&40));
    assert_eq!(m.get("tombstones"), Some(&1));
    assert_eq!(m.get("histogram_samples"), Some(&14));
    assert_eq!(m.get("float_histogram_samples"), Some(&66));
    assert_eq!(f.full, 121);

    let seg = testdata("nativehist/wal/checkpoint.00000003/00000000");
    let (m, _, snappy) = count_types(&seg);
    assert_eq!(m.get("series"), Some(&9));
    assert_eq!(snappy, 6);
}

mod prop {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Any records written with the page rules read back unchanged, at any
        /// page size and compression; any cut of the data yields a prefix of
        /// them and then either nothing or a torn tail, never corruption.
        #[test]
        fn roundtrip_and_cuts(
            page in 8usize..300,
            recs in proptest::collection::vec(
                (proptest::collection::vec(any::<u8>(), 0..700), 0u8..3),
                0..12,
            ),
            cut_frac in 0.0f64..1.0,
        ) {
            let mut w = W::new(page);
            let mut ends = Vec::new();
            for (data, c) in &recs {
                let (stored, flag) = match c {
                    1 => (snap::raw::Encoder::new().compress_vec(data).unwrap(), SNAPPY_FLAG),
                    2 => (zstd::bulk::compress(data, 1).unwrap(), ZSTD_FLAG),
                    _ => (data.clone(), 0),
                };
                w.log(&stored, flag);
                ends.push(w.buf.len() as u64);
            }
            let (got, err, valid) = read_all(&w.buf, page);
            prop_assert_eq!(err, None);
            prop_assert_eq!(got.len(), recs.len());
            for (g, (data, _)) in got.iter().zip(&recs) {
                prop_assert_eq!(&g.data, data);
            }
            prop_assert_eq!(valid, ends.last().copied().unwrap_or(0));

            let cut = (w.buf.len() as f64 * cut_frac) as usize;
            let (got, err, valid) = read_all(&w.buf[..cut], page);
            let complete = ends.iter().filter(|&&e| e <= cut as u64).count();
            prop_assert_eq!(got.len(), complete);
            prop_assert_eq!(valid, if complete == 0 { 0 } else { ends[complete - 1] });
            match err {
                None => prop_assert!(complete == recs.len() || cut as u64 == valid
                    || w.buf[valid as usize..cut].iter().all(|&b| b == 0)),
                Some(WalError::Torn { offset, end }) => {
                    prop_assert!(offset >= valid);
                    prop_assert_eq!(end, cut as u64);
                }
                Some(e) => prop_assert!(false, "corruption on a cut: {e}"),
            }
        }
    }
}
