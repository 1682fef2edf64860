//! Filling a [`WalView`] from a master `wal/` directory with
//! [`crate::walinfo`]: every segment's and the current checkpoint's sample
//! time range, and what is damaged or missing.

use std::path::{Path, PathBuf};

use super::plausible;
use super::wal::{DEFAULT_SEGMENT_SIZE, SegmentKind, SegmentRange, WalView};
use crate::walinfo::{self, SegmentReport, TimeRange};

fn mtime_ms(p: &Path) -> Option<i64> {
    let m = std::fs::metadata(p).ok()?.modified().ok()?;
    Some(m.duration_since(std::time::UNIX_EPOCH).ok()?.as_millis() as i64)
}

/// The `wal/` under `dir`, or `dir` itself.
pub(crate) fn wal_dir(dir: &Path) -> PathBuf {
    if dir.join("wal").is_dir() {
        dir.join("wal")
    } else {
        dir.to_path_buf()
    }
}

/// A time range, with implausible ends (damage) dropped.
fn times(t: TimeRange) -> (Option<i64>, Option<i64>) {
    match (t.min_t, t.max_t) {
        (Some(a), Some(b)) if plausible(a) && plausible(b) => (Some(a), Some(b)),
        _ => (None, None),
    }
}

fn problem(s: &SegmentReport) -> Option<String> {
    if let Some(e) = &s.read_error {
        return Some(format!("unreadable: {e}"));
    }
    if let Some(c) = &s.scan.corruption {
        return Some(format!(
            "damaged at offset {} ({}): {}; the rest is unread",
            c.offset, c.code, c.message
        ));
    }
    if s.scan.torn_tail {
        return Some(format!(
            "torn record at offset {} (a crash, or a copy taken mid-write)",
            s.scan.torn_offset.unwrap_or(s.scan.valid_offset)
        ));
    }
    s.scan.record_errors.first().map(|e| {
        format!(
            "{} malformed record(s), first: {}",
            s.scan.counts.malformed_records, e.message
        )
    })
}

fn range_of(s: &SegmentReport, kind: SegmentKind) -> SegmentRange {
    let (min_t, max_t) = times(s.scan.counts.time);
    let damaged = s.read_error.is_some() || s.scan.corruption.is_some();
    SegmentRange {
        name: s.name.clone(),
        index: s.index,
        kind,
        min_t,
        max_t,
        size: s.size,
        histogram_samples: s
            .scan
            .counts
            .histogram_samples
            .saturating_add(s.scan.counts.float_histogram_samples),
        mtime: mtime_ms(&s.path),
        first_record_ok: !damaged || s.scan.valid_offset > 0,
        last_record_ok: !damaged && !s.scan.torn_tail,
        problem: problem(s),
    }
}

/// Reads `dir` (a `wal/` directory, or a data dir holding one).
pub fn read_wal(dir: &Path, observed_at: Option<i64>) -> std::io::Result<WalView> {
    let wal = wal_dir(dir);
    let rep = walinfo::inspect_wal_dir(&wal).map_err(|e| std::io::Error::other(e.to_string()))?;
    let segments: Vec<SegmentRange> = rep
        .segments
        .iter()
        .map(|s| range_of(s, SegmentKind::Segment))
        .collect();
    let checkpoint = rep
        .checkpoints
        .iter()
        .find(|c| c.current)
        .map(checkpoint_range);
    let findings = findings(&rep, &segments, checkpoint.as_ref());
    let (observed, source) = observation(observed_at, &segments, checkpoint.as_ref());
    Ok(WalView {
        dir: wal,
        observed_at: observed,
        observed_at_source: source,
        segments,
        checkpoint,
        segment_size: DEFAULT_SEGMENT_SIZE,
        findings,
    })
}

/// The current checkpoint as one range (its problems: its segments').
fn checkpoint_range(c: &walinfo::CheckpointReport) -> SegmentRange {
    let (min_t, max_t) = times(c.totals.time);
    let problems: Vec<String> = c.segments.iter().filter_map(problem).collect();
    SegmentRange {
        name: c.name.clone(),
        index: c.index,
        kind: SegmentKind::Checkpoint,
        min_t,
        max_t,
        size: c.size,
        histogram_samples: c
            .totals
            .histogram_samples
            .saturating_add(c.totals.float_histogram_samples),
        mtime: mtime_ms(&c.path),
        first_record_ok: problems.is_empty(),
        last_record_ok: problems.is_empty(),
        problem: problems.first().cloned(),
    }
}

/// Missing segments, damaged ones (a live copy's torn tail aside), and a
/// checkpoint not followed by its next segment.
fn findings(
    rep: &walinfo::WalDirReport,
    segments: &[SegmentRange],
    checkpoint: Option<&SegmentRange>,
) -> Vec<String> {
    let mut findings = Vec::new();
    for g in &rep.segment_gaps {
        findings.push(format!(
            concat!(
                "segments {:08}..{:08} missing: Prometheus' WAL watcher fails on non-sequential ",
                "segments"
            ),
            g.first, g.last
        ));
    }
    let last = segments.last().map(|s| s.index);
    for s in segments {
        if let Some(p) = &s.problem {
            // A torn tail of the segment being written is normal in a live copy.
            let live_tail = Some(s.index) == last && !s.last_record_ok && p.starts_with("torn");
            if !live_tail {
                findings.push(format!("segment {}: {p}", s.name));
            }
        }
    }
    if let Some(c) = checkpoint {
        if let Some(p) = &c.problem {
            findings.push(format!("{}: {p}", c.name));
        }
        if let Some(f) = segments.first()
            && f.index != c.index + 1
        {
            findings.push(format!(
                "{} is followed by segment {}, not {:08}",
                c.name,
                f.name,
                c.index + 1
            ));
        }
    }
    findings
}

/// The observation time: given, or the newest sample in the segments (a
/// live master writes one every scrape). File times are not used: a
/// copied `wal/` carries the copy's time, which would move the
/// observation later and silently drop the truncations in between.
/// `WalView::observed_at_source` of an observation time the caller gave.
pub const OBSERVED_GIVEN: &str = "given";

fn observation(
    observed_at: Option<i64>,
    segments: &[SegmentRange],
    checkpoint: Option<&SegmentRange>,
) -> (i64, String) {
    let newest_sample = segments.iter().filter_map(|s| s.max_t).max();
    let newest_mtime = segments
        .iter()
        .filter_map(|s| s.mtime)
        .chain(checkpoint.and_then(|c| c.mtime))
        .max();
    match (observed_at, newest_sample, newest_mtime) {
        (Some(t), _, _) => (t, OBSERVED_GIVEN.to_string()),
        (None, Some(t), m) => (
            t,
            format!(
                concat!(
                    "derived from the newest sample in the WAL segments ({}); file times are ",
                    "not trusted (a copy carries the copy's time{}): give the observation time ",
                    "when the WAL was copied from a stopped or lagging master"
                ),
                super::fmt_time(t),
                m.map_or(String::new(), |m| format!(", here {}", super::fmt_time(m)))
            ),
        ),
        (None, None, Some(m)) => (
            m,
            format!(
                concat!(
                    "no sample in the WAL: taken from the newest file time ({}), which a copy ",
                    "moves to the copy's time: give the observation time"
                ),
                super::fmt_time(m)
            ),
        ),
        (None, None, None) => (
            0,
            "unknown: no sample and no file time: give the observation time".to_string(),
        ),
    }
}
