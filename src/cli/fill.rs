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
    /// Join TARGET's series with SOURCE's ignoring this label name (a
    /// master's external_labels, which remote write adds to the replica's
    /// series); a sample is written under the label set the replica uses at
    /// its time. Repeat for several.
    #[arg(long = "drop-label")]
    pub drop_labels: Vec<String>,
    /// Join by exact label sets even when TARGET's series carry labels that
    /// SOURCE's lack (else fill refuses, exit 2, nothing written).
    #[arg(long)]
    pub exact_labels: bool,
    /// One JSON document on stdout (format in the README).
    #[arg(long)]
    pub json: bool,
}

/// Runs `fill`.
pub fn run(args: &FillArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let mut opts = FillOptions {
        dry_run: args.dry_run,
        drop_labels: args.drop_labels.clone(),
        exact_labels: args.exact_labels,
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
    let report =
        fill::fill(&args.target, &args.from, &opts).map_err(|e| own_label_hint(e, args))?;
    if args.json {
        serde_json::to_writer_pretty(&mut *out, &report)?;
        writeln!(out)?;
    } else {
        out.write_all(render(&report).as_bytes())?;
    }
    for e in &report.errors {
        eprintln!("promsnap: {e}");
    }
    if report.refused {
        // The report is printed (JSON consumers get `refused` and
        // `labels_only_in_target`); the error says what to give.
        anyhow::bail!("{}", refusal(&report));
    }
    Ok(if report.errors.is_empty() {
        Outcome::Ok
    } else {
        Outcome::Findings
    })
}

/// A dropped label that SOURCE's own series carry: the library says why and
/// what to do; this names the two runs' flags.
fn own_label_hint(e: promsnap::error::Error, args: &FillArgs) -> anyhow::Error {
    use promsnap::error::Error;
    match e {
        Error::BadOption { option, message } if option == "drop_labels" => {
            let n = match args.drop_labels.as_slice() {
                [one] => one.as_str(),
                _ => "NAME",
            };
            anyhow::Error::from(Error::bad_option(
                option,
                format!(
                    "{message}: `--drop-label {n} --match '{{{n}!=\"VALUE\"}}'`, then `--match \
                     '{{{n}=\"VALUE\"}}'` without --drop-label, VALUE the series' own value \
                     named above (`!~\"V1|V2\"` and `=~\"V1|V2\"` for several; the master's \
                     external label must have another)"
                ),
            ))
        }
        e => anyhow::Error::from(e),
    }
}

/// `"name"="v1"|"v2"` of the label names only TARGET's series carry.
fn only_in_target(r: &FillReport) -> String {
    named(&r.labels_only_in_target)
}

/// `"name"="v1"|"v2" (N series)` of TARGET's label names in `l`.
fn named(l: &[promsnap::fill::LabelOnlyInDir]) -> String {
    l.iter()
        .map(|l| {
            format!(
                "{}={} ({} series)",
                l.name,
                super::quoted_values(&l.values),
                l.series
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Why nothing was written, and the flags that say what to do.
fn refusal(r: &FillReport) -> String {
    if r.labels_only_in_target.is_empty() {
        let names: Vec<String> = r
            .labels_added_in_target
            .iter()
            .map(|l| format!("--drop-label {}", l.name))
            .collect();
        return format!(
            "nothing written: the target's series carry {} on top of a source series' whole \
             label set, while source series carry that name themselves. Remote write adds a \
             master's external_labels only to the series without the name: joined by exact \
             label set, every sample after the seeding would be written a second time under the \
             source's label set. If it is the master's external label, give {} (fill then names \
             the source's own values and the two runs to give); --exact-labels writes by exact \
             label set anyway",
            named(&r.labels_added_in_target),
            names.join(" ")
        );
    }
    let names: Vec<&str> = r
        .labels_only_in_target
        .iter()
        .map(|l| l.name.as_str())
        .collect();
    format!(
        "nothing written: the target's series carry {} that no series of the source has. \
         Remote write adds a master's external_labels to every series it sends, while the \
         seeded blocks and the master's own data hold them without: joined by exact label \
         set, every sample after the seeding would look missing and be written a second time \
         under a second series (sum() and count() doubled). If {} the master's \
         external_labels, give {}; --exact-labels writes by exact label set anyway",
        only_in_target(r),
        if names.len() == 1 {
            "it is"
        } else {
            "they are"
        },
        names
            .iter()
            .map(|n| format!("--drop-label {n}"))
            .collect::<Vec<_>>()
            .join(" ")
    )
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
    if !r.dropped_labels.is_empty() {
        s.push_str(&format!(
            "joined without the label(s) {}: {} samples of {} series {} under the \
             target's label set that carries them\n",
            r.dropped_labels.join(", "),
            r.target_labels_samples,
            r.target_labels_series,
            if r.dry_run {
                "would be written"
            } else {
                "written"
            }
        ));
    }
    if r.refused {
        s.push_str("refused: nothing written (see the error)\n");
        return s;
    }
    if !r.labels_only_in_target.is_empty() {
        s.push_str(&format!(
            "warning: joined by exact label set although the target's series carry {}\n",
            only_in_target(r)
        ));
    }
    if !r.labels_added_in_target.is_empty() {
        s.push_str(&format!(
            "warning: joined by exact label set although the target's series carry {} on top \
             of a source series' label set\n",
            named(&r.labels_added_in_target)
        ));
    }
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
