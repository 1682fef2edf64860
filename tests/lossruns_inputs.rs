//! The verdict never more optimistic than its inputs (issue 14), on the
//! recorded runs with one input taken away or wrong, as an operator may
//! give them: no copy of the master's `wal/`, no `--rw-start`, a snapshot
//! whose head block lost its `meta.json`, a `wal/` copied long after the
//! slave started (the copy of a later slave of the same master), and the
//! slave's clock a few seconds off the master's, and no master's or
//! slave's log (where the run kept one).
//!
//! For every run whose real loss has a part longer than two scrape
//! intervals, each variant must
//! 1. not answer "No real loss";
//! 2. still hold every such part inside its predicted windows (any
//!    certainty: a bound or a risk is enough here, the input that would
//!    decide is missing), start within one scrape interval, end within one
//!    scrape interval plus the clock error given;
//! 3. name the assumption it took in its `assumptions` or `verdict`.
//!
//! Without `--rw-start`, every run (a loss or not) whose slave came up after
//! the coverage end must not answer "No real loss": remote write may have
//! started only with the slave (L1).

use std::path::{Path, PathBuf};

use super::{KNOWN_MISSES, coverage_args, parse_windows, recorded};
use crate::lossmatrix::RunRecord;
use crate::util::{promsnap, testdata};

/// One input taken away or wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Variant {
    NoWal,
    NoRwStart,
    NoHeadMeta,
    LateWal,
    /// The slave's clock `ms` behind (negative) or ahead of the master's.
    Skew(i64),
    /// No `--master-log` (runs that kept `master-log.txt`).
    NoMasterLog,
    /// No `--slave-log` (runs that kept `slave-log.txt`).
    NoSlaveLog,
}

const SKEW_MS: i64 = 3_000;

/// Runs whose estimate misses the real loss without one input, each with
/// why (issue 14 stays open while this list is not empty). A listed run
/// whose variant holds the loss again must leave the list.
const INPUT_MISSES: &[(&str, Variant, &str)] = &[
    ("s4400-2m-up75", Variant::NoSlaveLog, SECOND_LOSS_NO_LOG),
    ("s4400-2m-up75-r2", Variant::NoSlaveLog, SECOND_LOSS_NO_LOG),
    ("s4400-2m-up105", Variant::NoSlaveLog, SECOND_LOSS_NO_LOG),
    ("s4400-2m-up105-r2", Variant::NoSlaveLog, SECOND_LOSS_NO_LOG),
    (
        "s3600-2m-spp400-up95",
        Variant::NoSlaveLog,
        "eleventh set, 2m blocks, 400-sample sends, slave up +95.7 s: the master's log has the first \
         refusal +98.8 s and a 1 -> 200 reshard +100.9 s; the slave's log (every refused timestamp \
         kept) has refused requests starting every 19-23 s up to +69 s, a 400-sample batch of a \
         shard's 18 series spanning about 22 scrapes: real loss +1 .. +90 s of 4 667 series. With the \
         log coverage predicts +1 .. +69..+92 s (PASS); without it L3 +1 s and a risk window to \
         +83.7 s, 6.3 s short of the real end (the tenth set's s4400-2m regime)",
    ),
    (
        "s3600-2m-spp400-up95-r2",
        Variant::NoSlaveLog,
        "the repeat of s3600-2m-spp400-up95, the same to the second: first refusal +98.8 s, reshard \
         1 -> 200 at +100.7 s, refused requests starting at +6, +16, +27, +39, +48, +61 and +69 s; \
         real loss +1 .. +90 s. With the log coverage predicts +1 .. +69..+92 s (PASS); without it \
         L3 +1 .. +6..+83.6 s, 6.4 s short",
    ),
    (
        "s6300-2m-cap3k-ms60-up65",
        Variant::NoSlaveLog,
        "eleventh set, 2m blocks, capacity 3000, max_shards 60, slave up +65.4 s: the master's log \
         has the first refusal +68.9 s and a 1 -> 60 reshard +70.3 s inside the refused backlog; \
         the slave's log has refused requests starting at +2, +7, +11, +14, +16, +26, +30 and +35 s \
         after C_snap: real loss +1 .. +21 s of every series and +26 .. +40 s of 315 series (about \
         three of the 60 shards). With the log coverage predicts +1 .. +16..+21 s and +26 .. \
         +35..+40 s (PASS); without it only the crossing batches, +1 .. +4..+5 s",
    ),
    (
        "s6300-2m-cap3k-ms60-up65-r2",
        Variant::NoSlaveLog,
        "the repeat of s6300-2m-cap3k-ms60-up65: reshard 1 -> 60 at +70.9 s in the refused backlog, \
         refused requests starting at +7, +11, +14, +16, +21, +26, +28, +30 and +35 s: real loss +1 \
         .. +5 s of all series and +7 .. +40 s of 3 257. With the log coverage predicts +7 .. \
         +35..+40 s (PASS); without it the crossing batches and a risk to +5 s only",
    ),
];

const SECOND_LOSS_NO_LOG: &str = "tenth set, 2m blocks, a 1 -> 200 reshard in a backlog more than \
    half the block range late: with the slave's log coverage places the whole loss (+1 .. +66 s, \
    +1 .. +99 s: the log's refused requests chained from before the coverage end); without it the \
    predicted windows' far ends lie 2.4-5.6 s before the real end (the ninth pass's bound for the \
    second loss does not hold here)";

fn set(args: &mut Vec<String>, flag: &str, value: Option<String>) {
    if let Some(i) = args.iter().position(|a| a == flag) {
        args.drain(i..=i + 1);
    }
    if let Some(v) = value {
        args.push(flag.into());
        args.push(v);
    }
}

fn value(args: &[String], flag: &str) -> Option<i64> {
    let i = args.iter().position(|a| a == flag)?;
    args.get(i + 1)?.parse().ok()
}

/// The later slave of the same master whose `wal/` copy was taken at least
/// a minute after this slave was up.
fn later_sibling(ev: &Path, rec: &RunRecord, all: &[(PathBuf, RunRecord)]) -> Option<PathBuf> {
    all.iter()
        .filter(|(p, r)| {
            p != ev
                && r.master == rec.master
                && r.snapshot_name == rec.snapshot_name
                && r.wal_observed_at >= rec.slave_up + 60_000
        })
        .max_by_key(|(_, r)| r.wal_observed_at)
        .map(|(p, _)| p.clone())
}

/// The newest block of the snapshot copy (the head block when the
/// snapshot has one).
fn newest_block(snap: &Path) -> Option<PathBuf> {
    let mut best: Option<(i64, PathBuf)> = None;
    for e in std::fs::read_dir(snap).ok()?.flatten() {
        let meta = std::fs::read_to_string(e.path().join("meta.json")).ok();
        let v: Option<serde_json::Value> = meta.and_then(|m| serde_json::from_str(&m).ok());
        if let Some(mx) = v.and_then(|v| v["maxTime"].as_i64())
            && best.as_ref().is_none_or(|(b, _)| mx > *b)
        {
            best = Some((mx, e.path()));
        }
    }
    best.map(|(_, p)| p)
}

/// `coverage --json` on one run with `v` applied; `None` when the variant
/// does not apply to the run.
fn run_variant(
    ev: &Path,
    rec: &RunRecord,
    v: Variant,
    all: &[(PathBuf, RunRecord)],
) -> Option<(serde_json::Value, i64)> {
    let tmp = tempfile::tempdir().unwrap();
    let mut args = coverage_args(ev, rec, tmp.path());
    let mut clock_error = 0;
    match v {
        Variant::NoWal => {
            set(&mut args, "--master", None);
            set(&mut args, "--observed-at", None);
        }
        Variant::NoRwStart => set(&mut args, "--rw-start", None),
        Variant::NoHeadMeta => {
            if rec.skip_head {
                return None;
            }
            let snap = tmp.path().join("snapshot").join(&rec.snapshot_name);
            let head = newest_block(&snap)?;
            std::fs::remove_file(head.join("meta.json")).ok()?;
        }
        Variant::LateWal => {
            let sib = later_sibling(ev, rec, all)?;
            let sib_rec = all.iter().find(|(p, _)| *p == sib)?.1.clone();
            let other = tmp.path().join("later");
            std::fs::create_dir_all(&other).unwrap();
            let sib_args = coverage_args(&sib, &sib_rec, &other);
            let wal = sib_args[sib_args.iter().position(|a| a == "--master")? + 1].clone();
            set(&mut args, "--master", Some(wal));
            set(
                &mut args,
                "--observed-at",
                Some(sib_rec.wal_observed_at.to_string()),
            );
        }
        Variant::NoMasterLog => {
            args.iter().position(|a| a == "--master-log")?;
            set(&mut args, "--master-log", None);
            set(&mut args, "--master-log-at", None);
        }
        Variant::NoSlaveLog => {
            args.iter().position(|a| a == "--slave-log")?;
            set(&mut args, "--slave-log", None);
            set(&mut args, "--slave-log-at", None);
        }
        Variant::Skew(ms) => {
            let up = value(&args, "--slave-up")?;
            set(&mut args, "--slave-up", Some((up + ms).to_string()));
            clock_error = ms.abs();
        }
    }
    args.push("--json".into());
    let argv: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
    let out = promsnap(&argv);
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{} {v:?}: coverage gave no JSON ({e}): {}",
            rec.run,
            String::from_utf8_lossy(&out.stderr)
        )
    });
    Some((json, clock_error))
}

/// What the variant must name among the assumptions, findings or verdict.
fn named(v: Variant, cov: &serde_json::Value) -> bool {
    let text = serde_json::to_string(&[&cov["assumptions"], &cov["verdict"], &cov["findings"]])
        .unwrap_or_default();
    match v {
        Variant::NoWal => text.contains("no master WAL given"),
        Variant::NoRwStart => text.contains("no remote write start given"),
        Variant::NoHeadMeta => text.contains("meta.json"),
        Variant::LateWal => text.contains("after the slave was up"),
        Variant::Skew(_) => text.contains("on the master's clock"),
        Variant::NoMasterLog => text.contains("no master's log given"),
        Variant::NoSlaveLog => text.contains("no slave's log given"),
    }
}

/// The long real losses of a run (longer than two scrape intervals).
fn long_losses(ev: &Path, scrape: i64) -> Vec<(i64, i64)> {
    let real: serde_json::Value = std::fs::read_to_string(ev.join("real-loss.json"))
        .ok()
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or(serde_json::Value::Null);
    real["merged"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| Some((m["from"].as_i64()?, m["to"].as_i64()?)))
        .filter(|(a, b)| b - a > 2 * scrape)
        .collect()
}

/// The failures of one variant on one run.
fn check(
    ev: &Path,
    rec: &RunRecord,
    v: Variant,
    all: &[(PathBuf, RunRecord)],
    losses: &[(i64, i64)],
) -> Vec<String> {
    let Some((cov, clock_error)) = run_variant(ev, rec, v, all) else {
        return Vec::new();
    };
    let mut fails = Vec::new();
    let verdict = cov["verdict"].as_str().unwrap_or("");
    let c = cov["coverage_end"].as_i64().unwrap_or(0);
    let scrape = rec.scrape_interval_ms;
    let may_lose = !losses.is_empty() || (v == Variant::NoRwStart && rec.slave_up > c);
    // "No real loss" may stand only beside the boundary sliver that holds
    // the loss; without the start of remote write it may not stand at all.
    let bare = verdict.starts_with("No real loss:")
        || (v == Variant::NoRwStart && verdict.starts_with("No real loss"));
    if may_lose && bare {
        fails.push(format!("{} {v:?}: verdict '{verdict}'", rec.run));
    }
    // A snapshot without its head's meta.json is another snapshot: the
    // slave would start on its older blocks, and the recorded loss is not
    // this input's. Only the verdict and the assumption are judged there.
    // A WAL copied after the slave's start may show truncations that
    // came later: the windows are not judged on it either (see
    // docs/LOSS-WINDOWS.md, sixth pass).
    // Samples stamped before their scrape (an exporter's own timestamps)
    // show only in the master's WAL: without it the windows start at the
    // coverage end, and the answer names that assumption.
    let lagged = v == Variant::NoWal
        && std::fs::read_to_string(ev.join("run.json"))
            .is_ok_and(|s| s.contains("\"exporter_ts_lag_ms\""));
    if lagged || matches!(v, Variant::NoHeadMeta | Variant::LateWal) {
        if !named(v, &cov) {
            fails.push(format!("{} {v:?}: the assumption is not named", rec.run));
        }
        return fails;
    }
    let predicted = parse_windows(&cov["loss_windows"]);
    let bound_to: Vec<i64> = cov["loss_windows"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|w| w["bound_to"].as_i64().unwrap_or(i64::MIN))
        .collect();
    for &(from, to) in losses {
        let held = predicted.iter().zip(&bound_to).any(|(w, &b)| {
            w.from <= from + scrape + clock_error && w.to.max(b) + scrape + clock_error >= to
        });
        if !held {
            fails.push(format!(
                "{} {v:?}: real loss {:+.1}..{:+.1} s in no predicted window",
                rec.run,
                (from - c) as f64 / 1e3,
                (to - c) as f64 / 1e3
            ));
        }
    }
    if (may_lose || v != Variant::NoRwStart) && !named(v, &cov) {
        fails.push(format!("{} {v:?}: the assumption is not named", rec.run));
    }
    fails
}

/// Every recorded run (the known misses aside) with each input taken away.
#[test]
fn verdict_never_more_optimistic_than_its_inputs() {
    let dir = testdata("loss-runs");
    let all: Vec<(PathBuf, RunRecord)> = recorded(&dir)
        .into_iter()
        .filter_map(|p| {
            let rec: RunRecord =
                serde_json::from_str(&std::fs::read_to_string(p.join("run.json")).ok()?).ok()?;
            Some((p, rec))
        })
        .filter(|(_, r)| !KNOWN_MISSES.iter().any(|(k, _)| *k == r.run))
        .collect();
    // PROMSNAP_LOSS_JUDGE=a,b: only the runs whose names start with one of
    // these (a look at new recordings; the later siblings stay available).
    let only = std::env::var("PROMSNAP_LOSS_JUDGE").ok();
    let judged = |r: &RunRecord| {
        only.as_ref()
            .is_none_or(|o| o.split(',').any(|p| r.run.starts_with(p)))
    };
    if all.is_empty() {
        eprintln!("lossruns::inputs: no recorded runs under {}", dir.display());
        return;
    }
    let mut fails = Vec::new();
    let mut checked = 0;
    for (ev, rec) in all.iter().filter(|(_, r)| judged(r)) {
        let losses = long_losses(ev, rec.scrape_interval_ms);
        let variants: &[Variant] = if losses.is_empty() {
            &[Variant::NoRwStart]
        } else {
            &[
                Variant::NoWal,
                Variant::NoRwStart,
                Variant::NoHeadMeta,
                Variant::LateWal,
                Variant::Skew(-SKEW_MS),
                Variant::Skew(SKEW_MS),
                Variant::NoMasterLog,
                Variant::NoSlaveLog,
            ]
        };
        for &v in variants {
            checked += 1;
            let f = check(ev, rec, v, &all, &losses);
            match INPUT_MISSES
                .iter()
                .find(|(r, iv, _)| *r == rec.run && *iv == v)
            {
                Some((r, _, why)) if f.is_empty() => fails.push(format!(
                    "{r} {v:?} holds the real loss now: remove it from INPUT_MISSES ({why})"
                )),
                Some(_) => {}
                None => fails.extend(f),
            }
        }
    }
    eprintln!(
        "lossruns::inputs: {checked} variant runs of {} recorded runs, {} failures",
        all.len(),
        fails.len()
    );
    assert!(fails.is_empty(), "{}", fails.join("\n"));
}
