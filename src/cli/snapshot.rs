//! `promsnap snapshot`: the admin API's snapshot, offline, from a data dir's files.

use std::io::Write;
use std::path::PathBuf;

use promsnap::coverage::fmt_time;
use promsnap::snapshot::{self, SnapshotOptions, SnapshotReport};

use super::Outcome;

/// Arguments of `promsnap snapshot`.
#[derive(Debug, clap::Args)]
pub struct SnapshotArgs {
    /// The Prometheus data directory (only read; may be in use by a running Prometheus).
    pub data_dir: PathBuf,
    /// The snapshot directory to create (must not exist, or be empty); name it
    /// `<YYYYMMDDTHHMMSSZ>-<16 hex>` as the admin API does.
    pub out: PathBuf,
    /// Leave the head out (the admin API's skip_head=true).
    #[arg(long)]
    pub skip_head: bool,
    /// One JSON document on stdout (format in the README).
    #[arg(long)]
    pub json: bool,
}

/// Runs `snapshot`.
pub fn run(args: &SnapshotArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let opts = SnapshotOptions {
        skip_head: args.skip_head,
    };
    let report = snapshot::snapshot(&args.data_dir, &args.out, &opts)?;
    if args.json {
        serde_json::to_writer_pretty(&mut *out, &report)?;
        writeln!(out)?;
    } else {
        out.write_all(render(&report).as_bytes())?;
    }
    for p in &report.problems {
        eprintln!("promsnap: {p}");
    }
    Ok(if report.problems.is_empty() {
        Outcome::Ok
    } else {
        Outcome::Findings
    })
}

fn range(min: Option<i64>, max: Option<i64>) -> String {
    match (min, max) {
        (Some(a), Some(b)) => format!("{} → {}", fmt_time(a), fmt_time(b)),
        _ => "meta.json unreadable".into(),
    }
}

/// The human report.
pub fn render(r: &SnapshotReport) -> String {
    let mut s = format!(
        "snapshot of {} in {}{}\n",
        r.data_dir.display(),
        r.out.display(),
        if r.prometheus_running {
            " (Prometheus running)"
        } else {
            ""
        }
    );
    for b in &r.blocks {
        s.push_str(&format!(
            "  block {}  {}  {}\n",
            b.ulid,
            range(b.min_time, b.max_time),
            match b.method {
                snapshot::Method::Link => "linked",
                snapshot::Method::Copy => "copied",
            }
        ));
    }
    match (&r.head_block, &r.head) {
        (Some(h), _) => s.push_str(&format!(
            "  head  {}  {} → {}  written: {} series, {} samples, {} chunks\n",
            h.ulid,
            fmt_time(h.min_time),
            fmt_time(h.max_time),
            h.series,
            h.samples,
            h.chunks
        )),
        (None, _) if r.skip_head => s.push_str("  head  left out (skip head)\n"),
        (None, Some(_)) => s.push_str("  head  empty: no head block\n"),
        (None, None) => s.push_str("  head  no wal/: no head block\n"),
    }
    if !r.snapshot_name {
        s.push_str(concat!(
            "note: OUT is not named <YYYYMMDDTHHMMSSZ>-<16 hex>: tools that ",
            "read the snapshot time from the name (coverage) will not find it\n"
        ));
    }
    for n in &r.notices {
        s.push_str(&format!("note: {n}\n"));
    }
    s
}
