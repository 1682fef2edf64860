//! L2 after a master restart, from the master's log alone: the restarted
//! process's queue reader failing on a deleted segment once the slave was
//! up shows the overtaking itself, wherever the forecast placed the reader.
//!
//! A restarted master starts a new queue whose reader reads the new
//! process's samples into its blocked buffers and stalls there. Its segment
//! can be deleted while the slave is down, or by a truncation a moment
//! before the slave is up, before the reader has moved on: once the blocked
//! send goes through, the reader finishes its (deleted, still open) segment,
//! fails to open the next (`error tailing WAL`), waits `restart_delay` and
//! starts again from "now" (2.42's `wlog/watcher.go`). The error can come
//! no earlier than the retry after the slave is up, or one restart delay
//! before it (the truncation just before the slave's start, its read of the
//! old segment under way), and no later than the two backoffs and the read
//! of one whole segment at the slowest pace after it: a failure logged in
//! that span is this reader's, and everything it had not read by then, from
//! its stall position up to the logged restart, is lost.

use super::super::{Certainty, LossWindow, ModelInput};
use super::{Overtaking, logged_restart, loss_start, ranged, rest_of_segment, restart_why};
use crate::coverage::fmt_time;
use crate::coverage::queue::READ_RATE_SLOW;

/// The window (see the module's text) when a master restart is given
/// before the slave was up (`up`), the master's log shows the restarted
/// reader failing around the slave's start, and the forecast on the WAL
/// copy places no overtaking by then (none, or a truncation after the
/// failure: the copy's placement of the reader is contradicted); `None`
/// otherwise. `position`: the restarted reader's stall position (the loss
/// starts there, never later: its segment's end is not placed).
pub(super) fn window(
    inp: &ModelInput,
    ov: &Overtaking,
    (t_b, position): (i64, i64),
    up: i64,
) -> Option<LossWindow> {
    inp.wal.as_ref()?;
    let restart = (inp.facts.master_restarts.iter().copied())
        .filter(|&s| s < up)
        .max()?;
    let after = up.saturating_sub(inp.restart_delay).max(restart);
    let l = logged_restart(inp, after)?;
    let (rest, _, _) = rest_of_segment(inp, ov, position);
    let slowest = (rest as f64 / READ_RATE_SLOW * 1000.0) as i64;
    let latest = up
        .saturating_add(inp.queue.max_backoff.saturating_mul(2))
        .saturating_add(slowest);
    // The forecast's overtaking, if any, by the logged failure: the two
    // agree, and the forecast's window stands.
    if l.0 > latest || ov.overtake.is_some_and(|o| o.0 <= l.0) {
        return None;
    }
    let (from, lag) = loss_start(inp, Some(position.saturating_sub(1)), t_b);
    if l.1 < from {
        return None;
    }
    let mut why = format!(
        "the master restarted at {} before the slave was up; its new remote-write reader stalled \
         at {} with the queue's buffers full, and the master's log shows it failing at {} \
         (`error tailing WAL`), {:.1}s after the slave was up at {}: a WAL truncation deleted the \
         segment after the reader's before it got there (the overtaking itself, which the \
         forecast on the WAL copy did not place by then). It finished its segment, failed to \
         open the next, and restarted from 'now': everything after its segment up to that \
         restart is never sent; its segment's end is not placed, so the loss is taken from its \
         stall position (never understating)",
        fmt_time(restart),
        fmt_time(position),
        fmt_time(l.0),
        l.0.saturating_sub(up) as f64 / 1000.0,
        fmt_time(up),
    );
    if let Some(g) = &lag {
        why.push_str(&super::super::grid::lag_why(g));
    }
    why.push_str(&restart_why(inp, l));
    let earliest = l.0.saturating_add(inp.restart_delay).min(l.1);
    Some(ranged(from, (earliest, l.2, l.2), Certainty::Expected, why))
}

#[cfg(test)]
mod tests {
    use super::super::super::{
        Cause, Certainty, Deadline, LossWindow, ModelInput, SECOND, compute,
    };
    use super::{Overtaking, window};
    use crate::coverage::masterlog::{MasterLog, parse_bytes};
    use std::path::PathBuf;

    const M: i64 = 60 * SECOND;
    // The recorded run's own facts (docs/LOSS-WINDOWS.md, run C): the
    // snapshot's head block (its meta.json's range and sample count), the
    // snapshot's time, the remote write's start and the restart's SIGTERM
    // as an operator gives them (to the second: the restart at its end),
    // the slave's ready time (its log).
    const FIRST: i64 = 1_796_671_536_584;
    const HEAD_MIN: i64 = 1_796_671_620_584;
    const C_SNAP: i64 = 1_796_671_700_585;
    const HEAD_SAMPLES: i64 = 33_777;
    const SNAP: i64 = 1_796_671_701_000;
    const RW_START: i64 = 1_796_671_531_000;
    const RESTART: i64 = 1_796_671_777_999;
    const UP: i64 = 1_796_672_131_735;

    fn dir() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/restart-overtaken")
    }

    fn log() -> MasterLog {
        parse_bytes(&std::fs::read(dir().join("master.log")).unwrap(), None)
    }

    /// Run C's question: its master's `wal/` copied when the slave was up,
    /// the restart given, and the master's log when `with_log`.
    fn run_c(with_log: bool) -> ModelInput {
        let mut inp = ModelInput::new(M, C_SNAP, HEAD_MIN, SNAP);
        inp.scrape_interval = SECOND;
        inp.series = Some((HEAD_SAMPLES * SECOND / (C_SNAP - HEAD_MIN)) as u64);
        inp.first_sample = Some(FIRST);
        inp.rw_start = Some(RW_START);
        inp.slave_up = Some(UP);
        inp.wal = Some(crate::coverage::wal::read_wal(&dir().join("wal"), None).unwrap());
        inp.facts.master_restarts = vec![RESTART];
        inp.facts.master_log = with_log.then(log);
        inp
    }

    fn l2(inp: &ModelInput) -> Option<LossWindow> {
        let out = compute(inp);
        out.loss_windows.into_iter().find(|w| w.cause == Cause::L2)
    }

    /// The forecast on the copy placing the restarted reader in its oldest
    /// live segment (08: its first sample taken as the first after the
    /// restart, as before the deleted segments were accounted for) and the
    /// overtaking at a truncation two minutes after the slave was up: the
    /// reader's failure logged 5 s after the slave was up contradicts it
    /// and is the overtaking, an expected L2 window from that position to
    /// the reader's logged restart (`Replaying WAL`). A forecast overtaking
    /// by the failure leaves the forecast's window; so does no WAL copy.
    #[test]
    fn a_restarted_readers_failure_logged_after_the_slave_is_up_is_the_overtaking() {
        let log = log();
        let failed = log.reader_restarts.last().copied().unwrap();
        assert!(failed.error_at > UP && failed.error_at < UP + 2 * 5 * SECOND);
        let inp = run_c(true);
        let wal = inp.wal.as_ref().unwrap();
        let seg8 = &wal.segments[0];
        assert_eq!(seg8.index, 8);
        let position = seg8.min_t.unwrap() + 8 * SECOND;
        let forecast = |d: i64| Overtaking {
            deadline: Deadline {
                at: d,
                latest: d,
                watcher_position: position,
                basis: "wal".into(),
                why: String::new(),
            },
            overtake: Some((d, C_SNAP, seg8.max_t)),
            watcher_segment: Some((8, seg8.max_t)),
            undecided: false,
        };
        let late = forecast(UP + 2 * M);
        let w = window(&inp, &late, (RESTART, position), UP).expect("an L2 window");
        assert_eq!(w.certainty, Certainty::Expected, "{}", w.why);
        assert_eq!((w.from, w.to), (position, failed.replay_at.unwrap()));
        assert!(w.why.contains("error tailing WAL"), "{}", w.why);
        assert!(window(&inp, &forecast(UP - SECOND), (RESTART, position), UP).is_none());
        let mut no_wal = run_c(true);
        no_wal.wal = None;
        assert!(window(&no_wal, &late, (RESTART, position), UP).is_none());
        assert!(window(&run_c(false), &late, (RESTART, position), UP).is_none());
    }

    /// Without the master's log the copy (segments 8–10, `checkpoint.00000007`)
    /// holds no sample between the restart and segment 8's first: the
    /// restarted reader is placed from the first scrape after the restart
    /// given (the earliest), never in segment 8; with the log, from the
    /// restarted queue's start it shows (`Starting WAL watcher`), in the
    /// segment the log's compactions bound, whose end starts the loss.
    #[test]
    fn the_restarted_reader_is_not_placed_after_the_deleted_segments() {
        let oldest_live = 1_796_672_012_584; // segment 8's first sample
        for with_log in [false, true] {
            let inp = run_c(with_log);
            assert_eq!(inp.wal.as_ref().unwrap().live_range().0, Some(oldest_live));
            let out = compute(&inp);
            let stall = (out.assumptions.iter())
                .find(|a| a.contains("remote-write reader forwards samples newer than"))
                .unwrap();
            assert!(stall.contains("on the scrape grid"), "{stall}");
            let why = (out.assumptions.iter())
                .find(|a| a.contains("may have held the master's samples"))
                .unwrap();
            assert!(why.contains("at the earliest"), "{why}");
            // No file dates the first sample: a risk, unless the log
            // shows the overtaking.
            let w = l2(&inp).expect("an L2 window");
            assert!(w.from > RESTART && w.from < oldest_live, "{}", w.why);
            let certainty = if with_log {
                Certainty::Expected
            } else {
                Certainty::Risk
            };
            assert_eq!(w.certainty, certainty, "{}", w.why);
        }
        // The log's queue start (19:31:37.897) and its compactions: the
        // reader in the segment the compaction at 19:32:44.795 closed; the
        // loss from the first scrape after it, to the logged restart.
        let log = log();
        let queue = log.starts.last().copied().unwrap();
        let closed = (log.tsdb.head_compactions.iter().map(|c| c.at))
            .find(|&t| t > queue + 10 * SECOND)
            .unwrap();
        let w = l2(&run_c(true)).unwrap();
        assert!(w.from >= closed && w.from <= closed + SECOND, "{}", w.why);
        assert_eq!(w.to, log.reader_restarts.last().unwrap().replay_at.unwrap());
    }
}
