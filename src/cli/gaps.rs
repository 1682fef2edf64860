//! `promsnap gaps`: per-series holes, and the real loss against another directory.

use std::io::Write;
use std::path::PathBuf;

use promsnap::coverage::{fmt_dur, fmt_time};
use promsnap::gaps::{self, GapsOptions, GapsReport, Merged, Sources};
use promsnap::selector;

use super::Outcome;
use super::time::{parse_duration, parse_time};

/// Arguments of `promsnap gaps`.
#[derive(Debug, clap::Args)]
pub struct GapsArgs {
    /// Block, data or snapshot directory (the slave).
    pub dir: PathBuf,
    /// Series selector, e.g. 'up{job="node"}'; repeat for a union.
    #[arg(long = "match")]
    pub matches: Vec<String>,
    /// The usual sample interval (`15s`), or `auto`: each series' median step.
    #[arg(long, default_value = "auto")]
    pub interval: String,
    /// Only samples at or after this time (RFC 3339 or Unix ms).
    #[arg(long, value_parser = parse_time, allow_hyphen_values = true)]
    pub from: Option<i64>,
    /// Only samples at or before this time (RFC 3339 or Unix ms).
    #[arg(long, value_parser = parse_time, allow_hyphen_values = true)]
    pub to: Option<i64>,
    /// Another directory (the master): report what it has and DIR has not.
    #[arg(long)]
    pub against: Option<PathBuf>,
    /// Drop this label name from every series of both directories before
    /// joining them (a master's external_labels, which remote write adds to
    /// the replica's series); repeat for several.
    #[arg(long = "drop-label")]
    pub drop_labels: Vec<String>,
    /// Per-series lines to print (human output).
    #[arg(long, default_value_t = 10)]
    pub top: usize,
    /// One JSON document on stdout (format in the README).
    #[arg(long)]
    pub json: bool,
}

/// Runs `gaps`.
pub fn run(args: &GapsArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    super::time::check_range("--from", args.from, "--to", args.to)?;
    let mut opts = GapsOptions::default();
    if args.interval != "auto" {
        opts.interval = Some(parse_duration(&args.interval).map_err(anyhow::Error::msg)?);
    }
    if let Some(t) = args.from {
        opts.from = t;
    }
    if let Some(t) = args.to {
        opts.to = t;
    }
    opts.drop_labels.clone_from(&args.drop_labels);
    for m in &args.matches {
        opts.selectors
            .push(selector::parse(m).map_err(anyhow::Error::msg)?);
    }
    let report = gaps::gaps(&args.dir, args.against.as_deref(), &opts)?;
    if args.json {
        serde_json::to_writer_pretty(&mut *out, &report)?;
        writeln!(out)?;
    } else {
        out.write_all(render(&report, args.top).as_bytes())?;
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

fn sources(name: &str, s: &Sources) -> String {
    format!(
        "{name:<8} {}: {} series, {} samples; {} block(s){}; head (wal/): {}\n",
        s.path.display(),
        s.series,
        s.samples,
        s.blocks,
        s.blocks_until
            .map(|t| format!(" up to {}", fmt_time(t)))
            .unwrap_or_default(),
        if s.wal {
            format!("read, up to {}", s.wal_until.map_or("-".into(), fmt_time))
        } else {
            "not read".into()
        }
    )
}

fn merged(s: &mut String, m: &[Merged], samples: bool) {
    if m.is_empty() {
        s.push_str("  none\n");
    }
    for x in m {
        s.push_str(&format!(
            "  {} → {}  {:>9}  {:>6} series{}\n",
            fmt_time(x.from),
            fmt_time(x.to),
            fmt_dur(x.to - x.from),
            x.series,
            if samples {
                format!("  {:>8} samples", x.samples)
            } else {
                String::new()
            }
        ));
    }
}

/// The human report.
pub fn render(r: &GapsReport, top: usize) -> String {
    let mut s = sources("dir", &r.dir);
    if let Some(a) = &r.against {
        s.push_str(&sources("against", a));
    }
    s.push_str(&format!(
        "\nHoles in dir (a step longer than 1.5 × {}), merged across series:\n",
        r.interval.map_or("the series' median step".into(), fmt_dur)
    ));
    merged(&mut s, &r.holes.merged, false);
    for g in r.holes.per_series.iter().take(top) {
        let v: Vec<String> = g
            .ranges
            .iter()
            .take(5)
            .map(|h| format!("{} (+{})", fmt_time(h.from), fmt_dur(h.to - h.from)))
            .collect();
        s.push_str(&format!(
            "    {}  every {}: {}\n",
            g.series,
            fmt_dur(g.interval),
            v.join(", ")
        ));
    }
    if let Some(m) = &r.missing {
        s.push_str("\nMissing in dir, present in against (the real loss), merged across series:\n");
        merged(&mut s, &m.merged, true);
        for g in m.per_series.iter().take(top) {
            let v: Vec<String> = g
                .ranges
                .iter()
                .take(5)
                .map(|x| {
                    format!(
                        "{} → {} ({} samples)",
                        fmt_time(x.from),
                        fmt_time(x.to),
                        x.samples
                    )
                })
                .collect();
            s.push_str(&format!("    {}: {}\n", g.series, v.join(", ")));
        }
        if m.per_series.len() > top {
            s.push_str(&format!(
                "    … {} more series (--top, --json)\n",
                m.per_series.len() - top
            ));
        }
    }
    if !r.dropped_labels.is_empty() {
        s.push_str(&format!(
            "\nLabels dropped from both sides before the join: {}\n",
            r.dropped_labels.join(", ")
        ));
    }
    s.push_str(&label_notes(r));
    s
}

/// The notes on label names only DIR's series carry, by name or per series.
fn label_notes(r: &GapsReport) -> String {
    let mut s = String::new();
    for l in &r.labels_only_in_dir {
        s.push_str(&format!(
            "\nNote: {} series of dir carry the label {}={} that no series of against has, so \
             none of them is joined with a series of against, whose samples count as missing. \
             Remote write adds a master's external_labels to every series it sends, while the \
             snapshot's blocks and the master's own data hold them without: if {} is one, \
             give --drop-label {} to join the two label sets.\n",
            l.series,
            l.name,
            super::quoted_values(&l.values),
            l.name,
            l.name
        ));
    }
    for l in &r.labels_added_in_dir {
        s.push_str(&format!(
            "\nNote: {} series of dir are a series of against with the label {}={} added, while \
             series of against carry {} themselves: remote write adds a master's external label \
             only to the series without the name, so these are joined with none of against's, \
             whose samples count as missing. If it is the master's external label, give \
             --drop-label {} (dropped from both sides, the series carrying their own {} \
             still join).\n",
            l.series,
            l.name,
            super::quoted_values(&l.values),
            l.name,
            l.name,
            l.name
        ));
    }
    s
}
