//! L3 on a resharded catch-up: the shards after a reshard, whose first
//! batches straddle the coverage end or lag the others by more than half
//! the slave's block range (issue 14's eighth pass).
//!
//! The rule, from 2.42's code:
//!
//! * **Whether the queue can reshard.** `updateShardsLoop` asks
//!   `calculateDesiredShards` every `shardUpdateDuration` (10 s); it
//!   reshards only outside ±30 % of the current count, within
//!   `[min_shards, max_shards]`, and (`shouldReshard`) only after a
//!   successful send within `2 × batch_send_deadline` — so never while the
//!   slave is down, at the earliest at the first tick after the first send
//!   the slave answers. After an outage the whole outage counts as that
//!   send's duration: the desired count is large (the crossing model's
//!   `catch_up_shards`). With `max_shards` = `min_shards`, or a desired
//!   count within the band, it cannot.
//! * **What a reshard does.** `reshardLoop` stops the old shards (they
//!   flush what they hold) and starts `n` new ones, empty, at the reader's
//!   position at that moment; series go to shard `ref % n`, so each shard
//!   holds about `series / n` series and cuts a batch every
//!   `max_samples_per_send` of their samples (or at `batch_send_deadline`).
//!   A request the slave refuses is dropped whole (`sendSamples`: a 400 is
//!   non-recoverable) and logged as "non-recoverable error".
//! * **What the slave refuses.** `appendableMinValidTime`
//!   (tsdb/head.go) = max(the newest block's end, head max time −
//!   chunkRange / 2), and the remote-write handler rolls back the whole
//!   request on the first out-of-bounds sample. So: (A) a new shard whose
//!   first batch starts before the coverage end loses that batch up to its
//!   newest sample — at most one batch span after the coverage end,
//!   `max_samples_per_send` samples of the fewest series a shard can hold
//!   (`series / max_shards`); (B) once shards run apart, a shard more than
//!   half the block range behind the newest sample another shard wrote
//!   loses its requests — possible only if its queue (`capacity` samples of
//!   its series, plus the batch it fills and the one it sends) spans more
//!   than that half range (the reader waits for the fullest shard, so no
//!   shard lags by more than its queue) and the backlog does too.
//! * **Where it ends.** A refused request's newest sample is at most the
//!   time it was sent. With no file recording the reshard, the latest is
//!   the end of a resharded catch-up on the code's constants (the first
//!   send at most two `max_backoff`s after the slave's start, the tick
//!   10 s later, the deadline flush after it; plus `--catch-up`): the
//!   sixth pass's `bound_window` reach. With the master's log, the last
//!   "non-recoverable error" after the reshard is that send.
//!
//! Which of the two paths the queue takes is a race of the reader's pace
//! against the tick that no file records: without the log the window is a
//! `risk` (earliest end: the sliver of the path the crossing model
//! expects); with it, the log decides.

use super::caught_up::{self, CaughtUp};
use super::{Cause, Certainty, LossWindow, ModelInput, SlaveRangeUse};
use crate::coverage::masterlog::{MasterLog, Reshard};
use crate::coverage::queue::{Crossing, SHARD_UPDATE, Stall};
use crate::coverage::{fmt_dur, fmt_time};

/// How the resharded catch-up's risk window's `why` begins (the verdict
/// finds it by it).
pub(super) const RISK_LEAD: &str = "if the queue reshards while the reader is behind";

/// What the master's log says about the catch-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Logged {
    /// No log given, or one that does not decide (no queue, several).
    Unknown,
    /// No reshard between the slave's start and the catch-up's end.
    NoReshard,
    /// The first reshard after the slave's start.
    Reshard(Reshard),
    /// The first reshard after the slave's start, which the slave's log
    /// shows after the catch-up was through: it lost nothing.
    After(Reshard, CaughtUp),
}

/// The latest a catch-up that reshards once can end: the slave's start,
/// two retry backoffs (the blocked send's next attempt, then the reader's
/// wake-up, each at most `max_backoff`), one reshard tick, one deadline
/// flush, and the operator's `--catch-up`.
pub(super) fn catch_up_end(inp: &ModelInput, up: i64) -> i64 {
    let q = &inp.queue;
    up.max(inp.coverage_end)
        .saturating_add(2 * q.max_backoff + SHARD_UPDATE + q.batch_send_deadline)
        .saturating_add(inp.facts.catch_up.unwrap_or(0))
}

/// Half the slave's block range, the lag its head refuses beyond: the
/// operator's `slave_block_range`, else the master's range taken for the
/// slave's; 0 when neither is known (one block and no `--block-range`: any
/// range is possible, and the shorter one loses more).
pub(super) fn half_range(inp: &ModelInput) -> i64 {
    if inp.facts.slave_block_range.is_none() && inp.block_range_assumed {
        0
    } else {
        slave_range(inp) / 2
    }
}

/// The words for requests refused because their shard lags another by
/// more than half the slave's block range (`apart`); with that range
/// unknown (`half` 0) any lag may be refused.
fn apart_words(apart: bool, half: i64) -> String {
    match (apart, half) {
        (false, _) => String::new(),
        (true, 0) => ", or older than the newest sample another shard wrote by more than half the \
                      slave's block range, which no file gives (taken as any: the shorter the \
                      range, the more is refused)"
            .to_string(),
        (true, h) => format!(
            ", or more than half the block range ({}) older than the newest sample another \
             shard wrote (a shard's queue spans more than that)",
            fmt_dur(h)
        ),
    }
}

/// The slave's block range: the operator's, else the master's.
pub(super) fn slave_range(inp: &ModelInput) -> i64 {
    inp.facts.slave_block_range.unwrap_or(inp.block_range)
}

/// True when the half range is the master's taken for the slave's: a slave
/// started with a shorter block range (its own `min-block-duration`, which
/// no file of the master records) refuses more, so the windows carry the
/// end for any slave range as `bound_to`.
pub(super) fn slave_range_taken(inp: &ModelInput) -> bool {
    inp.facts.slave_block_range.is_none() && half_range(inp) > 0
}

/// The words that name a window's end for any slave block range (the
/// window's `slave_range.any_range` marks it).
const ANY_SLAVE_RANGE: &str = "with any slave block range";

/// The assumption when a window is read against half the slave's block
/// range and the operator did not give it.
pub(super) fn slave_range_assumption(inp: &ModelInput) -> String {
    format!(
        "the slave's block range not given: taken as the master's ({}); a slave with a shorter \
         one refuses more after a reshard (its head refuses what lies more than half its range \
         behind its newest sample), so a resharded catch-up's window says how far it reaches \
         {ANY_SLAVE_RANGE} (bound_to, at most every request sent by the end of the catch-up) \
         where that is further; give the slave's block range to narrow it",
        fmt_dur(inp.block_range)
    )
}

/// `w` with the end for any slave block range (`any`, the rule's reach
/// with no half range) as its bound, where the master's range is taken for
/// the slave's and that end lies past `w.to`.
fn with_any_range(inp: &ModelInput, mut w: LossWindow, any: Option<i64>) -> LossWindow {
    if let Some(a) = any.filter(|&a| slave_range_taken(inp) && a > w.to) {
        w.bound_to = Some(w.bound_to.map_or(a, |b| b.max(a)));
        w.slave_range.any_range = true;
        w.why = format!(
            "{}; {ANY_SLAVE_RANGE} (the master's, {}, is taken for the slave's; a shorter one \
             refuses requests less far behind), the loss can reach {} (bound_to)",
            w.why,
            fmt_dur(inp.block_range),
            fmt_time(a)
        );
    }
    w
}

/// The log's answer for a slave up at `up`.
fn logged(inp: &ModelInput, up: i64, series: u64) -> Logged {
    let Some(log) = inp.facts.master_log.as_ref().filter(|l| l.decides()) else {
        return Logged::Unknown;
    };
    let end = catch_up_end(inp, up);
    // A queue reshards only after a send the slave answered
    // (`shouldReshard`): a reshard logged between the coverage end and the
    // given start says the slave answered earlier (a late or skewed
    // `slave_up`); it is the catch-up's reshard.
    let early = log.first_reshard(inp.coverage_end.min(up), up);
    match early.or_else(|| log.first_reshard(up, end)) {
        // The slave's log shows the reader at the present by then.
        Some(r) => caught_up::before_reshard(inp, r, series)
            .map_or(Logged::Reshard(r), |c| Logged::After(r, c)),
        // No reshard only where the log reaches: one that starts after the
        // slave's start or ends before the catch-up's latest end cannot
        // rule out a reshard outside it.
        None if log.extent.first_ts.is_some_and(|t| t <= up)
            && log.extent.reaches().is_some_and(|t| t >= end) =>
        {
            Logged::NoReshard
        }
        None => Logged::Unknown,
    }
}

/// Why a log given does not decide, for the assumptions.
fn undecided_log(log: &MasterLog) -> Option<String> {
    if log.decides() {
        return None;
    }
    Some(if let Some(n) = log.extent.unrecognised_note() {
        format!("the master's log is not used: {n}")
    } else if log.ambiguous {
        format!(
            "the master's log holds several remote-write queues ({}) and none was named: it is \
             not used (name the slave's queue by its remote_name or url)",
            log.other_queues.join(", ")
        )
    } else if log.truncated {
        "the master's log holds more events than are kept: it is not used".to_string()
    } else {
        "the master's log holds no line of the slave's remote-write queue: it is not used"
            .to_string()
    })
}

/// What the log decides for a slave up at `up`, and the resharded risk
/// window when nothing does; the assumptions say which.
pub(super) fn decide(
    inp: &ModelInput,
    cr: &Crossing,
    st: &Stall,
    up: i64,
    series: u64,
    assumptions: &mut Vec<String>,
) -> (Logged, Option<LossWindow>) {
    let Some(log) = inp.facts.master_log.as_ref() else {
        let risk = risk_window(inp, cr, st, up, series);
        assumptions.push(
            if risk.is_some() {
                "a reshard during the catch-up (no master's log to decide it): a risk window (L3)"
            } else {
                "a reshard during the catch-up would lose nothing beyond the crossing batch here"
            }
            .to_string(),
        );
        return (Logged::Unknown, risk);
    };
    if let Some(why) = undecided_log(log) {
        assumptions.push(why);
        return (Logged::Unknown, risk_window(inp, cr, st, up, series));
    }
    let l = logged(inp, up, series);
    if let Logged::After(r, c) = l {
        assumptions.push(c.words(r));
    }
    if l == Logged::Unknown {
        assumptions.push(format!(
            "the master's log covers {}, not the whole catch-up from the slave's start {} to its \
             latest end {}: a reshard outside it is not ruled out (a risk window, L3; give a log \
             that covers it, or say when this one was taken if every line up to then is in it)",
            log.extent.span(),
            fmt_time(up),
            fmt_time(catch_up_end(inp, up))
        ));
        return (l, risk_window(inp, cr, st, up, series));
    }
    (l, None)
}

/// The crossing's windows (`windows[before..]`) as the log decides them.
#[allow(clippy::too_many_arguments)]
pub(super) fn apply(
    inp: &ModelInput,
    logged: Logged,
    cr: &Crossing,
    st: &Stall,
    up: i64,
    series: u64,
    windows: &mut Vec<LossWindow>,
    before: usize,
) {
    match logged {
        Logged::Reshard(r)
            if r.at >= cr.cross_from && (cr.resharded || cr.undecided_short.is_some()) =>
        {
            // The log shows a reshard, but not before the reader woke: the
            // batch holding the coverage end may have been sent before it
            // (the crossing's instant is the slave's answer pace, which no
            // file records) or not. The un-resharded crossing batch is lost
            // either way; the resharded catch-up is a risk.
            // Where the rule's reach with the logged count adds nothing,
            // the crossing's own windows stand (as for any logged reshard).
            // The slave's log can order them (`race`): a reader that had
            // not passed the coverage end when the queue resharded.
            if let Some(b) = super::race::reader_behind(inp, r) {
                if let Some(w) = logged_window(inp, cr, st, up, series, r) {
                    windows.truncate(before);
                    windows.extend(reshard_first(inp, w, r, b, series));
                }
                return;
            }
            let Some(risk) = logged_window(inp, cr, st, up, series, r).map(|mut w| {
                w.certainty = Certainty::Risk;
                w.to_earliest = Some(w.to_earliest.unwrap_or(w.to));
                w.why = format!(
                    "the reshard the master's log shows at {} comes {} the batch holding the \
                     coverage end could be sent (from {}, a slave answering the refused backlog \
                     at once, to {} at the model's pace): if it came before that batch, {}",
                    fmt_time(r.at),
                    if r.at > cr.cross_to { "after" } else { "while" },
                    fmt_time(cr.cross_from),
                    fmt_time(cr.cross_to),
                    w.why
                );
                w
            }) else {
                return;
            };
            let short = unresharded_window(inp, cr, Unresharded::AfterWake(r));
            let short_to = short.as_ref().map_or(i64::MIN, |w| w.to);
            windows.truncate(before);
            windows.extend(short);
            if risk.to > short_to {
                windows.push(risk);
            }
        }
        Logged::Reshard(r) => {
            // The log shows the resharded catch-up: its window replaces
            // the crossing's.
            if let Some(w) = logged_window(inp, cr, st, up, series, r) {
                windows.truncate(before);
                windows.push(w);
            }
        }
        Logged::NoReshard if cr.resharded => {
            // The crossing model expected a reshard the log shows did not
            // happen: the crossing batch of the queue as it was.
            windows.truncate(before);
            windows.extend(unresharded_window(inp, cr, Unresharded::NoReshard));
        }
        Logged::After(r, c) if cr.resharded => {
            // The first reshard came after the catch-up: the same.
            windows.truncate(before);
            windows.extend(unresharded_window(inp, cr, Unresharded::After(r, c)));
        }
        _ => {}
    }
}

/// The resharded catch-up when the slave's log shows the reshard came
/// first (`race::reader_behind`): the new shards' first batches straddling
/// the coverage end are `expected` (to one batch span of the logged count
/// after it); whatever the window reaches past that (shards running more
/// than half the block range apart, which no log orders) stays a risk.
fn reshard_first(
    inp: &ModelInput,
    w: LossWindow,
    r: Reshard,
    b: super::race::Behind,
    series: u64,
) -> Vec<LossWindow> {
    let i = inp.scrape_interval.max(1);
    let per = (series / r.to.max(1)).max(1);
    let scrapes = i64::try_from(inp.queue.max_samples_per_send.div_ceil(per)).unwrap_or(i64::MAX);
    let span = scrapes.saturating_mul(i);
    let straddle = inp
        .coverage_end
        .saturating_sub(1)
        .saturating_add(span)
        .min(w.to)
        .max(w.from);
    let why = format!(
        "the slave's log orders the reshard at {} before the batch holding the coverage end: \
         the newest first sample it refused by then is of {}, and a shard holds at most {} \
         scrapes from there (its answered request, one in flight, its channel and partial batch, \
         {} or more of the {series} series in {} shards), so the reader had read at most to {}, \
         a scrape or more before the coverage end, when the shards stopped; the new shards' \
         first batches hold samples older than it and are refused whole",
        fmt_time(r.at),
        fmt_time(b.refused),
        b.scrapes,
        (series / r.from.max(1)).max(1),
        r.from,
        fmt_time(b.reader_at_most)
    );
    let mut sure = w.clone();
    sure.certainty = Certainty::Expected;
    sure.to = straddle;
    sure.to_earliest = w
        .to_earliest
        .map(|e| e.min(straddle))
        .filter(|&e| e < straddle);
    if straddle < w.to {
        sure.bound_to = None;
        sure.slave_range = SlaveRangeUse::half_range(false);
        sure.why = format!(
            "{why}: each ends within one batch span ({}) of the logged {} shards after it, by {}",
            fmt_dur(span),
            r.to,
            fmt_time(straddle)
        );
        let mut rest = w;
        rest.certainty = Certainty::Risk;
        rest.to_earliest = Some(straddle);
        rest.race_rest = true;
        rest.why = format!(
            "past the new shards' first batches (to {}), the resharded catch-up: {}",
            fmt_time(straddle),
            rest.why
        );
        vec![sure, rest]
    } else {
        sure.why = format!("{why}. {}", w.why);
        vec![sure]
    }
}

/// The resharded catch-up as a risk (no log decides): `None` where the
/// rule says it cannot lose more than the crossing window already does.
/// How far the new shards' refused requests reach.
#[derive(Clone, Copy)]
struct Reach {
    /// The latest last sample lost.
    to: i64,
    /// Shards can run more than half the block range apart.
    apart: bool,
    /// One batch's span of a shard's series.
    batch_span: i64,
    /// A shard's queue's span.
    queue_span: i64,
}

/// The rule's reach for `shards` new shards of `series` series, the
/// catch-up ending by `end`, the slave refusing a lag over `half`; `None`
/// when they lose nothing past the coverage end.
fn reach(
    inp: &ModelInput,
    st: &Stall,
    end: i64,
    shards: u64,
    series: u64,
    half: i64,
) -> Option<Reach> {
    let q = &inp.queue;
    let c = inp.coverage_end;
    let i = inp.scrape_interval.max(1);
    // One batch's span of a shard's series (the fewest a shard holds:
    // `ref % shards`), and its queue's.
    let per = (series / shards.max(1)).max(1);
    let batch_span = (q.max_samples_per_send.div_ceil(per) as i64).saturating_mul(i);
    // A shard holds its channel (`capacity` samples in batches), the
    // batch it fills (`queue.Append`) and the one it sends (`runShard`).
    let held = q.capacity.saturating_add(2 * q.max_samples_per_send);
    let queue_span = ((held / per) as i64).saturating_mul(i);
    // (A) a tick can find the reader before the coverage end only if it
    // stalled there; (B) shards can run more than half the range apart.
    let straddle = st.position < c;
    let apart = queue_span > half && end - st.position > half;
    // (A) ends within one batch span after the coverage end; (B) a refused
    // request's oldest sample is more than half the range behind the
    // newest one written (at most the time of the refusal, by `end`), and
    // its newest one batch span after that.
    let by_straddle = straddle.then(|| (c - 1).saturating_add(batch_span).min(end));
    let by_apart = apart.then(|| (end - half).saturating_add(batch_span).min(end));
    Some(Reach {
        to: by_straddle.max(by_apart)?,
        apart,
        batch_span,
        queue_span,
    })
}

fn risk_window(
    inp: &ModelInput,
    cr: &Crossing,
    st: &Stall,
    up: i64,
    series: u64,
) -> Option<LossWindow> {
    let q = &inp.queue;
    let c = inp.coverage_end;
    if q.max_shards <= q.min_shards || cr.catch_up_shards <= q.min_shards {
        return None;
    }
    let half = half_range(inp);
    let end = catch_up_end(inp, up);
    let from = cr.start.max(c);
    // The fewest series a shard can hold; with the master's range taken for
    // the slave's, also the reach with any slave range.
    let any = slave_range_taken(inp)
        .then(|| reach(inp, st, end, q.max_shards, series, 0))
        .flatten();
    let any_to = any.map(|a| a.to);
    // Where the master's range says nothing past the crossing, no window:
    // the assumption names the range taken.
    let main = reach(inp, st, end, q.max_shards, series, half)?;
    let to = main.to;
    let Reach {
        apart,
        batch_span,
        queue_span,
        ..
    } = main;
    if to <= cr.expected_end || to < from {
        return None;
    }
    let earliest = cr.earliest_end.min(cr.expected_end).clamp(from, to);
    let w = LossWindow {
        cause: Cause::L3,
        from,
        to,
        to_earliest: Some(earliest),
        to_expected: None,
        bound_to: None,
        certainty: Certainty::Risk,
        series: None,
        ongoing: false,
        slave_range: SlaveRangeUse::half_range(true),
        race_rest: false,
        why: format!(
            "{RISK_LEAD} (a race of its pace against the \
             10 s reshard tick that no file records; give the master's log to decide it): the \
             new shards (up to {max}, each with {per} or more of the {series} series) start empty \
             at the reader's position, and the slave refuses whole every request {}; such a \
             request's newest sample is at most when it was sent, by the end of a resharded \
             catch-up, {} (two max_backoff {}, one reshard tick, one batch_send_deadline {} after \
             the slave's start). Earliest end: the crossing batch ({})",
            if apart {
                format!(
                    "holding a sample older than the coverage end, or more than half the block \
                     range ({}) older than the newest sample another shard wrote: a shard's queue \
                     ({} samples and two batches) spans {} of its series, more than that, so every \
                     shard can lag; \
                     such a request starts more than that half range before its refusal and spans \
                     at most {} ({} samples): it ends by {}",
                    fmt_dur(half),
                    q.capacity,
                    fmt_dur(queue_span),
                    fmt_dur(batch_span),
                    q.max_samples_per_send,
                    fmt_time(to)
                )
            } else {
                format!(
                    "holding a sample older than the coverage end: a new shard's first batch \
                     spans at most {} ({} samples), to {} (a shard's queue spans {}, under half \
                     the block range: no shard lags the others that far)",
                    fmt_dur(batch_span),
                    q.max_samples_per_send,
                    fmt_time(to),
                    fmt_dur(queue_span)
                )
            },
            fmt_time(end),
            fmt_dur(q.max_backoff),
            fmt_dur(q.batch_send_deadline),
            fmt_time(earliest),
            max = q.max_shards,
            per = (series / q.max_shards.max(1)).max(1),
        ),
    };
    Some(with_any_range(inp, w, any_to))
}

/// The resharded catch-up the master's log shows: the rule's reach with
/// the shard count it logged (the first reshard after the slave's start);
/// earliest end, the crossing batch's. Refused requests are no end: 2.42
/// logs remote storage through `logging.Dedupe` (one minute), so a
/// refusal equal to one logged less than a minute before is not logged.
fn logged_window(
    inp: &ModelInput,
    cr: &Crossing,
    st: &Stall,
    up: i64,
    series: u64,
    r: Reshard,
) -> Option<LossWindow> {
    let c = inp.coverage_end;
    let half = half_range(inp);
    let end = catch_up_end(inp, up).max(r.at);
    let Reach {
        to,
        apart,
        batch_span,
        ..
    } = reach(inp, st, end, r.to, series, half)?;
    // With the master's range taken for the slave's, the reach with any
    // slave range too (the same logged shard count).
    let any_to = slave_range_taken(inp)
        .then(|| reach(inp, st, end, r.to, series, 0))
        .flatten()
        .map(|a| a.to);
    let from = cr.start.max(c);
    let to = to.max(cr.expected_end).max(from);
    let earliest = cr.earliest_end.min(cr.expected_end).clamp(from, to);
    let w = LossWindow {
        cause: Cause::L3,
        from,
        to,
        to_earliest: (earliest < to).then_some(earliest),
        to_expected: None,
        bound_to: None,
        certainty: Certainty::Expected,
        series: None,
        ongoing: false,
        slave_range: SlaveRangeUse::half_range(apart),
        race_rest: false,
        why: format!(
            "the master's log: the queue resharded from {} to {} shards at {}, after the slave \
             was up; the new shards start empty at the reader's position then, each with {} or \
             more of the {series} series, and the slave refuses whole every request holding a \
             sample older than the coverage end{}. Such a request spans at most {} ({} samples): \
             the loss ends by {} (the end of a resharded catch-up {}), at the earliest with the \
             crossing batch ({})",
            r.from,
            r.to,
            fmt_time(r.at),
            (series / r.to.max(1)).max(1),
            apart_words(apart, half),
            fmt_dur(batch_span),
            inp.queue.max_samples_per_send,
            fmt_time(to),
            fmt_time(end),
            fmt_time(earliest)
        ),
    };
    Some(with_any_range(inp, w, any_to))
}

/// Why the crossing batch is the un-resharded queue's.
#[derive(Clone, Copy)]
enum Unresharded {
    /// No reshard during the catch-up.
    NoReshard,
    /// The first reshard after the reader woke.
    AfterWake(Reshard),
    /// The first reshard after the catch-up was through.
    After(Reshard, CaughtUp),
}

/// The crossing batch when the crossing model expected a reshard before it
/// and the master's log shows none during the catch-up: the queue's
/// `min_shards` shards cut it (`Crossing::other_end`, the path without the
/// reshard).
fn unresharded_window(inp: &ModelInput, cr: &Crossing, r: Unresharded) -> Option<LossWindow> {
    let c = inp.coverage_end;
    let (from, to, series) = match cr.undecided_short {
        Some(u) => u,
        None => (cr.start.max(c), cr.other_end, cr.other_series),
    };
    (to >= from && series != Some(0)).then(|| {
        let mut w = LossWindow::new(
            Cause::L3,
            from,
            to,
            Certainty::Expected,
            format!(
                "{}: the batch crossing the coverage end is one of the queue's {} shard(s), \
                 refused whole (400) and dropped, to {}",
                match r {
                    Unresharded::NoReshard => {
                        "the master's log shows no reshard during the catch-up".to_string()
                    }
                    Unresharded::After(r, c) => c.words(r),
                    Unresharded::AfterWake(r) => format!(
                        "the master's log shows the first reshard after the slave's start at {}, \
                         after the reader woke: the batch holding the coverage end is lost on \
                         either side of it",
                        fmt_time(r.at)
                    ),
                },
                inp.queue.min_shards,
                fmt_time(to)
            ),
        );
        w.series = series;
        w
    })
}
