//! `promsnap salvage`: rewrite damaged blocks without their damaged parts;
//! with `--in-place`, quarantine what blocks a data dir's startup.

use std::io::Write;
use std::path::PathBuf;

use promsnap::coverage::fmt_time;
use promsnap::salvage::block::Rewrite;
use promsnap::salvage::{self, BlockAction, BlockSalvage, SalvageOptions, SalvageReport};

use super::Outcome;

/// Arguments of `promsnap salvage`.
#[derive(Debug, clap::Args)]
pub struct SalvageArgs {
    /// A block, data or snapshot directory (only read, unless --in-place).
    pub path: PathBuf,
    /// Where to write: an absent or empty directory outside PATH.
    #[arg(required_unless_present = "in_place")]
    pub out: Option<PathBuf>,
    /// Repair the (stopped) data directory PATH itself: move what blocks its
    /// startup into ../promsnap-quarantine-<time>/, damaged blocks replaced
    /// by their rewrite.
    #[arg(long, conflicts_with = "out")]
    pub in_place: bool,
    /// Check and report; write and move nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// One JSON document on stdout (format in the README).
    #[arg(long)]
    pub json: bool,
}

/// Runs `salvage`.
pub fn run(args: &SalvageArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let opts = SalvageOptions {
        dry_run: args.dry_run,
    };
    let report = match (&args.out, args.in_place) {
        (_, true) => salvage::salvage_in_place(&args.path, &opts)?,
        (Some(o), false) => salvage::salvage(&args.path, o, &opts)?,
        (None, false) => anyhow::bail!("OUT is required without --in-place"),
    };
    if args.json {
        serde_json::to_writer_pretty(&mut *out, &report)?;
        writeln!(out)?;
    } else {
        out.write_all(render(&report).as_bytes())?;
    }
    Ok(if report.has_losses() {
        Outcome::Findings
    } else {
        Outcome::Ok
    })
}

fn range(from: Option<i64>, to: Option<i64>) -> String {
    match (from, to) {
        (Some(a), Some(b)) => format!("[{}, {})", fmt_time(a), fmt_time(b)),
        _ => "[unknown range)".into(),
    }
}

/// The human report.
pub fn render(r: &SalvageReport) -> String {
    let verb = if r.dry_run { "would be " } else { "" };
    let mut s = String::new();
    for b in &r.blocks {
        render_block(&mut s, b, verb);
    }
    render_wal(&mut s, r, verb);
    for l in &r.lost_ranges {
        s.push_str(&format!(
            "{}: [{}, {})\n",
            if r.in_place {
                "the restarted Prometheus may miss samples in"
            } else {
                "samples lost in"
            },
            fmt_time(l[0]),
            fmt_time(l[1])
        ));
    }
    if r.wal
        .as_ref()
        .is_some_and(|w| w.lost_range_end_unknown && w.cut)
    {
        s.push_str(concat!(
            "  (the damage is in the newest WAL segment: samples after the ",
            "last readable one may be lost too)\n"
        ));
    }
    if !r.has_losses() {
        s.push_str("nothing lost\n");
    }
    s
}

/// One block's lines: what was done with it and, when rewritten, what the
/// rewrite kept and dropped.
fn render_block(s: &mut String, b: &BlockSalvage, verb: &str) {
    let codes = if b.error_codes.is_empty() {
        String::new()
    } else {
        format!(" ({})", join_codes(&b.error_codes))
    };
    match b.action {
        BlockAction::Kept => s.push_str(&format!("block {}: ok, kept\n", b.ulid)),
        BlockAction::Linked => s.push_str(&format!("block {}: ok, {verb}linked\n", b.ulid)),
        BlockAction::Copied => s.push_str(&format!("block {}: ok, {verb}copied\n", b.ulid)),
        BlockAction::Unreadable => s.push_str(&format!(
            "block {}: UNREADABLE{codes}: {}; {}\n",
            b.ulid,
            b.reason.as_deref().unwrap_or(""),
            match &b.quarantined_to {
                Some(q) => format!("{verb}moved whole to {}", q.display()),
                None => "not carried into OUT".into(),
            }
        )),
        BlockAction::Rewritten => {
            s.push_str(&format!(
                "block {}: damaged{codes}: {verb}rewritten as {}{}\n",
                b.ulid,
                b.new_ulid.as_deref().unwrap_or("a new block"),
                b.quarantined_to
                    .as_ref()
                    .map(|q| format!("; original {verb}moved to {}", q.display()))
                    .unwrap_or_default()
            ));
            if let Some(rw) = &b.rewrite {
                render_rewrite(s, rw);
            }
        }
    }
}

/// What a rewrite kept, each dropped range, and its notes.
fn render_rewrite(s: &mut String, rw: &Rewrite) {
    s.push_str(&format!(
        "  kept {} series, {} samples; dropped {} whole series, {} samples{}\n",
        rw.series_written,
        rw.samples_written,
        rw.series_dropped,
        rw.samples_dropped,
        if rw.samples_dropped_inexact {
            " counted (some from a damaged header, or not countable)"
        } else {
            ""
        }
    ));
    for d in &rw.dropped {
        s.push_str(&format!(
            "  DROPPED {} {} {} samples: {} ({}{})\n",
            if d.series.is_empty() {
                "<unknown series>"
            } else {
                &d.series
            },
            range(d.from, d.to),
            d.samples
                .map(|n| format!("{}{n}", if d.samples_exact { "" } else { "~" }))
                .unwrap_or_else(|| "?".into()),
            d.code,
            d.path.display(),
            d.offset.map(|o| format!(" @{o}")).unwrap_or_default()
        ));
    }
    for n in &rw.notes {
        s.push_str(&format!("  note: {n}\n"));
    }
}

/// The WAL, checkpoint, head chunk and quarantine lines.
fn render_wal(s: &mut String, r: &SalvageReport, verb: &str) {
    if let Some(w) = &r.wal {
        if w.cut {
            s.push_str(&format!(
                concat!(
                    "wal: {} damaged at offset {} ({}): {verb}cut to its first {} ",
                    "bytes ({} whole records), {} later segment(s) {verb}moved to ",
                    "quarantine; {} readable records with {} samples are in the cut part\n"
                ),
                w.segment
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default(),
                w.damage_offset.unwrap_or(0),
                w.code.map_or("", |c| c.as_str()),
                w.kept_bytes.unwrap_or(0),
                w.kept_records,
                w.later_segments.len(),
                w.cut_records_readable,
                w.cut_samples_readable,
                verb = verb,
            ));
        } else {
            s.push_str("wal: ok\n");
        }
    }
    if let Some(c) = &r.checkpoint {
        s.push_str(&format!(
            concat!(
                "checkpoint: {} damaged at offset {} ({}): {verb}cut to its first ",
                "{} bytes ({} whole records, {} series), {} later checkpoint ",
                "segment(s) {verb}moved to quarantine; {} series the WAL or head ",
                "chunks use are no longer defined\n"
            ),
            c.segment.display(),
            c.damage_offset,
            c.code.as_str(),
            c.kept_bytes,
            c.kept_records,
            c.series_kept,
            c.later_segments.len(),
            c.series_unknown,
            verb = verb,
        ));
    }
    if let Some(h) = &r.chunks_head
        && !h.moved.is_empty()
    {
        s.push_str(&format!(
            "chunks_head: {} file(s) from {} {verb}moved to quarantine ({})\n",
            h.moved.len(),
            h.moved[0].display(),
            join_codes(&h.codes)
        ));
    }
    if let Some(q) = &r.quarantine {
        s.push_str(&format!("quarantine: {}\n", q.display()));
    }
}

/// Codes as the comma-separated list the human report shows.
fn join_codes(codes: &[promsnap::check::codes::FindingCode]) -> String {
    codes
        .iter()
        .map(|c| c.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}
