//! Writing blocks: the mirror of the readers in [`crate::format`], producing
//! the bytes Prometheus 2.42 writes and reads.
//!
//! A [`BlockWriter`] takes series in label order, each with its samples in
//! time order, and writes
//!
//! - `chunks/000001…`: segment files (`BE32 0x85BD40DD | u8 1 | 3 zero
//!   bytes`, then chunk records `uvarint len | u8 encoding | data | BE32
//!   CRC32C(encoding + data)`), a new segment when the next series' chunks
//!   would take the file past 512 MiB; a chunk ref is `segment index << 32 |
//!   offset`. Chunks are cut as [`chunk`] describes (≤ 120 samples, XOR for
//!   floats, Histogram / FloatHistogram for native histograms);
//! - `index`: index v2 ([`index`] describes the sections), written after the
//!   last series from the series' labels and chunk metas;
//! - `tombstones`: empty (`01 30 BA 30 01` + the CRC32C of nothing);
//! - `meta.json`: ULID, `[minTime, maxTime)`, stats (samples, series,
//!   chunks), compaction level 1 with the block as its own source, version 1,
//!   indented with tabs as Go's `json.MarshalIndent` does.
//!
//! Everything goes into `<parent>/<ULID>.tmp-for-creation/`; every file and
//! directory is fsynced, then the directory is renamed to `<parent>/<ULID>`
//! without replacing anything, and the parent is fsynced — Prometheus's own
//! sequence, so a crash leaves at most a `*.tmp-for-creation` directory,
//! which Prometheus deletes on start (the last chunk segment, tombstones,
//! meta.json and the chunks directory are written and fsynced while the
//! index is written; the chunk segments' and index's writeback is started
//! every 8 MiB as they are written, so their fsyncs find little left to
//! do). A writer dropped before [`BlockWriter::finish`] removes its
//! temporary directory.
//!
//! Speed: series can be added one at a time ([`BlockWriter::add_series`]),
//! or with their chunks encoded ahead on other threads ([`Encoded`], then
//! [`BlockWriter::add_encoded`]; [`BlockWriter::add_batch`] does both), the
//! writer then only appending framed chunk records and recording labels.
//! The labels a series shares with the previous one (series come sorted:
//! most of them) are compared once and never hashed again.
//! A writer given its symbol table up front ([`BlockWriter::use_symbols`],
//! as a block rewrite has the source's) takes labels as ordinals into it
//! ([`BlockWriter::add_encoded_ids`]): nothing hashed, no symbol sort.
//!
//! Memory: the chunks of the series being added, plus what the index needs
//! of every series of the block (the index is written last, since its
//! symbol table comes first): each distinct label string once, 8 bytes per
//! label and 24 per chunk; samples are never held beyond one series.

mod batch;
pub mod chunk;
pub(crate) mod encode;
mod given;
mod index;
mod postings;
mod segments;
mod verbatim;
mod writeback;
mod xor;

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, Result};
use crate::format::ChunkRef;
use crate::format::chunkenc::Value;
use crate::format::index::ChunkMeta;

pub use batch::Encoded;
pub use chunk::{EncodedChunk, SAMPLES_PER_CHUNK, encode_chunks, encode_chunks_into};
use index::{SeriesTable, write_index};
use segments::Segments;
pub use verbatim::{XorSummary, canonical_xor};

/// Largest chunk segment file before a new one is cut (Prometheus default).
pub const MAX_SEGMENT_SIZE: u64 = 512 * 1024 * 1024;

const SEGMENT_MAGIC: u32 = 0x85BD_40DD;

/// One series for [`BlockWriter::add_batch`]: labels (sorted by name) and
/// samples (by time).
pub type SeriesIn<L> = (Vec<(L, L)>, Vec<(i64, Value)>);

/// Stats of a written block.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct WrittenStats {
    /// Samples.
    pub samples: u64,
    /// Series.
    pub series: u64,
    /// Chunks.
    pub chunks: u64,
}

/// A block written and in place.
#[derive(Debug, Clone, Serialize)]
pub struct WrittenBlock {
    /// Its ULID (= directory name).
    pub ulid: String,
    /// Its directory.
    pub dir: PathBuf,
    /// Inclusive lower bound (ms).
    pub min_time: i64,
    /// Exclusive upper bound (ms).
    pub max_time: i64,
    /// What it holds.
    pub stats: WrittenStats,
}

/// One series' chunk records, framed as the segment holds them: `bytes`,
/// chunk `k` starting at `chunks[k].2` (with its mint and maxt);
/// `estimate` is what the segment-cut check counts (data + 10 bytes a
/// chunk).
struct Framed<'a> {
    bytes: &'a [u8],
    chunks: &'a [(i64, i64, usize)],
    estimate: u64,
}

/// The index's chunk metas of a series just written: its chunks' time
/// ranges with the references `refs` got from writing them.
fn chunk_metas<'a>(
    framed: &'a Framed<'_>,
    refs: &'a [u64],
) -> impl Iterator<Item = ChunkMeta> + 'a {
    framed.chunks.iter().zip(refs).map(|(c, &r)| ChunkMeta {
        mint: c.0,
        maxt: c.1,
        chunk_ref: ChunkRef(r),
    })
}

/// What the checks need of a series' samples: how many, the first and
/// last time, whether the times strictly increase.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SampleSum {
    n: usize,
    first: i64,
    last: i64,
    increasing: bool,
}

impl SampleSum {
    fn of(samples: &[(i64, Value)]) -> SampleSum {
        SampleSum {
            n: samples.len(),
            first: samples.first().map_or(0, |s| s.0),
            last: samples.last().map_or(0, |s| s.0),
            increasing: !samples
                .windows(2)
                .any(|w| matches!(w, [a, b] if a.0 >= b.0)),
        }
    }
}

/// How a series' labels start like the previous series' (in the index's
/// order: pair by pair, name then value, bytewise): the first `pairs`
/// labels are equal, and `name` says whether label `pairs` has the same
/// name (then its value differs). `ord` is the previous series against
/// this one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Shared {
    pub(crate) pairs: usize,
    pub(crate) name: bool,
    ord: std::cmp::Ordering,
}

fn shared_prefix<L: AsRef<[u8]>>(prev: &[(Vec<u8>, Vec<u8>)], labels: &[(L, L)]) -> Shared {
    use std::cmp::Ordering::Equal;
    for (i, ((pn, pv), (n, v))) in prev.iter().zip(labels).enumerate() {
        let o = pn.as_slice().cmp(n.as_ref());
        if o != Equal {
            return Shared {
                pairs: i,
                name: false,
                ord: o,
            };
        }
        let o = pv.as_slice().cmp(v.as_ref());
        if o != Equal {
            return Shared {
                pairs: i,
                name: true,
                ord: o,
            };
        }
    }
    Shared {
        pairs: prev.len().min(labels.len()),
        name: false,
        ord: prev.len().cmp(&labels.len()),
    }
}

/// Writes one block. See the module documentation.
pub struct BlockWriter {
    parent: PathBuf,
    tmp: PathBuf,
    ulid: String,
    min_time: i64,
    max_time: i64,
    segments: Segments,
    table: SeriesTable,
    prev_labels: Vec<(Vec<u8>, Vec<u8>)>,
    scratch: Encoded,
    refs: Vec<u64>,
    stats: WrittenStats,
    first_t: Option<i64>,
    last_t: Option<i64>,
    lineage: Option<Lineage>,
    done: bool,
}

/// Where a rewritten block came from: its meta.json's `compaction` then says
/// `level`, `sources` (the level-1 ancestors) and `parents` (the direct
/// inputs) instead of "level 1, its own source".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lineage {
    /// Compaction level.
    pub level: i64,
    /// ULIDs of the level-1 ancestors, sorted.
    pub sources: Vec<String>,
    /// The direct inputs.
    pub parents: Vec<crate::format::meta::BlockDesc>,
}

impl BlockWriter {
    /// Starts a block for `[min_time, max_time)` in `parent` (a data
    /// directory): creates `<parent>/<ULID>.tmp-for-creation/chunks/`.
    pub fn create(parent: &Path, min_time: i64, max_time: i64) -> Result<BlockWriter> {
        if min_time >= max_time {
            return Err(Error::Usage(format!(
                "block range [{min_time}, {max_time}) is empty"
            )));
        }
        let ulid = new_ulid();
        let tmp = parent.join(format!("{ulid}.tmp-for-creation"));
        std::fs::create_dir(&tmp).map_err(|e| Error::io(&tmp, e))?;
        let chunks = tmp.join("chunks");
        let w = BlockWriter {
            parent: parent.to_path_buf(),
            tmp: tmp.clone(),
            ulid,
            min_time,
            max_time,
            segments: Segments {
                dir: chunks.clone(),
                files: Vec::new(),
                cur: None,
                size: 0,
            },
            table: SeriesTable::default(),
            prev_labels: Vec::new(),
            scratch: Encoded::default(),
            refs: Vec::new(),
            stats: WrittenStats::default(),
            first_t: None,
            last_t: None,
            lineage: None,
            done: false,
        };
        std::fs::create_dir(&chunks).map_err(|e| Error::io(&chunks, e))?;
        Ok(w)
    }

    /// The block's ULID.
    pub fn ulid(&self) -> &str {
        &self.ulid
    }

    /// Records the block as rewritten from others (see [`Lineage`]).
    pub fn set_lineage(&mut self, lineage: Lineage) {
        self.lineage = Some(lineage);
    }

    /// The temporary directory being written.
    pub fn tmp_dir(&self) -> &Path {
        &self.tmp
    }

    /// Series added so far.
    pub fn series(&self) -> u64 {
        self.stats.series
    }

    /// Adds one series: `labels` sorted by name (unique names, non-empty
    /// values), greater than the previous series' label set; `samples` in
    /// strictly increasing time order, all inside the block's range. A
    /// series without samples is skipped.
    pub fn add_series<L: AsRef<[u8]>>(
        &mut self,
        labels: &[(L, L)],
        samples: &[(i64, Value)],
    ) -> Result<()> {
        if samples.is_empty() {
            return Ok(());
        }
        let mut e = std::mem::take(&mut self.scratch);
        e.clear();
        e.push(samples);
        let r = self.add_encoded(std::iter::once(labels), &e);
        self.scratch = e;
        r
    }

    /// The checks of [`add_series`](Self::add_series); the first and last
    /// sample time of a non-empty series, and what its labels share with
    /// the previous series' (the labels they share were checked then).
    fn check<L: AsRef<[u8]>>(
        &self,
        labels: &[(L, L)],
        samples: &SampleSum,
    ) -> Result<((i64, i64), Shared)> {
        let bad = |m: String| Err(Error::Usage(m));
        if self.table.given.is_some() {
            return bad("this writer takes labels as symbol ordinals (use_symbols)".into());
        }
        if labels.is_empty() {
            return bad("a series needs at least one label".into());
        }
        let shared = if self.table.len() > 0 {
            shared_prefix(&self.prev_labels, labels)
        } else {
            Shared {
                pairs: 0,
                name: false,
                ord: std::cmp::Ordering::Less,
            }
        };
        if shared.ord.is_ge() {
            return bad("series must be added in strictly increasing label order".into());
        }
        let new = labels.get(shared.pairs..).unwrap_or(&[]);
        if labels
            .get(shared.pairs.saturating_sub(1)..)
            .unwrap_or(&[])
            .windows(2)
            .any(|w| matches!(w, [a, b] if a.0.as_ref() >= b.0.as_ref()))
        {
            return bad("labels must be sorted by name, names unique".into());
        }
        if new
            .iter()
            .any(|(n, v)| n.as_ref().is_empty() || v.as_ref().is_empty())
        {
            return bad("label names and values must not be empty".into());
        }
        Ok((self.check_span(samples)?, shared))
    }

    /// The sample checks of [`check`](Self::check): times strictly
    /// increase, inside the block's range; the first and last time.
    fn check_span(&self, samples: &SampleSum) -> Result<(i64, i64)> {
        if !samples.increasing {
            return Err(Error::Usage("sample times must strictly increase".into()));
        }
        let (first, last) = (samples.first, samples.last);
        if first < self.min_time || last >= self.max_time {
            return Err(Error::Usage(format!(
                "samples [{first}, {last}] outside the block's range [{}, {})",
                self.min_time, self.max_time
            )));
        }
        Ok((first, last))
    }

    /// Writes a checked series' chunks and records it for the index.
    fn append<L: AsRef<[u8]>>(
        &mut self,
        labels: &[(L, L)],
        shared: Shared,
        samples: usize,
        (first, last): (i64, i64),
        framed: Framed<'_>,
    ) -> Result<()> {
        self.write_chunks(samples, (first, last), &framed)?;
        let metas = chunk_metas(&framed, &self.refs);
        self.table
            .push(labels, shared, metas)
            .map_err(|e| Error::io(&self.tmp, e))?;
        // Kept for the order check, reusing the previous series' buffers;
        // the shared labels are there already.
        self.prev_labels.truncate(labels.len());
        for (i, (n, v)) in labels.iter().enumerate().skip(shared.pairs) {
            let (n, v) = (n.as_ref(), v.as_ref());
            match self.prev_labels.get_mut(i) {
                Some((pn, pv)) => {
                    if !(i == shared.pairs && shared.name) {
                        pn.clear();
                        pn.extend_from_slice(n);
                    }
                    pv.clear();
                    pv.extend_from_slice(v);
                }
                None => self.prev_labels.push((n.to_vec(), v.to_vec())),
            }
        }
        Ok(())
    }

    /// Writes a checked series' chunks (their refs in `self.refs`) and
    /// counts it.
    fn write_chunks(
        &mut self,
        samples: usize,
        (first, last): (i64, i64),
        framed: &Framed<'_>,
    ) -> Result<()> {
        self.segments.write(framed, &mut self.refs)?;
        self.stats.series += 1;
        self.stats.chunks += framed.chunks.len() as u64;
        self.stats.samples += samples as u64;
        self.first_t = Some(self.first_t.map_or(first, |t| t.min(first)));
        self.last_t = Some(self.last_t.map_or(last, |t| t.max(last)));
        Ok(())
    }

    /// Writes the index, tombstones and meta.json, fsyncs, and renames the
    /// block into place. A block without series is not kept (as Prometheus
    /// keeps no empty block): `Ok(None)`.
    pub fn finish(self) -> Result<Option<WrittenBlock>> {
        match self.finish_unplaced()? {
            None => Ok(None),
            Some(u) => u.place().map(Some),
        }
    }

    /// Like [`finish`](Self::finish) but leaves the block in its temporary
    /// directory (fsynced), for the caller to check and then [`place`].
    pub fn finish_unplaced(self) -> Result<Option<UnplacedBlock>> {
        let (min, max) = (self.min_time, self.max_time);
        self.finish_unplaced_range(min, max)
    }

    /// [`finish_unplaced`](Self::finish_unplaced) with the block's range
    /// narrowed to `[min_time, max_time)`, which must hold every sample
    /// added and lie inside the range the writer was created with.
    pub fn finish_unplaced_range(
        mut self,
        min_time: i64,
        max_time: i64,
    ) -> Result<Option<UnplacedBlock>> {
        if min_time < self.min_time
            || max_time > self.max_time
            || min_time >= max_time
            || self.first_t.is_some_and(|t| t < min_time)
            || self.last_t.is_some_and(|t| t >= max_time)
        {
            return Err(Error::Usage(format!(
                "block range [{min_time}, {max_time}) does not hold the samples or leaves [{}, {})",
                self.min_time, self.max_time
            )));
        }
        self.min_time = min_time;
        self.max_time = max_time;
        if self.table.len() == 0 {
            self.remove_tmp();
            self.done = true;
            return Ok(None);
        }
        // The last segment's fsync, the tombstones and meta.json (each
        // fsynced) and the chunks directory's fsync run while the index is
        // written.
        let sync_chunks = self.segments.close_unsynced()?;
        let table = std::mem::take(&mut self.table);
        let idx = self.tmp.join("index");
        let meta = self.meta_json()?;
        let (tmp, chunks_dir) = (&self.tmp, &self.segments.dir);
        std::thread::scope(|sc| -> Result<()> {
            let side = sc.spawn(move || -> Result<()> {
                if let Some(sync) = sync_chunks {
                    sync()?;
                }
                let mut ts = vec![0x01, 0x30, 0xBA, 0x30, 0x01];
                ts.extend_from_slice(&0u32.to_be_bytes());
                write_synced(&tmp.join("tombstones"), &ts)?;
                write_synced(&tmp.join("meta.json"), &meta)?;
                crate::copy::fsops::sync_dir(chunks_dir).map_err(|e| Error::io(chunks_dir, e))
            });
            let index = write_index_file(&idx, table);
            let side = side.join().unwrap_or_else(|_| {
                Err(Error::Usage("internal: block files thread panicked".into()))
            });
            index.and(side)
        })?;
        crate::copy::fsops::sync_dir(&self.tmp).map_err(|e| Error::io(&self.tmp, e))?;
        self.done = true;
        Ok(Some(UnplacedBlock {
            tmp: self.tmp.clone(),
            block: WrittenBlock {
                ulid: self.ulid.clone(),
                dir: self.parent.join(&self.ulid),
                min_time: self.min_time,
                max_time: self.max_time,
                stats: self.stats.clone(),
            },
        }))
    }

    fn meta_json(&self) -> Result<Vec<u8>> {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Stats {
            #[serde(skip_serializing_if = "is_zero")]
            num_samples: u64,
            #[serde(skip_serializing_if = "is_zero")]
            num_series: u64,
            #[serde(skip_serializing_if = "is_zero")]
            num_chunks: u64,
        }
        #[derive(Serialize)]
        struct Compaction<'a> {
            level: i64,
            sources: Vec<&'a str>,
            #[serde(skip_serializing_if = "<[_]>::is_empty")]
            parents: &'a [crate::format::meta::BlockDesc],
        }
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Meta<'a> {
            ulid: &'a str,
            min_time: i64,
            max_time: i64,
            stats: Stats,
            compaction: Compaction<'a>,
            version: i64,
        }
        let m = Meta {
            ulid: &self.ulid,
            min_time: self.min_time,
            max_time: self.max_time,
            stats: Stats {
                num_samples: self.stats.samples,
                num_series: self.stats.series,
                num_chunks: self.stats.chunks,
            },
            compaction: match &self.lineage {
                None => Compaction {
                    level: 1,
                    sources: vec![&self.ulid],
                    parents: &[],
                },
                Some(l) => Compaction {
                    level: l.level,
                    sources: l.sources.iter().map(String::as_str).collect(),
                    parents: &l.parents,
                },
            },
            version: 1,
        };
        let mut out = Vec::new();
        let fmt = serde_json::ser::PrettyFormatter::with_indent(b"\t");
        let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
        m.serialize(&mut ser)
            .map_err(|e| Error::io(self.tmp.join("meta.json"), io::Error::other(e)))?;
        Ok(out)
    }

    fn remove_tmp(&self) {
        let _ = std::fs::remove_dir_all(&self.tmp);
    }
}

impl Drop for BlockWriter {
    fn drop(&mut self) {
        if !self.done {
            let _ = self.segments.cur.take();
            self.remove_tmp();
        }
    }
}

/// A complete, fsynced block still in its `*.tmp-for-creation` directory.
#[derive(Debug)]
pub struct UnplacedBlock {
    /// The temporary directory holding it.
    pub tmp: PathBuf,
    /// What it will be once placed (`dir` is the final path).
    pub block: WrittenBlock,
}

impl UnplacedBlock {
    /// Renames the block into place without replacing anything and fsyncs
    /// the parent.
    pub fn place(self) -> Result<WrittenBlock> {
        let fin = &self.block.dir;
        crate::copy::fsops::rename_noreplace(&self.tmp, fin).map_err(|e| Error::io(fin, e))?;
        if let Some(p) = fin.parent() {
            crate::copy::fsops::sync_dir(p).map_err(|e| Error::io(p, e))?;
        }
        Ok(self.block)
    }

    /// Removes the temporary directory (the block is not wanted).
    pub fn discard(self) {
        let _ = std::fs::remove_dir_all(&self.tmp);
    }
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

/// Writes and fsyncs the index of `table` at `path`.
fn write_index_file(path: &Path, table: SeriesTable) -> Result<()> {
    let f = File::options()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| Error::io(path, e))?;
    let mut w = BufWriter::with_capacity(1 << 20, writeback::Writeback::new(f));
    write_index(&mut w, table).map_err(|e| Error::io(path, e))?;
    let f = w
        .into_inner()
        .map_err(|e| Error::io(path, e.into_error()))?
        .into_file();
    f.sync_all().map_err(|e| Error::io(path, e))
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = File::options()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| Error::io(path, e))?;
    f.write_all(bytes).map_err(|e| Error::io(path, e))?;
    f.sync_all().map_err(|e| Error::io(path, e))
}

/// A new ULID: 48 bits of Unix milliseconds, 80 random bits (from
/// `/dev/urandom`, else from the clock and process id), Crockford base32.
pub fn new_ulid() -> String {
    const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let ms = now.as_millis() as u64 & ((1 << 48) - 1);
    let mut rnd = [0u8; 10];
    let ok = File::open("/dev/urandom")
        .and_then(|mut f| io::Read::read_exact(&mut f, &mut rnd))
        .is_ok();
    if !ok {
        let seed = u128::from(now.subsec_nanos()) << 64 | u128::from(std::process::id());
        let x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835);
        rnd.copy_from_slice(x.to_be_bytes().get(..10).unwrap_or(&[0; 10]));
    }
    let mut v: u128 = u128::from(ms) << 80;
    for (i, b) in rnd.iter().enumerate() {
        v |= u128::from(*b) << (8 * (9 - i));
    }
    (0..26)
        .map(|i| {
            let shift = 125 - 5 * i;
            char::from(ALPHABET[((v >> shift) & 31) as usize])
        })
        .collect()
}

#[cfg(test)]
mod tests;
