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
//! directories, from the head's WAL (checkpoint + segments). Memory: one
//! `i64` per sample of the selected series and time range.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::block::BlockFiles;
use crate::dump::format_labels;
use crate::format::chunkenc;
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

/// Every sample timestamp of every selected series of a directory.
#[derive(Debug, Clone, Default)]
pub struct SeriesTimes {
    /// `{labels}` (Go's `labels.String()`) → sorted, deduplicated timestamps.
    pub series: HashMap<String, Vec<i64>>,
    /// What was read.
    pub sources: Sources,
    /// Damaged structures skipped, one message each.
    pub errors: Vec<String>,
}

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

/// Reads the sample timestamps of `dir`.
pub fn read_times(dir: &Path, opts: &GapsOptions) -> crate::error::Result<SeriesTimes> {
    let lay = layout::scan(dir)?;
    let mut out = SeriesTimes {
        sources: Sources {
            path: dir.to_path_buf(),
            ..Sources::default()
        },
        ..SeriesTimes::default()
    };
    // The head starts at the maxTime of the last block by minTime, as
    // Prometheus opens it.
    let mut last: Option<(i64, i64)> = None;
    for b in &lay.blocks {
        if let Ok(m) = crate::block::read_meta(b)
            && last.is_none_or(|(min, _)| m.min_time >= min)
        {
            last = Some((m.min_time, m.max_time));
        }
        if let Err(e) = read_block(b, opts, &mut out) {
            out.errors
                .push(format!("block {} skipped: {e}", b.display()));
        }
    }
    if lay.wal.is_some() && lay.kind == layout::DirKind::Data {
        read_head_times(dir, last.map_or(i64::MIN, |(_, max)| max), opts, &mut out);
    }
    for v in out.series.values_mut() {
        v.sort_unstable();
        v.dedup();
    }
    out.sources.series = out.series.len();
    out.sources.samples = out.series.values().map(|v| v.len() as u64).sum();
    Ok(out)
}

fn read_block(dir: &Path, opts: &GapsOptions, out: &mut SeriesTimes) -> crate::error::Result<()> {
    let files = BlockFiles::open(dir)?;
    let reader = files.reader()?;
    let meta = &files.meta;
    if meta.max_time < opts.from || meta.min_time > opts.to {
        return Ok(());
    }
    out.sources.blocks += 1;
    out.sources.blocks_until = out.sources.blocks_until.max(Some(meta.max_time));
    let mut entry = crate::format::index::SeriesEntry::default();
    let mut labels = Vec::new();
    let mut key = String::new();
    let mut it = reader.index.series();
    while let Some(res) = it.next_into(&mut entry) {
        if let Err(e) = res {
            out.errors
                .push(format!("{}: {e}", files.index_path().display()));
            continue;
        }
        if let Err(e) = reader.index.resolve_labels(&entry, &mut labels) {
            out.errors
                .push(format!("{}: {e}", files.index_path().display()));
            continue;
        }
        if !matches_any(&opts.selectors, &labels) {
            continue;
        }
        key.clear();
        format_labels(&mut key, &labels);
        let deleted = reader.tombstones.get(entry.id);
        let mut times = Vec::new();
        for c in &entry.chunks {
            if c.maxt < opts.from || c.mint > opts.to {
                continue;
            }
            let rec = match reader.chunk(c) {
                Ok(r) => r,
                Err(e) => {
                    out.errors.push(e.to_string());
                    continue;
                }
            };
            let it = match chunkenc::samples_for_byte(
                rec.encoding,
                rec.offset,
                rec.data,
                rec.data_offset,
            ) {
                Ok(it) => it,
                Err(e) => {
                    out.errors.push(format!(
                        "{}: {e}",
                        reader.segment_path(c.segment()).display()
                    ));
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
                        out.errors.push(format!(
                            "{}: {e}",
                            reader.segment_path(c.segment()).display()
                        ));
                        break;
                    }
                }
            }
        }
        if !times.is_empty() {
            out.series.entry(key.clone()).or_default().extend(times);
        }
    }
    Ok(())
}

/// Adds the head's samples: `chunks_head/`, checkpoint and WAL replayed as
/// Prometheus does ([`crate::head::replay`]), from the last block's maxTime on.
fn read_head_times(dir: &Path, min_valid_time: i64, opts: &GapsOptions, out: &mut SeriesTimes) {
    let head = match crate::head::replay(dir, min_valid_time) {
        Ok(h) => h,
        Err(e) => {
            out.errors
                .push(format!("head of {} not read: {e}", dir.display()));
            return;
        }
    };
    out.sources.wal = true;
    out.errors.extend(head.problems.iter().cloned());
    let mut key = String::new();
    for s in &head.series {
        let labels: Vec<(&[u8], &[u8])> = s
            .labels
            .iter()
            .map(|(k, v)| (k.as_slice(), v.as_slice()))
            .collect();
        if !matches_any(&opts.selectors, &labels) {
            continue;
        }
        out.sources.wal_until = out.sources.wal_until.max(s.samples.last().map(|(t, _)| *t));
        let times: Vec<i64> = s
            .samples
            .iter()
            .map(|(t, _)| *t)
            .filter(|&t| t >= opts.from && t <= opts.to && !is_deleted(t, &s.deleted))
            .collect();
        if times.is_empty() {
            continue;
        }
        key.clear();
        format_labels(&mut key, &labels);
        out.series.entry(key.clone()).or_default().extend(times);
    }
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

/// Computes the report from already read timestamps.
pub fn analyze(dir: SeriesTimes, against: Option<SeriesTimes>, opts: &GapsOptions) -> GapsReport {
    let mut keys: Vec<&String> = dir.series.keys().collect();
    keys.sort();
    let mut per_series = Vec::new();
    let mut all = Vec::new();
    let mut steps = Vec::new();
    for k in keys {
        let Some(ts) = dir.series.get(k) else {
            continue;
        };
        let Some(iv) = opts.interval.or_else(|| median_step(ts)) else {
            continue;
        };
        steps.push(iv);
        let h = holes(ts, iv);
        if !h.is_empty() {
            all.extend(h.iter().map(|x| (x.from, x.to, 0)));
            per_series.push(SeriesGaps {
                series: k.clone(),
                interval: iv,
                ranges: h,
            });
        }
    }
    steps.sort_unstable();
    let typical = steps.get(steps.len() / 2).copied().unwrap_or(0);
    let holes = GapSet {
        merged: merge(all, 0),
        per_series,
    };
    let mut errors = dir.errors;
    let missing = against.as_ref().map(|o| {
        let mut keys: Vec<&String> = o.series.keys().collect();
        keys.sort();
        let empty = Vec::new();
        let mut per_series = Vec::new();
        let mut all = Vec::new();
        let mut steps = Vec::new();
        for k in keys {
            let Some(ts) = o.series.get(k) else { continue };
            let iv = opts.interval.or_else(|| median_step(ts)).unwrap_or(0);
            steps.push(iv);
            let mine = dir.series.get(k).unwrap_or(&empty);
            let runs = missing_runs(ts, mine);
            if !runs.is_empty() {
                all.extend(runs.iter().map(|r| (r.from, r.to, r.samples)));
                per_series.push(SeriesGaps {
                    series: k.clone(),
                    interval: iv,
                    ranges: runs,
                });
            }
        }
        steps.sort_unstable();
        let join = steps.get(steps.len() / 2).copied().unwrap_or(typical);
        GapSet {
            merged: merge(all, join.saturating_mul(3) / 2),
            per_series,
        }
    });
    if let Some(o) = &against {
        errors.extend(o.errors.iter().map(|e| format!("against: {e}")));
    }
    GapsReport {
        dir: dir.sources,
        against: against.map(|a| a.sources),
        from: (opts.from != i64::MIN).then_some(opts.from),
        to: (opts.to != i64::MAX).then_some(opts.to),
        interval: opts.interval,
        holes,
        missing,
        errors,
    }
}

/// Reads `dir` (and `against`) and computes the report.
pub fn gaps(
    dir: &Path,
    against: Option<&Path>,
    opts: &GapsOptions,
) -> crate::error::Result<GapsReport> {
    let d = read_times(dir, opts)?;
    let o = match against {
        Some(p) => Some(read_times(p, opts)?),
        None => None,
    };
    Ok(analyze(d, o, opts))
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
