//! The master's scrape grids as its WAL shows them: one grid per scrape
//! target, so that the queue's batches can be cut on the samples the
//! reader really forwards when targets are scraped at different intervals
//! or phases.
//!
//! The facts (Prometheus 2.42, `tsdb/head_append.go`, `scrape/scrape.go`):
//! a scrape loop appends one target's samples and commits them once, and
//! the commit writes one samples record holding all of them, every sample
//! with the scrape's timestamp, in the order of the scrape (the same order
//! at every scrape). A series' ref is handed out when it is created, from
//! a counter: the series a target's first scrape creates get consecutive
//! refs. So the samples records that start with the same ref are one
//! target's scrapes: the differences between their timestamps give its
//! interval, the last one its phase, and the distance from its first ref to
//! the next target's first ref the series it appends per scrape (the
//! newest target's: up to the series count of the head, or, in a snapshot
//! without its head block, up to the newest ref the WAL names).
//!
//! A scrape's own series (`up`, `scrape_duration_seconds`, …, appended by
//! `scrapeLoop.report` into the same commit) carry the scrape's start time;
//! the target's samples carry it too unless the exporter gives timestamps
//! of its own (`honor_timestamps`, true by default): then the record holds
//! them at the exporter's times. The scrape's time is the record's newest
//! timestamp, and the spread between its oldest and newest timestamps is
//! how far the exporter's samples lag behind their scrape ([`ScrapeGrid::lag`]):
//! they reach the WAL, and the queue, that much after their time.
//!
//! Only the newest live segments are read (three), one record at a time;
//! the memory kept is one segment and a few counters per target.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Serialize;

use crate::format::record::{self, RecordType};
use crate::format::wal::RecordReader;

/// Records of one target needed before its grid is trusted.
const MIN_RECORDS: u64 = 3;
/// Distinct timestamp differences kept per target (the interval is the most
/// frequent; jitter spreads the rest).
const MAX_DIFFS: usize = 32;
/// Newest live segments read.
const MAX_SEGMENTS: usize = 3;
/// Targets followed at most (the rest are ignored: no grid).
const MAX_TARGETS: usize = 10_000;

/// One target's scrape grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ScrapeGrid {
    /// Its interval (ms): the most frequent difference between successive
    /// scrapes.
    pub interval: i64,
    /// The timestamp of its newest scrape in the WAL (a point on the grid).
    pub phase: i64,
    /// Samples per scrape (its series).
    pub series: u64,
    /// How far the target's own timestamps lag behind its scrapes (ms):
    /// the smallest spread between the oldest and the newest timestamp of
    /// one of its records, so a lag present at every scrape; 0 when its
    /// samples carry the scrape's time.
    pub lag: i64,
    /// The timestamp of its oldest record in the segments read: its first
    /// scrape when it started within them (`i64::MIN` when not known).
    #[serde(skip)]
    pub first: i64,
}

impl ScrapeGrid {
    /// Its samples scraped at timestamps in `[from, to]`.
    fn samples_between(&self, from: i64, to: i64) -> u64 {
        if to < from {
            return 0;
        }
        let i = self.interval.max(1);
        let first = self.phase + (from - self.phase).div_euclid(i) * i;
        let first = if first < from { first + i } else { first };
        let n = if first > to { 0 } else { (to - first) / i + 1 };
        (n as u64).saturating_mul(self.series)
    }
}

/// The grids of all targets seen in the WAL.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Schedule {
    /// One per target, by first series ref.
    pub grids: Vec<ScrapeGrid>,
}

#[derive(Default)]
struct Acc {
    records: u64,
    last: Option<i64>,
    /// The oldest record's timestamp.
    first: Option<i64>,
    diffs: BTreeMap<i64, u64>,
    /// The smallest spread of a record's timestamps seen.
    lag: Option<i64>,
}

impl Schedule {
    /// Reads the samples records of the live segments in `wal` (a `wal/`
    /// directory); `head_series` is the head's series count (the newest
    /// target's share is what the others leave of it). `None` when no
    /// target with a grid is found, or the refs do not add up.
    ///
    /// Without `send_histograms` (2.42's default `send_native_histograms:
    /// false`) the queue's watcher skips histogram records, so a target's
    /// native histogram series (the refs its histogram records name) are
    /// not among the samples it sends per scrape: they are left out of
    /// its count.
    pub fn from_wal(wal: &Path, head_series: u64, send_histograms: bool) -> Option<Schedule> {
        Self::from_wal_with(wal, Some(head_series), send_histograms)
    }

    /// [`Schedule::from_wal`], with the head's series count unknown
    /// (`None`: a snapshot without its head block, whose newest block holds
    /// only the series it had by its end). Refs come from a counter, so the
    /// newest ref the WAL names (a series record's or a sample's) is the
    /// newest series created: the newest target's refs end there.
    pub fn from_wal_with(
        wal: &Path,
        head_series: Option<u64>,
        send_histograms: bool,
    ) -> Option<Schedule> {
        let mut names: Vec<_> = std::fs::read_dir(wal)
            .ok()?
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .filter_map(|e| {
                let n = e.file_name().to_string_lossy().into_owned();
                (n.len() == 8 && n.bytes().all(|b| b.is_ascii_digit())).then_some(n)
            })
            .collect();
        names.sort();
        // The newest segments hold enough scrapes of every target; older
        // ones (a busy master's WAL can hold gigabytes) are not read.
        let names = names.split_off(names.len().saturating_sub(MAX_SEGMENTS));
        let mut acc: BTreeMap<u64, Acc> = BTreeMap::new();
        // Refs of native histogram series (at most the head's series).
        let mut skipped: BTreeSet<u64> = BTreeSet::new();
        // The newest ref named in the segments read.
        let mut newest_ref = 0u64;
        // Native histogram refs kept: at most the head's series; without
        // its count, as many as the segments read name.
        let cap = head_series.unwrap_or(u64::MAX);
        for n in names {
            // Mapped, not read: a segment grown by damage costs no memory.
            let Ok(bytes) = crate::fileutil::wal_segment_bytes(&wal.join(&n)) else {
                continue;
            };
            let mut rd = RecordReader::new(&bytes);
            while let Some(Ok(rec)) = rd.next_record() {
                let kind = record::record_type(rec.data);
                if head_series.is_none() && kind == Some(RecordType::Series) {
                    let _ = record::for_each_series(rec.data, rec.offset, |r, _| {
                        newest_ref = newest_ref.max(r.get());
                    });
                    continue;
                }
                if !send_histograms && kind.is_some_and(histogram_kind) {
                    note_histograms(rec.data, rec.offset, &mut skipped, cap);
                    continue;
                }
                if kind != Some(RecordType::Samples) {
                    continue;
                }
                // First ref; the record's oldest and newest timestamps.
                let mut first: Option<(u64, i64, i64)> = None;
                let _ = record::for_each_sample(rec.data, rec.offset, |r, t, _| {
                    newest_ref = newest_ref.max(r.get());
                    let f = first.get_or_insert((r.get(), t, t));
                    f.1 = f.1.min(t);
                    f.2 = f.2.max(t);
                });
                let Some((r, oldest, t)) = first else {
                    continue;
                };
                if acc.len() >= MAX_TARGETS && !acc.contains_key(&r) {
                    continue;
                }
                let a = acc.entry(r).or_default();
                note(a, t);
                a.lag = Some(a.lag.map_or(t - oldest, |l| l.min(t - oldest)));
            }
        }
        let kept: Vec<_> = acc
            .into_iter()
            .filter(|(_, a)| a.records >= MIN_RECORDS)
            .filter_map(|(r, a)| {
                let (&d, _) = a
                    .diffs
                    .iter()
                    .max_by_key(|(d, n)| (**n, std::cmp::Reverse(**d)))?;
                Some(((r, d, a.last?, a.lag.unwrap_or(0)), a.first?))
            })
            .collect();
        let mut s = Self::from_targets(
            kept.iter().map(|k| k.0).collect(),
            head_series,
            newest_ref,
            &skipped,
        )?;
        // One grid per target kept, in the same order.
        for (g, k) in s.grids.iter_mut().zip(&kept) {
            g.first = k.1;
        }
        Some(s)
    }

    /// From `(first ref, interval, last timestamp, lag)` per target, sorted
    /// by ref; the newest target's refs end at the head's series count
    /// from the first ref, or, with that count unknown, at `newest_ref`;
    /// `skipped` are refs the queue does not send (native histogram series
    /// without `send_native_histograms`).
    fn from_targets(
        t: Vec<(u64, i64, i64, i64)>,
        head_series: Option<u64>,
        newest_ref: u64,
        skipped: &BTreeSet<u64>,
    ) -> Option<Schedule> {
        if t.is_empty() {
            return None;
        }
        // A target's series get consecutive refs; refs the queue skips may
        // come before the first one it sends (a histogram series created
        // first): the head's series count starts there.
        let base = skipped.first().map_or(t[0].0, |&f| f.min(t[0].0));
        let mut grids = Vec::with_capacity(t.len());
        for (k, &(r, interval, phase, lag)) in t.iter().enumerate() {
            let next = match t.get(k + 1) {
                Some(n) => n.0,
                None => match head_series {
                    Some(h) => base.checked_add(h)?,
                    None => newest_ref.checked_add(1)?,
                },
            };
            let series = next.checked_sub(r).filter(|&n| n > 0)?;
            let series = series.saturating_sub(skipped.range(r..next).count() as u64);
            grids.push(ScrapeGrid {
                interval,
                phase,
                series,
                lag,
                first: i64::MIN,
            });
        }
        Some(Schedule { grids })
    }

    /// The largest lag of a target's own timestamps behind its scrapes
    /// (ms, 0 when none lags), and that target's grid.
    pub fn lag(&self) -> Option<&ScrapeGrid> {
        self.grids
            .iter()
            .filter(|g| g.lag > 0)
            .max_by_key(|g| g.lag)
    }

    /// True if the targets are scraped at more than one interval.
    pub fn several_intervals(&self) -> bool {
        self.grids
            .windows(2)
            .any(|w| w[0].interval != w[1].interval)
    }

    /// Samples scraped at timestamps in `[from, to]`.
    pub fn samples_between(&self, from: i64, to: i64) -> u64 {
        if to < from {
            return 0;
        }
        self.grids.iter().map(|g| g.samples_between(from, to)).sum()
    }

    /// Samples scraped at timestamps in `[from, to]`, each target counted
    /// from its first scrape in the segments read, on the grid of that
    /// scrape (a target's scrapes drift from its newest one over a long
    /// WAL): `None` when no target's oldest record is at or before `from`
    /// (the segments read may begin after it, and targets before them are
    /// not seen).
    pub fn samples_read(&self, from: i64, to: i64) -> Option<u64> {
        if self.grids.iter().map(|g| g.first).min()? > from {
            return None;
        }
        Some(
            self.grids
                .iter()
                .map(|g| {
                    let from_first = ScrapeGrid {
                        phase: if g.first == i64::MIN {
                            g.phase
                        } else {
                            g.first
                        },
                        ..*g
                    };
                    from_first.samples_between(from.max(g.first), to)
                })
                .fold(0u64, u64::saturating_add),
        )
    }

    /// The grids as the slowest of `shards` shards sees them: a series goes
    /// to shard `ref % shards` and a target's refs are consecutive, so every
    /// shard holds at least ⌊series / shards⌋ of each target's series; with
    /// that many per target a shard fills a batch no sooner than any real
    /// one. `None` when no target has a series in every shard.
    pub fn slowest_shard(&self, shards: u64) -> Option<Schedule> {
        let n = shards.max(1);
        let grids: Vec<ScrapeGrid> = self
            .grids
            .iter()
            .map(|g| ScrapeGrid {
                series: g.series / n,
                ..*g
            })
            .filter(|g| g.series > 0)
            .collect();
        (!grids.is_empty()).then_some(Schedule { grids })
    }

    /// Walks the scrapes after `t` in time order until `n` samples are
    /// taken: the timestamp of the last scrape taken, and how many distinct
    /// scrape timestamps that took (targets scraped at the same instant
    /// count once: one sample per series either way).
    pub fn nth_sample_after(&self, t: i64, n: u64) -> Option<(i64, u64)> {
        let n = n.max(1);
        let mut next: Vec<i64> = self
            .grids
            .iter()
            .map(|g| {
                let i = g.interval.max(1);
                g.phase + ((t - g.phase).div_euclid(i) + 1) * i
            })
            .collect();
        let mut taken = 0u64;
        let mut scrapes = 0u64;
        let mut prev = i64::MIN;
        // Bounded: every round takes at least one target's samples.
        for _ in 0..1_000_000 {
            let (k, &at) = next.iter().enumerate().min_by_key(|(_, x)| **x)?;
            taken = taken.saturating_add(self.grids[k].series);
            if at != prev {
                scrapes += 1;
                prev = at;
            }
            if taken >= n {
                return Some((at, scrapes));
            }
            next[k] = at.saturating_add(self.grids[k].interval.max(1));
        }
        None
    }
}

/// The record types of native histograms (integer and float).
fn histogram_kind(k: RecordType) -> bool {
    k.is_histogram_samples() || k.is_float_histogram_samples()
}

/// Adds the series refs of histogram record `rec` to `refs`, at most
/// `cap` of them (the head's series count bounds the memory).
fn note_histograms(rec: &[u8], offset: u64, refs: &mut BTreeSet<u64>, cap: u64) {
    let mut add = |r: u64| {
        if (refs.len() as u64) < cap || refs.contains(&r) {
            refs.insert(r);
        }
    };
    let _ = record::for_each_histogram(rec, offset, |h, _| add(h.series_ref.get()));
    let _ = record::for_each_float_histogram(rec, offset, |h, _| add(h.series_ref.get()));
}

/// The targets' scrape grids from the master's WAL (read once per answer:
/// a snapshot with no block takes its interval from them, `empty.rs`).
pub(super) fn read_master(
    wal: Option<&super::wal::WalView>,
    head: Option<&super::snapshot::BlockSpan>,
    send_histograms: bool,
) -> Option<Schedule> {
    // Without the head block (`skip_head`) the newest block holds only the
    // series created by its end, not the head's: the WAL's refs tell (and
    // so without any block: a snapshot with none, `empty.rs`).
    let head_series = head.and_then(|h| h.head_block.then_some(h.num_series));
    Schedule::from_wal_with(&wal?.dir, head_series, send_histograms)
}

/// The grids read from the master's WAL, with an assumption when the
/// interval given disagrees with what the WAL shows.
pub(super) fn from_master(
    g: Option<Schedule>,
    interval: i64,
    assumptions: &mut Vec<String>,
) -> Option<Schedule> {
    let g = g?;
    let seen: Vec<String> = g
        .grids
        .iter()
        .map(|x| format!("{} series every {}", x.series, super::fmt_dur(x.interval)))
        .collect();
    if g.grids.iter().any(|x| x.interval != interval) {
        assumptions.push(format!(
            "the master's WAL shows {} scrape grids ({}), not one every {} as given: the boundary \
             sliver (L3) is cut on the grids the WAL shows; other estimates keep the interval \
             given",
            g.grids.len(),
            seen.join(", "),
            super::fmt_dur(interval)
        ));
    }
    Some(g)
}

fn note(a: &mut Acc, t: i64) {
    a.records += 1;
    // Saturating: a WAL's timestamps are any i64 (t > l, so never below 1).
    if let Some(l) = a.last
        && t > l
        && (a.diffs.len() < MAX_DIFFS || a.diffs.contains_key(&t.saturating_sub(l)))
    {
        *a.diffs.entry(t.saturating_sub(l)).or_default() += 1;
    }
    a.last = Some(a.last.map_or(t, |l| l.max(t)));
    a.first = Some(a.first.map_or(t, |f| f.min(t)));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two() -> Schedule {
        Schedule::from_targets(
            vec![(1, 1_000, 100_825, 0), (306, 5_000, 100_825, 0)],
            Some(610),
            0,
            &BTreeSet::new(),
        )
        .unwrap()
    }

    #[test]
    fn series_per_target_from_ref_distances() {
        let s = two();
        assert_eq!(s.grids[0].series, 305);
        assert_eq!(s.grids[1].series, 305);
        assert!(s.several_intervals());
        assert!(
            !Schedule::from_targets(vec![(1, 1_000, 0, 0)], Some(10), 0, &BTreeSet::new())
                .unwrap()
                .several_intervals()
        );
        assert!(Schedule::from_targets(vec![], Some(10), 0, &BTreeSet::new()).is_none());
        // Refs beyond the head's series count do not add up.
        assert!(
            Schedule::from_targets(
                vec![(1, 1_000, 0, 0), (50, 1_000, 0, 0)],
                Some(10),
                60,
                &BTreeSet::new()
            )
            .is_none()
        );
    }

    #[test]
    fn samples_follow_both_grids() {
        let s = two();
        // 10 s from a common scrape: 10 + 2 scrapes of the fast and slow target.
        assert_eq!(s.samples_between(100_825, 110_824), 10 * 305 + 2 * 305);
        assert_eq!(s.samples_between(100_826, 100_826), 0);
        assert_eq!(s.samples_between(101_825, 104_825), 4 * 305);
    }

    #[test]
    fn nth_sample_walks_scrapes_in_time_order() {
        let s = two();
        assert_eq!(s.nth_sample_after(100_825, 100), Some((101_825, 1)));
        assert_eq!(s.nth_sample_after(100_825, 306), Some((102_825, 2)));
        // 4 fast scrapes, then the fast and slow ones at 105.825.
        assert_eq!(s.nth_sample_after(100_825, 5 * 305 + 1), Some((105_825, 5)));
    }

    /// The real 2.42 native-histogram master's WAL (54 series in its head,
    /// testdata/prom-2.42-nativehist/README.txt): its oracle counts 3 840
    /// float samples in segment 4's 120 scrape rounds, 32 a round, the rest
    /// native histograms. Without send_native_histograms the queue skips
    /// their records, so the grids count only what it sends: 32, or 33 where
    /// a histogram series wrote no record in the segments read (its ref lies
    /// among the target's with nothing to tell its kind); with it, all 54.
    #[test]
    fn histogram_series_are_not_counted_unless_sent() {
        let wal = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("testdata/prom-2.42-nativehist/data/wal");
        let all = Schedule::from_wal(&wal, 54, true).unwrap();
        let floats = Schedule::from_wal(&wal, 54, false).unwrap();
        assert_eq!(all.grids.len(), floats.grids.len());
        let sum = |s: &Schedule| s.grids.iter().map(|g| g.series).sum::<u64>();
        assert_eq!(sum(&all), 54);
        assert!((32..=33).contains(&sum(&floats)), "{floats:?}");
        // Every target's grid shrinks by its own histogram series only.
        assert!(
            all.grids
                .iter()
                .zip(&floats.grids)
                .all(|(a, f)| f.series <= a.series)
        );
    }

    /// A `skip_head` snapshot's newest block holds the series created by
    /// its end only: `deb3t-15-10-skiphead-r2`'s (840: the `prometheus`
    /// and `lm` targets and one rule series; `node` was first scraped
    /// after the block's end, the other rule series came later). The
    /// master's WAL (2.42 wrote it; the recording keeps every record's
    /// first refs and its time range) names refs up to 1 445: with that
    /// block's count as the head's the refs do not add up, with the WAL's
    /// newest ref they do, and the three targets' grids are there.
    #[test]
    fn without_the_head_block_the_wal_ends_the_newest_target() {
        let wal = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("testdata/loss-runs/deb3t-15-10-skiphead-r2/master-wal");
        assert!(Schedule::from_wal(&wal, 840, false).is_none());
        let g = Schedule::from_wal_with(&wal, None, false).unwrap();
        let intervals: BTreeSet<i64> = g.grids.iter().map(|x| x.interval).collect();
        assert_eq!(intervals, BTreeSet::from([5_000, 10_000, 15_000]));
        // The refs from the first target's to the WAL's newest, each once.
        let sum: u64 = g.grids.iter().map(|x| x.series).sum();
        assert_eq!(sum, 1_445);
        // The head's count, when known, still ends them.
        let known = Schedule::from_wal(&wal, 1_500, false).unwrap();
        assert_eq!(known.grids.iter().map(|x| x.series).sum::<u64>(), 1_500);
    }

    #[test]
    fn newest_target_ends_at_the_newest_ref_when_the_head_is_unknown() {
        let t = vec![(1, 1_000, 0, 0), (50, 1_000, 0, 0)];
        let none = BTreeSet::new();
        let s = Schedule::from_targets(t.clone(), None, 79, &none).unwrap();
        assert_eq!((s.grids[0].series, s.grids[1].series), (49, 30));
        // A newest ref below the newest target's first: nothing adds up.
        assert!(Schedule::from_targets(t, None, 40, &none).is_none());
    }

    #[test]
    fn note_keeps_the_interval() {
        let mut a = Acc::default();
        for t in [0, 1_000, 2_000, 3_001, 4_000, 5_000] {
            note(&mut a, t);
        }
        assert_eq!(a.records, 6);
        assert_eq!(
            a.diffs.iter().max_by_key(|(_, n)| **n).map(|(d, _)| *d),
            Some(1_000)
        );
    }
}
