//! `promsnap analyze`: cardinality, churn and chunk statistics of one block,
//! with the figures of `promtool tsdb analyze` (Prometheus 2.42).
//!
//! One sequential pass over the series section of the chosen block's index
//! gives every figure: per unique label pair a series count and the summed
//! "uncovered" time (the part of the block's range a series has no chunk
//! for), from which the per-name figures follow. Memory is one small record
//! per unique label pair; nothing is allocated per series. With `extended`
//! the same pass reads each chunk's header (encoding, sample count, length).
//!
//! Where promtool's output order is not defined (ties in a `sort.Slice`,
//! some of them over Go map iteration), ties are ordered here by label name
//! and value, ascending.
//!
//! Differences from promtool 2.42, all on inputs promtool cannot handle:
//! a series without chunks (promtool panics) counts as uncovered for the
//! whole block range; a chunk with zero samples (promtool panics) is counted
//! in `empty_chunks` and in no fullness bucket.
//!
//! An index without the all-postings list (the `""=""` entry of the
//! postings offset table; Prometheus 2.1 wrote such indexes at one broken
//! revision) is analyzed as promtool 2.42 does: promtool walks the series
//! through that list, so it sees no series at all (postings, entries and the
//! churn and "most common" lists are empty), while label names, values and
//! the metric names' series counts come from the postings offset table and
//! the postings lists. promsnap does the same (the figures say what a
//! Prometheus query sees: nothing reaches those series without the list);
//! with `extended`, promtool then divides by zero chunks and panics, promsnap
//! reports zero chunks.
//!
//! `--match` (not in promtool 2.42): the analysis is restricted to the
//! series that match; every figure, the series count included, is then
//! computed over those series only.

mod chunks;
mod legacy;
mod pass;
mod rank;
mod render;

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::block::{BlockFiles, read_meta};
use crate::error::{Error, Result};
use crate::format::meta::BlockMeta;
use crate::layout::{self, DirKind};
use crate::selector::Matcher;
pub use render::render;

/// promtool's default `--limit`.
pub const DEFAULT_LIMIT: usize = 20;
/// The fullness histogram's 100%: samples per full chunk.
pub const MAX_SAMPLES_PER_CHUNK: u64 = 120;

/// What to analyze and how.
#[derive(Debug, Clone)]
pub struct AnalyzeOptions {
    /// Entries per ranked list (promtool's `--limit`).
    pub limit: usize,
    /// Series selectors; a series is analyzed if it matches any. Empty: all.
    pub selectors: Vec<Vec<Matcher>>,
    /// Also read every chunk's header: the compaction analysis.
    pub extended: bool,
}

impl Default for AnalyzeOptions {
    fn default() -> Self {
        AnalyzeOptions {
            limit: DEFAULT_LIMIT,
            selectors: Vec::new(),
            extended: false,
        }
    }
}

/// One line of a ranked list: `value key`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ranked {
    /// `name=value` for label pairs, the label name or metric name otherwise.
    pub key: String,
    /// The figure the list is ranked by.
    pub value: u64,
}

/// The statistics of one block.
#[derive(Debug, Clone, Serialize)]
pub struct Analysis {
    /// Block ULID.
    pub block_id: String,
    /// Block directory.
    pub dir: PathBuf,
    /// meta.json minTime (ms).
    pub min_time: i64,
    /// meta.json maxTime (ms, exclusive).
    pub max_time: i64,
    /// `maxTime - minTime` as Go prints a `time.Duration` (`1h59m45.001s`).
    pub duration: String,
    /// `maxTime - minTime` in ms.
    pub duration_ms: i64,
    /// The series figure printed: meta.json `stats.numSeries` as promtool
    /// prints it, or the number of matching series with selectors.
    pub series: u64,
    /// Series entries read from the index and analyzed.
    pub series_analyzed: u64,
    /// Distinct label names.
    pub label_names: u64,
    /// Unique label pairs ("postings").
    pub postings: u64,
    /// Total label pairs over all series ("postings entries").
    pub postings_entries: u64,
    /// Label pairs most involved in churning.
    pub churn_label_pairs: Vec<Ranked>,
    /// Label names most involved in churning.
    pub churn_label_names: Vec<Ranked>,
    /// Most common label pairs.
    pub common_label_pairs: Vec<Ranked>,
    /// Label names with the highest cumulative label value length.
    pub label_value_length: Vec<Ranked>,
    /// Label names with the most values.
    pub label_cardinality: Vec<Ranked>,
    /// Metric names with the most series.
    pub metric_cardinality: Vec<Ranked>,
    /// The compaction analysis (`extended` only).
    pub compaction: Option<Compaction>,
}

/// Chunk statistics of the compaction analysis.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Compaction {
    /// All chunks read.
    pub chunks: u64,
    /// Chunks per fullness bucket: bucket i holds chunks with
    /// `ceil(10 * min(samples, 120) / 120) == i + 1` (10% … 100%).
    pub fullness: [u64; 10],
    /// `100 * fullness[i] / chunks` in integer arithmetic (promtool's `#` count).
    pub fullness_percent: [u64; 10],
    /// Chunks with zero samples (in no bucket).
    pub empty_chunks: u64,
    /// Float chunks (XOR, XOR2): samples and bytes per chunk.
    pub float: ChunkStats,
    /// Histogram chunks (integer and float histograms): samples and bytes per chunk.
    pub histogram: ChunkStats,
}

/// Per-chunk figures of one kind of chunk.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ChunkStats {
    /// Number of chunks.
    pub chunks: u64,
    /// Samples per chunk.
    pub samples: Distribution,
    /// Bytes per chunk (chunk data, without length, encoding byte and CRC).
    pub bytes: Distribution,
}

/// min/avg/max and a histogram of a per-chunk figure, with the bucketing of
/// newer promtool versions: steps of 10, 100, … so that there are about ten
/// buckets between min and max; bucket `[from, to]` is inclusive.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Distribution {
    /// Smallest value.
    pub min: u64,
    /// Integer average (sum / count).
    pub avg: u64,
    /// Largest value.
    pub max: u64,
    /// Sum of all values.
    pub sum: u64,
    /// `(from, to, count)` buckets, inclusive bounds.
    pub buckets: Vec<(u64, u64, u64)>,
}

/// Picks the block to analyze under `path` (a block, data or snapshot dir):
/// the one with ULID `block`, or as promtool does the last block sorted by
/// minTime (ties: the greatest ULID). Reads only meta.json files.
pub fn choose_block(path: &Path, block: Option<&str>) -> Result<PathBuf> {
    let lay = layout::scan_source(path)?;
    let mut best: Option<(BlockMeta, PathBuf)> = None;
    let mut errors = Vec::new();
    for dir in &lay.blocks {
        // An explicit ULID: skip other directories without reading them.
        if let Some(id) = block
            && lay.kind != DirKind::Block
            && dir.file_name().and_then(|n| n.to_str()) != Some(id)
        {
            continue;
        }
        let meta = match read_meta(dir) {
            Ok(m) => m,
            Err(e) => {
                errors.push(e.to_string());
                continue;
            }
        };
        if let Some(id) = block {
            if meta.ulid == id {
                return Ok(dir.clone());
            }
            continue;
        }
        let better = best
            .as_ref()
            .is_none_or(|(b, _)| (meta.min_time, &meta.ulid) > (b.min_time, &b.ulid));
        if better {
            best = Some((meta, dir.clone()));
        }
    }
    if let Some((_, d)) = best {
        return Ok(d);
    }
    let mut msg = match block {
        Some(id) => format!("block {id} not found in {}", path.display()),
        None => format!("no block in {}", path.display()),
    };
    if !errors.is_empty() {
        msg.push_str(&format!(" ({})", errors.join("; ")));
    }
    Err(Error::Usage(msg))
}

/// Analyzes the block at `dir`. Opens only that block's files.
pub fn analyze_block(dir: &Path, opts: &AnalyzeOptions) -> Result<Analysis> {
    let files = BlockFiles::open(dir)?;
    let block = files.reader()?;
    let meta = &files.meta;
    let ir = &block.index;
    let index_path = files.index_path();
    if let Some(table) = legacy::postings_without_all(ir) {
        return legacy::without_all_postings(dir, meta, ir, &table, opts, index_path);
    }
    let range = (meta.max_time as u64).wrapping_sub(meta.min_time as u64);
    let pass = pass::walk_series(&block, &index_path, range, opts)?;
    // Resolve the symbols once per pair, then aggregate per name.
    let strs = pass::resolve_pairs(ir, &pass.pairs, &index_path)?;
    let names = rank::names_of(&pass.pairs, &strs);
    let lists = rank::Lists::of(ir, &pass.pairs, &strs, &names, range, opts.limit);
    let series = if opts.selectors.is_empty() {
        meta.stats.num_series
    } else {
        pass.series_analyzed
    };
    Ok(Analysis {
        series,
        series_analyzed: pass.series_analyzed,
        label_names: names.len() as u64,
        postings: pass.pairs.len() as u64,
        postings_entries: pass.entries,
        churn_label_pairs: lists.churn_label_pairs,
        churn_label_names: lists.churn_label_names,
        common_label_pairs: lists.common_label_pairs,
        label_value_length: lists.label_value_length,
        label_cardinality: lists.label_cardinality,
        metric_cardinality: lists.metric_cardinality,
        compaction: pass.chunks.map(chunks::ChunkAcc::finish),
        ..Analysis::of_block(dir, meta)
    })
}

impl Analysis {
    /// The block's identity and range, every figure empty.
    fn of_block(dir: &Path, meta: &BlockMeta) -> Analysis {
        let duration_ms = meta.max_time.wrapping_sub(meta.min_time);
        Analysis {
            block_id: meta.ulid.clone(),
            dir: dir.to_path_buf(),
            min_time: meta.min_time,
            max_time: meta.max_time,
            duration: crate::gofmt::duration_ms(duration_ms),
            duration_ms,
            series: 0,
            series_analyzed: 0,
            label_names: 0,
            postings: 0,
            postings_entries: 0,
            churn_label_pairs: Vec::new(),
            churn_label_names: Vec::new(),
            common_label_pairs: Vec::new(),
            label_value_length: Vec::new(),
            label_cardinality: Vec::new(),
            metric_cardinality: Vec::new(),
            compaction: None,
        }
    }
}

#[cfg(test)]
mod tests;
