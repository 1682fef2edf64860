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

use crate::block::BlockReader;
use crate::error::{Error, Result};
use crate::format::chunkenc::{self, Encoding, Value};
use crate::format::index::{ChunkMeta, SeriesEntry, SeriesIter};
use crate::format::tombstones::{Interval, is_deleted};
use crate::gofmt;
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
}

impl Default for DumpOptions {
    fn default() -> Self {
        DumpOptions {
            min_time: i64::MIN,
            max_time: i64::MAX,
            selectors: Vec::new(),
            floats_only: false,
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

struct BlockCursor<'a> {
    block: &'a BlockReader<'a>,
    iter: SeriesIter<'a>,
    entry: SeriesEntry,
    labels: Vec<(&'a [u8], &'a [u8])>,
    live: bool,
}

impl<'a> BlockCursor<'a> {
    fn advance(&mut self, opts: &DumpOptions, errors: &mut Vec<String>) {
        loop {
            match self.iter.next_into(&mut self.entry) {
                None => {
                    self.live = false;
                    return;
                }
                Some(Err(e)) => {
                    errors.push(Error::decode(self.block.files.index_path(), e).to_string());
                    continue;
                }
                Some(Ok(())) => {}
            }
            if let Err(e) = self
                .block
                .index
                .resolve_labels(&self.entry, &mut self.labels)
            {
                errors.push(Error::decode(self.block.files.index_path(), e).to_string());
                continue;
            }
            if !matches_any(&opts.selectors, &self.labels) {
                continue;
            }
            if !self
                .entry
                .chunks
                .iter()
                .any(|c| c.maxt >= opts.min_time && c.mint <= opts.max_time)
            {
                continue;
            }
            self.live = true;
            return;
        }
    }
}

/// One chunk of the series being printed, with its block's deletions.
struct PendingChunk<'a> {
    block: &'a BlockReader<'a>,
    meta: ChunkMeta,
    deleted: &'a [Interval],
}

/// Writes the dump of `blocks` (sorted by minTime) to `out`.
pub fn dump_blocks(
    blocks: &[BlockReader<'_>],
    opts: &DumpOptions,
    out: &mut dyn Write,
) -> Result<DumpReport> {
    let mut report = DumpReport::default();
    let mut cursors: Vec<BlockCursor<'_>> = blocks
        .iter()
        .map(|b| BlockCursor {
            block: b,
            iter: b.index.series(),
            entry: SeriesEntry::default(),
            labels: Vec::new(),
            live: true,
        })
        .collect();
    for c in &mut cursors {
        c.advance(opts, &mut report.errors);
    }
    let mut buf = String::with_capacity(1 << 16);
    let mut prefix = String::new();
    let mut pending: Vec<PendingChunk<'_>> = Vec::new();
    let mut members: Vec<usize> = Vec::new();
    loop {
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
        let Some(m) = min else { break };
        members.clear();
        let Some(min_labels) = cursors.get(m).map(|c| c.labels.clone()) else {
            break;
        };
        for (i, c) in cursors.iter().enumerate() {
            if c.live && c.labels == min_labels {
                members.push(i);
            }
        }
        pending.clear();
        for &i in &members {
            let Some(c) = cursors.get(i) else { continue };
            let deleted = c.block.tombstones.get(c.entry.id);
            for meta in &c.entry.chunks {
                if meta.maxt >= opts.min_time && meta.mint <= opts.max_time {
                    pending.push(PendingChunk {
                        block: c.block,
                        meta: *meta,
                        deleted,
                    });
                }
            }
        }
        prefix.clear();
        format_labels(&mut prefix, &min_labels);
        prefix.push(' ');
        let n = print_series(&prefix, &pending, opts, &mut buf, out, &mut report.errors)?;
        if n > 0 {
            report.series += 1;
            report.samples += n;
        }
        for &i in &members {
            if let Some(c) = cursors.get_mut(i) {
                c.advance(opts, &mut report.errors);
            }
        }
    }
    out.write_all(buf.as_bytes())
        .map_err(|e| Error::io("<stdout>", e))?;
    Ok(report)
}

/// `{name="value", ...}` as Go's `labels.Labels.String()`.
pub fn format_labels(out: &mut String, labels: &[(&[u8], &[u8])]) {
    out.push('{');
    for (i, (n, v)) in labels.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(&String::from_utf8_lossy(n));
        out.push('=');
        gofmt::quote(out, v);
    }
    out.push('}');
}

fn push_line(buf: &mut String, prefix: &str, t: i64, v: &DumpValue) {
    buf.push_str(prefix);
    match v {
        DumpValue::Float(f) => chunkenc::go_format_g(*f, buf),
        DumpValue::Histogram(h) => buf.push_str(h),
    }
    buf.push(' ');
    buf.push_str(itoa_buf(t).as_str());
    buf.push('\n');
}

struct Itoa {
    bytes: [u8; 20],
    start: usize,
}
impl Itoa {
    fn as_str(&self) -> &str {
        std::str::from_utf8(self.bytes.get(self.start..).unwrap_or(&[])).unwrap_or("")
    }
}
fn itoa_buf(v: i64) -> Itoa {
    let mut bytes = [0u8; 20];
    let mut i = 20;
    let neg = v < 0;
    let mut u = v.unsigned_abs();
    loop {
        i -= 1;
        if let Some(b) = bytes.get_mut(i) {
            *b = b'0' + (u % 10) as u8;
        }
        u /= 10;
        if u == 0 || i == 1 {
            break;
        }
    }
    if neg {
        i -= 1;
        if let Some(b) = bytes.get_mut(i) {
            *b = b'-';
        }
    }
    Itoa { bytes, start: i }
}

/// Prints one merged series; returns the number of lines printed.
fn print_series(
    prefix: &str,
    chunks: &[PendingChunk<'_>],
    opts: &DumpOptions,
    buf: &mut String,
    out: &mut dyn Write,
    errors: &mut Vec<String>,
) -> Result<u64> {
    let ordered = chunks
        .windows(2)
        .all(|w| matches!(w, [a, b] if b.meta.mint > a.meta.maxt));
    let mut printed = 0u64;
    let mut stopped = false;
    let mut emit = |t: i64, v: DumpValue, buf: &mut String, stopped: &mut bool| {
        if *stopped {
            return;
        }
        if opts.floats_only && !matches!(v, DumpValue::Float(_)) {
            *stopped = true;
            return;
        }
        push_line(buf, prefix, t, &v);
        printed += 1;
    };
    if ordered {
        for c in chunks {
            decode_chunk(c, opts, errors, &mut |t, v| emit(t, v, buf, &mut stopped));
            if buf.len() >= 1 << 16 {
                out.write_all(buf.as_bytes())
                    .map_err(|e| Error::io("<stdout>", e))?;
                buf.clear();
            }
            if stopped {
                break;
            }
        }
    } else {
        // Overlapping chunks (overlapping blocks): merge by time; for equal
        // timestamps the first source wins, as Prometheus' merge does.
        let mut all: Vec<(i64, usize, DumpValue)> = Vec::new();
        for (i, c) in chunks.iter().enumerate() {
            decode_chunk(c, opts, errors, &mut |t, v| all.push((t, i, v)));
        }
        all.sort_by_key(|(t, i, _)| (*t, *i));
        all.dedup_by_key(|(t, _, _)| *t);
        for (t, _, v) in all {
            emit(t, v, buf, &mut stopped);
        }
    }
    if buf.len() >= 1 << 16 {
        out.write_all(buf.as_bytes())
            .map_err(|e| Error::io("<stdout>", e))?;
        buf.clear();
    }
    Ok(printed)
}

/// Decodes one chunk, applying the time range and tombstones.
fn decode_chunk(
    c: &PendingChunk<'_>,
    opts: &DumpOptions,
    errors: &mut Vec<String>,
    f: &mut dyn FnMut(i64, DumpValue),
) {
    let path = || c.block.segment_path(c.meta.segment());
    let rec = match c.block.chunk(&c.meta) {
        Ok(r) => r,
        Err(e) => {
            errors.push(e.to_string());
            return;
        }
    };
    if let Err(e) = rec.check_crc() {
        errors.push(Error::decode(path(), e).to_string());
        return;
    }
    let keep = |t: i64| t >= opts.min_time && t <= opts.max_time && !is_deleted(t, c.deleted);
    match Encoding::from_u8(rec.encoding) {
        Some(Encoding::Xor) => match chunkenc::XorIter::new(rec.data, rec.data_offset) {
            Ok(it) => {
                for s in it {
                    match s {
                        Ok((t, v)) if keep(t) => f(t, DumpValue::Float(v)),
                        Ok(_) => {}
                        Err(e) => {
                            errors.push(Error::decode(path(), e).to_string());
                            return;
                        }
                    }
                }
            }
            Err(e) => errors.push(Error::decode(path(), e).to_string()),
        },
        Some(enc) => match chunkenc::samples(enc, rec.data, rec.data_offset) {
            Ok(it) => {
                for s in it {
                    match s {
                        Ok(s) if keep(s.t) => f(s.t, to_dump_value(&s.value)),
                        Ok(_) => {}
                        Err(e) => {
                            errors.push(Error::decode(path(), e).to_string());
                            return;
                        }
                    }
                }
            }
            Err(e) => errors.push(Error::decode(path(), e).to_string()),
        },
        None => {
            errors.push(Error::decode(path(), crate::block::unsupported_encoding(&rec)).to_string())
        }
    }
}

fn to_dump_value(v: &Value) -> DumpValue {
    match v {
        Value::Float(f) => DumpValue::Float(*f),
        Value::Histogram(h) => DumpValue::Histogram(h.to_string()),
        Value::FloatHistogram(h) => DumpValue::Histogram(h.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn itoa_matches_std() {
        for v in [0i64, 1, -1, 1795597432510, i64::MIN, i64::MAX, -42] {
            assert_eq!(itoa_buf(v).as_str(), v.to_string());
        }
    }

    #[test]
    fn labels_like_go() {
        let mut s = String::new();
        format_labels(&mut s, &[(b"__name__", b"up"), (b"job", b"a\"b")]);
        assert_eq!(s, r#"{__name__="up", job="a\"b"}"#);
    }
}
