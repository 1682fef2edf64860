//! The steps of [`super::coverage`]: the options checked against the
//! snapshot, the master WAL read, the model's input assembled, the WAL part
//! of the report, and the snapshot's own holes in the verdict.

use super::model::{self, ModelOutput};
use super::scrapes::Schedule;
use super::snapshot::{BlockSpan, SnapshotInfo};
use super::{
    CoverageOptions, Finding, NativeHistograms, Severity, WalPart, WalView, fmt_dur, fmt_time,
    samples_per_scrape, scrapes, sent_series, wal,
};

/// The slave starts on the snapshot: it cannot be up before it was taken.
/// Usage errors of `--slave-up`; else the note of [`slave_up_before_its_log`].
pub(super) fn check_slave_up(
    opts: &CoverageOptions,
    snap: &SnapshotInfo,
) -> crate::error::Result<Option<Finding>> {
    if let (Some(up), Some(t)) = (opts.slave_up, snap.snapshot_time.or(snap.coverage_end))
        && up < t
    {
        return Err(crate::error::Error::bad_option(
            "slave_up",
            format!(
                concat!(
                    "the slave's ready time {} is before the snapshot ({}): a slave started ",
                    "on the snapshot cannot be up before it was taken (was a time zone or ",
                    "another snapshot meant? A slave that was running before the snapshot and ",
                    "was then seeded from it is up at its ready time after the seeding; when it ",
                    "was stopped is the time it received until)"
                ),
                fmt_time(up),
                fmt_time(t)
            ),
        ));
    }
    if let (Some(up), Some(t)) = (opts.slave_up, opts.facts.slave_received_until)
        && t > up
    {
        return Err(crate::error::Error::bad_option(
            "slave_received_until",
            format!(
                "the slave seeded over was stopped at {}, after its ready time {}: it is stopped \
                 before it is seeded and started again",
                fmt_time(t),
                fmt_time(up)
            ),
        ));
    }
    Ok(slave_up_before_its_log(opts))
}

/// How far the master WAL's newest sample may lie after a given
/// observation time: clock skew between the master and the operator's
/// clock, and a scrape's timestamp taken before its samples are appended.
const OBSERVED_SLACK_MS: i64 = 60_000;

/// A given observation time before the newest sample of the master WAL
/// (beyond [`OBSERVED_SLACK_MS`]) cannot be: the WAL holds no sample from
/// after it was observed. `2020-01-01` for a WAL of 2026 was taken as given
/// and every forecast truncation computed from it.
pub(super) fn check_observed_at(
    opts: &CoverageOptions,
    wal: Option<&WalView>,
) -> crate::error::Result<()> {
    let (Some(t), Some(w)) = (opts.observed_at, wal) else {
        return Ok(());
    };
    let newest = w.segments.iter().filter_map(|s| s.max_t).max();
    if let Some(n) = newest.filter(|&n| n > t.saturating_add(OBSERVED_SLACK_MS)) {
        return Err(crate::error::Error::bad_option(
            "observed_at",
            format!(
                concat!(
                    "the WAL observation time {} is before the newest sample in the master's ",
                    "WAL ({}): a WAL holds no sample written after it was observed (was a time ",
                    "zone or another date meant?)"
                ),
                fmt_time(t),
                fmt_time(n)
            ),
        ));
    }
    Ok(())
}

/// The scrape interval: given, else inferred from the newest block, else
/// 15 s, the interval of the prometheus.yml Prometheus ships. (The global
/// default, 1m, is not the safer guess: fewer samples per second put the
/// stalled reader's position later, after a longer buffer, and so the
/// overtaking later: it would understate L2.)
/// The assumption when no block and no flag gives the scrape interval.
pub(super) const INTERVAL_ASSUMED: &str =
    "scrape interval not inferable from the newest block: 15s assumed";

/// The scrape interval, and the master WAL's scrape grids when they were
/// read for it (a snapshot with no block: `empty.rs`), for the model to
/// take as read (`run_model`).
pub(super) fn scrape_interval(
    opts: &CoverageOptions,
    snap: &SnapshotInfo,
    wal: Option<&WalView>,
    assumptions: &mut Vec<String>,
) -> (i64, Option<Option<Schedule>>) {
    match (opts.scrape_interval, snap.scrape_interval) {
        (Some(s), _) => (s, None),
        (None, Some(s)) => (s, None),
        (None, None) => {
            // A snapshot with no block: the WAL's grids tell (`empty.rs`).
            let grids = wal.filter(|_| snap.empty).map(|w| {
                let send = opts.facts.send_native_histograms.unwrap_or(false);
                scrapes::read_master(Some(w), newest(snap), send)
            });
            let s = grids.as_ref().and_then(|g| {
                g.as_ref()
                    .and_then(|g| super::empty::interval(g, assumptions))
            });
            if s.is_none() {
                assumptions.push(INTERVAL_ASSUMED.into());
            }
            (s.unwrap_or(15_000), grids)
        }
    }
}

/// The newest block: the head block when the snapshot has one.
fn newest(snap: &SnapshotInfo) -> Option<&BlockSpan> {
    snap.head_block.as_ref().or(snap.blocks.last())
}

/// The master WAL, when given and readable (its damage becomes findings).
pub(super) fn read_master(
    opts: &CoverageOptions,
    findings: &mut Vec<Finding>,
    assumptions: &mut Vec<String>,
) -> Option<WalView> {
    let Some(m) = opts.master.as_ref() else {
        assumptions.push(NO_WAL_NO_LAG.into());
        return None;
    };
    match wal::read_wal(m, opts.observed_at) {
        Ok(v) => {
            if opts.observed_at.is_none() {
                assumptions.push(format!(
                    "master WAL observation time {}",
                    v.observed_at_source
                ));
            }
            for f in &v.findings {
                findings.push(Finding::error(format!("master WAL: {f}")));
            }
            assumptions.extend(torn_tail(&v));
            Some(v)
        }
        Err(e) => {
            findings.push(Finding::error(format!(
                "master WAL {} unreadable: {e}; answering from the snapshot alone",
                m.display()
            )));
            None
        }
    }
}

/// What a `wal/` copied from a running master leaves out: its newest
/// segment cut at a torn record (not a finding: a live copy's normal tail).
fn torn_tail(v: &WalView) -> Option<String> {
    let s = v.segments.last().filter(|s| !s.last_record_ok)?;
    Some(format!(
        "the master WAL's newest segment {} ends in a torn record ({}): the copy was taken \
         while the master wrote it, and holds its samples up to {} only; nothing after is \
         read, and no silence of the master is read from where the copy stops",
        s.name,
        s.problem.as_deref().unwrap_or("cut short"),
        s.max_t.map_or_else(|| "none".to_string(), fmt_time)
    ))
}

/// Native histograms: the newest block's, plus the master WAL's after C_snap.
pub(super) fn native_histograms(
    snap: &SnapshotInfo,
    wal: Option<&WalView>,
) -> Option<NativeHistograms> {
    let mut native_histograms = snap.native_histograms.clone();
    if let (Some(w), Some(c)) = (wal, snap.coverage_end) {
        let n: u64 = w
            .segments
            .iter()
            .filter(|s| s.max_t.is_some_and(|m| m >= c))
            .map(|s| s.histogram_samples)
            .sum();
        native_histograms
            .get_or_insert(NativeHistograms {
                block: None,
                series: None,
                samples: None,
                wal_samples_after_coverage_end: None,
            })
            .wal_samples_after_coverage_end = Some(n);
    }
    native_histograms
}

/// Only the master's WAL shows samples stamped before their scrape.
const NO_WAL_NO_LAG: &str = concat!(
    "no master WAL given: every sample is taken as stamped at its scrape's start. An exporter's ",
    "own timestamps (honor_timestamps) behind the scrape would start the loss up to that lag ",
    "before the coverage end (less than half the block range: the master's head refuses older ",
    "samples); the WAL shows the lag"
);

const SNAPSHOT_TIME_UNKNOWN: &str = concat!(
    "snapshot time unknown (no snapshot directory name, no head block): taken as the coverage ",
    "end"
);

const COMPACTION_NOT_CALIBRATED: &str = concat!(
    "master compaction phase not calibrated (no level-1 block besides the head block): block ",
    "writes assumed exactly 1.5R after each block start"
);

/// The model's answer, when the snapshot has a coverage end and a head.
pub(super) fn run_model(
    opts: &CoverageOptions,
    snap: &SnapshotInfo,
    wal: Option<&WalView>,
    (scrape_interval, read): (i64, Option<Option<Schedule>>),
    native: Option<&NativeHistograms>,
    assumptions: &mut Vec<String>,
) -> Option<ModelOutput> {
    let mut first_range = None;
    let (c, hmin) = match (snap.coverage_end, snap.head_min) {
        (Some(c), Some(h)) => (c, h),
        _ if snap.empty => {
            let log = opts.facts.master_log.as_ref();
            let b = super::empty::model_bounds(wal, log, assumptions)?;
            first_range = b.first_range;
            (b.coverage_end, b.head_min)
        }
        _ => return None,
    };
    let t_snap = snap.snapshot_time.unwrap_or(c);
    if snap.snapshot_time.is_none() {
        assumptions.push(SNAPSHOT_TIME_UNKNOWN.into());
    }
    let mut inp = model::ModelInput::new(snap.block_range, c, hmin, t_snap);
    inp.block_range_assumed = snap.block_range_source == super::Source::Default;
    inp.head_included = snap.head_included;
    inp.blocks_whole = snap.holes.is_empty() && unreadable_blocks(snap) == 0;
    inp.compaction_delay = snap.compaction_delay.unwrap_or(0);
    inp.rw_start = opts.rw_start;
    // A slave seeded over after it had received: the queue read on until
    // it stopped, so its stall, and the L1 gap its wiped data leaves, start
    // there (model/l1.rs).
    if let Some(t) = opts.facts.slave_received_until {
        inp.rw_start = Some(opts.rw_start.map_or(t, |r| r.max(t)));
        if opts.rw_start.is_none() {
            assumptions.push(format!(
                "no remote write start given: it ran before the snapshot, as the slave seeded over \
                 received it until {}; the queue is taken from there",
                fmt_time(t)
            ));
        }
    }
    inp.slave_up = opts.slave_up;
    inp.wal = wal.cloned();
    inp.scrape_interval = scrape_interval;
    let newest = newest(snap);
    let send_histograms = opts.facts.send_native_histograms.unwrap_or(false);
    let grids = read.unwrap_or_else(|| scrapes::read_master(wal, newest, send_histograms));
    inp.scrape_grids = scrapes::from_master(grids, scrape_interval, assumptions);
    inp.series_places = series_places(wal, opts.facts.slave_log.as_ref());
    inp.seeded_empty = snap.empty;
    inp.first_sample_range = first_range;
    inp.first_sample = snap.blocks.iter().map(|b| b.min_time).min();
    let lag = inp
        .scrape_grids
        .as_ref()
        .and_then(|g| g.lag())
        .map_or(0, |g| g.lag);
    inp.series =
        newest.map(|b| queued_per_scrape(b, native, send_histograms, scrape_interval, lag));
    // What the master appends and the queue skips (native histograms):
    // 2.42's desired-shards input rate counts it.
    inp.unsent_per_scrape = newest.map_or(0, |b| {
        samples_per_scrape(b, scrape_interval, lag).saturating_sub(inp.series.unwrap_or(0))
    });
    inp.series = sent_series(inp.series, opts.facts.sent_series, assumptions);
    inp.facts = opts.facts.clone();
    inp.native = native.cloned();
    inp.blocks = snap.blocks.clone();
    inp.queue = opts
        .facts
        .queue
        .resolve(opts.facts.master_version, assumptions);
    inp.targets = snap.targets;
    inp.up_tails = snap.up_tails.clone();
    if snap.compaction_delay.is_none() {
        assumptions.push(COMPACTION_NOT_CALIBRATED.into());
    }
    Some(model::compute(&inp))
}

/// The series the slave's refusals name, placed in the master's WAL
/// (`places`); `None` without both.
fn series_places(
    wal: Option<&super::wal::WalView>,
    log: Option<&super::slavelog::SlaveLog>,
) -> Option<super::places::Places> {
    let keys: std::collections::BTreeSet<u64> =
        log?.refusals.iter().filter_map(|r| r.series).collect();
    super::places::Places::read(&wal?.dir, &keys)
}

/// A note when the slave's log starts after the given ready time but holds
/// the slave's own `Server is ready` line less than a second after it
/// ([`SlaveLog::ready_after`](super::slavelog::SlaveLog::ready_after)): a
/// ready time noted to the second (truncated) is up to a second early; the
/// log is taken to hold the catch-up from that time on (the slave answered
/// remote write with 503, retried, until that line), and its ready line
/// gives the exact time.
fn slave_up_before_its_log(opts: &CoverageOptions) -> Option<Finding> {
    let (up, log) = (opts.slave_up?, opts.facts.slave_log.as_ref()?);
    let first = log.extent.first_ts.filter(|&t| t > up)?;
    let ready = log.ready_after(up)?;
    Some(Finding::note(format!(
        concat!(
            "the slave's ready time {} is before its log's first line ({}); the log says the ",
            "slave was ready at {}, less than a second later (a time noted to the second is up ",
            "to a second early), and 2.42 answers remote write with 503 (retried, no loss) until ",
            "it is ready: the log is taken to hold every refused request from {} on; that ready ",
            "time ({}) is the exact one"
        ),
        fmt_time(up),
        fmt_time(first),
        fmt_time(ready),
        fmt_time(up),
        fmt_time(ready)
    )))
}

/// The WAL part of the report; segments that start as after a master
/// restart become warnings.
pub(super) fn wal_part(
    view: WalView,
    snap: &SnapshotInfo,
    scrape_interval: i64,
    model: &Option<ModelOutput>,
    findings: &mut Vec<Finding>,
) -> WalPart {
    let truncations = model.as_ref().map_or(&[][..], |o| o.truncations.as_slice());
    let live = snap.coverage_end.map(|c| view.live_at(c));
    let restarts = wal::restart_hints(
        &view,
        snap.block_range,
        snap.compaction_delay.unwrap_or(0),
        scrape_interval,
        truncations,
    );
    for h in &restarts {
        findings.push(Finding::warning(format!(
            concat!(
                "master WAL segment {} starts at {} ({} after the previous one's last sample) ",
                "at no size rotation and no head-compaction truncation: a master restart? If it ",
                "came after remote write to the slave started and before the slave caught up, ",
                "give it as a master restart at {} (L6)"
            ),
            h.segment,
            fmt_time(h.at),
            fmt_dur(h.gap),
            fmt_time(h.at)
        )));
    }
    WalPart {
        view,
        coverage_end_in_live_segment: live,
        restarts,
    }
}

/// The snapshot's blocks left out as unreadable.
fn unreadable_blocks(snap: &SnapshotInfo) -> usize {
    snap.findings
        .iter()
        .filter(|f| f.severity == Severity::Error && f.message.starts_with("block "))
        .count()
}

/// What the snapshot itself lacks (holes between blocks, blocks left out
/// as unreadable) the slave lacks too: remote write never re-sends samples
/// older than the coverage end. Said first in the verdict.
pub(super) fn snapshot_loss_first(snap: &SnapshotInfo, verdict: &mut String) {
    let unreadable = unreadable_blocks(snap);
    if snap.holes.is_empty() && unreadable == 0 {
        return;
    }
    let mut parts: Vec<String> = snap
        .holes
        .iter()
        .map(|h| {
            format!(
                "{} → {} ({})",
                fmt_time(h.from),
                fmt_time(h.to),
                fmt_dur(h.to - h.from)
            )
        })
        .collect();
    if unreadable > 0 {
        parts.push(format!(
            concat!(
                "{} unreadable block(s) left out (their range is unknown: the slave may refuse to ",
                "start on them or lack their data)"
            ),
            unreadable
        ));
    }
    let lead = format!(
        concat!(
            "Loss in the snapshot itself: {}; remote write does not fill it (the slave rejects ",
            "samples older than the coverage end)."
        ),
        parts.join("; ")
    );
    let rest = verdict
        .strip_prefix("No real loss")
        .map(|r| format!("Beyond that, no loss from remote write{r}"))
        .unwrap_or_else(|| verdict.clone());
    *verdict = format!("{lead} {rest}");
}

/// The samples the queue takes per scrape from block `b`: 2.42's WAL
/// watcher skips histogram records unless `send_native_histograms` is on
/// (`Watcher.readSegment`, and `QueueManager.AppendHistograms` returns at
/// once), so those samples neither fill a shard's batch
/// (`max_samples_per_send` counts every `timeSeries` a shard holds: float,
/// histogram or float histogram alike) nor its `capacity`; with it on they
/// count one each, like a float sample. `native` is the newest block's
/// count of native histogram series and samples.
pub(super) fn queued_per_scrape(
    b: &super::snapshot::BlockSpan,
    native: Option<&NativeHistograms>,
    send_histograms: bool,
    interval: i64,
    lag: i64,
) -> u64 {
    let (series, samples) = match native {
        Some(n) if !send_histograms && n.block.as_deref() == Some(b.ulid.as_str()) => {
            (n.series.unwrap_or(0), n.samples.unwrap_or(0))
        }
        _ => (0, 0),
    };
    if series == 0 {
        return samples_per_scrape(b, interval, lag);
    }
    let floats = super::snapshot::BlockSpan {
        num_series: b.num_series.saturating_sub(series),
        num_samples: b.num_samples.saturating_sub(samples),
        ..b.clone()
    };
    samples_per_scrape(&floats, interval, lag)
}

/// What the master's log shows that the windows do not model: the reader
/// overtaken ([`overtaken_in_log`]). (The queue started again before the
/// slave was up is taken as a master restart when none is given:
/// `noted::restarts_from_log`.)
pub(super) fn logged(
    opts: &CoverageOptions,
    snap: &SnapshotInfo,
    windows: &[model::LossWindow],
    interval: i64,
) -> Vec<Finding> {
    let c = snap.coverage_end;
    let log = opts.facts.master_log.as_ref().filter(|l| l.decides());
    // One finding for each reader restart after the coverage end: a master
    // restarted during the outage can show the old process's and the new
    // one's.
    let restarts = log.map_or(&[][..], |l| &l.reader_restarts[..]);
    (0..restarts.len())
        .filter_map(|i| overtaken_in_log(opts, c, windows, interval, i))
        .collect()
}

/// The master's log shows the slave's queue's WAL reader failing and
/// restarting ([`super::masterlog::ReaderRestart`]: `error tailing WAL`, in
/// 2.42 the segment after the reader's deleted under it) after the coverage
/// end: 2.42 sends nothing stamped at or before that restart, so what the
/// slave lacked from the reader's position up to it is lost. A note when a
/// window of any cause reaches the master's last sample before that restart
/// (within one scrape interval; a master restart given before it ends its
/// scraping there: an L6 window holds it), else a warning: the windows
/// leave that loss out.
fn overtaken_in_log(
    opts: &CoverageOptions,
    coverage_end: Option<i64>,
    windows: &[model::LossWindow],
    interval: i64,
    nth: usize,
) -> Option<Finding> {
    let log = opts.facts.master_log.as_ref().filter(|l| l.decides())?;
    let c = coverage_end?;
    let o = log
        .reader_restarts
        .get(nth)
        .filter(|o| o.replay_at.unwrap_or(o.error_at) > c)?;
    let until = o.replay_at.unwrap_or(o.error_at);
    // The master's last sample before that restart: none after a master
    // restart given before it (it stopped scraping at the stop).
    let last = opts
        .facts
        .master_restarts
        .iter()
        .copied()
        .filter(|&s| s > c && s < until)
        .min()
        .unwrap_or(until);
    // An L2 window reaching it first (the overtaking's own), else any.
    let reaches = |w: &&model::LossWindow| w.to.saturating_add(interval) >= last;
    let held = (windows.iter())
        .filter(|w| w.cause == model::Cause::L2)
        .find(reaches)
        .or_else(|| windows.iter().filter(|w| w.from <= last).find(reaches));
    let restart = o.replay_at.map_or_else(
        || "its restart is not in the log (2.42 restarts it 5 s later)".to_string(),
        |r| format!("it restarted at {} (`Replaying WAL`)", fmt_time(r)),
    );
    let msg = format!(
        "the master's log shows the slave's queue's WAL reader overtaken: `error tailing WAL` \
         at {} (the segment after the reader's was deleted under it), and {restart}; 2.42 sends \
         nothing stamped at or before that restart, so what the slave lacked from the reader's \
         position up to {} is lost{}",
        fmt_time(o.error_at),
        fmt_time(until),
        match held {
            Some(w) if last < until => format!(
                " (the {:?} window above: the master stopped scraping at its restart at {})",
                w.cause,
                fmt_time(last)
            ),
            Some(w) => format!(" (the {:?} window above)", w.cause),
            None => ": no window above reaches it, so the windows and the verdict leave that \
                     loss out (the master's `wal/` copied when the slave came up dates the \
                     overtaking)"
                .to_string(),
        }
    );
    Some(if held.is_some() {
        Finding::note(msg)
    } else {
        Finding::warning(msg)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coverage::model::{Cause, Certainty, LossWindow};

    /// The finding on the first reader restart after `c`.
    fn first_overtaken(opts: &CoverageOptions, c: i64, w: &[LossWindow]) -> Finding {
        let n = opts
            .facts
            .master_log
            .as_ref()
            .map_or(0, |l| l.reader_restarts.len());
        (0..n)
            .find_map(|i| overtaken_in_log(opts, Some(c), w, 1_000, i))
            .unwrap()
    }

    /// The recorded master's log of a master SIGTERM'd at 16:25:37.313
    /// (given to the second) with its reader overtaken at 16:25:42 and
    /// restarted at 16:25:47: the L6 window the model gave, to the restart
    /// given, holds what the reader lost (the master scraped nothing after
    /// the SIGTERM), so the finding is a note naming it; without the
    /// restart given, or with no window there, a warning that the windows
    /// leave the loss out.
    #[test]
    fn an_overtaken_reader_held_by_a_restarts_window_is_a_note() {
        let log = include_bytes!("../../testdata/master-log/restart-overtaken.log");
        let c = 1_796_660_661_013;
        let stop = 1_796_660_737_999;
        let mut opts = CoverageOptions::default();
        opts.facts.master_log = Some(crate::coverage::masterlog::parse_bytes(log, None));
        opts.facts.master_restarts = vec![stop];
        let l6 = vec![LossWindow::new(
            Cause::L6,
            c,
            stop,
            Certainty::Expected,
            String::new(),
        )];
        let f = first_overtaken(&opts, c, &l6);
        assert_eq!(f.severity, super::super::Severity::Note, "{}", f.message);
        assert!(f.message.contains("the L6 window above"), "{}", f.message);
        assert!(!f.message.contains("leave that loss out"), "{}", f.message);
        // An L2 window reaching it is named before any other.
        let mut both = l6.clone();
        both.push(LossWindow::new(
            Cause::L2,
            c + 1_000,
            stop,
            Certainty::Expected,
            String::new(),
        ));
        let f = first_overtaken(&opts, c, &both);
        assert!(f.message.contains("the L2 window above"), "{}", f.message);
        let f = first_overtaken(&opts, c, &[]);
        assert_eq!(f.severity, super::super::Severity::Warning);
        assert!(f.message.contains("leave that loss out"), "{}", f.message);
        opts.facts.master_restarts.clear();
        let f = first_overtaken(&opts, c, &l6);
        assert_eq!(f.severity, super::super::Severity::Warning);
    }

    /// Run C of the restart recordings: the old process's reader overtaken
    /// (19:29:39.772, its restart 19:29:44.773) and, after the master's
    /// restart, the new one's (19:35:36.862, 19:35:41.864). Each gets its
    /// finding: the second, the loss up to its restart, is not hidden
    /// behind the first.
    #[test]
    fn every_reader_restart_after_the_coverage_end_gets_its_finding() {
        let log = include_bytes!("../../testdata/restart-overtaken/master.log");
        let t = |s: &str| crate::vocab::parse_rfc3339_ms(s).unwrap();
        let c = t("2026-12-07T19:28:00Z");
        let mut opts = CoverageOptions::default();
        opts.facts.master_log = Some(crate::coverage::masterlog::parse_bytes(log, None));
        let found: Vec<Finding> = (0..4)
            .filter_map(|i| overtaken_in_log(&opts, Some(c), &[], 1_000, i))
            .collect();
        assert_eq!(found.len(), 2, "{found:#?}");
        assert!(
            found[0].message.contains("19:29:39.772"),
            "{}",
            found[0].message
        );
        assert!(
            found[1].message.contains("19:35:36.862"),
            "{}",
            found[1].message
        );
        assert!(
            found[1].message.contains("19:35:41.864"),
            "{}",
            found[1].message
        );
    }
}
