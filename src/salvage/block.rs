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
use crate::check::codes::{FileKind, FindingCode, decode_code};
use crate::error::{Error, Result};
use crate::fileutil::{FileBytes, map_file};
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
pub(super) fn decode_damaged_entry(file: &[u8], offset: u64, version: u8) -> Option<SeriesEntry> {
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

impl Rewrite {
    /// Nothing read or written yet; the new block spans `min_time..max_time`.
    fn empty(notes: Vec<String>, min_time: i64, max_time: i64) -> Rewrite {
        Rewrite {
            series_read: 0,
            series_written: 0,
            samples_written: 0,
            chunks_written: 0,
            samples_deleted_by_tombstones: 0,
            series_dropped: 0,
            samples_dropped: 0,
            samples_dropped_inexact: false,
            dropped: Vec::new(),
            notes,
            min_time,
            max_time,
        }
    }

    /// Takes the dropped parts, adding up their samples (inexact when one
    /// is uncounted or estimated).
    fn take_dropped(&mut self, dropped: Vec<Dropped>) {
        for d in &dropped {
            match d.samples {
                Some(n) => self.samples_dropped += n,
                None => self.samples_dropped_inexact = true,
            }
            if !d.samples_exact {
                self.samples_dropped_inexact = true;
            }
        }
        self.dropped = dropped;
    }
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
    let trusted = sym_err
        .as_ref()
        .map(|e| confirmed_symbols(&index, e, &index_path, &mut notes));
    let mut cx = Ctx {
        index_path,
        dropped: Vec::new(),
        range: src.meta.as_ref().map(|m| (m.min_time, m.max_time)),
        trusted,
    };
    let stones = read_tombstones(dir, &mut notes);
    let (wmin, wmax) = cx.range.unwrap_or((i64::MIN, i64::MAX));
    let writer = if dry_run {
        None
    } else {
        Some(new_writer(&src, parent, wmin, wmax)?)
    };
    let mut rw = Rewrite::empty(notes, wmin, wmax);
    // Pass 1: which series need their labels from the postings (a damaged
    // entry, or labels using symbols that cannot be trusted)?
    let need = labels_to_recover(&index, &cx.trusted);
    // Pass 2: the rewrite.
    let mut pass = Pass::new(&src, &index, &stones, &need, writer);
    pass.run(&mut cx, &mut rw)?;
    rw.take_dropped(std::mem::take(&mut cx.dropped));
    if cx.range.is_none() {
        // The samples' own span.
        (rw.min_time, rw.max_time) = pass.span.map_or((0, 0), |(a, b)| (a, b.saturating_add(1)));
        rw.notes.push(format!(
            "{}: meta.json unreadable: the new block spans its samples' own range",
            src.dir.display()
        ));
    }
    let block = match pass.writer.take() {
        Some(w) if rw.series_written > 0 => {
            let u = w.finish_unplaced_range(rw.min_time, rw.max_time)?;
            if let Some(u) = &u {
                rw.chunks_written = u.block.stats.chunks;
            }
            u
        }
        _ => None,
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

/// The symbol table's checksum fails (`e`): the strings the postings offset
/// table confirms (under its own CRC), with notes saying so.
fn confirmed_symbols<'a>(
    index: &IndexReader<'a>,
    e: &crate::format::DecodeError,
    index_path: &Path,
    notes: &mut Vec<String>,
) -> HashSet<&'a [u8]> {
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
            concat!(
                "{}: the symbol table's checksum fails ({e}) and the postings ",
                "offset table cannot confirm its strings ({pe}): no series can be trusted"
            ),
            index_path.display(),
            e = e,
            pe = pe
        )),
    }
    notes.push(format!(
        concat!(
            "{}: the symbol table's checksum fails ({e}): only symbols confirmed ",
            "by the postings offset table are trusted"
        ),
        index_path.display(),
        e = e
    ));
    set
}

/// The block's deletions; none (with a note) when the file is unreadable.
fn read_tombstones(dir: &Path, notes: &mut Vec<String>) -> Tombstones {
    let path = dir.join("tombstones");
    let parsed = match crate::fileutil::map_tombstones(&path) {
        Ok(None) => return Tombstones::default(),
        Ok(Some(b)) => tombstones::parse(&b).map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    match parsed {
        Ok(s) => Tombstones::from_stones(&s),
        Err(e) => {
            notes.push(format!(
                concat!(
                    "{}: unreadable ({e}): no deletion applied, so samples it deleted ",
                    "are back in the rewritten block"
                ),
                path.display(),
                e = e
            ));
            Tombstones::default()
        }
    }
}

/// The new block's writer: `[wmin, wmax)`, one compaction level above the
/// source, the source its parent.
fn new_writer(src: &Src, parent: &Path, wmin: i64, wmax: i64) -> Result<BlockWriter> {
    let mut w = BlockWriter::create(parent, wmin, wmax)?;
    let name = src
        .dir
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
    Ok(w)
}

/// The series whose labels must come from the postings lists: a damaged
/// entry, or labels using symbols that cannot be trusted.
fn labels_to_recover<'a>(
    index: &IndexReader<'a>,
    trusted: &Option<HashSet<&'a [u8]>>,
) -> Recovered<'a> {
    let mut need: Recovered<'a> = HashMap::new();
    let mut w = Walker::new(index);
    let mut e = SeriesEntry::default();
    while let Some(r) = w.next(&mut e) {
        match r {
            Ok(()) => {
                if !labels_trusted(index, trusted, &e) {
                    need.insert(e.id, Vec::new());
                }
            }
            Err((Some(off), _)) => {
                need.insert(series_id(index.version, off), Vec::new());
            }
            Err((None, _)) => {}
        }
    }
    if !need.is_empty() {
        recover_labels(index, &mut need);
    }
    need
}

use super::chunk::*;
use super::rewrite::Pass;
use super::series::*;
