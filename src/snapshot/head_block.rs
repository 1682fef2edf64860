//! The snapshot's head block: the replayed head's samples written as one
//! block, verified before it is placed.

use std::path::Path;

use super::{HeadBlock, HeadRead, SnapshotReport};
use crate::check::block::{CheckOptions, verify_block};
use crate::error::{Error, Result};
use crate::format::tombstones::is_deleted;
use crate::head::Head;
use crate::write::BlockWriter;

/// Writes the head's samples (deleted intervals left out) as one block in
/// `dir`, checks it, places it.
pub(super) fn write_head_block(
    h: &Head,
    dir: &Path,
    report: &mut SnapshotReport,
) -> Result<Option<HeadBlock>> {
    let (min, max, skipped) = kept_range(h);
    let mut deleted = 0u64;
    if min > max {
        if let Some(r) = report.head.as_mut() {
            r.skipped_series = skipped;
        }
        return Ok(None);
    }
    let mut w = BlockWriter::create(dir, min, max.saturating_add(1))?;
    let mut buf = Vec::new();
    for s in &h.series {
        if !valid(&s.labels) {
            continue;
        }
        buf.clear();
        for x in &s.samples {
            if is_deleted(x.0, &s.deleted) {
                deleted += 1;
            } else {
                buf.push(x.clone());
            }
        }
        w.add_series(&s.labels, &buf)?;
    }
    if let Some(r) = report.head.as_mut() {
        r.deleted_samples = deleted;
        r.skipped_series = skipped;
    }
    if skipped > 0 {
        report.problems.push(format!(
            "{skipped} head series not written: an empty label name or value"
        ));
    }
    let Some(u) = w.finish_unplaced()? else {
        return Ok(None);
    };
    if let Some(bad) = verification_errors(&u.tmp) {
        u.discard();
        return Err(Error::io(
            dir,
            std::io::Error::other(format!(
                "the head block written failed verification, nothing written: {bad}"
            )),
        ));
    }
    report.bytes_written += crate::block::block_size(&u.tmp);
    let b = u.place()?;
    Ok(Some(HeadBlock {
        ulid: b.ulid,
        min_time: b.min_time,
        max_time: b.max_time,
        series: b.stats.series,
        samples: b.stats.samples,
        chunks: b.stats.chunks,
    }))
}

/// A series' labels can be written: at least one, no empty name or value.
fn valid(l: &[(Vec<u8>, Vec<u8>)]) -> bool {
    !l.is_empty() && l.iter().all(|(n, v)| !n.is_empty() && !v.is_empty())
}

/// The time range of the samples to write (min > max when there are
/// none), and the number of series left out for their labels.
fn kept_range(h: &Head) -> (i64, i64, u64) {
    let mut skipped = 0u64;
    let (mut min, mut max) = (i64::MAX, i64::MIN);
    for s in &h.series {
        if !valid(&s.labels) {
            skipped += 1;
            continue;
        }
        let mut kept = s
            .samples
            .iter()
            .filter(|(t, _)| !is_deleted(*t, &s.deleted));
        if let Some(f) = kept.next() {
            min = min.min(f.0);
            max = max.max(kept.next_back().map_or(f.0, |x| x.0));
        }
    }
    (min, max, skipped)
}

/// The error findings of the block written in `tmp`, joined; `None` when
/// it has none.
fn verification_errors(tmp: &Path) -> Option<String> {
    let c = verify_block(tmp, &CheckOptions::default());
    let bad: Vec<String> = c
        .findings
        .iter()
        // The name check is for the final directory.
        .filter(|f| f.is_error() && f.code != "meta_ulid_mismatch")
        .map(|f| format!("{} {}: {}", f.code, f.path.display(), f.message))
        .collect();
    (!bad.is_empty()).then(|| bad.join("; "))
}

/// What the head replay read, into the report; problems in the newest head
/// chunk file of a running Prometheus are notices (a chunk being written).
pub(super) fn record_head_read(
    h: &Head,
    min_valid_time: Option<i64>,
    data_dir: &Path,
    report: &mut SnapshotReport,
) {
    report.head = Some(HeadRead {
        min_valid_time,
        series: h.series.len() as u64,
        samples: h.series.iter().map(|s| s.samples.len() as u64).sum(),
        deleted_samples: 0,
        dropped_samples: h.dropped,
        unknown_ref_samples: h.unknown_refs,
        skipped_series: 0,
    });
    // The newest head chunk file of a running Prometheus may end in
    // a chunk being written (its samples are in the WAL).
    let newest_chunk_file = crate::walinfo::head_chunk_files(&data_dir.join("chunks_head"))
        .ok()
        .and_then(|f| f.last().map(|(_, p)| p.display().to_string()));
    for p in &h.problems {
        match &newest_chunk_file {
            Some(f) if report.prometheus_running && p.contains(f.as_str()) => {
                report.notices.push(format!(
                    concat!(
                        "{p} (the newest head chunk file of a running Prometheus: a chunk ",
                        "being written; its samples are read from the WAL)"
                    ),
                    p = p
                ))
            }
            _ => report.problems.push(p.clone()),
        }
    }
}
