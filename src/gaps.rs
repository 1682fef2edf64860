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

use std::cell::RefCell;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::block::{BlockFiles, BlockReader};
use crate::dump::format_labels;
use crate::format::chunkenc;
use crate::format::index::{SeriesEntry, SeriesIter};
use crate::format::tombstones::is_deleted;
use crate::layout;
use crate::selector::{Matcher, matches_any};

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
}

impl Default for GapsOptions {
    fn default() -> Self {
        GapsOptions {
            selectors: Vec::new(),
            interval: None,
            from: i64::MIN,
            to: i64::MAX,
        }
    }
}

/// A label set, owned, in the order the index sorts series.
pub type Labels = Vec<(Vec<u8>, Vec<u8>)>;

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

/// A directory opened for reading: its blocks' files and its head.
struct Opened {
    files: Vec<BlockFiles>,
    head: Option<crate::head::Head>,
    sources: Sources,
    errors: RefCell<Vec<String>>,
}

impl Opened {
    fn open(dir: &Path, opts: &GapsOptions) -> crate::error::Result<Opened> {
        let lay = layout::scan(dir)?;
        let mut out = Opened {
            files: Vec::new(),
            head: None,
            sources: Sources {
                path: dir.to_path_buf(),
                ..Sources::default()
            },
            errors: RefCell::new(Vec::new()),
        };
        let errors = out.errors.get_mut();
        // The head starts at the maxTime of the last block by minTime, as
        // Prometheus opens it.
        let mut last: Option<(i64, i64)> = None;
        for b in &lay.blocks {
            if let Ok(m) = crate::block::read_meta(b)
                && last.is_none_or(|(min, _)| m.min_time >= min)
            {
                last = Some((m.min_time, m.max_time));
            }
            match BlockFiles::open(b) {
                Ok(f) => out.files.push(f),
                Err(e) => errors.push(format!("block {} skipped: {e}", b.display())),
            }
        }
        if lay.wal.is_some() && lay.kind == layout::DirKind::Data {
            let min_valid_time = last.map_or(i64::MIN, |(_, max)| max);
            match crate::head::replay(dir, min_valid_time) {
                Ok(h) => {
                    out.sources.wal = true;
                    errors.extend(h.problems.iter().cloned());
                    out.sources.wal_until = h
                        .series
                        .iter()
                        .filter(|s| matches_any(&opts.selectors, &borrowed(&s.labels)))
                        .filter_map(|s| s.samples.last().map(|(t, _)| *t))
                        .max();
                    out.head = Some(h);
                }
                Err(e) => errors.push(format!("head of {} not read: {e}", dir.display())),
            }
        }
        Ok(out)
    }
}

fn borrowed(labels: &[(Vec<u8>, Vec<u8>)]) -> Vec<(&[u8], &[u8])> {
    labels
        .iter()
        .map(|(k, v)| (k.as_slice(), v.as_slice()))
        .collect()
}

/// One block's selected series in index (= label) order, each with its
/// sample times in the range (tombstones applied); series without any are
/// left out.
struct BlockSeries<'a> {
    reader: &'a BlockReader<'a>,
    it: SeriesIter<'a>,
    entry: SeriesEntry,
    labels: Vec<(&'a [u8], &'a [u8])>,
    opts: &'a GapsOptions,
    errors: &'a RefCell<Vec<String>>,
}

impl Iterator for BlockSeries<'_> {
    type Item = (Labels, Vec<i64>);

    fn next(&mut self) -> Option<Self::Item> {
        let (reader, opts) = (self.reader, self.opts);
        let index_path = || reader.files.index_path();
        loop {
            if let Err(e) = self.it.next_into(&mut self.entry)? {
                self.errors
                    .borrow_mut()
                    .push(format!("{}: {e}", index_path().display()));
                continue;
            }
            if let Err(e) = reader.index.resolve_labels(&self.entry, &mut self.labels) {
                self.errors
                    .borrow_mut()
                    .push(format!("{}: {e}", index_path().display()));
                continue;
            }
            if !matches_any(&opts.selectors, &self.labels) {
                continue;
            }
            let deleted = reader.tombstones.get(self.entry.id);
            let mut times = Vec::new();
            for c in &self.entry.chunks {
                if c.maxt < opts.from || c.mint > opts.to {
                    continue;
                }
                let rec = match reader.chunk(c) {
                    Ok(r) => r,
                    Err(e) => {
                        self.errors.borrow_mut().push(e.to_string());
                        continue;
                    }
                };
                let seg_err = |e: &dyn std::fmt::Display| {
                    format!("{}: {e}", reader.segment_path(c.segment()).display())
                };
                let it = match chunkenc::samples_for_byte(
                    rec.encoding,
                    rec.offset,
                    rec.data,
                    rec.data_offset,
                ) {
                    Ok(it) => it,
                    Err(e) => {
                        self.errors.borrow_mut().push(seg_err(&e));
                        continue;
                    }
                };
                for s in it {
                    match s {
                        Ok(s) => {
                            if s.t >= opts.from && s.t <= opts.to && !is_deleted(s.t, deleted) {
                                times.push(s.t);
                            }
                        }
                        Err(e) => {
                            self.errors.borrow_mut().push(seg_err(&e));
                            break;
                        }
                    }
                }
            }
            if !times.is_empty() {
                let labels = self
                    .labels
                    .iter()
                    .map(|(k, v)| (k.to_vec(), v.to_vec()))
                    .collect();
                return Some((labels, times));
            }
        }
    }
}

/// The head's selected series (sorted by labels), with their sample times
/// in the range (WAL tombstones applied).
fn head_series<'a>(
    head: &'a crate::head::Head,
    opts: &'a GapsOptions,
) -> impl Iterator<Item = (Labels, Vec<i64>)> + 'a {
    head.series.iter().filter_map(move |s| {
        if !matches_any(&opts.selectors, &borrowed(&s.labels)) {
            return None;
        }
        let times: Vec<i64> = s
            .samples
            .iter()
            .map(|(t, _)| *t)
            .filter(|&t| t >= opts.from && t <= opts.to && !is_deleted(t, &s.deleted))
            .collect();
        (!times.is_empty()).then(|| (s.labels.clone(), times))
    })
}

/// Merges streams sorted by label set into one: a label set present in
/// several streams (overlapping blocks, block and head) comes once, its
/// times sorted and deduplicated. Holds one series per stream.
struct MergedSeries<'a> {
    streams: Vec<Box<dyn Iterator<Item = (Labels, Vec<i64>)> + 'a>>,
    heads: Vec<Option<(Labels, Vec<i64>)>>,
}

impl<'a> MergedSeries<'a> {
    fn new(mut streams: Vec<Box<dyn Iterator<Item = (Labels, Vec<i64>)> + 'a>>) -> Self {
        let heads = streams.iter_mut().map(|s| s.next()).collect();
        MergedSeries { streams, heads }
    }
}

impl Iterator for MergedSeries<'_> {
    type Item = (Labels, Vec<i64>);

    fn next(&mut self) -> Option<Self::Item> {
        let min = self.heads.iter().flatten().map(|(l, _)| l).min()?.clone();
        let mut times = Vec::new();
        for (head, stream) in self.heads.iter_mut().zip(&mut self.streams) {
            if head.as_ref().is_some_and(|(l, _)| *l == min) {
                if let Some((_, t)) = head.take() {
                    times.extend(t);
                }
                *head = stream.next();
            }
        }
        times.sort_unstable();
        times.dedup();
        Some((min, times))
    }
}

/// The series of an opened directory, merged, in label order.
fn series_of<'a>(
    readers: &'a [BlockReader<'a>],
    o: &'a Opened,
    opts: &'a GapsOptions,
) -> MergedSeries<'a> {
    let mut streams: Vec<Box<dyn Iterator<Item = (Labels, Vec<i64>)> + 'a>> = readers
        .iter()
        .map(|r| {
            Box::new(BlockSeries {
                reader: r,
                it: r.index.series(),
                entry: SeriesEntry::default(),
                labels: Vec::new(),
                opts,
                errors: &o.errors,
            }) as Box<dyn Iterator<Item = (Labels, Vec<i64>)> + 'a>
        })
        .collect();
    if let Some(h) = &o.head {
        streams.push(Box::new(head_series(h, opts)));
    }
    MergedSeries::new(streams)
}

/// Readers of the blocks that reach into the range; counts them into `sources`.
fn readers_of<'a>(
    o: &'a Opened,
    opts: &GapsOptions,
    sources: &mut Sources,
) -> Vec<BlockReader<'a>> {
    let mut out = Vec::new();
    for f in &o.files {
        match f.reader() {
            Ok(r) => {
                if f.meta.max_time < opts.from || f.meta.min_time > opts.to {
                    continue;
                }
                sources.blocks += 1;
                sources.blocks_until = sources.blocks_until.max(Some(f.meta.max_time));
                out.push(r);
            }
            Err(e) => o
                .errors
                .borrow_mut()
                .push(format!("block {} skipped: {e}", f.dir.display())),
        }
    }
    out
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

/// Reads `dir` (and `against`) and computes the report. Series stream by
/// in label order, merged across blocks and the head, the two directories
/// joined by label set: memory holds one series per block (and the head,
/// which the WAL replay holds), never a directory's samples.
pub fn gaps(
    dir: &Path,
    against: Option<&Path>,
    opts: &GapsOptions,
) -> crate::error::Result<GapsReport> {
    let mine = Opened::open(dir, opts)?;
    let theirs = match against {
        Some(p) => Some(Opened::open(p, opts)?),
        None => None,
    };
    let mut dir_sources = mine.sources.clone();
    let my_readers = readers_of(&mine, opts, &mut dir_sources);
    let mut holes = Fold::<Hole>::default();
    let mut missing = Fold::<Run>::default();
    let mut other_sources = None;
    match &theirs {
        None => {
            for (labels, ts) in series_of(&my_readers, &mine, opts) {
                count(&mut dir_sources, &ts);
                fold_holes(&mut holes, &labels, &ts, opts);
            }
        }
        Some(o) => {
            let mut os = o.sources.clone();
            let their_readers = readers_of(o, opts, &mut os);
            let mut a = series_of(&my_readers, &mine, opts).peekable();
            let mut b = series_of(&their_readers, o, opts).peekable();
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
                    count(&mut dir_sources, ts);
                    fold_holes(&mut holes, labels, ts, opts);
                }
                if let Some((labels, ts)) = &t {
                    count(&mut os, ts);
                    let mine = m.as_ref().map_or(&[][..], |(_, ts)| ts.as_slice());
                    fold_missing(&mut missing, labels, ts, mine, opts);
                }
            }
            other_sources = Some(os);
        }
    }
    let typical = holes.typical().unwrap_or(0);
    let missing = other_sources.is_some().then(|| {
        let join = missing.typical().unwrap_or(typical);
        missing.finish(join.saturating_mul(3) / 2)
    });
    let mut errors = mine.errors.into_inner();
    if let Some(o) = theirs {
        errors.extend(
            o.errors
                .into_inner()
                .into_iter()
                .map(|e| format!("against: {e}")),
        );
    }
    Ok(GapsReport {
        dir: dir_sources,
        against: other_sources,
        from: (opts.from != i64::MIN).then_some(opts.from),
        to: (opts.to != i64::MAX).then_some(opts.to),
        interval: opts.interval,
        holes: holes.finish(0),
        missing,
        errors,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(v: &str) -> Labels {
        vec![(b"a".to_vec(), v.as_bytes().to_vec())]
    }

    /// Streams sorted by label set merge into one sorted stream; a label set
    /// in several streams comes once, with its times sorted and deduplicated.
    #[test]
    fn merged_series_join_overlapping_streams() {
        let s1 = vec![(l("x"), vec![1, 3]), (l("z"), vec![9])];
        let s2 = vec![(l("w"), vec![5]), (l("x"), vec![2, 3, 4])];
        let s3: Vec<(Labels, Vec<i64>)> = vec![];
        let m: Vec<_> = MergedSeries::new(vec![
            Box::new(s1.into_iter()),
            Box::new(s2.into_iter()),
            Box::new(s3.into_iter()),
        ])
        .collect();
        assert_eq!(
            m,
            vec![
                (l("w"), vec![5]),
                (l("x"), vec![1, 2, 3, 4]),
                (l("z"), vec![9])
            ]
        );
        assert_eq!(MergedSeries::new(Vec::new()).next(), None);
    }

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
