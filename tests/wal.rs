//! `promsnap wal` and the WAL/checkpoint/chunks_head part of `promsnap verify`,
//! on real WAL bytes written by Prometheus 2.42 (snappy-compressed, and an
//! uncompressed WAL recorded with `--no-storage.tsdb.wal-compression`),
//! damaged in the test itself at offsets found with the library's readers.
//! Every damage test asserts code, severity, path (relative to the PATH
//! given) and offset.

use std::path::{Path, PathBuf};

use promsnap::format::head_chunks;
use promsnap::format::wal::{FragmentReader, FragmentType, RecordReader};
use serde_json::Value;

use crate::util::{copy_dir, promsnap, testdata};

const LIVE: &str = "prom-2.42-live/data";
const NATIVEHIST: &str = "prom-2.42-nativehist/data";
const UNCOMPRESSED: &str = "wal/uncompressed-2.42";

/// A temp copy of `testdata/<rel>` at `<tmp>/data`.
fn copy(rel: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    copy_dir(&testdata(rel), &dir);
    (tmp, dir)
}

fn run_json(args: &[&str]) -> (i32, Value) {
    let out = promsnap(args);
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("bad JSON ({e}): {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap(), v)
}

fn verify(dir: &Path) -> (i32, Value) {
    run_json(&["verify", "--json", dir.to_str().unwrap()])
}

/// The WAL-related findings (codes from check/wal.rs).
fn wal_findings(v: &Value) -> Vec<Value> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            let c = f["code"].as_str().unwrap();
            c.starts_with("wal_") || c.starts_with("head_chunk") || c.starts_with("record_")
        })
        .cloned()
        .collect()
}

/// Asserts the finding exists and returns it.
#[track_caller]
fn expect(v: &Value, code: &str, severity: &str, path: &str, offset: Option<u64>) -> Value {
    let all = wal_findings(v);
    let f = all.iter().find(|f| {
        f["code"] == code && f["path"] == path && f["offset"] == serde_json::json!(offset)
    });
    match f {
        Some(f) => {
            assert_eq!(f["severity"], severity, "{f}");
            f.clone()
        }
        None => panic!(
            "no {code} finding at {path}@{offset:?}; findings: {}",
            serde_json::to_string_pretty(&all).unwrap()
        ),
    }
}

fn flip(path: &Path, offset: u64, mask: u8) {
    let mut b = std::fs::read(path).unwrap();
    b[offset as usize] ^= mask;
    std::fs::write(path, b).unwrap();
}

/// (offset, end_offset) of every record of a segment.
fn records(path: &Path) -> Vec<(u64, u64)> {
    let b = std::fs::read(path).unwrap();
    let mut r = RecordReader::new(&b);
    let mut v = Vec::new();
    while let Some(rec) = r.next_record() {
        let rec = rec.unwrap();
        v.push((rec.offset, rec.end_offset));
    }
    v
}

#[test]
fn clean_real_wals_have_no_findings_and_wal_reports_them() {
    for d in [LIVE, NATIVEHIST] {
        let (code, v) = verify(&testdata(d));
        assert_eq!(code, 0, "{d}");
        assert!(wal_findings(&v).is_empty(), "{d}: {:#?}", wal_findings(&v));
    }
    // nativehist: counts from the independent oracle (testdata/wal/README.md).
    let (code, v) = run_json(&["wal", "--json", testdata(NATIVEHIST).to_str().unwrap()]);
    assert_eq!(code, 0);
    assert_eq!(v["kind"], "data_dir");
    let w = &v["wal"];
    assert_eq!(w["totals"]["float_samples"], 8125);
    assert_eq!(w["totals"]["histogram_samples"], 3302);
    assert_eq!(w["totals"]["float_histogram_samples"], 2234);
    assert_eq!(w["series"], 55);
    assert_eq!(w["replay_checkpoint"], 3);
    assert_eq!(w["segments"].as_array().unwrap().len(), 3);
    assert_eq!(v["chunks_head"]["files"][0]["chunks"], 72);
    // Uncompressed WAL recorded with the real server.
    let (code, v) = run_json(&["wal", "--json", testdata(UNCOMPRESSED).to_str().unwrap()]);
    assert_eq!(code, 0);
    let s = &v["wal"]["segments"][0];
    assert_eq!(s["records"], 19);
    assert_eq!(s["compression"]["none"], 19);
    assert_eq!(s["float_samples"], 5674);
    assert_eq!(s["min_t"], 1_795_604_057_644_i64);
    assert_eq!(s["max_t"], 1_795_604_073_646_i64);
    assert_eq!(s["torn_tail"], false);
    // Human output: one row per segment.
    let out = promsnap(&["wal", testdata(LIVE).to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    for row in [
        "checkpoint.00000001/00000000",
        "00000002",
        "00000003",
        "00000004",
        "000003",
    ] {
        assert!(text.contains(row), "{row} missing:\n{text}");
    }
}

#[test]
fn flip_in_middle_segment_is_an_error_with_what_repair_drops() {
    let (_t, dir) = copy(LIVE);
    let seg = dir.join("wal/00000003");
    let recs = records(&seg);
    let (off, _) = recs[100];
    flip(&seg, off + 7 + 40, 0x01);
    let (code, v) = verify(&dir);
    assert_eq!(code, 1);
    let f = expect(&v, "wal_checksum", "error", "wal/00000003", Some(off));
    let msg = f["message"].as_str().unwrap();
    assert!(msg.contains("deletes segments 00000004..00000004"), "{msg}");
    // Repair drops the rest of segment 3 (read again from the next page) and
    // segment 4; the restart loses of their samples those chunks_head/ does
    // not hold (live::damage checks this range against the real server).
    let [from, to] = [
        f["time_range"][0].as_i64().unwrap(),
        f["time_range"][1].as_i64().unwrap(),
    ];
    assert!(
        from > 1_795_597_741_123 && from < 1_795_597_959_123,
        "{from}"
    );
    assert!(msg.contains("the restart loses"), "{msg}");
    assert_eq!(to, 1_795_597_959_123 + 1);
    // `promsnap wal` reports it too, with exit 1.
    let (code, w) = run_json(&["wal", "--json", dir.to_str().unwrap()]);
    assert_eq!(code, 1);
    let s3 = &w["wal"]["segments"][1];
    assert_eq!(s3["corruption"]["offset"], off);
    assert_eq!(s3["corruption"]["code"], "wal_checksum");
    assert_eq!(s3["valid_offset"], recs[99].1);
    assert!(s3["after_damage"]["records"].as_u64().unwrap() > 100);
}

#[test]
fn cut_newest_segment_mid_record_is_a_torn_tail_warning() {
    let (_t, dir) = copy(LIVE);
    let seg = dir.join("wal/00000004");
    let recs = records(&seg);
    let (off, _) = recs[150];
    let b = std::fs::read(&seg).unwrap();
    std::fs::write(&seg, &b[..off as usize + 100]).unwrap();
    let (code, v) = verify(&dir);
    assert_eq!(
        code, 0,
        "a torn tail is repaired by Prometheus: warning only"
    );
    let f = expect(&v, "wal_torn_tail", "warning", "wal/00000004", Some(off));
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains(&format!("valid up to offset {}", recs[149].1))
    );
    assert_eq!(wal_findings(&v).len(), 1);
}

#[test]
fn cut_middle_segment_mid_record_is_an_error() {
    let (_t, dir) = copy(LIVE);
    let seg = dir.join("wal/00000002");
    let recs = records(&seg);
    let (off, _) = recs[10];
    let b = std::fs::read(&seg).unwrap();
    std::fs::write(&seg, &b[..off as usize + 20]).unwrap();
    let (code, v) = verify(&dir);
    assert_eq!(code, 1);
    let f = expect(&v, "wal_torn_tail", "error", "wal/00000002", Some(off));
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("deletes segments 00000003..00000004")
    );
    assert_eq!(f["time_range"][1], 1_795_597_959_123_i64 + 1);
}

#[test]
fn cut_middle_segment_loss_is_what_chunks_head_does_not_hold() {
    // The repair drops the torn record itself, from its first fragment on,
    // and everything after it; the restart loses of those samples the ones
    // chunks_head/ does not hold (live::damage checks a cut like this one
    // against the real server).
    let (_t, dir) = copy(LIVE);
    let seg = dir.join("wal/00000002");
    let b = std::fs::read(&seg).unwrap();
    let mut rr = RecordReader::new(&b);
    let mut pick = None;
    while let Some(rec) = rr.next_record() {
        let rec = rec.unwrap();
        if rec.data.first() == Some(&2) && rec.end_offset - rec.offset > 400 {
            let (_, r) = promsnap::format::record::sample_time_range(rec.data, 0).unwrap();
            pick = Some((rec.offset, rec.end_offset, r.unwrap()));
            break;
        }
    }
    let (off, end, (lo, _)) = pick.expect("a samples record of 400+ bytes");
    // Before: what the later records and segments hold starts after it.
    let cut = (off + (end - off) * 3 / 4) as usize;
    std::fs::write(&seg, &b[..cut]).unwrap();
    let (code, v) = verify(&dir);
    assert_eq!(code, 1);
    let f = expect(&v, "wal_torn_tail", "error", "wal/00000002", Some(off));
    let from = f["time_range"][0].as_i64().unwrap();
    // The torn record's samples are older than what the head chunks hold.
    assert!(
        from >= lo,
        "loss starts at {from}, the torn record's samples at {lo}"
    );
    assert_eq!(f["time_range"][1], 1_795_597_959_123_i64 + 1);
    assert!(
        f["message"].as_str().unwrap().contains("the restart loses"),
        "{f}"
    );
}

#[test]
fn middle_segment_ending_on_a_whole_record_is_the_shape_a_crash_leaves() {
    // After a crash Prometheus starts a new segment without padding the last
    // one; such a segment ends on a record boundary and is replayed fully.
    let (_t, dir) = copy(LIVE);
    let seg = dir.join("wal/00000002");
    let recs = records(&seg);
    let (off, _) = recs[10];
    assert!(off % 32768 != 0);
    let b = std::fs::read(&seg).unwrap();
    std::fs::write(&seg, &b[..off as usize]).unwrap();
    let (code, v) = verify(&dir);
    assert_eq!(code, 0, "{v}");
    let f = expect(&v, "wal_segment_short", "info", "wal/00000002", Some(off));
    assert!(f["message"].as_str().unwrap().contains("after a crash"));
    assert_eq!(f["time_range"], Value::Null);
}

#[test]
fn removed_middle_segment_is_a_gap() {
    let (_t, dir) = copy(LIVE);
    std::fs::remove_file(dir.join("wal/00000003")).unwrap();
    let (code, v) = verify(&dir);
    assert_eq!(code, 1);
    let f = expect(&v, "wal_segment_gap", "error", "wal", None);
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("00000003..00000003")
    );
    let (code, w) = run_json(&["wal", "--json", dir.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert_eq!(
        w["wal"]["segment_gaps"],
        serde_json::json!([{"first": 3, "last": 3}])
    );
}

#[test]
fn damaged_checkpoint_is_an_error() {
    let (_t, dir) = copy(LIVE);
    let seg = dir.join("wal/checkpoint.00000001/00000000");
    let recs = records(&seg);
    let (off, _) = recs[2];
    flip(&seg, off + 7 + 3, 0x80);
    let (code, v) = verify(&dir);
    assert_eq!(code, 1);
    let f = expect(
        &v,
        "wal_checkpoint_corrupt",
        "error",
        "wal/checkpoint.00000001/00000000",
        Some(off),
    );
    assert!(f["message"].as_str().unwrap().contains("will not start"));
    // A leftover .tmp checkpoint is a warning.
    std::fs::create_dir(dir.join("wal/checkpoint.00000002.tmp")).unwrap();
    let (_, v) = verify(&dir);
    expect(
        &v,
        "wal_checkpoint_tmp_leftover",
        "warning",
        "wal/checkpoint.00000002.tmp",
        None,
    );
}

#[test]
fn damaged_head_chunk_names_series_ref_and_loses_only_what_the_wal_lacks() {
    let (_t, dir) = copy(LIVE);
    let file = dir.join("chunks_head/000004");
    let bytes = std::fs::read(&file).unwrap();
    let c = head_chunks::chunks(&bytes)
        .unwrap()
        .nth(500)
        .unwrap()
        .unwrap();
    let (off, r, mint, maxt) = (c.offset, c.series_ref, c.mint, c.maxt);
    flip(&file, off + 8 + 8 + 8 + 1 + 1 + 5, 0x04);
    // The WAL behind it (what Prometheus replays after deleting the bad
    // file) starts before the chunk: nothing is lost, a warning.
    let wal = promsnap::walinfo::inspect_wal_dir(&dir.join("wal")).unwrap();
    let (wmin, _) = promsnap::walinfo::range_of(wal.time).unwrap();
    assert!(
        wmin <= mint,
        "fixture: WAL starts at {wmin}, chunk at {mint}"
    );
    let (code, v) = verify(&dir);
    assert_eq!(code, 0, "{v}");
    let f = expect(
        &v,
        "head_chunk_checksum",
        "warning",
        "chunks_head/000004",
        Some(off),
    );
    assert_eq!(f["time_range"], Value::Null);
    let m = f["message"].as_str().unwrap();
    assert!(m.contains(&format!("series ref {r}")), "{m}");
    assert!(m.contains("nothing is lost"), "{m}");
    // Without the WAL, replay cannot rebuild it: the chunk's range is lost.
    std::fs::remove_dir_all(dir.join("wal")).unwrap();
    let (code, v) = verify(&dir);
    assert_eq!(code, 1);
    let f = expect(
        &v,
        "head_chunk_checksum",
        "error",
        "chunks_head/000004",
        Some(off),
    );
    assert_eq!(f["time_range"], serde_json::json!([mint, maxt + 1]));
}

#[test]
fn head_chunk_cut_mid_chunk_names_the_chunk_it_cut() {
    let (_t, dir) = copy(LIVE);
    let file = dir.join("chunks_head/000004");
    let bytes = std::fs::read(&file).unwrap();
    let cs: Vec<_> = head_chunks::chunks(&bytes)
        .unwrap()
        .map(|c| c.unwrap())
        .collect();
    let c = cs[cs.len() / 2];
    // Cut inside the chunk's data, as a copy of a file being written does.
    let cut = c.offset as usize + 8 + 8 + 8 + 1 + 1 + c.data.len() / 2;
    std::fs::write(&file, &bytes[..cut]).unwrap();
    let (_, v) = verify(&dir);
    let f = wal_findings(&v)
        .into_iter()
        .find(|f| f["path"] == "chunks_head/000004")
        .unwrap_or_else(|| panic!("{v}"));
    let m = f["message"].as_str().unwrap();
    assert!(
        m.contains(&format!(
            "chunk at offset {}: series ref {}, [{}, {}]",
            c.offset, c.series_ref, c.mint, c.maxt
        )),
        "{m}"
    );
}

#[test]
fn out_of_sequence_head_chunk() {
    // WAL and chunks_head only: no blocks, so every chunk is checked for order.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    copy_dir(&testdata(&format!("{LIVE}/wal")), &dir.join("wal"));
    copy_dir(
        &testdata(&format!("{LIVE}/chunks_head")),
        &dir.join("chunks_head"),
    );
    let (code, v) = verify(&dir);
    assert_eq!(code, 0, "{v}");
    // Move a chunk of file 4 back in time to overlap its series' chunk in file 3.
    let prev = std::fs::read(dir.join("chunks_head/000003")).unwrap();
    let p = head_chunks::chunks(&prev).unwrap().nth(7).unwrap().unwrap();
    let file = dir.join("chunks_head/000004");
    let mut b = std::fs::read(&file).unwrap();
    let orig = b.clone();
    let c = head_chunks::chunks(&orig)
        .unwrap()
        .map(|c| c.unwrap())
        .find(|c| c.series_ref == p.series_ref)
        .unwrap();
    let off = c.offset as usize;
    let new_mint = p.maxt;
    b[off + 8..off + 16].copy_from_slice(&new_mint.to_be_bytes());
    // CRC over ref, mint, maxt, encoding, length uvarint and data.
    let mut varint_len = 1;
    while c.data.len() >> (7 * varint_len) > 0 {
        varint_len += 1;
    }
    let covered = 8 + 8 + 8 + 1 + varint_len + c.data.len();
    let crc = crc32c::crc32c(&b[off..off + covered]);
    b[off + covered..off + covered + 4].copy_from_slice(&crc.to_be_bytes());
    std::fs::write(&file, b).unwrap();
    let (code, v) = verify(&dir);
    assert_eq!(code, 1);
    let f = expect(
        &v,
        "head_chunk_out_of_order",
        "error",
        "chunks_head/000004",
        Some(off as u64),
    );
    assert_eq!(f["time_range"], serde_json::json!([new_mint, c.maxt + 1]));
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("out of sequence m-mapped chunk")
    );
}

#[test]
fn head_chunk_file_gap() {
    let (_t, dir) = copy(LIVE);
    std::fs::copy(
        dir.join("chunks_head/000004"),
        dir.join("chunks_head/000006"),
    )
    .unwrap();
    let (_, v) = verify(&dir);
    expect(&v, "head_chunk_file_gap", "error", "chunks_head", None);
}

/// The uncompressed WAL: records split across pages (first + last), a flip
/// in a `last` fragment reported at that fragment (a page boundary), a
/// fragment type changed out of order, non-zero page padding.
#[test]
fn uncompressed_wal_fragments_across_pages_and_damage() {
    let src = testdata(UNCOMPRESSED).join("wal/00000000");
    let bytes = std::fs::read(&src).unwrap();
    let frags: Vec<_> = FragmentReader::new(&bytes).map(|f| f.unwrap()).collect();
    let lasts: Vec<_> = frags
        .iter()
        .filter(|f| f.kind == FragmentType::Last)
        .collect();
    assert_eq!(lasts.len(), 3);
    // Each split record continues at a page boundary.
    for l in &lasts {
        assert_eq!(l.offset % 32768, 0, "{l:?}");
    }
    // Reassembly: the reader yields the whole records.
    assert_eq!(records(&src).len(), 19);

    // A flip in the second part of a split record: error at the `last` fragment.
    let (_t, dir) = copy(UNCOMPRESSED);
    let seg = dir.join("wal/00000000");
    flip(&seg, lasts[1].offset + 7 + 9, 0x20);
    let (code, v) = verify(&dir);
    assert_eq!(code, 1);
    expect(
        &v,
        "wal_checksum",
        "error",
        "wal/00000000",
        Some(lasts[1].offset),
    );

    // A `full` fragment relabelled `last` (its CRC still matches).
    let (_t2, dir) = copy(UNCOMPRESSED);
    let seg = dir.join("wal/00000000");
    let full = frags
        .iter()
        .filter(|f| f.kind == FragmentType::Full)
        .nth(3)
        .unwrap();
    let mut b = std::fs::read(&seg).unwrap();
    b[full.offset as usize] = 0x04;
    std::fs::write(&seg, b).unwrap();
    let (_, v) = verify(&dir);
    expect(
        &v,
        "wal_fragment_order",
        "error",
        "wal/00000000",
        Some(full.offset),
    );

    // Non-zero bytes in the zero padding after the last record.
    let (_t3, dir) = copy(UNCOMPRESSED);
    let seg = dir.join("wal/00000000");
    let end = frags.last().unwrap().end_offset();
    assert!(end + 10 < bytes.len() as u64);
    flip(&seg, end + 10, 0x01);
    let (_, v) = verify(&dir);
    expect(
        &v,
        "wal_padding_nonzero",
        "error",
        "wal/00000000",
        Some(end + 10),
    );
}

/// A WBL (same segment format, no checkpoints): real WAL sample records as
/// `wbl/00000000..1`; a torn newest WBL segment is a warning, a flip in the
/// older one an error, both under `wbl/`.
#[test]
fn wbl_torn_tail_and_checksum() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    std::fs::create_dir_all(dir.join("wbl")).unwrap();
    let src = testdata(LIVE);
    std::fs::copy(src.join("wal/00000002"), dir.join("wbl/00000000")).unwrap();
    let b = std::fs::read(src.join("wal/00000003")).unwrap();
    let recs = records(&src.join("wal/00000003"));
    let (cut, _) = recs[20];
    std::fs::write(dir.join("wbl/00000001"), &b[..cut as usize + 30]).unwrap();
    let (code, v) = verify(&dir);
    assert_eq!(code, 0, "{v}");
    expect(&v, "wal_torn_tail", "warning", "wbl/00000001", Some(cut));
    let (flip_at, _) = records(&dir.join("wbl/00000000"))[5];
    flip(&dir.join("wbl/00000000"), flip_at + 7 + 12, 0x40);
    let (code, v) = verify(&dir);
    assert_eq!(code, 1);
    let f = expect(&v, "wal_checksum", "error", "wbl/00000000", Some(flip_at));
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .starts_with("WBL segment 00000000")
    );
}

/// Random flips, cuts and zeroed runs in real segments, a checkpoint and a
/// head chunk file: `verify`'s WAL checks (re-synchronisation included) and
/// `walinfo::inspect` return findings, never panic, and every damaged copy
/// yields at least one finding.
#[test]
fn random_damage_never_panics_and_is_found() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    copy_dir(&testdata(&format!("{NATIVEHIST}/wal")), &data.join("wal"));
    copy_dir(
        &testdata(&format!("{NATIVEHIST}/chunks_head")),
        &data.join("chunks_head"),
    );
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move |n: usize| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x % n as u64) as usize
    };
    for rel in [
        "wal/00000004",
        "wal/00000005",
        "wal/checkpoint.00000003/00000000",
        "chunks_head/000006",
    ] {
        let path = data.join(rel);
        let orig = std::fs::read(&path).unwrap();
        for _ in 0..25 {
            let mut b = orig.clone();
            // Damage inside the written part (records or chunks), not in zero padding.
            let used = if rel.starts_with("chunks_head") {
                40_000
            } else {
                b.len() / 2
            };
            let at = 8 + next(used);
            let kind = next(3);
            match kind {
                0 => b[at] ^= 1 << next(8),
                1 => b.truncate(at),
                _ => {
                    let end = (at + 1 + next(64)).min(b.len());
                    b[at..end].fill(0x5a)
                }
            }
            std::fs::write(&path, &b).unwrap();
            let wal = promsnap::check::wal::verify_wal_dir(&data.join("wal"), false);
            let head = promsnap::check::wal::verify_chunks_head(&data.join("chunks_head"), None);
            let _ = promsnap::walinfo::inspect(&data).unwrap();
            assert!(
                !wal.is_empty() || !head.is_empty() || b == orig,
                "{rel}: damage {kind} at {at} not found"
            );
        }
        std::fs::write(&path, &orig).unwrap();
    }
}

#[test]
fn wal_on_a_directory_that_is_no_wal_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let junk = tmp.path().join("junk");
    std::fs::create_dir_all(&junk).unwrap();
    std::fs::write(junk.join("notes.txt"), b"hello").unwrap();
    let empty = tmp.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    for d in [&junk, &empty] {
        let out = promsnap(&["wal", d.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&out.stderr).contains("nothing recognisable"));
    }
    // An empty `wal/` is a WAL with nothing in it yet; a real one is read.
    let wal = tmp.path().join("wal");
    std::fs::create_dir_all(&wal).unwrap();
    assert_eq!(
        promsnap(&["wal", wal.to_str().unwrap()]).status.code(),
        Some(0)
    );
    let real = testdata("prom-2.42-live/data/wal");
    assert_eq!(
        promsnap(&["wal", real.to_str().unwrap()]).status.code(),
        Some(0)
    );
}

/// A record whose type byte is one Prometheus does not know, under a valid
/// fragment CRC: replay skips it, an info; a chunks_head file with a
/// damaged magic is named as such.
#[test]
fn unknown_record_type_and_head_chunk_bad_magic() {
    let (_t, dir) = copy(UNCOMPRESSED);
    let seg = dir.join("wal/00000000");
    let mut b = std::fs::read(&seg).unwrap();
    let full = FragmentReader::new(&b)
        .map(|f| f.unwrap())
        .filter(|f| f.kind == FragmentType::Full)
        .nth(3)
        .unwrap();
    let (at, start, end) = (
        full.offset,
        full.offset as usize + 7,
        full.end_offset() as usize,
    );
    b[start] = 200;
    let crc = crc32c::crc32c(&b[start..end]).to_be_bytes();
    b[start - 4..start].copy_from_slice(&crc);
    std::fs::write(&seg, b).unwrap();
    let (code, v) = verify(&dir);
    assert_eq!(code, 0, "{v}");
    let f = expect(&v, "record_unknown_type", "info", "wal/00000000", Some(at));
    assert!(f["message"].as_str().unwrap().contains("type 200"), "{f}");

    let (_t2, dir) = copy(LIVE);
    flip(&dir.join("chunks_head/000004"), 0, 0x01);
    let (_, v) = verify(&dir);
    let f = wal_findings(&v)
        .into_iter()
        .find(|f| f["code"] == "head_chunk_bad_magic")
        .unwrap_or_else(|| panic!("no head_chunk_bad_magic: {v:#}"));
    assert_eq!(f["path"], "chunks_head/000004");
    assert_eq!(f["offset"], 0);
}

/// `wal --json` names a head chunk file's decode error by its kind: a
/// damaged magic, a damaged version, a chunk length that is no varint, a
/// chunk length past the file's end.
#[test]
fn head_chunk_file_corruption_codes() {
    let (_t, dir) = copy(LIVE);
    flip(&dir.join("chunks_head/000003"), 0, 0x01);
    flip(&dir.join("chunks_head/000004"), 4, 0x02);
    let (_, v) = run_json(&["wal", "--json", dir.to_str().unwrap()]);
    let files = v["chunks_head"]["files"].as_array().unwrap();
    let code_of = |name: &str| {
        let f = files.iter().find(|f| f["name"] == name).unwrap();
        f["corruption"]["code"].as_str().unwrap_or("").to_string()
    };
    assert_eq!(code_of("000003"), "bad_magic", "{files:#?}");
    assert_eq!(code_of("000004"), "bad_version", "{files:#?}");

    // The first chunk's length (after its 8-byte series ref and two 8-byte
    // times, and its encoding byte) made ten continuation bytes.
    let (_t2, dir) = copy(LIVE);
    let file = dir.join("chunks_head/000004");
    let mut b = std::fs::read(&file).unwrap();
    b[8 + 25..8 + 35].fill(0xff);
    std::fs::write(&file, b).unwrap();
    let f = head_chunk_file_report(&dir, "000004");
    assert_eq!(f["corruption"]["code"], "bad_varint", "{f:#}");
    assert_eq!(f["corruption"]["offset"], 8 + 25, "{f:#}");

    // A length of 2^32 - 1: the data would end past the file.
    let (_t3, dir) = copy(LIVE);
    let file = dir.join("chunks_head/000003");
    let mut b = std::fs::read(&file).unwrap();
    b[8 + 25..8 + 30].copy_from_slice(&[0xff, 0xff, 0xff, 0xff, 0x0f]);
    std::fs::write(&file, b).unwrap();
    let f = head_chunk_file_report(&dir, "000003");
    assert_eq!(f["corruption"]["code"], "out_of_bounds", "{f:#}");
}

/// `wal --json`'s report of one head chunk file of `dir`.
fn head_chunk_file_report(dir: &std::path::Path, name: &str) -> serde_json::Value {
    let (_, v) = run_json(&["wal", "--json", dir.to_str().unwrap()]);
    v["chunks_head"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == name)
        .unwrap()
        .clone()
}
