//! The L3 prediction: the batch that crosses `C_snap` once the slave is up,
//! in four steps a reader can hold one at a time: when the crossing batch is
//! sent ([`Timing`]), the one-shard count ([`Short`]), the resharded queue
//! ([`Long`]), and the plain words.

use serde::Serialize;

use super::{
    BACKLOG_CATCHUP, PHASE_UNCERTAINTY, Queue, READ_PERIOD, READ_RATE, READ_RATE_SLOW,
    REQUEST_TIME, SHARD_TOLERANCE, Stall, next_retry, next_tick, next_wake,
};
use crate::coverage::scrapes::Schedule;
use crate::coverage::{fmt_dur, fmt_time};

/// The L3 prediction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Crossing {
    /// True if a reshard tick is expected between the first successful send
    /// and the crossing.
    pub resharded: bool,
    /// Shards at the crossing (expected).
    pub shards: u64,
    /// Shards the queue is expected to run once it reshards after the
    /// slave is up (the desired-shards formula at the first tick).
    pub catch_up_shards: u64,
    /// First sample time after `C_snap` (the expected start).
    pub start: i64,
    /// Expected last lost sample time.
    pub expected_end: i64,
    /// Earliest end of the expected case.
    pub earliest_end: i64,
    /// The most likely end inside `earliest_end … expected_end`.
    pub point_end: i64,
    /// Latest end whichever case happens.
    pub bound_end: i64,
    /// The end if the queue takes the other path (resharded or not).
    pub other_end: i64,
    /// Series that lose the sliver, when fewer than all (the short case).
    pub series: Option<u64>,
    /// The same on the other path, when it is the short case (the
    /// un-resharded batch of a crossing expected resharded) counted on the
    /// samples the files show read before `C_snap`.
    pub other_series: Option<u64>,
    /// When the reshard tick is within the phase uncertainty of the
    /// crossing (the files cannot order them): the un-resharded path's
    /// sliver `(from, to, series)`, the part lost whichever comes first.
    pub undecided_short: Option<(i64, i64, Option<u64>)>,
    /// The instants the batch holding `C_snap` can be sent, within the
    /// phase uncertainty: from the reader's wake (a slave that answers the
    /// backlog's refused requests at once) to the model's drain
    /// (`REQUEST_TIME` each). A reshard logged before `cross_from` came
    /// before the crossing, one after `cross_to` after it.
    pub cross_from: i64,
    /// The latest instant of the crossing (see `cross_from`).
    pub cross_to: i64,
    /// Plain words.
    pub why: String,
}

/// What the reader forwards: the samples per scrape the queue sends, those
/// the master appends that it does not send (native histograms without
/// `send_native_histograms`: they count in the desired-shards formula's
/// input rate only), and, when the files hold it exactly, how many samples
/// it forwarded before `C_snap` from its first (`Stall::first_sample`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reads {
    /// Samples per scrape the queue sends.
    pub series: u64,
    /// Samples per scrape the master appends and the queue skips.
    pub unsent: u64,
    /// Samples forwarded from the first one to the last before `C_snap`.
    pub before_c: Option<u64>,
    /// How much later than `t_ws` the queue may have started (its reshard
    /// ticks with it): an origin given to the second is up to a second
    /// early; 0 where the files or the master's log place it.
    pub tick_late: i64,
}

/// The quantities every step shares.
struct At<'a> {
    q: &'a Queue,
    st: &'a Stall,
    /// The time of the reshard ticks' origin (the WAL's start).
    t_ws: i64,
    /// `C_snap`.
    c: i64,
    /// Series per scrape (at least 1).
    s: u64,
    /// Samples appended per scrape the queue does not send (native
    /// histograms without `send_native_histograms`): 2.42's `samplesIn`,
    /// the desired-shards formula's input rate, counts them all the same.
    unsent: u64,
    /// Scrape interval (at least 1 ms).
    i: i64,
    /// `max_samples_per_send`.
    b: u64,
    /// Samples forwarded before `C_snap`, when the files hold them.
    before_c: Option<u64>,
    /// How much later the reshard ticks may come ([`Reads::tick_late`]).
    tick_late: i64,
    scrape_phase_known: bool,
    grids: Option<&'a Schedule>,
}

/// When the crossing batch is sent and whether a reshard tick comes first.
struct Timing {
    /// First successful send after the slave is up.
    r: i64,
    /// The reader's wake-up after it.
    wake: i64,
    /// Backlog samples older than `C_snap` still to send after the wake-up.
    pre: u64,
    /// When the batch holding `C_snap` is sent.
    cross: i64,
    /// The first reshard tick after `r`.
    tick: i64,
    /// Phase uncertainty.
    eps: i64,
    resharded: bool,
    /// The tick is within `eps` of the crossing: either may come first.
    either: bool,
    /// The earliest instant of the crossing (see `Crossing::cross_from`).
    earliest_cross: i64,
}

/// The short case: `min_shards` shards, the crossing batch cut by counting.
struct Short {
    /// Scrapes after `C_snap` in the crossing batch (by the count).
    scrapes: i64,
    /// Series that lose the sliver, when fewer than all.
    series: Option<u64>,
    /// The count is on the scrape grid (no phase uncertainty on the ends).
    exact: bool,
    /// First scrape after `C_snap`.
    first_after_c: i64,
    /// Last lost sample time.
    end: i64,
    /// The batch's deadline flushes it before the scrape that fills it.
    flushed: bool,
    /// The filling scrape is within the uncertainty of the flush.
    flush_undecided: bool,
    /// The end without the filling scrape.
    flushed_end: i64,
}

/// The long case: the queue reshards before the crossing.
struct Long {
    /// The reader's position at the tick.
    p: i64,
    /// Shards from the desired-shards formula, and its 30 % band.
    n: u64,
    n_lo: u64,
    n_hi: u64,
    /// Expected end at `n` shards and the usual read rate.
    end: i64,
    /// Range of ends over the shard band and the read rates.
    lo: i64,
    hi: i64,
    /// Latest end whichever case happens.
    bound: i64,
    /// The latest deadline flush after the tick.
    flush: i64,
}

/// Predicts the batch that crosses `c` (`C_snap`) once the slave is up at
/// `up`.
#[allow(clippy::too_many_arguments)]
pub fn crossing(
    q: &Queue,
    st: &Stall,
    t_ws: i64,
    c: i64,
    up: i64,
    series: u64,
    interval: i64,
    scrape_phase_known: bool,
    grids: Option<&Schedule>,
) -> Crossing {
    crossing_with_unsent(
        q,
        st,
        t_ws,
        c,
        up,
        Reads {
            series,
            ..Reads::default()
        },
        interval,
        scrape_phase_known,
        grids,
    )
}

/// [`crossing`], with what the reader forwards ([`Reads`]).
#[allow(clippy::too_many_arguments)]
pub fn crossing_with_unsent(
    q: &Queue,
    st: &Stall,
    t_ws: i64,
    c: i64,
    up: i64,
    reads: Reads,
    interval: i64,
    scrape_phase_known: bool,
    grids: Option<&Schedule>,
) -> Crossing {
    let at = At {
        q,
        st,
        t_ws,
        c,
        s: reads.series.max(1),
        unsent: reads.unsent,
        i: interval.max(1),
        b: q.max_samples_per_send,
        before_c: reads.before_c,
        tick_late: reads.tick_late.max(0),
        scrape_phase_known,
        grids,
    };
    let tm = timing(&at, up);
    let sh = short(&at, &tm);
    let lg = long(&at, &tm);
    let why = if tm.resharded {
        why_resharded(&at, &tm, &sh, &lg)
    } else {
        why_short(&at, &tm, &sh, &lg)
    };
    assemble(&at, &tm, &sh, &lg, why)
}

fn timing(at: &At, up: i64) -> Timing {
    let (q, st, c) = (at.q, at.st, at.c);
    // First successful send and the reader's wake-up after it.
    let r = next_retry(q, st.first_send, up.max(st.first_send));
    let wake = next_wake(q, st.position + READ_PERIOD, r);
    // The backlog older than C still to send after the wake-up.
    let pre = match at.grids {
        Some(g) => g.samples_between(st.position, c - 1),
        None => ((c - st.position).max(0) / at.i) as u64 * at.s,
    };
    let drain = (pre / at.b) as i64 * REQUEST_TIME;
    // When the batch holding C is sent: if the reader stalled past C, that
    // batch is already in the shard's channel and goes out right after the
    // first successful send (the shard drains its channel on its own, the
    // reader is not needed); otherwise once the reader woke and read the
    // backlog older than C.
    let buffered_batches = (st.buffered / at.b) as i64 + 1;
    let cross = if st.position >= c {
        r + buffered_batches * REQUEST_TIME
    } else {
        wake + drain
    };
    let tick = next_tick(at.t_ws, r);
    // Phase uncertainty: the first sample's time, the queue's start.
    let eps = if at.scrape_phase_known {
        PHASE_UNCERTAINTY
    } else {
        at.i / 2 + PHASE_UNCERTAINTY
    };
    // The drain's pace is the slave's answer time to a refused request,
    // which no file records: `REQUEST_TIME` each is the model's figure, and
    // a slave answering at once puts the crossing at the wake itself. A
    // tick from the wake to the crossing (each within the phase
    // uncertainty) may come before or after it: the end range spans both
    // paths (earliest: no reshard). A tick before the wake comes while the
    // whole backlog is still unread: the reshard comes first.
    let earliest_cross = if st.position >= c {
        cross
    } else {
        wake.min(cross)
    };
    Timing {
        r,
        wake,
        pre,
        cross,
        tick,
        eps,
        resharded: tick <= cross + eps,
        // A tick that may come up to `tick_late` later (its origin given to
        // the second) may come after the crossing.
        either: tick.saturating_add(at.tick_late) >= earliest_cross - eps && tick <= cross + eps,
        earliest_cross,
    }
}

/// The short count: scrapes after `C_snap` in the crossing batch, the
/// series that lose them when fewer than all, whether the count is on the
/// grid, and (several grids) the first and last lost sample times.
fn short_count(at: &At) -> (i64, Option<u64>, bool, Option<(i64, i64)>) {
    let (q, st, c, s, b) = (at.q, at.st, at.c, at.s, at.b);
    // Short case: min_shards shards. With one shard the batches are cut
    // every B samples after the first batch, in WAL order (the deadline
    // timer cannot fire while the backlog is read: it is reset at every send
    // and the reader is back within one backoff period), so the crossing
    // batch's samples after C follow from counting: S samples per scrape
    // from the first sample to the last scrape before C.
    let mut short_scrapes = ((b - 1) * q.min_shards).div_ceil(s).max(1) as i64;
    let mut short_series = None;
    let mut exact = false;
    // Several scrape grids (targets at their own intervals and phases, from the WAL):
    // the same count, on the samples each grid really adds per scrape.
    let mut grid_after_c = None;
    let crossing_batch_end = |nc: u64| {
        let n1 = st.first_batch;
        if nc <= n1 {
            n1
        } else {
            n1 + (nc - n1).div_ceil(b) * b
        }
    };
    if let Some(g) = at
        .grids
        .filter(|_| q.min_shards == 1 && c > st.first_sample)
    {
        // The samples before C_snap: counted on the grids, which project
        // every target's newest series count back to the first sample
        // (targets and series that came later count too), unless the files
        // hold the count itself.
        let nc = at
            .before_c
            .unwrap_or_else(|| g.samples_between(st.first_sample, c - 1));
        let lost = crossing_batch_end(nc) - nc;
        if let (Some((first, _)), Some((last, k))) = (
            g.nth_sample_after(c - 1, 1),
            g.nth_sample_after(c - 1, lost),
        ) {
            short_scrapes = if lost == 0 { 0 } else { k as i64 };
            // Within less than the shortest interval each target's series
            // come once: the lost samples are as many series.
            let shortest = g.grids.iter().map(|x| x.interval).min().unwrap_or(at.i);
            short_series = (lost > 0 && (k == 1 || last - first < shortest)).then_some(lost);
            grid_after_c = Some((first, if lost == 0 { c - 1 } else { last }));
        }
    } else if q.min_shards == 1 && c > st.first_sample {
        // The scrapes before C_snap times today's series count, unless the
        // files hold the count itself (a master's own series grow in its
        // first minutes: the count overstates what was read).
        let nc = at.before_c.unwrap_or_else(|| {
            s.saturating_mul((c - 1 - st.first_sample).div_euclid(at.i) as u64 + 1)
        });
        let lost = crossing_batch_end(nc) - nc;
        short_scrapes = lost.div_ceil(s) as i64;
        short_series = (lost < s).then_some(lost);
        exact = at.scrape_phase_known;
    }
    (short_scrapes, short_series, exact, grid_after_c)
}

fn short(at: &At, tm: &Timing) -> Short {
    let (q, st, c, i) = (at.q, at.st, at.c, at.i);
    let (scrapes, short_series, exact, grid_after_c) = short_count(at);
    // The scrapes after C are on the grid of the first sample (a skip_head
    // coverage end is a block boundary, off that grid).
    let first_after_c = if exact {
        st.first_sample + (c - st.first_sample + i - 1).div_euclid(i) * i
    } else {
        c - 1 + i
    };
    let (first_after_c, short_end) =
        grid_after_c.unwrap_or((first_after_c, first_after_c + (scrapes - 1) * i));
    let exact = exact || grid_after_c.is_some();
    // The crossing batch can be flushed by its deadline before it fills:
    // once the shard has sent the backlog before it (≈ `cross`), its timer
    // (`runShard`: reset at every send) fires `batch_send_deadline` later
    // with what the reader has read by then. When the scrape that would
    // fill the batch comes after that, the batch ends with the last scrape
    // read by the flush — before the first scrape after C_snap: no batch
    // mixes both sides, no L3 sliver. Within the phase uncertainty of the
    // flush the count above stands (the longer loss).
    let (resharded, eps) = (tm.resharded, tm.eps);
    let flush = tm.cross + q.batch_send_deadline;
    let flushed = !resharded && q.min_shards == 1 && short_end > flush + eps;
    // The scrape that fills the batch within the uncertainty of the flush:
    // either may come first. The batch without that scrape is lost either
    // way; the count's end is the longer path (`undecided_short`).
    let flush_undecided = !resharded
        && q.min_shards == 1
        && !flushed
        && grid_after_c.is_none()
        && short_end >= first_after_c
        && (short_end - flush).abs() <= eps;
    let flushed_end = short_end - i;
    let (end, series) = if !flushed {
        (short_end, short_series)
    } else if first_after_c > flush + eps {
        (c - 1, None)
    } else if grid_after_c.is_none() {
        (
            first_after_c + (flush + eps - first_after_c).div_euclid(i) * i,
            None,
        )
    } else {
        (short_end, short_series)
    };
    Short {
        scrapes,
        series,
        exact,
        first_after_c,
        end,
        flushed,
        flush_undecided,
        flushed_end,
    }
}

/// The long case's end for `nsh` shards reading at `rate` samples/s from
/// the reader's position `p` at the tick.
fn long_end_for(at: &At, p: i64, tick: i64, nsh: u64, rate: f64) -> i64 {
    let (c, s, i, b) = (at.c, at.s, at.i, at.b);
    let nsh = nsh.max(1);
    // Sample time the reader has reached at wall time t ≥ tick, and the
    // wall time it reaches sample time x.
    let pos_at = |t: i64| -> i64 {
        let adv = ((t - tick).max(0) as f64 / 1000.0 * rate / s as f64) as i64 * i;
        (p + adv).min(t)
    };
    let reach = |x: i64| -> i64 {
        let lag = ((x - p).max(0) / i) as f64 * s as f64 / rate * 1000.0;
        (tick + lag as i64).max(x)
    };
    let k_c = (c - p + i - 1).div_euclid(i).max(0);
    let mut worst = c - 1;
    for per in [s / nsh, s.div_ceil(nsh)] {
        let f = b as f64 / per.max(1) as f64;
        let j = (k_c as f64 / f).floor();
        let last_k = ((j + 1.0) * f).ceil() as i64 - 1;
        let t_end = p + last_k * i;
        let opened = if j < 1.0 {
            tick
        } else {
            reach(p + (((j * f).ceil() as i64) - 1) * i)
        };
        let tf = opened + at.q.batch_send_deadline;
        let end = if reach(t_end) <= tf {
            t_end
        } else {
            let x = pos_at(tf);
            p + (x - p).div_euclid(i) * i
        };
        worst = worst.max(end);
    }
    worst
}

fn long(at: &At, tm: &Timing) -> Long {
    let (q, st, c, s, i, b) = (at.q, at.st, at.c, at.s, at.i, at.b);
    let (r, wake, tick) = (tm.r, tm.wake, tm.tick);
    // Long case: the reader's position at the tick (asleep until `wake`,
    // then through the backlog at one request of B samples per REQUEST_TIME).
    let p = if tick <= wake {
        st.position
    } else {
        let scrapes = ((tick - wake) / REQUEST_TIME) as u64 * b / s;
        (st.position + scrapes as i64 * i).min(st.position.max(c - 1))
    };
    // Shards from the desired-shards formula at the tick: the whole outage
    // counts as the duration of the first send; the samples sent in the
    // tick are the buffer plus what the reader sent before the tick; the
    // delay is the newest sample appended (≈ the tick) minus the newest sent.
    let outage = (r - st.first_send).max(1) as f64 / 1000.0;
    let sent = (st.buffered + (p - st.position).max(0) as u64 / i as u64 * s).max(1) as f64;
    let in_rate = s.saturating_add(at.unsent) as f64 / (i as f64 / 1000.0);
    let delay = ((tick - p) as f64 / 1000.0).max(0.0);
    let desired = (outage / sent * in_rate * (1.0 + BACKLOG_CATCHUP * delay)).ceil();
    let clamp = |x: f64| {
        if x.is_finite() {
            (x.max(0.0) as u64).clamp(q.min_shards, q.max_shards)
        } else {
            q.max_shards
        }
    };
    let n = clamp(desired);
    // Within the reshard tolerance (30 %) the decision is the same; the
    // rates are moving averages no file records: the shard count is known
    // to that fraction.
    let (n_lo, n_hi) = (
        clamp((desired * (1.0 - SHARD_TOLERANCE)).floor()),
        clamp((desired * (1.0 + SHARD_TOLERANCE)).ceil()),
    );
    // After the reshard the new shards start empty at the reader's position
    // `p` (the old ones flushed at their stop); series go to shard
    // `ref mod N` (refs are consecutive), so a shard holds ⌊S/N⌋ or ⌈S/N⌉
    // series and cuts a batch every B of their samples. A shard's crossing
    // batch is lost whole: it ends when it is full, or when its
    // `batch_send_deadline` timer (started with the shard, reset at each
    // send) fires first, with what the reader has read by then.
    let end = long_end_for(at, p, tick, n, READ_RATE).max(c - 1 + i);
    let (mut lo, mut hi) = (end, end);
    for nsh in [n_lo, n, n_hi] {
        for rate in [1e12, READ_RATE, READ_RATE_SLOW] {
            let e = long_end_for(at, p, tick, nsh, rate);
            lo = lo.min(e);
            hi = hi.max(e);
        }
    }
    let lo = lo.max(c - 1 + i).min(end);
    let fill = |shards: u64| ((b - 1) * shards).div_ceil(s).max(1) as i64 * i;
    let flush = next_wake(q, st.position + READ_PERIOD, tick.max(r)) + q.batch_send_deadline;
    let bound = (c - 1 + fill(q.max_shards))
        .min(
            next_wake(
                q,
                st.position + READ_PERIOD,
                next_tick(at.t_ws, tm.cross + tm.eps).max(r),
            ) + q.batch_send_deadline,
        )
        .max(hi);
    Long {
        p,
        n,
        n_lo,
        n_hi,
        end,
        lo,
        hi,
        bound,
        flush,
    }
}

fn why_resharded(at: &At, tm: &Timing, sh: &Short, lg: &Long) -> String {
    let n = lg.n;
    format!(
        concat!(
            "the first send after the slave is up is expected at {} (the blocked send's retries), ",
            "the reader wakes at {} and the queue's reshard tick at {} comes before the backlog ",
            "older than C_snap is through: the queue reshards to about {} shards ({}–{}), which ",
            "start empty at the reader's position then (the sample of {}); each holds {}–{} ",
            "series and cuts a batch every {} of their samples, and its batch holding C_snap is ",
            "lost whole: it ends when full, or when the shard's {} deadline fires first (the ",
            "latest by about {})"
        ),
        fmt_time(tm.r),
        fmt_time(tm.wake),
        fmt_time(tm.tick),
        n,
        lg.n_lo,
        lg.n_hi,
        fmt_time(lg.p),
        at.s / n.max(1),
        at.s.div_ceil(n.max(1)),
        at.b,
        fmt_dur(at.q.batch_send_deadline),
        fmt_time(lg.flush)
    ) + &if tm.either {
        format!(
            concat!(
                "; the tick is within {} of the crossing, which may come first: ",
                "then the sliver ends at {} (to_earliest)"
            ),
            fmt_dur(tm.eps),
            fmt_time(sh.end.max(at.c - 1 + at.i))
        )
    } else {
        String::new()
    }
}

fn why_short(at: &At, tm: &Timing, sh: &Short, lg: &Long) -> String {
    let s = at.s;
    format!(
        concat!(
            "the first send after the slave is up is expected at {}, the reader wakes at {} and ",
            "is through the backlog older than C_snap ({} samples) before the queue's next ",
            "reshard tick ({}): the crossing batch is one of {} shard(s) of {} samples cut in ",
            "WAL order: {} scrape(s) after C_snap{}"
        ),
        fmt_time(tm.r),
        fmt_time(tm.wake),
        tm.pre,
        fmt_time(tm.tick),
        at.q.min_shards,
        at.b,
        sh.scrapes,
        sh.series.map_or(String::new(), |k| format!(
            ", {k} of {s} series ({})",
            super::series_basis(at.before_c.is_some(), at.b)
        ))
    ) + &if sh.flushed {
        // The flush named is the long case's latest deadline flush (as
        // before this function was split).
        format!(
            concat!(
                "; but the shard's {} deadline flushes the batch holding C_snap at about {}, ",
                "before the scrape that would fill it: {}"
            ),
            fmt_dur(at.q.batch_send_deadline),
            fmt_time(lg.flush),
            if sh.end < at.c {
                "it holds nothing after C_snap".to_string()
            } else {
                format!("it ends with the scrape of {}", fmt_time(sh.end))
            }
        )
    } else {
        String::new()
    }
}

/// The un-resharded crossing batch cut by a reshard: `reshardLoop` stops
/// the old shards, which flush what they hold, so a reshard tick after the
/// crossing and before the batch fills or its deadline fires ends the batch
/// with the scrapes read by then (the reader is at the present after the
/// backlog). Whether the queue reshards at that tick is the desired-shards
/// formula on moving averages no file records (`s80-5s-d10s-soon`: the
/// model's count 1, the log's 1 -> 3): wherever it can reshard
/// (`max_shards` above `min_shards`), the cut batch (lost on both paths) is
/// given apart, the uncut one a risk.
fn reshard_cut(at: &At, tm: &Timing, sh: &Short) -> Option<(i64, i64, Option<u64>)> {
    let (q, i) = (at.q, at.i);
    if tm.resharded || sh.series.is_some() || q.max_shards <= q.min_shards || !sh.exact {
        return None;
    }
    let tick = next_tick(at.t_ws, tm.cross);
    let flush = tm.cross + q.batch_send_deadline;
    // The last scrape read by the tick, on the scrape grid after C_snap.
    let cut = sh.first_after_c + (tick - tm.eps - sh.first_after_c).div_euclid(i) * i;
    (tick < flush && cut >= sh.first_after_c && cut < sh.end).then_some((
        sh.first_after_c,
        cut,
        None,
    ))
}

fn assemble(at: &At, tm: &Timing, sh: &Short, lg: &Long, why: String) -> Crossing {
    let (c, i, resharded) = (at.c, at.i, tm.resharded);
    let (expected_end, earliest_end) = if resharded && tm.either {
        (lg.hi, lg.lo.min(sh.end.max(c - 1 + i)))
    } else if resharded {
        (lg.hi, lg.lo)
    } else if sh.exact {
        (sh.end, sh.end)
    } else {
        (sh.end, (c - 1 + i).min(sh.end))
    };
    // The resharded path's new shards start empty at the reader's position
    // before `C_snap`; a series goes to shard `ref % n`, so every shard's
    // first batch holds series of every grid: its loss starts with the
    // first sample after `C_snap` on any grid, not on the coarsest one.
    let grid_first = at
        .grids
        .and_then(|g| g.nth_sample_after(c - 1, 1))
        .map(|(t, _)| t);
    Crossing {
        start: if let (true, Some(t)) = (resharded, grid_first) {
            t
        } else if resharded && !at.scrape_phase_known {
            c
        } else if resharded {
            at.st.first_sample + (c - at.st.first_sample + i - 1).div_euclid(i) * i
        } else {
            sh.first_after_c.min(c.max(sh.end))
        },
        resharded,
        shards: if resharded { lg.n } else { at.q.min_shards },
        catch_up_shards: lg.n,
        expected_end,
        earliest_end: earliest_end.min(expected_end),
        point_end: if resharded {
            lg.end.clamp(earliest_end.min(expected_end), expected_end)
        } else {
            expected_end
        },
        bound_end: lg.bound.max(expected_end),
        other_end: if resharded { sh.end } else { lg.bound },
        series: if resharded { None } else { sh.series },
        // The un-resharded batch's count where the files hold the samples
        // read before C_snap (`Reads::before_c`), not a projection.
        other_series: sh.series.filter(|_| resharded && at.before_c.is_some()),
        undecided_short: (resharded && tm.either)
            .then(|| {
                let to = sh.end.max(c - 1 + i);
                (sh.first_after_c.min(c.max(to)), to, sh.series)
            })
            .or(sh
                .flush_undecided
                .then_some((sh.first_after_c, sh.flushed_end, None)))
            .or(reshard_cut(at, tm, sh)),
        cross_from: tm.earliest_cross - tm.eps,
        cross_to: tm.cross + tm.eps,
        why,
    }
}
