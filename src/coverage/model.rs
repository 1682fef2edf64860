//! The loss-window calculator: pure arithmetic over named timestamps
//! (the [`crate::coverage`] module doc), no I/O.
//!
//! Inputs are what the snapshot's files tell (`C_snap`, the head min, the
//! block range, the compaction phase), optionally the master's WAL segment
//! ranges at some observation time, and the operator's times (remote write
//! start, slave ready). Output: the next master truncations, the deadline by
//! which the slave must be caught up, and the loss windows with their causes.
//!
//! The remote-write reader's stall position is the queue's buffer past its
//! first sample (`queue.rs`); the segment it sits in, and where that segment
//! ended, come from the WAL's rotation rule (`wal.rs`); the boundary sliver
//! L3 from the queue's batches, retries and reshard ticks (`queue.rs`), as
//! an expected end plus the end on the queue's other path (`bound_to`); L4
//! only with several scrape targets. Past truncations are the level-1
//! blocks' ULID times; later ones are forecast on the block grid.

use serde::Serialize;

use super::causes::{self, NativeHistograms, OperatorFacts, Timeline};
use super::fmt_time;
use super::queue::{self, Queue};
use super::snapshot::BlockSpan;
use super::wal::{WalView, simulate_overtake};

/// One second in ms.
pub const SECOND: i64 = 1_000;
/// One minute in ms.
pub const MINUTE: i64 = 60 * SECOND;

/// A loss cause (L1–L10, see the [`crate::coverage`] module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Cause {
    /// Gap between the snapshot and the start of remote write.
    L1,
    /// WAL truncation overtook the stalled remote-write reader.
    L2,
    /// PRW 1.0 batch poisoning at the snapshot boundary.
    L3,
    /// Isolation race: samples committed after the snapshot read the head.
    L4,
    /// `sample_age_limit`.
    L5,
    /// Master restart or remote_write config change before catch-up.
    L6,
    /// Non-recoverable receiver answers (404, 413, 429, ...).
    L7,
    /// Slave retention.
    L8,
    /// Native histograms not sent.
    L9,
    /// Version bug (2.51.0–2.53.0).
    L10,
}

/// How sure a window is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Certainty {
    /// Follows from the files and the given times.
    Expected,
    /// An upper bound: at most this is lost, possibly nothing (boundary slivers).
    Bound,
    /// Depends on something no file tells (catch-up speed, WAL regime).
    Risk,
}

/// A time range of samples that the slave will not have.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LossWindow {
    /// L1 … L10.
    pub cause: Cause,
    /// First lost sample time, inclusive (Unix ms).
    pub from: i64,
    /// Last lost sample time, inclusive (Unix ms): the latest the window can end.
    pub to: i64,
    /// The earliest the window can end, when its end is uncertain (Unix ms).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_earliest: Option<i64>,
    /// The most likely end inside `to_earliest … to`, when the end is a
    /// range the model can still point into (L2, L3) (Unix ms).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_expected: Option<i64>,
    /// The latest the window could end if the less likely of the queue's
    /// paths is taken (L3: a reshard before the crossing, or none); `to` is
    /// the expected end (Unix ms).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bound_to: Option<i64>,
    /// How sure the window is.
    pub certainty: Certainty,
    /// How many series the window concerns, when only some (L9); absent: all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub series: Option<u64>,
    /// True when the loss goes on past `to` (the latest time the inputs
    /// name) until the cause is removed (L7 without an end, L9).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub ongoing: bool,
    /// Why, in plain words.
    pub why: String,
}

/// The deadline by which the slave must be up and caught up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deadline {
    /// The first master truncation that overtakes a watcher still stalled at
    /// `watcher_position` (Unix ms). Conservative: the earliest candidate.
    pub at: i64,
    /// The latest candidate when the WAL regime is unknown (Unix ms).
    pub latest: i64,
    /// The stall position assumed: the oldest sample not yet sent (Unix ms).
    pub watcher_position: i64,
    /// `wal` (simulated on the master's real segments), `high_volume` or
    /// `low_volume` (closed forms of §2.5), or `already_overtaken`.
    pub basis: String,
    /// Plain words.
    pub why: String,
}

/// What the calculator needs.
#[derive(Debug, Clone)]
pub struct ModelInput {
    /// Master block range `R` (ms).
    pub block_range: i64,
    /// `C_snap`: the snapshot's coverage end = the slave's minValidTime.
    pub coverage_end: i64,
    /// Head min at the snapshot (`H_min`), or `B_last` with `skip_head`.
    pub head_min: i64,
    /// True if the snapshot holds a head block.
    pub head_included: bool,
    /// Snapshot wall time.
    pub snapshot_time: i64,
    /// Compaction delay `δ` after the `1.5 R` trigger (calibrated from ULIDs).
    pub compaction_delay: i64,
    /// Remote write start (`T_ws`); `None`: assumed just before the snapshot.
    pub rw_start: Option<i64>,
    /// Slave ready time.
    pub slave_up: Option<i64>,
    /// The master WAL as observed, for the exact truncation simulation.
    pub wal: Option<WalView>,
    /// Scrape interval of the master (ms), for the boundary slivers.
    pub scrape_interval: i64,
    /// Longest scrape timeout (ms), for L4.
    pub scrape_timeout: i64,
    /// Remote write `max_backoff` (5 s by default).
    pub max_backoff: i64,
    /// Wait of the WAL watcher before it restarts after an error (5 s).
    pub restart_delay: i64,
    /// Series the master scrapes (the head block's numSeries), for L3.
    pub series: Option<u64>,
    /// The oldest sample of the snapshot (its oldest block's minTime): no
    /// compaction happened before `first_sample + 1.5R`.
    pub first_sample: Option<i64>,
    /// `max_samples_per_send × max_shards` of the queue: 500 × 200 before
    /// v2.44, 2000 × 50 since; 100 000 either way.
    pub queue_span_samples: u64,
    /// How often the queue reshards (10 s) plus its `batch_send_deadline` (5 s).
    pub reshard_and_flush: i64,
    /// Time to drain the rest of the overtaken reader's segment (10 s).
    pub drain_allowance: i64,
    /// The operator's facts for L5–L10.
    pub facts: OperatorFacts,
    /// Native histograms seen in the snapshot and the master WAL (L9).
    pub native: Option<NativeHistograms>,
    /// The snapshot's blocks (L8; level-1 ULID times are past truncations).
    pub blocks: Vec<BlockSpan>,
    /// The remote-write queue settings in force.
    pub queue: Queue,
    /// Scrape targets (distinct `job`/`instance` of `up`), for L4.
    pub targets: Option<u64>,
}

impl ModelInput {
    /// Defaults for the sender's constants.
    pub fn new(block_range: i64, coverage_end: i64, head_min: i64, snapshot_time: i64) -> Self {
        ModelInput {
            block_range,
            coverage_end,
            head_min,
            head_included: true,
            snapshot_time,
            compaction_delay: 0,
            rw_start: None,
            slave_up: None,
            wal: None,
            scrape_interval: 15 * SECOND,
            scrape_timeout: 10 * SECOND,
            max_backoff: 5 * SECOND,
            restart_delay: 5 * SECOND,
            series: None,
            first_sample: None,
            queue_span_samples: 100_000,
            reshard_and_flush: 15 * SECOND,
            drain_allowance: 10 * SECOND,
            facts: OperatorFacts::default(),
            native: None,
            blocks: Vec::new(),
            queue: super::queue::QueueSettings::default().resolve(None, &mut Vec::new()),
            targets: None,
        }
    }
}

/// What the calculator found.
#[derive(Debug, Clone, Serialize)]
pub struct ModelOutput {
    /// Forecast master head compactions + WAL truncations (Unix ms), from the
    /// first one after the watcher's stall position.
    pub truncations: Vec<i64>,
    /// The catch-up deadline.
    pub deadline: Deadline,
    /// The loss windows (the union is the loss), sorted by `from`.
    pub loss_windows: Vec<LossWindow>,
    /// What was assumed because no file tells it.
    pub assumptions: Vec<String>,
    /// Plain-words verdict (present when `slave_up` was given).
    pub verdict: Option<String>,
}

/// Head compactions (each followed by a WAL truncation) at or after `after`:
/// the block `[kR, kR+R)` is written when the head reaches `kR + 1.5R`, plus
/// the compaction delay. The first block after a fresh start begins at the
/// head min itself; later ones are aligned.
pub fn truncation_times(head_min: i64, r: i64, delay: i64, after: i64, n: usize) -> Vec<i64> {
    let mut out = Vec::with_capacity(n);
    if r <= 0 {
        return out;
    }
    let mut aligned = head_min.div_euclid(r) * r;
    // A head min a little past a grid line is the first sample's phase, not
    // a fresh start.
    let head_min = if head_min - aligned <= r / 10 {
        aligned
    } else {
        head_min
    };
    if head_min != aligned {
        aligned = head_min.div_euclid(r) * r;
    }
    // Grid of compaction times: aligned + (k + 1.5) R + delay, k ∈ ℤ; the
    // head-min special case only moves k = 0 when head_min is unaligned.
    let base = aligned + r + r / 2 + delay;
    let mut k = (after - base).div_euclid(r);
    while out.len() < n {
        let t = base + k * r;
        let t = if k == 0 && head_min != aligned {
            head_min + r + r / 2 + delay
        } else {
            t
        };
        // A fresh start (unaligned head min) had no compaction before it.
        if t >= after && (k >= 0 || head_min == aligned) {
            out.push(t);
        }
        k += 1;
    }
    out
}

/// High-volume rule (§2.5): the first truncation later than `R/2` after `t_b`.
fn deadline_high_volume(truncs: &[i64], t_b: i64, r: i64) -> Option<i64> {
    truncs
        .iter()
        .copied()
        .find(|&tc| tc > t_b && tc - t_b > r / 2)
}

/// Low-volume rule (≤ 1 segment per R): segments rotate only at truncations;
/// the watcher's segment starts at the last truncation ≤ `t_b`, and is
/// overtaken by the 4th or 5th truncation after that (checkpoint parity).
fn deadline_low_volume(truncs: &[i64], t_b: i64) -> Option<(i64, i64)> {
    let after: Vec<i64> = truncs.iter().copied().filter(|&t| t > t_b).collect();
    Some((*after.get(3)?, *after.get(4)?))
}

/// Runs the calculator.
pub fn compute(inp: &ModelInput) -> ModelOutput {
    let r = inp.block_range.max(1);
    let c = inp.coverage_end;
    let mut assumptions = Vec::new();
    let mut windows = Vec::new();

    let t_ws = match inp.rw_start {
        Some(t) => t,
        None => {
            assumptions.push(
                "remote write to the slave was already running before the snapshot and was not restarted \
                 (no --rw-start): the stall position is taken as just before the coverage end; an earlier \
                 start can only bring the deadline forward"
                    .to_string(),
            );
            c.min(inp.snapshot_time) - 1
        }
    };
    assumptions.push(
        "PRW 1.0 (Prometheus' default protobuf message) and no out_of_order_time_window on the slave".into(),
    );
    assumptions.push(format!(
        "default queue backoff (max {}s) and watcher restart delay ({}s)",
        inp.max_backoff / SECOND,
        inp.restart_delay / SECOND
    ));
    let catch_up = inp.facts.catch_up.unwrap_or(0);

    // L1: remote write started after the coverage end.
    if t_ws >= c {
        windows.push(LossWindow {
            cause: Cause::L1,
            from: c,
            to: t_ws,
            to_earliest: None,
            to_expected: None,
            bound_to: None,
            certainty: Certainty::Expected,
            series: None,
            ongoing: false,
            why: format!(
                "remote write started at or after the snapshot's coverage end: the watcher never sends \
                 samples older than its start{}",
                if inp.head_included {
                    ""
                } else {
                    "; without the head block (skip_head) the snapshot ends at the last block boundary"
                }
            ),
        });
    }

    // L6: a master restart before the slave is up starts a new watcher at
    // that instant. The watcher then stalls at t_b (the queue's few thousand
    // buffered samples are negligible) until the slave is up.
    let (l6, t_b) = causes::restart_windows(
        c,
        t_ws,
        inp.slave_up,
        catch_up,
        &inp.facts.master_restarts,
        &mut assumptions,
    );
    windows.extend(l6);
    let truncs_from = t_b.min(inp.snapshot_time);
    let mut truncations = truncation_times(inp.head_min, r, inp.compaction_delay, truncs_from, 12);
    // A master that started (fresh) at `first_sample` wrote its first block
    // 1.5 R later and none before; its later blocks are on the grid.
    if let Some(m0) = inp.first_sample {
        let aligned = m0.div_euclid(r) * r;
        if m0 - aligned > r / 10 {
            let first = m0 + r + r / 2 + inp.compaction_delay;
            let grid_from = aligned + r + r + r / 2;
            truncations.retain(|&t| t >= grid_from);
            if first >= truncs_from {
                truncations.insert(0, first);
            }
        } else {
            truncations.retain(|&t| t >= m0 + r + r / 2);
        }
    }

    // Past truncations are exact: a level-1 block's ULID time is the head
    // compaction that wrote it, and `Compact` truncates the WAL right after
    // its last head block. Each block replaces the nearest forecast not
    // already replaced by another block: two blocks seconds apart (a fresh
    // start late in the block range, or a compaction that fell behind) stay
    // two entries, never one. Whether they were one `Compact` call (one
    // truncation) or two is not in their metas: `wal.rs` decides from the
    // segment numbers where it can.
    let mut blocks_t: Vec<i64> = inp
        .blocks
        .iter()
        .filter(|b| b.level == 1 && !b.head_block && b.in_order)
        .filter_map(|b| b.created)
        .collect();
    blocks_t.sort_unstable();
    let mut exact: Vec<bool> = vec![false; truncations.len()];
    for t in blocks_t {
        let nearest = truncations
            .iter()
            .enumerate()
            .filter(|(i, x)| !exact[*i] && (**x - t).abs() <= r / 4)
            .min_by_key(|(_, x)| (**x - t).abs())
            .map(|(i, _)| i);
        if let Some(i) = nearest {
            truncations[i] = t;
            exact[i] = true;
        } else if t >= truncs_from - r {
            truncations.push(t);
            exact.push(true);
        }
    }
    truncations.sort_unstable();
    truncations.dedup();

    // Where the reader stalls: the queue's buffer after the first sample
    // it forwards (`queue.rs`).
    let series = inp.series.filter(|&n| n > 0);
    let (first_after, phase_known) = first_sample_after(inp, t_b);
    let stall = series.map(|n| queue::stall(&inp.queue, t_b, first_after, n, inp.scrape_interval));
    let position = match (stall, inp.slave_up) {
        (Some(st), Some(up)) => st.position.min(up.max(t_b)),
        (Some(st), None) => st.position,
        _ => t_b,
    };
    if let Some(st) = stall {
        assumptions.push(format!(
            "the remote-write reader forwards samples newer than {} (first at {}{}) and stalls once the queue holds \
             {} samples (first batch + capacity + one partial batch of {} shard(s)): at the sample of {}",
            fmt_time(t_b),
            fmt_time(st.first_sample),
            if phase_known {
                ", from the files"
            } else {
                ", on the scrape grid of the coverage end"
            },
            st.buffered,
            inp.queue.min_shards,
            fmt_time(st.position)
        ));
    }

    // Deadline: exact on the real WAL if we have it, closed forms otherwise.
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
                &truncations,
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
            let hi = deadline_high_volume(&truncations, position, r).unwrap_or(i64::MAX);
            let lo = deadline_low_volume(&truncations, position).map_or(i64::MAX, |(_, b)| b);
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

    // L2: the slave comes up after the overtaking truncation.
    if let (Some((d, _, seg_end)), Some(up)) = (overtake, inp.slave_up)
        && up >= d
    {
        let restart_from = up.max(d);
        let from = c.max(seg_end.map_or(c, |e| e + 1)).max(t_b + 1);
        let _ = position;
        // Up to one backoff until the queue's retry reaches the slave, the
        // drain of the rest of the reader's segment (all out of bounds, sent
        // as fast as the queue goes: within one 10 s reshard period in the
        // real runs), then the watcher's restart delay.
        let to = restart_from + inp.max_backoff + inp.drain_allowance + inp.restart_delay;
        let to_earliest = restart_from + inp.restart_delay;
        if to >= from {
            windows.push(LossWindow {
                cause: Cause::L2,
                from,
                to,
                to_earliest: Some(to_earliest),
                to_expected: None,
                bound_to: None,
                certainty: if inp.wal.is_some() && !undecided {
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
            });
        }
    }
    let l2 = windows.iter().any(|w| w.cause == Cause::L2);
    let l1 = windows.iter().any(|w| w.cause == Cause::L1);

    // L3/L4: boundary slivers, only when the boundary is crossed by remote write.
    if !l1 && !l2 && t_b < c {
        let q = &inp.queue;
        let b = q.max_samples_per_send;
        match (series, inp.slave_up, stall) {
            (Some(n), Some(up), Some(st)) => {
                let cr = queue::crossing(q, &st, t_b, c, up, n, inp.scrape_interval, phase_known);
                if cr.expected_end < c {
                    assumptions.push(format!(
                        "the batch that crosses the coverage end is expected to end exactly there: no L3 sliver \
                         ({}); at most until {} otherwise",
                        cr.why,
                        fmt_time(cr.bound_end)
                    ));
                } else {
                    windows.push(LossWindow {
                    cause: Cause::L3,
                    from: cr.start.max(c),
                    to: cr.expected_end,
                    to_earliest: (cr.earliest_end < cr.expected_end).then_some(cr.earliest_end),
                    to_expected: (cr.earliest_end < cr.expected_end).then_some(cr.point_end),
                    bound_to: (cr.bound_end > cr.expected_end).then_some(cr.bound_end),
                    certainty: Certainty::Expected,
                    series: cr.series,
                    ongoing: false,
                    why: format!(
                        "PRW 1.0: the request that mixes samples older than the coverage end (out of bounds) with newer \
                         ones is refused whole (400) and dropped, one per shard; {}; {} series, max_samples_per_send {b}. \
                         Had the queue {} before the crossing, the sliver would end by {} (bound_to)",
                        cr.why,
                        n,
                        if cr.resharded {
                            "not resharded"
                        } else {
                            "resharded"
                        },
                        fmt_time(cr.other_end)
                    ),
                });
                }
            }
            _ => {
                // Without the slave's start or the series count: a bound only.
                let k = series
                    .map(|n| ((b - 1) * q.max_shards).div_ceil(n).max(1) as i64)
                    .unwrap_or(1);
                let by_batches = k.saturating_mul(inp.scrape_interval);
                let by_catchup = inp.slave_up.map(|u| {
                    u.max(c) + 2 * q.max_backoff + queue::SHARD_UPDATE + q.batch_send_deadline - c
                });
                let extent = by_catchup
                    .map_or(by_batches, |x| x.min(by_batches))
                    .max(inp.scrape_interval);
                windows.push(LossWindow {
                    cause: Cause::L3,
                    from: c,
                    to: c - 1 + extent,
                    to_earliest: None,
                    to_expected: None,
                    bound_to: None,
                    certainty: Certainty::Bound,
                    series: None,
                    ongoing: false,
                    why: format!(
                        "PRW 1.0: a request that mixes samples older than the coverage end (out of bounds) with newer ones \
                         is refused whole (400) and dropped: one such batch per shard; with {} series a batch of {b} \
                         samples on up to {} shards spans up to {} (give --slave-up for the expected sliver)",
                        series.map_or("an unknown number of".into(), |n| n.to_string()),
                        q.max_shards,
                        crate::coverage::fmt_dur(by_batches)
                    ),
                });
            }
        }
        if inp.head_included {
            // Scrape timeouts never exceed the interval.
            let w = inp.scrape_interval.min(inp.scrape_timeout).max(1);
            match inp.targets {
                Some(1) => assumptions.push(
                    "one scrape target in the newest block (one `up` series): no other commit can land between its \
                     scrape's timestamp and the snapshot's head read, so the isolation race (L4) loses nothing \
                     (recording rules, if any, are not visible in the files)"
                        .into(),
                ),
                k => windows.push(LossWindow {
                    cause: Cause::L4,
                    from: c - w,
                    to: c - 1,
                    to_earliest: None,
                    to_expected: None,
                    bound_to: None,
                    certainty: Certainty::Bound,
                    series: None,
                    ongoing: false,
                    why: format!(
                        "{}: a target's scrape still being committed when the snapshot read the head carries a timestamp \
                         before the newest sample of another, so it is neither in the snapshot nor accepted by the \
                         slave: at most the last scrape interval ({}) before the coverage end, for the series of the \
                         targets whose scrapes were in flight",
                        match k {
                            Some(k) => format!("{k} scrape targets in the newest block (distinct job/instance of `up`)"),
                            None => "scrape targets unknown (no `up` series in the newest block)".to_string(),
                        },
                        crate::coverage::fmt_dur(w)
                    ),
                }),
            }
        }
    }

    // L5, L7, L8, L9, L10: the operator's facts.
    let horizon = [
        Some(c),
        Some(inp.snapshot_time),
        inp.slave_up.map(|u| u.saturating_add(catch_up)),
        inp.wal.as_ref().map(|w| w.observed_at),
        inp.facts.rejects_until,
        inp.facts.master_restarts.iter().copied().max(),
    ]
    .into_iter()
    .flatten()
    .max()
    .unwrap_or(c);
    let tl = Timeline {
        coverage_end: c,
        stall: t_b,
        slave_up: inp.slave_up,
        catch_up,
        horizon,
        wal: inp.wal.as_ref(),
        watcher_segment,
        truncations: &truncations,
        facts: &inp.facts,
    };
    windows.extend(causes::sample_age_window(
        &tl,
        inp.facts.master_version,
        &mut assumptions,
    ));
    windows.extend(causes::reject_window(&tl, &mut assumptions));
    windows.extend(causes::native_histogram_window(
        &tl,
        inp.native.as_ref(),
        &mut assumptions,
    ));
    windows.extend(causes::version_window(&tl, &mut assumptions));
    windows.extend(causes::retention_windows(
        &inp.blocks,
        inp.facts.slave_retention,
        inp.facts.slave_retention_size,
        &mut assumptions,
    ));
    windows.sort_by_key(|w| (w.from, w.to));

    let mut verdict = inp.slave_up.map(|up| verdict(&windows, up, &deadline, c));
    if inp.rw_start.is_none()
        && let (Some(v), Some(up)) = (verdict.as_mut(), inp.slave_up)
    {
        // The case assumed, and the two others.
        v.push_str(&format!(
            " Assumed (no --rw-start): remote write to the slave was on from just before the coverage end {}.",
            fmt_time(c)
        ));
        if let Some(m0) = inp.first_sample.filter(|&m| m < c - 1) {
            let mut early = inp.clone();
            early.rw_start = Some(m0 - 1);
            let out = compute(&early);
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
                " Had it started only when the slave came up: L1 loses everything from the coverage end to then ({}).",
                crate::coverage::fmt_dur(up - c + 1)
            ));
        }
    }
    ModelOutput {
        truncations,
        deadline,
        loss_windows: windows,
        assumptions,
        verdict,
    }
}

/// The first sample the reader forwards after `t`: a block or WAL segment
/// that starts within the scrape manager's first application of targets
/// (up to 5 s after a start) plus one interval, or the next start on file
/// when nothing on file covers `t` (a master down or not yet started); else
/// the next point of the scrape grid through the coverage end's last sample.
/// True if from files.
fn first_sample_after(inp: &ModelInput, t: i64) -> (i64, bool) {
    let i = inp.scrape_interval.max(1);
    let lim = t + 6 * SECOND + i;
    let spans: Vec<(i64, i64)> = inp
        .blocks
        .iter()
        .map(|b| (b.min_time, b.max_time - 1))
        .chain(
            inp.wal
                .iter()
                .flat_map(|w| w.segments.iter().filter_map(|s| Some((s.min_t?, s.max_t?)))),
        )
        .collect();
    let starts_after = spans.iter().map(|s| s.0).filter(|&m| m > t).min();
    // Nothing on file covers `t` (the master was down, or had not started):
    // the first sample after it is the next start on file.
    let covered = spans.iter().any(|&(a, b)| a <= t && t < b);
    if let Some(m) = starts_after
        && (m <= lim || !covered)
    {
        return (m, true);
    }
    let last = inp.coverage_end - 1;
    let k = (last - t).div_euclid(i);
    let mut f = last - k * i;
    if f <= t {
        f += i;
    }
    (f, false)
}

/// Total length of the union of `[from, to]` ranges (ms).
fn union_len(mut spans: Vec<(i64, i64)>) -> i64 {
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
    use crate::coverage::{fmt_dur, fmt_time};
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
        fmt_dur(w.to.saturating_sub(w.from).saturating_add(1)),
        if extra.is_empty() { "" } else { ", " },
        extra.join(", ")
    )
}

fn verdict(windows: &[LossWindow], up: i64, d: &Deadline, c: i64) -> String {
    use crate::coverage::{fmt_dur, fmt_time};
    let sliver = |w: &&LossWindow| matches!(w.cause, Cause::L3 | Cause::L4);
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
    let sliver_text = || -> Option<String> {
        let parts: Vec<String> = slivers
            .iter()
            .map(|w| {
                let len = w.to.saturating_sub(w.from).saturating_add(1);
                let who = w
                    .series
                    .map_or("all series".to_string(), |n| format!("{n} series"));
                match (w.certainty, w.bound_to) {
                    (Certainty::Expected, Some(b)) => format!(
                        "{:?} {} expected for {who} (at most {} if the queue takes its other path)",
                        w.cause,
                        fmt_dur(len),
                        fmt_dur(b.saturating_sub(w.from).saturating_add(1))
                    ),
                    (Certainty::Expected, None) => {
                        format!("{:?} {} expected for {who}", w.cause, fmt_dur(len))
                    }
                    _ => format!("{:?} at most {}", w.cause, fmt_dur(len)),
                }
            })
            .collect();
        (!parts.is_empty()).then(|| parts.join("; "))
    };
    let mut s = if real.is_empty() && risks.is_empty() {
        let mut s = format!(
            "No real loss{}: the slave (up at {}) starts before the master's WAL truncation overtakes the stalled \
             remote-write reader ({}), so everything after the coverage end {} is re-sent.",
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
        if let Some(t) = sliver_text() {
            s.push_str(&format!(" At the boundary: {t}."));
        }
        if d.at != i64::MAX {
            s.push_str(&format!(
                " The slave must be caught up before {} ({} after it is up).",
                fmt_time(d.at),
                fmt_dur(d.at.saturating_sub(up))
            ));
        }
        s
    } else {
        let summarize = |ws: &[&LossWindow]| -> String {
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
        };
        let mut s = String::new();
        if !real.is_empty() {
            s.push_str(&format!("Loss expected: {}.", summarize(&real)));
        }
        if !risks.is_empty() {
            if !s.is_empty() {
                s.push(' ');
            }
            s.push_str(&format!(
                "Loss at risk (it depends on what no file given tells, see each window): {}.",
                summarize(&risks)
            ));
        }
        if let Some(t) = sliver_text() {
            s.push_str(&format!(" At the boundary: {t}."));
        }
        s
    };
    if !bounds.is_empty() {
        s.push_str(&format!(" Possibly also (at most): {}.", bounds.join("; ")));
    }
    s
}

#[cfg(test)]
#[path = "model_tests.rs"]
mod tests;
