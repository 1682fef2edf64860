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
//! which Prometheus deletes on start. A writer dropped before
//! [`BlockWriter::finish`] removes its temporary directory.
//!
//! Memory: the chunks of the series being added, plus what the index needs
//! of every series of the block (the index is written last, since its
//! symbol table comes first): each distinct label string once, 8 bytes per
//! label and 24 per chunk; samples are never held beyond one series.

pub mod chunk;
pub(crate) mod encode;
mod index;

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, Result};
use crate::format::ChunkRef;
use crate::format::chunkenc::Value;
use crate::format::crc::crc32c_append;
use crate::format::index::ChunkMeta;

pub use chunk::{EncodedChunk, SAMPLES_PER_CHUNK, encode_chunks, encode_chunks_into};
use index::{SeriesTable, write_index};

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

struct Segments {
    dir: PathBuf,
    files: Vec<PathBuf>,
    cur: Option<BufWriter<File>>,
    size: u64,
}

impl Segments {
    fn cut(&mut self) -> Result<()> {
        self.close()?;
        let path = self.dir.join(format!("{:06}", self.files.len() + 1));
        let f = File::options()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        let mut w = BufWriter::with_capacity(1 << 20, f);
        let mut h = SEGMENT_MAGIC.to_be_bytes().to_vec();
        h.extend_from_slice(&[1, 0, 0, 0]);
        w.write_all(&h).map_err(|e| Error::io(&path, e))?;
        self.files.push(path);
        self.cur = Some(w);
        self.size = 8;
        Ok(())
    }

    fn close(&mut self) -> Result<()> {
        if let Some(w) = self.cur.take() {
            let path = self.files.last().cloned().unwrap_or_default();
            let f = w
                .into_inner()
                .map_err(|e| Error::io(&path, e.into_error()))?;
            f.sync_all().map_err(|e| Error::io(&path, e))?;
        }
        Ok(())
    }

    /// Writes one series' chunks as one batch; their refs into `refs`.
    fn write(&mut self, chunks: &[ChunkOut<'_>], refs: &mut Vec<ChunkRef>) -> Result<()> {
        let batch: u64 = chunks.iter().map(|c| c.data.len() as u64 + 1 + 4 + 5).sum();
        if self.cur.is_none() || (self.size > 8 && self.size + batch > MAX_SEGMENT_SIZE) {
            self.cut()?;
        }
        let seg = (self.files.len() as u64).saturating_sub(1);
        let files = &self.files;
        let io = |e| Error::io(files.last().cloned().unwrap_or_default(), e);
        let Some(w) = self.cur.as_mut() else {
            return Err(Error::Usage("internal: no chunk segment open".into()));
        };
        refs.clear();
        let mut head = [0u8; 11];
        for c in chunks {
            if self.size > u64::from(u32::MAX) {
                return Err(io(io::Error::other(
                    "chunk segment offset past 4 GiB (one series too large)",
                )));
            }
            refs.push(ChunkRef((seg << 32) | self.size));
            let hn = put_uvarint_array(&mut head, c.data.len() as u64);
            let enc = c.encoding.to_u8();
            if let Some(h) = head.get_mut(hn) {
                *h = enc;
            }
            let crc = crc32c_append(crc32c_append(0, &[enc]), c.data);
            w.write_all(head.get(..hn + 1).unwrap_or(&[])).map_err(io)?;
            w.write_all(c.data).map_err(io)?;
            w.write_all(&crc.to_be_bytes()).map_err(io)?;
            self.size += (hn + 1 + c.data.len() + 4) as u64;
        }
        Ok(())
    }
}

/// One encoded chunk to write, its data borrowed.
#[derive(Clone, Copy)]
struct ChunkOut<'a> {
    encoding: crate::format::chunkenc::Encoding,
    mint: i64,
    maxt: i64,
    data: &'a [u8],
}

impl<'a> From<&'a EncodedChunk> for ChunkOut<'a> {
    fn from(c: &'a EncodedChunk) -> Self {
        ChunkOut {
            encoding: c.encoding,
            mint: c.mint,
            maxt: c.maxt,
            data: &c.data,
        }
    }
}

/// Labels compared as the index orders series: pair by pair, name then
/// value, bytewise.
fn cmp_labels<L: AsRef<[u8]>>(a: &[(Vec<u8>, Vec<u8>)], b: &[(L, L)]) -> std::cmp::Ordering {
    a.iter()
        .map(|(n, v)| (n.as_slice(), v.as_slice()))
        .cmp(b.iter().map(|(n, v)| (n.as_ref(), v.as_ref())))
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
    scratch: Vec<EncodedChunk>,
    refs: Vec<ChunkRef>,
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
            scratch: Vec::new(),
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
        let span = self.check(labels, samples)?;
        let mut chunks = std::mem::take(&mut self.scratch);
        encode_chunks_into(samples, &mut chunks);
        let outs: Vec<ChunkOut<'_>> = chunks.iter().map(ChunkOut::from).collect();
        let r = self.append(labels, samples.len(), span, &outs);
        drop(outs);
        self.scratch = chunks;
        r
    }

    /// Adds series as [`add_series`](Self::add_series) does, one after the
    /// other, their chunks encoded in parallel (the bytes written are the
    /// same). On an error, the series before the failing one are added.
    pub fn add_batch<L: AsRef<[u8]> + Sync>(&mut self, batch: &[SeriesIn<L>]) -> Result<()> {
        use rayon::prelude::*;
        /// Series encoded together: their chunks' metas (series index in
        /// the part, encoding, mint, maxt, data end) and data, flat.
        type Part = (Vec<(usize, EncodedMeta)>, Vec<u8>);
        type EncodedMeta = (crate::format::chunkenc::Encoding, i64, i64, usize);
        const PART: usize = 256;
        let parts: Vec<Part> = batch
            .par_chunks(PART)
            .map(|part| {
                let mut metas = Vec::with_capacity(part.len());
                let mut data = Vec::new();
                let mut scratch = Vec::new();
                for (k, (_, samples)) in part.iter().enumerate() {
                    encode_chunks_into(samples, &mut scratch);
                    for c in &scratch {
                        data.extend_from_slice(&c.data);
                        metas.push((k, (c.encoding, c.mint, c.maxt, data.len())));
                    }
                }
                (metas, data)
            })
            .collect();
        let mut outs: Vec<ChunkOut<'_>> = Vec::new();
        for (part, (metas, data)) in batch.chunks(PART).zip(&parts) {
            let (mut m, mut start) = (0usize, 0usize);
            for (k, (labels, samples)) in part.iter().enumerate() {
                outs.clear();
                while let Some(&(kk, (encoding, mint, maxt, end))) = metas.get(m)
                    && kk == k
                {
                    outs.push(ChunkOut {
                        encoding,
                        mint,
                        maxt,
                        data: data.get(start..end).unwrap_or(&[]),
                    });
                    start = end;
                    m += 1;
                }
                if samples.is_empty() {
                    continue;
                }
                let span = self.check(labels, samples)?;
                self.append(labels, samples.len(), span, &outs)?;
            }
        }
        Ok(())
    }

    /// The checks of [`add_series`](Self::add_series); the first and last
    /// sample time of a non-empty series.
    fn check<L: AsRef<[u8]>>(
        &self,
        labels: &[(L, L)],
        samples: &[(i64, Value)],
    ) -> Result<(i64, i64)> {
        let bad = |m: String| Err(Error::Usage(m));
        if labels.is_empty() {
            return bad("a series needs at least one label".into());
        }
        if labels
            .windows(2)
            .any(|w| matches!(w, [a, b] if a.0.as_ref() >= b.0.as_ref()))
        {
            return bad("labels must be sorted by name, names unique".into());
        }
        if labels
            .iter()
            .any(|(n, v)| n.as_ref().is_empty() || v.as_ref().is_empty())
        {
            return bad("label names and values must not be empty".into());
        }
        if self.table.len() > 0 && cmp_labels(&self.prev_labels, labels).is_ge() {
            return bad("series must be added in strictly increasing label order".into());
        }
        if samples
            .windows(2)
            .any(|w| matches!(w, [a, b] if a.0 >= b.0))
        {
            return bad("sample times must strictly increase".into());
        }
        let (first, last) = (
            samples.first().map_or(0, |s| s.0),
            samples.last().map_or(0, |s| s.0),
        );
        if first < self.min_time || last >= self.max_time {
            return bad(format!(
                "samples [{first}, {last}] outside the block's range [{}, {})",
                self.min_time, self.max_time
            ));
        }
        Ok((first, last))
    }

    /// Writes a checked series' chunks and records it for the index.
    fn append<L: AsRef<[u8]>>(
        &mut self,
        labels: &[(L, L)],
        samples: usize,
        (first, last): (i64, i64),
        chunks: &[ChunkOut<'_>],
    ) -> Result<()> {
        self.segments.write(chunks, &mut self.refs)?;
        self.stats.series += 1;
        self.stats.chunks += chunks.len() as u64;
        self.stats.samples += samples as u64;
        self.first_t = Some(self.first_t.map_or(first, |t| t.min(first)));
        self.last_t = Some(self.last_t.map_or(last, |t| t.max(last)));
        let metas = chunks.iter().zip(&self.refs).map(|(c, &r)| ChunkMeta {
            mint: c.mint,
            maxt: c.maxt,
            chunk_ref: r,
        });
        self.table
            .push(labels, &self.prev_labels, metas)
            .map_err(|e| Error::io(&self.tmp, e))?;
        // Kept for the order check, reusing the previous series' buffers.
        self.prev_labels.truncate(labels.len());
        for (i, (n, v)) in labels.iter().enumerate() {
            let (n, v) = (n.as_ref(), v.as_ref());
            match self.prev_labels.get_mut(i) {
                Some((pn, pv)) => {
                    pn.clear();
                    pn.extend_from_slice(n);
                    pv.clear();
                    pv.extend_from_slice(v);
                }
                None => self.prev_labels.push((n.to_vec(), v.to_vec())),
            }
        }
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
        self.segments.close()?;
        let idx = self.tmp.join("index");
        let f = File::options()
            .write(true)
            .create_new(true)
            .open(&idx)
            .map_err(|e| Error::io(&idx, e))?;
        let mut w = BufWriter::with_capacity(1 << 20, f);
        write_index(&mut w, std::mem::take(&mut self.table)).map_err(|e| Error::io(&idx, e))?;
        let f = w
            .into_inner()
            .map_err(|e| Error::io(&idx, e.into_error()))?;
        f.sync_all().map_err(|e| Error::io(&idx, e))?;
        let mut ts = vec![0x01, 0x30, 0xBA, 0x30, 0x01];
        ts.extend_from_slice(&0u32.to_be_bytes());
        write_synced(&self.tmp.join("tombstones"), &ts)?;
        write_synced(&self.tmp.join("meta.json"), &self.meta_json()?)?;
        for d in [&self.segments.dir, &self.tmp] {
            crate::copy::fsops::sync_dir(d).map_err(|e| Error::io(d, e))?;
        }
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

/// `v` as a uvarint into `out`; returns its length.
fn put_uvarint_array(out: &mut [u8; 11], mut v: u64) -> usize {
    let mut i = 0;
    while v >= 0x80 {
        if let Some(b) = out.get_mut(i) {
            *b = (v as u8) | 0x80;
        }
        v >>= 7;
        i += 1;
    }
    if let Some(b) = out.get_mut(i) {
        *b = v as u8;
    }
    i + 1
}

fn is_zero(v: &u64) -> bool {
    *v == 0
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
