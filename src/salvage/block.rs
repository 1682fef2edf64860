//! Rewriting one damaged block: every sample that can still be read and
//! trusted goes into a new block; what cannot is listed, per series.
//!
//! What is trusted:
//!
//! - a **series entry** whose CRC holds, whose label references resolve to
//!   trusted symbols, whose labels are sorted with non-empty values, and
//!   which sorts after the series kept before it. Otherwise the whole series
//!   is dropped (its labels and chunks are reported as read from the damaged
//!   entry, flagged `labels_trusted: false` when the labels themselves are
//!   in doubt);
//! - a **symbol**: every symbol when the symbol table's CRC holds; when it
//!   fails, only the strings that also appear in the postings offset table
//!   (which stores every label name and value as a string, under its own
//!   CRC);
//! - a **chunk** whose record frames, whose CRC holds and whose samples
//!   decode. A chunk that fails is dropped alone: the series keeps its other
//!   chunks. A chunk segment with a damaged header loses nothing by itself:
//!   each chunk has its own CRC;
//! - samples inside the block's `[minTime, maxTime)` (meta.json's; without a
//!   readable meta.json, the samples' own span).
//!
//! Postings lists, the label indices and meta.json's stats are not read for
//! data: the series section is walked entry by entry, and the new block's
//! index and stats are written from what is kept — so damage there costs
//! nothing. Tombstones are applied (the deleted samples are not written, as
//! Prometheus' own rewrite of a block does); an unreadable tombstones file
//! is reported, since samples it deleted would come back.
//!
//! Memory: one series' samples at a time, plus the writer's labels and chunk
//! metas of every series kept, plus the drop list (one entry per run of
//! adjacent dropped chunks of one series).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::block::{chunk_segment_paths, read_meta};
use crate::check::codes::FindingCode;
use crate::check::codes::{FileKind, decode_code};
use crate::dump::format_labels;
use crate::error::{Error, Result};
use crate::fileutil::{FileBytes, map_file};
use crate::format::chunkenc::Value;
use crate::format::index::{IndexReader, SeriesEntry};
use crate::format::meta::{BlockDesc, BlockMeta};
use crate::format::tombstones::{self, Tombstones};
use crate::write::{BlockWriter, Lineage, UnplacedBlock};

/// One run of samples left out of the rewritten block.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Dropped {
    /// The series as `{name="value", ...}`, as read; empty when the entry
    /// could not be decoded at all.
    pub series: String,
    /// False when the labels themselves come from damaged bytes (a series
    /// entry whose CRC fails, a symbol not confirmed).
    pub labels_trusted: bool,
    /// First timestamp dropped (ms), when known.
    pub from: Option<i64>,
    /// One past the last timestamp dropped (ms), when known: `[from, to)`.
    pub to: Option<i64>,
    /// Samples dropped, when known.
    pub samples: Option<u64>,
    /// True when `samples` was counted from bytes whose checksum holds (or
    /// from samples decoded); false when it comes from a damaged chunk's
    /// header.
    pub samples_exact: bool,
    /// The verify finding code that explains the drop.
    pub code: FindingCode,
    /// The damaged file.
    pub path: PathBuf,
    /// Byte offset of the damaged structure in `path`, when known.
    pub offset: Option<u64>,
    /// One sentence.
    pub detail: String,
}

/// What rewriting a block did (or would do, on a dry run).
#[derive(Debug, Clone, Serialize)]
pub struct Rewrite {
    /// Series entries in the source's series section (damaged ones included).
    pub series_read: u64,
    /// Series written.
    pub series_written: u64,
    /// Samples written.
    pub samples_written: u64,
    /// Chunks written (0 on a dry run: chunks are cut while writing).
    pub chunks_written: u64,
    /// Samples left out because a tombstone deletes them (not a loss: every
    /// reader hides them already).
    pub samples_deleted_by_tombstones: u64,
    /// Series left out whole.
    pub series_dropped: u64,
    /// Samples dropped, where counted.
    pub samples_dropped: u64,
    /// True when some drop's sample count is unknown or from a damaged
    /// header: then `samples_dropped` is not exact.
    pub samples_dropped_inexact: bool,
    /// Every drop.
    pub dropped: Vec<Dropped>,
    /// Problems that lose no sample but change what a reader sees.
    pub notes: Vec<String>,
    /// `[minTime, maxTime)` of the new block.
    pub min_time: i64,
    /// See `min_time`.
    pub max_time: i64,
}

/// The result of [`rewrite_block`].
pub enum RewriteResult {
    /// Nothing in the block can be read: no series section to walk.
    Unreadable {
        /// Why.
        reason: String,
    },
    /// Rewritten (on a dry run `block` is `None`).
    Done {
        /// What was kept and dropped.
        rewrite: Box<Rewrite>,
        /// The new block, complete and fsynced in its temporary directory.
        block: Option<UnplacedBlock>,
    },
}

pub(super) struct Src {
    pub(super) dir: PathBuf,
    pub(super) meta: Option<BlockMeta>,
    pub(super) index: FileBytes,
    pub(super) segs: Vec<(PathBuf, FileBytes)>,
}

fn open_src(dir: &Path) -> Result<Src> {
    let meta = read_meta(dir).ok();
    let index = map_file(&dir.join("index"))?;
    let mut segs = Vec::new();
    if let Ok(paths) = chunk_segment_paths(dir) {
        for p in paths {
            let b = map_file(&p)?;
            segs.push((p, b));
        }
    }
    Ok(Src {
        dir: dir.to_path_buf(),
        meta,
        index,
        segs,
    })
}

pub(super) struct Ctx<'a> {
    pub(super) index_path: PathBuf,
    pub(super) dropped: Vec<Dropped>,
    pub(super) range: Option<(i64, i64)>,
    pub(super) trusted: Option<HashSet<&'a [u8]>>,
}

impl Ctx<'_> {
    pub(super) fn push(&mut self, d: Dropped) {
        self.dropped.push(d);
    }
}

/// Best-effort decode of a series entry whose CRC fails: its body decoded as
/// if the CRC held. `None` when even the framing is unreadable.
fn decode_damaged_entry(file: &[u8], offset: u64, version: u8) -> Option<SeriesEntry> {
    let start = usize::try_from(offset).ok()?;
    let rest = file.get(start..)?;
    let (len, n) = uvarint(rest)?;
    let body = rest.get(n..n.checked_add(usize::try_from(len).ok()?)?)?;
    let mut buf = rest.get(..n)?.to_vec();
    buf.extend_from_slice(body);
    buf.extend_from_slice(&crate::format::decode::crc32c(body).to_be_bytes());
    let mut e = SeriesEntry::default();
    crate::format::index::series::decode_series_into(&buf, 0, version, &mut e).ok()?;
    Some(e)
}

fn uvarint(b: &[u8]) -> Option<(u64, usize)> {
    let mut x = 0u64;
    for (i, &c) in b.iter().enumerate().take(10) {
        x |= u64::from(c & 0x7f) << (7 * i);
        if c < 0x80 {
            return Some((x, i + 1));
        }
    }
    None
}

/// Rewrites the block at `dir` into `parent` (a new ULID, in its
/// `*.tmp-for-creation` directory, not yet placed): every sample that can
/// be read and trusted, as the module documentation says. `dry_run`: count
/// only, write nothing.
pub fn rewrite_block(dir: &Path, parent: &Path, dry_run: bool) -> Result<RewriteResult> {
    let src = open_src(dir)?;
    let as_v2 = src.meta.as_ref().is_some_and(|m| m.version == 2);
    let index_path = dir.join("index");
    let (index, sym_err) = match IndexReader::open_unchecked_symbols(&src.index, as_v2) {
        Ok(x) => x,
        Err(e) => {
            return Ok(RewriteResult::Unreadable {
                reason: format!(
                    "{}: {e} ({}): no series can be read",
                    index_path.display(),
                    decode_code(FileKind::Index, &e)
                ),
            });
        }
    };
    let mut notes = Vec::new();
    let mut cx = Ctx {
        index_path: index_path.clone(),
        dropped: Vec::new(),
        range: src.meta.as_ref().map(|m| (m.min_time, m.max_time)),
        trusted: None,
    };
    if let Some(e) = &sym_err {
        // Confirm symbols against the postings offset table's strings.
        let mut set = HashSet::new();
        match index.postings_table_iter() {
            Ok(it) => {
                for pe in it {
                    match pe {
                        Ok(pe) => {
                            set.insert(pe.name);
                            set.insert(pe.value);
                        }
                        Err(_) => break,
                    }
                }
            }
            Err(pe) => notes.push(format!(
                "{}: the symbol table's checksum fails ({e}) and the postings offset table cannot confirm its strings ({pe}): no series can be trusted",
                index_path.display()
            )),
        }
        notes.push(format!(
            "{}: the symbol table's checksum fails ({e}): only symbols confirmed by the postings offset table are trusted",
            index_path.display()
        ));
        cx.trusted = Some(set);
    }
    let stones = match std::fs::read(dir.join("tombstones")) {
        Ok(b) => match tombstones::parse(&b) {
            Ok(s) => Tombstones::from_stones(&s),
            Err(e) => {
                notes.push(format!(
                    "{}: unreadable ({e}): no deletion applied, so samples it deleted are back in the rewritten block",
                    dir.join("tombstones").display()
                ));
                Tombstones::default()
            }
        },
        Err(_) => Tombstones::default(),
    };
    let (wmin, wmax) = cx.range.unwrap_or((i64::MIN, i64::MAX));
    let mut writer = if dry_run {
        None
    } else {
        let mut w = BlockWriter::create(parent, wmin, wmax)?;
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let (ulid, level, mut sources) = match &src.meta {
            Some(m) => (
                m.ulid.clone(),
                m.compaction.level,
                m.compaction.sources.clone(),
            ),
            None => (name, 1, Vec::new()),
        };
        if sources.is_empty() {
            sources.push(ulid.clone());
        }
        sources.sort();
        sources.dedup();
        w.set_lineage(Lineage {
            level: level.max(1) + 1,
            sources,
            parents: vec![BlockDesc {
                ulid,
                min_time: src.meta.as_ref().map_or(wmin, |m| m.min_time),
                max_time: src.meta.as_ref().map_or(wmax, |m| m.max_time),
            }],
        });
        Some(w)
    };
    let mut rw = Rewrite {
        series_read: 0,
        series_written: 0,
        samples_written: 0,
        chunks_written: 0,
        samples_deleted_by_tombstones: 0,
        series_dropped: 0,
        samples_dropped: 0,
        samples_dropped_inexact: false,
        dropped: Vec::new(),
        notes: std::mem::take(&mut notes),
        min_time: wmin,
        max_time: wmax,
    };
    let mut first_t: Option<i64> = None;
    let mut last_t: Option<i64> = None;
    let mut prev: Option<Vec<(Vec<u8>, Vec<u8>)>> = None;
    // Pass 1: which series need their labels from the postings (a damaged
    // entry, or labels using symbols that cannot be trusted)?
    let mut need: Recovered<'_> = HashMap::new();
    {
        let mut w = Walker::new(&index);
        let mut e = SeriesEntry::default();
        while let Some(r) = w.next(&mut e) {
            match r {
                Ok(()) => {
                    if !labels_trusted(&index, &cx.trusted, &e) {
                        need.insert(e.id, Vec::new());
                    }
                }
                Err((Some(off), _)) => {
                    need.insert(series_id(index.version, off), Vec::new());
                }
                Err((None, _)) => {}
            }
        }
    }
    if !need.is_empty() {
        recover_labels(&index, &mut need);
    }
    // Pass 2: the rewrite.
    let mut it = Walker::new(&index);
    let mut entry = SeriesEntry::default();
    let mut samples: Vec<(i64, Value)> = Vec::new();
    let mut labels: Vec<(&[u8], &[u8])> = Vec::new();
    while let Some(r) = it.next(&mut entry) {
        rw.series_read += 1;
        if let Err((at, e)) = r {
            let code = decode_code(FileKind::Index, &e);
            let Some(off) = at else {
                // The framing of the series section is lost from here on.
                rw.series_read -= 1;
                if it.lost_nothing {
                    rw.notes.push(format!(
                        "{}: non-zero padding at offset {}: the walk resumed at the next entry the all-postings list names; nothing lost",
                        index_path.display(),
                        e.offset()
                    ));
                    continue;
                }
                cx.push(Dropped {
                    series: String::new(),
                    labels_trusted: false,
                    from: cx.range.map(|r| r.0),
                    to: cx.range.map(|r| r.1),
                    samples: None,
                    samples_exact: false,
                    code,
                    path: index_path.clone(),
                    offset: Some(e.offset()),
                    detail: format!(
                        "the series section cannot be walked past this offset ({e}): series entries between here and the next one the all-postings list names are lost (their number is unknown)"
                    ),
                });
                continue;
            };
            // A damaged entry: the labels from the postings lists (whose
            // CRCs hold) when they name it; its chunks as its bytes say.
            let damaged = decode_damaged_entry(&src.index, off, index.version);
            let mut series = String::new();
            let recovered = need.get(&series_id(index.version, off)).filter(|l| {
                !l.is_empty() && damaged.as_ref().is_none_or(|d| d.labels.len() == l.len())
            });
            let trusted_labels = recovered.is_some();
            match (recovered, &damaged) {
                (Some(l), _) => format_labels(&mut series, l),
                (None, Some(d)) => {
                    let mut ls = Vec::new();
                    for &(a, b) in &d.labels {
                        if let (Some(a), Some(b)) =
                            (index.symbols.lookup(a), index.symbols.lookup(b))
                        {
                            ls.push((a, b));
                        }
                    }
                    format_labels(&mut series, &ls);
                }
                (None, None) => {}
            }
            let (from, to, n) = match &damaged {
                Some(d) => damaged_extent(&src.segs, &d.chunks),
                None => (None, None, None),
            };
            let (from, to) = match (from, to) {
                (Some(a), Some(b)) => (Some(a), Some(b)),
                _ => (cx.range.map(|r| r.0), cx.range.map(|r| r.1)),
            };
            rw.series_dropped += 1;
            cx.push(Dropped {
                series,
                labels_trusted: trusted_labels,
                from,
                to,
                samples: n,
                samples_exact: false,
                code,
                path: index_path.clone(),
                offset: Some(off),
                detail: format!(
                    "series entry damaged ({e}): its chunk references cannot be trusted, the whole series is dropped{}",
                    if trusted_labels { "; labels from the postings lists" } else { "; labels as the damaged bytes say" }
                ),
            });
            continue;
        }
        // Labels.
        let mut why: Option<(FindingCode, String)> = None;
        labels.clear();
        if labels_trusted(&index, &cx.trusted, &entry) {
            for &(a, b) in &entry.labels {
                if let (Some(x), Some(y)) = (index.symbols.lookup(a), index.symbols.lookup(b)) {
                    labels.push((x, y));
                }
            }
        } else {
            match need.get(&entry.id) {
                Some(l) if !l.is_empty() && l.len() == entry.labels.len() => {
                    labels.extend_from_slice(l);
                }
                _ => {
                    for &(a, b) in &entry.labels {
                        if let (Some(x), Some(y)) =
                            (index.symbols.lookup(a), index.symbols.lookup(b))
                        {
                            labels.push((x, y));
                        }
                    }
                    why = Some(if labels.len() < entry.labels.len() {
                        (
                            FindingCode::IndexOutOfBounds,
                            "a label refers to a symbol that does not exist, and the postings lists do not name the series".into(),
                        )
                    } else {
                        (
                            FindingCode::IndexSymbolsChecksum,
                            "a label uses a symbol of the damaged symbol table, and the postings lists do not name the series with all its labels".into(),
                        )
                    });
                }
            }
        }
        if why.is_none() {
            if labels.is_empty() {
                why = Some((
                    FindingCode::IndexSeriesEmptyLabels,
                    "the series has no labels".into(),
                ));
            } else if labels.windows(2).any(|w| w[0].0 >= w[1].0) {
                why = Some((
                    FindingCode::IndexSeriesLabelsUnsorted,
                    "labels are not sorted by name (or a name repeats)".into(),
                ));
            } else if labels.iter().any(|(a, b)| a.is_empty() || b.is_empty()) {
                why = Some((
                    FindingCode::IndexSeriesEmptyLabelValue,
                    "a label name or value is empty".into(),
                ));
            } else if let Some(p) = &prev {
                let cmp = p
                    .iter()
                    .map(|(a, b)| (a.as_slice(), b.as_slice()))
                    .cmp(labels.iter().copied());
                if cmp == std::cmp::Ordering::Equal {
                    why = Some((
                        FindingCode::IndexSeriesDuplicate,
                        "the same label set as the series before it".into(),
                    ));
                } else if cmp == std::cmp::Ordering::Greater {
                    why = Some((
                        FindingCode::IndexSeriesUnsorted,
                        "sorts before the series kept before it".into(),
                    ));
                }
            }
        }
        let mut series = String::new();
        format_labels(&mut series, &labels);
        if let Some((code, msg)) = why {
            let (from, to, n) = damaged_extent(&src.segs, &entry.chunks);
            rw.series_dropped += 1;
            cx.push(Dropped {
                series,
                labels_trusted: code != FindingCode::IndexSymbolsChecksum
                    && code != FindingCode::IndexOutOfBounds,
                from,
                to,
                samples: n,
                samples_exact: n.is_some(),
                code,
                path: index_path.clone(),
                offset: Some(entry.offset),
                detail: format!("{msg}: the whole series is dropped"),
            });
            continue;
        }
        // Chunks.
        samples.clear();
        let deleted = stones.get(entry.id);
        let first_drop = cx.dropped.len();
        let mut last_dropped_chunk: Option<usize> = None;
        for (ci, c) in entry.chunks.iter().enumerate() {
            let before = cx.dropped.len();
            read_chunk_into(&mut cx, &src, c, &series, deleted, &mut samples, &mut rw);
            if cx.dropped.len() > before {
                // Merge with the previous drop when it was the chunk just
                // before, of the same code: one entry per run.
                if last_dropped_chunk == Some(ci.wrapping_sub(1)) && cx.dropped.len() >= 2 {
                    let n = cx.dropped.len();
                    let (a, b) = cx.dropped.split_at_mut(n - 1);
                    if let (Some(p), Some(d)) = (a.last_mut(), b.first())
                        && p.code == d.code
                        && n >= first_drop + 2
                        && p.series == d.series
                    {
                        p.from = min_opt(p.from, d.from);
                        p.to = max_opt(p.to, d.to);
                        p.samples = p.samples.zip(d.samples).map(|(x, y)| x + y);
                        p.samples_exact &= d.samples_exact;
                        cx.dropped.pop();
                    }
                }
                last_dropped_chunk = Some(ci);
            }
        }
        if samples.windows(2).any(|w| w[0].0 >= w[1].0) {
            samples.sort_by_key(|s| s.0);
            samples.dedup_by_key(|s| s.0);
        }
        if samples.is_empty() {
            if cx.dropped.len() > first_drop {
                rw.series_dropped += 1;
            }
            continue;
        }
        let (f, l) = (samples[0].0, samples[samples.len() - 1].0);
        first_t = Some(first_t.map_or(f, |x| x.min(f)));
        last_t = Some(last_t.map_or(l, |x| x.max(l)));
        rw.series_written += 1;
        rw.samples_written += samples.len() as u64;
        let owned: Vec<(Vec<u8>, Vec<u8>)> = labels
            .iter()
            .map(|(a, b)| (a.to_vec(), b.to_vec()))
            .collect();
        if let Some(w) = writer.as_mut() {
            w.add_series(&owned, &samples)?;
        }
        prev = Some(owned);
    }
    for d in &cx.dropped {
        match d.samples {
            Some(n) => rw.samples_dropped += n,
            None => rw.samples_dropped_inexact = true,
        }
        if !d.samples_exact {
            rw.samples_dropped_inexact = true;
        }
    }
    rw.dropped = std::mem::take(&mut cx.dropped);
    if cx.range.is_none() {
        match (first_t, last_t) {
            (Some(a), Some(b)) => {
                rw.min_time = a;
                rw.max_time = b.saturating_add(1);
            }
            _ => {
                rw.min_time = 0;
                rw.max_time = 0;
            }
        }
        rw.notes.push(format!(
            "{}: meta.json unreadable: the new block spans its samples' own range",
            src.dir.display()
        ));
    }
    let block = match writer {
        None => None,
        Some(w) => {
            if rw.series_written == 0 {
                drop(w);
                None
            } else {
                let u = w.finish_unplaced_range(rw.min_time, rw.max_time)?;
                if let Some(u) = &u {
                    rw.chunks_written = u.block.stats.chunks;
                }
                u
            }
        }
    };
    if !dry_run && block.is_none() && rw.series_written > 0 {
        return Err(Error::Usage(
            "internal: a block with series was not written".into(),
        ));
    }
    Ok(RewriteResult::Done {
        rewrite: Box::new(rw),
        block,
    })
}

use super::chunk::*;

use super::series::*;
