//! Which truncation deleted the segment after a stalled reader's, by
//! 2.42's `truncateWAL` rule, when the WAL was copied after it happened.
//!
//! Where segments rotate only at truncations, the reader's segment `rw`
//! was the one being written at its position, and the `k`-th truncation
//! after that position closed segment `rw + k - 1` and opened `rw + k`.
//! Each truncation checkpoints the older two thirds of the segments before
//! the one it closes (`first ..= first + (L - 1 - first) * 2 / 3`, none when
//! that is `first` itself) and deletes them. Replaying that from every
//! oldest segment the master may have had at the reader's position, the
//! histories that end at the copy's checkpoint and oldest live segment
//! date the deletion; the earliest of them is taken (never understating).

use serde::Serialize;

use super::wal::{SegmentRange, WalView};

/// 2.42's smallest WAL segment size (`--storage.tsdb.wal-segment-size`
/// must be 10MB to 256MB, cmd/prometheus/main.go).
pub const MIN_SEGMENT_SIZE: u64 = 10 << 20;

/// The size from which a closed segment counts as rotated by size: the
/// limit less 1/16 (a size rotation ends less than one record short of it;
/// 1/16 is 640 KB of a 10 MB segment). The limit is not on file (2.42 takes
/// 10–256 MB, 128 MiB by default), so 10 MB or the largest closed segment.
pub fn full_segment(wal: &WalView) -> u64 {
    let limit = largest_closed(wal).unwrap_or(0).max(MIN_SEGMENT_SIZE);
    let limit = limit.min(wal.segment_size);
    limit - limit / 16
}

/// Whether the WAL's ingest rate could have filled a segment of the smallest
/// limit 2.42 takes (10 MB; the configured one when smaller is known)
/// between two truncations: the highest rate a closed live segment shows
/// over the longest gap between the truncations, times 1.5 (a fresh
/// master's first truncation comes 1.5 ranges after its start). Then the
/// segments no copy holds any more may have rotated by size even where
/// every live one rotated at a truncation (a master's first segment holds
/// the series records too).
pub fn could_fill_a_segment(wal: &WalView, truncations: &[i64]) -> bool {
    let rate = highest_rate(wal);
    let gap = truncations
        .windows(2)
        .map(|w| w[1].saturating_sub(w[0]))
        .max()
        .unwrap_or(0);
    let limit = wal.segment_size.min(MIN_SEGMENT_SIZE) as f64;
    rate * gap.max(0) as f64 * 1.5 >= limit
}

/// The segment size limit to forecast rotations with: where a closed
/// segment of 10 MB or more shows rotations by size, the largest closed one
/// or 10 MB, whichever is more (the limit is at most a record more than a
/// size-rotated segment), else the configured or default limit.
pub fn segment_limit(wal: &WalView) -> u64 {
    largest_closed(wal)
        .filter(|&l| l >= MIN_SEGMENT_SIZE - MIN_SEGMENT_SIZE / 16)
        .map_or(wal.segment_size, |l| {
            l.max(MIN_SEGMENT_SIZE).min(wal.segment_size)
        })
}

/// The closed live segments: every one but the newest, still written.
fn closed(wal: &WalView) -> &[SegmentRange] {
    wal.segments.split_last().map_or(&[][..], |(_, c)| c)
}

/// The largest closed segment's size.
fn largest_closed(wal: &WalView) -> Option<u64> {
    closed(wal).iter().map(|s| s.size).max()
}

/// The ingest rate of the closed live segments together (their bytes over
/// their sample spans, per ms); 0 without one.
pub fn closed_rate(wal: &WalView) -> f64 {
    let c = closed(wal);
    let bytes: u64 = c.iter().map(|s| s.size).sum();
    let time: i64 = c.iter().filter_map(|s| Some(s.max_t? - s.min_t?)).sum();
    if time > 0 {
        bytes as f64 / time as f64
    } else {
        0.0
    }
}

/// The highest ingest rate a closed segment shows (its bytes over its
/// sample span, per ms); 0 without one.
fn highest_rate(wal: &WalView) -> f64 {
    closed(wal)
        .iter()
        .filter_map(|s| {
            let span = s.max_t?.saturating_sub(s.min_t?);
            (span > 0).then(|| s.size as f64 / span as f64)
        })
        .fold(0.0_f64, f64::max)
}

/// The overtaking truncation dated by the rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleDating {
    /// The truncation that deleted the segment after the reader's (ms).
    pub at: i64,
    /// Its rank among the truncations after the reader's position (1-based).
    pub rank: usize,
    /// The reader's segment.
    pub reader_segment: u32,
    /// How many histories replay to the copy (0: none does, and `at` is the
    /// earliest truncation the rule allows).
    pub histories: usize,
    /// True when the histories that replay to the copy disagree on the
    /// truncation (the earliest taken).
    pub ambiguous: bool,
}

/// At most this many oldest-segment candidates are replayed (the nearest to
/// the reader's segment): older ones checkpoint at the first truncation
/// already, so further ones change nothing but the run time.
const MAX_HISTORIES: u32 = 4096;

/// One replay: the reader in segment `rw`, the oldest segment `first`,
/// `n` truncations. Returns the rank of the one that deleted segment
/// `rw + 1`, the oldest segment after them and the last checkpoint.
fn replay(rw: u32, mut first: u32, n: usize) -> (Option<usize>, u32, Option<u32>) {
    let mut deleted = None;
    let mut checkpoint = first.checked_sub(1);
    for k in 1..=n {
        // The segment being written when the k-th truncation came.
        let Some(written) = u32::try_from(k - 1).ok().and_then(|k| rw.checked_add(k)) else {
            break;
        };
        let Some(last) = written.checked_sub(1) else {
            continue;
        };
        if last < first {
            continue;
        }
        // In u64: segment numbers come from file names (up to u32::MAX);
        // the result is at most `last`.
        let m = u32::try_from(u64::from(first) + u64::from(last - first) * 2 / 3).unwrap_or(last);
        if m <= first {
            continue;
        }
        if m > rw && deleted.is_none() {
            deleted = Some(k);
        }
        first = m.saturating_add(1);
        checkpoint = Some(m);
    }
    (deleted, first, checkpoint)
}

/// The truncation that deleted the segment after the reader's, by the rule,
/// from the copy's segment numbers and checkpoint and the truncation times
/// (`truncations`, ascending) after the reader's position `t_b`. The
/// reader's segment is `reader_segment` when known, else the newest
/// segment's number less the truncations after `t_b` (each opened one).
/// `None` when the rule cannot delete it within the truncations on file.
pub fn date_by_rule(
    wal: &WalView,
    t_b: i64,
    truncations: &[i64],
    reader_segment: Option<u32>,
) -> Option<RuleDating> {
    let seq: Vec<i64> = truncations
        .iter()
        .copied()
        .filter(|&t| t > t_b && t <= wal.observed_at)
        .collect();
    let first_live = wal.segments.first()?.index;
    let newest = wal.segments.last()?.index;
    let n = u32::try_from(seq.len()).ok()?;
    let rw = reader_segment.or_else(|| newest.checked_sub(n))?;
    if rw >= first_live {
        return None;
    }
    let checkpoint = wal.checkpoint.as_ref().map(|c| c.index);
    let opened_all = rw.checked_add(n) == Some(newest);
    let mut fits: Vec<usize> = Vec::new();
    let mut any: Option<usize> = None;
    for f0 in rw.saturating_sub(MAX_HISTORIES - 1)..=rw {
        let (deleted, first, ckpt) = replay(rw, f0, seq.len());
        let Some(k) = deleted else { continue };
        any = Some(any.map_or(k, |a| a.min(k)));
        if opened_all && first == first_live && ckpt == checkpoint {
            fits.push(k);
        }
    }
    let rank = fits.iter().copied().min().or(any)?;
    let at = *seq.get(rank.checked_sub(1)?)?;
    let ambiguous = fits.iter().any(|&k| k != rank);
    Some(RuleDating {
        at,
        rank,
        reader_segment: rw,
        histories: fits.len(),
        ambiguous,
    })
}

/// The overtaking truncation dated by replaying size rotations as well as
/// truncations ([`date_by_size`]).
#[derive(Debug, Clone, PartialEq)]
pub struct SizeDating {
    /// The truncation that deleted the segment after the reader's (ms).
    pub at: i64,
    /// Its rank among the truncations after the reader's position (1-based).
    pub rank: usize,
    /// The reader's segment.
    pub reader_segment: u32,
    /// How many end states of the replay match the copy (0: none does, and
    /// `at` is the earliest truncation the rotations allow).
    pub histories: usize,
    /// True when the matching histories disagree (the earliest taken).
    pub ambiguous: bool,
    /// The segment size taken: the largest closed live segment (bytes).
    pub segment_size: u64,
    /// True when a live segment was seen rotated by size (its successor
    /// starts at no truncation), which bounds the size from above too.
    pub size_seen: bool,
    /// True when such a segment was seen but that bound left no history
    /// ending at the copy (a lagging timestamp, not a size rotation), so it
    /// was dropped.
    pub size_doubted: bool,
    /// The ingest rate's bounds (bytes per second) from the closed live
    /// segments.
    pub rate: (u64, u64),
}

/// At most this many truncations, choices per interval and states are
/// replayed: beyond them the dating is left to the older rules.
const MAX_TRUNCATIONS: usize = 2_000;
const MAX_CHOICES: u32 = 16;
const MAX_STATES: usize = 20_000;

/// How fast the WAL grows and how big a segment gets, as far as the live
/// segments tell: the rate's bounds (bytes/ms: a closed segment's size over
/// its sample span, and over that span and one `tol` more), the smallest
/// segment size the files allow (the largest closed segment) and, when a
/// closed segment's successor starts at no truncation (a size rotation:
/// the next record did not fit), the largest (that segment and one scrape's
/// bytes more, `tol` at the highest rate). A segment a truncation opened
/// has its first sample at most `tol` before the truncation's time (a
/// scrape stamped before it, written after) and at most `slack` after it
/// (the compaction runs before the new segment is opened).
#[derive(Clone, Copy)]
struct Growth {
    lo: f64,
    hi: f64,
    size_lo: u64,
    size_hi: Option<u64>,
}

fn growth(wal: &WalView, truncations: &[i64], (tol, slack): (i64, i64)) -> Option<Growth> {
    let hi = highest_rate(wal);
    let mut lo = f64::INFINITY;
    for s in closed(wal) {
        let (Some(a), Some(b)) = (s.min_t, s.max_t) else {
            continue;
        };
        let span = b.saturating_sub(a);
        if span > 0 && s.size > 0 {
            lo = lo.min(s.size as f64 / span.saturating_add(tol.max(0)) as f64);
        }
    }
    let size_lo = largest_closed(wal)?;
    if hi <= 0.0 || !lo.is_finite() || size_lo == 0 {
        return None;
    }
    let record = (hi * tol.max(0) as f64) as u64;
    let size_hi = wal
        .segments
        .windows(2)
        .filter(|p| p[0].index.checked_add(1) == Some(p[1].index))
        .filter(|p| !started_after_silence(&p[0], &p[1], tol))
        .filter(|p| {
            p[1].min_t.is_some_and(|t| {
                !truncations
                    .iter()
                    .any(|&c| t >= c.saturating_sub(tol) && t <= c.saturating_add(slack))
            })
        })
        .map(|p| p[0].size.max(size_lo).saturating_add(record))
        .max();
    Some(Growth {
        lo,
        hi,
        size_lo,
        size_hi,
    })
}

/// The time from `prev`'s last sample to `seg`'s first, when `seg` is the
/// segment right after `prev` and both hold samples. No truncation or size
/// rotation stops the scrapes: a silence longer than a scrape is a process
/// start, which opens a segment of its own (`process_starts`, and
/// `coverage::model::l6_hint`, which reads it as a master restart).
pub fn silence_between(prev: &SegmentRange, seg: &SegmentRange) -> Option<i64> {
    if prev.index.checked_add(1) != Some(seg.index) {
        return None;
    }
    Some(seg.min_t?.saturating_sub(prev.max_t?))
}

/// True when `seg` starts more than `tol` (a scrape and a second) after
/// `prev`'s last sample ([`silence_between`]).
fn started_after_silence(prev: &SegmentRange, seg: &SegmentRange, tol: i64) -> bool {
    silence_between(prev, seg).is_some_and(|gap| gap > tol.max(0))
}

/// The first samples of the live segments a process start opened
/// ([`started_after_silence`]): openings neither a truncation nor a size
/// rotation explains.
fn process_starts(wal: &WalView, tol: i64) -> Vec<i64> {
    wal.segments
        .windows(2)
        .filter(|p| started_after_silence(&p[0], &p[1], tol))
        .filter_map(|p| p[1].min_t)
        .collect()
}

/// Size rotations in `d` ms at `rate` bytes/ms into segments of `size`
/// bytes, the segment starting empty.
fn rotations(d: i64, rate: f64, size: u64) -> u32 {
    (d.max(0) as f64 * rate / size.max(1) as f64).floor() as u32
}

/// One replay state: the segment being written, the oldest one, the last
/// checkpoint and the rank of the truncation that deleted the segment
/// after the reader's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct State {
    active: u32,
    first: u32,
    ckpt: Option<u32>,
    deleted: Option<usize>,
}

/// `truncateWAL` as the `k`-th truncation after the position.
fn truncate(mut s: State, rw: u32, k: usize) -> State {
    if let Some(last) = s.active.checked_sub(1)
        && last >= s.first
    {
        let m =
            u32::try_from(u64::from(s.first) + u64::from(last - s.first) * 2 / 3).unwrap_or(last);
        if m > s.first {
            if m > rw && s.deleted.is_none() {
                s.deleted = Some(k);
            }
            s.first = m.saturating_add(1);
            s.ckpt = Some(m);
        }
    }
    s.active = s.active.saturating_add(1);
    s
}

/// Every state after `lo..=hi` size rotations and then (`k > 0`) the
/// `k`-th truncation; `None` past the bounds.
fn step(states: &[State], (lo, hi): (u32, u32), rw: u32, k: usize) -> Option<Vec<State>> {
    if hi.saturating_sub(lo) > MAX_CHOICES {
        return None;
    }
    let mut next: Vec<State> = states
        .iter()
        .flat_map(|s| {
            (lo..=hi).map(move |r| {
                let s = State {
                    active: s.active.saturating_add(r),
                    ..*s
                };
                if k > 0 { truncate(s, rw, k) } else { s }
            })
        })
        .collect();
    next.sort_unstable();
    next.dedup();
    (next.len() <= MAX_STATES).then_some(next)
}

/// The truncation that deleted the segment after the reader's (`rw`, its
/// position `t_b`) in a WAL that rotates by size as well as at
/// truncations. Every truncation after the position (`truncations`, up to
/// the observation) opens a segment, and so does a full one: between two
/// truncations a segment starts empty, so the size rotations there follow
/// from the ingest rate and the segment size the live segments show
/// (`tol`: one scrape and a second; `slack`: how far from a truncation a
/// segment's first sample may be and still have been started by it);
/// only the reader's own segment, filled to an unknown level at the
/// position, leaves one more. Every count within those bounds is replayed
/// through the 2/3 rule; the histories that end at the copy's newest
/// segment, oldest live one and checkpoint date the deletion, the earliest
/// where they disagree; where none does, the earliest any allows (never
/// understating). `None` when nothing can be replayed.
pub fn date_by_size(
    wal: &WalView,
    t_b: i64,
    truncations: &[i64],
    rw: u32,
    (tol, slack): (i64, i64),
) -> Option<SizeDating> {
    let seq: Vec<i64> = truncations
        .iter()
        .copied()
        .filter(|&t| t > t_b && t <= wal.observed_at)
        .collect();
    if seq.is_empty() || seq.len() > MAX_TRUNCATIONS {
        return None;
    }
    let g = growth(wal, truncations, (tol, slack))?;
    let first_live = wal.segments.first()?.index;
    let newest = wal.segments.last()?.index;
    if rw >= first_live {
        return None;
    }
    let end = (newest, first_live, wal.checkpoint.as_ref().map(|c| c.index));
    let ctx = (t_b, wal.observed_at, rw, end);
    let starts = process_starts(wal, tol);
    let (mut fits, mut any) = replay_sizes(&seq, ctx, &g, &starts)?;
    // A successor starting away from every truncation may be a lagging
    // timestamp rather than a size rotation: when that upper bound on the
    // segment size leaves no history ending at the copy, it is dropped.
    let mut doubted = false;
    if fits.is_empty() && g.size_hi.is_some() {
        let loose = Growth { size_hi: None, ..g };
        if let Some((f, a)) = replay_sizes(&seq, ctx, &loose, &starts)
            && !f.is_empty()
        {
            (fits, any, doubted) = (f, a, true);
        }
    }
    let rank = fits.iter().copied().min().or(any)?;
    Some(SizeDating {
        at: *seq.get(rank.checked_sub(1)?)?,
        rank,
        reader_segment: rw,
        histories: fits.len(),
        ambiguous: fits.iter().any(|&k| k != rank),
        segment_size: g.size_lo,
        size_seen: g.size_hi.is_some() && !doubted,
        size_doubted: doubted,
        rate: ((g.lo * 1e3) as u64, (g.hi * 1e3) as u64),
    })
}

/// The replay of every rotation count within `g`'s bounds over the
/// truncations `seq` after the position, from the reader's segment `rw` at
/// `t_b` to the observation: the ranks of the deleting truncation in the
/// histories that end at `end` (the copy's newest segment, oldest live one
/// and checkpoint), and the earliest in any history.
type ReplayCtx = (i64, i64, u32, (u32, u32, Option<u32>));
fn replay_sizes(
    seq: &[i64],
    (t_b, observed_at, rw, end): ReplayCtx,
    g: &Growth,
    starts: &[i64],
) -> Option<(Vec<usize>, Option<usize>)> {
    // The openings in `(from, to]`: size rotations within the rate's and
    // the size's bounds, and every process start there.
    let bounds = |(from, to): (i64, i64), own: bool| {
        let d = to.saturating_sub(from);
        let started = starts.iter().filter(|&&t| t > from && t <= to).count();
        let started = u32::try_from(started).unwrap_or(u32::MAX);
        let lo = g.size_hi.map_or(0, |s| rotations(d, g.lo, s));
        (
            lo.saturating_add(started),
            rotations(d, g.hi, g.size_lo)
                .saturating_add(u32::from(own))
                .saturating_add(started),
        )
    };
    let mut states: Vec<State> = (rw.saturating_sub(255)..=rw)
        .map(|f0| State {
            active: rw,
            first: f0,
            ckpt: f0.checked_sub(1),
            deleted: None,
        })
        .collect();
    let mut start = t_b;
    for (k, &tc) in seq.iter().enumerate() {
        states = step(&states, bounds((start, tc), k == 0), rw, k + 1)?;
        start = tc;
    }
    states = step(&states, bounds((start, observed_at), false), rw, 0)?;
    let fits = states
        .iter()
        .filter(|s| (s.active, s.first, s.ckpt) == end)
        .filter_map(|s| s.deleted)
        .collect();
    Some((fits, states.iter().filter_map(|s| s.deleted).min()))
}

/// How the size replay dated the overtaking (appended to the deadline's
/// why), against the latest truncation the copy allows.
pub fn size_why(d: &SizeDating, latest: String) -> String {
    let size = if d.size_seen {
        "a live segment rotated by size shows the segment size"
    } else if d.size_doubted {
        "a live segment's successor starts away from every truncation, but taking it for a size \
         rotation leaves no history ending at the copy (a lagging timestamp?), so the segment \
         size is bounded only from below, by the largest closed one"
    } else {
        "no live segment shows a size rotation, so the segment size is taken as the largest \
         closed one (at most as many rotations as that allows)"
    };
    let how = if d.histories == 0 {
        "no count of rotations within those bounds replays to the copy's newest segment, oldest \
         live one and checkpoint: the earliest truncation any count allows is taken (never \
         understating the loss)"
    } else if d.ambiguous {
        "the counts that replay to the copy's newest segment, oldest live one and checkpoint \
         disagree: the earliest is taken (never understating the loss)"
    } else {
        "every count that replays to the copy's newest segment, oldest live one and checkpoint \
         agrees"
    };
    format!(
        "; replaying the size rotations (a segment of {size_b} bytes: {size}; the closed live \
         segments grew {lo}..{hi} bytes/s; between two truncations a segment starts empty, only \
         the reader's own was filled to an unknown level at the position) with the `truncateWAL` \
         rule, with the reader in segment {rw:08}, segment {next:08} was deleted by truncation \
         {rank} after the position, at {at} ({how}), not at the latest one before the copy \
         ({latest})",
        size_b = d.segment_size,
        lo = d.rate.0,
        hi = d.rate.1,
        rw = d.reader_segment,
        next = d.reader_segment.saturating_add(1),
        rank = d.rank,
        at = super::fmt_time(d.at),
    )
}

/// 2.42's compaction timer (`db.run`: a compaction is tried one minute
/// after the last one, besides the appends that find the head compactable).
const COMPACTION_TIMER: i64 = 60_000;

/// A WAL segment that starts for no reason but a process start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RestartHint {
    /// The segment.
    pub segment: String,
    /// Its first sample (ms): about when the master came back.
    pub at: i64,
    /// Time between the previous segment's last sample and this one's first (ms).
    pub gap: i64,
}

/// Segments whose start is neither a size rotation (the previous segment
/// is nearly full) nor a head-compaction truncation (every truncation
/// starts a new segment, at `T_c`: the grid phase `1.5R + delay` mod `R`,
/// or one of `known`, the truncations the model places off that grid: a
/// fresh master's first one, 1.5 R after its first sample, and the past
/// ones from the level-1 blocks' ULID times):
/// Prometheus opens a new segment at every start, so these mark master
/// restarts (every process start opens a new segment), which reset the remote-write reader (L6).
/// A segment starting one minute after an off-grid one ([`COMPACTION_TIMER`])
/// is taken for a truncation too.
pub fn restart_hints(
    wal: &WalView,
    r: i64,
    delay: i64,
    scrape_interval: i64,
    known: &[i64],
) -> Vec<RestartHint> {
    let mut out = Vec::new();
    if r <= 0 {
        return out;
    }
    // Only a warning rides on these: a segment starting within three scrapes
    // (or R/10) of a truncation on the grid is taken for one (the new
    // segment's first sample comes after the compaction, which takes a time
    // no file records), and one near the size limit for a size
    // rotation (`walrule::full_segment`).
    let tolerance = scrape_interval.saturating_mul(3).max(r / 10);
    let full = full_segment(wal);
    let phase = r.saturating_add(r / 2).saturating_add(delay).rem_euclid(r);
    let off_grid = |t: i64| {
        let off = t.saturating_sub(phase).rem_euclid(r);
        off > tolerance && r - off > tolerance
    };
    for pair in wal.segments.windows(2) {
        let [prev, seg] = pair else { continue };
        if prev.index.checked_add(1) != Some(seg.index) || prev.size >= full {
            continue;
        }
        let (Some(start), Some(prev_end)) = (seg.min_t, prev.max_t) else {
            continue;
        };
        // Distance of the segment's first sample after the nearest truncation
        // on the grid (samples are stamped at most a scrape before they are
        // written, so the first one lands just before or after T_c).
        if !off_grid(start) {
            continue;
        }
        // 2.42's compaction loop (`db.run`) also tries a compaction one
        // minute after the last one: after a compaction off the grid (a
        // restart's first), the next may come a minute later, not on it.
        if prev.min_t.is_some_and(|p| {
            off_grid(p)
                && start.saturating_sub(p).abs_diff(COMPACTION_TIMER) <= tolerance.unsigned_abs()
        }) {
            continue;
        }
        if known
            .iter()
            .any(|&t| start.abs_diff(t) <= tolerance.unsigned_abs())
        {
            continue;
        }
        out.push(RestartHint {
            segment: seg.name.clone(),
            at: start,
            gap: start - prev_end,
        });
    }
    out
}

#[cfg(test)]
#[path = "walrule_tests.rs"]
mod tests;
