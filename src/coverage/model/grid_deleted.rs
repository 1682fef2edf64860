//! The first sample after a time the files do not cover because the
//! master's WAL segments holding it were deleted.
//!
//! A time no block and no live WAL segment covers is a time the master
//! scraped nothing (down, or not yet started) only when nothing that may
//! have held its samples is gone. A WAL copy whose older segments were
//! checkpointed and deleted (a checkpoint, or a first live segment above
//! `00000000`) has lost exactly the span before its oldest live sample:
//! after a master restart, the restarted process's first scrapes are
//! there. The first sample after `t` is then anywhere from the first scrape
//! after `t` (or after the restarted queue's start, where the master's log
//! shows it) to the oldest live one: the earliest is taken, so that the
//! restarted reader's stall position, and with it the segment a truncation
//! deletes under it, is never placed later than it was.

use super::ModelInput;
use super::grid::{next_on_grids, sample_grids};
use crate::coverage::fmt_time;

/// `(first sample, why)` when the next sample on file after `t` is the
/// oldest live WAL sample `m`, more than one scrape (`lim`) after `t`, and
/// segments before it were deleted; `None` otherwise.
pub(super) fn first_in_deleted(
    inp: &ModelInput,
    t: i64,
    m: i64,
    lim: i64,
) -> Option<(i64, String)> {
    // Only a restarted reader's start: `t` a master restart given (within
    // one scrape after it); any other time before the copy's oldest sample
    // is placed as before.
    let scrape = lim.saturating_sub(t);
    if !(inp.facts.master_restarts.iter()).any(|&r| r <= t && t.saturating_sub(r) <= scrape) {
        return None;
    }
    let wal = inp.wal.as_ref()?;
    let deleted = wal.checkpoint.is_some() || wal.segments.first().is_some_and(|s| s.index > 0);
    if !deleted || m <= lim || wal.live_range().0 != Some(m) {
        return None;
    }
    // The restarted queue's start, where the master's log shows it
    // between `t` and `m`: no sample it reads is older.
    let from = inp.logged_queue_start(m).filter(|&s| s > t).unwrap_or(t);
    let i = inp.scrape_interval.max(1);
    let first = next_on_grids(&sample_grids(inp), from, true)
        .unwrap_or(from.saturating_add(i))
        .min(m);
    let why = format!(
        "no file holds a sample between {} and the master WAL's oldest live one ({}), but the \
         segments before it were deleted (truncated into a checkpoint) and may have held the \
         master's samples of that span: the first one after {} is taken at the earliest the \
         scrape grid allows, {}{} (never placing the remote-write reader later than it was)",
        fmt_time(t),
        fmt_time(m),
        fmt_time(t),
        fmt_time(first),
        if from > t {
            format!(
                ", after the queue's start the master's log shows ({})",
                fmt_time(from)
            )
        } else {
            String::new()
        }
    );
    Some((first, why))
}
