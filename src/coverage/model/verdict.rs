//! The plain-words verdict of a run of the calculator, and what changes
//! when remote write started earlier or later than assumed.

use serde::Serialize;

use super::{Cause, Certainty, Deadline, LossWindow, ModelInput};
use crate::coverage::fmt_time;

/// The verdict (when the slave's ready time is given); without
/// `--rw-start`, the case assumed and the two others.
pub(super) fn full(
    inp: &ModelInput,
    windows: &[LossWindow],
    deadline: &Deadline,
    c: i64,
) -> Option<String> {
    // Longer than two scrape intervals, a window's samples counted one
    // interval each (the measure of a real loss).
    let long = inp.scrape_interval.max(1);
    let mut verdict = inp
        .slave_up
        .map(|up| verdict(windows, up, deadline, c, long));
    if let Some(v) = verdict.as_mut()
        && inp.facts.slave_restarts.is_empty()
    {
        v.push_str(
            " Assumed: the slave ran without a restart from its ready time on (none given); one \
             before the queue's next retry would start the catch-up at its next ready time.",
        );
    }
    if inp.rw_start.is_none()
        && let (Some(v), Some(up)) = (verdict.as_mut(), inp.slave_up)
    {
        // The case assumed, and the two others.
        v.push_str(&format!(
            " Assumed (no remote write start given): remote write to the slave was on from just \
             before the coverage end {}.",
            fmt_time(c)
        ));
        if let Some(m0) = inp.first_sample.filter(|&m| m < c - 1) {
            let mut early = inp.clone();
            early.rw_start = Some(m0 - 1);
            let out = super::compute(&early);
            let lost = union_len(
                out.loss_windows
                    .iter()
                    .filter(|w| w.certainty != Certainty::Bound && w.series.is_none() && w.to >= c)
                    .map(|w| (w.from.max(c), w.to))
                    .collect(),
            );
            v.push_str(&format!(
                " Had it run since the snapshot's oldest sample ({}): {}.",
                fmt_time(m0),
                if lost > 0 {
                    format!(
                        "about {} lost after the coverage end ({})",
                        crate::coverage::fmt_dur(lost),
                        out.loss_windows
                            .iter()
                            .filter(|w| w.certainty != Certainty::Bound)
                            .map(describe)
                            .collect::<Vec<_>>()
                            .join("; ")
                    )
                } else {
                    "no more than the boundary sliver".to_string()
                }
            ));
        }
        if up > c {
            v.push_str(&format!(
                " Had it started only when the slave came up: L1 loses everything from the \
                 coverage end to then ({}).",
                crate::coverage::fmt_dur(up - c + 1)
            ));
        }
        // The evidence excludes no loss when another start would lose
        // something: the verdict then says so first, never "No real loss".
        if v.starts_with(NO_LOSS) && (up > c || v.contains("lost after the coverage end")) {
            *v = format!("{UNKNOWN_START}{}", &v[NO_LOSS.len()..]);
        }
    }
    verdict
}

const NO_LOSS: &str = "No real loss";

const UNKNOWN_START: &str = concat!(
    "Loss possible: it depends on when remote write to the slave started, which was not given. ",
    "If it was on from just before the coverage end, no real loss"
);

/// Total length of the union of `[from, to]` ranges (ms).
pub(super) fn union_len(mut spans: Vec<(i64, i64)>) -> i64 {
    spans.sort_unstable();
    let mut total: i64 = 0;
    let mut cur: Option<(i64, i64)> = None;
    for (a, b) in spans {
        match cur {
            Some((ca, cb)) if a <= cb.saturating_add(1) => cur = Some((ca, cb.max(b))),
            _ => {
                if let Some((ca, cb)) = cur {
                    total = total.saturating_add(cb.saturating_sub(ca).saturating_add(1));
                }
                cur = Some((a, b));
            }
        }
    }
    if let Some((ca, cb)) = cur {
        total = total.saturating_add(cb.saturating_sub(ca).saturating_add(1));
    }
    total
}

fn describe(w: &LossWindow) -> String {
    use crate::coverage::fmt_time;
    let mut extra = Vec::new();
    if let Some(n) = w.series {
        extra.push(format!("{n} series"));
    }
    if w.ongoing {
        extra.push("and ongoing".to_string());
    }
    format!(
        "{:?} {} → {} ({}{}{})",
        w.cause,
        fmt_time(w.from),
        fmt_time(w.to),
        span_words(w.from, w.to),
        if extra.is_empty() { "" } else { ", " },
        extra.join(", ")
    )
}

/// A window's length in words: one instant is one scrape (every series
/// sampled there loses that one sample), not "1ms".
fn span_words(from: i64, to: i64) -> String {
    if from == to {
        "one scrape".into()
    } else {
        crate::coverage::fmt_dur(to.saturating_sub(from).saturating_add(1))
    }
}

/// The catch-up deadline after the verdict. A deadline already past when
/// the slave came up is said as such, never as a negative time after it.
fn deadline_words(at: i64, up: i64, more: bool) -> String {
    use crate::coverage::{fmt_dur, fmt_time};
    if at < up {
        format!(
            " The master's WAL truncation that overtakes the stalled reader is placed at {} \
             ({} before the slave was up): what it deleted is in the windows above.",
            fmt_time(at),
            fmt_dur(up.saturating_sub(at))
        )
    } else {
        format!(
            " The slave must be caught up before {} ({} after it is up){}.",
            fmt_time(at),
            fmt_dur(at.saturating_sub(up)),
            if more { ", or more is lost" } else { "" }
        )
    }
}

/// The boundary slivers in words.
fn sliver_text(slivers: &[&LossWindow]) -> Option<String> {
    use crate::coverage::fmt_dur;
    let parts: Vec<String> = slivers
        .iter()
        .map(|w| {
            let len = span_words(w.from, w.to);
            let who = w
                .series
                .map_or("all series".to_string(), |n| format!("{n} series"));
            match (w.certainty, w.bound_to) {
                (Certainty::Expected, Some(b)) => format!(
                    "{:?} {len} expected for {who} (at most {} if {})",
                    w.cause,
                    fmt_dur(b.saturating_sub(w.from).saturating_add(1)),
                    if w.slave_range.any_range {
                        "the queue takes its other path, or the slave's block range is shorter \
                         than the master's"
                    } else {
                        "the queue takes its other path"
                    }
                ),
                (Certainty::Expected, None) => {
                    format!("{:?} {len} expected for {who}", w.cause)
                }
                _ => format!("{:?} at most {len}", w.cause),
            }
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// A summary of the windows `ws` (lengths after and before the coverage
/// end `c`) and each of them.
fn summarize(ws: &[&LossWindow], c: i64) -> String {
    use crate::coverage::fmt_dur;
    // All-series loss after C_snap (union, overlaps counted once), and
    // history before it (slave retention).
    let after = union_len(
        ws.iter()
            .filter(|w| w.series.is_none() && w.to >= c)
            .map(|w| (w.from.max(c), w.to))
            .collect(),
    );
    let before = union_len(
        ws.iter()
            .filter(|w| w.from < c)
            .map(|w| (w.from, w.to.min(c - 1)))
            .collect(),
    );
    let mut summary = Vec::new();
    if after > 0 {
        summary.push(format!(
            "about {} of samples after the coverage end",
            fmt_dur(after)
        ));
    }
    if before > 0 {
        summary.push(format!("{} of the snapshot's history", fmt_dur(before)));
    }
    if summary.is_empty() {
        summary.push("part of the series after the coverage end".into());
    }
    let parts: Vec<String> = ws.iter().map(|w| describe(w)).collect();
    format!("{}: {}", summary.join(" and "), parts.join("; "))
}

/// `long`: the span past which an expected boundary window is a loss in
/// the headline, not a sliver (one scrape interval from its first sample to
/// its last: more than two intervals of samples, the measure of a
/// real loss).
pub(super) fn verdict(windows: &[LossWindow], up: i64, d: &Deadline, c: i64, long: i64) -> String {
    use crate::coverage::fmt_time;
    // A risk is named as a risk, never as a sliver; nor is an expected
    // boundary window that can run longer than `long` (the new shards'
    // first batches after a reshard, a whole refused backlog): the headline
    // says it is lost.
    let sliver = |w: &&LossWindow| {
        matches!(w.cause, Cause::L3 | Cause::L4)
            && w.certainty != Certainty::Risk
            && !(w.certainty == Certainty::Expected && w.to.saturating_sub(w.from) > long)
    };
    // Expected losses beyond the boundary slivers; risks (a path no file
    // decides) named as such, never as expected.
    let real: Vec<&LossWindow> = windows
        .iter()
        .filter(|w| w.certainty == Certainty::Expected && !sliver(w))
        .collect();
    let risks: Vec<&LossWindow> = windows
        .iter()
        .filter(|w| w.certainty == Certainty::Risk)
        .collect();
    let slivers: Vec<&LossWindow> = windows.iter().filter(sliver).collect();
    // Upper bounds other than the boundary slivers, worth naming.
    let bounds: Vec<String> = windows
        .iter()
        .filter(|w| w.certainty == Certainty::Bound && !sliver(w))
        .map(describe)
        .collect();
    let lead = either(windows, c).map(|e| e.words() + &other_risks(windows));
    let mut s = if real.is_empty() && risks.is_empty() {
        let mut s = format!(
            "No real loss{}: the slave (up at {}) starts before the master's WAL truncation \
             overtakes the stalled remote-write reader ({}), so everything after the coverage end \
             {} is re-sent.",
            if slivers.is_empty() {
                ""
            } else {
                " beyond the boundary sliver"
            },
            fmt_time(up),
            if d.at == i64::MAX {
                "not within the forecast".to_string()
            } else {
                fmt_time(d.at)
            },
            fmt_time(c)
        );
        if let Some(t) = sliver_text(&slivers) {
            s.push_str(&format!(" At the boundary: {t}."));
        }
        if d.at != i64::MAX {
            s.push_str(&deadline_words(d.at, up, false));
        }
        s
    } else {
        let mut s = String::new();
        if !real.is_empty() {
            s.push_str(&format!("Loss expected: {}.", summarize(&real, c)));
        }
        if !risks.is_empty() {
            if !s.is_empty() {
                s.push(' ');
            }
            s.push_str(&format!(
                "Loss at risk (it depends on what no file given tells, see each window): {}.",
                summarize(&risks, c)
            ));
        }
        if let Some(t) = sliver_text(&slivers) {
            s.push_str(&format!(" At the boundary: {t}."));
        }
        // Only risks: the catch-up is still to be won, by the same deadline.
        if real.is_empty() && d.at != i64::MAX {
            s.push_str(&deadline_words(d.at, up, true));
        }
        s
    };
    if !bounds.is_empty() {
        s.push_str(&format!(" Possibly also (at most): {}.", bounds.join("; ")));
    }
    match lead {
        Some(l) => format!("{l} {s}"),
        None => s,
    }
}

/// The loss on the two paths of a resharded catch-up no file decides: the
/// verdict's first line when the resharded catch-up's risk window (no
/// master's log, or one that does not cover the catch-up) reaches past the
/// expected windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LossEither {
    /// The loss after the coverage end the model expects (ms; the expected
    /// windows' union, all series; 1 ms is one scrape, 0 none).
    pub expected: i64,
    /// The loss after the coverage end if the queue reshards while its
    /// reader is behind (ms; the expected windows with the risk window).
    pub up_to: i64,
    /// Where that loss ends (the risk window's end, Unix ms).
    pub up_to_end: i64,
}

impl LossEither {
    fn words(&self) -> String {
        use crate::coverage::{fmt_dur, fmt_time};
        format!(
            "Loss either {} or up to {} (to {}): which depends on whether the queue resharded \
             while its reader was behind in the catch-up, and only the master's log (its \
             `Remote storage resharding` lines) decides it; no WAL copy, snapshot or block range \
             orders the 10 s reshard tick against the reader's wake-up (the retry's phase and the \
             slave's answer pace are in no file).",
            match self.expected {
                0 => "none beyond the boundary sliver".to_string(),
                1 => "one scrape".to_string(),
                e => format!("about {}", fmt_dur(e)),
            },
            fmt_dur(self.up_to),
            fmt_time(self.up_to_end)
        )
    }
}

/// Risk windows besides the resharded catch-up's that reach past every
/// expected window: the "either" lead names only the reshard's two paths,
/// so it says these are there too (an L2 risk of a reader overtaken, with
/// no WAL copy or log to rule it out, can be the whole outage).
fn other_risks(windows: &[LossWindow]) -> String {
    let end = windows
        .iter()
        .filter(|w| w.certainty == Certainty::Expected)
        .map(|w| w.to)
        .max()
        .unwrap_or(i64::MIN);
    let mut causes: Vec<String> = windows
        .iter()
        .filter(|w| {
            w.certainty == Certainty::Risk
                && w.to > end
                && !w.why.starts_with(super::reshard::RISK_LEAD)
        })
        .map(|w| format!("{:?}", w.cause))
        .collect();
    causes.sort_unstable();
    causes.dedup();
    if causes.is_empty() {
        return String::new();
    }
    format!(
        " Besides those two paths, the risk window(s) below ({}) reach further: a loss no file \
         given rules out.",
        causes.join(", ")
    )
}

/// The two paths' losses (`LossEither`), when a resharded catch-up's risk
/// window reaches past the expected windows by more than a millisecond.
pub fn either(windows: &[LossWindow], c: i64) -> Option<LossEither> {
    let risk = windows
        .iter()
        .filter(|w| {
            w.cause == Cause::L3
                && w.certainty == Certainty::Risk
                && w.why.starts_with(super::reshard::RISK_LEAD)
        })
        .max_by_key(|w| w.to)?;
    let expected: Vec<(i64, i64)> = windows
        .iter()
        .filter(|w| w.certainty == Certainty::Expected && w.series.is_none() && w.to >= c)
        .map(|w| (w.from.max(c), w.to))
        .collect();
    let e = union_len(expected.clone());
    let mut all = expected;
    all.push((risk.from.max(c), risk.to));
    let up_to = union_len(all);
    (up_to > e.saturating_add(1)).then_some(LossEither {
        expected: e,
        up_to,
        up_to_end: risk.to,
    })
}

#[cfg(test)]
mod tests {
    use super::{deadline_words, span_words};

    /// Round six's `bl-head-b` without a WAL copy or logs: the lead said
    /// "either none … or up to" for the reshard while an L2 risk (the
    /// reader overtaken) reached as far: the lead now says it is there.
    #[test]
    fn the_either_lead_names_other_risks_that_reach_further() {
        use super::super::{Cause, Certainty, LossWindow};
        let c = 1_000_000;
        let reshard = LossWindow::new(
            Cause::L3,
            c,
            c + 300_000,
            Certainty::Risk,
            format!("{} …", super::super::reshard::RISK_LEAD),
        );
        let sliver = LossWindow::new(Cause::L3, c, c + 1_000, Certainty::Expected, String::new());
        let l2 = LossWindow::new(Cause::L2, c, c + 360_000, Certainty::Risk, "deleted".into());
        assert_eq!(super::other_risks(&[sliver.clone(), reshard.clone()]), "");
        let words = super::other_risks(&[sliver, reshard, l2]);
        assert!(words.contains("(L2) reach further"), "{words}");
    }

    #[test]
    fn one_instant_is_one_scrape_not_a_millisecond() {
        assert_eq!(span_words(5_000, 5_000), "one scrape");
        assert_eq!(span_words(5_000, 5_999), "1s");
    }

    #[test]
    fn a_deadline_past_at_the_slaves_start_is_said_so_never_as_a_negative_time() {
        let up = 1_796_614_818_000;
        let past = deadline_words(up - 95_394, up, true);
        assert!(past.contains("1m35.394s before the slave was up"), "{past}");
        assert!(!past.contains("after it is up"), "{past}");
        let ahead = deadline_words(up + 73_012, up, true);
        assert!(
            ahead.contains("(1m13.012s after it is up), or more is lost"),
            "{ahead}"
        );
        assert!(!deadline_words(up + 1, up, false).contains("more is lost"));
    }
}
