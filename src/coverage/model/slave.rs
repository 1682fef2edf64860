//! The slave's side as the operator gives it: its restarts after it was
//! first up, and its out-of-order time window.

use super::{ModelInput, SECOND};
use crate::coverage::queue::{self, SHARD_UPDATE, Stall};
use crate::coverage::{fmt_dur, fmt_time};

/// The input with the slave's ready time moved to a restart's, when the
/// queue's blocked send made no attempt while the slave was first up: it
/// retries every `max_backoff` from its first attempt
/// (`sendWriteRequestWithBackoff`, storage/remote/queue_manager.go), so a
/// slave up and stopped again between two retries received nothing, and
/// the catch-up starts with the first retry after its next ready time. A
/// retry inside the first up period starts the catch-up there; a restart
/// during the catch-up is not modelled (the answer says so). `None` when
/// nothing moves.
pub(super) fn restarted(inp: &ModelInput, st: &Stall) -> Option<(ModelInput, String)> {
    let mut up = inp.slave_up?;
    let mut restarts = inp.facts.slave_restarts.clone();
    restarts.sort_unstable();
    let mut moved = Vec::new();
    for &(stopped, ready) in &restarts {
        if stopped < up || ready <= up {
            continue;
        }
        let r = queue::next_retry(&inp.queue, st.first_send, up);
        if r < stopped {
            break;
        }
        moved.push((up, stopped, r));
        up = ready;
    }
    let &(first_up, _, _) = moved.first()?;
    let mut out = inp.clone();
    out.slave_up = Some(up);
    let periods: Vec<String> = moved
        .iter()
        .map(|(u, s, r)| {
            format!(
                "{} … {} (next retry {})",
                fmt_time(*u),
                fmt_time(*s),
                fmt_time(*r)
            )
        })
        .collect();
    Some((
        out,
        format!(
            "the slave was up from {} but stopped before the queue's blocked send retried (every \
             {} from its first attempt): {}; the catch-up starts from its ready time {}, taken as \
             the slave's start",
            fmt_time(first_up),
            fmt_dur(inp.queue.max_backoff),
            periods.join("; "),
            fmt_time(up)
        ),
    ))
}

/// True when the slave's out-of-order window takes every sample the queue
/// sends older than the coverage end, so no boundary sliver (L3, L4, the
/// samples of a lagging exporter) is lost. With a window, the slave's head
/// takes a sample older than its minimum valid time (the coverage end) as
/// out of order if it is within the window of its newest sample
/// (`memSeries.appendable`, tsdb/head_append.go, 2.42): none is refused
/// when the window spans from the oldest sample the queue sends (the
/// reader's start) to the newest the slave can hold by the end of the
/// catch-up: the slave's start plus two retry backoffs, a reshard tick and
/// a batch deadline (the latest a resharded catch-up sends its crossing
/// batch), plus the catch-up time given. A shorter window keeps the
/// slivers as without one (the answer says so).
pub(super) fn ooo_accepts(inp: &ModelInput, t_b: i64, assumptions: &mut Vec<String>) -> bool {
    let w = inp.facts.slave_ooo_window.unwrap_or(0);
    if w <= 0 {
        assumptions.push(
            "no out_of_order_time_window on the slave (none given; 2.42's default 0): it refuses \
             every sample older than the coverage end"
                .into(),
        );
        return false;
    }
    let Some(up) = inp.slave_up else {
        return false;
    };
    let q = &inp.queue;
    let newest = up.max(inp.coverage_end)
        + 2 * q.max_backoff
        + SHARD_UPDATE
        + q.batch_send_deadline
        + inp.facts.catch_up.unwrap_or(0);
    let span = newest - t_b;
    let ok = span <= w;
    assumptions.push(if ok {
        format!(
            "the slave's out_of_order_time_window {} spans the samples the queue sends, from {} \
             to the newest the slave can hold by the end of the catch-up ({}, {:.0} s): it takes \
             those older than the coverage end out of order, so no boundary sliver (L3, L4) is \
             lost",
            fmt_dur(w),
            fmt_time(t_b),
            fmt_time(newest),
            span as f64 / SECOND as f64
        )
    } else {
        format!(
            "the slave's out_of_order_time_window {} is shorter than the span of the samples the \
             queue sends ({} … {}): the boundary slivers are those of a slave without it (an \
             upper bound)",
            fmt_dur(w),
            fmt_time(t_b),
            fmt_time(newest)
        )
    });
    ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(up: i64) -> (ModelInput, Stall) {
        let mut inp = ModelInput::new(60_000, 100_000, 40_000, 100_500);
        inp.slave_up = Some(up);
        inp.scrape_interval = 1_000;
        let st = queue::stall(&inp.queue, 0, 1_000, 1_305, 1_000);
        (inp, st)
    }

    /// s1300-srestart-soon's shape: the slave up, killed 1.4 s later between
    /// two retries of the blocked send (every 5 s), up again: the catch-up
    /// starts at the second ready time. A retry inside the first up period
    /// keeps the first.
    #[test]
    fn restart_between_retries_moves_the_start() {
        let (mut inp, st) = input(105_000);
        let r = queue::next_retry(&inp.queue, st.first_send, 105_000);
        assert!(r >= 105_000);
        inp.facts.slave_restarts = vec![(r - 1, r + 6_000)];
        let (moved, why) = restarted(&inp, &st).unwrap();
        assert_eq!(moved.slave_up, Some(r + 6_000));
        // Judged again from the new start, the restart is past.
        assert!(restarted(&moved, &st).is_none());
        assert!(why.contains("stopped before the queue's blocked send retried"));
        inp.facts.slave_restarts = vec![(r + 1, r + 6_000)];
        assert!(restarted(&inp, &st).is_none());
        inp.facts.slave_restarts.clear();
        assert!(restarted(&inp, &st).is_none());
    }

    /// A window over the whole backlog and catch-up takes every old sample;
    /// a shorter one, or none, keeps the slivers.
    #[test]
    fn ooo_window_must_span_the_catch_up() {
        let (mut inp, _) = input(105_000);
        let mut a = Vec::new();
        assert!(!ooo_accepts(&inp, 0, &mut a));
        assert!(a[0].contains("no out_of_order_time_window"));
        inp.facts.slave_ooo_window = Some(600_000);
        assert!(ooo_accepts(&inp, 0, &mut a));
        // 105 s + 2 × 5 s + 10 s + 5 s = 130 s of samples to span.
        inp.facts.slave_ooo_window = Some(129_999);
        assert!(!ooo_accepts(&inp, 0, &mut a));
        inp.facts.slave_ooo_window = Some(130_000);
        assert!(ooo_accepts(&inp, 0, &mut a));
    }
}
