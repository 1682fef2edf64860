//! Issue 17: verify's startup verdict against the real Prometheus 2.42 on the
//! same bytes, for damage a crash or a bad disk leaves in the head: a torn
//! WAL tail (the newest segment cut mid-record, mid-page and on a page
//! boundary), a flipped byte in a middle segment, a damaged `chunks_head`
//! file (a flipped byte in a chunk, a file cut mid-chunk, a wrong format
//! version) and a corrupt checkpoint.
//!
//! Each case damages a copy of the fixture data dir (a real 2.42 directory
//! with a checkpoint, three segments and two head chunk files), runs
//! `verify`, starts a Prometheus 2.42 on it (no scrape targets), stops it,
//! and compares: the outcome (clean / repair / refuse) with whether it
//! started and what its log says (a WAL repair, a head chunk deletion), and
//! the predicted loss with the samples the dump of the damaged copy has and
//! the dump after Prometheus' start has not (a cut file's lost tail is the
//! damage's doing; what the start drops besides is Prometheus'). About 30 s.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use super::{CHECK_CFG, Server, dump_lines, free_port, line_time, prometheus_available, verify};
use crate::util::{copy_dir, testdata};

const FIXTURE: &str = "prom-2.42-live/data";

/// How one directory is damaged.
enum Damage {
    /// The file cut to this many bytes.
    Cut(&'static str, u64),
    /// The byte at this offset XORed with 0xff.
    Flip(&'static str, u64),
}

struct Case {
    name: &'static str,
    damage: Damage,
    /// The finding verify must report (the damage is what the test means).
    code: &'static str,
}

fn apply(dir: &Path, d: &Damage) {
    match *d {
        Damage::Cut(f, n) => {
            let p = dir.join(f);
            let file = std::fs::OpenOptions::new().write(true).open(&p).unwrap();
            assert!(file.metadata().unwrap().len() > n, "{}", p.display());
            file.set_len(n).unwrap();
        }
        Damage::Flip(f, o) => {
            let p = dir.join(f);
            let mut b = std::fs::read(&p).unwrap();
            b[o as usize] ^= 0xff;
            std::fs::write(&p, b).unwrap();
        }
    }
}

/// What happened to one case.
#[derive(Debug)]
#[allow(dead_code)] // `log_tail` is read through Debug in failure messages
struct Seen {
    name: &'static str,
    outcome: String,
    because: Vec<String>,
    drops: Vec<[i64; 2]>,
    codes: Vec<String>,
    started: bool,
    wal_repair_logged: bool,
    head_chunks_deleted_logged: bool,
    /// Samples of the damaged copy gone after the start: how many, the
    /// first and last time, and up to 5 times outside the predicted drops.
    lost: usize,
    lost_span: Option<(i64, i64)>,
    lost_outside: Vec<i64>,
    extra: usize,
    /// The numbered WAL segments left after the start (or the failed start).
    segments_after: usize,
    /// After a refusal: whether a second start succeeded.
    restarted: Option<bool>,
    log_tail: String,
}

fn numbered_segments(wal: &Path) -> usize {
    std::fs::read_dir(wal)
        .map(|rd| {
            rd.flatten()
                .filter(|e| {
                    let n = e.file_name().to_string_lossy().into_owned();
                    !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())
                })
                .count()
        })
        .unwrap_or(0)
}

/// `dump` of a damaged directory: it names what it cannot read (exit 1) and
/// prints everything else.
fn dump_damaged(dir: &Path) -> BTreeSet<String> {
    super::dump_of(dir, true)
}

/// True (the test is skipped) when `prometheus` is not installed, which CI
/// does not allow.
fn skip_without_prometheus() -> bool {
    if prometheus_available() {
        return false;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "prometheus is not installed but CI is set"
    );
    eprintln!("live damage: prometheus not on PATH: skipped");
    true
}

/// Starts 2.42 on `dir` (as `name`), waits up to a minute for it to be
/// ready and stops it: whether it was, and its log.
fn start_and_stop(base: &Path, name: &str, dir: &Path) -> (bool, String) {
    let mut srv = Server::start(
        base,
        name,
        CHECK_CFG,
        dir,
        free_port(),
        &["--storage.tsdb.retention.time=100y"],
    );
    let ok = srv.ready(Duration::from_secs(60));
    srv.stop();
    (ok, std::fs::read_to_string(&srv.log).unwrap_or_default())
}

fn run_case(base: &Path, c: &Case) -> Seen {
    let dir = base.join(c.name);
    copy_dir(&testdata(FIXTURE), &dir);
    apply(&dir, &c.damage);
    // What the damaged bytes hold (a cut file's lost tail is the damage's
    // doing, not Prometheus'): the start is judged against this.
    let original = &dump_damaged(&dir);
    let (_, v) = verify(&dir);
    let st = &v["startup"][0];
    let strs = |x: &serde_json::Value| -> Vec<String> {
        x.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let codes: Vec<String> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["code"].as_str().map(str::to_owned))
        .collect();
    let (started, log) = start_and_stop(base, &format!("check-{}", c.name), &dir);
    let segments_after = numbered_segments(&dir.join("wal"));
    // After a refusal: what a second start does with what the first left.
    let restarted = (!started).then(|| start_and_stop(base, &format!("again-{}", c.name), &dir).0);
    let after = if started {
        dump_lines(&dir)
    } else {
        original.clone()
    };
    let mut lost: Vec<i64> = original
        .difference(&after)
        .filter_map(|l| line_time(l))
        .collect();
    lost.sort_unstable();
    let drops: Vec<[i64; 2]> = serde_json::from_value(st["drops"].clone()).unwrap_or_default();
    let lost_outside = lost
        .iter()
        .filter(|&&t| !drops.iter().any(|r| r[0] <= t && t < r[1]))
        .take(5)
        .copied()
        .collect();
    Seen {
        name: c.name,
        outcome: st["outcome"].as_str().unwrap_or("").to_owned(),
        because: strs(&st["because"]),
        drops,
        lost: lost.len(),
        lost_span: lost.first().zip(lost.last()).map(|(a, b)| (*a, *b)),
        lost_outside,
        codes,
        started,
        wal_repair_logged: log.contains("Starting corruption repair"),
        head_chunks_deleted_logged: log.contains("Deleting mmapped chunk files"),
        extra: after.difference(original).count(),
        segments_after,
        restarted,
        log_tail: log.lines().rev().take(6).collect::<Vec<_>>().join(" | "),
    }
}

// One real-server scenario, step by step; its steps share the running servers.
#[allow(clippy::too_many_lines)]
#[test]
fn torn_wal_and_damaged_head_chunks_agree_with_prometheus() {
    if skip_without_prometheus() {
        return;
    }
    let tmp = tempfile::Builder::new()
        .prefix("promsnap-live-damage-")
        .tempdir()
        .unwrap();
    let base = tmp.path();
    let cases = [
        Case {
            name: "wal-cut-mid-page",
            damage: Damage::Cut("wal/00000004", 300_007),
            code: "wal_torn_tail",
        },
        Case {
            name: "wal-cut-on-page-boundary",
            damage: Damage::Cut("wal/00000004", 13 * 32_768),
            code: "wal_torn_tail",
        },
        Case {
            name: "wal-middle-segment-cut",
            damage: Damage::Cut("wal/00000002", 400_007),
            code: "wal_torn_tail",
        },
        Case {
            name: "wal-middle-segment-flipped-byte",
            damage: Damage::Flip("wal/00000003", 300_001),
            code: "wal_checksum",
        },
        Case {
            name: "head-chunk-flipped-byte",
            damage: Damage::Flip("chunks_head/000003", 70_001),
            code: "head_chunk_checksum",
        },
        Case {
            name: "head-chunk-file-cut",
            damage: Damage::Cut("chunks_head/000004", 100_003),
            code: "head_chunk_corrupt",
        },
        Case {
            name: "head-chunk-bad-version",
            damage: Damage::Flip("chunks_head/000003", 4),
            code: "head_chunk_corrupt",
        },
        Case {
            name: "checkpoint-flipped-byte",
            damage: Damage::Flip("wal/checkpoint.00000001/00000000", 10_001),
            code: "wal_checkpoint_corrupt",
        },
    ];
    let mut seen = Vec::new();
    for c in &cases {
        let s = run_case(base, c);
        eprintln!("live damage: {s:?}");
        assert!(
            s.codes.iter().any(|x| x == c.code),
            "{} not found: {s:?}",
            c.code
        );
        seen.push(s);
    }
    for s in &seen {
        // Refuses ⇔ predicted.
        assert_eq!(s.started, s.outcome != "refuse", "{s:?}");
        // A corrupt checkpoint: 2.42's WAL repair takes the checkpoint
        // segment's number and deletes every WAL segment above it before it
        // fails (the verdict module's rule 8).
        if s.because.iter().any(|c| c == "wal_checkpoint_corrupt") {
            assert!(!s.started, "{s:?}");
            assert!(s.wal_repair_logged, "{s:?}");
            assert_eq!(s.segments_after, 0, "{s:?}");
            // The next start finds the checkpoint alone and starts.
            assert_eq!(s.restarted, Some(true), "{s:?}");
        } else if !s.started {
            // Any other refusal stays one.
            assert_eq!(s.restarted, Some(false), "{s:?}");
        }
        if !s.started {
            continue;
        }
        // A repair happened ⇔ predicted; and of the kind predicted.
        let wal = s.because.iter().any(|c| c.starts_with("wal_"));
        let head = s.because.iter().any(|c| {
            matches!(
                c.as_str(),
                "head_chunk_checksum" | "head_chunk_corrupt" | "head_chunk_out_of_order"
            )
        });
        assert_eq!(s.wal_repair_logged, wal, "{s:?}");
        assert_eq!(s.head_chunks_deleted_logged, head, "{s:?}");
        // Nothing appears; every lost sample lies in the predicted drops.
        assert_eq!(s.extra, 0, "{s:?}");
        assert!(
            s.lost_outside.is_empty(),
            "lost outside the predicted drops: {s:?}"
        );
        // A predicted drop is a real one: the lost samples span exactly the
        // predicted range (to the millisecond; `drops` are `[from, to)`),
        // and a drop is predicted exactly when something is lost.
        assert_eq!(s.drops.is_empty(), s.lost == 0, "{s:?}");
        if let (Some((a, b)), [d]) = (s.lost_span, s.drops.as_slice()) {
            assert_eq!((a, b + 1), (d[0], d[1]), "{s:?}");
        }
    }
    let names = |o: &str| -> Vec<&str> {
        seen.iter()
            .filter(|s| s.outcome == o)
            .map(|s| s.name)
            .collect()
    };
    eprintln!(
        "live damage: repair {:?}, refuse {:?}, clean {:?}",
        names("repair"),
        names("refuse"),
        names("clean")
    );
}

/// Issue 19: a corrupt checkpoint, which 2.42 refuses (after deleting the WAL
/// segments), is cut by `salvage --in-place` at the damage as Prometheus'
/// repair means to cut it; the real server then starts on the directory and
/// serves every sample of the undamaged original outside the reported range.
#[test]
fn salvaged_corrupt_checkpoint_starts_and_serves_outside_the_range() {
    if skip_without_prometheus() {
        return;
    }
    let tmp = tempfile::Builder::new()
        .prefix("promsnap-live-ckpt-")
        .tempdir()
        .unwrap();
    let dir = tmp.path().join("data");
    copy_dir(&testdata(FIXTURE), &dir);
    let original = dump_lines(&dir);
    apply(
        &dir,
        &Damage::Flip("wal/checkpoint.00000001/00000000", 10_001),
    );
    let (_, v) = verify(&dir);
    assert_eq!(v["startup"][0]["outcome"], "refuse", "{v}");
    let (code, r) =
        crate::util::run_json(&["salvage", "--in-place", "--json", dir.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{r}");
    let c = &r["checkpoint"];
    assert_eq!(c["code"], "wal_checksum", "{r}");
    let lost_ranges: Vec<[i64; 2]> = serde_json::from_value(r["lost_ranges"].clone()).unwrap();
    assert!(!lost_ranges.is_empty(), "{r}");
    // The original checkpoint segment is kept in quarantine; every WAL
    // segment stays.
    let q = std::path::PathBuf::from(r["quarantine"].as_str().unwrap());
    assert!(q.join("wal/checkpoint.00000001/00000000").is_file());
    for s in ["00000002", "00000003", "00000004"] {
        assert!(dir.join("wal").join(s).is_file(), "{s} gone");
    }
    let (_, v) = verify(&dir);
    assert_ne!(v["startup"][0]["outcome"], "refuse", "{v}");
    let mut srv = Server::start(
        tmp.path(),
        "check",
        CHECK_CFG,
        &dir,
        free_port(),
        &["--storage.tsdb.retention.time=100y"],
    );
    let started = srv.ready(Duration::from_secs(60));
    srv.stop();
    let log = std::fs::read_to_string(&srv.log).unwrap_or_default();
    assert!(started, "Prometheus did not start after salvage: {log}");
    assert!(!log.contains("Starting corruption repair"), "{log}");
    let after = dump_lines(&dir);
    let lost: Vec<&String> = original.difference(&after).collect();
    let extra = after.difference(&original).count();
    assert_eq!(extra, 0, "samples appeared");
    for l in &lost {
        let t = line_time(l).unwrap();
        assert!(
            lost_ranges.iter().any(|r| r[0] <= t && t < r[1]),
            "lost sample outside the reported range {lost_ranges:?}: {l}"
        );
    }
    eprintln!(
        "live damage: checkpoint salvage: {} of {} dump lines lost, reported {lost_ranges:?}, {} \
         series undefined",
        lost.len(),
        original.len(),
        c["series_unknown"]
    );
}
