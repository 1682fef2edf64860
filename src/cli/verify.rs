//! `promsnap verify`: the offline fsck.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use promsnap::check::{self, BlockCheck, CheckOptions, DirCheck, Finding, FindingCode, Tally};
use serde::Serialize;

use super::Outcome;

/// Arguments of `promsnap verify`.
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// Block, data or snapshot directories, or s3://BUCKET/PREFIX.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// One JSON document on stdout (format in the README).
    #[arg(long)]
    pub json: bool,
    /// Worker threads, 1 to 256 (default: all cores).
    #[arg(long, short = 'j', value_parser = super::flag::parse_jobs)]
    pub jobs: Option<usize>,
    /// Skip sample decoding: framing, structure and CRCs only.
    #[arg(long)]
    pub quick: bool,
    /// Report encodings a Prometheus of this version cannot read (e.g. 2.42).
    #[arg(long)]
    pub target_version: Option<String>,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub s3: super::s3::S3Args,
}

fn rel(path: &Path, root: &Path) -> String {
    path.strip_prefix(root)
        .ok()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(path)
        .display()
        .to_string()
}

/// Runs `verify`.
pub fn run(args: &VerifyArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    if let Some(j) = args.jobs {
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(j.max(1))
            .build_global();
    }
    let (results, unreadable) = check_paths(args);
    let failed: Vec<Finding> = unreadable
        .iter()
        .map(|(p, e)| {
            Finding::new(
                check::Severity::Error,
                FindingCode::PathUnreadable,
                p,
                e.clone(),
            )
        })
        .collect();
    let tally = total_tally(&failed, &results);
    if args.json {
        write_json(args, out, &failed, &results, &tally)?;
    } else {
        for f in &failed {
            line(out, &f.path, f)?;
        }
        for (root, r) in &results {
            write_dir_text(args, out, root, r)?;
        }
        writeln!(
            out,
            "summary: {} errors, {} warnings, {} infos",
            tally.errors, tally.warnings, tally.infos
        )?;
    }
    if let Some((_, e)) = unreadable.first() {
        out.flush()?;
        anyhow::bail!(
            "{} of {} paths could not be checked (the others were): {e}",
            unreadable.len(),
            args.paths.len(),
        );
    }
    // A PATH that is no block, data or snapshot directory at all (empty, a
    // wal/ or snapshots/ directory given by mistake) is a usage error.
    if let Some(f) = results
        .iter()
        .flat_map(|(_, r)| r.findings.iter())
        .find(|f| f.code == FindingCode::DirUnrecognised)
    {
        out.flush()?;
        anyhow::bail!("{}: {}", f.path.display(), f.message);
    }
    Ok(if tally.errors > 0 {
        Outcome::Findings
    } else {
        Outcome::Ok
    })
}

/// Each PATH checked and the ones that could not be read at all, with why.
type Checked = (Vec<(PathBuf, DirCheck)>, Vec<(PathBuf, String)>);

/// Checks every PATH. A path that cannot be read at all does not stop the
/// others: it is reported (a finding, and exit 2 at the end) after every
/// path is checked.
fn check_paths(args: &VerifyArgs) -> Checked {
    let opts = CheckOptions {
        quick: args.quick,
        target_version: args.target_version.clone(),
    };
    let mut results = Vec::new();
    let mut unreadable: Vec<(PathBuf, String)> = Vec::new();
    for p in &args.paths {
        let pb = progress_bar();
        let r = match super::s3::s3_arg(p) {
            Some(url) => super::s3::verify(url, &args.s3, &opts, &|_b| pb.inc(1)),
            None => check::dir::verify_dir_with(p, &opts, &|_b| pb.inc(1)),
        };
        pb.finish_and_clear();
        match r {
            Ok(r) => results.push((p.clone(), r)),
            Err(e) => unreadable.push((p.clone(), e.to_string())),
        }
    }
    (results, unreadable)
}

/// Every finding counted, also those past the first few of their code and
/// file (which only their group counts).
fn total_tally(failed: &[Finding], results: &[(PathBuf, DirCheck)]) -> Tally {
    let mut tally = Tally::of(failed);
    for (_, r) in results {
        let t = Tally::of(&r.findings);
        for b in &r.blocks {
            let bt = b.tally();
            tally.add(check::Severity::Error, bt.errors);
            tally.add(check::Severity::Warning, bt.warnings);
            tally.add(check::Severity::Info, bt.infos);
        }
        tally.add(check::Severity::Error, t.errors);
        tally.add(check::Severity::Warning, t.warnings);
        tally.add(check::Severity::Info, t.infos);
    }
    tally
}

/// Writes the `verify --json` document.
fn write_json(
    args: &VerifyArgs,
    out: &mut dyn Write,
    failed: &[Finding],
    results: &[(PathBuf, DirCheck)],
    tally: &Tally,
) -> anyhow::Result<()> {
    let findings: Vec<FindingJson> = failed
        .iter()
        .map(|f| (f.path.as_path(), f))
        .chain(
            results
                .iter()
                .flat_map(|(p, r)| r.all_findings().map(move |f| (p.as_path(), f))),
        )
        .map(|(root, f)| FindingJson {
            severity: f.severity,
            code: f.code,
            root,
            path: rel(&f.path, root),
            offset: f.offset,
            block: f.block.as_deref(),
            series: f.series.as_deref(),
            time_range: f.time_range,
            message: &f.message,
        })
        .collect();
    let blocks: Vec<BlockJson> = results
        .iter()
        .flat_map(|(root, r)| r.blocks.iter().map(move |b| BlockJson::of(root, b)))
        .collect();
    let groups: Vec<GroupJson> = results
        .iter()
        .flat_map(|(root, r)| {
            r.blocks.iter().flat_map(move |b| {
                b.finding_groups.iter().map(move |g| GroupJson {
                    severity: g.severity,
                    code: g.code,
                    root,
                    path: rel(&g.path, root),
                    block: g.block.as_deref(),
                    count: g.count,
                    listed: g.listed,
                    time_ranges: &g.time_ranges,
                    time_ranges_widened: g.time_ranges_widened,
                })
            })
        })
        .collect();
    let nblocks: usize = results.iter().map(|(_, r)| r.blocks.len()).sum();
    let bad = results
        .iter()
        .flat_map(|(_, r)| &r.blocks)
        .filter(|b| b.has_errors())
        .count();
    let startup: Vec<StartupJson> = results
        .iter()
        .map(|(root, r)| StartupJson {
            root,
            kind: r.layout.kind,
            live: r.live,
            verdict: r.startup(),
        })
        .collect();
    let doc = VerifyJson {
        ok: tally.errors == 0,
        startup,
        findings,
        finding_groups: groups,
        blocks,
        summary: SummaryJson {
            paths: &args.paths,
            blocks: nblocks,
            blocks_with_errors: bad,
            errors: tally.errors,
            warnings: tally.warnings,
            infos: tally.infos,
            quick: args.quick,
        },
    };
    // Through a `Value`, whose objects keep their keys sorted: the
    // document's key order is the one it always had.
    let doc = serde_json::to_value(&doc)?;
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)?;
    Ok(())
}

/// Writes the text report of one PATH: its kind, the startup verdict, its
/// own findings and each block's.
fn write_dir_text(
    args: &VerifyArgs,
    out: &mut dyn Write,
    root: &Path,
    r: &DirCheck,
) -> std::io::Result<()> {
    writeln!(
        out,
        "{} ({:?}, {} blocks)",
        root.display(),
        r.layout.kind,
        r.blocks.len()
    )?;
    // No verdict for a directory that is none Prometheus would open as
    // its storage (the error line says what it is instead).
    let unrecognised = r
        .findings
        .iter()
        .any(|f| f.code == FindingCode::DirUnrecognised);
    if r.layout.kind != promsnap::layout::DirKind::Block && !unrecognised {
        let who = if r.live {
            " (live: a running Prometheus uses this directory)"
        } else if super::s3::s3_arg(root).is_some() {
            " (once these blocks are restored into an empty data directory)"
        } else {
            ""
        };
        writeln!(out, "VERDICT {}{who}", r.startup().sentence())?;
    }
    for f in &r.findings {
        line(out, root, f)?;
    }
    for b in &r.blocks {
        write_block_text(args, out, root, b)?;
    }
    Ok(())
}

/// Writes one block's line, its findings and its finding groups.
fn write_block_text(
    args: &VerifyArgs,
    out: &mut dyn Write,
    root: &Path,
    b: &BlockCheck,
) -> std::io::Result<()> {
    let t = b.tally();
    let c = &b.counts;
    let state = match b.status() {
        "ok" => "OK".to_string(),
        _ => format!("{} errors, {} warnings", t.errors, t.warnings),
    };
    writeln!(
        out,
        "BLOCK {}  {state}  ({} series, {} chunks, {} samples{})",
        b.ulid,
        c.series,
        c.chunks,
        c.samples,
        if args.quick {
            ", samples not decoded"
        } else {
            ""
        }
    )?;
    for f in &b.findings {
        line(out, root, f)?;
    }
    for g in &b.finding_groups {
        let ranges: Vec<String> = g
            .time_ranges
            .iter()
            .take(3)
            .map(|&[a, b]| promsnap::vocab::range(a, b))
            .collect();
        let more = if g.time_ranges.len() > 3 { ", ..." } else { "" };
        writeln!(
            out,
            "{} {} {}: {} more not listed ({} in all){}",
            g.severity.label(),
            g.code,
            rel(&g.path, root),
            g.count - g.listed,
            g.count,
            if ranges.is_empty() {
                String::new()
            } else {
                format!(" [loses {}{more}]", ranges.join(", "))
            }
        )?;
    }
    Ok(())
}

fn line(out: &mut dyn Write, root: &Path, f: &Finding) -> std::io::Result<()> {
    let at = f.offset.map(|o| format!("@{o}")).unwrap_or_default();
    let series = f
        .series
        .as_ref()
        .map(|s| format!(" [series {s}]"))
        .unwrap_or_default();
    let range = f
        .time_range
        .map(|[a, b]| format!(" [loses {}]", promsnap::vocab::range(a, b)))
        .unwrap_or_default();
    writeln!(
        out,
        "{} {} {}{at}: {}{series}{range}",
        f.severity.label(),
        f.code,
        rel(&f.path, root),
        f.message
    )
}

fn progress_bar() -> indicatif::ProgressBar {
    if std::io::stderr().is_terminal() {
        let pb = indicatif::ProgressBar::new_spinner();
        pb.set_message("verifying blocks");
        pb
    } else {
        indicatif::ProgressBar::hidden()
    }
}

/// The `verify --json` document (README "`verify` output").
#[derive(Serialize)]
struct VerifyJson<'a> {
    ok: bool,
    startup: Vec<StartupJson<'a>>,
    findings: Vec<FindingJson<'a>>,
    finding_groups: Vec<GroupJson<'a>>,
    blocks: Vec<BlockJson<'a>>,
    summary: SummaryJson<'a>,
}

/// One finding, its path relative to the PATH (`root`) it was found under.
#[derive(Serialize)]
struct FindingJson<'a> {
    severity: check::Severity,
    code: FindingCode,
    root: &'a Path,
    path: String,
    offset: Option<u64>,
    block: Option<&'a str>,
    series: Option<&'a str>,
    time_range: Option<[i64; 2]>,
    message: &'a str,
}

/// The findings of one code in one file past the listed ones.
#[derive(Serialize)]
struct GroupJson<'a> {
    severity: check::Severity,
    code: FindingCode,
    root: &'a Path,
    path: String,
    block: Option<&'a str>,
    count: u64,
    listed: u64,
    time_ranges: &'a [[i64; 2]],
    time_ranges_widened: bool,
}

/// One block and its counts.
#[derive(Serialize)]
struct BlockJson<'a> {
    ulid: &'a str,
    root: &'a Path,
    path: String,
    status: &'static str,
    min_time: Option<i64>,
    max_time: Option<i64>,
    errors: u64,
    warnings: u64,
    counts: &'a check::block::Counts,
}

impl<'a> BlockJson<'a> {
    fn of(root: &'a Path, b: &'a BlockCheck) -> Self {
        let t = b.tally();
        BlockJson {
            ulid: &b.ulid,
            root,
            path: rel(&b.dir, root),
            status: b.status(),
            min_time: b.meta.as_ref().map(|m| m.min_time),
            max_time: b.meta.as_ref().map(|m| m.max_time),
            errors: t.errors,
            warnings: t.warnings,
            counts: &b.counts,
        }
    }
}

/// Prometheus' startup on one PATH.
#[derive(Serialize)]
struct StartupJson<'a> {
    root: &'a Path,
    kind: promsnap::layout::DirKind,
    live: bool,
    #[serde(flatten)]
    verdict: check::verdict::Startup,
}

/// The totals.
#[derive(Serialize)]
struct SummaryJson<'a> {
    paths: &'a [PathBuf],
    blocks: usize,
    blocks_with_errors: usize,
    errors: u64,
    warnings: u64,
    infos: u64,
    quick: bool,
}
