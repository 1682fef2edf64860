//! Issue 17: files a running Prometheus deletes while promsnap reads them,
//! at exactly the moment that matters, through the test hooks of the cargo
//! feature `failpoints` (on under `cargo test` through the crate's
//! dev-dependency on itself): promsnap pauses at a named point
//! (`PROMSNAP_TEST_PAUSE_AT`), the test changes the directory as
//! Prometheus would — a compaction (the child block written, then the parent
//! deleted) or a WAL truncation (a checkpoint written, then the segment
//! deleted) — and lets it go on (`PROMSNAP_TEST_RESUME`). The lock is held
//! throughout, as a running Prometheus holds it. A few seconds.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

use super::with_code;
use crate::util::{copy_dir, promsnap, testdata};

const BLOCK: &str = "01M88ZEAF15198PYN7F74NS04J";

/// The fixture data dir with its `lock` held (as a running Prometheus holds it).
fn live_dir(base: &Path) -> (PathBuf, std::fs::File) {
    let dir = base.join("data");
    copy_dir(&testdata("prom-2.42-live/data"), &dir);
    std::fs::remove_dir_all(dir.join("snapshots")).unwrap();
    let lock = std::fs::File::create(dir.join("lock")).unwrap();
    assert!(promsnap::fileutil::flock_try_exclusive(&lock).unwrap());
    (dir, lock)
}

/// Runs promsnap with the hooks: when it prints `test pause at <point>`,
/// calls `change` once, then lets it go on.
fn run_paused(args: &[&str], point: &str, base: &Path, change: impl FnOnce()) -> Output {
    let resume = base.join(format!("resume-{}", point.replace([':', '/'], "-")));
    let _ = std::fs::remove_file(&resume);
    let mut child = Command::new(env!("CARGO_BIN_EXE_promsnap"))
        .args(args)
        .env("PROMSNAP_TEST_PAUSE_AT", point)
        .env("PROMSNAP_TEST_RESUME", &resume)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("test pause at") {
                let _ = tx.send(());
            }
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    let paused = rx.recv_timeout(Duration::from_secs(60)).is_ok();
    if paused {
        change();
    }
    std::fs::write(&resume, b"").unwrap();
    let stdout = {
        use std::io::Read;
        let mut s = Vec::new();
        child.stdout.take().unwrap().read_to_end(&mut s).unwrap();
        s
    };
    let status = child.wait().unwrap();
    let stderr = reader.join().unwrap();
    assert!(paused, "never paused at {point}: {stderr}");
    Output {
        status,
        stdout,
        stderr: stderr.into_bytes(),
    }
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("bad JSON ({e}): {}", String::from_utf8_lossy(&o.stderr)))
}

/// What a compaction of one block does: its child (here the same data under
/// a new ULID, one level up, the parent named) is written, then the parent
/// is deleted.
fn compact(dir: &Path, parent: &str) -> String {
    let child = format!("{}Z", &parent[..25]);
    assert_ne!(child, parent);
    let tmp = dir.join(format!("{child}.tmp-for-creation"));
    copy_dir(&dir.join(parent), &tmp);
    let mut meta: Value =
        serde_json::from_slice(&std::fs::read(tmp.join("meta.json")).unwrap()).unwrap();
    meta["ulid"] = child.clone().into();
    let level = meta["compaction"]["level"].as_i64().unwrap();
    meta["compaction"]["level"] = (level + 1).into();
    meta["compaction"]["parents"] = serde_json::json!([{
        "ulid": parent,
        "minTime": meta["minTime"],
        "maxTime": meta["maxTime"],
    }]);
    std::fs::write(tmp.join("meta.json"), serde_json::to_vec(&meta).unwrap()).unwrap();
    std::fs::rename(&tmp, dir.join(&child)).unwrap();
    std::fs::remove_dir_all(dir.join(parent)).unwrap();
    child
}

/// What a WAL truncation through segment 2 does: checkpoint.00000002 is
/// written (here: the old checkpoint's records, then segment 2's — the same
/// data, so a dump must not change), then segment 2 and the old checkpoint
/// are deleted.
fn truncate_wal(dir: &Path) {
    let wal = dir.join("wal");
    let tmp = wal.join("checkpoint.00000002.tmp");
    std::fs::create_dir(&tmp).unwrap();
    std::fs::copy(
        wal.join("checkpoint.00000001/00000000"),
        tmp.join("00000000"),
    )
    .unwrap();
    std::fs::copy(wal.join("00000002"), tmp.join("00000001")).unwrap();
    std::fs::rename(&tmp, wal.join("checkpoint.00000002")).unwrap();
    std::fs::remove_file(wal.join("00000002")).unwrap();
    std::fs::remove_dir_all(wal.join("checkpoint.00000001")).unwrap();
}

fn errors(v: &Value) -> Vec<&Value> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "error")
        .collect()
}

#[test]
fn block_compacted_while_verify_reads_it_is_info_not_damage() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, _lock) = live_dir(tmp.path());
    let d = dir.to_str().unwrap();
    let mut child = String::new();
    let o = run_paused(
        &["verify", "--json", d],
        &format!("verify_block:{BLOCK}"),
        tmp.path(),
        || child = compact(&dir, BLOCK),
    );
    let v = json(&o);
    assert_eq!(o.status.code(), Some(0), "{v}");
    assert!(errors(&v).is_empty(), "{v}");
    let gone = with_code(&v, "block_deleted_during_read");
    assert_eq!(gone.len(), 1, "{v}");
    assert_eq!(gone[0]["severity"], "info");
    assert_eq!(gone[0]["block"], BLOCK);
    // The child that holds its data was checked instead.
    assert!(
        v["blocks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b["ulid"] == child.as_str()),
        "{v}"
    );
}

#[test]
fn block_compacted_while_copy_reads_it_is_replanned_without_a_hole() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, _lock) = live_dir(tmp.path());
    let dst = tmp.path().join("dst");
    let ranges = |p: &Path| -> Vec<(i64, i64)> {
        let (_, v) = crate::util::run_json(&["ls", "--json", p.to_str().unwrap()]);
        let mut r: Vec<(i64, i64)> = v["blocks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| {
                (
                    b["min_time"].as_i64().unwrap(),
                    b["max_time"].as_i64().unwrap(),
                )
            })
            .collect();
        r.sort_unstable();
        r
    };
    let before = ranges(&dir);
    let o = run_paused(
        &[
            "copy",
            "--json",
            dir.to_str().unwrap(),
            dst.to_str().unwrap(),
        ],
        &format!("tmp_created:{BLOCK}"),
        tmp.path(),
        || {
            compact(&dir, BLOCK);
        },
    );
    let v = json(&o);
    assert_eq!(o.status.code(), Some(0), "{v}");
    assert!(v["refused"].as_array().is_none_or(|a| a.is_empty()), "{v}");
    assert!(
        v["notices"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["code"] == "source_replanned"),
        "{v}"
    );
    // No hole: the target covers every range the source covered.
    assert_eq!(ranges(&dst), before);
    assert!(!dst.join(BLOCK).exists());
}

#[test]
fn wal_segment_truncated_while_read_is_taken_from_the_checkpoint() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, _lock) = live_dir(tmp.path());
    let d = dir.to_str().unwrap();
    let dump_before = promsnap(&["dump", d]);
    assert!(dump_before.status.success());
    // verify: the WAL check reads segment 2 as it goes.
    let o = run_paused(
        &["verify", "--json", d],
        "wal_segment:wal/00000002",
        tmp.path(),
        || truncate_wal(&dir),
    );
    let v = json(&o);
    assert_eq!(o.status.code(), Some(0), "{v}");
    assert!(errors(&v).is_empty(), "{v}");
    // dump: the head replay reads segment 2 as it goes; on a second copy.
    let dir2 = tmp.path().join("data2");
    copy_dir(&testdata("prom-2.42-live/data"), &dir2);
    std::fs::remove_dir_all(dir2.join("snapshots")).unwrap();
    let o = run_paused(
        &["dump", dir2.to_str().unwrap()],
        "wal_segment:wal/00000002",
        tmp.path(),
        || truncate_wal(&dir2),
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        o.stdout == dump_before.stdout,
        "the dump changed when a segment was truncated into a checkpoint during the read"
    );
}
