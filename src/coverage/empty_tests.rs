use super::*;
use crate::coverage::wal::read_wal;
use std::path::Path;

fn wal(rel: &str) -> WalView {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(rel);
    read_wal(&dir, None).unwrap()
}

/// `model_bounds` and the one assumption it gave.
fn bounds(w: &WalView, log: Option<&MasterLog>) -> (Bounds, String) {
    let mut a = Vec::new();
    let b = model_bounds(Some(w), log, &mut a).unwrap();
    assert_eq!(a.len(), 1, "{a:?}");
    (b, a.remove(0))
}

#[test]
fn segment_zero_live_without_a_checkpoint_dates_the_first_sample_exactly() {
    // A 2.42 master 30 s old (testdata/empty-seed): segment 0 holds its start.
    let w = wal("empty-seed/late/wal");
    let (first, exact) = first_sample(&w).unwrap();
    assert!(exact);
    assert_eq!(Some(first), w.segments[0].min_t);
    let (b, a) = bounds(&w, None);
    assert_eq!((b.coverage_end, b.head_min), (first - 1, first));
    assert!(a.contains("segment 0, still live"), "{a}");
}

#[test]
fn a_checkpoint_makes_the_first_sample_a_later_bound() {
    // A live data dir whose WAL was truncated: its start is gone.
    let w = wal("prom-2.42-live/data/wal");
    assert!(w.checkpoint.is_some());
    let (_, exact) = first_sample(&w).unwrap();
    assert!(!exact);
    let (_, a) = bounds(&w, None);
    assert!(a.contains("may begin earlier"), "{a}");
}

#[test]
fn without_a_wal_there_are_no_bounds() {
    let mut a = Vec::new();
    assert_eq!(model_bounds(None, None, &mut a), None);
    assert!(a.is_empty());
}

fn run_file(run: &str, name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/loss-runs")
        .join(run)
        .join(name)
}

fn master_log(path: &Path) -> MasterLog {
    crate::coverage::masterlog::parse_bytes(&std::fs::read(path).unwrap(), None)
}

/// The oldest block's `minTime` in the run's recorded snapshot: the
/// master's first sample (its first block is never deleted in a run).
fn oldest_block_min(run: &str) -> Option<i64> {
    let snap = run_file(run, "snapshot");
    let mut min = None;
    for name in std::fs::read_dir(snap).ok()? {
        for block in std::fs::read_dir(name.ok()?.path()).ok()? {
            let meta = std::fs::read_to_string(block.ok()?.path().join("meta.json")).ok()?;
            let v: serde_json::Value = serde_json::from_str(&meta).ok()?;
            let t = v["minTime"].as_i64()?;
            min = Some(min.map_or(t, |m: i64| m.min(t)));
        }
    }
    min
}

#[test]
fn with_segment_zero_live_the_masters_log_moves_nothing() {
    // testdata/empty-seed/late: the master's whole log, its first start on
    // an empty WAL; segment 0 dates the first sample exactly.
    let w = wal("empty-seed/late/wal");
    let log = master_log(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/empty-seed/late/master-log.txt"),
    );
    assert!(log.empty_wal_start(i64::MAX).is_some());
    let (first, _) = first_sample(&w).unwrap();
    let with = bounds(&w, Some(&log));
    assert_eq!(with, bounds(&w, None));
    assert_eq!((with.0.coverage_end, with.0.first_range), (first - 1, None));
}

#[test]
fn with_segment_zero_gone_the_masters_log_dates_the_start_no_later_than_the_first_sample() {
    // deb15-ext-soon-late3: a 2.42 master started on an empty WAL (its log
    // holds the start), its WAL copy after a truncation (checkpoint.1,
    // segments 2..4); its snapshot's oldest block holds the first sample.
    let run = "deb15-ext-soon-late3";
    let w = read_wal(&run_file(run, "master-wal"), None).unwrap();
    let (oldest, exact) = first_sample(&w).unwrap();
    assert!(!exact);
    let real_first = oldest_block_min(run).unwrap();
    assert!(real_first < oldest);
    let log = master_log(&run_file(run, "master-log.txt"));
    let start = log.empty_wal_start(oldest).unwrap();
    assert_eq!(start, log.process_starts[0]);
    let (b, a) = bounds(&w, Some(&log));
    let from = start.config_at.unwrap();
    assert_eq!(b.first_range, Some((from, oldest)));
    assert_eq!((b.coverage_end, b.head_min), (from - 1, oldest));
    assert!(
        from <= real_first,
        "{from} after the real first sample {real_first}"
    );
    assert!(a.contains("started on an empty WAL"), "{a}");
    // Without the log: the oldest sample on file, as before.
    let (b, a) = bounds(&w, None);
    assert_eq!((b.coverage_end, b.first_range), (oldest - 1, None));
    assert!(a.contains("may begin earlier"), "{a}");
}

#[test]
fn a_log_that_begins_at_a_restart_dates_no_first_sample() {
    // deb1s-restart-up175's log holds the master's first start and a
    // restart; from the restart's replay on (segments 0..3 replayed, not
    // an empty WAL) it shows no start of the WAL's lineage.
    let text = std::fs::read_to_string(run_file("deb1s-restart-up175", "master-log.txt")).unwrap();
    let whole = crate::coverage::masterlog::parse_bytes(text.as_bytes(), None);
    let flags: Vec<bool> = whole.process_starts.iter().map(|s| s.empty_wal).collect();
    assert_eq!(flags, [true, false]);
    let at = text
        .match_indices("msg=\"Replaying WAL, this may take a while\"")
        .nth(1)
        .unwrap()
        .0;
    let line = text[..at].rfind('\n').unwrap() + 1;
    let log = crate::coverage::masterlog::parse_bytes(&text.as_bytes()[line..], None);
    assert_eq!(log.process_starts, whole.process_starts[1..]);
    assert_eq!(log.empty_wal_start(i64::MAX), None);
    assert!(whole.empty_wal_start(i64::MAX).is_some());
}

/// The rule against every recorded run whose master's log holds its start
/// on an empty WAL: the first append the log allows is never after the
/// master's first sample (segment 0's oldest, or with segment 0 gone the
/// snapshot's oldest block's `minTime`).
#[test]
fn the_logs_first_append_never_follows_the_first_sample_in_any_recorded_run() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/loss-runs");
    let (mut checked, mut gone, mut earliest_gap) = (0, 0, i64::MAX);
    for e in std::fs::read_dir(root).unwrap() {
        let dir = e.unwrap().path();
        let (Ok(log), Ok(summary)) = (
            std::fs::read(dir.join("master-log.txt")),
            std::fs::read_to_string(dir.join("wal-summary.json")),
        ) else {
            continue;
        };
        let v: serde_json::Value = serde_json::from_str(&summary).unwrap();
        let seg0 = v["wal"]["segments"]
            .as_array()
            .and_then(|s| s.iter().find(|s| s["index"] == 0))
            .and_then(|s| s["min_t"].as_i64());
        let run = dir.file_name().unwrap().to_string_lossy().into_owned();
        let Some(first) = seg0.or_else(|| oldest_block_min(&run)) else {
            continue;
        };
        gone += usize::from(seg0.is_none());
        let log = crate::coverage::masterlog::parse_bytes(&log, None);
        let Some(start) = log.process_starts.iter().find(|s| s.empty_wal) else {
            continue;
        };
        checked += 1;
        let gap = first - start.first_append();
        assert!(gap >= 0, "{}: {start:?} after {first}", dir.display());
        earliest_gap = earliest_gap.min(gap);
    }
    assert!(checked > 0);
    eprintln!(
        "{checked} runs ({gone} without segment 0), the first sample at least {earliest_gap} ms \
         after the log's first append"
    );
}

#[test]
fn a_json_log_shows_the_start_on_an_empty_wal_alike() {
    // s3000-5s-skip-json-up42: the master logged with --log.format=json.
    let log = master_log(&run_file("s3000-5s-skip-json-up42", "master-log.txt"));
    assert!(log.extent.json_lines > 0);
    let s = log.process_starts[0];
    assert!(s.empty_wal, "{s:?}");
    assert!(s.config_at.is_some_and(|c| c >= s.replayed_at), "{s:?}");
}
