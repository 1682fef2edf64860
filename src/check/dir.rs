//! Checks of a whole directory: every block (in parallel), temporary
//! leftovers, stray entries, duplicate ULIDs, overlapping blocks (each
//! explained), blocks Prometheus would delete on open, and encodings too new
//! for a target Prometheus version.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;

use super::block::{BlockCheck, CheckOptions, verify_block};
use super::{Finding, FindingCode, Severity};
use crate::error::Result;
use crate::layout::{self, DirKind, Layout};

/// The result of checking a block, data or snapshot directory.
#[derive(Debug, Clone, Serialize)]
pub struct DirCheck {
    /// What the directory holds.
    pub layout: Layout,
    /// One result per block, sorted by minTime (unreadable ones last).
    pub blocks: Vec<BlockCheck>,
    /// Directory-level findings (leftovers, overlaps, parents).
    pub findings: Vec<Finding>,
    /// A running Prometheus holds the directory's `lock`: blocks and WAL
    /// files that vanished during the read were re-resolved (see
    /// [`verify_dir_with`]).
    pub live: bool,
}

impl DirCheck {
    /// What Prometheus' startup will do with this directory.
    pub fn startup(&self) -> super::verdict::Startup {
        super::verdict::startup(self.all_findings())
    }

    /// Every finding: directory-level first, then per block in block order.
    pub fn all_findings(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .chain(self.blocks.iter().flat_map(|b| b.findings.iter()))
    }
}

/// A running Prometheus compacts and deletes blocks while we read: a block
/// gone by the end of its check is no damage; its data is in the block that
/// replaced it (a compaction writes the child before it deletes the
/// parents), which the next listing shows. Lists `root` again, dropping the
/// gone blocks (an info finding each) and checking the new ones, until the
/// set of blocks is stable (up to 8 times).
fn relist_until_stable(
    root: &Path,
    layout: &mut Layout,
    blocks: &mut Vec<BlockCheck>,
    findings: &mut Vec<Finding>,
    check: impl Fn(&[PathBuf]) -> Vec<BlockCheck>,
) {
    for _ in 0..8 {
        let Ok(now) = layout::scan(root) else { break };
        let gone: Vec<usize> = (0..blocks.len())
            .filter(|&i| blocks.get(i).is_some_and(|b| !now.blocks.contains(&b.dir)))
            .collect();
        let new: Vec<PathBuf> = now
            .blocks
            .iter()
            .filter(|d| !blocks.iter().any(|b| &b.dir == *d))
            .cloned()
            .collect();
        if gone.is_empty() && new.is_empty() {
            break;
        }
        for &i in gone.iter().rev() {
            findings.push(deleted_during_read(&blocks.remove(i)));
        }
        blocks.extend(check(&new));
        *layout = now;
    }
}

/// The finding for a block deleted while it was read.
fn deleted_during_read(b: &BlockCheck) -> Finding {
    let mut f = Finding::new(
        Severity::Info,
        FindingCode::BlockDeletedDuringRead,
        &b.dir,
        concat!(
            "block deleted while it was read (a running Prometheus compacted ",
            "it into a new block, or retention deleted it): not damage; its ",
            "data, if kept, is in the block that replaced it, checked instead"
        ),
    )
    .in_block(&b.ulid);
    if let Some(m) = &b.meta {
        f.message.push_str(&format!(
            " (it covered {})",
            crate::vocab::range(m.min_time, m.max_time)
        ));
    }
    f
}

/// Checks every block of `root` (in parallel on the current rayon pool),
/// calling `progress` after each block, and the directory itself.
pub fn verify_dir_with(
    root: &Path,
    opts: &CheckOptions,
    progress: &(dyn Fn(&BlockCheck) + Sync),
) -> Result<DirCheck> {
    let mut layout = layout::scan(root)?;
    let check = |dirs: &[PathBuf]| -> Vec<BlockCheck> {
        dirs.par_iter()
            .map(|b| {
                crate::copy::fsops::test_pause(
                    "verify_block",
                    &b.file_name().unwrap_or_default().to_string_lossy(),
                );
                let r = verify_block(b, opts);
                progress(&r);
                r
            })
            .collect()
    };
    // Whether a server uses the directory (a scan of `/proc`) is asked
    // while the blocks are checked: nothing in their checks depends on it.
    let (live, mut blocks) = rayon::join(
        || layout.kind != DirKind::Block && is_live(root),
        || check(&layout.blocks),
    );
    let mut findings = Vec::new();
    relist_until_stable(root, &mut layout, &mut blocks, &mut findings, check);
    blocks.sort_by(|a, b| {
        let ka = a.meta.as_ref().map(|m| m.min_time).unwrap_or(i64::MAX);
        let kb = b.meta.as_ref().map(|m| m.min_time).unwrap_or(i64::MAX);
        (ka, &a.ulid).cmp(&(kb, &b.ulid))
    });
    if live {
        findings.insert(
            0,
            Finding::new(
                Severity::Info,
                FindingCode::PrometheusRunning,
                root,
                concat!(
                    "a running Prometheus uses this directory (its lock is held, ",
                    "or its files are open): this is a live directory; blocks, WAL ",
                    "segments and head chunk files it deletes during the read are ",
                    "re-resolved, and the files it is writing are not damage"
                ),
            ),
        );
    }
    if nothing_recognisable(&layout) {
        findings.push(Finding::new(
            Severity::Error,
            FindingCode::DirUnrecognised,
            root,
            format!(
                concat!(
                    "nothing recognisable: no block, no wal/, no chunks_head/ — not ",
                    "a block, data or snapshot directory; {}"
                ),
                layout::what_it_is_instead(&layout)
            ),
        ));
    }
    findings.extend(empty_snapshot(root, &layout, &blocks));
    check_entries(&layout, &blocks, live, &mut findings);
    if layout.kind != DirKind::Block {
        check_blocks_together(&blocks, &mut findings);
    }
    if layout.kind == DirKind::Data {
        // WAL, WBL, checkpoints and head chunks (src/check/wal.rs).
        let min_valid_time = blocks
            .iter()
            .filter_map(|b| b.meta.as_ref())
            .map(|m| m.max_time)
            .max();
        findings.extend(super::wal::verify_live(&layout, min_valid_time, live));
    }
    if let Some(v) = &opts.target_version {
        check_target_version(&blocks, v, &mut findings);
    }
    Ok(DirCheck {
        layout,
        blocks,
        findings,
        live,
    })
}

/// True if a running Prometheus uses `root`: another process holds the
/// `flock` on `<root>/lock`, or (some builds, and `--storage.tsdb.no-lockfile`,
/// have no lock file) holds files under `root` open, as a running Prometheus
/// always holds its WAL segment and head chunk files (Linux `/proc`).
pub fn is_live(root: &Path) -> bool {
    crate::copy::fsops::lock_is_held(&root.join("lock"))
        || !crate::copy::fsops::processes_using(root).is_empty()
}

/// True for a "data directory" that holds nothing Prometheus writes
/// ([`layout::nothing_recognisable`]).
pub fn nothing_recognisable(layout: &Layout) -> bool {
    layout::nothing_recognisable(layout)
}

/// A snapshot directory with no block (and nothing half-written): valid,
/// but it carries no history.
fn empty_snapshot(root: &Path, layout: &Layout, blocks: &[BlockCheck]) -> Option<Finding> {
    (layout.kind == DirKind::Snapshot && blocks.is_empty() && layout.tmp_dirs.is_empty()).then(
        || {
            Finding::new(
                Severity::Warning,
                FindingCode::SnapshotEmpty,
                root,
                crate::vocab::EMPTY_SNAPSHOT,
            )
        },
    )
}

/// Checks every block of `root` and the directory itself.
pub fn verify_dir(root: &Path, opts: &CheckOptions) -> Result<DirCheck> {
    verify_dir_with(root, opts, &|_| {})
}

fn check_entries(layout: &Layout, blocks: &[BlockCheck], live: bool, out: &mut Vec<Finding>) {
    for t in &layout.tmp_dirs {
        let name = t
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let creation = name.ends_with(".tmp-for-creation");
        if live {
            out.push(Finding::new(
                Severity::Info,
                FindingCode::TmpDirInProgress,
                t,
                if creation {
                    concat!(
                        "block being written by the running Prometheus (a compaction ",
                        "or a head block): not a usable block yet"
                    )
                } else {
                    "block being deleted by the running Prometheus"
                },
            ));
        } else if layout.kind == DirKind::Snapshot && creation {
            out.push(snapshot_incomplete(layout, blocks, t, &name));
        } else {
            out.push(Finding::new(
                Severity::Warning,
                FindingCode::TmpDirLeftover,
                t,
                concat!(
                    "temporary directory left by an interrupted write or delete: ",
                    "Prometheus removes it on start; it is not a usable block"
                ),
            ));
        }
    }
    for s in &layout.stray {
        out.push(Finding::new(
            Severity::Info,
            FindingCode::StrayEntry,
            s,
            "entry that is neither a block nor a Prometheus file: ignored by Prometheus",
        ));
    }
    for c in &layout.chunk_snapshots {
        out.push(Finding::new(
            Severity::Info,
            FindingCode::ChunkSnapshotPresent,
            c,
            concat!(
                "in-memory snapshot of the head (memory-snapshot-on-shutdown): ",
                "used instead of WAL replay on start"
            ),
        ));
    }
}

/// A snapshot holding a `<ULID>.tmp-for-creation`: Prometheus died (or the
/// snapshot failed) while writing the snapshot's last block, the head. The
/// complete blocks end at their highest `maxTime`; the unfinished block was
/// to cover the head up to the moment its ULID was made (the snapshot
/// time). That range is missing from this backup.
fn snapshot_incomplete(layout: &Layout, blocks: &[BlockCheck], t: &Path, name: &str) -> Finding {
    let from = blocks
        .iter()
        .filter_map(|b| b.meta.as_ref())
        .map(|m| m.max_time)
        .max();
    let ulid = name.trim_end_matches(".tmp-for-creation");
    // The unfinished block's own meta.json, if it got that far.
    let own = crate::fileutil::read_meta_json(&t.join("meta.json"))
        .ok()
        .and_then(|b| crate::format::meta::BlockMeta::parse(&b).ok());
    let to = own
        .as_ref()
        .map(|m| m.max_time)
        .or_else(|| crate::format::meta::ulid_time(ulid).and_then(|t| i64::try_from(t).ok()))
        .or(layout.snapshot_time);
    let from = own.as_ref().map(|m| m.min_time).or(from);
    let mut f = Finding::new(
        Severity::Error,
        FindingCode::SnapshotIncomplete,
        t,
        String::new(),
    )
    .in_block(ulid);
    let what = match (from, to) {
        (Some(a), Some(b)) if a < b => {
            f = f.costs(a, b);
            format!(
                "the data of {} is missing from this backup",
                crate::vocab::range(a, b)
            )
        }
        _ => "the head's data is missing from this backup".to_string(),
    };
    f.message = format!(
        concat!(
            "unfinished block in a snapshot: the snapshot was cut short (Prometheus ",
            "died while writing its head block, which it does last); {what}; ",
            "take the snapshot again"
        ),
        what = what
    );
    f
}

/// Blocks checked together: duplicate ULIDs, parents still present, and
/// overlaps, each explained.
pub(crate) fn check_blocks_together(blocks: &[BlockCheck], out: &mut Vec<Finding>) {
    let metas: Vec<(&BlockCheck, &crate::format::meta::BlockMeta)> = blocks
        .iter()
        .filter_map(|b| b.meta.as_ref().map(|m| (b, m)))
        .collect();
    duplicate_ulids(&metas, out);
    parents_present(&metas, out);
    overlaps(&metas, out);
}

/// Blocks with their meta.json.
type Metas<'a> = [(&'a BlockCheck, &'a crate::format::meta::BlockMeta)];

/// Two directories with the same meta.json ulid.
fn duplicate_ulids(metas: &Metas<'_>, out: &mut Vec<Finding>) {
    let mut by_ulid: HashMap<&str, Vec<&BlockCheck>> = HashMap::new();
    for (b, m) in metas {
        by_ulid.entry(m.ulid.as_str()).or_default().push(b);
    }
    let mut dups: Vec<_> = by_ulid.into_iter().filter(|(_, v)| v.len() > 1).collect();
    dups.sort_by_key(|(u, _)| *u);
    for (u, v) in dups {
        for b in v.iter().skip(1) {
            out.push(
                Finding::new(
                    Severity::Error,
                    FindingCode::DuplicateBlockUlid,
                    &b.dir.join("meta.json"),
                    format!("meta.json ulid {u} is used by another block directory too"),
                )
                .in_block(u),
            );
        }
    }
}

/// Prometheus deletes every block listed as a parent of a loaded block.
fn parents_present(metas: &Metas<'_>, out: &mut Vec<Finding>) {
    let present: HashMap<&str, &BlockCheck> =
        metas.iter().map(|(b, m)| (m.ulid.as_str(), *b)).collect();
    for (_, m) in metas {
        for p in &m.compaction.parents {
            if let Some(pb) = present.get(p.ulid.as_str()) {
                out.push(
                    Finding::new(
                        Severity::Warning,
                        FindingCode::ParentBlockPresent,
                        &pb.dir,
                        format!(
                            concat!(
                                "block {} is listed as a parent of block {}: Prometheus deletes ",
                                "it when it opens this directory"
                            ),
                            p.ulid, m.ulid
                        ),
                    )
                    .in_block(&p.ulid)
                    .costs(p.min_time, p.max_time),
                );
            }
        }
    }
}

/// Overlapping blocks, each explained.
fn overlaps(metas: &Metas<'_>, out: &mut Vec<Finding>) {
    for (i, (a, ma)) in metas.iter().enumerate() {
        for (b, mb) in metas.iter().skip(i + 1) {
            if mb.min_time >= ma.max_time || ma.min_time >= mb.max_time || ma.ulid == mb.ulid {
                continue;
            }
            let (from, to) = (ma.min_time.max(mb.min_time), ma.max_time.min(mb.max_time));
            let sa: BTreeSet<&String> = ma.compaction.sources.iter().collect();
            let sb: BTreeSet<&String> = mb.compaction.sources.iter().collect();
            let (code, why) = if !sa.is_empty() && sa == sb {
                (
                    FindingCode::OverlapDuplicateBlock,
                    format!(
                        concat!(
                            "blocks {} and {} have the same sources: one is a copy of the ",
                            "other; the data is served once (merged), but the copy wastes space"
                        ),
                        ma.ulid, mb.ulid
                    ),
                )
            } else if !sa.is_empty() && !sb.is_empty() && (sa.is_subset(&sb) || sb.is_subset(&sa)) {
                (
                    FindingCode::OverlapParentAndChild,
                    format!(
                        concat!(
                            "blocks {} and {} overlap and one's sources contain the other's: ",
                            "a compaction child and its parent are both present (interrupted ",
                            "compaction or a copied parent)"
                        ),
                        ma.ulid, mb.ulid
                    ),
                )
            } else {
                (
                    FindingCode::OverlapVerticalMerge,
                    format!(
                        concat!(
                            "blocks {} and {} overlap in time: Prometheus (≥ 2.39) merges ",
                            "them vertically at the next compaction; samples at equal timestamps ",
                            "are deduplicated"
                        ),
                        ma.ulid, mb.ulid
                    ),
                )
            };
            // No `costs`: none of the three loses a sample (a vertical merge
            // drops only samples at equal timestamps, duplicates; a copy is
            // served once; a parent is deleted because its child holds its
            // data), so the overlap is named in the message, not as a loss.
            let why = format!(
                "{why} (overlap {}..{})",
                crate::gofmt::rfc3339_ms(from),
                crate::gofmt::rfc3339_ms(to)
            );
            out.push(Finding::new(Severity::Warning, code, &b.dir, why).in_block(&mb.ulid));
            let _ = a;
        }
    }
}

/// Parses "2.42" / "v3.7.1" into (major, minor).
fn parse_version(v: &str) -> Option<(u32, u32)> {
    let v = v.trim_start_matches('v');
    let mut it = v.split('.');
    Some((
        it.next()?.parse().ok()?,
        it.next().unwrap_or("0").parse().ok()?,
    ))
}

fn check_target_version(blocks: &[BlockCheck], target: &str, out: &mut Vec<Finding>) {
    let Some(t) = parse_version(target) else {
        return;
    };
    for b in blocks {
        for (enc, n) in &b.counts.encodings {
            let since = match enc.as_str() {
                "Histogram" => (2, 40),
                "FloatHistogram" => (2, 42),
                "XOR2" => (3, 11),
                "HistogramST" | "FloatHistogramST" => (3, 14),
                _ => (2, 0),
            };
            if t < since {
                out.push(
                    Finding::new(
                        Severity::Error,
                        FindingCode::EncodingTooNew,
                        &b.dir.join("chunks"),
                        format!(
                            concat!(
                                "{n} {enc} chunks: Prometheus {target} cannot read them (needs ",
                                "{}.{} or later)"
                            ),
                            since.0,
                            since.1,
                            n = n,
                            enc = enc,
                            target = target
                        ),
                    )
                    .in_block(&b.ulid),
                );
            }
        }
        if b.counts.index_version >= 3 && t < (2, 55) {
            out.push(
                Finding::new(
                    Severity::Error,
                    FindingCode::IndexVersionTooNew,
                    &b.dir.join("index"),
                    format!(
                        "index format {} needs Prometheus 2.55 or later",
                        b.counts.index_version
                    ),
                )
                .in_block(&b.ulid),
            );
        }
    }
}
