//! `promsnap gaps`: per-series holes in a block, data or snapshot directory,
//! and — with another directory to hold it against — the samples the other
//! one has and this one has not: the real loss of a replica.
//!
//! A **hole** is a step between two consecutive samples of a series longer
//! than 1.5 × that series' usual interval (its median step, or the given
//! interval). **Missing** samples are timestamps present in OTHER and absent
//! in DIR for the same label set; consecutive ones form a run.
//!
//! Samples come from every block (tombstones applied) and, for data
//! directories, from the head's WAL (checkpoint + segments). Series stream
//! by in label order (merged across blocks and the head; the two
//! directories joined by label set): memory holds one series per block plus
//! the replayed head, and one range per hole or missing run found.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::dump::format_labels;
use crate::selector::Matcher;

pub(crate) mod relabel;
pub mod stream;
pub use relabel::LabelOnlyInDir;
use stream::{Opened, Select, borrowed};

/// What to look at.
#[derive(Debug, Clone)]
pub struct GapsOptions {
    /// Series selectors (union); empty: all series.
    pub selectors: Vec<Vec<Matcher>>,
    /// The usual interval (ms); `None`: each series' median step.
    pub interval: Option<i64>,
    /// Inclusive lower time bound (ms).
    pub from: i64,
    /// Inclusive upper time bound (ms).
    pub to: i64,
    /// Label names dropped from every series of both directories before
    /// they are joined (a master's `external_labels`, which remote write
    /// adds to the replica's series): series equal without them become one.
    pub drop_labels: Vec<String>,
}

impl Default for GapsOptions {
    fn default() -> Self {
        GapsOptions {
            selectors: Vec::new(),
            interval: None,
            from: i64::MIN,
            to: i64::MAX,
            drop_labels: Vec::new(),
        }
    }
}

pub use stream::Labels;

/// What a directory's samples were read from.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Sources {
    /// The directory.
    pub path: PathBuf,
    /// Blocks read.
    pub blocks: usize,
    /// Max maxTime over the blocks (ms).
    pub blocks_until: Option<i64>,
    /// True if the head (`chunks_head/`, `wal/`) was read.
    pub wal: bool,
    /// Newest sample time of the head (ms).
    pub wal_until: Option<i64>,
    /// Series read.
    pub series: usize,
    /// Samples read.
    pub samples: u64,
}

/// A hole in one series: no sample strictly between `from` and `to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Hole {
    /// Last sample before the hole (ms).
    pub from: i64,
    /// First sample after it (ms).
    pub to: i64,
}

/// A run of samples OTHER has and DIR has not (inclusive sample times).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Run {
    /// First missing sample (ms).
    pub from: i64,
    /// Last missing sample (ms).
    pub to: i64,
    /// Missing samples.
    pub samples: u64,
}

/// Holes or runs of one series.
#[derive(Debug, Clone, Serialize)]
pub struct SeriesGaps<T> {
    /// `{labels}`.
    pub series: String,
    /// Its usual interval (ms).
    pub interval: i64,
    /// Holes or runs, by time.
    pub ranges: Vec<T>,
}

/// Ranges merged across series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Merged {
    /// Start (ms).
    pub from: i64,
    /// End (ms).
    pub to: i64,
    /// Series with a hole / run in it.
    pub series: u64,
    /// Missing samples (0 for holes).
    pub samples: u64,
}

/// Per-series and merged ranges.
#[derive(Debug, Clone, Serialize)]
pub struct GapSet<T> {
    /// Merged across series, by time.
    pub merged: Vec<Merged>,
    /// Per series, sorted by label set.
    pub per_series: Vec<SeriesGaps<T>>,
}

/// The answer of `gaps`.
#[derive(Debug, Clone, Serialize)]
pub struct GapsReport {
    /// What DIR's samples came from.
    pub dir: Sources,
    /// What OTHER's samples came from.
    pub against: Option<Sources>,
    /// Time bounds applied (ms).
    pub from: Option<i64>,
    /// Time bounds applied (ms).
    pub to: Option<i64>,
    /// The interval given (`None`: per-series median).
    pub interval: Option<i64>,
    /// Holes in DIR's series.
    pub holes: GapSet<Hole>,
    /// With `--against`: what OTHER has and DIR has not.
    pub missing: Option<GapSet<Run>>,
    /// With `--against`: label names DIR's series carry and no series of
    /// OTHER has (after `drop_labels`), e.g. a master's external labels
    /// that remote write added: such series are joined with none of
    /// OTHER's, whose samples then count as missing.
    pub labels_only_in_dir: Vec<LabelOnlyInDir>,
    /// Label names a DIR series carries on top of an OTHER series' whole
    /// label set that lacks them, while other OTHER series use the name
    /// (an external label the master's own series name too); looked for
    /// when nothing is dropped and `labels_only_in_dir` is empty.
    pub labels_added_in_dir: Vec<LabelOnlyInDir>,
    /// The label names dropped before the join.
    pub dropped_labels: Vec<String>,
    /// Damaged structures skipped.
    pub errors: Vec<String>,
}

/// Median step of a sorted series (None below two samples).
pub fn median_step(ts: &[i64]) -> Option<i64> {
    let mut d: Vec<i64> = ts
        .windows(2)
        .filter_map(|w| Some(w.get(1)?.saturating_sub(*w.first()?)))
        .collect();
    if d.is_empty() {
        return None;
    }
    d.sort_unstable();
    d.get(d.len() / 2).copied()
}

/// Holes of one sorted series.
pub fn holes(ts: &[i64], interval: i64) -> Vec<Hole> {
    let limit = interval.saturating_mul(3) / 2;
    ts.windows(2)
        .filter_map(|w| match w {
            [a, b] if b.saturating_sub(*a) > limit => Some(Hole { from: *a, to: *b }),
            _ => None,
        })
        .collect()
}

/// Runs of `other` timestamps absent from `dir` (both sorted).
pub fn missing_runs(other: &[i64], dir: &[i64]) -> Vec<Run> {
    let mut runs: Vec<Run> = Vec::new();
    let mut j = 0;
    let mut open = false;
    for &t in other {
        while dir.get(j).is_some_and(|&d| d < t) {
            j += 1;
        }
        let present = dir.get(j) == Some(&t);
        if present {
            open = false;
            continue;
        }
        match runs.last_mut() {
            Some(r) if open => {
                r.to = t;
                r.samples += 1;
            }
            _ => {
                runs.push(Run {
                    from: t,
                    to: t,
                    samples: 1,
                });
                open = true;
            }
        }
    }
    runs
}

/// Merges ranges (from, to, samples) across series: overlapping ones, or
/// ones closer than `join`, become one.
fn merge(mut v: Vec<(i64, i64, u64)>, join: i64) -> Vec<Merged> {
    v.sort_unstable();
    let mut out: Vec<Merged> = Vec::new();
    for (from, to, samples) in v {
        match out.last_mut() {
            Some(m) if from <= m.to.saturating_add(join) => {
                m.to = m.to.max(to);
                m.series += 1;
                m.samples += samples;
            }
            _ => out.push(Merged {
                from,
                to,
                series: 1,
                samples,
            }),
        }
    }
    out
}

/// Per-series results of one directory (holes) or of a pair (missing runs),
/// folded as the series stream by.
struct Fold<T> {
    per_series: Vec<SeriesGaps<T>>,
    all: Vec<(i64, i64, u64)>,
    steps: Vec<i64>,
}

impl<T> Default for Fold<T> {
    fn default() -> Self {
        Fold {
            per_series: Vec::new(),
            all: Vec::new(),
            steps: Vec::new(),
        }
    }
}

impl<T> Fold<T> {
    fn typical(&mut self) -> Option<i64> {
        self.steps.sort_unstable();
        self.steps.get(self.steps.len() / 2).copied()
    }

    fn finish(mut self, join: i64) -> GapSet<T> {
        self.per_series.sort_by(|a, b| a.series.cmp(&b.series));
        GapSet {
            merged: merge(self.all, join),
            per_series: self.per_series,
        }
    }
}

fn label_string(labels: &[(Vec<u8>, Vec<u8>)]) -> String {
    let mut s = String::new();
    format_labels(&mut s, &borrowed(labels));
    s
}

/// The holes of one series of DIR.
fn fold_holes(f: &mut Fold<Hole>, labels: &[(Vec<u8>, Vec<u8>)], ts: &[i64], opts: &GapsOptions) {
    let Some(iv) = opts.interval.or_else(|| median_step(ts)) else {
        return;
    };
    f.steps.push(iv);
    let h = holes(ts, iv);
    if !h.is_empty() {
        f.all.extend(h.iter().map(|x| (x.from, x.to, 0)));
        f.per_series.push(SeriesGaps {
            series: label_string(labels),
            interval: iv,
            ranges: h,
        });
    }
}

/// The samples one series of OTHER has and DIR (`mine`) has not.
fn fold_missing(
    f: &mut Fold<Run>,
    labels: &[(Vec<u8>, Vec<u8>)],
    theirs: &[i64],
    mine: &[i64],
    opts: &GapsOptions,
) {
    let iv = opts.interval.or_else(|| median_step(theirs)).unwrap_or(0);
    f.steps.push(iv);
    let runs = missing_runs(theirs, mine);
    if !runs.is_empty() {
        f.all.extend(runs.iter().map(|r| (r.from, r.to, r.samples)));
        f.per_series.push(SeriesGaps {
            series: label_string(labels),
            interval: iv,
            ranges: runs,
        });
    }
}

fn count(sources: &mut Sources, ts: &[i64]) {
    sources.series += 1;
    sources.samples += ts.len() as u64;
}

/// What was read of an opened directory: its blocks reaching into the
/// range, its head.
fn sources_of(
    dir: &Path,
    o: &Opened,
    readers: &[crate::block::BlockReader<'_>],
    opts: &GapsOptions,
) -> Sources {
    Sources {
        path: dir.to_path_buf(),
        blocks: readers.len(),
        blocks_until: readers.iter().map(|r| r.files.meta.max_time).max(),
        wal: o.head.is_some(),
        wal_until: o.head.as_ref().and_then(|h| {
            h.series
                .iter()
                .filter(|s| crate::selector::matches_any(&opts.selectors, &borrowed(&s.labels)))
                .filter_map(|s| s.samples.last().map(|(t, _)| *t))
                .max()
        }),
        series: 0,
        samples: 0,
    }
}

/// A directory's series in label order, `drop`'s label names removed.
fn series_of<'a>(
    readers: &'a [crate::block::BlockReader<'a>],
    o: &'a Opened,
    sel: &'a Select,
    drop: &'a [Vec<u8>],
) -> stream::Merged<'a, i64> {
    if drop.is_empty() {
        stream::series::<i64>(readers, o, sel)
    } else {
        relabel::dropped(
            stream::series::<i64>(readers, o, sel),
            stream::series::<i64>(readers, o, sel),
            drop,
        )
    }
}

/// What the join of two directories' series folds into.
struct Pair<'a> {
    dir: &'a mut Sources,
    other: &'a mut Sources,
    holes: &'a mut Fold<Hole>,
    missing: &'a mut Fold<Run>,
    names: &'a mut relabel::LabelNames,
    /// OTHER's label sets' hashes ([`relabel::added_in_dir`]).
    sets: &'a mut std::collections::HashSet<u64>,
}

impl Pair<'_> {
    /// Joins DIR's series (`a`) and OTHER's (`b`), both in label order, by
    /// label set.
    fn join(
        &mut self,
        a: impl Iterator<Item = stream::SeriesOf<i64>>,
        b: impl Iterator<Item = stream::SeriesOf<i64>>,
        opts: &GapsOptions,
    ) {
        let (mut a, mut b) = (a.peekable(), b.peekable());
        loop {
            let order = match (a.peek(), b.peek()) {
                (None, None) => break,
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (Some((la, _)), Some((lb, _))) => la.cmp(lb),
            };
            let (m, t) = match order {
                std::cmp::Ordering::Less => (a.next(), None),
                std::cmp::Ordering::Greater => (None, b.next()),
                std::cmp::Ordering::Equal => (a.next(), b.next()),
            };
            if let Some((labels, ts)) = &m {
                self.names.saw_dir(labels);
                count(self.dir, ts);
                fold_holes(self.holes, labels, ts, opts);
            }
            if let Some((labels, ts)) = &t {
                self.names.saw_other(labels);
                self.sets.insert(relabel::labels_hash(labels, None));
                count(self.other, ts);
                let mine = m.as_ref().map_or(&[][..], |(_, ts)| ts.as_slice());
                fold_missing(self.missing, labels, ts, mine, opts);
            }
        }
    }
}

/// The label names DIR's series carry that OTHER's lack: by name, and (when
/// none is and nothing is dropped) per series ([`relabel::added_in_dir`]).
fn label_notes(
    names: relabel::LabelNames,
    sets: &std::collections::HashSet<u64>,
    dir: &Opened,
    sel: &Select,
    drop: &[Vec<u8>],
) -> (Vec<LabelOnlyInDir>, Vec<LabelOnlyInDir>) {
    let only = names.only_in_dir();
    let added = if only.is_empty() && drop.is_empty() && !sets.is_empty() {
        relabel::added_in_dir(dir, &sel.selectors, sets)
    } else {
        Vec::new()
    };
    (only, added)
}

/// Reads `dir` (and `against`) and computes the report. Series stream by
/// in label order, merged across blocks and the head, the two directories
/// joined by label set: memory holds one series per block (and the head,
/// which the WAL replay holds), never a directory's samples.
pub fn gaps(
    dir: &Path,
    against: Option<&Path>,
    opts: &GapsOptions,
) -> crate::error::Result<GapsReport> {
    if opts.interval.is_some_and(|iv| iv <= 0) {
        // Every step would be a hole: a usage error, not a report.
        return Err(crate::error::Error::bad_option(
            "interval",
            "the usual sample interval must be positive (or auto)",
        ));
    }
    let sel = Select {
        selectors: opts.selectors.clone(),
        from: opts.from,
        to: opts.to,
    };
    let mine = Opened::open(dir)?;
    let theirs = match against {
        Some(p) => Some(Opened::open(p)?),
        None => None,
    };
    let my_readers = mine.readers(opts.from, opts.to);
    let drop: Vec<Vec<u8>> = opts
        .drop_labels
        .iter()
        .map(|n| n.as_bytes().to_vec())
        .collect();
    let mut names = relabel::LabelNames::default();
    let mut sets = std::collections::HashSet::new();
    let mut dir_sources = sources_of(dir, &mine, &my_readers, opts);
    let mut holes = Fold::<Hole>::default();
    let mut missing = Fold::<Run>::default();
    let mut other_sources = None;
    match (&theirs, against) {
        (Some(o), Some(path)) => {
            let their_readers = o.readers(opts.from, opts.to);
            let mut os = sources_of(path, o, &their_readers, opts);
            let mut pair = Pair {
                dir: &mut dir_sources,
                other: &mut os,
                holes: &mut holes,
                missing: &mut missing,
                names: &mut names,
                sets: &mut sets,
            };
            pair.join(
                series_of(&my_readers, &mine, &sel, &drop),
                series_of(&their_readers, o, &sel, &drop),
                opts,
            );
            other_sources = Some(os);
        }
        _ => {
            for (labels, ts) in series_of(&my_readers, &mine, &sel, &drop) {
                count(&mut dir_sources, &ts);
                fold_holes(&mut holes, &labels, &ts, opts);
            }
        }
    }
    let typical = holes.typical().unwrap_or(0);
    let missing = other_sources.is_some().then(|| {
        let join = missing.typical().unwrap_or(typical);
        missing.finish(join.saturating_mul(3) / 2)
    });
    let mut errors = mine.take_errors();
    if let Some(o) = theirs {
        errors.extend(o.take_errors().into_iter().map(|e| format!("against: {e}")));
    }
    let (labels_only_in_dir, labels_added_in_dir) = label_notes(names, &sets, &mine, &sel, &drop);
    Ok(GapsReport {
        dir: dir_sources,
        against: other_sources,
        from: (opts.from != i64::MIN).then_some(opts.from),
        to: (opts.to != i64::MAX).then_some(opts.to),
        interval: opts.interval,
        holes: holes.finish(0),
        missing,
        labels_only_in_dir,
        labels_added_in_dir,
        dropped_labels: opts.drop_labels.clone(),
        errors,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holes_and_runs() {
        let ts = [0, 10, 20, 30, 60, 70, 71, 80];
        assert_eq!(median_step(&ts), Some(10));
        assert_eq!(holes(&ts, 10), vec![Hole { from: 30, to: 60 }]);
        let other = [0, 10, 20, 30, 40, 50, 60];
        let mine = [0, 10, 40, 60, 61];
        assert_eq!(
            missing_runs(&other, &mine),
            vec![
                Run {
                    from: 20,
                    to: 30,
                    samples: 2
                },
                Run {
                    from: 50,
                    to: 50,
                    samples: 1
                }
            ]
        );
        assert_eq!(missing_runs(&other, &[]).len(), 1);
        assert!(missing_runs(&[], &mine).is_empty());
    }

    #[test]
    fn merging_across_series() {
        let m = merge(
            vec![(10, 20, 2), (15, 30, 3), (100, 100, 1), (40, 50, 1)],
            10,
        );
        assert_eq!(
            m,
            vec![
                Merged {
                    from: 10,
                    to: 50,
                    series: 3,
                    samples: 6
                },
                Merged {
                    from: 100,
                    to: 100,
                    series: 1,
                    samples: 1
                }
            ]
        );
    }
}
