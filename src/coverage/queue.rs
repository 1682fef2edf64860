//! The master's remote-write queue, as the loss model needs it: where the
//! WAL reader stalls while the slave is down, and how long the batch that
//! crosses `C_snap` is when the slave comes up (L3).
//!
//! Every rule here is read from Prometheus' `storage/remote/queue_manager.go`
//! and `config/config.go` (v2.42.0; the v2.44.0 defaults noted):
//!
//! * **Defaults.** v2.42/v2.43: `max_samples_per_send` B = 500, `capacity`
//!   = 2500, `min_shards` 1, `max_shards` 200, `batch_send_deadline` 5 s,
//!   `min_backoff` 30 ms, `max_backoff` 5 s. From v2.44.0: B = 2000,
//!   capacity 10 000, `max_shards` 50 (same backoffs and deadline).
//! * **Buffer before the stall.** The queue starts with `min_shards` shards.
//!   A shard takes a batch when B samples are queued or its deadline timer
//!   (started with the shard) fires with a non-empty batch, and retries
//!   that send forever while the slave is down (a refused connection or a
//!   503 is recoverable). Its channel holds `capacity / B` more batches and
//!   one partial batch of up to B − 1 samples; when that is full,
//!   `QueueManager.Append` blocks and the WAL reader stops. So the reader
//!   stalls about `first batch + capacity + B − 1` samples (per shard) after
//!   the first sample it forwards.
//! * **Retries.** The blocked send sleeps `min_backoff`, doubling up to
//!   `max_backoff`, between attempts: after `30 ms·(2^k − 1)` it retries
//!   every 5 s. The first attempt at or after the slave's ready time
//!   succeeds (or is answered 400): the shard then drains its channel.
//! * **The reader's own wait.** `Append` sleeps 5 ms, doubling up to
//!   `max_backoff`, between attempts to enqueue: it resumes at its own next
//!   wake-up after the shard drained, not at once.
//! * **Resharding.** `updateShardsLoop` ticks every 10 s from the queue's
//!   start. While nothing was sent for `2 × batch_send_deadline`, it never
//!   reshards. The first tick after sends resume computes the desired shards
//!   as `timePerSample × inRate × (1 + 0.05 × delay)`, where timePerSample
//!   includes the whole outage spent in the first retried send: the queue
//!   jumps to tens or hundreds of shards (`max_shards` at most).
//! * **The crossing batch (L3).** With PRW 1.0 the slave refuses a request
//!   whole (400) when one sample is older than `C_snap`. The batch that
//!   crosses `C_snap` loses its newer samples too.
//!   * When the reader stalled past `C_snap` (few series, long interval:
//!     the buffer holds more than the time to `C_snap`), the crossing batch
//!     is already in the shard's channel and goes out right after the first
//!     successful send: no reshard tick can come first.
//!   * The crossing batch is flushed by the shard's deadline timer
//!     (`runShard`: `batch_send_deadline` after its last send) with what
//!     the reader has read by then: when the scrape that would fill it
//!     comes later (a long scrape interval, a slave up soon after
//!     `C_snap`), it ends with the last scrape read — none after `C_snap`
//!     if the next scrape comes after the flush: no sliver.
//!   * No reshard before the crossing (the reader is back and through the
//!     backlog older than `C_snap` before the first tick after the first
//!     successful send): `min_shards` shards, each batch holding B samples
//!     of S/shards series per scrape: the loss is at most
//!     ⌈(B − 1)·shards / S⌉ scrapes after `C_snap`.
//!   * A reshard tick between the first successful send and the crossing
//!     (`reshardLoop`: the old shards are stopped — their partial batches
//!     flushed — and N new ones started empty): the new shards' batches
//!     start at the reader's position *at the tick* (`p`, still before
//!     `C_snap`), not at `C_snap`. A sample goes to shard `ref mod N`
//!     (`shards.enqueue`) and head series refs are consecutive, so a shard
//!     holds ⌊S/N⌋ or ⌈S/N⌉ series and cuts a batch every B of their
//!     samples: every B/s scrapes from `p`. Its crossing batch is lost
//!     whole and ends when it is full, or when the shard's
//!     `batch_send_deadline` timer (started with the shard, reset at each
//!     send, `runShard`) fires first — with what the reader has read by
//!     then. N comes from `calculateDesiredShards` at the tick: the whole
//!     outage is the duration of the first send (`sendSamples` counts it
//!     whether the send succeeded or was refused), the samples sent in the
//!     tick are the buffer plus what the reader sent before the tick,
//!     `dataInRate` is the master's ingestion rate (S per interval), the
//!     delay is the newest sample appended minus the newest sent: N =
//!     ⌈outage / sent · S/i · (1 + 0.05 · delay)⌉ within `min_shards` …
//!     `max_shards`. The rates are moving averages no file records, so N is
//!     taken within the reshard tolerance (±30 %), and the reader's speed
//!     through the backlog ([`READ_RATE`], a machine property) within its
//!     range: the end is the range over both, the expected end the point at
//!     N and [`READ_RATE`] (`to_expected`).
//!
//! * **Several scrape grids.** Targets scraped at different intervals or
//!   phases (`scrapes.rs`: one grid per target, from the samples records
//!   of the master's WAL) add their samples as one burst per scrape: a 5 s
//!   target's every fifth second, two targets at the same interval at
//!   their own phases. The one-shard count above then walks the grids'
//!   scrapes in time order instead of one grid of S samples, and so does
//!   the backlog before `C_snap`; the lost samples spanning less than the
//!   shortest interval are as many series.
//! * **A tick at the crossing.** The reshard tick and the crossing are
//!   known to the phase uncertainty (the queue's start, the first scrape);
//!   a tick within it of the crossing may come on either side, and no file
//!   orders them. The un-resharded sliver is lost on both paths (the
//!   resharded one starts at the same first scrape after `C_snap` and ends
//!   later): it is the expected window ([`Crossing::undecided_short`]); the
//!   rest of the resharded path's sliver is a risk, its range from the
//!   un-resharded end to the resharded one.
//!
//! The slave itself refuses more than `C_snap`'s past: its head accepts no
//! sample older than its newest sample minus half its block range
//! (`appendableMinValidTime` in tsdb/head.go). A shard lagging that far
//! behind the others after a reshard loses its batch whole; which shard
//! lags depends on send timing no file records, so it is stated as a risk
//! (`model/slivers.rs`: the backlog `C_snap` … slave up, the series of one
//! of the shards the queue is expected to run — [`Crossing::catch_up_shards`])
//! wherever that backlog is longer than half the block range; one
//! out-of-sample run, `s5k-2m-up90`, shows it: 116 series, 6 s).

use serde::Serialize;

use super::fmt_dur;
use super::version::Version;

mod crossing;
pub use crossing::{Crossing, Reads, crossing, crossing_with_unsent};

/// One second in ms.
const SECOND: i64 = 1_000;
/// `shardUpdateDuration`: how often the queue considers resharding.
pub const SHARD_UPDATE: i64 = 10 * SECOND;
/// `--storage.remote.flush-deadline` (2.42's default, `cmd/prometheus`):
/// how long a reshard's `shards.stop` lets the old shards send what they
/// hold, after its "Remote storage resharding" line.
pub const FLUSH_DEADLINE: i64 = 60 * SECOND;
/// `QueueManager.Append`'s first wait when a shard is full.
pub const APPEND_FIRST_BACKOFF: i64 = 5;
/// The watcher reads the live segment every 10 ms (`readPeriod`).
pub const READ_PERIOD: i64 = 10;
/// Time per refused connection attempt while the slave is down (measured
/// on loopback: the retry instants drift by about this per attempt).
pub const ATTEMPT_DRIFT: i64 = 2;
/// Assumed time per request the slave answers 400 on loopback, for the
/// drain of the backlog older than `C_snap` (a few ms each).
pub const REQUEST_TIME: i64 = 5;
/// Samples per second measured on loopback on the loaded 2-core machine of
/// the recorded runs from the slave's 400 answers (≈ 50 000 samples in
/// 1.9 s): the reader's pace through the backlog after a reshard (L3), and
/// one shard's sending pace in the L2 drain (`model/l2.rs`: the reader
/// there goes as fast as the shards empty their queues).
pub const READ_RATE: f64 = 25_000.0;
/// `calculateDesiredShards`' backlog term (storage/remote/queue_manager.go):
/// the queue plans to send 5 % of its pending samples per second on top of
/// the ingestion rate (`backlogCatchup = 0.05 * dataPending`).
pub const BACKLOG_CATCHUP: f64 = 0.05;
/// `shardToleranceFraction` (queue_manager.go): the queue reshards only
/// when the desired shards leave ±30 % of the current count; the model
/// also takes it as how well it knows the desired count (moving averages
/// no file records).
pub const SHARD_TOLERANCE: f64 = 0.3;
/// The slow end of [`READ_RATE`] for the latest end of a crossing.
pub const READ_RATE_SLOW: f64 = 10_000.0;
/// How far the model's instants of a scrape's samples reaching the queue
/// (the scrape's timestamp) and of the queue's start (the WAL's first
/// sample) may be from the real ones when the scrape phase is read from
/// the files: a scrape's samples are committed after the scrape's
/// duration, and the reader sees them within `READ_PERIOD`. Measured on
/// the recording machine like [`READ_RATE`] (ms).
pub const PHASE_UNCERTAINTY: i64 = 300;

/// The sending machine's constants above, as the model states them among
/// its assumptions: no file holds them.
pub fn machine_assumption() -> String {
    format!(
        "the sending machine's pace (no file records it): the remote-write reader and one shard \
         move {} samples/s through a backlog ({} at the slowest), a refused request takes \
         {REQUEST_TIME} ms, a refused connection attempt {ATTEMPT_DRIFT} ms, and a scrape \
         reaches the queue within {PHASE_UNCERTAINTY} ms of its timestamp; measured on \
         loopback on a loaded 2-core machine",
        READ_RATE as u64, READ_RATE_SLOW as u64
    )
}

/// `queue_config` as the operator gives it; absent fields take the
/// defaults of the master's version (v2.42 when unknown).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct QueueSettings {
    /// `max_samples_per_send`.
    pub max_samples_per_send: Option<u64>,
    /// `capacity` (per shard).
    pub capacity: Option<u64>,
    /// `min_shards`.
    pub min_shards: Option<u64>,
    /// `max_shards`.
    pub max_shards: Option<u64>,
    /// `batch_send_deadline` (ms).
    pub batch_send_deadline: Option<i64>,
    /// `min_backoff` (ms).
    pub min_backoff: Option<i64>,
    /// `max_backoff` (ms).
    pub max_backoff: Option<i64>,
}

/// The queue settings in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Queue {
    /// `max_samples_per_send`.
    pub max_samples_per_send: u64,
    /// `capacity`.
    pub capacity: u64,
    /// `min_shards`.
    pub min_shards: u64,
    /// `max_shards`.
    pub max_shards: u64,
    /// `batch_send_deadline` (ms).
    pub batch_send_deadline: i64,
    /// `min_backoff` (ms).
    pub min_backoff: i64,
    /// `max_backoff` (ms).
    pub max_backoff: i64,
}

/// First release with B = 2000, capacity 10 000, 50 shards.
const NEW_DEFAULTS: Version = Version {
    major: 2,
    minor: 44,
    patch: 0,
};

impl QueueSettings {
    /// The settings with the version's defaults filled in; says what was
    /// assumed.
    pub fn resolve(&self, version: Option<Version>, assumptions: &mut Vec<String>) -> Queue {
        let new = version.is_some_and(|v| v >= NEW_DEFAULTS);
        let (b, cap, max) = if new {
            (2000, 10_000, 50)
        } else {
            (500, 2500, 200)
        };
        let q = Queue {
            max_samples_per_send: self.max_samples_per_send.unwrap_or(b).max(1),
            capacity: self.capacity.unwrap_or(cap),
            min_shards: self.min_shards.unwrap_or(1).max(1),
            max_shards: self.max_shards.unwrap_or(max).max(1),
            batch_send_deadline: self.batch_send_deadline.unwrap_or(5 * SECOND).max(1),
            min_backoff: self.min_backoff.unwrap_or(30).max(1),
            max_backoff: self.max_backoff.unwrap_or(5 * SECOND).max(1),
        };
        if *self == QueueSettings::default() {
            assumptions.push(format!(
                "remote_write queue_config not given (max_samples_per_send, capacity, min_shards, \
                 max_shards, batch_send_deadline, max_backoff): the defaults of {} assumed \
                 (max_samples_per_send {}, capacity {}, shards {}..{}, deadline {}, backoff \
                 30ms..5s)",
                match version {
                    Some(v) => format!("v{v}"),
                    None =>
                        "v2.42 (no master version given; v2.44+ defaults are 2000 / 10000 / 50 \
                         shards)"
                            .into(),
                },
                q.max_samples_per_send,
                q.capacity,
                q.min_shards,
                q.max_shards,
                fmt_dur(q.batch_send_deadline)
            ));
        }
        q
    }
}

/// Where and when the reader stalled, and the retry schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Stall {
    /// First sample forwarded (its timestamp ≈ its write time).
    pub first_sample: i64,
    /// When the first batch was handed to the (failing) send.
    pub first_send: i64,
    /// Samples in that first batch (batches are cut every B samples after it).
    pub first_batch: u64,
    /// Samples the queue holds when the reader stalls.
    pub buffered: u64,
    /// Timestamp of the sample the reader stalls at (`t_b`).
    pub position: i64,
}

/// The reader's stall from the queue start `t_ws`, the first sample after it
/// (`first`), `series` samples per scrape every `interval`.
pub fn stall(q: &Queue, t_ws: i64, first: i64, series: u64, interval: i64) -> Stall {
    stall_read(q, t_ws, first, series, interval, |_| None)
}

/// [`stall`], with `read(t)` the samples stamped in `[first, t]` when the
/// files count them (the master's first seconds can hold fewer samples per
/// scrape than its newest: rule results before the targets' first
/// scrapes). 2.42's `runShard` sends the first batch when it is full or when
/// its `batch_send_deadline` timer, started with the shard, fires: then with
/// the samples read by that tick, whatever `series` says.
pub fn stall_read(
    q: &Queue,
    t_ws: i64,
    first: i64,
    series: u64,
    interval: i64,
    read: impl Fn(i64) -> Option<u64>,
) -> Stall {
    let s = series.max(1);
    let i = interval.max(1);
    let b = q.max_samples_per_send;
    let shards = q.min_shards;
    // Per shard: s / shards samples per scrape. Times come from files and
    // flags: every step saturates.
    let per = s.div_ceil(shards).max(1);
    // The first batch: full after ⌈B/per⌉ scrapes, or the deadline tick.
    let to_full = i64::try_from(b.div_ceil(per)).unwrap_or(i64::MAX);
    let full_at = first
        .saturating_add(to_full.saturating_sub(1).saturating_mul(i))
        .saturating_add(READ_PERIOD);
    let d = q.batch_send_deadline;
    let ticks = (first.saturating_sub(t_ws).max(0) / d).saturating_add(1);
    let tick = t_ws.saturating_add(ticks.saturating_mul(d));
    // Per shard: the samples read by the tick.
    let by_tick = read(tick).map(|n| n.div_ceil(shards));
    let (first_send, n1) = if let Some(n) = by_tick.filter(|&n| n > 0 && n < b) {
        (tick, n)
    } else if full_at <= tick {
        (full_at, b)
    } else {
        let scrapes = (tick.saturating_sub(first) / i).saturating_add(1).max(1) as u64;
        (tick, scrapes.saturating_mul(per).min(b))
    };
    let slots = (q.capacity / b).max(1);
    let per_shard = n1
        .saturating_add(slots.saturating_mul(b))
        .saturating_add(b - 1);
    let buffered = per_shard.saturating_mul(shards);
    let scrapes = buffered / s; // scrapes fully read before the stalled one
    let read_span = i64::try_from(scrapes).unwrap_or(i64::MAX).saturating_mul(i);
    Stall {
        first_sample: first,
        first_send,
        first_batch: n1,
        buffered,
        position: first.saturating_add(read_span),
    }
}

/// What the one-shard count stands on: the samples before `C_snap` from
/// the snapshot's blocks (exact), or projected.
fn series_basis(exact: bool, b: u64) -> String {
    if exact {
        "the samples before C_snap counted from the snapshot's blocks".to_string()
    } else {
        format!(
            "the samples before C_snap projected from today's series on the scrape grids (a \
             master whose series changed since its start shifts it): an estimate, the batch \
             holding from 1 to {} samples after C_snap",
            b.saturating_sub(1)
        )
    }
}

/// The retry instants of a send first attempted at `start`: the first at or
/// after `t`.
pub fn next_retry(q: &Queue, start: i64, t: i64) -> i64 {
    backoff_instant(start, q.min_backoff, q.max_backoff, ATTEMPT_DRIFT, t)
}

/// The reader's wake-ups in `Append` after it stalled at `start`: the first
/// at or after `t`.
pub fn next_wake(q: &Queue, start: i64, t: i64) -> i64 {
    backoff_instant(start, APPEND_FIRST_BACKOFF, q.max_backoff, 0, t)
}

fn backoff_instant(start: i64, first: i64, max: i64, drift: i64, t: i64) -> i64 {
    let mut at = start;
    let mut sleep = first.max(1);
    while at < t {
        if sleep >= max {
            // Constant period from here on.
            let period = max.saturating_add(drift).max(1);
            let k = t.saturating_sub(at).saturating_add(period - 1) / period;
            return at.saturating_add(k.saturating_mul(period));
        }
        at = at.saturating_add(sleep.saturating_add(drift));
        sleep = sleep.saturating_mul(2).min(max);
    }
    at
}

/// The first reshard tick at or after `t` (ticks every 10 s from `t_ws`).
pub fn next_tick(t_ws: i64, t: i64) -> i64 {
    let k = t
        .saturating_sub(t_ws)
        .saturating_add(SHARD_UPDATE - 1)
        .div_euclid(SHARD_UPDATE)
        .max(1);
    t_ws.saturating_add(k.saturating_mul(SHARD_UPDATE))
}

#[cfg(test)]
#[path = "queue_tests.rs"]
mod queue_tests;
