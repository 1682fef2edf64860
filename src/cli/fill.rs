//! `promsnap fill`: write into a replica the samples a source has and it lacks.

use std::io::Write;
use std::path::PathBuf;

use promsnap::coverage::{fmt_dur, fmt_time};
use promsnap::fill::{self, FillOptions, FillReport};
use promsnap::selector;

use super::Outcome;
use super::time::{parse_duration, parse_time};

/// Arguments of `promsnap fill`.
#[derive(Debug, clap::Args)]
pub struct FillArgs {
    /// The replica's data directory (written into: new blocks only).
    pub target: PathBuf,
    /// The primary's data directory, a snapshot or a copy (only read).
    #[arg(long)]
    pub from: PathBuf,
    /// Only samples at or after this time (RFC 3339 or Unix ms).
    #[arg(long, value_parser = parse_time, allow_hyphen_values = true)]
    pub min_time: Option<i64>,
    /// Only samples at or before this time (RFC 3339 or Unix ms).
    #[arg(long, value_parser = parse_time, allow_hyphen_values = true)]
    pub max_time: Option<i64>,
    /// Series selector, e.g. 'up{job="node"}'; repeat for a union.
    #[arg(long = "match")]
    pub matches: Vec<String>,
    /// The block range grid (`2h`, at least `1m`); default: inferred from TARGET's blocks.
    #[arg(long, allow_hyphen_values = true)]
    pub block_range: Option<String>,
    /// Report what would be written; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// One JSON document on stdout (format in the README).
    #[arg(long)]
    pub json: bool,
}

/// Runs `fill`.
pub fn run(args: &FillArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let mut opts = FillOptions {
        dry_run: args.dry_run,
        ..FillOptions::default()
    };
    if let Some(t) = args.min_time {
        opts.min_time = t;
    }
    if let Some(t) = args.max_time {
        opts.max_time = t;
    }
    if let Some(r) = &args.block_range {
        opts.block_range =
            Some(parse_duration(r).map_err(|e| anyhow::anyhow!("--block-range: {e}"))?);
    }
    for m in &args.matches {
        opts.selectors
            .push(selector::parse(m).map_err(anyhow::Error::msg)?);
    }
    let report = fill::fill(&args.target, &args.from, &opts)?;
    if args.json {
        serde_json::to_writer_pretty(&mut *out, &report)?;
        writeln!(out)?;
    } else {
        out.write_all(render(&report).as_bytes())?;
    }
    for e in &report.errors {
        eprintln!("promsnap: {e}");
    }
    Ok(if report.errors.is_empty() {
        Outcome::Ok
    } else {
        Outcome::Findings
    })
}

/// The human report.
pub fn render(r: &FillReport) -> String {
    let mut s = format!(
        "source {}: {} series, {} samples read\ntarget {} (block range {})\n",
        r.source.display(),
        r.source_series,
        r.source_samples,
        r.target.display(),
        fmt_dur(r.block_range)
    );
    let verb = if r.dry_run { "would add" } else { "added" };
    if r.ranges.is_empty() {
        s.push_str("nothing to fill: the target has every sample the source has\n");
    }
    for x in &r.ranges {
        s.push_str(&format!(
            "  {} → {}  {verb} {:>6} series {:>9} samples{}\n",
            fmt_time(x.min_time),
            fmt_time(x.max_time - 1),
            x.series,
            x.samples,
            x.block
                .as_ref()
                .map(|b| format!("  block {b}"))
                .unwrap_or_default()
        ));
    }
    s.push_str(&format!(
        "total: {verb} {} samples to {} series in {} block(s)\n",
        r.samples_added,
        r.series_added,
        r.ranges.len()
    ));
    let d = &r.deferred;
    if d.samples > 0 {
        s.push_str(&format!(
            "deferred: {} samples of {} series from {} to {} are at or after {} (the target's \
             head): \
             a block there would make Prometheus drop head samples on its next restart; \
             run fill again once the target has compacted its head past them\n",
            d.samples,
            d.series,
            d.from.map_or("-".into(), fmt_time),
            d.to.map_or("-".into(), fmt_time),
            d.cutoff.map_or("-".into(), fmt_time),
        ));
    }
    s
}
