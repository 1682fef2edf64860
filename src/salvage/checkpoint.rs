//! A damaged WAL checkpoint in `salvage --in-place`.
//!
//! **What Prometheus 2.42 does** (tsdb/head.go `Init`, tsdb/wlog `Repair`):
//! it replays the last checkpoint before the WAL segments; a reader error
//! there (a bad CRC, a torn or undecodable record) fails the replay ("a
//! corrupted checkpoint is a hard error", says its source). The start then
//! runs the WAL repair with the checkpoint segment's *number* but in `wal/`:
//! it deletes every WAL segment numbered above it — usually all of them —
//! and fails to rename the `wal/` segment of that number, which does not
//! exist. Prometheus refuses to start, and the WAL segments are gone; the
//! next start finds the checkpoint alone and starts with what it held before
//! its damage.
//!
//! **What salvage does instead**: the cut Prometheus' repair means to make,
//! in the checkpoint itself — the damaged checkpoint segment keeps its whole
//! records before the damage, later checkpoint segments leave — and every
//! WAL segment stays. The originals are kept in the quarantine directory.
//! Prometheus then starts, replays the shortened checkpoint and every
//! segment after it.
//!
//! **What the restarted server may miss**: the series whose series records
//! were in the cut part are unknown to it, so their samples in the later
//! segments ("Unknown series references") and their head chunks are not
//! loaded; and samples the cut part held for the other series, where no
//! head chunk holds them. The range reported spans those series' sample
//! times (in the segments and `chunks_head/`) and the sample times of the
//! checkpoint: from its earliest sample read to the first sample of the
//! segment that follows it (the checkpoint's samples come from the segments
//! before that one).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::check::codes::FindingCode;
use crate::copy::fsops;
use crate::error::{Error, Result};
use crate::fileutil::map_file;
use crate::format::SeriesRef;
use crate::format::head_chunks;
use crate::format::record::{self, RecordType};
use crate::format::wal::RecordReader;
use crate::format::wal::segment::{parse_checkpoint_name, parse_segment_name};

/// The checkpoint cut (planned, then applied).
#[derive(Debug, Clone, Serialize)]
pub struct CheckpointCut {
    /// The checkpoint directory (`wal/checkpoint.N`).
    pub dir: PathBuf,
    /// The damaged checkpoint segment.
    pub segment: PathBuf,
    /// Offset of the first damaged record in it.
    pub damage_offset: u64,
    /// The finding code of the damage (`wal_checksum`, `wal_torn_tail`, ...).
    pub code: FindingCode,
    /// What the damage is.
    pub detail: String,
    /// Bytes of the damaged segment kept (the whole records before the damage).
    pub kept_bytes: u64,
    /// Whole records kept from the damaged segment.
    pub kept_records: u64,
    /// Later checkpoint segments moved whole into quarantine.
    pub later_segments: Vec<PathBuf>,
    /// Series the kept records define.
    pub series_kept: u64,
    /// Series referenced by the WAL segments or head chunks that nothing
    /// kept defines: Prometheus will not load their data.
    pub series_unknown: u64,
    /// `[from, to)` (ms): the sample times the restarted Prometheus may
    /// miss (see the module docs).
    pub lost_range: Option<[i64; 2]>,
}

/// The newest complete checkpoint directory of `wal`.
fn last_checkpoint(wal: &Path) -> Result<Option<PathBuf>> {
    let mut best: Option<(u32, PathBuf)> = None;
    for ent in std::fs::read_dir(wal).map_err(|e| Error::io(wal, e))? {
        let ent = ent.map_err(|e| Error::io(wal, e))?;
        let n = ent.file_name().to_string_lossy().into_owned();
        if let Some(c) = parse_checkpoint_name(&n).filter(|c| !c.tmp)
            && best.as_ref().is_none_or(|(i, _)| c.index > *i)
        {
            best = Some((c.index, ent.path()));
        }
    }
    Ok(best.map(|(_, p)| p))
}

/// Numbered segment files of `dir`, in order.
fn numbered(dir: &Path) -> Result<Vec<(u32, PathBuf)>> {
    let mut v = Vec::new();
    for ent in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let ent = ent.map_err(|e| Error::io(dir, e))?;
        if let Some(i) = parse_segment_name(&ent.file_name().to_string_lossy()) {
            v.push((i, ent.path()));
        }
    }
    v.sort();
    Ok(v)
}

/// A time span being widened.
#[derive(Default)]
struct Span(Option<(i64, i64)>);

impl Span {
    fn add(&mut self, a: i64, b: i64) {
        self.0 = Some(self.0.map_or((a, b), |(x, y)| (x.min(a), y.max(b))));
    }
}

/// Calls `f(series_ref, t)` for every float or histogram sample of `rec`.
fn for_each_sample_time(rec: &[u8], mut f: impl FnMut(SeriesRef, i64)) {
    let Some(t) = record::record_type(rec) else {
        return;
    };
    if matches!(t, RecordType::Samples | RecordType::SamplesV2) {
        let _ = record::for_each_sample(rec, 0, |r, t, _| f(r, t));
    } else if t.is_histogram_samples() {
        let _ = record::for_each_histogram(rec, 0, |s, _| f(s.series_ref, s.t));
    } else if t.is_float_histogram_samples() {
        let _ = record::for_each_float_histogram(rec, 0, |s, _| f(s.series_ref, s.t));
    }
}

/// Adds the series a Series record defines to `known`.
fn add_series(rec: &[u8], known: &mut HashSet<SeriesRef>) {
    if record::record_type(rec) == Some(RecordType::Series) {
        let _ = record::for_each_series(rec, 0, |r, _| {
            known.insert(r);
        });
    }
}

/// Finds damage in the last checkpoint and plans the cut; `None` when the
/// checkpoint reads cleanly (or there is none). `chunks_head` is read to
/// tell which head chunks belong to series nothing kept defines.
pub fn plan_checkpoint_cut(
    wal: &Path,
    chunks_head: Option<&Path>,
) -> Result<Option<CheckpointCut>> {
    let Some(dir) = last_checkpoint(wal)? else {
        return Ok(None);
    };
    let segs = numbered(&dir)?;
    let mut known: HashSet<SeriesRef> = HashSet::new();
    let mut span = Span::default();
    let mut found = None;
    for (k, (_, p)) in segs.iter().enumerate() {
        let bytes = map_file(p)?;
        let (n, err, valid) = super::wal::read_until_damage(&bytes, |data| {
            add_series(data, &mut known);
            for_each_sample_time(data, |_, t| span.add(t, t));
        });
        if let Some(e) = err {
            found = Some((k, p.clone(), e, valid, n));
            break;
        }
    }
    let Some((k, segment, e, kept_bytes, kept_records)) = found else {
        return Ok(None);
    };
    let later_segments: Vec<PathBuf> = segs.iter().skip(k + 1).map(|(_, p)| p.clone()).collect();
    // Samples the later checkpoint segments hold are cut with them.
    for p in &later_segments {
        let bytes = map_file(p)?;
        let mut r = RecordReader::new(&bytes);
        while let Some(Ok(rec)) = r.next_record() {
            for_each_sample_time(rec.data, |_, t| span.add(t, t));
        }
    }
    let series_kept = known.len() as u64;
    // The WAL segments after the checkpoint, in replay order: samples of
    // series nothing defines are skipped by the replay.
    let index = dir
        .file_name()
        .and_then(|n| parse_checkpoint_name(&n.to_string_lossy()))
        .map_or(0, |c| c.index);
    let mut unknown: HashSet<SeriesRef> = HashSet::new();
    let mut first_after: Option<i64> = None;
    for (_, p) in numbered(wal)?.into_iter().filter(|(i, _)| *i > index) {
        let bytes = map_file(&p)?;
        let mut r = RecordReader::new(&bytes);
        while let Some(Ok(rec)) = r.next_record() {
            add_series(rec.data, &mut known);
            for_each_sample_time(rec.data, |s, t| {
                first_after = Some(first_after.map_or(t, |x| x.min(t)));
                if !known.contains(&s) {
                    unknown.insert(s);
                    span.add(t, t);
                }
            });
        }
    }
    // The checkpoint's samples came from segments before the next one.
    if let (Some((a, _)), Some(f)) = (span.0, first_after) {
        span.add(a, f);
    }
    if let Some(h) = chunks_head {
        for (_, p) in numbered_head_chunk_files(h) {
            let Ok(bytes) = map_file(&p) else { continue };
            let Ok(it) = head_chunks::chunks(&bytes) else {
                continue;
            };
            for c in it.map_while(|c| c.ok()) {
                if !known.contains(&c.series_ref) {
                    unknown.insert(c.series_ref);
                    span.add(c.mint, c.maxt);
                }
            }
        }
    }
    Ok(Some(CheckpointCut {
        dir,
        segment,
        damage_offset: e.offset(),
        code: FindingCode::of_wal(e.kind()),
        detail: e.to_string(),
        kept_bytes,
        kept_records,
        later_segments,
        series_kept,
        series_unknown: unknown.len() as u64,
        lost_range: span.0.map(|(a, b)| [a, b.saturating_add(1)]),
    }))
}

/// `chunks_head/` files (six-digit numbers), in order.
fn numbered_head_chunk_files(dir: &Path) -> Vec<(u64, PathBuf)> {
    let mut v: Vec<(u64, PathBuf)> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| {
                    let n = e.file_name().to_string_lossy().into_owned();
                    (!n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
                        .then(|| n.parse().ok().map(|i| (i, e.path())))
                        .flatten()
                })
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Applies a planned cut: the later checkpoint segments and the original
/// damaged one go into `qdir` (created: `quarantine/wal/checkpoint.N`), the
/// kept prefix replaces the damaged segment (written to a temporary file,
/// fsynced, renamed over the name whose original is already in quarantine).
pub fn apply_checkpoint_cut(cut: &CheckpointCut, qdir: &Path) -> Result<()> {
    std::fs::create_dir_all(qdir).map_err(|e| Error::io(qdir, e))?;
    for p in cut.later_segments.iter().rev() {
        let dst = qdir.join(p.file_name().unwrap_or_default());
        fsops::rename_noreplace(p, &dst).map_err(|e| Error::io(p, e))?;
    }
    fsops::sync_dir(&cut.dir).map_err(|e| Error::io(&cut.dir, e))?;
    let seg = &cut.segment;
    let name = seg.file_name().unwrap_or_default();
    let qseg = qdir.join(name);
    if !fsops::try_hard_link(seg, &qseg).map_err(|e| Error::io(&qseg, e))? {
        std::fs::copy(seg, &qseg).map_err(|e| Error::io(&qseg, e))?;
        std::fs::File::open(&qseg)
            .and_then(|f| f.sync_all())
            .map_err(|e| Error::io(&qseg, e))?;
    }
    fsops::sync_dir(qdir).map_err(|e| Error::io(qdir, e))?;
    super::wal::shorten_file(&cut.dir, seg, cut.kept_bytes)
}
