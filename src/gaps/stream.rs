//! The series of a directory as `gaps` reads them: every block's series in
//! index (= label) order and the head's, merged into one stream sorted by
//! label set, each series with its sample times in the range (tombstones
//! applied). Memory: one series per stream.

use std::cell::RefCell;
use std::path::Path;

use super::{GapsOptions, Labels, Sources};
use crate::block::{BlockFiles, BlockReader};
use crate::format::chunkenc;
use crate::format::index::{SeriesEntry, SeriesIter};
use crate::format::tombstones::is_deleted;
use crate::layout;
use crate::selector::matches_any;

/// A directory opened for reading: its blocks' files and its head.
pub(super) struct Opened {
    files: Vec<BlockFiles>,
    head: Option<crate::head::Head>,
    pub(super) sources: Sources,
    pub(super) errors: RefCell<Vec<String>>,
}

impl Opened {
    /// Opens `dir` as one consistent state: a running Prometheus compacts,
    /// deletes blocks and truncates its WAL while we read, so a block or WAL
    /// file that vanishes, or a block set that changed during the read,
    /// makes us list and read again (up to 8 times).
    pub(super) fn open(dir: &Path, opts: &GapsOptions) -> crate::error::Result<Opened> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            if let Some(o) = Self::open_once(dir, opts, attempt >= 8)? {
                return Ok(o);
            }
        }
    }

    /// One attempt of [`Opened::open`]; `None` when something changed
    /// during the read (never on the last try).
    fn open_once(
        dir: &Path,
        opts: &GapsOptions,
        last_try: bool,
    ) -> crate::error::Result<Option<Opened>> {
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
                Err(_) if !b.exists() && !last_try => return Ok(None),
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
                Err(e) if crate::head::vanished(&e) && !last_try => return Ok(None),
                Err(e) => errors.push(format!("head of {} not read: {e}", dir.display())),
            }
        }
        if !last_try
            && lay.kind == layout::DirKind::Data
            && layout::scan(dir).ok().map(|l| l.blocks).as_ref() != Some(&lay.blocks)
        {
            return Ok(None);
        }
        Ok(Some(out))
    }
}

pub(super) fn borrowed(labels: &[(Vec<u8>, Vec<u8>)]) -> Vec<(&[u8], &[u8])> {
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
pub(super) struct MergedSeries<'a> {
    streams: Vec<Box<dyn Iterator<Item = (Labels, Vec<i64>)> + 'a>>,
    heads: Vec<Option<(Labels, Vec<i64>)>>,
}

impl<'a> MergedSeries<'a> {
    pub(super) fn new(mut streams: Vec<Box<dyn Iterator<Item = (Labels, Vec<i64>)> + 'a>>) -> Self {
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
pub(super) fn series_of<'a>(
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
pub(super) fn readers_of<'a>(
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
}
