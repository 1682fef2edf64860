//! `promsnap dump`.

use std::io::Write;
use std::path::PathBuf;

use promsnap::dump::{self, DumpOptions};
use promsnap::selector;

use super::Outcome;
use super::time::parse_time;

/// Arguments of `promsnap dump`.
#[derive(Debug, clap::Args)]
pub struct DumpArgs {
    /// Block, data or snapshot directory.
    pub path: PathBuf,
    /// Only samples at or after this time (RFC 3339 or Unix ms).
    #[arg(long, value_parser = parse_time, allow_hyphen_values = true)]
    pub min_time: Option<i64>,
    /// Only samples at or before this time (RFC 3339 or Unix ms).
    #[arg(long, value_parser = parse_time, allow_hyphen_values = true)]
    pub max_time: Option<i64>,
    /// Series selector, e.g. 'up{job="node"}'; repeat to print the union.
    #[arg(long = "match")]
    pub matches: Vec<String>,
    /// Float samples only, each series stopping at its first histogram sample:
    /// exactly what promtool 2.42 prints.
    #[arg(long)]
    pub floats_only: bool,
}

/// Runs `dump`.
pub fn run(args: &DumpArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    super::time::check_range("--min-time", args.min_time, "--max-time", args.max_time)?;
    let mut opts = DumpOptions {
        floats_only: args.floats_only,
        ..DumpOptions::default()
    };
    if let Some(t) = args.min_time {
        opts.min_time = t;
    }
    if let Some(t) = args.max_time {
        opts.max_time = t;
    }
    for m in &args.matches {
        opts.selectors
            .push(selector::parse(m).map_err(anyhow::Error::msg)?);
    }
    let report = dump::dump_path(&args.path, &opts, out)?;
    for e in &report.errors {
        eprintln!("promsnap: {e}");
    }
    Ok(if !report.errors.is_empty() {
        Outcome::Findings
    } else {
        Outcome::Ok
    })
}
