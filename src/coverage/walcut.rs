//! A truncation's own cut in the copy of `wal/`. 2.42's `truncateWAL` lists
//! the segments (`wlog.Segments`), then opens the new one (`NextSegment`),
//! then checkpoints the older two thirds of those it listed before the
//! newest and deletes them. A copy taken between the cut and the checkpoint
//! holds the new segment, empty until the next scrape: that segment is not
//! one the truncation could checkpoint, and read as one it moves every
//! checkpoint one segment up.

use super::{SegmentRange, WalView};
use crate::coverage::fmt_time;

/// How the copy's empty newest segment reads against the first forecast
/// truncation after the observation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum EmptyNewest {
    /// The cut of the truncation at this time: it listed the segments
    /// before the empty one.
    Cut(i64),
    /// Perhaps that truncation's cut (at `tc`), which the files cannot tell
    /// from a segment opened before it: `why` says what is missing.
    Unsure { tc: i64, why: String },
}

/// Reads the copy's newest segment when it is empty (no sample): the cut of
/// the first forecast truncation after the observation when the segment
/// before it ends at or within `tol` (one scrape and a second) before that
/// truncation and no truncation forecast between that last sample and the
/// observation made it (that one is past at the copy), the segment before
/// was not closed by size, and no given master restart (`restarts`: a
/// process start opens a segment too) falls after that last sample. Unsure
/// (taken as there before the truncation, never understating) when the
/// cut is in reach but a size rotation or a restart could have opened it;
/// `None` when nothing ties it to that truncation.
pub(super) fn empty_newest(
    wal: &WalView,
    truncations: &[i64],
    tol: i64,
    restarts: &[i64],
) -> Option<EmptyNewest> {
    let n = wal.segments.len();
    let newest = wal.segments.last()?;
    if newest.min_t.is_some() {
        return None;
    }
    let tc = truncations.iter().copied().find(|&t| t > wal.observed_at)?;
    let unsure = |why: String| Some(EmptyNewest::Unsure { tc, why });
    let prev = n
        .checked_sub(2)
        .and_then(|i| wal.segments.get(i))
        .filter(|s| s.index.checked_add(1) == Some(newest.index));
    let Some(p) = prev.and_then(|s| s.max_t) else {
        return (tc.saturating_sub(wal.observed_at) <= tol).then(|| EmptyNewest::Unsure {
            tc,
            why: "no segment just before it with a sample is in the copy".into(),
        });
    };
    let from = p.saturating_sub(tol);
    if p > tc
        || tc.saturating_sub(p) > tol
        || truncations
            .iter()
            .any(|&t| t >= from && t <= wal.observed_at)
    {
        return None;
    }
    let prev_index = newest.index.saturating_sub(1);
    if prev.is_some_and(|s| s.size >= super::super::walrule::full_segment(wal)) {
        return unsure(format!(
            "{prev_index:08} is full-sized and may have been closed by size"
        ));
    }
    if let Some(&r) = restarts.iter().find(|&&r| r >= from) {
        return unsure(format!(
            "the master restart given at {} may have opened it",
            fmt_time(r)
        ));
    }
    Some(EmptyNewest::Cut(tc))
}

/// Why the copy's empty newest segment `newest` is the cut of the
/// truncation at `tc`, which then checkpoints `first..=m` (none when
/// `m` is `None`).
pub(super) fn cut_why(newest: &SegmentRange, tc: i64, first: u32, m: Option<u32>) -> String {
    let what = m.map_or("nothing".into(), |m| format!("segments {first:08}..{m:08}"));
    format!(
        "the copy's newest segment {:08} is empty and the one before it ends at that \
         truncation's time: it is the cut of the truncation at {} (which lists the segments \
         before it and checkpoints {what}); ",
        newest.index,
        fmt_time(tc)
    )
}

/// Why the overtaking at `tc` stays the pessimistic reading when the empty
/// newest segment may be that truncation's cut (under which it would
/// checkpoint no segment past the reader's): `why` from [`empty_newest`].
pub(super) fn unsure_why(newest: &SegmentRange, why: &str) -> String {
    format!(
        "; the copy's newest segment {:08} is empty and may be this truncation's own cut (then it \
         would not reach the segment after the reader's), but {why}: it is taken as there before \
         it (never understating)",
        newest.index
    )
}

/// The checkpoint `truncateWAL` writes when it lists `first..=last_listed`
/// (the newest listed one excluded): `Some(m)` for `first..=m`, `None`
/// when it writes none (under two segments' worth).
pub(super) fn checkpoint_of(first: u32, last_listed: u32) -> Option<u32> {
    let last = last_listed.checked_sub(1)?;
    if last < first {
        return None;
    }
    let m =
        first.saturating_add(u32::try_from(u64::from(last - first) * 2 / 3).unwrap_or(u32::MAX));
    (m > first).then_some(m)
}

/// A truncation the copy of `wal/` caught under way: `truncateWAL` opens
/// the new segment first, then writes the checkpoint of the lower two
/// thirds of the older segments and deletes them. When the newest segment
/// began at a truncation at or before the observation (no sample yet, or
/// its first within `tol` after it) and the checkpoint that truncation
/// writes (segments `first..=m`) is not there, the copy shows the segments
/// it is about to delete as live: returns that truncation and `m`.
pub(super) fn truncation_under_way(
    wal: &WalView,
    truncations: &[i64],
    first: u32,
    tol: i64,
) -> Option<(i64, u32)> {
    let newest = wal.segments.last()?;
    let tc = truncations
        .iter()
        .copied()
        .filter(|&t| t <= wal.observed_at)
        .filter(|&t| {
            newest
                .min_t
                .is_none_or(|m| m >= t && m.saturating_sub(t) <= tol)
        })
        .max()?;
    // The segments `truncateWAL` listed before opening the new one, the
    // active one excluded.
    let m = checkpoint_of(first, newest.index.checked_sub(1)?)?;
    let done = wal.checkpoint.as_ref().is_some_and(|c| c.index >= m);
    (!done).then_some((tc, m))
}

/// The copy's empty newest segment read as the one a restarted master
/// opened (every start opens a new segment; 2.42's WAL writer writes a
/// record into a segment it opens by size at once): for a restart given at
/// `r` after the segment before it ends (`L`, its newest sample, no torn
/// record), where no truncation falls within `tol` of `L` (a truncation's
/// cut opens an empty segment too; one within `tol` of that segment's first
/// sample opened it instead), that segment is not full-sized (a
/// size rotation), and the observation is not given (dated by `L`, the
/// newest sample): the master scraped nothing from `L` to the copy.
/// Returns `L`; the caller takes the copy as made after the restart.
pub(in crate::coverage) fn restart_opened(
    wal: &WalView,
    truncations: &[i64],
    tol: i64,
    r: i64,
) -> Option<i64> {
    if wal.observed_at_source == super::super::walread::OBSERVED_GIVEN {
        return None;
    }
    let newest = wal.segments.last().filter(|s| s.min_t.is_none())?;
    let prev = wal
        .segments
        .len()
        .checked_sub(2)
        .and_then(|i| wal.segments.get(i))
        .filter(|s| s.index.checked_add(1) == Some(newest.index) && s.last_record_ok)?;
    let last = prev.max_t.filter(|&l| l < r)?;
    // A truncation within `tol` of that last sample may have cut the empty
    // segment, unless it is the one that opened the segment before (within
    // `tol` of its first sample: two truncations are a block range apart).
    let first = prev.min_t.unwrap_or(last);
    let near =
        |t: i64| t.saturating_sub(last).saturating_abs() <= tol && t > first.saturating_add(tol);
    if truncations.iter().any(|&t| near(t)) || prev.size >= super::super::walrule::full_segment(wal)
    {
        return None;
    }
    Some(last)
}
