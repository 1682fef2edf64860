//! L4: the isolation race at the snapshot's head read, decided target by
//! target from the head block's `up` samples (Prometheus 2.42, read in
//! tsdb/db.go `Snapshot`, tsdb/head.go `RangeHead`, tsdb/head_append.go
//! `headAppender.Commit`, tsdb/isolation.go, scrape/scrape.go).
//!
//! The snapshot writes the head as a block over `[head min, head max + 1)`
//! (`head max` = the newest committed sample when the call read it), with
//! the isolation state taken at the read: an append still open then is not
//! in the block, nor is one opened after it. A scrape's appender is opened
//! when the scrape starts (before the HTTP request, so for the whole scrape
//! and up to its timeout) and its samples, `up` among them (`up` 0 for a
//! failed scrape), carry the scrape's start time. The slave takes the
//! block's end as its minValidTime and refuses every sample older. So a
//! target whose next scrape is stamped before the coverage end but is not
//! in the block lost that scrape, all its series; a target whose next
//! scrape is stamped at or after the coverage end lost nothing to the race.
//! One scrape at most: the scrape loop starts the next scrape only after
//! the previous one committed, and that commit, before the read, would be
//! in the block.

use super::{Cause, Certainty, LossWindow, ModelInput};
use crate::coverage::uptail::UpTail;
use crate::coverage::{fmt_dur, fmt_time};

/// How far a scrape's timestamp can lie from its target's grid (the last
/// `up` plus one interval), both ways: 2.42 stamps a scrape with the
/// ticker's aligned time when the tick came within 2 ms of it
/// (`ScrapeTimestampTolerance`), else with the late tick's wall time, so a
/// late tick moves one timestamp and the next aligned one comes back. On
/// the recorded runs' master WALs (docs/LOSS-WINDOWS.md, the fifteenth
/// pass) the step between consecutive scrapes of a target differed from
/// its interval by at most 81 ms in 32 441 steps; this is that with a
/// margin. A next scrape within it of the coverage end is undecided.
pub(crate) const JITTER: i64 = 250;

/// What the race did to one target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fate {
    /// Its next scrape is stamped after the coverage end: nothing lost.
    After(i64),
    /// Its next scrape is stamped within [`JITTER`] of the coverage end.
    Undecided(i64),
    /// Its next scrape is stamped before the coverage end and is not in
    /// the block: in flight at the read, lost.
    InFlight(i64),
    /// Its newest `up` is a staleness marker: its scrape loop stopped, no
    /// scrape of it can be in flight.
    Stopped,
    /// The tail does not decide (too few samples, a target gone without a
    /// marker, failed commits).
    Unknown(&'static str),
}

/// A target's interval (the median step of its `up` tail) and fate.
pub(crate) fn fate(t: &UpTail, c0: i64, timeout: i64) -> (Option<i64>, Fate) {
    if t.stale {
        return (None, Fate::Stopped);
    }
    let mut steps: Vec<i64> = t
        .times
        .iter()
        .zip(t.times.iter().skip(1))
        .map(|(a, b)| b.saturating_sub(*a))
        .collect();
    steps.sort_unstable();
    let Some(&iv) = steps
        .get(steps.len().saturating_sub(1) / 2)
        .filter(|&&s| s > 0)
    else {
        return (
            None,
            Fate::Unknown("fewer than two `up` samples in the head block"),
        );
    };
    let Some(&last) = t.times.last() else {
        return (None, Fate::Unknown("no `up` sample in the head block"));
    };
    let end = c0.saturating_sub(1);
    let next = last.saturating_add(iv);
    let fate = if last > end {
        Fate::Unknown("an `up` sample after the coverage end")
    } else if next > end.saturating_add(JITTER) {
        Fate::After(next)
    } else if next >= end.saturating_sub(JITTER) {
        Fate::Undecided(next)
    } else if end.saturating_sub(last) > iv.saturating_add(timeout.min(iv)).saturating_add(JITTER) {
        // That scrape would have ended by its timeout and committed before
        // the read: the target was stopped or its commits failed.
        Fate::Unknown("its newest `up` is older than one interval plus the scrape timeout")
    } else {
        Fate::InFlight(next)
    };
    (Some(iv), fate)
}

/// L4 into `windows`: per target from the head block's `up` tails when at
/// least one target's tail decides, else the bound on every target
/// ([`bound`]).
pub(super) fn isolation_race(
    inp: &ModelInput,
    windows: &mut Vec<LossWindow>,
    assumptions: &mut Vec<String>,
) {
    let c0 = inp.coverage_end;
    let tails = inp.up_tails.as_deref().unwrap_or_default();
    let fates: Vec<(&UpTail, Option<i64>, Fate)> = tails
        .iter()
        .map(|t| {
            let (iv, f) = fate(t, c0, inp.scrape_timeout);
            (t, iv, f)
        })
        .collect();
    if fates.iter().all(|f| matches!(f.2, Fate::Unknown(_))) {
        bound(inp, windows, assumptions);
        return;
    }
    let mut lost: Vec<(i64, u64, Vec<&UpTail>)> = Vec::new();
    let mut undecided: Vec<(i64, u64, Vec<&UpTail>)> = Vec::new();
    let mut unknown: Vec<&UpTail> = Vec::new();
    let mut after = 0usize;
    for (t, _, f) in &fates {
        match *f {
            Fate::After(_) | Fate::Stopped => after += 1,
            Fate::InFlight(at) => add(&mut lost, at, t),
            Fate::Undecided(at) => add(&mut undecided, at, t),
            Fate::Unknown(_) => unknown.push(t),
        }
    }
    let end = c0.saturating_sub(1);
    for (at, n, who) in &lost {
        windows.push(scrape_window(
            at.saturating_sub(JITTER),
            at.saturating_add(JITTER).min(end),
            *n,
            who,
            true,
        ));
    }
    for (at, n, who) in &undecided {
        windows.push(scrape_window(
            at.saturating_sub(JITTER),
            end,
            *n,
            who,
            false,
        ));
    }
    if !unknown.is_empty() {
        let w = inp.scrape_interval.min(inp.scrape_timeout).max(1);
        let mut win = LossWindow::new(
            Cause::L4,
            c0.saturating_sub(w),
            end,
            Certainty::Bound,
            format!(
                "{}: their head-block `up` samples do not show their next scrape ({}); such a \
                 target's scrape still being committed when the snapshot read the head carries a \
                 timestamp before the coverage end, so it is neither in the snapshot nor \
                 accepted by the slave: at most the last scrape interval ({}) before the \
                 coverage end, for their series",
                names(&unknown),
                unknown
                    .iter()
                    .map(|t| fate(t, c0, inp.scrape_timeout).1)
                    .find_map(|f| match f {
                        Fate::Unknown(why) => Some(why),
                        _ => None,
                    })
                    .unwrap_or("unknown"),
                fmt_dur(w)
            ),
        );
        win.series = series_of(&unknown);
        windows.push(win);
    }
    assumptions.push(summary(
        &fates,
        after,
        lost.len(),
        undecided.len(),
        unknown.len(),
    ));
}

/// Adds target `t` to the group at `at` (targets whose next scrapes lie
/// within [`JITTER`] of each other share one window, their series summed).
fn add<'a>(groups: &mut Vec<(i64, u64, Vec<&'a UpTail>)>, at: i64, t: &'a UpTail) {
    if let Some(g) = groups
        .iter_mut()
        .find(|g| g.0.abs_diff(at) <= JITTER.unsigned_abs())
    {
        g.0 = g.0.min(at);
        g.1 = g.1.saturating_add(t.series);
        g.2.push(t);
    } else {
        groups.push((at, t.series, vec![t]));
    }
}

/// One scrape's window: expected (`lost`) or a bound (undecided).
fn scrape_window(from: i64, to: i64, n: u64, who: &[&UpTail], lost: bool) -> LossWindow {
    let why = if lost {
        format!(
            "the isolation race: {}'s next scrape (its last `up` in the head block plus its \
             interval) is stamped before the coverage end but is not in the block: it was in \
             flight when the snapshot read the head, and the slave refuses it as too old: that \
             one scrape is lost, {n} series",
            names(who)
        )
    } else {
        format!(
            "the isolation race, undecided: {}'s next scrape is stamped within {} of the coverage \
             end (the scrape timestamps' jitter): if before it, it was in flight at the head read \
             and is lost ({n} series); if at or after it, nothing is",
            names(who),
            fmt_dur(JITTER)
        )
    };
    let mut w = LossWindow::new(
        Cause::L4,
        from,
        to,
        if lost {
            Certainty::Expected
        } else {
            Certainty::Bound
        },
        why,
    );
    w.series = series_of(who);
    w
}

/// The series of `who`, when every one of them counted some.
fn series_of(who: &[&UpTail]) -> Option<u64> {
    who.iter().map(|t| Some(t.series).filter(|&n| n > 0)).sum()
}

/// Up to five targets' names, then how many more.
fn names(who: &[&UpTail]) -> String {
    let mut s: Vec<String> = who.iter().take(5).map(|t| t.name()).collect();
    if who.len() > 5 {
        s.push(format!("{} more", who.len() - 5));
    }
    s.join(", ")
}

/// What the race was decided from: each target's interval and newest `up`.
fn summary(
    fates: &[(&UpTail, Option<i64>, Fate)],
    after: usize,
    lost: usize,
    undecided: usize,
    unknown: usize,
) -> String {
    let shown: Vec<String> = fates
        .iter()
        .take(5)
        .map(|(t, iv, f)| {
            format!(
                "{} every {}, newest `up` {}, {}",
                t.name(),
                iv.map_or("?".into(), fmt_dur),
                t.times.last().map_or("none".into(), |&l| fmt_time(l)),
                match f {
                    Fate::After(at) =>
                        format!("next scrape {} (after the coverage end)", fmt_time(*at)),
                    Fate::Undecided(at) => format!("next scrape {} (undecided)", fmt_time(*at)),
                    Fate::InFlight(at) => format!("next scrape {} (lost)", fmt_time(*at)),
                    Fate::Stopped => "a staleness marker: its scrapes stopped".to_string(),
                    Fate::Unknown(why) => (*why).to_string(),
                }
            )
        })
        .collect();
    format!(
        "the isolation race (L4) read per scrape target from the head block's `up` samples (the \
         newest {} of each): {} target(s) whose next scrape is stamped after the coverage end \
         (or whose scrapes stopped) lose nothing, {lost} scrape time(s) in flight at the head \
         read are lost, {undecided} undecided, {unknown} target(s) bounded as before ({}{}); \
         recording rules, if any, are \
         not visible this way (a rule group's evaluation in flight at the read would lose its \
         samples the same way)",
        crate::coverage::uptail::TAIL,
        after,
        shown.join("; "),
        if fates.len() > 5 {
            format!("; {} more", fates.len() - 5)
        } else {
            String::new()
        }
    )
}

/// Without a deciding `up` tail: with more than one scrape target (or
/// targets unknown), a scrape in flight at the snapshot's head read, as a
/// bound over the last scrape interval (capped by the timeout).
fn bound(inp: &ModelInput, windows: &mut Vec<LossWindow>, assumptions: &mut Vec<String>) {
    let c0 = inp.coverage_end;
    // Scrape timeouts never exceed the interval.
    let w = inp.scrape_interval.min(inp.scrape_timeout).max(1);
    match inp.targets {
        Some(1) => assumptions.push(
            "one scrape target in the newest block (one `up` series): no other commit can land \
             between its scrape's timestamp and the snapshot's head read, so the isolation \
             race (L4) loses nothing (recording rules, if any, are not visible in the files)"
                .into(),
        ),
        k => windows.push(LossWindow::new(
            Cause::L4,
            c0.saturating_sub(w),
            c0.saturating_sub(1),
            Certainty::Bound,
            format!(
                "{}: a target's scrape still being committed when the snapshot read the head \
                 carries a timestamp before the newest sample of another, so it is neither in \
                 the snapshot nor accepted by the slave: at most the last scrape interval ({}) \
                 before the coverage end, for the series of the targets whose scrapes were in \
                 flight",
                match k {
                    Some(k) => format!(
                        "{k} scrape targets in the newest block (distinct job/instance of `up`)"
                    ),
                    None =>
                        "scrape targets unknown (no `up` series in the newest block)".to_string(),
                },
                fmt_dur(w)
            ),
        )),
    }
}

#[cfg(test)]
#[path = "l4_tests.rs"]
mod tests;
