//! A snapshot that holds no block.
//!
//! The admin API's `snapshot?skip_head=true` copies the persisted blocks
//! only; before the master cut its first block from the head (2.42 cuts one
//! when the head spans more than 1.5 block ranges: three hours after the
//! start with the default 2 h range) it writes an empty directory. A slave
//! seeded from it starts empty, and 2.42's head without a block has no
//! minimum valid time (it is raised to the newest block's end only when a
//! block is loaded or cut), so the slave accepts every sample remote write
//! sends it, from the master's first on: nothing is refused at a boundary
//! (no crossing batch, L3, and no isolation race, L4), and the loss is what
//! the queue never sends (L1: remote write started late; L2: a WAL
//! truncation overtook the stalled reader; L6 and the operator's facts).
//!
//! The model then runs with the coverage end just before the master's
//! first sample, which the master's WAL dates: segment 0 still live (no
//! checkpoint folded it) holds it exactly; otherwise the oldest sample on
//! file is a later bound and the answer says so, unless the master's log
//! shows its start on an empty WAL: that process appended nothing of its
//! own before its configuration loaded (`masterlog_start.rs`), so the
//! first sample lies from that line to the oldest sample on file, and the
//! coverage end is taken just before the line (never later than without).

use super::masterlog::MasterLog;
use super::scrapes::Schedule;
use super::wal::WalView;
use super::{Finding, fmt_dur, fmt_time};

/// The finding for a snapshot with no block (a warning: seeding from it is
/// valid, but it carries no history): `verify`'s `snapshot_empty` sentence.
pub(super) const EMPTY_WARNING: &str = crate::vocab::EMPTY_SNAPSHOT;

/// The finding when an empty seed's loss cannot be placed.
pub(super) const NO_START: &str = concat!(
    "no coverage end: the snapshot holds no block, and without the master's WAL nothing dates ",
    "the master's first sample, where a loss from the start of remote write would begin"
);

/// The verdict then: never an all-clear.
pub(super) const NO_START_VERDICT: &str = concat!(
    "Not known: what the queue never sends (remote write started after the master's first ",
    "sample, a WAL truncation past the stalled reader) is lost, and only the master's WAL (its ",
    "wal/ directory as copied when the slave came up) dates it."
);

/// The master's first sample as its WAL shows it, and whether exactly
/// (segment 0 live, no checkpoint). `None` without a sample on file.
pub(super) fn first_sample(wal: &WalView) -> Option<(i64, bool)> {
    let oldest = wal
        .segments
        .iter()
        .chain(wal.checkpoint.iter())
        .filter_map(|s| s.min_t)
        .min()?;
    let exact = wal.checkpoint.is_none() && wal.segments.first().is_some_and(|s| s.index == 0);
    Some((oldest, exact))
}

/// What every empty seed's assumption starts with.
const SEEDED_EMPTY: &str = concat!(
    "the snapshot holds no block: the slave seeded from it accepts every sample remote write ",
    "sends (no minimum valid time without a block)"
);

/// Where the model places an empty seed's loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Bounds {
    /// The coverage end: just before the earliest the master's first
    /// sample can be.
    pub coverage_end: i64,
    /// The head min: the oldest sample on file.
    pub head_min: i64,
    /// Where the first sample is not on file and the master's log dates
    /// its start: the earliest it can be (the log's) and the oldest sample
    /// on file, the range the first lost sample lies in.
    pub first_range: Option<(i64, i64)>,
}

/// The bounds the model runs with for an empty seed, with the assumption
/// that says where they come from; `None` without a master WAL to date the
/// first sample. Where segment 0 is gone, a master's log that shows the
/// master's start on an empty WAL (`masterlog_start.rs`) moves the coverage
/// end to just before that process's configuration load, before which it
/// appends nothing of its own: never later than the oldest sample on file.
pub(super) fn model_bounds(
    wal: Option<&WalView>,
    log: Option<&MasterLog>,
    assumptions: &mut Vec<String>,
) -> Option<Bounds> {
    let (first, exact) = first_sample(wal?)?;
    let dated = log
        .filter(|l| !l.extent.unrecognised && !exact)
        .and_then(|l| l.empty_wal_start(first))
        .filter(|s| s.first_append() < first);
    let mut b = Bounds {
        coverage_end: first.saturating_sub(1),
        head_min: first,
        first_range: None,
    };
    assumptions.push(match dated {
        _ if exact => format!(
            "{SEEDED_EMPTY}, so no batch is refused at a boundary; the coverage end is taken as \
             just before the master's first sample, {} (the master WAL's segment 0, still live)",
            fmt_time(first)
        ),
        Some(s) => {
            let from = s.first_append();
            b.coverage_end = from.saturating_sub(1);
            b.first_range = Some((from, first));
            format!(
                "{SEEDED_EMPTY}; the master's first sample is not on file (segment 0 was folded \
                 into a checkpoint or deleted), and its log shows it started on an empty WAL \
                 (segment 0 replayed alone, at {}) {}: the coverage end is taken as just before \
                 {}, the first sample lying somewhere from there to the oldest sample the WAL \
                 holds, {} (samples stamped at their scrape or rule evaluation)",
                fmt_time(s.replayed_at),
                if s.config_at.is_some() {
                    "and its configuration loaded, before which 2.42 neither scrapes nor \
                     evaluates rules"
                } else {
                    "(its configuration's load, before which 2.42 neither scrapes nor evaluates \
                     rules, is not in the log: from the replay's end)"
                },
                fmt_time(from),
                fmt_time(first)
            )
        }
        None => format!(
            "{SEEDED_EMPTY}; the master's first sample is not on file (segment 0 was folded \
             into a checkpoint or deleted): the coverage end is taken as just before the oldest \
             sample the WAL holds, {}, and a loss from the master's start may begin earlier",
            fmt_time(first)
        ),
    });
    Some(b)
}

/// The scrape interval of an empty seed, where no block tells it: the
/// interval of the WAL's scrape grid with the most series; `None` when the
/// WAL shows no grid.
pub(super) fn interval(s: &Schedule, assumptions: &mut Vec<String>) -> Option<i64> {
    let g = s
        .grids
        .iter()
        .max_by_key(|g| (g.series, std::cmp::Reverse(g.interval)))?;
    assumptions.push(format!(
        "scrape interval {}: the master WAL's scrape grid with the most series ({}; the snapshot \
         holds no block to read it from)",
        fmt_dur(g.interval),
        g.series
    ));
    Some(g.interval)
}

/// An empty seed's answer: where the model could not run (not `placed`:
/// no WAL dates the master's first sample) an error finding and, with the
/// slave's ready time, the "Not known" verdict; every verdict then leads
/// with what the snapshot holds.
pub(super) fn answer(
    placed: bool,
    slave_up: Option<i64>,
    verdict: &mut Option<String>,
    findings: &mut Vec<Finding>,
) {
    if !placed {
        findings.push(Finding::error(NO_START.into()));
        *verdict = slave_up.map(|_| NO_START_VERDICT.to_string());
    }
    if let Some(v) = verdict.as_mut() {
        *v = format!(
            "The snapshot holds no block: the slave starts empty and holds only what remote \
             write sends it. {v}"
        );
    }
}

#[cfg(test)]
#[path = "empty_tests.rs"]
mod tests;
