//! `promsnap snapshot`: what Prometheus' admin API snapshot
//! (`POST /api/v1/admin/tsdb/snapshot`) makes, offline, from the files of a
//! data directory — a stopped Prometheus, a copied or file-level backup, or
//! a running one.
//!
//! What Prometheus 2.42 does (`DB.Snapshot`): under its compaction lock, it
//! hard-links the files of every loaded block (`meta.json`, `index`,
//! `tombstones`, `chunks/*`) into `<dir>/<ULID>/`, then — unless
//! `skip_head` — writes its in-order head as one block with the compactor:
//! range `[head minTime, head maxTime + 1)` (after a head truncation the
//! head's minTime is the oldest sample left, so the range runs from the
//! first to the last head sample), compaction level 1, the block its own
//! only source, tombstones applied, no block at all when the head holds no
//! sample. Out-of-order head data is not in it.
//!
//! What this module does, from the files alone:
//!
//! 1. The blocks: every block directory of DATA_DIR except those a later
//!    block names as a compaction parent or marked `deletable` (Prometheus
//!    deletes those on its next reload and does not hold them), linked — or copied, each copy
//!    read back and compared, when OUT is on another filesystem.
//! 2. The head: `chunks_head/` and the WAL (the newest complete checkpoint,
//!    then the segments after it, each up to its last whole record) replayed
//!    as [`crate::head::replay`] replays them, from `minValidTime` = the
//!    greatest maxTime of the in-order blocks (those without the
//!    `from-out-of-order` hint), as a running Prometheus holds its head.
//!    Written with [`crate::write::BlockWriter`] as the snapshot's head
//!    block: `[first sample, last sample + 1)`, level 1, its own source,
//!    deleted intervals left out, empty tombstones; checked with `verify`
//!    before it is placed.
//! 3. One consistent state of a running Prometheus: blocks are immutable,
//!    and a link keeps a block's files even if Prometheus deletes the block
//!    afterwards. Compaction writes its new block before it deletes the old
//!    ones and truncates the WAL only after that; so after the head is read
//!    the block list is read again, and if it changed (or a WAL or head
//!    chunk file vanished during the read) the blocks are taken again — the
//!    new ones linked, the ones gone removed from OUT — and the head read
//!    again, up to 8 times. A block that vanished is never reported as
//!    damage.
//!
//! OUT is the snapshot directory itself; it must not exist or be empty.
//! Named `<YYYYMMDDTHHMMSSZ>-<16 hex>` (the admin API's naming,
//! [`snapshot_name`]), `ls`, `coverage` and `copy` take it for a snapshot
//! and read its time from the name. Everything is written into the sibling
//! `.<name>.tmp-for-creation/`, every file and directory fsynced, then that
//! directory is renamed to OUT and OUT's parent fsynced: OUT appears
//! complete or not at all. OUT inside DATA_DIR is refused unless it lies
//! directly in `DATA_DIR/snapshots/`, where the admin API puts its
//! snapshots and Prometheus ignores them; DATA_DIR is never modified
//! otherwise. An error leaves nothing behind (the temporary directory is
//! removed).
//!
//! Memory: the head's samples, as Prometheus holds them; blocks are only
//! linked.

mod head_block;
mod link;
mod paths;
mod take;

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;

use crate::copy::fsops;
use crate::error::{Error, Result};
use crate::layout;

pub use link::Method;

/// What to take.
#[derive(Debug, Clone, Default)]
pub struct SnapshotOptions {
    /// Leave the head out, as the admin API's `skip_head=true`.
    pub skip_head: bool,
}

/// One block of the snapshot taken from DATA_DIR.
#[derive(Debug, Clone, Serialize)]
pub struct SnapBlock {
    /// ULID (directory name).
    pub ulid: String,
    /// minTime (ms), if its meta.json is readable.
    pub min_time: Option<i64>,
    /// maxTime (ms, exclusive).
    pub max_time: Option<i64>,
    /// Linked or copied.
    pub method: Method,
    /// Bytes of its files.
    pub bytes: u64,
}

/// The head block written.
#[derive(Debug, Clone, Serialize)]
pub struct HeadBlock {
    /// ULID.
    pub ulid: String,
    /// minTime (ms): the first head sample.
    pub min_time: i64,
    /// maxTime (ms, exclusive): the last head sample + 1.
    pub max_time: i64,
    /// Series.
    pub series: u64,
    /// Samples.
    pub samples: u64,
    /// Chunks.
    pub chunks: u64,
}

/// What the head replay read.
#[derive(Debug, Clone, Serialize)]
pub struct HeadRead {
    /// Samples older than this (ms) were not taken (the in-order blocks'
    /// greatest maxTime; `null`: no block).
    pub min_valid_time: Option<i64>,
    /// Series with samples in the head.
    pub series: u64,
    /// Samples in the head (before deletions).
    pub samples: u64,
    /// Samples left out because a tombstone deletes them.
    pub deleted_samples: u64,
    /// Samples the replay dropped as Prometheus does (older than
    /// minValidTime, out of order, or already in a head chunk).
    pub dropped_samples: u64,
    /// Samples of series refs no series record defines.
    pub unknown_ref_samples: u64,
    /// Series left out: a label set Prometheus could not have written (an
    /// empty label name or value).
    pub skipped_series: u64,
}

/// The answer of `snapshot`.
#[derive(Debug, Clone, Serialize)]
pub struct SnapshotReport {
    /// DATA_DIR.
    pub data_dir: PathBuf,
    /// OUT, the snapshot directory written.
    pub out: PathBuf,
    /// True if OUT's name is the admin API's `<YYYYMMDDTHHMMSSZ>-<16 hex>`.
    pub snapshot_name: bool,
    /// The head was left out.
    pub skip_head: bool,
    /// A running process (presumably Prometheus) held DATA_DIR's lock or
    /// had files of it open.
    pub prometheus_running: bool,
    /// The blocks linked or copied, by minTime.
    pub blocks: Vec<SnapBlock>,
    /// Blocks of DATA_DIR not taken: compaction parents of a later block,
    /// or marked `deletable`.
    pub excluded: Vec<String>,
    /// The head block written (`null`: skip_head, or an empty head).
    pub head_block: Option<HeadBlock>,
    /// The head as read (`null` with skip_head or without `wal/`).
    pub head: Option<HeadRead>,
    /// Times the blocks and head were read again because a running
    /// Prometheus changed its blocks or WAL during the read.
    pub rereads: u32,
    /// Facts worth knowing (a reread, a leftover removed, a copy instead of
    /// links, …).
    pub notices: Vec<String>,
    /// What could not be read: damaged WAL records or head chunks (the
    /// replay goes on after each), unreadable block metas. Non-empty: the
    /// snapshot was written but lacks what these name.
    pub problems: Vec<String>,
    /// Bytes hard-linked.
    pub bytes_linked: u64,
    /// Bytes copied or written (the head block).
    pub bytes_written: u64,
    /// Wall time (ms).
    pub duration_ms: u64,
}

/// The admin API's snapshot directory name for a time (Unix ms) and 8
/// random bytes: `<YYYYMMDDTHHMMSSZ>-<16 hex>`.
pub fn snapshot_name(t_ms: i64, rnd: u64) -> String {
    let secs = t_ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let s = secs.rem_euclid(86_400);
    let (y, m, d) = crate::vocab::civil_from_days(days);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z-{rnd:016x}",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// Takes a snapshot of `data_dir` into `out`. See the module documentation.
pub fn snapshot(data_dir: &Path, out: &Path, opts: &SnapshotOptions) -> Result<SnapshotReport> {
    let started = Instant::now();
    let out_abs = paths::check_paths(data_dir, out)?;
    let name = out_abs
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let parent = out_abs
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("/"));
    let mut report = SnapshotReport {
        data_dir: data_dir.to_path_buf(),
        out: out.to_path_buf(),
        snapshot_name: layout::parse_snapshot_name(&name).is_some(),
        skip_head: opts.skip_head,
        prometheus_running: fsops::lock_is_held(&data_dir.join("lock"))
            || !fsops::processes_using(data_dir).is_empty(),
        blocks: Vec::new(),
        excluded: Vec::new(),
        head_block: None,
        head: None,
        rereads: 0,
        notices: Vec::new(),
        problems: Vec::new(),
        bytes_linked: 0,
        bytes_written: 0,
        duration_ms: 0,
    };
    let (mut guard, tmp) = paths::TmpGuard::create(&parent, &name, &mut report.notices)?;
    let taken = take::take(data_dir, &tmp, opts, &mut report)?;
    if let Some(h) = &taken.head {
        head_block::record_head_read(h, taken.min_valid_time, data_dir, &mut report);
    }
    record_blocks(&taken, &mut report);
    if let Some(h) = &taken.head {
        report.head_block = head_block::write_head_block(h, &tmp, &mut report)?;
    }

    fsops::sync_dir(&tmp).map_err(|e| Error::io(&tmp, e))?;
    // OUT appears complete or not at all. An empty OUT is replaced by the
    // rename (rename(2) replaces an empty directory and nothing else).
    if out_abs.exists() {
        std::fs::rename(&tmp, &out_abs).map_err(|e| Error::io(&out_abs, e))?;
    } else {
        fsops::rename_noreplace(&tmp, &out_abs).map_err(|e| Error::io(&out_abs, e))?;
    }
    guard.done = true;
    fsops::sync_dir(&parent).map_err(|e| Error::io(&parent, e))?;
    report.duration_ms = started.elapsed().as_millis() as u64;
    Ok(report)
}

/// The blocks taken, the ones left out and what to say about them, into
/// the report.
fn record_blocks(taken: &take::Taken, report: &mut SnapshotReport) {
    report.excluded = taken.listing.excluded.clone();
    if !report.excluded.is_empty() {
        report.notices.push(format!(
            concat!(
                "not taken: {} (compaction parents of a later block, or marked ",
                "deletable: Prometheus deletes them at its next reload)"
            ),
            report.excluded.join(", ")
        ));
    }
    for (ulid, _, meta) in &taken.listing.blocks {
        if meta.is_none() {
            report.problems.push(format!(
                "block {ulid}: meta.json unreadable (taken as it is; Prometheus will not open it)"
            ));
        }
    }
    if report.rereads > 0 {
        report.notices.push(format!(
            "a running Prometheus changed its blocks or WAL during the read: read again {} time(s)",
            report.rereads
        ));
    }
    if taken.link_fallback {
        report.notices.push(
            concat!(
                "OUT is on another filesystem (or it has no hard links): block ",
                "files were copied, not linked"
            )
            .into(),
        );
    }
    for b in taken.blocks.values() {
        match b.method {
            Method::Link => report.bytes_linked += b.bytes,
            Method::Copy => report.bytes_written += b.bytes,
        }
    }
    let mut blocks: Vec<SnapBlock> = taken.blocks.values().cloned().collect();
    blocks.sort_by(|a, b| (a.min_time, &a.ulid).cmp(&(b.min_time, &b.ulid)));
    report.blocks = blocks;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_like_the_admin_api() {
        // 2026-11-25T09:12:34Z
        let n = snapshot_name(1_795_597_954_123, 0x788e_afc0_11a1_0c98);
        assert_eq!(n, "20261125T091234Z-788eafc011a10c98");
        assert_eq!(layout::parse_snapshot_name(&n), Some(1_795_597_954_000));
        assert_eq!(snapshot_name(0, 1), "19700101T000000Z-0000000000000001");
        assert_eq!(
            snapshot_name(951_782_400_000, 0),
            "20000229T000000Z-0000000000000000"
        );
    }
}
