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

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::block::{BlockFiles, read_meta};
use crate::error::{Error, Result};
use crate::format::chunkenc::{self, Encoding};
use crate::format::index::SeriesEntry;
use crate::format::meta::BlockMeta;
use crate::layout::{self, DirKind};
use crate::selector::{self, Matcher};

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
    let lay = layout::scan(path)?;
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
    let range = (meta.max_time as u64).wrapping_sub(meta.min_time as u64);
    if let Some(table) = postings_without_all(ir) {
        return without_all_postings(dir, meta, ir, &table, opts, files.index_path());
    }

    let mut pairs: Vec<PairStat> = Vec::new();
    let mut pair_index: HashMap<u64, u32, BuildHasherDefault<MulHasher>> = HashMap::default();
    // The previous series' labels and their pair indexes: consecutive series
    // share most of their labels, which then need no hash lookup.
    let mut prev: Vec<(u32, u32, u32)> = Vec::new();
    let mut entry = SeriesEntry::default();
    let mut resolved: Vec<(&[u8], &[u8])> = Vec::new();
    let mut series_analyzed = 0u64;
    let mut entries = 0u64;
    let mut comp = opts.extended.then(ChunkAcc::default);

    let mut it = ir.series();
    while let Some(r) = it.next_into(&mut entry) {
        r.map_err(|e| Error::decode(files.index_path(), e))?;
        if !opts.selectors.is_empty() {
            ir.resolve_labels(&entry, &mut resolved)
                .map_err(|e| Error::decode(files.index_path(), e))?;
            if !selector::matches_any(&opts.selectors, &resolved) {
                continue;
            }
        }
        series_analyzed += 1;
        let uncovered = match (entry.chunks.first(), entry.chunks.last()) {
            (Some(f), Some(l)) => range.wrapping_sub((l.maxt as u64).wrapping_sub(f.mint as u64)),
            _ => range,
        };
        for (i, &(n, v)) in entry.labels.iter().enumerate() {
            let pi = match prev.get(i) {
                Some(&(pn, pv, pi)) if pn == n && pv == v => pi,
                _ => {
                    let key = (u64::from(n) << 32) | u64::from(v);
                    let next = pairs.len() as u32;
                    let pi = *pair_index.entry(key).or_insert(next);
                    if pi == next {
                        pairs.push(PairStat {
                            name: n,
                            value: v,
                            count: 0,
                            uncovered: 0,
                        });
                    }
                    if let Some(slot) = prev.get_mut(i) {
                        *slot = (n, v, pi);
                    } else {
                        prev.push((n, v, pi));
                    }
                    pi
                }
            };
            if let Some(p) = pairs.get_mut(pi as usize) {
                p.count += 1;
                p.uncovered = p.uncovered.wrapping_add(uncovered);
            }
        }
        prev.truncate(entry.labels.len());
        entries += entry.labels.len() as u64;
        if let Some(c) = comp.as_mut() {
            for m in &entry.chunks {
                let rec = block.chunk(m)?;
                let Some(enc) = Encoding::from_u8(rec.encoding) else {
                    return Err(Error::decode(
                        block.segment_path(m.segment()),
                        crate::block::unsupported_encoding(&rec),
                    ));
                };
                let n = chunkenc::num_samples(enc, rec.data, rec.data_offset)
                    .map_err(|e| Error::decode(block.segment_path(m.segment()), e))?;
                c.add(enc, u64::from(n), rec.data.len() as u64);
            }
        }
    }
    drop(pair_index);

    // Resolve the symbols once per pair, then aggregate per name.
    let sym = |r: u32| -> Result<&[u8]> {
        ir.symbols.lookup(r).ok_or_else(|| {
            Error::decode(
                files.index_path(),
                crate::format::DecodeError::OutOfBounds {
                    what: "symbol reference",
                    offset: ir.symbols.offset,
                    target: u64::from(r),
                    len: ir.symbols.len() as u64,
                },
            )
        })
    };
    let mut strs: Vec<(&[u8], &[u8])> = Vec::with_capacity(pairs.len());
    for p in &pairs {
        strs.push((sym(p.name)?, sym(p.value)?));
    }
    let mut names: Vec<NameStat> = Vec::new();
    let mut name_of: HashMap<u32, usize, BuildHasherDefault<MulHasher>> = HashMap::default();
    for (p, (_, v)) in pairs.iter().zip(&strs) {
        let ni = *name_of.entry(p.name).or_insert_with(|| {
            names.push(NameStat {
                name: p.name,
                uncovered: 0,
                values: 0,
                value_len: 0,
            });
            names.len() - 1
        });
        if let Some(n) = names.get_mut(ni) {
            n.uncovered = n.uncovered.wrapping_add(p.uncovered);
            n.values += 1;
            n.value_len += v.len() as u64;
        }
    }

    let churn = |m: u64| -> u64 { go_u64(m as f64 / range as f64) };
    let limit = opts.limit;
    let pair_key = |i: usize| strs.get(i).copied().unwrap_or((b"", b""));
    let pair_str = |i: usize| {
        let (n, v) = pair_key(i);
        let mut s = String::from_utf8_lossy(n).into_owned();
        s.push('=');
        s.push_str(&String::from_utf8_lossy(v));
        s
    };
    let name_key = |i: usize| {
        names
            .get(i)
            .and_then(|n| ir.symbols.lookup(n.name))
            .unwrap_or(b"")
    };
    let name_str = |i: usize| String::from_utf8_lossy(name_key(i)).into_owned();

    let churn_label_pairs = top(
        pairs.len(),
        limit,
        |i| pairs.get(i).map_or(0, |p| churn(p.uncovered)),
        pair_key,
        pair_str,
    );
    let churn_label_names = top(
        names.len(),
        limit,
        |i| names.get(i).map_or(0, |n| churn(n.uncovered)),
        name_key,
        name_str,
    );
    let common_label_pairs = top(
        pairs.len(),
        limit,
        |i| pairs.get(i).map_or(0, |p| p.count),
        pair_key,
        pair_str,
    );
    let label_value_length = top(
        names.len(),
        limit,
        |i| names.get(i).map_or(0, |n| n.value_len),
        name_key,
        name_str,
    );
    let label_cardinality = top(
        names.len(),
        limit,
        |i| names.get(i).map_or(0, |n| n.values),
        name_key,
        name_str,
    );
    let metric_pairs: Vec<usize> = (0..pairs.len())
        .filter(|&i| pair_key(i).0 == b"__name__")
        .collect();
    let metric_cardinality = top(
        metric_pairs.len(),
        limit,
        |i| {
            metric_pairs
                .get(i)
                .and_then(|&p| pairs.get(p))
                .map_or(0, |p| p.count)
        },
        |i| metric_pairs.get(i).map_or(&b""[..], |&p| pair_key(p).1),
        |i| {
            String::from_utf8_lossy(metric_pairs.get(i).map_or(&b""[..], |&p| pair_key(p).1))
                .into_owned()
        },
    );

    let series = if opts.selectors.is_empty() {
        meta.stats.num_series
    } else {
        series_analyzed
    };
    let duration_ms = meta.max_time.wrapping_sub(meta.min_time);
    Ok(Analysis {
        block_id: meta.ulid.clone(),
        dir: dir.to_path_buf(),
        min_time: meta.min_time,
        max_time: meta.max_time,
        duration: crate::gofmt::duration_ms(duration_ms),
        duration_ms,
        series,
        series_analyzed,
        label_names: names.len() as u64,
        postings: pairs.len() as u64,
        postings_entries: entries,
        churn_label_pairs,
        churn_label_names,
        common_label_pairs,
        label_value_length,
        label_cardinality,
        metric_cardinality,
        compaction: comp.map(ChunkAcc::finish),
    })
}

/// The postings offset table's entries when it reads cleanly and has no
/// all-postings entry (`""=""`); `None` otherwise (the usual case, and a
/// damaged table, which the series pass then reports on its own terms).
fn postings_without_all<'a>(
    ir: &crate::format::index::IndexReader<'a>,
) -> Option<Vec<crate::format::index::PostingsEntry<'a>>> {
    if ir.toc.postings_table == 0 {
        return None;
    }
    // Streamed first: the usual index has the entry (first, when sorted)
    // and nothing is collected.
    let mut it = ir.postings_table_iter().ok()?;
    if it.any(|e| e.map_or(true, |e| e.name.is_empty() && e.value.is_empty())) {
        return None;
    }
    ir.postings_table().ok()
}

/// promtool 2.42's figures for an index without the all-postings list: no
/// series is walked; names and values come from the postings offset table,
/// the metric names' counts from their postings lists.
fn without_all_postings(
    dir: &Path,
    meta: &BlockMeta,
    ir: &crate::format::index::IndexReader<'_>,
    table: &[crate::format::index::PostingsEntry<'_>],
    opts: &AnalyzeOptions,
    index_path: PathBuf,
) -> Result<Analysis> {
    // name -> (values, cumulative value length); the table may repeat a pair
    // (a v1 index is unsorted), values are counted once.
    let mut names: BTreeMap<&[u8], (u64, u64)> = BTreeMap::new();
    let mut seen: std::collections::HashSet<(&[u8], &[u8])> = std::collections::HashSet::new();
    let mut metrics: Vec<(u64, &[u8])> = Vec::new();
    for e in table.iter().filter(|e| !e.name.is_empty()) {
        if !seen.insert((e.name, e.value)) {
            continue;
        }
        let n = names.entry(e.name).or_default();
        n.0 += 1;
        n.1 += e.value.len() as u64;
        if e.name == b"__name__" {
            let p = ir
                .postings(e.offset)
                .map_err(|err| Error::decode(index_path.clone(), err))?;
            metrics.push((p.len() as u64, e.value));
        }
    }
    let names: Vec<(&[u8], (u64, u64))> = names.into_iter().collect();
    let lossy = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let by_name = |f: fn(&(u64, u64)) -> u64| {
        top(
            names.len(),
            opts.limit,
            |i| names.get(i).map_or(0, |n| f(&n.1)),
            |i| names.get(i).map_or(&b""[..], |n| n.0),
            |i| lossy(names.get(i).map_or(&b""[..], |n| n.0)),
        )
    };
    let label_value_length = by_name(|v| v.1);
    let label_cardinality = by_name(|v| v.0);
    let metric_cardinality = top(
        metrics.len(),
        opts.limit,
        |i| metrics.get(i).map_or(0, |m| m.0),
        |i| metrics.get(i).map_or(&b""[..], |m| m.1),
        |i| lossy(metrics.get(i).map_or(&b""[..], |m| m.1)),
    );
    let duration_ms = meta.max_time.wrapping_sub(meta.min_time);
    Ok(Analysis {
        block_id: meta.ulid.clone(),
        dir: dir.to_path_buf(),
        min_time: meta.min_time,
        max_time: meta.max_time,
        duration: crate::gofmt::duration_ms(duration_ms),
        duration_ms,
        series: if opts.selectors.is_empty() {
            meta.stats.num_series
        } else {
            0
        },
        series_analyzed: 0,
        label_names: names.len() as u64,
        postings: 0,
        postings_entries: 0,
        churn_label_pairs: Vec::new(),
        churn_label_names: Vec::new(),
        common_label_pairs: Vec::new(),
        label_value_length,
        label_cardinality,
        metric_cardinality,
        compaction: opts.extended.then(|| ChunkAcc::default().finish()),
    })
}

/// Go's `uint64(f)` for the non-negative finite values the churn figures
/// take; NaN (an empty block range) gives 0.
fn go_u64(f: f64) -> u64 {
    if f.is_nan() { 0 } else { f as u64 }
}

#[derive(Debug, Clone, Copy)]
struct PairStat {
    name: u32,
    value: u32,
    count: u64,
    uncovered: u64,
}

#[derive(Debug, Clone, Copy)]
struct NameStat {
    name: u32,
    uncovered: u64,
    values: u64,
    value_len: u64,
}

/// The `limit` items of `0..n` with the greatest `value`, ties by `key`
/// ascending, rendered with `render`.
fn top<K: Ord>(
    n: usize,
    limit: usize,
    value: impl Fn(usize) -> u64,
    key: impl Fn(usize) -> K,
    render: impl Fn(usize) -> String,
) -> Vec<Ranked> {
    let mut idx: Vec<(u64, u32)> = (0..n).map(|i| (value(i), i as u32)).collect();
    let cmp = |a: &(u64, u32), b: &(u64, u32)| {
        b.0.cmp(&a.0)
            .then_with(|| key(a.1 as usize).cmp(&key(b.1 as usize)))
    };
    if limit > 0 && limit < idx.len() {
        idx.select_nth_unstable_by(limit - 1, cmp);
    }
    idx.truncate(limit);
    idx.sort_unstable_by(cmp);
    idx.into_iter()
        .map(|(v, i)| Ranked {
            key: render(i as usize),
            value: v,
        })
        .collect()
}

/// Accumulates the chunk statistics.
#[derive(Debug, Default)]
struct ChunkAcc {
    chunks: u64,
    fullness: [u64; 10],
    empty: u64,
    float_samples: Counts,
    float_bytes: Counts,
    hist_samples: Counts,
    hist_bytes: Counts,
}

/// How many chunks have each value of a figure: memory grows with the
/// number of distinct values, not with the number of chunks.
type Counts = BTreeMap<u64, u64>;

fn bump(counts: &mut Counts, v: u64) {
    *counts.entry(v).or_insert(0) += 1;
}

impl ChunkAcc {
    fn add(&mut self, enc: Encoding, samples: u64, bytes: u64) {
        self.chunks += 1;
        if samples == 0 {
            self.empty += 1;
        } else {
            let s = samples.min(MAX_SAMPLES_PER_CHUNK);
            // ceil(10 * s / 120) - 1, exact in integers.
            let b = (10 * s).div_ceil(MAX_SAMPLES_PER_CHUNK) - 1;
            if let Some(c) = self.fullness.get_mut(b as usize) {
                *c += 1;
            }
        }
        if enc.is_float() {
            bump(&mut self.float_samples, samples);
            bump(&mut self.float_bytes, bytes);
        } else {
            bump(&mut self.hist_samples, samples);
            bump(&mut self.hist_bytes, bytes);
        }
    }

    fn finish(self) -> Compaction {
        let mut pct = [0u64; 10];
        for (p, c) in pct.iter_mut().zip(self.fullness) {
            *p = (100 * c).checked_div(self.chunks).unwrap_or(0);
        }
        let stats = |samples: &Counts, bytes: &Counts| ChunkStats {
            chunks: samples.values().sum(),
            samples: distribution(samples),
            bytes: distribution(bytes),
        };
        Compaction {
            chunks: self.chunks,
            fullness: self.fullness,
            fullness_percent: pct,
            empty_chunks: self.empty,
            float: stats(&self.float_samples, &self.float_bytes),
            histogram: stats(&self.hist_samples, &self.hist_bytes),
        }
    }
}

/// A [`Distribution`] from per-value counts.
fn distribution(counts: &Counts) -> Distribution {
    let (Some((&min, _)), Some((&max, _))) = (counts.first_key_value(), counts.last_key_value())
    else {
        return Distribution::default();
    };
    let n: u64 = counts.values().sum();
    let sum: u64 = counts
        .iter()
        .fold(0u64, |s, (v, c)| s.wrapping_add(v.wrapping_mul(*c)));
    // Newer promtool's bucketing: a power-of-ten step >= 10 close to a tenth
    // of the spread; bucket k holds start + k*step ..= start + (k+1)*step - 1
    // and is labelled [start + k*step + 1, start + (k+1)*step].
    let spread = (max - min) / 10;
    let mut step = 10u64;
    while step < spread && step <= 10_000 {
        step *= 10;
    }
    let start = min - min % step;
    let end = max - max % step + step;
    let nb = (end - start) / step + 1;
    let mut buckets: Vec<(u64, u64, u64)> = (0..nb)
        .map(|k| (start + k * step + 1, start + (k + 1) * step, 0))
        .collect();
    for (v, c) in counts {
        if let Some(b) = buckets.get_mut(((v - start) / step) as usize) {
            b.2 += c;
        }
    }
    Distribution {
        min,
        avg: sum / n,
        max,
        sum,
        buckets,
    }
}

/// A multiply-shift hasher for the u64/u32 keys of the counters.
#[derive(Debug, Default, Clone, Copy)]
struct MulHasher(u64);

impl Hasher for MulHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }
    fn write_u64(&mut self, n: u64) {
        let x = (self.0 ^ n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        self.0 = x ^ (x >> 29);
    }
}

/// promtool's human-readable report (2.42 layout, byte for byte).
pub fn render(a: &Analysis) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let _ = writeln!(s, "Block ID: {}", a.block_id);
    let _ = writeln!(s, "Duration: {}", a.duration);
    let _ = writeln!(s, "Series: {}", a.series);
    let _ = writeln!(s, "Label names: {}", a.label_names);
    let _ = writeln!(s, "Postings (unique label pairs): {}", a.postings);
    let _ = writeln!(
        s,
        "Postings entries (total label pairs): {}",
        a.postings_entries
    );
    let sections: [(&str, &[Ranked]); 6] = [
        (
            "Label pairs most involved in churning",
            &a.churn_label_pairs,
        ),
        (
            "Label names most involved in churning",
            &a.churn_label_names,
        ),
        ("Most common label pairs", &a.common_label_pairs),
        (
            "Label names with highest cumulative label value length",
            &a.label_value_length,
        ),
        ("Highest cardinality labels", &a.label_cardinality),
        ("Highest cardinality metric names", &a.metric_cardinality),
    ];
    for (title, list) in sections {
        let _ = writeln!(s, "\n{title}:");
        for r in list {
            let _ = writeln!(s, "{} {}", r.value, r.key);
        }
    }
    if let Some(c) = &a.compaction {
        s.push_str("\nCompaction analysis:\n");
        s.push_str("Fullness: Amount of samples in chunks (100% is 120 samples)\n");
        for (i, p) in c.fullness_percent.iter().enumerate() {
            let _ = write!(s, "{:>7}%: ", (i + 1) * 10);
            for _ in 0..*p {
                s.push('#');
            }
            s.push('\n');
        }
    }
    s
}

#[cfg(test)]
mod tests;
