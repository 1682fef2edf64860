//! L2: where the stalled remote-write reader is overtaken by the master's
//! WAL truncations (the deadline), and the window lost when the slave comes
//! up after that.

use super::grid::{deadline_high_volume, deadline_low_volume};
use super::{Cause, Certainty, Deadline, LossWindow, ModelInput, SECOND};
use crate::coverage::wal::simulate_overtake;

/// What the overtake simulation (or the closed forms) found.
pub(super) struct Overtaking {
    /// The catch-up deadline.
    pub(super) deadline: Deadline,
    /// `(D, from, end of the reader's segment)` when the slave comes up
    /// after the overtaking truncation.
    pub(super) overtake: Option<(i64, i64, Option<i64>)>,
    /// The reader's segment and its end, when placed.
    pub(super) watcher_segment: Option<(u32, Option<i64>)>,
    /// True when the files cannot decide whether the reader was overtaken.
    pub(super) undecided: bool,
}

/// The deadline: exact on the real WAL if given, closed forms otherwise.
pub(super) fn overtaking(
    inp: &ModelInput,
    position: i64,
    truncations: &[i64],
    r: i64,
    assumptions: &mut Vec<String>,
) -> Overtaking {
    let c = inp.coverage_end;
    let mut overtake: Option<(i64, i64, Option<i64>)> = None; // (D, from, t_end(w))
    let mut watcher_segment = None;
    let mut undecided = false;
    let deadline = match &inp.wal {
        Some(wal) => {
            // A master started fresh writes segment 00000000 first and
            // truncates no earlier than 1.5 R after its first sample: a
            // reader stalled before that (and no restart) is in segment 0.
            let reader_segment = inp
                .first_sample
                .filter(|&m0| {
                    inp.facts.master_restarts.is_empty()
                        && position >= m0
                        && position < m0 + r + r / 2
                        && m0 - m0.div_euclid(r) * r > r / 10
                })
                .map(|_| 0);
            let sim = simulate_overtake(
                wal,
                position,
                truncations,
                r,
                inp.scrape_interval + SECOND,
                reader_segment,
            );
            undecided = sim.undecided;
            assumptions.extend(sim.assumptions.iter().cloned());
            watcher_segment = sim.watcher_segment.map(|w| (w, sim.watcher_segment_end));
            let d = sim.overtaken_at.unwrap_or(i64::MAX);
            if let Some(at) = sim.overtaken_at {
                overtake = Some((at, c, sim.watcher_segment_end));
            }
            Deadline {
                at: d,
                latest: d,
                watcher_position: position,
                basis: if sim.already {
                    "already_overtaken".into()
                } else {
                    "wal".into()
                },
                why: sim.why,
            }
        }
        None => {
            let hi = deadline_high_volume(truncations, position, r).unwrap_or(i64::MAX);
            let lo = deadline_low_volume(truncations, position).map_or(i64::MAX, |(_, b)| b);
            assumptions.push(
                "no master WAL given (--master): the deadline uses the high-volume rule (many WAL segments per \
                 block range); a small master (under one segment per block range) tolerates up to `latest`"
                    .into(),
            );
            if inp.slave_up.is_some_and(|u| u >= hi) {
                overtake = Some((hi, c, None));
            }
            Deadline {
                at: hi,
                latest: lo.max(hi),
                watcher_position: position,
                basis: "high_volume".into(),
                why: "the first master truncation more than R/2 after the stall position deletes the segments \
                      after the watcher's; low-volume masters are overtaken 3R–5R after it"
                    .to_string(),
            }
        }
    };
    Overtaking {
        deadline,
        overtake,
        watcher_segment,
        undecided,
    }
}

/// L2: the slave comes up after the overtaking truncation.
pub(super) fn window(inp: &ModelInput, ov: &Overtaking, t_b: i64) -> Option<LossWindow> {
    let c = inp.coverage_end;
    let (Some((d, _, seg_end)), Some(up)) = (ov.overtake, inp.slave_up) else {
        return None;
    };
    if up < d {
        return None;
    }
    let restart_from = up.max(d);
    let from = c.max(seg_end.map_or(c, |e| e + 1)).max(t_b + 1);
    // Up to one backoff until the queue's retry reaches the slave, the
    // drain of the rest of the reader's segment (all out of bounds, sent
    // as fast as the queue goes: within one 10 s reshard period in the
    // real runs), then the watcher's restart delay.
    let to = restart_from + inp.max_backoff + inp.drain_allowance + inp.restart_delay;
    let to_earliest = restart_from + inp.restart_delay;
    (to >= from).then(|| LossWindow {
        cause: Cause::L2,
        from,
        to,
        to_earliest: Some(to_earliest),
        to_expected: None,
        bound_to: None,
        certainty: if inp.wal.is_some() && !ov.undecided {
            Certainty::Expected
        } else {
            Certainty::Risk
        },
        series: None,
        ongoing: false,
        why: format!(
            "the master's WAL truncation at {} deleted the segment after the one the stalled remote-write \
             reader was in; once the slave is up the reader finishes its segment, fails to open the next, \
             waits {}s and restarts from 'now': everything after its segment up to the restart is never sent \
             (the restart comes after the queue's retry backoff and the drain of that segment)",
            crate::coverage::fmt_time(d),
            inp.restart_delay / SECOND
        ),
    })
}
