//! `salvage`: a way out after `verify` finds damage.
//!
//! **Into OUT** ([`salvage`]): for a block or a data/snapshot directory,
//! every block with error findings is rewritten into OUT as a new block
//! ([`block`] says what is kept and what is dropped, and why); blocks
//! without errors are hard-linked into OUT unchanged (copied across
//! filesystems). The new block has a new ULID; its meta.json records where
//! it came from: `compaction.sources` are the damaged block's sources,
//! `compaction.parents` the damaged block, `level` one more than its level,
//! as a Prometheus compaction of one block would. Its stats are recounted.
//! Because Prometheus deletes, at startup, every block that another block
//! names as a parent, a rewritten block placed beside its damaged original
//! replaces it. Each new block is checked with `verify` in its
//! `*.tmp-for-creation` directory before it is renamed into place. Nothing
//! in the source is written. OUT must be absent or empty, not inside the
//! source, and its filesystem must have room for the rewritten blocks (and
//! for copies, when links are impossible) — checked before anything is
//! written. The head (`wal/`, `chunks_head/`) is not carried into OUT.
//!
//! **In place** ([`salvage_in_place`]): in a stopped Prometheus' data
//! directory, what blocks or costs its startup is moved (never deleted) into
//! `<DATA_DIR>/../promsnap-quarantine-<YYYYMMDDTHHMMSSZ>/`: each damaged
//! block (replaced in DATA_DIR by its rewrite), a block too damaged to read
//! (no replacement), the WAL from its first corruption on ([`wal`]: cut
//! where Prometheus 2.42's own repair would cut it, the cut part kept), a
//! damaged `chunks_head` file and the ones after it (what Prometheus would
//! delete). The report says which time range the restarted Prometheus will
//! not have. Refused while a process holds the directory (Prometheus'
//! `lock`, or open files under it).
//!
//! The library never prints; the CLI renders [`SalvageReport`].

pub mod block;
pub mod checkpoint;
mod chunk;
mod in_place;
mod rewrite;
mod series;
pub mod wal;

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::check::block::{CheckOptions, verify_block};
use crate::check::codes::FindingCode;
use crate::check::{BlockCheck, Severity};
use crate::copy::fsops;
use crate::error::{Error, Result};
use crate::layout::{DirKind, scan};
use block::{Dropped, Rewrite, RewriteResult, rewrite_block};
pub use in_place::salvage_in_place;

/// What to do.
#[derive(Debug, Clone, Default)]
pub struct SalvageOptions {
    /// Check and report; write and move nothing.
    pub dry_run: bool,
}

/// What happened to one block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BlockAction {
    /// No error finding: hard-linked into OUT unchanged.
    Linked,
    /// No error finding: copied into OUT unchanged (no hard link possible).
    Copied,
    /// No error finding: left where it is (in place).
    Kept,
    /// Errors: rewritten as a new block (or would be, on a dry run).
    Rewritten,
    /// Errors and nothing readable: not carried into OUT / moved to
    /// quarantine in place.
    Unreadable,
}

/// One block's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct BlockSalvage {
    /// The source block directory.
    pub source: PathBuf,
    /// Its ULID (meta.json's, else the directory name).
    pub ulid: String,
    /// What was done.
    pub action: BlockAction,
    /// The codes of verify's error findings in the block (sorted, unique).
    pub error_codes: Vec<FindingCode>,
    /// The new block's ULID (rewritten blocks, not on a dry run).
    pub new_ulid: Option<String>,
    /// Where the block now is (linked, copied or rewritten).
    pub new_dir: Option<PathBuf>,
    /// Where the damaged original was moved (in place).
    pub quarantined_to: Option<PathBuf>,
    /// What the rewrite kept and dropped.
    pub rewrite: Option<Rewrite>,
    /// Why an unreadable block could not be rewritten.
    pub reason: Option<String>,
}

/// The answer of `salvage`.
#[derive(Debug, Clone, Serialize)]
pub struct SalvageReport {
    /// The source (PATH or DATA_DIR).
    pub source: PathBuf,
    /// OUT (`None` in place).
    pub out: Option<PathBuf>,
    /// True for `--in-place`.
    pub in_place: bool,
    /// True when nothing was written or moved.
    pub dry_run: bool,
    /// One per block, in ULID order.
    pub blocks: Vec<BlockSalvage>,
    /// The quarantine directory (in place, when something was or would be
    /// moved).
    pub quarantine: Option<PathBuf>,
    /// The WAL cut (in place).
    pub wal: Option<wal::WalCut>,
    /// Damaged `chunks_head` files moved (in place).
    pub chunks_head: Option<wal::HeadChunksCut>,
    /// The cut of a damaged WAL checkpoint (in place; absent when the
    /// checkpoint reads cleanly).
    pub checkpoint: Option<checkpoint::CheckpointCut>,
    /// Series dropped whole, over all blocks.
    pub series_dropped: u64,
    /// Samples dropped from blocks, where counted.
    pub samples_dropped: u64,
    /// True when some drop's count is unknown or from a damaged header.
    pub samples_dropped_inexact: bool,
    /// Blocks too damaged to read any series.
    pub blocks_unreadable: u64,
    /// Time ranges `[from, to)` (ms) the data no longer holds in full:
    /// per dropped block data, unreadable blocks, the WAL cut.
    pub lost_ranges: Vec<[i64; 2]>,
}

impl SalvageReport {
    /// True when anything is lost or was moved away.
    pub fn has_losses(&self) -> bool {
        self.series_dropped > 0
            || self.samples_dropped > 0
            || self.samples_dropped_inexact
            || self.blocks_unreadable > 0
            || self.wal.as_ref().is_some_and(|w| w.cut)
            || self.checkpoint.is_some()
            || self
                .chunks_head
                .as_ref()
                .is_some_and(|c| !c.moved.is_empty())
            || self
                .blocks
                .iter()
                .any(|b| b.rewrite.as_ref().is_some_and(|r| !r.dropped.is_empty()))
    }

    /// Every drop, with its block.
    pub fn drops(&self) -> impl Iterator<Item = (&BlockSalvage, &Dropped)> {
        self.blocks.iter().flat_map(|b| {
            b.rewrite
                .iter()
                .flat_map(move |r| r.dropped.iter().map(move |d| (b, d)))
        })
    }
}

/// The codes of a block's error findings, sorted, unique.
fn error_codes(c: &BlockCheck) -> Vec<FindingCode> {
    let mut v: Vec<FindingCode> = c
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| f.code)
        .chain(
            c.finding_groups
                .iter()
                .filter(|g| g.severity == Severity::Error)
                .map(|g| g.code),
        )
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// A usage error.
fn usage(m: String) -> Error {
    Error::Usage(m)
}

/// The absolute, symlink-free form of `p`, or of its nearest existing
/// ancestor joined with the rest.
fn resolve(p: &Path) -> PathBuf {
    crate::fileutil::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

/// Verifies every block, in parallel.
fn verify_all(blocks: &[PathBuf]) -> Vec<BlockCheck> {
    use rayon::prelude::*;
    blocks
        .par_iter()
        .map(|b| verify_block(b, &CheckOptions::default()))
        .collect()
}

/// The span `[from, to)` of a rewrite's drops.
fn lost_range(r: &Rewrite) -> Option<[i64; 2]> {
    let mut lo = None::<i64>;
    let mut hi = None::<i64>;
    for d in &r.dropped {
        let (a, b) = match (d.from, d.to) {
            (Some(a), Some(b)) => (a, b),
            _ => (r.min_time, r.max_time),
        };
        lo = Some(lo.map_or(a, |x| x.min(a)));
        hi = Some(hi.map_or(b, |x| x.max(b)));
    }
    Some([lo?, hi?])
}

/// Sums the blocks' and the WAL's losses into the report.
fn tally(report: &mut SalvageReport) {
    let mut ranges = Vec::new();
    for b in &report.blocks {
        if let Some(r) = &b.rewrite {
            report.series_dropped += r.series_dropped;
            report.samples_dropped += r.samples_dropped;
            report.samples_dropped_inexact |= r.samples_dropped_inexact;
            if let Some(x) = lost_range(r) {
                ranges.push(x);
            }
        }
        if b.action == BlockAction::Unreadable {
            report.blocks_unreadable += 1;
            report.samples_dropped_inexact = true;
            if let Ok(m) = crate::block::read_meta(&b.source) {
                ranges.push([m.min_time, m.max_time]);
            }
        }
    }
    if let Some(w) = &report.wal
        && let Some(r) = w.lost_range
    {
        ranges.push(r);
    }
    if let Some(r) = report.checkpoint.as_ref().and_then(|c| c.lost_range) {
        ranges.push(r);
    }
    ranges.sort_unstable();
    let mut merged: Vec<[i64; 2]> = Vec::new();
    for r in ranges {
        match merged.last_mut() {
            Some(l) if r[0] <= l[1] => l[1] = l[1].max(r[1]),
            _ => merged.push(r),
        }
    }
    report.lost_ranges = merged;
}

impl SalvageReport {
    /// An empty report of a run on `source`.
    fn new(source: &Path, out: Option<&Path>, opts: &SalvageOptions) -> SalvageReport {
        SalvageReport {
            source: source.to_path_buf(),
            out: out.map(Path::to_path_buf),
            in_place: out.is_none(),
            dry_run: opts.dry_run,
            blocks: Vec::new(),
            quarantine: None,
            wal: None,
            chunks_head: None,
            checkpoint: None,
            series_dropped: 0,
            samples_dropped: 0,
            samples_dropped_inexact: false,
            blocks_unreadable: 0,
            lost_ranges: Vec::new(),
        }
    }
}

impl BlockSalvage {
    /// The outcome of the block `c` checked, before anything is done.
    fn new(c: &BlockCheck, action: BlockAction) -> BlockSalvage {
        BlockSalvage {
            source: c.dir.clone(),
            ulid: c.ulid.clone(),
            action,
            error_codes: error_codes(c),
            new_ulid: None,
            new_dir: None,
            quarantined_to: None,
            rewrite: None,
            reason: None,
        }
    }

    /// Records a rewrite and the block it placed.
    fn rewritten(&mut self, rewrite: Rewrite, placed: Option<crate::write::WrittenBlock>) {
        self.action = BlockAction::Rewritten;
        self.rewrite = Some(rewrite);
        if let Some(w) = placed {
            self.new_ulid = Some(w.ulid);
            self.new_dir = Some(w.dir);
        }
    }
}

/// Refuses to start when `at` has less free space than the blocks `checks`
/// that `needs_room` selects take.
fn check_room(
    checks: &[BlockCheck],
    needs_room: impl Fn(&BlockCheck) -> bool,
    at: &Path,
) -> Result<()> {
    let need: u64 = checks
        .iter()
        .filter(|c| needs_room(c))
        .map(|c| crate::block::block_size(&c.dir))
        .sum();
    if let Some(free) = fsops::free_space(at)
        && free < need
    {
        return Err(Error::io(
            at,
            std::io::Error::other(format!(
                "no space: salvage needs about {need} bytes, {free} are free"
            )),
        ));
    }
    Ok(())
}

/// Rewrites `src` into `parent`, checks the result with verify, places it.
fn rewrite_and_place(
    src: &Path,
    parent: &Path,
    dry_run: bool,
    before_place: &mut dyn FnMut() -> Result<()>,
) -> Result<(RewriteResult, Option<crate::write::WrittenBlock>)> {
    let res = rewrite_block(src, parent, dry_run)?;
    let mut placed = None;
    let res = match res {
        RewriteResult::Done { rewrite, block } => {
            if let Some(u) = block {
                let chk = verify_block(&u.tmp, &CheckOptions::default());
                if chk.has_errors() {
                    let codes = error_codes(&chk)
                        .iter()
                        .map(|c| c.as_str())
                        .collect::<Vec<_>>()
                        .join(", ");
                    u.discard();
                    return Err(Error::Usage(format!(
                        concat!(
                            "internal: the rewrite of {} does not verify clean ({codes}); ",
                            "nothing placed"
                        ),
                        src.display(),
                        codes = codes
                    )));
                }
                before_place()?;
                placed = Some(u.place()?);
            } else if !dry_run {
                before_place()?;
            }
            RewriteResult::Done {
                rewrite,
                block: None,
            }
        }
        other => other,
    };
    Ok((res, placed))
}

/// Usage errors on PATH and OUT, before anything is written: OUT must be a
/// separate, empty directory — or hold only the `<ULID>.tmp-for-creation`
/// directories a killed salvage left (never a whole block: they are placed
/// by rename), which are removed unless `dry_run`.
fn check_out(path: &Path, out: &Path, dry_run: bool) -> Result<()> {
    let (rp, ro) = (resolve(path), resolve(out));
    if ro.starts_with(&rp) {
        return Err(usage(format!(
            "OUT {} is inside {}: salvage writes nothing into what it reads",
            out.display(),
            path.display()
        )));
    }
    if rp.starts_with(&ro) {
        return Err(usage(format!(
            "{} is inside OUT {}: OUT must be a separate, empty directory",
            path.display(),
            out.display()
        )));
    }
    if let Ok(rd) = std::fs::read_dir(out) {
        let entries: Vec<std::fs::DirEntry> = rd.filter_map(|e| e.ok()).collect();
        let leftover = |e: &std::fs::DirEntry| {
            e.file_type().is_ok_and(|t| t.is_dir())
                && e.file_name()
                    .to_str()
                    .and_then(|n| n.strip_suffix(".tmp-for-creation"))
                    .is_some_and(|u| u.len() == 26 && u.bytes().all(|b| b.is_ascii_alphanumeric()))
        };
        if !entries.iter().all(leftover) {
            return Err(usage(format!(
                "OUT {} is not empty: salvage never writes over existing data",
                out.display()
            )));
        }
        if !dry_run {
            for e in &entries {
                std::fs::remove_dir_all(e.path()).map_err(|err| Error::io(e.path(), err))?;
            }
        }
    } else if out.exists() {
        return Err(usage(format!("OUT {} is not a directory", out.display())));
    }
    Ok(())
}

/// Salvages the block or directory `path` into `out`. See the module docs.
pub fn salvage(path: &Path, out: &Path, opts: &SalvageOptions) -> Result<SalvageReport> {
    let layout = scan(path)?;
    if layout.kind != DirKind::Block && crate::check::dir::nothing_recognisable(&layout) {
        return Err(usage(format!(
            "{}: nothing recognisable (no block, no WAL): not a Prometheus data directory",
            path.display()
        )));
    }
    check_out(path, out, opts.dry_run)?;
    let checks = verify_all(&layout.blocks);
    // Room: rewritten blocks take about their source's size; unchanged
    // ones take nothing when hard links work (same filesystem).
    let same_fs = fsops::device_of(path) == fsops::device_of(out);
    check_room(&checks, |c| c.has_errors() || !same_fs, out)?;
    let mut report = SalvageReport::new(path, Some(out), opts);
    if !opts.dry_run {
        std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    }
    for c in &checks {
        let mut b = BlockSalvage::new(c, BlockAction::Linked);
        if !c.has_errors() {
            if !opts.dry_run {
                let (dir, linked) = link_block(&c.dir, out)?;
                b.new_dir = Some(dir);
                b.action = if linked {
                    BlockAction::Linked
                } else {
                    BlockAction::Copied
                };
            } else if !same_fs {
                b.action = BlockAction::Copied;
            }
        } else {
            let (res, placed) = rewrite_and_place(&c.dir, out, opts.dry_run, &mut || Ok(()))?;
            match res {
                RewriteResult::Unreadable { reason } => {
                    b.action = BlockAction::Unreadable;
                    b.reason = Some(reason);
                }
                RewriteResult::Done { rewrite, .. } => b.rewritten(*rewrite, placed),
            }
        }
        report.blocks.push(b);
    }
    if !opts.dry_run {
        fsops::sync_dir(out).map_err(|e| Error::io(out, e))?;
    }
    tally(&mut report);
    Ok(report)
}

/// Hard-links (or copies) the block `src` into `parent/<name>` through a
/// `*.tmp-for-creation` directory. Returns the new directory and whether
/// every file was linked.
fn link_block(src: &Path, parent: &Path) -> Result<(PathBuf, bool)> {
    let name = src
        .file_name()
        .ok_or_else(|| usage(format!("{}: no block name", src.display())))?;
    let fin = parent.join(name);
    let mut tmpname = name.to_os_string();
    tmpname.push(".tmp-for-creation");
    let tmp = parent.join(tmpname);
    let io = |p: &Path, e| Error::io(p, e);
    std::fs::create_dir(&tmp).map_err(|e| io(&tmp, e))?;
    let mut all_linked = true;
    let res = (|| -> Result<()> {
        let mut dirs = vec![(src.to_path_buf(), tmp.clone())];
        while let Some((s, d)) = dirs.pop() {
            for ent in std::fs::read_dir(&s).map_err(|e| io(&s, e))? {
                let ent = ent.map_err(|e| io(&s, e))?;
                let (sp, dp) = (ent.path(), d.join(ent.file_name()));
                if ent.file_type().map_err(|e| io(&sp, e))?.is_dir() {
                    std::fs::create_dir(&dp).map_err(|e| io(&dp, e))?;
                    dirs.push((sp, dp));
                } else if !fsops::try_hard_link(&sp, &dp).map_err(|e| io(&dp, e))? {
                    all_linked = false;
                    std::fs::copy(&sp, &dp).map_err(|e| io(&dp, e))?;
                    std::fs::File::open(&dp)
                        .and_then(|f| f.sync_all())
                        .map_err(|e| io(&dp, e))?;
                }
            }
            fsops::sync_dir(&d).map_err(|e| io(&d, e))?;
        }
        fsops::rename_noreplace(&tmp, &fin).map_err(|e| io(&fin, e))?;
        Ok(())
    })();
    if let Err(e) = res {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e);
    }
    Ok((fin, all_linked))
}
