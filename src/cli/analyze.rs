//! `promsnap analyze`.

use std::io::Write;
use std::path::PathBuf;

use promsnap::analyze::{self, AnalyzeOptions};
use promsnap::selector;

use super::Outcome;

/// Arguments of `promsnap analyze`.
#[derive(Debug, clap::Args)]
pub struct AnalyzeArgs {
    /// Block, data or snapshot directory.
    pub path: PathBuf,
    /// ULID of the block to analyze; default: the last block by minTime, as promtool picks it.
    pub block: Option<String>,
    /// How many entries each ranked list shows.
    #[arg(long, default_value_t = analyze::DEFAULT_LIMIT)]
    pub limit: usize,
    /// Restrict the analysis to series matching this selector (not in promtool 2.42);
    /// repeat for a union.
    #[arg(long = "match")]
    pub matches: Vec<String>,
    /// Also analyze chunks: the fullness histogram (and, in JSON, samples and bytes
    /// per float and histogram chunk).
    #[arg(long)]
    pub extended: bool,
    /// One JSON document on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Runs `analyze`.
pub fn run(args: &AnalyzeArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let mut opts = AnalyzeOptions {
        limit: args.limit,
        extended: args.extended,
        ..AnalyzeOptions::default()
    };
    for m in &args.matches {
        opts.selectors
            .push(selector::parse(m).map_err(anyhow::Error::msg)?);
    }
    let dir = analyze::choose_block(&args.path, args.block.as_deref())?;
    let a = analyze::analyze_block(&dir, &opts)?;
    if args.json {
        serde_json::to_writer_pretty(&mut *out, &a)?;
        writeln!(out)?;
    } else {
        out.write_all(analyze::render(&a).as_bytes())?;
    }
    Ok(Outcome::Ok)
}
