//! `promsnap verify` on real blocks damaged in the test itself, at
//! structure-aware offsets found with the library's own readers. Every test
//! asserts the finding's code, severity, path and offset — not just the exit code.

use std::path::{Path, PathBuf};

use promsnap::format::index::{IndexReader, SeriesEntry};
use serde_json::Value;

use crate::util::{copy_dir, promsnap, testdata};

const SNAP: &str = "prom-2.42-live/data/snapshots/20261125T091235Z-7531d0e39246db15";
pub(crate) const BLOCK: &str = "01M88ZEAF15198PYN7F74NS04J";
/// The snapshot's two other blocks.
pub(crate) const B1: &str = "01M88ZHZPXFRQK5144XJKD707B";
pub(crate) const B2: &str = "01M88ZHZN1XRWVWM1RH4GVHSAJ";

/// A temp dir holding a copy of the skip-head snapshot (3 real blocks).
pub(crate) fn snapshot_copy() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("snap");
    copy_dir(&testdata(SNAP), &dir);
    (tmp, dir)
}

pub(crate) fn verify_json(dir: &Path, extra: &[&str]) -> (i32, Value) {
    let mut args = vec!["verify", "--json", dir.to_str().unwrap()];
    args.extend_from_slice(extra);
    let out = promsnap(&args);
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("bad JSON ({e}): {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap(), v)
}

/// The findings with `code`.
pub(crate) fn with_code<'a>(v: &'a Value, code: &str) -> Vec<&'a Value> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == code)
        .collect()
}

/// Asserts exactly the expected finding exists and returns it.
#[track_caller]
pub(crate) fn expect(
    v: &Value,
    code: &str,
    severity: &str,
    path: &str,
    offset: Option<u64>,
) -> Value {
    let fs = with_code(v, code);
    let f = fs
        .iter()
        .find(|f| f["path"] == path && offset.is_none_or(|o| f["offset"] == o));
    match f {
        Some(f) => {
            assert_eq!(f["severity"], severity, "{f}");
            (*f).clone()
        }
        None => panic!(
            "no {code} finding at {path}@{offset:?}; findings: {}",
            serde_json::to_string_pretty(&v["findings"]).unwrap()
        ),
    }
}

fn flip(path: &Path, offset: u64, mask: u8) {
    let mut b = std::fs::read(path).unwrap();
    b[offset as usize] ^= mask;
    std::fs::write(path, b).unwrap();
}

fn write_json(path: &Path, edit: impl FnOnce(&mut Value)) {
    let mut v: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    edit(&mut v);
    std::fs::write(path, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
}

/// The middle series entry of a block's index: (offset, chunk refs, labels string).
fn middle_series(index: &Path) -> (u64, Vec<(u64, i64, i64)>) {
    let bytes = std::fs::read(index).unwrap();
    let r = IndexReader::open(&bytes).unwrap();
    let mut it = r.series();
    let mut e = SeriesEntry::default();
    let mut all = Vec::new();
    while let Some(x) = it.next_into(&mut e) {
        x.unwrap();
        all.push((
            e.offset,
            e.chunks
                .iter()
                .map(|c| (c.chunk_ref.get(), c.mint, c.maxt))
                .collect::<Vec<_>>(),
        ));
    }
    all.swap_remove(all.len() / 2)
}

#[test]
fn clean_real_fixtures_have_no_errors() {
    for d in [
        "prom-2.42-live/data",
        "prom-2.42-live/data/snapshots/20261125T091234Z-788eafc011a10c98",
        SNAP,
        "backfill-small/blocks",
        "prom-2.42-nativehist/data/snapshots/20261125T095910Z-571c9d7c71851497",
    ] {
        let (code, v) = verify_json(&testdata(d), &[]);
        let errors: Vec<_> = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["severity"] == "error")
            .collect();
        assert!(errors.is_empty(), "{d}: {errors:#?}");
        assert_eq!(code, 0, "{d}");
        assert_eq!(v["ok"], true);
        for b in v["blocks"].as_array().unwrap() {
            assert_eq!(
                b["counts"]["samples"], b["counts"]["samples_decoded"],
                "{d}: every sample decoded"
            );
        }
    }
}

#[test]
fn chunk_flip_deep_in_segment_names_chunk_series_and_lost_range() {
    let (_t, dir) = snapshot_copy();
    let (_, chunks) = middle_series(&dir.join(BLOCK).join("index"));
    let (cref, mint, maxt) = chunks[0];
    let off = cref & 0xffff_ffff;
    flip(&dir.join(BLOCK).join("chunks/000001"), off + 20, 0x10);
    let (code, v) = verify_json(&dir, &[]);
    assert_eq!(code, 1);
    let f = expect(
        &v,
        "chunk_checksum_mismatch",
        "error",
        &format!("{BLOCK}/chunks/000001"),
        Some(off),
    );
    assert_eq!(f["block"], BLOCK);
    assert!(
        f["series"].as_str().unwrap().starts_with("{__name__="),
        "{f}"
    );
    assert_eq!(f["time_range"], serde_json::json!([mint, maxt + 1]));
    // The other blocks are still checked and clean.
    let blocks = v["blocks"].as_array().unwrap();
    assert_eq!(blocks.iter().filter(|b| b["status"] == "ok").count(), 2);
}

#[test]
fn chunk_data_rewritten_with_valid_crc_is_caught_by_decoding() {
    let (_t, dir) = snapshot_copy();
    let (_, chunks) = middle_series(&dir.join(BLOCK).join("index"));
    let off = (chunks[0].0 & 0xffff_ffff) as usize;
    let seg = dir.join(BLOCK).join("chunks/000001");
    let mut b = std::fs::read(&seg).unwrap();
    // record: uvarint len | enc | data; first timestamp varint starts at data+2.
    let len = b[off] as usize; // small chunks: one-byte length
    assert!(len < 128);
    b[off + 2 + 2] ^= 0x02; // change t0
    let crc = crc32c::crc32c(&b[off + 1..off + 2 + len]);
    b[off + 2 + len..off + 6 + len].copy_from_slice(&crc.to_be_bytes());
    std::fs::write(&seg, b).unwrap();
    let (code, v) = verify_json(&dir, &[]);
    assert_eq!(code, 1);
    expect(
        &v,
        "chunk_meta_mismatch",
        "error",
        &format!("{BLOCK}/chunks/000001"),
        Some(off as u64),
    );
    // --quick does not decode samples, so it cannot see this.
    let (qcode, qv) = verify_json(&dir, &["--quick"]);
    assert_eq!(qcode, 0, "{qv}");
}

/// The last chunk of a segment replaced by a well-framed XOR chunk (valid
/// CRC) whose second sample is older than its first:
/// chunk_timestamps_unordered, at that chunk's offset.
#[test]
fn chunk_with_a_sample_older_than_the_one_before() {
    use promsnap::format::chunkenc::Value as V;
    let (_t, dir) = snapshot_copy();
    let seg = dir.join(BLOCK).join("chunks/000001");
    let mut b = std::fs::read(&seg).unwrap();
    // Walk the records (uvarint len | encoding | data | CRC32C) to the last.
    let (mut at, mut last) = (8usize, 8usize);
    while at < b.len() {
        last = at;
        let mut p = at;
        let len = uvarint_at(&b, &mut p) as usize;
        at = p + 1 + len + 4;
    }
    let mut p = last;
    let len = uvarint_at(&b, &mut p) as usize;
    // The chunk's first time: a zigzag varint after the 2-byte count.
    let mut q = p + 1 + 2;
    let z = uvarint_at(&b, &mut q);
    let t0 = (z >> 1) as i64 ^ -((z & 1) as i64);
    assert!(p + 1 + len + 4 == b.len(), "the last record ends the file");
    let samples = [
        (t0, V::Float(1.0)),
        (t0 - 15_000, V::Float(2.0)),
        (t0 + 15_000, V::Float(3.0)),
    ];
    let chunks = promsnap::write::encode_chunks(&samples);
    assert_eq!(chunks.len(), 1, "one chunk of three samples");
    let c = &chunks[0];
    let mut rec = Vec::new();
    let mut n = c.data.len() as u64;
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            rec.push(byte);
            break;
        }
        rec.push(byte | 0x80);
    }
    let body_at = rec.len();
    rec.push(c.encoding.to_u8());
    rec.extend_from_slice(&c.data);
    let crc = crc32c::crc32c(&rec[body_at..]);
    rec.extend_from_slice(&crc.to_be_bytes());
    b.truncate(last);
    b.extend_from_slice(&rec);
    std::fs::write(&seg, b).unwrap();
    let (code, v) = verify_json(&dir, &[]);
    assert_eq!(code, 1);
    expect(
        &v,
        "chunk_timestamps_unordered",
        "error",
        &format!("{BLOCK}/chunks/000001"),
        Some(last as u64),
    );
}

#[test]
fn unknown_chunk_encoding() {
    let (_t, dir) = snapshot_copy();
    let (_, chunks) = middle_series(&dir.join(BLOCK).join("index"));
    let off = (chunks[0].0 & 0xffff_ffff) as usize;
    let seg = dir.join(BLOCK).join("chunks/000001");
    let mut b = std::fs::read(&seg).unwrap();
    let len = b[off] as usize;
    b[off + 1] = 9;
    let crc = crc32c::crc32c(&b[off + 1..off + 2 + len]);
    b[off + 2 + len..off + 6 + len].copy_from_slice(&crc.to_be_bytes());
    std::fs::write(&seg, &b).unwrap();
    let (_, v) = verify_json(&dir, &[]);
    expect(
        &v,
        "chunk_encoding_unknown",
        "error",
        &format!("{BLOCK}/chunks/000001"),
        Some(off as u64),
    );
    // The same record to the library's decoder, with no file to name: the
    // file-less code of the error, at the encoding byte.
    let rec = promsnap::format::chunks::read_chunk_at(&b, 0, off as u64).unwrap();
    let e = promsnap::format::chunkenc::samples_for_byte(
        rec.encoding,
        rec.data_offset - 1,
        rec.data,
        rec.data_offset,
    )
    .err()
    .unwrap();
    assert_eq!(e.code(), "unsupported_encoding");
    assert_eq!(
        promsnap::check::codes::FindingCode::of_decode(&e).as_str(),
        "unsupported_encoding"
    );
    assert_eq!(e.offset(), off as u64 + 1, "{e}");
}

/// A chunk's length field six bytes long (Prometheus writes at most five):
/// no read of a 32 GiB record, but damage of no more specific kind at the
/// chunk's offset.
#[test]
fn chunk_length_field_too_long_is_chunk_corrupt() {
    let (_t, dir) = snapshot_copy();
    let (_, chunks) = middle_series(&dir.join(BLOCK).join("index"));
    let off = (chunks[0].0 & 0xffff_ffff) as usize;
    let seg = dir.join(BLOCK).join("chunks/000001");
    let mut b = std::fs::read(&seg).unwrap();
    b[off..off + 6].copy_from_slice(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x01]);
    std::fs::write(&seg, b).unwrap();
    let (code, v) = verify_json(&dir, &[]);
    assert_eq!(code, 1);
    expect(
        &v,
        "chunk_corrupt",
        "error",
        &format!("{BLOCK}/chunks/000001"),
        Some(off as u64),
    );
}

#[test]
fn chunk_segment_bad_magic() {
    let (_t, dir) = snapshot_copy();
    flip(&dir.join(BLOCK).join("chunks/000001"), 1, 0xff);
    let (code, v) = verify_json(&dir, &[]);
    assert_eq!(code, 1);
    expect(
        &v,
        "chunk_segment_bad_magic",
        "error",
        &format!("{BLOCK}/chunks/000001"),
        Some(0),
    );
}

#[test]
fn truncated_chunk_segment() {
    let (_t, dir) = snapshot_copy();
    let seg = dir.join(BLOCK).join("chunks/000001");
    let len = std::fs::metadata(&seg).unwrap().len();
    let f = std::fs::OpenOptions::new().write(true).open(&seg).unwrap();
    f.set_len(len / 2).unwrap();
    let (code, v) = verify_json(&dir, &[]);
    assert_eq!(code, 1);
    let refs = with_code(&v, "index_chunk_ref_invalid");
    let trunc = with_code(&v, "chunk_truncated");
    assert!(!refs.is_empty() || !trunc.is_empty(), "{v}");
    for f in refs {
        assert_eq!(f["path"], format!("{BLOCK}/index"));
        assert!(f["series"].is_string() && f["time_range"].is_array());
    }
}

#[test]
fn missing_chunk_file_and_missing_index() {
    let (_t, dir) = snapshot_copy();
    std::fs::remove_file(dir.join(BLOCK).join("chunks/000001")).unwrap();
    std::fs::remove_file(dir.join("01M88ZHZN1XRWVWM1RH4GVHSAJ/index")).unwrap();
    let (code, v) = verify_json(&dir, &[]);
    assert_eq!(code, 1);
    expect(
        &v,
        "index_chunk_ref_invalid",
        "error",
        &format!("{BLOCK}/index"),
        None,
    );
    expect(
        &v,
        "file_missing",
        "error",
        "01M88ZHZN1XRWVWM1RH4GVHSAJ/index",
        None,
    );
}

#[test]
fn series_entry_flip_in_the_middle_of_the_series_section() {
    let (_t, dir) = snapshot_copy();
    let (off, _) = middle_series(&dir.join(BLOCK).join("index"));
    flip(&dir.join(BLOCK).join("index"), off + 3, 0x01);
    let (code, v) = verify_json(&dir, &[]);
    assert_eq!(code, 1);
    expect(
        &v,
        "index_series_checksum",
        "error",
        &format!("{BLOCK}/index"),
        Some(off),
    );
    // The walk goes on: the damaged series is missing from the recount, so the stats differ.
    expect(
        &v,
        "meta_stats_mismatch",
        "error",
        &format!("{BLOCK}/meta.json"),
        None,
    );
}

/// Offset of the first legacy label index (after its section's alignment
/// padding), as the label index offset table names it.
pub(crate) fn first_label_index(r: &IndexReader<'_>) -> u64 {
    let table = r.label_offset_table().unwrap();
    table.into_iter().next().expect("a label index").offset
}

#[test]
fn toc_symbols_postings_and_postings_table_checksums() {
    type OffsetOf = Box<dyn Fn(&IndexReader<'_>, usize) -> u64>;
    let cases: [(&str, OffsetOf, &str); 6] = [
        (
            "toc",
            Box::new(|_, len| len as u64 - 52 + 3),
            "index_toc_checksum",
        ),
        (
            "symbols",
            Box::new(|r, _| r.toc.symbols + 10),
            "index_symbols_checksum",
        ),
        (
            "postings",
            Box::new(|r, _| r.postings_table().unwrap()[5].offset + 8),
            "index_postings_checksum",
        ),
        (
            "postings_table",
            Box::new(|r, _| r.toc.postings_table + 12),
            "index_postings_table_checksum",
        ),
        (
            "label_index",
            Box::new(|r, _| first_label_index(r) + 12),
            "index_label_index_checksum",
        ),
        (
            "label_table",
            Box::new(|r, _| r.toc.label_indices_table + 12),
            "index_label_table_checksum",
        ),
    ];
    for (name, at, code) in cases {
        let (_t, dir) = snapshot_copy();
        let index = dir.join(BLOCK).join("index");
        let bytes = std::fs::read(&index).unwrap();
        let r = IndexReader::open(&bytes).unwrap();
        let off = at(&r, bytes.len());
        let section_start = match name {
            "toc" => bytes.len() as u64 - 52,
            "symbols" => r.toc.symbols,
            "postings" => r.postings_table().unwrap()[5].offset,
            "label_index" => first_label_index(&r),
            "label_table" => r.toc.label_indices_table,
            _ => r.toc.postings_table,
        };
        drop(r);
        flip(&index, off, 0x04);
        let (exit, v) = verify_json(&dir, &[]);
        assert_eq!(exit, 1, "{name}");
        expect(
            &v,
            code,
            "error",
            &format!("{BLOCK}/index"),
            Some(section_start),
        );
    }
}

#[test]
fn index_bad_magic_and_truncation() {
    let (_t, dir) = snapshot_copy();
    flip(&dir.join(BLOCK).join("index"), 0, 0xff);
    let idx2 = dir.join("01M88ZHZN1XRWVWM1RH4GVHSAJ/index");
    let len = std::fs::metadata(&idx2).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&idx2)
        .unwrap()
        .set_len(len - 30)
        .unwrap();
    let (_, v) = verify_json(&dir, &[]);
    expect(
        &v,
        "index_bad_magic",
        "error",
        &format!("{BLOCK}/index"),
        Some(0),
    );
    // A cut index loses its TOC: the walk of its sections shows the cut.
    expect(
        &v,
        "index_truncated",
        "error",
        "01M88ZHZN1XRWVWM1RH4GVHSAJ/index",
        None,
    );
}

#[test]
fn meta_json_damage_classes() {
    let (_t, dir) = snapshot_copy();
    let b1 = "01M88ZHZPXFRQK5144XJKD707B";
    let b2 = "01M88ZHZN1XRWVWM1RH4GVHSAJ";
    std::fs::write(
        dir.join(b1).join("meta.json"),
        b"{\"ulid\": \"01M88ZHZPXFRQK5144XJKD707B\",\n \"minTime\": oops}",
    )
    .unwrap();
    write_json(&dir.join(b2).join("meta.json"), |m| m["version"] = 3.into());
    write_json(&dir.join(BLOCK).join("meta.json"), |m| {
        m["ulid"] = "01M88ZEAF15198PYN7F74NS04K".into();
        m["stats"]["numSamples"] = 5.into();
    });
    let (code, v) = verify_json(&dir, &[]);
    assert_eq!(code, 1);
    let f = expect(
        &v,
        "meta_invalid",
        "error",
        &format!("{b1}/meta.json"),
        None,
    );
    assert!(
        f["offset"].as_u64().unwrap() > 40,
        "offset points into the JSON: {f}"
    );
    expect(
        &v,
        "meta_version_unsupported",
        "error",
        &format!("{b2}/meta.json"),
        None,
    );
    expect(
        &v,
        "meta_ulid_mismatch",
        "error",
        &format!("{BLOCK}/meta.json"),
        None,
    );
    let s = expect(
        &v,
        "meta_stats_mismatch",
        "error",
        &format!("{BLOCK}/meta.json"),
        None,
    );
    assert!(
        s["message"].as_str().unwrap().contains("numSamples is 5"),
        "{s}"
    );
}

#[test]
fn meta_time_range_reversed_and_chunks_outside() {
    let (_t, dir) = snapshot_copy();
    write_json(&dir.join(BLOCK).join("meta.json"), |m| {
        let min = m["minTime"].as_i64().unwrap();
        m["maxTime"] = (min + 1000).into();
    });
    write_json(&dir.join("01M88ZHZN1XRWVWM1RH4GVHSAJ/meta.json"), |m| {
        m["maxTime"] = m["minTime"].clone();
    });
    let (_, v) = verify_json(&dir, &[]);
    let out = expect(
        &v,
        "chunk_outside_block",
        "error",
        &format!("{BLOCK}/index"),
        None,
    );
    assert!(out["series"].is_string() && out["time_range"].is_array());
    expect(
        &v,
        "meta_time_range_invalid",
        "error",
        "01M88ZHZN1XRWVWM1RH4GVHSAJ/meta.json",
        None,
    );
}

#[test]
fn deletable_and_failed_flags_are_warnings() {
    let (_t, dir) = snapshot_copy();
    write_json(&dir.join(BLOCK).join("meta.json"), |m| {
        m["compaction"]["deletable"] = true.into();
        m["compaction"]["failed"] = true.into();
    });
    let (code, v) = verify_json(&dir, &[]);
    assert_eq!(code, 0, "warnings only");
    expect(
        &v,
        "meta_deletable",
        "warning",
        &format!("{BLOCK}/meta.json"),
        None,
    );
    expect(
        &v,
        "meta_compaction_failed",
        "warning",
        &format!("{BLOCK}/meta.json"),
        None,
    );
}

#[test]
fn tombstones_damage_classes() {
    let (_t, dir) = snapshot_copy();
    // A valid file whose one entry names a series that does not exist.
    let body = [0x7f_u8, 0x02, 0x04];
    let mut t = vec![0x01, 0x30, 0xBA, 0x30, 0x01];
    t.extend_from_slice(&body);
    t.extend_from_slice(&crc32c::crc32c(&body).to_be_bytes());
    std::fs::write(dir.join(BLOCK).join("tombstones"), &t).unwrap();
    // A flipped CRC, and a bad magic.
    let t2 = dir.join("01M88ZHZN1XRWVWM1RH4GVHSAJ/tombstones");
    flip(&t2, 7, 0x01);
    let t3 = dir.join("01M88ZHZPXFRQK5144XJKD707B/tombstones");
    flip(&t3, 0, 0x01);
    let (code, v) = verify_json(&dir, &[]);
    assert_eq!(code, 1);
    expect(
        &v,
        "tombstone_dangling_series",
        "warning",
        &format!("{BLOCK}/tombstones"),
        Some(5),
    );
    expect(
        &v,
        "tombstones_checksum",
        "error",
        "01M88ZHZN1XRWVWM1RH4GVHSAJ/tombstones",
        Some(5),
    );
    expect(
        &v,
        "tombstones_bad_magic",
        "error",
        "01M88ZHZPXFRQK5144XJKD707B/tombstones",
        Some(0),
    );
}

#[test]
fn overlapping_duplicate_block_and_tmp_leftover() {
    let (_t, dir) = snapshot_copy();
    let dup = "01M88ZEAF15198PYN7F74NS04Z";
    copy_dir(&dir.join(BLOCK), &dir.join(dup));
    write_json(&dir.join(dup).join("meta.json"), |m| m["ulid"] = dup.into());
    copy_dir(
        &dir.join(BLOCK),
        &dir.join(format!("{BLOCK}.tmp-for-creation")),
    );
    let (code, v) = verify_json(&dir, &[]);
    assert_eq!(code, 0, "overlaps and leftovers are warnings: {v}");
    let f = expect(&v, "overlap_duplicate_block", "warning", dup, None);
    // A copy is served once: nothing is lost, so no loss range, but the
    // overlap is named.
    assert!(f["time_range"].is_null(), "{f}");
    assert!(
        f["message"].as_str().unwrap().contains("(overlap 20"),
        "{f}"
    );
    expect(
        &v,
        "tmp_dir_leftover",
        "warning",
        &format!("{BLOCK}.tmp-for-creation"),
        None,
    );
}

#[test]
fn true_overlap_and_parent_present_are_explained() {
    let (_t, dir) = snapshot_copy();
    // A block that overlaps another and is not a copy of it: vertical merge.
    let other = "01M88ZEAF15198PYN7F74NS05Z";
    copy_dir(&dir.join(BLOCK), &dir.join(other));
    write_json(&dir.join(other).join("meta.json"), |m| {
        m["ulid"] = other.into();
        m["compaction"]["sources"] = serde_json::json!([other]);
    });
    // The level-2 block lists BLOCK as a parent: Prometheus would delete BLOCK.
    write_json(&dir.join("01M88ZHZPXFRQK5144XJKD707B/meta.json"), |m| {
        m["compaction"]["parents"] = serde_json::json!([{"ulid": BLOCK, "minTime": 1795597560123i64, "maxTime": 1795597680000i64}]);
    });
    let (_, v) = verify_json(&dir, &[]);
    let m = expect(&v, "overlap_vertical_merge", "warning", other, None);
    // A vertical merge drops only duplicates: no `[loses …]`, no loss range.
    assert!(m["time_range"].is_null(), "{m}");
    let out = crate::util::promsnap(&["verify", dir.to_str().unwrap()]);
    let human = String::from_utf8_lossy(&out.stdout);
    let line = human
        .lines()
        .find(|l| l.contains("overlap_vertical_merge"))
        .unwrap_or_else(|| panic!("{human}"));
    assert!(!line.contains("[loses"), "{line}");
    let p = expect(&v, "parent_block_present", "warning", BLOCK, None);
    assert_eq!(
        p["time_range"],
        serde_json::json!([1795597560123i64, 1795597680000i64])
    );
}

#[test]
fn target_version_reports_encodings_too_new() {
    let d = testdata("prom-2.42-nativehist/data/snapshots/20261125T095912Z-632fd1ed663fcbfa");
    let (code, v) = verify_json(&d, &["--target-version", "2.39"]);
    assert_eq!(code, 1);
    let fs = with_code(&v, "encoding_too_new");
    assert!(fs.len() >= 4, "{fs:?}");
    assert!(
        fs.iter()
            .all(|f| f["path"].as_str().unwrap().ends_with("/chunks"))
    );
    let (code, _) = verify_json(&d, &["--target-version", "2.42"]);
    assert_eq!(code, 0);
}

#[test]
fn verify_is_read_only() {
    use std::collections::BTreeMap;
    use std::os::unix::fs::PermissionsExt;
    let (_t, dir) = snapshot_copy();
    // Make the tree read-only, then hash and stat every file before and after.
    fn walk(d: &Path, out: &mut BTreeMap<PathBuf, (u32, Option<std::time::SystemTime>, Vec<u8>)>) {
        for e in std::fs::read_dir(d).unwrap() {
            let e = e.unwrap();
            let m = e.metadata().unwrap();
            if m.is_dir() {
                walk(&e.path(), out);
            }
            let content = if m.is_file() {
                std::fs::read(e.path()).unwrap()
            } else {
                Vec::new()
            };
            out.insert(
                e.path(),
                (
                    crc32c::crc32c(&content),
                    m.modified().ok(),
                    content.len().to_le_bytes().to_vec(),
                ),
            );
        }
    }
    fn set_ro(d: &Path, ro: bool) {
        for e in std::fs::read_dir(d).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                set_ro(&e.path(), ro);
            }
            let mode = if e.file_type().unwrap().is_dir() {
                if ro { 0o555 } else { 0o755 }
            } else if ro {
                0o444
            } else {
                0o644
            };
            std::fs::set_permissions(e.path(), std::fs::Permissions::from_mode(mode)).unwrap();
        }
    }
    set_ro(&dir, true);
    let mut before = BTreeMap::new();
    walk(&dir, &mut before);
    for args in [vec!["verify"], vec!["ls"], vec!["dump"]] {
        let mut a = args.clone();
        a.push(dir.to_str().unwrap());
        let out = promsnap(&a);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let mut after = BTreeMap::new();
    walk(&dir, &mut after);
    set_ro(&dir, false);
    assert_eq!(before, after, "the source tree changed");
}

#[test]
fn postings_list_with_valid_crc_but_wrong_series_is_named() {
    let (_t, dir) = snapshot_copy();
    let index = dir.join(BLOCK).join("index");
    let mut bytes = std::fs::read(&index).unwrap();
    let (list_off, all_first) = {
        let r = IndexReader::open(&bytes).unwrap();
        let t = r.postings_table().unwrap();
        let all = r.postings(t[0].offset).unwrap();
        let first = all.iter().next().unwrap();
        // A label list of a single series that is not the first series.
        let pe = t
            .iter()
            .skip(1)
            .find(|p| {
                let l = r.postings(p.offset).unwrap();
                l.len() == 1 && l.iter().next() != Some(first)
            })
            .unwrap();
        (pe.offset as usize, first)
    };
    // Point the list at the first series instead, and fix its CRC.
    bytes[list_off + 8..list_off + 12].copy_from_slice(&all_first.to_be_bytes());
    let crc = crc32c::crc32c(&bytes[list_off + 4..list_off + 12]);
    bytes[list_off + 12..list_off + 16].copy_from_slice(&crc.to_be_bytes());
    std::fs::write(&index, &bytes).unwrap();
    let (code, v) = verify_json(&dir, &[]);
    assert_eq!(code, 1);
    let f = expect(
        &v,
        "index_postings_mismatch",
        "error",
        &format!("{BLOCK}/index"),
        Some(list_off as u64),
    );
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("does not have that label"),
        "{f}"
    );
}

#[test]
fn shifted_meta_findings_are_counted_not_all_held() {
    // Every chunk lies outside a block whose meta.json times were shifted:
    // one finding per chunk. Only the first few are listed; the group counts
    // every one, with the union of the time ranges they cost.
    let tmp = tempfile::tempdir().unwrap();
    let b = tmp.path().join("01M88Z547SWC2057Y39068VCCB");
    copy_dir(
        &testdata("backfill-small/blocks/01M88Z547SWC2057Y39068VCCB"),
        &b,
    );
    let meta_path = b.join("meta.json");
    let mut meta: Value = serde_json::from_slice(&std::fs::read(&meta_path).unwrap()).unwrap();
    let (lo, hi) = (
        meta["minTime"].as_i64().unwrap(),
        meta["maxTime"].as_i64().unwrap(),
    );
    let shift = 1_000_000_000_000i64;
    meta["minTime"] = (lo + shift).into();
    meta["maxTime"] = (hi + shift).into();
    std::fs::write(&meta_path, serde_json::to_vec(&meta).unwrap()).unwrap();
    let (code, v) = verify_json(&b, &[]);
    assert_eq!(code, 1);
    let chunks = v["blocks"][0]["counts"]["chunks"].as_u64().unwrap();
    assert!(chunks > 1000, "{chunks}");
    let listed = with_code(&v, "chunk_outside_block");
    assert_eq!(listed.len() as u64, promsnap::check::KEEP_PER_GROUP);
    let groups: Vec<&Value> = v["finding_groups"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["code"] == "chunk_outside_block")
        .collect();
    assert_eq!(groups.len(), 1);
    let g = groups[0];
    assert_eq!(g["count"].as_u64().unwrap(), chunks);
    assert_eq!(g["listed"], promsnap::check::KEEP_PER_GROUP);
    assert!(g["path"].as_str().unwrap().ends_with("index"));
    // Every chunk costs a range inside the block's original time range.
    let ranges = g["time_ranges"].as_array().unwrap();
    assert!(!ranges.is_empty() && ranges.len() <= promsnap::check::MAX_GROUP_RANGES);
    assert!(ranges[0][0].as_i64().unwrap() >= lo);
    assert!(ranges[ranges.len() - 1][1].as_i64().unwrap() <= hi + 1);
    // The summary counts every finding, listed or not.
    assert!(v["summary"]["errors"].as_u64().unwrap() >= chunks);
    assert_eq!(v["blocks"][0]["errors"], v["summary"]["errors"]);
}

#[test]
fn block_opened_by_a_path_not_named_by_its_ulid_is_not_an_error() {
    // Prometheus' own tsdb/testdata blocks are opened by path, under names
    // like `index_format_v1`: the name is not a finding worth an error there.
    let tmp = tempfile::tempdir().unwrap();
    let b = tmp.path().join("index_format_v1");
    copy_dir(
        &testdata("backfill-small/blocks/01M88Z547SWC2057Y39068VCCB"),
        &b,
    );
    let (code, v) = verify_json(&b, &[]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["summary"]["errors"], 0);
    let f = with_code(&v, "meta_ulid_dir_name");
    assert_eq!(f.len(), 1);
    assert_eq!(f[0]["severity"], "info");
    assert!(with_code(&v, "meta_ulid_mismatch").is_empty());
}

#[test]
fn nothing_recognisable_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let empty = tmp.path().join("empty");
    let junk = tmp.path().join("junk");
    std::fs::create_dir_all(&empty).unwrap();
    std::fs::create_dir_all(junk.join("sub")).unwrap();
    std::fs::write(junk.join("notes.txt"), b"hello").unwrap();
    for d in [&empty, &junk] {
        // A usage error (exit 2): the finding is still in the JSON.
        let (code, v) = verify_json(d, &[]);
        assert_eq!(code, 2, "{v}");
        assert_eq!(v["ok"], false);
        let f = with_code(&v, "dir_unrecognised");
        assert_eq!(f.len(), 1, "{v}");
        assert_eq!(f[0]["severity"], "error");
        // The human output says so too.
        let out = promsnap(&["verify", d.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&out.stdout).contains("nothing recognisable"));
    }
    // A data dir that a Prometheus has only just started in is recognisable.
    let fresh = tmp.path().join("fresh");
    std::fs::create_dir_all(&fresh).unwrap();
    std::fs::write(fresh.join("lock"), b"").unwrap();
    let (code, v) = verify_json(&fresh, &[]);
    assert_eq!(code, 0, "{v}");
}

#[test]
fn a_missing_path_does_not_stop_the_others() {
    let tmp = tempfile::tempdir().unwrap();
    let (_t, snap) = snapshot_copy();
    let missing = tmp.path().join("does-not-exist");
    let out = promsnap(&[
        "verify",
        "--json",
        missing.to_str().unwrap(),
        snap.to_str().unwrap(),
    ]);
    // Exit 2 for the path that could not be read, after checking the other.
    assert_eq!(out.status.code(), Some(2));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["summary"]["blocks"], 3, "{v}");
    let f = with_code(&v, "path_unreadable");
    assert_eq!(f.len(), 1);
    assert!(f[0]["message"].as_str().unwrap().contains("No such file"));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("1 of 2 paths"), "{err}");
}

#[test]
fn cut_index_is_truncated_not_a_toc_checksum() {
    // The index Prometheus 2.42 wrote, cut at 10%..99% of its length and
    // a few bytes into its TOC: each is `index_truncated`, never the TOC
    // checksum error the missing end used to read as. A flipped TOC byte in
    // the whole file stays a TOC checksum error.
    let (_t, dir) = snapshot_copy();
    let index = dir.join(BLOCK).join("index");
    let whole = std::fs::read(&index).unwrap();
    let cuts: Vec<usize> = [10, 25, 50, 75, 90, 99]
        .iter()
        .map(|p| whole.len() * p / 100)
        .chain([whole.len() - 3])
        .collect();
    for cut in cuts {
        std::fs::write(&index, &whole[..cut]).unwrap();
        let (code, v) = verify_json(&dir, &[]);
        assert_eq!(code, 1);
        let path = format!("{BLOCK}/index");
        expect(&v, "index_truncated", "error", &path, None);
        assert!(
            with_code(&v, "index_toc_checksum").is_empty(),
            "cut {cut}: {v}"
        );
    }
    let mut flipped = whole.clone();
    let at = whole.len() - 20;
    flipped[at] ^= 0x10;
    std::fs::write(&index, &flipped).unwrap();
    let (_, v) = verify_json(&dir, &[]);
    expect(
        &v,
        "index_toc_checksum",
        "error",
        &format!("{BLOCK}/index"),
        None,
    );
}

/// Writes a tombstones file: magic, `version`, `body`, CRC32C of the body.
fn write_tombstones(path: &Path, version: u8, body: &[u8]) {
    let mut t = vec![0x01, 0x30, 0xBA, 0x30, version];
    t.extend_from_slice(body);
    t.extend_from_slice(&crc32c::crc32c(body).to_be_bytes());
    std::fs::write(path, &t).unwrap();
}

/// meta.json fields Prometheus reads but does not check: each wrong value
/// has its own code.
#[test]
fn meta_identity_and_compaction_classes() {
    let (_t, dir) = snapshot_copy();
    let (b1, b2) = (B1, B2);
    write_json(&dir.join(BLOCK).join("meta.json"), |m| {
        m["version"] = 2.into();
        m["compaction"]["level"] = 0.into();
    });
    write_json(&dir.join(b1).join("meta.json"), |m| {
        m["ulid"] = "not-a-ulid".into();
        m["compaction"]["sources"] = serde_json::json!(["not-a-ulid-either"]);
        m["compaction"]["parents"] =
            serde_json::json!([{"ulid": "bad parent", "minTime": 0, "maxTime": 1}]);
    });
    // Level 1, valid sources but descending and not its own ULID.
    write_json(&dir.join(b2).join("meta.json"), |m| {
        m["compaction"]["level"] = 1.into();
        m["compaction"]["sources"] = serde_json::json!([b1, BLOCK]);
    });
    let (code, v) = verify_json(&dir, &[]);
    assert_eq!(code, 1);
    let meta = |b: &str| format!("{b}/meta.json");
    expect(&v, "meta_version_2", "warning", &meta(BLOCK), None);
    expect(&v, "meta_level_invalid", "error", &meta(BLOCK), None);
    expect(&v, "meta_ulid_invalid", "error", &meta(b1), None);
    expect(&v, "meta_sources_invalid", "error", &meta(b1), None);
    expect(&v, "meta_parents_invalid", "error", &meta(b1), None);
    expect(&v, "meta_sources_unsorted", "warning", &meta(b2), None);
    expect(&v, "meta_level1_foreign_source", "info", &meta(b2), None);
}

/// Chunk segment headers, segment names, tombstones and stray entries, one
/// damage per file of the real 2.42 snapshot.
#[test]
fn block_file_damage_classes() {
    let (_t, dir) = snapshot_copy();
    let (b1, b2) = (B1, B2);
    // Header: magic(4) version(1) padding(3).
    flip(&dir.join(BLOCK).join("chunks/000001"), 4, 0x03);
    flip(&dir.join(b2).join("chunks/000001"), 5, 0x01);
    std::fs::rename(
        dir.join(b1).join("chunks/000001"),
        dir.join(b1).join("chunks/000002"),
    )
    .unwrap();
    std::fs::remove_file(dir.join(BLOCK).join("tombstones")).unwrap();
    write_tombstones(&dir.join(b2).join("tombstones"), 2, &[]);
    // Series ref 1, mint 4, maxt 1: zigzag varints 8 and 2.
    write_tombstones(&dir.join(b1).join("tombstones"), 1, &[0x01, 0x08, 0x02]);
    std::fs::write(dir.join(BLOCK).join("notes.txt"), b"x").unwrap();
    std::fs::write(dir.join("notes.txt"), b"x").unwrap();
    let (code, v) = verify_json(&dir, &[]);
    assert_eq!(code, 1);
    let seg = |b: &str, n: &str| format!("{b}/chunks/{n}");
    expect(
        &v,
        "chunk_segment_bad_version",
        "error",
        &seg(BLOCK, "000001"),
        Some(4),
    );
    expect(
        &v,
        "chunk_segment_bad_header",
        "error",
        &seg(b2, "000001"),
        None,
    );
    expect(
        &v,
        "chunk_segment_numbering",
        "warning",
        &seg(b1, "000002"),
        None,
    );
    let ts = |b: &str| format!("{b}/tombstones");
    expect(&v, "tombstones_missing", "info", &ts(BLOCK), None);
    expect(&v, "tombstones_bad_version", "error", &ts(b2), Some(4));
    expect(&v, "tombstone_interval_invalid", "error", &ts(b1), Some(5));
    expect(
        &v,
        "block_stray_file",
        "info",
        &format!("{BLOCK}/notes.txt"),
        None,
    );
    expect(&v, "stray_entry", "info", "notes.txt", None);

    // A body whose varint runs past its end, under a valid CRC.
    let (_t2, dir) = snapshot_copy();
    write_tombstones(&dir.join(BLOCK).join("tombstones"), 1, &[0x01, 0x80]);
    let (code, v) = verify_json(&dir, &[]);
    assert_eq!(code, 1);
    expect(&v, "tombstones_corrupt", "error", &ts(BLOCK), None);
}

/// Bytes after a segment's last referenced chunk, a segment no chunk
/// reference names, an index version no Prometheus writes, and index
/// format 3 for a target older than 2.55.
#[test]
fn segment_tails_and_index_version() {
    let (_t, dir) = snapshot_copy();
    let (b1, b2) = (B1, B2);
    let seg = dir.join(BLOCK).join("chunks/000001");
    let mut bytes = std::fs::read(&seg).unwrap();
    let len = bytes.len() as u64;
    bytes.extend_from_slice(&[0u8; 16]);
    std::fs::write(&seg, bytes).unwrap();
    std::fs::copy(
        dir.join(b2).join("chunks/000001"),
        dir.join(b2).join("chunks/000002"),
    )
    .unwrap();
    // Index header: magic(4) version(1); 2 becomes 7, and 3 in b2.
    flip(&dir.join(b1).join("index"), 4, 0x05);
    flip(&dir.join(b2).join("index"), 4, 0x01);
    let (code, v) = verify_json(&dir, &[]);
    assert_eq!(code, 1);
    let f = expect(
        &v,
        "chunk_segment_trailing_bytes",
        "info",
        &format!("{BLOCK}/chunks/000001"),
        Some(len),
    );
    assert!(
        f["message"].as_str().unwrap().starts_with("16 bytes"),
        "{f}"
    );
    expect(
        &v,
        "chunk_segment_unreferenced",
        "warning",
        &format!("{b2}/chunks/000002"),
        Some(8),
    );
    expect(
        &v,
        "index_bad_version",
        "error",
        &format!("{b1}/index"),
        Some(4),
    );
    assert!(with_code(&v, "index_version_too_new").is_empty(), "{v:#}");
    let (_, v) = verify_json(&dir, &["--target-version", "2.42"]);
    expect(
        &v,
        "index_version_too_new",
        "error",
        &format!("{b2}/index"),
        None,
    );
}

/// A uvarint at `b[*at..]`, advancing `at`.
pub(crate) fn uvarint_at(b: &[u8], at: &mut usize) -> u64 {
    let (mut x, mut shift) = (0u64, 0);
    loop {
        let c = b[*at];
        *at += 1;
        x |= u64::from(c & 0x7f) << shift;
        if c < 0x80 {
            return x;
        }
        shift += 7;
    }
}

/// Rewrites the encoded (name ref, value ref) pairs of the first series
/// entry of `index` that `pick` accepts (given the pairs' bytes) with
/// `edit`, keeping the entry's length, and fixes the entry's CRC.
fn edit_series_labels(
    index: &Path,
    pick: impl Fn(&[Vec<u8>]) -> bool,
    edit: impl FnOnce(&mut Vec<Vec<u8>>),
) {
    let mut b = std::fs::read(index).unwrap();
    let r = IndexReader::open(&b).unwrap();
    let mut it = r.series();
    let mut e = SeriesEntry::default();
    let mut found = None;
    while let Some(x) = it.next_into(&mut e) {
        x.unwrap();
        let mut at = e.offset as usize;
        let len = uvarint_at(&b, &mut at) as usize;
        let body = at;
        let n = uvarint_at(&b, &mut at);
        let mut pairs = Vec::new();
        for _ in 0..n {
            let start = at;
            uvarint_at(&b, &mut at);
            uvarint_at(&b, &mut at);
            pairs.push(b[start..at].to_vec());
        }
        if pick(&pairs) {
            found = Some((body, len, at - pairs.concat().len(), pairs));
            break;
        }
    }
    let (body, len, labels_at, mut pairs) = found.expect("no series entry to edit");
    let before = pairs.concat().len();
    edit(&mut pairs);
    let bytes = pairs.concat();
    assert_eq!(bytes.len(), before, "the edit must keep the length");
    b[labels_at..labels_at + bytes.len()].copy_from_slice(&bytes);
    let crc = crc32c::crc32c(&b[body..body + len]).to_be_bytes();
    b[body + len..body + len + 4].copy_from_slice(&crc);
    std::fs::write(index, b).unwrap();
}

/// Sets the sample count (the first two data bytes) of the first chunk of
/// a block's chunk segment `seg` to `n`, and fixes its CRC.
fn set_first_chunk_samples(seg: &Path, n: u16) {
    let mut b = std::fs::read(seg).unwrap();
    let mut at = 8;
    let len = uvarint_at(&b, &mut at) as usize;
    let (enc, data) = (at, at + 1);
    b[data..data + 2].copy_from_slice(&n.to_be_bytes());
    let crc = crc32c::crc32c(&b[enc..data + len]).to_be_bytes();
    b[data + len..data + len + 4].copy_from_slice(&crc);
    std::fs::write(seg, b).unwrap();
}

/// Series entries and chunks rewritten under valid CRCs: label names out
/// of order, a label name twice, a chunk of no samples, a chunk claiming
/// more samples than its bytes hold.
#[test]
fn series_labels_and_chunk_sample_counts() {
    let (_t, dir) = snapshot_copy();
    edit_series_labels(
        &dir.join(B1).join("index"),
        |p| p.len() >= 2,
        |p| p.swap(0, 1),
    );
    // The second label's name ref becomes the first's (same encoded size).
    let name_len = |pair: &[u8]| pair.iter().position(|&c| c < 0x80).unwrap() + 1;
    edit_series_labels(
        &dir.join(B2).join("index"),
        |p| p.len() >= 2 && name_len(&p[0]) == name_len(&p[1]),
        |p| {
            let n = name_len(&p[0]);
            p[1] = [&p[0][..n], &p[1][n..]].concat();
        },
    );
    set_first_chunk_samples(&dir.join(BLOCK).join("chunks/000001"), 0);
    let (code, v) = verify_json(&dir, &[]);
    assert_eq!(code, 1);
    let idx = |b: &str| format!("{b}/index");
    expect(&v, "index_series_labels_unsorted", "error", &idx(B1), None);
    expect(&v, "index_series_duplicate_label", "error", &idx(B2), None);
    let seg = format!("{BLOCK}/chunks/000001");
    expect(&v, "chunk_empty", "error", &seg, None);

    let (_t2, dir) = snapshot_copy();
    set_first_chunk_samples(&dir.join(BLOCK).join("chunks/000001"), 0x7fff);
    let (code, v) = verify_json(&dir, &[]);
    assert_eq!(code, 1);
    let codes: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["path"] == seg.as_str())
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["chunk_decode_failed"], "{v:#}");
}

/// The stopped live data dir: a stale checkpoint beside the current one, a
/// memory snapshot of the head, a block copied under another name, and a
/// block whose sources hold another block's and whose range overlaps it.
#[test]
fn data_dir_layout_classes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    copy_dir(&testdata("prom-2.42-live/data"), &dir);
    std::fs::remove_dir_all(dir.join("snapshots")).unwrap();
    copy_dir(
        &dir.join("wal/checkpoint.00000001"),
        &dir.join("wal/checkpoint.00000000"),
    );
    std::fs::create_dir(dir.join("chunk_snapshot.000003.0000000000")).unwrap();
    let copy = "01M88ZHZPXFRQK5144XJKD707C";
    copy_dir(&dir.join(B1), &dir.join(copy));
    let block_min = {
        let m: Value =
            serde_json::from_slice(&std::fs::read(dir.join(BLOCK).join("meta.json")).unwrap())
                .unwrap();
        m["minTime"].clone()
    };
    write_json(&dir.join(B2).join("meta.json"), |m| {
        m["minTime"] = block_min;
        m["compaction"]["level"] = 2.into();
        m["compaction"]["sources"] = serde_json::json!([BLOCK, B2]);
    });
    let (code, v) = verify_json(&dir, &[]);
    assert_eq!(code, 1);
    expect(
        &v,
        "wal_checkpoint_stale",
        "info",
        "wal/checkpoint.00000000",
        None,
    );
    expect(
        &v,
        "chunk_snapshot_present",
        "info",
        "chunk_snapshot.000003.0000000000",
        None,
    );
    let dup = expect(
        &v,
        "duplicate_block_ulid",
        "error",
        &format!("{copy}/meta.json"),
        None,
    );
    assert_eq!(dup["block"], B1);
    assert_eq!(with_code(&v, "duplicate_block_ulid").len(), 1);
    let o = with_code(&v, "overlap_parent_and_child");
    assert_eq!(o.len(), 1, "{v:#}");
    let m = o[0]["message"].as_str().unwrap();
    assert!(m.contains(BLOCK) && m.contains(B2), "{m}");
}

/// Rewrites the series refs of the first label postings list of `index`
/// that `pick` accepts, keeping its length, and fixes the list's CRC;
/// returns the list's offset.
fn edit_postings(
    index: &Path,
    pick: impl Fn(&[u32]) -> bool,
    edit: impl FnOnce(&mut [u32]),
) -> u64 {
    let mut b = std::fs::read(index).unwrap();
    let r = IndexReader::open(&b).unwrap();
    let be32 = |b: &[u8], at: usize| u32::from_be_bytes(b[at..at + 4].try_into().unwrap());
    let (at, mut refs) = r
        .postings_table()
        .unwrap()
        .iter()
        .filter(|pe| !pe.name.is_empty())
        .map(|pe| {
            let at = pe.offset as usize;
            let n = be32(&b, at + 4) as usize;
            (
                at,
                (0..n).map(|i| be32(&b, at + 8 + 4 * i)).collect::<Vec<_>>(),
            )
        })
        .find(|(_, refs)| pick(refs))
        .expect("no postings list to edit");
    edit(&mut refs);
    for (i, r) in refs.iter().enumerate() {
        b[at + 8 + 4 * i..at + 12 + 4 * i].copy_from_slice(&r.to_be_bytes());
    }
    let len = be32(&b, at) as usize;
    let crc = crc32c::crc32c(&b[at + 4..at + 4 + len]).to_be_bytes();
    b[at + 4 + len..at + 8 + len].copy_from_slice(&crc);
    std::fs::write(index, b).unwrap();
    at as u64
}

/// The all-postings list shortened by its last ref (its length, count and
/// CRC rewritten): index_postings_all_mismatch at that list.
#[test]
fn all_postings_list_short_of_a_series() {
    let (_t, dir) = snapshot_copy();
    let index = dir.join(B2).join("index");
    let mut b = std::fs::read(&index).unwrap();
    let r = IndexReader::open(&b).unwrap();
    let at = r
        .postings_table()
        .unwrap()
        .iter()
        .find(|pe| pe.name.is_empty() && pe.value.is_empty())
        .expect("an all-postings list")
        .offset as usize;
    drop(r);
    let be32 = |b: &[u8], at: usize| u32::from_be_bytes(b[at..at + 4].try_into().unwrap());
    let (len, n) = (be32(&b, at), be32(&b, at + 4));
    assert!(n >= 2 && len == 4 + 4 * n, "len {len}, n {n}");
    b[at..at + 4].copy_from_slice(&(len - 4).to_be_bytes());
    b[at + 4..at + 8].copy_from_slice(&(n - 1).to_be_bytes());
    let end = at + 4 + (len as usize - 4);
    let crc = crc32c::crc32c(&b[at + 4..end]).to_be_bytes();
    b[end..end + 4].copy_from_slice(&crc);
    std::fs::write(&index, b).unwrap();
    let (code, v) = verify_json(&dir, &[]);
    assert_eq!(code, 1, "{v:#}");
    let path = format!("{B2}/index");
    expect(
        &v,
        "index_postings_all_mismatch",
        "error",
        &path,
        Some(at as u64),
    );
    assert_eq!(with_code(&v, "index_postings_all_mismatch").len(), 1);
}

/// The (code, path, offset) of every finding, for comparing two runs.
fn finding_keys(v: &Value) -> Vec<(String, String, Option<u64>)> {
    let mut k: Vec<_> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap().to_string(),
                f["path"].as_str().unwrap_or("").to_string(),
                f["offset"].as_u64(),
            )
        })
        .collect();
    k.sort();
    k
}

/// A postings list rewritten under a valid CRC to name a ref that is no
/// series entry.
#[test]
fn postings_dangling() {
    let (_t, dir) = snapshot_copy();
    let index = dir.join(B2).join("index");
    // Entries are longer than 16 bytes: the id after an entry's is none.
    let at = edit_postings(&index, |r| r.len() == 1, |r| r[0] += 1);
    let (code, v) = verify_json(&dir, &[]);
    assert_eq!(code, 1);
    expect(
        &v,
        "index_postings_dangling",
        "error",
        &format!("{B2}/index"),
        Some(at),
    );
}

/// A postings list whose refs are only reordered (same refs, valid CRC)
/// breaks Prometheus' postings intersections, though every fingerprint of
/// the set of refs still agrees: reported as exactly one
/// index_postings_unsorted at that list, and nothing else beyond what the
/// intact snapshot reports.
#[test]
fn postings_reordered_alone_is_unsorted() {
    let (_t, clean) = snapshot_copy();
    let (code0, v0) = verify_json(&clean, &[]);
    let (_t2, dir) = snapshot_copy();
    let index = dir.join(B2).join("index");
    let at = edit_postings(&index, |r| r.len() >= 2, |r| r.swap(0, 1));
    let (code, v) = verify_json(&dir, &[]);
    assert_eq!(code, 1, "{v:#}");
    let path = format!("{B2}/index");
    expect(&v, "index_postings_unsorted", "error", &path, Some(at));
    let mut want = finding_keys(&v0);
    want.push(("index_postings_unsorted".into(), path, Some(at)));
    want.sort();
    assert_eq!(finding_keys(&v), want, "clean exit {code0}: {v:#}");
}
