//! L3 from the slave's log (issue 14's tenth pass): the requests the slave
//! refused, each lost whole ([`crate::coverage::slavelog`]).
//!
//! A refused request starts at its logged `timestamp` (the first sample
//! the head refused: the request's oldest older than the head's minimum
//! valid time, its samples being in WAL order) and holds at most
//! `max_samples_per_send` samples of one shard's series: at least
//! ⌊series / n⌋ of them with `n` shards (`ref % n`), one sample per series
//! a scrape, so it ends at most m = ⌈`max_samples_per_send` / ⌊series /
//! n⌋⌉ scrapes after its start (with an exporter's lag, a scrape's record
//! holds the lagged samples, then its own series stamped at the scrape: a
//! lagged start's record ends `lag` later, and past m record ends only the
//! next record's lagged samples follow), and no later than when it was
//! answered (the line's `ts`: a request holds no sample newer than its
//! send; with one target and no lag, the last scrape of the first sample's
//! grid by then). `n` is the shard count the master's log shows at the refusal
//! (the latest reshard's `to` before it, else `min_shards`; or the count
//! before a reshard logged less than the flush deadline before it, where
//! larger: the old shards flush after the line); without a log
//! that decides, `max_shards` (the fewest series a shard holds: the
//! longest span). With the master WAL's scrape grids the span is also
//! walked on them, each target's ⌊series / n⌋ series at its own interval
//! (the slowest shard's: which shard sent the request no file says), and
//! the later end is taken: targets slower than the global interval fill a
//! shard's batch over a longer span than the global count gives.
//!
//! What the log **adds**: refused requests starting after the coverage end
//! are lost from that start; those whose spans touch (within a scrape) are
//! one run, an `expected` window from its first start to the latest end,
//! at the earliest its last start. Requests starting at or before the
//! coverage end whose spans reach such a run join it: it then starts at the
//! first scrape after the coverage end. A run inside the sure part of a
//! window already predicted confirms it (no window added).
//!
//! What it **narrows**: every boundary loss (L3: the crossing batch, the
//! resharded catch-up, its risks) is a refused request, and the slave logs
//! every one. So when the log holds the whole catch-up — it starts by the
//! slave's start and reaches the catch-up's latest end (and every L3
//! window's end) — no L3 window ends after the latest refused request's
//! end; one that would start after it is removed (no refusal at all: no
//! boundary loss). The log never moves a window's start and never widens
//! one; windows of other causes (requests never sent: L1, L2, L5–L10) are
//! not refusals and stay.
//!
//! A log that says lines are missing from it (journald's rate limit, a
//! `# cut` note) is read by [`missing`]: each span is taken at the widest
//! loss it can hide, as a risk, and bounds the narrowing.

use super::reshard::catch_up_end;
use super::{Cause, Certainty, LossWindow, ModelInput};
use crate::coverage::queue::FLUSH_DEADLINE;
use crate::coverage::slavelog::{Refused, SlaveLog};
use crate::coverage::{fmt_dur, fmt_time};

/// A run of refused requests starting after the coverage end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Run {
    /// The first start.
    pub from: i64,
    /// The last start: the earliest the run ends.
    pub last_start: i64,
    /// The latest end.
    pub to: i64,
    /// Requests in it.
    pub requests: u64,
}

/// The shard count at a refusal logged at `at`: the latest reshard's `to`
/// before it, or the count before a reshard logged less than the flush
/// deadline before it where that is larger (the most shards: the fewest
/// series a shard holds, the longest span). `updateShardsLoop` logs
/// "Remote storage resharding" when it hands the count to `reshardLoop`,
/// whose `shards.stop` then lets the old shards send what they hold (up to
/// the flush deadline) before the new ones start: a request refused after
/// the line can be one of theirs.
fn shards(inp: &ModelInput, at: i64) -> u64 {
    let q = &inp.queue;
    match inp.facts.master_log.as_ref().filter(|l| l.decides()) {
        Some(log) => {
            let latest = log
                .reshards
                .iter()
                .filter(|r| r.at <= at)
                .max_by_key(|r| r.at)
                .map_or(q.min_shards, |r| r.to);
            log.reshards
                .iter()
                .filter(|r| r.at <= at && at.saturating_sub(r.at) <= FLUSH_DEADLINE)
                .map(|r| r.from)
                .fold(latest, u64::max)
        }
        None => q.max_shards,
    }
    .max(1)
}

/// Every shard count a refusal logged at `at` may have been sent with, by
/// the master's log that decides it (the latest reshard's `to` before it,
/// else `min_shards`, and the `from` of every reshard logged less than the
/// flush deadline before it); `None` without such a log.
fn shard_counts(inp: &ModelInput, at: i64) -> Option<Vec<u64>> {
    let log = inp.facts.master_log.as_ref().filter(|l| l.decides())?;
    let latest = log
        .reshards
        .iter()
        .filter(|r| r.at <= at)
        .max_by_key(|r| r.at)
        .map_or(inp.queue.min_shards, |r| r.to);
    let mut v: Vec<u64> = log
        .reshards
        .iter()
        .filter(|r| r.at <= at && at.saturating_sub(r.at) <= FLUSH_DEADLINE)
        .map(|r| r.from)
        .chain([latest])
        .map(|n| n.max(1))
        .collect();
    v.sort_unstable();
    v.dedup();
    Some(v)
}

/// A refused request's end from its first sample's place among its shard's
/// samples of that scrape (`places`): `⌊(j + max_samples_per_send − 1) /
/// per⌋` scrapes after it, the latest over the shard counts it may have
/// been sent with. Only with one target scraping without a lag (every
/// scrape's record the same refs in the same order, nothing else in the
/// shard's stream), every sample sent (no `write_relabel_configs` count),
/// and the master's log deciding the shard count; `None` otherwise.
fn placed_end(inp: &ModelInput, r: &Refused) -> Option<i64> {
    let key = r.series?;
    let places = inp.series_places.as_ref()?;
    let one_target = inp.targets == Some(1)
        || inp
            .scrape_grids
            .as_ref()
            .is_some_and(|g| g.grids.len() == 1);
    if !one_target || lag(inp) != 0 || inp.facts.sent_series.is_some() {
        return None;
    }
    // The record placing it must be a whole scrape of the target.
    let scrape = match inp.scrape_grids.as_ref() {
        Some(g) => g.grids.first().map(|g| g.series),
        None => inp.series,
    }?;
    let i = inp.scrape_interval.max(1);
    let b = inp.queue.max_samples_per_send.max(1);
    let mut end: Option<i64> = None;
    for n in shard_counts(inp, r.at)? {
        let p = places
            .place(key, n)
            .filter(|p| p.per > 0 && p.record == scrape)?;
        let scrapes = i64::try_from(p.before.saturating_add(b - 1) / p.per).ok()?;
        let e = r.sample.saturating_add(scrapes.saturating_mul(i));
        end = Some(end.map_or(e, |x| x.max(e)));
    }
    end
}

/// The latest sample a refused request can hold.
pub(super) fn request_end(inp: &ModelInput, r: &Refused) -> i64 {
    let i = inp.scrape_interval.max(1);
    let lag = lag(inp);
    let (global, grids) = span_ends(inp, r);
    let end = global.max(grids);
    // Placed among its shard's samples: no later than that count.
    let end = placed_end(inp, r).map_or(end, |p| p.min(end));
    if r.at < r.sample || end <= r.at {
        return end;
    }
    // Answered before its batch span was over: no sample after the answer.
    // One target without a lag scrapes on the grid of the request's first
    // sample; otherwise another target's sample may fall anywhere up to it.
    let one_grid = lag == 0
        && (inp.targets == Some(1)
            || inp
                .scrape_grids
                .as_ref()
                .is_some_and(|g| g.grids.len() == 1));
    if one_grid {
        r.sample
            .saturating_add(r.at.saturating_sub(r.sample) / i * i)
    } else {
        r.at
    }
}

/// A refused request's end by the global interval's count and by the
/// scrape grids' walk ([`grid_end`], `i64::MIN` without grids), before its
/// answer bounds it.
fn span_ends(inp: &ModelInput, r: &Refused) -> (i64, i64) {
    let i = inp.scrape_interval.max(1);
    let series = inp.series.unwrap_or(1).max(1);
    let n = shards(inp, r.at);
    let per = (series / n).max(1);
    let lag = lag(inp);
    // Scrape records crossed: each ends with the scrape's own series
    // (stamped at the scrape, `scrapeLoop.report` appends them after the
    // target's samples, one commit); a lagged first sample's record is its
    // time + lag. After `m` record ends the request can reach the next
    // record's lagged samples only, `lag` before that scrape.
    let m = inp.queue.max_samples_per_send.div_ceil(per) as i64;
    let span = if lag > 0 {
        lag.saturating_add(
            (m - 1)
                .saturating_mul(i)
                .max(m.saturating_mul(i).saturating_sub(lag)),
        )
    } else {
        m.saturating_mul(i)
    };
    (r.sample.saturating_add(span), grid_end(inp, r, n, lag))
}

/// The end of a refused request counted on the master's scrape grids (the
/// WAL's, several intervals or one): `max_samples_per_send` samples after
/// its first one on the grids of the slowest of `n` shards (which shard
/// sent it no file says; each target's ⌊series / n⌋ series a shard, at
/// that target's interval), plus the lag of a lagged first sample's
/// record. A shard holding series of targets slower than the global
/// interval fills its batch over a longer span than the global count
/// gives; where the targets are faster, the global count stays the bound
/// (a slow target's scrape reaches the WAL, and the batch, up to its
/// timeout after its timestamp, which no file gives: a count by timestamp
/// alone can hold samples the request did not). `i64::MIN` without grids.
fn grid_end(inp: &ModelInput, r: &Refused, n: u64, lag: i64) -> i64 {
    inp.scrape_grids
        .as_ref()
        .and_then(|g| g.slowest_shard(n))
        .and_then(|g| g.nth_sample_after(r.sample, inp.queue.max_samples_per_send))
        .map_or(i64::MIN, |(at, _)| at.saturating_add(lag))
}

fn lag(inp: &ModelInput) -> i64 {
    inp.scrape_grids
        .as_ref()
        .and_then(|g| g.lag())
        .map_or(0, |g| g.lag.max(0))
}

/// The runs of refused requests starting after the coverage end.
pub(super) fn runs(inp: &ModelInput, log: &SlaveLog) -> Vec<Run> {
    let c = inp.coverage_end;
    let i = inp.scrape_interval.max(1);
    let mut spans: Vec<(i64, i64)> = log
        .refusals
        .iter()
        .filter(|r| r.sample > c)
        .map(|r| (r.sample, request_end(inp, r).max(r.sample)))
        .collect();
    spans.sort_unstable();
    let mut out: Vec<Run> = Vec::new();
    for (s, e) in spans {
        match out.last_mut() {
            Some(run) if s <= run.to.saturating_add(i) => {
                run.to = run.to.max(e);
                run.last_start = run.last_start.max(s);
                run.requests += 1;
            }
            _ => out.push(Run {
                from: s,
                last_start: s,
                to: e,
                requests: 1,
            }),
        }
    }
    chain_back(inp, log, &mut out);
    out
}

/// Joins to a run the refused requests that start at or before the
/// coverage end and whose spans reach it (within a scrape): their samples
/// after the coverage end, from the first scrape after it, were refused
/// with them, so the run starts there. Only a run already placed by
/// requests after the coverage end is joined: a request before it alone
/// is the crossing batch, the model's window.
fn chain_back(inp: &ModelInput, log: &SlaveLog, runs: &mut [Run]) {
    let c = inp.coverage_end;
    let i = inp.scrape_interval.max(1);
    for r in log.refusals.iter().filter(|r| r.sample <= c) {
        let end = request_end(inp, r);
        // The first scrape after the coverage end on the request's grid.
        let first = r
            .sample
            .saturating_add((c.saturating_sub(r.sample) / i + 1).saturating_mul(i));
        if end < first {
            continue;
        }
        for run in runs.iter_mut() {
            if first <= run.from && end.saturating_add(i) >= run.from {
                run.from = first;
                run.requests += 1;
            }
        }
    }
}

/// Applies the slave's log to `windows`; the sentence the verdict gets.
pub(super) fn apply(
    inp: &ModelInput,
    windows: &mut Vec<LossWindow>,
    assumptions: &mut Vec<String>,
) -> Option<String> {
    let Some(log) = inp.facts.slave_log.as_ref() else {
        if inp.slave_up.is_some() {
            assumptions.push(
                "no slave's log given: the boundary windows (L3) are the model's; the slave logs \
                 every request it refused, with where it starts, which would place and bound them"
                    .into(),
            );
        }
        return None;
    };
    if let Some(n) = log.extent.unrecognised_note() {
        assumptions.push(format!("the slave's log is not used: {n}"));
        return Some("The slave's log was not used (no line of it was recognised).".into());
    }
    if log.truncated {
        assumptions.push(format!(
            "the slave's log holds more than {} refused requests or {} spans of missing lines: \
             it is not used",
            crate::coverage::slavelog::MAX_REFUSALS,
            crate::coverage::slavelog::missing::MAX_MISSING
        ));
        return Some("The slave's log was not used (too many refused requests).".into());
    }
    let c = inp.coverage_end;
    assumptions.push(
        "every request the slave's log shows refused is taken as this master's queue's (the \
         slave receives remote write from it alone)"
            .into(),
    );
    let added = add_runs(inp, log, windows);
    missing::add(inp, log, windows, assumptions);
    let Some(up) = inp.slave_up else {
        assumptions.push(
            "the slave's log is read for its refused requests only: without the slave's ready \
             time it cannot say it holds the whole catch-up"
                .into(),
        );
        return Some(read_sentence(log, &added, None));
    };
    let l3_end = windows
        .iter()
        .filter(|w| w.cause == Cause::L3)
        .map(|w| w.to)
        .max()
        .unwrap_or(c);
    let reach = catch_up_end(inp, up).max(l3_end);
    if !log.covers(up, reach) {
        assumptions.push(format!(
            "the slave's log covers {}, not the whole catch-up from the slave's start {} to {} \
             (its latest end, and that of every boundary window): a refusal outside it is not \
             ruled out, so it narrows no window (give a log that covers it, or say when this one \
             was taken if every line up to then is in it)",
            log.extent.span(),
            fmt_time(up),
            fmt_time(reach)
        ));
        return Some(read_sentence(log, &added, None));
    }
    let bound = latest_end(inp, log);
    narrow(windows, bound);
    narrow_crossing(inp, log, windows, assumptions);
    if log.refusals.iter().any(|r| {
        let (global, grids) = span_ends(inp, r);
        grids > global
    }) {
        assumptions.push(
            "a refused request spans its shard's samples on the master's scrape grids (each \
             target's series a shard at its own interval, longer than the global interval's \
             count here); which shard sent it no file says, so the span is the slowest shard's \
             (each target's ⌊series / shards⌋ series)"
                .into(),
        );
    }
    assumptions.push(format!(
        "the slave's log covers the catch-up ({}): every boundary loss is a request it refused, \
         and it logs each one; its clock is taken as the master's",
        log.extent.span()
    ));
    Some(read_sentence(log, &added, Some(bound)))
}

/// The latest sample a request the log shows refused, or hides in a span
/// of missing lines, can hold; `None`: no refusal at all.
fn latest_end(inp: &ModelInput, log: &SlaveLog) -> Option<i64> {
    log.refusals
        .iter()
        .map(|r| request_end(inp, r))
        .chain(missing::latest_end(inp, log))
        .max()
}

/// Adds the runs after the coverage end that no window holds; returns them.
fn add_runs(inp: &ModelInput, log: &SlaveLog, windows: &mut Vec<LossWindow>) -> Vec<Run> {
    let i = inp.scrape_interval.max(1);
    let mut added = Vec::new();
    for run in runs(inp, log) {
        let confirmed = windows.iter().any(|w| {
            w.certainty != Certainty::Risk
                && w.from <= run.from.saturating_add(i)
                && run.to <= w.to_earliest.unwrap_or(w.to).saturating_add(i)
        });
        if confirmed {
            continue;
        }
        let mut w = LossWindow::new(
            Cause::L3,
            run.from,
            run.to,
            Certainty::Expected,
            format!(
                "the slave's log: {} request(s) refused whole (out of bounds or out of order) \
                 whose first refused samples run from {} to {}, after the coverage end: each \
                 spans at most {} samples of one shard's series, so the loss runs from the first \
                 to at most {} (at the earliest the last start)",
                run.requests,
                fmt_time(run.from),
                fmt_time(run.last_start),
                inp.queue.max_samples_per_send,
                fmt_time(run.to)
            ),
        );
        w.to_earliest = (run.last_start < run.to).then_some(run.last_start);
        windows.push(w);
        added.push(run);
    }
    added
}

/// The end of the loss that starts at the coverage end, from the slave's
/// log alone, when each refused request is in it: the latest end of the
/// requests starting by the coverage end (the crossing batches and the
/// backlog before them), extended by each run after it that starts within
/// a scrape of that end. A later run is a separate loss ([`runs`]: a window
/// of its own). `None` unless every refusal line names its series: 2.42
/// writes one line per refused request, each naming its first refused
/// sample's series, so a line naming none was written by a summary of the
/// log (one that cut lines), and a chain needs every start; nor when the
/// log says lines are missing ([`missing`]).
fn crossing_end(inp: &ModelInput, log: &SlaveLog) -> Option<i64> {
    if log.unnamed > 0 || log.refusals.is_empty() || !log.missing.is_empty() {
        return None;
    }
    let c = inp.coverage_end;
    let i = inp.scrape_interval.max(1);
    let mut end = log
        .refusals
        .iter()
        .filter(|r| r.sample <= c)
        .map(|r| request_end(inp, r))
        .fold(c, i64::max);
    for run in runs(inp, log) {
        if run.from <= end.saturating_add(i) {
            end = end.max(run.to);
        }
    }
    Some(end)
}

/// Every L3 window ends by `bound` (the latest refused request's end);
/// one that starts after it goes. `None`: no refusal at all.
fn narrow(windows: &mut Vec<LossWindow>, bound: Option<i64>) {
    windows.retain_mut(|w| {
        if w.cause != Cause::L3 {
            return true;
        }
        let Some(b) = bound.filter(|&b| b >= w.from) else {
            return false;
        };
        cut_at(
            w,
            b,
            "no request it refused holds a sample after {}, so the loss ends by then",
        );
        true
    });
    // The reshard race's rest past the new shards' first batches
    // (`reshard::reshard_first`), narrowed into the expected window that
    // holds them: nothing more is at risk.
    let sure: Vec<(i64, i64)> = windows
        .iter()
        .filter(|w| w.cause == Cause::L3 && w.certainty == Certainty::Expected)
        .map(|w| (w.from, w.to))
        .collect();
    windows.retain(|w| !(w.race_rest && sure.iter().any(|&(f, t)| f <= w.from && w.to <= t)));
}

/// The L3 windows starting by the first scrape after the coverage end end
/// by [`crossing_end`]; one that starts after it goes.
fn narrow_crossing(
    inp: &ModelInput,
    log: &SlaveLog,
    windows: &mut Vec<LossWindow>,
    assumptions: &mut Vec<String>,
) {
    let Some(end) = crossing_end(inp, log) else {
        return;
    };
    let start_by = inp.coverage_end.saturating_add(inp.scrape_interval.max(1));
    assumptions.push(format!(
        "every refusal line of the slave's log names its series (2.42 writes each one): the loss \
         from the coverage end ends with the refused requests that start by it and the runs their \
         spans reach one after the other ({}); a later run is a window of its own",
        fmt_time(end)
    ));
    windows.retain_mut(|w| {
        if w.cause != Cause::L3 || w.from > start_by {
            return true;
        }
        if w.from > end {
            return false;
        }
        cut_at(
            w,
            end,
            "the requests it refused that start by the coverage end, and the runs their spans \
             reach, hold no sample after {}, so the loss from the coverage end ends by then",
        );
        true
    });
}

/// Cuts `w` at `b` when it reaches past it, saying why (`why` holds one
/// `{}` for the time).
fn cut_at(w: &mut LossWindow, b: i64, why: &str) {
    if w.to > b {
        w.to = b;
        w.to_earliest = w.to_earliest.map(|e| e.min(b)).filter(|&e| e < b);
        w.to_expected = w.to_expected.map(|e| e.min(b));
        w.bound_to = w.bound_to.map(|e| e.min(b));
        w.why.push_str("; the slave's log: ");
        w.why.push_str(&why.replacen("{}", &fmt_time(b), 1));
    }
}

/// What the log showed, for the verdict.
fn read_sentence(log: &SlaveLog, added: &[Run], bound: Option<Option<i64>>) -> String {
    let mut s = format!("The slave's log ({}) was read: ", log.extent.span());
    if log.refused == 0 {
        s.push_str("it shows no refused request");
    } else {
        s.push_str(&format!(
            "{} refused request(s), first refused samples {} … {}",
            log.refused,
            log.sample_min.map_or("?".into(), fmt_time),
            log.sample_max.map_or("?".into(), fmt_time)
        ));
    }
    match bound {
        Some(None) => {
            s.push_str("; it holds the whole catch-up, so nothing is lost at the boundary")
        }
        Some(Some(b)) => s.push_str(&format!(
            "; it holds the whole catch-up, so no boundary loss ends after {}",
            fmt_time(b)
        )),
        None => s.push_str("; it does not hold the whole catch-up and narrows nothing"),
    }
    // At most a few runs by name; the windows hold them all.
    const NAMED: usize = 5;
    for r in added.iter().take(NAMED) {
        s.push_str(&format!(
            "; lost after the coverage end: {} → {} ({} request(s), {} at most)",
            fmt_time(r.from),
            fmt_time(r.to),
            r.requests,
            fmt_dur(r.to - r.from)
        ));
    }
    if added.len() > NAMED {
        s.push_str(&format!("; and {} more such run(s)", added.len() - NAMED));
    }
    s.push('.');
    s
}

#[path = "refused_missing.rs"]
mod missing;

#[cfg(test)]
#[path = "refused_tests.rs"]
mod tests;
