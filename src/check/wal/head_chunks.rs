//! The findings of a `chunks_head/` directory: file numbering, headers,
//! every chunk's CRC, and per-series chunk order.

use std::collections::HashMap;
use std::path::Path;

use crate::check::codes::{FileKind, decode_code};
use crate::check::{Finding, FindingCode, Severity};
use crate::format::SeriesRef;
use crate::format::head_chunks;
use crate::walinfo::{self, TimeRange, range_of};

/// Checks a `chunks_head/` directory: file numbering, headers, every chunk's
/// CRC, and per-series chunk order (for chunks ending at or after
/// `min_valid_time`, as Prometheus checks them).
pub fn verify_chunks_head(dir: &Path, min_valid_time: Option<i64>) -> Vec<Finding> {
    verify_chunks_head_with_wal(dir, min_valid_time, None)
}

/// The part of the head chunk `[mint, maxt]` that WAL replay cannot rebuild,
/// given the sample-time coverage `wal` of what replay reads (`None`: no WAL
/// known, all of it). Prometheus rebuilds the head from the checkpoint and
/// the segments after it; only samples older than their first one are gone.
pub fn head_chunk_loss(mint: i64, maxt: i64, wal: Option<TimeRange>) -> Option<(i64, i64)> {
    if mint > maxt {
        return None;
    }
    let end = maxt.saturating_add(1);
    match wal.and_then(range_of) {
        None => Some((mint, end)),
        Some((wmin, _)) if mint < wmin => Some((mint, end.min(wmin))),
        Some(_) => None,
    }
}

/// Per series ref: the last chunk seen (mint, maxt, file number, offset).
type LastChunks = HashMap<SeriesRef, (i64, i64, u32, u64)>;

/// [`verify_chunks_head`], with the sample-time coverage `wal` of the WAL
/// replay behind the head chunks: a loss is claimed only for what the WAL
/// does not hold.
pub fn verify_chunks_head_with_wal(
    dir: &Path,
    min_valid_time: Option<i64>,
    wal: Option<TimeRange>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let files = match walinfo::head_chunk_files(dir) {
        Ok(f) => f,
        Err(e) => {
            out.push(Finding::new(
                Severity::Error,
                FindingCode::HeadChunkDirUnreadable,
                dir,
                format!("cannot list the directory: {}", e.cause_message()),
            ));
            return out;
        }
    };
    let idx: Vec<u32> = files.iter().map(|(i, _)| *i).collect();
    for (a, b) in crate::format::wal::segment::gaps(&idx) {
        out.push(Finding::new(
            Severity::Error,
            FindingCode::HeadChunkFileGap,
            dir,
            format!(
                concat!(
                    "head chunk files {a:06}..{b:06} are missing: Prometheus refuses ",
                    "to start (\"found unsequential head chunk files\")"
                ),
                a = a,
                b = b
            ),
        ));
    }
    let mut last = LastChunks::new();
    let mvt = min_valid_time.unwrap_or(i64::MIN);
    let newest = idx.last().copied();
    for (n, (i, path)) in files.iter().enumerate() {
        let later: Vec<String> = files
            .get(n + 1..)
            .unwrap_or(&[])
            .iter()
            .map(|(j, _)| format!("{j:06}"))
            .collect();
        let deletes = if later.is_empty() {
            format!("deletes file {i:06}")
        } else {
            format!(
                "deletes file {i:06} and the later files {}",
                later.join(", ")
            )
        };
        let Some(bytes) = read_file(path, Some(*i) == newest && *i > 0, &mut out) else {
            continue;
        };
        let file = ChunkFile {
            path,
            number: *i,
            bytes: &bytes,
            deletes,
            wal,
        };
        file.check(mvt, &mut last, &mut out);
    }
    out
}

/// The bytes of one head chunk file, or `None` with a finding: unreadable,
/// deleted meanwhile, or (`newest`) empty as an abrupt shutdown leaves it.
fn read_file(
    path: &Path,
    newest: bool,
    out: &mut Vec<Finding>,
) -> Option<crate::fileutil::FileBytes> {
    // Mapped, not read: a file grown by damage costs no memory (the
    // contract of `map_file`: Prometheus only appends to or deletes
    // head chunk files).
    let bytes = match crate::fileutil::map_input(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            out.push(Finding::new(
                Severity::Info,
                FindingCode::HeadChunkFileDeletedDuringRead,
                path,
                concat!(
                    "head chunk file deleted while it was read (a head truncation ",
                    "by the running Prometheus: its chunks are in a block now)"
                ),
            ));
            return None;
        }
        Err(e) => {
            out.push(Finding::new(
                Severity::Error,
                FindingCode::HeadChunkUnreadable,
                path,
                format!("cannot read: {e}"),
            ));
            return None;
        }
    };
    if newest && (bytes.len() < 4 || bytes.get(..4) == Some(&[0, 0, 0, 0][..])) {
        out.push(Finding::new(
            Severity::Warning,
            FindingCode::HeadChunkFileDeletedOnStartup,
            path,
            concat!(
                "newest head chunk file is empty (shorter than 4 bytes or zero ",
                "magic), as an abrupt shutdown leaves it: Prometheus deletes it on start"
            ),
        ));
        return None;
    }
    Some(bytes)
}

/// One head chunk file being checked.
struct ChunkFile<'a> {
    path: &'a Path,
    /// Its number (the file name).
    number: u32,
    bytes: &'a [u8],
    /// What Prometheus deletes after damage in it (`deletes file …`).
    deletes: String,
    /// The sample times of the WAL replay behind the head chunks.
    wal: Option<TimeRange>,
}

impl ChunkFile<'_> {
    /// Every chunk's framing and CRC, and the order of each series'
    /// chunks ending at or after `mvt`.
    fn check(&self, mvt: i64, last: &mut LastChunks, out: &mut Vec<Finding>) {
        let mut it = match head_chunks::chunks(self.bytes) {
            Ok(it) => it,
            Err(e) => {
                out.push(
                    Finding::new(
                        Severity::Error,
                        decode_code(FileKind::HeadChunks, &e),
                        self.path,
                        format!(
                            concat!(
                                "{e}: Prometheus refuses to open the head chunk files (\"invalid ",
                                "magic number\" / \"invalid chunk format version\")"
                            ),
                            e = e
                        ),
                    )
                    .at(e.offset()),
                );
                return;
            }
        };
        while let Some(c) = it.next() {
            match c {
                Ok(c) => {
                    if c.ooo || c.maxt < mvt {
                        continue;
                    }
                    if let Some(&(pmint, pmaxt, pf, po)) = last.get(&c.series_ref)
                        && pmaxt >= c.mint
                    {
                        let msg = format!(
                            concat!(
                                "out of sequence m-mapped chunk for series ref {}: chunk ",
                                "[{}, {}] does not start after the previous chunk [{}, {}] ",
                                "({:06}@{}); Prometheus discards all head chunk files on ",
                                "start and rebuilds the head from the WAL"
                            ),
                            c.series_ref, c.mint, c.maxt, pmint, pmaxt, pf, po
                        );
                        out.push(
                            Finding::new(
                                Severity::Error,
                                FindingCode::HeadChunkOutOfOrder,
                                self.path,
                                msg,
                            )
                            .at(c.offset)
                            .costs(c.mint, c.maxt.saturating_add(1)),
                        );
                    }
                    last.insert(c.series_ref, (c.mint, c.maxt, self.number, c.offset));
                }
                Err(e) => {
                    // The chunk that failed starts where the iterator stands
                    // (the error offset may be inside it: its length or CRC).
                    let o = usize::try_from(it.position()).unwrap_or(usize::MAX);
                    out.push(self.broken_chunk(&e, o));
                }
            }
        }
    }

    /// The finding of a chunk at offset `o` that does not read (`e`): what
    /// Prometheus deletes, and what of it the WAL no longer holds.
    fn broken_chunk(&self, e: &crate::format::DecodeError, o: usize) -> Finding {
        let wal = self.wal;
        let be = |a: usize| {
            self.bytes
                .get(a..a + 8)
                .and_then(|s| <[u8; 8]>::try_from(s).ok())
                .map(u64::from_be_bytes)
        };
        let mut f = Finding::new(
            Severity::Error,
            decode_code(FileKind::HeadChunks, e),
            self.path,
            String::new(),
        )
        .at(e.offset());
        let mut who = String::new();
        let mut loss = if wal.is_some() {
            "nothing is lost: the WAL still holds the samples of the deleted chunks".to_string()
        } else {
            "samples the WAL no longer holds are lost".to_string()
        };
        if let (Some(r), Some(mint), Some(maxt)) =
            (be(o), be(o.saturating_add(8)), be(o.saturating_add(16)))
        {
            let (mint, maxt) = (mint as i64, maxt as i64);
            who = format!(" (chunk at offset {o}: series ref {r}, [{mint}, {maxt}] as stored)");
            if let Some((a, b)) = head_chunk_loss(mint, maxt, wal) {
                f = f.costs(a, b);
                if wal.is_some() {
                    loss = format!(
                        concat!(
                            "samples {a}..{b} of this chunk are older than anything the WAL ",
                            "holds and are lost"
                        ),
                        a = a,
                        b = b
                    );
                }
            }
        }
        if f.time_range.is_none() && wal.is_some() {
            f.severity = Severity::Warning;
        }
        let deletes = &self.deletes;
        f.message = format!(
            "{e}{who}; Prometheus {deletes} on start, then rebuilds the head from the WAL: {loss}"
        );
        f
    }
}

/// The newest file of a running Prometheus is being appended to (through a
/// buffer): a chunk cut at its end is the write in progress (info).
pub(super) fn as_live(dir: &Path, fs: &mut [Finding]) {
    let newest = walinfo::head_chunk_files(dir)
        .ok()
        .and_then(|f| f.last().map(|(_, p)| p.clone()));
    for f in fs {
        if Some(&f.path) == newest.as_ref()
            && f.code != FindingCode::HeadChunkOutOfOrder
            && f.code != FindingCode::HeadChunkBadMagic
        {
            f.severity = Severity::Info;
            f.time_range = None;
            f.message = format!(
                "the newest head chunk file is being written by the running Prometheus: {}",
                f.message
            );
        }
    }
}
