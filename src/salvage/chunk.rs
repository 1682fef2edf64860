//! Reading a damaged block's chunks: each chunk kept only when its framing,
//! CRC and samples check; what cannot be read is dropped and said why.

use std::path::{Path, PathBuf};

use crate::check::codes::{FileKind, FindingCode, decode_code};
use crate::fileutil::FileBytes;
use crate::format::SeriesRef;
use crate::format::chunkenc::{self, Value};
use crate::format::chunks;
use crate::format::index::ChunkMeta;
use crate::format::tombstones::{self, is_deleted};

use super::block::*;

pub(super) fn series_id(version: u8, offset: u64) -> SeriesRef {
    SeriesRef(if version == 1 { offset } else { offset / 16 })
}

pub(super) fn min_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        _ => None,
    }
}

pub(super) fn max_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        _ => None,
    }
}

/// Samples of a chunk from its header, and whether its CRC holds. `None`
/// when the record cannot be framed.
pub(super) fn chunk_count(segs: &[(PathBuf, FileBytes)], c: &ChunkMeta) -> Option<(u64, bool)> {
    let (_, bytes) = segs.get(c.segment() as usize)?;
    let rec = chunks::read_chunk(bytes, u64::from(c.offset())).ok()?;
    let enc = chunkenc::Encoding::from_u8(rec.encoding)?;
    let n = chunkenc::num_samples(enc, rec.data, rec.data_offset).ok()?;
    Some((u64::from(n), rec.check_crc().is_ok()))
}

/// Why one chunk is dropped whole: the finding code, where, how many
/// samples (exact or from a damaged header), one sentence.
struct ChunkLoss<'p> {
    code: FindingCode,
    path: &'p Path,
    offset: Option<u64>,
    samples: Option<u64>,
    exact: bool,
    detail: String,
}

/// Drops the chunk `c` of `series` for `why`.
fn drop_chunk(cx: &mut Ctx<'_>, series: &str, c: &ChunkMeta, why: ChunkLoss<'_>) {
    cx.push(Dropped {
        series: series.to_string(),
        labels_trusted: true,
        from: Some(c.mint),
        to: Some(c.maxt.saturating_add(1)),
        samples: why.samples,
        samples_exact: why.exact && why.samples.is_some(),
        code: why.code,
        path: why.path.to_path_buf(),
        offset: why.offset,
        detail: why.detail,
    });
}

/// Reads the chunk `c` of `series` into `out`: its samples inside the
/// block's range and not deleted. A chunk that cannot be framed, whose CRC
/// fails or that does not decode is dropped whole; samples outside the
/// range are dropped alone.
pub(super) fn read_chunk_into(
    cx: &mut Ctx<'_>,
    src: &Src,
    c: &ChunkMeta,
    series: &str,
    deleted: &[tombstones::Interval],
    out: &mut Vec<(i64, Value)>,
    rw: &mut Rewrite,
) {
    let Some((path, rec, header_n)) = checked_record(cx, src, c, series) else {
        return;
    };
    let decode_failed = |cx: &mut Ctx<'_>, code, detail| {
        let why = ChunkLoss {
            code,
            path,
            offset: Some(rec.offset),
            samples: header_n,
            exact: true,
            detail,
        };
        drop_chunk(cx, series, c, why);
    };
    let it = match chunkenc::samples_for_byte(rec.encoding, rec.offset, rec.data, rec.data_offset) {
        Ok(it) => it,
        Err(e) => {
            let code = decode_code(FileKind::Chunks, &e);
            decode_failed(cx, code, format!("chunk cannot be decoded: {e}"));
            return;
        }
    };
    let start = out.len();
    let mut outside: Vec<i64> = Vec::new();
    for s in it {
        match s {
            Ok(s) => {
                if is_deleted(s.t, deleted) {
                    rw.samples_deleted_by_tombstones += 1;
                } else if cx.range.is_some_and(|(a, b)| s.t < a || s.t >= b) {
                    outside.push(s.t);
                } else {
                    out.push((s.t, s.value));
                }
            }
            Err(e) => {
                // A chunk whose CRC holds but does not decode: drop it whole.
                out.truncate(start);
                decode_failed(
                    cx,
                    FindingCode::ChunkDecodeFailed,
                    format!("chunk samples cannot be decoded: {e}"),
                );
                return;
            }
        }
    }
    if !outside.is_empty() {
        drop_outside(cx, series, path, rec.offset, &outside);
    }
}

/// The chunk record `c` points to, framed and its CRC checked, with the
/// sample count its header gives; `None` after dropping it.
fn checked_record<'s>(
    cx: &mut Ctx<'_>,
    src: &'s Src,
    c: &ChunkMeta,
    series: &str,
) -> Option<(&'s Path, chunks::ChunkRecord<'s>, Option<u64>)> {
    if c.maxt < c.mint {
        let ip = cx.index_path.clone();
        let why = ChunkLoss {
            code: FindingCode::IndexChunkMetaInvalid,
            path: &ip,
            offset: None,
            samples: chunk_count(&src.segs, c).map(|x| x.0),
            exact: false,
            detail: format!("chunk meta ends ({}) before it starts ({})", c.maxt, c.mint),
        };
        drop_chunk(cx, series, c, why);
        return None;
    }
    let Some((path, bytes)) = src.segs.get(c.segment() as usize) else {
        let chunks_dir = src.dir.join("chunks");
        let why = ChunkLoss {
            code: FindingCode::IndexChunkRefInvalid,
            path: &chunks_dir,
            offset: None,
            samples: None,
            exact: false,
            detail: format!(
                "chunk reference names segment #{} which does not exist",
                c.segment()
            ),
        };
        drop_chunk(cx, series, c, why);
        return None;
    };
    let rec = match chunks::read_chunk(bytes, u64::from(c.offset())) {
        Ok(r) => r,
        Err(e) => {
            let code = if u64::from(c.offset()) >= bytes.len() as u64 {
                FindingCode::IndexChunkRefInvalid
            } else {
                decode_code(FileKind::Chunks, &e)
            };
            let why = ChunkLoss {
                code,
                path,
                offset: Some(e.offset()),
                samples: None,
                exact: false,
                detail: format!("chunk unreadable: {e}"),
            };
            drop_chunk(cx, series, c, why);
            return None;
        }
    };
    let header_n = chunkenc::Encoding::from_u8(rec.encoding)
        .and_then(|enc| chunkenc::num_samples(enc, rec.data, rec.data_offset).ok())
        .map(u64::from);
    if let Err(e) = rec.check_crc() {
        let why = ChunkLoss {
            code: FindingCode::ChunkChecksumMismatch,
            path,
            offset: Some(rec.offset),
            samples: header_n,
            exact: false,
            detail: format!("chunk checksum fails: {e}"),
        };
        drop_chunk(cx, series, c, why);
        return None;
    }
    Some((path, rec, header_n))
}

/// Drops the samples at `times`, outside the block's range: Prometheus
/// never returns them.
fn drop_outside(cx: &mut Ctx<'_>, series: &str, path: &Path, offset: u64, times: &[i64]) {
    let (a, b) = cx.range.unwrap_or((0, 0));
    let lo = times.iter().copied().min().unwrap_or(0);
    let hi = times.iter().copied().max().unwrap_or(0);
    cx.push(Dropped {
        series: series.to_string(),
        labels_trusted: true,
        from: Some(lo),
        to: Some(hi.saturating_add(1)),
        samples: Some(times.len() as u64),
        samples_exact: true,
        code: FindingCode::ChunkOutsideBlock,
        path: path.to_path_buf(),
        offset: Some(offset),
        detail: format!(
            "samples outside the block's range [{a}, {b}): Prometheus never returns them"
        ),
    });
}
