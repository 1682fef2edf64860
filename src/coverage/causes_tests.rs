//! Tests of the loss causes L5–L10 (`causes.rs`).
use std::path::{Path, PathBuf};

use super::*;
use crate::coverage::model::{ModelInput, ModelOutput, compute};
use crate::coverage::snapshot::{SnapshotInfo, analyze};

const H: i64 = 3_600_000;
const M: i64 = 60_000;
const S: i64 = 1_000;
const DAY0: i64 = 1_795_564_800_000; // 2026-11-25T00:00:00Z

fn testdata(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(rel)
}
const LIVE: &str = "prom-2.42-live/data/snapshots/20261125T091234Z-788eafc011a10c98";
const NATIVE: &str = "prom-2.42-nativehist/data/snapshots/20261125T095910Z-571c9d7c71851497";

/// (ulid, minTime, maxTime, bytes) of every block, read here from the
/// directories themselves, newest maxTime first.
fn blocks_on_disk(dir: &Path) -> Vec<(String, i64, i64, u64)> {
    fn du(p: &Path) -> u64 {
        std::fs::read_dir(p)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                if e.file_type().unwrap().is_dir() {
                    du(&e.path())
                } else {
                    e.metadata().unwrap().len()
                }
            })
            .sum()
    }
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let Ok(m) = std::fs::read(p.join("meta.json")) else {
            continue;
        };
        let v: serde_json::Value = serde_json::from_slice(&m).unwrap();
        out.push((
            v["ulid"].as_str().unwrap().to_string(),
            v["minTime"].as_i64().unwrap(),
            v["maxTime"].as_i64().unwrap(),
            du(&p),
        ));
    }
    out.sort_by_key(|b| std::cmp::Reverse(b.2));
    out
}

fn spans(ws: &[LossWindow]) -> Vec<(i64, i64)> {
    let mut v: Vec<(i64, i64)> = ws.iter().map(|w| (w.from, w.to)).collect();
    v.sort_unstable();
    v
}

fn expect_deleted(disk: &[(String, i64, i64, u64)], from: usize) -> Vec<(i64, i64)> {
    let mut v: Vec<(i64, i64)> = disk.iter().skip(from).map(|b| (b.1, b.2 - 1)).collect();
    v.sort_unstable();
    v
}

#[test]
fn l8_time_retention_deletes_blocks_at_least_the_retention_before_the_newest() {
    let dir = testdata(LIVE);
    let snap = analyze(&dir, None).unwrap();
    let disk = blocks_on_disk(&dir);
    assert_eq!(disk.len(), 4);
    let newest = disk[0].2;
    // A retention reaching exactly back to the 3rd newest block's end
    // deletes it and the older one (`>=`, Prometheus v2.52+).
    let ret = newest - disk[2].2;
    let mut a = Vec::new();
    let ws = retention_windows(&snap.blocks, Some(ret), None, &mut a);
    assert!(ws.iter().all(|w| w.cause == Cause::L8));
    assert!(ws.iter().all(|w| w.certainty == Certainty::Expected));
    assert_eq!(spans(&ws), expect_deleted(&disk, 2));
    assert!(ws.iter().any(|w| w.why.contains(&disk[2].0)));
    // One ms longer keeps it; only the oldest goes.
    let ws = retention_windows(&snap.blocks, Some(ret + 1), None, &mut a);
    assert_eq!(spans(&ws), expect_deleted(&disk, 3));
    // The newest block is never deleted by time, whatever the retention.
    let ws = retention_windows(&snap.blocks, Some(1), None, &mut a);
    assert_eq!(spans(&ws), expect_deleted(&disk, 1));
    assert!(a.is_empty(), "{a:?}");
    // No retention given: Prometheus' 15d default, stated; nothing this young goes.
    let ws = retention_windows(&snap.blocks, None, None, &mut a);
    assert!(ws.is_empty());
    assert!(a.iter().any(|s| s.contains("15d")), "{a:?}");
}

#[test]
fn l8_size_retention_deletes_oldest_blocks_past_the_budget() {
    let dir = testdata(LIVE);
    let snap = analyze(&dir, None).unwrap();
    let disk = blocks_on_disk(&dir);
    for (b, d) in disk
        .iter()
        .map(|d| (snap.blocks.iter().find(|b| b.ulid == d.0), d))
    {
        assert_eq!(b.map(|b| b.bytes), Some(d.3), "{}", d.0);
    }
    let two = disk[0].3 + disk[1].3;
    let mut a = Vec::new();
    // Exactly the two newest fit: the 3rd and 4th go.
    let ws = retention_windows(&snap.blocks, None, Some(two), &mut a);
    assert_eq!(spans(&ws), expect_deleted(&disk, 2));
    // One byte less: the 2nd crosses the budget too.
    let ws = retention_windows(&snap.blocks, None, Some(two - 1), &mut a);
    assert_eq!(spans(&ws), expect_deleted(&disk, 1));
    // Smaller than the newest block: everything goes.
    let ws = retention_windows(&snap.blocks, None, Some(1), &mut a);
    assert_eq!(spans(&ws), expect_deleted(&disk, 0));
    // A size retention alone turns the 15d default off.
    assert!(!a.iter().any(|s| s.contains("15d")), "{a:?}");
    let total: u64 = disk.iter().map(|d| d.3).sum();
    assert!(retention_windows(&snap.blocks, None, Some(total), &mut a).is_empty());
}

fn model_of(snap: &SnapshotInfo, facts: OperatorFacts, up: Option<i64>) -> ModelOutput {
    let c = snap.coverage_end.unwrap();
    let mut inp = ModelInput::new(
        snap.block_range,
        c,
        snap.head_min.unwrap(),
        snap.snapshot_time.unwrap(),
    );
    inp.slave_up = up;
    inp.native = snap.native_histograms.clone();
    inp.blocks = snap.blocks.clone();
    inp.facts = facts;
    compute(&inp)
}

#[test]
fn l9_native_histograms_of_the_real_snapshot() {
    let dir = testdata(NATIVE);
    let snap = analyze(&dir, None).unwrap();
    // The oracle walked the head block: one chunk per series
    // (numChunks == numSeries), 13 Histogram + 9 FloatHistogram chunks.
    let oracle: serde_json::Value = serde_json::from_slice(
        &std::fs::read(testdata(
            "prom-2.42-nativehist/oracle/inspect_snapshot_20261125T095910Z-571c9d7c71851497.json",
        ))
        .unwrap(),
    )
    .unwrap();
    let head = snap.head_block.as_ref().unwrap();
    let o = &oracle["blocks"][&head.ulid];
    assert_eq!(o["stats"]["numChunks"], o["stats"]["numSeries"]);
    let enc = &o["walked_encodings"];
    let hist_series = enc["Histogram"].as_u64().unwrap() + enc["FloatHistogram"].as_u64().unwrap();
    let n = snap.native_histograms.clone().unwrap();
    assert_eq!(n.block.as_deref(), Some(head.ulid.as_str()));
    assert_eq!(n.series, Some(hist_series));

    let up = snap.coverage_end.unwrap() + 5 * M;
    let out = model_of(&snap, OperatorFacts::default(), Some(up));
    let l9: Vec<_> = out
        .loss_windows
        .iter()
        .filter(|w| w.cause == Cause::L9)
        .collect();
    assert_eq!(l9.len(), 1, "{:#?}", out.loss_windows);
    assert_eq!(l9[0].from, snap.coverage_end.unwrap());
    assert_eq!(l9[0].to, up);
    assert_eq!(l9[0].series, Some(hist_series));
    assert!(l9[0].ongoing);
    assert!(
        out.assumptions
            .iter()
            .any(|a| a.contains("send_native_histograms not given"))
    );
    assert!(out.verdict.unwrap().contains("L9"));

    let facts = OperatorFacts {
        send_native_histograms: Some(true),
        ..Default::default()
    };
    let out = model_of(&snap, facts, Some(up));
    assert!(out.loss_windows.iter().all(|w| w.cause != Cause::L9));
    assert!(out.assumptions.iter().any(|a| a.contains("v3.8+")));

    // The float-only live snapshot has none: no L9 window.
    let live = analyze(&testdata(LIVE), None).unwrap();
    assert_eq!(live.native_histograms.as_ref().unwrap().series, Some(0));
    let out = model_of(&live, OperatorFacts::default(), Some(up));
    assert!(out.loss_windows.iter().all(|w| w.cause != Cause::L9));
}

/// The seed's timeline: blocks every 2 h, snapshot and C_snap at 02:55,
/// remote write since 02:50, slave up at 03:01.
fn seed(facts: OperatorFacts) -> (ModelOutput, i64, i64) {
    let c = DAY0 + 2 * H + 55 * M;
    let up = DAY0 + 3 * H + M;
    let mut inp = ModelInput::new(2 * H, c, DAY0, c);
    inp.series = Some(100_000);
    inp.rw_start = Some(DAY0 + 2 * H + 50 * M);
    inp.slave_up = Some(up);
    inp.facts = facts;
    (compute(&inp), c, up)
}

fn only(out: &ModelOutput, cause: Cause) -> Vec<LossWindow> {
    out.loss_windows
        .iter()
        .filter(|w| w.cause == cause)
        .cloned()
        .collect()
}

#[test]
fn l5_sample_age_limit_drops_the_old_part_of_the_backlog() {
    let (a, catch) = (2 * M, 10 * M);
    let (out, c, up) = seed(OperatorFacts {
        sample_age_limit: Some(a),
        catch_up: Some(catch),
        ..Default::default()
    });
    let l5 = only(&out, Cause::L5);
    assert_eq!(l5.len(), 1);
    // [t_b, T_up + catch-up − A], t_b = the first sample after C_snap.
    assert_eq!(l5[0].from, c);
    assert_eq!(l5[0].to, up + catch - a);
    assert_eq!(l5[0].to_earliest, Some(up - a));
    assert_eq!(l5[0].certainty, Certainty::Expected);
    assert!(out.verdict.unwrap().starts_with("Loss expected"));

    // Catch-up unknown: instant, stated.
    let (out, c, up) = seed(OperatorFacts {
        sample_age_limit: Some(a),
        ..Default::default()
    });
    let l5 = only(&out, Cause::L5);
    assert_eq!((l5[0].from, l5[0].to), (c, up - a));
    assert!(
        out.assumptions
            .iter()
            .any(|s| s.contains("catch-up time not given"))
    );

    // A limit longer than the outage: nothing dropped.
    let (out, _, _) = seed(OperatorFacts {
        sample_age_limit: Some(H),
        ..Default::default()
    });
    assert!(only(&out, Cause::L5).is_empty());
    // Not given: default off, stated.
    let (out, _, _) = seed(OperatorFacts::default());
    assert!(only(&out, Cause::L5).is_empty());
    assert!(
        out.assumptions
            .iter()
            .any(|s| s.contains("sample_age_limit not given"))
    );
    // A master older than v2.50 has no such setting.
    let (out, _, _) = seed(OperatorFacts {
        sample_age_limit: Some(a),
        master_version: Version::parse("2.49.1").ok(),
        ..Default::default()
    });
    assert!(only(&out, Cause::L5).is_empty());
}

#[test]
fn l6_master_restart_before_the_slave_is_up() {
    let restart = DAY0 + 2 * H + 58 * M;
    let (out, c, _) = seed(OperatorFacts {
        master_restarts: vec![restart],
        ..Default::default()
    });
    let l6 = only(&out, Cause::L6);
    assert_eq!(l6.len(), 1);
    assert_eq!((l6[0].from, l6[0].to), (c, restart));
    assert_eq!(l6[0].certainty, Certainty::Expected);
    // The new reader starts after C_snap: no boundary sliver any more.
    assert!(only(&out, Cause::L3).is_empty());
    // Its stall position is the restart plus the queue's buffer: the 03:00
    // truncation is 2 min after it (< R/2), 05:00 is the deadline.
    let p = out.deadline.watcher_position;
    assert!(p >= restart && p - restart < M, "{p}");
    assert_eq!(out.deadline.at, DAY0 + 5 * H);

    // Two restarts: the second resets the reader the first started, one
    // window to the second.
    let r1 = DAY0 + 2 * H + 57 * M;
    let (out, c, _) = seed(OperatorFacts {
        master_restarts: vec![restart, r1],
        ..Default::default()
    });
    let l6 = only(&out, Cause::L6);
    assert_eq!(spans(&l6), vec![(c, restart)]);

    // During the catch-up: at most the backlog; after it: nothing.
    let (out, c, up) = seed(OperatorFacts {
        master_restarts: vec![DAY0 + 3 * H + 2 * M],
        catch_up: Some(5 * M),
        ..Default::default()
    });
    let l6 = only(&out, Cause::L6);
    assert_eq!((l6[0].from, l6[0].to), (c, up + M));
    assert_eq!(l6[0].certainty, Certainty::Bound);
    let (out, _, _) = seed(OperatorFacts {
        master_restarts: vec![DAY0 + 3 * H + 2 * M],
        ..Default::default()
    });
    // After it: only the shards' last batch, lost if the master was killed.
    let l6 = only(&out, Cause::L6);
    assert_eq!(l6.len(), 1);
    assert_eq!(l6[0].certainty, Certainty::Risk);
    assert!(l6[0].to <= DAY0 + 3 * H + 2 * M && l6[0].to - l6[0].from <= 20_000);
    // Before remote write started: no reader to reset.
    let (out, _, _) = seed(OperatorFacts {
        master_restarts: vec![DAY0 + 2 * H],
        ..Default::default()
    });
    assert!(only(&out, Cause::L6).is_empty());
}

#[test]
fn l7_receiver_rejects() {
    let fixed = DAY0 + 3 * H + 30 * M;
    let (out, c, _) = seed(OperatorFacts {
        receiver_rejects: Some(404),
        rejects_until: Some(fixed),
        ..Default::default()
    });
    let l7 = only(&out, Cause::L7);
    assert_eq!(l7.len(), 1);
    assert_eq!((l7[0].from, l7[0].to), (c, fixed));
    assert_eq!(l7[0].certainty, Certainty::Expected);
    assert!(!l7[0].ongoing);

    // Still rejecting: up to the latest time the inputs name (slave up
    // + catch-up here), and ongoing.
    let (out, c, up) = seed(OperatorFacts {
        receiver_rejects: Some(413),
        catch_up: Some(M),
        ..Default::default()
    });
    let l7 = only(&out, Cause::L7);
    assert_eq!((l7[0].from, l7[0].to), (c, up + M));
    assert!(l7[0].ongoing);
    assert_eq!(l7[0].certainty, Certainty::Bound);

    // 5xx is retried: no window, but said.
    let (out, _, _) = seed(OperatorFacts {
        receiver_rejects: Some(503),
        ..Default::default()
    });
    assert!(only(&out, Cause::L7).is_empty());
    assert!(out.assumptions.iter().any(|s| s.contains("retries 5xx")));
    // Fixed before the slave was up: nothing was sent while rejected.
    let (out, _, _) = seed(OperatorFacts {
        receiver_rejects: Some(404),
        rejects_until: Some(DAY0 + 3 * H),
        ..Default::default()
    });
    assert!(only(&out, Cause::L7).is_empty());
}

#[test]
fn l10_watcher_bug_versions() {
    // Without the master WAL: at most from the stall to the slave's start.
    let (out, c, up) = seed(OperatorFacts {
        master_version: Version::parse("2.52.0").ok(),
        ..Default::default()
    });
    let l10 = only(&out, Cause::L10);
    assert_eq!(l10.len(), 1);
    assert_eq!((l10[0].from, l10[0].to), (c, up));
    assert_eq!(l10[0].certainty, Certainty::Bound);
    // Fixed and older versions: none.
    for v in ["2.53.1", "2.50.1", "3.14.0"] {
        let (out, _, _) = seed(OperatorFacts {
            master_version: Version::parse(v).ok(),
            ..Default::default()
        });
        assert!(only(&out, Cause::L10).is_empty(), "{v}");
    }
    // Unknown: assumed fine, stated.
    let (out, _, _) = seed(OperatorFacts::default());
    assert!(
        out.assumptions
            .iter()
            .any(|s| s.contains("master version not given"))
    );
}

#[test]
fn l10_on_the_real_master_wal_skips_the_segments_in_between() {
    // The native-histogram master's WAL at shutdown (09:59:14): the
    // reader stalls in the active segment 6; each forecast truncation
    // opens a new segment; with the slave up 6 minutes later, the
    // segments between the reader's and the live one are skipped.
    let dir = testdata(NATIVE);
    let snap = analyze(&dir, None).unwrap();
    let observed = DAY0 + 9 * H + 59 * M + 14 * S;
    let wal =
        crate::coverage::wal::read_wal(&testdata("prom-2.42-nativehist/data"), Some(observed))
            .unwrap();
    assert!(
        crate::coverage::wal::restart_hints(&wal, snap.block_range, 0, 1_000, &[]).is_empty(),
        "the real segments all start at truncations"
    );
    let c = snap.coverage_end.unwrap();
    let up = c + 6 * M;
    let mut inp = ModelInput::new(
        snap.block_range,
        c,
        snap.head_min.unwrap(),
        snap.snapshot_time.unwrap(),
    );
    inp.compaction_delay = snap.compaction_delay.unwrap_or(0);
    inp.wal = Some(wal);
    inp.slave_up = Some(up);
    inp.facts.master_version = Version::parse("2.51.2").ok();
    let out = compute(&inp);
    let starts: Vec<i64> = out
        .truncations
        .iter()
        .copied()
        .filter(|&t| t > observed && t <= up)
        .collect();
    assert!(starts.len() >= 2, "{:?}", out.truncations);
    let l10 = only(&out, Cause::L10);
    assert_eq!(l10.len(), 1, "{:#?}", out.loss_windows);
    assert_eq!(l10[0].from, starts[0]);
    assert_eq!(l10[0].to, starts[starts.len() - 1] - 1);
    assert_eq!(l10[0].certainty, Certainty::Expected);
}

#[test]
fn versions() {
    let v = |s| Version::parse(s).unwrap();
    assert_eq!(
        v("v2.53.0"),
        Version {
            major: 2,
            minor: 53,
            patch: 0
        }
    );
    assert_eq!(v("2.42.0+ds").to_string(), "2.42.0");
    assert_eq!(v("3.0.0-rc.1").to_string(), "3.0.0");
    assert_eq!(v("2.51").to_string(), "2.51.0");
    assert!(Version::parse("two").is_err());
    assert!(Version::parse("2.x.1").is_err());
    assert!(Version::parse("1.2.3.4").is_err());
    assert!(Version::parse("").is_err());
    for (s, bug) in [
        ("2.50.1", false),
        ("2.51.0", true),
        ("2.52.2", true),
        ("2.53.0", true),
        ("2.53.1", false),
        ("3.0.0", false),
    ] {
        assert_eq!(v(s).has_watcher_bug(), bug, "{s}");
    }
}

/// 2.42's queue skips histogram records without send_native_histograms: the
/// samples per scrape its batches are cut on leave the 22 native histogram
/// series of the real native-histogram master out (every series is scraped
/// every second there); with it on, they count like floats.
#[test]
fn queued_samples_per_scrape_leave_histograms_out_unless_sent() {
    let snap = analyze(&testdata(NATIVE), None).unwrap();
    let b = snap.head_block.as_ref().or(snap.blocks.last()).unwrap();
    let n = snap.native_histograms.as_ref().unwrap();
    assert_eq!(n.series, Some(22));
    let report = crate::coverage::report::queued_per_scrape;
    let all = report(b, Some(n), true, S, 0);
    let floats = report(b, Some(n), false, S, 0);
    assert_eq!(all, crate::coverage::samples_per_scrape(b, S, 0));
    assert_eq!(all - floats, 22, "{b:?} {n:?}");
    // Another block's count is not this block's.
    let other = super::NativeHistograms {
        block: Some("another".into()),
        ..n.clone()
    };
    assert_eq!(report(b, Some(&other), false, S, 0), all);
}
