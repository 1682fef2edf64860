//! L2: where the stalled remote-write reader is overtaken by the master's
//! WAL truncations (the deadline), and the window lost when the slave comes
//! up after that.

use super::grid::{deadline_high_volume, deadline_low_volume};
use super::lowvol;
use super::{Cause, Certainty, Deadline, LossWindow, ModelInput, SECOND, SlaveRangeUse};
use crate::coverage::fmt_time;
use crate::coverage::queue::{self, BACKLOG_CATCHUP, READ_RATE, READ_RATE_SLOW, Stall};
use crate::coverage::wal::{LoggedWal, simulate_overtake_with};

#[path = "l2_near.rs"]
mod near;

#[path = "l2_logged.rs"]
mod logged_after_restart;

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
    // A master started fresh writes segment 00000000 first and
    // truncates no earlier than 1.5 R after its first sample: a
    // reader stalled before that (and no restart) is in segment 0.
    let reader_segment = inp
        .first_sample
        .filter(|&m0| {
            inp.facts.master_restarts.is_empty()
                && position >= m0
                && position < m0.saturating_add(r + r / 2)
                && m0.rem_euclid(r) > r / 10
        })
        .map(|_| 0);
    let deadline = match &inp.wal {
        Some(wal) => {
            let sim = simulate_overtake_with(
                wal,
                position,
                truncations,
                (r, inp.scrape_interval.saturating_add(SECOND)),
                reader_segment,
                logged(inp),
                &inp.facts.master_restarts,
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
            let (mut d, why) = without_wal(inp, position, truncations, r, reader_segment);
            assumptions.push(why);
            // The reader's segment known (a fresh master's first), the
            // log's checkpoint of the next one dates the deadline.
            if let (Some(rw), Some(l)) = (reader_segment, logged(inp))
                && let Some(c) = l.deletion_of(rw.saturating_add(1))
            {
                d.at = c.at;
                d.latest = c.at;
                d.why = crate::coverage::wal::deletion_why(&c, rw);
            }
            if inp.slave_up.is_some_and(|u| u >= d.at) {
                overtake = Some((d.at, c, first_segment_end(&d, reader_segment, truncations)));
            }
            d
        }
    };
    Overtaking {
        deadline,
        overtake,
        watcher_segment,
        undecided,
    }
}

/// Without the WAL, the end of a fresh master's first segment, the stalled
/// reader's: where the truncation rule holds (segments rotate only at
/// truncations, `lowvol`), segment 0 ends at the first truncation after the
/// reader's position (the log's head compaction where it decides them).
fn first_segment_end(d: &Deadline, reader: Option<u32>, truncations: &[i64]) -> Option<i64> {
    if reader != Some(0) || d.basis != "truncation_rule" {
        return None;
    }
    truncations
        .iter()
        .copied()
        .find(|&t| t > d.watcher_position)
}

/// The master's log's WAL checkpoints, when it decides them.
fn logged(inp: &ModelInput) -> Option<LoggedWal<'_>> {
    inp.facts.master_log.as_ref().and_then(LoggedWal::of)
}

/// The deadline without the master's WAL: by 2.42's truncation rule when
/// the snapshot's blocks bound the master below one size rotation between
/// two truncations ([`lowvol`]), else the high-volume rule. With the
/// assumption that says which.
fn without_wal(
    inp: &ModelInput,
    position: i64,
    truncations: &[i64],
    r: i64,
    reader_segment: Option<u32>,
) -> (Deadline, String) {
    let lo = deadline_low_volume(truncations, position).map_or(i64::MAX, |(_, b)| b);
    let tol = inp.scrape_interval.saturating_add(SECOND);
    match lowvol::deadline_by_rule(inp, position, truncations, r, tol, reader_segment) {
        Ok((at, why)) => (
            Deadline {
                at,
                latest: lo.max(at),
                watcher_position: position,
                basis: "truncation_rule".into(),
                why: if at == i64::MAX {
                    format!("{why}: no deadline within the forecast")
                } else {
                    why
                },
            },
            "no master WAL given: the deadline follows 2.42's truncation rule for a WAL whose \
             segments rotate only at truncations, as the snapshot's sample rate bounds it (label \
             sets under 1 KiB a series, the rate not growing after the snapshot)"
                .into(),
        ),
        Err(volume) => {
            let hi = deadline_high_volume(truncations, position, r).unwrap_or(i64::MAX);
            let mut why = "the first master truncation more than R/2 after the stall position \
                           deletes the segments after the watcher's; low-volume masters are \
                           overtaken 3R–5R after it"
                .to_string();
            if hi < inp.snapshot_time {
                why.push_str(&format!(
                    "; that truncation ({}) is before the snapshot: the reader was already \
                     overtaken then if the master rotated segments by size by then, which \
                     without its WAL is not known (the L2 risk below); the WAL places it",
                    fmt_time(hi)
                ));
            }
            (
                Deadline {
                    at: hi,
                    latest: lo.max(hi),
                    watcher_position: position,
                    basis: "high_volume".into(),
                    why,
                },
                format!(
                    "no master WAL given: the deadline uses the high-volume rule (many WAL \
                     segments per block range: {volume}); a small master (under one segment per \
                     block range) tolerates up to `latest`"
                ),
            )
        }
    }
}

/// L2: the slave comes up after the overtaking truncation.
///
/// The window ends when the reader restarts: up to one retry backoff after
/// the slave is up (the blocked send retries every `max_backoff`), then the
/// reader reads the rest of its (deleted, still open) segment — every sample
/// of it older than `C_snap`, refused and dropped — fails to open the next
/// one, and waits `restart_delay` before it starts again from "now"
/// (wlog/watcher.go). The range runs from an instant read (`to_earliest`)
/// to the whole segment at one shard's slowest pace, [`READ_RATE_SLOW`]
/// (`to`); the expected end is [`expected_drain`]'s.
pub(super) fn window(
    inp: &ModelInput,
    ov: &Overtaking,
    t_b: i64,
    position: i64,
    stall: Option<Stall>,
) -> Option<LossWindow> {
    let up = inp.slave_up?;
    if let Some(w) = logged_after_restart::window(inp, ov, (t_b, position), up) {
        return Some(w);
    }
    if let Some((d, seg_end)) = near::deadline_after(inp, ov, up) {
        return near::window(inp, ov, (t_b, position, stall), up, d, seg_end);
    }
    let (d, _, seg_end) = ov.overtake?;
    if up < d {
        return None;
    }
    let restart_from = up.max(d);
    let (from, lag) = loss_start(inp, seg_end, t_b);
    let (rest, how, placed) = rest_of_segment(inp, ov, position);
    let drain = |rate: f64| (rest as f64 / rate * 1000.0) as i64;
    let to = restart_from + inp.queue.max_backoff + drain(READ_RATE_SLOW) + inp.restart_delay;
    // Where the segment's end is not placed, the reader is anywhere in a
    // whole segment: half of it is left on average (the bound keeps all).
    let expected_rest = if placed { rest } else { rest / 2 };
    let (first_send, expected_drain, shards) = match stall {
        Some(st) => {
            let r = queue::next_retry(&inp.queue, st.first_send, restart_from);
            let (d, n) = expected_drain(inp, &st, t_b, r, expected_rest);
            (r, d, n)
        }
        None => (
            restart_from + inp.queue.max_backoff / 2,
            (expected_rest as f64 / READ_RATE * 1000.0) as i64,
            inp.queue.min_shards,
        ),
    };
    let to_expected = first_send + expected_drain + inp.restart_delay;
    let to_earliest = restart_from + inp.restart_delay;
    let to_expected = to_expected.clamp(to_earliest, to);
    let logged = logged_restart(inp, restart_from).filter(|r| r.1 >= from);
    let (to_earliest, to_expected, to) = logged.map_or((to_earliest, to_expected, to), |l| {
        (l.0.saturating_add(inp.restart_delay).min(l.1), l.2, l.2)
    });
    // The master's log showing the reader's restart after the slave was up
    // shows the overtaking itself, not a forecast of it.
    let certainty = if (inp.wal.is_some() && !ov.undecided) || logged.is_some() {
        Certainty::Expected
    } else {
        Certainty::Risk
    };
    let why = format!(
        "the master's WAL truncation at {} deleted the segment after the one the stalled \
             remote-write reader was in; once the slave is up the reader finishes its segment, \
             fails to open the next, waits {}s and restarts from 'now': everything after its \
             segment up to the restart is never sent. The restart comes after the queue's retry \
             backoff (up to {}s; the first send expected at {}) and the send of the rest of that \
             segment: about {rest} samples ({how}), expected in {:.1}s (the reader refills the \
             queue as fast as its shards send: {} shard(s) until the queue's next reshard tick, \
             about {shards} after it, each about {} samples/s), up to {}s at {} samples/s",
        crate::coverage::fmt_time(d),
        inp.restart_delay / SECOND,
        inp.queue.max_backoff / SECOND,
        crate::coverage::fmt_time(first_send),
        expected_drain as f64 / 1000.0,
        inp.queue.min_shards,
        READ_RATE as u64,
        drain(READ_RATE_SLOW) / SECOND,
        READ_RATE_SLOW as u64
    ) + &super::grid::dating(inp, d)
        + &lag.map_or(String::new(), |l| super::grid::lag_why(&l))
        + &logged.map_or(String::new(), |l| restart_why(inp, l));
    (to >= from).then(|| ranged(from, (to_earliest, to_expected, to), certainty, why))
}

/// An L2 window over `[from, to]` whose end ranges from `to_earliest`,
/// expected at `to_expected` (clamped into the range).
fn ranged(
    from: i64,
    (earliest, expected, to): (i64, i64, i64),
    certainty: Certainty,
    why: String,
) -> LossWindow {
    LossWindow {
        cause: Cause::L2,
        from,
        to,
        to_earliest: Some(earliest),
        to_expected: Some(expected.max(earliest).min(to)),
        bound_to: None,
        certainty,
        series: None,
        ongoing: false,
        slave_range: SlaveRangeUse::default(),
        race_rest: false,
        why,
    }
}

/// Where an overtaking's loss starts: the master has no sample between the
/// coverage end (its last sample plus 1 ms) and its next scrape, so on the
/// WAL's grids when they show it, else one interval after that last sample;
/// not before the reader's segment ends (what it holds is sent). Samples
/// stamped before their scrape (`grid::lag`): those appended after the
/// snapshot with times before the coverage end are lost too.
fn loss_start(inp: &ModelInput, seg_end: Option<i64>, t_b: i64) -> (i64, Option<super::grid::Lag>) {
    let c = inp.coverage_end;
    let first = inp
        .scrape_grids
        .as_ref()
        .and_then(|g| g.nth_sample_after(c - 1, 1))
        .map_or(c - 1 + inp.scrape_interval.max(1), |x| x.0);
    let from = first.max(c).max(seg_end.map_or(c, |e| e + 1)).max(t_b + 1);
    let lag = super::grid::lag(inp).filter(|_| from == first.max(c));
    (lag.map_or(from, |l| l.first.max(t_b + 1)), lag)
}

/// The reader's restart as the master's log shows it: the first `error
/// tailing WAL` of the slave's queue at or after `after` (the reader can
/// fail on the deleted segment only once its blocked send went through,
/// so not before the slave is up and the overtaking) and the `Replaying
/// WAL` that follows it. 2.42's watcher (`wlog/watcher.go`, `loop`) waits
/// 5 s after the error, takes "now" as its start time and logs the replay:
/// every sample stamped after that start is read and queued, every one up
/// to it and after the reader's segment never is. The queue's shards may
/// still hold samples of the old segment then: a request that holds one is
/// refused whole (older than the coverage end) with the new samples batched
/// behind it, so the refusals logged from the restart on, each within
/// `batch_send_deadline` of the one before (a shard sends a partial batch
/// by then), extend the loss to the last one's answer (a request holds no
/// sample newer than its send). The master logs them through a one-minute
/// de-duplication (a refusal identical to one in the minute before is not
/// in it); the slave's log, when given, holds every one (its clock taken as
/// the master's). `(error, restart, end)`.
pub(super) fn logged_restart(inp: &ModelInput, after: i64) -> Option<(i64, i64, i64)> {
    let log = inp.facts.master_log.as_ref().filter(|l| l.decides())?;
    let r = log.reader_restart(after)?;
    let replay = r.replay_at?.max(r.error_at);
    let slave = inp
        .facts
        .slave_log
        .as_ref()
        .map_or(&[][..], |l| &l.refusals[..]);
    let mut answers: Vec<i64> = log
        .refusals
        .iter()
        .map(|f| f.at)
        .chain(slave.iter().map(|f| f.at))
        .filter(|&at| at >= replay)
        .collect();
    answers.sort_unstable();
    let mut end = replay;
    for at in answers {
        if at > end.saturating_add(inp.queue.batch_send_deadline) {
            break;
        }
        end = at;
    }
    Some((r.error_at, replay, end))
}

fn restart_why(inp: &ModelInput, (error_at, replay_at, end): (i64, i64, i64)) -> String {
    let mut s = format!(
        "; the master's log places the restart: the reader failed at {} (error tailing WAL) and \
         started again from 'now' by {} (Replaying WAL, after its {}s wait)",
        crate::coverage::fmt_time(error_at),
        crate::coverage::fmt_time(replay_at),
        inp.restart_delay / SECOND
    );
    if end > replay_at {
        s.push_str(&format!(
            "; requests refused from then to {} (the logs' answers) held samples of the old \
             segment still queued, and the new samples batched with them: the loss ends by then",
            crate::coverage::fmt_time(end)
        ));
    } else {
        s.push_str(", so the loss ends then");
    }
    if inp.facts.slave_log.is_none() {
        s.push_str(
            " (the master's log drops a refusal line identical to one in the minute before; the \
             slave's log would hold every refused request)",
        );
    }
    s
}

/// The expected time (ms) from the first successful send `r` until the
/// reader has sent `rest` samples, and the shards it sends them with.
///
/// Decoding a segment is not the limit (`watcher.go` reads records and
/// hands each sample to `QueueManager.Append`, which only waits — 5 ms,
/// doubling — while the sample's shard is full): the reader goes as fast as
/// the shards empty their queues, each sending one request of
/// `max_samples_per_send` at a time that the slave refuses (400: older than
/// `C_snap`) or takes. One shard's pace is [`READ_RATE`]. The queue runs
/// `min_shards` shards until its next reshard tick (`updateShardsLoop`,
/// every 10 s from its start; no reshard while nothing was sent for
/// 2 × `batch_send_deadline`, so not before `r`), then the desired shards of
/// `calculateDesiredShards`: the outage counts as the duration of the first
/// send, the samples sent are the buffer plus those sent since `r`, the
/// ingestion rate is the master's (series per interval) and the delay the
/// tick minus the reader's sample time (the same form as the L3 crossing,
/// `queue.rs`), within `min_shards` … `max_shards`.
pub(super) fn expected_drain(
    inp: &ModelInput,
    st: &Stall,
    t_ws: i64,
    r: i64,
    rest: u64,
) -> (i64, u64) {
    drain_at(inp, st, (t_ws, r), rest, READ_RATE)
}

/// The latest the reader has read `rest` more samples once the slave is up
/// at `up`: the blocked send's retry and the reader's own wake-up, each up
/// to `max_backoff` (no file holds their phases), then the rest at one
/// shard's slowest pace, [`READ_RATE_SLOW`], with the shards the queue's
/// reshard rule gives after its tick ([`drain_at`]; one shard without the
/// stall). `(that time, the read's own part)`.
pub(super) fn latest_read(
    inp: &ModelInput,
    stall: Option<Stall>,
    (t_b, up): (i64, i64),
    rest: u64,
) -> (i64, i64) {
    let q = &inp.queue;
    let retried = up.saturating_add(q.max_backoff);
    let slowest = stall
        .map_or((rest as f64 / READ_RATE_SLOW * 1000.0) as i64, |st| {
            drain_at(inp, &st, (t_b, retried), rest, READ_RATE_SLOW).0
        })
        .max(0);
    let latest = retried
        .saturating_add(q.max_backoff)
        .saturating_add(slowest);
    (latest, slowest)
}

/// [`expected_drain`] at `per_shard` samples/s a shard.
pub(super) fn drain_at(
    inp: &ModelInput,
    st: &Stall,
    (t_ws, r): (i64, i64),
    rest: u64,
    per_shard: f64,
) -> (i64, u64) {
    let q = &inp.queue;
    let per_ms = per_shard / 1000.0;
    let first_rate = q.min_shards as f64 * per_ms;
    let tick = queue::next_tick(t_ws, r + 1);
    let before_tick = first_rate * (tick - r) as f64;
    if rest as f64 <= before_tick {
        return ((rest as f64 / first_rate) as i64, q.min_shards);
    }
    let s = inp.series.unwrap_or(1).max(1) as f64;
    let i = inp.scrape_interval.max(1) as f64;
    let outage = (r - st.first_send).max(1) as f64 / 1000.0;
    let sent = (st.buffered as f64 + before_tick).max(1.0);
    let in_rate = s / (i / 1000.0);
    let reached = st.position + (before_tick / s) as i64 * inp.scrape_interval.max(1);
    let delay = ((tick - reached) as f64 / 1000.0).max(0.0);
    let desired = (outage / sent * in_rate * (1.0 + BACKLOG_CATCHUP * delay)).ceil();
    let n = if desired.is_finite() {
        (desired.max(0.0) as u64).clamp(q.min_shards, q.max_shards)
    } else {
        q.max_shards
    };
    let after = (rest as f64 - before_tick) / (n as f64 * per_ms);
    ((tick - r) + after as i64, n)
}

/// Samples the reader still has to send of its segment once the slave is
/// up: every series once per scrape from its position to the segment's end.
/// Where the end is not placed (a size-rotated segment, taken to end at the
/// position so that the window starts as early as it can), the rest is at
/// most one whole segment: the median span of the closed live segments
/// (the flag: false).
fn rest_of_segment(inp: &ModelInput, ov: &Overtaking, position: i64) -> (u64, String, bool) {
    let series = inp.series.filter(|&n| n > 0).unwrap_or(0);
    let i = inp.scrape_interval.max(1);
    let seg_end = ov.overtake.and_then(|o| o.2);
    let span = inp.wal.as_ref().and_then(|w| {
        let n = w.segments.len().saturating_sub(1);
        let mut v: Vec<i64> = w.segments[..n]
            .iter()
            .filter_map(|s| Some(s.max_t? - s.min_t?))
            .filter(|&d| d > 0)
            .collect();
        v.sort_unstable();
        v.get(v.len() / 2).copied()
    });
    let (len, how, placed) = match seg_end {
        Some(e) if e > position => (
            e - position,
            "from the reader's position to its segment's end",
            true,
        ),
        _ => (
            span.unwrap_or(inp.block_range),
            "at most one whole segment (the median span of the closed live ones; its end is not \
             placed: half of it expected)",
            false,
        ),
    };
    let scrapes = (len / i + 1) as u64;
    (series.saturating_mul(scrapes), how.to_string(), placed)
}
