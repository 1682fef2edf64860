//! Where a refused request's first sample sits among its shard's samples of
//! a scrape (issue 14: a refused request's far end), from the master's WAL.
//!
//! The facts (Prometheus 2.42): the slave's handler names the first refused
//! sample's series in its line (`series=`, `labels.String()`:
//! `{a="x", b="y"}`, each value as Go's `strconv.Quote` writes it;
//! [`crate::coverage::slavelog`]). The master's queue puts a sample on
//! shard `ref % n` (`shards.enqueue`, storage/remote/queue_manager.go) in
//! WAL order, and a batch holds `max_samples_per_send` samples of one
//! shard: a request starting at the `j`-th of its shard's `per` samples of
//! a scrape ends `⌊(j + max_samples_per_send − 1) / per⌋` scrapes later
//! (one target: every scrape's samples record lists the same refs in the
//! same order, [`crate::coverage::scrapes`]). The series record that
//! created the series gives its ref (matched on its labels written as the
//! slave writes them), and a samples record holding that ref gives the
//! order: `j` and `per` for any `n`.
//!
//! Read: the series records of the newest checkpoint and of every segment
//! (until every series asked for is found), then the samples records of the
//! newest [`MAX_SEGMENTS`] segments; kept: the refs of the series asked for
//! and the newest samples record holding each (at most [`MAX_RECORDS`]
//! records of at most [`MAX_RECORD_SAMPLES`] samples).

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};

use crate::coverage::slavelog::series_key;
use crate::format::record::{self, RecordType};
use crate::format::wal::RecordReader;

/// Newest live segments whose samples records are read.
const MAX_SEGMENTS: usize = 3;
/// Distinct samples records kept (one per target holding a series asked
/// for: each target's records start with its first ref).
pub const MAX_RECORDS: usize = 64;
/// Samples a kept record holds at most.
pub const MAX_RECORD_SAMPLES: usize = 1_000_000;

/// The series named by the slave's refusals, placed in the master's WAL.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Places {
    /// Series key ([`series_key`]) → its ref.
    refs: BTreeMap<u64, u64>,
    /// Ref → the first ref of the newest samples record holding it.
    record_of: BTreeMap<u64, u64>,
    /// First ref → that record's refs, in record order.
    records: BTreeMap<u64, Vec<u64>>,
}

/// A series' place among its shard's samples of one scrape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    /// Samples of its shard before it in the scrape's record.
    pub before: u64,
    /// Samples of its shard in the record.
    pub per: u64,
    /// Samples in the record (the target's series a scrape).
    pub record: u64,
}

impl Places {
    /// Places the series of `keys` from the WAL directory `wal`; `None`
    /// when none is found.
    pub fn read(wal: &Path, keys: &BTreeSet<u64>) -> Option<Places> {
        if keys.is_empty() {
            return None;
        }
        let (checkpoint, segments) = files(wal);
        let mut p = Places::default();
        for f in checkpoint.iter().chain(&segments) {
            if p.refs.len() == keys.len() {
                break;
            }
            p.series_from(f, keys);
        }
        if p.refs.is_empty() {
            return None;
        }
        let wanted: HashSet<u64> = p.refs.values().copied().collect();
        let newest = &segments[segments.len().saturating_sub(MAX_SEGMENTS)..];
        for f in newest {
            p.records_from(f, &wanted);
        }
        Some(p)
    }

    /// The place of the series of key `key` with `n` shards, when its ref
    /// and a samples record holding it are known.
    pub fn place(&self, key: u64, n: u64) -> Option<Place> {
        let r = *self.refs.get(&key)?;
        let rec = self.records.get(self.record_of.get(&r)?)?;
        let n = n.max(1);
        let shard = r % n;
        let at = rec.iter().position(|&x| x == r)?;
        let same = |x: &&u64| **x % n == shard;
        Some(Place {
            before: rec[..at].iter().filter(same).count() as u64,
            per: rec.iter().filter(same).count() as u64,
            record: rec.len() as u64,
        })
    }

    /// One target's record `record` (refs in order) and the series keys
    /// `named` (key, ref) placed in it (tests of the model).
    #[cfg(test)]
    pub(crate) fn of_record(record: Vec<u64>, named: &[(u64, u64)]) -> Places {
        let first = record.first().copied().unwrap_or(0);
        Places {
            refs: named.iter().copied().collect(),
            record_of: named.iter().map(|&(_, r)| (r, first)).collect(),
            records: [(first, record)].into_iter().collect(),
        }
    }

    /// Series placed.
    pub fn len(&self) -> usize {
        self.refs.len()
    }

    /// True when no series is placed.
    pub fn is_empty(&self) -> bool {
        self.refs.is_empty()
    }

    fn series_from(&mut self, f: &Path, keys: &BTreeSet<u64>) {
        let Ok(bytes) = crate::fileutil::wal_segment_bytes(f) else {
            return;
        };
        let mut rd = RecordReader::new(&bytes);
        while let Some(Ok(rec)) = rd.next_record() {
            if record::record_type(rec.data) != Some(RecordType::Series) {
                continue;
            }
            let _ = record::for_each_series(rec.data, rec.offset, |r, l| {
                if let Some(k) = series_key(&labels_string(&l.to_vec()))
                    && keys.contains(&k)
                {
                    self.refs.insert(k, r.get());
                }
            });
        }
    }

    fn records_from(&mut self, f: &Path, wanted: &HashSet<u64>) {
        let Ok(bytes) = crate::fileutil::wal_segment_bytes(f) else {
            return;
        };
        let mut rd = RecordReader::new(&bytes);
        let mut refs = Vec::new();
        while let Some(Ok(rec)) = rd.next_record() {
            if record::record_type(rec.data) != Some(RecordType::Samples) {
                continue;
            }
            refs.clear();
            let mut holds = false;
            let _ = record::for_each_sample(rec.data, rec.offset, |r, _, _| {
                if refs.len() < MAX_RECORD_SAMPLES {
                    refs.push(r.get());
                    holds |= wanted.contains(&r.get());
                }
            });
            let Some(&first) = refs.first() else {
                continue;
            };
            if !holds || (self.records.len() >= MAX_RECORDS && !self.records.contains_key(&first)) {
                continue;
            }
            for r in refs.iter().filter(|r| wanted.contains(r)) {
                self.record_of.insert(*r, first);
            }
            self.records.insert(first, refs.clone());
        }
    }
}

/// The newest checkpoint's segments and the live segments of `wal`, each
/// in order.
fn files(wal: &Path) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let digits = |n: &str| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit());
    let list = |d: &Path| -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(d)
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    };
    let names = list(wal);
    let segments = names
        .iter()
        .filter(|n| n.len() == 8 && digits(n))
        .map(|n| wal.join(n))
        .collect();
    let checkpoint = names
        .iter()
        .filter(|n| {
            n.strip_prefix("checkpoint.")
                .is_some_and(|s| digits(s) && !s.contains('.'))
        })
        .max()
        .map(|c| {
            let d = wal.join(c);
            list(&d)
                .into_iter()
                .filter(|n| digits(n))
                .map(|n| d.join(n))
                .collect()
        })
        .unwrap_or_default();
    (checkpoint, segments)
}

/// A label set as 2.42's `labels.String()` writes it (the slave's
/// `series=`): `{name="value", …}` in the given (sorted) order, each value
/// quoted as Go's `strconv.Quote` does for printable text and the usual
/// escapes.
pub fn labels_string(pairs: &[(String, String)]) -> String {
    let mut s = String::from("{");
    for (i, (n, v)) in pairs.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        s.push_str(n);
        s.push('=');
        go_quote(&mut s, v);
    }
    s.push('}');
    s
}

fn go_quote(s: &mut String, v: &str) {
    s.push('"');
    for c in v.chars() {
        match c {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            '\n' => s.push_str("\\n"),
            '\t' => s.push_str("\\t"),
            '\r' => s.push_str("\\r"),
            '\u{7}' => s.push_str("\\a"),
            '\u{8}' => s.push_str("\\b"),
            '\u{c}' => s.push_str("\\f"),
            '\u{b}' => s.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                s.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => s.push(c),
        }
    }
    s.push('"');
}

#[cfg(test)]
#[path = "places_tests.rs"]
mod tests;
