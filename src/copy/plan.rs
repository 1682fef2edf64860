//! [`plan`]: what `copy` will do, decided from what is on disk before
//! anything is written. Every hazard of dropping blocks into a Prometheus
//! data directory is checked here (the facts are Prometheus' own rules, see
//! docs/FORMAT.md §1.3 and §8: parents deletion, `deletable`, time retention
//! relative to the newest block, size retention counted newest block first,
//! the head's `minValidTime`, vertical compaction of overlapping blocks).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::retention::{retention, size_retention};
use super::{
    Action, BlockFile, CopyOptions, CopyPlan, HeadRange, PlannedBlock, Reason, TargetBlock,
    block_files, fsops, head,
};
use crate::check::FindingCode;
use crate::error::{Error, Result};
use crate::format::meta::BlockMeta;
use crate::layout::{self, DirKind, Layout};

mod notices;
use notices::{LINK_FALLBACK, leftovers, source_notices};

fn overlaps(a: (i64, i64), b: (i64, i64)) -> bool {
    a.0 < b.1 && b.0 < a.1
}

/// Formats a ms timestamp for messages: RFC 3339 UTC.
fn ts(ms: i64) -> String {
    crate::vocab::time(ms)
}

/// `dst` resolved through its nearest existing ancestor (it may not exist yet).
fn resolve(p: &Path) -> Option<std::path::PathBuf> {
    let mut rest = Vec::new();
    let mut cur = p;
    loop {
        if let Ok(c) = cur.canonicalize() {
            return Some(rest.iter().rev().fold(c, |acc, n| acc.join(n)));
        }
        rest.push(cur.file_name()?.to_owned());
        cur = cur.parent()?;
        if cur.as_os_str().is_empty() {
            cur = Path::new(".");
        }
    }
}

/// A target that is the source, or inside it, is a usage error: the copy
/// would write into the data it reads.
fn check_not_inside(src: &Path, dst: &Path) -> Result<()> {
    let (Ok(s), Some(d)) = (src.canonicalize(), resolve(dst)) else {
        return Ok(());
    };
    if d == s {
        return Err(crate::error::Error::Usage(format!(
            "the target {} is the source itself: nothing written",
            dst.display()
        )));
    }
    if d.starts_with(&s) {
        return Err(crate::error::Error::Usage(format!(
            "the target {} is inside the source {}: {}",
            dst.display(),
            src.display(),
            "a copy must not write into the data it reads; nothing written"
        )));
    }
    Ok(())
}

/// Decides what to copy, skip and refuse. Reads the source and the target,
/// writes nothing.
pub fn plan(src: &Path, dst: &Path, opts: &CopyOptions) -> Result<CopyPlan> {
    let src_layout = layout::scan_source(src)?;
    let (dst_exists, dst_layout) = check_target_path(dst)?;
    check_not_inside(src, dst)?;
    let (mut blocks, excluded) = select(src, &src_layout, opts)?;
    let mut notices = source_notices(src, &src_layout, opts);
    let (target_blocks, target_head) = match &dst_layout {
        Some(l) => scan_target(dst, l, &mut notices),
        None => (Vec::new(), None),
    };
    against_target(&mut blocks, dst, &target_blocks, target_head, opts);
    among_copied(&mut blocks);
    retention(&mut blocks, &target_blocks, opts, &mut notices);
    size_retention(&mut blocks, dst, &target_blocks, opts, &mut notices);
    let leftovers = dst_layout
        .as_ref()
        .map(|l| leftovers(l, &blocks, &mut notices))
        .unwrap_or_default();

    // Link or copy; free space.
    let same_fs = fsops::device_of(src).is_some() && fsops::device_of(src) == fsops::device_of(dst);
    let link = opts.link && same_fs;
    if opts.link && !same_fs {
        notices.push(Reason::new(FindingCode::LinkFallback, LINK_FALLBACK));
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
            "{}: not enough free space: {need} bytes to copy, {free} bytes available; {}",
            dst.display(),
            "nothing was written"
        )));
    }
    Ok(plan)
}

/// The target must be a directory (or creatable as one) and writable, and
/// not a block directory.
/// A target that exists, holds nothing Prometheus writes and is not empty
/// (a `wal/` directory, a home directory, a directory of documents) is not
/// a data directory to put blocks into. `lost+found` (a fresh filesystem's
/// root), hidden entries and entries named as Prometheus names blocks and
/// their temporary directories do not count.
fn refuse_foreign_target(l: &Layout) -> Result<()> {
    let foreign = l.stray.iter().any(|p| {
        p.file_name().and_then(|n| n.to_str()).is_none_or(|n| {
            n != "lost+found"
                && !n.starts_with('.')
                && !layout::is_tmp_dir_name(n)
                && !crate::format::meta::is_valid_ulid(n)
        })
    });
    if layout::nothing_recognisable(l) && foreign {
        return Err(Error::Usage(format!(
            "{}: not a Prometheus data directory and not empty: {}; give a new or empty directory, or a data directory; nothing written",
            l.root.display(),
            layout::what_it_is_instead(l)
        )));
    }
    Ok(())
}

/// The usage errors of a copy's target path alone (a file, a block
/// directory, a directory of other things, an uncreatable path), for
/// commands that check it before any other work (`seed`).
pub(crate) fn check_target(dst: &Path) -> Result<()> {
    check_target_path(dst).map(|_| ())
}

fn check_target_path(dst: &Path) -> Result<(bool, Option<Layout>)> {
    // The target: a data directory, created if missing.
    let dst_exists = match std::fs::metadata(dst) {
        Ok(m) if m.is_dir() => true,
        Ok(_) => {
            return Err(Error::Usage(format!(
                "{}: exists and is not a directory ({})",
                dst.display(),
                "the target must be a Prometheus data directory"
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
        refuse_foreign_target(&l)?;
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

/// Refuses a selected block name that is not a block of `layout` (of
/// `src`).
pub(crate) fn check_selected(blocks: &[String], layout: &Layout, src: &Path) -> Result<()> {
    for want in blocks {
        if !layout
            .blocks
            .iter()
            .any(|b| b.file_name().and_then(|n| n.to_str()) == Some(want))
        {
            return Err(Error::bad_option(
                "blocks",
                format!("block {want}: no such block in {}", src.display()),
            ));
        }
    }
    Ok(())
}

/// The source blocks selected by `--block`, `--min-time`, `--max-time`,
/// sorted by minTime, each with its files; unreadable ones refused.
fn select(
    src: &Path,
    src_layout: &Layout,
    opts: &CopyOptions,
) -> Result<(Vec<PlannedBlock>, usize)> {
    check_selected(&opts.blocks, src_layout, src)?;
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
                FindingCode::Unreadable,
                format!("meta.json unreadable: {e}"),
            )),
        }
        match block_files(dir) {
            Ok(f) => {
                pb.bytes = f.iter().map(|f| f.size).sum();
                pb.files = f;
            }
            Err(e) => pb.refuse(Reason::new(FindingCode::Unreadable, e.to_string())),
        }
        // A maxTime far after the block was made (a flipped digit) would
        // count the target's retention from it: refused before retention.
        if let Some((_, code, msg)) = pb
            .meta
            .as_ref()
            .and_then(crate::check::block::max_time_after_creation)
        {
            pb.refuse(Reason::new(code, msg));
        }
        if let Some(m) = &pb.meta
            && m.ulid != ulid
        {
            pb.refuse(Reason::new(
                FindingCode::UlidMismatch,
                format!(
                    "meta.json says ulid {} but the directory is {ulid}; {}",
                    m.ulid, "Prometheus keys blocks by meta.json"
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
                FindingCode::Unreadable,
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
            FindingCode::TargetHead,
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
            FindingCode::PrometheusRunning,
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
            already_in_target(b, dst, t);
            continue;
        }
        if m.compaction.deletable {
            b.refuse(Reason::new(
                FindingCode::Deletable,
                "meta.json marks the block deletable: Prometheus deletes it at its next reload",
            ));
        }
        parents_in_target(b, &m, &by_ulid, target_blocks);
        overlaps_target_blocks(b, &m, target_blocks, opts);
        overlaps_target_head(b, &m, target_head, opts);
    }
}

/// A block whose ULID the target has: skipped if the files are the same,
/// refused otherwise.
fn already_in_target(b: &mut PlannedBlock, dst: &Path, t: &TargetBlock) {
    match same_content(&b.src, &dst.join(&b.ulid), &b.files) {
        Ok(None) => {
            b.action = Action::Skip;
            b.reasons.push(Reason::new(
                FindingCode::Identical,
                "already in the target with identical files (names, sizes, bytes)",
            ));
        }
        Ok(Some(diff)) => b.refuse(Reason::new(
            FindingCode::UlidConflict,
            format!(
                "the target already has a block {} with different content ({diff}); {}",
                t.ulid, "existing blocks are never overwritten"
            ),
        )),
        Err(e) => b.refuse(Reason::new(
            FindingCode::UlidConflict,
            format!("the target already has a block {}, unreadable: {e}", t.ulid),
        )),
    }
}

/// Prometheus deletes every block named as a parent of a loaded block:
/// refused if it names target blocks as parents, or target blocks name it.
fn parents_in_target(
    b: &mut PlannedBlock,
    m: &BlockMeta,
    by_ulid: &BTreeMap<&str, &TargetBlock>,
    target_blocks: &[TargetBlock],
) {
    let parents_in_dst: Vec<&str> = m
        .compaction
        .parents
        .iter()
        .filter(|p| by_ulid.contains_key(p.ulid.as_str()))
        .map(|p| p.ulid.as_str())
        .collect();
    if !parents_in_dst.is_empty() {
        b.refuse(Reason::new(
            FindingCode::DeletesDstBlocks,
            format!(
                "its compaction.parents name target blocks {}: {}",
                parents_in_dst.join(", "),
                "Prometheus would delete them when it loads this block"
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
            FindingCode::DeletedByDst,
            format!(
                "target blocks {} name it as a compaction parent: {}",
                killers.join(", "),
                "Prometheus would delete it at once"
            ),
        ));
    }
}

/// Time overlap with target blocks: a warning when overlaps are allowed,
/// else refused.
fn overlaps_target_blocks(
    b: &mut PlannedBlock,
    m: &BlockMeta,
    target_blocks: &[TargetBlock],
    opts: &CopyOptions,
) {
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
            let shared = shared.into_iter().cloned().collect::<Vec<_>>().join(", ");
            format!(
                "; both were compacted from the same source blocks ({shared}), {}",
                "so the samples are duplicates"
            )
        };
        let msg = format!(
            "[{}, {}) overlaps target block {} [{}, {}): {}{dup}",
            ts(m.min_time),
            ts(m.max_time),
            t.ulid,
            ts(tm.min_time),
            ts(tm.max_time),
            "Prometheus will merge the two by vertical compaction"
        );
        if opts.allow_overlap {
            b.warnings
                .push(Reason::new(FindingCode::OverlapAllowed, msg));
        } else {
            b.refuse(Reason::new(
                FindingCode::Overlap,
                format!("{msg}; allow overlaps to copy it anyway"),
            ));
        }
    }
}

/// The target's head: Prometheus replays no WAL sample older than the
/// newest block's maxTime, and rejects appends below it.
fn overlaps_target_head(
    b: &mut PlannedBlock,
    m: &BlockMeta,
    target_head: Option<HeadRange>,
    opts: &CopyOptions,
) {
    let Some(h) = target_head else { return };
    if m.max_time <= h.min_time {
        return;
    }
    let msg = format!(
        "[{}, {}) reaches into the target head's samples ({} .. {}): {}",
        ts(m.min_time),
        ts(m.max_time),
        ts(h.min_time),
        ts(h.max_time),
        "at its next start Prometheus drops WAL samples older than the newest block's maxTime \
         and rejects appends below it"
    );
    if opts.allow_overlap {
        b.warnings
            .push(Reason::new(FindingCode::HeadOverlapAllowed, msg));
    } else {
        b.refuse(Reason::new(
            FindingCode::HeadOverlap,
            format!("{msg}; allow overlaps to copy it anyway"),
        ));
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
                "block {child}, also copied, names it as a compaction parent: {}",
                "Prometheus would delete it at once"
            );
            blocks[i].refuse(Reason::new(FindingCode::DeletedAsParent, msg));
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
                    "overlaps {} from the same source: {}",
                    blocks[j].ulid, "Prometheus will merge them by vertical compaction"
                );
                blocks[i]
                    .warnings
                    .push(Reason::new(FindingCode::SourceOverlap, msg));
            }
        }
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
