//! [`plan`]: what `copy` will do, decided from what is on disk before
//! anything is written. Every hazard of dropping blocks into a Prometheus
//! data directory is checked here (the facts are Prometheus' own rules, see
//! FORMAT.md §1.3 and §8: parents deletion, `deletable`, time retention
//! relative to the newest block, size retention counted newest block first,
//! the head's `minValidTime`, vertical compaction of overlapping blocks).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::{
    Action, BlockFile, CopyOptions, CopyPlan, DEFAULT_RETENTION_MS, HeadRange, PlannedBlock,
    Reason, TMP_SUFFIX, TargetBlock, block_files, fsops, head,
};
use crate::error::{Error, Result};
use crate::layout::{self, DirKind, Layout};

fn overlaps(a: (i64, i64), b: (i64, i64)) -> bool {
    a.0 < b.1 && b.0 < a.1
}

/// Formats a ms timestamp for messages: RFC 3339 UTC.
fn ts(ms: i64) -> String {
    crate::gofmt::utc_seconds(ms)
}

/// Decides what to copy, skip and refuse. Reads the source and the target,
/// writes nothing.
pub fn plan(src: &Path, dst: &Path, opts: &CopyOptions) -> Result<CopyPlan> {
    let src_layout = layout::scan(src)?;
    let (dst_exists, dst_layout) = check_target_path(dst)?;
    let (mut blocks, excluded) = select(src, &src_layout, opts)?;
    let mut notices = Vec::new();
    if src_layout.kind == DirKind::Data
        && (src_layout.wal.is_some() || src_layout.chunks_head.is_some())
    {
        notices.push(Reason::new(
            "wal_not_copied",
            "the source is a data directory: only its blocks are copied; data still in its head (wal/, chunks_head/) is not. Take a snapshot with the head (the default of /api/v1/admin/tsdb/snapshot) to include it",
        ));
    }
    if opts.skip_verify {
        notices.push(Reason::new(
            "not_verified",
            "--verify none: the source blocks are not checked before copying (each copied file is still compared with its source); run `promsnap verify` on the source first",
        ));
    } else if opts.check.quick {
        notices.push(Reason::new(
            "verified_quick",
            "--verify quick: the source blocks' checksums and structure are checked, their samples not decoded",
        ));
    }

    let (target_blocks, target_head) = match &dst_layout {
        Some(l) => scan_target(dst, l, &mut notices),
        None => (Vec::new(), None),
    };
    against_target(&mut blocks, dst, &target_blocks, target_head, opts);
    among_copied(&mut blocks);
    retention(&mut blocks, &target_blocks, opts, &mut notices);
    size_retention(&mut blocks, dst, &target_blocks, opts, &mut notices);
    let mut leftovers = Vec::new();
    // Leftovers of an earlier run for blocks we are about to copy.
    if let Some(l) = &dst_layout {
        for t in &l.tmp_dirs {
            let name = t
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if let Some(u) = name.strip_suffix(TMP_SUFFIX)
                && blocks
                    .iter()
                    .any(|b| b.ulid == u && b.action == Action::Copy)
            {
                notices.push(Reason::new(
                    "leftover",
                    format!("{name}: an unfinished copy; it is removed and the block copied again"),
                ));
                leftovers.push(t.clone());
            }
        }
    }

    // Link or copy; free space.
    let same_fs = fsops::device_of(src).is_some() && fsops::device_of(src) == fsops::device_of(dst);
    let link = opts.link && same_fs;
    if opts.link && !same_fs {
        notices.push(Reason::new(
            "link_fallback",
            "--link: the source and the target are on different filesystems; copying instead",
        ));
    }
    let free_bytes = fsops::free_space(dst);
    let plan = CopyPlan {
        src: src.to_path_buf(),
        src_kind: src_layout.kind,
        dst: dst.to_path_buf(),
        dst_exists,
        blocks,
        target_blocks,
        target_head,
        leftovers,
        notices,
        excluded,
        free_bytes,
        link,
    };
    let need = if link { 0 } else { plan.bytes_to_copy() };
    if let Some(free) = free_bytes
        && need > free
    {
        return Err(Error::Usage(format!(
            "{}: not enough free space: {need} bytes to copy, {free} bytes available; nothing was written",
            dst.display()
        )));
    }
    Ok(plan)
}

/// The target must be a directory (or creatable as one) and writable, and
/// not a block directory.
fn check_target_path(dst: &Path) -> Result<(bool, Option<Layout>)> {
    // The target: a data directory, created if missing.
    let dst_exists = match std::fs::metadata(dst) {
        Ok(m) if m.is_dir() => true,
        Ok(_) => {
            return Err(Error::Usage(format!(
                "{}: exists and is not a directory (the target must be a Prometheus data directory)",
                dst.display()
            )));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(e) if e.raw_os_error() == Some(libc::ENOTDIR) => {
            return Err(Error::Usage(format!(
                "{}: cannot be created: a parent is not a directory",
                dst.display()
            )));
        }
        Err(e) => return Err(Error::io(dst, e)),
    };
    let dst_layout = if dst_exists {
        let l = layout::scan(dst)?;
        if l.kind == DirKind::Block {
            return Err(Error::Usage(format!(
                "{}: is a block directory; the target must be a Prometheus data directory",
                dst.display()
            )));
        }
        Some(l)
    } else {
        // Its nearest existing ancestor must be a directory.
        let mut p = dst.parent();
        while let Some(a) = p {
            if a.as_os_str().is_empty() || a.exists() {
                break;
            }
            p = a.parent();
        }
        if let Some(a) = p.filter(|a| !a.as_os_str().is_empty())
            && !a.is_dir()
        {
            return Err(Error::Usage(format!(
                "{}: cannot be created: {} is not a directory",
                dst.display(),
                a.display()
            )));
        }
        None
    };

    if let Some(p) = nearest_existing(dst)
        && !writable(&p)
    {
        return Err(Error::Usage(format!(
            "{}: not writable (permission denied on {}); nothing was written",
            dst.display(),
            p.display()
        )));
    }

    Ok((dst_exists, dst_layout))
}

/// The source blocks selected by `--block`, `--min-time`, `--max-time`,
/// sorted by minTime, each with its files; unreadable ones refused.
fn select(
    src: &Path,
    src_layout: &Layout,
    opts: &CopyOptions,
) -> Result<(Vec<PlannedBlock>, usize)> {
    for want in &opts.blocks {
        if !src_layout
            .blocks
            .iter()
            .any(|b| b.file_name().and_then(|n| n.to_str()) == Some(want))
        {
            return Err(Error::Usage(format!(
                "--block {want}: no such block in {}",
                src.display()
            )));
        }
    }
    let mut blocks = Vec::new();
    let mut excluded = 0;
    for dir in &src_layout.blocks {
        let ulid = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !opts.blocks.is_empty() && !opts.blocks.contains(&ulid) {
            excluded += 1;
            continue;
        }
        let meta = crate::block::read_meta(dir);
        if let Ok(m) = &meta {
            let lo = opts.min_time.unwrap_or(i64::MIN);
            let hi = opts.max_time.unwrap_or(i64::MAX);
            if m.max_time <= lo || m.min_time > hi {
                excluded += 1;
                continue;
            }
        }
        let mut pb = PlannedBlock {
            ulid: ulid.clone(),
            src: dir.clone(),
            meta: None,
            files: Vec::new(),
            bytes: 0,
            action: Action::Copy,
            reasons: Vec::new(),
            warnings: Vec::new(),
            verified: false,
        };
        match meta {
            Ok(m) => pb.meta = Some(m),
            Err(e) => pb.refuse(Reason::new(
                "unreadable",
                format!("meta.json unreadable: {e}"),
            )),
        }
        match block_files(dir) {
            Ok(f) => {
                pb.bytes = f.iter().map(|f| f.size).sum();
                pb.files = f;
            }
            Err(e) => pb.refuse(Reason::new("unreadable", e.to_string())),
        }
        if let Some(m) = &pb.meta
            && m.ulid != ulid
        {
            pb.refuse(Reason::new(
                "ulid_mismatch",
                format!(
                    "meta.json says ulid {} but the directory is {ulid}; Prometheus keys blocks by meta.json",
                    m.ulid
                ),
            ));
        }
        blocks.push(pb);
    }
    blocks.sort_by_key(|b| {
        (
            b.meta.as_ref().map_or(i64::MIN, |m| m.min_time),
            b.ulid.clone(),
        )
    });

    Ok((blocks, excluded))
}

/// The target's blocks, its head range, and whether something runs on it.
fn scan_target(
    dst: &Path,
    l: &Layout,
    notices: &mut Vec<Reason>,
) -> (Vec<TargetBlock>, Option<HeadRange>) {
    let mut target_blocks = Vec::new();
    for d in &l.blocks {
        let ulid = d
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let meta = crate::block::read_meta(d).ok();
        if meta.is_none() {
            notices.push(Reason::new(
                "unreadable",
                format!(
                    "target block {ulid} has no readable meta.json; hazards against it cannot \
                     be checked"
                ),
            ));
        }
        target_blocks.push(TargetBlock { ulid, meta });
    }
    // Prometheus replays no WAL sample older than its newest block's
    // maxTime (the head's minValidTime): only the rest is the head.
    let newest_dst = target_blocks
        .iter()
        .filter_map(|t| t.meta.as_ref().map(|m| m.max_time))
        .max();
    let target_head = head::head_range(dst).and_then(|mut h| {
        if let Some(n) = newest_dst {
            h.min_time = h.min_time.max(n);
        }
        (h.min_time <= h.max_time).then_some(h)
    });
    if let Some(h) = target_head {
        notices.push(Reason::new(
            "target_head",
            format!(
                "the target has a head (wal/, chunks_head/) with samples from {} to {}",
                ts(h.min_time),
                ts(h.max_time)
            ),
        ));
    }
    let users = fsops::processes_using(dst);
    let how = if fsops::lock_is_held(&dst.join("lock")) {
        Some("holds the target's lock file".to_string())
    } else if !users.is_empty() {
        let who: Vec<String> = users
            .iter()
            .map(|(p, n)| format!("{n} (pid {p})"))
            .collect();
        Some(format!("has files of the target open: {}", who.join(", ")))
    } else {
        None
    };
    if let Some(how) = how {
        notices.push(Reason::new(
            "prometheus_running",
            format!(
                "a running process {how}, presumably Prometheus: copied blocks appear at its next \
                 block reload (within about a minute), not at once, and the hazards are checked \
                 against what is on disk now"
            ),
        ));
    }

    (target_blocks, target_head)
}

/// Hazards of each block against what the target holds: same ULID,
/// `deletable`, parents, overlap with blocks and with the head.
fn against_target(
    blocks: &mut [PlannedBlock],
    dst: &Path,
    target_blocks: &[TargetBlock],
    target_head: Option<HeadRange>,
    opts: &CopyOptions,
) {
    let by_ulid: BTreeMap<&str, &TargetBlock> =
        target_blocks.iter().map(|t| (t.ulid.as_str(), t)).collect();
    for b in blocks.iter_mut() {
        if b.action == Action::Refuse {
            continue;
        }
        let Some(m) = b.meta.clone() else { continue };
        if let Some(t) = by_ulid.get(b.ulid.as_str()) {
            match same_content(&b.src, &dst.join(&b.ulid), &b.files) {
                Ok(None) => {
                    b.action = Action::Skip;
                    b.reasons.push(Reason::new(
                        "identical",
                        "already in the target with identical files (names, sizes, bytes)",
                    ));
                }
                Ok(Some(diff)) => b.refuse(Reason::new(
                    "ulid_conflict",
                    format!(
                        "the target already has a block {} with different content ({diff}); existing blocks are never overwritten",
                        t.ulid
                    ),
                )),
                Err(e) => b.refuse(Reason::new(
                    "ulid_conflict",
                    format!("the target already has a block {}, unreadable: {e}", t.ulid),
                )),
            }
            continue;
        }
        if m.compaction.deletable {
            b.refuse(Reason::new(
                "deletable",
                "meta.json marks the block deletable: Prometheus deletes it at its next reload",
            ));
        }
        // Parents: Prometheus deletes every block named as a parent of a loaded block.
        let parents_in_dst: Vec<&str> = m
            .compaction
            .parents
            .iter()
            .filter(|p| by_ulid.contains_key(p.ulid.as_str()))
            .map(|p| p.ulid.as_str())
            .collect();
        if !parents_in_dst.is_empty() {
            b.refuse(Reason::new(
                "deletes_dst_blocks",
                format!(
                    "its compaction.parents name target blocks {}: Prometheus would delete them when it loads this block",
                    parents_in_dst.join(", ")
                ),
            ));
        }
        let killers: Vec<&str> = target_blocks
            .iter()
            .filter(|t| {
                t.meta
                    .as_ref()
                    .is_some_and(|tm| tm.compaction.parents.iter().any(|p| p.ulid == b.ulid))
            })
            .map(|t| t.ulid.as_str())
            .collect();
        if !killers.is_empty() {
            b.refuse(Reason::new(
                "deleted_by_dst",
                format!(
                    "target blocks {} name it as a compaction parent: Prometheus would delete it at once",
                    killers.join(", ")
                ),
            ));
        }
        // Time overlap with target blocks.
        for t in target_blocks {
            let Some(tm) = &t.meta else { continue };
            if !overlaps((m.min_time, m.max_time), (tm.min_time, tm.max_time)) {
                continue;
            }
            let shared: BTreeSet<&String> = m
                .compaction
                .sources
                .iter()
                .filter(|s| tm.compaction.sources.contains(s))
                .collect();
            let dup = if shared.is_empty() {
                String::new()
            } else {
                format!(
                    "; both were compacted from the same source blocks ({}), so the samples are duplicates",
                    shared.into_iter().cloned().collect::<Vec<_>>().join(", ")
                )
            };
            let msg = format!(
                "[{}, {}) overlaps target block {} [{}, {}): Prometheus will merge the two by vertical compaction{dup}",
                ts(m.min_time),
                ts(m.max_time),
                t.ulid,
                ts(tm.min_time),
                ts(tm.max_time)
            );
            if opts.allow_overlap {
                b.warnings.push(Reason::new("overlap_allowed", msg));
            } else {
                b.refuse(Reason::new(
                    "overlap",
                    format!("{msg}; pass --allow-overlap to copy it anyway"),
                ));
            }
        }
        // The target's head: Prometheus replays no WAL sample older than the
        // newest block's maxTime, and rejects appends below it.
        if let Some(h) = target_head
            && m.max_time > h.min_time
        {
            let msg = format!(
                "[{}, {}) reaches into the target head's samples ({} .. {}): at its next start Prometheus drops WAL samples older than the newest block's maxTime and rejects appends below it",
                ts(m.min_time),
                ts(m.max_time),
                ts(h.min_time),
                ts(h.max_time)
            );
            if opts.allow_overlap {
                b.warnings.push(Reason::new("head_overlap_allowed", msg));
            } else {
                b.refuse(Reason::new(
                    "head_overlap",
                    format!("{msg}; pass --allow-overlap to copy it anyway"),
                ));
            }
        }
    }
}

/// Hazards among the blocks to copy: one naming another as a parent, overlaps.
fn among_copied(blocks: &mut [PlannedBlock]) {
    let copy_ix: Vec<usize> = (0..blocks.len())
        .filter(|&i| blocks[i].action == Action::Copy)
        .collect();
    let mut parent_of: BTreeMap<String, String> = BTreeMap::new();
    for &i in &copy_ix {
        if let Some(m) = &blocks[i].meta {
            for p in &m.compaction.parents {
                parent_of.insert(p.ulid.clone(), blocks[i].ulid.clone());
            }
        }
    }
    for &i in &copy_ix {
        if let Some(child) = parent_of.get(&blocks[i].ulid) {
            let msg = format!(
                "block {child}, also copied, names it as a compaction parent: Prometheus would delete it at once"
            );
            blocks[i].refuse(Reason::new("deleted_as_parent", msg));
        }
    }
    for a in 0..copy_ix.len() {
        for c in a + 1..copy_ix.len() {
            let (i, j) = (copy_ix[a], copy_ix[c]);
            let (Some(mi), Some(mj)) = (&blocks[i].meta, &blocks[j].meta) else {
                continue;
            };
            if overlaps((mi.min_time, mi.max_time), (mj.min_time, mj.max_time)) {
                let msg = format!(
                    "overlaps {} from the same source: Prometheus will merge them by vertical compaction",
                    blocks[j].ulid
                );
                blocks[i].warnings.push(Reason::new("source_overlap", msg));
            }
        }
    }
}

/// One block as Prometheus' retention sees it.
#[derive(Debug, Clone, Copy)]
struct Retained {
    max_time: i64,
    /// Bytes Prometheus counts for the block ([`prometheus_block_size`]).
    bytes: u64,
    /// A block this run copies (else one already in the target).
    copied: bool,
}

/// The order Prometheus' retention walks blocks in: newest maxTime first.
/// Prometheus' sort leaves blocks with equal maxTime in no defined order;
/// here copied blocks come after target blocks among them, so that a copied
/// block Prometheus might delete is flagged.
fn newest_first(blocks: &[Retained]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..blocks.len()).collect();
    order.sort_by_key(|&i| {
        blocks
            .get(i)
            .map(|b| (std::cmp::Reverse(b.max_time), b.copied))
    });
    order
}

/// Prometheus' time retention (`BeyondTimeRetention`, tsdb/db.go): with the
/// blocks sorted newest maxTime first, the first block whose maxTime is
/// `retention` or more (`>=`, Prometheus 2.52 and later; before 2.52 strictly
/// more) older than the newest block's is deleted, and every block after it.
/// The newest block itself is never deleted. `retention <= 0`: none.
/// Returns, per block of `blocks`, whether it is deleted.
fn beyond_time_retention(blocks: &[Retained], retention: i64) -> Vec<bool> {
    let mut deleted = vec![false; blocks.len()];
    if retention <= 0 {
        return deleted;
    }
    let order = newest_first(blocks);
    let Some(newest) = order.first().and_then(|&i| blocks.get(i)) else {
        return deleted;
    };
    let newest = newest.max_time;
    let first = order.iter().enumerate().skip(1).find(|&(_, &i)| {
        blocks
            .get(i)
            .is_some_and(|b| newest.saturating_sub(b.max_time) >= retention)
    });
    if let Some((k, _)) = first {
        for &i in order.iter().skip(k) {
            if let Some(d) = deleted.get_mut(i) {
                *d = true;
            }
        }
    }
    deleted
}

/// Prometheus' size retention (`BeyondSizeRetention`, tsdb/db.go): starting
/// from the head's bytes (`wal/`, `wbl/`, `chunks_head/`), the blocks are
/// added newest maxTime first; the first block that brings the total over
/// `max_bytes` (strictly: a total equal to it is kept) is deleted, and every
/// block after it — the newest block included, if it alone exceeds the
/// budget. `max_bytes == 0`: none. Returns, per block, `Some(total)` (the
/// running total including it) if it is deleted.
fn beyond_size_retention(blocks: &[Retained], head_bytes: u64, max_bytes: u64) -> Vec<Option<u64>> {
    let mut deleted = vec![None; blocks.len()];
    if max_bytes == 0 {
        return deleted;
    }
    let mut total = head_bytes;
    let mut over = false;
    for i in newest_first(blocks) {
        let Some(b) = blocks.get(i) else { continue };
        total = total.saturating_add(b.bytes);
        over = over || total > max_bytes;
        if over && let Some(d) = deleted.get_mut(i) {
            *d = Some(total);
        }
    }
    deleted
}

/// The bytes Prometheus counts as a block's size: its index, tombstones,
/// meta.json and chunk segment files (the files of `chunks/` named by a
/// decimal number); other files do not count.
fn prometheus_block_size(files: &[BlockFile]) -> u64 {
    files
        .iter()
        .filter(|f| {
            let name = f.rel.file_name().and_then(|n| n.to_str()).unwrap_or("");
            match f.rel.parent().and_then(|p| p.to_str()) {
                Some("") => matches!(name, "index" | "tombstones" | "meta.json"),
                Some("chunks") => is_chunk_segment_name(name),
                _ => false,
            }
        })
        .map(|f| f.size)
        .fold(0u64, u64::saturating_add)
}

/// A chunk segment file name: a decimal number (`strconv.ParseUint` in
/// Prometheus: digits only, no sign, fits 64 bits).
fn is_chunk_segment_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|c| c.is_ascii_digit()) && name.parse::<u64>().is_ok()
}

/// The target blocks Prometheus loads (those with a readable meta.json) and
/// the blocks still to be copied, for the retention rules; the second value
/// maps each entry back: `Ok(target index)` or `Err(copied block index)`.
/// Target blocks come first, in the same positions whatever `blocks` holds.
fn retained(
    blocks: &[PlannedBlock],
    target_blocks: &[TargetBlock],
    target_bytes: &[u64],
) -> (Vec<Retained>, Vec<std::result::Result<usize, usize>>) {
    let mut out = Vec::new();
    let mut from = Vec::new();
    for (i, t) in target_blocks.iter().enumerate() {
        let Some(m) = &t.meta else { continue };
        out.push(Retained {
            max_time: m.max_time,
            bytes: target_bytes.get(i).copied().unwrap_or(0),
            copied: false,
        });
        from.push(Ok(i));
    }
    for (i, b) in blocks.iter().enumerate() {
        if b.action != Action::Copy {
            continue;
        }
        let Some(m) = &b.meta else { continue };
        out.push(Retained {
            max_time: m.max_time,
            bytes: prometheus_block_size(&b.files),
            copied: true,
        });
        from.push(Err(i));
    }
    (out, from)
}

/// Time retention relative to the newest block (Prometheus' rule, see
/// [`beyond_time_retention`]): copied blocks deleted at once are refused;
/// target blocks pushed out are noticed.
fn retention(
    blocks: &mut [PlannedBlock],
    target_blocks: &[TargetBlock],
    opts: &CopyOptions,
    notices: &mut Vec<Reason>,
) {
    // Prometheus applies its default time retention only when neither
    // retention flag is set.
    let size_set = opts.retention_size.is_some_and(|b| b > 0);
    let retention = match opts.retention {
        Some(r) => r,
        None if size_set => return,
        None => {
            notices.push(Reason::new(
                "retention_default",
                "retention checked against Prometheus' default of 15d; pass --retention with the target's --storage.tsdb.retention.time",
            ));
            DEFAULT_RETENTION_MS
        }
    };
    if retention <= 0 {
        return;
    }
    let (all, from) = retained(blocks, target_blocks, &[]);
    let deleted = beyond_time_retention(&all, retention);
    let newest = all.iter().map(|r| r.max_time).max().unwrap_or(i64::MIN);
    for (k, src) in from.iter().enumerate() {
        let (Err(i), Some(true)) = (src, deleted.get(k)) else {
            continue;
        };
        let Some(b) = blocks.get_mut(*i) else {
            continue;
        };
        let Some(max_time) = b.meta.as_ref().map(|m| m.max_time) else {
            continue;
        };
        let age = newest.saturating_sub(max_time);
        let how = if age == retention {
            "exactly"
        } else {
            "more than"
        };
        let mut msg = format!(
            "maxTime {} is {how} the retention of {} older than the newest block's maxTime {}: Prometheus deletes it at once",
            ts(max_time),
            crate::gofmt::duration_ms(retention),
            ts(newest)
        );
        if age == retention {
            msg.push_str(
                " (Prometheus 2.52 and later delete a block exactly at the limit; earlier versions keep it)",
            );
        }
        b.refuse(Reason::new("retention", msg));
    }
    // Target blocks pushed out by the blocks still copied.
    let (before, _) = retained(&[], target_blocks, &[]);
    let deleted_before = beyond_time_retention(&before, retention);
    let (after, from) = retained(blocks, target_blocks, &[]);
    let deleted_after = beyond_time_retention(&after, retention);
    for (k, src) in from.iter().enumerate() {
        let Ok(ti) = src else { continue };
        let was = deleted_before.get(k).copied().unwrap_or(false);
        if was || !deleted_after.get(k).copied().unwrap_or(false) {
            continue;
        }
        let Some(t) = target_blocks.get(*ti) else {
            continue;
        };
        let Some(tm) = &t.meta else { continue };
        notices.push(Reason::new(
            "dst_retention",
            format!(
                "target block {} (maxTime {}) falls out of the retention of {} once the copied blocks are loaded: Prometheus will delete it",
                t.ulid,
                ts(tm.max_time),
                crate::gofmt::duration_ms(retention)
            ),
        ));
    }
}

/// Size retention (Prometheus' rule, see [`beyond_size_retention`]) with
/// `--retention-size`: copied blocks deleted at once are refused; target
/// blocks pushed out are noticed. The target's head is counted as it is on
/// disk now (it grows while Prometheus runs).
fn size_retention(
    blocks: &mut [PlannedBlock],
    dst: &Path,
    target_blocks: &[TargetBlock],
    opts: &CopyOptions,
    notices: &mut Vec<Reason>,
) {
    let Some(max_bytes) = opts.retention_size.filter(|&b| b > 0) else {
        return;
    };
    let head_bytes = ["wal", "wbl", "chunks_head"]
        .iter()
        .map(|d| crate::fileutil::dir_size(&dst.join(d)))
        .fold(0u64, u64::saturating_add);
    let target_bytes: Vec<u64> = target_blocks
        .iter()
        .map(|t| {
            if t.meta.is_none() {
                return 0;
            }
            match block_files(&dst.join(&t.ulid)) {
                Ok(f) => prometheus_block_size(&f),
                Err(e) => {
                    notices.push(Reason::new(
                        "unreadable",
                        format!(
                            "target block {}: its size cannot be read ({e}); size retention counts it as 0 bytes",
                            t.ulid
                        ),
                    ));
                    0
                }
            }
        })
        .collect();
    let size = |n: u64| crate::gofmt::base2_bytes(i64::try_from(n).unwrap_or(i64::MAX));
    let (all, from) = retained(blocks, target_blocks, &target_bytes);
    let deleted = beyond_size_retention(&all, head_bytes, max_bytes);
    for (k, src) in from.iter().enumerate() {
        let (Err(i), Some(Some(total))) = (src, deleted.get(k)) else {
            continue;
        };
        let Some(b) = blocks.get_mut(*i) else {
            continue;
        };
        let msg = format!(
            "the target's head ({} in wal/, wbl/, chunks_head/) and the blocks, the target's and the copied, from the newest down to this one (maxTime {}) take {}, more than the size retention of {}: Prometheus deletes it at once",
            size(head_bytes),
            b.meta
                .as_ref()
                .map_or_else(|| "?".to_string(), |m| ts(m.max_time)),
            size(*total),
            size(max_bytes)
        );
        b.refuse(Reason::new("size_retention", msg));
    }
    // Target blocks pushed out by the blocks still copied.
    let (before, _) = retained(&[], target_blocks, &target_bytes);
    let deleted_before = beyond_size_retention(&before, head_bytes, max_bytes);
    let (after, from) = retained(blocks, target_blocks, &target_bytes);
    let deleted_after = beyond_size_retention(&after, head_bytes, max_bytes);
    for (k, src) in from.iter().enumerate() {
        let Ok(ti) = src else { continue };
        let was = deleted_before.get(k).copied().flatten().is_some();
        if was || deleted_after.get(k).copied().flatten().is_none() {
            continue;
        }
        let Some(t) = target_blocks.get(*ti) else {
            continue;
        };
        notices.push(Reason::new(
            "dst_size_retention",
            format!(
                "target block {} ({}) falls beyond the size retention of {} once the copied blocks are loaded: Prometheus will delete it",
                t.ulid,
                size(target_bytes.get(*ti).copied().unwrap_or(0)),
                size(max_bytes)
            ),
        ));
    }
}

fn nearest_existing(p: &Path) -> Option<PathBuf> {
    let mut p = p;
    loop {
        if p.as_os_str().is_empty() {
            return Some(PathBuf::from("."));
        }
        if p.exists() {
            return Some(p.to_path_buf());
        }
        p = p.parent()?;
    }
}

fn writable(p: &Path) -> bool {
    crate::fileutil::is_writable(p)
}

/// `None` if `dst` holds exactly the files of `src` (`files`) with the same
/// sizes and bytes; else a short description of the first difference.
fn same_content(
    src: &Path,
    dst: &Path,
    files: &[BlockFile],
) -> std::result::Result<Option<String>, Error> {
    let theirs = block_files(dst)?;
    let mine: BTreeMap<&Path, u64> = files.iter().map(|f| (f.rel.as_path(), f.size)).collect();
    let other: BTreeMap<&Path, u64> = theirs.iter().map(|f| (f.rel.as_path(), f.size)).collect();
    if mine.keys().ne(other.keys()) {
        return Ok(Some("different file list".into()));
    }
    for (rel, size) in &mine {
        if other.get(rel) != Some(size) {
            return Ok(Some(format!("{} differs in size", rel.display())));
        }
    }
    let diff = files
        .par_iter()
        .map(|f| -> std::result::Result<Option<String>, Error> {
            let (a, b) = (src.join(&f.rel), dst.join(&f.rel));
            if same_inode(&a, &b) {
                return Ok(None);
            }
            let at = fsops::first_difference(&a, &b).map_err(|e| Error::io(&b, e))?;
            Ok(at.map(|at| {
                format!(
                    "{} differs in content (first at byte {at})",
                    f.rel.display()
                )
            }))
        })
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(diff.into_iter().flatten().next())
}

fn same_inode(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::meta::BlockMeta;

    const H: i64 = 3_600_000;

    fn r(max_time: i64, bytes: u64, copied: bool) -> Retained {
        Retained {
            max_time,
            bytes,
            copied,
        }
    }

    fn meta(ulid: &str, min_time: i64, max_time: i64) -> BlockMeta {
        BlockMeta {
            ulid: ulid.into(),
            min_time,
            max_time,
            stats: Default::default(),
            compaction: Default::default(),
            version: 1,
        }
    }

    fn planned(ulid: &str, min_time: i64, max_time: i64, bytes: u64) -> PlannedBlock {
        PlannedBlock {
            ulid: ulid.into(),
            src: PathBuf::from(ulid),
            meta: Some(meta(ulid, min_time, max_time)),
            files: vec![
                BlockFile {
                    rel: PathBuf::from("chunks/000001"),
                    size: bytes,
                },
                BlockFile {
                    rel: PathBuf::from("meta.json"),
                    size: 0,
                },
            ],
            bytes,
            action: Action::Copy,
            reasons: Vec::new(),
            warnings: Vec::new(),
            verified: false,
        }
    }

    fn target(ulid: &str, min_time: i64, max_time: i64) -> TargetBlock {
        TargetBlock {
            ulid: ulid.into(),
            meta: Some(meta(ulid, min_time, max_time)),
        }
    }

    fn codes(b: &PlannedBlock) -> Vec<&'static str> {
        b.reasons.iter().map(|r| r.code).collect()
    }

    #[test]
    fn time_retention_boundary_is_inclusive_like_prometheus() {
        // Newest maxTime 100h, retention 10h: a block whose maxTime is
        // exactly 10h older is deleted (>=, Prometheus >= 2.52), one 1 ms
        // younger is kept.
        let blocks = [
            r(100 * H, 1, false),
            r(90 * H, 1, true),
            r(90 * H + 1, 1, true),
            r(50 * H, 1, false),
        ];
        assert_eq!(
            beyond_time_retention(&blocks, 10 * H),
            [false, true, false, true]
        );
        // 1 ms more retention keeps the boundary block.
        assert_eq!(
            beyond_time_retention(&blocks, 10 * H + 1),
            [false, false, false, true]
        );
        // No retention, no blocks.
        assert_eq!(beyond_time_retention(&blocks, 0), [false; 4]);
        assert!(beyond_time_retention(&[], 10 * H).is_empty());
    }

    #[test]
    fn the_newest_block_is_never_deleted_by_time() {
        // Equal newest maxTimes: none of them is older than the newest.
        let blocks = [r(5, 1, true), r(5, 1, false), r(4, 1, true)];
        assert_eq!(beyond_time_retention(&blocks, 1), [false, false, true]);
        // Extreme maxTimes do not overflow.
        let blocks = [r(i64::MAX, 1, false), r(i64::MIN, 1, true)];
        assert_eq!(beyond_time_retention(&blocks, H), [false, true]);
    }

    #[test]
    fn size_retention_counts_the_head_then_blocks_newest_first() {
        // Head 10 bytes; newest first: 40 (total 50), 30 (80), 20 (100), 5 (105).
        let blocks = [
            r(2 * H, 30, true),
            r(4 * H, 40, false),
            r(H, 20, false),
            r(0, 5, true),
        ];
        // A total equal to the limit is kept (>, not >=).
        assert_eq!(
            beyond_size_retention(&blocks, 10, 100),
            [None, None, None, Some(105)]
        );
        // One byte less: the 20-byte block brings the total over, it and
        // every older block go.
        assert_eq!(
            beyond_size_retention(&blocks, 10, 99),
            [None, None, Some(100), Some(105)]
        );
        // Once over, older blocks go even if they alone would fit.
        let blocks = [r(3, 50, false), r(2, 1000, false), r(1, 1, true)];
        assert_eq!(
            beyond_size_retention(&blocks, 0, 100),
            [None, Some(1050), Some(1051)]
        );
        // The newest block too, when the head and it exceed the limit.
        assert_eq!(
            beyond_size_retention(&[r(9, 60, true)], 50, 100),
            [Some(110)]
        );
        // No limit.
        assert_eq!(beyond_size_retention(&blocks, 10, 0), [None; 3]);
        // Saturating, never overflowing.
        assert_eq!(
            beyond_size_retention(&[r(1, u64::MAX, true)], u64::MAX, u64::MAX - 1),
            [Some(u64::MAX)]
        );
    }

    #[test]
    fn size_retention_ties_put_copied_blocks_last() {
        // Same maxTime: Prometheus' order is undefined; the copied block is
        // counted after the target block, so it is the one flagged.
        let blocks = [r(7, 60, true), r(7, 60, false)];
        assert_eq!(beyond_size_retention(&blocks, 0, 100), [Some(120), None]);
    }

    #[test]
    fn block_size_counts_what_prometheus_counts() {
        let f = |rel: &str, size| BlockFile {
            rel: PathBuf::from(rel),
            size,
        };
        let files = [
            f("chunks/000001", 1000),
            f("chunks/000002", 200),
            f("chunks/+3", 7),
            f("chunks/notes", 7),
            f("index", 30),
            f("tombstones", 4),
            f("extra.txt", 7),
            f("sub/index", 7),
            f("meta.json", 5),
        ];
        assert_eq!(prometheus_block_size(&files), 1239);
        assert!(is_chunk_segment_name("000001"));
        assert!(!is_chunk_segment_name("99999999999999999999999"));
        assert!(!is_chunk_segment_name(""));
    }

    #[test]
    fn retention_refuses_copied_blocks_at_the_exact_boundary() {
        let opts = CopyOptions {
            retention: Some(10 * H),
            ..CopyOptions::default()
        };
        let mut blocks = vec![
            planned("AT_LIMIT", 88 * H, 90 * H, 1),
            planned("INSIDE", 88 * H, 90 * H + 1, 1),
            planned("NEWEST", 98 * H, 100 * H, 1),
        ];
        let mut notices = Vec::new();
        retention(&mut blocks, &[], &opts, &mut notices);
        assert!(notices.is_empty(), "{notices:?}");
        assert_eq!(codes(&blocks[0]), ["retention"]);
        let msg = &blocks[0].reasons[0].message;
        assert!(msg.contains("exactly") && msg.contains("2.52"), "{msg}");
        assert!(codes(&blocks[1]).is_empty());
        assert!(codes(&blocks[2]).is_empty());
        // A target block newer than everything copied sets the reference.
        let mut blocks = vec![planned("OLD", 0, 95 * H, 1)];
        let t = [target("T", 104 * H, 105 * H)];
        retention(&mut blocks, &t, &opts, &mut notices);
        assert_eq!(codes(&blocks[0]), ["retention"]);
        // A copied block newer than the target pushes target blocks out.
        let mut blocks = vec![planned("NEW", 118 * H, 120 * H, 1)];
        let mut notices = Vec::new();
        retention(&mut blocks, &t, &opts, &mut notices);
        assert!(codes(&blocks[0]).is_empty());
        assert_eq!(notices.len(), 1);
        assert_eq!(notices[0].code, "dst_retention");
        // Exactly at the boundary, the target block is pushed out too.
        let mut blocks = vec![planned("NEW", 114 * H, 115 * H, 1)];
        let mut notices = Vec::new();
        retention(&mut blocks, &t, &opts, &mut notices);
        assert_eq!(notices.len(), 1, "{notices:?}");
        let mut blocks = vec![planned("NEW", 114 * H, 115 * H - 1, 1)];
        let mut notices = Vec::new();
        retention(&mut blocks, &t, &opts, &mut notices);
        assert!(notices.is_empty(), "{notices:?}");
    }

    #[test]
    fn default_time_retention_only_without_a_size_retention() {
        let old = || {
            vec![
                planned("OLD", 0, H, 1),
                planned("NEW", 999 * H, 1000 * H, 1),
            ]
        };
        let mut blocks = old();
        let mut notices = Vec::new();
        retention(&mut blocks, &[], &CopyOptions::default(), &mut notices);
        assert_eq!(codes(&blocks[0]), ["retention"]);
        assert_eq!(notices[0].code, "retention_default");
        // With a size retention and no time retention, Prometheus applies
        // no time retention.
        let opts = CopyOptions {
            retention_size: Some(1 << 30),
            ..CopyOptions::default()
        };
        let mut blocks = old();
        let mut notices = Vec::new();
        retention(&mut blocks, &[], &opts, &mut notices);
        assert!(codes(&blocks[0]).is_empty());
        assert!(notices.is_empty());
        // A size of 0 is no size retention: the default applies again.
        let opts = CopyOptions {
            retention_size: Some(0),
            ..CopyOptions::default()
        };
        let mut blocks = old();
        retention(&mut blocks, &[], &opts, &mut notices);
        assert_eq!(codes(&blocks[0]), ["retention"]);
    }

    #[test]
    fn size_retention_refuses_copied_blocks_and_notices_pushed_out_targets() {
        let tmp = tempfile::tempdir().unwrap();
        let dst = tmp.path();
        // Target: one block of 300 bytes (files on disk), a head of 100 bytes.
        let tdir = dst.join("T");
        std::fs::create_dir_all(tdir.join("chunks")).unwrap();
        std::fs::write(tdir.join("chunks/000001"), vec![0u8; 290]).unwrap();
        std::fs::write(tdir.join("meta.json"), vec![b' '; 10]).unwrap();
        std::fs::create_dir_all(dst.join("wal/checkpoint.00000001")).unwrap();
        std::fs::write(dst.join("wal/00000002"), vec![0u8; 60]).unwrap();
        std::fs::write(dst.join("wal/checkpoint.00000001/00000000"), vec![0u8; 20]).unwrap();
        std::fs::create_dir_all(dst.join("chunks_head")).unwrap();
        std::fs::write(dst.join("chunks_head/000001"), vec![0u8; 20]).unwrap();
        let t = [target("T", 0, 10 * H)];
        let opts = |max| CopyOptions {
            retention_size: Some(max),
            ..CopyOptions::default()
        };
        // Newest first: NEW 500 (head 100 → 600), T 300 (900), OLD 200 (1100).
        let blocks = || {
            vec![
                planned("OLD", 0, 5 * H, 200),
                planned("NEW", 10 * H, 20 * H, 500),
            ]
        };
        // Everything fits exactly.
        let mut b = blocks();
        let mut notices = Vec::new();
        size_retention(&mut b, dst, &t, &opts(1100), &mut notices);
        assert!(b.iter().all(|b| b.action == Action::Copy));
        assert!(notices.is_empty(), "{notices:?}");
        // One byte less: OLD is deleted at once.
        let mut b = blocks();
        size_retention(&mut b, dst, &t, &opts(1099), &mut notices);
        assert_eq!(codes(&b[0]), ["size_retention"]);
        let msg = &b[0].reasons[0].message;
        assert!(msg.contains("100B") && msg.contains("1KiB76B"), "{msg}");
        assert!(codes(&b[1]).is_empty());
        assert!(notices.is_empty(), "{notices:?}");
        // 899: the target block is pushed out by NEW (it fitted before).
        let mut b = blocks();
        size_retention(&mut b, dst, &t, &opts(899), &mut notices);
        assert_eq!(codes(&b[0]), ["size_retention"]);
        assert!(codes(&b[1]).is_empty());
        assert_eq!(notices.len(), 1);
        assert_eq!(notices[0].code, "dst_size_retention");
        // 599: even the newest block goes.
        let mut b = blocks();
        let mut notices = Vec::new();
        size_retention(&mut b, dst, &t, &opts(599), &mut notices);
        assert_eq!(codes(&b[0]), ["size_retention"]);
        assert_eq!(codes(&b[1]), ["size_retention"]);
        // Nothing is copied, so the target block is as it was (deleted by
        // Prometheus anyway: 400 > 399 is not our doing).
        assert!(notices.is_empty(), "{notices:?}");
        // No size retention: nothing happens.
        let mut b = blocks();
        size_retention(&mut b, dst, &t, &CopyOptions::default(), &mut notices);
        assert!(b.iter().all(|b| b.action == Action::Copy));
    }
}
