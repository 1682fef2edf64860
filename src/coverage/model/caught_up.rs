//! A reshard the master's log shows after the catch-up was through (issue
//! 14, the operator's replay round two, finding 11).
//!
//! A reshard loses samples only while the WAL reader is behind: the new
//! shards start empty at the reader's position (`reshardLoop`, 2.42's
//! `storage/remote/queue_manager.go`), so (A) a first batch holding a
//! sample older than the coverage end is refused whole, and (B) shards
//! running more than half the slave's block range apart through a long
//! backlog lose the lagging one's requests. A reader at the present starts
//! them at a live position: neither can happen.
//!
//! The slave's log orders it. Every request holding a sample older than
//! the coverage end is refused and logged, one line each
//! (`write_handler.go`), so the refusals from the slave's start show the
//! pace at which the queue moved through the backlog: one request of
//! `max_samples_per_send` samples every (last − first) / (n − 1). The
//! first refusals can be the requests the stalled queue held (its shards'
//! channels, the batch each fills and the one each sends: `capacity /
//! max_samples_per_send` + 3 requests a shard), sent while the reader
//! still slept in `QueueManager.Append`'s backoff; only more refusals than
//! that show the reader awake and reading. Counting that sleep in the pace
//! makes it slower, never faster. At that pace, the samples the WAL's
//! scrape grids put between the last refused request's oldest sample and
//! the reshard are all sent by `by`: when `by` is no later than the
//! reshard, the reader was at the present when the queue resharded.

use super::ModelInput;
use crate::coverage::masterlog::Reshard;
use crate::coverage::{fmt_dur, fmt_time};

/// What the slave's log shows of the catch-up before a reshard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct CaughtUp {
    /// Refused requests logged from the slave's start to the reshard.
    pub refused: usize,
    /// The first and the last of them (ms).
    pub first_at: i64,
    pub last_at: i64,
    /// The last one's oldest sample (ms).
    pub last_sample: i64,
    /// One request every `pace` ms.
    pub pace: i64,
    /// Requests from the last one's oldest sample to the reshard.
    pub requests: u64,
    /// When the reader was through at that pace (ms).
    pub by: i64,
}

impl CaughtUp {
    /// The words for a window's `why` and the assumptions.
    pub fn words(&self, r: Reshard) -> String {
        format!(
            "the master's log shows the queue resharding from {} to {} shards at {}, after the \
             catch-up was through: the slave's log holds {} refused requests from {} to {}, one \
             every {} or faster (the wait of a reader asleep at the slave's start counted in), \
             and at that pace the {} requests of the samples from the last one's oldest ({}) up \
             to the reshard were sent by {}; the new shards started at a live position and lost \
             nothing",
            r.from,
            r.to,
            fmt_time(r.at),
            self.refused,
            fmt_time(self.first_at),
            fmt_time(self.last_at),
            fmt_dur(self.pace),
            self.requests,
            fmt_time(self.last_sample),
            fmt_time(self.by)
        )
    }
}

/// Samples the master scraped with timestamps in `[from, to]`: the WAL's
/// scrape grids, or the series every scrape interval.
pub(super) fn samples_between(inp: &ModelInput, series: u64, from: i64, to: i64) -> Option<u64> {
    let span = to.checked_sub(from).filter(|&s| s >= 0)?;
    let scrapes = |interval: i64| u64::try_from(span / interval.max(1)).ok()?.checked_add(1);
    match inp.scrape_grids.as_ref().filter(|g| !g.grids.is_empty()) {
        Some(g) => g.grids.iter().try_fold(0u64, |n, x| {
            n.checked_add(scrapes(x.interval)?.checked_mul(x.series)?)
        }),
        None => scrapes(inp.scrape_interval)?.checked_mul(series),
    }
}

/// `Some` when the slave's log shows the reader through the backlog by
/// the reshard `r` (see the module's text); `None` when it does not
/// decide (no slave's log, one that does not hold the catch-up up to the
/// reshard, no more refusals than the stalled queue held, samples out of
/// timestamp order in the WAL, or a pace that does not reach the reshard).
pub(super) fn before_reshard(inp: &ModelInput, r: Reshard, series: u64) -> Option<CaughtUp> {
    let log = inp.facts.slave_log.as_ref()?;
    let up = inp.slave_up?;
    let from = up.min(r.at);
    if !log.covers(from, r.at) {
        return None;
    }
    let refused: Vec<_> = log
        .refusals
        .iter()
        .filter(|x| x.at >= from && x.at <= r.at)
        .collect();
    let q = &inp.queue;
    let b = q.max_samples_per_send.max(1);
    let held = (q.capacity / b)
        .saturating_add(3)
        .saturating_mul(r.from.max(1));
    let n = u64::try_from(refused.len()).ok()?;
    let (first, last) = (refused.first()?, refused.last()?);
    // The count below walks the WAL in timestamp order: every sample
    // stamped at its scrape (no lag), and no refused request starting
    // before the one refused ahead of it (a scrape appended seconds after
    // its timestamp, a slow target's, sits among newer samples).
    let in_order = refused.windows(2).all(|p| p[0].sample <= p[1].sample);
    let unlagged = inp
        .scrape_grids
        .as_ref()
        .is_none_or(|g| g.grids.iter().all(|x| x.lag == 0));
    if n <= held || !in_order || !unlagged {
        return None;
    }
    let pace = last
        .at
        .checked_sub(first.at)?
        .checked_add(i64::try_from(n - 2).ok()?)?
        .checked_div(i64::try_from(n - 1).ok()?)?;
    let requests = samples_between(inp, series, last.sample, r.at)?.div_ceil(b);
    let by = last
        .at
        .checked_add(i64::try_from(requests).ok()?.checked_mul(pace)?)?;
    (by <= r.at).then_some(CaughtUp {
        refused: refused.len(),
        first_at: first.at,
        last_at: last.at,
        last_sample: last.sample,
        pace,
        requests,
        by,
    })
}

#[cfg(test)]
#[path = "caught_up_tests.rs"]
mod tests;
