//! L1: remote write started after the coverage end.
//!
//! The watcher of a queue that starts at `T_ws` sends only samples newer
//! than its start (`watcher.go` compares each sample's timestamp with the
//! time the watcher was started), so everything the master scraped in
//! `(C_snap, T_ws]` never reaches the slave. A master restarted in that
//! interval scraped nothing from the moment it was told to stop (a SIGTERM
//! interrupts the scrape manager with the other components at once; the
//! slow part of a shutdown, the queues' flush, comes after) until the new
//! process scraped again, and a new process always opens a new WAL segment
//! (the WAL writer starts one past the last on disk). So where the master's `wal/` as
//! observed shows the silence — live segments from before the restart whose
//! newest sample is at or before it, and no segment holding samples on both
//! sides of it — the window is cut there: it claims only samples the master
//! had. Without that evidence the part after the restart is a bound (at
//! most, possibly nothing): the restart's downtime is not on file.

use super::{Cause, Certainty, LossWindow, ModelInput};
use crate::coverage::fmt_time;
use crate::coverage::wal::WalView;

/// The master's silence around a restart at `s`, as its WAL shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Silence {
    /// The newest sample at or before the restart.
    pub(super) last_before: i64,
    /// The oldest sample after it; `None`: none on file up to the observation.
    pub(super) first_after: Option<i64>,
}

/// Reads the silence around `s` from the live segments, when they cover it
/// (the oldest one starts at or before `s`, so no sample around it was
/// folded into a checkpoint or deleted) and none straddles it (a segment
/// with samples on both sides of `s`: the master went on scraping, as after
/// a change of its remote_write block without a restart).
/// `Err(true)`: the master went on scraping across `s`; `Err(false)`: the
/// WAL does not show `s` (nor does a segment cut short at a torn record).
pub(super) fn silence(wal: &WalView, s: i64) -> Result<Silence, bool> {
    if !wal.live_at(s) || s > wal.observed_at {
        return Err(false);
    }
    let ranges = || {
        wal.segments
            .iter()
            .filter_map(|g| Some((g.min_t?, g.max_t?)))
    };
    if ranges().any(|(a, b)| a <= s && s < b) {
        return Err(true);
    }
    let last_before = ranges()
        .map(|(_, b)| b)
        .filter(|&b| b <= s)
        .max()
        .ok_or(false)?;
    // A segment cut short (a torn record: a copy taken while the master
    // wrote it) ends where the copy stopped, not where the master did.
    let cut = wal
        .segments
        .iter()
        .any(|g| g.max_t == Some(last_before) && !g.last_record_ok);
    if cut {
        return Err(false);
    }
    let first_after = ranges().map(|(a, _)| a).filter(|&a| a > s).min();
    Ok(Silence {
        last_before,
        first_after,
    })
}

/// Why the window stops at a restart's silence.
fn silence_why(base: &str, s: i64, q: Silence, observed_at: i64) -> String {
    format!(
        "{base}; the master restarted at {} and its WAL shows no sample from {} to {}: it had \
         nothing to lose there",
        fmt_time(s),
        fmt_time(q.last_before),
        q.first_after.map_or_else(
            || format!("the observation at {}", fmt_time(observed_at)),
            fmt_time
        )
    )
}

/// Why an L1 window is lost, before any restart's part.
fn base_why(inp: &ModelInput, t_ws: i64) -> String {
    if inp.facts.slave_received_until == Some(t_ws) {
        return format!(
            "the slave received the master's remote write until it was stopped at {} to be \
             seeded from the snapshot: what it held after the coverage end went with its replaced \
             data directory, and the queue goes on from where it was, sending none of it again \
             (only samples still pending in a shard at the stop, at most one batch deadline \
             old, are sent again)",
            fmt_time(t_ws)
        );
    }
    let dated = inp.first_sample_range.map_or(String::new(), |(a, b)| {
        format!(
            "; the snapshot holds no block and the master's first sample is not on file: its log \
             dates its start, so the first sample lost is somewhere from {} (its configuration \
             loaded) to {} (the oldest sample on file)",
            fmt_time(a),
            fmt_time(b)
        )
    });
    format!(
        "remote write started at or after the snapshot's coverage end: the watcher never sends \
         samples older than its start{}{dated}",
        if inp.head_included {
            ""
        } else {
            "; without the head block (skip_head) the snapshot ends at the last block boundary"
        }
    )
}

/// The master's restarts in `(c, t_ws)`, in order, each once.
fn restarts_between(inp: &ModelInput, c: i64, t_ws: i64) -> Vec<i64> {
    let mut restarts: Vec<i64> = inp
        .facts
        .master_restarts
        .iter()
        .copied()
        .filter(|&s| s > c && s < t_ws)
        .collect();
    restarts.sort_unstable();
    restarts.dedup();
    restarts
}

/// The L1 windows of a queue started at `t_ws` (at or after the coverage
/// end `c`), cut by the master's restarts in `(c, t_ws)`.
pub(super) fn windows(inp: &ModelInput, c: i64, t_ws: i64) -> Vec<LossWindow> {
    let base = base_why(inp, t_ws);
    let mut out = Vec::new();
    // The part of (c, t_ws] not yet placed: samples from `from` on, from
    // the first scrape after the coverage end on the grids the WAL shows
    // (the first sample lost), else from the coverage end itself. A first
    // scrape after `t_ws` keeps the coverage end: `t_ws` is a time given on
    // another clock, and the window stays rather than vanish; so does a
    // target whose own timestamps lag its scrapes (they may precede it).
    let mut from = first_lost(inp, c, t_ws);
    for s in restarts_between(inp, c, t_ws) {
        if s < from {
            continue; // inside a silence already cut
        }
        let found = inp.wal.as_ref().map(|w| (w, silence(w, s)));
        match found {
            Some((_, Err(true))) => {} // no silence: the window goes on
            Some((w, Ok(q))) => {
                let why = silence_why(&base, s, q, w.observed_at);
                if q.last_before >= from {
                    out.push(LossWindow::new(
                        Cause::L1,
                        from,
                        q.last_before,
                        Certainty::Expected,
                        why.clone(),
                    ));
                }
                match q.first_after {
                    Some(a) => from = a,
                    None if w.observed_at >= t_ws => return out,
                    None => {
                        // Nothing after the restart up to the observation:
                        // what came between it and the queue's start is not
                        // on file.
                        out.push(LossWindow::new(
                            Cause::L1,
                            w.observed_at,
                            t_ws,
                            Certainty::Bound,
                            format!(
                                "{why}; between the observation and the remote-write start ({}) \
                                 the master may have scraped again: at most this",
                                fmt_time(t_ws)
                            ),
                        ));
                        return out;
                    }
                }
            }
            Some((_, Err(false))) | None => {
                out.push(LossWindow::new(
                    Cause::L1,
                    from,
                    s.min(t_ws),
                    Certainty::Expected,
                    format!("{base}, up to the master's restart at {}", fmt_time(s)),
                ));
                out.push(LossWindow::new(
                    Cause::L1,
                    s,
                    t_ws,
                    Certainty::Bound,
                    format!(
                        "{base}; the master restarted at {} and no copy of its WAL shows when it \
                         scraped again: at most this range (nothing while it was down)",
                        fmt_time(s)
                    ),
                ));
                return out;
            }
        }
    }
    if from <= t_ws {
        let mut w = LossWindow::new(Cause::L1, from, t_ws, Certainty::Expected, base);
        // Seeded over: a shard's pending samples at the stop (at most one
        // batch deadline old) are retried into the new slave.
        if inp.facts.slave_received_until == Some(t_ws) {
            let earliest = t_ws.saturating_sub(inp.queue.batch_send_deadline).max(from);
            w.to_earliest = (earliest < t_ws).then_some(earliest);
        }
        given_coarse(inp, &mut w);
        out.push(w);
    }
    out
}

/// An L1 window whose end is a remote write start given coarser than a
/// millisecond (`inp.rw_start`, the range's start; `w.to` its end, the side
/// that never understates): the watcher may have started anywhere in that
/// range, so the last sample lost may be the last scrape before it. The end
/// is given as a range (`to_earliest` that scrape, or the range's start
/// without the scrape grids, … `to`).
fn given_coarse(inp: &ModelInput, w: &mut LossWindow) {
    let coarse = inp.facts.noted.rw_start > 1;
    let Some(x) = inp.rw_start.filter(|&x| coarse && x < w.to && x >= w.from) else {
        return;
    };
    let before = x.saturating_sub(1);
    let last = super::grid::sample_grids(inp)
        .iter()
        .map(|&(i, p)| {
            let i = i.max(1);
            p.saturating_add(before.saturating_sub(p).div_euclid(i).saturating_mul(i))
        })
        .max()
        .unwrap_or(x)
        .clamp(w.from, x);
    w.to_earliest = Some(last);
    w.why = format!(
        "{}; the remote write start was given coarser than a millisecond ({} to {}): the last \
         sample lost is somewhere from the last scrape before it ({}) to the range's end",
        w.why,
        fmt_time(x),
        fmt_time(w.to),
        fmt_time(last)
    );
}

/// The first sample after the coverage end `c` on the WAL's scrape grids
/// when it is no later than `end`, else `c` itself (no grid, a target whose
/// timestamps lag its scrapes, or a first scrape past `end`, which may be a
/// time on another clock: the window stays rather than vanish).
fn first_lost(inp: &ModelInput, c: i64, end: i64) -> i64 {
    inp.scrape_grids
        .as_ref()
        .filter(|g| g.grids.iter().all(|g| g.lag == 0))
        .and_then(|g| g.nth_sample_after(c.saturating_sub(1), 1))
        .map(|x| x.0)
        .filter(|&t| t > c && t <= end)
        .unwrap_or(c)
}

/// The L1 window of a remote write start given coarser than a millisecond
/// (`t_ws`, its range to `end`) before the coverage end `c` whose range
/// reaches it: the watcher may have started after `c` and sent nothing of
/// `(c, end]`. A risk (the start may as well be before `c`: nothing lost),
/// expected when the master's log shows the queue's watcher started in
/// that range after `c` (2.42 logs `Starting WAL watcher` before it takes
/// its start time, so the real start is no earlier than the line). The
/// window runs to the range's end, the side that never understates; with
/// the assumption that names it.
pub(super) fn straddle(inp: &ModelInput, c: i64, t_ws: i64, end: i64) -> (LossWindow, String) {
    let logged = inp.logged_queue_start(end).filter(|&s| s >= t_ws);
    let from = first_lost(inp, c, end);
    let (certainty, decided) = match logged {
        Some(s) if s > c => (
            Certainty::Expected,
            format!(
                "; the master's log shows its WAL watcher started at {}, after the coverage end",
                fmt_time(s)
            ),
        ),
        Some(s) => (
            Certainty::Risk,
            format!(
                "; the master's log shows its WAL watcher starting at {} (the watcher takes its \
                 start time just after that line)",
                fmt_time(s)
            ),
        ),
        None => (Certainty::Risk, String::new()),
    };
    let why = format!(
        "remote write started somewhere from {} to {} (the time given and its range), a range \
         that reaches past the coverage end {}: a watcher started after it never sends the \
         samples after the coverage end{decided}",
        fmt_time(t_ws),
        fmt_time(end),
        fmt_time(c)
    );
    let assumption = format!(
        "the remote write start {} was given coarser than a millisecond and its range reaches \
         past the coverage end {}: remote write may have started after it, an L1 window to the \
         range's end ({}){}",
        fmt_time(t_ws),
        fmt_time(c),
        fmt_time(end),
        if certainty == Certainty::Expected {
            ", expected (the master's log)"
        } else {
            ", a risk (no file dates the start within it)"
        }
    );
    (
        LossWindow::new(Cause::L1, from, end, certainty, why),
        assumption,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coverage::wal::{DEFAULT_SEGMENT_SIZE, SegmentRange};
    use std::path::PathBuf;

    const S: i64 = 1_000;
    const T0: i64 = 1_796_483_000_000;

    use crate::coverage::wal::tests::seg_range as seg;

    /// `C_snap` at T0, a 2 s scrape; the master is stopped at +15 s (last
    /// sample +14 s) and remote write starts at +105 s.
    fn input(segments: Vec<SegmentRange>, observed: i64) -> ModelInput {
        let mut inp = ModelInput::new(60 * S, T0, T0 - 40 * S, T0 + S);
        inp.scrape_interval = 2 * S;
        inp.facts.master_restarts = vec![T0 + 15 * S];
        inp.wal = Some(WalView {
            dir: PathBuf::new(),
            observed_at: observed,
            observed_at_source: String::new(),
            segments,
            checkpoint: None,
            segment_size: DEFAULT_SEGMENT_SIZE,
            findings: vec![],
        });
        inp
    }

    fn spans(w: &[LossWindow]) -> Vec<(i64, i64, Certainty)> {
        w.iter()
            .map(|w| (w.from - T0, w.to - T0, w.certainty))
            .collect()
    }

    /// One target scraped every second, its last sample in the snapshot at
    /// `C_snap - 1 ms`: the L1 window starts at its next scrape (the first
    /// sample lost), not at `C_snap`; without the grid, with an exporter's
    /// lag, or with that scrape after the queue's start, at `C_snap`.
    #[test]
    fn l1_starts_at_the_first_scrape_after_the_coverage_end() {
        use crate::coverage::scrapes::{Schedule, ScrapeGrid};
        let grid = |interval, lag| Schedule {
            grids: vec![ScrapeGrid {
                interval,
                phase: T0 - 1 - 10 * interval,
                series: 400,
                lag,
                first: i64::MIN,
            }],
        };
        let mut inp = input(vec![seg(0, Some((T0 - 40 * S, T0 + 30 * S)))], T0 + 30 * S);
        inp.facts.master_restarts.clear();
        let t_ws = T0 + 20 * S;
        assert_eq!(spans(&windows(&inp, T0, t_ws))[0].0, 0);
        inp.scrape_grids = Some(grid(S, 0));
        assert_eq!(spans(&windows(&inp, T0, t_ws))[0].0, S - 1);
        inp.scrape_grids = Some(grid(S, 5 * S));
        assert_eq!(spans(&windows(&inp, T0, t_ws))[0].0, 0);
        inp.scrape_grids = Some(grid(60 * S, 0));
        assert_eq!(spans(&windows(&inp, T0, t_ws))[0].0, 0);
    }

    /// A remote write start given to the second (+20 s, taken to its end,
    /// +20.999 s): the window's end is a range from the last scrape before
    /// that second (+19.4 s on a one-second grid at .4 s; the second's start
    /// without a grid) to its end; given to the millisecond, no range.
    #[test]
    fn l1_of_a_start_to_the_second_ends_in_a_range_from_the_scrape_before_it() {
        use crate::coverage::scrapes::{Schedule, ScrapeGrid};
        let mut inp = input(vec![seg(0, Some((T0 - 40 * S, T0 + 30 * S)))], T0 + 30 * S);
        inp.facts.master_restarts.clear();
        inp.rw_start = Some(T0 + 20 * S);
        inp.facts.noted.rw_start = S;
        let end = T0 + 21 * S - 1;
        let w = windows(&inp, T0, end);
        assert_eq!((w[0].to_earliest, w[0].to), (Some(T0 + 20 * S), end));
        assert!(
            w[0].why.contains("coarser than a millisecond"),
            "{}",
            w[0].why
        );
        inp.scrape_grids = Some(Schedule {
            grids: vec![ScrapeGrid {
                interval: S,
                phase: T0 - 10 * S + 400,
                series: 400,
                lag: 0,
                first: i64::MIN,
            }],
        });
        let w = windows(&inp, T0, end);
        assert_eq!((w[0].to_earliest, w[0].to), (Some(T0 + 19 * S + 400), end));
        inp.facts.noted.rw_start = 1;
        let w = windows(&inp, T0, T0 + 20 * S);
        assert_eq!(w[0].to_earliest, None);
    }

    /// A slave seeded over after it had received until +20 s: the window is
    /// the wiped part, `(C_snap, +20 s]`, ending no earlier than one batch
    /// deadline before the stop (pending samples are sent again); told so.
    #[test]
    fn a_slave_seeded_over_loses_what_it_received_after_the_coverage_end() {
        let mut inp = input(vec![seg(1, Some((T0 - 40 * S, T0 + 30 * S)))], T0 + 30 * S);
        inp.facts.master_restarts.clear();
        inp.facts.slave_received_until = Some(T0 + 20 * S);
        let w = windows(&inp, T0, T0 + 20 * S);
        assert_eq!(spans(&w), vec![(0, 20 * S, Certainty::Expected)]);
        assert_eq!(
            w[0].to_earliest,
            Some(T0 + 20 * S - inp.queue.batch_send_deadline)
        );
        assert!(
            w[0].why.contains("seeded from the snapshot"),
            "{}",
            w[0].why
        );
        // A plain remote-write start at the same time keeps its own reason.
        inp.facts.slave_received_until = None;
        let w = windows(&inp, T0, T0 + 20 * S);
        assert_eq!(w[0].to_earliest, None);
        assert!(w[0].why.contains("remote write started"), "{}", w[0].why);
    }

    /// An empty seed whose first sample the master's log dates (its range
    /// from +0 to +40 s, the oldest sample on file): the window starts at
    /// the range's start and its why names the range.
    #[test]
    fn an_empty_seeds_dated_first_sample_starts_l1_and_is_named() {
        let mut inp = input(vec![seg(3, Some((T0 + 40 * S, T0 + 60 * S)))], T0 + 60 * S);
        inp.facts.master_restarts.clear();
        inp.seeded_empty = true;
        inp.first_sample_range = Some((T0 + 1, T0 + 40 * S));
        let w = windows(&inp, T0, T0 + 50 * S);
        assert_eq!(spans(&w), vec![(0, 50 * S, Certainty::Expected)]);
        assert!(
            w[0].why.contains("(its configuration loaded)"),
            "{}",
            w[0].why
        );
        inp.first_sample_range = None;
        let w = windows(&inp, T0, T0 + 50 * S);
        assert!(!w[0].why.contains("configuration"), "{}", w[0].why);
    }

    /// The WAL at the queue's start: the restarted master has not scraped
    /// yet (its new segment is empty): L1 ends at its last sample.
    #[test]
    fn restart_silence_ends_the_window() {
        let inp = input(
            vec![
                seg(0, Some((T0 - 40 * S, T0 - 2 * S))),
                seg(1, Some((T0, T0 + 14 * S))),
                seg(2, None),
            ],
            T0 + 105 * S,
        );
        let w = windows(&inp, T0, T0 + 105 * S);
        assert_eq!(spans(&w), vec![(0, 14 * S, Certainty::Expected)]);
    }

    /// An L6 window to a restart given at +85 s whose WAL copy, taken after
    /// it, holds only the new process's segment: no file dates the stop,
    /// the window ends from the coverage end to the time given; a segment
    /// cut at a torn record before the restart shows no silence either.
    #[test]
    fn an_undated_stop_is_an_end_range_and_a_torn_segment_no_silence() {
        let l6 = || LossWindow::new(Cause::L6, T0, T0 + 85 * S, Certainty::Expected, "x".into());
        let inp = input(
            vec![seg(2, Some((T0 + 90 * S, T0 + 104 * S)))],
            T0 + 105 * S,
        );
        let w = super::super::l6_stop::restart_silence(&inp, l6(), &[]).unwrap();
        assert_eq!((w.to_earliest, w.to), (Some(T0), T0 + 85 * S));
        assert!(
            w.why.contains("no file dates when the master stopped"),
            "{}",
            w.why
        );
        let mut torn = seg(1, Some((T0 - 40 * S, T0 + 20 * S)));
        let inp = input(vec![torn.clone()], T0 + 105 * S);
        assert_eq!(
            super::super::l6_stop::restart_silence(&inp, l6(), &[])
                .unwrap()
                .to,
            T0 + 20 * S
        );
        torn.last_record_ok = false;
        let inp = input(vec![torn], T0 + 105 * S);
        let w = super::super::l6_stop::restart_silence(&inp, l6(), &[]).unwrap();
        assert_eq!((w.to_earliest, w.to), (None, T0 + 85 * S));
    }

    /// A restart given as its ready time, with the master's log showing
    /// the SIGTERM before it: the window ends at that stop (no WAL given).
    #[test]
    fn the_logged_stop_ends_a_restarts_window() {
        let log = include_bytes!("../../../testdata/master-log/restart-overtaken.log");
        let mut inp = input(Vec::new(), T0);
        inp.wal = None;
        inp.facts.master_log = Some(crate::coverage::masterlog::parse_bytes(log, None));
        // The queue's `Stopping remote storage...`, 2 ms after the SIGTERM.
        let (stop, ready) = (1_796_660_737_315, 1_796_660_857_447);
        let l6 = |from| LossWindow::new(Cause::L6, from, ready, Certainty::Expected, "x".into());
        let w = super::super::l6_stop::restart_silence(&inp, l6(stop - 60_000), &[]).unwrap();
        assert_eq!(w.to, stop);
        assert!(w.why.contains("Stopping remote storage"), "{}", w.why);
        assert!(super::super::l6_stop::restart_silence(&inp, l6(stop + 1), &[]).is_none());
        inp.facts.master_log = None;
        assert_eq!(
            super::super::l6_stop::restart_silence(&inp, l6(stop - 60_000), &[])
                .unwrap()
                .to,
            ready
        );
    }

    /// Scraping again at +90 s: L1 resumes there, up to the queue's start.
    #[test]
    fn restart_silence_resumes_at_the_first_sample_after() {
        let inp = input(
            vec![
                seg(1, Some((T0 - 40 * S, T0 + 14 * S))),
                seg(2, Some((T0 + 90 * S, T0 + 104 * S))),
            ],
            T0 + 105 * S,
        );
        let w = windows(&inp, T0, T0 + 105 * S);
        assert_eq!(
            spans(&w),
            vec![
                (0, 14 * S, Certainty::Expected),
                (90 * S, 105 * S, Certainty::Expected)
            ]
        );
    }

    /// A segment with samples on both sides of the given time (a change of
    /// the remote_write block, no process restart): nothing to cut.
    #[test]
    fn no_silence_no_cut() {
        let inp = input(
            vec![seg(1, Some((T0 - 40 * S, T0 + 104 * S)))],
            T0 + 105 * S,
        );
        let w = windows(&inp, T0, T0 + 105 * S);
        assert_eq!(spans(&w), vec![(0, 105 * S, Certainty::Expected)]);
    }

    /// Without a WAL copy the downtime is not on file: the part after the
    /// restart is a bound.
    #[test]
    fn no_wal_the_rest_is_a_bound() {
        let mut inp = input(vec![], T0);
        inp.wal = None;
        let w = windows(&inp, T0, T0 + 105 * S);
        assert_eq!(
            spans(&w),
            vec![
                (0, 15 * S, Certainty::Expected),
                (15 * S, 105 * S, Certainty::Bound)
            ]
        );
    }
}
