//! The slave's head (`coverage --slave DIR`): what a slave holds outside
//! its blocks. A slave with 2.42's default 2 h blocks keeps what it received
//! in its head for hours — its `wal/` (segments and the newest checkpoint)
//! and the chunks its head m-mapped to `chunks_head/` — so its blocks alone
//! say nothing of a young slave. Read with the readers the crate has
//! ([`super::walread::read_wal`], [`crate::walinfo::inspect_chunks_head`]):
//! time ranges and counts per file, one file at a time; memory is bounded
//! by the series count (the refs a segment names), never by the samples.
//!
//! Every sample a slave seeded from a snapshot holds past its blocks is at
//! or after the coverage end (its head's minimum valid time): the master's
//! samples it received by remote write, and the samples of any target the
//! slave scrapes itself (not told apart here: the slave's own scrape
//! configs are not in its data dir).

use std::path::Path;

use serde::Serialize;

use super::walread::read_wal;
use super::{fmt_time, plausible};
use crate::walinfo;

/// What the slave's head holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SlaveHead {
    /// WAL segments read.
    pub wal_segments: usize,
    /// The newest complete checkpoint, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<String>,
    /// Oldest and newest sample time in the WAL (checkpoint and segments).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wal_min_t: Option<i64>,
    /// Newest sample time in the WAL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wal_max_t: Option<i64>,
    /// `chunks_head/` files read and chunks in them.
    pub chunks_head_files: usize,
    /// Chunks in them.
    pub chunks_head_chunks: u64,
    /// Oldest chunk start in `chunks_head/` (ms).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chunks_head_min_t: Option<i64>,
    /// Newest chunk end in `chunks_head/` (ms).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chunks_head_max_t: Option<i64>,
    /// The oldest sample the head holds (ms): in a slave seeded from the
    /// snapshot, at or after the coverage end.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_received: Option<i64>,
    /// The newest (ms).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_received: Option<i64>,
    /// What could not be read, or was read from a live or torn directory.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl SlaveHead {
    /// One line for a human.
    pub fn summary(&self) -> String {
        let ckpt = self
            .checkpoint
            .as_ref()
            .map_or(String::new(), |c| format!(" and {c}"));
        let received = match (self.first_received, self.last_received) {
            (Some(a), Some(b)) => format!("samples {} … {}", fmt_time(a), fmt_time(b)),
            _ => "no sample".to_string(),
        };
        format!(
            "{received} (WAL: {} segment(s){ckpt}; chunks_head: {} chunk(s))",
            self.wal_segments, self.chunks_head_chunks
        )
    }
}

fn widen(range: &mut Option<(i64, i64)>, t: Option<i64>) {
    let Some(t) = t.filter(|&t| plausible(t)) else {
        return;
    };
    *range = Some(range.map_or((t, t), |(a, b)| (a.min(t), b.max(t))));
}

/// Reads the head of the slave's data dir `dir`; a sample before
/// `coverage_end` (the slave's minimum valid time) gets a note. `None` when
/// the dir holds neither `wal/` nor `chunks_head/`.
pub fn read(dir: &Path, coverage_end: Option<i64>) -> Option<SlaveHead> {
    let (wal, chunks) = (dir.join("wal"), dir.join("chunks_head"));
    if !wal.is_dir() && !chunks.is_dir() {
        return None;
    }
    let mut h = SlaveHead::default();
    let mut received = None;
    if wal.is_dir() {
        match read_wal(&wal, None) {
            Ok(v) => {
                h.wal_segments = v.segments.len();
                h.checkpoint = v.checkpoint.as_ref().map(|c| c.name.clone());
                let all = v.segments.iter().chain(v.checkpoint.as_ref());
                for s in all {
                    widen(&mut received, s.min_t);
                    widen(&mut received, s.max_t);
                    h.wal_min_t = min_opt(h.wal_min_t, s.min_t);
                    h.wal_max_t = h.wal_max_t.max(s.max_t);
                }
                if let Some(last) = v.segments.last()
                    && !last.last_record_ok
                    && last
                        .problem
                        .as_deref()
                        .is_some_and(|p| p.starts_with("torn"))
                {
                    h.notes.push(format!(
                        "the slave's newest WAL segment {} ends mid-record (a live slave, or a \
                         copy taken while it ran): read up to the cut",
                        last.name
                    ));
                }
                h.notes
                    .extend(v.findings.iter().map(|f| format!("slave WAL: {f}")));
            }
            Err(e) => h.notes.push(format!("slave WAL unreadable: {e}")),
        }
    }
    if chunks.is_dir() {
        match walinfo::inspect_chunks_head(&chunks) {
            Ok(r) => {
                h.chunks_head_files = r.files.len();
                h.chunks_head_chunks = r.chunks;
                let (a, b) = (r.time.min_t, r.time.max_t);
                h.chunks_head_min_t = a.filter(|&t| plausible(t));
                h.chunks_head_max_t = b.filter(|&t| plausible(t));
                widen(&mut received, h.chunks_head_min_t);
                widen(&mut received, h.chunks_head_max_t);
                for f in &r.files {
                    if let Some(p) = &f.corruption
                        && !f.deleted_on_startup
                    {
                        h.notes.push(format!(
                            "slave chunks_head/{}: damaged at offset {}: {}; the rest is unread",
                            f.name, p.offset, p.message
                        ));
                    }
                    if let Some(e) = &f.read_error {
                        h.notes
                            .push(format!("slave chunks_head/{}: unreadable: {e}", f.name));
                    }
                }
            }
            Err(e) => h.notes.push(format!("slave chunks_head unreadable: {e}")),
        }
    }
    h.first_received = received.map(|r| r.0);
    h.last_received = received.map(|r| r.1);
    if let (Some(first), Some(c)) = (h.first_received, coverage_end)
        && first < c
    {
        h.notes.push(format!(
            "the slave's head holds samples from {}, before the coverage end {}: a slave seeded \
             from this snapshot holds none (its head refuses them); another snapshot, or a data \
             dir that was not seeded from it?",
            fmt_time(first),
            fmt_time(c)
        ));
    }
    Some(h)
}

fn min_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (x, None) | (None, x) => x,
    }
}

/// The windows the slave's first sample after the coverage end contradicts:
/// a window that loses every series (L1, L2, L6; not a risk) from `from` to
/// at least `to_earliest` cannot be right if the slave holds a sample of the
/// master's after `from` and before that end — unless that sample is of a
/// target the slave scrapes itself, which its data dir does not tell. So a
/// warning each, naming the window and the sample; the window is kept.
pub fn contradicted(windows: &[super::LossWindow], first: i64) -> Vec<String> {
    use super::{Cause, Certainty};
    windows
        .iter()
        .filter(|w| {
            matches!(w.cause, Cause::L1 | Cause::L2 | Cause::L6)
                && w.series.is_none()
                && w.certainty != Certainty::Risk
                && first > w.from
                && first < w.to_earliest.unwrap_or(w.to)
        })
        .map(|w| {
            format!(
                "the slave holds a sample at {} (its first after the coverage end), inside \
                 the {:?} window {} … {} that loses every series until at least {}: received \
                 from the master, it contradicts that window (the slave's own scrapes, if it has \
                 any scrape configs, are not told apart here; the window is kept)",
                fmt_time(first),
                w.cause,
                fmt_time(w.from),
                fmt_time(w.to),
                fmt_time(w.to_earliest.unwrap_or(w.to))
            )
        })
        .collect()
}

#[cfg(test)]
#[path = "slavehead_tests.rs"]
mod tests;
