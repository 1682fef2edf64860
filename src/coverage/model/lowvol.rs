//! The deadline without the master's WAL, when the snapshot's blocks show a
//! master too small to rotate a WAL segment by size: its segments then
//! rotate only at truncations (`head.truncateWAL` opens one at each), and
//! 2.42's rule ([`crate::coverage::walrule`]) says which truncation after
//! the reader's position can first delete the segment after the reader's.
//! A master's first truncations delete nothing there (they checkpoint the
//! older two thirds of the segments before the one they close): naming the
//! first truncation after the position, as the high-volume rule does, is a
//! deadline that may be before the snapshot was even taken.

use std::path::PathBuf;

use super::ModelInput;
use crate::coverage::fmt_time;
pub use crate::coverage::wal::MIN_SEGMENT_SIZE;
use crate::coverage::wal::{SegmentKind, SegmentRange, WalView};
use crate::coverage::walrule::date_by_rule;

/// Most bytes one float sample takes in a 2.42 WAL segment: a samples
/// record's per-sample varints (series ref and time deltas, 10 bytes each at
/// most) and 8-byte value (28), its 17-byte header and the page's 7-byte
/// fragment header when the record holds one sample, and snappy's worst
/// case (`32 + n + n/6`) on that: under 96.
pub const WAL_BYTES_PER_SAMPLE: u64 = 96;
/// Bytes allowed for each series' record (its ref and labels): label sets
/// under 1 KiB, an assumption the answer states.
pub const WAL_BYTES_PER_SERIES: u64 = 1024;

/// Truncations after the position replayed by the rule.
const RULE_TRUNCATIONS: usize = 8;

/// A reader whose segment is unknown is taken this many segments in, so that
/// every oldest segment the rule replays is possible.
const UNKNOWN_READER_SEGMENT: u32 = 1 << 16;

/// At most how many bytes one WAL segment of the master takes between two
/// truncations (`2R` plus the compaction delay covers the first one, 1.5 R
/// after the first sample, and every later one, R apart), from the highest
/// sample rate of the snapshot's blocks and its series count; `None` when
/// the blocks show no rate or hold native histograms (no bound per sample).
pub(super) fn segment_bytes_bound(inp: &ModelInput, r: i64) -> Option<(u64, f64)> {
    if inp.native.as_ref().is_some_and(|n| n.present()) {
        return None;
    }
    let rate = inp
        .blocks
        .iter()
        .filter(|b| b.max_time > b.min_time)
        .map(|b| b.num_samples as f64 / b.max_time.saturating_sub(b.min_time) as f64)
        .fold(None, |m: Option<f64>, x| Some(m.map_or(x, |m| m.max(x))))?;
    let series = inp
        .blocks
        .iter()
        .map(|b| b.num_series)
        .chain(inp.series)
        .max()
        .unwrap_or(0);
    let span = r
        .saturating_mul(2)
        .saturating_add(inp.compaction_delay.max(0));
    let samples = (rate * span as f64).ceil();
    if !samples.is_finite() || !(0.0..=1e15).contains(&samples) {
        return None;
    }
    let bytes = (samples as u64)
        .saturating_mul(WAL_BYTES_PER_SAMPLE)
        .saturating_add(series.saturating_mul(WAL_BYTES_PER_SERIES));
    Some((bytes, rate * 1_000.0))
}

/// The deadline by 2.42's truncation rule, when no segment can rotate by
/// size: `Ok((at, why))`, the first truncation after `position` (less
/// `tol`, the position's uncertainty) that can delete the segment after the
/// reader's (the earliest over every oldest segment the master may have
/// had), or `Ok((i64::MAX, why))` when none in `truncations` can;
/// `Err(why)` when the master may rotate by size (the high-volume rule then
/// holds).
pub(super) fn deadline_by_rule(
    inp: &ModelInput,
    position: i64,
    truncations: &[i64],
    r: i64,
    tol: i64,
    reader_segment: Option<u32>,
) -> Result<(i64, String), String> {
    let Some((bytes, per_s)) = segment_bytes_bound(inp, r) else {
        return Err(
            "the snapshot's blocks show no sample rate to bound the master's WAL by (or hold \
             native histograms)"
                .into(),
        );
    };
    if bytes >= MIN_SEGMENT_SIZE {
        return Err(format!(
            "the snapshot's blocks show {per_s:.0} samples/s: up to {} MB of WAL between two \
             truncations, enough to rotate a segment by size",
            bytes >> 20
        ));
    }
    let basis = format!(
        "the snapshot's blocks show {per_s:.0} samples/s: at most {:.1} MB of WAL between two \
         truncations ({WAL_BYTES_PER_SAMPLE} bytes a sample, {WAL_BYTES_PER_SERIES} a series), \
         under 2.42's smallest segment size (10 MB), so the master's segments rotate only at its \
         truncations",
        bytes as f64 / (1 << 20) as f64
    );
    // A truncation up to `tol` before the position estimated may have come
    // after the reader stalled: counted (one truncation earlier at most).
    // Every history the rule replays deletes it by the fourth truncation
    // (the one whose oldest segment is the reader's does): a few more bound
    // the replay's work whatever the forecast's length.
    let from = position.saturating_sub(tol.max(0));
    let after: Vec<i64> = truncations
        .iter()
        .copied()
        .filter(|&t| t > from)
        .take(RULE_TRUNCATIONS)
        .collect();
    let Some(&last) = after.last() else {
        return Ok((
            i64::MAX,
            format!("{basis}; no truncation is forecast after the reader's position"),
        ));
    };
    let rw = reader_segment.unwrap_or(UNKNOWN_READER_SEGMENT);
    let n = u32::try_from(after.len()).unwrap_or(u32::MAX);
    let view = rule_view(rw.saturating_add(n), last);
    let reader = match reader_segment {
        Some(s) => format!("the reader in segment {s}, a fresh master's first"),
        None => "the reader's segment and the oldest segment unknown".to_string(),
    };
    match date_by_rule(&view, from, &after, Some(rw)) {
        Some(d) => Ok((
            d.at,
            format!(
                "{basis}; by 2.42's truncateWAL ({reader}) the {} truncation after the reader's \
                 position ({}, less {} for its uncertainty) is the first that can delete the \
                 segment after the reader's; the ones before it checkpoint no segment the reader \
                 needs",
                ordinal(d.rank),
                fmt_time(position),
                crate::coverage::fmt_dur(tol.max(0))
            ),
        )),
        None => Ok((
            i64::MAX,
            format!(
                "{basis}; by 2.42's truncateWAL ({reader}) none of the {} truncations forecast \
                 after the reader's position ({}) deletes the segment after the reader's",
                after.len(),
                fmt_time(position)
            ),
        )),
    }
}

/// The WAL the rule would see at the last truncation `last`: the segment
/// `newest` it opened, no checkpoint known (every history is possible).
fn rule_view(newest: u32, last: i64) -> WalView {
    WalView {
        dir: PathBuf::new(),
        observed_at: last,
        observed_at_source: "the last truncation forecast".into(),
        segments: vec![SegmentRange {
            name: String::new(),
            index: newest,
            kind: SegmentKind::Segment,
            min_t: None,
            max_t: None,
            size: 0,
            histogram_samples: 0,
            mtime: None,
            first_record_ok: true,
            last_record_ok: true,
            problem: None,
        }],
        checkpoint: None,
        segment_size: MIN_SEGMENT_SIZE,
        findings: Vec::new(),
    }
}

fn ordinal(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

#[cfg(test)]
#[path = "lowvol_tests.rs"]
mod tests;
