//! A master restart read from the `wal/` copy's segments when no restart is
//! given and no master's log decides the queue.
//!
//! Every process start opens a new WAL segment, and so do a truncation
//! (at a head compaction) and a size rotation. Neither of those stops the
//! scrapes: the samples on either side of such a cut are one scrape
//! interval apart at most. A segment that starts after a silence longer
//! than a scrape interval and a half, its predecessor not full (no size
//! rotation), was opened by a process start: the master stopped after the
//! previous segment's last sample. (A restart that missed no scrape leaves
//! no such silence: it stays a warning of the report, `restart_hints`, and
//! the answer stays the one without it. A restarted master that compacts
//! its head at once opens a truncation's segment a scrape after its own,
//! which may be all the copy keeps: the silence is still there.)
//!
//! A restart resets the remote-write reader (L6): the old queue's unsent
//! samples are lost up to the stop, and the new reader starts at the
//! restart. Taking a restart that did not happen would move a loss out of
//! the answer, so the windows the input gives without it stay in the
//! answer as risks wherever the restart's windows do not hold them: the
//! answer is never more optimistic than the segment boundary, only its
//! most likely reading.

use super::{Certainty, LossWindow, ModelInput, compute};
use crate::coverage::{fmt_time, walrule};

/// Whether an unexplained WAL segment start may be taken as a master
/// restart (no restart given, no master's log that decides the queue).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum SegmentRestarts {
    /// Look for such segments (the default).
    #[default]
    Look,
    /// The restarts given to the model were taken from these segments.
    Taken(Vec<String>),
    /// Do not (the answer without them).
    Off,
}

/// The input with a restart after the last sample before each segment that
/// starts as a restarted master's does, and the assumption that says so.
pub(super) fn restart_from_hint(inp: &ModelInput) -> Option<(ModelInput, String)> {
    let decides = inp.facts.master_log.as_ref().is_some_and(|l| l.decides());
    if inp.segment_restarts != SegmentRestarts::Look
        || !inp.facts.master_restarts.is_empty()
        || decides
    {
        return None;
    }
    let (wal, up) = (inp.wal.as_ref()?, inp.slave_up?);
    let scrape = inp.scrape_interval.max(1);
    let silence = scrape.saturating_add(scrape / 2);
    let full = walrule::full_segment(wal);
    // The newest segment still empty when a copy taken at a known time was
    // made: the master wrote nothing from its predecessor's last sample to
    // the copy. A live master's newest sample is at most a scrape, its
    // timeout (the append waits for the scrape) and a second old.
    let given = wal.observed_at_source == crate::coverage::walread::OBSERVED_GIVEN;
    let empty_silence = (scrape.saturating_add(inp.scrape_timeout)).saturating_add(1_000);
    let newest = wal.segments.last().map(|g| g.index);
    let hints: Vec<(String, i64, i64, bool)> = wal
        .segments
        .windows(2)
        .filter_map(|pair| {
            let [prev, seg] = pair else { return None };
            let stop = prev.max_t.filter(|_| prev.last_record_ok)?;
            let (gap, least) = match seg.min_t {
                Some(_) => (walrule::silence_between(prev, seg)?, silence),
                None if given
                    && newest == Some(seg.index)
                    && prev.index.checked_add(1) == newest =>
                {
                    (wal.observed_at.saturating_sub(stop), empty_silence)
                }
                None => return None,
            };
            (prev.size < full && gap > least)
                .then(|| (seg.name.clone(), stop, gap, seg.min_t.is_none()))
        })
        .filter(|&(_, stop, _, _)| stop >= inp.coverage_end && stop < up)
        .collect();
    if hints.is_empty() {
        return None;
    }
    let mut moved = inp.clone();
    moved.facts.master_restarts = hints.iter().map(|h| h.1.saturating_add(1)).collect();
    moved.facts.noted.master_restarts = vec![1; hints.len()];
    moved.segment_restarts = SegmentRestarts::Taken(hints.iter().map(|h| h.0.clone()).collect());
    let each: Vec<String> = hints
        .iter()
        .map(|(seg, stop, gap, empty)| {
            let how = if *empty {
                "is empty in the copy taken"
            } else {
                "starts"
            };
            format!(
                "segment {seg} {how} {} after its predecessor's last sample ({})",
                crate::coverage::fmt_dur(*gap),
                fmt_time(*stop)
            )
        })
        .collect();
    let why = format!(
        "no master restart given: in the master's WAL copy {}, that predecessor not full (no \
         size rotation) and no scrape written between: a truncation's cut never stops the \
         scrapes, a process start does, so the master is taken as stopped after that sample and \
         started again (L6; give the restart, or the master's log, to decide it). If it was no \
         restart, the windows marked so are the loss",
        each.join("; ")
    );
    Some((moved, why))
}

/// Where the restarts were taken from segments: the windows of the answer
/// without them that `windows` does not hold, each a risk.
pub(super) fn risks(inp: &ModelInput, windows: &[LossWindow]) -> Vec<LossWindow> {
    let SegmentRestarts::Taken(segments) = &inp.segment_restarts else {
        return Vec::new();
    };
    let mut plain = inp.clone();
    plain.facts.master_restarts.clear();
    plain.facts.noted.master_restarts.clear();
    plain.segment_restarts = SegmentRestarts::Off;
    let held = |a: &LossWindow| {
        windows.iter().any(|w| {
            w.from <= a.from && w.to.max(w.bound_to.unwrap_or(w.to)) >= a.to && w.series.is_none()
        })
    };
    compute(&plain)
        .loss_windows
        .into_iter()
        .filter(|a| a.certainty != Certainty::Bound && !held(a))
        .map(|mut a| {
            a.certainty = Certainty::Risk;
            a.why = format!(
                "if the start of segment {} was no master restart: {}",
                segments.join(" or "),
                a.why
            );
            a
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coverage::model::Cause;
    use crate::coverage::wal::WalView;
    use crate::coverage::wal::tests::seg_range;

    const S: i64 = 1_000;
    const R: i64 = 60 * S;

    /// A master whose 1m truncations fall on the grid (`1.5 R` mod `R`: the
    /// half minute): segment 3 opened at one, segment 4 off the grid.
    fn input(gap: i64) -> ModelInput {
        let c = 1_796_684_310_000; // on the minute
        let mut inp = ModelInput::new(R, c, c - 40 * S, c + S);
        inp.scrape_interval = S;
        inp.rw_start = Some(c - 100 * S);
        inp.slave_up = Some(c + 130 * S);
        inp.series = Some(400);
        inp.first_sample = Some(c - 100 * S);
        let stop = c + 9 * S;
        inp.wal = Some(WalView {
            dir: std::path::PathBuf::new(),
            observed_at: c + 129 * S,
            observed_at_source: "derived".into(),
            segments: vec![
                seg_range(3, Some((c - 30 * S, stop))),
                seg_range(4, Some((stop + gap, c + 129 * S))),
            ],
            checkpoint: None,
            segment_size: crate::coverage::wal::DEFAULT_SEGMENT_SIZE,
            findings: vec![],
        });
        inp
    }

    /// Segment 4 starts 6 s after segment 3's last sample (+9 s), at no
    /// truncation: the master is taken as restarted after +9 s, an L6
    /// window ends there, and the answer without the restart stays a risk.
    #[test]
    fn a_silent_gap_before_an_unexplained_segment_is_a_restart() {
        let inp = input(6 * S);
        let (moved, why) = restart_from_hint(&inp).unwrap();
        let c = inp.coverage_end;
        assert_eq!(moved.facts.master_restarts, vec![c + 9 * S + 1]);
        assert!(why.contains("segment 00000004"), "{why}");
        let out = compute(&inp);
        let l6: Vec<_> = out
            .loss_windows
            .iter()
            .filter(|w| w.cause == Cause::L6 && w.certainty == Certainty::Expected)
            .collect();
        assert!(
            l6.iter().any(|w| w.to == c + 9 * S),
            "{:#?}",
            out.loss_windows
        );
        let risk_past = out
            .loss_windows
            .iter()
            .filter(|w| w.certainty == Certainty::Risk)
            .any(|w| w.why.starts_with("if the start of segment 00000004") && w.to > c + 9 * S);
        let plain = {
            let mut p = inp.clone();
            p.segment_restarts = SegmentRestarts::Off;
            compute(&p)
        };
        // Without the restart the old reader, stalled in a segment the copy
        // no longer holds, was overtaken: a loss past the stop.
        let plain_past = plain.loss_windows.iter().any(|w| w.to > c + 9 * S);
        assert!(plain_past, "{:#?}", plain.loss_windows);
        assert!(risk_past, "{:#?}", out.loss_windows);
        assert!(out.assumptions.iter().any(|a| a == &why));
    }

    /// One scrape interval between the two segments is a cut while the
    /// master scraped on (a compaction placed off the forecast), not a
    /// restart; nor is any segment with a restart given.
    #[test]
    fn no_restart_without_a_silence_or_with_one_given() {
        assert!(restart_from_hint(&input(S)).is_none());
        let mut given = input(6 * S);
        given.facts.master_restarts = vec![given.coverage_end + 20 * S];
        assert!(restart_from_hint(&given).is_none());
        let mut off = input(6 * S);
        off.segment_restarts = SegmentRestarts::Off;
        assert!(restart_from_hint(&off).is_none());
    }

    /// The newest segment empty in a copy taken at a known time, 13 s after
    /// its predecessor's last sample (more than a scrape, its 10 s timeout
    /// and a second): a restart after that sample; 12 s is not, nor is a
    /// copy dated by its newest sample (nothing then dates the silence).
    #[test]
    fn an_empty_newest_segment_long_after_the_last_sample_is_a_restart() {
        let with_copy_at = |after: i64, source: &str| {
            let mut inp = input(6 * S);
            let stop = inp.coverage_end + 9 * S;
            if let Some(w) = inp.wal.as_mut() {
                w.segments.truncate(1);
                w.segments.push(seg_range(4, None));
                w.observed_at = stop + after;
                w.observed_at_source = source.into();
            }
            (inp, stop)
        };
        let given = crate::coverage::walread::OBSERVED_GIVEN;
        let (inp, stop) = with_copy_at(13 * S, given);
        let (moved, why) = restart_from_hint(&inp).unwrap();
        assert_eq!(moved.facts.master_restarts, vec![stop + 1]);
        assert!(why.contains("segment 00000004 is empty"), "{why}");
        assert!(restart_from_hint(&with_copy_at(12 * S, given).0).is_none());
        assert!(restart_from_hint(&with_copy_at(13 * S, "derived").0).is_none());
    }
}
