//! Policy: walk blocks and directories, call the decoders, and turn every
//! problem into a [`Finding`] — then keep going. One bad block, section or
//! chunk never hides the next.
//!
//! Severities: `error` (data is damaged or Prometheus will refuse or lose it),
//! `warning` (sound but surprising: Prometheus will repair, merge or delete
//! something), `info` (worth knowing). Codes are stable snake_case strings.

use std::path::{Path, PathBuf};

use serde::Serialize;

pub mod block;
pub mod codes;
pub mod dir;
pub mod verdict;
pub mod wal;

pub use block::{BlockCheck, CheckOptions, verify_block};
pub use dir::{DirCheck, verify_dir};

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing.
    Info,
    /// Sound, but Prometheus will repair, merge or delete something.
    Warning,
    /// Damaged, or data Prometheus will refuse or lose.
    Error,
}

impl Severity {
    /// Upper-case name for human output.
    pub fn label(self) -> &'static str {
        match self {
            Severity::Info => "INFO",
            Severity::Warning => "WARNING",
            Severity::Error => "ERROR",
        }
    }
}

/// One problem found, with where it is and what it costs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// Severity.
    pub severity: Severity,
    /// Stable snake_case code, e.g. `chunk_checksum_mismatch`.
    pub code: &'static str,
    /// The file or directory the finding is about.
    pub path: PathBuf,
    /// Absolute byte offset in that file, when meaningful.
    pub offset: Option<u64>,
    /// ULID of the block, when the finding is inside one.
    pub block: Option<String>,
    /// The series, formatted as `{name="value", ...}`, when known.
    pub series: Option<String>,
    /// The time range `[from, to)` (ms) that would be lost if the damaged
    /// structure were dropped, when known.
    pub time_range: Option<[i64; 2]>,
    /// One sentence.
    pub message: String,
}

impl Finding {
    /// A finding with only the required fields set.
    pub fn new(
        severity: Severity,
        code: &'static str,
        path: &Path,
        message: impl Into<String>,
    ) -> Self {
        Finding {
            severity,
            code,
            path: path.to_path_buf(),
            offset: None,
            block: None,
            series: None,
            time_range: None,
            message: message.into(),
        }
    }

    /// Sets the offset.
    pub fn at(mut self, offset: u64) -> Self {
        self.offset = Some(offset);
        self
    }

    /// Sets the block ULID.
    pub fn in_block(mut self, ulid: &str) -> Self {
        self.block = Some(ulid.to_string());
        self
    }

    /// Sets the series.
    pub fn series(mut self, s: impl Into<String>) -> Self {
        self.series = Some(s.into());
        self
    }

    /// Sets the time range `[from, to)` the damage costs.
    pub fn costs(mut self, from: i64, to: i64) -> Self {
        self.time_range = Some([from, to]);
        self
    }

    /// True for errors.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Counts of findings by severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    /// Errors.
    pub errors: u64,
    /// Warnings.
    pub warnings: u64,
    /// Infos.
    pub infos: u64,
}

impl Tally {
    /// Counts `findings`.
    pub fn of(findings: &[Finding]) -> Tally {
        let mut t = Tally::default();
        for f in findings {
            match f.severity {
                Severity::Error => t.errors += 1,
                Severity::Warning => t.warnings += 1,
                Severity::Info => t.infos += 1,
            }
        }
        t
    }
}
