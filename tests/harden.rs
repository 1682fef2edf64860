//! What an operator types by mistake at 3 a.m.: a directory that is no
//! block, data or snapshot directory (empty, other files, a `wal/` or a
//! `snapshots/` directory given instead of its parent or child), `--jobs`
//! of 0 or a huge count, a zero `--interval`. Each is a usage error (exit
//! 2) that says what the directory is instead, never a panic or an empty
//! result with exit 0, and nothing is written. And human output writes
//! every time one way: RFC 3339 UTC with milliseconds.

use std::path::{Path, PathBuf};

use crate::util::{LIVE_WITH_HEAD, copy_dir, promsnap, testdata};

/// Every entry under `dir`, recursively, with its size: what "nothing
/// written" compares.
fn tree(dir: &Path) -> Vec<(PathBuf, u64)> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let md = std::fs::symlink_metadata(&p).unwrap();
            if md.is_dir() {
                todo.push(p.clone());
            }
            out.push((p, md.len()));
        }
    }
    out.sort();
    out
}

/// Wrong directories, each with the words its error must carry.
fn wrong_dirs(base: &Path) -> Vec<(PathBuf, &'static str)> {
    let empty = base.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let junk = base.join("junk");
    std::fs::create_dir_all(junk.join("sub")).unwrap();
    std::fs::write(junk.join("notes.txt"), b"hello").unwrap();
    // The real WAL directory of the committed data dir.
    let wal = base.join("wal");
    copy_dir(&testdata("prom-2.42-live/data/wal"), &wal);
    // A snapshots/ directory with two real snapshots.
    let snaps = base.join("snapshots");
    for s in [LIVE_WITH_HEAD, crate::util::LIVE_SKIP_HEAD] {
        let name = Path::new(s).file_name().unwrap();
        copy_dir(&testdata(s), &snaps.join(name));
    }
    vec![
        (empty, "it is empty"),
        (junk, "Prometheus does not write"),
        (wal, "WAL directory"),
        (snaps, "snapshot"),
    ]
}

#[test]
fn a_directory_that_is_no_tsdb_is_a_usage_error_naming_what_it_is() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("replica");
    copy_dir(&testdata("prom-2.42-live/data/wal"), &data.join("wal"));
    let dst = tmp.path().join("dst");
    let (d, r) = (dst.to_str().unwrap(), data.to_str().unwrap());
    for (dir, words) in wrong_dirs(tmp.path()) {
        let before = tree(tmp.path());
        let p = dir.to_str().unwrap();
        let snap_out = tmp.path().join("20261205T081500Z-5f1c0e9a2b7d4c63");
        let s = snap_out.to_str().unwrap();
        let cases: Vec<Vec<&str>> = vec![
            vec!["ls", p],
            vec!["ls", "--json", p],
            vec!["dump", p],
            vec!["gaps", p],
            vec!["coverage", p],
            vec!["analyze", p],
            vec!["verify", p],
            vec!["copy", p, d],
            vec!["copy", "--dry-run", "--json", p, d],
            vec!["fill", r, "--from", p],
            vec!["snapshot", p, s],
        ];
        for args in cases {
            let out = promsnap(&args);
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
            assert!(
                err.contains("no block, no wal/, no chunks_head/") && err.contains(words),
                "{args:?}: {err}"
            );
            assert!(!err.contains("panicked"), "{args:?}: {err}");
        }
        assert_eq!(before, tree(tmp.path()), "{}: something was written", p);
        assert!(!dst.exists());
    }
    // The snapshots/ parent names the snapshots, so the right one can be given.
    let out = promsnap(&["copy", tmp.path().join("snapshots").to_str().unwrap(), d]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("20261125T091234Z-788eafc011a10c98"), "{err}");
    // verify prints no startup verdict for such a directory.
    let out = promsnap(&["verify", tmp.path().join("wal").to_str().unwrap()]);
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("VERDICT"),
        "{out:?}"
    );
    // A data dir a Prometheus has only just started in is recognised, not refused.
    let fresh = tmp.path().join("fresh");
    std::fs::create_dir_all(&fresh).unwrap();
    std::fs::write(fresh.join("lock"), b"").unwrap();
    let out = promsnap(&["ls", fresh.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
}

#[test]
fn jobs_of_zero_or_a_huge_count_is_a_usage_error_not_a_panic() {
    let tmp = tempfile::tempdir().unwrap();
    let snap = testdata(LIVE_WITH_HEAD);
    let s = snap.to_str().unwrap();
    let dst = tmp.path().join("dst");
    let d = dst.to_str().unwrap();
    for n in ["0", "99999999999", "257", "many"] {
        for args in [
            vec!["verify", "--jobs", n, s],
            vec!["copy", "--jobs", n, s, d],
        ] {
            let out = promsnap(&args);
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
            assert!(err.contains("--jobs"), "{args:?}: {err}");
            assert!(!err.contains("panicked"), "{args:?}: {err}");
            assert!(!dst.exists(), "{args:?} wrote something");
        }
    }
    let out = promsnap(&["verify", "--quick", "--jobs", "256", s]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
}

#[test]
fn gaps_with_a_zero_interval_is_a_usage_error() {
    let snap = testdata(LIVE_WITH_HEAD);
    for iv in ["0s", "0ms", "0h"] {
        let out = promsnap(&["gaps", snap.to_str().unwrap(), "--interval", iv]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{iv}: {out:?}");
        assert!(
            err.contains("--interval") && err.contains("positive"),
            "{err}"
        );
    }
}

/// Every RFC 3339 time in `text` (`YYYY-MM-DDTHH:MM:SS…Z`), with what
/// follows the seconds up to the `Z`.
fn times(text: &str) -> Vec<String> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    for i in 0..b.len().saturating_sub(19) {
        let shape = digits(i..i + 4)
            && b[i + 4] == b'-'
            && b[i + 7] == b'-'
            && b[i + 10] == b'T'
            && b[i + 13] == b':'
            && b[i + 16] == b':'
            && digits(i + 17..i + 19);
        if shape && (i == 0 || !b[i - 1].is_ascii_digit()) {
            let end = text[i..].find(|c: char| !(c.is_ascii_digit() || ":-T.Z".contains(c)));
            out.push(text[i..i + end.unwrap_or(text.len() - i)].to_string());
        }
    }
    out
}

#[test]
fn human_output_writes_every_time_with_milliseconds() {
    let tmp = tempfile::tempdir().unwrap();
    let snap = testdata(LIVE_WITH_HEAD);
    let data = testdata("prom-2.42-live/data");
    let (s, m) = (snap.to_str().unwrap(), data.to_str().unwrap());
    let replica = tmp.path().join("replica");
    copy_dir(&testdata(crate::util::LIVE_SKIP_HEAD), &replica);
    std::fs::create_dir_all(replica.join("wal")).unwrap();
    let r = replica.to_str().unwrap();
    let dst = tmp.path().join("dst");
    let runs: Vec<Vec<&str>> = vec![
        vec!["ls", "--human", s],
        vec!["verify", m],
        vec!["wal", m],
        vec![
            "coverage",
            s,
            "--master",
            m,
            "--rw-start",
            "2026-11-25T09:10:00Z",
            "--slave-up",
            "2026-11-25T09:13:40Z",
        ],
        vec!["gaps", m],
        vec!["gaps", r, "--against", m],
        vec!["fill", "--dry-run", r, "--from", m],
        vec!["copy", "--dry-run", s, dst.to_str().unwrap()],
    ];
    let mut seen = 0;
    for args in runs {
        let out = promsnap(&args);
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{args:?}: {out:?}"
        );
        let text = String::from_utf8_lossy(&out.stdout);
        for t in times(&text) {
            seen += 1;
            // 2026-11-25T09:12:34.000Z: 24 characters, ".mmmZ" at the end.
            assert!(
                t.len() == 24 && t.as_bytes()[19] == b'.' && t.ends_with('Z'),
                "{args:?}: time {t:?} is not RFC 3339 with milliseconds"
            );
        }
    }
    assert!(seen > 20, "only {seen} times seen");
}

#[test]
fn dump_with_an_unreadable_wal_still_dumps_the_blocks_and_exits_1() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    copy_dir(&testdata("prom-2.42-live/data"), &data);
    std::fs::remove_dir_all(data.join("snapshots")).unwrap();
    // The blocks alone: the same directory without its head.
    let blocks = tmp.path().join("blocks");
    copy_dir(&data, &blocks);
    std::fs::remove_dir_all(blocks.join("wal")).unwrap();
    std::fs::remove_dir_all(blocks.join("chunks_head")).unwrap();
    // A WAL segment that cannot be read, even by root: a symlink to a
    // directory (EISDIR).
    let seg = data.join("wal/00000003");
    std::fs::remove_file(&seg).unwrap();
    std::os::unix::fs::symlink(data.join("wal/checkpoint.00000001"), &seg).unwrap();
    let out = promsnap(&["dump", data.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("head (wal/) not read") && err.contains("00000003"),
        "{err}"
    );
    let want = promsnap(&["dump", blocks.to_str().unwrap()]);
    assert_eq!(want.status.code(), Some(0));
    assert!(!want.stdout.is_empty());
    assert_eq!(out.stdout, want.stdout, "the blocks' samples, all of them");
}

/// `fill` writes blocks spanning their first to last sample (off the grid):
/// afterwards the replica's block range is still the one its own blocks
/// show, so a second `fill`, `ls` and `coverage` keep its grid.
#[test]
fn blocks_written_by_fill_do_not_change_the_inferred_block_range() {
    let tmp = tempfile::tempdir().unwrap();
    let replica = tmp.path().join("replica");
    copy_dir(&testdata(crate::util::LIVE_SKIP_HEAD), &replica);
    std::fs::create_dir_all(replica.join("wal")).unwrap();
    let r = replica.to_str().unwrap();
    let m = testdata("prom-2.42-live/data");
    let range = |dir: &str| -> i64 {
        let out = promsnap(&["ls", "--json", dir]);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["block_range"].as_i64().unwrap()
    };
    assert_eq!(range(r), 120_000);
    let out = promsnap(&["fill", r, "--from", m.to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["samples_added"].as_u64().unwrap() > 0, "{v:#}");
    // The blocks written end off the grid (their last sample + 1 ms).
    let off_grid = v["ranges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["max_time"].as_i64().unwrap() % 60_000 != 0)
        .count();
    assert!(off_grid > 0, "{v:#}");
    assert_eq!(range(r), 120_000, "the replica's grid after fill");
    let out = promsnap(&["fill", r, "--from", m.to_str().unwrap(), "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["block_range"], 120_000, "{v:#}");
    assert_eq!(v["samples_added"], 0, "{v:#}");
}

/// `copy` into an existing directory that holds other things than a
/// Prometheus data directory (a `wal/` directory, documents) refuses and
/// writes nothing; a fresh filesystem's `lost+found` is no obstacle.
#[test]
fn copy_into_a_foreign_directory_is_a_usage_error() {
    let tmp = tempfile::tempdir().unwrap();
    let snap = testdata(LIVE_WITH_HEAD);
    let s = snap.to_str().unwrap();
    let docs = tmp.path().join("docs");
    std::fs::create_dir_all(docs.join("notes")).unwrap();
    std::fs::write(docs.join("important.txt"), b"keep me").unwrap();
    let wal = tmp.path().join("wal");
    copy_dir(&testdata("prom-2.42-live/data/wal"), &wal);
    for (dir, words) in [
        (&docs, "Prometheus does not write"),
        (&wal, "WAL directory"),
    ] {
        let before = tree(dir);
        let out = promsnap(&["copy", s, dir.to_str().unwrap(), "--retention", "100y"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(
            err.contains("not a Prometheus data directory") && err.contains(words),
            "{err}"
        );
        assert_eq!(
            before,
            tree(dir),
            "{}: something was written",
            dir.display()
        );
    }
    let fresh = tmp.path().join("mnt");
    std::fs::create_dir_all(fresh.join("lost+found")).unwrap();
    let out = promsnap(&["copy", s, fresh.to_str().unwrap(), "--retention", "100y"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let out = promsnap(&["verify", fresh.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
}

#[test]
fn fill_with_an_implausible_block_range_is_a_usage_error() {
    let tmp = tempfile::tempdir().unwrap();
    let replica = tmp.path().join("replica");
    copy_dir(&testdata(crate::util::LIVE_SKIP_HEAD), &replica);
    std::fs::create_dir_all(replica.join("wal")).unwrap();
    let before = tree(&replica);
    let m = testdata("prom-2.42-live/data");
    // 1ms: one block per scrape (the dry run planned 480k blocks); -2h was
    // refused by the argument parser as an unknown argument "-2".
    for br in ["0s", "99999999999h", "30000d", "1ms", "59s", "-2h"] {
        let out = promsnap(&[
            "fill",
            replica.to_str().unwrap(),
            "--from",
            m.to_str().unwrap(),
            "--block-range",
            br,
        ]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{br}: {err}");
        assert!(err.contains("--block-range"), "{br}: {err}");
    }
    assert_eq!(before, tree(&replica));
}

/// `coverage --master` given a directory with no WAL (empty, the
/// `snapshots/` parent) answered "no segments: nothing to simulate" and a
/// deadline of "none"; it is a usage error naming the flag.
#[test]
fn coverage_master_without_a_wal_is_a_usage_error() {
    let tmp = tempfile::tempdir().unwrap();
    let empty = tmp.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let snap = testdata(LIVE_WITH_HEAD);
    let parent = testdata("prom-2.42-live/data/snapshots");
    for m in [&empty, &parent] {
        let out = promsnap(&[
            "coverage",
            snap.to_str().unwrap(),
            "--master",
            m.to_str().unwrap(),
        ]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(
            err.contains("--master") && err.contains("no WAL segment"),
            "{err}"
        );
    }
    // The data dir and its wal/ both are a master.
    let data = testdata("prom-2.42-live/data");
    for m in [data.clone(), data.join("wal")] {
        let out = promsnap(&[
            "coverage",
            snap.to_str().unwrap(),
            "--master",
            m.to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(0), "{out:?}");
    }
}

/// A WAL with a segment missing in the middle: Prometheus 2.42 refuses to
/// open it ("segments are not sequential", as verify says); `dump` and
/// `gaps` read on but name the missing segments and exit 1 instead of 0.
#[test]
fn a_wal_segment_missing_in_the_middle_is_named_not_skipped_silently() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    copy_dir(&testdata("prom-2.42-live/data"), &data);
    std::fs::remove_dir_all(data.join("snapshots")).unwrap();
    std::fs::remove_file(data.join("wal/00000003")).unwrap();
    let d = data.to_str().unwrap();
    let out = promsnap(&["verify", "--json", d]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["startup"][0]["outcome"], "refuse", "{v:#}");
    for args in [vec!["dump", d], vec!["gaps", d]] {
        let out = promsnap(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.contains("00000003..00000003 are missing"),
            "{args:?}: {err}"
        );
    }
}

/// `coverage --observed-at 2020-01-01` for a master WAL whose newest sample
/// is of 2026-11-25 was taken as given (exit 0, every forecast truncation
/// computed from 2020). A WAL holds no sample written after it was
/// observed: a usage error naming the flag; within a minute of the newest
/// sample (clock skew) it is accepted.
#[test]
fn coverage_observed_at_before_the_wals_newest_sample_is_a_usage_error() {
    let snap = testdata(LIVE_WITH_HEAD);
    let master = testdata("prom-2.42-live/data");
    let run = |at: &str| {
        promsnap(&[
            "coverage",
            snap.to_str().unwrap(),
            "--master",
            master.to_str().unwrap(),
            "--observed-at",
            at,
        ])
    };
    let out = run("2020-01-01T00:00:00Z");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("--observed-at") && err.contains("2026-11-25T09:12:39.123Z"),
        "{err}"
    );
    // The newest sample is at 09:12:39.123.
    for ok in [
        "2026-11-25T09:12:39.123Z",
        "2026-11-25T09:12:00Z",
        "2026-11-25T10:00:00Z",
    ] {
        let out = run(ok);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{ok}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// A negative value of a `coverage` duration or count is refused by the
/// flag's own parser, which names the flag and the value (it was taken for
/// an unknown argument `-1`/`-5`), exit 2, nothing on stdout.
#[test]
fn coverage_negative_durations_and_counts_name_their_flag() {
    let snap = testdata(LIVE_WITH_HEAD);
    let master = testdata("prom-2.42-live/data");
    for (flag, value) in [
        ("--slave-retention", "-1d"),
        ("--catch-up", "-5s"),
        ("--sent-series", "-5"),
        ("--queue-capacity", "-3"),
    ] {
        let out = promsnap(&[
            "coverage",
            snap.to_str().unwrap(),
            "--master",
            master.to_str().unwrap(),
            flag,
            value,
        ]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flag} {value}: {err}");
        assert!(
            err.contains(flag) && err.contains(value),
            "{flag} {value}: {err}"
        );
        assert!(
            !err.contains("unexpected argument"),
            "{flag} {value}: {err}"
        );
        assert!(out.stdout.is_empty(), "{flag} {value}");
    }
}
