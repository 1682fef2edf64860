//! L6: where a master restart's window ends. The old reader's backlog
//! ends with the old process's last sample: the stop the master's log
//! shows (`logged_stop`), the silence its WAL shows around the restart
//! (`l1::silence`), the empty segment the restarted master opened
//! (`restart_segment`), or, where no file dates the stop, a range from the
//! last sample a file shows to the time given (`undated_stop`).

use super::l1::silence;
use super::{LossWindow, ModelInput};
use crate::coverage::fmt_time;
use crate::coverage::wal::WalView;

/// The L6 windows of the master's restarts (`causes::restart_windows`),
/// each ended at the stop a file shows, with the reader's stall position
/// after them (`t_b`) and the truncations from there
/// (`grid::truncations`).
pub(super) fn windows(
    inp: &ModelInput,
    t_ws: i64,
    catch_up: Option<i64>,
    assumptions: &mut Vec<String>,
) -> (Vec<LossWindow>, i64, Vec<i64>) {
    let (l6, t_b) = crate::coverage::causes::restart_windows(
        inp.coverage_end,
        t_ws,
        inp.slave_up,
        catch_up,
        &inp.facts.master_restarts,
        assumptions,
    );
    let truncations = super::grid::truncations(inp, t_b, inp.block_range.max(1));
    let cut = l6
        .into_iter()
        .filter_map(|w| restart_silence(inp, w, &truncations))
        .collect();
    (cut, t_b, truncations)
}

/// An L6 window (a restart at `w.to`) cut at the master's stop: the one
/// its log shows (`logged_stop`), then the last sample before the restart
/// where the WAL shows the silence around it (as L1 is) or the restarted
/// master's empty segment dates it (`restart_segment`). A restart given as
/// its ready time follows a stop during which the master scraped nothing
/// (a slow shutdown: the queues' flush, up to the flush deadline, after
/// the scrape manager stopped), and the old reader's backlog, what the
/// window names, ends with the master's last sample. `None` when that
/// sample comes before the window's start (nothing unsent); where no file
/// dates the stop, the window ends in a range (`undated_stop`).
pub(super) fn restart_silence(
    inp: &ModelInput,
    w: LossWindow,
    truncations: &[i64],
) -> Option<LossWindow> {
    let (mut w, dated) = match logged_stop(inp, w) {
        Ok(cut) => (cut?, true),
        Err(w) => (w, false),
    };
    let Some(wal) = inp.wal.as_ref() else {
        return Some(w);
    };
    let Ok(q) = silence(wal, w.to) else {
        // The restarted master's segment dates its last sample; a stop the
        // log dates needs no file more.
        return match restart_segment(inp, wal, w, truncations) {
            Ok(cut) => cut,
            Err(w) if dated => Some(w),
            Err(w) => Some(undated_stop(inp, wal, w)),
        };
    };
    if q.last_before >= w.to {
        return Some(w);
    }
    if q.last_before < w.from {
        return None;
    }
    w.why = format!(
        "{}; its WAL shows no sample from {} to {}: the old reader had nothing after {} to leave \
         unsent",
        w.why,
        fmt_time(q.last_before),
        q.first_after.map_or_else(
            || format!("the observation at {}", fmt_time(wal.observed_at)),
            fmt_time
        ),
        fmt_time(q.last_before)
    );
    w.to = q.last_before;
    Some(w)
}

/// An L6 window (a restart at `w.to`) cut at the stop the master's log
/// shows before it (`Received SIGTERM`, or the queue's `Stopping remote
/// storage...`, with no start appending before the restart given): the
/// old process scraped nothing after that line, so the old reader's
/// backlog ends there, however late the restart is given (its stop, the
/// new process's start or its ready time). `Ok(None)` when the stop is
/// before the window's start; `Err` with the window as it was without such
/// a line.
fn logged_stop(inp: &ModelInput, mut w: LossWindow) -> Result<Option<LossWindow>, LossWindow> {
    // The restart given within its precision, and a second more: the ready
    // time an operator or a probe notes comes after the configuration's
    // load (2.42 is ready right after it), and no scrape of the new process
    // comes before its scrape manager's first reload, seconds later.
    let slack = (inp.facts.master_restarts.iter())
        .position(|&r| r == w.to)
        .and_then(|i| inp.facts.noted.master_restarts.get(i))
        .map_or(0, |&width| crate::coverage::noted::late(width))
        .saturating_add(1_000);
    let log = inp.facts.master_log.as_ref();
    let Some(s) = log.and_then(|l| l.stop_before(w.to, slack)) else {
        return Err(w);
    };
    if s >= w.to {
        return Ok(Some(w));
    }
    if s < w.from {
        return Ok(None);
    }
    w.why = format!(
        "{}; the master's log shows it stopped at {} (`Received SIGTERM`, or the queue's \
         `Stopping remote storage...`) and appending nothing again before {}: the old reader had \
         nothing after the stop to leave unsent",
        w.why,
        fmt_time(s),
        fmt_time(w.to)
    );
    w.to = s;
    Ok(Some(w))
}

/// An L6 window before the slave was up whose restart the copy's empty
/// newest segment shows (`restart_opened`): the copy, dated by its newest
/// sample, was taken after the restart (as at the slave's start), and the
/// master had no sample from that last one on. `Err` with the window as it
/// was where the copy does not show it.
fn restart_segment(
    inp: &ModelInput,
    wal: &WalView,
    mut w: LossWindow,
    truncations: &[i64],
) -> Result<Option<LossWindow>, LossWindow> {
    let tol = inp.scrape_interval.saturating_add(1_000);
    let before_up = inp.slave_up.is_some_and(|up| w.to < up);
    let Some(last) = before_up
        .then(|| crate::coverage::wal::restart_opened(wal, truncations, tol, w.to))
        .flatten()
    else {
        return Err(w);
    };
    if last < w.from {
        return Ok(None);
    }
    w.why = format!(
        "{}; the master's WAL copy ends with an empty segment after one whose newest sample is at \
         {} and no truncation falls there: the segment the restarted master opened, so the copy \
         (dated by that sample) was taken after the restart (assumed: at the slave's start, as \
         the procedure copies it) and the master had no sample after {} to leave unsent",
        w.why,
        fmt_time(last),
        fmt_time(last)
    );
    w.to = last;
    Ok(Some(w))
}

/// An L6 window whose restart the WAL was copied after but no longer shows
/// (no live segment from before it): no file dates when the master stopped
/// scraping, so the window ends somewhere from the last sample a file shows
/// before the restart (the coverage end, or the checkpoint's newest) to
/// the time given (`to_earliest` … `to`).
fn undated_stop(inp: &ModelInput, wal: &WalView, mut w: LossWindow) -> LossWindow {
    if wal.observed_at < w.to {
        return copied_before(wal, w);
    }
    if wal.live_at(w.to) {
        return w;
    }
    let last = wal
        .checkpoint
        .as_ref()
        .and_then(|c| c.max_t)
        .filter(|&t| t < w.to)
        .unwrap_or(inp.coverage_end)
        .max(w.from)
        .min(w.to);
    if last < w.to {
        w.to_earliest = Some(last);
        w.why = format!(
            "{}; the master's WAL, copied after the restart, holds no live segment from before it \
             and no file dates when the master stopped scraping: the window ends somewhere from \
             {} (the last sample a file shows before it) to the time given",
            w.why,
            fmt_time(last)
        );
    }
    w
}

/// An L6 window whose restart comes after the copy of `wal/` (observed
/// before it): the master scraped at least until the copy's newest sample
/// and stopped somewhere from there to the time given, which no file dates:
/// the window ends in that range (`to_earliest` … `to`).
fn copied_before(wal: &WalView, mut w: LossWindow) -> LossWindow {
    let newest = wal.segments.iter().filter_map(|g| g.max_t).max();
    let Some(last) = newest.map(|t| t.max(w.from).min(w.to)) else {
        return w;
    };
    if last < w.to && w.to_earliest.is_none() {
        w.to_earliest = Some(last);
        w.why = format!(
            "{}; the master's WAL was copied before the restart (its newest sample {}): no file \
             dates when the master stopped scraping, so the window ends somewhere from there to \
             the time given",
            w.why,
            fmt_time(last)
        );
    }
    w
}

/// No master restart given and no master's log that decides the queue:
/// where the `wal/` copy (dated by its newest sample) ends with the empty
/// segment a restarted master opened (`restart_opened`, taken before the
/// slave's ready time: the procedure copies `wal/` at the slave's start;
/// its file time later than a truncation's cut could leave it empty),
/// the input with a restart at its last sample plus 1 ms, and the
/// assumption that says so. The master had no sample from that one to the
/// copy, so the old reader's backlog ends there either way; the new reader
/// is placed from it (its first sample, later, no file dates).
pub(super) fn restart_from_wal(inp: &ModelInput) -> Option<(ModelInput, String)> {
    let decides = inp.facts.master_log.as_ref().is_some_and(|l| l.decides());
    if !inp.facts.master_restarts.is_empty() || decides {
        return None;
    }
    let (wal, up) = (inp.wal.as_ref()?, inp.slave_up?);
    // The forecast below only where the copy ends with an empty segment
    // (every answer passes here; few copies do).
    if wal.segments.last().is_none_or(|g| g.min_t.is_some()) {
        return None;
    }
    let t_ws = inp.rw_start.unwrap_or(inp.coverage_end);
    let truncations = super::grid::truncations(inp, t_ws, inp.block_range.max(1));
    let tol = inp.scrape_interval.saturating_add(1_000);
    let last = crate::coverage::wal::restart_opened(wal, &truncations, tol, up)
        .filter(|&l| l >= inp.coverage_end)?;
    // A truncation's cut the forecast placed off (a long compaction) leaves
    // an empty segment too, but only until the next scrape: opened (or
    // copied: its file time is one or the other) later than a scrape, its
    // timeout and a second after that last sample, it is no such cut.
    let after = (inp.scrape_interval.saturating_add(inp.scrape_timeout)).saturating_add(1_000);
    let opened = wal.segments.last().and_then(|g| g.mtime);
    if opened.is_none_or(|m| m < last.saturating_add(after)) {
        return None;
    }
    let mut moved = inp.clone();
    moved.facts.master_restarts = vec![last.saturating_add(1)];
    moved.facts.noted.master_restarts = vec![1];
    let why = format!(
        "no master restart given: the master's WAL copy ends with an empty segment after one \
         whose newest sample is at {} and no truncation falls there, the segment a restarted \
         master opens, so the master is taken as stopped after that sample and restarted \
         before the copy (L6; give the restart, or the master's log, to place it)",
        fmt_time(last)
    );
    Some((moved, why))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coverage::wal::SegmentRange;
    use crate::coverage::wal::tests::seg_range;

    const S: i64 = 1_000;
    const C: i64 = 1_796_684_315_000;

    /// A copy at the slave's start holding the old process's segment to
    /// +9 s and an empty one after it opened at +120 s (no truncation near):
    /// no restart given and no master's log, the master is taken as
    /// restarted after +9 s; not with the segment opened a second after that
    /// sample, nor with a restart given, nor with an observation time given.
    #[test]
    fn the_restarted_masters_empty_segment_is_a_restart() {
        let mut inp = ModelInput::new(60 * S, C, C - 40 * S, C + S);
        inp.scrape_interval = S;
        inp.slave_up = Some(C + 130 * S);
        inp.rw_start = Some(C - 100 * S);
        inp.wal = Some(WalView {
            dir: std::path::PathBuf::new(),
            observed_at: C + 9 * S,
            observed_at_source: "derived".into(),
            segments: vec![
                seg_range(3, Some((C - 20 * S, C + 9 * S))),
                SegmentRange {
                    mtime: Some(C + 120 * S),
                    ..seg_range(4, None)
                },
            ],
            checkpoint: None,
            segment_size: crate::coverage::wal::DEFAULT_SEGMENT_SIZE,
            findings: vec![],
        });
        let (moved, why) = restart_from_wal(&inp).unwrap();
        // Opened (or copied) within a scrape of that last sample: perhaps a
        // truncation's cut.
        let mut soon = inp.clone();
        if let Some(g) = soon.wal.as_mut().and_then(|w| w.segments.last_mut()) {
            g.mtime = Some(C + 10 * S);
        }
        assert!(restart_from_wal(&soon).is_none());
        assert_eq!(moved.facts.master_restarts, vec![C + 9 * S + 1]);
        assert!(why.contains("empty segment"), "{why}");
        let mut given = inp.clone();
        given.facts.master_restarts = vec![C + 100 * S];
        assert!(restart_from_wal(&given).is_none());
        if let Some(w) = inp.wal.as_mut() {
            w.observed_at_source = crate::coverage::walread::OBSERVED_GIVEN.into();
        }
        assert!(restart_from_wal(&inp).is_none());
    }
}
