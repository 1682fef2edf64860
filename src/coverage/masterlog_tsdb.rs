//! The master's head compactions and WAL truncations, as 2.42 logs them
//! (`component=tsdb`), for `coverage --master-log`.
//!
//! 2.42's `DB.Compact` (tsdb/db.go) writes every block the head holds past
//! 1.5 block ranges, one at a time, then truncates the WAL once
//! (`Head.truncateWAL`, tsdb/head.go). Each step logs:
//!
//! * `msg="write block" mint= maxt= ulid= duration=` when
//!   `LeveledCompactor.Write` (tsdb/compact.go) has written a block: the
//!   ULID's time is the write's start. The same line comes from the head
//!   block a snapshot writes and from an out-of-order compaction;
//! * `msg="Head GC completed" caller=truncateMemory duration=` when the
//!   head compaction has dropped the block's data from the head
//!   (`truncateSeriesAndChunkDiskMapper`; `caller=truncateOOO` after an
//!   out-of-order compaction): so a `write block` followed by this line
//!   is a head compaction, and the WAL truncation follows it at once;
//! * `msg="Creating checkpoint" from_segment= to_segment= mint=` when the
//!   truncation checkpoints segments `from..=to` (`wlog.Checkpoint`,
//!   tsdb/wlog/checkpoint.go), right after opening a new segment;
//! * `msg="WAL checkpoint complete" first= last= duration=` once the
//!   checkpoint is written and segments `first..=last` are deleted
//!   (`truncateWAL`, `duration` since its start). A truncation that
//!   checkpoints nothing (fewer than three segments before the new one)
//!   logs neither checkpoint line; it still opens a new segment.

use serde::Serialize;

use crate::coverage::logline::Fields;

/// A head compaction: a block written out of the head, and the WAL
/// truncation right after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct HeadCompaction {
    /// When it started (Unix ms): the block's ULID time (the line's time
    /// less its duration when the ULID is not readable).
    pub at: i64,
    /// The block's `mint` (the head's min time then).
    pub min_time: i64,
    /// The block's `maxt`.
    pub max_time: i64,
}

/// A WAL checkpoint and the deletion of the segments it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct WalCheckpoint {
    /// When the checkpoint started (`Creating checkpoint`, or the
    /// completion less its duration): the segments are deleted after it.
    pub at: i64,
    /// When it was complete (`WAL checkpoint complete`): segments
    /// `first..=last` were deleted by then. Absent when the log does not
    /// hold that line (a failed checkpoint deletes nothing).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub done_at: Option<i64>,
    /// The oldest segment checkpointed.
    pub first: u32,
    /// The newest segment checkpointed.
    pub last: u32,
}

/// What the master's log says about its head compactions and WAL
/// truncations.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TsdbLog {
    /// Lines of the master's TSDB (`component=tsdb`) read: none means the
    /// log does not hold them (filtered out, or a level above `info`).
    pub lines: u64,
    /// Head compactions, in log order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub head_compactions: Vec<HeadCompaction>,
    /// WAL checkpoints, in log order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub checkpoints: Vec<WalCheckpoint>,
}

/// The reading state: the last `write block` not yet followed by the head
/// GC of a head compaction.
#[derive(Default)]
pub(super) struct TsdbAcc {
    pub(super) log: TsdbLog,
    pending_block: Option<HeadCompaction>,
}

impl TsdbLog {
    /// True when the log holds no TSDB line.
    pub fn is_empty(&self) -> bool {
        self.lines == 0
    }

    /// The checkpoint that deleted segment `seg`: the first complete one
    /// whose range holds it. `None` when no complete checkpoint reaches it,
    /// or the first that does starts after it (deleted by one before the
    /// log began).
    pub fn deletion_of(&self, seg: u32) -> Option<WalCheckpoint> {
        self.checkpoints
            .iter()
            .filter(|c| c.done_at.is_some())
            .find(|c| c.last >= seg)
            .filter(|c| c.first <= seg)
            .copied()
    }

    /// The newest segment deleted by a complete checkpoint started at or
    /// before `t`.
    pub fn deleted_through(&self, t: i64) -> Option<u32> {
        self.checkpoints
            .iter()
            .filter(|c| c.done_at.is_some() && c.at <= t)
            .map(|c| c.last)
            .max()
    }
}

impl TsdbAcc {
    /// [`TsdbAcc::line`] within the log's event limit (`events` so far):
    /// false when the limit was reached and the line not read.
    pub(super) fn line_within(&mut self, f: &Fields, ts: i64, events: &mut usize) -> bool {
        if *events >= super::MAX_EVENTS {
            return false;
        }
        if self.line(f, ts) {
            *events += 1;
        }
        true
    }

    /// Reads one line of the TSDB at `ts`; true when it is an event kept
    /// (counted against the log's event limit by the caller).
    pub(super) fn line(&mut self, f: &Fields, ts: i64) -> bool {
        self.log.lines += 1;
        let num = |k: &str| f.get(k).and_then(|v| v.parse::<i64>().ok());
        let seg = |k: &str| f.get(k).and_then(|v| v.parse::<u32>().ok());
        let dur = || {
            f.get("duration")
                .and_then(crate::gofmt::parse_duration_ms)
                .unwrap_or(0)
        };
        match f.get("msg") {
            Some("write block") => {
                let at = f
                    .get("ulid")
                    .and_then(crate::format::meta::ulid_time)
                    .and_then(|t| i64::try_from(t).ok())
                    .unwrap_or_else(|| ts.saturating_sub(dur()));
                self.pending_block = match (num("mint"), num("maxt")) {
                    (Some(min_time), Some(max_time)) => Some(HeadCompaction {
                        at,
                        min_time,
                        max_time,
                    }),
                    _ => None,
                };
                false
            }
            Some("Head GC completed") if is_truncate_memory(f) => match self.pending_block.take() {
                Some(c) => {
                    self.log.head_compactions.push(c);
                    true
                }
                None => false,
            },
            Some("Creating checkpoint") => match (seg("from_segment"), seg("to_segment")) {
                (Some(first), Some(last)) => {
                    self.log.checkpoints.push(WalCheckpoint {
                        at: ts,
                        done_at: None,
                        first,
                        last,
                    });
                    true
                }
                _ => false,
            },
            Some("WAL checkpoint complete") => match (seg("first"), seg("last")) {
                (Some(first), Some(last)) => {
                    let open = self
                        .log
                        .checkpoints
                        .last_mut()
                        .filter(|c| c.done_at.is_none() && c.first == first && c.last == last);
                    if let Some(c) = open {
                        c.done_at = Some(ts);
                        return false;
                    }
                    self.log.checkpoints.push(WalCheckpoint {
                        at: ts.saturating_sub(dur()),
                        done_at: Some(ts),
                        first,
                        last,
                    });
                    true
                }
                _ => false,
            },
            _ => false,
        }
    }
}

/// The head GC of a head compaction (`caller=truncateMemory`; logfmt
/// lines carry the source `caller` first and this one after it).
fn is_truncate_memory(f: &Fields) -> bool {
    f.kv.iter()
        .any(|(k, v)| k == "caller" && v == "truncateMemory")
}
