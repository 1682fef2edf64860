//! The replica seed's whole procedure for a primary Prometheus on this host:
//! take an admin-API snapshot, find it in the primary's data directory,
//! verify it, copy its blocks into the replica's data directory, and say
//! what the seed covers and by when the replica must be up.
//!
//! Steps, each recorded in [`SeedReport::steps`]:
//!
//! 1. `flags`: `GET /api/v1/status/flags` proves the URL is a Prometheus
//!    and gives `storage.tsdb.path`, the primary's data directory (unless
//!    [`SeedOptions::data_dir`] names it: a container's path differs from the
//!    host's). The replica's directory may be neither inside the primary's
//!    nor contain it.
//! 2. `snapshot`: `POST /api/v1/admin/tsdb/snapshot` (`?skip_head=true` when
//!    asked). Prometheus writes the snapshot under `<data>/snapshots/<name>`:
//!    hard links of the persisted blocks plus, without `skip_head`, the head
//!    (the in-memory samples of the last hours) written as one more block,
//!    and answers `{"status":"success","data":{"name":"<YYYYMMDDTHHMMSSZ>-<16 hex>"}}`.
//!    With the admin API off, Prometheus answers with the error
//!    `admin APIs disabled` (HTTP 500 from 2.42, 503 from other versions; a
//!    proxy may answer 404 or 405): an error, and nothing is written. Writing the head can fail with "found chunk with
//!    minTime … outside of compacted minTime …" while a head compaction
//!    runs (Prometheus issues 5105 and 5686); then the snapshot is taken
//!    again with `skip_head`, and the report says what that costs.
//! 3. `locate`: the snapshot directory must exist under the data directory
//!    (its name is checked: a timestamp and 16 hex digits, nothing else).
//! 4. `verify`: [`crate::check::verify_dir`] on the snapshot, fully. Errors
//!    stop the seed there (nothing copied, exit status "findings").
//! 5. `copy`: [`crate::copy`] into the replica directory (atomic per block,
//!    each copied file compared byte for byte with the snapshot; the
//!    snapshot was verified in step 4 and is not verified a second time).
//! 6. `coverage`: [`crate::coverage::coverage`] on the snapshot, with the
//!    primary's data directory as the master (its WAL as it is now): the
//!    coverage end `C_snap` (the replica accepts no sample older), and the
//!    deadline by which the replica must be up and caught up before the
//!    primary's WAL truncation overtakes its remote-write reader.
//!
//! With `skip_head` (asked for, or the fallback) the snapshot holds no head
//! block: the head's samples, `[C_snap, head maxTime]` as
//! `GET /api/v1/status/tsdb` reports the head when the snapshot was taken,
//! are not in the seed ([`SeedReport::skipped_head`]). The replica gets them
//! only from remote write (if the primary's WAL still holds them when the
//! replica reads it) or by filling them in from the primary's data
//! directory afterwards ([`SeedReport::fill_from`]).
//!
//! The snapshot stays in the primary's `snapshots/` directory (promsnap never
//! deletes what it reads): remove it once the replica runs.
//!
//! The library never prints; errors before the snapshot (a bad URL, a
//! refused connection, an answer that is not Prometheus', the admin API off)
//! leave nothing written anywhere.
//!
//! ```no_run
//! use promsnap::seed::{self, SeedOptions};
//! let opts = SeedOptions::new("http://127.0.0.1:9090", "/var/lib/prometheus-replica");
//! let report = seed::seed(&opts)?;
//! println!("coverage end {:?}, deadline {:?}", report.coverage_end, report.deadline);
//! # Ok::<(), promsnap::seed::SeedError>(())
//! ```

mod head;
pub mod http;

use std::path::{Component, Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::check::{self, Tally};
use crate::copy::{self, CopyOptions, CopyReport};
use crate::coverage::{self, CoverageOptions, CoverageReport, Deadline};
use http::{Response, Timeouts, Url};

/// What to seed and how.
#[derive(Debug, Clone)]
pub struct SeedOptions {
    /// The primary's base URL (`http://host:port[/route-prefix]`).
    pub url: String,
    /// The replica's data directory (created if missing).
    pub to: PathBuf,
    /// Ask for a snapshot without the head block.
    pub skip_head: bool,
    /// The primary's data directory as seen from here (default: its
    /// `storage.tsdb.path` flag).
    pub data_dir: Option<PathBuf>,
    /// Time-out of connecting.
    pub connect_timeout: Duration,
    /// Time-out of each read of the status requests.
    pub read_timeout: Duration,
    /// Time-out of each read of the snapshot request (writing the head of
    /// a large server takes minutes).
    pub snapshot_timeout: Duration,
    /// How to copy (verification is done once, before; see the module docs).
    pub copy: CopyOptions,
}

impl SeedOptions {
    /// Defaults: 5 s to connect, 30 s per read, 15 min for the snapshot.
    pub fn new(url: &str, to: impl Into<PathBuf>) -> Self {
        SeedOptions {
            url: url.to_string(),
            to: to.into(),
            skip_head: false,
            data_dir: None,
            connect_timeout: Duration::from_secs(5),
            read_timeout: Duration::from_secs(30),
            snapshot_timeout: Duration::from_secs(900),
            copy: CopyOptions::default(),
        }
    }
}

/// Why the seed could not run (exit status "usage or I/O").
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SeedError {
    /// The URL or the directories given cannot be used.
    #[error("{0}")]
    Usage(String),
    /// No connection, a time-out, or a broken answer.
    #[error("{url}: {message}")]
    Http {
        /// The request's URL.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// The server answered, but not as a Prometheus does.
    #[error("{url}: not a Prometheus API answer: {message}")]
    NotPrometheus {
        /// The request's URL.
        url: String,
        /// What was answered.
        message: String,
    },
    /// The admin API is off.
    #[error(
        "{url}: the admin API is disabled ({message}); Prometheus takes snapshots only when started with --web.enable-admin-api"
    )]
    AdminApiDisabled {
        /// The request's URL.
        url: String,
        /// Prometheus' answer.
        message: String,
    },
    /// Prometheus answered the snapshot request with an error.
    #[error("{url}: snapshot failed: {message}")]
    Snapshot {
        /// The request's URL.
        url: String,
        /// Prometheus' error.
        message: String,
    },
    /// A file error (locating, copying, reading the snapshot).
    #[error(transparent)]
    Files(#[from] crate::error::Error),
}

/// How a step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    /// Done, nothing to say.
    Ok,
    /// Done, with something the operator must know (`message`).
    Warning,
    /// Failed: the seed stopped here or the data is not sound.
    Failed,
    /// Not run (an earlier step failed).
    Skipped,
}

/// One step of the procedure.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    /// `flags`, `snapshot`, `locate`, `verify`, `copy`, `coverage`.
    pub step: &'static str,
    /// Outcome.
    pub status: StepStatus,
    /// Wall time (ms).
    pub duration_ms: u64,
    /// Plain words.
    pub message: String,
}

/// The snapshot taken.
#[derive(Debug, Clone, Serialize)]
pub struct SnapshotTaken {
    /// Its name (`<YYYYMMDDTHHMMSSZ>-<16 hex>`).
    pub name: String,
    /// Its directory.
    pub path: PathBuf,
    /// True if it holds no head block.
    pub skip_head: bool,
    /// Why `skip_head` was used though not asked for (the failure of the
    /// first attempt), or `None`.
    pub fallback: Option<String>,
}

/// The head's samples a `skip_head` snapshot lacks.
#[derive(Debug, Clone, Serialize)]
pub struct SkippedHead {
    /// First sample time not in the seed (ms): `C_snap`.
    pub from: Option<i64>,
    /// The head's newest sample at the snapshot (ms), from
    /// `/api/v1/status/tsdb`; `None` if that was not answered.
    pub to: Option<i64>,
    /// The head's oldest sample (ms), as reported.
    pub head_min_time: Option<i64>,
    /// Series in the head, as reported.
    pub head_series: Option<u64>,
    /// Plain words.
    pub why: String,
}

/// What the verification found.
#[derive(Debug, Clone, Serialize)]
pub struct VerifySummary {
    /// Blocks checked.
    pub blocks: usize,
    /// Findings by severity.
    pub errors: u64,
    /// See `errors`.
    pub warnings: u64,
    /// See `errors`.
    pub infos: u64,
    /// Every finding (the same objects as `verify`'s, paths absolute).
    pub findings: Vec<check::Finding>,
}

/// The whole answer; its JSON form is documented in the README.
#[derive(Debug, Clone, Serialize)]
pub struct SeedReport {
    /// The primary's URL as given.
    pub url: String,
    /// The replica's data directory.
    pub to: PathBuf,
    /// The primary's data directory.
    pub data_dir: PathBuf,
    /// `flags` (its `storage.tsdb.path`) or `given`.
    pub data_dir_source: &'static str,
    /// The steps in order.
    pub steps: Vec<Step>,
    /// The snapshot.
    pub snapshot: Option<SnapshotTaken>,
    /// With `skip_head`: the head's samples not in the seed.
    pub skipped_head: Option<SkippedHead>,
    /// The verification of the snapshot.
    pub verify: Option<VerifySummary>,
    /// The copy into the replica directory.
    pub copy: Option<CopyReport>,
    /// `C_snap` (ms): the replica accepts no sample older than this.
    pub coverage_end: Option<i64>,
    /// The replica must be up and caught up before `deadline.at`.
    pub deadline: Option<Deadline>,
    /// The coverage of the snapshot (the `coverage --json` document).
    pub coverage: Option<CoverageReport>,
    /// The directory to fill the replica from if it is late: the
    /// primary's data directory (absolute).
    pub fill_from: PathBuf,
    /// True if every step ended ok or with a warning.
    pub ok: bool,
}

impl SeedReport {
    fn step(&mut self, step: &'static str, status: StepStatus, t: Instant, message: String) {
        self.steps.push(Step {
            step,
            status,
            duration_ms: t.elapsed().as_millis() as u64,
            message,
        });
        if status == StepStatus::Failed {
            self.ok = false;
        }
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A Prometheus API answer: `{"status":"success","data":…}` or
/// `{"status":"error","errorType":…,"error":…}`.
enum Api {
    Success(serde_json::Value),
    Error { status: u16, message: String },
}

fn call(
    url: &Url,
    method: &str,
    path: &str,
    read: Duration,
    connect: Duration,
) -> Result<Api, SeedError> {
    let full = url.join(path);
    let t = Timeouts { connect, io: read };
    let r: Response = http::request(url, method, path, t).map_err(|e| SeedError::Http {
        url: full.clone(),
        message: match e.kind() {
            std::io::ErrorKind::ConnectionRefused => {
                format!("{e} (is Prometheus listening there?)")
            }
            std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => {
                format!("no answer within the time-out ({e})")
            }
            _ => e.to_string(),
        },
    })?;
    let text = String::from_utf8_lossy(&r.body);
    let v: Option<serde_json::Value> = serde_json::from_slice(&r.body).ok();
    let status = v
        .as_ref()
        .and_then(|v| v.get("status"))
        .and_then(|s| s.as_str());
    match (status, v.as_ref()) {
        (Some("success"), Some(v)) => Ok(Api::Success(v.get("data").cloned().unwrap_or_default())),
        (Some("error"), Some(v)) => Ok(Api::Error {
            status: r.status,
            message: v
                .get("error")
                .and_then(|e| e.as_str())
                .unwrap_or("(no message)")
                .to_string(),
        }),
        _ if matches!(r.status, 404 | 405) => Ok(Api::Error {
            status: r.status,
            message: format!("HTTP {}: {}", r.status, snippet(&text)),
        }),
        _ => Err(SeedError::NotPrometheus {
            url: full,
            message: format!(
                "HTTP {}{}: {}",
                r.status,
                r.content_type
                    .as_deref()
                    .map(|c| format!(" ({c})"))
                    .unwrap_or_default(),
                snippet(&text)
            ),
        }),
    }
}

/// A duration as Prometheus prints its flags (`2h`, `1h30m`, `90s`, `1m`,
/// `500ms`, `1d`, `1w`, `1y`) in ms.
fn parse_model_duration(s: &str) -> Option<i64> {
    let mut total: i64 = 0;
    let mut rest = s;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let n = rest.bytes().take_while(u8::is_ascii_digit).count();
        let v: i64 = rest.get(..n)?.parse().ok()?;
        rest = &rest[n..];
        let (unit, mult) = [
            ("ms", 1),
            ("s", 1_000),
            ("m", 60_000),
            ("h", 3_600_000),
            ("d", 86_400_000),
            ("w", 604_800_000),
            ("y", 31_536_000_000),
        ]
        .into_iter()
        .find(|(u, _)| rest.starts_with(u))?;
        rest = &rest[unit.len()..];
        total = total.checked_add(v.checked_mul(mult)?)?;
    }
    Some(total)
}

fn snippet(s: &str) -> String {
    let t: String = s.trim().chars().take(120).collect();
    if t.is_empty() {
        "empty body".into()
    } else {
        format!("{t:?}")
    }
}

/// The nearest existing ancestor canonicalized, plus the rest as given.
fn absolute(p: &Path) -> PathBuf {
    let p = if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(p)
    };
    let mut rest = Vec::new();
    let mut cur = p.as_path();
    loop {
        if let Ok(c) = cur.canonicalize() {
            let mut out = c;
            for r in rest.iter().rev() {
                out.push(r);
            }
            return out;
        }
        match (cur.parent(), cur.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                cur = parent;
            }
            _ => return p,
        }
    }
}

fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            c => out.push(c),
        }
    }
    out
}

/// Runs the procedure. `Err` for what stops it before anything is known
/// (usage, connection, the admin API off, I/O); damage found and blocks
/// refused are in the report (`ok: false`).
pub fn seed(opts: &SeedOptions) -> Result<SeedReport, SeedError> {
    let url = Url::parse(opts.url.trim()).map_err(SeedError::Usage)?;
    let (connect, read) = (opts.connect_timeout, opts.read_timeout);

    // 1. flags
    let t = Instant::now();
    let flags_url = url.join("/api/v1/status/flags");
    let flags = match call(&url, "GET", "/api/v1/status/flags", read, connect)? {
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
        .and_then(parse_model_duration)
        .filter(|&d| d > 0);
    let (data_dir, source) = match (&opts.data_dir, &flag_path) {
        (Some(d), _) => (d.clone(), "given"),
        (None, Some(p)) => (p.clone(), "flags"),
        (None, None) => {
            return Err(SeedError::NotPrometheus {
                url: flags_url,
                message: "no storage.tsdb.path among the flags (an agent-mode Prometheus has no TSDB to snapshot)".into(),
            });
        }
    };
    if !data_dir.join("wal").is_dir()
        && !data_dir.join("snapshots").is_dir()
        && !data_dir.join("chunks_head").is_dir()
    {
        let how = if source == "flags" && data_dir.is_relative() {
            format!(
                "its storage.tsdb.path {} is relative to the primary's working directory, not this one; give the data directory",
                data_dir.display()
            )
        } else if source == "flags" {
            "the primary may run in a container or on another host; give its data directory as seen from here".into()
        } else {
            "give the directory the primary's storage.tsdb.path points to".into()
        };
        return Err(SeedError::Usage(format!(
            "{}: not the primary's data directory (no wal/, chunks_head/ or snapshots/ in it): {how}",
            data_dir.display()
        )));
    }
    let (abs_data, abs_to) = (
        normalize(&absolute(&data_dir)),
        normalize(&absolute(&opts.to)),
    );
    if abs_to.starts_with(&abs_data) || abs_data.starts_with(&abs_to) {
        return Err(SeedError::Usage(format!(
            "{}: the replica's directory may be neither inside the primary's data directory {} nor contain it",
            opts.to.display(),
            data_dir.display()
        )));
    }
    if opts.to.exists() && !opts.to.is_dir() {
        return Err(SeedError::Usage(format!(
            "{}: exists and is not a directory",
            opts.to.display()
        )));
    }
    let mut report = SeedReport {
        url: opts.url.clone(),
        to: opts.to.clone(),
        data_dir: data_dir.clone(),
        data_dir_source: source,
        steps: Vec::new(),
        snapshot: None,
        skipped_head: None,
        verify: None,
        copy: None,
        coverage_end: None,
        deadline: None,
        coverage: None,
        fill_from: abs_data.clone(),
        ok: true,
    };
    let flag_msg = match (&flag_path, source) {
        (Some(p), "given") if p != &data_dir => format!(
            "a Prometheus; its storage.tsdb.path {} is {} as seen from here (given)",
            p.display(),
            data_dir.display()
        ),
        _ => format!("a Prometheus with its data in {}", data_dir.display()),
    };
    report.step("flags", StepStatus::Ok, t, flag_msg);

    // 2. snapshot
    let t = Instant::now();
    let snap_path = |skip: bool| {
        if skip {
            "/api/v1/admin/tsdb/snapshot?skip_head=true"
        } else {
            "/api/v1/admin/tsdb/snapshot"
        }
    };
    let take = |skip: bool| -> Result<Result<String, String>, SeedError> {
        let path = snap_path(skip);
        let full = url.join(path);
        match call(&url, "POST", path, opts.snapshot_timeout, connect)? {
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
    };
    let (name, skip_head, fallback) = match take(opts.skip_head)? {
        Ok(n) => (n, opts.skip_head, None),
        Err(m) if !opts.skip_head && m.contains("outside of compacted") => {
            let why = format!(
                "the snapshot with the head failed ({m}), a known Prometheus failure while a head compaction runs (prometheus/prometheus#5105, #5686); taken again without the head"
            );
            match take(true)? {
                Ok(n) => (n, true, Some(why)),
                Err(m2) => {
                    return Err(SeedError::Snapshot {
                        url: url.join(snap_path(true)),
                        message: format!("{m2} (after: {why})"),
                    });
                }
            }
        }
        Err(m) => {
            return Err(SeedError::Snapshot {
                url: url.join(snap_path(opts.skip_head)),
                message: m,
            });
        }
    };
    // The head as it stood when the snapshot was taken (what skip_head costs).
    let head = if skip_head {
        match call(&url, "GET", "/api/v1/status/tsdb", read, connect) {
            Ok(Api::Success(d)) => d.get("headStats").cloned(),
            _ => None,
        }
    } else {
        None
    };
    let path = data_dir.join("snapshots").join(&name);
    report.snapshot = Some(SnapshotTaken {
        name: name.clone(),
        path: path.clone(),
        skip_head,
        fallback: fallback.clone(),
    });
    match &fallback {
        Some(why) => report.step(
            "snapshot",
            StepStatus::Warning,
            t,
            format!("{name} without the head: {why}"),
        ),
        None => report.step(
            "snapshot",
            StepStatus::Ok,
            t,
            format!(
                "{name}{}",
                if skip_head {
                    " without the head (skip_head)"
                } else {
                    " with the head"
                }
            ),
        ),
    }

    // 3. locate
    let t = Instant::now();
    if !path.is_dir() {
        return Err(SeedError::Usage(format!(
            "{}: the snapshot Prometheus reported is not there; is {} the primary's data directory as seen from here?",
            path.display(),
            data_dir.display()
        )));
    }
    let layout = crate::layout::scan(&path)?;
    report.step(
        "locate",
        StepStatus::Ok,
        t,
        format!("{} ({} blocks)", path.display(), layout.blocks.len()),
    );

    // 4. verify
    let t = Instant::now();
    let dc = check::verify_dir(&path, &opts.copy.check)?;
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
                "{} errors, {} warnings in {blocks} blocks: nothing copied (the findings name the damage)",
                tally.errors, tally.warnings
            ),
        );
        report.step(
            "copy",
            StepStatus::Skipped,
            Instant::now(),
            "the snapshot has errors".into(),
        );
    } else {
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

        // 5. copy
        let t = Instant::now();
        let copts = CopyOptions {
            skip_verify: true,
            ..opts.copy.clone()
        };
        let mut plan = copy::plan(&path, &opts.to, &copts)?;
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
    }

    // 6. coverage
    let t = Instant::now();
    let copts = CoverageOptions {
        block_range,
        master: Some(data_dir.clone()),
        observed_at: Some(now_ms()),
        // The head block from the snapshot's contents, not the grid (a
        // backfilled block ends off the grid too).
        head_block: head::head_block_by_contents(&path, &data_dir),
        ..CoverageOptions::default()
    };
    let cov = coverage::coverage(&path, &copts)?;
    report.coverage_end = cov.coverage_end;
    report.deadline = cov.deadline.clone();
    if skip_head {
        let num = |k: &str| {
            head.as_ref()
                .and_then(|h| h.get(k))
                .and_then(|v| v.as_i64())
        };
        let (hmin, hmax) = (num("minTime"), num("maxTime"));
        // An empty head reports minTime = MaxInt64 and maxTime = MinInt64.
        let hmax = hmax.filter(|&m| coverage::plausible(m));
        let hmin = hmin.filter(|&m| coverage::plausible(m));
        let from = cov.coverage_end;
        let why = match (from, hmax) {
            (Some(c), Some(m)) if m >= c => format!(
                "the snapshot holds no head block: the samples from {} to {} (the head's newest when the snapshot was taken) are not in the seed; the replica gets them only from remote write if the primary's WAL still holds them when the replica reads it, or by filling them in from {}",
                coverage::fmt_time(c),
                coverage::fmt_time(m),
                data_dir.display()
            ),
            (Some(c), _) => format!(
                "the snapshot holds no head block: no sample from {} on is in the seed (the head's time range was not reported); the replica gets them only from remote write or by filling them in from {}",
                coverage::fmt_time(c),
                data_dir.display()
            ),
            (None, _) => "the snapshot holds no block at all: everything is in the primary's head, none of it in the seed".into(),
        };
        report.skipped_head = Some(SkippedHead {
            from,
            to: hmax,
            head_min_time: hmin,
            head_series: head
                .as_ref()
                .and_then(|h| h.get("numSeries"))
                .and_then(|v| v.as_u64()),
            why,
        });
    }
    let msg = match (&cov.coverage_end, &cov.deadline) {
        (Some(c), Some(d)) => format!(
            "C_snap {}; the replica must be up and caught up before {}",
            coverage::fmt_time(*c),
            coverage::fmt_time(d.at)
        ),
        (Some(c), None) => format!("C_snap {}; no deadline computed", coverage::fmt_time(*c)),
        (None, _) => "no block in the snapshot: no coverage".into(),
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
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_durations() {
        assert_eq!(parse_model_duration("2h"), Some(7_200_000));
        assert_eq!(parse_model_duration("1m"), Some(60_000));
        assert_eq!(parse_model_duration("1h30m"), Some(5_400_000));
        assert_eq!(parse_model_duration("500ms"), Some(500));
        assert_eq!(parse_model_duration("0s"), Some(0));
        for bad in ["", "2", "h", "2x", "99999999999999999999y"] {
            assert_eq!(parse_model_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn paths() {
        assert_eq!(normalize(Path::new("/a/./b/../c")), PathBuf::from("/a/c"));
        let d = absolute(Path::new("/nonexistent-promsnap/x/y"));
        assert_eq!(d, PathBuf::from("/nonexistent-promsnap/x/y"));
    }
}
