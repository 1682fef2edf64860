//! L3 from a slave's log with lines missing (issue 14): journald's rate
//! limit, a `# cut` note ([`crate::coverage::slavelog::missing`]). Absence
//! of refusal lines in such a span is no evidence of no refusal, so the
//! span's hidden requests are taken at their widest, as a risk.
//!
//! What 2.42's code lets a span hide. The slave's handler logs one line per
//! refused request, at its answer, naming its first refused sample; the
//! master's queue sends each shard's samples in WAL order, one request
//! after the other (`runShard`), and a request holds no sample newer than
//! its send, so none newer than its answer. The head refuses a sample
//! older than `appendableMinValidTime` (the newest sample appended minus
//! half the block range, or the last compaction's end), which only grows.
//!
//! * **A note** gives N and the range of the hidden requests' first
//!   refused samples: each starts in it. Between its oldest and newest
//!   start the requests may be one shard's, back to back (every one
//!   refused: the whole range lost), or several shards' with their
//!   accepted requests between (gaps). Which, the note does not say (no
//!   series, no start between, unless it lists each: then every start is
//!   a refusal of its own and nothing is hidden but the series). So a
//!   note that does not list its starts gives a **risk** window: from its
//!   oldest start (at the earliest the first scrape after the coverage
//!   end) to the newest start's end ([`super::request_end`], answered as
//!   late as the note's last line or as early as its first, the later
//!   end); only where its newest start is after the coverage end (earlier
//!   hidden requests are crossing batches, whose windows the model and
//!   the refusals kept bound).
//! * **journald's notice** gives N and the wall-time span only: any of
//!   the N may be a refusal, holding samples up to the span's end. A
//!   **risk** window from just after the coverage end to the span's end,
//!   where it ends after the coverage end.
//!
//! Both bound the log's narrowing: no L3 window is cut before a span's
//! latest end, and the crossing's chain (which needs every start) is not
//! drawn. A log that starts after the slave's start, or ends before the
//! catch-up's end, narrows nothing (`SlaveLog::covers`): its missing span
//! is named in the assumptions there.

use super::super::{Cause, Certainty, LossWindow, ModelInput};
use super::request_end;
use crate::coverage::fmt_time;
use crate::coverage::slavelog::{Missing, MissingKind, Refused, SlaveLog};

/// Missing spans named one by one in the assumptions.
const NAMED: usize = 5;

/// The first and the last lost sample a missing span may hide after the
/// coverage end, when it may hide any.
fn reach(inp: &ModelInput, m: &Missing) -> Option<(i64, i64)> {
    let c = inp.coverage_end;
    let i = inp.scrape_interval.max(1);
    match m.kind {
        MissingKind::Cut => {
            let hi = m.sample_max.filter(|&h| h > c)?;
            if m.starts_listed {
                return None;
            }
            let lo = m.sample_min.unwrap_or(hi).min(hi);
            let from = if lo > c {
                lo
            } else {
                lo.saturating_add((c.saturating_sub(lo) / i + 1).saturating_mul(i))
            };
            let to = cut_end(inp, m)?;
            (to >= from).then_some((from, to))
        }
        MissingKind::Suppressed => (m.to_at > c).then_some((c.saturating_add(1), m.to_at)),
    }
}

/// The latest end of a note's newest start, answered at its first or its
/// last line's time.
fn cut_end(inp: &ModelInput, m: &Missing) -> Option<i64> {
    let hi = m.sample_max?;
    [m.from_at, m.to_at]
        .into_iter()
        .map(|at| {
            request_end(
                inp,
                &Refused {
                    at,
                    sample: hi,
                    series: None,
                },
            )
        })
        .max()
}

/// The latest sample any missing span's hidden requests can hold: a
/// note's newest start's end, a journald span's end.
pub(super) fn latest_end(inp: &ModelInput, log: &SlaveLog) -> Option<i64> {
    log.missing
        .iter()
        .filter_map(|m| match m.kind {
            MissingKind::Cut => cut_end(inp, m),
            MissingKind::Suppressed => Some(m.to_at),
        })
        .max()
}

/// Adds a risk window for each missing span that may hide a loss after the
/// coverage end no window already holds, and names the spans in the
/// assumptions.
pub(super) fn add(
    inp: &ModelInput,
    log: &SlaveLog,
    windows: &mut Vec<LossWindow>,
    assumptions: &mut Vec<String>,
) {
    if log.missing.is_empty() {
        return;
    }
    let i = inp.scrape_interval.max(1);
    for m in &log.missing {
        let Some((from, to)) = reach(inp, m) else {
            continue;
        };
        // A risk window may not happen: it holds nothing for sure.
        let held = windows.iter().any(|w| {
            w.certainty != Certainty::Risk
                && w.from <= from.saturating_add(i)
                && w.to.saturating_add(i) >= to
        });
        if !held {
            windows.push(LossWindow::new(
                Cause::L3,
                from,
                to,
                Certainty::Risk,
                why(m, from, to),
            ));
        }
    }
    assumptions.push(assumption(inp, log));
}

/// The window's words.
fn why(m: &Missing, from: i64, to: i64) -> String {
    match m.kind {
        MissingKind::Cut => format!(
            "the slave's log is missing {} refusal line(s) logged {} … {} (a '# cut' note: their \
             first refused samples {} … {}, no series, no start between): each is a request \
             refused whole starting in that range, so from {} the loss may run unbroken to at \
             most {} (the newest start's end); whether one shard's requests were refused back to \
             back or several shards' with accepted ones between, the note cannot say: at risk, \
             taken at its widest not to understate it",
            m.lines,
            fmt_time(m.from_at),
            fmt_time(m.to_at),
            m.sample_min.map_or("?".into(), fmt_time),
            m.sample_max.map_or("?".into(), fmt_time),
            fmt_time(from),
            fmt_time(to)
        ),
        MissingKind::Suppressed => format!(
            "journald suppressed {} of the slave's messages logged {} … {} (its rate limit): any \
             may be a refused request, holding samples up to when it was answered, so the loss \
             may run from the coverage end to {}; what they said the journal does not keep: at \
             risk, taken at its widest not to understate it",
            m.lines,
            fmt_time(m.from_at),
            fmt_time(m.to_at),
            fmt_time(to)
        ),
    }
}

/// The assumption naming the missing spans.
fn assumption(inp: &ModelInput, log: &SlaveLog) -> String {
    let mut s = format!(
        "the slave's log says {} line(s) are missing from it, in {} span(s): ",
        log.missing_lines,
        log.missing.len()
    );
    let named: Vec<String> = log
        .missing
        .iter()
        .take(NAMED)
        .map(|m| {
            let what = match (m.kind, m.starts_listed) {
                (MissingKind::Suppressed, _) => "journald's rate limit".to_string(),
                (MissingKind::Cut, true) => "a cut note listing every start".to_string(),
                (MissingKind::Cut, false) => format!(
                    "a cut note, starts {} … {}",
                    m.sample_min.map_or("?".into(), fmt_time),
                    m.sample_max.map_or("?".into(), fmt_time)
                ),
            };
            let hides = match reach(inp, m) {
                Some((f, t)) => format!("may hide a loss {} … {}", fmt_time(f), fmt_time(t)),
                None => "hides no start after the coverage end not already read".into(),
            };
            format!(
                "{} lines logged {} … {} ({what}; {hides})",
                m.lines,
                fmt_time(m.from_at),
                fmt_time(m.to_at)
            )
        })
        .collect();
    s.push_str(&named.join("; "));
    if log.missing.len() > NAMED {
        s.push_str(&format!("; and {} more", log.missing.len() - NAMED));
    }
    s.push_str(
        ". No refusal line there is no evidence of no refusal: each span is taken at the widest \
         loss it can hide (a risk window where no window holds it), no window is narrowed before \
         its latest end, and the loss from the coverage end is not chained from the log's starts",
    );
    s
}

#[cfg(test)]
#[path = "refused_missing_tests.rs"]
mod tests;
