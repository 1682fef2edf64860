//! L3 and L4: the boundary slivers, when remote write crosses the coverage
//! end (no L1, no L2).

use super::{Cause, Certainty, LossWindow, ModelInput, SlaveRangeUse, reshard};
use crate::coverage::queue::{self, Stall};

/// The sliver windows (L3 from the queue's crossing batch, L4 with several
/// scrape targets) into `windows`.
pub(super) fn windows(
    inp: &ModelInput,
    t_b: i64,
    stall: Option<Stall>,
    phase_known: bool,
    windows: &mut Vec<LossWindow>,
    assumptions: &mut Vec<String>,
) {
    let c0 = inp.coverage_end;
    // Samples stamped before their scrape: the queue meets the last sample
    // older than the coverage end `lag` later in the WAL (`grid::lag`).
    let lag = super::grid::lag(inp);
    let c = c0 + lag.map_or(0, |l| l.lag);
    let series = inp.series.filter(|&n| n > 0);
    let q = &inp.queue;
    let b = q.max_samples_per_send;
    let before = windows.len();
    let mut risk = None;
    let mut logged = reshard::Logged::Unknown;
    let mut resharded_risk = None;
    let mut crossing = None;
    match (series, inp.slave_up, stall) {
        (Some(n), Some(up), Some(st)) => {
            let t_q = tick_origin(inp, t_b, up);
            let late = tick_late(inp, t_q, t_b);
            let mut cr = crossing_at(inp, st, (t_q, late), c, up, n, phase_known);
            if let Some(b) = late_start_bound(inp, (t_b, t_q), c, up, n)
                && cr.bound_end > cr.expected_end
            {
                cr.bound_end = cr.bound_end.max(b);
            }
            let tick = queue::next_tick(t_q, queue::next_retry(q, st.first_send, up));
            let all_lag = every_shard_lags(inp, up, n, cr.catch_up_shards);
            risk = lagging_shard(inp, up, n, cr.catch_up_shards, tick, all_lag);
            (logged, resharded_risk) = reshard::decide(inp, &cr, &st, up, n, assumptions);
            if resharded_risk.is_some() || logged != reshard::Logged::Unknown {
                // The resharded catch-up's window holds the one-shard lag,
                // or the log decides it.
                risk = None;
            }
            crossing_windows(&cr, c, n, b, lag.is_some(), windows, assumptions);
            crossing = Some(cr);
        }
        _ => windows.push(bound_window(inp, series)),
    }
    if let (Some(cr), Some(n), Some(up), Some(st)) = (&crossing, series, inp.slave_up, stall) {
        reshard::apply(inp, logged, cr, &st, up, n, windows, before);
    }
    windows.extend(resharded_risk);
    if let Some(l) = lag {
        shift_to_lag(&mut windows[before..], &l);
        // The expected window is the un-resharded batch: no reshard
        // expected, or one whose tick is undecided, and none logged before
        // the crossing could be sent.
        let one_path = crossing.as_ref().is_some_and(|cr| {
            (!cr.resharded || cr.undecided_short.is_some())
                && !matches!(logged, reshard::Logged::Reshard(r) if r.at < cr.cross_from)
        });
        if let (true, Some(n)) = (one_path, series) {
            cap_lagged(inp, &mut windows[before..], &l, n);
        }
    }
    windows.extend(risk);
    // A window read against half the slave's block range, the master's
    // taken for it: say so.
    if inp.facts.slave_block_range.is_none()
        && windows[before..].iter().any(|w| w.slave_range.half_range)
    {
        assumptions.push(reshard::slave_range_assumption(inp));
    }
    if inp.head_included {
        super::l4::isolation_race(inp, windows, assumptions);
    }
}

/// The crossing of the queue started at `t_q` (its reshard ticks up to
/// `late` later) with the reader stalled at `st`.
fn crossing_at(
    inp: &ModelInput,
    st: Stall,
    (t_q, late): (i64, i64),
    c: i64,
    up: i64,
    n: u64,
    phase_known: bool,
) -> queue::Crossing {
    queue::crossing_with_unsent(
        &inp.queue,
        &logged_first_batch(inp, st, t_q, c),
        t_q,
        c,
        up,
        queue::Reads {
            series: n,
            unsent: inp.unsent_per_scrape,
            before_c: read_before_c(inp, &st, c),
            tick_late: late,
        },
        inp.scrape_interval,
        phase_known,
        inp.scrape_grids.as_ref().filter(|g| g.grids.len() > 1),
    )
}

/// The other path's latest end over the range of a remote-write start
/// given coarser than a millisecond (`noted`): the queue's timers (the
/// shards' `batch_send_deadline`, the backoff retries, the 10 s reshard
/// ticks) run from its start, so the first retry after the slave's start,
/// and with it the resharded catch-up's end, rise with the start and drop
/// by a step where a retry passes the slave's start: the end can peak
/// anywhere in the range. Taken at its end and every `LATE_STEP` (at most
/// `LATE_SAMPLES` points) before it, the latest. `None` when the start is
/// exact or the master's log dates the queue's start.
fn late_start_bound(
    inp: &ModelInput,
    (t_b, t_q): (i64, i64),
    c: i64,
    up: i64,
    n: u64,
) -> Option<i64> {
    let w = inp.facts.noted.rw_start;
    if w <= 1 || inp.rw_start != Some(t_b) || t_q != t_b {
        return None;
    }
    let late = crate::coverage::noted::late(w);
    let step = (late / LATE_SAMPLES).max(LATE_STEP);
    let at = |d: i64| {
        let t = t_b.saturating_add(d);
        let (first_after, phase_known) = super::grid::first_sample_after(inp, t);
        let st = super::reader_stall(inp, t, first_after, phase_known, n);
        let cr = crossing_at(inp, st, (t, 0), c, up, n, phase_known);
        cr.bound_end.max(cr.expected_end)
    };
    (1..=late / step)
        .map(|k| k * step)
        .chain(std::iter::once(late))
        .map(at)
        .max()
}

/// The finest step of `late_start_bound` (ms): the resharded end follows
/// the start within a step, so a peak is missed by less than it.
const LATE_STEP: i64 = 10;

/// The most points `late_start_bound` takes in a range.
const LATE_SAMPLES: i64 = 200;

/// The samples the reader forwarded before `c`, when the snapshot's blocks
/// hold exactly those. A snapshot without its head block (`skip_head`)
/// ends at its newest block's end, written by a head compaction half a
/// block range after it, when every scrape before it had been committed
/// (a later sample older than it is out of bounds, never in the WAL): its
/// blocks hold every sample the master appended before `c`. A snapshot
/// with its head block holds every sample committed when it read the head
/// (`RangeHead` up to the newest one, `c`); a sample older than `c`
/// committed after the read is a scrape in flight then (the isolation
/// race, `l4.rs`), so the count is exact where the head block's `up`
/// samples show none (every target's next scrape stamped after `c`, or
/// its loop stopped). A reader whose first sample is the oldest on file
/// forwarded them all, provided it sends every one (no native histogram
/// skipped) and `c` is the coverage end itself (no target's samples
/// stamped before their scrape), and no block is missing (a hole, or one
/// left out as unreadable).
fn read_before_c(inp: &ModelInput, st: &Stall, c: i64) -> Option<u64> {
    let none_in_flight = || {
        inp.up_tails.as_deref().is_some_and(|t| {
            !t.is_empty()
                && t.iter().all(|t| {
                    matches!(
                        super::l4::fate(t, c, inp.scrape_timeout).1,
                        super::l4::Fate::After(_) | super::l4::Fate::Stopped
                    )
                })
        })
    };
    (inp.blocks_whole
        && c == inp.coverage_end
        && inp.unsent_per_scrape == 0
        && inp.first_sample == Some(st.first_sample)
        && (!inp.head_included || none_in_flight()))
    .then(|| {
        inp.blocks
            .iter()
            .filter(|b| b.max_time <= c)
            .fold(0u64, |n, b| n.saturating_add(b.num_samples))
    })
}

/// The stalled queue's first batch as the master's log shows it: with
/// one shard, the first request answered after the queue's start (`t_q`)
/// is the batch its send held through the outage, refused whole when the
/// reader stalled before the coverage end, and its `non-recoverable
/// error` line gives its `count` (the first such line since the start:
/// 2.42's one-minute de-duplication drops only a line equal to one logged
/// before). The deadline can cut that batch short of `max_samples_per_send`
/// at whatever the first scrapes held, which the files project from
/// today's series; every later batch is full until the crossing.
fn logged_first_batch(inp: &ModelInput, st: Stall, t_q: i64, c: i64) -> Stall {
    let q = &inp.queue;
    let logged = inp
        .facts
        .master_log
        .as_ref()
        .filter(|l| l.decides() && q.min_shards == 1 && st.position < c)
        .and_then(|l| l.refusals.iter().find(|r| r.at >= t_q))
        .map(|r| r.samples)
        .filter(|&n| n > 0 && n <= q.max_samples_per_send);
    logged.map_or(st, |n| Stall {
        first_batch: n,
        ..st
    })
}

/// How much later than `t_q` the queue's reshard ticks may come: a
/// remote-write start given to the second (no milliseconds, or noted so:
/// `noted`; to the minute, a minute), and not
/// placed by the master's log, is a time noted to the second, up to a
/// second before the queue started (`slavelog::READY_SLACK`, as for a
/// ready time); 0 otherwise.
fn tick_late(inp: &ModelInput, t_q: i64, t_b: i64) -> i64 {
    let given = inp.rw_start == Some(t_b) && t_q == t_b;
    let noted = inp.facts.noted.rw_start;
    if given && noted > 1 {
        // Given coarser than a millisecond: up to that much later.
        noted
    } else if given && t_b.rem_euclid(1_000) == 0 {
        crate::coverage::slavelog::READY_SLACK
    } else {
        0
    }
}

/// The origin of the queue's reshard ticks: its start as the master's log
/// shows it (`Starting WAL watcher`, right before `updateShardsLoop`
/// starts its 10 s ticker), the latest before the slave's start; without
/// that line, the remote-write start the files give (`t_b`), which comes
/// before the watcher's start by the time the queue takes to start.
fn tick_origin(inp: &ModelInput, t_b: i64, up: i64) -> i64 {
    inp.logged_queue_start(up).unwrap_or(t_b)
}

/// The crossing batch's windows (the crossing model's paths).
fn crossing_windows(
    cr: &queue::Crossing,
    c: i64,
    n: u64,
    b: u64,
    lagged: bool,
    windows: &mut Vec<LossWindow>,
    assumptions: &mut Vec<String>,
) {
    if cr.expected_end < c && lagged {
        // The crossing batch costs nothing, the lagged scrapes before it
        // everything.
        windows.push(LossWindow::new(
            Cause::L3,
            c,
            c - 1,
            Certainty::Expected,
            format!("{} ({})", LAGGED_SCRAPES, cr.why),
        ));
    } else if cr.expected_end < c {
        assumptions.push(format!(
            "the batch that crosses the coverage end is expected to end exactly there: no L3 \
             sliver ({}); at most until {} otherwise",
            cr.why,
            crate::coverage::fmt_time(cr.bound_end)
        ));
    } else if let Some((from, to, short_series)) = cr.undecided_short {
        undecided(windows, cr, c, n, b, from, to, short_series);
    } else if cr.series != Some(0) {
        // A crossing batch that costs no series (it ends on a scrape
        // boundary) is no window.
        windows.push(crossing_window(cr, c, n, b));
    }
}

/// The crossing windows of a lagging target (`grid::lag`): they start with
/// its first sample the snapshot lacks and hold every scrape up to the last
/// one with a sample before the coverage end, with all its series.
fn shift_to_lag(windows: &mut [LossWindow], l: &super::grid::Lag) {
    for w in windows {
        w.from = l.first;
        // The last lagged scrape's record ends with the scrape's own
        // series, stamped at or after the coverage end: the batch holding
        // its last old sample can end there, and the crossing cost nothing
        // more.
        w.to = w.to.max(l.last);
        if w.certainty != Certainty::Risk {
            w.to_earliest = Some(w.to_earliest.unwrap_or(w.to).min(l.last));
        }
        // Every lagged scrape is lost with all its series.
        w.series = None;
        w.why.push_str(&super::grid::lag_why(l));
    }
}

/// The un-resharded crossing of a lagging target ends in the batch holding
/// its last sample before the coverage end, in the record of its last
/// lagged scrape: a record holds the target's samples, then the scrape's
/// own series (`scrapeLoop.report` appends them after, one commit), so a
/// batch of m = ⌈`max_samples_per_send` / ⌊series / `min_shards`⌋⌉
/// records' worth ends by that scrape + max((m − 1) scrapes, m scrapes −
/// lag): past m record ends only the next record's lagged samples follow.
fn cap_lagged(inp: &ModelInput, windows: &mut [LossWindow], l: &super::grid::Lag, n: u64) {
    let i = inp.scrape_interval.max(1);
    let per = (n / inp.queue.min_shards.max(1)).max(1);
    let m = inp.queue.max_samples_per_send.div_ceil(per) as i64;
    let end = l
        .last
        .saturating_add((m - 1).saturating_mul(i).max(m.saturating_mul(i) - l.lag));
    for w in windows
        .iter_mut()
        .filter(|w| w.certainty != Certainty::Risk)
    {
        if w.to > end && end >= w.from {
            w.to = end;
            w.to_earliest = w.to_earliest.filter(|&e| e < end);
        }
    }
}

/// Why the scrapes of a lagging target are lost when the crossing batch
/// after them costs nothing.
const LAGGED_SCRAPES: &str = "every scrape whose samples are stamped before the coverage end is \
     refused with the request holding it; the batch after the last of them is expected to end on a \
     scrape boundary";

/// The crossing when the reshard tick is within the phase uncertainty of
/// it (`queue::Crossing::undecided_short`): no file orders the two. The
/// un-resharded sliver is lost either way (the resharded one starts at the
/// same scrape and ends later): expected; the resharded path's longer end
/// is a risk, its range from the un-resharded end to the resharded one.
#[allow(clippy::too_many_arguments)]
fn undecided(
    windows: &mut Vec<LossWindow>,
    cr: &queue::Crossing,
    c: i64,
    n: u64,
    b: u64,
    from: i64,
    to: i64,
    short_series: Option<u64>,
) {
    // A batch that costs no series (it ends on a scrape boundary) is no window.
    if to >= from && short_series != Some(0) {
        windows.push(LossWindow {
            cause: Cause::L3,
            from,
            to,
            to_earliest: None,
            to_expected: None,
            bound_to: Some(cr.expected_end.max(cr.bound_end)),
            certainty: Certainty::Expected,
            series: short_series,
            ongoing: false,
            slave_range: SlaveRangeUse::default(),
            race_rest: false,
            why: format!(
                "PRW 1.0: the request that mixes samples older than the coverage end (out of \
                 bounds) with newer ones is refused whole (400) and dropped, one per shard; the \
                 crossing is too close to the queue's reshard tick or to the crossing batch's \
                 deadline flush for the files to order them: on the shorter path one shard's batch \
                 (at most {b} samples) ends here ({n} series); it is lost on both paths"
            ),
        });
    }
    if cr.expected_end > to {
        windows.push(LossWindow {
            cause: Cause::L3,
            from: cr.start.max(c),
            to: cr.expected_end,
            to_earliest: Some(to.max(from.min(cr.expected_end)).min(cr.expected_end)),
            to_expected: Some(cr.point_end.max(to)),
            bound_to: (cr.bound_end > cr.expected_end).then_some(cr.bound_end),
            certainty: Certainty::Risk,
            series: None,
            ongoing: false,
            slave_range: SlaveRangeUse::default(),
            race_rest: false,
            why: format!("on the longer path: {}", cr.why),
        });
    }
}

/// Without the slave's start or the series count: the crossing batches'
/// reach as a bound only.
fn bound_window(inp: &ModelInput, series: Option<u64>) -> LossWindow {
    let c = inp.coverage_end;
    let q = &inp.queue;
    let b = q.max_samples_per_send;
    // Without the slave's start or the series count: a bound only.
    let k = series
        .map(|n| ((b - 1) * q.max_shards).div_ceil(n).max(1) as i64)
        .unwrap_or(1);
    let by_batches = k.saturating_mul(inp.scrape_interval);
    let by_catchup = inp
        .slave_up
        .map(|u| u.max(c) + 2 * q.max_backoff + queue::SHARD_UPDATE + q.batch_send_deadline - c);
    let extent = by_catchup
        .map_or(by_batches, |x| x.min(by_batches))
        .max(inp.scrape_interval);
    LossWindow::new(
        Cause::L3,
        c,
        c - 1 + extent,
        Certainty::Bound,
        format!(
            "PRW 1.0: a request that mixes samples older than the coverage end (out of bounds) \
             with newer ones is refused whole (400) and dropped: one such batch per shard; with {} \
             series a batch of {b} samples on up to {} shards spans up to {} (give the slave's \
             ready time for the expected sliver)",
            series.map_or("an unknown number of".into(), |n| n.to_string()),
            q.max_shards,
            crate::coverage::fmt_dur(by_batches)
        ),
    )
}

/// The crossing batch's sliver (L3 expected), with the end on the queue's
/// other path as `bound_to`.
fn crossing_window(cr: &queue::Crossing, c: i64, n: u64, b: u64) -> LossWindow {
    LossWindow {
        cause: Cause::L3,
        from: cr.start.max(c),
        to: cr.expected_end,
        to_earliest: (cr.earliest_end < cr.expected_end).then_some(cr.earliest_end),
        to_expected: (cr.earliest_end < cr.expected_end).then_some(cr.point_end),
        bound_to: (cr.bound_end > cr.expected_end).then_some(cr.bound_end),
        certainty: Certainty::Expected,
        series: cr.series,
        ongoing: false,
        slave_range: SlaveRangeUse::default(),
        race_rest: false,
        why: format!(
            "PRW 1.0: the request that mixes samples older than the coverage end (out of bounds) \
             with newer ones is refused whole (400) and dropped, one per shard; {}; {} series, \
             max_samples_per_send {b}. Had the queue {} before the crossing, the sliver would end \
             by {} (bound_to)",
            cr.why,
            n,
            if cr.resharded {
                "not resharded"
            } else {
                "resharded"
            },
            crate::coverage::fmt_time(cr.other_end)
        ),
    }
}

/// A shard lagging behind the others during the catch-up (an L3 risk):
/// the slave's head accepts no sample older than its newest one minus half
/// its block range (`appendableMinValidTime`, tsdb/head.go), and once the
/// queue runs several shards each sends its own series' backlog at its own
/// pace; a shard whose batch is more than that behind the newest sample
/// another shard delivered loses the batch whole ("out of bounds"). It can
/// happen only when the backlog the queue sends after the slave is up
/// (`C_snap` … slave up) is longer than that half range, and only with more
/// than one shard. The slave's block range is taken as the master's (the
/// snapshot's blocks).
///
/// Where such a loss starts is not in the files: a reshard (`reshardLoop`)
/// stops the shards and starts the new ones empty at the reader's position
/// at that tick, and that position is where the sends accepted since the
/// slave was up have brought the reader — a speed the slave's answers set
/// and no file records. The files give the rest: the first tick the queue
/// can reshard at (10 s ticks from its start, once a send succeeded), the
/// shard count after it (the desired-shards formula: the series of one
/// shard), the length of one refused batch (`max_samples_per_send` samples
/// of that shard's series), and the latest sample at risk: the reader has
/// read up to the slave's start by the end of the catch-up, and a lagging
/// batch is at least half the block range older than one delivered, so
/// with a given catch-up time the risk ends that much before its end, and
/// never before the slave's start. The window is that whole range, a risk.
fn lagging_shard(
    inp: &ModelInput,
    up: i64,
    series: u64,
    shards: u64,
    tick: i64,
    all: bool,
) -> Option<LossWindow> {
    let c = inp.coverage_end;
    let half = reshard::slave_range(inp) / 2;
    if shards < 2 || up - c <= half {
        return None;
    }
    let per_shard = series.div_ceil(shards).max(1);
    let b = inp.queue.max_samples_per_send;
    let scrapes = b.div_ceil(per_shard);
    let catch_up = inp.facts.catch_up.unwrap_or(0);
    let to = up.max(up.saturating_add(catch_up) - half);
    let who = if all {
        format!(
            " Every shard's queue ({} samples) holds {} of its series, more than that half range: \
             the reader (which waits for the fullest shard) can be that far ahead of a shard, so \
             every shard can lag: all {series} series are at risk",
            inp.queue.capacity,
            crate::coverage::fmt_dur((inp.queue.capacity / per_shard) as i64 * inp.scrape_interval)
        )
    } else {
        String::new()
    };
    Some(LossWindow {
        cause: Cause::L3,
        from: c,
        to,
        to_earliest: None,
        to_expected: None,
        bound_to: None,
        certainty: Certainty::Risk,
        series: (!all).then_some(per_shard),
        ongoing: false,
        slave_range: SlaveRangeUse::half_range(true),
        race_rest: false,
        why: format!(
            "the queue sends the backlog from the coverage end to the slave's start ({}) and \
             reshards during it (first tick {}) to about {shards} shards, each at its own pace; \
             the slave's head refuses a sample older than its newest one minus half its block \
             range ({}{}): a shard lagging that far behind \
             loses its batch whole, {b} samples of its {per_shard} series, about {scrapes} \
             scrape(s) ({}) each time. Such a loss starts at the reader's position at a reshard \
             tick, where the sends accepted since the slave was up brought it: anywhere in this \
             range, at a speed no file records{}.{who}",
            crate::coverage::fmt_dur(up - c),
            crate::coverage::fmt_time(tick),
            crate::coverage::fmt_dur(half),
            if inp.facts.slave_block_range.is_some() {
                ""
            } else {
                ", the master's range assumed for the slave"
            },
            crate::coverage::fmt_dur(scrapes as i64 * inp.scrape_interval),
            if catch_up > 0 {
                String::new()
            } else {
                "; a catch-up longer than half the block range moves its end past the slave's \
                 start (give the catch-up time)"
                    .to_string()
            }
        ),
    })
}

/// Every shard can lag, not one: when the queue reshards during a catch-up
/// longer than half the slave's block range to shards whose queue
/// (`capacity` samples) holds more than that half range of their series.
/// The reader waits for the fullest shard (`QueueManager.Append` retries
/// until that shard takes the sample), so a shard can fall behind the
/// others by up to its queue's span, never more: under half the range no
/// shard is refused by `appendableMinValidTime` unless one stalls (the
/// one-shard risk); over it the shards that reach the present first raise
/// the slave's newest sample and every lagging one loses its requests older
/// than that minus half the range. Whether they do depends on the shards'
/// send speeds: of the recorded runs where this holds, one lost every
/// series (`s12k-busyz-up35`, a 1 → 200 reshard), a dozen lost only the
/// crossing batch, so it widens the risk to every series and predicts
/// nothing.
fn every_shard_lags(inp: &ModelInput, up: i64, series: u64, shards: u64) -> bool {
    let c = inp.coverage_end;
    let half = reshard::slave_range(inp) / 2;
    if shards < 2 || up - c <= half {
        return false;
    }
    let per_shard = series.div_ceil(shards).max(1);
    (inp.queue.capacity / per_shard) as i64 * inp.scrape_interval > half
}

#[cfg(test)]
#[path = "slivers_tests.rs"]
mod tests;

/// The slivers (`windows[before..]`) beside an L2 window that starts at
/// `l2_from`, past the boundary's next scrape: the reader's segment ends
/// there, so its catch-up reads no further and nothing of the slivers is
/// lost after it (the L2 window holds what follows). Each ends by then; an
/// expected one that reaches past the first scrape after the coverage end
/// on its earliest end (the resharded catch-up's path, which only the
/// master's log decides and the segment's end may cut short) becomes a
/// risk, beside an expected window of its first scrape alone: the crossing
/// batch, read and sent from the segment and refused whole.
pub(super) fn before_l2(
    inp: &ModelInput,
    windows: &mut Vec<LossWindow>,
    before: usize,
    l2_from: i64,
) {
    let end = l2_from.saturating_sub(1);
    let first = inp.coverage_end.saturating_add(inp.scrape_interval.max(1));
    let mut crossing = None;
    for w in windows.iter_mut().skip(before) {
        w.to = w.to.min(end).max(w.from);
        w.to_earliest = w.to_earliest.map(|t| t.min(w.to));
        w.to_expected = w.to_expected.map(|t| t.min(w.to));
        let long = w.to_earliest.unwrap_or(w.to) > first.max(w.from);
        if w.cause == Cause::L3 && w.certainty == Certainty::Expected && long {
            w.certainty = Certainty::Risk;
            w.to_expected = None;
            w.why.push_str(
                "; the reader's segment ends where the L2 window starts, which may cut the \
                 catch-up short of the reshard: a risk, beside the crossing batch's scrape",
            );
            crossing.get_or_insert(w.from);
        }
    }
    let expected = |w: &LossWindow| w.cause == Cause::L3 && w.certainty == Certainty::Expected;
    if let Some(from) = crossing.filter(|_| !windows.iter().skip(before).any(expected)) {
        windows.push(LossWindow::new(
            Cause::L3,
            from,
            from,
            Certainty::Expected,
            "the crossing batch: the first scrape after the coverage end, read from the stalled \
             reader's segment (which runs past the coverage end) and sent with older samples \
             in one request once the slave is up, refused whole (the slave holds the older \
             ones)"
                .into(),
        ));
    }
}

/// L3/L4: the boundary slivers, only when the boundary is crossed by
/// remote write, and the slave refuses what is older than the coverage end
/// (a slave seeded empty refuses nothing). An L2 risk (the files cannot
/// tell whether the reader was overtaken) leaves the path where it was not:
/// the slivers. So does an L2 the master's log alone makes expected
/// (without the WAL its start is not placed: the slivers keep what may
/// precede it), and one that starts past the boundary's next scrape (the
/// reader's segment runs past the coverage end: it reads and sends the
/// crossing batch; the slivers then end where that L2 starts). A risk of L1
/// (a start given to the second that straddles the coverage end) leaves
/// the path where remote write ran before it.
pub(super) fn boundary(
    inp: &ModelInput,
    ov: &super::l2::Overtaking,
    (t_b, stall, phase_known): (i64, Option<Stall>, bool),
    windows: &mut Vec<LossWindow>,
    assumptions: &mut Vec<String>,
) {
    let c = inp.coverage_end;
    let decided = |w: &&LossWindow| w.cause == Cause::L2 && w.certainty != Certainty::Risk;
    let next = c.saturating_add(inp.scrape_interval.max(1));
    let l2_from = (inp.wal.is_some() && !ov.undecided)
        .then(|| windows.iter().filter(decided).map(|w| w.from).min())
        .flatten();
    let l2 = l2_from.is_some_and(|f| f <= next);
    let l1 = windows
        .iter()
        .any(|w| w.cause == Cause::L1 && w.certainty != Certainty::Risk);
    let ooo = !inp.seeded_empty && super::slave::ooo_accepts(inp, t_b, assumptions);
    if l1 || l2 || t_b >= c || ooo || inp.seeded_empty {
        return;
    }
    let before = windows.len();
    self::windows(inp, t_b, stall, phase_known, windows, assumptions);
    if let Some(f) = l2_from {
        before_l2(inp, windows, before, f);
    }
}
