//! The slave's log (`coverage --slave-log`): the remote-write requests it
//! refused, as Prometheus 2.42 logs them.
//!
//! 2.42's remote-write handler (`storage/remote/write_handler.go`) appends
//! a request's samples one series at a time and, at the first sample its
//! head refuses as out of bounds, out of order or a duplicate, logs one
//! line — `level=error component=web msg="Out of order sample from remote
//! write" err=… series=… timestamp=<ms>`, the series and time of that
//! sample — rolls the whole request back and answers 400, which the
//! master's queue drops without retrying (`sendSamples`: non-recoverable).
//! Other append errors answer 500 and are retried: no loss, no such line.
//! The handler logs without de-duplication, so the log holds one line per
//! refused request (the master's log, through a one-minute dedupe, does
//! not). A request holds its shard's samples in WAL order, so the first
//! refused sample is the request's oldest older than the head's minimum
//! valid time: where the request starts.
//!
//! Lines are read one at a time as the master's are ([`super::logline`]:
//! logfmt or `--log.format=json`, bare or in a journald or Docker JSON
//! envelope, detected per line), each cut at [`MAX_LINE`] bytes; a log in
//! which no line is one of these says so and is not used. Memory is
//! bounded: at most [`MAX_REFUSALS`] refusals are kept (past that the log
//! says it was cut, and is not used), and a few counters.
//!
//! A log may say that lines are missing from it: journald's rate-limit
//! notice (`Suppressed N messages from UNIT`) or a `# cut` note, the
//! project's form for a thinned log ([`missing`] documents both). Each is
//! kept as a [`Missing`] span; a note's oldest and newest first refused
//! samples (and every one it lists) are kept as refusals naming no series.
//! What the model makes of them: [`crate::coverage::model`]'s L3 from the
//! slave's log.

use std::collections::BTreeMap;
use std::io::BufRead;

use serde::Serialize;

use super::logline::fields;
pub use super::masterlog::MAX_LINE;
use super::masterlog::{LogSpan, is_zero};
pub use missing::{Missing, MissingKind};

/// Most refusals kept.
pub const MAX_REFUSALS: usize = 200_000;
/// Most distinct `err` texts counted.
pub const MAX_ERRS: usize = 16;
/// Most ready times kept (one per start of the slave).
pub const MAX_READY: usize = 1024;
/// The message of a refused request's line.
pub const REFUSED_MSG: &str = "Out of order sample from remote write";
/// The message the slave logs when it is ready.
pub const READY_MSG: &str = "Server is ready to receive web requests.";
/// How long before its ready line a given ready time may be for the log to
/// be taken from it ([`SlaveLog::ready_after`]): a time noted to the second.
pub const READY_SLACK: i64 = 1_000;

/// One request the slave refused (and the master dropped).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Refused {
    /// When it was logged (Unix ms): when the request was answered.
    pub at: i64,
    /// The first refused sample's time (`timestamp`, Unix ms): where the
    /// request starts.
    pub sample: i64,
    /// The first refused sample's series as the line names it (`series`,
    /// 2.42's `labels.String()`), as [`series_key`]; `None` when the line
    /// names none (no `series`, or an empty label set: no line 2.42 writes).
    #[serde(skip)]
    pub series: Option<u64>,
}

/// A series' key: FNV-1a (64 bit) of its label set as 2.42's
/// `labels.String()` writes it (`{a="x", b="y"}`), so that the series a
/// refusal names and a series the master's WAL creates are matched without
/// keeping their labels. `None` for an empty label set.
pub fn series_key(labels: &str) -> Option<u64> {
    let l = labels.trim();
    if l.is_empty() || l == "{}" {
        return None;
    }
    Some(l.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    }))
}

/// What the slave's log says about the requests it refused.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SlaveLog {
    /// The refused requests, in log order (not in the JSON: counted in
    /// `refused`).
    #[serde(skip)]
    pub refusals: Vec<Refused>,
    /// Refused requests logged.
    pub refused: u64,
    /// When the first and the last were logged (ms).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused_first_at: Option<i64>,
    /// When the last was logged (ms).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused_last_at: Option<i64>,
    /// The oldest first refused sample (ms).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sample_min: Option<i64>,
    /// The newest first refused sample (ms).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sample_max: Option<i64>,
    /// Refusals by `err` (`out of bounds`, `out of order sample`, …; at
    /// most [`MAX_ERRS`] texts, the rest under `other`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub errs: BTreeMap<String, u64>,
    /// Refusals whose line names no series (see [`Refused::series`]): a log
    /// holding one is not 2.42's own, line for line (a summary wrote it),
    /// and may lack others.
    #[serde(skip)]
    pub unnamed: u64,
    /// Refusal lines without a readable `timestamp` (not counted above).
    #[serde(skip_serializing_if = "is_zero")]
    pub refusals_without_sample: u64,
    /// When the slave said it was ready (`Server is ready …`), in log order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ready: Vec<i64>,
    /// Where the log starts and how far it reaches (`slave_log_at`).
    #[serde(flatten)]
    pub extent: LogSpan,
    /// True when refusals past [`MAX_REFUSALS`] (or missing spans past
    /// [`missing::MAX_MISSING`]) were not kept: not used.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
    /// The spans of wall time the log says lines are missing from
    /// (journald's rate limit, a `# cut` note: [`missing`]), in log order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<Missing>,
    /// Lines missing in all (the sum over `missing`).
    #[serde(skip_serializing_if = "is_zero")]
    pub missing_lines: u64,
    /// `# cut` notes of other lines than refusals (counted only).
    #[serde(skip_serializing_if = "is_zero")]
    pub other_cut_notes: u64,
}

impl SlaveLog {
    /// True when the log holds every refusal from `from` to `until`: it
    /// starts by `from` (or holds the slave's ready line less than
    /// [`READY_SLACK`] after it: [`Self::ready_after`]), reaches `until`,
    /// nothing was cut.
    pub fn covers(&self, from: i64, until: i64) -> bool {
        !self.truncated
            && (self.extent.first_ts.is_some_and(|t| t <= from) || self.ready_after(from).is_some())
            && self.extent.reaches().is_some_and(|t| t >= until)
    }

    /// The slave's own ready line when it is the log's first and less than
    /// [`READY_SLACK`] after `from` (a ready time noted to the second,
    /// truncated, is up to a second early): 2.42 answers remote write with
    /// 503 until it is ready (`/api/v1/write` behind `api.ready`,
    /// web/api/v1/api.go; `SetReady(true)` just before the `Server is
    /// ready` line, cmd/prometheus/main.go), which the master's queue
    /// retries (a 5xx is recoverable): from `from` to that line the slave
    /// refused no request the master dropped, so the log, which holds every
    /// line from the ready line on, holds every such refusal from `from`.
    pub fn ready_after(&self, from: i64) -> Option<i64> {
        let &r = self.ready.first()?;
        (r >= from && r < from.saturating_add(READY_SLACK) && self.extent.first_ts <= Some(r))
            .then_some(r)
    }

    /// One line for a human.
    pub fn summary(&self) -> String {
        if let Some(n) = self.extent.unrecognised_note() {
            return format!("not used: {n}");
        }
        if self.truncated {
            return format!(
                "not used: more than {MAX_REFUSALS} refused requests or {} spans of missing lines",
                missing::MAX_MISSING
            );
        }
        let samples = match (self.sample_min, self.sample_max) {
            (Some(a), Some(b)) => format!(
                ", their first refused samples {} … {}",
                super::fmt_time(a),
                super::fmt_time(b)
            ),
            _ => String::new(),
        };
        let missing = if self.missing_lines > 0 {
            format!(
                "; {} line(s) missing ({} span(s): journald's rate limit or a cut note)",
                self.missing_lines,
                self.missing.len()
            )
        } else {
            String::new()
        };
        format!(
            "refused remote-write requests {}{samples}; covers {}{missing}",
            self.refused,
            self.extent.span()
        )
    }

    fn push(&mut self, r: Refused, err: Option<&str>) {
        if self.refusals.len() >= MAX_REFUSALS {
            self.truncated = true;
            return;
        }
        self.refusals.push(r);
        self.refused += 1;
        if r.series.is_none() {
            self.unnamed += 1;
        }
        self.refused_first_at = Some(self.refused_first_at.map_or(r.at, |f| f.min(r.at)));
        self.refused_last_at = self.refused_last_at.max(Some(r.at));
        self.sample_min = Some(self.sample_min.map_or(r.sample, |f| f.min(r.sample)));
        self.sample_max = self.sample_max.max(Some(r.sample));
        let err = err.unwrap_or("");
        let key = if self.errs.contains_key(err) || self.errs.len() < MAX_ERRS {
            err
        } else {
            "other"
        };
        *self.errs.entry(key.to_string()).or_insert(0) += 1;
    }
}

/// Reads a slave's log.
pub fn parse<R: BufRead>(mut r: R) -> std::io::Result<SlaveLog> {
    let mut out = SlaveLog::default();
    let mut buf = Vec::new();
    let mut pending = missing::Pending::default();
    while let Some(cut) = next_line(&mut r, &mut buf)? {
        let text = String::from_utf8_lossy(&buf);
        if missing::read(&text, &mut out, &mut pending) {
            continue;
        }
        let f = fields(&text);
        let get = |k: &str| f.get(k);
        let Some(ts) = out.extent.line(&f, cut) else {
            continue;
        };
        pending.line_at(&mut out, ts);
        match get("msg") {
            Some(REFUSED_MSG) => {
                match get("timestamp")
                    .and_then(|v| v.parse::<i64>().ok())
                    .filter(|&t| super::plausible(t))
                {
                    Some(sample) => {
                        let series = get("series").and_then(series_key);
                        out.push(
                            Refused {
                                at: ts,
                                sample,
                                series,
                            },
                            get("err"),
                        );
                    }
                    None => out.refusals_without_sample += 1,
                }
            }
            Some(READY_MSG) if out.ready.len() < MAX_READY => out.ready.push(ts),
            _ => {}
        }
    }
    pending.finish(&mut out);
    out.extent.finish();
    Ok(out)
}

/// Reads a slave's log held in memory (never fails).
pub fn parse_bytes(data: &[u8]) -> SlaveLog {
    parse(data).unwrap_or_default()
}

/// The log as taken at `at` (every line up to it in it): `Err` with its
/// last line's time when that comes after `at`.
pub fn taken_at(mut log: SlaveLog, at: Option<i64>) -> Result<SlaveLog, i64> {
    log.extent.taken_at(at)?;
    Ok(log)
}

/// The next line into `buf`, at most [`MAX_LINE`] bytes of it (as the
/// master's log is read).
fn next_line<R: BufRead>(r: &mut R, buf: &mut Vec<u8>) -> std::io::Result<Option<bool>> {
    super::masterlog::next_line(r, buf)
}

#[path = "slavelog_missing.rs"]
pub mod missing;

#[cfg(test)]
#[path = "slavelog_tests.rs"]
mod tests;
