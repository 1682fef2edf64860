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

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use super::codes::{FileKind, decode_code};
use super::{Finding, FindingCode, Severity};
use crate::format::head_chunks;
use crate::layout::Layout;
use crate::walinfo::{self, SegmentReport, TimeRange, WalDirReport, range_of};

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
                if r.rereads > 0 {
                    out.push(Finding::new(
                        Severity::Info,
                        FindingCode::WalReread,
                        w,
                        format!(
                            "WAL files were deleted while they were read (a truncation by the running Prometheus; the new checkpoint holds their series): the directory was read again {} time(s)",
                            r.rereads
                        ),
                    ));
                }
                let mut fs = findings_of_wal_report(&r, false);
                super::verdict::narrow_wal_losses(
                    &mut fs,
                    layout.chunks_head.as_deref(),
                    min_valid_time,
                );
                if live {
                    for f in &mut fs {
                        if f.code == FindingCode::WalCheckpointTmpLeftover {
                            f.severity = Severity::Info;
                            f.message = "checkpoint being written by the running Prometheus (a WAL truncation in progress)".into();
                        }
                        if f.code == FindingCode::WalTornTail && f.severity == Severity::Warning {
                            f.severity = Severity::Info;
                            f.message = format!(
                                "the newest segment is being written by the running Prometheus: its last record is not complete yet ({})",
                                f.message
                            );
                        }
                    }
                }
                out.extend(fs);
            }
            Err(e) => out.push(Finding::new(
                Severity::Error,
                FindingCode::WalDirUnreadable,
                w,
                format!("cannot list the directory: {}", e.cause_message()),
            )),
        }
    }
    if let Some(w) = &layout.wbl {
        out.extend(verify_wal_dir(w, true));
    }
    if let Some(c) = &layout.chunks_head {
        let mut fs = verify_chunks_head_with_wal(c, min_valid_time, wal_time);
        if live {
            // The newest file is being appended to (through a buffer): a
            // chunk cut at its end is the write in progress.
            let newest = walinfo::head_chunk_files(c)
                .ok()
                .and_then(|f| f.last().map(|(_, p)| p.clone()));
            for f in &mut fs {
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
        out.extend(fs);
    }
    out
}

/// Checks a `wal/` directory (`wbl = false`) or a `wbl/` directory.
pub fn verify_wal_dir(dir: &Path, wbl: bool) -> Vec<Finding> {
    match walinfo::inspect_wal_dir(dir) {
        Ok(r) => findings_of_wal_report(&r, wbl),
        Err(e) => vec![Finding::new(
            Severity::Error,
            FindingCode::WalDirUnreadable,
            dir,
            format!("cannot list the directory: {}", e.cause_message()),
        )],
    }
}

fn fmt_range(t: TimeRange) -> String {
    match range_of(t) {
        Some((a, b)) => format!(
            "{}..{}",
            crate::gofmt::rfc3339_ms(a),
            crate::gofmt::rfc3339_ms(b)
        ),
        None => "no samples".into(),
    }
}

/// Turns a WAL/WBL report into findings (see the module docs for the policy).
pub fn findings_of_wal_report(r: &WalDirReport, wbl: bool) -> Vec<Finding> {
    let what = if wbl { "WBL" } else { "WAL" };
    let mut out = Vec::new();
    let unknown = r.totals.unknown_series_samples + r.totals.unknown_series_histograms;
    if !wbl && unknown > 0 {
        out.push(Finding::new(
            // Info: replay (Head.loadWAL in 2.42) skips each such sample,
            // counts it in no metric and logs one warn-level line; the start
            // goes on. Samples of series that head GC removed before the
            // checkpoint are usually in blocks already (real data dirs show
            // this after every checkpoint), so this claims no loss; their
            // times are not weighed against the blocks yet.
            Severity::Info,
            FindingCode::WalUnknownSeries,
            &r.path,
            format!(
                "{} float and {} histogram samples refer to series with no Series record in the checkpoint or the segments before them: Prometheus' replay skips them (no query or block will have them; it counts them in no metric, only in one warn-level log line \"Unknown series references\"); `wal` does not count them as data; those older than the newest block are usually in blocks already",
                r.totals.unknown_series_samples, r.totals.unknown_series_histograms
            ),
        ));
    }
    for g in &r.segment_gaps {
        out.push(Finding::new(
            Severity::Error,
            FindingCode::WalSegmentGap,
            &r.path,
            format!(
                "{what} segments {}..{} are missing (segments {} to {} are present): Prometheus refuses to open a {what} whose segments are not sequential",
                walinfo_name(g.first),
                walinfo_name(g.last),
                r.first_segment.map(walinfo_name).unwrap_or_default(),
                r.last_segment.map(walinfo_name).unwrap_or_default(),
            ),
        ));
    }
    if let (Some(n), Some(first)) = (r.replay_checkpoint, r.first_segment)
        && first > n.saturating_add(1)
    {
        out.push(Finding::new(
                Severity::Error,
                FindingCode::WalSegmentGap,
                &r.path,
                format!(
                    "segments {}..{} between checkpoint.{n:08} and the first segment are missing: Prometheus fails to open them during replay",
                    walinfo_name(n + 1),
                    walinfo_name(first - 1)
                ),
            ));
    }
    for cp in &r.checkpoints {
        if cp.tmp {
            out.push(Finding::new(
                Severity::Warning,
                FindingCode::WalCheckpointTmpLeftover,
                &cp.path,
                "unfinished checkpoint left by an interrupted truncation: ignored, and removed by Prometheus on start",
            ));
            continue;
        }
        if !cp.current {
            out.push(Finding::new(
                Severity::Info,
                FindingCode::WalCheckpointStale,
                &cp.path,
                "older checkpoint: replay uses only the newest one; Prometheus deletes this at the next truncation",
            ));
            continue;
        }
        let consequence = "Prometheus will not start: a corrupt checkpoint is a hard error that needs user intervention (2.42 then still runs its WAL repair with this segment number, which deletes the WAL segments numbered above it before failing: keep a copy)";
        if let Some(e) = &cp.read_error {
            out.push(Finding::new(
                Severity::Error,
                FindingCode::WalCheckpointCorrupt,
                &cp.path,
                format!("cannot list the checkpoint: {e}; {consequence}"),
            ));
        }
        for g in &cp.segment_gaps {
            out.push(Finding::new(
                Severity::Error,
                FindingCode::WalCheckpointCorrupt,
                &cp.path,
                format!(
                    "checkpoint segments {}..{} are missing; {consequence}",
                    walinfo_name(g.first),
                    walinfo_name(g.last)
                ),
            ));
        }
        for s in &cp.segments {
            if s.read_error.is_none()
                && !s.size.is_multiple_of(crate::format::wal::PAGE_SIZE as u64)
                && s.scan.torn_offset.is_none()
            {
                out.push(
                    Finding::new(
                        Severity::Warning,
                        FindingCode::WalSegmentShort,
                        &s.path,
                        format!(
                            "checkpoint segment {} is {} bytes, not a whole number of 32 KiB pages: Prometheus pads every segment it closes, so it was cut; it reads cleanly up to offset {}",
                            s.name, s.size, s.scan.valid_offset
                        ),
                    )
                    .at(s.size),
                );
            }
            let (offset, why) = if let Some(e) = &s.read_error {
                (None, format!("unreadable: {e}"))
            } else if let Some(c) = &s.scan.corruption {
                (Some(c.offset), format!("{} ({})", c.message, c.code))
            } else if let Some(t) = s.scan.torn_offset {
                (
                    Some(t),
                    format!(
                        "last record is torn at offset {t} (a checkpoint is complete before it is renamed into place, so this is damage)"
                    ),
                )
            } else if let Some(e) = s.scan.record_errors.first() {
                (Some(e.offset), format!("{} ({})", e.message, e.code))
            } else {
                continue;
            };
            let mut f = Finding::new(
                Severity::Error,
                FindingCode::WalCheckpointCorrupt,
                &s.path,
                format!(
                    "checkpoint segment {}: {why}; valid up to offset {}; {consequence}",
                    s.name, s.scan.valid_offset
                ),
            );
            if let Some(o) = offset {
                f = f.at(o);
            }
            if let Some((a, b)) = range_of(cp.totals.time) {
                f = f.costs(a, b.saturating_add(1));
            }
            out.push(f);
        }
    }
    for (i, s) in r.segments.iter().enumerate() {
        let later = r.segments.get(i + 1..).unwrap_or(&[]);
        segment_findings(r, s, later, what, &mut out);
    }
    out
}

fn walinfo_name(i: u32) -> String {
    crate::format::wal::segment::segment_name(i)
}

fn segment_findings(
    r: &WalDirReport,
    s: &SegmentReport,
    later: &[SegmentReport],
    what: &str,
    out: &mut Vec<Finding>,
) {
    let newest = r.last_segment == Some(s.index);
    let replayed = r.replay_checkpoint.is_none_or(|n| s.index > n);
    let not_replayed = |n: u32| {
        format!(
            "; the segment precedes checkpoint.{n:08}, so Prometheus does not replay it and deletes it at the next truncation"
        )
    };
    if let Some(e) = &s.read_error {
        out.push(Finding::new(
            Severity::Error,
            FindingCode::WalSegmentUnreadable,
            &s.path,
            format!("cannot read {what} segment {}: {e}", s.name),
        ));
        return;
    }
    // What Prometheus's repair drops after damage in this segment.
    let mut lost = TimeRange::default();
    let mut lost_records = 0u64;
    if let Some(a) = &s.scan.after_damage {
        lost = a.time;
        lost_records = a.records;
    }
    for l in later {
        if let Some((a, b)) = range_of(l.scan.counts.time) {
            lost.min_t = Some(lost.min_t.map_or(a, |m| m.min(a)));
            lost.max_t = Some(lost.max_t.map_or(b, |m| m.max(b)));
        }
        lost_records += l.scan.counts.records;
    }
    // A torn record that is not the tail of the newest segment (a segment
    // cut mid-file): the repair drops it too, from its first fragment on,
    // with the samples its bytes before the cut hold.
    if let Some(t) = s.scan.torn_offset
        && !(newest && replayed)
        && let Ok(bytes) = fs::read(&s.path)
        && let Some((a, b)) = range_of(walinfo::torn_record_time(&bytes, t))
    {
        lost.min_t = Some(lost.min_t.map_or(a, |m| m.min(a)));
        lost.max_t = Some(lost.max_t.map_or(b, |m| m.max(b)));
        lost_records += 1;
    }
    let repair = |offset: u64| {
        let dropped = match (later.first(), later.last()) {
            (Some(f), Some(l)) => format!(
                ", and deletes segments {}..{} ({lost_records} readable records after the damage, samples {})",
                f.name,
                l.name,
                fmt_range(lost)
            ),
            _ => format!(
                " ({lost_records} readable records after the damage, samples {})",
                fmt_range(lost)
            ),
        };
        format!(
            "Prometheus's repair keeps the records of segment {} before offset {offset} and drops the rest of it{dropped}",
            s.name
        )
    };
    let with_lost = |mut f: Finding| {
        if replayed && let Some((a, b)) = range_of(lost) {
            f = f.costs(a, b.saturating_add(1));
        }
        f
    };
    if let Some(t) = s.scan.torn_offset {
        let size = s.size;
        if newest && replayed {
            out.push(
                Finding::new(
                    Severity::Warning,
                    FindingCode::WalTornTail,
                    &s.path,
                    format!(
                        "last record is torn: it starts at offset {t} and the data ends at {size} (a crash mid-write); Prometheus repairs this on start by dropping the partial record; valid up to offset {}",
                        s.scan.valid_offset
                    ),
                )
                .at(t),
            );
        } else {
            let tail = match r.replay_checkpoint.filter(|_| !replayed) {
                Some(n) => not_replayed(n),
                None => format!("; {}", repair(t)),
            };
            out.push(with_lost(
                Finding::new(
                    Severity::Error,
                    FindingCode::WalTornTail,
                    &s.path,
                    format!(
                        "{what} segment {} is not the newest but its last record is torn (starts at offset {t}, data ends at {size}){tail}",
                        s.name
                    ),
                )
                .at(t),
            ));
        }
    }
    if let Some(c) = &s.scan.corruption {
        let code = match c.code {
            FindingCode::WalChecksum
            | FindingCode::WalFragmentOrder
            | FindingCode::WalPaddingNonzero
            | FindingCode::WalDecompress => c.code,
            _ => FindingCode::WalFragmentInvalid,
        };
        let tail = match r.replay_checkpoint.filter(|_| !replayed) {
            Some(n) => not_replayed(n),
            None => format!("; {}", repair(c.offset)),
        };
        out.push(with_lost(
            Finding::new(
                Severity::Error,
                code,
                &s.path,
                format!(
                    "{what} segment {}: {}; valid up to offset {}{tail}",
                    s.name, c.message, s.scan.valid_offset
                ),
            )
            .at(c.offset),
        ));
    }
    for e in &s.scan.record_errors {
        let tail = match r.replay_checkpoint.filter(|_| !replayed) {
            Some(n) => not_replayed(n),
            None => format!(
                "; replay stops here and {}",
                repair(e.offset).replacen("Prometheus's", "its", 1)
            ),
        };
        out.push(with_lost(
            Finding::new(
                Severity::Error,
                FindingCode::WalRecordCorrupt,
                &s.path,
                format!(
                    "{what} segment {}: the record at offset {} has a valid frame but does not decode: {}{tail}",
                    s.name, e.offset, e.message
                ),
            )
            .at(e.offset),
        ));
    }
    let page = crate::format::wal::PAGE_SIZE as u64;
    if !newest && !s.size.is_multiple_of(page) && s.scan.torn_offset.is_none() {
        out.push(
            Finding::new(
                Severity::Info,
                FindingCode::WalSegmentShort,
                &s.path,
                format!(
                    "{what} segment {} is {} bytes, not a whole number of 32 KiB pages, although it is not the newest, and it ends on a whole record: Prometheus pads the segments it closes, but after a crash it starts a new segment without padding the old one and replays this one fully (it reads cleanly up to offset {}); the same shape can come from a copy cut exactly between records",
                    s.name, s.size, s.scan.valid_offset
                ),
            )
            .at(s.size),
        );
    }
    if let Some(o) = s.scan.fragments.first_odd_type_byte {
        out.push(
            Finding::new(
                Severity::Warning,
                FindingCode::WalFragmentFlags,
                &s.path,
                format!(
                    "{} fragment(s) with reserved type bits or both compression flags set, the first at offset {o}: Prometheus never writes these and its reader ignores the extra bits (a flipped bit that the CRC, which covers only the data, cannot catch)",
                    s.scan.fragments.odd_type_bytes
                ),
            )
            .at(o),
        );
    }
    if let Some(u) = &s.scan.unknown_record {
        let n: u64 = s
            .scan
            .counts
            .records_by_type
            .iter()
            .filter(|(k, _)| k.starts_with("unknown"))
            .map(|(_, v)| v)
            .sum();
        out.push(
            Finding::new(
                Severity::Info,
                FindingCode::RecordUnknownType,
                &s.path,
                format!(
                    "{n} record(s) of a type this tool does not know, the first at offset {} ({}): Prometheus replay skips record types it does not know",
                    u.offset, u.message
                ),
            )
            .at(u.offset),
        );
    }
}

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
                "head chunk files {a:06}..{b:06} are missing: Prometheus refuses to start (\"found unsequential head chunk files\")"
            ),
        ));
    }
    // Per series: (maxt of the last chunk, where it is).
    let mut last: HashMap<u64, (i64, i64, u32, u64)> = HashMap::new();
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
        let bytes = match fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                out.push(Finding::new(
                    Severity::Info,
                    FindingCode::HeadChunkFileDeletedDuringRead,
                    path,
                    "head chunk file deleted while it was read (a head truncation by the running Prometheus: its chunks are in a block now)",
                ));
                continue;
            }
            Err(e) => {
                out.push(Finding::new(
                    Severity::Error,
                    FindingCode::HeadChunkUnreadable,
                    path,
                    format!("cannot read: {e}"),
                ));
                continue;
            }
        };
        if Some(*i) == newest
            && *i > 0
            && (bytes.len() < 4 || bytes.get(..4) == Some(&[0, 0, 0, 0][..]))
        {
            out.push(Finding::new(
                Severity::Warning,
                FindingCode::HeadChunkFileDeletedOnStartup,
                path,
                "newest head chunk file is empty (shorter than 4 bytes or zero magic), as an abrupt shutdown leaves it: Prometheus deletes it on start",
            ));
            continue;
        }
        let mut it = match head_chunks::chunks(&bytes) {
            Ok(it) => it,
            Err(e) => {
                out.push(
                    Finding::new(
                        Severity::Error,
                        decode_code(FileKind::HeadChunks, &e),
                        path,
                        format!(
                            "{e}: Prometheus refuses to open the head chunk files (\"invalid magic number\" / \"invalid chunk format version\")"
                        ),
                    )
                    .at(e.offset()),
                );
                continue;
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
                        out.push(
                                Finding::new(
                                    Severity::Error,
                                    FindingCode::HeadChunkOutOfOrder,
                                    path,
                                    format!(
                                        "out of sequence m-mapped chunk for series ref {}: chunk [{}, {}] does not start after the previous chunk [{pmint}, {pmaxt}] ({pf:06}@{po}); Prometheus discards all head chunk files on start and rebuilds the head from the WAL",
                                        c.series_ref, c.mint, c.maxt
                                    ),
                                )
                                .at(c.offset)
                                .costs(c.mint, c.maxt.saturating_add(1)),
                            );
                    }
                    last.insert(c.series_ref, (c.mint, c.maxt, *i, c.offset));
                }
                Err(e) => {
                    let off = e.offset();
                    // The chunk that failed starts where the iterator stands
                    // (the error offset may be inside it: its length or CRC).
                    let o = usize::try_from(it.position()).unwrap_or(usize::MAX);
                    let be = |a: usize| {
                        bytes
                            .get(a..a + 8)
                            .and_then(|s| <[u8; 8]>::try_from(s).ok())
                            .map(u64::from_be_bytes)
                    };
                    let mut f = Finding::new(
                        Severity::Error,
                        decode_code(FileKind::HeadChunks, &e),
                        path,
                        String::new(),
                    )
                    .at(off);
                    let mut who = String::new();
                    let mut loss = if wal.is_some() {
                        "nothing is lost: the WAL still holds the samples of the deleted chunks"
                            .to_string()
                    } else {
                        "samples the WAL no longer holds are lost".to_string()
                    };
                    if let (Some(r), Some(mint), Some(maxt)) =
                        (be(o), be(o.saturating_add(8)), be(o.saturating_add(16)))
                    {
                        let (mint, maxt) = (mint as i64, maxt as i64);
                        who = format!(
                            " (chunk at offset {o}: series ref {r}, [{mint}, {maxt}] as stored)"
                        );
                        if let Some((a, b)) = head_chunk_loss(mint, maxt, wal) {
                            f = f.costs(a, b);
                            if wal.is_some() {
                                loss = format!(
                                    "samples {a}..{b} of this chunk are older than anything the WAL holds and are lost"
                                );
                            }
                        }
                    }
                    if f.time_range.is_none() && wal.is_some() {
                        f.severity = Severity::Warning;
                    }
                    f.message = format!(
                        "{e}{who}; Prometheus {deletes} on start, then rebuilds the head from the WAL: {loss}"
                    );
                    out.push(f);
                }
            }
        }
    }
    out
}

/// The paths [`verify`] looks at (for callers that list what was checked).
pub fn checked_dirs(layout: &Layout) -> Vec<PathBuf> {
    [&layout.wal, &layout.wbl, &layout.chunks_head]
        .into_iter()
        .flatten()
        .cloned()
        .collect()
}
