//! What a snapshot directory tells on its own: block
//! ranges on a timeline, holes and overlaps, the block-range grid, the head
//! block (or `skip_head`), the coverage end `C_snap`, the slave's first
//! block, and the master's compaction phase from level-1 ULID times.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::block::BlockFiles;
use crate::format::chunkenc::{self, Encoding, XorIter};
use crate::format::meta::ulid_time;
use crate::layout::{self, DirKind};
use crate::list::{self, DEFAULT_BLOCK_RANGE_MS};

use super::causes::NativeHistograms;
use super::{Finding, Span, fmt_dur, fmt_time};

/// Hints that keep a block out of `inOrderBlocksMaxTime`.
const NOT_IN_ORDER_HINTS: &[&str] = &[
    "from-out-of-order",
    "from-stale-series",
    "from-selected-series",
];

/// One block on the timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BlockSpan {
    /// ULID.
    pub ulid: String,
    /// minTime (ms, inclusive).
    pub min_time: i64,
    /// maxTime (ms, exclusive).
    pub max_time: i64,
    /// Compaction level.
    pub level: i64,
    /// Samples.
    pub num_samples: u64,
    /// Series.
    pub num_series: u64,
    /// The snapshot's head block.
    pub head_block: bool,
    /// Counts for `inOrderBlocksMaxTime` (no out-of-order / stale-series hint).
    pub in_order: bool,
    /// Creation time from the ULID (ms).
    pub created: Option<i64>,
    /// Bytes on disk (index, chunks, tombstones, meta.json), as Prometheus'
    /// size retention counts them.
    pub bytes: u64,
}

/// A pair of blocks whose ranges overlap.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Overlap {
    /// Earlier block.
    pub a: String,
    /// Later block.
    pub b: String,
    /// Overlapping range.
    pub from: i64,
    /// End of the overlapping range (exclusive).
    pub to: i64,
}

/// Where a value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// Given on the command line.
    Flag,
    /// Derived from the files.
    Inferred,
    /// Neither: Prometheus' default.
    Default,
    /// Not known.
    Unknown,
}

/// The snapshot side of the report.
#[derive(Debug, Clone, Serialize)]
pub struct SnapshotInfo {
    /// The directory.
    pub path: PathBuf,
    /// Its kind (`snapshot`, `data`, `block`).
    pub kind: DirKind,
    /// Snapshot wall time (ms): the directory name, else the head block's ULID.
    pub snapshot_time: Option<i64>,
    /// Where `snapshot_time` came from.
    pub snapshot_time_source: Source,
    /// Master block range `R` (ms).
    pub block_range: i64,
    /// Where `block_range` came from.
    pub block_range_source: Source,
    /// Readable blocks with sane ranges, by minTime.
    pub blocks: Vec<BlockSpan>,
    /// Holes between blocks (no block covers them).
    pub holes: Vec<Span>,
    /// Overlapping block pairs.
    pub overlaps: Vec<Overlap>,
    /// The head block, if the snapshot has one.
    pub head_block: Option<BlockSpan>,
    /// True if the head was included (a head block exists).
    pub head_included: bool,
    /// `C_snap`: max maxTime of in-order blocks = the slave's minValidTime.
    pub coverage_end: Option<i64>,
    /// Head min at snapshot time (`H_min`; `B_last` without a head block).
    pub head_min: Option<i64>,
    /// The slave's first block `[C_snap, next grid line)`.
    pub first_slave_block: Option<Span>,
    /// Compaction delay after the 1.5 R trigger, calibrated from level-1 ULIDs (ms).
    pub compaction_delay: Option<i64>,
    /// Usual sample interval of the newest block (ms).
    pub scrape_interval: Option<i64>,
    /// Native histograms in the newest block.
    pub native_histograms: Option<NativeHistograms>,
    /// Scrape targets in the newest block: distinct `(job, instance)` of its
    /// `up` series (absent: none found or unreadable).
    pub targets: Option<u64>,
    /// The head block's scrape targets with their newest `up` timestamps
    /// and series counts (`uptail::read`), for L4; not in the JSON.
    #[serde(skip)]
    pub up_tails: Option<Vec<super::uptail::UpTail>>,
    /// Problems and notes.
    pub findings: Vec<Finding>,
    /// No block at all in the directory (none left out as unreadable
    /// either): a `skip_head` snapshot taken before the master cut its
    /// first block (`empty.rs`).
    #[serde(skip)]
    pub empty: bool,
}

impl SnapshotInfo {
    /// Takes block `head` (or none) as the snapshot's head block instead of
    /// the one the grid rule found: for a caller who knows it from the
    /// snapshot's contents (a backfilled block also ends off the grid).
    pub fn set_head_block(&mut self, head: Option<&str>) {
        let old = self.head_block.as_ref().map(|h| h.ulid.clone());
        for b in &mut self.blocks {
            b.head_block = Some(b.ulid.as_str()) == head;
        }
        self.head_block = self.blocks.iter().find(|b| b.head_block).cloned();
        if self.head_block.as_ref().map(|h| &h.ulid) != old.as_ref() {
            // The targets' `up` tails are the head block's.
            self.up_tails = self.head_block.as_ref().and_then(|h| {
                let d = self.path.join(&h.ulid);
                super::uptail::read(if d.is_dir() { &d } else { &self.path })
            });
        }
        self.head_included = self.head_block.is_some();
        self.head_min = self
            .head_block
            .as_ref()
            .map(|h| h.min_time)
            .or(self.coverage_end);
        if self.kind != DirKind::Snapshot {
            self.snapshot_time = self.head_block.as_ref().and_then(|h| h.created);
            self.snapshot_time_source = if self.snapshot_time.is_some() {
                Source::Inferred
            } else {
                Source::Unknown
            };
        }
        const NO_HEAD: &str = "no head block: ";
        self.findings.retain(|f| !f.message.starts_with(NO_HEAD));
        if self.kind == DirKind::Snapshot && self.head_block.is_none() && !self.blocks.is_empty() {
            self.findings.push(Finding::warning(NO_HEAD_WARNING.into()));
        }
    }
}

/// The warning for a snapshot without a head block.
const NO_HEAD_WARNING: &str = concat!(
    "no head block: the snapshot was taken with skip_head=true (or the head was empty); it ends ",
    "at the last block boundary and the head's 0.5R–1.5R of data is not in it"
);

const BLOCK_RANGE_DEFAULT_NOTE: &str = concat!(
    "block range not inferable from fewer than two blocks: assuming Prometheus' default 2h ",
    "(give the block range to override)"
);

/// Reads a snapshot (or data, or block) directory. Never fails on bad
/// blocks: they become findings.
pub fn analyze(path: &Path, block_range: Option<i64>) -> crate::error::Result<SnapshotInfo> {
    let lay = layout::scan_source(path)?;
    let listing = list::list_layout(&lay, block_range);
    let mut findings = Vec::new();
    let blocks = block_spans(&listing, &mut findings);
    let r = listing.block_range;
    let block_range_source = range_source(block_range.is_some(), &listing);
    if block_range_source == Source::Default && r == DEFAULT_BLOCK_RANGE_MS {
        findings.push(Finding::note(BLOCK_RANGE_DEFAULT_NOTE.into()));
    }
    let empty = listing.blocks.is_empty();
    if empty {
        findings.push(Finding::warning(super::empty::EMPTY_WARNING.into()));
    } else if blocks.is_empty() {
        findings.push(Finding::error(format!(
            "{}: no readable block: no coverage to report",
            path.display()
        )));
    }
    // A step shorter than a scrape is the samples' phase (blocks start at
    // their first sample), not a hole. Where no chunk tells the interval,
    // 15 s (the interval of Prometheus' shipped prometheus.yml; the global
    // default is 1m): the smaller one flags more steps as holes, never
    // fewer. A block ends at its range's end (exclusive) and the next one
    // starts at its first sample, less than one interval past it; one
    // missing scrape makes the step longer than an interval. (A floor of
    // R/100 here once hid holes of up to 72 s at 2h blocks.)
    let phase = listing
        .blocks
        .last()
        .and_then(|b| infer_interval(&b.dir))
        .unwrap_or(15_000);
    let (holes, overlaps) = holes_and_overlaps(&blocks, phase, &mut findings);

    let head_block = blocks.iter().find(|b| b.head_block).cloned();
    let coverage_end = blocks
        .iter()
        .filter(|b| b.in_order)
        .map(|b| b.max_time)
        .max();
    let (snapshot_time, snapshot_time_source) = match (lay.snapshot_time, &head_block) {
        (Some(t), _) => (Some(t), Source::Inferred),
        (None, Some(h)) => (h.created, Source::Inferred),
        _ => (None, Source::Unknown),
    };
    head_findings(&lay, head_block.as_ref(), &blocks, phase, &mut findings);
    // H_min: the head block's min; else the last in-order block's max.
    let head_min = head_block.as_ref().map(|h| h.min_time).or(coverage_end);
    let first_slave_block = coverage_end.map(|c| Span {
        from: c,
        to: c.div_euclid(r) * r + r,
    });
    let compaction_delay = compaction_delay(&blocks, r);
    let newest = head_block
        .as_ref()
        .map(|h| h.ulid.clone())
        .or_else(|| blocks.last().map(|b| b.ulid.clone()));
    let newest_listed = newest
        .as_ref()
        .and_then(|u| listing.blocks.iter().find(|b| &b.ulid == u));
    let (targets, up_tails) = targets(head_block.as_ref(), newest_listed);

    Ok(SnapshotInfo {
        path: path.to_path_buf(),
        kind: lay.kind,
        snapshot_time,
        snapshot_time_source,
        block_range: r,
        block_range_source,
        blocks,
        holes,
        overlaps,
        head_included: head_block.is_some(),
        head_block,
        coverage_end,
        head_min,
        first_slave_block,
        compaction_delay,
        scrape_interval: newest_listed.and_then(|b| infer_interval(&b.dir)),
        native_histograms: newest_listed.map(native_histograms),
        targets,
        up_tails,
        findings,
        empty,
    })
}

/// Where the block range comes from: the flag, two or more blocks, or one
/// block alone whose ULID shows it cut from a head on that range's time
/// (`vocab::infer_block_range_from`); else the default.
fn range_source(given: bool, listing: &list::Listing) -> Source {
    let metas: Vec<_> = listing
        .blocks
        .iter()
        .filter_map(|b| b.meta.as_ref())
        .collect();
    if given {
        Source::Flag
    } else if metas.len() > 1
        || (metas.len() == 1 && crate::vocab::infer_block_range_from(&metas).is_some())
    {
        Source::Inferred
    } else {
        Source::Default
    }
}

/// The listed blocks with a plausible range, sorted as listed; the others
/// become findings.
fn block_spans(listing: &list::Listing, findings: &mut Vec<Finding>) -> Vec<BlockSpan> {
    let mut blocks = Vec::new();
    for b in &listing.blocks {
        let Some(m) = &b.meta else {
            findings.push(Finding::error(format!(
                "block {} unreadable, left out: {}",
                b.dir.display(),
                b.error.as_deref().unwrap_or("?")
            )));
            continue;
        };
        if !super::plausible(m.min_time) || !super::plausible(m.max_time) {
            findings.push(Finding::error(format!(
                "block {} has an implausible range [{}, {}): left out",
                m.ulid, m.min_time, m.max_time
            )));
            continue;
        }
        if m.max_time <= m.min_time {
            findings.push(Finding::error(format!(
                "block {} has a reversed or empty range [{}, {}): left out",
                m.ulid, m.min_time, m.max_time
            )));
            continue;
        }
        blocks.push(BlockSpan {
            ulid: m.ulid.clone(),
            min_time: m.min_time,
            max_time: m.max_time,
            level: m.compaction.level,
            num_samples: m.stats.num_samples,
            num_series: m.stats.num_series,
            head_block: b.snapshot_head,
            in_order: !m
                .compaction
                .hints
                .iter()
                .any(|h| NOT_IN_ORDER_HINTS.contains(&h.as_str())),
            created: ulid_time(&m.ulid).map(|t| t as i64),
            bytes: crate::block::block_size(&b.dir),
        });
    }
    blocks
}

/// Holes (longer than `phase`) and overlaps on the sorted list, each also a
/// warning.
fn holes_and_overlaps(
    blocks: &[BlockSpan],
    phase: i64,
    findings: &mut Vec<Finding>,
) -> (Vec<Span>, Vec<Overlap>) {
    let mut holes = Vec::new();
    let mut overlaps = Vec::new();
    let mut run_max: Option<(i64, &str)> = None;
    for b in blocks {
        if let Some((mx, who)) = run_max {
            if b.min_time > mx {
                holes.push(Span {
                    from: mx,
                    to: b.min_time,
                });
            } else if b.min_time < mx {
                overlaps.push(Overlap {
                    a: who.to_string(),
                    b: b.ulid.clone(),
                    from: b.min_time,
                    to: mx.min(b.max_time),
                });
            }
        }
        if run_max.is_none_or(|(mx, _)| b.max_time > mx) {
            run_max = Some((b.max_time, &b.ulid));
        }
    }
    holes.retain(|h| h.to - h.from > phase);
    for h in &holes {
        findings.push(Finding::warning(format!(
            "hole between blocks: no data from {} to {} ({})",
            fmt_time(h.from),
            fmt_time(h.to),
            fmt_dur(h.to - h.from)
        )));
    }
    for o in &overlaps {
        findings.push(Finding::warning(format!(
            "blocks {} and {} overlap from {} to {}: Prometheus merges them (vertical compaction)",
            o.a,
            o.b,
            fmt_time(o.from),
            fmt_time(o.to)
        )));
    }
    (holes, overlaps)
}

/// What the head block (or its absence) tells: a skip_head snapshot, a
/// ULID time far from the snapshot's name, a gap before the head.
fn head_findings(
    lay: &layout::Layout,
    head_block: Option<&BlockSpan>,
    blocks: &[BlockSpan],
    phase: i64,
    findings: &mut Vec<Finding>,
) {
    if lay.kind == DirKind::Snapshot && head_block.is_none() && !blocks.is_empty() {
        findings.push(Finding::warning(NO_HEAD_WARNING.into()));
    }
    if let (Some(h), Some(t)) = (head_block, lay.snapshot_time)
        && let Some(c) = h.created
        // A warning only: the head block is written by the snapshot call,
        // seconds after the directory's name time; ten minutes apart is
        // another snapshot's block.
        && (c - t).abs() > 10 * 60_000
    {
        findings.push(Finding::warning(format!(
            "the head block's ULID time {} is far from the snapshot directory's time {}",
            fmt_time(c),
            fmt_time(t)
        )));
    }
    let Some(h) = head_block else { return };
    let prev = blocks
        .iter()
        .filter(|b| !b.head_block && b.in_order)
        .map(|b| b.max_time)
        .max();
    if let Some(p) = prev
        && (h.min_time - p).abs() > phase
    {
        findings.push(Finding::note(format!(
            concat!(
                "the head block starts at {} but the previous block ends at {}: the master had a ",
                "gap or a fresh start"
            ),
            fmt_time(h.min_time),
            fmt_time(p)
        )));
    }
}

/// Compaction phase: a level-1 block is written at ≈ minTime + 1.5R + δ;
/// the median δ of the level-1 blocks.
fn compaction_delay(blocks: &[BlockSpan], r: i64) -> Option<i64> {
    let mut delays: Vec<i64> = blocks
        .iter()
        .filter(|b| b.level == 1 && !b.head_block && b.in_order)
        .filter_map(|b| Some(b.created? - (b.min_time + r + r / 2)))
        .filter(|&d| (0..=r / 2).contains(&d))
        .collect();
    delays.sort_unstable();
    delays.get(delays.len() / 2).copied()
}

/// Native histograms in the newest block: counted from its chunks, else
/// the meta's count.
fn native_histograms(b: &list::BlockEntry) -> NativeHistograms {
    let from_meta = b
        .meta
        .as_ref()
        .map(|m| m.stats.num_histogram_samples)
        .filter(|&n| n > 0);
    let (series, samples) = match count_native_histograms(&b.dir) {
        Some((series, samples)) => (Some(series), Some(samples)),
        None => (None, from_meta),
    };
    NativeHistograms {
        block: Some(b.ulid.clone()),
        series,
        samples,
        wal_samples_after_coverage_end: None,
    }
}

/// The newest block's scrape targets, and with a head block (the newest)
/// their newest `up` samples (L4): the tails name the targets in the same
/// walk; without them (no head block, unreadable), the targets counted.
fn targets(
    head_block: Option<&BlockSpan>,
    newest: Option<&list::BlockEntry>,
) -> (Option<u64>, Option<Vec<super::uptail::UpTail>>) {
    let up_tails = newest
        .filter(|b| head_block.is_some_and(|h| h.ulid == b.ulid))
        .and_then(|b| super::uptail::read(&b.dir));
    let targets = up_tails
        .as_ref()
        .map(|t| t.len() as u64)
        .or_else(|| newest.and_then(|b| count_targets(&b.dir)));
    (targets, up_tails)
}

/// Scrape targets of a block: the distinct `(job, instance)` label pairs of
/// its `up` series (Prometheus writes one `up` series per target), read
/// through the postings of `__name__="up"`; by a walk over every series when
/// the postings table cannot be read. `None` if the block cannot be read or
/// has no `up` series.
pub fn count_targets(dir: &Path) -> Option<u64> {
    use super::uptail::{Key, key_of, up_postings};
    let files = BlockFiles::open(dir).ok()?;
    let reader = files.reader().ok()?;
    let index = &reader.index;
    let mut entry = crate::format::index::SeriesEntry::default();
    let mut labels = Vec::new();
    let mut seen: std::collections::BTreeSet<Key> = std::collections::BTreeSet::new();
    if let Ok(list) = up_postings(index) {
        for id in list.iter().flat_map(|l| l.iter()) {
            let r = crate::format::refs::SeriesRef::from(id);
            if index.series_by_id(r, &mut entry).is_ok()
                && index.resolve_labels(&entry, &mut labels).is_ok()
            {
                seen.insert(key_of(&labels));
            }
        }
    } else {
        let mut it = index.series();
        while let Some(res) = it.next_into(&mut entry) {
            if res.is_ok()
                && index.resolve_labels(&entry, &mut labels).is_ok()
                && labels.iter().any(|(k, v)| *k == b"__name__" && *v == b"up")
            {
                seen.insert(key_of(&labels));
            }
        }
    }
    (!seen.is_empty()).then_some(seen.len() as u64)
}

/// Series with a native histogram chunk in a block, and the samples in those
/// chunks (from the chunk headers). `None` if the block cannot be read or its
/// index is damaged (the count would be partial).
pub fn count_native_histograms(dir: &Path) -> Option<(u64, u64)> {
    let files = BlockFiles::open(dir).ok()?;
    let reader = files.reader().ok()?;
    let mut entry = crate::format::index::SeriesEntry::default();
    let mut it = reader.index.series();
    let (mut series, mut samples) = (0u64, 0u64);
    while let Some(res) = it.next_into(&mut entry) {
        res.ok()?;
        let mut any = false;
        for meta in &entry.chunks {
            let Ok(rec) = reader.chunk(meta) else {
                continue;
            };
            let Some(enc) = Encoding::from_u8(rec.encoding) else {
                continue;
            };
            if enc.is_float() {
                continue;
            }
            any = true;
            if let Ok(n) = chunkenc::num_samples(enc, rec.data, rec.data_offset) {
                samples += u64::from(n);
            }
        }
        if any {
            series += 1;
        }
    }
    Some((series, samples))
}

/// The median step between samples over the first chunks of up to 200
/// series of a block: the usual scrape interval.
pub fn infer_interval(dir: &Path) -> Option<i64> {
    let files = BlockFiles::open(dir).ok()?;
    let reader = files.reader().ok()?;
    let mut steps = Vec::new();
    let mut entry = crate::format::index::SeriesEntry::default();
    let mut it = reader.index.series();
    let mut n = 0;
    while let Some(res) = it.next_into(&mut entry) {
        if res.is_err() {
            continue;
        }
        n += 1;
        // A sample of the series and of their first chunk's samples: the
        // median step, bounded work on any block.
        if n > 200 {
            break;
        }
        let Some(meta) = entry.chunks.first() else {
            continue;
        };
        let Ok(rec) = reader.chunk(meta) else {
            continue;
        };
        if rec.encoding != 1 {
            continue;
        }
        let Ok(xs) = XorIter::new(rec.data, rec.data_offset) else {
            continue;
        };
        let mut prev = None;
        for s in xs.take(64) {
            let Ok((t, _)) = s else { break };
            if let Some(p) = prev
                && t > p
            {
                steps.push(t - p);
            }
            prev = Some(t);
        }
    }
    steps.sort_unstable();
    steps.get(steps.len() / 2).copied()
}
