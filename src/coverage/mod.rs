//! `promsnap coverage`: the data-loss window of an admin-API snapshot plus a
//! remote-write replica ("master" → "slave"), computed from files.
//!
//! # The loss model
//!
//! The snapshot covers up to `C_snap` (the head block's end, or the last block
//! boundary with `skip_head`); a slave opened on it rejects older samples; the
//! master's remote-write reader stalls at its start position while the slave
//! is down, and is overtaken when a head compaction's WAL truncation deletes
//! the segment after its own. The facts it stands on, as Prometheus' code
//! has them (times in ms, `R` = the master's block range, 2 h by default):
//!
//! - **Snapshot** (admin API): every block hard-linked; unless `skip_head`,
//!   one more level-1 block `[head min, newest head sample + 1)` whose only
//!   source is its own ULID (in-order head data only). `C_snap` = the largest
//!   maxTime of the in-order blocks; a slave started on it takes that as its
//!   minimum valid time and answers older samples with 400 (out of bounds).
//! - **Head compaction**: when the head spans more than `1.5 R` the block
//!   `[⌊min/R⌋·R, +R)` is written, so blocks start on the `R` grid and are
//!   written `0.5 R` after their end; each compaction ends with one WAL
//!   truncation.
//! - **WAL truncation** (the 2/3 rule): a new segment is started; of the
//!   segments `first..last−1` the lower two thirds by count
//!   (`m = first + (last−1−first)·2/3`, skipped when `m ≤ first`) are folded
//!   into `checkpoint.m` (samples at or after the new head min only) and
//!   deleted. Segments also rotate when full and at every process start.
//! - **Remote-write reader** (the WAL watcher): sends only samples newer than
//!   its own start time; reads samples from segments only, never from a
//!   checkpoint; blocks while its queue is full (the backlog lives in the
//!   WAL, [`queue`] says where it stalls); when the segment after its own was
//!   deleted it first reads the rest of its own (still open) segment, then
//!   fails on the next, waits 5 s and restarts from "now" — everything
//!   between the end of its segment and that restart is lost (L2). The read
//!   of the rest takes as long as its samples need at the reader's speed, so
//!   the restart comes later the more series and the longer the segment.
//! - **Receiver** (PRW 1.0): the first rejected sample fails the whole
//!   request; 4xx answers are not retried, so one request mixing samples
//!   older than `C_snap` with newer ones loses the newer ones too (L3). Its
//!   head also refuses any sample older than its newest one minus half its
//!   block range: during a catch-up on several shards, a shard lagging that
//!   far behind another loses its batch (an L3 risk: which shard lags, no
//!   file tells). With an `out_of_order_time_window` it takes older samples
//!   within the window of its newest one instead (`memSeries.appendable`):
//!   an operator fact, 0 by default ([`model`]'s `slave` module). The
//!   slave logs each request it refuses, with where it starts
//!   ([`slavelog`]): runs of them after the coverage end are lost, and a
//!   log holding the whole catch-up bounds every L3 window's end.
//! - **Scrape timestamps**: a scrape's commit is one samples record, its own
//!   series (`up`, …) at the scrape's start; an exporter's own timestamps
//!   (`honor_timestamps`) put its samples up to their lag earlier, so
//!   samples older than `C_snap` reach the WAL after the snapshot and are
//!   refused: the boundary windows start that lag before `C_snap`
//!   ([`scrapes::ScrapeGrid::lag`], read from the WAL).
//!
//! The causes L1–L10 ([`Cause`]) and their windows are in [`model`] and
//! [`causes`]; docs/LOSS-WINDOWS.md holds them against real runs.
//!
//! ```no_run
//! use promsnap::coverage::{CoverageOptions, coverage};
//! let opts = CoverageOptions { slave_up: Some(1_795_600_000_000), ..Default::default() };
//! let report = coverage("snapshots/20261125T091234Z-788eafc011a10c98".as_ref(), &opts)?;
//! for w in &report.loss_windows {
//!     println!("{:?} {}..{} {}", w.cause, w.from, w.to, w.why);
//! }
//! # Ok::<(), promsnap::error::Error>(())
//! ```

pub mod causes;
mod empty;
pub mod logline;
pub mod masterlog;
pub mod model;
pub mod noted;
mod options;
pub mod places;
pub mod queue;
mod report;
pub mod scrapes;
pub mod slavehead;
pub mod slavelog;
pub mod snapshot;
pub mod uptail;
pub mod version;
pub mod wal;
pub(crate) mod walread;
pub mod walrule;

use std::path::{Path, PathBuf};

use serde::Serialize;

pub use causes::{NativeHistograms, OperatorFacts, Version, VersionError};
pub use model::{Cause, Certainty, Deadline, LossWindow};
pub use queue::{Queue, QueueSettings};
pub use snapshot::{BlockSpan, Overlap, SnapshotInfo, Source};
pub use wal::{RestartHint, SegmentKind, SegmentRange, WalView};

/// A half-open time range `[from, to)` in Unix ms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Span {
    /// Start (inclusive).
    pub from: i64,
    /// End (exclusive).
    pub to: i64,
}

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Information.
    Note,
    /// Worth a look; the answer still holds.
    Warning,
    /// Damaged or unusable input; the answer is partial.
    Error,
}

/// A problem or remark about the input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Severity.
    pub severity: Severity,
    /// Plain words.
    pub message: String,
}

impl Finding {
    /// A note.
    pub fn note(message: String) -> Self {
        Finding {
            severity: Severity::Note,
            message,
        }
    }
    /// A warning.
    pub fn warning(message: String) -> Self {
        Finding {
            severity: Severity::Warning,
            message,
        }
    }
    /// An error.
    pub fn error(message: String) -> Self {
        Finding {
            severity: Severity::Error,
            message,
        }
    }
}

/// What `coverage` is asked.
#[derive(Debug, Clone, Default)]
pub struct CoverageOptions {
    /// Block range override (ms).
    pub block_range: Option<i64>,
    /// The master's data dir or `wal/` copy.
    pub master: Option<PathBuf>,
    /// When the master dir was observed (ms); default: its newest mtime.
    pub observed_at: Option<i64>,
    /// Slave ready time (ms).
    pub slave_up: Option<i64>,
    /// Remote write start on the master (ms).
    pub rw_start: Option<i64>,
    /// Slave data dir.
    pub slave: Option<PathBuf>,
    /// Scrape interval override (ms); default: inferred from the newest block.
    pub scrape_interval: Option<i64>,
    /// What the operator says about loss causes L5–L10.
    pub facts: OperatorFacts,
    /// The snapshot's head block when the caller knows it from the
    /// snapshot's contents (`Some(None)`: it has none), instead of the grid
    /// rule of [`crate::list::head_block_index`] (`None`).
    pub head_block: Option<Option<String>>,
    /// The master's log (2.42 logfmt; a journal or stderr copy), read for
    /// the slave's queue's reshards and refused requests
    /// ([`masterlog`]); its facts land in `facts.master_log`.
    pub master_log: Option<PathBuf>,
    /// The slave's queue in that log, by `remote_name` or `url` (absent:
    /// the log's only queue).
    pub master_log_queue: Option<String>,
    /// When that log was taken (ms): every line written up to then is in
    /// it, so it reaches this far even when its last line is older (a
    /// quiet master logs nothing for minutes). Not before its last line.
    pub master_log_at: Option<i64>,
    /// The slave's log (2.42 logfmt; a journal or stderr copy), read for
    /// the remote-write requests it refused ([`slavelog`]); its facts land
    /// in `facts.slave_log`.
    pub slave_log: Option<PathBuf>,
    /// When that log was taken (ms): every line up to then is in it. Not
    /// before its last line.
    pub slave_log_at: Option<i64>,
}

/// The master WAL part of the report.
#[derive(Debug, Clone, Serialize)]
pub struct WalPart {
    /// The WAL as read.
    #[serde(flatten)]
    pub view: WalView,
    /// True if the samples just after `C_snap` are still in a live segment
    /// (not only in a checkpoint) at `observed_at`.
    pub coverage_end_in_live_segment: Option<bool>,
    /// Segments that start for no reason but a master start (L6 hints).
    pub restarts: Vec<RestartHint>,
}

/// What the slave's data dir shows.
#[derive(Debug, Clone, Serialize)]
pub struct SlavePart {
    /// The directory.
    pub path: PathBuf,
    /// Snapshot blocks missing from it (slave retention deleted them? L8).
    pub missing_snapshot_blocks: Vec<String>,
    /// The slave's own blocks (not from the snapshot).
    pub own_blocks: Vec<BlockSpan>,
    /// Earliest sample time in the slave's own blocks (ms).
    pub first_received: Option<i64>,
    /// The slave's head (`wal/`, `chunks_head/`): what it received and holds
    /// outside its blocks; `None` when it has neither.
    pub head: Option<slavehead::SlaveHead>,
    /// The oldest sample the slave holds after the coverage end, in its own
    /// blocks or its head (ms).
    pub received_from: Option<i64>,
    /// The newest (ms).
    pub received_to: Option<i64>,
}

/// The whole answer; its JSON form is documented in the README.
#[derive(Debug, Clone, Serialize)]
pub struct CoverageReport {
    /// Snapshot directory.
    pub snapshot: PathBuf,
    /// Snapshot wall time (ms).
    pub snapshot_time: Option<i64>,
    /// Where it came from (directory name / head block ULID).
    pub snapshot_time_source: Source,
    /// `C_snap` (ms): the slave's minValidTime.
    pub coverage_end: Option<i64>,
    /// Slave ready time as given (ms).
    pub slave_up: Option<i64>,
    /// Remote write start as given (ms); absent: assumed before the snapshot.
    pub rw_start: Option<i64>,
    /// The operator's facts for L5–L10 as given (absent ones are null / empty).
    pub facts: OperatorFacts,
    /// Native histograms in the snapshot's newest block and the master WAL (L9).
    pub native_histograms: Option<NativeHistograms>,
    /// Master block range `R` (ms).
    pub block_range: i64,
    /// Where `block_range` came from.
    pub block_range_source: Source,
    /// True if the snapshot has a head block (`skip_head` not used).
    pub head_included: bool,
    /// The head block.
    pub head_block: Option<BlockSpan>,
    /// Blocks by minTime.
    pub blocks: Vec<BlockSpan>,
    /// Holes between blocks.
    pub holes: Vec<Span>,
    /// Overlapping blocks.
    pub overlaps: Vec<Overlap>,
    /// The slave's first block.
    pub first_slave_block: Option<Span>,
    /// Compaction delay calibrated from level-1 ULIDs (ms).
    pub compaction_delay: Option<i64>,
    /// Scrape interval used for the boundary slivers (ms).
    pub scrape_interval: i64,
    /// Forecast master head compactions / WAL truncations (ms).
    pub next_truncations: Vec<i64>,
    /// The master WAL, when `--master` was given.
    pub wal: Option<WalPart>,
    /// The catch-up deadline (absent without a coverage end).
    pub deadline: Option<Deadline>,
    /// Loss windows, sorted.
    pub loss_windows: Vec<LossWindow>,
    /// What no file tells and was assumed.
    pub assumptions: Vec<String>,
    /// Plain-words verdict (with `--slave-up`).
    pub verdict: Option<String>,
    /// The loss on each path of a resharded catch-up only the master's log
    /// decides (the verdict's first line says it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loss_either: Option<model::LossEither>,
    /// The slave's side, with `--slave`.
    pub slave: Option<SlavePart>,
    /// Problems found in the input.
    pub findings: Vec<Finding>,
}

impl CoverageReport {
    /// True if any finding is an error (exit code 1).
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Error)
    }
}

/// `opts` as the model takes them, with the assumptions that say how: each
/// time at the side of its range that never understates ([`noted`]), the
/// logs read, the slave's ready time from its log where that is later.
fn prepare(opts: &CoverageOptions) -> crate::error::Result<(CoverageOptions, Vec<String>)> {
    let (mut o, why) = noted::widen(opts);
    let mut assumptions: Vec<String> = why.into_iter().collect();
    if let Some(p) = o.master_log.clone() {
        o = read_master_log(&o, &p)?;
    }
    if let Some(p) = o.slave_log.clone() {
        o = read_slave_log(&o, &p)?;
    }
    Ok((noted::from_logs(o, &mut assumptions), assumptions))
}

/// Computes the report. Errors only when the snapshot path is unusable;
/// bad blocks and WAL damage become findings and a partial answer.
pub fn coverage(snapshot: &Path, opts: &CoverageOptions) -> crate::error::Result<CoverageReport> {
    options::check(opts)?;
    let (prepared, mut assumptions) = prepare(opts)?;
    let opts = &prepared;
    let mut snap = snapshot::analyze(snapshot, opts.block_range)?;
    if let Some(h) = &opts.head_block {
        snap.set_head_block(h.as_deref());
    }
    let mut findings = snap.findings.clone();
    findings.extend(report::check_slave_up(opts, &snap)?);
    let wal = report::read_master(opts, &mut findings, &mut assumptions);
    let (scrape_interval, grids) =
        report::scrape_interval(opts, &snap, wal.as_ref(), &mut assumptions);
    report::check_observed_at(opts, wal.as_ref())?;
    let native_histograms = report::native_histograms(&snap, wal.as_ref());
    let out = report::run_model(
        opts,
        &snap,
        wal.as_ref(),
        (scrape_interval, grids),
        native_histograms.as_ref(),
        &mut assumptions,
    );
    let wal_part = wal.map(|w| report::wal_part(w, &snap, scrape_interval, &out, &mut findings));
    let placed = out.is_some();
    let (next_truncations, deadline, loss_windows, mut verdict) = match out {
        Some(o) => {
            assumptions.extend(o.assumptions);
            (o.truncations, Some(o.deadline), o.loss_windows, o.verdict)
        }
        None => (Vec::new(), None, Vec::new(), None),
    };
    if let Some(v) = verdict.as_mut() {
        report::snapshot_loss_first(&snap, v);
    }
    if snap.empty {
        empty::answer(placed, opts.slave_up, &mut verdict, &mut findings);
    }
    let slave = opts
        .slave
        .as_ref()
        .map(|s| slave_part(s, &snap, &loss_windows, &mut findings));
    findings.extend(report::logged(opts, &snap, &loss_windows, scrape_interval));
    let loss_either = verdict.as_ref().and(snap.coverage_end);
    let loss_either = loss_either.and_then(|c| model::either(&loss_windows, c));
    Ok(CoverageReport {
        snapshot: snapshot.to_path_buf(),
        snapshot_time: snap.snapshot_time,
        snapshot_time_source: snap.snapshot_time_source,
        coverage_end: snap.coverage_end,
        slave_up: opts.slave_up,
        rw_start: opts.rw_start,
        facts: opts.facts.clone(),
        native_histograms,
        block_range: snap.block_range,
        block_range_source: snap.block_range_source,
        head_included: snap.head_included,
        head_block: snap.head_block,
        blocks: snap.blocks,
        holes: snap.holes,
        overlaps: snap.overlaps,
        first_slave_block: snap.first_slave_block,
        compaction_delay: snap.compaction_delay,
        scrape_interval,
        next_truncations,
        wal: wal_part,
        deadline,
        loss_windows,
        assumptions,
        loss_either,
        verdict,
        slave,
        findings,
    })
}

/// The slave's side: its blocks against the snapshot's, its head, and the
/// windows its first received sample contradicts (warnings).
fn slave_part(
    dir: &Path,
    snap: &SnapshotInfo,
    windows: &[LossWindow],
    findings: &mut Vec<Finding>,
) -> SlavePart {
    let mut part = SlavePart {
        path: dir.to_path_buf(),
        missing_snapshot_blocks: Vec::new(),
        own_blocks: Vec::new(),
        first_received: None,
        head: None,
        received_from: None,
        received_to: None,
    };
    match snapshot::analyze(dir, Some(snap.block_range)) {
        Ok(s) => {
            for b in &snap.blocks {
                if !s.blocks.iter().any(|x| x.ulid == b.ulid) {
                    part.missing_snapshot_blocks.push(b.ulid.clone());
                }
            }
            if !part.missing_snapshot_blocks.is_empty() {
                findings.push(Finding::warning(format!(
                    "{} snapshot block(s) are not in the slave (retention deleted them, or they \
                     were compacted into larger blocks: L8 if the former)",
                    part.missing_snapshot_blocks.len()
                )));
            }
            part.own_blocks = s
                .blocks
                .into_iter()
                .filter(|b| !snap.blocks.iter().any(|x| x.ulid == b.ulid))
                .collect();
            part.first_received = part.own_blocks.iter().map(|b| b.min_time).min();
        }
        Err(e) => findings.push(Finding::error(format!("slave dir unreadable: {e}"))),
    }
    part.head = slavehead::read(dir, snap.coverage_end);
    let head = part.head.as_ref();
    let blocks_to = part
        .own_blocks
        .iter()
        .map(|b| b.max_time.saturating_sub(1))
        .max();
    part.received_from = [part.first_received, head.and_then(|h| h.first_received)]
        .into_iter()
        .flatten()
        .min();
    part.received_to = [blocks_to, head.and_then(|h| h.last_received)]
        .into_iter()
        .flatten()
        .max();
    for n in head.map_or(&[][..], |h| h.notes.as_slice()) {
        findings.push(Finding::note(n.clone()));
    }
    if let (Some(first), Some(last)) = (part.received_from, part.received_to) {
        let seen = slavehead::contradicted(windows, first);
        if seen.is_empty() {
            findings.push(Finding::note(format!(
                "the slave holds samples from {} to {} (own blocks and head): used only to check \
                 the windows that lose every series, and none of them holds its first sample",
                fmt_time(first),
                fmt_time(last)
            )));
        }
        findings.extend(seen.into_iter().map(Finding::warning));
    }
    part
}

/// The samples the master appends per scrape interval, from a block's stats
/// (the snapshot's head block, as the queue sees them): its series count, or
/// fewer when its samples over its time span say some series are scraped
/// less often than `interval` (targets with longer intervals of their own).
/// Every series scraped at `interval` puts one sample per interval in the
/// block, so the rate over the span is never below the series count then.
/// Samples stamped `lag` before their scrape (an exporter's own timestamps,
/// [`scrapes::ScrapeGrid::lag`]) end that much before the block's end, set
/// by the scrape's own series: the span they fill is shorter by the lag.
fn samples_per_scrape(b: &snapshot::BlockSpan, interval: i64, lag: i64) -> u64 {
    let span = b
        .max_time
        .saturating_sub(b.min_time)
        .saturating_sub(lag.max(0));
    // Every series of a block has a sample: stats saying otherwise are not
    // a block's, and tell no rate.
    if interval <= 0 || span <= 3 * interval || b.num_samples < b.num_series {
        return b.num_series;
    }
    let per = (b.num_samples as f64 * interval as f64 / span as f64).ceil();
    if per.is_finite() && per >= 1.0 && (per as u64) < b.num_series {
        per as u64
    } else {
        b.num_series
    }
}

/// Times beyond ±10¹³ ms (about ±316 years around 1970) are not taken as
/// real: they come from damaged files or typos, and would overflow the
/// arithmetic.
pub const PLAUSIBLE_MS: i64 = 10_000_000_000_000;

/// True for a time `coverage` can reason about.
pub fn plausible(t: i64) -> bool {
    (-PLAUSIBLE_MS..=PLAUSIBLE_MS).contains(&t)
}

/// The series the queue sends: all the master scrapes, or the operator's
/// count after the queue's `write_relabel_configs` (its batches, its stall
/// and the crossing batch see only those; the WAL holds all).
fn sent_series(
    scraped: Option<u64>,
    sent: Option<u64>,
    assumptions: &mut Vec<String>,
) -> Option<u64> {
    let Some(n) = sent else {
        return scraped;
    };
    assumptions.push(format!(
        "the queue sends {n} series per scrape round (given: its write_relabel_configs), not the \
         {} the master scrapes: its batches, stall position and crossing batch are counted on \
         those",
        scraped.map_or("?".into(), |s| s.to_string())
    ));
    Some(n)
}

/// Unix ms as every human output writes a time ([`crate::vocab::time`]:
/// RFC 3339 UTC with milliseconds, `2026-11-25T09:12:34.000Z`); `never` for
/// `i64::MAX`.
pub fn fmt_time(ms: i64) -> String {
    if ms == i64::MAX {
        return "never".into();
    }
    crate::vocab::time(ms)
}

/// A duration in ms as `1h2m3.5s` (`-` prefix when negative).
pub fn fmt_dur(ms: i64) -> String {
    if ms == 0 {
        return "0s".into();
    }
    let neg = ms < 0;
    let mut v = ms.unsigned_abs();
    let mut s = String::new();
    if neg {
        s.push('-');
    }
    let d = v / 86_400_000;
    v %= 86_400_000;
    let h = v / 3_600_000;
    v %= 3_600_000;
    let m = v / 60_000;
    v %= 60_000;
    if d > 0 {
        s.push_str(&format!("{d}d"));
    }
    if h > 0 {
        s.push_str(&format!("{h}h"));
    }
    if m > 0 {
        s.push_str(&format!("{m}m"));
    }
    if v > 0 {
        if v.is_multiple_of(1000) {
            s.push_str(&format!("{}s", v / 1000));
        } else if v < 1000 && d == 0 && h == 0 && m == 0 {
            s.push_str(&format!("{v}ms"));
        } else {
            let t = format!("{:.3}", v as f64 / 1000.0);
            s.push_str(t.trim_end_matches('0').trim_end_matches('.'));
            s.push('s');
        }
    }
    s
}

/// `opts` with the master's log read into `facts.master_log`.
fn read_master_log(opts: &CoverageOptions, p: &Path) -> crate::error::Result<CoverageOptions> {
    let f = std::fs::File::open(p).map_err(|e| crate::error::Error::io(p, e))?;
    let log = masterlog::parse(std::io::BufReader::new(f), opts.master_log_queue.as_deref())
        .map_err(|e| crate::error::Error::io(p, e))?;
    let at = noted::log_at(
        opts.master_log_at,
        opts.facts.noted.master_log_at,
        log.extent.last_ts,
    );
    let log = masterlog::taken_at(log, at).map_err(|last| {
        crate::error::Error::bad_option(
            "master_log_at",
            format!(
                "the master's log was taken at {}, before its last line ({}): a log holds no \
                 line written after it was taken (was a time zone or another date meant?)",
                fmt_time(opts.master_log_at.unwrap_or(last)),
                fmt_time(last)
            ),
        )
    })?;
    let mut o = opts.clone();
    o.facts.master_log = Some(log);
    Ok(o)
}

/// `opts` with the slave's log read into `facts.slave_log`.
fn read_slave_log(opts: &CoverageOptions, p: &Path) -> crate::error::Result<CoverageOptions> {
    let f = std::fs::File::open(p).map_err(|e| crate::error::Error::io(p, e))?;
    let log =
        slavelog::parse(std::io::BufReader::new(f)).map_err(|e| crate::error::Error::io(p, e))?;
    let at = noted::log_at(
        opts.slave_log_at,
        opts.facts.noted.slave_log_at,
        log.extent.last_ts,
    );
    let log = slavelog::taken_at(log, at).map_err(|last| {
        crate::error::Error::bad_option(
            "slave_log_at",
            format!(
                "the slave's log was taken at {}, before its last line ({}): a log holds no line \
                 written after it was taken",
                fmt_time(opts.slave_log_at.unwrap_or(last)),
                fmt_time(last)
            ),
        )
    })?;
    let mut o = opts.clone();
    o.facts.slave_log = Some(log);
    Ok(o)
}

/// Proleptic Gregorian (year, month, day) of days since 1970-01-01.
pub use crate::gofmt::civil_from_days;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::days_from_civil;

    #[test]
    fn times_and_durations() {
        assert_eq!(fmt_time(1_795_597_954_000), "2026-11-25T09:12:34.000Z");
        assert_eq!(fmt_time(1_795_597_954_511), "2026-11-25T09:12:34.511Z");
        assert_eq!(fmt_time(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            fmt_time(1_795_597_954_000),
            crate::vocab::time(1_795_597_954_000)
        );
        for d in [0, 1, 59, 60, 365, 11_017, 20_000, -1, -800] {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
        assert_eq!(fmt_dur(6 * 60_000), "6m");
        assert_eq!(fmt_dur(7_500_000), "2h5m");
        assert_eq!(fmt_dur(1_500), "1.5s");
        assert_eq!(fmt_dur(250), "250ms");
        assert_eq!(fmt_dur(-61_000), "-1m1s");
    }

    /// One target at 1 s: the series count; a second one at 5 s: its
    /// series count a fifth (the s600x2-1s5s head block: 21 655 samples of
    /// 610 series over 58 s).
    #[test]
    fn samples_per_scrape_from_block_stats() {
        let b = |num_samples, num_series, span| snapshot::BlockSpan {
            ulid: String::new(),
            min_time: 0,
            max_time: span,
            level: 1,
            num_samples,
            num_series,
            head_block: true,
            in_order: true,
            created: None,
            bytes: 0,
        };
        let samples_per_scrape_nolag = |b: &snapshot::BlockSpan, i| samples_per_scrape(b, i, 0);
        assert_eq!(
            samples_per_scrape_nolag(&b(505 * 59, 505, 58_001), 1_000),
            505
        );
        assert_eq!(
            samples_per_scrape_nolag(&b(21_655, 610, 58_001), 1_000),
            374
        );
        assert_eq!(samples_per_scrape_nolag(&b(100, 610, 2_000), 1_000), 610);
        assert_eq!(
            samples_per_scrape_nolag(&b(1, 100_000, 7_200_000), 15_000),
            100_000
        );
        // s600-lag7s's head block: 600 exporter series stamped 7 s before
        // their scrape and 5 of the scrape's own, 30 285 samples over 56 s:
        // 541 a scrape without the lag, every series with it.
        assert_eq!(
            samples_per_scrape_nolag(&b(30_285, 605, 56_001), 1_000),
            541
        );
        assert_eq!(
            samples_per_scrape(&b(30_285, 605, 56_001), 1_000, 6_988),
            605
        );
    }
}
