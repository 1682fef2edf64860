//! The reshard race at the crossing batch, ordered from the slave's log
//! (issue 14's fourteenth pass).
//!
//! When the master's log shows a reshard after the earliest moment the
//! batch holding the coverage end could be sent, either can have come
//! first: the reshard (the new shards start empty at the reader's position,
//! before the coverage end, and each one's first batch is refused whole: a
//! long loss) or that batch (only the crossing sliver). 2.42's code
//! (`storage/remote/queue_manager.go`) orders them by where the WAL reader
//! is when `reshardLoop` stops the old shards:
//!
//! * `QueueManager.Append` hands each sample to shard `ref % n`; a full
//!   shard (its channel of `capacity / max_samples_per_send` batches and
//!   its partial batch) makes it sleep 5 ms, doubling to `max_backoff`, and
//!   retry the same sample: the reader never skips ahead of a full shard.
//! * A shard takes a batch out of its channel only to send it
//!   (`runShard`), and sends one at a time; a refused request (400) is
//!   dropped whole (`sendSamples`) and the slave logs it, with its first
//!   refused sample (its oldest: a batch is in WAL order).
//! * So at any moment a shard holds, from the first sample of the last
//!   request the slave has answered, at most that request, one in flight,
//!   its channel and its partial batch: `max_samples_per_send` × (3 +
//!   ⌊`capacity` / `max_samples_per_send`⌋) − 1 samples of its series, at
//!   least ⌊series / n⌋ a scrape. The reader's newest sample is at most that
//!   many scrapes after the newest first sample the slave refused so far.
//! * `updateShardsLoop` logs "Remote storage resharding" as it hands the
//!   count to `reshardLoop`, which at once closes the shards' soft shutdown:
//!   `shards.enqueue` refuses every sample from then on, the reader sleeps
//!   until the new shards start, and they start at the sample it stopped at.
//!
//! Hence the rule: if the newest first sample the slave's log shows refused
//! by the reshard's line, plus that span, lies a scrape or more before the
//! coverage end, the reader had not read the last scrape before it when the
//! queue resharded: the reshard came first, and the resharded catch-up's
//! loss is expected. Otherwise the logs leave the order open (the reader
//! may or may not have passed the coverage end) and the window stays a
//! risk. No constant: the counts are the queue's settings and the sampled
//! series; the times are the two logs' (read on one clock).

use super::ModelInput;
use crate::coverage::masterlog::Reshard;

/// What the slave's log says of the reader's position at a reshard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Behind {
    /// The newest first refused sample the slave logged by the reshard.
    pub refused: i64,
    /// The newest sample the reader can have read by then.
    pub reader_at_most: i64,
    /// Scrapes a shard can hold from the start of its last answered request.
    pub scrapes: i64,
}

/// `Some` when the slave's log shows that the reader had not read the last
/// scrape before the coverage end when the queue resharded (`r`): the
/// reshard came before the crossing batch. `None` when the logs do not
/// decide (no slave's log, one that does not hold the catch-up up to the
/// reshard, no refusal by then, several scrape intervals or lagged
/// timestamps, or a reader that can have passed the coverage end).
pub(super) fn reader_behind(inp: &ModelInput, r: Reshard) -> Option<Behind> {
    let log = inp.facts.slave_log.as_ref()?;
    let up = inp.slave_up?;
    let series = inp.series.filter(|&n| n > 0)?;
    let c = inp.coverage_end;
    let i = inp.scrape_interval;
    // One grid of samples a scrape, stamped at the scrape: the span below
    // counts scrapes of `series` samples.
    let one_rate = inp.scrape_grids.as_ref().is_none_or(|g| {
        g.grids
            .iter()
            .all(|x| x.lag == 0 && x.interval == inp.scrape_interval)
    });
    if i <= 0 || !one_rate || !log.covers(up.min(r.at), r.at) {
        return None;
    }
    let refused = log
        .refusals
        .iter()
        .filter(|x| x.at > c && x.at <= r.at)
        .map(|x| x.sample)
        .max()?;
    let q = &inp.queue;
    let b = q.max_samples_per_send.max(1);
    let held = b
        .saturating_mul((q.capacity / b).saturating_add(3))
        .saturating_sub(1);
    let per = (series / r.from.max(1)).max(1);
    let scrapes = i64::try_from(held.div_ceil(per)).ok()?;
    let reader_at_most = refused.saturating_add(scrapes.saturating_mul(i));
    (reader_at_most.saturating_add(i) <= c).then_some(Behind {
        refused,
        reader_at_most,
        scrapes,
    })
}

#[cfg(test)]
#[path = "race_tests.rs"]
pub(super) mod tests;
