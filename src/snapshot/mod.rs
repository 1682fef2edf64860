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

mod link;

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;

use crate::check::block::{CheckOptions, verify_block};
use crate::copy::fsops;
use crate::error::{Error, Result};
use crate::format::meta::{BlockMeta, is_valid_ulid};
use crate::format::tombstones::is_deleted;
use crate::head::{self, Head};
use crate::layout::{self, DirKind};
use crate::write::BlockWriter;

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
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z-{rnd:016x}",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// `path` made absolute with its nearest existing ancestor canonicalized.
fn absolute(path: &Path) -> Result<PathBuf> {
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map_err(|e| Error::io(path, e))?
            .join(path)
    };
    let mut rest = Vec::new();
    let mut p = abs.as_path();
    loop {
        if let Ok(c) = p.canonicalize() {
            let mut out = c;
            for r in rest.iter().rev() {
                out.push(r);
            }
            return Ok(out);
        }
        match (p.file_name(), p.parent()) {
            (Some(n), Some(parent)) => {
                rest.push(n.to_owned());
                p = parent;
            }
            _ => return Ok(abs),
        }
    }
}

/// Usage errors on DATA_DIR and OUT, before anything is written. Returns
/// the absolute OUT.
fn check_paths(data_dir: &Path, out: &Path) -> Result<PathBuf> {
    let lay = layout::scan(data_dir)?;
    if lay.kind != DirKind::Data {
        return Err(Error::Usage(format!(
            "{}: not a Prometheus data directory (it is a {} directory)",
            data_dir.display(),
            if lay.kind == DirKind::Block {
                "block"
            } else {
                "snapshot"
            }
        )));
    }
    if lay.blocks.is_empty() && lay.wal.is_none() {
        return Err(Error::Usage(format!(
            "{}: not a Prometheus data directory (no blocks, no wal/)",
            data_dir.display()
        )));
    }
    let data = data_dir
        .canonicalize()
        .map_err(|e| Error::io(data_dir, e))?;
    let out_abs = absolute(out)?;
    let Some(name) = out_abs
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
    else {
        return Err(Error::Usage(format!(
            "OUT {}: needs a directory name",
            out.display()
        )));
    };
    if is_valid_ulid(&name) {
        return Err(Error::Usage(format!(
            "OUT {}: a snapshot directory must not be named like a block (a ULID)",
            out.display()
        )));
    }
    if data.starts_with(&out_abs) {
        return Err(Error::Usage(format!(
            "OUT {} contains DATA_DIR {}",
            out.display(),
            data_dir.display()
        )));
    }
    if out_abs.starts_with(&data) && out_abs.parent() != Some(data.join("snapshots").as_path()) {
        return Err(Error::Usage(format!(
            "OUT {} is inside DATA_DIR {}: only DATA_DIR/snapshots/<name> is allowed there (as the admin API does); the data directory is never modified otherwise",
            out.display(),
            data_dir.display()
        )));
    }
    match std::fs::symlink_metadata(&out_abs) {
        Ok(md) if !md.is_dir() => {
            return Err(Error::Usage(format!(
                "OUT {}: exists and is not a directory",
                out.display()
            )));
        }
        Ok(_) => {
            let mut rd = std::fs::read_dir(&out_abs).map_err(|e| Error::io(&out_abs, e))?;
            if rd.next().is_some() {
                return Err(Error::Usage(format!(
                    "OUT {}: not empty (a snapshot is written into a new or empty directory; nothing is replaced)",
                    out.display()
                )));
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::io(&out_abs, e)),
    }
    Ok(out_abs)
}

/// Removes the temporary directory unless disarmed, and the parent
/// directories created for OUT (those still empty).
struct TmpGuard {
    tmp: Option<PathBuf>,
    created: Vec<PathBuf>,
    done: bool,
}

impl Drop for TmpGuard {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        if let Some(p) = self.tmp.take() {
            let _ = std::fs::remove_dir_all(p);
        }
        for d in &self.created {
            let _ = std::fs::remove_dir(d);
        }
    }
}

/// The blocks of one listing: `(ulid, dir, meta)`, compaction parents of
/// other blocks set apart.
struct Listing {
    blocks: Vec<(String, PathBuf, Option<BlockMeta>)>,
    excluded: Vec<String>,
}

fn list_blocks(data_dir: &Path) -> Result<Listing> {
    let lay = layout::scan(data_dir)?;
    let mut all = Vec::new();
    for dir in &lay.blocks {
        let ulid = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let meta = crate::block::read_meta(dir).ok();
        all.push((ulid, dir.clone(), meta));
    }
    let parents: std::collections::HashSet<String> = all
        .iter()
        .filter_map(|(_, _, m)| m.as_ref())
        .flat_map(|m| m.compaction.parents.iter().map(|p| p.ulid.clone()))
        .collect();
    let (excluded, blocks): (Vec<_>, Vec<_>) = all.into_iter().partition(|(u, _, m)| {
        parents.contains(u) || m.as_ref().is_some_and(|m| m.compaction.deletable)
    });
    Ok(Listing {
        blocks,
        excluded: excluded.into_iter().map(|(u, _, _)| u).collect(),
    })
}

/// Takes a snapshot of `data_dir` into `out`. See the module documentation.
pub fn snapshot(data_dir: &Path, out: &Path, opts: &SnapshotOptions) -> Result<SnapshotReport> {
    let started = Instant::now();
    let out_abs = check_paths(data_dir, out)?;
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
    // The parents to create, deepest first (removed again on failure).
    let created: Vec<PathBuf> = parent
        .ancestors()
        .take_while(|a| a.symlink_metadata().is_err())
        .map(Path::to_path_buf)
        .collect();
    let mut guard = TmpGuard {
        tmp: None,
        created,
        done: false,
    };
    std::fs::create_dir_all(&parent).map_err(|e| Error::io(&parent, e))?;
    let tmp = parent.join(format!(".{name}.tmp-for-creation"));
    if tmp.symlink_metadata().is_ok() {
        std::fs::remove_dir_all(&tmp).map_err(|e| Error::io(&tmp, e))?;
        report.notices.push(format!(
            "removed {}, left by an interrupted snapshot",
            tmp.display()
        ));
    }
    std::fs::create_dir(&tmp).map_err(|e| Error::io(&tmp, e))?;
    guard.tmp = Some(tmp.clone());
    let allow_link = true;
    let mut link_fallback = false;

    // Taken blocks by ULID: (dir in tmp, SnapBlock).
    let mut taken: std::collections::BTreeMap<String, SnapBlock> = Default::default();
    let mut head: Option<Head>;
    let mut listing;
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        let last_try = attempt >= 8;
        listing = list_blocks(data_dir)?;
        // Drop what is gone from the listing (compacted away meanwhile).
        let keep: std::collections::HashSet<&str> =
            listing.blocks.iter().map(|(u, _, _)| u.as_str()).collect();
        let gone: Vec<String> = taken
            .keys()
            .filter(|u| !keep.contains(u.as_str()))
            .cloned()
            .collect();
        for u in gone {
            let d = tmp.join(&u);
            std::fs::remove_dir_all(&d).map_err(|e| Error::io(&d, e))?;
            taken.remove(&u);
        }
        let mut changed = false;
        for (ulid, dir, meta) in &listing.blocks {
            if taken.contains_key(ulid) {
                continue;
            }
            let dst = tmp.join(ulid);
            match link::take_block(dir, &dst, allow_link) {
                Ok((method, bytes)) => {
                    if method == Method::Copy {
                        link_fallback = true;
                    }
                    taken.insert(
                        ulid.clone(),
                        SnapBlock {
                            ulid: ulid.clone(),
                            min_time: meta.as_ref().map(|m| m.min_time),
                            max_time: meta.as_ref().map(|m| m.max_time),
                            method,
                            bytes,
                        },
                    );
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && !last_try => {
                    changed = true;
                }
                Err(e) => return Err(Error::io(dir, e)),
            }
        }
        if changed {
            report.rereads += 1;
            continue;
        }
        if attempt == 1 {
            test_pause("snapshot_blocks_taken");
        }
        // The head, from the in-order blocks' greatest maxTime.
        let min_valid_time = listing
            .blocks
            .iter()
            .filter_map(|(_, _, m)| m.as_ref())
            .filter(|m| {
                !m.compaction
                    .hints
                    .iter()
                    .any(|h| h.as_str() == "from-out-of-order")
            })
            .map(|m| m.max_time)
            .max();
        head = None;
        if !opts.skip_head && data_dir.join("wal").is_dir() {
            match head::replay(data_dir, min_valid_time.unwrap_or(i64::MIN)) {
                Ok(h) => head = Some(h),
                Err(e) if head::vanished(&e) && !last_try => {
                    report.rereads += 1;
                    continue;
                }
                Err(e) => return Err(e),
            }
        }
        // Consistent if the block list did not change meanwhile.
        let again = list_blocks(data_dir)?;
        let same = again.blocks.len() == listing.blocks.len()
            && again
                .blocks
                .iter()
                .zip(&listing.blocks)
                .all(|(a, b)| a.0 == b.0);
        if !same && !last_try {
            report.rereads += 1;
            continue;
        }
        if !same {
            report.notices.push(
                "the block list kept changing during 8 reads: the last one is taken as it was"
                    .into(),
            );
        }
        if let Some(h) = &head {
            report.head = Some(HeadRead {
                min_valid_time,
                series: h.series.len() as u64,
                samples: h.series.iter().map(|s| s.samples.len() as u64).sum(),
                deleted_samples: 0,
                dropped_samples: h.dropped,
                unknown_ref_samples: h.unknown_refs,
                skipped_series: 0,
            });
            // The newest head chunk file of a running Prometheus may end in
            // a chunk being written (its samples are in the WAL).
            let newest_chunk_file = crate::walinfo::head_chunk_files(&data_dir.join("chunks_head"))
                .ok()
                .and_then(|f| f.last().map(|(_, p)| p.display().to_string()));
            for p in &h.problems {
                match &newest_chunk_file {
                    Some(f) if report.prometheus_running && p.contains(f.as_str()) => {
                        report.notices.push(format!(
                            "{p} (the newest head chunk file of a running Prometheus: a chunk being written; its samples are read from the WAL)"
                        ))
                    }
                    _ => report.problems.push(p.clone()),
                }
            }
        }
        break;
    }
    report.excluded = listing.excluded.clone();
    if !report.excluded.is_empty() {
        report.notices.push(format!(
            "not taken: {} (compaction parents of a later block, or marked deletable: Prometheus deletes them at its next reload)",
            report.excluded.join(", ")
        ));
    }
    for (ulid, _, meta) in &listing.blocks {
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
    if link_fallback {
        report.notices.push(
            "OUT is on another filesystem (or it has no hard links): block files were copied, not linked"
                .into(),
        );
    }
    for b in taken.values() {
        match b.method {
            Method::Link => report.bytes_linked += b.bytes,
            Method::Copy => report.bytes_written += b.bytes,
        }
    }
    let mut blocks: Vec<SnapBlock> = taken.into_values().collect();
    blocks.sort_by(|a, b| (a.min_time, &a.ulid).cmp(&(b.min_time, &b.ulid)));
    report.blocks = blocks;

    if let Some(h) = &head {
        report.head_block = write_head_block(h, &tmp, &mut report)?;
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

/// Test hook, only in builds with the cargo feature `failpoints` (on under
/// `cargo test`; not an interface): with `PROMSNAP_TEST_PAUSE_AT` naming
/// `point` and `PROMSNAP_TEST_RESUME` a file path, prints `promsnap: test
/// pause at <point>` on stderr and waits until that file exists (60 s at
/// most), so that a test can change the data directory mid-read as a
/// running Prometheus would.
#[cfg(feature = "failpoints")]
fn test_pause(point: &str) {
    let named =
        std::env::var("PROMSNAP_TEST_PAUSE_AT").is_ok_and(|v| v.split(',').any(|p| p == point));
    let Some(resume) = std::env::var_os("PROMSNAP_TEST_RESUME") else {
        return;
    };
    if !named {
        return;
    }
    eprintln!("promsnap: test pause at {point}");
    let end = Instant::now() + std::time::Duration::from_secs(60);
    while !Path::new(&resume).exists() && Instant::now() < end {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Without the test hooks: never pauses.
#[cfg(not(feature = "failpoints"))]
fn test_pause(_point: &str) {}

/// Writes the head's samples (deleted intervals left out) as one block in
/// `dir`, checks it, places it.
fn write_head_block(
    h: &Head,
    dir: &Path,
    report: &mut SnapshotReport,
) -> Result<Option<HeadBlock>> {
    let valid = |l: &[(Vec<u8>, Vec<u8>)]| {
        !l.is_empty() && l.iter().all(|(n, v)| !n.is_empty() && !v.is_empty())
    };
    let mut deleted = 0u64;
    let mut skipped = 0u64;
    let (mut min, mut max) = (i64::MAX, i64::MIN);
    for s in &h.series {
        if !valid(&s.labels) {
            skipped += 1;
            continue;
        }
        let mut kept = s
            .samples
            .iter()
            .filter(|(t, _)| !is_deleted(*t, &s.deleted));
        if let Some(f) = kept.next() {
            min = min.min(f.0);
            max = max.max(kept.next_back().map_or(f.0, |x| x.0));
        }
    }
    if min > max {
        if let Some(r) = report.head.as_mut() {
            r.skipped_series = skipped;
        }
        return Ok(None);
    }
    let mut w = BlockWriter::create(dir, min, max.saturating_add(1))?;
    let mut buf = Vec::new();
    for s in &h.series {
        if !valid(&s.labels) {
            continue;
        }
        buf.clear();
        for x in &s.samples {
            if is_deleted(x.0, &s.deleted) {
                deleted += 1;
            } else {
                buf.push(x.clone());
            }
        }
        w.add_series(&s.labels, &buf)?;
    }
    if let Some(r) = report.head.as_mut() {
        r.deleted_samples = deleted;
        r.skipped_series = skipped;
    }
    if skipped > 0 {
        report.problems.push(format!(
            "{skipped} head series not written: an empty label name or value"
        ));
    }
    let Some(u) = w.finish_unplaced()? else {
        return Ok(None);
    };
    let c = verify_block(&u.tmp, &CheckOptions::default());
    let bad: Vec<String> = c
        .findings
        .iter()
        // The name check is for the final directory.
        .filter(|f| f.is_error() && f.code != "meta_ulid_mismatch")
        .map(|f| format!("{} {}: {}", f.code, f.path.display(), f.message))
        .collect();
    if !bad.is_empty() {
        u.discard();
        return Err(Error::io(
            dir,
            std::io::Error::other(format!(
                "the head block written failed verification, nothing written: {}",
                bad.join("; ")
            )),
        ));
    }
    report.bytes_written += crate::block::block_size(&u.tmp);
    let b = u.place()?;
    Ok(Some(HeadBlock {
        ulid: b.ulid,
        min_time: b.min_time,
        max_time: b.max_time,
        series: b.stats.series,
        samples: b.stats.samples,
        chunks: b.stats.chunks,
    }))
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
