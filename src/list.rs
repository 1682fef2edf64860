//! `promsnap ls`: the blocks of a block, data or snapshot directory with
//! promtool's columns, plus compaction level and the snapshot head block.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::block::{block_size, read_meta};
use crate::error::Result;
use crate::format::meta::BlockMeta;
use crate::layout::{self, DirKind, Layout};
pub use crate::vocab::{DEFAULT_BLOCK_RANGE_MS, head_block_index, infer_block_range};

/// One listed block.
#[derive(Debug, Clone, Serialize)]
pub struct BlockEntry {
    /// Block directory.
    pub dir: PathBuf,
    /// ULID (from meta.json, or the directory name when meta.json is unreadable).
    pub ulid: String,
    /// Parsed meta.json, when readable.
    #[serde(skip)]
    pub meta: Option<BlockMeta>,
    /// minTime (ms).
    pub min_time: Option<i64>,
    /// maxTime (ms, exclusive).
    pub max_time: Option<i64>,
    /// stats.numSamples.
    pub num_samples: Option<u64>,
    /// stats.numChunks.
    pub num_chunks: Option<u64>,
    /// stats.numSeries.
    pub num_series: Option<u64>,
    /// index + chunks + tombstones + meta.json bytes.
    pub size: u64,
    /// compaction.level.
    pub level: Option<i64>,
    /// True for the block a snapshot wrote from the head.
    pub snapshot_head: bool,
    /// Why the block could not be read.
    pub error: Option<String>,
}

impl BlockEntry {
    /// The entry of a block whose meta.json reads; `error` says what else
    /// is wrong with it.
    pub fn of_meta(dir: PathBuf, m: BlockMeta, size: u64, error: Option<String>) -> Self {
        BlockEntry {
            dir,
            ulid: m.ulid.clone(),
            min_time: Some(m.min_time),
            max_time: Some(m.max_time),
            num_samples: Some(m.stats.num_samples),
            num_chunks: Some(m.stats.num_chunks),
            num_series: Some(m.stats.num_series),
            size,
            level: Some(m.compaction.level),
            snapshot_head: false,
            error,
            meta: Some(m),
        }
    }

    /// The entry of a block whose meta.json does not read (named `ulid`).
    pub fn unreadable(dir: PathBuf, ulid: String, size: u64, error: String) -> Self {
        BlockEntry {
            dir,
            ulid,
            meta: None,
            min_time: None,
            max_time: None,
            num_samples: None,
            num_chunks: None,
            num_series: None,
            size,
            level: None,
            snapshot_head: false,
            error: Some(error),
        }
    }
}

/// Sorts blocks by minTime, then ULID; unreadable ones last, by ULID.
pub fn sort_entries(blocks: &mut [BlockEntry]) {
    blocks.sort_by(|a, b| match (a.min_time, b.min_time) {
        (Some(x), Some(y)) => x.cmp(&y).then_with(|| a.ulid.cmp(&b.ulid)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.ulid.cmp(&b.ulid),
    });
}

/// The listing of a directory.
#[derive(Debug, Clone, Serialize)]
pub struct Listing {
    /// The path listed.
    pub path: PathBuf,
    /// What kind of directory it is.
    pub kind: DirKind,
    /// Snapshot time from the directory name (ms).
    pub snapshot_time: Option<i64>,
    /// Block range used for the head-block rule (ms).
    pub block_range: i64,
    /// Blocks sorted by minTime (unreadable ones last, by name).
    pub blocks: Vec<BlockEntry>,
}

/// Lists the blocks of `path`. One unreadable block does not stop the listing.
pub fn list(path: &Path) -> Result<Listing> {
    let lay = layout::scan_source(path)?;
    Ok(list_layout(&lay, None))
}

/// Lists the blocks of an already scanned layout; `block_range` overrides inference.
pub fn list_layout(lay: &Layout, block_range: Option<i64>) -> Listing {
    let mut blocks: Vec<BlockEntry> = lay.blocks.iter().map(|d| entry(d)).collect();
    sort_entries(&mut blocks);
    let metas: Vec<&BlockMeta> = blocks.iter().filter_map(|b| b.meta.as_ref()).collect();
    let range = block_range.unwrap_or_else(|| infer_block_range(&metas));
    let in_snapshot = lay.kind == DirKind::Snapshot
        || (lay.kind == DirKind::Block
            && lay
                .root
                .canonicalize()
                .ok()
                .and_then(|p| p.parent().and_then(|q| q.file_name()).map(|n| n.to_owned()))
                .and_then(|n| n.to_str().map(layout::parse_snapshot_name))
                .flatten()
                .is_some());
    if let Some(i) = head_block_index(&metas, range, in_snapshot) {
        let ulid = metas.get(i).map(|m| m.ulid.clone());
        for b in &mut blocks {
            if b.meta.as_ref().map(|m| &m.ulid) == ulid.as_ref() {
                b.snapshot_head = true;
            }
        }
    }
    Listing {
        path: lay.root.clone(),
        kind: lay.kind,
        snapshot_time: lay.snapshot_time,
        block_range: range,
        blocks,
    }
}

fn entry(dir: &Path) -> BlockEntry {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let size = block_size(dir);
    match read_meta(dir) {
        Ok(m) => BlockEntry::of_meta(dir.to_path_buf(), m, size, missing_files(dir)),
        Err(e) => BlockEntry::unreadable(dir.to_path_buf(), name, size, e.to_string()),
    }
}

/// Prometheus opens a block's `index` file and `chunks/` directory (only
/// `tombstones` may be missing): without them it cannot open the block, and
/// `promtool tsdb list` fails.
fn missing_files(dir: &Path) -> Option<String> {
    let missing: Vec<&str> = [("index", false), ("chunks", true)]
        .into_iter()
        .filter(|&(n, is_dir)| {
            let p = dir.join(n);
            if is_dir { !p.is_dir() } else { !p.is_file() }
        })
        .map(|(n, _)| n)
        .collect();
    (!missing.is_empty()).then(|| {
        format!(
            "{} missing: Prometheus cannot open the block",
            missing.join(" and ")
        )
    })
}
