//! `promsnap copy`: seed a Prometheus data directory with the blocks of a
//! snapshot, data or block directory — verified, parallel, atomic, resumable.
//!
//! Three steps, each usable alone:
//!
//! 1. [`plan`] reads the source and the target (never writing either) and
//!    decides, per block, [`Action::Copy`], [`Action::Skip`] (already in the
//!    target with identical content) or [`Action::Refuse`], with reasons. It
//!    checks every hazard of dropping a block into a Prometheus data dir:
//!    time overlap with target blocks or with the target's head (WAL and
//!    `chunks_head/`), retention, `compaction.parents`, `deletable`, a
//!    running Prometheus, free space.
//! 2. [`verify_sources`] fully verifies every block still marked for copy
//!    ([`crate::check::verify_block`]); a damaged block is refused, the others
//!    are unaffected. (`--dry-run` stops after this step.)
//! 3. [`execute`] verifies each block not verified yet, then copies it, in
//!    parallel across blocks and files, into `<dst>/<ULID>.tmp-for-creation/`
//!    (chunks, index, tombstones, `meta.json` last), fsyncs every file and the
//!    directories, re-reads every copied file (its cached pages dropped after
//!    the fsync, so the bytes come from the device) and compares size and
//!    CRC32C with what was read from the source, parses the copy's
//!    `meta.json`, renames the directory to `<dst>/<ULID>` (never replacing
//!    anything) and fsyncs `<dst>`. Memory stays bounded: files are streamed
//!    in 1 MiB pieces (`copy_file_range` where the kernel offers it).
//!
//! A run killed at any point leaves only complete blocks plus
//! `*.tmp-for-creation` directories, which Prometheus deletes on start and
//! the next `copy` removes and redoes. An existing block is never modified;
//! the source is only read.
//!
//! ```no_run
//! use promsnap::copy::{self, CopyOptions};
//! # fn main() -> promsnap::error::Result<()> {
//! let opts = CopyOptions::default();
//! let mut plan = copy::plan("snapshots/20261125T091234Z-788eafc011a10c98".as_ref(),
//!                           "/var/lib/prometheus".as_ref(), &opts)?;
//! copy::verify_sources(&mut plan, &opts);
//! let report = copy::execute(&plan, &opts, &copy::NoProgress)?;
//! println!("{} copied, {} refused", report.copied.len(), report.refused.len());
//! # Ok(()) }
//! ```
//!
//! # JSON
//!
//! [`CopyReport`] serializes to the document `promsnap copy --json` prints:
//!
//! ```text
//! {
//!   "src": "…", "dst": "…", "dry_run": false, "link": false,
//!   "copied":  [Block…],   blocks now in dst (copied or hard-linked by this run)
//!   "skipped": [Block…],   already in dst with identical files (sizes + CRC32C)
//!   "refused": [Block…],   not copied; `reasons` says why
//!   "failed":  [Block…],   an I/O error while copying (exit code 2)
//!   "notices": [Reason…],  target-level facts (running Prometheus, leftovers, …)
//!   "excluded": 3,         source blocks outside --min-time/--max-time/--block
//!   "bytes": 1234,         bytes copied (or linked) by this run
//!   "bytes_planned": 1234, bytes of the blocks planned for copy
//!   "duration_ms": 42
//! }
//! Block  = {"ulid", "src", "min_time", "max_time", "bytes", "method": "copy"|"link"|null,
//!           "reasons": [Reason…], "warnings": [Reason…]}
//! Reason = {"code": "overlap", "message": "…"}
//! ```
//!
//! Reason codes: `identical` (skipped), `damaged`, `unreadable`, `ulid_conflict`,
//! `ulid_mismatch`, `overlap`, `head_overlap`, `retention`, `deletes_dst_blocks`,
//! `deleted_by_dst`, `deleted_as_parent`, `deletable`, `io` (failed).
//! Warning and notice codes: `overlap_allowed`, `head_overlap_allowed`,
//! `source_overlap`, `dst_retention`, `prometheus_running`,
//! `leftover`, `wal_not_copied`, `link_fallback`, `retention_default`,
//! `target_head`, `unreadable`.
//!
//! Not enough free space, an unwritable or unusable target, or a missing
//! source are errors of the whole run (exit code 2): nothing is written.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use rayon::prelude::*;
use serde::Serialize;

use crate::check::{self, CheckOptions};
use crate::error::{Error, Result};
use crate::format::meta::BlockMeta;
use crate::layout::{self, DirKind};

pub mod fsops;
pub mod head;

pub use head::HeadRange;

/// Suffix of the directory a block is written into before its final rename.
pub const TMP_SUFFIX: &str = ".tmp-for-creation";

/// Prometheus' default time retention (15 d), used when none is given.
pub const DEFAULT_RETENTION_MS: i64 = 15 * 24 * 3_600_000;

/// What to copy and how.
#[derive(Debug, Clone, Default)]
pub struct CopyOptions {
    /// Worker threads (0: one per core).
    pub jobs: usize,
    /// Hard-link files instead of copying them when source and target share
    /// a filesystem; copy (with a notice) otherwise.
    pub link: bool,
    /// Only blocks whose `[minTime, maxTime)` intersects `[min_time, max_time]`.
    pub min_time: Option<i64>,
    /// See `min_time`.
    pub max_time: Option<i64>,
    /// Only these block ULIDs (empty: all).
    pub blocks: Vec<String>,
    /// Copy blocks that overlap target blocks or the target's head (a
    /// warning instead of a refusal).
    pub allow_overlap: bool,
    /// The target's time retention in ms (`None`: Prometheus' default 15 d).
    pub retention: Option<i64>,
    /// How to verify source blocks.
    pub check: CheckOptions,
}

/// What happens to a block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// To be copied.
    Copy,
    /// Already in the target with identical content.
    Skip,
    /// Not copied (see the reasons).
    Refuse,
}

/// A reason, warning or notice: a stable code and one sentence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    /// Stable snake_case code.
    pub code: &'static str,
    /// One or two sentences for a human.
    pub message: String,
}

impl Reason {
    fn new(code: &'static str, message: impl Into<String>) -> Reason {
        Reason {
            code,
            message: message.into(),
        }
    }
}

/// One regular file of a source block, relative to the block directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockFile {
    /// Relative path (`index`, `chunks/000001`, `meta.json` …).
    pub rel: PathBuf,
    /// Size in bytes.
    pub size: u64,
}

/// One source block and what the plan decided for it.
#[derive(Debug, Clone)]
pub struct PlannedBlock {
    /// ULID (the directory name).
    pub ulid: String,
    /// Source block directory.
    pub src: PathBuf,
    /// Parsed `meta.json` (None if unreadable; the block is then refused).
    pub meta: Option<BlockMeta>,
    /// Files to copy, `meta.json` last.
    pub files: Vec<BlockFile>,
    /// Sum of file sizes.
    pub bytes: u64,
    /// The decision.
    pub action: Action,
    /// Why it is skipped or refused.
    pub reasons: Vec<Reason>,
    /// Hazards that do not stop the copy.
    pub warnings: Vec<Reason>,
    /// True once [`verify_sources`] has verified it.
    pub verified: bool,
}

impl PlannedBlock {
    fn refuse(&mut self, r: Reason) {
        self.action = Action::Refuse;
        self.reasons.push(r);
    }
}

/// An existing block of the target.
#[derive(Debug, Clone)]
pub struct TargetBlock {
    /// ULID (directory name).
    pub ulid: String,
    /// meta.json when readable.
    pub meta: Option<BlockMeta>,
}

/// What `copy` will do, decided before anything is written.
#[derive(Debug, Clone)]
pub struct CopyPlan {
    /// Source directory as given.
    pub src: PathBuf,
    /// Source kind.
    pub src_kind: DirKind,
    /// Target data directory as given.
    pub dst: PathBuf,
    /// False if the target does not exist yet (it will be created).
    pub dst_exists: bool,
    /// Source blocks selected, sorted by minTime.
    pub blocks: Vec<PlannedBlock>,
    /// Blocks of the target before the copy.
    pub target_blocks: Vec<TargetBlock>,
    /// The target head's time range, if it has one.
    pub target_head: Option<HeadRange>,
    /// `<ULID>.tmp-for-creation` leftovers in the target that this run will
    /// remove (those of blocks it copies).
    pub leftovers: Vec<PathBuf>,
    /// Target-level notices.
    pub notices: Vec<Reason>,
    /// Source blocks left out by `--min-time`/`--max-time`/`--block`.
    pub excluded: usize,
    /// Free bytes on the target's filesystem.
    pub free_bytes: Option<u64>,
    /// Hard links will be used (`--link` and same filesystem).
    pub link: bool,
}

impl CopyPlan {
    /// Bytes of the blocks marked [`Action::Copy`].
    pub fn bytes_to_copy(&self) -> u64 {
        self.blocks
            .iter()
            .filter(|b| b.action == Action::Copy)
            .map(|b| b.bytes)
            .sum()
    }
}

/// Receives progress from [`execute`]; called from worker threads.
pub trait Progress: Sync {
    /// `n` more bytes copied or linked.
    fn bytes(&self, n: u64);
    /// A block is finished (copied, refused or failed).
    fn block_done(&self, ulid: &str);
}

/// Progress that goes nowhere.
#[derive(Debug, Clone, Copy)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn bytes(&self, _: u64) {}
    fn block_done(&self, _: &str) {}
}

/// One block in the report.
#[derive(Debug, Clone, Serialize)]
pub struct BlockReport {
    /// ULID.
    pub ulid: String,
    /// Source block directory.
    pub src: PathBuf,
    /// minTime (ms), when meta.json was readable.
    pub min_time: Option<i64>,
    /// maxTime (ms, exclusive).
    pub max_time: Option<i64>,
    /// Bytes of the block's files.
    pub bytes: u64,
    /// `copy` or `link` for copied blocks.
    pub method: Option<&'static str>,
    /// Why skipped, refused or failed.
    pub reasons: Vec<Reason>,
    /// Hazards that did not stop the copy.
    pub warnings: Vec<Reason>,
}

/// The outcome of a copy (or of a dry run). See the module docs for the JSON.
#[derive(Debug, Clone, Serialize)]
pub struct CopyReport {
    /// Source directory.
    pub src: PathBuf,
    /// Target directory.
    pub dst: PathBuf,
    /// True if nothing was written.
    pub dry_run: bool,
    /// True if hard links were used.
    pub link: bool,
    /// Blocks copied (or, in a dry run, that would be).
    pub copied: Vec<BlockReport>,
    /// Blocks already in the target with identical content.
    pub skipped: Vec<BlockReport>,
    /// Blocks not copied, with reasons.
    pub refused: Vec<BlockReport>,
    /// Blocks whose copy failed with an I/O error.
    pub failed: Vec<BlockReport>,
    /// Target-level notices.
    pub notices: Vec<Reason>,
    /// Source blocks left out by the filters.
    pub excluded: usize,
    /// Bytes copied or linked by this run.
    pub bytes: u64,
    /// Bytes of the blocks planned for copy.
    pub bytes_planned: u64,
    /// Wall time in ms.
    pub duration_ms: u64,
}

impl CopyReport {
    /// The report of a dry run: what the plan would do.
    pub fn from_plan(plan: &CopyPlan, started: Instant) -> CopyReport {
        let mut r = empty_report(plan, true);
        for b in &plan.blocks {
            let method =
                (b.action == Action::Copy).then_some(if plan.link { "link" } else { "copy" });
            let br = block_report(b, method);
            match b.action {
                Action::Copy => r.copied.push(br),
                Action::Skip => r.skipped.push(br),
                Action::Refuse => r.refused.push(br),
            }
        }
        r.duration_ms = started.elapsed().as_millis() as u64;
        r
    }
}

fn empty_report(plan: &CopyPlan, dry_run: bool) -> CopyReport {
    CopyReport {
        src: plan.src.clone(),
        dst: plan.dst.clone(),
        dry_run,
        link: plan.link,
        copied: Vec::new(),
        skipped: Vec::new(),
        refused: Vec::new(),
        failed: Vec::new(),
        notices: plan.notices.clone(),
        excluded: plan.excluded,
        bytes: 0,
        bytes_planned: plan.bytes_to_copy(),
        duration_ms: 0,
    }
}

fn block_report(b: &PlannedBlock, method: Option<&'static str>) -> BlockReport {
    BlockReport {
        ulid: b.ulid.clone(),
        src: b.src.clone(),
        min_time: b.meta.as_ref().map(|m| m.min_time),
        max_time: b.meta.as_ref().map(|m| m.max_time),
        bytes: b.bytes,
        method,
        reasons: b.reasons.clone(),
        warnings: b.warnings.clone(),
    }
}

/// Lists the regular files of a block directory (recursively), `meta.json`
/// last, everything else in name order (so chunks and index come first).
pub fn block_files(dir: &Path) -> Result<Vec<BlockFile>> {
    let mut out = Vec::new();
    let mut meta = None;
    for ent in walkdir::WalkDir::new(dir).min_depth(1).sort_by_file_name() {
        let ent = ent.map_err(|e| {
            let p = e.path().unwrap_or(dir).to_path_buf();
            Error::io(&p, e.into())
        })?;
        let ft = ent.file_type();
        let rel = ent
            .path()
            .strip_prefix(dir)
            .unwrap_or(ent.path())
            .to_path_buf();
        if ft.is_dir() {
            continue;
        }
        if !ft.is_file() {
            return Err(Error::Usage(format!(
                "{}: not a regular file (blocks hold only regular files)",
                ent.path().display()
            )));
        }
        let size = ent
            .metadata()
            .map_err(|e| Error::io(ent.path(), e.into()))?
            .len();
        let f = BlockFile { rel, size };
        if f.rel == Path::new("meta.json") {
            meta = Some(f);
        } else {
            out.push(f);
        }
    }
    out.extend(meta);
    Ok(out)
}

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
    let mut notices = Vec::new();
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

    // Selection.
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

    if src_layout.kind == DirKind::Data
        && (src_layout.wal.is_some() || src_layout.chunks_head.is_some())
    {
        notices.push(Reason::new(
            "wal_not_copied",
            "the source is a data directory: only its blocks are copied; data still in its head (wal/, chunks_head/) is not. Take a snapshot with the head (the default of /api/v1/admin/tsdb/snapshot) to include it",
        ));
    }

    // The target's blocks and head.
    let mut target_blocks = Vec::new();
    let mut target_head = None;
    let mut leftovers = Vec::new();
    if let Some(l) = &dst_layout {
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
                        "target block {ulid} has no readable meta.json; hazards against it cannot be checked"
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
        target_head = head::head_range(dst).and_then(|mut h| {
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
                    "a running process {how}, presumably Prometheus: copied blocks appear at its next block reload (within about a minute), not at once, and the hazards are checked against what is on disk now"
                ),
            ));
        }
    }

    // Per-block hazards.
    let by_ulid: BTreeMap<&str, &TargetBlock> =
        target_blocks.iter().map(|t| (t.ulid.as_str(), t)).collect();
    for b in &mut blocks {
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
                        "already in the target with identical files (names, sizes, CRC32C)",
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
        for t in &target_blocks {
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

    // Relations among the blocks to copy: overlaps and parents.
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

    // Retention: the newest maxTime among target blocks and blocks copied;
    // a block whose maxTime is a retention or more older is deleted at once.
    let retention = opts.retention.unwrap_or(DEFAULT_RETENTION_MS);
    if opts.retention.is_none() {
        notices.push(Reason::new(
            "retention_default",
            "retention checked against Prometheus' default of 15d; pass --retention with the target's --storage.tsdb.retention.time",
        ));
    }
    if retention > 0 {
        let newest = blocks
            .iter()
            .filter(|b| b.action == Action::Copy)
            .filter_map(|b| b.meta.as_ref().map(|m| m.max_time))
            .chain(
                target_blocks
                    .iter()
                    .filter_map(|t| t.meta.as_ref().map(|m| m.max_time)),
            )
            .max();
        if let Some(newest) = newest {
            for b in &mut blocks {
                if b.action != Action::Copy {
                    continue;
                }
                let Some(m) = &b.meta else { continue };
                if newest - m.max_time >= retention {
                    let msg = format!(
                        "maxTime {} is {} or more older than the newest block's maxTime {}: retention deletes it at once",
                        ts(m.max_time),
                        crate::gofmt::duration_ms(retention),
                        ts(newest)
                    );
                    b.refuse(Reason::new("retention", msg));
                }
            }
            // Recompute with only the blocks still copied: target blocks pushed out.
            let newest_copied = blocks
                .iter()
                .filter(|b| b.action == Action::Copy)
                .filter_map(|b| b.meta.as_ref().map(|m| m.max_time))
                .max();
            if let Some(nc) = newest_copied {
                for t in &target_blocks {
                    let Some(tm) = &t.meta else { continue };
                    let newest_before = target_blocks
                        .iter()
                        .filter_map(|t| t.meta.as_ref().map(|m| m.max_time))
                        .max()
                        .unwrap_or(i64::MIN);
                    if nc - tm.max_time >= retention && newest_before - tm.max_time < retention {
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
            }
        }
    }

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
    use std::os::unix::ffi::OsStrExt;
    let Ok(c) = std::ffi::CString::new(p.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: `c` is a valid NUL-terminated path.
    unsafe { libc::access(c.as_ptr(), libc::W_OK) == 0 }
}

/// `None` if `dst` holds exactly the files of `src` (`files`) with the same
/// sizes and CRC32C; else a short description of the first difference.
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
            let da = fsops::digest(&a).map_err(|e| Error::io(&a, e))?;
            let db = fsops::digest(&b).map_err(|e| Error::io(&b, e))?;
            Ok((da != db).then(|| format!("{} differs in content", f.rel.display())))
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

/// How many findings to quote in a refusal.
const QUOTED_FINDINGS: usize = 3;

fn verify_one(b: &mut PlannedBlock, opts: &CheckOptions) {
    let c = check::verify_block(&b.src, opts);
    b.verified = true;
    if c.has_errors() {
        let errors: Vec<_> = c.findings.iter().filter(|f| f.is_error()).collect();
        let mut msg = format!("source verification found {} error(s): ", errors.len());
        let quoted: Vec<String> = errors
            .iter()
            .take(QUOTED_FINDINGS)
            .map(|f| {
                let at = f
                    .offset
                    .map(|o| format!(" at offset {o}"))
                    .unwrap_or_default();
                format!("{}{at}: {} ({})", f.path.display(), f.message, f.code)
            })
            .collect();
        msg.push_str(&quoted.join("; "));
        if errors.len() > QUOTED_FINDINGS {
            msg.push_str("; …");
        }
        b.refuse(Reason::new("damaged", msg));
    }
}

/// Fully verifies every block still marked [`Action::Copy`], in parallel;
/// refuses the damaged ones. Blocks already verified are not checked again.
pub fn verify_sources(plan: &mut CopyPlan, opts: &CopyOptions) {
    let run = |plan: &mut CopyPlan| {
        plan.blocks
            .par_iter_mut()
            .filter(|b| b.action == Action::Copy && !b.verified)
            .for_each(|b| verify_one(b, &opts.check));
    };
    match pool(opts.jobs) {
        Some(p) => p.install(|| run(plan)),
        None => run(plan),
    }
}

fn pool(jobs: usize) -> Option<rayon::ThreadPool> {
    (jobs > 0)
        .then(|| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(jobs)
                .build()
                .ok()
        })
        .flatten()
}

enum Outcome {
    Copied(&'static str),
    Refused(Reason),
    Failed(Reason),
}

/// Carries out a plan: verifies (if not done yet) and copies every block
/// marked [`Action::Copy`]. Blocks are independent: one refused or failed
/// block does not stop the others. Errors only for a failure of the run as a
/// whole (the target directory cannot be created or synced).
pub fn execute(plan: &CopyPlan, opts: &CopyOptions, progress: &dyn Progress) -> Result<CopyReport> {
    let started = Instant::now();
    let mut report = empty_report(plan, false);
    let to_copy: Vec<&PlannedBlock> = plan
        .blocks
        .iter()
        .filter(|b| b.action == Action::Copy)
        .collect();
    if !to_copy.is_empty() {
        std::fs::create_dir_all(&plan.dst).map_err(|e| Error::io(&plan.dst, e))?;
        if !plan.dst_exists
            && let Some(parent) = plan.dst.parent().filter(|p| !p.as_os_str().is_empty())
        {
            let _ = fsops::sync_dir(parent);
        }
    }
    let bytes = AtomicU64::new(0);
    let run = || -> Vec<Outcome> {
        to_copy
            .par_iter()
            .map(|b| {
                let o = copy_block(b, plan, opts, progress, &bytes);
                progress.block_done(&b.ulid);
                o
            })
            .collect()
    };
    let outcomes = match pool(opts.jobs) {
        Some(p) => p.install(run),
        None => run(),
    };
    if !to_copy.is_empty() {
        fsops::sync_dir(&plan.dst).map_err(|e| Error::io(&plan.dst, e))?;
    }
    let mut outcomes = outcomes.into_iter();
    for b in &plan.blocks {
        match b.action {
            Action::Skip => report.skipped.push(block_report(b, None)),
            Action::Refuse => report.refused.push(block_report(b, None)),
            Action::Copy => match outcomes.next() {
                Some(Outcome::Copied(method)) => report.copied.push(block_report(b, Some(method))),
                Some(Outcome::Refused(r)) => {
                    let mut br = block_report(b, None);
                    br.reasons.push(r);
                    report.refused.push(br);
                }
                Some(Outcome::Failed(r)) => {
                    let mut br = block_report(b, None);
                    br.reasons.push(r);
                    report.failed.push(br);
                }
                None => {
                    let mut br = block_report(b, None);
                    br.reasons.push(Reason::new("io", "no outcome recorded"));
                    report.failed.push(br);
                }
            },
        }
    }
    report.bytes = bytes.load(Ordering::Relaxed);
    report.duration_ms = started.elapsed().as_millis() as u64;
    Ok(report)
}

/// Copies one block; every failure is an outcome, never a panic.
fn copy_block(
    b: &PlannedBlock,
    plan: &CopyPlan,
    opts: &CopyOptions,
    progress: &dyn Progress,
    bytes: &AtomicU64,
) -> Outcome {
    let tmp = plan.dst.join(format!("{}{TMP_SUFFIX}", b.ulid));
    // Verify the source while copying it (the copy stays in the tmp dir,
    // invisible to Prometheus, until both are done): the block costs
    // max(verify, copy) instead of their sum.
    let (verdict, copied) = rayon::join(
        || {
            if b.verified {
                return None;
            }
            let mut v = b.clone();
            verify_one(&mut v, &opts.check);
            (v.action == Action::Refuse).then(|| {
                v.reasons
                    .pop()
                    .unwrap_or_else(|| Reason::new("damaged", "source verification failed"))
            })
        },
        || copy_into_tmp(b, &tmp, plan.link, progress, bytes),
    );
    if let Some(r) = verdict {
        let _ = std::fs::remove_dir_all(&tmp);
        return Outcome::Refused(r);
    }
    match copied {
        Ok(method) => {
            let fin = plan.dst.join(&b.ulid);
            fsops::test_pause("before_rename", &b.ulid);
            if let Err(e) = fsops::rename_noreplace(&tmp, &fin) {
                let _ = std::fs::remove_dir_all(&tmp);
                return Outcome::Failed(Reason::new(
                    "io",
                    format!("rename {} -> {}: {e}", tmp.display(), fin.display()),
                ));
            }
            fsops::test_pause("after_rename", &b.ulid);
            Outcome::Copied(method)
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(&tmp);
            Outcome::Failed(Reason::new("io", e.to_string()))
        }
    }
}

/// Writes the block into `tmp` (removing a leftover first), syncs and
/// re-verifies it. Returns the method used.
fn copy_into_tmp(
    b: &PlannedBlock,
    tmp: &Path,
    link: bool,
    progress: &dyn Progress,
    bytes: &AtomicU64,
) -> Result<&'static str> {
    match std::fs::symlink_metadata(tmp) {
        Ok(_) => std::fs::remove_dir_all(tmp).map_err(|e| Error::io(tmp, e))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::io(tmp, e)),
    }
    std::fs::create_dir(tmp).map_err(|e| Error::io(tmp, e))?;
    fsops::test_pause("tmp_created", &b.ulid);
    // Sub-directories first (chunks/).
    let mut dirs: BTreeSet<PathBuf> = BTreeSet::new();
    for f in &b.files {
        let mut p = f.rel.parent();
        while let Some(d) = p.filter(|d| !d.as_os_str().is_empty()) {
            dirs.insert(d.to_path_buf());
            p = d.parent();
        }
    }
    for d in &dirs {
        let p = tmp.join(d);
        std::fs::create_dir(&p).map_err(|e| Error::io(&p, e))?;
    }
    let (body, meta) = b.files.split_at(b.files.len().saturating_sub(1));
    let mut method = if link { "link" } else { "copy" };
    let linked = std::sync::atomic::AtomicBool::new(link);
    let one = |f: &BlockFile| -> Result<fsops::Digest> {
        let (s, d) = (b.src.join(&f.rel), tmp.join(&f.rel));
        if linked.load(Ordering::Relaxed) {
            if fsops::try_hard_link(&s, &d).map_err(|e| Error::io(&d, e))? {
                progress.bytes(f.size);
                bytes.fetch_add(f.size, Ordering::Relaxed);
                // A link shares the inode: nothing to re-read, sizes say it all.
                return Ok(fsops::Digest {
                    size: f.size,
                    crc: 0,
                });
            }
            linked.store(false, Ordering::Relaxed);
        }
        let on = |n: u64| {
            progress.bytes(n);
            bytes.fetch_add(n, Ordering::Relaxed);
        };
        let got = fsops::copy_file(&s, &d, &on).map_err(|e| Error::io(&s, e))?;
        if got.size != f.size {
            return Err(Error::io(
                &s,
                std::io::Error::other(format!(
                    "source changed since planning: {} bytes, planned {}",
                    got.size, f.size
                )),
            ));
        }
        // Re-read what was written and compare with what was read.
        let back = fsops::digest(&d).map_err(|e| Error::io(&d, e))?;
        if back != got {
            return Err(Error::io(
                &d,
                std::io::Error::other(format!(
                    "copy differs from the source after writing: size {} crc32c {:08x}, source size {} crc32c {:08x}",
                    back.size, back.crc, got.size, got.crc
                )),
            ));
        }
        Ok(got)
    };
    body.par_iter().map(one).collect::<Result<Vec<_>>>()?;
    // meta.json last: the block is complete only with it.
    meta.iter().map(one).collect::<Result<Vec<_>>>()?;
    if link && !linked.load(Ordering::Relaxed) {
        method = "copy";
    }
    for d in dirs.iter().rev() {
        let p = tmp.join(d);
        fsops::sync_dir(&p).map_err(|e| Error::io(&p, e))?;
    }
    fsops::sync_dir(tmp).map_err(|e| Error::io(tmp, e))?;
    // The copy's meta.json must parse and name this block.
    let m = crate::block::read_meta(tmp)?;
    if m.ulid != b.ulid {
        return Err(Error::Usage(format!(
            "{}: copied meta.json names {}, expected {}",
            tmp.display(),
            m.ulid,
            b.ulid
        )));
    }
    Ok(method)
}
