//! `promsnap dump`: every sample of every series, as `promtool tsdb dump`
//! prints it: `{labels} value timestamp_ms`, series sorted by label set and
//! merged across blocks, samples by time, tombstoned samples removed, values
//! in Go's `%g`.
//!
//! promtool 2.42 prints float samples only and stops a series at its first
//! histogram sample. By default promsnap prints histogram samples too, as Go's
//! `Histogram.String()` / `FloatHistogram.String()` (`{count:28, sum:89,
//! [-0.5,0.5]:5, (0.5,1]:5}`); [`DumpOptions::floats_only`] gives promtool's
//! exact behaviour.
//!
//! Memory is bounded by the largest series: series are merged one at a time,
//! and samples are buffered only for a series whose chunks overlap.

use std::io::Write;
use std::path::Path;

use crate::block::{BlockFiles, BlockReader};
use crate::error::{Error, Result};
use crate::format::chunkenc::Value;
use crate::format::index::{ChunkMeta, SeriesEntry, SeriesIter};
use crate::format::tombstones::{Interval, is_deleted};
use crate::head::{self, Head, HeadSeries};
use crate::layout::{self, DirKind};
use crate::selector::{Matcher, matches_any};

/// What to print.
#[derive(Debug, Clone)]
pub struct DumpOptions {
    /// Inclusive lower time bound (ms).
    pub min_time: i64,
    /// Inclusive upper time bound (ms).
    pub max_time: i64,
    /// Series selectors; a series is printed if it matches any. Empty: all.
    pub selectors: Vec<Vec<Matcher>>,
    /// Print float samples only, stopping each series at its first histogram
    /// sample, exactly as promtool 2.42 does.
    pub floats_only: bool,
    /// Lines like promtool's, or one JSON document.
    pub format: DumpFormat,
}

/// How [`dump`] writes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum DumpFormat {
    /// `{labels} value timestamp_ms` lines, byte-identical to promtool.
    #[default]
    Text,
    /// One JSON document, streamed a series at a time (see [`json_value`]
    /// for the values).
    Json,
}

impl Default for DumpOptions {
    fn default() -> Self {
        DumpOptions {
            min_time: i64::MIN,
            max_time: i64::MAX,
            selectors: Vec::new(),
            floats_only: false,
            format: DumpFormat::Text,
        }
    }
}

/// What a dump printed, and what it could not read.
#[derive(Debug, Clone, Default)]
pub struct DumpReport {
    /// Series printed (with at least one sample).
    pub series: u64,
    /// Lines printed.
    pub samples: u64,
    /// Damaged structures that were skipped, one message each.
    pub errors: Vec<String>,
}

/// A sample as dump handles it.
#[derive(Debug, Clone, PartialEq)]
pub enum DumpValue {
    /// A float.
    Float(f64),
    /// A native histogram, already formatted as Go's `String()`.
    Histogram(String),
}

enum Source<'a> {
    Block {
        block: &'a BlockReader<'a>,
        iter: SeriesIter<'a>,
        entry: SeriesEntry,
    },
    Head {
        head: &'a Head,
        next: usize,
        current: Option<&'a HeadSeries>,
    },
}

struct Cursor<'a> {
    source: Source<'a>,
    labels: Vec<(&'a [u8], &'a [u8])>,
    live: bool,
}

impl<'a> Cursor<'a> {
    fn advance(&mut self, opts: &DumpOptions, errors: &mut Vec<String>) {
        match &mut self.source {
            Source::Block { block, iter, entry } => loop {
                match iter.next_into(entry) {
                    None => {
                        self.live = false;
                        return;
                    }
                    Some(Err(e)) => {
                        errors.push(Error::decode(block.files.index_path(), e).to_string());
                        continue;
                    }
                    Some(Ok(())) => {}
                }
                if let Err(e) = block.index.resolve_labels(entry, &mut self.labels) {
                    errors.push(Error::decode(block.files.index_path(), e).to_string());
                    continue;
                }
                if !matches_any(&opts.selectors, &self.labels) {
                    continue;
                }
                if !entry
                    .chunks
                    .iter()
                    .any(|c| c.maxt >= opts.min_time && c.mint <= opts.max_time)
                {
                    continue;
                }
                self.live = true;
                return;
            },
            Source::Head {
                head,
                next,
                current,
            } => loop {
                let Some(s) = head.series.get(*next) else {
                    self.live = false;
                    *current = None;
                    return;
                };
                *next += 1;
                self.labels.clear();
                self.labels
                    .extend(s.labels.iter().map(|(n, v)| (n.as_slice(), v.as_slice())));
                if !matches_any(&opts.selectors, &self.labels) {
                    continue;
                }
                if !s
                    .samples
                    .iter()
                    .any(|(t, _)| *t >= opts.min_time && *t <= opts.max_time)
                {
                    continue;
                }
                *current = Some(s);
                self.live = true;
                return;
            },
        }
    }
}

/// One chunk of the series being printed, with its block's deletions.
struct PendingChunk<'a> {
    block: &'a BlockReader<'a>,
    meta: ChunkMeta,
    deleted: &'a [Interval],
}

/// A piece of the series being printed: a block chunk, or the head's samples.
enum Pending<'a> {
    Chunk(PendingChunk<'a>),
    Head(&'a HeadSeries),
}

impl Pending<'_> {
    /// Roughly how many chunks' worth of samples this piece holds.
    fn weight(&self) -> usize {
        match self {
            Pending::Chunk(_) => 1,
            Pending::Head(h) => h.samples.len() / 120 + 1,
        }
    }

    fn range(&self) -> (i64, i64) {
        match self {
            Pending::Chunk(c) => (c.meta.mint, c.meta.maxt),
            Pending::Head(h) => (
                h.samples.first().map_or(i64::MAX, |s| s.0),
                h.samples.last().map_or(i64::MIN, |s| s.0),
            ),
        }
    }

    fn decode(
        &self,
        opts: &DumpOptions,
        errors: &mut Vec<String>,
        f: &mut dyn FnMut(i64, DumpValue),
    ) {
        match self {
            Pending::Chunk(c) => decode_chunk(c, opts, errors, f),
            Pending::Head(h) => {
                for (t, v) in &h.samples {
                    if *t >= opts.min_time && *t <= opts.max_time && !is_deleted(*t, &h.deleted) {
                        f(*t, to_dump_value(v));
                    }
                }
            }
        }
    }
}

/// Dumps a block, data or snapshot directory: its blocks and, for a data
/// directory with a `wal/`, the head — as promtool 2.42 does: the head is
/// read only when the requested range reaches the last block's maxTime, and
/// only samples from that time on are taken from it.
pub fn dump_path(path: &Path, opts: &DumpOptions, out: &mut dyn Write) -> Result<DumpReport> {
    let (_lay, files, mut head, mut errors) = open_consistent(path, opts)?;
    let mut readers = Vec::new();
    for f in &files {
        match f.reader() {
            Ok(r) => readers.push(r),
            Err(e) => errors.push(format!("skipping unreadable block: {e}")),
        }
    }
    readers.sort_by_key(|r| (r.files.meta.min_time, r.files.meta.ulid.clone()));
    // Only blocks that overlap the closed range [min, max] are queried. With
    // more than one querier Prometheus merges them and sorts every one by
    // labels; when the in-order head is the only querier it does not sort:
    // series come in head series id order. The out-of-order head querier
    // counts too, and it is opened (empty) for a query over the whole time
    // line (promtool's default range) even when there is no out-of-order
    // data — so a full dump of a head-only directory is sorted by labels, a
    // dump of a narrower range is in series id order.
    readers.retain(|r| {
        r.files.meta.min_time <= opts.max_time && opts.min_time < r.files.meta.max_time
    });
    if readers.is_empty()
        && let Some(h) = &mut head
        && !h.opens_ooo_querier(opts.min_time, opts.max_time)
    {
        h.series.sort_by_key(|s| s.series_ref);
    }
    dump_after(&readers, head.as_ref(), opts, out, errors)
}

/// Opens the blocks of `path` and replays its head as one consistent state.
/// A running Prometheus compacts, deletes blocks and truncates its WAL while
/// we read: a block or WAL file that vanishes, or a block set that changed
/// during the read, makes us list and read again (up to 8 times); blocks
/// once opened stay readable (their files are mapped).
/// What [`open_consistent`] returns: layout, opened blocks, head, problems.
type Opened = (layout::Layout, Vec<BlockFiles>, Option<Head>, Vec<String>);

fn open_consistent(path: &Path, opts: &DumpOptions) -> Result<Opened> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let last_try = attempt >= 8;
        let lay = layout::scan_source(path)?;
        let mut errors = Vec::new();
        let mut files = Vec::new();
        let mut changed = false;
        for dir in &lay.blocks {
            match BlockFiles::open(dir) {
                Ok(f) => files.push(f),
                Err(_) if !dir.exists() && !last_try => changed = true,
                Err(e) => errors.push(format!("skipping unreadable block: {e}")),
            }
        }
        if changed {
            continue;
        }
        let max_block_time = files
            .iter()
            .map(|f| (f.meta.min_time, &f.meta.ulid, f.meta.max_time))
            .max()
            .map_or(i64::MIN, |(_, _, max)| max);
        let head = match &lay.wal {
            Some(_) if lay.kind == DirKind::Data && max_block_time <= opts.max_time => {
                match head::replay(path, max_block_time) {
                    Ok(h) => {
                        errors.extend(h.problems.iter().cloned());
                        Some(h)
                    }
                    Err(e) if head::vanished(&e) && !last_try => continue,
                    // An unreadable WAL does not hide the blocks: they are
                    // dumped, the head is named as not read (exit 1), as an
                    // unreadable block is.
                    Err(e) => {
                        errors.push(format!("head (wal/) not read: {e}"));
                        None
                    }
                }
            }
            _ => None,
        };
        if !last_try
            && lay.kind == DirKind::Data
            && layout::scan(path).ok().map(|l| l.blocks).as_ref() != Some(&lay.blocks)
        {
            continue;
        }
        return Ok((lay, files, head, errors));
    }
}

/// Series chunks per batch: a batch is formatted in parallel (in groups of
/// [`GROUP`] series, each into its own reused buffer) while the previous one
/// is written, so memory stays at two batches' text.
const BATCH_CHUNKS: usize = 512;
/// Series per formatting task, at least.
const GROUP: usize = 16;
/// Text per formatting task aimed at: above the CLI's 64 KiB `BufWriter`,
/// which then passes each group's text straight through instead of copying
/// it (a narrow time window prints few lines per series).
const GROUP_BYTES: usize = 256 << 10;

/// Writes the dump of `blocks` (sorted by minTime) and `head` to `out`.
///
/// Series are merged across sources on this thread (an index walk that
/// touches only the chunk metas); their lines are formatted on the rayon
/// pool, a batch at a time, and written in order.
pub fn dump(
    blocks: &[BlockReader<'_>],
    head: Option<&Head>,
    opts: &DumpOptions,
    out: &mut dyn Write,
) -> Result<DumpReport> {
    dump_after(blocks, head, opts, out, Vec::new())
}

/// [`dump`], after `errors` met opening the sources (first in the report
/// and in the JSON document's `errors`).
fn dump_after(
    blocks: &[BlockReader<'_>],
    head: Option<&Head>,
    opts: &DumpOptions,
    out: &mut dyn Write,
    errors: Vec<String>,
) -> Result<DumpReport> {
    let mut report = DumpReport {
        errors,
        ..DumpReport::default()
    };
    let json = opts.format == DumpFormat::Json;
    if json {
        out.write_all(json::HEAD)
            .map_err(|e| Error::io("<stdout>", e))?;
    }
    let mut cursors: Vec<Cursor<'_>> = blocks
        .iter()
        .map(|b| Cursor {
            source: Source::Block {
                block: b,
                iter: b.index.series(),
                entry: SeriesEntry::default(),
            },
            labels: Vec::new(),
            live: true,
        })
        .collect();
    if let Some(h) = head {
        cursors.push(Cursor {
            source: Source::Head {
                head: h,
                next: 0,
                current: None,
            },
            labels: Vec::new(),
            live: true,
        });
    }
    for c in &mut cursors {
        c.advance(opts, &mut report.errors);
    }
    let mut batch: Vec<Job<'_>> = Vec::new();
    let mut batch_chunks = 0usize;
    let mut writer = Writer {
        skip_lead: json,
        ..Writer::default()
    };
    let mut members: Vec<usize> = Vec::new();
    while let Some(job) = next_series(&mut cursors, &mut members, opts, &mut report.errors) {
        batch_chunks += job
            .pending
            .iter()
            .map(Pending::weight)
            .sum::<usize>()
            .max(1);
        batch.push(job);
        if batch_chunks >= BATCH_CHUNKS {
            writer.flush_batch(&batch, opts, out, &mut report)?;
            batch.clear();
            batch_chunks = 0;
        }
    }
    writer.flush_batch(&batch, opts, out, &mut report)?;
    writer.flush_batch(&[], opts, out, &mut report)?;
    if json {
        json::write_tail(out, &report.errors)?;
    }
    Ok(report)
}

/// The next series in label order, merged across the cursors that hold it
/// (which are advanced); `None` when all are done.
fn next_series<'a>(
    cursors: &mut [Cursor<'a>],
    members: &mut Vec<usize>,
    opts: &DumpOptions,
    errors: &mut Vec<String>,
) -> Option<Job<'a>> {
    // The smallest current label set across cursors.
    let mut min: Option<usize> = None;
    for (i, c) in cursors.iter().enumerate() {
        if !c.live {
            continue;
        }
        match min {
            Some(m) if cursors.get(m).is_some_and(|mc| mc.labels <= c.labels) => {}
            _ => min = Some(i),
        }
    }
    let min = min?;
    let labels = cursors.get(min)?.labels.clone();
    members.clear();
    if cursors.len() == 1 {
        // One block and no head (the common case): nothing to merge.
        members.push(min);
    } else {
        for (i, c) in cursors.iter().enumerate() {
            if c.live && c.labels == labels {
                members.push(i);
            }
        }
    }
    let mut pending = Vec::new();
    for &i in members.iter() {
        let Some(c) = cursors.get(i) else { continue };
        match &c.source {
            Source::Block { block, entry, .. } => {
                let deleted = block.tombstones.get(entry.id);
                for meta in &entry.chunks {
                    if meta.maxt >= opts.min_time && meta.mint <= opts.max_time {
                        pending.push(Pending::Chunk(PendingChunk {
                            block,
                            meta: *meta,
                            deleted,
                        }));
                    }
                }
            }
            Source::Head {
                current: Some(s), ..
            } => pending.push(Pending::Head(s)),
            Source::Head { .. } => {}
        }
    }
    for &i in members.iter() {
        if let Some(c) = cursors.get_mut(i) {
            c.advance(opts, errors);
        }
    }
    Some(Job { labels, pending })
}

/// Formats batches in parallel and writes the previous batch meanwhile.
#[derive(Default)]
struct Writer {
    /// Text formatted and not yet written.
    ready: Vec<Formatted>,
    /// Buffers to format the next batch into.
    spare: Vec<Formatted>,
    /// Text per series in the last batch formatted (0 before the first).
    bytes_per_series: usize,
    /// The first byte of the next text written is dropped (the comma
    /// before the first element of the JSON `series` array).
    skip_lead: bool,
}

impl Writer {
    /// Formats `batch` while writing what was formatted before; with an empty
    /// batch, only writes.
    fn flush_batch(
        &mut self,
        batch: &[Job<'_>],
        opts: &DumpOptions,
        out: &mut dyn Write,
        report: &mut DumpReport,
    ) -> Result<()> {
        let ready = std::mem::take(&mut self.ready);
        if batch.is_empty() {
            let w = write_formatted(&ready, out, report, &mut self.skip_lead);
            self.spare = ready;
            return w;
        }
        let group = self.group_size(batch.len());
        let groups = batch.len().div_ceil(group);
        let mut slots = std::mem::take(&mut self.spare);
        slots.resize_with(groups, Formatted::default);
        let (written, formatted) = std::thread::scope(|s| {
            let h = std::thread::Builder::new().spawn_scoped(s, move || {
                format_batch(&mut slots, batch, group, opts);
                slots
            });
            let w = write_formatted(&ready, out, report, &mut self.skip_lead);
            let formatted = match h.map(|h| h.join()) {
                Ok(Ok(f)) => f,
                // No thread to be had: format here, after the write.
                _ => {
                    let mut f = Vec::new();
                    f.resize_with(groups, Formatted::default);
                    format_batch(&mut f, batch, group, opts);
                    f
                }
            };
            (w, formatted)
        });
        let bytes: usize = formatted.iter().map(|f| f.text.len()).sum();
        self.bytes_per_series = bytes / batch.len().max(1);
        self.spare = ready;
        self.ready = formatted;
        written
    }
}

impl Writer {
    /// Series per formatting task: [`GROUP`], or more when the last batch
    /// printed little per series (up to [`GROUP_BYTES`] of text), keeping a
    /// few tasks per thread.
    fn group_size(&self, batch_len: usize) -> usize {
        let by_bytes = GROUP_BYTES
            .checked_div(self.bytes_per_series)
            .unwrap_or(GROUP);
        let by_threads = batch_len / (4 * rayon::current_num_threads().max(1));
        by_bytes.min(by_threads).max(GROUP)
    }
}

/// Formats `batch` into `slots` (one per `group` series), on the rayon pool.
fn format_batch(slots: &mut [Formatted], batch: &[Job<'_>], group: usize, opts: &DumpOptions) {
    use rayon::prelude::*;
    slots
        .par_iter_mut()
        .zip(batch.par_chunks(group.max(1)))
        .for_each(|(slot, jobs)| slot.fill(jobs, opts));
}

/// Writes the text of `ready` in order and adds up what it printed.
fn write_formatted(
    ready: &[Formatted],
    out: &mut dyn Write,
    report: &mut DumpReport,
    skip_lead: &mut bool,
) -> Result<()> {
    for f in ready {
        let mut text = f.text.as_slice();
        if *skip_lead && let Some(rest) = text.get(1..) {
            text = rest;
            *skip_lead = false;
        }
        out.write_all(text).map_err(|e| Error::io("<stdout>", e))?;
        report.series += f.series;
        report.samples += f.samples;
        report.errors.extend(f.errors.iter().cloned());
    }
    Ok(())
}

/// `{name="value", ...}` (its home is [`crate::vocab`]).
pub use crate::vocab::format_labels;

fn to_dump_value(v: &Value) -> DumpValue {
    match v {
        Value::Float(f) => DumpValue::Float(*f),
        Value::Histogram(h) => DumpValue::Histogram(h.to_string()),
        Value::FloatHistogram(h) => DumpValue::Histogram(h.to_string()),
    }
}

mod json;
mod print;
pub use json::{parse_float as json_value, push_float as push_json_value};
use print::{Formatted, Job, decode_chunk};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_like_go() {
        let mut s = String::new();
        format_labels(&mut s, &[(b"__name__", b"up"), (b"job", b"a\"b")]);
        assert_eq!(s, r#"{__name__="up", job="a\"b"}"#);
    }
}
