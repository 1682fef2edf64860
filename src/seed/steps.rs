//! The steps of [`super::seed`], one function each (see the module doc of
//! [`super`] for what each does and why).

use std::path::{Path, PathBuf};
use std::time::Instant;

use super::api::{Api, call, now_ms};
use super::http::Url;
use super::paths::{absolute, normalize};
use super::{
    SeedError, SeedOptions, SeedReport, SkippedHead, SnapshotTaken, StepStatus, VerifySummary,
};
use crate::check::{self, Tally};
use crate::copy::{self, CopyOptions};
use crate::coverage::{self, CoverageOptions, CoverageReport};

/// What the `flags` step learns of the primary.
#[derive(Debug)]
pub(super) struct Primary {
    /// The primary's data directory as seen from here.
    pub(super) data_dir: PathBuf,
    /// The same, absolute and normalized.
    pub(super) abs_data: PathBuf,
    /// `flags` (its `storage.tsdb.path`) or `given`.
    pub(super) source: &'static str,
    /// Its `storage.tsdb.path` flag.
    flag_path: Option<PathBuf>,
    /// Its `storage.tsdb.min-block-duration` (ms).
    pub(super) block_range: Option<i64>,
    /// With a `remote_write` section in its configuration: its start
    /// (`/api/v1/status/runtimeinfo` `startTime`, ms), the earliest its
    /// remote-write queues can have started.
    pub(super) remote_write_since: Option<i64>,
}

impl Primary {
    /// The `flags` step's message.
    pub(super) fn describe(&self) -> String {
        match (&self.flag_path, self.source) {
            (Some(p), "given") if p != &self.data_dir => format!(
                "a Prometheus; its storage.tsdb.path {} is {} as seen from here (given)",
                p.display(),
                self.data_dir.display()
            ),
            _ => format!("a Prometheus with its data in {}", self.data_dir.display()),
        }
    }
}

/// Step 1: asks the flags, finds the primary's data directory and checks
/// the replica's directory against it.
pub(super) fn primary(url: &Url, opts: &SeedOptions) -> Result<Primary, SeedError> {
    let flags_url = url.join("/api/v1/status/flags");
    let flags = match call(
        url,
        "GET",
        "/api/v1/status/flags",
        opts.read_timeout,
        opts.connect_timeout,
    )? {
        Api::Success(d) => d,
        Api::Error { status, message } => {
            return Err(SeedError::NotPrometheus {
                url: flags_url,
                message: format!("HTTP {status}: {message}"),
            });
        }
    };
    let flag_path = flags
        .get("storage.tsdb.path")
        .and_then(|v| v.as_str())
        .map(PathBuf::from);
    // The primary's block range, a fact the coverage would otherwise infer.
    let block_range = flags
        .get("storage.tsdb.min-block-duration")
        .and_then(|v| v.as_str())
        .and_then(crate::vocab::parse_duration)
        .filter(|&d| d > 0);
    let (data_dir, source) = match (&opts.data_dir, &flag_path) {
        (Some(d), _) => (d.clone(), "given"),
        (None, Some(p)) => (p.clone(), "flags"),
        (None, None) => {
            return Err(SeedError::NotPrometheus {
                url: flags_url,
                message: concat!(
                    "no storage.tsdb.path among the flags (an agent-mode Prometheus ",
                    "has no TSDB to snapshot)"
                )
                .into(),
            });
        }
    };
    check_data_dir(&data_dir, source)?;
    let abs_data = normalize(&absolute(&data_dir));
    check_replica_dir(&opts.to, &data_dir, &abs_data)?;
    Ok(Primary {
        data_dir,
        abs_data,
        source,
        flag_path,
        block_range,
        remote_write_since: remote_write_since(url, opts),
    })
}

/// The primary's start when its configuration (`/api/v1/status/config`)
/// has a `remote_write` section: a queue to the replica configured before
/// the seed has read the WAL since then at the earliest, and stalled while
/// the replica was not there, so the deadline is taken from it (the
/// earliest a queue can have started: never a later deadline than the
/// real one). None without the section, or when either answer is missing
/// (best effort: the step does not fail on it).
fn remote_write_since(url: &Url, opts: &SeedOptions) -> Option<i64> {
    let get = |path| match call(url, "GET", path, opts.read_timeout, opts.connect_timeout) {
        Ok(Api::Success(d)) => Some(d),
        _ => None,
    };
    let config = get("/api/v1/status/config")?;
    let yaml = config.get("yaml")?.as_str()?;
    // The top-level key, as Prometheus marshals its configuration.
    if !yaml.lines().any(|l| l.starts_with("remote_write:")) {
        return None;
    }
    let info = get("/api/v1/status/runtimeinfo")?;
    crate::vocab::parse_rfc3339_ms(info.get("startTime")?.as_str()?)
}

/// A replica that already holds blocks the primary's data directory does
/// not (an earlier seed's head block, or data of its own): a new
/// snapshot's head block, and any block the primary compacted since, would
/// overlap them and be refused, so the seed would end with nothing copied
/// and one more snapshot in the primary's `snapshots/`. Said before the
/// snapshot is taken. Blocks the primary has (a seed killed before it
/// placed the head block) are fine: the copy skips them.
pub(super) fn check_not_seeded(to: &Path, data_dir: &Path) -> Result<(), SeedError> {
    let names = |d: &Path| -> std::collections::BTreeSet<String> {
        crate::layout::scan(d)
            .map(|l| {
                l.blocks
                    .iter()
                    .filter_map(|b| b.file_name())
                    .map(|n| n.to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    if !to.is_dir() {
        return Ok(());
    }
    let primary = names(data_dir);
    let foreign: Vec<String> = names(to)
        .into_iter()
        .filter(|n| !primary.contains(n))
        .collect();
    let Some(first) = foreign.first() else {
        return Ok(());
    };
    Err(SeedError::Usage(format!(
        "{}: already holds {} block(s) the primary's data directory does not ({first}{}): an \
         earlier seed's head block, or the replica's own data; a new snapshot's blocks would \
         overlap them and none would be copied. The replica is seeded already (verify it); to \
         seed it again, empty it first (a killed seed that placed only the primary's blocks is \
         finished by seeding again)",
        to.display(),
        foreign.len(),
        if foreign.len() > 1 { ", …" } else { "" }
    )))
}

/// The primary's data directory must look like one from here.
fn check_data_dir(data_dir: &Path, source: &str) -> Result<(), SeedError> {
    if data_dir.join("wal").is_dir()
        || data_dir.join("snapshots").is_dir()
        || data_dir.join("chunks_head").is_dir()
    {
        return Ok(());
    }
    let how = if source == "flags" && data_dir.is_relative() {
        format!(
            concat!(
                "its storage.tsdb.path {} is relative to the primary's working ",
                "directory, not this one; give the data directory"
            ),
            data_dir.display()
        )
    } else if source == "flags" {
        concat!(
            "the primary may run in a container or on another host; give ",
            "its data directory as seen from here"
        )
        .into()
    } else {
        "give the directory the primary's storage.tsdb.path points to".into()
    };
    Err(SeedError::Usage(format!(
        "{}: not the primary's data directory (no wal/, chunks_head/ or snapshots/ in it): {how}",
        data_dir.display()
    )))
}

/// The replica's directory: neither inside the primary's nor containing
/// it, and a directory if it exists.
fn check_replica_dir(to: &Path, data_dir: &Path, abs_data: &Path) -> Result<(), SeedError> {
    let abs_to = normalize(&absolute(to));
    if abs_to.starts_with(abs_data) || abs_data.starts_with(&abs_to) {
        return Err(SeedError::Usage(format!(
            concat!(
                "{}: the replica's directory may be neither inside the primary's ",
                "data directory {} nor contain it"
            ),
            to.display(),
            data_dir.display()
        )));
    }
    // The checks `copy` makes of its target (a file, a block directory, a
    // directory of other things), before a snapshot is taken on the primary.
    crate::copy::check_target(to).map_err(|e| SeedError::Usage(e.to_string()))
}

/// The admin API's snapshot request path.
fn snapshot_path(skip_head: bool) -> &'static str {
    if skip_head {
        "/api/v1/admin/tsdb/snapshot?skip_head=true"
    } else {
        "/api/v1/admin/tsdb/snapshot"
    }
}

/// One snapshot request: the name taken, or Prometheus' error message
/// (`Err` for the admin API off and a foreign answer).
fn take(url: &Url, opts: &SeedOptions, skip: bool) -> Result<Result<String, String>, SeedError> {
    let path = snapshot_path(skip);
    let full = url.join(path);
    match call(
        url,
        "POST",
        path,
        opts.snapshot_timeout,
        opts.connect_timeout,
    )? {
        Api::Success(d) => {
            let name = d.get("name").and_then(|n| n.as_str()).unwrap_or("");
            if crate::layout::parse_snapshot_name(name).is_none() {
                return Err(SeedError::NotPrometheus {
                    url: full,
                    message: format!(
                        "snapshot name {name:?} is not <YYYYMMDDTHHMMSSZ>-<16 hex digits>"
                    ),
                });
            }
            Ok(Ok(name.to_string()))
        }
        Api::Error { status, message } => {
            let m = message.to_ascii_lowercase();
            if m.contains("admin apis disabled") || matches!(status, 404 | 405) {
                Err(SeedError::AdminApiDisabled {
                    url: full,
                    message: format!("HTTP {status}: {message}"),
                })
            } else {
                Ok(Err(message))
            }
        }
    }
}

/// Step 2: takes the snapshot, again without the head when writing the
/// head fails in Prometheus' known way; `path` is left empty.
pub(super) fn snapshot(url: &Url, opts: &SeedOptions) -> Result<SnapshotTaken, SeedError> {
    let (name, skip_head, fallback) = match take(url, opts, opts.skip_head)? {
        Ok(n) => (n, opts.skip_head, None),
        Err(m) if !opts.skip_head && m.contains("outside of compacted") => {
            let why = format!(
                concat!(
                    "the snapshot with the head failed ({m}), a known Prometheus ",
                    "failure while a head compaction runs (prometheus/prometheus#5105, ",
                    "#5686); taken again without the head"
                ),
                m = m
            );
            match take(url, opts, true)? {
                Ok(n) => (n, true, Some(why)),
                Err(m2) => {
                    return Err(SeedError::Snapshot {
                        url: url.join(snapshot_path(true)),
                        message: format!("{m2} (after: {why})"),
                    });
                }
            }
        }
        Err(m) => {
            return Err(SeedError::Snapshot {
                url: url.join(snapshot_path(opts.skip_head)),
                message: m,
            });
        }
    };
    Ok(SnapshotTaken {
        name,
        path: PathBuf::new(),
        skip_head,
        fallback,
    })
}

impl SnapshotTaken {
    /// The `snapshot` step's outcome.
    pub(super) fn outcome(&self) -> (StepStatus, String) {
        let name = &self.name;
        match &self.fallback {
            Some(why) => (
                StepStatus::Warning,
                format!("{name} without the head: {why}"),
            ),
            None => (
                StepStatus::Ok,
                format!(
                    "{name}{}",
                    if self.skip_head {
                        " without the head (skip_head)"
                    } else {
                        " with the head"
                    }
                ),
            ),
        }
    }
}

/// The head's statistics as `/api/v1/status/tsdb` reports them now, if it
/// answers.
pub(super) fn head_stats(url: &Url, opts: &SeedOptions) -> Option<serde_json::Value> {
    match call(
        url,
        "GET",
        "/api/v1/status/tsdb",
        opts.read_timeout,
        opts.connect_timeout,
    ) {
        Ok(Api::Success(d)) => d.get("headStats").cloned(),
        _ => None,
    }
}

/// Steps 4 and 5: verifies the snapshot, and copies it when it has no
/// errors.
pub(super) fn verify_and_copy(
    report: &mut SeedReport,
    path: &Path,
    opts: &SeedOptions,
) -> Result<(), SeedError> {
    let t = Instant::now();
    let dc = check::verify_dir(path, &opts.copy.check)?;
    let findings: Vec<check::Finding> = dc.all_findings().cloned().collect();
    let tally = Tally::of(&findings);
    let blocks = dc.blocks.len();
    report.verify = Some(VerifySummary {
        blocks,
        errors: tally.errors,
        warnings: tally.warnings,
        infos: tally.infos,
        findings,
    });
    if tally.errors > 0 {
        report.step(
            "verify",
            StepStatus::Failed,
            t,
            format!(
                concat!(
                    "{} errors, {} warnings in {blocks} blocks: nothing copied (the ",
                    "findings name the damage)"
                ),
                tally.errors,
                tally.warnings,
                blocks = blocks
            ),
        );
        report.step(
            "copy",
            StepStatus::Skipped,
            Instant::now(),
            "the snapshot has errors".into(),
        );
        return Ok(());
    }
    report.step(
        "verify",
        if tally.warnings > 0 {
            StepStatus::Warning
        } else {
            StepStatus::Ok
        },
        t,
        format!("{blocks} blocks, 0 errors, {} warnings", tally.warnings),
    );
    copy_verified(report, path, opts)
}

/// Step 5: copies the verified snapshot into the replica's directory.
fn copy_verified(
    report: &mut SeedReport,
    path: &Path,
    opts: &SeedOptions,
) -> Result<(), SeedError> {
    let t = Instant::now();
    let copts = CopyOptions {
        skip_verify: true,
        ..opts.copy.clone()
    };
    let mut plan = copy::plan(path, &opts.to, &copts)?;
    // Verified just above: drop the notice saying the source was not.
    plan.notices.retain(|n| n.code != "not_verified");
    let r = copy::execute(&plan, &copts, &copy::NoProgress)?;
    let status = if !r.failed.is_empty() || !r.refused.is_empty() {
        StepStatus::Failed
    } else if r.copied.is_empty() && r.skipped.is_empty() {
        StepStatus::Warning
    } else {
        StepStatus::Ok
    };
    report.step(
        "copy",
        status,
        t,
        format!(
            "{} copied ({} bytes), {} already present, {} refused, {} failed",
            r.copied.len(),
            r.bytes,
            r.skipped.len(),
            r.refused.len(),
            r.failed.len()
        ),
    );
    report.copy = Some(r);
    Ok(())
}

/// Step 6: the snapshot's coverage against the primary's WAL as it is now.
pub(super) fn coverage(
    report: &mut SeedReport,
    path: &Path,
    primary: &Primary,
    head: Option<&serde_json::Value>,
    skip_head: bool,
) -> Result<(), SeedError> {
    let t = Instant::now();
    let data_dir = &primary.data_dir;
    let copts = CoverageOptions {
        block_range: primary.block_range,
        master: Some(data_dir.clone()),
        observed_at: Some(now_ms()),
        // The head block from the snapshot's contents, not the grid (a
        // backfilled block ends off the grid too).
        head_block: super::head::head_block_by_contents(path, data_dir),
        rw_start: primary.remote_write_since,
        ..CoverageOptions::default()
    };
    let cov = coverage::coverage(path, &copts)?;
    report.coverage_end = cov.coverage_end;
    report.deadline = cov.deadline.clone();
    report.remote_write_since = primary.remote_write_since;
    if skip_head {
        report.skipped_head = Some(skipped_head(&cov, head, data_dir));
    }
    let msg = match (&cov.coverage_end, &cov.deadline) {
        (Some(c), Some(d)) => format!(
            "C_snap {}; the replica must be up and caught up before {}",
            coverage::fmt_time(*c),
            coverage::fmt_time(d.at)
        ),
        (Some(c), None) => format!("C_snap {}; no deadline computed", coverage::fmt_time(*c)),
        (None, Some(d)) => format!(
            "the snapshot holds no block: the replica starts empty and takes everything from \
             remote write; it must be up and caught up before {}",
            coverage::fmt_time(d.at)
        ),
        (None, None) => "no block in the snapshot: no coverage".into(),
    };
    let status = if cov.has_errors() {
        StepStatus::Failed
    } else if cov.coverage_end.is_none() || skip_head {
        StepStatus::Warning
    } else {
        StepStatus::Ok
    };
    report.step("coverage", status, t, msg);
    report.coverage = Some(cov);
    Ok(())
}

/// What a snapshot without the head lacks, from the head's statistics
/// taken with it.
fn skipped_head(
    cov: &CoverageReport,
    head: Option<&serde_json::Value>,
    data_dir: &Path,
) -> SkippedHead {
    let num = |k: &str| head.and_then(|h| h.get(k)).and_then(|v| v.as_i64());
    let (hmin, hmax) = (num("minTime"), num("maxTime"));
    // An empty head reports minTime = MaxInt64 and maxTime = MinInt64.
    let hmax = hmax.filter(|&m| coverage::plausible(m));
    let hmin = hmin.filter(|&m| coverage::plausible(m));
    let from = cov.coverage_end;
    let why = match (from, hmax) {
        (Some(c), Some(m)) if m >= c => format!(
            concat!(
                "the snapshot holds no head block: the samples from {} to {} ",
                "(the head's newest when the snapshot was taken) are not in the ",
                "seed; the replica gets them only from remote write if the primary's ",
                "WAL still holds them when the replica reads it, or by filling ",
                "them in from {}"
            ),
            coverage::fmt_time(c),
            coverage::fmt_time(m),
            data_dir.display()
        ),
        (Some(c), _) => format!(
            concat!(
                "the snapshot holds no head block: no sample from {} on is in ",
                "the seed (the head's time range was not reported); the replica ",
                "gets them only from remote write or by filling them in from {}"
            ),
            coverage::fmt_time(c),
            data_dir.display()
        ),
        (None, _) => concat!(
            "the snapshot holds no block at all: everything is in the primary's ",
            "head, none of it in the seed"
        )
        .into(),
    };
    SkippedHead {
        from,
        to: hmax,
        head_min_time: hmin,
        head_series: head
            .and_then(|h| h.get("numSeries"))
            .and_then(|v| v.as_u64()),
        why,
    }
}
