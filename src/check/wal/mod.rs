//! Checks of the write-ahead state of a data directory: `wal/` (segments and
//! checkpoints), `wbl/` and `chunks_head/`.
//!
//! Policy, as Prometheus 2.42 has it (`tsdb/db.go` `Open`, `tsdb/head.go`
//! `Init`, `tsdb/wlog/wlog.go` `Repair`, `tsdb/chunks/head_chunks.go`):
//!
//! * A torn record at the end of the **newest** WAL/WBL segment is a
//!   warning: a crash mid-write leaves it, and Prometheus's repair drops it.
//! * Any other damage in a segment is an error naming segment and offset:
//!   Prometheus's repair keeps the records before the offset and deletes
//!   everything after it, later segments included. The finding's
//!   `time_range` is the sample-time range of the records that repair would
//!   drop and that could still be read (by re-synchronising at later page
//!   boundaries, and from the later segments).
//! * A gap in segment numbers, or a corrupt checkpoint, stops Prometheus from
//!   starting (error).
//! * Head chunks: a CRC or framing error makes Prometheus delete that file
//!   and every later one, then rebuild the head from the WAL; an
//!   out-of-sequence chunk (`mint` not after the previous chunk's `maxt` of
//!   the same series) makes it discard all head chunk files; a gap in file
//!   numbers stops it from starting. All errors.

mod head_chunks;
mod segments;

use std::path::{Path, PathBuf};

use super::{Finding, FindingCode, Severity};
use crate::layout::Layout;
use crate::walinfo::{self, TimeRange, WalDirReport, range_of};

pub use head_chunks::{head_chunk_loss, verify_chunks_head, verify_chunks_head_with_wal};
pub use segments::findings_of_wal_report;

/// Checks `wal/`, `wbl/` and `chunks_head/` of a data directory.
/// `min_valid_time` is the highest `maxTime` of the blocks: Prometheus
/// ignores head chunks that end before it.
pub fn verify(layout: &Layout, min_valid_time: Option<i64>) -> Vec<Finding> {
    verify_live(layout, min_valid_time, false)
}

/// [`verify`] of a directory a running Prometheus may be writing (`live`):
/// the newest WAL segment's and head chunk file's unfinished tails are the
/// writes in progress (info), and files deleted during the read (WAL
/// truncation, head chunk truncation) are re-resolved, never damage.
pub fn verify_live(layout: &Layout, min_valid_time: Option<i64>, live: bool) -> Vec<Finding> {
    let mut out = Vec::new();
    // What WAL replay rebuilds the head from: head chunks Prometheus deletes
    // are lost only where the WAL no longer holds their samples.
    let mut wal_time = None;
    if let Some(w) = &layout.wal {
        match walinfo::inspect_wal_dir(w) {
            Ok(r) => {
                wal_time = Some(r.time);
                let mut fs = wal_findings(w, &r, live);
                super::verdict::narrow_wal_losses(
                    &mut fs,
                    layout.chunks_head.as_deref(),
                    min_valid_time,
                );
                out.extend(fs);
            }
            Err(e) => out.push(unreadable_dir(w, &e)),
        }
    }
    if let Some(w) = &layout.wbl {
        out.extend(verify_wal_dir(w, true));
    }
    if let Some(c) = &layout.chunks_head {
        let mut fs = verify_chunks_head_with_wal(c, min_valid_time, wal_time);
        if live {
            head_chunks::as_live(c, &mut fs);
        }
        out.extend(fs);
    }
    out
}

/// The findings of the `wal/` report `r`; with `live`, the writes in
/// progress of a running Prometheus are infos.
fn wal_findings(w: &Path, r: &WalDirReport, live: bool) -> Vec<Finding> {
    let mut out = Vec::new();
    if r.rereads > 0 {
        out.push(Finding::new(
            Severity::Info,
            FindingCode::WalReread,
            w,
            format!(
                concat!(
                    "WAL files were deleted while they were read (a truncation by ",
                    "the running Prometheus; the new checkpoint holds their series): ",
                    "the directory was read again {} time(s)"
                ),
                r.rereads
            ),
        ));
    }
    let mut fs = findings_of_wal_report(r, false);
    if live {
        for f in &mut fs {
            if f.code == FindingCode::WalCheckpointTmpLeftover {
                f.severity = Severity::Info;
                f.message = concat!(
                    "checkpoint being written by the running Prometheus (a WAL truncation ",
                    "in progress)"
                )
                .into();
            }
            if f.code == FindingCode::WalTornTail && f.severity == Severity::Warning {
                f.severity = Severity::Info;
                f.message = format!(
                    concat!(
                        "the newest segment is being written by the running Prometheus: ",
                        "its last record is not complete yet ({})"
                    ),
                    f.message
                );
            }
        }
    }
    out.extend(fs);
    out
}

/// A WAL or WBL directory that cannot be listed.
fn unreadable_dir(dir: &Path, e: &crate::error::Error) -> Finding {
    Finding::new(
        Severity::Error,
        FindingCode::WalDirUnreadable,
        dir,
        format!("cannot list the directory: {}", e.cause_message()),
    )
}

/// Checks a `wal/` directory (`wbl = false`) or a `wbl/` directory.
pub fn verify_wal_dir(dir: &Path, wbl: bool) -> Vec<Finding> {
    match walinfo::inspect_wal_dir(dir) {
        Ok(r) => findings_of_wal_report(&r, wbl),
        Err(e) => vec![unreadable_dir(dir, &e)],
    }
}

/// A sample-time range for a message.
fn fmt_range(t: TimeRange) -> String {
    match range_of(t) {
        Some((a, b)) => crate::vocab::range(a, b),
        None => "no samples".into(),
    }
}

/// A WAL segment's file name.
fn walinfo_name(i: u32) -> String {
    crate::format::wal::segment::segment_name(i)
}

/// The paths [`verify`] looks at (for callers that list what was checked).
pub fn checked_dirs(layout: &Layout) -> Vec<PathBuf> {
    [&layout.wal, &layout.wbl, &layout.chunks_head]
        .into_iter()
        .flatten()
        .cloned()
        .collect()
}
