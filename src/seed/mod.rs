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
//!    nor contain it, nor hold a block the primary's data directory does
//!    not (an earlier seed's head block: the new one would overlap it).
//! 2. `snapshot`: `POST /api/v1/admin/tsdb/snapshot` (`?skip_head=true` when
//!    asked). Prometheus writes the snapshot under `<data>/snapshots/<name>`:
//!    hard links of the persisted blocks plus, without `skip_head`, the head
//!    (the in-memory samples of the last hours) written as one more block,
//!    and answers `{"status":"success","data":{"name":"<YYYYMMDDTHHMMSSZ>-<16 hex>"}}`.
//!    With the admin API off, Prometheus answers with the error
//!    `admin APIs disabled` (HTTP 500 from 2.42, 503 from other versions; a
//!    proxy may answer 404 or 405): an error, and nothing is written.
//!    Writing the head can fail with "found chunk with
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

mod api;
mod head;
pub mod http;
mod paths;
mod steps;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::check;
use crate::copy::{CopyOptions, CopyReport};
use crate::coverage::{CoverageReport, Deadline};
use http::Url;

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
        "{url}: the admin API is disabled ({message}); Prometheus takes snapshots only when \
         started with --web.enable-admin-api"
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
    /// With a `remote_write` section in the primary's configuration: the
    /// primary's start (ms), taken as the remote write's start for the
    /// coverage and the deadline (the earliest its queues can have started);
    /// `None`: remote write taken as starting at the snapshot.
    pub remote_write_since: Option<i64>,
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

/// Runs the procedure. `Err` for what stops it before anything is known
/// (usage, connection, the admin API off, I/O); damage found and blocks
/// refused are in the report (`ok: false`).
pub fn seed(opts: &SeedOptions) -> Result<SeedReport, SeedError> {
    let url = Url::parse(opts.url.trim()).map_err(SeedError::Usage)?;
    // The replica's directory as `copy` checks a target (a file, a block
    // directory, a directory of other things): a usage error before any
    // request, not after the primary answered (or did not).
    crate::copy::check_target(&opts.to).map_err(|e| SeedError::Usage(e.to_string()))?;

    // 1. flags
    let t = Instant::now();
    let primary = steps::primary(&url, opts)?;
    let mut report = SeedReport {
        url: opts.url.clone(),
        to: opts.to.clone(),
        data_dir: primary.data_dir.clone(),
        data_dir_source: primary.source,
        steps: Vec::new(),
        snapshot: None,
        skipped_head: None,
        verify: None,
        copy: None,
        coverage_end: None,
        deadline: None,
        remote_write_since: None,
        coverage: None,
        fill_from: primary.abs_data.clone(),
        ok: true,
    };
    report.step("flags", StepStatus::Ok, t, primary.describe());
    steps::check_not_seeded(&opts.to, &primary.data_dir)?;

    // 2. snapshot
    let t = Instant::now();
    let mut taken = steps::snapshot(&url, opts)?;
    // The head as it stood when the snapshot was taken (what skip_head costs).
    let skip_head = taken.skip_head;
    let head = if skip_head {
        steps::head_stats(&url, opts)
    } else {
        None
    };
    let path = primary.data_dir.join("snapshots").join(&taken.name);
    taken.path = path.clone();
    let (status, message) = taken.outcome();
    report.snapshot = Some(taken);
    report.step("snapshot", status, t, message);

    // 3. locate
    let t = Instant::now();
    if !path.is_dir() {
        return Err(SeedError::Usage(format!(
            concat!(
                "{}: the snapshot Prometheus reported is not there; is {} the ",
                "primary's data directory as seen from here?"
            ),
            path.display(),
            primary.data_dir.display()
        )));
    }
    let layout = crate::layout::scan(&path)?;
    report.step(
        "locate",
        StepStatus::Ok,
        t,
        format!("{} ({} blocks)", path.display(), layout.blocks.len()),
    );

    // 4. verify, 5. copy
    steps::verify_and_copy(&mut report, &path, opts)?;

    // 6. coverage
    steps::coverage(&mut report, &path, &primary, head.as_ref(), skip_head)?;
    Ok(report)
}
