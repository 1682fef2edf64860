//! The master's head-compaction grid: when it truncated its WAL (the
//! snapshot's level-1 blocks) and when it will (forecast on the block
//! grid), and the first sample the remote-write reader forwards after a time.

use super::{ModelInput, SECOND};
use crate::coverage::fmt_time;

/// Head compactions (each followed by a WAL truncation) at or after `after`:
/// the block `[kR, kR+R)` is written when the head reaches `kR + 1.5R`, plus
/// the compaction delay. The first block after a fresh start begins at the
/// head min itself; later ones are aligned.
pub fn truncation_times(head_min: i64, r: i64, delay: i64, after: i64, n: usize) -> Vec<i64> {
    truncation_times_phased(head_min, r, delay, after, n, 1)
}

/// [`truncation_times`] on a scrape grid of `interval`: after a truncation
/// the head's min time is its first sample at or after the block boundary,
/// so each later compaction (the head spanning 1.5 R from that sample, and
/// `compactable()` is checked at an append) comes that scrape phase after
/// the aligned time: `(head_min − boundary) mod interval`, up to one
/// interval (11.6 s of a 20 s grid with 1m blocks, 4.7 s of a 5 s one).
///
/// The head does it on every grid: the truncation (`truncateMemory` in
/// tsdb/head.go) sets its min time to the oldest sample its series keep
/// (`gc`'s `actualMint`), a head chunk never spans a block boundary, so
/// that is the first scrape at or after the boundary, and `compactable()`
/// compares it with the head's max time. (The phase was once kept only on
/// grids coarser than R/10: on a 5 s grid it made the reader's segment of
/// `s150-5s-laterw-overtaken` decidable, and wrong, see `wal.rs`'s
/// `segment_opened_after`: a reader position one scrape after a
/// compaction's start may still be in the segment before it.)
pub fn truncation_times_phased(
    head_min: i64,
    r: i64,
    delay: i64,
    after: i64,
    n: usize,
    interval: i64,
) -> Vec<i64> {
    // The first scrape past the boundary, on every grid.
    let phase = if r > 0 {
        (head_min - head_min.div_euclid(r) * r).rem_euclid(interval.max(1))
    } else {
        0
    };
    let mut out = Vec::with_capacity(n);
    if r <= 0 {
        return out;
    }
    let mut aligned = head_min.div_euclid(r) * r;
    // A head min a little past a grid line is the first sample's phase, not
    // a fresh start.
    // For a head min within one scrape interval of the boundary both
    // readings give the same times from k = 0 on (aligned + phase = head
    // min); R/10 only decides whether compactions before it are forecast
    // at all, and `truncations` keeps none before a fresh start's first
    // sample (`first_sample`) and puts the level-1 blocks' times in place
    // of past ones.
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
    let base = aligned + r + r / 2 + delay + phase;
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
pub(super) fn deadline_high_volume(truncs: &[i64], t_b: i64, r: i64) -> Option<i64> {
    truncs
        .iter()
        .copied()
        .find(|&tc| tc > t_b && tc - t_b > r / 2)
}

/// Low-volume rule (≤ 1 segment per R): segments rotate only at truncations;
/// the watcher's segment starts at the last truncation ≤ `t_b`, and is
/// overtaken by the 4th or 5th truncation after that (checkpoint parity).
pub(super) fn deadline_low_volume(truncs: &[i64], t_b: i64) -> Option<(i64, i64)> {
    let after: Vec<i64> = truncs.iter().copied().filter(|&t| t > t_b).collect();
    Some((*after.get(3)?, *after.get(4)?))
}

/// How many truncations to forecast from `from`: every one up to the
/// latest time the model asks about (the slave's start plus its catch-up,
/// the WAL's observation, the snapshot), and the five after it that the
/// low-volume rule (`deadline_low_volume`, the 4th or 5th truncation after
/// the position) may need; at least 12. (A fixed 12 once stopped the
/// forecast 12 R after the position: a slave up later than that was
/// never overtaken.)
fn forecast_count(inp: &ModelInput, from: i64, r: i64) -> usize {
    let latest = [
        inp.slave_up
            .map(|u| u.saturating_add(inp.facts.catch_up.unwrap_or(0))),
        inp.wal.as_ref().map(|w| w.observed_at),
        Some(inp.snapshot_time),
    ]
    .into_iter()
    .flatten()
    .max()
    .unwrap_or(from);
    let span = latest.saturating_sub(from).max(0) / r.max(1);
    usize::try_from(span)
        .unwrap_or(usize::MAX)
        .saturating_add(6)
        .clamp(12, 100_000)
}

/// The truncations from the first one after `t_b` (or the snapshot, if
/// earlier): forecast on the grid, the fresh start's first one, and the
/// past ones exact from the level-1 blocks' ULID times.
pub(super) fn truncations(inp: &ModelInput, t_b: i64, r: i64) -> Vec<i64> {
    let truncs_from = t_b.min(inp.snapshot_time);
    let count = forecast_count(inp, truncs_from, r);
    let grids = sample_grids(inp);
    let mut truncations = if grids.is_empty() {
        single_grid(inp, r, truncs_from, count)
    } else {
        forecast_on_grids(inp, &grids, r, truncs_from, count)
    };
    from_blocks(inp, r, truncs_from, &mut truncations);
    from_log(inp, r, truncs_from, &mut truncations);
    truncations
}

/// The forecast on the one scrape grid of `inp.scrape_interval` through the
/// head's min time, the compaction delay calibrated on the level-1 blocks
/// (no grid on file).
fn single_grid(inp: &ModelInput, r: i64, truncs_from: i64, count: usize) -> Vec<i64> {
    let mut truncations = truncation_times_phased(
        inp.head_min,
        r,
        inp.compaction_delay,
        truncs_from,
        count,
        inp.scrape_interval,
    );
    // A master that started (fresh) at `first_sample` wrote its first block
    // 1.5 R later and none before; its later blocks are on the grid.
    if let Some(m0) = inp.first_sample {
        let aligned = m0.saturating_sub(m0.rem_euclid(r));
        if m0.rem_euclid(r) > r / 10 {
            let first = m0
                .saturating_add(r + r / 2)
                .saturating_add(inp.compaction_delay);
            let grid_from = aligned.saturating_add(r + r + r / 2);
            truncations.retain(|&t| t >= grid_from);
            if first >= truncs_from {
                truncations.insert(0, first);
            }
        } else {
            truncations.retain(|&t| t >= m0.saturating_add(r + r / 2));
        }
    }
    truncations
}

/// Puts the level-1 blocks' times in place of the forecast ones.
fn from_blocks(inp: &ModelInput, r: i64, truncs_from: i64, truncations: &mut Vec<i64>) {
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
            // Forecasts lie R apart: under R/2 a block matches one at most.
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
}

/// The grids the master appends samples on, as `(interval, a sample's
/// time)`: every target (and rule group: one commit each) its WAL shows,
/// else every live target the snapshot's head block shows by its `up`
/// series (the most frequent step of its newest `up` times); empty when
/// neither is on file.
///
/// A grid's point is one sample, stamped late when its scrape started late
/// (2.42 aligns a timestamp to the grid only within 2 ms,
/// `--scrape.timestamp-tolerance`): the grid within [`SAME_GRID`] of the
/// head's min time (the snapshot's head block), or else of the newest
/// level-1 block's min time, is put through that sample.
pub(super) fn sample_grids(inp: &ModelInput) -> Vec<(i64, i64)> {
    let anchor = if inp.head_included {
        Some(inp.head_min)
    } else {
        inp.blocks
            .iter()
            .filter(|b| b.level == 1 && !b.head_block && b.in_order)
            .map(|b| b.min_time)
            .max()
    };
    let snap = |(i, p): (i64, i64)| match anchor {
        Some(a) if on_grid(i, p, a) => (i, a),
        _ => (i, p),
    };
    sample_grids_seen(inp).into_iter().map(snap).collect()
}

/// True when `t` lies on the grid of `interval` through `p`, within
/// [`SAME_GRID`].
fn on_grid(interval: i64, p: i64, t: i64) -> bool {
    let i = interval.max(1);
    let off = t.saturating_sub(p).rem_euclid(i);
    off <= SAME_GRID || i - off <= SAME_GRID
}

/// The grids as the files show them ([`sample_grids`]).
fn sample_grids_seen(inp: &ModelInput) -> Vec<(i64, i64)> {
    if let Some(s) = inp.scrape_grids.as_ref().filter(|s| !s.grids.is_empty()) {
        return s
            .grids
            .iter()
            .map(|g| (g.interval.max(1), g.phase))
            .collect();
    }
    inp.up_tails
        .iter()
        .flatten()
        .filter(|u| !u.stale)
        .filter_map(|u| {
            let mut steps: Vec<i64> = u
                .times
                .windows(2)
                .map(|w| w[1].saturating_sub(w[0]))
                .filter(|&d| d > 0)
                .collect();
            steps.sort_unstable();
            let interval = steps
                .chunk_by(|a, b| a == b)
                .max_by_key(|c| c.len())
                .and_then(|c| c.first().copied())?;
            Some((interval, *u.times.last()?))
        })
        .collect()
}

/// The first sample on any of `grids` at or after `t` (after it when
/// `strict`).
pub(super) fn next_on_grids(grids: &[(i64, i64)], t: i64, strict: bool) -> Option<i64> {
    grids
        .iter()
        .map(|&(i, p)| {
            let i = i.max(1);
            let x = p.saturating_add(t.saturating_sub(p).div_euclid(i).saturating_mul(i));
            if x < t || (strict && x == t) {
                x.saturating_add(i)
            } else {
                x
            }
        })
        .min()
}

/// How far a grid's point may lie from a head's min time and still be the
/// grid that sample came from: a grid's point is its newest sample in the
/// WAL, and a scrape that starts late is stamped late (2.42 aligns a
/// timestamp to the grid only within 2 ms, `--scrape.timestamp-tolerance`),
/// so the points drift by a few ms from the samples of the blocks.
const SAME_GRID: i64 = 50;

/// The head compaction of a head whose min time is `h`: 2.42's
/// `compactable()` (tsdb/head.go) holds once the head's max time is more
/// than 1.5 R past its min, and `dbAppender.Commit` (tsdb/db.go) tests it
/// at every commit: the first sample on any grid past `h + 1.5 R`. The
/// grid `h` lies on ([`SAME_GRID`]) has its samples at `h + k·interval`:
/// one landing on `h + 1.5 R` itself is not past it (a scrape started a
/// few ms late is, which no file foretells).
fn trigger(grids: &[(i64, i64)], h: i64, r: i64) -> Option<i64> {
    let span = r.saturating_add(r / 2);
    let thr = h.saturating_add(span);
    grids
        .iter()
        .filter_map(|&(i, p)| {
            let i = i.max(1);
            if on_grid(i, p, h) {
                Some(h.saturating_add((span / i).saturating_add(1).saturating_mul(i)))
            } else {
                next_on_grids(&[(i, p)], thr, true)
            }
        })
        .min()
}

/// How long after its trigger a head compaction starts (the scrape's
/// commit, the run loop): the median over the level-1 blocks of their
/// ULID time less the trigger of their min time (a block's min time is the
/// head's min then), those within a second before it to R/2 after it; 0
/// without one.
fn grid_delay(inp: &ModelInput, grids: &[(i64, i64)], r: i64) -> i64 {
    let mut d: Vec<i64> = inp
        .blocks
        .iter()
        .filter(|b| b.level == 1 && !b.head_block && b.in_order)
        .filter_map(|b| Some(b.created?.saturating_sub(trigger(grids, b.min_time, r)?)))
        .filter(|d| (-SECOND..=r / 2).contains(d))
        .collect();
    d.sort_unstable();
    d.get(d.len() / 2).copied().unwrap_or(0).max(0)
}

/// The head compactions from `from` on, forecast on every grid the master
/// appends on ([`sample_grids`]): after the block `[B, B + R)` is written
/// the head's min time is its oldest sample left, the first sample on any
/// grid at or after `B + R` (`truncateMemory`'s GC, tsdb/head.go), and the
/// next compaction comes with the first sample on any grid past that plus
/// 1.5 R ([`trigger`]), plus the delay the blocks show ([`grid_delay`]).
/// The head's own block starts at its min time (the snapshot's head block),
/// a fresh master's first block at its first sample; none before that.
fn forecast_on_grids(
    inp: &ModelInput,
    grids: &[(i64, i64)],
    r: i64,
    from: i64,
    n: usize,
) -> Vec<i64> {
    let delay = grid_delay(inp, grids, r);
    let head_block = inp.head_min.div_euclid(r);
    let first_block = inp.first_sample.map(|m0| (m0.div_euclid(r), m0));
    let mut k = from.saturating_sub(r.saturating_mul(3)).div_euclid(r);
    if let Some((f, _)) = first_block {
        k = k.max(f);
    }
    let mut out = Vec::with_capacity(n);
    // Bounded: every block with a sample gives one compaction; a grid
    // coarser than R leaves some blocks empty.
    for _ in 0..n.saturating_mul(4).saturating_add(16) {
        if out.len() >= n {
            break;
        }
        let b = k.saturating_mul(r);
        let h = match first_block {
            _ if k == head_block && inp.head_included => Some(inp.head_min),
            Some((f, m0)) if f == k => Some(m0),
            _ => next_on_grids(grids, b, false),
        };
        k = k.saturating_add(1);
        let Some(h) = h.filter(|&h| h < b.saturating_add(r)) else {
            continue;
        };
        if let Some(t) = trigger(grids, h, r).map(|t| t.saturating_add(delay))
            && t >= from
        {
            out.push(t);
        }
    }
    out
}

/// Puts the head compactions the master's log holds in place of the
/// forecast and the blocks' times over the span it covers (and of any
/// within R/4 of one it holds: the same compaction); the forecast stays
/// before and after it.
fn from_log(inp: &ModelInput, r: i64, truncs_from: i64, truncations: &mut Vec<i64>) {
    let Some(log) = inp.facts.master_log.as_ref() else {
        return;
    };
    let Some((lo, hi)) = log.truncation_span() else {
        return;
    };
    let logged: Vec<i64> = log
        .tsdb
        .head_compactions
        .iter()
        .map(|c| c.at)
        .filter(|&t| t >= lo && t <= hi && t >= truncs_from.saturating_sub(r))
        .collect();
    truncations.retain(|&t| (t < lo || t > hi) && !logged.iter().any(|&l| (l - t).abs() <= r / 4));
    truncations.extend(logged);
    truncations.sort_unstable();
    truncations.dedup();
}

/// How the truncation at `t` is known, for a window's why: the master's
/// log (a checkpoint, a head compaction), a level-1 block's time, or the
/// forecast (and why the log does not date it).
pub(super) fn dating(inp: &ModelInput, t: i64) -> String {
    let log = inp.facts.master_log.as_ref();
    let tsdb = log.filter(|l| l.decides_truncations()).map(|l| &l.tsdb);
    let how = if tsdb.is_some_and(|l| l.checkpoints.iter().any(|c| c.at == t)) {
        "the checkpoint the master's log shows".to_string()
    } else if tsdb.is_some_and(|l| l.head_compactions.iter().any(|c| c.at == t)) {
        "the head compaction the master's log shows".to_string()
    } else if inp
        .blocks
        .iter()
        .any(|b| b.level == 1 && b.created == Some(t))
    {
        "a level-1 block's time (its ULID)".to_string()
    } else {
        let grids = sample_grids(inp).len();
        let on = if grids > 1 {
            format!(
                "the {grids} scrape grids the files show (the first sample past 1.5 block ranges \
                 on any)"
            )
        } else {
            "the scrape grid".to_string()
        };
        let log = match log.map(|l| (l, l.truncation_span())) {
            None => "no master's log given".to_string(),
            Some((_, Some((_, reach)))) => {
                format!("the master's log reaches only to {}", fmt_time(reach))
            }
            Some((_, None)) => "the master's log holds no TSDB line (`component=tsdb`)".to_string(),
        };
        format!("forecast on {on}; {log}")
    };
    format!("; the truncation's time: {how}")
}

/// How long after a start the scrape loops may begin: the discovery
/// manager sends its first targets at its first 5 s tick (`updatert`,
/// discovery/manager.go) and the scrape manager applies them at its next
/// 5 s reload tick (`reloader`, scrape/manager.go; both tickers start with
/// the process): up to two ticks. The first scrape then comes within one
/// interval (the loop's offset).
const FIRST_TARGETS: i64 = 10 * SECOND;

/// The first sample the reader forwards after `t`: a block or WAL segment
/// that starts within the scrape manager's first application of targets
/// after a start plus one interval, or the next start on file
/// when nothing on file covers `t` (a master down or not yet started); else
/// the next point of the scrape grid through the coverage end's last sample.
/// True if from files.
pub(super) fn first_sample_after(inp: &ModelInput, t: i64) -> (i64, bool) {
    let (f, known, _) = first_sample_after_why(inp, t);
    (f, known)
}

/// [`first_sample_after`], with why where the master WAL's deleted
/// segments leave it open ([`super::grid_deleted`]).
pub(super) fn first_sample_after_why(inp: &ModelInput, t: i64) -> (i64, bool, Option<String>) {
    let i = inp.scrape_interval.max(1);
    let lim = t + FIRST_TARGETS + i;
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
    // Nothing on file covers `t` (the master was down, or had not started,
    // unless the WAL segments of that span were deleted): the first sample
    // after it is the next start on file.
    let covered = spans.iter().any(|&(a, b)| a <= t && t < b);
    if let Some(m) = starts_after
        && (m <= lim || !covered)
    {
        if let Some((f, why)) = super::grid_deleted::first_in_deleted(inp, t, m, lim) {
            return (f, false, Some(why));
        }
        return (m, true, None);
    }
    if let Some(f) = next_on_grids(&sample_grids(inp), t, true) {
        return (f, false, None);
    }
    let last = inp.coverage_end - 1;
    let k = (last - t).div_euclid(i);
    let mut f = last - k * i;
    if f <= t {
        f += i;
    }
    (f, false, None)
}

/// Samples stamped before their scrape (an exporter's own timestamps, read
/// from the master's WAL: [`crate::coverage::scrapes::ScrapeGrid::lag`]).
#[derive(Debug, Clone, Copy)]
pub(super) struct Lag {
    /// How far the target's samples lag behind its scrapes (ms).
    pub(super) lag: i64,
    /// The first of its samples the snapshot lacks: those of its first
    /// scrape after the coverage end, stamped `lag` before it.
    pub(super) first: i64,
    /// Its last scrape holding a sample before the coverage end: the last
    /// lost whole (the next one's samples are all at or after it).
    pub(super) last: i64,
}

/// The lagging target whose first sample after the snapshot is the oldest,
/// when its samples start before the coverage end. The snapshot's head ends
/// at its newest sample, a scrape's own series (`up`, stamped at the
/// scrape's start); the exporter's samples of the next scrapes carry
/// earlier times, down to `lag` before them, and reach the WAL only after
/// the snapshot: the slave, whose minimum valid time is the coverage end,
/// refuses every one older than it (out of bounds), and PRW 1.0 refuses the
/// request holding one whole (`tsdb/head_append.go`, `appendable`; the
/// receiver's 400). So every scrape up to `lag` after the coverage end is
/// lost with all its series, and the batch crossing is the one after it.
pub(super) fn lag(inp: &ModelInput) -> Option<Lag> {
    let c = inp.coverage_end;
    inp.scrape_grids
        .as_ref()?
        .grids
        .iter()
        .filter(|g| g.lag > 0)
        .map(|g| {
            let i = g.interval.max(1);
            let next = g.phase + ((c - 1 - g.phase).div_euclid(i) + 1) * i;
            Lag {
                lag: g.lag,
                first: next - g.lag,
                last: next + ((g.lag - (next - c) + i - 1).max(0) / i - 1).max(0) * i,
            }
        })
        .filter(|l| l.first < c)
        .min_by_key(|l| l.first)
}

/// The words a window gets when [`lag`] moved its start.
pub(super) fn lag_why(l: &Lag) -> String {
    format!(
        "; a scrape target's samples carry timestamps {} behind their scrape (its own \
         timestamps: the master's WAL records hold them that far before the scrape's own series, \
         `up`): its samples from {} on were appended after the snapshot with times before the \
         coverage end, which the slave refuses (out of bounds) with the request holding them, so \
         every scrape up to {} after the coverage end is lost whole",
        crate::coverage::fmt_dur(l.lag),
        crate::coverage::fmt_time(l.first),
        crate::coverage::fmt_dur(l.lag)
    )
}

#[cfg(test)]
mod lag_tests {
    use super::*;
    use crate::coverage::scrapes::{Schedule, ScrapeGrid};

    /// s600-lag7s: scrapes at …376.377 s, `up` at the scrape, the
    /// exporter's samples 6.988 s before it; `C_snap` = 476.378 s. The
    /// loss starts with the next scrape's samples (470.389 s) and every
    /// scrape up to 482.377 s holds one older than `C_snap`.
    #[test]
    fn lagged_samples_start_before_the_coverage_end() {
        let mut inp = ModelInput::new(60_000, 476_378, 420_377, 476_658);
        let grid = |lag| {
            Some(Schedule {
                grids: vec![ScrapeGrid {
                    interval: 1_000,
                    phase: 476_377,
                    series: 605,
                    lag,
                    first: i64::MIN,
                }],
            })
        };
        inp.scrape_grids = grid(6_988);
        let l = lag(&inp).unwrap();
        assert_eq!((l.lag, l.first, l.last), (6_988, 470_389, 482_377));
        assert!(lag_why(&l).contains("6.988s"));
        // No lag, or one shorter than the distance to the next scrape: none.
        inp.scrape_grids = grid(0);
        assert!(lag(&inp).is_none());
        inp.scrape_grids = grid(999);
        assert!(lag(&inp).is_none());
        inp.scrape_grids = grid(1_000);
        assert_eq!(
            lag(&inp).map(|l| (l.first, l.last)),
            Some((476_377, 477_377))
        );
    }
}

#[cfg(test)]
#[path = "grid_tests.rs"]
mod tests;
