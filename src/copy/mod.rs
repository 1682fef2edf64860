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
//!    `chunks_head/`), time and size retention, `compaction.parents`, `deletable`, a
//!    running Prometheus, free space.
//! 2. [`verify_sources`] fully verifies every block still marked for copy
//!    ([`crate::check::verify_block`]); a damaged block is refused, the others
//!    are unaffected. (`--dry-run` stops after this step.)
//! 3. [`execute`] verifies each block not verified yet while copying it
//!    (the copy on threads of its own, so that a core waiting for the disk
//!    is never one the verification could use), in parallel across blocks
//!    and files, into `<dst>/<ULID>.tmp-for-creation/` (chunks, index,
//!    tombstones, `meta.json` last), re-reads every 4 MiB of every copied
//!    file right after writing it, through a map of the copy (or, with
//!    [`CopyOptions::reread_from_device`], every file after the fsync, from
//!    the device) and compares it byte for byte with the source, fsyncs every
//!    file (its disk space reserved whole before the first byte, and its
//!    writes to the device started every 4 MiB once compared, so that the
//!    fsync waits for the last few only) and the directories, parses the
//!    copy's `meta.json`, and only once
//!    the verification passed renames the directory to `<dst>/<ULID>` (never
//!    replacing anything) and fsyncs `<dst>`. Memory stays bounded: files are
//!    streamed in 256 KiB pieces (`copy_file_range` where the kernel offers
//!    it).
//!
//! # What is proven of each copied byte
//!
//! Every byte of a copied file is compared with the byte of the source at
//! the same offset (no byte is vouched for by a checksum alone): by default
//! the copy's bytes as the page cache holds them right after they were
//! written, which are the bytes its fsync then writes to the device; with
//! [`CopyOptions::reread_from_device`], the bytes read back after the fsync
//! with the copy's cached pages dropped. The source bytes they are compared
//! with are the ones the verification of step 3 reads (a block's files are
//! immutable), unless the block was verified in step 2 or verification is
//! off.
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
//! # Test hooks
//!
//! Only in builds with the cargo feature `failpoints` (on under `cargo test`,
//! off otherwise), two environment variables let the kill tests
//! (`tests/copy.rs`) land a SIGKILL where they want; they are not an
//! interface:
//!
//! - `PROMSNAP_TEST_THROTTLE_US=N`: copy in 64 KiB pieces and sleep `N` µs
//!   after each, so that kills land mid-file;
//! - `PROMSNAP_TEST_PAUSE_AT=point[,point…]`: at each named point print
//!   `promsnap: test pause at <point> <ULID>` on stderr and sleep a minute.
//!   Points: `tmp_created`, `before_rename`, `after_rename` (the block has
//!   its final name, the target directory is not fsynced yet).
//!
//! # JSON
//!
//! [`CopyReport`] serializes to the document `promsnap copy --json` prints:
//!
//! ```text
//! {
//!   "src": "…", "dst": "…", "dry_run": false, "link": false,
//!   "copied":  [Block…],   blocks now in dst (copied or hard-linked by this run)
//!   "skipped": [Block…],   already in dst with identical files (compared byte for byte)
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
//! `ulid_mismatch`, `overlap`, `head_overlap`, `retention`, `size_retention`,
//! `deletes_dst_blocks`, `deleted_by_dst`, `deleted_as_parent`, `deletable`,
//! `meta_time_range_future` (refused), `io` (failed).
//! Warning and notice codes: `overlap_allowed`, `head_overlap_allowed`,
//! `source_overlap`, `dst_retention`, `dst_size_retention`, `prometheus_running`,
//! `leftover`, `wal_not_copied`, `link_fallback`, `retention_default`,
//! `target_head`, `unreadable`.
//!
//! Not enough free space, an unwritable or unusable target, or a missing
//! source are errors of the whole run (exit code 2): nothing is written.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use rayon::prelude::*;
use serde::Serialize;

use crate::check::{self, CheckOptions, FindingCode};
use crate::error::{Error, Result};
use crate::format::meta::BlockMeta;
use crate::layout::DirKind;

mod execute;
pub(crate) mod fsops;
pub mod head;
mod plan;
mod retention;
pub use execute::{execute, execute_replanning};

pub use head::HeadRange;
#[cfg(feature = "s3")]
pub(crate) use plan::check_selected;
pub(crate) use plan::check_target;
pub use plan::plan;

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
    /// The target's time retention in ms (`None`: Prometheus' default 15 d,
    /// unless `retention_size` is set: then, as in Prometheus, none).
    pub retention: Option<i64>,
    /// The target's size retention in bytes (`--storage.tsdb.retention.size`;
    /// `None` or 0: none).
    pub retention_size: Option<u64>,
    /// How to verify source blocks.
    pub check: CheckOptions,
    /// Do not verify source blocks at all (`--verify none`): for sources
    /// already verified. Copies are still compared with their source.
    pub skip_verify: bool,
    /// Re-read each copied file from the storage device (its cached pages
    /// dropped after the fsync) instead of from the page cache: also catches
    /// what the device returns wrong, at the cost of reading every byte back.
    pub reread_from_device: bool,
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
    pub code: FindingCode,
    /// One or two sentences for a human.
    pub message: String,
}

impl Reason {
    fn new(code: FindingCode, message: impl Into<String>) -> Reason {
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

mod report;
pub use report::*;

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

/// How many findings to quote in a refusal.
const QUOTED_FINDINGS: usize = 3;

fn verify_one(b: &mut PlannedBlock, opts: &CheckOptions) {
    let c = check::verify_block(&b.src, opts);
    b.verified = true;
    if let Some(r) = damage_reason(&c) {
        b.refuse(r);
    }
}

/// The refusal of a block its verification found errors in, quoting the
/// first few.
pub(crate) fn damage_reason(c: &check::BlockCheck) -> Option<Reason> {
    c.has_errors().then(|| {
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
        Reason::new(FindingCode::Damaged, msg)
    })
}

/// Fully verifies every block still marked [`Action::Copy`], in parallel;
/// refuses the damaged ones. Blocks already verified are not checked again.
pub fn verify_sources(plan: &mut CopyPlan, opts: &CopyOptions) {
    let run = |plan: &mut CopyPlan| {
        plan.blocks
            .par_iter_mut()
            .filter(|b| b.action == Action::Copy && !b.verified && !opts.skip_verify)
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

/// Notice code of a snapshot source holding an unfinished block (an
/// incomplete backup): the run exits with findings.
pub const SNAPSHOT_INCOMPLETE: FindingCode = FindingCode::SnapshotIncomplete;

/// Reason code of a source block deleted while it was copied.
pub const SOURCE_VANISHED: FindingCode = FindingCode::SourceVanished;
