//! The master's log in the overtake simulation: over the span it covers,
//! the WAL checkpoints it shows (which segments were checkpointed and
//! deleted, and when: `masterlog_tsdb.rs`) take the place of the
//! `truncateWAL` replay on forecast truncation times.

use crate::coverage::fmt_time;
use crate::coverage::masterlog::{MasterLog, WalCheckpoint};

/// The checkpoints a master's log holds, and the span over which it holds
/// every one.
#[derive(Debug, Clone, Copy)]
pub struct LoggedWal<'a> {
    /// The checkpoints, in log order.
    pub checkpoints: &'a [WalCheckpoint],
    /// The log's first line (ms).
    pub from: i64,
    /// How far it reaches (ms).
    pub reach: i64,
}

impl<'a> LoggedWal<'a> {
    /// The log's checkpoints, when it decides the master's truncations.
    pub fn of(log: &'a MasterLog) -> Option<Self> {
        let (from, reach) = log.truncation_span()?;
        Some(Self {
            checkpoints: &log.tsdb.checkpoints,
            from,
            reach,
        })
    }

    /// The checkpoint that deleted segment `seg`: the first complete one
    /// whose range reaches it, when that range holds it (a range starting
    /// after it: deleted before the log began, not dated here).
    pub fn deletion_of(&self, seg: u32) -> Option<WalCheckpoint> {
        self.checkpoints
            .iter()
            .filter(|c| c.done_at.is_some_and(|d| d <= self.reach))
            .find(|c| c.last >= seg)
            .filter(|c| c.first <= seg)
            .copied()
    }

    /// True when the log holds every truncation from `t` on (it began by
    /// then).
    pub fn covers_from(&self, t: i64) -> bool {
        self.from <= t
    }

    /// The newest segment a complete checkpoint of the log deleted.
    pub fn deleted_through(&self) -> Option<u32> {
        self.checkpoints
            .iter()
            .filter(|c| c.done_at.is_some_and(|d| d <= self.reach))
            .map(|c| c.last)
            .max()
    }
}

/// Why the logged checkpoint `c` overtook the reader in segment `w`.
pub fn deletion_why(c: &WalCheckpoint, w: u32) -> String {
    format!(
        "the master's log dates the truncation: at {at} it checkpointed segments \
         {first:08}..{last:08} (`Creating checkpoint`) and deleted them by {done} (`WAL \
         checkpoint complete`), including {next:08}, the one after the reader's segment {w:08}: \
         the slave must be caught up before {at}",
        at = fmt_time(c.at),
        first = c.first,
        last = c.last,
        done = c.done_at.map_or("-".to_string(), fmt_time),
        next = w.saturating_add(1),
    )
}

/// Why no logged checkpoint overtook the reader in segment `w` up to the
/// log's reach, before the forecast that follows it.
pub fn no_deletion_why(log: &LoggedWal<'_>, w: u32) -> String {
    format!(
        "the master's log (to {reach}) shows no checkpoint deleting segment {next:08}, the one \
         after the reader's segment {w:08}{last}; after it the forecast holds: ",
        reach = fmt_time(log.reach),
        next = w.saturating_add(1),
        last = log.deleted_through().map_or(String::new(), |l| format!(
            " (the newest it deleted: {l:08})"
        )),
    )
}
