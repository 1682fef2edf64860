//! `promsnap gaps` on the real 2.42 data in testdata.

use crate::util::{promsnap, run_json, testdata};

const WITH_HEAD: &str = crate::util::LIVE_WITH_HEAD;
const SKIP_HEAD: &str = crate::util::LIVE_SKIP_HEAD;

/// The skip_head snapshot, held against the one with the head block: what
/// is missing is exactly the head block's range, for every series.
#[test]
fn skip_head_snapshot_misses_the_head_range() {
    let a = testdata(SKIP_HEAD);
    let b = testdata(WITH_HEAD);
    let (code, v) = run_json(&[
        "gaps",
        a.to_str().unwrap(),
        "--against",
        b.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(code, Some(0), "{:#}", v["errors"]);
    let merged = v["missing"]["merged"].as_array().unwrap();
    assert_eq!(merged.len(), 1, "{merged:#?}");
    let m = &merged[0];
    // Head block [09:10:00.128, 09:12:34.511): first and last missing samples.
    assert!(m["from"].as_i64().unwrap() >= 1_795_597_800_000);
    assert!(m["from"].as_i64().unwrap() < 1_795_597_801_000);
    assert_eq!(m["to"], 1_795_597_954_510i64);
    assert_eq!(m["series"], v["against"]["series"]);
    assert!(v["dir"]["blocks"] == 3 && v["against"]["blocks"] == 4);
}

#[test]
fn same_data_has_nothing_missing_and_time_bounds_apply() {
    let a = testdata(WITH_HEAD);
    let (_, v) = run_json(&[
        "gaps",
        a.to_str().unwrap(),
        "--against",
        a.to_str().unwrap(),
        "--from",
        "2026-11-25T09:05:00Z",
        "--to",
        "2026-11-25T09:07:00Z",
        "--match",
        "up",
        "--json",
    ]);
    assert_eq!(v["missing"]["merged"].as_array().unwrap().len(), 0);
    assert_eq!(v["from"], 1_795_597_500_000i64);
    // `up` for two jobs, 1 s apart, over 2 minutes.
    assert_eq!(v["dir"]["series"], 2);
    let n = v["dir"]["samples"].as_u64().unwrap();
    assert!((238..=242).contains(&n), "{n}");
}

#[test]
fn holes_in_a_single_series_are_found() {
    // Hold the 1 s series against a 2 s interval: no holes; against 500ms: all steps are holes.
    let a = testdata(WITH_HEAD);
    let (_, v) = run_json(&["gaps", a.to_str().unwrap(), "--match", "up", "--json"]);
    assert_eq!(
        v["holes"]["merged"].as_array().unwrap().len(),
        0,
        "{:#}",
        v["holes"]
    );
    let (_, v) = run_json(&[
        "gaps",
        a.to_str().unwrap(),
        "--match",
        "up",
        "--interval",
        "500ms",
        "--from",
        "2026-11-25T09:05:00Z",
        "--to",
        "2026-11-25T09:05:10Z",
        "--json",
    ]);
    assert_eq!(v["holes"]["per_series"].as_array().unwrap().len(), 2);
    let out = promsnap(&["gaps", a.to_str().unwrap(), "--match", "up"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("Holes in dir"));
}

/// The data dir's head is only in its WAL: read through it, the data dir has
/// every sample the snapshot's head block has.
#[test]
fn data_dir_head_is_read_from_the_wal() {
    let data = testdata("prom-2.42-live/data");
    let snap = testdata(WITH_HEAD);
    let (code, v) = run_json(&[
        "gaps",
        data.to_str().unwrap(),
        "--against",
        snap.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(code, Some(0), "{:#}", v["errors"]);
    assert_eq!(v["dir"]["wal"], true);
    assert!(v["dir"]["wal_until"].as_i64().unwrap() >= 1_795_597_954_510);
    assert_eq!(
        v["missing"]["merged"].as_array().unwrap().len(),
        0,
        "{:#}",
        v["missing"]["merged"]
    );
    // Series born after the snapshot are only in the data dir.
    assert!(v["dir"]["series"].as_u64() >= v["against"]["series"].as_u64());
}
