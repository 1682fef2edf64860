//! The master's WAL as `coverage` needs it: the time range of every segment
//! and checkpoint, and the exact truncation rule of `head.truncateWAL`
//! (the 2/3 rule in the [`crate::coverage`] module doc) replayed forward on the real segment
//! numbers.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::fmt_time;
pub use super::walrule::{RestartHint, restart_hints};
use super::walrule::{RuleDating, date_by_rule, date_by_size, size_why};
pub use wallog::LoggedWal;
pub use wallog::deletion_why;
use wallog::no_deletion_why;

#[path = "wallog.rs"]
mod wallog;

#[path = "walcut.rs"]
mod walcut;
pub(in crate::coverage) use walcut::restart_opened;
use walcut::{EmptyNewest, checkpoint_of, cut_why, empty_newest, truncation_under_way, unsure_why};

/// A segment file or a checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SegmentKind {
    /// `wal/NNNNNNNN`.
    Segment,
    /// `wal/checkpoint.NNNNNNNN/` (all its segments together).
    Checkpoint,
}

/// The time range one WAL segment or checkpoint holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SegmentRange {
    /// File or directory name.
    pub name: String,
    /// Segment number (for a checkpoint: the last segment folded in).
    pub index: u32,
    /// Segment or checkpoint.
    pub kind: SegmentKind,
    /// Lowest sample timestamp (ms), if any sample.
    pub min_t: Option<i64>,
    /// Highest sample timestamp (ms), if any sample.
    pub max_t: Option<i64>,
    /// Bytes.
    pub size: u64,
    /// Native histogram samples (integer and float) in it.
    pub histogram_samples: u64,
    /// Modification time (ms), if known.
    pub mtime: Option<i64>,
    /// The first record decoded cleanly.
    pub first_record_ok: bool,
    /// The data ended cleanly (no torn or corrupt tail).
    pub last_record_ok: bool,
    /// What was wrong, if anything.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// The master WAL at one observation time.
#[derive(Debug, Clone, Serialize)]
pub struct WalView {
    /// The `wal/` directory read.
    pub dir: PathBuf,
    /// When it was observed (ms): `--observed-at`, or the newest sample in it.
    pub observed_at: i64,
    /// How `observed_at` was obtained.
    pub observed_at_source: String,
    /// Live segments, by number.
    pub segments: Vec<SegmentRange>,
    /// The newest complete checkpoint.
    pub checkpoint: Option<SegmentRange>,
    /// Segment size limit assumed for rotations (bytes).
    pub segment_size: u64,
    /// Problems: gaps in the numbering, damage, unreadable files.
    pub findings: Vec<String>,
}

impl WalView {
    /// The time range of all live segments.
    pub fn live_range(&self) -> (Option<i64>, Option<i64>) {
        let min = self.segments.iter().filter_map(|s| s.min_t).min();
        let max = self.segments.iter().filter_map(|s| s.max_t).max();
        (min, max)
    }

    /// True if samples at `t` are still in a live segment (not only in a
    /// checkpoint): the oldest live segment starts at or before `t`.
    pub fn live_at(&self, t: i64) -> bool {
        // A live segment that starts before t holds t, or the segment after it does.
        self.segments
            .iter()
            .filter_map(|s| s.min_t)
            .min()
            .is_some_and(|m| m <= t)
    }
}

/// Default WAL segment size (128 MiB).
pub const DEFAULT_SEGMENT_SIZE: u64 = 128 << 20;
pub use super::walrule::MIN_SEGMENT_SIZE;

/// What the truncation simulation found.
#[derive(Debug, Clone, Default)]
pub struct Overtake {
    /// The truncation that deletes the segment after the watcher's (ms).
    pub overtaken_at: Option<i64>,
    /// True when that happened before the observation.
    pub already: bool,
    /// The watcher's segment number.
    pub watcher_segment: Option<u32>,
    /// Time of the last sample of the watcher's segment (ms), if known.
    pub watcher_segment_end: Option<i64>,
    /// True when the files cannot decide whether the reader was overtaken
    /// and it is taken as overtaken (never understating): an L2 risk.
    pub undecided: bool,
    /// Plain words.
    pub why: String,
    /// What was estimated.
    pub assumptions: Vec<String>,
}

/// Replays `truncateWAL` on the observed segments for each forecast
/// truncation time, with the remote-write watcher stalled at `t_b`.
///
/// `tol`: how far from a truncation a segment's first sample may be and
/// still have been started by it (one scrape interval and a second).
///
/// `reader_segment`: the reader's segment number when the caller knows it
/// (a master started fresh with segment `00000000` and a position before
/// its first possible truncation: segment 0).
pub fn simulate_overtake(
    wal: &WalView,
    t_b: i64,
    truncations: &[i64],
    r: i64,
    tol: i64,
    reader_segment: Option<u32>,
) -> Overtake {
    simulate_overtake_with(wal, t_b, truncations, (r, tol), reader_segment, None, &[])
}

/// [`simulate_overtake`] with the master's log (`log`): where the reader's
/// segment is known, the checkpoint the log shows deleting the next one
/// dates the overtaking, and over the span the log covers only its
/// checkpoints delete segments (the `truncateWAL` replay resumes after it).
/// `restarts`: the master restarts given (a process start opens a segment
/// too: an empty newest segment after one is not read as a truncation's
/// own cut).
pub fn simulate_overtake_with(
    wal: &WalView,
    t_b: i64,
    truncations: &[i64],
    (r, tol): (i64, i64),
    reader_segment: Option<u32>,
    log: Option<LoggedWal<'_>>,
    restarts: &[i64],
) -> Overtake {
    let mut out = simulate(
        wal,
        t_b,
        truncations,
        (r, tol),
        reader_segment,
        log,
        restarts,
    );
    // The reader's segment deleted before the copy, its number known: the
    // log's checkpoint of the next one dates the deletion.
    if out.already
        && out.watcher_segment.is_none()
        && let (Some(rw), Some(l)) = (reader_segment, log)
        && let Some(c) = l.deletion_of(rw.saturating_add(1))
    {
        out.overtaken_at = Some(c.at);
        out.undecided = false;
        out.why = format!("{}; {}", out.why, deletion_why(&c, rw));
    }
    out
}

fn simulate(
    wal: &WalView,
    t_b: i64,
    truncations: &[i64],
    (r, tol): (i64, i64),
    reader_segment: Option<u32>,
    log: Option<LoggedWal<'_>>,
    restarts: &[i64],
) -> Overtake {
    let mut out = Overtake::default();
    let segs: Vec<&SegmentRange> = wal.segments.iter().collect();
    let (Some(first_seg), Some(last_seg)) = (segs.first(), segs.last()) else {
        out.why = "the WAL has no segments: nothing to simulate".into();
        return out;
    };
    let first = first_seg.index;
    let active = last_seg.index;
    let oldest_live = segs.iter().filter_map(|s| s.min_t).min();

    // Which segment holds the watcher's next sample (the first after t_b)?
    let w: u32;
    let nothing_deleted = wal.checkpoint.is_none() && first == 0;
    if oldest_live.is_none_or(|m| t_b >= m) || nothing_deleted {
        w = segs
            .iter()
            .find(|s| s.max_t.is_some_and(|m| m > t_b))
            .map_or(active, |s| s.index);
        out.watcher_segment_end = segs
            .iter()
            .find(|s| s.index == w && s.index != active)
            .and_then(|s| s.max_t);
    } else {
        // The reader's segment was deleted (segments < `first` are gone).
        match place_in_deleted(
            wal,
            t_b,
            truncations,
            (r, tol),
            reader_segment,
            (first, oldest_live),
            &mut out,
        ) {
            Some(n) => w = n,
            None => return out,
        }
    }
    out.watcher_segment = Some(w);
    if let Some(l) = log
        && let Some(c) = l.deletion_of(w.saturating_add(1))
    {
        out.overtaken_at = Some(c.at);
        out.already = c.at <= wal.observed_at;
        out.why = deletion_why(&c, w);
        return out;
    }
    // The log covers the copy's time on: it shows every deletion up to its
    // reach, and none of the next segment.
    let log = log.filter(|l| l.covers_from(wal.observed_at) && l.reach > wal.observed_at);
    let cut = empty_newest(wal, truncations, tol, restarts).filter(|_| log.is_none());
    let mut out = replay_forward(wal, (truncations, cut), tol, (w, first), out, log);
    if let Some(l) = log {
        out.why = no_deletion_why(&l, w) + &out.why;
    }
    out
}

/// Why the forecast truncation at `tc` overtakes the reader in segment `w`:
/// it deletes segments `first..=m`.
fn overtaking_why(tc: i64, first: u32, m: u32, w: u32) -> String {
    format!(
        "the truncation at {tc_s} checkpoints segments {first:08}..{m:08} and deletes them, \
         including {next:08}, the one after the reader's segment {w:08}: the slave must be caught \
         up before {tc_s}",
        tc_s = fmt_time(tc),
        next = w + 1
    )
}

/// The truncation at `tc`, under way in the copy (its new segment `active`
/// there), checkpoints `first..=m` and overtakes the reader in `w`.
fn under_way_overtakes(out: &mut Overtake, tc: i64, (first, m, w): (u32, u32, u32), active: u32) {
    out.overtaken_at = Some(tc);
    out.already = true;
    out.why = format!(
        "the truncation at {tc_s} is under way in the copy (its new segment {active:08} is \
         there, its checkpoint not yet): it checkpoints segments {first:08}..{m:08} and \
         deletes them, including {next:08}, the one after the reader's segment {w:08}",
        tc_s = fmt_time(tc),
        next = w + 1
    );
}

/// Replays `truncateWAL` (and size rotations at the observed ingest rate)
/// for every truncation after the observation, from the observed state
/// with the reader in segment `w` and `first` the oldest live segment: the
/// first one that deletes the segment after the reader's overtakes it.
/// `cut`: how the copy's empty newest segment reads ([`empty_newest`]).
fn replay_forward(
    wal: &WalView,
    (truncations, cut): (&[i64], Option<EmptyNewest>),
    tol: i64,
    (w, mut first): (u32, u32),
    mut out: Overtake,
    log: Option<LoggedWal<'_>>,
) -> Overtake {
    let Some(last_seg) = wal.segments.last() else {
        return out;
    };
    let mut active = last_seg.index;
    let rate = super::walrule::closed_rate(wal);
    let seg_size = super::walrule::segment_limit(wal).max(1) as f64;
    let mut active_bytes = last_seg.size as f64;
    let mut now = wal.observed_at;

    let reach = log.map(|l| l.reach);
    let mut cut_note = String::new();
    let under_way = truncation_under_way(wal, truncations, first, tol).filter(|_| log.is_none());
    // An empty newest segment one truncation is already under way in is not the next one's.
    let cut = cut.filter(|_| under_way.is_none());
    if let Some((tc, m)) = under_way {
        if m > w {
            under_way_overtakes(&mut out, tc, (first, m, w), active);
            return out;
        }
        first = m + 1;
    }
    for &tc in truncations.iter().filter(|&&t| t > wal.observed_at) {
        // Size rotations before this truncation.
        let grow = rate * (tc - now).max(0) as f64;
        let mut total = active_bytes + grow;
        while total >= seg_size {
            if active == w && out.watcher_segment_end.is_none() {
                let left = (seg_size - active_bytes).max(0.0);
                out.watcher_segment_end =
                    Some(now + if rate > 0.0 { (left / rate) as i64 } else { 0 });
            }
            active += 1;
            total -= seg_size;
            active_bytes = 0.0;
        }
        now = tc;
        // truncateWAL: lists the segments, NextSegment, never the last,
        // lower 2/3. Its own cut already in the copy: it listed the ones
        // before it.
        let own_cut = cut == Some(EmptyNewest::Cut(tc));
        let last_before = if own_cut {
            active.saturating_sub(1)
        } else {
            active
        };
        if active == w && out.watcher_segment_end.is_none() && !own_cut {
            out.watcher_segment_end = Some(tc);
        }
        if !own_cut {
            active += 1;
            active_bytes = 0.0;
        }
        // Within the log's span only its checkpoints delete segments;
        // after it the rule goes on from the newest one it deleted.
        if reach.is_some_and(|x| tc <= x) {
            continue;
        }
        if let Some(d) = log.and_then(|l| l.deleted_through()) {
            first = first.max(d.saturating_add(1));
        }
        let m = checkpoint_of(first, last_before);
        if own_cut {
            cut_note = cut_why(last_seg, tc, first, m);
        }
        let Some(m) = m else {
            continue;
        };
        if m > w {
            out.overtaken_at = Some(tc);
            out.why = cut_note + &overtaking_why(tc, first, m, w);
            if let Some(EmptyNewest::Unsure { tc: u, why }) = &cut
                && *u == tc
                && checkpoint_of(first, last_before.saturating_sub(1)).is_none_or(|m| m <= w)
            {
                out.why += &unsure_why(last_seg, why);
            }
            return out;
        }
        first = m + 1;
    }
    out.why = format!(
        "{cut_note}no forecast truncation (until {}) deletes the segment after the reader's \
         segment {w:08}",
        truncations.last().map_or("-".into(), |&t| fmt_time(t))
    );
    out
}

/// The reader's segment when its position is older than every live segment
/// (segments < `first` are gone): `Some(n)` when it is placed and not
/// overtaken; `None` when `out` holds the answer (overtaken, or not
/// placeable and taken as overtaken).
///
/// Which one it was, and where it ended, follows from the rotation rule:
/// every truncation starts a new segment (`truncateWAL` calls `NextSegment`
/// first), and so does a full segment. A WAL whose closed segments are all
/// far below the size limit rotates only at truncations: the reader's
/// segment then ended at the first truncation after its position, and the
/// segment after it began there.
fn place_in_deleted(
    wal: &WalView,
    t_b: i64,
    truncations: &[i64],
    (r, tol): (i64, i64),
    reader_segment: Option<u32>,
    (first, oldest_live): (u32, Option<i64>),
    out: &mut Overtake,
) -> Option<u32> {
    let oldest = oldest_live.unwrap_or(t_b);
    let low_volume = rotates_only_at_truncations(wal, truncations, t_b, tol);
    let n = first.saturating_sub(1);
    // The truncations after the position that may have started the
    // oldest live segment (within `slack` of its first sample), and
    // those clearly before it (each started a deleted segment after the
    // reader's). Two candidates seconds apart (two level-1 blocks) are
    // one truncation when one `Compact` call wrote both, two when two
    // calls did; the times cannot tell, the segment numbers can: with
    // the reader's segment known, the reader is overtaken exactly when
    // a segment lies between it and the oldest live one.
    // Truncation candidates lie R apart (one per block range): any slack
    // under R/2 names at most one of them, and R/4 is the middle of that
    // range, far wider than the compaction's own duration; the scrape
    // tolerance when that is wider.
    let slack = tol.max(r / 4);
    let until = oldest.saturating_add(slack);
    let at_oldest = truncations
        .iter()
        .filter(|&&t| t > t_b && (t - oldest).abs() <= slack)
        .count();
    let before_oldest = truncations.iter().any(|&t| t > t_b && t < oldest - slack);
    let opened_late = segment_opened_after(truncations, t_b, tol);
    let decided = match reader_segment {
        Some(rw) if rw < first => Some(rw + 1 == first),
        _ if before_oldest => Some(false),
        _ if at_oldest == 1 && opened_late.is_some() => None,
        _ if at_oldest == 1 => Some(true),
        _ if at_oldest == 0 => Some(false),
        _ => None,
    };
    if low_volume && let Some(t1) = truncations.iter().copied().find(|&t| t > t_b) {
        out.watcher_segment_end = Some(t1 - 1);
        if let (Some(rw), true) = (reader_segment, at_oldest > 1 && !before_oldest) {
            out.assumptions.push(format!(
                "{at_oldest} truncations after the remote-write reader's position {} lie within \
                 {}s of the oldest live segment's start {} (level-1 blocks written seconds apart); \
                 the segment numbers decide: the master started fresh (segment 00000000) and the \
                 reader stalled before its first truncation, in segment {rw:08}, and the oldest \
                 live segment is {first:08}",
                fmt_time(t_b),
                slack / 1000,
                fmt_time(oldest)
            ));
        }
        if let (None, Some(t0)) = (decided, opened_late) {
            out.undecided = true;
            // In the segment before, the reader's segment ends at its position.
            out.watcher_segment_end = Some(t_b - 1);
            out.assumptions.push(format!(
                "the remote-write reader's position {} is the first scrape after the truncation \
                 that started at {} (a level-1 block's time): the truncation opens its new segment \
                 only once the compaction has written its block, a time no file records, so that \
                 scrape may still be in the segment before; there the segment after the reader's \
                 is deleted too (segments < {first:08} are gone). The reader is taken as overtaken \
                 (never understating the loss: an L2 risk)",
                fmt_time(t_b),
                fmt_time(t0)
            ));
        } else if decided.is_none() {
            out.undecided = true;
            out.assumptions.push(format!(
                "{at_oldest} truncations after the remote-write reader's position {} lie within \
                 {}s of the oldest live segment's start {} (level-1 blocks written seconds apart): \
                 one `Compact` call (one truncation: the reader's segment is the last deleted one, \
                 its successor live) or several (a segment between them deleted: overtaken); the \
                 files cannot tell, and the reader is taken as overtaken (never understating the \
                 loss: an L2 risk)",
                fmt_time(t_b),
                slack / 1000,
                fmt_time(oldest)
            ));
        }
        if decided == Some(true) {
            // The segment after the reader's is the oldest live one:
            // the reader sits in the last deleted segment, open.
            out.assumptions.push(format!(
                "the remote-write reader's position {} is in segment {n:08}, deleted but kept open \
                 by the reader: segments rotate only at truncations here (all closed ones far \
                 below the size limit), and the oldest live one starts at the first truncation \
                 after that position ({})",
                fmt_time(t_b),
                fmt_time(t1)
            ));
        } else {
            let ctx = (t1, first, until, reader_segment);
            overtaken_before_observation(wal, t_b, truncations, ctx, out);
            return None;
        }
    } else {
        let rw = reader_segment.map(|rw| (rw, tol, slack));
        overtaken_unplaced(wal, t_b, truncations, (first, oldest, rw), out);
        return None;
    }
    Some(n)
}

/// True when more segments were opened after the reader's (`rw`, up to
/// `first`, the oldest live one, which started by `until`) than
/// truncations came after its position `t_b`: the WAL rotated by size too
/// (at a segment size below the one taken), so the truncations cannot date
/// the deletion. Unknown without the reader's segment.
fn opened_by_size(truncations: &[i64], t_b: i64, until: i64, rw: Option<u32>, first: u32) -> bool {
    rw.is_some_and(|rw| {
        let opened = truncations
            .iter()
            .filter(|&&t| t > t_b && t <= until)
            .count();
        u64::from(first.saturating_sub(rw)) > opened as u64
    })
}

/// The reader's segment ended at the first truncation after its position
/// (`t1`) and the segment after it is deleted too: overtaken before the
/// observation, at the truncation that deleted it by the `truncateWAL` rule
/// replayed on the segment numbers ([`date_by_rule`]: the earliest where
/// the files leave more than one history), never later than the latest
/// truncation the newest checkpoint allows.
/// `until`: the oldest live segment's start and its slack. When more
/// segments were opened after the reader's than truncations came by then,
/// the WAL rotated by size too and no truncation can be told from
/// another: overtaken at the first one after the position (a copy taken
/// after the slave was up would otherwise date it late and understate the
/// loss).
fn overtaken_before_observation(
    wal: &WalView,
    t_b: i64,
    truncations: &[i64],
    (t1, first, until, rw): (i64, u32, i64, Option<u32>),
    out: &mut Overtake,
) {
    let by_size = opened_by_size(truncations, t_b, until, rw, first);
    let bound = wal
        .checkpoint
        .as_ref()
        .and_then(|c| c.mtime)
        .unwrap_or(wal.observed_at)
        .min(wal.observed_at);
    let candidates = truncations.iter().copied().filter(|&t| t <= bound);
    let latest = if by_size {
        candidates.filter(|&t| t > t_b).min()
    } else {
        candidates.filter(|&t| t > t1).max()
    }
    .unwrap_or(bound);
    let rule = (!by_size)
        .then(|| date_by_rule(wal, t_b, truncations, rw))
        .flatten()
        .filter(|d| d.at < latest);
    out.overtaken_at = Some(rule.as_ref().map_or(latest, |d| d.at));
    out.already = true;
    out.why = format!(
        "already overtaken when the WAL was observed ({}): the reader's position {} lies in a \
         segment that ended at the first truncation after it ({}), and the segment after that one \
         is deleted too (segments < {first:08} are gone, {}): segments rotate only at truncations \
         here, all closed ones being far below the size limit{}",
        fmt_time(wal.observed_at),
        fmt_time(t_b),
        fmt_time(t1),
        wal.checkpoint
            .as_ref()
            .map_or("no checkpoint".to_string(), |c| c.name.clone()),
        if by_size {
            "; but more segments were opened after the reader's than truncations came (the WAL \
             rotated by size too, at a segment size below the one taken), so the truncation that \
             deleted it is taken as the first one after the position (never understating the loss)"
                .to_string()
        } else {
            rule.map_or(String::new(), |d| rule_why(&d, fmt_time(latest)))
        }
    );
}

/// How the rule dated the overtaking (appended to the deadline's why).
fn rule_why(d: &RuleDating, latest: String) -> String {
    let how = if d.histories == 0 {
        "the segment numbers replay to the copy's checkpoint from no oldest segment the master may \
         have had then (a restart or a size rotation in between?): the earliest truncation the \
         rule allows is taken (never understating the loss)"
            .to_string()
    } else if d.ambiguous {
        "the oldest segment the master had then is not on file and the histories that replay to \
         the copy's checkpoint disagree: the earliest is taken (never understating the loss)"
            .to_string()
    } else {
        "the only history that replays to the copy's checkpoint".to_string()
    };
    format!(
        "; by the `truncateWAL` rule (each truncation checkpoints and deletes the older two thirds \
         of the segments before the one it closes), with the reader in segment {rw:08}, segment \
         {next:08} was deleted by truncation {rank} after the position, at {at} ({how}), not at \
         the latest one the checkpoint allows ({latest})",
        rw = d.reader_segment,
        next = d.reader_segment.saturating_add(1),
        rank = d.rank,
        at = fmt_time(d.at),
    )
}

/// Size rotations: the reader's deleted segment ended somewhere between its
/// position and the oldest live segment's start (`oldest`). Taken as
/// overtaken: the side that never understates. When the reader's segment
/// is known (`rw`, with the scrape tolerance and the slack of a segment's
/// start at a truncation), the deleting truncation is dated by replaying
/// the size rotations ([`date_by_size`]); else at the latest truncation
/// before the observation.
fn overtaken_unplaced(
    wal: &WalView,
    t_b: i64,
    truncations: &[i64],
    (first, oldest, rw): (u32, i64, Option<(u32, i64, i64)>),
    out: &mut Overtake,
) {
    let latest = truncations
        .iter()
        .copied()
        .filter(|&t| t <= wal.observed_at && t > t_b)
        .max()
        .unwrap_or(wal.observed_at);
    let sized = rw
        .and_then(|(rw, tol, slack)| date_by_size(wal, t_b, truncations, rw, (tol, slack)))
        .filter(|d| d.at <= latest);
    out.overtaken_at = Some(sized.as_ref().map_or(latest, |d| d.at));
    out.already = true;
    out.watcher_segment_end = Some(t_b);
    out.why = format!(
        "the reader's position {} is older than every live segment (segments < {first:08} are \
         gone, {}); the WAL rotates by size too, so which deleted segment held it is not \
         decidable: its end is bounded by that position and the oldest live segment's start {}, \
         and it is taken as overtaken, ending at the position (never understating the loss){}",
        fmt_time(t_b),
        wal.checkpoint
            .as_ref()
            .map_or("no checkpoint".to_string(), |c| c.name.clone()),
        fmt_time(oldest),
        sized.map_or(String::new(), |d| size_why(&d, fmt_time(latest)))
    );
    out.assumptions.push(
        "the stalled reader's WAL segment was deleted and cannot be placed: its end taken at the \
         reader's position and the reader as overtaken (never understating the loss)"
            .into(),
    );
}

/// The truncation (its compaction's start: a level-1 block's time, or a
/// forecast) at most `tol` (one scrape and a second) before the reader's
/// position `t_b`: `truncateWAL` opens the new segment only after the
/// compaction has written its block and truncated the head, which takes a
/// time no file records, so the scrape at `t_b` may have gone to the
/// segment before it.
fn segment_opened_after(truncations: &[i64], t_b: i64, tol: i64) -> Option<i64> {
    truncations
        .iter()
        .copied()
        .filter(|&t| t <= t_b && t_b - t <= tol)
        .max()
}

/// True when the WAL evidently rotates only at truncations: every closed
/// live segment is far below the segment size limit (under half of it), and
/// every live segment but `00000000` starts at a truncation (within `tol`)
/// of `truncations` (a copy whose records were thinned keeps its times, not
/// its sizes). A start elsewhere is a size rotation or a process start.
/// `truncations` must hold every truncation after `since`; segments that
/// start before it are not judged.
pub fn rotates_only_at_truncations(
    wal: &WalView,
    truncations: &[i64],
    since: i64,
    tol: i64,
) -> bool {
    let n = wal.segments.len();
    // A size rotation closes a segment only when the next record does not
    // fit (`wlog.log`), so a size-rotated segment is the limit minus less
    // than one record; under half the limit is a record bigger than half a
    // segment (5 MB of the smallest 10 MB segments: a samples record of
    // hundreds of thousands of series), which no scrape writes.
    let small = wal
        .segments
        .iter()
        .take(n.saturating_sub(1))
        .all(|s| s.size < wal.segment_size / 2);
    // Segment 0 begins at the master's first start; every other one at a
    // rotation (or a later start, which this counts as not a truncation).
    let at_truncations = wal
        .segments
        .iter()
        .filter(|s| s.index > 0)
        .all(|s| match s.min_t {
            Some(t) if t > since => truncations.iter().any(|&c| (t - c).abs() <= tol),
            _ => true,
        });
    small && at_truncations && !super::walrule::could_fill_a_segment(wal, truncations)
}

/// Reads a master `wal/` directory (or a data directory holding one).
pub fn read_wal(dir: &Path, observed_at: Option<i64>) -> std::io::Result<WalView> {
    super::walread::read_wal(dir, observed_at)
}

#[cfg(test)]
#[path = "wal_tests.rs"]
pub(super) mod tests;
