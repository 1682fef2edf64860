//! `promsnap ls`.

use std::io::Write;
use std::path::PathBuf;

use promsnap::list::{self, BlockEntry};
use promsnap::{gofmt, vocab};

use super::{Outcome, table};

/// Arguments of `promsnap ls`.
#[derive(Debug, clap::Args)]
pub struct LsArgs {
    /// Block, data or snapshot directory, or s3://BUCKET/PREFIX.
    pub path: PathBuf,
    /// Human-readable times and sizes, as `promtool tsdb list -r` (Go's
    /// `2026-11-25 09:03:52 +0000 UTC`, byte-identical to promtool).
    #[arg(short = 'r', long = "human-readable")]
    pub human_readable: bool,
    /// Times in promsnap's human format (RFC 3339 UTC with milliseconds,
    /// as every other command writes them) and sizes in KiB/MiB/GiB.
    #[arg(long, conflicts_with = "human_readable")]
    pub human: bool,
    /// One JSON document on stdout.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub s3: super::s3::S3Args,
}

/// Runs `ls`.
pub fn run(args: &LsArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let (listing, marks) = match super::s3::s3_arg(&args.path) {
        Some(url) => super::s3::ls(url, &args.s3)?,
        None => (list::list(&args.path)?, Vec::new()),
    };
    let failed = listing.blocks.iter().any(|b| b.error.is_some());
    if args.json {
        let mut doc = serde_json::to_value(&listing)?;
        if let Some(o) = doc.as_object_mut().filter(|_| !marks.is_empty()) {
            let m: Vec<_> = marks
                .iter()
                .map(|(u, f)| serde_json::json!({"ulid": u, "marker": f}))
                .collect();
            o.insert("markers".into(), m.into());
        }
        serde_json::to_writer_pretty(&mut *out, &doc)?;
        writeln!(out)?;
    } else {
        let style = if args.human {
            Style::Human
        } else if args.human_readable {
            Style::Promtool
        } else {
            Style::Raw
        };
        out.write_all(render(&listing.blocks, style).as_bytes())?;
        for (u, f) in &marks {
            writeln!(out, "marker {u} {f}")?;
        }
        for b in &listing.blocks {
            if let Some(e) = &b.error {
                eprintln!("promsnap: block {} unreadable: {e}", b.dir.display());
            }
        }
    }
    Ok(if failed {
        Outcome::Findings
    } else {
        Outcome::Ok
    })
}

/// How the table writes times and sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Unix ms and bytes: `promtool tsdb list`, byte for byte.
    Raw,
    /// Go's time and size formats: `promtool tsdb list -r`, byte for byte.
    Promtool,
    /// promsnap's human format: RFC 3339 UTC with ms, sizes in KiB/MiB/GiB.
    Human,
}

/// The table: promtool's eight columns, then LEVEL and NOTE.
pub fn render(blocks: &[BlockEntry], style: Style) -> String {
    let mut rows = vec![
        [
            "BLOCK ULID",
            "MIN TIME",
            "MAX TIME",
            "DURATION",
            "NUM SAMPLES",
            "NUM CHUNKS",
            "NUM SERIES",
            "SIZE",
            "LEVEL",
            "NOTE",
        ]
        .map(String::from)
        .to_vec(),
    ];
    let time = |t: i64| match style {
        Style::Raw => t.to_string(),
        Style::Promtool => gofmt::utc_seconds(t),
        Style::Human => vocab::time(t),
    };
    for b in blocks {
        let size = match style {
            Style::Raw => b.size.to_string(),
            Style::Promtool => gofmt::base2_bytes(b.size as i64),
            Style::Human => vocab::size(b.size),
        };
        let row = match (b.min_time, b.max_time, &b.error) {
            (Some(min), Some(max), None) => vec![
                b.ulid.clone(),
                time(min),
                time(max),
                gofmt::duration_ms(max.saturating_sub(min)),
                b.num_samples.unwrap_or(0).to_string(),
                b.num_chunks.unwrap_or(0).to_string(),
                b.num_series.unwrap_or(0).to_string(),
                size,
                b.level.unwrap_or(0).to_string(),
                if b.snapshot_head {
                    "snapshot head block".into()
                } else {
                    String::new()
                },
            ],
            _ => {
                let mut r = vec![b.ulid.clone()];
                r.extend(std::iter::repeat_n("?".to_string(), 6));
                r.push(size);
                r.push("?".into());
                r.push(format!("UNREADABLE: {}", b.error.as_deref().unwrap_or("")));
                r
            }
        };
        rows.push(row);
    }
    let s = table::render(&rows, 13, 2);
    // No trailing spaces when the last column is empty.
    s.lines().map(|l| format!("{}\n", l.trim_end())).collect()
}
