//! The loss-window calculator: pure arithmetic over named timestamps
//! (the [`crate::coverage`] module doc), no I/O.
//!
//! Inputs are what the snapshot's files tell (`C_snap`, the head min, the
//! block range, the compaction phase), optionally the master's WAL segment
//! ranges at some observation time, and the operator's times (remote write
//! start, slave ready). Output: the next master truncations, the deadline by
//! which the slave must be caught up, and the loss windows with their causes.
//!
//! The remote-write reader's stall position is the queue's buffer past its
//! first sample (`queue.rs`); the segment it sits in, and where that segment
//! ended, come from the WAL's rotation rule (`wal.rs`); the boundary sliver
//! L3 from the queue's batches, retries and reshard ticks (`queue.rs`), as
//! an expected end plus the end on the queue's other path (`bound_to`); L4
//! only with several scrape targets. Past truncations are the level-1
//! blocks' ULID times; later ones are forecast on the block grid.

use serde::Serialize;

use super::causes::{self, NativeHistograms, OperatorFacts, Timeline};
use super::fmt_time;
use super::queue::{self, Queue};
use super::snapshot::BlockSpan;
use super::wal::WalView;

mod caught_up;
mod grid;
mod grid_deleted;
mod l1;
mod l2;
mod l4;
mod l6_catchup;
mod l6_hint;
mod l6_stop;
mod lowvol;
mod race;
mod refused;
mod reshard;
mod slave;
mod slivers;
mod verdict;

pub use grid::{truncation_times, truncation_times_phased};
pub use l6_hint::SegmentRestarts;
pub use verdict::{LossEither, either};

/// One second in ms.
pub const SECOND: i64 = 1_000;
/// One minute in ms.
pub const MINUTE: i64 = 60 * SECOND;

/// A loss cause (L1–L10, see the [`crate::coverage`] module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Cause {
    /// Gap between the snapshot and the start of remote write.
    L1,
    /// WAL truncation overtook the stalled remote-write reader.
    L2,
    /// PRW 1.0 batch poisoning at the snapshot boundary.
    L3,
    /// Isolation race: samples committed after the snapshot read the head.
    L4,
    /// `sample_age_limit`.
    L5,
    /// Master restart or remote_write config change before catch-up.
    L6,
    /// Non-recoverable receiver answers (404, 413, 429, ...).
    L7,
    /// Slave retention.
    L8,
    /// Native histograms not sent.
    L9,
    /// Version bug (2.51.0–2.53.0).
    L10,
}

/// How sure a window is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Certainty {
    /// Follows from the files and the given times.
    Expected,
    /// An upper bound: at most this is lost, possibly nothing (boundary slivers).
    Bound,
    /// Depends on something no file tells (catch-up speed, WAL regime).
    Risk,
}

/// A time range of samples that the slave will not have.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LossWindow {
    /// L1 … L10.
    pub cause: Cause,
    /// First lost sample time, inclusive (Unix ms).
    pub from: i64,
    /// Last lost sample time, inclusive (Unix ms): the latest the window can end.
    pub to: i64,
    /// The earliest the window can end, when its end is uncertain (Unix ms).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_earliest: Option<i64>,
    /// The most likely end inside `to_earliest … to`, when the end is a
    /// range the model can still point into (L2, L3) (Unix ms).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_expected: Option<i64>,
    /// The latest the window could end if the less likely of the queue's
    /// paths is taken (L3: a reshard before the crossing, or none); `to` is
    /// the expected end (Unix ms).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bound_to: Option<i64>,
    /// How sure the window is.
    pub certainty: Certainty,
    /// How many series the window concerns, when only some (L9); absent: all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub series: Option<u64>,
    /// True when the loss goes on past `to` (the latest time the inputs
    /// name) until the cause is removed (L7 without an end, L9).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub ongoing: bool,
    /// Why, in plain words.
    pub why: String,
    /// How the window depends on the slave's block range, set where it is
    /// built (not in the JSON: `why` says it in words).
    #[serde(skip)]
    pub(crate) slave_range: SlaveRangeUse,
    /// The resharded catch-up's reach past the new shards' first batches
    /// when the slave's log ordered the reshard first (`race`): a risk
    /// that adds nothing once the log narrows it into the expected window.
    #[serde(skip)]
    pub(crate) race_rest: bool,
}

/// How a window depends on the slave's block range, which no file of the
/// master records.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct SlaveRangeUse {
    /// Read against half the slave's block range (its head refuses what
    /// lies further behind its newest sample): with no range given, the
    /// assumptions name the master's, taken for it.
    pub(crate) half_range: bool,
    /// `bound_to` is the reach with any slave block range (the master's
    /// taken for the slave's, a shorter one refusing more): the verdict
    /// names that as a path to the bound.
    pub(crate) any_range: bool,
}

impl SlaveRangeUse {
    /// Read against half the slave's block range when `read` (no bound for
    /// any range yet: `reshard::with_any_range` adds it).
    pub(crate) fn half_range(read: bool) -> Self {
        SlaveRangeUse {
            half_range: read,
            any_range: false,
        }
    }
}

impl LossWindow {
    /// A window of `cause` over `[from, to]` with one end (no range, no
    /// path bound), about every series.
    pub(crate) fn new(cause: Cause, from: i64, to: i64, certainty: Certainty, why: String) -> Self {
        LossWindow {
            cause,
            from,
            to,
            to_earliest: None,
            to_expected: None,
            bound_to: None,
            certainty,
            series: None,
            ongoing: false,
            why,
            slave_range: SlaveRangeUse::default(),
            race_rest: false,
        }
    }
}

/// What the master's `external_labels` (no file holds them) do to the
/// slave's series; measured on real 2.42 servers with the Debian package's
/// `monitor: 'example'` (docs/LOSS-WINDOWS.md, the fourteenth set).
const EXTERNAL_LABELS: &str = "the windows are times, whatever the labels: remote write adds the \
     master's external_labels (not in any file; the Debian package's config sets monitor: \
     'example') to every series it sends, so with them the slave holds each metric as two series, \
     the seeded one without them up to the coverage end and the remote-written one with them after \
     it (a query by metric name sees both for the 5 minutes of lookback after the coverage end); a \
     comparison by label set with the master must drop those labels";

/// The deadline by which the slave must be up and caught up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deadline {
    /// The first master truncation that overtakes a watcher still stalled at
    /// `watcher_position` (Unix ms). Conservative: the earliest candidate.
    pub at: i64,
    /// The latest candidate when the WAL regime is unknown (Unix ms).
    pub latest: i64,
    /// The stall position assumed: the oldest sample not yet sent (Unix ms).
    pub watcher_position: i64,
    /// `wal` (simulated on the master's real segments), `high_volume` or
    /// `low_volume` (closed forms of §2.5), or `already_overtaken`.
    pub basis: String,
    /// Plain words.
    pub why: String,
}

/// What the calculator needs.
#[derive(Debug, Clone)]
pub struct ModelInput {
    /// Master block range `R` (ms).
    pub block_range: i64,
    /// True when `R` is not in the files (one block, no flag: 2.42's
    /// default assumed): the slave's, taken as the master's, is unknown.
    pub block_range_assumed: bool,
    /// `C_snap`: the snapshot's coverage end = the slave's minValidTime.
    pub coverage_end: i64,
    /// Head min at the snapshot (`H_min`), or `B_last` with `skip_head`.
    pub head_min: i64,
    /// True if the snapshot holds a head block.
    pub head_included: bool,
    /// False when the snapshot has holes between its blocks or blocks left
    /// out as unreadable: its blocks then do not hold every sample before
    /// the coverage end.
    pub blocks_whole: bool,
    /// Snapshot wall time.
    pub snapshot_time: i64,
    /// Compaction delay `δ` after the `1.5 R` trigger (calibrated from ULIDs).
    pub compaction_delay: i64,
    /// Remote write start (`T_ws`); `None`: assumed just before the snapshot.
    pub rw_start: Option<i64>,
    /// Slave ready time.
    pub slave_up: Option<i64>,
    /// The master WAL as observed, for the exact truncation simulation.
    pub wal: Option<WalView>,
    /// Scrape interval of the master (ms), for the boundary slivers.
    pub scrape_interval: i64,
    /// Longest scrape timeout (ms), for L4: 2.42's `scrape_timeout`
    /// default, 10 s (`config.DefaultGlobalConfig`), used capped by the
    /// scrape interval as Prometheus caps it.
    pub scrape_timeout: i64,
    /// Wait of the WAL watcher before it restarts after an error: 5 s,
    /// the fixed `time.After(5 * time.Second)` of `Watcher.loop` in
    /// tsdb/wlog/watcher.go (not configurable in 2.42).
    pub restart_delay: i64,
    /// Series the master scrapes (the head block's numSeries), for L3.
    pub series: Option<u64>,
    /// Samples the master appends per scrape that the queue does not send
    /// (native histograms without `send_native_histograms`): 2.42's
    /// desired-shards formula counts them in its input rate (`samplesIn`).
    pub unsent_per_scrape: u64,
    /// The oldest sample of the snapshot (its oldest block's minTime): no
    /// compaction happened before `first_sample + 1.5R`.
    pub first_sample: Option<i64>,
    /// The operator's facts for L5–L10.
    pub facts: OperatorFacts,
    /// Native histograms seen in the snapshot and the master WAL (L9).
    pub native: Option<NativeHistograms>,
    /// The snapshot's blocks (L8; level-1 ULID times are past truncations).
    pub blocks: Vec<BlockSpan>,
    /// The remote-write queue settings in force.
    pub queue: Queue,
    /// Scrape targets (distinct `job`/`instance` of `up`), for L4.
    pub targets: Option<u64>,
    /// The targets' newest `up` timestamps and series in the head block
    /// (L4 decided per target); `None`: not read.
    pub up_tails: Option<Vec<super::uptail::UpTail>>,
    /// The targets' scrape grids as the master's WAL shows them (L3 with
    /// more than one target).
    pub scrape_grids: Option<super::scrapes::Schedule>,
    /// The series the slave's refusals name, placed in the master's WAL
    /// (a refused request's end, `model/refused.rs`).
    pub series_places: Option<super::places::Places>,
    /// The slave is seeded from a snapshot with no block (`empty.rs`): it
    /// has no minimum valid time and refuses nothing at a boundary.
    pub seeded_empty: bool,
    /// An empty seed whose master's first sample is not on file but whose
    /// log dates the master's start (`empty.rs`): the earliest the first
    /// sample can be and the oldest on file, the range L1's start lies in.
    pub first_sample_range: Option<(i64, i64)>,
    /// Whether a `wal/` segment that starts as a restarted master's may be
    /// taken as a master restart when none is given (`l6_hint`).
    pub segment_restarts: SegmentRestarts,
}

impl ModelInput {
    /// Defaults for the sender's constants.
    pub fn new(block_range: i64, coverage_end: i64, head_min: i64, snapshot_time: i64) -> Self {
        ModelInput {
            block_range,
            block_range_assumed: false,
            coverage_end,
            head_min,
            head_included: true,
            blocks_whole: true,
            snapshot_time,
            compaction_delay: 0,
            rw_start: None,
            slave_up: None,
            wal: None,
            scrape_interval: 15 * SECOND,
            scrape_timeout: 10 * SECOND,
            restart_delay: 5 * SECOND,
            series: None,
            unsent_per_scrape: 0,
            first_sample: None,
            facts: OperatorFacts::default(),
            native: None,
            blocks: Vec::new(),
            queue: super::queue::QueueSettings::default().resolve(None, &mut Vec::new()),
            targets: None,
            up_tails: None,
            scrape_grids: None,
            series_places: None,
            seeded_empty: false,
            first_sample_range: None,
            segment_restarts: SegmentRestarts::Look,
        }
    }

    /// The queue's latest start at or before `until` as the master's log
    /// shows it (`Starting WAL watcher`), when the log decides such lines.
    pub(crate) fn logged_queue_start(&self, until: i64) -> Option<i64> {
        let log = self.facts.master_log.as_ref().filter(|l| l.decides())?;
        log.queue_start(until)
    }
}

/// What the calculator found.
#[derive(Debug, Clone, Serialize)]
pub struct ModelOutput {
    /// Forecast master head compactions + WAL truncations (Unix ms), from the
    /// first one after the watcher's stall position.
    pub truncations: Vec<i64>,
    /// The catch-up deadline.
    pub deadline: Deadline,
    /// The loss windows (the union is the loss), sorted by `from`.
    pub loss_windows: Vec<LossWindow>,
    /// What was assumed because no file tells it.
    pub assumptions: Vec<String>,
    /// Plain-words verdict (present when `slave_up` was given).
    pub verdict: Option<String>,
}

/// Where the reader stalls (`queue::stall_read`): the first batch on the
/// samples the WAL's grids show by its deadline tick, when they begin at
/// the reader's first sample (`first_after`).
fn reader_stall(
    inp: &ModelInput,
    t_b: i64,
    first_after: i64,
    phase_known: bool,
    n: u64,
) -> queue::Stall {
    let read = |t| {
        (phase_known && inp.first_sample == Some(first_after))
            .then_some(inp.scrape_grids.as_ref())
            .flatten()
            .and_then(|g| g.samples_read(first_after, t))
    };
    // The shards' deadline timers start with the queue: its start as the
    // master's log shows it (`Starting WAL watcher`, the shards started
    // just before), when it lies between `t_b` and the first sample.
    let t_q = inp
        .logged_queue_start(first_after)
        .filter(|&s| s >= t_b)
        .unwrap_or(t_b);
    queue::stall_read(&inp.queue, t_q, first_after, n, inp.scrape_interval, read)
}

/// The end of L1's range: the remote write start given coarser than a
/// millisecond (`noted`) may be up to that much later than given, and the
/// watcher sends nothing older than its real start (the seeded-over
/// slave's stop is already taken at its range's end).
fn rw_start_end(inp: &ModelInput, t_ws: i64) -> i64 {
    if inp.rw_start == Some(t_ws) && inp.facts.slave_received_until != Some(t_ws) {
        t_ws.saturating_add(super::noted::late(inp.facts.noted.rw_start))
    } else {
        t_ws
    }
}

/// Runs the calculator.
pub fn compute(inp: &ModelInput) -> ModelOutput {
    let r = inp.block_range.max(1);
    let c = inp.coverage_end;
    if let Some((moved, why)) = l6_stop::restart_from_wal(inp) {
        let mut out = compute(&moved);
        out.assumptions.push(why);
        return out;
    }
    if let Some((moved, why)) = l6_hint::restart_from_hint(inp) {
        let mut out = compute(&moved);
        out.assumptions.push(why);
        return out;
    }
    let (t_ws, mut assumptions) = start_and_assumptions(inp, c);
    let mut windows = Vec::new();

    // L1: remote write started after the coverage end (cut where a
    // restarted master had nothing to lose).
    let l1_end = rw_start_end(inp, t_ws);
    if t_ws >= c {
        windows.extend(l1::windows(inp, c, l1_end));
    } else if l1_end >= c {
        // Given to the second (or minute) before the coverage end, the
        // start's range reaching past it: the real start may be after it.
        let (w, why) = l1::straddle(inp, c, t_ws, l1_end);
        windows.push(w);
        assumptions.push(why);
    }

    // L6: a master restart before the slave is up starts a new watcher at
    // that instant. The watcher then stalls at t_b (the queue's few thousand
    // buffered samples are negligible) until the slave is up.
    let (l6, t_b, truncations) = l6_stop::windows(inp, t_ws, inp.facts.catch_up, &mut assumptions);
    windows.extend(l6);

    // Where the reader stalls: the queue's buffer after the first sample
    // it forwards (`queue.rs`).
    let series = inp.series.filter(|&n| n > 0);
    let (first_after, phase_known, deleted) = grid::first_sample_after_why(inp, t_b);
    let earliest = deleted.is_some();
    assumptions.extend(deleted);
    let stall = series.map(|n| reader_stall(inp, t_b, first_after, phase_known, n));
    let position = match (stall, inp.slave_up) {
        (Some(st), Some(up)) => st.position.min(up.max(t_b)),
        (Some(st), None) => st.position,
        _ => t_b,
    };
    if let Some(st) = stall {
        // A slave restarted before the queue's retry reached it: the
        // catch-up starts at a later ready time (`slave.rs`).
        if let Some((moved, why)) = slave::restarted(inp, &st) {
            let mut out = compute(&moved);
            out.assumptions.push(why);
            return out;
        }
        assumptions.push(stall_assumption(inp, t_b, &st, phase_known));
    }
    let during = l6_catchup::catching_up(inp, (t_b, stall), &truncations, &mut assumptions);
    windows.extend(during);

    let mut ov = l2::overtaking(inp, position, &truncations, r, &mut assumptions);
    // The restarted reader placed at its earliest in deleted segments (no
    // file dates its first sample; truncations forecast while the master
    // was down may not have happened): the overtaking that placement
    // implies is a risk, not a forecast, unless the master's log shows it.
    ov.undecided |= earliest && ov.overtake.is_some();
    windows.extend(l2::window(inp, &ov, t_b, position, stall));
    let path = (t_b, stall, phase_known);
    slivers::boundary(inp, &ov, path, &mut windows, &mut assumptions);

    // L5, L7, L8, L9, L10: the operator's facts.
    let watcher_segment = ov.watcher_segment;
    windows.extend(fact_windows(
        inp,
        t_b,
        watcher_segment,
        &truncations,
        &mut assumptions,
    ));
    // Without the remote write start the windows above are those of the
    // start assumed; the other starts no file excludes are risks beside
    // them, so that the answer is never more optimistic than its inputs.
    if inp.rw_start.is_none() {
        windows.extend(unknown_start_risks(inp, c));
    }
    // The slave's log: the requests it refused add runs and narrow L3.
    let read = refused::apply(inp, &mut windows, &mut assumptions);
    let hinted = l6_hint::risks(inp, &windows);
    windows.extend(hinted);
    windows.sort_by_key(|w| (w.from, w.to));

    let deadline = ov.deadline;
    let mut verdict = verdict::full(inp, &windows, &deadline, c);
    if let (Some(v), Some(s)) = (verdict.as_mut(), read) {
        v.push(' ');
        v.push_str(&s);
    }
    ModelOutput {
        truncations,
        deadline,
        loss_windows: windows,
        assumptions,
        verdict,
    }
}

/// The remote write start (given, or assumed just before the coverage end)
/// and the assumptions every answer states.
fn start_and_assumptions(inp: &ModelInput, c: i64) -> (i64, Vec<String>) {
    let mut assumptions = Vec::new();
    let t_ws = match inp.rw_start {
        Some(t) => t,
        None => {
            assumptions.push(
                "remote write to the slave was already running before the snapshot and was not \
                 restarted (no remote write start given): the stall position is taken as just \
                 before the coverage end; an earlier start can only bring the deadline forward"
                    .to_string(),
            );
            c.min(inp.snapshot_time) - 1
        }
    };
    if inp.facts.slave_received_until.is_none() {
        assumptions.push(
            "the slave was not up and receiving before the snapshot (no time it received until \
             given): one seeded over after receiving lost what it held after the coverage end, \
             and its queue went on from the stop (L1)"
                .to_string(),
        );
    }
    assumptions.push("PRW 1.0 (Prometheus' default protobuf message)".into());
    assumptions.push(EXTERNAL_LABELS.into());
    assumptions.push(queue::machine_assumption());
    if let Some(up) = inp.slave_up {
        assumptions.push(format!(
            "the slave's ready time {} is on the master's clock: a skew between the two moves \
             every window's end by as much",
            fmt_time(up)
        ));
        if inp.facts.master_log.is_none() {
            assumptions.push(
                "no master's log given: whether and when the queue resharded during the \
                 catch-up, a race no other file records, is not known (it moves the boundary \
                 sliver's end)"
                    .to_string(),
            );
        }
        if let Some(w) = inp.wal.as_ref().filter(|w| w.observed_at > up) {
            assumptions.push(format!(
                "the master's WAL was observed at {}, {} after the slave was up: the overtake is \
                 judged on that copy, whose later truncations may have deleted the segments that \
                 placed the stalled reader (a copy taken at the slave's start decides it)",
                fmt_time(w.observed_at),
                super::fmt_dur(w.observed_at - up)
            ));
        }
    }
    assumptions.push(format!(
        "queue max_backoff {} and the watcher's restart delay after a read error ({}s, \
         wlog/watcher.go)",
        super::fmt_dur(inp.queue.max_backoff),
        inp.restart_delay / SECOND
    ));
    (t_ws, assumptions)
}

/// The losses of the remote write starts the assumed one hides: started
/// only when the slave came up (L1 over `(C_snap, up]`), or running since
/// the snapshot's oldest sample (the stalled reader at its earliest, and so
/// overtaken at the earliest, and the longest backlog at the boundary: its
/// L2 and L3). Each is a risk.
fn unknown_start_risks(inp: &ModelInput, c: i64) -> Vec<LossWindow> {
    let mut out = Vec::new();
    if let Some(up) = inp.slave_up.filter(|&u| u > c) {
        out.push(LossWindow::new(
            Cause::L1,
            c,
            up,
            Certainty::Risk,
            "if remote write to the slave started only when the slave came up (no remote write \
             start given), nothing from the coverage end to then reaches it"
                .into(),
        ));
    }
    if let Some(m0) = inp.first_sample.filter(|&m| m < c - 1) {
        let mut early = inp.clone();
        early.rw_start = Some(m0 - 1);
        for mut w in compute(&early)
            .loss_windows
            .into_iter()
            .filter(|w| matches!(w.cause, Cause::L2 | Cause::L3) && w.certainty != Certainty::Bound)
        {
            // An overtaking the master's log shows happened whatever the
            // start: its L2 loss stays expected.
            let up = inp.slave_up.unwrap_or(i64::MAX);
            let logged = l2::logged_restart(inp, up).is_some_and(|l| l.2 == w.to);
            let kept = w.cause == Cause::L2 && w.certainty == Certainty::Expected && logged;
            if !kept {
                w.certainty = Certainty::Risk;
            }
            w.why = if kept {
                format!(
                    "the master's log shows the reader overtaken after the slave was up, so \
                     remote write to the slave ran before the snapshot (no remote write start \
                     given; taken from its oldest sample {}): {}",
                    fmt_time(m0),
                    w.why
                )
            } else {
                format!(
                    "if remote write to the slave ran since the snapshot's oldest sample {} (no \
                     remote write start given): {}",
                    fmt_time(m0),
                    w.why
                )
            };
            out.push(w);
        }
    }
    out
}

/// Where the reader stalls, in words.
fn stall_assumption(inp: &ModelInput, t_b: i64, st: &queue::Stall, phase_known: bool) -> String {
    format!(
        "the remote-write reader forwards samples newer than {} (first at {}{}) and stalls once \
         the queue holds {} samples (first batch + capacity + one partial batch of {} shard(s)): \
         at the sample of {}",
        fmt_time(t_b),
        fmt_time(st.first_sample),
        if phase_known {
            ", from the files"
        } else {
            ", on the scrape grid of the coverage end"
        },
        st.buffered,
        inp.queue.min_shards,
        fmt_time(st.position)
    )
}

/// The windows of the operator's facts (L5, L7, L8, L9, L10), on the
/// remote-write timeline: stall position `t_b`, the reader's segment, the
/// truncations.
fn fact_windows(
    inp: &ModelInput,
    t_b: i64,
    watcher_segment: Option<(u32, Option<i64>)>,
    truncations: &[i64],
    assumptions: &mut Vec<String>,
) -> Vec<LossWindow> {
    let c = inp.coverage_end;
    let catch_up = inp.facts.catch_up.unwrap_or(0);
    let mut out = Vec::new();
    let horizon = [
        Some(c),
        Some(inp.snapshot_time),
        inp.slave_up.map(|u| u.saturating_add(catch_up)),
        inp.wal.as_ref().map(|w| w.observed_at),
        inp.facts.rejects_until,
        inp.facts.master_restarts.iter().copied().max(),
    ]
    .into_iter()
    .flatten()
    .max()
    .unwrap_or(c);
    let tl = Timeline {
        coverage_end: c,
        stall: t_b,
        slave_up: inp.slave_up,
        catch_up,
        horizon,
        wal: inp.wal.as_ref(),
        watcher_segment,
        truncations,
        facts: &inp.facts,
    };
    out.extend(causes::sample_age_window(
        &tl,
        inp.facts.master_version,
        assumptions,
    ));
    out.extend(causes::reject_window(&tl, assumptions));
    out.extend(causes::native_histogram_window(
        &tl,
        inp.native.as_ref(),
        assumptions,
    ));
    out.extend(causes::version_window(&tl, assumptions));
    out.extend(causes::retention_windows(
        &inp.blocks,
        inp.facts.slave_retention,
        inp.facts.slave_retention_size,
        assumptions,
    ));
    out
}

#[cfg(test)]
#[path = "model_tests.rs"]
mod tests;
