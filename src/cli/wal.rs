//! `promsnap wal`: what the WAL, WBL, checkpoints and head chunk files hold.

use std::io::Write;
use std::path::{Path, PathBuf};

use promsnap::gofmt;
use promsnap::walinfo::{self, RecordCounts, SegmentReport, TimeRange, WalDirReport, WalReport};

use super::{Outcome, table};

/// Arguments of `promsnap wal`.
#[derive(Debug, clap::Args)]
pub struct WalArgs {
    /// A data directory (its `wal/`, `wbl/`, `chunks_head/`) or a WAL directory.
    pub path: PathBuf,
    /// One JSON document on stdout (format in the README).
    #[arg(long)]
    pub json: bool,
}

/// Runs `wal`. Exit 1 when a segment, checkpoint or head chunk file is
/// damaged or unreadable (a torn tail of the newest segment is not damage).
pub fn run(args: &WalArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let report = walinfo::inspect(&args.path)?;
    if !report.is_recognisable() {
        anyhow::bail!(
            concat!(
                "{}: nothing recognisable: not a WAL directory (no segment 00000000…, ",
                "no checkpoint.N) nor a data directory (no wal/, wbl/ or chunks_head/)"
            ),
            args.path.display()
        );
    }
    if args.json {
        serde_json::to_writer_pretty(&mut *out, &report)?;
        writeln!(out)?;
    } else {
        out.write_all(render(&report).as_bytes())?;
    }
    Ok(if damaged(&report) {
        Outcome::Findings
    } else {
        Outcome::Ok
    })
}

fn wal_damaged(w: &WalDirReport) -> bool {
    let seg_bad = |s: &SegmentReport| {
        s.read_error.is_some() || s.scan.corruption.is_some() || !s.scan.record_errors.is_empty()
    };
    let torn_early = w
        .segments
        .iter()
        .any(|s| s.scan.torn_tail && Some(s.index) != w.last_segment);
    w.segments.iter().any(seg_bad)
        || torn_early
        || !w.segment_gaps.is_empty()
        || w.checkpoints.iter().any(|c| {
            c.current
                && (c.read_error.is_some()
                    || !c.segment_gaps.is_empty()
                    || c.segments.iter().any(|s| seg_bad(s) || s.scan.torn_tail))
        })
}

/// True if anything read is damaged.
pub fn damaged(r: &WalReport) -> bool {
    r.wal.as_ref().is_some_and(wal_damaged)
        || r.wbl.as_ref().is_some_and(wal_damaged)
        || r.chunks_head.as_ref().is_some_and(|c| {
            !c.file_gaps.is_empty()
                || c.files.iter().any(|f| {
                    f.read_error.is_some() || (f.corruption.is_some() && !f.deleted_on_startup)
                })
        })
}

fn t(ms: Option<i64>) -> String {
    ms.map(gofmt::rfc3339_ms).unwrap_or_else(|| "-".into())
}

fn span(time: TimeRange) -> String {
    match (time.min_t, time.max_t) {
        (Some(a), Some(b)) => format!(
            "{} .. {} ({})",
            gofmt::rfc3339_ms(a),
            gofmt::rfc3339_ms(b),
            gofmt::duration_ms(b.saturating_sub(a))
        ),
        _ => "no samples".into(),
    }
}

fn types(c: &RecordCounts) -> String {
    c.records_by_type
        .iter()
        .map(|(k, v)| format!("{k}:{v}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn status(s: &SegmentReport, newest: bool) -> String {
    if let Some(e) = &s.read_error {
        return format!("UNREADABLE: {e}");
    }
    if let Some(c) = &s.scan.corruption {
        return format!("CORRUPT @{}: {}", c.offset, c.code);
    }
    if let Some(o) = s.scan.torn_offset {
        return if newest {
            format!("torn tail @{o}")
        } else {
            format!("TORN @{o} (not the newest segment)")
        };
    }
    if let Some(e) = s.scan.record_errors.first() {
        return format!("BAD RECORD @{}: {}", e.offset, e.code);
    }
    "ok".into()
}

fn header() -> Vec<String> {
    [
        "SEGMENT",
        "SIZE",
        "RECORDS",
        "SERIES",
        "SAMPLES",
        "HISTOGRAMS",
        "MIN TIME",
        "MAX TIME",
        "VALID TO",
        "STATUS",
        "RECORD TYPES",
    ]
    .map(String::from)
    .to_vec()
}

fn row(name: String, s: &SegmentReport, newest: bool) -> Vec<String> {
    let c = &s.scan.counts;
    vec![
        name,
        s.size.to_string(),
        c.records.to_string(),
        c.series_created.to_string(),
        c.float_samples.to_string(),
        (c.histogram_samples + c.float_histogram_samples).to_string(),
        t(c.time.min_t),
        t(c.time.max_t),
        s.scan.valid_offset.to_string(),
        status(s, newest),
        types(c),
    ]
}

fn rel(p: &Path, base: &Path) -> String {
    p.strip_prefix(base).unwrap_or(p).display().to_string()
}

fn render_wal(label: &str, w: &WalDirReport, out: &mut String) {
    let replay = match (w.replay_checkpoint, w.replay_segments) {
        (Some(n), Some((a, b))) => format!("replay: checkpoint.{n:08} + segments {a}..{b}"),
        (Some(n), None) => format!("replay: checkpoint.{n:08}"),
        (None, Some((a, b))) => format!("replay: segments {a}..{b}"),
        (None, None) => "empty".into(),
    };
    out.push_str(&format!(
        "{label} {}  {replay}; {} series; {} bytes\n  samples {}\n",
        w.path.display(),
        w.series,
        w.size,
        span(w.time)
    ));
    let mut rows = vec![header()];
    for cp in &w.checkpoints {
        let flag = if cp.tmp {
            " (tmp leftover)"
        } else if !cp.current {
            " (stale)"
        } else {
            ""
        };
        for s in &cp.segments {
            let mut r = row(format!("{}/{}{flag}", cp.name, s.name), s, false);
            if let (Some(st), true) = (r.get_mut(9), s.scan.torn_tail) {
                *st = format!("TORN @{}", s.scan.torn_offset.unwrap_or(0));
            }
            rows.push(r);
        }
        if cp.segments.is_empty() {
            let mut r = vec![format!("{}{flag}", cp.name)];
            r.extend(std::iter::repeat_n("-".to_string(), 8));
            r.push(cp.read_error.clone().unwrap_or_else(|| "empty".into()));
            rows.push(r);
        }
    }
    for s in &w.segments {
        let newest = Some(s.index) == w.last_segment;
        rows.push(row(rel(&s.path, &w.path), s, newest));
    }
    for line in table::render(&rows, 0, 2).lines() {
        out.push_str("  ");
        out.push_str(line.trim_end());
        out.push('\n');
    }
    for g in &w.segment_gaps {
        out.push_str(&format!("  MISSING segments {}..{}\n", g.first, g.last));
    }
    if !w.totals.records_by_type.is_empty() {
        out.push_str(&format!("  replayed records: {}\n", types(&w.totals)));
    }
}

/// The human output.
pub fn render(r: &WalReport) -> String {
    let mut out = String::new();
    if let Some(w) = &r.wal {
        render_wal("WAL", w, &mut out);
    }
    if let Some(w) = &r.wbl {
        render_wal("WBL", w, &mut out);
    }
    if let Some(c) = &r.chunks_head {
        out.push_str(&format!(
            "CHUNKS_HEAD {}  {} chunks\n  chunks {}\n",
            c.path.display(),
            c.chunks,
            span(c.time)
        ));
        let mut rows = vec![
            [
                "FILE",
                "SIZE",
                "CHUNKS",
                "SERIES",
                "MIN TIME",
                "MAX TIME",
                "END",
                "STATUS",
                "ENCODINGS",
            ]
            .map(String::from)
            .to_vec(),
        ];
        for f in &c.files {
            let st = if let Some(e) = &f.read_error {
                format!("UNREADABLE: {e}")
            } else if f.deleted_on_startup {
                "empty newest file (deleted on start)".into()
            } else if let Some(p) = &f.corruption {
                format!("CORRUPT @{}: {}", p.offset, p.code)
            } else {
                "ok".into()
            };
            rows.push(vec![
                f.name.clone(),
                f.size.to_string(),
                f.chunks.to_string(),
                f.series.to_string(),
                t(f.time.min_t),
                t(f.time.max_t),
                f.end_offset.map_or("-".into(), |e| e.to_string()),
                st,
                f.encodings
                    .iter()
                    .map(|(k, v)| format!("{k}:{v}"))
                    .collect::<Vec<_>>()
                    .join(" "),
            ]);
        }
        for line in table::render(&rows, 0, 2).lines() {
            out.push_str("  ");
            out.push_str(line.trim_end());
            out.push('\n');
        }
        for g in &c.file_gaps {
            out.push_str(&format!("  MISSING files {}..{}\n", g.first, g.last));
        }
    }
    for s in &r.chunk_snapshots {
        out.push_str(&format!(
            "CHUNK SNAPSHOT {}  (WAL segment {}, offset {}{}; {} bytes)\n",
            s.name,
            s.wal_segment,
            s.wal_offset,
            if s.tmp { ", tmp leftover" } else { "" },
            s.size
        ));
    }
    out
}
