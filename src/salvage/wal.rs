//! The WAL and head-chunk part of `salvage --in-place`.
//!
//! **What Prometheus 2.42 does** on a WAL it cannot read at startup
//! (`tsdb/wlog` `Repair`): it replays the segments after the last
//! checkpoint one by one; at the first error (a bad CRC, a fragment out of
//! order, non-zero padding, a record that does not decompress, data ending
//! inside a record — a torn tail included) it deletes every segment after
//! the damaged one, rewrites the damaged one with the whole records that
//! end before the damage, and starts again. Whatever the deleted bytes held
//! is gone.
//!
//! **What salvage does instead**: the same cut — the damaged segment keeps
//! exactly the whole records before the first damaged record (its bytes up
//! to the end of the last good record, which reads identically), every
//! later segment leaves `wal/` — but nothing is deleted: the original
//! damaged segment and every later one are kept in the quarantine
//! directory. The records still readable in the cut part (the rest of the
//! damaged segment from the page after the damage, and the later segments)
//! are decoded to say which sample times the restarted Prometheus will not
//! have, by the rule `verify` predicts the repair's loss with
//! ([`crate::head::wal_repair_loss`]): a sample counts when no block holds
//! it (it is not older than the newest block's end) and no m-mapped chunk
//! in `chunks_head/` still serves it — the chunk files salvage moves into
//! quarantine serve nothing. The bytes that do not read are not guessed at.
//!
//! **Head chunks**: Prometheus 2.42 deletes a damaged `chunks_head` file and
//! every later one on startup, then rebuilds their samples from the WAL
//! where it still holds them. Salvage moves the same files into quarantine.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::check::codes::FindingCode;
use crate::copy::fsops;
use crate::error::{Error, Result};
use crate::fileutil::map_file;
use crate::format::record::{self, RecordType};
use crate::format::wal::RecordReader;
use crate::format::wal::segment::{parse_checkpoint_name, parse_segment_name};

/// The WAL cut (planned, then applied).
#[derive(Debug, Clone, Serialize)]
pub struct WalCut {
    /// The `wal/` directory.
    pub dir: PathBuf,
    /// True when the WAL is damaged and is (or would be) cut.
    pub cut: bool,
    /// The first damaged segment.
    pub segment: Option<PathBuf>,
    /// Offset of the first damaged record in it.
    pub damage_offset: Option<u64>,
    /// The finding code of the damage (`wal_checksum`, `wal_torn_tail`, ...).
    pub code: Option<FindingCode>,
    /// What the damage is.
    pub detail: Option<String>,
    /// Bytes of the damaged segment kept in `wal/` (the whole records before
    /// the damage).
    pub kept_bytes: Option<u64>,
    /// Whole records kept from the damaged segment.
    pub kept_records: u64,
    /// Later segments moved whole into quarantine.
    pub later_segments: Vec<PathBuf>,
    /// Records still readable in the cut part (they are in quarantine).
    pub cut_records_readable: u64,
    /// Samples in those records.
    pub cut_samples_readable: u64,
    /// `[from, to)` (ms): the sample times the restarted Prometheus
    /// misses of those that still read (see the module docs).
    pub lost_range: Option<[i64; 2]>,
    /// True when `lost_range` ends at the last readable sample while
    /// unreadable bytes after it may hold later ones (damage in the newest
    /// segment).
    pub lost_range_end_unknown: bool,
}

fn segments(dir: &Path) -> Result<Vec<(u32, PathBuf)>> {
    let mut v = Vec::new();
    let mut ckpt: Option<u32> = None;
    for ent in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let ent = ent.map_err(|e| Error::io(dir, e))?;
        let n = ent.file_name().to_string_lossy().into_owned();
        if let Some(i) = parse_segment_name(&n) {
            v.push((i, ent.path()));
        } else if let Some(c) = parse_checkpoint_name(&n) {
            ckpt = Some(ckpt.map_or(c.index, |x: u32| x.max(c.index)));
        }
    }
    v.sort();
    // Replay reads the segments after the last checkpoint (all of them
    // when there is none).
    if let Some(c) = ckpt {
        v.retain(|(i, _)| *i > c);
    }
    Ok(v)
}

/// Samples of a float or native-histogram samples record and their time
/// range; `None` for other records (and undecodable ones).
fn sample_range(rec: &[u8]) -> Option<(usize, (i64, i64))> {
    let t = record::record_type(rec)?;
    if matches!(t, RecordType::Samples | RecordType::SamplesV2) {
        let (n, r) = record::sample_time_range(rec, 0).ok()?;
        return r.map(|r| (n, r));
    }
    let (mut lo, mut hi) = (i64::MAX, i64::MIN);
    let mut see = |s: record::HistogramSampleRef| {
        lo = lo.min(s.t);
        hi = hi.max(s.t);
    };
    let n = if t.is_histogram_samples() {
        record::for_each_histogram(rec, 0, |s, _| see(s)).ok()?
    } else if t.is_float_histogram_samples() {
        record::for_each_float_histogram(rec, 0, |s, _| see(s)).ok()?
    } else {
        return None;
    };
    (n > 0).then_some((n, (lo, hi)))
}

/// Finds the first damage in the WAL replay reads and plans the cut.
/// `chunks_head` is the head chunk directory, `gone` its files that leave
/// it (moved into quarantine) and `min_valid_time` the newest block's end
/// once salvage is done: what the restart still has besides the WAL.
pub fn plan_wal_cut(
    dir: &Path,
    chunks_head: Option<&Path>,
    gone: &[PathBuf],
    min_valid_time: i64,
) -> Result<WalCut> {
    let mut cut = WalCut {
        dir: dir.to_path_buf(),
        cut: false,
        segment: None,
        damage_offset: None,
        code: None,
        detail: None,
        kept_bytes: None,
        kept_records: 0,
        later_segments: Vec::new(),
        cut_records_readable: 0,
        cut_samples_readable: 0,
        lost_range: None,
        lost_range_end_unknown: false,
    };
    let segs = segments(dir)?;
    let mut damaged_at: Option<usize> = None;
    for (k, (_, p)) in segs.iter().enumerate() {
        let bytes = map_file(p)?;
        let (n, err, valid) = read_until_damage(&bytes, |_| {});
        if let Some(e) = err {
            cut.cut = true;
            cut.segment = Some(p.clone());
            cut.damage_offset = Some(e.offset());
            cut.code = Some(FindingCode::of_wal(e.kind()));
            cut.detail = Some(e.to_string());
            cut.kept_bytes = Some(valid);
            cut.kept_records = n;
            damaged_at = Some(k);
            break;
        }
    }
    let (Some(k), Some(seg), Some(offset)) = (damaged_at, cut.segment.clone(), cut.damage_offset)
    else {
        return Ok(cut);
    };
    for (_, p) in segs.iter().skip(k + 1) {
        cut.later_segments.push(p.clone());
        let bytes = map_file(p)?;
        let mut r = RecordReader::new(&bytes);
        while let Some(Ok(rec)) = r.next_record() {
            cut.cut_records_readable += 1;
            if let Some((n, _)) = sample_range(rec.data) {
                cut.cut_samples_readable += n as u64;
            }
        }
    }
    cut.lost_range_end_unknown = cut.later_segments.is_empty();
    let torn = cut.code == Some(FindingCode::WalTornTail);
    cut.lost_range =
        crate::head::wal_repair_loss_without(chunks_head, gone, &seg, offset, torn, min_valid_time)
            .map(|(a, b)| [a, b.saturating_add(1)]);
    Ok(cut)
}

/// Applies a planned cut: the original damaged segment and every later one
/// go into `qwal` (created), the damaged segment's kept prefix replaces it
/// in `wal/` (written to a temporary file, fsynced, renamed over the name
/// whose original is already kept in quarantine).
pub fn apply_wal_cut(cut: &WalCut, qwal: &Path) -> Result<()> {
    let (Some(seg), Some(keep)) = (&cut.segment, cut.kept_bytes) else {
        return Ok(());
    };
    std::fs::create_dir_all(qwal).map_err(|e| Error::io(qwal, e))?;
    let name = seg.file_name().unwrap_or_default();
    let qseg = qwal.join(name);
    // 1. Later segments leave first: a crash after this leaves a shorter,
    //    still sequential WAL.
    for p in cut.later_segments.iter().rev() {
        let dst = qwal.join(p.file_name().unwrap_or_default());
        fsops::rename_noreplace(p, &dst).map_err(|e| Error::io(p, e))?;
    }
    fsops::sync_dir(&cut.dir).map_err(|e| Error::io(&cut.dir, e))?;
    // 2. The original damaged segment is kept in quarantine (linked, or
    //    copied across filesystems), then its prefix replaces it.
    if !fsops::try_hard_link(seg, &qseg).map_err(|e| Error::io(&qseg, e))? {
        std::fs::copy(seg, &qseg).map_err(|e| Error::io(&qseg, e))?;
        std::fs::File::open(&qseg)
            .and_then(|f| f.sync_all())
            .map_err(|e| Error::io(&qseg, e))?;
    }
    fsops::sync_dir(qwal).map_err(|e| Error::io(qwal, e))?;
    shorten_file(&cut.dir, seg, keep)
}

/// Damaged `chunks_head` files (planned).
#[derive(Debug, Clone, Serialize)]
pub struct HeadChunksCut {
    /// The `chunks_head/` directory.
    pub dir: PathBuf,
    /// The files moved (or to move) into quarantine: the first damaged one
    /// and every later one, as Prometheus would delete them.
    pub moved: Vec<PathBuf>,
    /// The finding codes of the damage.
    pub codes: Vec<FindingCode>,
    /// `[from, to)` (ms) of head-chunk samples the WAL cannot rebuild, when
    /// verify could tell.
    pub lost_range: Option<[i64; 2]>,
}

/// Finds the first damaged head chunk file (by verify's checks).
pub fn plan_head_chunks_cut(dir: &Path) -> HeadChunksCut {
    let findings = crate::check::wal::verify_chunks_head(dir, None);
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
                })
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    let mut first: Option<usize> = None;
    let mut codes = Vec::new();
    let mut lo: Option<i64> = None;
    let mut hi: Option<i64> = None;
    for f in findings.iter().filter(|f| f.is_error()) {
        if let Some(i) = files.iter().position(|p| *p == f.path) {
            first = Some(first.map_or(i, |x| x.min(i)));
            codes.push(f.code);
            if let Some([a, b]) = f.time_range {
                lo = Some(lo.map_or(a, |x| x.min(a)));
                hi = Some(hi.map_or(b, |x| x.max(b)));
            }
        }
    }
    codes.sort_unstable();
    codes.dedup();
    HeadChunksCut {
        dir: dir.to_path_buf(),
        moved: first.map(|i| files.split_off(i)).unwrap_or_default(),
        codes,
        lost_range: lo.zip(hi).map(|(a, b)| [a, b]),
    }
}

/// Cuts the file `seg` in `dir` to its first `keep` bytes without ever
/// leaving it half-written: the kept bytes go to a new file beside it,
/// fsynced, renamed over it, and the directory fsynced.
pub(super) fn shorten_file(dir: &Path, seg: &Path, keep: u64) -> Result<()> {
    use std::io::Read;
    let name = seg.file_name().unwrap_or_default();
    // Copied through a small buffer, not read whole: a file grown by damage
    // must not cost its size in memory.
    let src = crate::fileutil::open_input(seg).map_err(|e| Error::io(seg, e))?;
    let mut tmpname = name.to_os_string();
    tmpname.push(".promsnap-repair");
    let tmp = dir.join(tmpname);
    {
        let mut f = std::fs::File::options()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(|e| Error::io(&tmp, e))?;
        std::io::copy(&mut src.take(keep), &mut f).map_err(|e| Error::io(&tmp, e))?;
        f.sync_all().map_err(|e| Error::io(&tmp, e))?;
    }
    std::fs::rename(&tmp, seg).map_err(|e| Error::io(seg, e))?;
    fsops::sync_dir(dir).map_err(|e| Error::io(dir, e))?;
    Ok(())
}

/// Reads the records of one WAL (or checkpoint) segment up to its first
/// damage, handing each whole record's bytes to `each`: the number of whole
/// records, the damage (if any), and the offset where the whole records end.
pub(super) fn read_until_damage(
    bytes: &[u8],
    mut each: impl FnMut(&[u8]),
) -> (u64, Option<crate::format::wal::WalError>, u64) {
    let mut r = RecordReader::new(bytes);
    let mut n = 0u64;
    let err = loop {
        match r.next_record() {
            None => break None,
            Some(Err(e)) => break Some(e),
            Some(Ok(rec)) => {
                n += 1;
                each(rec.data);
            }
        }
    };
    (n, err, r.valid_offset())
}
