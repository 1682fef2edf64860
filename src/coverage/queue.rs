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

use super::scrapes::Schedule;
use super::version::Version;
use super::{fmt_dur, fmt_time};

/// One second in ms.
const SECOND: i64 = 1_000;
/// `shardUpdateDuration`: how often the queue considers resharding.
pub const SHARD_UPDATE: i64 = 10 * SECOND;
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
/// The slow end of [`READ_RATE`] for the latest end of a crossing.
pub const READ_RATE_SLOW: f64 = 10_000.0;

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
                "remote_write queue_config not given (max_samples_per_send, capacity, min_shards, max_shards, \
                 batch_send_deadline, max_backoff): the defaults of {} assumed (max_samples_per_send \
                 {}, capacity {}, shards {}..{}, deadline {}, backoff 30ms..5s)",
                match version {
                    Some(v) => format!("v{v}"),
                    None => "v2.42 (no master version given; v2.44+ defaults are 2000 / 10000 / 50 shards)".into(),
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
    let s = series.max(1);
    let i = interval.max(1);
    let b = q.max_samples_per_send;
    let shards = q.min_shards;
    // Per shard: s / shards samples per scrape.
    let per = s.div_ceil(shards).max(1);
    // The first batch: full after ⌈B/per⌉ scrapes, or the deadline tick.
    let full_at = first + (b.div_ceil(per) as i64 - 1) * i + READ_PERIOD;
    let d = q.batch_send_deadline;
    let tick = t_ws + ((first - t_ws).max(0) / d + 1) * d;
    let (first_send, n1) = if full_at <= tick {
        (full_at, b)
    } else {
        let scrapes = ((tick - first) / i + 1).max(1) as u64;
        (tick, (scrapes * per).min(b))
    };
    let slots = (q.capacity / b).max(1);
    let per_shard = n1 + slots * b + (b - 1);
    let buffered = per_shard.saturating_mul(shards);
    let scrapes = buffered / s; // scrapes fully read before the stalled one
    Stall {
        first_sample: first,
        first_send,
        first_batch: n1,
        buffered,
        position: first + scrapes as i64 * i,
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
            let period = max + drift;
            let k = (t - at + period - 1) / period;
            return at + k * period;
        }
        at += sleep + drift;
        sleep = (sleep * 2).min(max);
    }
    at
}

/// The first reshard tick at or after `t` (ticks every 10 s from `t_ws`).
pub fn next_tick(t_ws: i64, t: i64) -> i64 {
    let k = (t - t_ws + SHARD_UPDATE - 1)
        .div_euclid(SHARD_UPDATE)
        .max(1);
    t_ws + k * SHARD_UPDATE
}

/// The L3 prediction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Crossing {
    /// True if a reshard tick is expected between the first successful send
    /// and the crossing.
    pub resharded: bool,
    /// Shards at the crossing (expected).
    pub shards: u64,
    /// Shards the queue is expected to run once it reshards after the
    /// slave is up (the desired-shards formula at the first tick).
    pub catch_up_shards: u64,
    /// First sample time after `C_snap` (the expected start).
    pub start: i64,
    /// Expected last lost sample time.
    pub expected_end: i64,
    /// Earliest end of the expected case.
    pub earliest_end: i64,
    /// The most likely end inside `earliest_end … expected_end`.
    pub point_end: i64,
    /// Latest end whichever case happens.
    pub bound_end: i64,
    /// The end if the queue takes the other path (resharded or not).
    pub other_end: i64,
    /// Series that lose the sliver, when fewer than all (the short case).
    pub series: Option<u64>,
    /// When the reshard tick is within the phase uncertainty of the
    /// crossing (the files cannot order them): the un-resharded path's
    /// sliver `(from, to, series)`, the part lost whichever comes first.
    pub undecided_short: Option<(i64, i64, Option<u64>)>,
    /// Plain words.
    pub why: String,
}

/// Predicts the batch that crosses `c` (`C_snap`) once the slave is up at
/// `up`.
#[allow(clippy::too_many_arguments)]
pub fn crossing(
    q: &Queue,
    st: &Stall,
    t_ws: i64,
    c: i64,
    up: i64,
    series: u64,
    interval: i64,
    scrape_phase_known: bool,
    grids: Option<&Schedule>,
) -> Crossing {
    let s = series.max(1);
    let i = interval.max(1);
    let b = q.max_samples_per_send;
    // First successful send and the reader's wake-up after it.
    let r = next_retry(q, st.first_send, up.max(st.first_send));
    let wake = next_wake(q, st.position + READ_PERIOD, r);
    // The backlog older than C still to send after the wake-up.
    let pre = match grids {
        Some(g) => g.samples_between(st.position, c - 1),
        None => ((c - st.position).max(0) / i) as u64 * s,
    };
    let drain = (pre / b) as i64 * REQUEST_TIME;
    // When the batch holding C is sent: if the reader stalled past C, that
    // batch is already in the shard's channel and goes out right after the
    // first successful send (the shard drains its channel on its own, the
    // reader is not needed); otherwise once the reader woke and read the
    // backlog older than C.
    let buffered_batches = (st.buffered / b) as i64 + 1;
    let cross = if st.position >= c {
        r + buffered_batches * REQUEST_TIME
    } else {
        wake + drain
    };
    let tick = next_tick(t_ws, r);
    // Phase uncertainty: the first sample's time, the queue's start.
    let eps = if scrape_phase_known { 300 } else { i / 2 + 300 };
    let resharded = tick <= cross + eps;
    // A tick within that uncertainty of the crossing may come before or
    // after it: the end range spans both paths (earliest: no reshard).
    let either = (tick - cross).abs() <= eps;
    // Short case: min_shards shards. With one shard the batches are cut
    // every B samples after the first batch, in WAL order (the deadline
    // timer cannot fire while the backlog is read: it is reset at every send
    // and the reader is back within one backoff period), so the crossing
    // batch's samples after C follow from counting: S samples per scrape
    // from the first sample to the last scrape before C.
    let mut short_scrapes = ((b - 1) * q.min_shards).div_ceil(s).max(1) as i64;
    let mut short_series = None;
    let mut exact = false;
    // Several scrape grids (targets at their own intervals and phases, from the WAL):
    // the same count, on the samples each grid really adds per scrape.
    let mut grid_after_c = None;
    if let Some(g) = grids.filter(|_| q.min_shards == 1 && c > st.first_sample) {
        let nc = g.samples_between(st.first_sample, c - 1);
        let n1 = st.first_batch;
        let end = if nc <= n1 {
            n1
        } else {
            n1 + (nc - n1).div_ceil(b) * b
        };
        let lost = end - nc;
        if let (Some((first, _)), Some((last, k))) = (
            g.nth_sample_after(c - 1, 1),
            g.nth_sample_after(c - 1, lost),
        ) {
            short_scrapes = if lost == 0 { 0 } else { k as i64 };
            // Within less than the shortest interval each target's series
            // come once: the lost samples are as many series.
            let shortest = g.grids.iter().map(|x| x.interval).min().unwrap_or(i);
            short_series = (lost > 0 && (k == 1 || last - first < shortest)).then_some(lost);
            grid_after_c = Some((first, if lost == 0 { c - 1 } else { last }));
        }
    } else if q.min_shards == 1 && c > st.first_sample {
        let nc = s * ((c - 1 - st.first_sample).div_euclid(i) as u64 + 1);
        let n1 = st.first_batch;
        let end = if nc <= n1 {
            n1
        } else {
            n1 + (nc - n1).div_ceil(b) * b
        };
        let lost = end - nc;
        short_scrapes = lost.div_ceil(s) as i64;
        short_series = (lost < s).then_some(lost);
        exact = scrape_phase_known;
    }
    // The scrapes after C are on the grid of the first sample (a skip_head
    // coverage end is a block boundary, off that grid).
    let first_after_c = if exact {
        st.first_sample + (c - st.first_sample + i - 1).div_euclid(i) * i
    } else {
        c - 1 + i
    };
    let (first_after_c, short_end) =
        grid_after_c.unwrap_or((first_after_c, first_after_c + (short_scrapes - 1) * i));
    let exact = exact || grid_after_c.is_some();
    // The crossing batch can be flushed by its deadline before it fills:
    // once the shard has sent the backlog before it (≈ `cross`), its timer
    // (`runShard`: reset at every send) fires `batch_send_deadline` later
    // with what the reader has read by then. When the scrape that would
    // fill the batch comes after that, the batch ends with the last scrape
    // read by the flush — before the first scrape after C_snap: no batch
    // mixes both sides, no L3 sliver. Within the phase uncertainty of the
    // flush the count above stands (the longer loss).
    let flush = cross + q.batch_send_deadline;
    let flushed = !resharded && q.min_shards == 1 && short_end > flush + eps;
    // The scrape that fills the batch within the uncertainty of the flush:
    // either may come first. The batch without that scrape is lost either
    // way; the count's end is the longer path (`undecided_short`).
    let flush_undecided = !resharded
        && q.min_shards == 1
        && !flushed
        && grid_after_c.is_none()
        && short_end >= first_after_c
        && (short_end - flush).abs() <= eps;
    let flushed_end = short_end - i;
    let (short_end, short_series) = if !flushed {
        (short_end, short_series)
    } else if first_after_c > flush + eps {
        (c - 1, None)
    } else if grid_after_c.is_none() {
        (
            first_after_c + (flush + eps - first_after_c).div_euclid(i) * i,
            None,
        )
    } else {
        (short_end, short_series)
    };
    // Long case: the reader's position at the tick (asleep until `wake`,
    // then through the backlog at one request of B samples per REQUEST_TIME).
    let p = if tick <= wake {
        st.position
    } else {
        let scrapes = ((tick - wake) / REQUEST_TIME) as u64 * b / s;
        (st.position + scrapes as i64 * i).min(st.position.max(c - 1))
    };
    // Shards from the desired-shards formula at the tick: the whole outage
    // counts as the duration of the first send; the samples sent in the
    // tick are the buffer plus what the reader sent before the tick; the
    // delay is the newest sample appended (≈ the tick) minus the newest sent.
    let outage = (r - st.first_send).max(1) as f64 / 1000.0;
    let sent = (st.buffered + (p - st.position).max(0) as u64 / i as u64 * s).max(1) as f64;
    let in_rate = s as f64 / (i as f64 / 1000.0);
    let delay = ((tick - p) as f64 / 1000.0).max(0.0);
    let desired = (outage / sent * in_rate * (1.0 + 0.05 * delay)).ceil();
    let clamp = |x: f64| {
        if x.is_finite() {
            (x.max(0.0) as u64).clamp(q.min_shards, q.max_shards)
        } else {
            q.max_shards
        }
    };
    let n = clamp(desired);
    // Within the reshard tolerance (30 %) the decision is the same; the
    // rates are moving averages no file records: the shard count is known
    // to that fraction.
    let (n_lo, n_hi) = (
        clamp((desired * 0.7).floor()),
        clamp((desired * 1.3).ceil()),
    );
    // After the reshard the new shards start empty at the reader's position
    // `p` (the old ones flushed at their stop); series go to shard
    // `ref mod N` (refs are consecutive), so a shard holds ⌊S/N⌋ or ⌈S/N⌉
    // series and cuts a batch every B of their samples. A shard's crossing
    // batch is lost whole: it ends when it is full, or when its
    // `batch_send_deadline` timer (started with the shard, reset at each
    // send) fires first, with what the reader has read by then.
    let end_for = |nsh: u64, rate: f64| -> i64 {
        let nsh = nsh.max(1);
        // Sample time the reader has reached at wall time t ≥ tick, and the
        // wall time it reaches sample time x.
        let pos_at = |t: i64| -> i64 {
            let adv = ((t - tick).max(0) as f64 / 1000.0 * rate / s as f64) as i64 * i;
            (p + adv).min(t)
        };
        let reach = |x: i64| -> i64 {
            let lag = ((x - p).max(0) / i) as f64 * s as f64 / rate * 1000.0;
            (tick + lag as i64).max(x)
        };
        let k_c = (c - p + i - 1).div_euclid(i).max(0);
        let mut worst = c - 1;
        for per in [s / nsh, s.div_ceil(nsh)] {
            let f = b as f64 / per.max(1) as f64;
            let j = (k_c as f64 / f).floor();
            let last_k = ((j + 1.0) * f).ceil() as i64 - 1;
            let t_end = p + last_k * i;
            let opened = if j < 1.0 {
                tick
            } else {
                reach(p + (((j * f).ceil() as i64) - 1) * i)
            };
            let tf = opened + q.batch_send_deadline;
            let end = if reach(t_end) <= tf {
                t_end
            } else {
                let x = pos_at(tf);
                p + (x - p).div_euclid(i) * i
            };
            worst = worst.max(end);
        }
        worst
    };
    let long_end = end_for(n, READ_RATE).max(c - 1 + i);
    let (mut long_lo, mut long_hi) = (long_end, long_end);
    for nsh in [n_lo, n, n_hi] {
        for rate in [1e12, READ_RATE, READ_RATE_SLOW] {
            let e = end_for(nsh, rate);
            long_lo = long_lo.min(e);
            long_hi = long_hi.max(e);
        }
    }
    let long_lo = long_lo.max(c - 1 + i).min(long_end);
    let fill = |shards: u64| ((b - 1) * shards).div_ceil(s).max(1) as i64 * i;
    let flush = next_wake(q, st.position + READ_PERIOD, tick.max(r)) + q.batch_send_deadline;
    let long_bound = (c - 1 + fill(q.max_shards))
        .min(
            next_wake(
                q,
                st.position + READ_PERIOD,
                next_tick(t_ws, cross + eps).max(r),
            ) + q.batch_send_deadline,
        )
        .max(long_hi);
    let (expected_end, earliest_end) = if resharded && either {
        (long_hi, long_lo.min(short_end.max(c - 1 + i)))
    } else if resharded {
        (long_hi, long_lo)
    } else if exact {
        (short_end, short_end)
    } else {
        (short_end, (c - 1 + i).min(short_end))
    };
    let why = if resharded {
        format!(
            "the first send after the slave is up is expected at {} (the blocked send's retries), the reader wakes at {} \
             and the queue's reshard tick at {} comes before the backlog older than C_snap is through: the queue \
             reshards to about {n} shards ({n_lo}–{n_hi}), which start empty at the reader's position then (the sample \
             of {}); each holds {}–{} series and cuts a batch every {} of their samples, and its batch holding C_snap \
             is lost whole: it ends when full, or when the shard's {} deadline fires first (the latest by about {})",
            fmt_time(r),
            fmt_time(wake),
            fmt_time(tick),
            fmt_time(p),
            s / n.max(1),
            s.div_ceil(n.max(1)),
            b,
            fmt_dur(q.batch_send_deadline),
            fmt_time(flush)
        ) + &if either {
            format!(
                "; the tick is within {} of the crossing, which may come first: then the sliver ends at {} \
                 (to_earliest)",
                fmt_dur(eps),
                fmt_time(short_end.max(c - 1 + i))
            )
        } else {
            String::new()
        }
    } else {
        format!(
            "the first send after the slave is up is expected at {}, the reader wakes at {} and is through the backlog \
             older than C_snap ({} samples) before the queue's next reshard tick ({}): the crossing batch is one of \
             {} shard(s) of {} samples cut in WAL order: {} scrape(s) after C_snap{}",
            fmt_time(r),
            fmt_time(wake),
            pre,
            fmt_time(tick),
            q.min_shards,
            b,
            short_scrapes,
            short_series.map_or(String::new(), |k| format!(", {k} of {s} series"))
        ) + &if flushed {
            format!(
                "; but the shard's {} deadline flushes the batch holding C_snap at about {}, before the scrape \
                 that would fill it: {}",
                fmt_dur(q.batch_send_deadline),
                fmt_time(flush),
                if short_end < c {
                    "it holds nothing after C_snap".to_string()
                } else {
                    format!("it ends with the scrape of {}", fmt_time(short_end))
                }
            )
        } else {
            String::new()
        }
    };
    Crossing {
        start: if resharded && !scrape_phase_known {
            c
        } else if resharded {
            st.first_sample + (c - st.first_sample + i - 1).div_euclid(i) * i
        } else {
            first_after_c.min(c.max(short_end))
        },
        resharded,
        shards: if resharded { n } else { q.min_shards },
        catch_up_shards: n,
        expected_end,
        earliest_end: earliest_end.min(expected_end),
        point_end: if resharded {
            long_end.clamp(earliest_end.min(expected_end), expected_end)
        } else {
            expected_end
        },
        bound_end: long_bound.max(expected_end),
        other_end: if resharded { short_end } else { long_bound },
        series: if resharded { None } else { short_series },
        undecided_short: (resharded && either)
            .then(|| {
                let to = short_end.max(c - 1 + i);
                (first_after_c.min(c.max(to)), to, short_series)
            })
            .or(flush_undecided.then_some((first_after_c, flushed_end, None))),
        why,
    }
}

#[cfg(test)]
#[path = "queue_tests.rs"]
mod queue_tests;
