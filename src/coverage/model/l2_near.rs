//! L2 for a slave up shortly before the deadline: the catch-up it still
//! needs may not be through when the overtaking truncation comes.
//!
//! The reader is safe once it has opened the segment after its own: a
//! truncation deletes the files, and a reader holding one open reads it to
//! the end (2.42's `wlog/watcher.go` opens each segment by name when it
//! moves on to it). To get there from its stall once the slave is up, three
//! things happen in turn, each on a timer no file records the phase of:
//! - the shard's blocked send goes out at its next retry, up to
//!   `max_backoff` after the slave is ready (`sendSamplesWithBackoff`);
//! - the reader, asleep in `QueueManager.Append`'s enqueue backoff (5 ms
//!   doubling to `max_backoff`, on its own phase since it stalled), wakes up
//!   to `max_backoff` after the shard has room;
//! - it reads the rest of its segment as fast as the shards send it.
//!
//! If the truncation that deletes the next segment (the deadline) comes
//! before the reader opens it, the reader finishes its (deleted, still
//! open) segment, fails to open the next (`error tailing WAL`), waits 5 s
//! and starts again from "now": the whole outage after its segment is lost,
//! exactly as for a slave up after the deadline. When the latest the files
//! allow for the three steps reaches the deadline, that is a risk; the
//! master's log showing the reader's failure after the slave was up makes it
//! what happened.

use super::super::{Certainty, LossWindow, ModelInput, SECOND};
use super::{
    Overtaking, expected_drain, latest_read, logged_restart, loss_start, ranged, rest_of_segment,
    restart_why,
};
use crate::coverage::fmt_time;
use crate::coverage::queue::{self, READ_PERIOD, READ_RATE, READ_RATE_SLOW, Stall};

/// The overtaking truncation `(D, the reader's segment's end)` when the
/// slave was up before it: the WAL's simulation's, or without the WAL the
/// deadline the rule forecasts.
pub(super) fn deadline_after(
    inp: &ModelInput,
    ov: &Overtaking,
    up: i64,
) -> Option<(i64, Option<i64>)> {
    let (d, seg_end) = match ov.overtake {
        Some((d, _, seg_end)) => (d, seg_end),
        None if inp.wal.is_none() => (ov.deadline.at, None),
        None => return None,
    };
    (up < d && d != i64::MAX).then_some((d, seg_end))
}

/// The window (see the module's text), or `None` when even the slowest
/// catch-up the files allow opens the next segment before `d`.
pub(super) fn window(
    inp: &ModelInput,
    ov: &Overtaking,
    (t_b, position, stall): (i64, i64, Option<Stall>),
    up: i64,
    d: i64,
    seg_end: Option<i64>,
) -> Option<LossWindow> {
    let q = &inp.queue;
    let (from, lag) = loss_start(inp, seg_end, t_b);
    let (rest, how, placed) = rest_of_segment(inp, ov, position);
    // The latest: both waits whole, then the rest at one shard's slowest
    // pace, with the shards the queue's reshard rule gives after its tick.
    let (latest_open, slowest) = latest_read(inp, stall, (t_b, up), rest);
    let logged = logged_restart(inp, up).filter(|l| l.1 >= from);
    // A master's log that reaches past `d` with no failure of the reader
    // shows it opened the next segment by then, or not before the log ends.
    let quiet_until = (inp.facts.master_log.as_ref())
        .filter(|l| l.decides() && l.reader_restarts.iter().all(|r| r.error_at < up))
        .and_then(|l| l.extent.reaches())
        .unwrap_or(i64::MIN);
    let fails_from = d.max(quiet_until);
    if logged.is_none() && fails_from > latest_open {
        return None;
    }
    let expected_open = expected_open(inp, stall, (t_b, up), rest, placed);
    let open = |t: i64| {
        t.clamp(fails_from, latest_open.max(fails_from))
            .saturating_add(inp.restart_delay)
    };
    let (to_earliest, to_expected, to) = logged.map_or(
        (open(fails_from), open(expected_open), open(latest_open)),
        |l| (l.0.saturating_add(inp.restart_delay).min(l.1), l.2, l.2),
    );
    let mut why = format!(
        "the slave was up at {}, {:.1}s before the master's WAL truncation at {} that deletes the \
         segment after the stalled remote-write reader's: the reader is safe only once it has \
         opened that segment, after its blocked send's retry (up to {}s after the slave is up), \
         its own wake-up in the queue's enqueue backoff (up to {}s after that; neither phase is in \
         any file) and the send of the rest of its segment, about {rest} samples ({how}; expected \
         by {}, up to {:.1}s at {} samples/s a shard with the shards the queue's reshard rule \
         gives). Opened after the truncation, the next segment is gone: the reader fails, waits \
         {}s and restarts from 'now', and everything after its segment up to the restart is never \
         sent",
        fmt_time(up),
        d.saturating_sub(up) as f64 / 1000.0,
        fmt_time(d),
        q.max_backoff / SECOND,
        q.max_backoff / SECOND,
        fmt_time(expected_open),
        slowest as f64 / 1000.0,
        READ_RATE_SLOW as u64,
        inp.restart_delay / SECOND,
    );
    why.push_str(&super::super::grid::dating(inp, d));
    if let Some(l) = &lag {
        why.push_str(&super::super::grid::lag_why(l));
    }
    let misplaced = logged.is_some_and(|l| l.0 < d) && log_dates(inp, d);
    why.push_str(&logged_why(inp, logged, (quiet_until, d), misplaced));
    let certainty = if logged.is_some() && !misplaced {
        Certainty::Expected
    } else {
        Certainty::Risk
    };
    (to >= from).then(|| ranged(from, (to_earliest, to_expected, to), certainty, why))
}

/// Whether the master's log dates the truncation at `d` itself (its TSDB
/// lines span it): a reader failure logged before `d` then belongs to an
/// earlier truncation, and the reader was not where the window places it.
fn log_dates(inp: &ModelInput, d: i64) -> bool {
    (inp.facts.master_log.as_ref())
        .and_then(|l| l.truncation_span())
        .is_some_and(|(a, b)| a <= d && d <= b)
}

/// What the master's log says of the reader's failure (`logged`), for
/// the window's why; `quiet_until` where a log with no failure ends.
fn logged_why(
    inp: &ModelInput,
    logged: Option<(i64, i64, i64)>,
    (quiet_until, d): (i64, i64),
    misplaced: bool,
) -> String {
    match logged {
        Some(l) if misplaced => format!(
            "; the master's log shows the reader failing at {}, before the truncation at {} \
             (the log's own): an earlier truncation deleted the segment after the reader's, so \
             the reader was not where this window places it (a risk: the window of the reader \
             as placed elsewhere, if any, holds that loss)",
            fmt_time(l.0),
            fmt_time(d)
        ),
        Some(l) if l.0 < d => format!(
            "{}; it failed before the forecast truncation at {}: an earlier one deleted the \
             segment after its own (the forecast placed that truncation late)",
            restart_why(inp, l),
            fmt_time(d)
        ),
        Some(l) => restart_why(inp, l),
        None if quiet_until > d => format!(
            "; the master's log shows no failure of the reader up to {}, where it ends",
            fmt_time(quiet_until)
        ),
        None => {
            "; the master's log (`error tailing WAL` after the slave's start, or none) decides it"
                .into()
        }
    }
}

/// When the reader is expected to open the segment after its own: its
/// send's retry and its own wake-up on the phases the stall gives, then the
/// rest of its segment at the expected pace (half a whole segment where its
/// end is not placed); without a stall, one backoff and the expected pace.
fn expected_open(
    inp: &ModelInput,
    stall: Option<Stall>,
    (t_b, up): (i64, i64),
    rest: u64,
    placed: bool,
) -> i64 {
    let q = &inp.queue;
    let expected_rest = if placed { rest } else { rest / 2 };
    match stall {
        Some(st) => {
            let r = queue::next_retry(q, st.first_send, up.max(st.first_send));
            let wake = queue::next_wake(q, st.position.saturating_add(READ_PERIOD), r);
            wake.saturating_add(expected_drain(inp, &st, t_b, r, expected_rest).0)
        }
        None => up
            .saturating_add(q.max_backoff)
            .saturating_add((expected_rest as f64 / READ_RATE * 1000.0) as i64),
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::{Cause, Certainty, ModelInput, SECOND, compute};

    const M: i64 = 60 * SECOND;
    const H: i64 = 60 * M;
    const DAY: i64 = 24 * H;

    /// 2h blocks, the coverage end 02:55, remote write since 00:30: the
    /// 03:00 truncation overtakes a reader still stalled then. No WAL, no
    /// log: the rest of the reader's segment is at most one block range of
    /// 100 series at 15 s (48 100 samples, 4.81 s at the slowest pace).
    fn l2_with_slave_up(up: i64) -> Option<super::super::super::LossWindow> {
        let mut inp = ModelInput::new(2 * H, DAY + 2 * H + 55 * M, DAY, DAY + 2 * H + 55 * M);
        inp.series = Some(100);
        inp.rw_start = Some(DAY + 30 * M);
        inp.slave_up = Some(up);
        let out = compute(&inp);
        assert_eq!(out.deadline.at, DAY + 3 * H);
        out.loss_windows.into_iter().find(|w| w.cause == Cause::L2)
    }

    #[test]
    fn a_slave_up_seconds_before_the_deadline_risks_the_overtaking() {
        let up = DAY + 3 * H - 5 * SECOND;
        let w = l2_with_slave_up(up).expect("an L2 risk");
        assert_eq!(w.certainty, Certainty::Risk);
        // From the master's first scrape after the coverage end.
        assert_eq!(w.from, DAY + 2 * H + 55 * M - 1 + 15 * SECOND);
        // The reader fails no earlier than the truncation, and restarts 5 s
        // after; at the latest after two backoffs and the slowest read.
        assert_eq!(w.to_earliest, Some(DAY + 3 * H + 5 * SECOND));
        assert_eq!(w.to, up + 10 * SECOND + 4_810 + 5 * SECOND);
        assert!(
            w.why.contains("before the master's WAL truncation"),
            "{}",
            w.why
        );
    }

    #[test]
    fn a_slave_up_long_enough_before_the_deadline_risks_nothing() {
        // Two backoffs and the slowest read (14.81 s) end before 03:00.
        assert!(l2_with_slave_up(DAY + 3 * H - 15 * SECOND).is_none());
        assert!(l2_with_slave_up(DAY + 3 * H - 14 * SECOND).is_some());
    }
}
