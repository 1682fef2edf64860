//! `coverage` and `verify` on a snapshot that holds no block, against two
//! real runs (testdata/empty-seed/, recorded by scripts/record-empty-seed.sh):
//! a 2.42 master with the default 2 h blocks, an admin-API snapshot with
//! `skip_head=true` 10 s after it was ready (an empty directory), a replica
//! seeded from it (so empty) and up 10 s later, remote write on since the
//! master started (`since-start`) or enabled when the replica came up
//! (`late`). Each run's real loss is `gaps --against` of the two servers'
//! data dirs after the master's shutdown flush.
//!
//! Git keeps no empty directory: each test makes the snapshot directory
//! under its recorded name, empty, as the admin API wrote it.

use crate::util::{run_json, testdata};
use serde_json::Value;
use std::path::PathBuf;

struct Run {
    dir: PathBuf,
    rec: Value,
    snapshot: PathBuf,
    _tmp: tempfile::TempDir,
}

fn run(name: &str) -> Run {
    let dir = testdata("empty-seed").join(name);
    let rec: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("run.json")).unwrap()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let snapshot = tmp
        .path()
        .join("snapshots")
        .join(rec["snapshot"].as_str().unwrap());
    std::fs::create_dir_all(&snapshot).unwrap();
    Run {
        dir,
        rec,
        snapshot,
        _tmp: tmp,
    }
}

fn ms(v: &Value) -> i64 {
    let s = v.as_str().unwrap();
    promsnap::vocab::parse_rfc3339_ms(s).unwrap()
}

/// `coverage --json` with the master's WAL copied when the replica came
/// up, the replica's ready time and the remote write start (the master's
/// ready time where remote write was on from its start).
fn coverage(r: &Run) -> (Option<i32>, Value) {
    let rw = r.rec["rw_start"]
        .as_str()
        .or(r.rec["master_ready"].as_str());
    let wal = r.dir.join("wal");
    run_json(&[
        "coverage",
        r.snapshot.to_str().unwrap(),
        "--master",
        wal.to_str().unwrap(),
        "--slave-up",
        r.rec["slave_up"].as_str().unwrap(),
        "--rw-start",
        rw.unwrap(),
        "--json",
    ])
}

#[test]
fn empty_snapshot_with_remote_write_since_start_predicts_the_real_nothing() {
    let r = run("since-start");
    assert_eq!(r.rec["missing"].as_array().map(Vec::len), Some(0));
    let (code, v) = coverage(&r);
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(v["loss_windows"].as_array().map(Vec::len), Some(0), "{v}");
    let verdict = v["verdict"].as_str().unwrap();
    assert!(
        verdict.starts_with("The snapshot holds no block"),
        "{verdict}"
    );
    assert!(verdict.contains("No real loss"), "{verdict}");
}

#[test]
fn empty_snapshot_with_late_remote_write_predicts_the_real_loss_from_the_first_sample() {
    let r = run("late");
    let real = &r.rec["missing"][0];
    let (from, to) = (real["from"].as_i64().unwrap(), real["to"].as_i64().unwrap());
    let (code, v) = coverage(&r);
    assert_eq!(code, Some(0), "{v}");
    let w = v["loss_windows"].as_array().unwrap();
    assert_eq!(w.len(), 1, "{v}");
    assert_eq!(w[0]["cause"], "L1");
    assert_eq!(w[0]["certainty"], "expected");
    // Within one scrape (1 s) of the real start and end.
    let (pf, pt) = (w[0]["from"].as_i64().unwrap(), w[0]["to"].as_i64().unwrap());
    assert!(
        (pf - from).abs() <= 1_000,
        "predicted from {pf}, real {from}"
    );
    assert!((pt - to).abs() <= 1_000, "predicted to {pt}, real {to}");
    assert!(pt >= ms(&r.rec["rw_start"]) - 1_000);
}

#[test]
fn empty_snapshot_without_the_wal_is_not_known_and_never_an_all_clear() {
    let r = run("since-start");
    let (code, v) = run_json(&[
        "coverage",
        r.snapshot.to_str().unwrap(),
        "--slave-up",
        r.rec["slave_up"].as_str().unwrap(),
        "--json",
    ]);
    assert_eq!(code, Some(1), "{v}");
    let verdict = v["verdict"].as_str().unwrap();
    assert!(verdict.contains("Not known"), "{verdict}");
    assert!(!verdict.contains("No real loss"), "{verdict}");
    assert!(v["coverage_end"].is_null());
}

#[test]
fn verify_warns_that_an_empty_snapshot_holds_nothing() {
    let r = run("late");
    let (code, v) = run_json(&["verify", r.snapshot.to_str().unwrap(), "--json"]);
    assert_eq!(code, Some(0), "{v}");
    let codes: Vec<&str> = v["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["code"].as_str())
        .collect();
    assert_eq!(codes, ["snapshot_empty"], "{v}");
}

#[test]
fn verify_and_coverage_say_an_empty_snapshot_in_one_sentence() {
    let r = run("late");
    let (_, v) = run_json(&["verify", r.snapshot.to_str().unwrap(), "--json"]);
    let said = |v: &Value| -> Vec<String> {
        v["findings"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|f| f["message"].as_str().map(str::to_string))
            .collect()
    };
    let verify = said(&v);
    assert_eq!(verify, [promsnap::vocab::EMPTY_SNAPSHOT], "{v}");
    let (_, c) = coverage(&r);
    assert!(
        said(&c)
            .iter()
            .any(|m| m == promsnap::vocab::EMPTY_SNAPSHOT),
        "{c}"
    );
}
