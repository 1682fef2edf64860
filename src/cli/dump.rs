//! `promsnap dump`.

use std::io::Write;
use std::path::PathBuf;

use promsnap::dump::{self, DumpFormat, DumpOptions};
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
    /// One JSON document: {"series":[{"labels":{..},"samples":[[t_ms,value],..]},..],
    /// "errors":[..]}; NaN, ±Inf and stale markers as strings (README: dump JSON).
    #[arg(long)]
    pub json: bool,
}

/// Runs `dump`.
pub fn run(args: &DumpArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    super::time::check_range("--min-time", args.min_time, "--max-time", args.max_time)?;
    let mut opts = DumpOptions {
        floats_only: args.floats_only,
        format: if args.json {
            DumpFormat::Json
        } else {
            DumpFormat::Text
        },
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
    for line in aggregate(&report.errors) {
        eprintln!("promsnap: {line}");
    }
    Ok(if !report.errors.is_empty() {
        Outcome::Findings
    } else {
        Outcome::Ok
    })
}

/// One line per kind of error: messages equal once their numbers are blanked
/// out (the same damage met at each chunk: an empty `chunks/` gives one per
/// chunk) are printed once, the first with its numbers, and counted.
fn aggregate(errors: &[String]) -> Vec<String> {
    let shape = |m: &str| -> String {
        let mut out = String::with_capacity(m.len());
        let mut in_num = false;
        for c in m.chars() {
            if c.is_ascii_digit() {
                if !in_num {
                    out.push('#');
                }
                in_num = true;
            } else {
                in_num = false;
                out.push(c);
            }
        }
        out
    };
    let mut order: Vec<(String, &str, usize)> = Vec::new();
    let mut at: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for e in errors {
        let k = shape(e);
        match at.get(&k) {
            Some(&i) => {
                if let Some(o) = order.get_mut(i) {
                    o.2 += 1;
                }
            }
            None => {
                at.insert(k.clone(), order.len());
                order.push((k, e, 1));
            }
        }
    }
    order
        .into_iter()
        .map(|(_, first, n)| {
            if n == 1 {
                first.to_string()
            } else {
                format!("{first} (and {} more like it: {n} in all)", n - 1)
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn same_error_at_each_chunk_is_one_line() {
        let errs: Vec<String> = (0..2000)
            .map(|i| {
                format!(
                    "d/chunks: chunk reference segment at offset {} points to 0, outside \
                              the 0 bytes available",
                    8 + i * 861
                )
            })
            .chain(["d/index: other damage".to_string()])
            .collect();
        let lines = super::aggregate(&errs);
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(
            lines[0].contains("offset 8 points")
                && lines[0].ends_with("(and 1999 more like it: 2000 in all)")
        );
        assert_eq!(lines[1], "d/index: other damage");
    }
}
