//! Reading a damaged block's chunks: each chunk kept only when its framing,
//! CRC and samples check; what cannot be read is dropped and said why.

use std::path::{Path, PathBuf};

use crate::check::codes::FindingCode;
use crate::check::codes::{FileKind, decode_code};
use crate::fileutil::FileBytes;
use crate::format::chunkenc::{self, Value};
use crate::format::chunks;
use crate::format::index::ChunkMeta;
use crate::format::tombstones::{self, is_deleted};

use super::block::*;

pub(super) fn series_id(version: u8, offset: u64) -> u64 {
    if version == 1 { offset } else { offset / 16 }
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

pub(super) fn read_chunk_into(
    cx: &mut Ctx<'_>,
    src: &Src,
    c: &ChunkMeta,
    series: &str,
    deleted: &[tombstones::Interval],
    out: &mut Vec<(i64, Value)>,
    rw: &mut Rewrite,
) {
    let drop = |cx: &mut Ctx<'_>,
                code: FindingCode,
                path: &Path,
                offset: Option<u64>,
                samples: Option<u64>,
                exact: bool,
                detail: String| {
        cx.push(Dropped {
            series: series.to_string(),
            labels_trusted: true,
            from: Some(c.mint),
            to: Some(c.maxt.saturating_add(1)),
            samples,
            samples_exact: exact && samples.is_some(),
            code,
            path: path.to_path_buf(),
            offset,
            detail,
        });
    };
    let chunks_dir = src.dir.join("chunks");
    if c.maxt < c.mint {
        let ip = cx.index_path.clone();
        drop(
            cx,
            FindingCode::IndexChunkMetaInvalid,
            &ip,
            None,
            chunk_count(&src.segs, c).map(|x| x.0),
            false,
            format!("chunk meta ends ({}) before it starts ({})", c.maxt, c.mint),
        );
        return;
    }
    let Some((path, bytes)) = src.segs.get(c.segment() as usize) else {
        drop(
            cx,
            FindingCode::IndexChunkRefInvalid,
            &chunks_dir,
            None,
            None,
            false,
            format!(
                "chunk reference names segment #{} which does not exist",
                c.segment()
            ),
        );
        return;
    };
    let rec = match chunks::read_chunk(bytes, u64::from(c.offset())) {
        Ok(r) => r,
        Err(e) => {
            let code = if u64::from(c.offset()) >= bytes.len() as u64 {
                FindingCode::IndexChunkRefInvalid
            } else {
                decode_code(FileKind::Chunks, &e)
            };
            drop(
                cx,
                code,
                path,
                Some(e.offset()),
                None,
                false,
                format!("chunk unreadable: {e}"),
            );
            return;
        }
    };
    let header_n = chunkenc::Encoding::from_u8(rec.encoding)
        .and_then(|enc| chunkenc::num_samples(enc, rec.data, rec.data_offset).ok())
        .map(u64::from);
    if let Err(e) = rec.check_crc() {
        drop(
            cx,
            FindingCode::ChunkChecksumMismatch,
            path,
            Some(rec.offset),
            header_n,
            false,
            format!("chunk checksum fails: {e}"),
        );
        return;
    }
    let it = match chunkenc::samples_for_byte(rec.encoding, rec.offset, rec.data, rec.data_offset) {
        Ok(it) => it,
        Err(e) => {
            drop(
                cx,
                decode_code(FileKind::Chunks, &e),
                path,
                Some(rec.offset),
                header_n,
                true,
                format!("chunk cannot be decoded: {e}"),
            );
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
                drop(
                    cx,
                    FindingCode::ChunkDecodeFailed,
                    path,
                    Some(rec.offset),
                    header_n,
                    true,
                    format!("chunk samples cannot be decoded: {e}"),
                );
                return;
            }
        }
    }
    if !outside.is_empty() {
        let (a, b) = cx.range.unwrap_or((0, 0));
        let lo = outside.iter().copied().min().unwrap_or(0);
        let hi = outside.iter().copied().max().unwrap_or(0);
        cx.push(Dropped {
            series: series.to_string(),
            labels_trusted: true,
            from: Some(lo),
            to: Some(hi.saturating_add(1)),
            samples: Some(outside.len() as u64),
            samples_exact: true,
            code: FindingCode::ChunkOutsideBlock,
            path: path.clone(),
            offset: Some(rec.offset),
            detail: format!(
                "samples outside the block's range [{a}, {b}): Prometheus never returns them"
            ),
        });
    }
}
