//! L6 for a master restart after the slave was up, when no catch-up time
//! is given: the queue is not caught up the moment the slave is ready.
//!
//! Once the slave is up, the shard's blocked send goes out at its next
//! retry (up to `max_backoff` later), the reader wakes from its enqueue
//! backoff (up to `max_backoff` after that) and reads its backlog, from its
//! stall to the present, as fast as the shards send it. A restart before
//! that is through stops the old queue with its backlog unsent (2.42's
//! `QueueManager.Stop` flushes only what the shards already hold; the new
//! reader sends only samples after its own start): what the old reader had
//! not sent, up to the master's stop, is lost. The latest catch-up the
//! files allow is both waits whole and the backlog at one shard's slowest
//! pace with the shards the reshard rule gives (`l2::drain_at`), or, where
//! the slave's log shows a request it refused after it was up (older than
//! its blocks), the time it answered the furthest one plus the samples from
//! that request's first one to the restart at that pace: the reader had
//! read that far by then. A restart after it loses at most what the shards
//! still held at the stop, if the process was killed (a `risk` window of
//! a `batch_send_deadline` and a scrape before the stop; none where the
//! master's log shows a clean stop, which flushes them). A
//! restart before it gives a window from the coverage end to the stop:
//! `expected` when the master's log shows the queue's first refused
//! request after the slave was up (the stall's own batch, older than the
//! slave's blocks) only at or after the restart, so nothing had been sent
//! by then; a `risk` otherwise (the reader may have sent part of it).

use super::{Cause, Certainty, LossWindow, ModelInput};
use crate::coverage::queue::Stall;
use crate::coverage::{fmt_dur, fmt_time};

/// The window of the first master restart at or after the slave's ready
/// time, before the latest catch-up the files allow (see the module's
/// text), ended at the stop a file shows (`l6_stop::restart_silence`);
/// later restarts get an assumption, one after that catch-up an assumption
/// and the shards' last batch (`queued_at_stop`).
pub(super) fn catching_up(
    inp: &ModelInput,
    (t_b, stall): (i64, Option<Stall>),
    truncations: &[i64],
    assumptions: &mut Vec<String>,
) -> Option<LossWindow> {
    let up = inp.slave_up.filter(|_| inp.facts.catch_up.is_none())?;
    let mut after: Vec<i64> = (inp.facts.master_restarts.iter().copied())
        .filter(|&r| r >= up)
        .collect();
    after.sort_unstable();
    after.dedup();
    let (&r, later) = after.split_first()?;
    for &l in later {
        assumptions.push(format!(
            "master restart at {} comes after the one at {} after the slave was up: the reader \
             the first one started had only its own short backlog to send; only what was still \
             queued at shutdown and not flushed within the flush deadline (1m) is at risk; no \
             window",
            fmt_time(l),
            fmt_time(r)
        ));
    }
    let latest = latest_catch_up(inp, t_b, stall, up);
    let logged = logged_catch_up(inp, up, r);
    if let Some((_, why)) = logged.filter(|&(by, _)| by <= r && by < latest) {
        assumptions.push(format!(
            "master restart at {} is after the slave was up and after the queue was caught up \
             as the slave's log shows it ({why}): only what was still queued at shutdown and not \
             flushed within the flush deadline (1m) is at risk",
            fmt_time(r)
        ));
        return queued_at_stop(inp, r, truncations);
    }
    if r >= latest {
        assumptions.push(format!(
            "master restart at {} is after the slave was up and after the slowest catch-up the \
             files allow ({}: the blocked send's retry and the reader's wake-up, each up to \
             max_backoff, then its backlog at one shard's slowest pace): only what was still \
             queued at shutdown and not flushed within the flush deadline (1m) is at risk \
             (give --catch-up when it is known)",
            fmt_time(r),
            fmt_time(latest)
        ));
        return queued_at_stop(inp, r, truncations);
    }
    let from = inp.coverage_end.max(t_b.saturating_add(1));
    let position = stall.map_or(t_b, |s| s.position);
    let unsent = nothing_sent_before(inp, up, r, position);
    let (certainty, how) = if unsent {
        (
            Certainty::Expected,
            "the master's log shows the queue's first refused request after the slave was up (its \
             stalled batch) only at or after the restart: nothing after the stall had been sent",
        )
    } else {
        (
            Certainty::Risk,
            "no file shows how far the reader got before the restart: at most this range",
        )
    };
    let w = LossWindow::new(
        Cause::L6,
        from,
        r,
        certainty,
        format!(
            "the master restarted (or its remote_write block changed) at {}, {} after the slave \
             was up ({}) and before the slowest catch-up the files allow ({}): the old queue \
             stopped with its backlog unsent, and the new reader sends only samples after its \
             start; {how}",
            fmt_time(r),
            fmt_dur(r.saturating_sub(up)),
            fmt_time(up),
            fmt_time(latest)
        ),
    );
    super::l6_stop::restart_silence(inp, w, truncations)
}

/// The latest the queue is caught up: its backlog from the stall to the
/// slave's ready time read at the latest the files allow (`l2::latest_read`).
fn latest_catch_up(inp: &ModelInput, t_b: i64, stall: Option<Stall>, up: i64) -> i64 {
    let i = inp.scrape_interval.max(1);
    let position = stall.map_or(t_b, |s| s.position);
    let scrapes = u64::try_from(up.saturating_sub(position) / i).unwrap_or(0);
    let rest = inp
        .series
        .unwrap_or(0)
        .saturating_mul(scrapes.saturating_add(1));
    super::l2::latest_read(inp, stall, (t_b, up), rest).0
}

/// A restart after the catch-up: what the shards still held at the stop
/// (each sends a partial batch `batch_send_deadline` after its last send,
/// and a request in flight is answered within a scrape here) is lost if
/// the process was killed (a SIGTERM flushes it): a `risk` window from that
/// long before the stop a file shows to the stop, unless the master's log
/// shows the clean stop.
fn queued_at_stop(inp: &ModelInput, r: i64, truncations: &[i64]) -> Option<LossWindow> {
    let log = inp.facts.master_log.as_ref().filter(|l| l.decides());
    if log.is_some_and(|l| l.stop_before(r, 1_000).is_some()) {
        // The log shows a clean stop (SIGTERM, or the queue's own): flushed.
        return None;
    }
    let w = LossWindow::new(
        Cause::L6,
        inp.coverage_end,
        r,
        Certainty::Risk,
        format!(
            "the master restarted at {} after the queue was caught up: what its shards still \
             held at the stop (at most a batch_send_deadline of samples, {}, and a request in \
             flight) is lost if the process was killed; a clean stop flushes it",
            fmt_time(r),
            fmt_dur(inp.queue.batch_send_deadline)
        ),
    );
    let mut w = super::l6_stop::restart_silence(inp, w, truncations)?;
    let held = inp
        .queue
        .batch_send_deadline
        .saturating_add(inp.scrape_interval);
    let stop = w.to_earliest.unwrap_or(w.to);
    w.from = stop.saturating_sub(held).max(w.from).min(w.to);
    Some(w)
}

/// The latest the queue is caught up as the slave's log shows it, before
/// the restart `r`: a request it refused after the slave was up (older
/// than its blocks) was read by the old reader by the time it was
/// answered, so the reader had read through that request's first sample
/// by then (whatever the shards; the furthest such sample is taken, never
/// past the time it was answered); from there to `r` it had the samples
/// the master scraped in between to read, at one shard's slowest pace at
/// the latest. `(that time, why)`.
fn logged_catch_up(inp: &ModelInput, up: i64, r: i64) -> Option<(i64, String)> {
    let log = inp.facts.slave_log.as_ref()?;
    let seen = log
        .refusals
        .iter()
        .filter(|x| x.at >= up && x.at < r)
        .max_by_key(|x| x.sample.min(x.at))?;
    let read = seen.sample.min(seen.at);
    let rest = super::caught_up::samples_between(inp, inp.series?, read, r)?;
    let ms = (rest as f64 / crate::coverage::queue::READ_RATE_SLOW * 1000.0) as i64;
    let by = seen.at.saturating_add(ms.max(0));
    let why = format!(
        "its request refused at {} starts at the sample of {}, which the reader had read by \
         then; the {rest} samples from there to the restart take until {} at one shard's \
         slowest pace",
        fmt_time(seen.at),
        fmt_time(read),
        fmt_time(by)
    );
    Some((by, why))
}

/// Whether the master's log shows nothing sent before the restart `r`: the
/// queue's first refused request after `up` is logged at or after `r`, or
/// at or after the stop the log shows before `r` (the old reader reads
/// nothing more once its queue stops). The
/// stalled batch holds samples from `position`, before the coverage end,
/// which the slave seeded with the snapshot refuses, so the first request
/// after the slave is up is refused and logged (no such line came before).
fn nothing_sent_before(inp: &ModelInput, up: i64, r: i64, position: i64) -> bool {
    let Some(log) = inp.facts.master_log.as_ref().filter(|l| l.decides()) else {
        return false;
    };
    if position >= inp.coverage_end || log.extent.reaches().is_none_or(|t| t < r) {
        return false;
    }
    let stop = log.stop_before(r, 1_000).unwrap_or(r);
    log.refusals
        .iter()
        .find(|f| f.at >= up)
        .is_some_and(|f| f.at >= stop)
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 1_000;
    const C: i64 = 1_796_682_769_871;

    /// The master (441 series at 1 s, remote write on 100 s before
    /// the coverage end), the slave up 61 s after it.
    fn input(restart: i64) -> ModelInput {
        let mut inp = ModelInput::new(60 * S, C, C - 40 * S, C + S);
        inp.scrape_interval = S;
        inp.series = Some(441);
        inp.slave_up = Some(C + 61 * S);
        inp.facts.master_restarts = vec![restart];
        inp
    }

    /// A restart 3 s after the slave was up, before the slowest catch-up
    /// the files allow: a window from the coverage end to it, a risk
    /// without the master's log; one an hour later: an assumption and the
    /// shards' last batch (a risk: a kill loses it);
    /// with a catch-up given, none here (`restart_windows` judges it).
    #[test]
    fn a_restart_during_the_catch_up_loses_the_backlog() {
        let stall = (C - 100 * S, None);
        let mut why = Vec::new();
        let w = catching_up(&input(C + 64 * S), stall, &[], &mut why).unwrap();
        assert_eq!((w.cause, w.from, w.to), (Cause::L6, C, C + 64 * S));
        assert_eq!(w.certainty, Certainty::Risk, "{}", w.why);
        assert!(why.is_empty(), "{why:?}");
        // An hour later: only what the shards held at the stop, a risk.
        let late = catching_up(&input(C + 3_600 * S), stall, &[], &mut why).unwrap();
        assert_eq!((late.from, late.to), (C + 3_594 * S, C + 3_600 * S));
        assert_eq!(late.certainty, Certainty::Risk, "{}", late.why);
        assert!(why[0].contains("slowest catch-up"), "{why:?}");
        let mut given = input(C + 64 * S);
        given.facts.catch_up = Some(10 * S);
        assert!(catching_up(&given, stall, &[], &mut Vec::new()).is_none());
    }

    /// `self1s-kup155-up94` (twenty-fourth set): SIGKILL 15.5 s after the
    /// slave's ready time, 0.1 s before the slowest catch-up the files
    /// allow; the slave's log shows the backlog refused through the
    /// boundary 6.6 s before the kill, so the queue was caught up: no
    /// backlog window, only the shards' last batch before the kill (the
    /// run lost 210 of 417 series of its last scrape). Without the log, the
    /// window from the coverage end stays.
    #[test]
    fn the_slave_logs_catch_up_leaves_only_the_last_batch() {
        let log = include_str!("../../../testdata/loss-runs/self1s-kup155-up94/slave-log.txt");
        let c = 1_796_694_529_421;
        let (up, kill) = (1_796_694_624_776, 1_796_694_640_272);
        let mut inp = ModelInput::new(60 * S, c, c - 40 * S, c + S);
        inp.scrape_interval = S;
        inp.series = Some(417);
        inp.slave_up = Some(up);
        inp.facts.master_restarts = vec![kill];
        let stall = (c - 100 * S, None);
        let mut why = Vec::new();
        let wide = catching_up(&inp, stall, &[], &mut why).unwrap();
        assert_eq!((wide.from, wide.to), (c, kill));
        inp.facts.slave_log = Some(crate::coverage::slavelog::parse_bytes(log.as_bytes()));
        let w = catching_up(&inp, stall, &[], &mut why).unwrap();
        assert_eq!(
            (w.from, w.to, w.certainty),
            (kill - 6 * S, kill, Certainty::Risk)
        );
        assert!(
            why.iter()
                .any(|a| a.contains("as the slave's log shows it")),
            "{why:?}"
        );
    }
}
