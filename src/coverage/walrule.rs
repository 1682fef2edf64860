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

use super::wal::WalView;

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

#[cfg(test)]
#[path = "walrule_tests.rs"]
mod tests;
