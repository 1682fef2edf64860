//! The series of a directory as `gaps` and `fill` read them: every block's
//! series in index (= label) order and the head's, merged into one stream
//! sorted by label set, each series with its samples in the range
//! (tombstones applied; a timestamp present in several blocks comes once,
//! the older block's sample winning). `gaps` takes the times only
//! ([`Sample`] for `i64`), `fill` the values too (`(i64, Value)`).
//!
//! A chunk whose CRC fails, or that stops decoding, gives the samples
//! decoded before the damage; the damage is recorded in `errors` (file,
//! series) and the stream goes on.
//!
//! Memory: one series per stream, plus the replayed head.

use std::path::Path;
use std::sync::Mutex;

use crate::block::{BlockFiles, BlockReader};
use crate::dump::format_labels;
use crate::format::chunkenc::{self, Encoding, Value, XorIter};
use crate::format::index::{SeriesEntry, SeriesIter};
use crate::format::meta::BlockMeta;
use crate::format::tombstones::is_deleted;
use crate::head::Head;
use crate::layout::{self, DirKind};
use crate::selector::{Matcher, matches_any};

/// A label set, owned, in the order the index sorts series.
pub type Labels = Vec<(Vec<u8>, Vec<u8>)>;

/// What a stream yields per sample: its time alone, or time and value.
pub trait Sample: Sized {
    /// From a decoded sample.
    fn of(t: i64, v: Value) -> Self;
    /// From a head sample.
    fn of_ref(t: i64, v: &Value) -> Self;
    /// Its time (ms).
    fn time(&self) -> i64;
}

impl Sample for i64 {
    fn of(t: i64, _: Value) -> Self {
        t
    }
    fn of_ref(t: i64, _: &Value) -> Self {
        t
    }
    fn time(&self) -> i64 {
        *self
    }
}

impl Sample for (i64, Value) {
    fn of(t: i64, v: Value) -> Self {
        (t, v)
    }
    fn of_ref(t: i64, v: &Value) -> Self {
        (t, v.clone())
    }
    fn time(&self) -> i64 {
        self.0
    }
}

/// One series and its samples, by time.
pub type SeriesOf<S> = (Labels, Vec<S>);

/// One series and its samples with values.
pub type SeriesSamples = SeriesOf<(i64, Value)>;

/// A directory opened for reading.
pub struct Opened {
    /// Its blocks' files.
    pub files: Vec<BlockFiles>,
    /// Their metas (same order).
    pub metas: Vec<BlockMeta>,
    /// The head, if the directory is a data directory with `wal/`.
    pub head: Option<Head>,
    /// The layout found.
    pub kind: DirKind,
    /// What could not be read (a lock: the streams of one directory may
    /// be read on another thread).
    pub errors: Mutex<Vec<String>>,
}

impl Opened {
    /// Opens `dir`: its blocks, and the head replayed as Prometheus would
    /// (from the maxTime of the last block by minTime). The directory is
    /// read as one consistent state: a running Prometheus compacts, deletes
    /// blocks and truncates its WAL while we read, so a block or WAL file
    /// that vanishes, or a block set that changed during the read, makes us
    /// list and read again (up to 8 times).
    pub fn open(dir: &Path) -> crate::error::Result<Opened> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            if let Some(o) = Self::open_once(dir, attempt >= 8)? {
                return Ok(o);
            }
        }
    }

    /// One attempt of [`Opened::open`]; `None` when something changed
    /// during the read (never on the last try).
    fn open_once(dir: &Path, last_try: bool) -> crate::error::Result<Option<Opened>> {
        let lay = layout::scan_source(dir)?;
        let mut out = Opened {
            files: Vec::new(),
            metas: Vec::new(),
            head: None,
            kind: lay.kind,
            errors: Mutex::new(Vec::new()),
        };
        let errors = out.errors.get_mut().unwrap_or_else(|e| e.into_inner());
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
                Ok(f) => {
                    out.metas.push(f.meta.clone());
                    out.files.push(f);
                }
                Err(_) if !b.exists() && !last_try => return Ok(None),
                Err(e) => errors.push(format!("block {} skipped: {e}", b.display())),
            }
        }
        if lay.wal.is_some() && lay.kind == DirKind::Data {
            let min_valid_time = last.map_or(i64::MIN, |(_, max)| max);
            match crate::head::replay(dir, min_valid_time) {
                Ok(h) => {
                    errors.extend(h.problems.iter().cloned());
                    out.head = Some(h);
                }
                Err(e) if crate::head::vanished(&e) && !last_try => return Ok(None),
                Err(e) => errors.push(format!("head of {} not read: {e}", dir.display())),
            }
        }
        if !last_try
            && lay.kind == DirKind::Data
            && layout::scan(dir).ok().map(|l| l.blocks).as_ref() != Some(&lay.blocks)
        {
            return Ok(None);
        }
        Ok(Some(out))
    }

    /// Readers of the blocks reaching into `[from, to]` (a block's maxTime
    /// is exclusive).
    pub fn readers(&self, from: i64, to: i64) -> Vec<BlockReader<'_>> {
        let mut out = Vec::new();
        for f in &self.files {
            if f.meta.max_time <= from || f.meta.min_time > to {
                continue;
            }
            match f.reader() {
                Ok(r) => out.push(r),
                Err(e) => self.error(format!("block {} skipped: {e}", f.dir.display())),
            }
        }
        out
    }

    /// Records what could not be read.
    pub fn error(&self, e: String) {
        push_error(&self.errors, e);
    }

    /// What could not be read, taken out.
    pub fn take_errors(&self) -> Vec<String> {
        std::mem::take(&mut *self.errors.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

fn push_error(errors: &Mutex<Vec<String>>, e: String) {
    errors.lock().unwrap_or_else(|e| e.into_inner()).push(e);
}

/// Labels borrowed.
pub fn borrowed(labels: &[(Vec<u8>, Vec<u8>)]) -> Vec<(&[u8], &[u8])> {
    labels
        .iter()
        .map(|(k, v)| (k.as_slice(), v.as_slice()))
        .collect()
}

/// What to read.
#[derive(Debug, Clone)]
pub struct Select {
    /// Series selectors (union); empty: all.
    pub selectors: Vec<Vec<Matcher>>,
    /// Inclusive bounds (ms).
    pub from: i64,
    /// Inclusive bounds (ms).
    pub to: i64,
}

/// One block's selected series in index (= label) order; series without a
/// sample in the range are left out.
struct BlockSeries<'a, S> {
    reader: &'a BlockReader<'a>,
    it: SeriesIter<'a>,
    entry: SeriesEntry,
    labels: Vec<(&'a [u8], &'a [u8])>,
    sel: &'a Select,
    errors: &'a Mutex<Vec<String>>,
    _s: std::marker::PhantomData<S>,
}

impl<S: Sample> BlockSeries<'_, S> {
    /// The samples of the current entry.
    fn samples(&self) -> Vec<S> {
        let mut samples = Vec::new();
        read_samples(self.reader, &self.entry, self.sel, &mut samples, &mut |e| {
            let mut l = String::new();
            format_labels(&mut l, &self.labels);
            push_error(
                self.errors,
                format!("{e} (series {l}: samples after the damage not read)"),
            );
        });
        samples
    }
}

/// The samples of one series entry of `reader` inside `sel`'s time range
/// (tombstones applied), sorted by time, one per timestamp, into `out`
/// (cleared first). A chunk that cannot be read, whose CRC fails or that
/// stops decoding gives the samples decoded before the damage and calls
/// `damaged` with the file and the error.
pub fn read_samples<S: Sample>(
    reader: &BlockReader<'_>,
    entry: &SeriesEntry,
    sel: &Select,
    out: &mut Vec<S>,
    damaged: &mut dyn FnMut(String),
) {
    out.clear();
    let deleted = reader.tombstones.get(entry.id);
    let keep = |t: i64| t >= sel.from && t <= sel.to && !is_deleted(t, deleted);
    for c in &entry.chunks {
        if c.maxt < sel.from || c.mint > sel.to {
            continue;
        }
        let rec = match reader.chunk(c) {
            Ok(r) => r,
            Err(e) => {
                damaged(e.to_string());
                continue;
            }
        };
        let seg = || reader.segment_path(c.segment());
        if let Err(e) = rec.check_crc() {
            damaged(format!("{}: {e}", seg().display()));
            continue;
        }
        if rec.encoding == Encoding::Xor.to_u8() {
            // Floats: the decoder's tight loop.
            let r = XorIter::new(rec.data, rec.data_offset).and_then(|mut it| {
                out.reserve(usize::from(it.num_samples()));
                it.try_for_each_sample(|t, v| {
                    if keep(t) {
                        out.push(S::of(t, Value::Float(v)));
                    }
                })
            });
            if let Err(e) = r {
                damaged(format!("{}: {e}", seg().display()));
            }
            continue;
        }
        let it =
            match chunkenc::samples_for_byte(rec.encoding, rec.offset, rec.data, rec.data_offset) {
                Ok(it) => it,
                Err(e) => {
                    damaged(format!("{}: {e}", seg().display()));
                    continue;
                }
            };
        for s in it {
            match s {
                Ok(s) => {
                    if keep(s.t) {
                        out.push(S::of(s.t, s.value));
                    }
                }
                Err(e) => {
                    damaged(format!("{}: {e}", seg().display()));
                    break;
                }
            }
        }
    }
    if out
        .windows(2)
        .any(|w| matches!(w, [a, b] if a.time() >= b.time()))
    {
        out.sort_by_key(S::time);
        out.dedup_by_key(|s| s.time());
    }
}

/// Every selected series of one block in index (= label) order, labels
/// borrowed from the index: `f(labels, samples)` for each series with a
/// sample in the range, until it returns false. What cannot be read goes
/// to `errors`, as [`series`] records it.
pub fn for_each_block_series<'a, S: Sample>(
    reader: &BlockReader<'a>,
    sel: &Select,
    errors: &Mutex<Vec<String>>,
    mut f: impl FnMut(&[(&'a [u8], &'a [u8])], Vec<S>) -> bool,
) {
    let mut it = reader.index.series();
    let mut entry = SeriesEntry::default();
    let mut labels: Vec<(&'a [u8], &'a [u8])> = Vec::new();
    let index_error = |e: &dyn std::fmt::Display| {
        push_error(
            errors,
            format!("{}: {e}", reader.files.index_path().display()),
        );
    };
    while let Some(r) = it.next_into(&mut entry) {
        if let Err(e) = r {
            index_error(&e);
            continue;
        }
        if let Err(e) = reader.index.resolve_labels(&entry, &mut labels) {
            index_error(&e);
            continue;
        }
        if !matches_any(&sel.selectors, &labels) {
            continue;
        }
        let mut samples = Vec::new();
        read_samples(reader, &entry, sel, &mut samples, &mut |e| {
            let mut l = String::new();
            format_labels(&mut l, &labels);
            push_error(
                errors,
                format!("{e} (series {l}: samples after the damage not read)"),
            );
        });
        if !samples.is_empty() && !f(&labels, samples) {
            return;
        }
    }
}

impl<S: Sample> Iterator for BlockSeries<'_, S> {
    type Item = SeriesOf<S>;

    fn next(&mut self) -> Option<Self::Item> {
        let reader = self.reader;
        loop {
            if let Err(e) = self.it.next_into(&mut self.entry)? {
                push_error(
                    self.errors,
                    format!("{}: {e}", reader.files.index_path().display()),
                );
                continue;
            }
            if let Err(e) = reader.index.resolve_labels(&self.entry, &mut self.labels) {
                push_error(
                    self.errors,
                    format!("{}: {e}", reader.files.index_path().display()),
                );
                continue;
            }
            if !matches_any(&self.sel.selectors, &self.labels) {
                continue;
            }
            let samples = self.samples();
            if !samples.is_empty() {
                let labels = self
                    .labels
                    .iter()
                    .map(|(k, v)| (k.to_vec(), v.to_vec()))
                    .collect();
                return Some((labels, samples));
            }
        }
    }
}

/// The head's selected series (sorted by labels), with their samples in
/// the range (WAL tombstones applied).
fn head_series<'a, S: Sample + 'a>(
    head: &'a Head,
    sel: &'a Select,
) -> impl Iterator<Item = SeriesOf<S>> + 'a {
    head.series.iter().filter_map(move |s| {
        if !matches_any(&sel.selectors, &borrowed(&s.labels)) {
            return None;
        }
        let samples: Vec<S> = s
            .samples
            .iter()
            .filter(|(t, _)| *t >= sel.from && *t <= sel.to && !is_deleted(*t, &s.deleted))
            .map(|(t, v)| S::of_ref(*t, v))
            .collect();
        (!samples.is_empty()).then(|| (s.labels.clone(), samples))
    })
}

/// Streams sorted by label set, merged: a label set present in several
/// streams comes once, its samples sorted by time, one per timestamp (the
/// first stream's, i.e. the older block's, wins). Holds one series per
/// stream.
pub struct Merged<'a, S> {
    streams: Vec<Box<dyn Iterator<Item = SeriesOf<S>> + 'a>>,
    heads: Vec<Option<SeriesOf<S>>>,
}

impl<'a, S: Sample> Merged<'a, S> {
    /// Merges `streams`, each sorted by label set.
    pub fn new(mut streams: Vec<Box<dyn Iterator<Item = SeriesOf<S>> + 'a>>) -> Self {
        let heads = streams.iter_mut().map(|s| s.next()).collect();
        Merged { streams, heads }
    }
}

impl<S: Sample> Iterator for Merged<'_, S> {
    type Item = SeriesOf<S>;

    fn next(&mut self) -> Option<Self::Item> {
        // The stream holding the smallest label set, and whether another
        // holds the same one.
        let mut min: Option<usize> = None;
        let mut shared = false;
        for (i, h) in self.heads.iter().enumerate() {
            let Some((l, _)) = h else { continue };
            match min.and_then(|m| self.heads.get(m)?.as_ref()) {
                None => min = Some(i),
                Some((ml, _)) => match l.cmp(ml) {
                    std::cmp::Ordering::Less => {
                        min = Some(i);
                        shared = false;
                    }
                    std::cmp::Ordering::Equal => shared = true,
                    std::cmp::Ordering::Greater => {}
                },
            }
        }
        let m = min?;
        let first = self.heads.get_mut(m)?.take()?;
        if let Some(s) = self.streams.get_mut(m) {
            *self.heads.get_mut(m)? = s.next();
        }
        if !shared {
            // One stream only: its samples are sorted and unique already.
            return Some(first);
        }
        let (labels, mut samples) = first;
        for (head, stream) in self.heads.iter_mut().zip(&mut self.streams) {
            if head.as_ref().is_some_and(|(l, _)| *l == labels) {
                if let Some((_, s)) = head.take() {
                    samples.extend(s);
                }
                *head = stream.next();
            }
        }
        samples.sort_by_key(S::time);
        samples.dedup_by_key(|s| s.time());
        Some((labels, samples))
    }
}

/// The selected series of an opened directory (blocks and head), merged,
/// in label order.
pub fn series<'a, S: Sample + 'a>(
    readers: &'a [BlockReader<'a>],
    o: &'a Opened,
    sel: &'a Select,
) -> Merged<'a, S> {
    let mut streams: Vec<Box<dyn Iterator<Item = SeriesOf<S>> + 'a>> = readers
        .iter()
        .map(|r| {
            Box::new(BlockSeries::<S> {
                reader: r,
                it: r.index.series(),
                entry: SeriesEntry::default(),
                labels: Vec::new(),
                sel,
                errors: &o.errors,
                _s: std::marker::PhantomData,
            }) as Box<dyn Iterator<Item = SeriesOf<S>> + 'a>
        })
        .collect();
    if let Some(h) = &o.head {
        streams.push(Box::new(head_series::<S>(h, sel)));
    }
    Merged::new(streams)
}

/// The selected series' label sets of an opened directory (`readers`'
/// blocks and the head), merged, in label order, whatever the times of
/// their samples: read from the indexes and the head's series only, no
/// chunk decoded (the sample lists are empty). What cannot be read is left
/// to the sample streams to report.
pub fn label_sets<'a>(
    readers: &'a [BlockReader<'a>],
    o: &'a Opened,
    selectors: &'a [Vec<Matcher>],
) -> Merged<'a, i64> {
    let mut streams: Vec<Box<dyn Iterator<Item = SeriesOf<i64>> + 'a>> = Vec::new();
    for r in readers {
        let mut it = r.index.series();
        let mut entry = SeriesEntry::default();
        let mut labels: Vec<(&'a [u8], &'a [u8])> = Vec::new();
        streams.push(Box::new(std::iter::from_fn(move || {
            loop {
                if it.next_into(&mut entry)?.is_err()
                    || r.index.resolve_labels(&entry, &mut labels).is_err()
                    || !matches_any(selectors, &labels)
                {
                    continue;
                }
                let owned: Labels = labels
                    .iter()
                    .map(|(k, v)| (k.to_vec(), v.to_vec()))
                    .collect();
                return Some((owned, Vec::new()));
            }
        })));
    }
    if let Some(h) = &o.head {
        let selected = h
            .series
            .iter()
            .filter(move |s| matches_any(selectors, &borrowed(&s.labels)));
        streams.push(Box::new(selected.map(|s| (s.labels.clone(), Vec::new()))));
    }
    Merged::new(streams)
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
        let m: Vec<_> = Merged::new(vec![
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
        assert_eq!(Merged::<i64>::new(Vec::new()).next(), None);
    }

    /// The first stream's sample wins a timestamp held by several.
    #[test]
    fn merged_samples_keep_the_first_streams_value() {
        let v = |f: f64| Value::Float(f);
        let s1 = vec![(l("x"), vec![(1, v(1.0)), (3, v(3.0))])];
        let s2 = vec![(l("x"), vec![(2, v(20.0)), (3, v(30.0))])];
        let m: Vec<SeriesSamples> =
            Merged::new(vec![Box::new(s1.into_iter()), Box::new(s2.into_iter())]).collect();
        assert_eq!(m.len(), 1);
        let times: Vec<(i64, f64)> = m[0]
            .1
            .iter()
            .map(|(t, v)| match v {
                Value::Float(f) => (*t, *f),
                _ => (*t, f64::NAN),
            })
            .collect();
        assert_eq!(times, vec![(1, 1.0), (2, 20.0), (3, 3.0)]);
    }
}
