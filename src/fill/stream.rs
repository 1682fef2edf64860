//! The series of a directory with their samples (values included), as
//! `gaps` streams their times: every block's series in index (= label)
//! order and the head's, merged into one stream sorted by label set;
//! tombstones applied; a sample present in several blocks comes once.
//! Memory: one series per stream, plus the replayed head.
//!
//! A damaged chunk gives the samples decoded before the damage; the damage
//! is recorded in `errors` (file, offset, series) and the stream goes on.

use std::cell::RefCell;
use std::path::Path;

use crate::block::{BlockFiles, BlockReader};
use crate::dump::format_labels;
use crate::format::chunkenc::{self, Value};
use crate::format::index::{SeriesEntry, SeriesIter};
use crate::format::meta::BlockMeta;
use crate::format::tombstones::is_deleted;
use crate::gaps::Labels;
use crate::head::Head;
use crate::layout::{self, DirKind};
use crate::selector::{Matcher, matches_any};

/// One series and its samples, by time.
pub type SeriesSamples = (Labels, Vec<(i64, Value)>);

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
    /// What could not be read.
    pub errors: RefCell<Vec<String>>,
}

impl Opened {
    /// Opens `dir`: its blocks, and the head replayed as Prometheus would
    /// (from the maxTime of the last block by minTime).
    pub fn open(dir: &Path) -> crate::error::Result<Opened> {
        let lay = layout::scan(dir)?;
        let mut out = Opened {
            files: Vec::new(),
            metas: Vec::new(),
            head: None,
            kind: lay.kind,
            errors: RefCell::new(Vec::new()),
        };
        let errors = out.errors.get_mut();
        let mut last: Option<(i64, i64)> = None;
        for b in &lay.blocks {
            match BlockFiles::open(b) {
                Ok(f) => {
                    let m = f.meta.clone();
                    if last.is_none_or(|(min, _)| m.min_time >= min) {
                        last = Some((m.min_time, m.max_time));
                    }
                    out.metas.push(m);
                    out.files.push(f);
                }
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
                Err(e) => errors.push(format!("head of {} not read: {e}", dir.display())),
            }
        }
        Ok(out)
    }

    /// Readers of the blocks reaching into `[from, to]`.
    pub fn readers(&self, from: i64, to: i64) -> Vec<BlockReader<'_>> {
        let mut out = Vec::new();
        for f in &self.files {
            if f.meta.max_time <= from || f.meta.min_time > to {
                continue;
            }
            match f.reader() {
                Ok(r) => out.push(r),
                Err(e) => self
                    .errors
                    .borrow_mut()
                    .push(format!("block {} skipped: {e}", f.dir.display())),
            }
        }
        out
    }
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

struct BlockSeries<'a> {
    reader: &'a BlockReader<'a>,
    it: SeriesIter<'a>,
    entry: SeriesEntry,
    labels: Vec<(&'a [u8], &'a [u8])>,
    sel: &'a Select,
    errors: &'a RefCell<Vec<String>>,
}

impl Iterator for BlockSeries<'_> {
    type Item = SeriesSamples;

    fn next(&mut self) -> Option<Self::Item> {
        let (reader, sel) = (self.reader, self.sel);
        loop {
            if let Err(e) = self.it.next_into(&mut self.entry)? {
                self.errors
                    .borrow_mut()
                    .push(format!("{}: {e}", reader.files.index_path().display()));
                continue;
            }
            if let Err(e) = reader.index.resolve_labels(&self.entry, &mut self.labels) {
                self.errors
                    .borrow_mut()
                    .push(format!("{}: {e}", reader.files.index_path().display()));
                continue;
            }
            if !matches_any(&sel.selectors, &self.labels) {
                continue;
            }
            let deleted = reader.tombstones.get(self.entry.id);
            let mut samples: Vec<(i64, Value)> = Vec::new();
            let damaged = |e: &dyn std::fmt::Display, labels: &[(&[u8], &[u8])]| {
                let mut l = String::new();
                format_labels(&mut l, labels);
                self.errors.borrow_mut().push(format!(
                    "{e} (series {l}: samples after the damage not read)"
                ));
            };
            for c in &self.entry.chunks {
                if c.maxt < sel.from || c.mint > sel.to {
                    continue;
                }
                let rec = match reader.chunk(c) {
                    Ok(r) => r,
                    Err(e) => {
                        damaged(&e, &self.labels);
                        continue;
                    }
                };
                let seg = reader.segment_path(c.segment());
                if let Err(e) = rec.check_crc() {
                    damaged(&format!("{}: {e}", seg.display()), &self.labels);
                    continue;
                }
                let it = match chunkenc::samples_for_byte(
                    rec.encoding,
                    rec.offset,
                    rec.data,
                    rec.data_offset,
                ) {
                    Ok(it) => it,
                    Err(e) => {
                        damaged(&format!("{}: {e}", seg.display()), &self.labels);
                        continue;
                    }
                };
                for s in it {
                    match s {
                        Ok(s) => {
                            if s.t >= sel.from && s.t <= sel.to && !is_deleted(s.t, deleted) {
                                samples.push((s.t, s.value));
                            }
                        }
                        Err(e) => {
                            damaged(&format!("{}: {e}", seg.display()), &self.labels);
                            break;
                        }
                    }
                }
            }
            if !samples.is_empty() {
                sort_dedup(&mut samples);
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

fn sort_dedup(s: &mut Vec<(i64, Value)>) {
    if s.windows(2).any(|w| matches!(w, [a, b] if a.0 >= b.0)) {
        s.sort_by_key(|x| x.0);
        s.dedup_by_key(|x| x.0);
    }
}

fn head_series<'a>(head: &'a Head, sel: &'a Select) -> impl Iterator<Item = SeriesSamples> + 'a {
    head.series.iter().filter_map(move |s| {
        let borrowed: Vec<(&[u8], &[u8])> = s
            .labels
            .iter()
            .map(|(k, v)| (k.as_slice(), v.as_slice()))
            .collect();
        if !matches_any(&sel.selectors, &borrowed) {
            return None;
        }
        let samples: Vec<(i64, Value)> = s
            .samples
            .iter()
            .filter(|(t, _)| *t >= sel.from && *t <= sel.to && !is_deleted(*t, &s.deleted))
            .cloned()
            .collect();
        (!samples.is_empty()).then(|| (s.labels.clone(), samples))
    })
}

/// Streams sorted by label set, merged: a label set present in several
/// streams comes once, its samples sorted by time, one per timestamp (the
/// first stream's, i.e. the older block's, wins).
pub struct Merged<'a> {
    streams: Vec<Box<dyn Iterator<Item = SeriesSamples> + 'a>>,
    heads: Vec<Option<SeriesSamples>>,
}

impl Iterator for Merged<'_> {
    type Item = SeriesSamples;

    fn next(&mut self) -> Option<Self::Item> {
        let min = self.heads.iter().flatten().map(|(l, _)| l).min()?.clone();
        let mut samples = Vec::new();
        for (head, stream) in self.heads.iter_mut().zip(&mut self.streams) {
            if head.as_ref().is_some_and(|(l, _)| *l == min) {
                if let Some((_, s)) = head.take() {
                    samples.extend(s);
                }
                *head = stream.next();
            }
        }
        samples.sort_by_key(|x| x.0);
        samples.dedup_by_key(|x| x.0);
        Some((min, samples))
    }
}

/// The selected series of an opened directory (blocks and head), merged,
/// in label order.
pub fn series<'a>(readers: &'a [BlockReader<'a>], o: &'a Opened, sel: &'a Select) -> Merged<'a> {
    let mut streams: Vec<Box<dyn Iterator<Item = SeriesSamples> + 'a>> = readers
        .iter()
        .map(|r| {
            Box::new(BlockSeries {
                reader: r,
                it: r.index.series(),
                entry: SeriesEntry::default(),
                labels: Vec::new(),
                sel,
                errors: &o.errors,
            }) as Box<dyn Iterator<Item = SeriesSamples> + 'a>
        })
        .collect();
    if let Some(h) = &o.head {
        streams.push(Box::new(head_series(h, sel)));
    }
    let heads = streams.iter_mut().map(|s| s.next()).collect();
    Merged { streams, heads }
}
