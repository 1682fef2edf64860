//! Loss causes L5–L10: facts no file holds, given by
//! the operator (queue settings, master restarts, receiver answers, the
//! slave's retention, `send_native_histograms`, the master's version), turned
//! into loss windows. Each function states what it assumed when its input is
//! absent.
//!
//! | cause | input | window |
//! |---|---|---|
//! | L5 | `sample_age_limit` A, catch-up time | `[t_b, T_slave_up + catch-up − A]` (from `C_snap` on) |
//! | L6 | master restarts / remote_write config changes | `(t_b, T_restart]` for each one before catch-up |
//! | L7 | a non-recoverable HTTP status of the receiver | everything sent while it answers so |
//! | L8 | slave time / size retention | each snapshot block the slave deletes at start |
//! | L9 | `send_native_histograms: false` | native histogram samples after `C_snap` |
//! | L10 | master v2.51.0–v2.53.0 | samples of the WAL segments between the stalled reader's and the live one |

use serde::Serialize;

use super::model::{Cause, Certainty, LossWindow};
use super::snapshot::BlockSpan;
pub use super::version::{
    SAMPLE_AGE_LIMIT_SINCE, Version, VersionError, WATCHER_BUG_FIRST, WATCHER_BUG_LAST,
};
use super::wal::WalView;
use super::{fmt_dur, fmt_time};

#[path = "causes_restart.rs"]
mod restart;
pub use restart::restart_windows;

/// One day in ms.
const DAY: i64 = 86_400_000;

/// Prometheus' default time retention (`--storage.tsdb.retention.time`),
/// used only when neither a time nor a size retention is set.
pub const DEFAULT_RETENTION: i64 = 15 * DAY;

/// What the operator says about L5–L10; `None` / empty: not given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OperatorFacts {
    /// remote_write `queue_config.sample_age_limit` (ms); 0 = off (the default).
    pub sample_age_limit: Option<i64>,
    /// How long the queue needs, once the slave is up, to send its backlog (ms).
    pub catch_up: Option<i64>,
    /// Master restarts or changes of its remote_write block / external labels (ms).
    pub master_restarts: Vec<i64>,
    /// The HTTP status the slave's receiver answered with (e.g. 404).
    pub receiver_rejects: Option<u16>,
    /// When the receiver stopped answering so (ms); absent: it still does.
    pub rejects_until: Option<i64>,
    /// The slave's `--storage.tsdb.retention.time` (ms); 0 = off.
    pub slave_retention: Option<i64>,
    /// The slave's `--storage.tsdb.retention.size` (bytes); 0 = off.
    pub slave_retention_size: Option<u64>,
    /// The master's remote_write `send_native_histograms`.
    pub send_native_histograms: Option<bool>,
    /// The master's Prometheus version.
    pub master_version: Option<Version>,
    /// The master's remote_write `queue_config` (absent fields: the
    /// version's defaults).
    pub queue: super::queue::QueueSettings,
    /// Series the slave's queue sends per scrape round, after its
    /// `write_relabel_configs` (absent: every series the master scrapes).
    pub sent_series: Option<u64>,
    /// The slave's `storage.tsdb.out_of_order_time_window` (ms); 0 = off
    /// (the default).
    pub slave_ooo_window: Option<i64>,
    /// The slave's `--storage.tsdb.min-block-duration` (ms): its head's
    /// chunk range, half of which is the lag it refuses beyond
    /// (`appendableMinValidTime`); absent: taken as the master's, with a
    /// bound for any shorter one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slave_block_range: Option<i64>,
    /// The slave's restarts after it was first up: `(stopped, ready)` each (ms).
    pub slave_restarts: Vec<(i64, i64)>,
    /// When a slave that was already up and receiving the master's remote
    /// write before the snapshot was stopped to be seeded from it (ms): its
    /// data directory, replaced by the snapshot, took with it what it had
    /// received after the coverage end, and the queue went on from there
    /// ([`super::model`]'s L1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slave_received_until: Option<i64>,
    /// The master's log of the slave's remote-write queue: its reshards
    /// and refused requests ([`super::masterlog`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub master_log: Option<super::masterlog::MasterLog>,
    /// The slave's log: the remote-write requests it refused
    /// ([`super::slavelog`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slave_log: Option<super::slavelog::SlaveLog>,
    /// How finely each time was given ([`super::noted`]); every time to
    /// the millisecond by default.
    #[serde(skip_serializing_if = "super::noted::NotedTimes::is_exact")]
    pub noted: super::noted::NotedTimes,
}

/// Native histograms found in the snapshot and the master WAL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NativeHistograms {
    /// The block counted (the snapshot's newest: its head block, normally).
    pub block: Option<String>,
    /// Series of that block with a native histogram chunk.
    pub series: Option<u64>,
    /// Native histogram samples in that block.
    pub samples: Option<u64>,
    /// Native histogram samples (integer and float) in the master WAL
    /// segments that reach past the coverage end.
    pub wal_samples_after_coverage_end: Option<u64>,
}

impl NativeHistograms {
    /// True if any were seen.
    pub fn present(&self) -> bool {
        self.series.unwrap_or(0) > 0
            || self.samples.unwrap_or(0) > 0
            || self.wal_samples_after_coverage_end.unwrap_or(0) > 0
    }
}

/// L8 by size: the running sum of block sizes, newest first (`sorted`);
/// the block that crosses `size` and every older one not already in
/// `deleted` go.
fn size_retention<'a>(
    sorted: &[&'a BlockSpan],
    size: u64,
    deleted: &mut Vec<(&'a BlockSpan, String)>,
    assumptions: &mut Vec<String>,
) {
    let mut sum: u64 = 0;
    if let Some(i) = sorted.iter().position(|b| {
        sum = sum.saturating_add(b.bytes);
        sum > size
    }) {
        let kept: u64 = sorted.iter().take(i).map(|b| b.bytes).sum();
        for b in sorted.iter().skip(i) {
            if deleted.iter().any(|(d, _)| d.ulid == b.ulid) {
                continue;
            }
            deleted.push((
                b,
                format!(
                    "the slave's --storage.tsdb.retention.size {size} bytes: the newer blocks take \
                     {kept} bytes and this one {} more, over the budget, so the slave deletes it \
                     and every older block when it starts (its WAL and head chunks, empty at \
                     start, count too and only grow)",
                    b.bytes
                ),
            ));
        }
        assumptions.push(
            "size retention counted from the snapshot's block files (index, chunks, tombstones, \
             meta.json) with an empty slave WAL and head: as the slave's WAL grows, more old \
             blocks go"
                .into(),
        );
    }
}

/// L8: the snapshot blocks a slave with this retention deletes when it
/// starts. Time retention: blocks by maxTime, newest first; the first one
/// (not the newest) whose maxTime is at least the retention before the
/// newest one's, and every older one, go (`>=` since v2.52.0, `>` before).
/// Size retention: running sum of block sizes, newest first, plus the
/// slave's WAL and head chunks (empty at start); the block that crosses the
/// budget and every older one go.
pub fn retention_windows(
    blocks: &[BlockSpan],
    time: Option<i64>,
    size: Option<u64>,
    assumptions: &mut Vec<String>,
) -> Vec<LossWindow> {
    let (time, time_why) = match (time, size) {
        (Some(t), _) => (t, format!("--storage.tsdb.retention.time {}", fmt_dur(t))),
        (None, None) => {
            assumptions.push(format!(
                "slave retention not given (neither time nor size): Prometheus' default {} of \
                 time retention and no size retention assumed",
                fmt_dur(DEFAULT_RETENTION)
            ));
            (
                DEFAULT_RETENTION,
                format!("the default time retention {}", fmt_dur(DEFAULT_RETENTION)),
            )
        }
        // Prometheus applies its default time retention only when no size
        // retention is set either.
        (None, Some(_)) => (0, String::new()),
    };
    let size = size.unwrap_or(0);
    let mut sorted: Vec<&BlockSpan> = blocks.iter().collect();
    sorted.sort_by_key(|b| std::cmp::Reverse(b.max_time));
    let Some(newest) = sorted.first().map(|b| b.max_time) else {
        return Vec::new();
    };
    let mut deleted: Vec<(&BlockSpan, String)> = Vec::new();
    if time > 0
        && let Some(i) = sorted
            .iter()
            .enumerate()
            .skip(1)
            .find(|(_, b)| newest.saturating_sub(b.max_time) >= time)
            .map(|(i, _)| i)
    {
        for b in sorted.iter().skip(i) {
            deleted.push((
                b,
                format!(
                    "the slave's {time_why}: the newest block ends at {}, this one {} earlier (at \
                     least the retention), so the slave deletes it and every older block when it \
                     starts (before v2.52.0 only when strictly more)",
                    fmt_time(newest),
                    fmt_dur(newest.saturating_sub(b.max_time))
                ),
            ));
        }
    }
    if size > 0 {
        size_retention(&sorted, size, &mut deleted, assumptions);
    }
    deleted
        .into_iter()
        .map(|(b, why)| {
            LossWindow::new(
                Cause::L8,
                b.min_time,
                b.max_time - 1,
                Certainty::Expected,
                format!("block {}: {why}", b.ulid),
            )
        })
        .collect()
}

/// What the L5–L10 windows that depend on the remote-write timeline need.
#[derive(Debug, Clone)]
pub struct Timeline<'a> {
    /// `C_snap`.
    pub coverage_end: i64,
    /// Effective watcher start (remote write start or the last restart
    /// before the slave was up): the oldest unsent sample is after it.
    pub stall: i64,
    /// Slave ready time.
    pub slave_up: Option<i64>,
    /// Catch-up time after `slave_up` (0 when not given).
    pub catch_up: i64,
    /// The latest time the inputs name: the end of windows that go on.
    pub horizon: i64,
    /// The master WAL, if read.
    pub wal: Option<&'a WalView>,
    /// The stalled reader's segment and the time of its last sample.
    pub watcher_segment: Option<(u32, Option<i64>)>,
    /// Forecast master truncations (each starts a new WAL segment).
    pub truncations: &'a [i64],
    /// What the operator said.
    pub facts: &'a OperatorFacts,
}

impl Timeline<'_> {
    /// The oldest sample that is both unsent and not in the snapshot.
    fn first_unsent(&self) -> i64 {
        self.coverage_end.max(self.stall.saturating_add(1))
    }
}

/// L5: `sample_age_limit`. Samples whose send time minus their timestamp
/// exceeds A are dropped. The backlog from the stall position is sent
/// between the slave's start and the end of its catch-up, so the window is
/// `[t_b, T_slave_up + catch-up − A]`, ending no earlier than
/// `T_slave_up − A` (an instant catch-up).
pub fn sample_age_window(
    tl: &Timeline<'_>,
    version: Option<Version>,
    assumptions: &mut Vec<String>,
) -> Option<LossWindow> {
    let a = match tl.facts.sample_age_limit {
        None => {
            assumptions.push(
                "sample_age_limit not given: Prometheus' default 0 (off) assumed: old samples are \
                 retried, not dropped (L5)"
                    .into(),
            );
            return None;
        }
        Some(a) if a <= 0 => return None,
        Some(a) => a,
    };
    if let Some(v) = version
        && v < SAMPLE_AGE_LIMIT_SINCE
    {
        assumptions.push(format!(
            "the sample age limit is ignored: master v{v} predates sample_age_limit \
             (v{SAMPLE_AGE_LIMIT_SINCE})"
        ));
        return None;
    }
    let Some(up) = tl.slave_up else {
        assumptions.push(
            "the sample age limit without the slave's ready time: the L5 window needs the slave's \
             start"
                .into(),
        );
        return None;
    };
    if tl.facts.catch_up.is_none() {
        assumptions.push(
            "catch-up time not given: the queue is taken to send its backlog the instant the slave \
             is up; a slower catch-up makes the L5 window end later by as much"
                .into(),
        );
    }
    let from = tl.first_unsent();
    let to = up.saturating_add(tl.catch_up).saturating_sub(a);
    if to < from {
        return None;
    }
    let earliest = up.saturating_sub(a);
    let mut w = LossWindow::new(
        Cause::L5,
        from,
        to,
        if earliest >= from {
            Certainty::Expected
        } else {
            Certainty::Risk
        },
        format!(
            "sample_age_limit {}: the backlog since {} is sent between the slave's start {} and \
             the end of the catch-up ({} later); every sample older than {} at that moment is \
             dropped, not sent",
            fmt_dur(a),
            fmt_time(from),
            fmt_time(up),
            fmt_dur(tl.catch_up),
            fmt_dur(a)
        ),
    );
    if tl.catch_up > 0 && earliest >= from && earliest < to {
        w.to_earliest = Some(earliest);
    }
    Some(w)
}

/// L7: the receiver answers with a status remote write does not retry
/// (any 4xx; 429 only without `retry_on_http_429`): every batch is dropped.
/// A 5xx is retried forever: no window here, but the queue stalls as if the
/// slave were down.
pub fn reject_window(tl: &Timeline<'_>, assumptions: &mut Vec<String>) -> Option<LossWindow> {
    let Some(code) = tl.facts.receiver_rejects else {
        assumptions.push(
            "the slave's receiver accepts the writes (no reject status given): it runs with \
             --web.enable-remote-write-receiver (else 404) and answers no 4xx to whole batches (L7)"
                .into(),
        );
        return None;
    };
    if (500..=599).contains(&code) {
        assumptions.push(format!(
            "receiver answers {code}: remote write retries 5xx forever, so nothing is dropped by \
             it, but the queue stalls as if the slave were down: give the time the answers stopped \
             as the slave's ready time"
        ));
        return None;
    }
    let from = tl.first_unsent();
    let (to, ongoing) = match tl.facts.rejects_until {
        Some(u) => (u, false),
        None => (tl.horizon.max(from), true),
    };
    if let (Some(up), Some(u)) = (tl.slave_up, tl.facts.rejects_until)
        && u < up
    {
        assumptions.push(format!(
            "receiver answered {code} only until {}, before the slave was up ({}): nothing was \
             sent then, no L7 window",
            fmt_time(u),
            fmt_time(up)
        ));
        return None;
    }
    if to < from {
        return None;
    }
    let (certainty, what) = match code {
        400 => (
            Certainty::Bound,
            "400: the batches with an invalid sample are dropped whole; at most everything sent in \
             that time",
        ),
        413 => (
            Certainty::Bound,
            "413: the batches over the receiver's size limit are dropped; at most everything sent \
             in that time",
        ),
        429 => (
            Certainty::Bound,
            "429 without retry_on_http_429: each rate-limited batch is dropped; at most everything \
             sent in that time",
        ),
        404 => (
            Certainty::Expected,
            "404: the slave runs without --web.enable-remote-write-receiver; every batch is \
             dropped",
        ),
        _ => (
            Certainty::Expected,
            "a 4xx is not retried: every batch answered so is dropped",
        ),
    };
    let mut w = LossWindow::new(
        Cause::L7,
        from,
        to,
        certainty,
        format!(
            "the receiver answers {code} ({what}): remote write counts the samples as failed and \
             moves on, so the backlog from {} and everything written until {} is lost",
            fmt_time(from),
            if ongoing {
                "the answers change (still so at the end of the inputs)".to_string()
            } else {
                fmt_time(to)
            }
        ),
    );
    w.ongoing = ongoing;
    Some(w)
}

/// L9: with `send_native_histograms: false` (the default) the WAL reader
/// skips histogram records: every native histogram sample after `C_snap` is
/// missing on the slave, for the series that carry them, for as long as the
/// setting stays off.
pub fn native_histogram_window(
    tl: &Timeline<'_>,
    native: Option<&NativeHistograms>,
    assumptions: &mut Vec<String>,
) -> Option<LossWindow> {
    let send = tl.facts.send_native_histograms;
    let present = native.is_some_and(NativeHistograms::present);
    if !present {
        assumptions.push(format!(
            "no native histogram found in the snapshot's newest block{}: L9 does not apply{}",
            if tl.wal.is_some() {
                " or the master WAL"
            } else {
                ""
            },
            if send.is_none() {
                " (send_native_histograms taken as Prometheus' default false)"
            } else {
                ""
            }
        ));
        return None;
    }
    if send == Some(true) {
        assumptions.push(
            "send_native_histograms true: the slave must accept native histograms (v3.8+, or \
             --enable-feature=native-histograms before): otherwise it answers 500, the queue is \
             stuck and L2 follows"
                .into(),
        );
        return None;
    }
    if send.is_none() {
        assumptions.push(
            "send_native_histograms not given: Prometheus' default false assumed (L9)".into(),
        );
    }
    let n = native?;
    let from = tl.coverage_end;
    let to = tl.horizon.max(from);
    let mut seen = Vec::new();
    if let (Some(s), Some(b)) = (n.series, &n.block) {
        seen.push(format!(
            "{s} series with {} native histogram samples in block {b}",
            n.samples.unwrap_or(0)
        ));
    }
    if let Some(k) = n.wal_samples_after_coverage_end.filter(|&k| k > 0) {
        seen.push(format!(
            "{k} native histogram samples in the master WAL segments after the coverage end"
        ));
    }
    let mut w = LossWindow::new(
        Cause::L9,
        from,
        to,
        Certainty::Expected,
        format!(
            "send_native_histograms is false: the master's WAL reader skips histogram records, so \
             no native histogram sample after the coverage end reaches the slave until it is \
             turned on ({}); float series are not affected",
            seen.join("; ")
        ),
    );
    w.series = n.series.filter(|&s| s > 0);
    w.ongoing = true;
    Some(w)
}

/// L10: the segment starts after the reader's segment `w` (which ends at
/// `end`, if placed), up to `up`: the observed ones, then one per forecast
/// truncation after the observation, sorted.
fn segment_starts_after(
    tl: &Timeline<'_>,
    wal: &WalView,
    w: u32,
    end: Option<i64>,
    up: i64,
) -> Vec<i64> {
    // Segment starts after the reader's segment, up to the catch-up: the
    // observed ones, then one per forecast truncation after the observation.
    let mut starts: Vec<i64> = wal
        .segments
        .iter()
        .filter(|s| s.index > w)
        .filter_map(|s| s.min_t)
        .chain(
            tl.truncations
                .iter()
                .copied()
                .filter(|&t| t > wal.observed_at),
        )
        .filter(|&t| t <= up)
        .collect();
    if let Some(e) = end {
        // A forecast rotation ends the reader's segment and starts the next
        // at the same instant.
        starts.retain(|&t| t >= e);
    }
    starts.sort_unstable();
    starts.dedup();
    starts
}

/// L10: masters v2.51.0–v2.53.0 read every segment that is not the newest
/// for series records only once their reader fell behind by more than one
/// segment: the samples of the segments between the stalled reader's and
/// the one live when it catches up are skipped.
pub fn version_window(tl: &Timeline<'_>, assumptions: &mut Vec<String>) -> Option<LossWindow> {
    let Some(v) = tl.facts.master_version else {
        assumptions.push(format!(
            "master version not given: taken not to be v{WATCHER_BUG_FIRST}–v{WATCHER_BUG_LAST}, \
             whose WAL reader skips samples after a stall longer than one segment (L10)"
        ));
        return None;
    };
    if !v.has_watcher_bug() {
        return None;
    }
    let Some(up) = tl.slave_up else {
        assumptions.push(format!(
            "master v{v} skips samples after a stall longer than one WAL segment (L10): give the \
             slave's ready time for the window"
        ));
        return None;
    };
    let from = tl.first_unsent();
    let up = up.saturating_add(tl.catch_up);
    if up < from {
        return None;
    }
    let why_bug = format!(
        "master v{v} (v{WATCHER_BUG_FIRST}–v{WATCHER_BUG_LAST}, fixed in v2.53.1): once its WAL \
         reader has fallen more than one segment behind, it reads the segments between its own and \
         the newest for series only and skips their samples"
    );
    let (Some(wal), Some((w, end))) = (tl.wal, tl.watcher_segment) else {
        return Some(LossWindow::new(
            Cause::L10,
            from,
            up,
            Certainty::Bound,
            format!(
                "{why_bug}; without the master WAL the segment boundaries are unknown: at most \
                 everything from the stall position to the slave's start, nothing if the master \
                 wrote no more than one new segment meanwhile"
            ),
        ));
    };
    let starts = segment_starts_after(tl, wal, w, end, up);
    let (Some(&first), Some(&live)) = (starts.first(), starts.last()) else {
        return None;
    };
    if starts.len() < 2 {
        return None; // the reader's segment was followed by the live one only
    }
    let from = from.max(first);
    let to = live - 1;
    if to < from {
        return None;
    }
    assumptions.push(
        "L10 from the observed segment starts and one new segment per forecast truncation (size \
         rotations after the observation are not forecast)"
            .into(),
    );
    Some(LossWindow::new(
        Cause::L10,
        from,
        to,
        Certainty::Expected,
        format!(
            "{why_bug}: the reader stalled in segment {w:08}; {} segment(s) started after it \
             before the catch-up ({}), and the samples of all but the last are skipped",
            starts.len(),
            fmt_time(up)
        ),
    ))
}

#[cfg(test)]
#[path = "causes_tests.rs"]
mod tests;
