//! `promsnap copy`: the thin layer over [`promsnap::copy`].

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use promsnap::check::CheckOptions;
use promsnap::copy::{self, BlockReport, CopyOptions, CopyReport, Progress, Reason};
use promsnap::vocab;

use super::Outcome;
use super::time::{parse_duration, parse_time};

/// Arguments of `promsnap copy`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exit codes: 0 every selected block copied or already present; \
1 some block refused (damaged or hazardous); 2 usage or I/O failure.\n\nExample:\n  \
promsnap copy --dry-run testdata/prom-2.42-live/data/snapshots/20261125T091234Z-788eafc011a10c98 \
/tmp/seeded\n  \
promsnap copy --retention 30d /var/lib/prometheus/snapshots/SNAP /var/lib/prometheus-replica"
)]
pub struct CopyArgs {
    /// Source: a snapshot, data or block directory, or s3://BUCKET/PREFIX (restore, or
    /// a bucket-to-bucket copy when the target is one too).
    pub src: PathBuf,
    /// Target Prometheus data directory (created if missing), or
    /// s3://BUCKET/PREFIX (upload in the Thanos/Mimir layout).
    pub dst: PathBuf,
    /// Parallel workers, 1 to 256 (default: one per core).
    #[arg(short = 'j', long, value_parser = super::flag::parse_jobs)]
    pub jobs: Option<usize>,
    /// Plan and verify only: print what would be copied, skipped and refused.
    #[arg(long)]
    pub dry_run: bool,
    /// Hard-link files instead of copying when on the same filesystem.
    #[arg(long)]
    pub link: bool,
    /// Only blocks reaching at or after this time (RFC 3339 or Unix ms).
    #[arg(long, value_parser = parse_time, allow_hyphen_values = true)]
    pub min_time: Option<i64>,
    /// Only blocks starting at or before this time (RFC 3339 or Unix ms).
    #[arg(long, value_parser = parse_time, allow_hyphen_values = true)]
    pub max_time: Option<i64>,
    /// Only this block (repeatable).
    #[arg(long = "block", value_name = "ULID")]
    pub blocks: Vec<String>,
    /// Copy blocks that overlap target blocks or the target's head
    /// (Prometheus merges them by vertical compaction).
    #[arg(long)]
    pub allow_overlap: bool,
    /// The target Prometheus' --storage.tsdb.retention.time (default 15d,
    /// unless --retention-size is given: then none, as in Prometheus).
    #[arg(long, value_parser = parse_duration)]
    pub retention: Option<i64>,
    /// The target Prometheus' --storage.tsdb.retention.size: B, KB, MB, GB,
    /// TB, PB, EB, powers of 1024 (e.g. 512MB). Blocks its size retention
    /// would delete at once are refused.
    #[arg(
        long,
        value_name = "BYTES",
        value_parser = super::time::parse_bytes,
        allow_hyphen_values = true
    )]
    pub retention_size: Option<u64>,
    /// How to verify each source block before it lands: `full` (every
    /// checksum, every structural invariant, every sample decoded), `quick`
    /// (checksums and structure, no sample decoding) or `none` (the source
    /// was verified already; each copied file is still compared with it).
    #[arg(long, value_enum, default_value_t = VerifyLevel::Full)]
    pub verify: VerifyLevel,
    /// Re-read every copied file from the storage device, not the page cache
    /// (slower; also catches a device returning wrong bytes).
    #[arg(long)]
    pub reread_from_disk: bool,
    /// One JSON document on stdout (see the README's "copy JSON format").
    #[arg(long)]
    pub json: bool,
    /// Uploads: an external label written into meta.json's thanos.labels
    /// (NAME=VALUE, repeatable).
    #[arg(long = "external-label", value_name = "NAME=VALUE")]
    pub external_labels: Vec<String>,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub s3: super::s3::S3Args,
}

/// How much of the source `copy` verifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum VerifyLevel {
    /// Everything `promsnap verify` checks.
    Full,
    /// `promsnap verify --quick`.
    Quick,
    /// Nothing.
    None,
}

struct Bar(ProgressBar);

impl Progress for Bar {
    fn bytes(&self, n: u64) {
        self.0.inc(n);
    }
    fn block_done(&self, _: &str) {}
}

/// The library's options from the flags.
pub(super) fn copy_options(args: &CopyArgs) -> CopyOptions {
    CopyOptions {
        jobs: args.jobs.unwrap_or(0),
        link: args.link,
        min_time: args.min_time,
        max_time: args.max_time,
        blocks: args.blocks.clone(),
        allow_overlap: args.allow_overlap,
        retention: args.retention,
        retention_size: args.retention_size,
        check: CheckOptions {
            quick: args.verify == VerifyLevel::Quick,
            ..CheckOptions::default()
        },
        skip_verify: args.verify == VerifyLevel::None,
        reread_from_device: args.reread_from_disk,
    }
}

/// When someone watches (`attended`): the plan in one line on stderr and a
/// progress bar over the bytes to copy; otherwise a hidden bar.
fn plan_bar(plan: &copy::CopyPlan, attended: bool) -> Bar {
    if attended {
        let n = |a: copy::Action| plan.blocks.iter().filter(|b| b.action == a).count();
        eprintln!(
            "plan: {} to copy ({}{}), {} already present, {} refused; verifying and copying",
            n(copy::Action::Copy),
            promsnap::vocab::size(plan.bytes_to_copy()),
            if plan.link { ", hard links" } else { "" },
            n(copy::Action::Skip),
            n(copy::Action::Refuse)
        );
    }
    let bar = if attended {
        let b =
            ProgressBar::with_draw_target(Some(plan.bytes_to_copy()), ProgressDrawTarget::stderr());
        b.set_style(
            ProgressStyle::with_template(
                "{bar:30} {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        b
    } else {
        ProgressBar::hidden()
    };
    Bar(bar)
}

/// Runs `copy`.
pub fn run(args: &CopyArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    if let Some(o) = super::s3::copy(args, out)? {
        return Ok(o);
    }
    let started = Instant::now();
    super::time::check_range("--min-time", args.min_time, "--max-time", args.max_time)?;
    let opts = copy_options(args);
    // The library's errors already name the path and the OS error; printed
    // once (not again as anyhow's cause chain).
    let plain = anyhow::Error::from;
    let mut plan = copy::plan(&args.src, &args.dst, &opts).map_err(plain)?;
    let report = if args.dry_run {
        copy::verify_sources(&mut plan, &opts);
        CopyReport::from_plan(&plan, started)
    } else {
        let attended = !args.json && std::io::stderr().is_terminal();
        let bar = plan_bar(&plan, attended);
        // execute() verifies each block right before copying it, so
        // verification and copying of different blocks overlap.
        let r = copy::execute_replanning(&plan, &args.src, &args.dst, &opts, &bar);
        bar.0.finish_and_clear();
        let mut r = r.map_err(plain)?;
        r.duration_ms = started.elapsed().as_millis() as u64;
        r
    };
    if args.json {
        serde_json::to_writer_pretty(&mut *out, &report)?;
        writeln!(out)?;
    } else {
        out.write_all(render(&report).as_bytes())?;
    }
    if !report.failed.is_empty() {
        anyhow::bail!(
            concat!(
                "{} block(s) could not be copied (I/O errors above); nothing ",
                "half-written is visible in {}"
            ),
            report.failed.len(),
            report.dst.display()
        );
    }
    let incomplete = report
        .notices
        .iter()
        .any(|n| n.code == copy::SNAPSHOT_INCOMPLETE);
    Ok(if report.refused.is_empty() && !incomplete {
        Outcome::Ok
    } else {
        Outcome::Findings
    })
}

fn range(b: &BlockReport) -> String {
    match (b.min_time, b.max_time) {
        (Some(a), Some(z)) => format!(
            "[{}, {}) ({})",
            vocab::time(a),
            vocab::time(z),
            vocab::duration(z.saturating_sub(a))
        ),
        _ => "[?, ?)".into(),
    }
}

fn reasons(s: &mut String, label: &str, rs: &[Reason]) {
    for r in rs {
        let m = super::flag::with_reason_flag(r.code, &r.message);
        s.push_str(&format!("    {label} {}: {m}\n", r.code));
    }
}

/// The human summary.
pub fn render(r: &CopyReport) -> String {
    let mut s = String::new();
    let verb = if r.dry_run { "would copy" } else { "copied" };
    for n in &r.notices {
        let m = super::flag::with_reason_flag(n.code, &n.message);
        s.push_str(&format!("notice {}: {m}\n", n.code));
    }
    let mut rows: Vec<(&str, &BlockReport)> = Vec::new();
    rows.extend(r.copied.iter().map(|b| (verb, b)));
    rows.extend(r.skipped.iter().map(|b| ("skipped", b)));
    rows.extend(r.refused.iter().map(|b| ("REFUSED", b)));
    rows.extend(r.failed.iter().map(|b| ("FAILED", b)));
    rows.sort_by_key(|(_, b)| (b.min_time, b.ulid.clone()));
    for (what, b) in rows {
        let how = b.method.map(|m| format!(" ({m})")).unwrap_or_default();
        s.push_str(&format!(
            "{what:<10} {} {} {}{how}\n",
            b.ulid,
            range(b),
            promsnap::vocab::size(b.bytes)
        ));
        let label = if what == "skipped" {
            "because"
        } else {
            "reason"
        };
        reasons(&mut s, label, &b.reasons);
        reasons(&mut s, "warning", &b.warnings);
    }
    let bytes = if r.dry_run { r.bytes_planned } else { r.bytes };
    s.push_str(&format!(
        "{} {} ({}{}), {} skipped, {} refused{}{} in {:.2}s\n",
        r.copied.len(),
        verb,
        promsnap::vocab::size(bytes),
        if r.link { ", hard links" } else { "" },
        r.skipped.len(),
        r.refused.len(),
        if r.failed.is_empty() {
            String::new()
        } else {
            format!(", {} failed", r.failed.len())
        },
        if r.excluded > 0 {
            format!(", {} not selected", r.excluded)
        } else {
            String::new()
        },
        r.duration_ms as f64 / 1000.0
    ));
    s
}
