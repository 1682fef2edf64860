//! The rewrite's second pass over the series section: each series' labels
//! judged, its chunks read, what is kept written (see the module doc of
//! [`super::block`] for what is trusted).

use std::cmp::Ordering;

use super::block::{Ctx, Dropped, Rewrite, Src, decode_damaged_entry};
use super::chunk::{max_opt, min_opt, read_chunk_into, series_id};
use super::series::{Recovered, Walker, damaged_extent, labels_trusted};
use crate::check::codes::{FileKind, FindingCode, decode_code};
use crate::error::Result;
use crate::format::DecodeError;
use crate::format::chunkenc::Value;
use crate::format::index::{IndexReader, SeriesEntry};
use crate::format::tombstones::Tombstones;
use crate::vocab::format_labels;
use crate::write::BlockWriter;

/// A label set as the series section names it, borrowed from the index.
type Labels<'a> = Vec<(&'a [u8], &'a [u8])>;

/// Why a series is dropped whole: the finding code and one phrase.
type Why = (FindingCode, String);

/// The state of the second pass.
pub(super) struct Pass<'a, 's> {
    pub(super) src: &'s Src,
    pub(super) index: &'s IndexReader<'a>,
    pub(super) stones: &'s Tombstones,
    /// Labels recovered from the postings lists, by series id.
    pub(super) need: &'s Recovered<'a>,
    /// `None` on a dry run.
    pub(super) writer: Option<BlockWriter>,
    /// The labels of the series kept last (the next must sort after them).
    prev: Option<Vec<(Vec<u8>, Vec<u8>)>>,
    /// The first and last sample time written.
    pub(super) span: Option<(i64, i64)>,
}

impl<'a, 's> Pass<'a, 's> {
    pub(super) fn new(
        src: &'s Src,
        index: &'s IndexReader<'a>,
        stones: &'s Tombstones,
        need: &'s Recovered<'a>,
        writer: Option<BlockWriter>,
    ) -> Self {
        Pass {
            src,
            index,
            stones,
            need,
            writer,
            prev: None,
            span: None,
        }
    }

    /// Walks every series entry: drops what cannot be trusted into `cx`,
    /// writes the rest.
    pub(super) fn run(&mut self, cx: &mut Ctx<'a>, rw: &mut Rewrite) -> Result<()> {
        let mut it = Walker::new(self.index);
        let mut entry = SeriesEntry::default();
        let mut samples: Vec<(i64, Value)> = Vec::new();
        let mut labels: Labels<'a> = Vec::new();
        while let Some(r) = it.next(&mut entry) {
            rw.series_read += 1;
            match r {
                Err((None, e)) => {
                    // The framing of the series section is lost from here on.
                    rw.series_read -= 1;
                    lost_framing(cx, rw, &e, it.lost_nothing);
                }
                Err((Some(off), e)) => self.damaged_entry(cx, rw, off, &e),
                Ok(()) => {
                    let why = self.labels_of(cx, &entry, &mut labels);
                    let mut series = String::new();
                    format_labels(&mut series, &labels);
                    if let Some(why) = why {
                        self.drop_series(cx, rw, &entry, series, why);
                        continue;
                    }
                    let chunk_dropped = self.read_chunks(cx, rw, &entry, &series, &mut samples);
                    self.write_series(rw, &labels, &samples, chunk_dropped)?;
                }
            }
        }
        Ok(())
    }

    /// A damaged entry: the labels from the postings lists (whose CRCs
    /// hold) when they name it; its chunks as its bytes say. The whole
    /// series is dropped.
    fn damaged_entry(&self, cx: &mut Ctx<'a>, rw: &mut Rewrite, off: u64, e: &DecodeError) {
        let index = self.index;
        let damaged = decode_damaged_entry(&self.src.index, off, index.version);
        let mut series = String::new();
        let recovered = self.need.get(&series_id(index.version, off)).filter(|l| {
            !l.is_empty() && damaged.as_ref().is_none_or(|d| d.labels.len() == l.len())
        });
        let trusted_labels = recovered.is_some();
        match (recovered, &damaged) {
            (Some(l), _) => format_labels(&mut series, l),
            (None, Some(d)) => {
                let mut ls = Vec::new();
                self.resolve(&d.labels, &mut ls);
                format_labels(&mut series, &ls);
            }
            (None, None) => {}
        }
        let (from, to, n) = match &damaged {
            Some(d) => damaged_extent(&self.src.segs, &d.chunks),
            None => (None, None, None),
        };
        let (from, to) = match (from, to) {
            (Some(a), Some(b)) => (Some(a), Some(b)),
            _ => (cx.range.map(|r| r.0), cx.range.map(|r| r.1)),
        };
        rw.series_dropped += 1;
        let path = cx.index_path.clone();
        cx.push(Dropped {
            series,
            labels_trusted: trusted_labels,
            from,
            to,
            samples: n,
            samples_exact: false,
            code: decode_code(FileKind::Index, e),
            path,
            offset: Some(off),
            detail: format!(
                "series entry damaged ({e}): its chunk references cannot be trusted, the whole \
                 series is dropped{}",
                if trusted_labels {
                    "; labels from the postings lists"
                } else {
                    "; labels as the damaged bytes say"
                }
            ),
        });
    }

    /// The label references that resolve, as strings, into `out`.
    fn resolve(&self, refs: &[(u32, u32)], out: &mut Labels<'a>) {
        for &(a, b) in refs {
            if let (Some(x), Some(y)) = (self.index.symbols.lookup(a), self.index.symbols.lookup(b))
            {
                out.push((x, y));
            }
        }
    }

    /// The entry's labels into `labels`, and why they cannot be kept, if
    /// they cannot.
    fn labels_of(&self, cx: &Ctx<'a>, entry: &SeriesEntry, labels: &mut Labels<'a>) -> Option<Why> {
        labels.clear();
        if labels_trusted(self.index, &cx.trusted, entry) {
            self.resolve(&entry.labels, labels);
        } else {
            match self.need.get(&entry.id) {
                Some(l) if !l.is_empty() && l.len() == entry.labels.len() => {
                    labels.extend_from_slice(l);
                }
                _ => {
                    self.resolve(&entry.labels, labels);
                    return Some(if labels.len() < entry.labels.len() {
                        (
                            FindingCode::IndexOutOfBounds,
                            "a label refers to a symbol that does not exist, and the postings \
                             lists do not name the series"
                                .into(),
                        )
                    } else {
                        (
                            FindingCode::IndexSymbolsChecksum,
                            "a label uses a symbol of the damaged symbol table, and the postings \
                             lists do not name the series with all its labels"
                                .into(),
                        )
                    });
                }
            }
        }
        self.invalid_labels(labels)
    }

    /// What makes a readable label set one Prometheus could not have
    /// written here: empty, unsorted, an empty name or value, or not after
    /// the series kept before it.
    fn invalid_labels(&self, labels: &Labels<'a>) -> Option<Why> {
        if labels.is_empty() {
            return Some((
                FindingCode::IndexSeriesEmptyLabels,
                "the series has no labels".into(),
            ));
        }
        if labels.windows(2).any(|w| w[0].0 >= w[1].0) {
            return Some((
                FindingCode::IndexSeriesLabelsUnsorted,
                "labels are not sorted by name (or a name repeats)".into(),
            ));
        }
        if labels.iter().any(|(a, b)| a.is_empty() || b.is_empty()) {
            return Some((
                FindingCode::IndexSeriesEmptyLabelValue,
                "a label name or value is empty".into(),
            ));
        }
        let p = self.prev.as_ref()?;
        let cmp = p
            .iter()
            .map(|(a, b)| (a.as_slice(), b.as_slice()))
            .cmp(labels.iter().copied());
        match cmp {
            Ordering::Equal => Some((
                FindingCode::IndexSeriesDuplicate,
                "the same label set as the series before it".into(),
            )),
            Ordering::Greater => Some((
                FindingCode::IndexSeriesUnsorted,
                "sorts before the series kept before it".into(),
            )),
            Ordering::Less => None,
        }
    }

    /// Drops a readable series whose labels cannot be kept.
    fn drop_series(
        &self,
        cx: &mut Ctx<'a>,
        rw: &mut Rewrite,
        entry: &SeriesEntry,
        series: String,
        (code, msg): Why,
    ) {
        let (from, to, n) = damaged_extent(&self.src.segs, &entry.chunks);
        rw.series_dropped += 1;
        let path = cx.index_path.clone();
        cx.push(Dropped {
            series,
            labels_trusted: code != FindingCode::IndexSymbolsChecksum
                && code != FindingCode::IndexOutOfBounds,
            from,
            to,
            samples: n,
            samples_exact: n.is_some(),
            code,
            path,
            offset: Some(entry.offset),
            detail: format!("{msg}: the whole series is dropped"),
        });
    }

    /// Reads the entry's chunks into `samples` (sorted, deduplicated by
    /// time); a chunk that fails is dropped alone, adjacent dropped chunks
    /// of one code merged into one entry. True if some chunk was dropped.
    fn read_chunks(
        &self,
        cx: &mut Ctx<'a>,
        rw: &mut Rewrite,
        entry: &SeriesEntry,
        series: &str,
        samples: &mut Vec<(i64, Value)>,
    ) -> bool {
        samples.clear();
        let deleted = self.stones.get(entry.id);
        let first_drop = cx.dropped.len();
        let mut last_dropped_chunk: Option<usize> = None;
        for (ci, c) in entry.chunks.iter().enumerate() {
            let before = cx.dropped.len();
            read_chunk_into(cx, self.src, c, series, deleted, samples, rw);
            if cx.dropped.len() > before {
                if last_dropped_chunk == Some(ci.wrapping_sub(1)) {
                    merge_last_drops(cx, first_drop);
                }
                last_dropped_chunk = Some(ci);
            }
        }
        if samples.windows(2).any(|w| w[0].0 >= w[1].0) {
            samples.sort_by_key(|s| s.0);
            samples.dedup_by_key(|s| s.0);
        }
        cx.dropped.len() > first_drop
    }

    /// Writes the series' kept samples (none: the series is counted as
    /// dropped when one of its chunks was).
    fn write_series(
        &mut self,
        rw: &mut Rewrite,
        labels: &Labels<'a>,
        samples: &[(i64, Value)],
        chunk_dropped: bool,
    ) -> Result<()> {
        let (Some(f), Some(l)) = (samples.first(), samples.last()) else {
            if chunk_dropped {
                rw.series_dropped += 1;
            }
            return Ok(());
        };
        let (f, l) = (f.0, l.0);
        self.span = Some(self.span.map_or((f, l), |(a, b)| (a.min(f), b.max(l))));
        rw.series_written += 1;
        rw.samples_written += samples.len() as u64;
        let owned: Vec<(Vec<u8>, Vec<u8>)> = labels
            .iter()
            .map(|(a, b)| (a.to_vec(), b.to_vec()))
            .collect();
        if let Some(w) = self.writer.as_mut() {
            w.add_series(&owned, samples)?;
        }
        self.prev = Some(owned);
        Ok(())
    }
}

/// Merges the last drop into the one before it when both are of this
/// series (dropped since `first_drop`), of the same code: one entry per
/// run of adjacent dropped chunks.
fn merge_last_drops(cx: &mut Ctx<'_>, first_drop: usize) {
    let n = cx.dropped.len();
    if n < 2 || n < first_drop + 2 {
        return;
    }
    let (a, b) = cx.dropped.split_at_mut(n - 1);
    if let (Some(p), Some(d)) = (a.last_mut(), b.first())
        && p.code == d.code
        && p.series == d.series
    {
        p.from = min_opt(p.from, d.from);
        p.to = max_opt(p.to, d.to);
        p.samples = p.samples.zip(d.samples).map(|(x, y)| x + y);
        p.samples_exact &= d.samples_exact;
        cx.dropped.pop();
    }
}

/// The series section cannot be walked past `e`'s offset: nothing is lost
/// when the walk resumed at the next entry the all-postings list names
/// right there (non-zero padding); otherwise an unknown number of series.
fn lost_framing(cx: &mut Ctx<'_>, rw: &mut Rewrite, e: &DecodeError, lost_nothing: bool) {
    if lost_nothing {
        rw.notes.push(format!(
            "{}: non-zero padding at offset {}: the walk resumed at the next entry the \
             all-postings list names; nothing lost",
            cx.index_path.display(),
            e.offset()
        ));
        return;
    }
    let path = cx.index_path.clone();
    cx.push(Dropped {
        series: String::new(),
        labels_trusted: false,
        from: cx.range.map(|r| r.0),
        to: cx.range.map(|r| r.1),
        samples: None,
        samples_exact: false,
        code: decode_code(FileKind::Index, e),
        path,
        offset: Some(e.offset()),
        detail: format!(
            "the series section cannot be walked past this offset ({e}): series entries between \
             here and the next one the all-postings list names are lost (their number is unknown)"
        ),
    });
}
