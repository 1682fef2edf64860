//! The findings of a WAL or WBL directory's report: segment numbering,
//! checkpoints and each segment (see the module doc of [`super`] for the
//! policy).

use super::{fmt_range, walinfo_name};
use crate::check::{Finding, FindingCode, Severity};
use crate::walinfo::{self, CheckpointReport, SegmentReport, TimeRange, WalDirReport, range_of};

/// Turns a WAL/WBL report into findings (see the module docs for the policy).
pub fn findings_of_wal_report(r: &WalDirReport, wbl: bool) -> Vec<Finding> {
    let what = if wbl { "WBL" } else { "WAL" };
    let mut out = Vec::new();
    if !wbl {
        unknown_series(r, &mut out);
    }
    segment_gaps(r, what, &mut out);
    for cp in &r.checkpoints {
        checkpoint_findings(cp, &mut out);
    }
    for (i, s) in r.segments.iter().enumerate() {
        let later = r.segments.get(i + 1..).unwrap_or(&[]);
        segment_findings(r, s, later, what, &mut out);
    }
    out
}

/// Samples of series no Series record defines.
fn unknown_series(r: &WalDirReport, out: &mut Vec<Finding>) {
    let unknown = r.totals.unknown_series_samples + r.totals.unknown_series_histograms;
    if unknown == 0 {
        return;
    }
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
            concat!(
                "{} float and {} histogram samples refer to series with no Series ",
                "record in the checkpoint or the segments before them: Prometheus' ",
                "replay skips them (no query or block will have them; it counts ",
                "them in no metric, only in one warn-level log line \"Unknown ",
                "series references\"); `wal` does not count them as data; those ",
                "older than the newest block are usually in blocks already"
            ),
            r.totals.unknown_series_samples, r.totals.unknown_series_histograms
        ),
    ));
}

/// Missing segment numbers, between segments or after the checkpoint.
fn segment_gaps(r: &WalDirReport, what: &str, out: &mut Vec<Finding>) {
    for g in &r.segment_gaps {
        out.push(Finding::new(
            Severity::Error,
            FindingCode::WalSegmentGap,
            &r.path,
            format!(
                concat!(
                    "{what} segments {}..{} are missing (segments {} to {} are present): ",
                    "Prometheus refuses to open a {what} whose segments are not sequential"
                ),
                walinfo_name(g.first),
                walinfo_name(g.last),
                r.first_segment.map(walinfo_name).unwrap_or_default(),
                r.last_segment.map(walinfo_name).unwrap_or_default(),
                what = what,
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
                concat!(
                    "segments {}..{} between checkpoint.{n:08} and the first segment ",
                    "are missing: Prometheus fails to open them during replay"
                ),
                walinfo_name(n + 1),
                walinfo_name(first - 1),
                n = n
            ),
        ));
    }
}

/// What a corrupt checkpoint does to Prometheus.
const CHECKPOINT_CONSEQUENCE: &str = concat!(
    "Prometheus will not start: a corrupt checkpoint is a hard error ",
    "that needs user intervention (2.42 then still runs its WAL repair ",
    "with this segment number, which deletes the WAL segments numbered ",
    "above it before failing: keep a copy)"
);

/// One checkpoint directory: a leftover, a stale one, or the current one
/// and its damage.
fn checkpoint_findings(cp: &CheckpointReport, out: &mut Vec<Finding>) {
    if cp.tmp {
        out.push(Finding::new(
            Severity::Warning,
            FindingCode::WalCheckpointTmpLeftover,
            &cp.path,
            concat!(
                "unfinished checkpoint left by an interrupted truncation: ignored, ",
                "and removed by Prometheus on start"
            ),
        ));
        return;
    }
    if !cp.current {
        out.push(Finding::new(
            Severity::Info,
            FindingCode::WalCheckpointStale,
            &cp.path,
            concat!(
                "older checkpoint: replay uses only the newest one; Prometheus ",
                "deletes this at the next truncation"
            ),
        ));
        return;
    }
    let consequence = CHECKPOINT_CONSEQUENCE;
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
        checkpoint_segment(cp, s, out);
    }
}

/// One segment of the current checkpoint.
fn checkpoint_segment(cp: &CheckpointReport, s: &SegmentReport, out: &mut Vec<Finding>) {
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
                    concat!(
                        "checkpoint segment {} is {} bytes, not a whole number of 32 ",
                        "KiB pages: Prometheus pads every segment it closes, so it was ",
                        "cut; it reads cleanly up to offset {}"
                    ),
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
                concat!(
                    "last record is torn at offset {t} (a checkpoint is complete ",
                    "before it is renamed into place, so this is damage)"
                ),
                t = t
            ),
        )
    } else if let Some(e) = s.scan.record_errors.first() {
        (Some(e.offset), format!("{} ({})", e.message, e.code))
    } else {
        return;
    };
    let mut f = Finding::new(
        Severity::Error,
        FindingCode::WalCheckpointCorrupt,
        &s.path,
        format!(
            "checkpoint segment {}: {why}; valid up to offset {}; {CHECKPOINT_CONSEQUENCE}",
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

/// One WAL or WBL segment `s` of `r`, with the segments after it (`later`),
/// which Prometheus's repair deletes after damage in `s`.
struct Segment<'a> {
    r: &'a WalDirReport,
    s: &'a SegmentReport,
    later: &'a [SegmentReport],
    /// `WAL` or `WBL`.
    what: &'a str,
    /// The newest segment of the directory.
    newest: bool,
    /// After the replayed checkpoint (or no checkpoint): replay reads it.
    replayed: bool,
    /// What the repair drops after damage in `s`: sample times, records.
    lost: TimeRange,
    lost_records: u64,
}

impl Segment<'_> {
    /// The message's end for damage at `offset`: what the repair drops, or
    /// that the segment is not replayed at all.
    fn tail(&self, offset: u64, prefix: &str) -> String {
        match self.r.replay_checkpoint.filter(|_| !self.replayed) {
            Some(n) => format!(
                concat!(
                    "; the segment precedes checkpoint.{n:08}, so Prometheus does ",
                    "not replay it and deletes it at the next truncation"
                ),
                n = n
            ),
            None if prefix.is_empty() => format!("; {}", self.repair(offset)),
            None => format!(
                "; {prefix}{}",
                self.repair(offset).replacen("Prometheus's", "its", 1)
            ),
        }
    }

    /// What Prometheus's repair does after damage at `offset`.
    fn repair(&self, offset: u64) -> String {
        let lost_records = self.lost_records;
        let dropped = match (self.later.first(), self.later.last()) {
            (Some(f), Some(l)) => format!(
                concat!(
                    ", and deletes segments {}..{} ({lost_records} readable records ",
                    "after the damage, samples {})"
                ),
                f.name,
                l.name,
                fmt_range(self.lost),
                lost_records = lost_records
            ),
            _ => format!(
                " ({lost_records} readable records after the damage, samples {})",
                fmt_range(self.lost)
            ),
        };
        format!(
            concat!(
                "Prometheus's repair keeps the records of segment {} before offset ",
                "{offset} and drops the rest of it{dropped}"
            ),
            self.s.name,
            offset = offset,
            dropped = dropped
        )
    }

    /// `f` with the lost time range, when replay would lose it.
    fn with_lost(&self, mut f: Finding) -> Finding {
        if self.replayed
            && let Some((a, b)) = range_of(self.lost)
        {
            f = f.costs(a, b.saturating_add(1));
        }
        f
    }
}

/// What the repair drops after damage in `s`: the rest of `s` that could
/// still be read, the later segments, and a torn record that is not the
/// newest segment's tail.
fn lost_after(s: &SegmentReport, later: &[SegmentReport], torn_counts: bool) -> (TimeRange, u64) {
    let mut lost = TimeRange::default();
    let mut lost_records = 0u64;
    if let Some(a) = &s.scan.after_damage {
        lost = a.time;
        lost_records = a.records;
    }
    let mut widen = |(a, b): (i64, i64)| {
        lost.min_t = Some(lost.min_t.map_or(a, |m| m.min(a)));
        lost.max_t = Some(lost.max_t.map_or(b, |m| m.max(b)));
    };
    for l in later {
        if let Some(r) = range_of(l.scan.counts.time) {
            widen(r);
        }
        lost_records += l.scan.counts.records;
    }
    // A torn record that is not the tail of the newest segment (a segment
    // cut mid-file): the repair drops it too, from its first fragment on,
    // with the samples its bytes before the cut hold.
    if let Some(t) = s.scan.torn_offset
        && torn_counts
        && let Ok(bytes) = crate::fileutil::wal_segment_bytes(&s.path)
        && let Some(r) = range_of(walinfo::torn_record_time(&bytes, t))
    {
        widen(r);
        lost_records += 1;
    }
    (lost, lost_records)
}

/// The findings of one segment `s` of `r`.
fn segment_findings(
    r: &WalDirReport,
    s: &SegmentReport,
    later: &[SegmentReport],
    what: &str,
    out: &mut Vec<Finding>,
) {
    if let Some(e) = &s.read_error {
        out.push(Finding::new(
            Severity::Error,
            FindingCode::WalSegmentUnreadable,
            &s.path,
            format!("cannot read {what} segment {}: {e}", s.name),
        ));
        return;
    }
    let newest = r.last_segment == Some(s.index);
    let replayed = r.replay_checkpoint.is_none_or(|n| s.index > n);
    let (lost, lost_records) = lost_after(s, later, !(newest && replayed));
    let seg = Segment {
        r,
        s,
        later,
        what,
        newest,
        replayed,
        lost,
        lost_records,
    };
    torn(&seg, out);
    damage(&seg, out);
    oddities(&seg, out);
}

/// A torn last record: the tail of a crash in the newest segment, damage
/// elsewhere.
fn torn(seg: &Segment<'_>, out: &mut Vec<Finding>) {
    let (s, what) = (seg.s, seg.what);
    let Some(t) = s.scan.torn_offset else {
        return;
    };
    let size = s.size;
    if seg.newest && seg.replayed {
        out.push(
            Finding::new(
                Severity::Warning,
                FindingCode::WalTornTail,
                &s.path,
                format!(
                    concat!(
                        "last record is torn: it starts at offset {t} and the data ends ",
                        "at {size} (a crash mid-write); Prometheus repairs this on start ",
                        "by dropping the partial record; valid up to offset {}"
                    ),
                    s.scan.valid_offset,
                    t = t,
                    size = size
                ),
            )
            .at(t),
        );
    } else {
        let tail = seg.tail(t, "");
        out.push(
            seg.with_lost(
                Finding::new(
                    Severity::Error,
                    FindingCode::WalTornTail,
                    &s.path,
                    format!(
                        concat!(
                            "{what} segment {} is not the newest but its last record is torn ",
                            "(starts at offset {t}, data ends at {size}){tail}"
                        ),
                        s.name,
                        what = what,
                        t = t,
                        size = size,
                        tail = tail
                    ),
                )
                .at(t),
            ),
        );
    }
}

/// Broken fragments and records that do not decode.
fn damage(seg: &Segment<'_>, out: &mut Vec<Finding>) {
    let (s, what) = (seg.s, seg.what);
    if let Some(c) = &s.scan.corruption {
        let code = match c.code {
            FindingCode::WalChecksum
            | FindingCode::WalFragmentOrder
            | FindingCode::WalPaddingNonzero
            | FindingCode::WalDecompress => c.code,
            _ => FindingCode::WalFragmentInvalid,
        };
        let tail = seg.tail(c.offset, "");
        out.push(
            seg.with_lost(
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
            ),
        );
    }
    for e in &s.scan.record_errors {
        let tail = seg.tail(e.offset, "replay stops here and ");
        out.push(
            seg.with_lost(
                Finding::new(
                    Severity::Error,
                    FindingCode::WalRecordCorrupt,
                    &s.path,
                    format!(
                        concat!(
                            "{what} segment {}: the record at offset {} has a valid frame ",
                            "but does not decode: {}{tail}"
                        ),
                        s.name,
                        e.offset,
                        e.message,
                        what = what,
                        tail = tail
                    ),
                )
                .at(e.offset),
            ),
        );
    }
}

/// What Prometheus reads past: a short closed segment, odd fragment type
/// bits, record types it does not know.
fn oddities(seg: &Segment<'_>, out: &mut Vec<Finding>) {
    let (s, what) = (seg.s, seg.what);
    let page = crate::format::wal::PAGE_SIZE as u64;
    if !seg.newest && !s.size.is_multiple_of(page) && s.scan.torn_offset.is_none() {
        out.push(
            Finding::new(
                Severity::Info,
                FindingCode::WalSegmentShort,
                &s.path,
                format!(
                    concat!(
                        "{what} segment {} is {} bytes, not a whole number of 32 KiB ",
                        "pages, although it is not the newest, and it ends on a whole ",
                        "record: Prometheus pads the segments it closes, but after a ",
                        "crash it starts a new segment without padding the old one and ",
                        "replays this one fully (it reads cleanly up to offset {}); the ",
                        "same shape can come from a copy cut exactly between records"
                    ),
                    s.name,
                    s.size,
                    s.scan.valid_offset,
                    what = what
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
                    concat!(
                        "{} fragment(s) with reserved type bits or both compression flags ",
                        "set, the first at offset {o}: Prometheus never writes these ",
                        "and its reader ignores the extra bits (a flipped bit that the ",
                        "CRC, which covers only the data, cannot catch)"
                    ),
                    s.scan.fragments.odd_type_bytes,
                    o = o
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
                    concat!(
                        "{n} record(s) of a type this tool does not know, the first at ",
                        "offset {} ({}): Prometheus replay skips record types it does not know"
                    ),
                    u.offset,
                    u.message,
                    n = n
                ),
            )
            .at(u.offset),
        );
    }
}
