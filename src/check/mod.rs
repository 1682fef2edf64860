//! Policy: walk blocks and directories, call the decoders, and turn every
//! problem into a [`Finding`] — then keep going. One bad block, section or
//! chunk never hides the next.
//!
//! Severities: `error` (data is damaged or Prometheus will refuse or lose it),
//! `warning` (sound but surprising: Prometheus will repair, merge or delete
//! something), `info` (worth knowing). Codes are one enum, [`FindingCode`],
//! serialized as stable snake_case strings.

use std::path::{Path, PathBuf};

use serde::Serialize;

pub mod block;
pub mod codes;
pub mod dir;
pub mod verdict;
pub mod wal;

pub use block::{BlockCheck, CheckOptions, verify_block};
pub use codes::FindingCode;
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
    pub code: FindingCode,
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
        code: FindingCode,
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

/// How many findings of one code in one file are kept in full (with offset,
/// series and time range); the rest are counted in a [`FindingGroup`].
pub const KEEP_PER_GROUP: u64 = 10;

/// At most this many disjoint time ranges are kept per group; past it the
/// two closest ranges are merged (and the group says so).
pub const MAX_GROUP_RANGES: usize = 64;

/// All findings of one code in one file, counted: the first
/// [`KEEP_PER_GROUP`] are kept in full, the others only add to the count and
/// to the merged time ranges. Memory stays bounded whatever the damage.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FindingGroup {
    /// The most severe severity seen.
    pub severity: Severity,
    /// The code.
    pub code: FindingCode,
    /// The file.
    pub path: PathBuf,
    /// ULID of the block, when inside one.
    pub block: Option<String>,
    /// Findings of this code in this file, all of them.
    pub count: u64,
    /// How many of them are listed in full among the findings.
    pub listed: u64,
    /// The union of their time ranges `[from, to)` (ms), sorted, disjoint.
    pub time_ranges: Vec<[i64; 2]>,
    /// True when ranges were merged across gaps to stay within
    /// [`MAX_GROUP_RANGES`]: then the union is an over-approximation.
    pub time_ranges_widened: bool,
}

impl FindingGroup {
    fn new(f: &Finding) -> Self {
        FindingGroup {
            severity: f.severity,
            code: f.code,
            path: f.path.clone(),
            block: f.block.clone(),
            count: 0,
            listed: 0,
            time_ranges: Vec::new(),
            time_ranges_widened: false,
        }
    }

    /// Adds `[a, b)` to the union of ranges.
    pub fn add_range(&mut self, a: i64, b: i64) {
        let r = &mut self.time_ranges;
        // First range whose end reaches a, last whose start is within b.
        let lo = r.partition_point(|x| x[1] < a);
        let hi = r.partition_point(|x| x[0] <= b);
        if lo < hi {
            let na = r[lo][0].min(a);
            let nb = r[hi - 1][1].max(b);
            r.drain(lo + 1..hi);
            r[lo] = [na, nb];
        } else {
            r.insert(lo, [a, b]);
        }
        if r.len() > MAX_GROUP_RANGES {
            let i = (0..r.len() - 1)
                .min_by_key(|&i| r[i + 1][0].saturating_sub(r[i][1]))
                .unwrap_or(0);
            r[i][1] = r[i][1].max(r[i + 1][1]);
            r.remove(i + 1);
            self.time_ranges_widened = true;
        }
    }

    fn absorb(&mut self, o: &FindingGroup) {
        self.severity = self.severity.max(o.severity);
        self.count += o.count;
        self.time_ranges_widened |= o.time_ranges_widened;
        for &[a, b] in &o.time_ranges {
            self.add_range(a, b);
        }
    }
}

/// A bounded collection of findings: every finding is counted in its group
/// (code and file); the first [`KEEP_PER_GROUP`] of each group are kept.
#[derive(Debug, Clone, Default)]
pub struct Findings {
    kept: Vec<Finding>,
    groups: Vec<FindingGroup>,
    by_code: std::collections::HashMap<FindingCode, Vec<usize>>,
}

impl Findings {
    fn group(&mut self, f: &Finding) -> &mut FindingGroup {
        let idx = self.by_code.entry(f.code).or_default();
        let i = match idx.iter().find(|&&i| self.groups[i].path == f.path) {
            Some(&i) => i,
            None => {
                self.groups.push(FindingGroup::new(f));
                idx.push(self.groups.len() - 1);
                self.groups.len() - 1
            }
        };
        &mut self.groups[i]
    }

    /// Counts `f`, and keeps it if its group has room.
    pub fn push(&mut self, f: Finding) {
        let g = self.group(&f);
        g.count += 1;
        g.severity = g.severity.max(f.severity);
        if let Some([a, b]) = f.time_range {
            g.add_range(a, b);
        }
        if g.listed < KEEP_PER_GROUP {
            g.listed += 1;
            self.kept.push(f);
        }
    }

    /// Counts `f` without keeping it.
    pub fn count_only(&mut self, f: &Finding) {
        let g = self.group(f);
        g.count += 1;
        g.severity = g.severity.max(f.severity);
        if let Some([a, b]) = f.time_range {
            g.add_range(a, b);
        }
    }

    /// True if a group with this code has room for one more kept finding.
    pub fn has_room(&self, code: FindingCode, path: &Path) -> bool {
        self.by_code.get(&code).is_none_or(|idx| {
            idx.iter()
                .find(|&&i| self.groups[i].path == path)
                .is_none_or(|&i| self.groups[i].listed < KEEP_PER_GROUP)
        })
    }

    /// Takes in everything `other` holds: its groups' counts and ranges, and
    /// its kept findings while there is room.
    pub fn absorb(&mut self, other: Findings) {
        for og in &other.groups {
            let probe = Finding {
                block: og.block.clone(),
                ..Finding::new(og.severity, og.code, &og.path, "")
            };
            let g = self.group(&probe);
            // The kept ones are counted again below, as they are pushed.
            let mut o = og.clone();
            o.count -= o.listed;
            g.absorb(&o);
        }
        for f in other.kept {
            let g = self.group(&f);
            g.count += 1;
            if g.listed < KEEP_PER_GROUP {
                g.listed += 1;
                self.kept.push(f);
            }
        }
    }

    /// Pushes every finding of `it`.
    pub fn extend(&mut self, it: impl IntoIterator<Item = Finding>) {
        for f in it {
            self.push(f);
        }
    }

    /// The kept findings.
    pub fn iter(&self) -> std::slice::Iter<'_, Finding> {
        self.kept.iter()
    }

    /// Every finding counted, kept or not, by severity.
    pub fn tally(&self) -> Tally {
        let mut t = Tally::default();
        for g in &self.groups {
            t.add(g.severity, g.count);
        }
        t
    }

    /// The kept findings, and the groups of which some were not kept.
    pub fn into_parts(self) -> (Vec<Finding>, Vec<FindingGroup>) {
        let groups = self
            .groups
            .into_iter()
            .filter(|g| g.count > g.listed)
            .collect();
        (self.kept, groups)
    }
}

impl Tally {
    /// Adds `n` findings of severity `s`.
    pub fn add(&mut self, s: Severity, n: u64) {
        match s {
            Severity::Error => self.errors += n,
            Severity::Warning => self.warnings += n,
            Severity::Info => self.infos += n,
        }
    }

    /// Counts `findings` and the findings `groups` counted but did not list.
    pub fn of_all(findings: &[Finding], groups: &[FindingGroup]) -> Tally {
        let mut t = Tally::of(findings);
        for g in groups {
            t.add(g.severity, g.count - g.listed);
        }
        t
    }
}

#[cfg(test)]
mod group_tests {
    use super::*;

    #[test]
    fn ranges_merge_and_stay_bounded() {
        let f = Finding::new(
            Severity::Error,
            FindingCode::ChunkCorrupt,
            Path::new("p"),
            "",
        );
        let mut g = FindingGroup::new(&f);
        g.add_range(10, 20);
        g.add_range(30, 40);
        g.add_range(20, 30);
        assert_eq!(g.time_ranges, vec![[10, 40]]);
        g.add_range(0, 5);
        g.add_range(50, 60);
        assert_eq!(g.time_ranges, vec![[0, 5], [10, 40], [50, 60]]);
        for i in 0..1000 {
            g.add_range(100 + i * 10, 105 + i * 10);
        }
        assert!(g.time_ranges.len() <= MAX_GROUP_RANGES);
        assert!(g.time_ranges_widened);
        assert_eq!(g.time_ranges[0][0], 0);
        let covered: i64 = g.time_ranges.iter().map(|r| r[1] - r[0]).sum();
        assert!(covered >= 5 + 30 + 10 + 1000 * 5);
        assert_eq!(g.time_ranges.last().unwrap()[1], 100 + 999 * 10 + 5);
    }

    #[test]
    fn findings_keep_a_few_and_count_all() {
        let mut a = Findings::default();
        let mut b = Findings::default();
        for i in 0..100 {
            let f = Finding::new(
                Severity::Error,
                FindingCode::ChunkCorrupt,
                Path::new("p"),
                "",
            )
            .costs(i, i + 1);
            if i % 2 == 0 { a.push(f) } else { b.push(f) }
        }
        a.absorb(b);
        assert_eq!(a.tally().errors, 100);
        let (kept, groups) = a.into_parts();
        assert_eq!(kept.len() as u64, KEEP_PER_GROUP);
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].count, 100);
        assert_eq!(groups[0].time_ranges, vec![[0, 100]]);
        assert_eq!(Tally::of_all(&kept, &groups).errors, 100);
    }
}
