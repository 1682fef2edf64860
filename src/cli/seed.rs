//! `promsnap seed`: the thin layer over [`promsnap::seed`].

use std::io::Write;
use std::path::{Path, PathBuf};

use promsnap::gofmt::rfc3339_ms;
use promsnap::seed::{self, SeedOptions, SeedReport, StepStatus};
use serde::Serialize;

use super::Outcome;

/// Arguments of `promsnap seed`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exit codes: 0 seeded; 1 the snapshot is damaged, a block was refused, or the \
coverage could not be computed (see the steps); 2 usage, connection or I/O failure, or the \
admin API is off (nothing written).\n\nExample:\n  \
promsnap seed --from http://127.0.0.1:9090 --to /var/lib/prometheus-replica"
)]
pub struct SeedArgs {
    /// The primary Prometheus' URL: http://HOST:PORT[/route-prefix] (plain HTTP, loopback or LAN).
    #[arg(long, value_name = "URL")]
    pub from: String,
    /// The replica's data directory (created if missing).
    #[arg(long, value_name = "DIR")]
    pub to: PathBuf,
    /// Snapshot without the head block (the head's samples are then not in the seed).
    #[arg(long)]
    pub skip_head: bool,
    /// The primary's data directory as seen from here (default: its storage.tsdb.path flag).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// One JSON document on stdout (see the README's "seed JSON").
    #[arg(long)]
    pub json: bool,
}

/// The `--json` document: the library's report plus the command to run if
/// the replica is late.
#[derive(Serialize)]
struct Doc<'a> {
    #[serde(flatten)]
    report: &'a SeedReport,
    fill_command: String,
}

/// Quotes a path for a POSIX shell when it needs it.
pub(super) fn sh(p: &Path) -> String {
    let s = p.display().to_string();
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+:=@%,".contains(c))
    {
        s
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

fn fill_command(r: &SeedReport) -> String {
    format!("promsnap fill {} --from {}", sh(&r.to), sh(&r.fill_from))
}

/// Runs `seed`.
pub fn run(args: &SeedArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let mut opts = SeedOptions::new(&args.from, &args.to);
    opts.skip_head = args.skip_head;
    opts.data_dir = args.data_dir.clone();
    let report = seed::seed(&opts)?;
    if args.json {
        let doc = Doc {
            report: &report,
            fill_command: fill_command(&report),
        };
        serde_json::to_writer_pretty(&mut *out, &doc)?;
        writeln!(out)?;
    } else {
        out.write_all(render(&report).as_bytes())?;
    }
    Ok(if report.ok {
        Outcome::Ok
    } else {
        Outcome::Findings
    })
}

/// The human summary.
fn render(r: &SeedReport) -> String {
    let mut s = String::new();
    for st in &r.steps {
        let status = match st.status {
            StepStatus::Ok => "ok",
            StepStatus::Warning => "WARNING",
            StepStatus::Failed => "FAILED",
            StepStatus::Skipped => "skipped",
        };
        s.push_str(&format!("{:<9} {status:<8} {}\n", st.step, st.message));
    }
    if let Some(v) = &r.verify {
        for f in v.findings.iter().filter(|f| f.is_error()) {
            s.push_str(&format!(
                "  {} {} {}: {}\n",
                f.severity.label(),
                f.code,
                f.path.display(),
                f.message
            ));
        }
    }
    if let Some(c) = &r.copy {
        for b in c.refused.iter().chain(&c.failed) {
            for why in &b.reasons {
                s.push_str(&format!(
                    "  not copied {}: {} {}\n",
                    b.ulid, why.code, why.message
                ));
            }
        }
    }
    if let Some(h) = &r.skipped_head {
        s.push_str(&format!("skipped head: {}\n", h.why));
    }
    if let Some(c) = r.coverage_end {
        s.push_str(&format!(
            "coverage end (C_snap): {} — the replica accepts no older sample\n",
            rfc3339_ms(c)
        ));
    }
    if let Some(d) = &r.deadline {
        s.push_str(&format!(
            "deadline: the replica must be up and caught up before {} ({})\n",
            rfc3339_ms(d.at),
            d.why
        ));
        match (&r.snapshot, r.remote_write_since) {
            (_, Some(since)) => s.push_str(&format!(
                "  (the primary's configuration has remote_write: its queue is taken as reading \
                 since the primary started, {}, the earliest it can have; a replica added to \
                 remote_write later has a later deadline: `promsnap coverage` with --rw-start)\n",
                rfc3339_ms(since)
            )),
            (Some(snap), None) => s.push_str(&format!(
                "  (the deadline takes the primary's remote write to the replica as starting at \
                 the snapshot; if its remote_write already named the replica before, the reader \
                 stalled then and the deadline is earlier, or past: `promsnap coverage {} \
                 --master {} --rw-start T`, T when remote write was configured)\n",
                sh(&snap.path),
                sh(&r.fill_from)
            )),
            (None, None) => {}
        }
    }
    s.push_str(&format!("if it is late: {}\n", fill_command(r)));
    s.push_str(
        "  (with --drop-label NAME for each of the primary's external_labels when it \
         remote-writes to the replica: fill refuses otherwise and names them)\n",
    );
    if let Some(snap) = &r.snapshot {
        s.push_str(&format!(
            "the snapshot stays in {} (remove it once the replica runs)\n",
            snap.path.display()
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    #[test]
    fn shell_quoting() {
        assert_eq!(super::sh(Path::new("/var/lib/prom")), "/var/lib/prom");
        assert_eq!(super::sh(Path::new("/a b/c'd")), r"'/a b/c'\''d'");
    }
}
