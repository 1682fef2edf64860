//! A summary of the write-ahead state of a Prometheus data directory: `wal/`
//! (segments and checkpoints), `wbl/`, `chunks_head/` and `chunk_snapshot.*`.
//!
//! [`inspect`] reads every file with plain reads (WAL segments are never
//! memory-mapped: the newest one may be growing), one file at a time, so
//! memory stays at one segment plus one set of series references. Damage in
//! one segment is recorded in its [`SegmentReport`] and the walk goes on.
//!
//! The report is a stable, documented JSON shape (`serde::Serialize`); field
//! names are `snake_case` and only ever added to.
//!
//! ```no_run
//! let report = promsnap::walinfo::inspect(std::path::Path::new("data"))?;
//! if let Some(wal) = &report.wal {
//!     println!("WAL covers {:?}..{:?}", wal.time.min_t, wal.time.max_t);
//! }
//! # Ok::<(), promsnap::walinfo::Error>(())
//! ```

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::check::FindingCode;
use crate::format::SeriesRef;
use crate::format::head_chunks;
use crate::format::record::{self, RecordType};
use crate::format::wal::segment::{self as names, CheckpointName};
use crate::format::wal::{Compression, FragmentStats, RecordReader, WalError};

/// At most this many record-payload errors are kept per segment (all are counted).
pub const MAX_RECORD_ERRORS: usize = 10;

/// The error of this layer is the crate's: an I/O failure on a path that
/// [`inspect`] cannot do without is [`Error::Io`].
pub use crate::error::Error;

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> Error + '_ {
    move |cause| Error::io(path, cause)
}

/// What a problem is, and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// Offset in the file (for record errors: the record's first fragment).
    pub offset: u64,
    /// Stable code: a `wal_*` code for a segment, the decode error's kind
    /// (`checksum_mismatch`, `invalid_structure`, `truncated`, ...) for a head chunk file.
    pub code: FindingCode,
    /// Human-readable message.
    pub message: String,
}

/// Inclusive sample-time range in ms; both `None` when there were no samples.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct TimeRange {
    /// Lowest sample timestamp.
    pub min_t: Option<i64>,
    /// Highest sample timestamp.
    pub max_t: Option<i64>,
}

impl TimeRange {
    fn add(&mut self, t: i64) {
        self.min_t = Some(self.min_t.map_or(t, |m| m.min(t)));
        self.max_t = Some(self.max_t.map_or(t, |m| m.max(t)));
    }

    fn merge(&mut self, o: TimeRange) {
        if let Some(t) = o.min_t {
            self.add(t);
        }
        if let Some(t) = o.max_t {
            self.add(t);
        }
    }
}

/// Records by compression.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CompressionCounts {
    /// Uncompressed records.
    pub none: u64,
    /// Snappy records.
    pub snappy: u64,
    /// Zstd records.
    pub zstd: u64,
}

/// What a set of records holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RecordCounts {
    /// Records read.
    pub records: u64,
    /// Records per type name (`series`, `samples`, ..., `unknown(N)`, `empty`).
    pub records_by_type: BTreeMap<String, u64>,
    /// Records per compression.
    pub compression: CompressionCounts,
    /// Series entries in Series records.
    pub series_created: u64,
    /// Float samples (records 2 and 11).
    pub float_samples: u64,
    /// Integer histogram samples (records 7, 9, 12).
    pub histogram_samples: u64,
    /// Float histogram samples (records 8, 10, 13).
    pub float_histogram_samples: u64,
    /// Exemplars.
    pub exemplars: u64,
    /// Tombstone intervals.
    pub tombstones: u64,
    /// Metadata entries.
    pub metadata: u64,
    /// M-map markers (WBL).
    pub mmap_markers: u64,
    /// Records whose payload did not decode (the framing was fine).
    pub malformed_records: u64,
    /// Float samples whose series ref has no Series record before them (in
    /// the replayed checkpoint and segments). Prometheus 2.42's replay
    /// (`Head.loadWAL`) skips them: they are in no query, no block, no
    /// metric; one warn-level log line "Unknown series references" counts
    /// them (with exemplars, histograms and metadata). They are not in
    /// `float_samples` nor in the time range. Segments that replay does not
    /// read (before the checkpoint) are scanned on their own and count none.
    pub unknown_series_samples: u64,
    /// Histogram samples (integer and float) with no Series record before
    /// them: dropped on replay as [`Self::unknown_series_samples`]; not in
    /// `histogram_samples`, `float_histogram_samples` nor the time range.
    pub unknown_series_histograms: u64,
    /// Sample time range (floats and histograms).
    #[serde(flatten)]
    pub time: TimeRange,
}

impl RecordCounts {
    fn merge(&mut self, o: &RecordCounts) {
        self.records += o.records;
        for (k, v) in &o.records_by_type {
            *self.records_by_type.entry(k.clone()).or_insert(0) += v;
        }
        self.compression.none += o.compression.none;
        self.compression.snappy += o.compression.snappy;
        self.compression.zstd += o.compression.zstd;
        self.series_created += o.series_created;
        self.float_samples += o.float_samples;
        self.unknown_series_samples += o.unknown_series_samples;
        self.unknown_series_histograms += o.unknown_series_histograms;
        self.histogram_samples += o.histogram_samples;
        self.float_histogram_samples += o.float_histogram_samples;
        self.exemplars += o.exemplars;
        self.tombstones += o.tombstones;
        self.metadata += o.metadata;
        self.mmap_markers += o.mmap_markers;
        self.malformed_records += o.malformed_records;
        self.time.merge(o.time);
    }
}

mod chunks_head;
use chunks_head::inspect_chunk_snapshot;
pub use chunks_head::{inspect_chunks_head, scan_head_chunk_file};
mod refset;
mod samples_fast;
pub use refset::RefSet;
mod scan;
pub use scan::*;

/// One `checkpoint.NNNNNNNN[.tmp]` directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckpointReport {
    /// Directory name.
    pub name: String,
    /// Path.
    pub path: PathBuf,
    /// N: the last WAL segment folded in.
    pub index: u32,
    /// True for an unfinished `.tmp` checkpoint (a leftover Prometheus ignores).
    pub tmp: bool,
    /// True for the checkpoint replay would use (the newest complete one).
    pub current: bool,
    /// Its segments.
    pub segments: Vec<SegmentReport>,
    /// Missing segment numbers.
    pub segment_gaps: Vec<Gap>,
    /// Total bytes.
    pub size: u64,
    /// Totals over its segments.
    pub totals: RecordCounts,
    /// The directory could not be listed.
    pub read_error: Option<String>,
}

/// A `wal/` or `wbl/` directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WalDirReport {
    /// Path.
    pub path: PathBuf,
    /// Segments, by number.
    pub segments: Vec<SegmentReport>,
    /// Lowest segment number.
    pub first_segment: Option<u32>,
    /// Highest segment number.
    pub last_segment: Option<u32>,
    /// Missing segment numbers between first and last (Prometheus refuses these).
    pub segment_gaps: Vec<Gap>,
    /// Checkpoints, by number (`.tmp` ones included, flagged).
    pub checkpoints: Vec<CheckpointReport>,
    /// Entries that are neither segments nor checkpoints.
    pub other_entries: Vec<String>,
    /// Number of the checkpoint replay starts from.
    pub replay_checkpoint: Option<u32>,
    /// Segments replay reads after the checkpoint (numbers > its N), first..last.
    pub replay_segments: Option<(u32, u32)>,
    /// Segments with a torn tail.
    pub torn_segments: Vec<u32>,
    /// Segments with corruption.
    pub corrupt_segments: Vec<u32>,
    /// Totals over what replay reads: the current checkpoint plus the
    /// segments after it.
    pub totals: RecordCounts,
    /// Sample-time coverage of what replay reads (= `totals` time range).
    pub time: TimeRange,
    /// Distinct series refs created in what replay reads.
    pub series: u64,
    /// Total bytes of segments and checkpoints.
    pub size: u64,
    /// How many times the directory was read again because files listed
    /// vanished while they were read (a running Prometheus truncating its
    /// WAL: the checkpoint written before the deletion holds their series).
    pub rereads: u32,
}

/// One `chunks_head/NNNNNN` file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HeadChunkFileReport {
    /// File name.
    pub name: String,
    /// File number.
    pub index: u32,
    /// Path.
    pub path: PathBuf,
    /// Size in bytes.
    pub size: u64,
    /// Chunks read.
    pub chunks: u64,
    /// Out-of-order chunks among them.
    pub ooo_chunks: u64,
    /// Distinct series refs.
    pub series: u64,
    /// Chunks per encoding name (`XOR`, `Histogram`, `FloatHistogram`, ...).
    pub encodings: BTreeMap<String, u64>,
    /// Lowest chunk mint and highest chunk maxt.
    #[serde(flatten)]
    pub time: TimeRange,
    /// Where the chunk data ends (zeros follow), if it ended cleanly.
    pub end_offset: Option<u64>,
    /// The damage that stopped the read, if any.
    pub corruption: Option<Problem>,
    /// The file could not be read.
    pub read_error: Option<String>,
    /// True for the highest-numbered file when it is shorter than 4 bytes or
    /// its magic reads as 0: Prometheus deletes such a file on startup
    /// instead of reporting it (its `corruption` is still filled in).
    pub deleted_on_startup: bool,
}

/// The `chunks_head/` directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChunksHeadReport {
    /// Path.
    pub path: PathBuf,
    /// Files, by number.
    pub files: Vec<HeadChunkFileReport>,
    /// Missing file numbers (Prometheus refuses these).
    pub file_gaps: Vec<Gap>,
    /// Time range over all files.
    pub time: TimeRange,
    /// Total chunks.
    pub chunks: u64,
}

/// A `chunk_snapshot.NNNNNN.MMMMMMMMMM[.tmp]` directory (listed, not decoded).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChunkSnapshotReport {
    /// Directory name.
    pub name: String,
    /// Path.
    pub path: PathBuf,
    /// WAL segment the snapshot is consistent with.
    pub wal_segment: u32,
    /// Offset in that segment.
    pub wal_offset: u64,
    /// True for an unfinished `.tmp` snapshot.
    pub tmp: bool,
    /// Its files (name, size).
    pub files: Vec<(String, u64)>,
    /// Total bytes.
    pub size: u64,
}

/// What [`inspect`] found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WalReport {
    /// The directory given.
    pub path: PathBuf,
    /// `data_dir` or `wal_dir` (when given a WAL directory itself).
    pub kind: &'static str,
    /// `wal/` (or the directory itself).
    pub wal: Option<WalDirReport>,
    /// `wbl/`.
    pub wbl: Option<WalDirReport>,
    /// `chunks_head/`.
    pub chunks_head: Option<ChunksHeadReport>,
    /// `chunk_snapshot.*` directories, oldest first.
    pub chunk_snapshots: Vec<ChunkSnapshotReport>,
}

impl WalReport {
    /// False when the directory given is neither a data directory (with
    /// `wal/`, `wbl/` or `chunks_head/`) nor a WAL directory: no segment, no
    /// checkpoint, and either other entries or a name other than `wal`/`wbl`
    /// (an empty `wal/` is a WAL with nothing in it yet).
    pub fn is_recognisable(&self) -> bool {
        if self.kind != "wal_dir" {
            return true;
        }
        let Some(w) = &self.wal else { return false };
        let named = self
            .path
            .canonicalize()
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .is_some_and(|n| n == "wal" || n == "wbl");
        !w.segments.is_empty() || !w.checkpoints.is_empty() || (named && w.other_entries.is_empty())
    }
}

fn list_dir(dir: &Path) -> Result<Vec<(String, PathBuf, fs::FileType)>, Error> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).map_err(io_err(dir))? {
        let entry = entry.map_err(io_err(dir))?;
        let ft = entry.file_type().map_err(io_err(&entry.path()))?;
        out.push((
            entry.file_name().to_string_lossy().into_owned(),
            entry.path(),
            ft,
        ));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// The numbered segment files of a WAL (or checkpoint) directory, sorted.
pub fn segments(dir: &Path) -> Result<Vec<(u32, PathBuf)>, Error> {
    let mut v: Vec<(u32, PathBuf)> = list_dir(dir)?
        .into_iter()
        .filter(|(_, _, ft)| !ft.is_dir())
        .filter_map(|(n, p, _)| names::parse_segment_name(&n).map(|i| (i, p)))
        .collect();
    v.sort();
    Ok(v)
}

/// The `checkpoint.N[.tmp]` directories of a WAL directory, sorted by N
/// (a `.tmp` after the complete one of the same N).
pub fn checkpoints(dir: &Path) -> Result<Vec<(CheckpointName, PathBuf)>, Error> {
    let mut v: Vec<(CheckpointName, PathBuf)> = list_dir(dir)?
        .into_iter()
        .filter(|(_, _, ft)| ft.is_dir())
        .filter_map(|(n, p, _)| names::parse_checkpoint_name(&n).map(|c| (c, p)))
        .collect();
    v.sort_by_key(|(c, _)| (c.index, c.tmp));
    Ok(v)
}

/// The numbered files of a `chunks_head/` directory, sorted.
pub fn head_chunk_files(dir: &Path) -> Result<Vec<(u32, PathBuf)>, Error> {
    segments(dir)
}

/// Reads a `wal/` or `wbl/` directory. On a live directory, segments and
/// checkpoints deleted by a truncation while they were read are re-resolved:
/// the directory is listed and read again (up to 8 times), so the report is
/// one consistent state, never a vanished file reported as damage.
pub fn inspect_wal_dir(dir: &Path) -> Result<WalDirReport, Error> {
    let mut rereads = 0;
    loop {
        let mut r = inspect_wal_dir_once(dir)?;
        r.rereads = rereads;
        if rereads >= 8 || !r.has_vanished_files() {
            return Ok(r);
        }
        rereads += 1;
    }
}

impl WalDirReport {
    /// True if a file or directory listed in this report could not be read
    /// and no longer exists: deleted while it was read.
    pub fn has_vanished_files(&self) -> bool {
        let gone = |p: &Path| std::fs::symlink_metadata(p).is_err();
        self.segments
            .iter()
            .chain(self.checkpoints.iter().flat_map(|c| c.segments.iter()))
            .any(|s| s.read_error.is_some() && gone(&s.path))
            || self
                .checkpoints
                .iter()
                .any(|c| c.read_error.is_some() && gone(&c.path))
    }
}

/// A WAL directory's segments, checkpoints and other entries, by name.
#[allow(clippy::type_complexity)]
fn wal_dir_entries(
    dir: &Path,
) -> Result<
    (
        Vec<(u32, PathBuf)>,
        Vec<(CheckpointName, PathBuf)>,
        Vec<String>,
    ),
    Error,
> {
    let mut other_entries = Vec::new();
    let mut seg_paths = Vec::new();
    let mut cp_paths = Vec::new();
    for (name, path, ft) in list_dir(dir)? {
        if let (false, Some(i)) = (ft.is_dir(), names::parse_segment_name(&name)) {
            seg_paths.push((i, path));
        } else if let (true, Some(c)) = (ft.is_dir(), names::parse_checkpoint_name(&name)) {
            cp_paths.push((c, path));
        } else {
            other_entries.push(name);
        }
    }
    Ok((seg_paths, cp_paths, other_entries))
}

/// One checkpoint directory's segments scanned into `set` (the replay's
/// series when it is the `current` checkpoint).
fn inspect_checkpoint(
    c: CheckpointName,
    path: PathBuf,
    current: bool,
    set: &mut RefSet,
) -> CheckpointReport {
    let listed = segments(&path);
    let read_error = listed.as_ref().err().map(|e| e.to_string());
    let listed = listed.unwrap_or_default();
    let last = listed.iter().map(|(i, _)| *i).max();
    // A finished checkpoint was closed before it got its name: all sealed.
    let segs: Vec<_> = listed
        .into_iter()
        .map(|(i, p)| inspect_segment_file(i, &p, !c.tmp || Some(i) < last, set))
        .collect();
    let mut cp_totals = RecordCounts::default();
    for s in &segs {
        cp_totals.merge(&s.scan.counts);
    }
    CheckpointReport {
        name: path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        path,
        index: c.index,
        tmp: c.tmp,
        current,
        segment_gaps: gaps_of(&segs),
        size: segs.iter().map(|s| s.size).sum(),
        segments: segs,
        totals: cp_totals,
        read_error,
    }
}

fn inspect_wal_dir_once(dir: &Path) -> Result<WalDirReport, Error> {
    let (mut seg_paths, mut cp_paths, other_entries) = wal_dir_entries(dir)?;
    seg_paths.sort();
    cp_paths.sort_by_key(|(c, _)| (c.index, c.tmp));
    let replay_checkpoint = cp_paths
        .iter()
        .filter(|(c, _)| !c.tmp)
        .map(|(c, _)| c.index)
        .next_back();

    let mut replay_series = RefSet::new();
    // Segments replay does not read are scanned on their own: no sample of
    // theirs is called unknown.
    let mut scratch = RefSet::all_known();
    let mut totals = RecordCounts::default();
    let mut checkpoints = Vec::new();
    for (c, path) in cp_paths {
        let current = !c.tmp && Some(c.index) == replay_checkpoint;
        let set = if current {
            &mut replay_series
        } else {
            &mut scratch
        };
        let cp = inspect_checkpoint(c, path, current, set);
        scratch.clear();
        scratch.insert(ALL_SERIES_KNOWN);
        if current {
            totals.merge(&cp.totals);
        }
        checkpoints.push(cp);
    }

    let mut segs = Vec::new();
    // Only the highest-numbered segment is ever written to.
    let last = seg_paths.iter().map(|(i, _)| *i).max();
    for (i, p) in seg_paths {
        let replayed = replay_checkpoint.is_none_or(|n| i > n);
        let set = if replayed {
            &mut replay_series
        } else {
            &mut scratch
        };
        let s = inspect_segment_file(i, &p, Some(i) < last, set);
        scratch.clear();
        scratch.insert(ALL_SERIES_KNOWN);
        if replayed {
            totals.merge(&s.scan.counts);
        }
        segs.push(s);
    }
    let replay_segments = {
        let mut it = segs
            .iter()
            .map(|s| s.index)
            .filter(|&i| replay_checkpoint.is_none_or(|n| i > n));
        it.next()
            .map(|first| (first, it.next_back().unwrap_or(first)))
    };
    Ok(WalDirReport {
        path: dir.to_path_buf(),
        first_segment: segs.first().map(|s| s.index),
        last_segment: segs.last().map(|s| s.index),
        segment_gaps: gaps_of(&segs),
        torn_segments: segs
            .iter()
            .filter(|s| s.scan.torn_tail)
            .map(|s| s.index)
            .collect(),
        corrupt_segments: segs
            .iter()
            .filter(|s| s.scan.corruption.is_some() || s.read_error.is_some())
            .map(|s| s.index)
            .collect(),
        size: segs.iter().map(|s| s.size).sum::<u64>()
            + checkpoints.iter().map(|c| c.size).sum::<u64>(),
        segments: segs,
        checkpoints,
        other_entries,
        replay_checkpoint,
        replay_segments,
        time: totals.time,
        totals,
        series: replay_series.len() as u64,
        rereads: 0,
    })
}

/// Summarises the WAL state of `dir`: a data directory (its `wal/`, `wbl/`,
/// `chunks_head/` and `chunk_snapshot.*`), or a WAL directory itself.
///
/// Fails only when `dir` (or a directory in it) cannot be listed; unreadable
/// or damaged files are reported inside the [`WalReport`].
pub fn inspect(dir: &Path) -> Result<WalReport, Error> {
    let entries = list_dir(dir)?;
    let has_dir = |n: &str| entries.iter().any(|(name, _, ft)| name == n && ft.is_dir());
    let is_data_dir = has_dir("wal") || has_dir("wbl") || has_dir("chunks_head");
    if !is_data_dir {
        return Ok(WalReport {
            path: dir.to_path_buf(),
            kind: "wal_dir",
            wal: Some(inspect_wal_dir(dir)?),
            wbl: None,
            chunks_head: None,
            chunk_snapshots: Vec::new(),
        });
    }
    let sub = |n: &str| -> Result<Option<PathBuf>, Error> { Ok(has_dir(n).then(|| dir.join(n))) };
    let wal = sub("wal")?.map(|p| inspect_wal_dir(&p)).transpose()?;
    let wbl = sub("wbl")?.map(|p| inspect_wal_dir(&p)).transpose()?;
    let chunks_head = sub("chunks_head")?
        .map(|p| inspect_chunks_head(&p))
        .transpose()?;
    let mut chunk_snapshots: Vec<ChunkSnapshotReport> = entries
        .iter()
        .filter(|(_, _, ft)| ft.is_dir())
        .filter_map(|(n, p, _)| inspect_chunk_snapshot(n, p))
        .collect();
    chunk_snapshots.sort_by_key(|s| (s.wal_segment, s.wal_offset, s.tmp));
    Ok(WalReport {
        path: dir.to_path_buf(),
        kind: "data_dir",
        wal,
        wbl,
        chunks_head,
        chunk_snapshots,
    })
}

#[cfg(test)]
mod tests;

/// Per-core throughput, measured in CPU time of this thread (so it holds on a
/// busy machine): `cargo test --release --lib -- --ignored --nocapture throughput`.
/// Input: `PROMSNAP_BENCH_WAL` (a segment), else the bench segment made by
/// `bench/make-bench-data.sh bench/data wal`, else testdata; an
/// uncompressed input is also measured re-compressed with snappy record by record.
#[cfg(test)]
mod throughput;
