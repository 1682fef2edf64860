//! The head of a data directory — the data not yet in blocks — rebuilt
//! read-only from `chunks_head/` and `wal/` the way Prometheus 2.42 replays it
//! when promtool opens a directory read-only:
//!
//! 1. `minValidTime` = maxTime of the last block (blocks sorted by minTime);
//!    nothing older is taken from the head.
//! 2. `chunks_head/` files: every in-order chunk whose maxt ≥ minValidTime,
//!    keyed by head series ref.
//! 3. The newest complete `wal/checkpoint.N/`, then WAL segments after N, in
//!    order. Series records create series (a second ref for the same labels
//!    is mapped onto the first); a series gets its m-mapped chunks when
//!    created. Float and histogram samples older than minValidTime, not newer
//!    than the series' last m-mapped chunk, or not newer than the series'
//!    last sample are dropped (as the head's appender drops them). Tombstone
//!    records delete intervals.
//!
//! Memory: every head sample is held (as Prometheus holds the head); the head
//! is bounded by the block range.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::format::chunkenc::{
    self, CounterResetHint, Encoding, FloatHistogram, Histogram, Span, Value,
};
use crate::format::head_chunks;
use crate::format::record::{self, RecordType, WalFloatHistogram, WalHistogram};
use crate::format::refs::SeriesRef;
use crate::format::tombstones::{Interval, Tombstones};
use crate::format::wal::RecordReader;
use crate::walinfo;

/// One series of the head.
#[derive(Debug, Clone)]
pub struct HeadSeries {
    /// The head series ref (Prometheus' series id: the WAL ref of the
    /// series' first Series record).
    pub series_ref: SeriesRef,
    /// Labels, sorted by name.
    pub labels: Vec<(Vec<u8>, Vec<u8>)>,
    /// Samples in time order.
    pub samples: Vec<(i64, Value)>,
    /// Deleted intervals (sorted, disjoint).
    pub deleted: Vec<Interval>,
}

/// The replayed head.
#[derive(Debug, Clone, Default)]
pub struct Head {
    /// Series with at least one sample, sorted by labels.
    pub series: Vec<HeadSeries>,
    /// The minValidTime used.
    pub min_valid_time: i64,
    /// What could not be read (the replay goes on after each).
    pub problems: Vec<String>,
    /// Samples dropped because their series ref was never defined.
    pub unknown_refs: u64,
    /// Samples dropped as out of order or already covered.
    pub dropped: u64,
    /// The time range of the out-of-order chunks found in `chunks_head/`
    /// (Prometheus' `MinOOOTime`/`MaxOOOTime`), or `None` when there is none:
    /// then Prometheus keeps `MaxInt64`/`MinInt64` there.
    pub ooo_range: Option<(i64, i64)>,
}

impl Head {
    /// Whether a query over the closed range `[mint, maxt]` also opens the
    /// out-of-order head querier: Prometheus 2.42 does when the range overlaps
    /// `[MinOOOTime, MaxOOOTime]`, which, with no out-of-order data, are
    /// `MaxInt64` and `MinInt64` — so a query over the whole time line
    /// (promtool's default `--min-time`/`--max-time`) always opens it.
    pub fn opens_ooo_querier(&self, mint: i64, maxt: i64) -> bool {
        let (lo, hi) = self.ooo_range.unwrap_or((i64::MAX, i64::MIN));
        mint <= hi && lo <= maxt
    }
}

/// Owned label pairs of one series.
type OwnedLabels = Vec<(Vec<u8>, Vec<u8>)>;
/// An m-mapped head chunk: mint, maxt, encoding, data.
type MmappedChunk = (i64, i64, u8, Vec<u8>);

struct Building {
    series_ref: SeriesRef,
    labels: Vec<(Vec<u8>, Vec<u8>)>,
    samples: Vec<(i64, Value)>,
    mm_max_time: i64,
}

/// True if `e` is a file that vanished while it was read (a running
/// Prometheus deleted it: WAL truncation, head chunk truncation, block
/// compaction or retention). The caller lists and reads again.
pub fn vanished(e: &Error) -> bool {
    matches!(e, Error::Io { cause, .. } if cause.kind() == std::io::ErrorKind::NotFound)
}

/// Replays the head of `data_dir` (which has `wal/`, maybe `chunks_head/`).
/// A file deleted during the replay is an I/O error for which [`vanished`]
/// is true.
pub fn replay(data_dir: &Path, min_valid_time: i64) -> Result<Head> {
    let mut head = Head {
        min_valid_time,
        ..Head::default()
    };
    let mmapped = read_mmapped(data_dir, &mut head)?;
    let files = replay_files(&data_dir.join("wal"))?;
    let mut replay = Replay {
        head,
        mmapped,
        series: Vec::new(),
        by_labels: HashMap::new(),
        by_ref: HashMap::new(),
        stones: Tombstones::default(),
    };
    for path in &files {
        replay.segment(path)?;
    }
    if let Some(gap) = segment_gap(&data_dir.join("wal"))? {
        replay.head.problems.push(gap);
    }
    Ok(replay.finish())
}

/// Segments missing between two of `wal/` (Prometheus 2.42 refuses to open
/// such a WAL: "segments are not sequential"): the replay reads on, but the
/// records of the missing segments are lost. A running Prometheus deletes
/// segments only from the oldest on, so a gap whose lower segment is still
/// there after the replay is no truncation seen mid-way.
fn segment_gap(wal_dir: &Path) -> Result<Option<String>> {
    let segs = walinfo::segments(wal_dir)?;
    let gap = segs
        .windows(2)
        .find(|w| w[1].0 != w[0].0.saturating_add(1))
        .filter(|w| w[0].1.exists());
    Ok(gap.map(|w| {
        format!(
            concat!(
                "{}: WAL segments {:08}..{:08} are missing (their records are not ",
                "replayed; Prometheus refuses to open a WAL whose segments are not sequential)"
            ),
            wal_dir.display(),
            w[0].0.saturating_add(1),
            w[1].0.saturating_sub(1)
        )
    }))
}

/// The head being rebuilt from the WAL's records, in order (Prometheus'
/// replay step 3, on top of the m-mapped chunks of step 2).
struct Replay {
    head: Head,
    /// The m-mapped chunks not yet claimed by a series record.
    mmapped: HashMap<SeriesRef, Vec<MmappedChunk>>,
    series: Vec<Building>,
    by_labels: HashMap<OwnedLabels, usize>,
    by_ref: HashMap<SeriesRef, usize>,
    stones: Tombstones,
}

impl Replay {
    /// Applies every record of one segment or checkpoint file, up to its
    /// first damage (a problem unless it is a torn tail).
    /// The file is mapped and its pages released behind the reader, so that
    /// a segment grown by damage costs no memory; the newest one, which a
    /// running server may still write, too (only appends follow, past the
    /// mapped length: `fileutil::map_wal_segment`).
    fn segment(&mut self, path: &Path) -> Result<()> {
        const RELEASE_SPAN: u64 = 16 << 20;
        crate::copy::fsops::test_pause("wal_segment", &path.to_string_lossy());
        let bytes = crate::fileutil::wal_segment_bytes(path).map_err(|e| Error::io(path, e))?;
        let mut released = 0u64;
        let mut rr = RecordReader::new(&bytes);
        while let Some(r) = rr.next_record() {
            let rec = match r {
                Ok(r) => r,
                Err(e) => {
                    if !e.is_torn() {
                        self.head.problems.push(format!("{}: {e}", path.display()));
                    }
                    break;
                }
            };
            if let Err(e) = self.record(rec.data, rec.offset) {
                self.head.problems.push(Error::decode(path, e).to_string());
            }
            if rec.offset > released.saturating_add(RELEASE_SPAN) {
                bytes.release(released, rec.offset);
                released = rec.offset;
            }
        }
        Ok(())
    }

    /// Applies one record: series, samples of each kind, tombstones.
    fn record(
        &mut self,
        data: &[u8],
        off: u64,
    ) -> std::result::Result<usize, crate::format::error::DecodeError> {
        match record::record_type(data) {
            Some(RecordType::Series) => {
                record::for_each_series(data, off, |r, labels| self.add_series(r, labels))
            }
            Some(t) if t.is_float_samples() => {
                record::for_each_sample(data, off, |r, t, v| self.sample(r, t, Value::Float(v)))
            }
            Some(t) if t.is_histogram_samples() => record::for_each_histogram(data, off, |s, h| {
                let v = Value::Histogram(Box::new(int_histogram(h)));
                self.sample(s.series_ref, s.t, v);
            }),
            Some(t) if t.is_float_histogram_samples() => {
                record::for_each_float_histogram(data, off, |s, h| {
                    let v = Value::FloatHistogram(Box::new(float_histogram(h)));
                    self.sample(s.series_ref, s.t, v);
                })
            }
            Some(RecordType::Tombstones) => {
                record::for_each_tombstone(data, off, |r, mint, maxt| {
                    if let Some(&i) = self.by_ref.get(&r) {
                        self.stones
                            .add(SeriesRef(i as u64), Interval { mint, maxt });
                    }
                })
            }
            _ => Ok(0),
        }
    }

    /// A series record: a new series (with its m-mapped chunks) or another
    /// ref for labels already seen.
    fn add_series(&mut self, r: SeriesRef, labels: record::Labels<'_>) {
        let ls: OwnedLabels = labels
            .iter()
            .map(|(n, v)| (n.to_vec(), v.to_vec()))
            .collect();
        if let Some(&i) = self.by_labels.get(&ls) {
            self.by_ref.insert(r, i);
            return;
        }
        let i = self.series.len();
        let mut b = Building {
            series_ref: r,
            labels: ls.clone(),
            samples: Vec::new(),
            mm_max_time: i64::MIN,
        };
        if let Some(chunks) = self.mmapped.remove(&r) {
            for (_, maxt, enc, data) in chunks {
                decode_into(enc, &data, &mut b.samples);
                b.mm_max_time = b.mm_max_time.max(maxt);
            }
        }
        self.series.push(b);
        self.by_labels.insert(ls, i);
        self.by_ref.insert(r, i);
    }

    fn sample(&mut self, r: SeriesRef, t: i64, v: Value) {
        let min_valid_time = self.head.min_valid_time;
        push(
            &mut self.head,
            &mut self.series,
            &self.by_ref,
            r,
            t,
            min_valid_time,
            v,
        );
    }

    /// The series with samples, sorted by labels, with their deletions.
    fn finish(self) -> Head {
        let Replay {
            mut head,
            series,
            stones,
            ..
        } = self;
        let mut out: Vec<HeadSeries> = series
            .into_iter()
            .enumerate()
            .filter(|(_, b)| !b.samples.is_empty())
            .map(|(i, b)| HeadSeries {
                series_ref: b.series_ref,
                deleted: stones.get(SeriesRef(i as u64)).to_vec(),
                labels: b.labels,
                samples: b.samples,
            })
            .collect();
        out.sort_by(|a, b| a.labels.cmp(&b.labels));
        head.series = out;
        head
    }
}

/// The in-order m-mapped chunks of `chunks_head/` from `head.min_valid_time`
/// on, by series ref (Prometheus' replay step 2); out-of-order chunks only
/// widen `head.ooo_range`; a file stops at its first damage (a problem).
fn read_mmapped(data_dir: &Path, head: &mut Head) -> Result<HashMap<SeriesRef, Vec<MmappedChunk>>> {
    let mut mmapped: HashMap<SeriesRef, Vec<MmappedChunk>> = HashMap::new();
    let ch_dir = data_dir.join("chunks_head");
    if ch_dir.is_dir() {
        let files = walinfo::head_chunk_files(&ch_dir)?;
        for (_, path) in files {
            let bytes = crate::fileutil::map_file(&path)?;
            let it = match head_chunks::chunks(&bytes) {
                Ok(it) => it,
                Err(e) => {
                    head.problems.push(Error::decode(&path, e).to_string());
                    continue;
                }
            };
            for c in it {
                match c {
                    Ok(c) if !c.ooo && c.maxt >= head.min_valid_time => {
                        mmapped.entry(c.series_ref).or_default().push((
                            c.mint,
                            c.maxt,
                            c.encoding,
                            c.data.to_vec(),
                        ));
                    }
                    Ok(c) if c.ooo => {
                        let (lo, hi) = head.ooo_range.unwrap_or((i64::MAX, i64::MIN));
                        head.ooo_range = Some((lo.min(c.mint), hi.max(c.maxt)));
                    }
                    Ok(_) => {}
                    Err(e) => {
                        head.problems.push(Error::decode(&path, e).to_string());
                        break;
                    }
                }
            }
        }
    }
    Ok(mmapped)
}

/// The WAL files replay reads, in order (step 3): the newest complete
/// checkpoint's segments, then the WAL segments after it.
fn replay_files(wal_dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = Vec::new();
    let checkpoints = walinfo::checkpoints(wal_dir)?;
    let last_cp = checkpoints.iter().rfind(|(c, _)| !c.tmp);
    let start_from = match last_cp {
        Some((c, p)) => {
            for (_, s) in walinfo::segments(p)? {
                files.push(s);
            }
            Some(c.index)
        }
        None => None,
    };
    for (i, s) in walinfo::segments(wal_dir)? {
        if start_from.is_none_or(|n| i > n) {
            files.push(s);
        }
    }
    Ok(files)
}

fn push(
    head: &mut Head,
    series: &mut [Building],
    by_ref: &HashMap<SeriesRef, usize>,
    r: SeriesRef,
    t: i64,
    min_valid_time: i64,
    v: Value,
) {
    let Some(b) = by_ref.get(&r).and_then(|&i| series.get_mut(i)) else {
        head.unknown_refs += 1;
        return;
    };
    if t < min_valid_time || t <= b.mm_max_time || b.samples.last().is_some_and(|(lt, _)| t <= *lt)
    {
        head.dropped += 1;
        return;
    }
    b.samples.push((t, v));
}

fn decode_into(encoding: u8, data: &[u8], out: &mut Vec<(i64, Value)>) {
    let Some(enc) = Encoding::from_u8(encoding & 0x7f) else {
        return;
    };
    if let Ok(it) = chunkenc::samples(enc, data, 0) {
        for s in it {
            match s {
                Ok(s) => {
                    if out.last().is_none_or(|(lt, _)| s.t > *lt) {
                        out.push((s.t, s.value));
                    }
                }
                Err(_) => break,
            }
        }
    }
}

fn hint(h: u8) -> CounterResetHint {
    match h {
        1 => CounterResetHint::CounterReset,
        2 => CounterResetHint::NotCounterReset,
        3 => CounterResetHint::Gauge,
        _ => CounterResetHint::Unknown,
    }
}

fn spans(s: &[(i32, u32)]) -> Vec<Span> {
    s.iter()
        .map(|&(offset, length)| Span { offset, length })
        .collect()
}

fn absolute(deltas: &[i64]) -> Vec<i64> {
    let mut acc = 0i64;
    deltas
        .iter()
        .map(|d| {
            acc = acc.wrapping_add(*d);
            acc
        })
        .collect()
}

/// A WAL integer histogram as the chunk decoder's type (buckets absolute).
pub fn int_histogram(h: &WalHistogram) -> Histogram {
    Histogram {
        counter_reset_hint: hint(h.counter_reset_hint),
        schema: h.schema,
        zero_threshold: h.zero_threshold,
        zero_count: h.zero_count,
        count: h.count,
        sum: h.sum,
        positive_spans: spans(&h.positive_spans),
        negative_spans: spans(&h.negative_spans),
        positive_buckets: absolute(&h.positive_deltas),
        negative_buckets: absolute(&h.negative_deltas),
        custom_values: h.custom_values.clone(),
    }
}

/// A WAL float histogram as the chunk decoder's type.
pub fn float_histogram(h: &WalFloatHistogram) -> FloatHistogram {
    FloatHistogram {
        counter_reset_hint: hint(h.counter_reset_hint),
        schema: h.schema,
        zero_threshold: h.zero_threshold,
        zero_count: h.zero_count,
        count: h.count,
        sum: h.sum,
        positive_spans: spans(&h.positive_spans),
        negative_spans: spans(&h.negative_spans),
        positive_buckets: h.positive_buckets.clone(),
        negative_buckets: h.negative_buckets.clone(),
        custom_values: h.custom_values.clone(),
    }
}

/// Size of a WAL page.
const WAL_PAGE: u64 = 32 * 1024;

/// Largest m-mapped in-order chunk end per series ref in `chunks_head/`
/// (a file stops at its first damaged chunk, as Prometheus stops there);
/// the files named in `skip` hold nothing.
fn mmapped_max_times(dir: &Path, skip: &[PathBuf]) -> HashMap<SeriesRef, (i64, i64)> {
    let mut out: HashMap<SeriesRef, (i64, i64)> = HashMap::new();
    for (_, path) in walinfo::head_chunk_files(dir).unwrap_or_default() {
        if skip.iter().any(|g| g.file_name() == path.file_name()) {
            continue;
        }
        let Ok(bytes) = crate::fileutil::map_file(&path) else {
            continue;
        };
        let Ok(it) = head_chunks::chunks(&bytes) else {
            continue;
        };
        for c in it.map_while(|c| c.ok()).filter(|c| !c.ooo) {
            let e = out.entry(c.series_ref).or_insert((c.mint, c.maxt));
            *e = (e.0.min(c.mint), e.1.max(c.maxt));
        }
    }
    out
}

/// What Prometheus 2.42's WAL repair really loses when it cuts `segment`
/// at the damaged record starting at `offset` and deletes the later
/// segments: `[first, last]` (ms) of the samples of the records it drops
/// (those still readable: from the next page after the damage on, and the
/// later segments whole) that nothing else rebuilds. A sample older than
/// `min_valid_time` is in a block; one not newer than its series' last
/// m-mapped chunk in `chunks_head/` is served from that chunk (the replay
/// skips WAL samples there). With `torn`, the damaged record is a torn one
/// and its readable samples count too. A series whose Series record is dropped loses
/// its samples and its m-mapped chunks (nothing defines it any more).
/// `None` when nothing readable is lost.
pub fn wal_repair_loss(
    chunks_head: Option<&Path>,
    segment: &Path,
    offset: u64,
    torn: bool,
    min_valid_time: i64,
) -> Option<(i64, i64)> {
    wal_repair_loss_without(chunks_head, &[], segment, offset, torn, min_valid_time)
}

/// [`wal_repair_loss`] when the `chunks_head/` files in `gone` are gone
/// before the restart (deleted as damaged, or moved into a quarantine):
/// their chunks hold nothing.
pub fn wal_repair_loss_without(
    chunks_head: Option<&Path>,
    gone: &[PathBuf],
    segment: &Path,
    offset: u64,
    torn: bool,
    min_valid_time: i64,
) -> Option<(i64, i64)> {
    let mm = chunks_head
        .map(|d| mmapped_max_times(d, gone))
        .unwrap_or_default();
    let index = segment
        .file_name()
        .and_then(|n| crate::format::wal::segment::parse_segment_name(&n.to_string_lossy()))?;
    let dir = segment.parent()?;
    let later: Vec<PathBuf> = walinfo::segments(dir)
        .unwrap_or_default()
        .into_iter()
        .filter(|(i, _)| *i > index)
        .map(|(_, p)| p)
        .collect();
    let mut loss = RepairLoss {
        mm,
        min_valid_time,
        dropped_series: HashSet::new(),
        span: None,
    };
    // The damaged segment from the page after the damage on: whatever
    // frames read there (a record cut by a page start is skipped).
    if let Ok(bytes) = crate::fileutil::map_file(segment) {
        if torn {
            loss.torn_record(&bytes, offset);
        }
        loss.after_damage(&bytes, offset);
    }
    for p in &later {
        let Ok(bytes) = crate::fileutil::map_file(p) else {
            continue;
        };
        let mut rr = RecordReader::new(&bytes);
        while let Some(Ok(rec)) = rr.next_record() {
            loss.take(rec.data);
        }
    }
    loss.dropped_mmapped();
    loss.span
}

/// The span of sample times the WAL records dropped by a repair held that
/// nothing else (the m-mapped chunks) holds.
struct RepairLoss {
    /// Min and max time of each series' m-mapped chunks.
    mm: HashMap<SeriesRef, (i64, i64)>,
    min_valid_time: i64,
    /// Series the dropped records define: all their samples are lost.
    dropped_series: HashSet<SeriesRef>,
    span: Option<(i64, i64)>,
}

impl RepairLoss {
    fn add(&mut self, t: i64) {
        self.span = Some(self.span.map_or((t, t), |(a, b)| (a.min(t), b.max(t))));
    }

    fn sample(&mut self, r: SeriesRef, t: i64) {
        let covered = self.mm.get(&r).is_some_and(|&(_, m)| t <= m);
        if t >= self.min_valid_time && (self.dropped_series.contains(&r) || !covered) {
            self.add(t);
        }
    }

    /// One dropped record: its series, or its samples.
    fn take(&mut self, rec: &[u8]) {
        let Some(ty) = record::record_type(rec) else {
            return;
        };
        if ty == RecordType::Series {
            let _ = record::for_each_series(rec, 0, |r, _| {
                self.dropped_series.insert(r);
            });
        } else if matches!(ty, RecordType::Samples | RecordType::SamplesV2) {
            let _ = record::for_each_sample(rec, 0, |r, t, _| self.sample(r, t));
        } else if ty.is_histogram_samples() {
            let _ = record::for_each_histogram(rec, 0, |s, _| self.sample(s.series_ref, s.t));
        } else if ty.is_float_histogram_samples() {
            let _ = record::for_each_float_histogram(rec, 0, |s, _| self.sample(s.series_ref, s.t));
        }
    }

    /// A torn record itself, as far as it reads (its fragments before the
    /// cut; a record with a bad CRC is not trusted): its series are not
    /// known here, so a time counts as held by chunks_head/ only when every
    /// series' m-mapped chunks reach it.
    fn torn_record(&mut self, bytes: &[u8], offset: u64) {
        let all_mm = self.mm.values().map(|&(_, m)| m).min().unwrap_or(i64::MIN);
        let r = walinfo::torn_record_time(bytes, offset);
        if let (Some(a), Some(b)) = (r.min_t, r.max_t)
            && b > all_mm
            && b >= self.min_valid_time
        {
            self.add(a.max(all_mm.saturating_add(1)).max(self.min_valid_time));
            self.add(b);
        }
    }

    /// The damaged segment from the page after the damage at `offset` on:
    /// whatever records read there, each damage skipped to the next page.
    fn after_damage(&mut self, bytes: &[u8], offset: u64) {
        let len = bytes.len() as u64;
        let mut pos = (offset / WAL_PAGE + 1) * WAL_PAGE;
        while pos < len {
            let mut rr = RecordReader::starting_at(bytes, pos);
            let damaged = loop {
                match rr.next_record() {
                    None => break false,
                    Some(Ok(rec)) => self.take(rec.data),
                    Some(Err(_)) => break true,
                }
            };
            let stop = if damaged { rr.position().max(pos) } else { len };
            pos = (stop / WAL_PAGE + 1) * WAL_PAGE;
        }
    }

    /// The m-mapped chunks of series only the dropped records defined.
    fn dropped_mmapped(&mut self) {
        let spans: Vec<(i64, i64)> = self
            .mm
            .iter()
            .filter(|&(r, &(_, b))| self.dropped_series.contains(r) && b >= self.min_valid_time)
            .map(|(_, &ab)| ab)
            .collect();
        for (a, b) in spans {
            self.add(a.max(self.min_valid_time));
            self.add(b);
        }
    }
}
