//! Cutting one series' samples into chunks, as Prometheus 2.42 writes them:
//! floats as XOR (encoding 1), integer native histograms as Histogram (2),
//! float native histograms as FloatHistogram (3).
//!
//! A chunk is cut
//! - after [`SAMPLES_PER_CHUNK`] samples (the head's `DefaultSamplesPerChunk`);
//! - when the sample kind changes (float / histogram / float histogram);
//! - for histograms: when the bucket layout (schema, zero threshold, spans,
//!   custom bounds) changes, when a counter reset is seen (count, zero count
//!   or a bucket going down, for non-gauge histograms), and when real data
//!   follows a stale marker (a stale histogram carries no buckets, so only
//!   further stale markers may follow it in a chunk).
//!
//! The histogram chunk header's counter-reset field is `Gauge` for gauge
//! histograms, `CounterReset` for a chunk cut at a detected reset (or whose
//! first sample says so), and `Unknown` otherwise: Prometheus then detects
//! resets itself, which is always correct.
//!
//! Block boundaries are the block writer's business: it only accepts samples
//! inside the block's range, so no chunk spans two blocks.

use crate::format::chunkenc::{CounterResetHint, Encoding, FloatHistogram, Histogram, Value};

use super::encode::{HistIn, LayoutIn, encode_hist};
use super::xor::encode_xor_into;

/// At most this many samples go into one chunk.
pub const SAMPLES_PER_CHUNK: usize = 120;

/// One encoded chunk.
#[derive(Debug, Clone, PartialEq)]
pub struct EncodedChunk {
    /// Encoding byte.
    pub encoding: Encoding,
    /// First sample time (ms).
    pub mint: i64,
    /// Last sample time (ms).
    pub maxt: i64,
    /// Samples in the chunk.
    pub samples: u16,
    /// The chunk data (after the encoding byte).
    pub data: Vec<u8>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Float,
    Hist,
    FloatHist,
}

fn kind(v: &Value) -> Kind {
    match v {
        Value::Float(_) => Kind::Float,
        Value::Histogram(_) => Kind::Hist,
        Value::FloatHistogram(_) => Kind::FloatHist,
    }
}

/// The layout of a histogram sample: schema, zero threshold bits, spans,
/// custom bounds (compared bit for bit).
fn same_layout(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Histogram(a), Value::Histogram(b)) => {
            a.schema == b.schema
                && a.zero_threshold.to_bits() == b.zero_threshold.to_bits()
                && a.positive_spans == b.positive_spans
                && a.negative_spans == b.negative_spans
                && bits_eq(&a.custom_values, &b.custom_values)
        }
        (Value::FloatHistogram(a), Value::FloatHistogram(b)) => {
            a.schema == b.schema
                && a.zero_threshold.to_bits() == b.zero_threshold.to_bits()
                && a.positive_spans == b.positive_spans
                && a.negative_spans == b.negative_spans
                && bits_eq(&a.custom_values, &b.custom_values)
        }
        _ => true,
    }
}

fn bits_eq(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
}

fn is_gauge(v: &Value) -> bool {
    match v {
        Value::Histogram(h) => h.counter_reset_hint == CounterResetHint::Gauge,
        Value::FloatHistogram(h) => h.counter_reset_hint == CounterResetHint::Gauge,
        Value::Float(_) => false,
    }
}

fn hint(v: &Value) -> CounterResetHint {
    match v {
        Value::Histogram(h) => h.counter_reset_hint,
        Value::FloatHistogram(h) => h.counter_reset_hint,
        Value::Float(_) => CounterResetHint::Unknown,
    }
}

/// True if `cur` went down against `prev` (same layout, neither stale).
fn is_reset(prev: &Value, cur: &Value) -> bool {
    match (prev, cur) {
        (Value::Histogram(p), Value::Histogram(c)) => {
            c.count < p.count
                || c.zero_count < p.zero_count
                || any_down(&c.positive_buckets, &p.positive_buckets)
                || any_down(&c.negative_buckets, &p.negative_buckets)
        }
        (Value::FloatHistogram(p), Value::FloatHistogram(c)) => {
            c.count < p.count
                || c.zero_count < p.zero_count
                || any_down(&c.positive_buckets, &p.positive_buckets)
                || any_down(&c.negative_buckets, &p.negative_buckets)
        }
        _ => false,
    }
}

/// True if a bucket count in `cur` is below its counterpart in `prev`.
fn any_down<T: PartialOrd>(cur: &[T], prev: &[T]) -> bool {
    cur.iter().zip(prev).any(|(c, p)| c < p)
}

/// Why a chunk starts where it does.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Cut {
    None,
    Plain,
    Reset,
}

/// Where a new chunk must start before `cur` (the chunk so far starts at
/// `first`, its last sample is `prev`, `layout` its first non-stale sample).
fn cut_before(n_in_chunk: usize, prev: &Value, cur: &Value, layout: Option<&Value>) -> Cut {
    if n_in_chunk >= SAMPLES_PER_CHUNK || kind(prev) != kind(cur) {
        return Cut::Plain;
    }
    if kind(cur) == Kind::Float || cur.is_stale() {
        return Cut::None;
    }
    if prev.is_stale() {
        return Cut::Plain;
    }
    if let Some(l) = layout
        && !same_layout(l, cur)
    {
        return Cut::Plain;
    }
    if is_gauge(cur) != is_gauge(prev) {
        return Cut::Plain;
    }
    if !is_gauge(cur) && is_reset(prev, cur) {
        return Cut::Reset;
    }
    Cut::None
}

/// Encodes one series' samples (times strictly increasing) into chunks.
pub fn encode_chunks(samples: &[(i64, Value)]) -> Vec<EncodedChunk> {
    let mut out = Vec::new();
    encode_chunks_into(samples, &mut out);
    out
}

/// [`encode_chunks`] into `out`, replacing its contents and reusing the
/// data buffers of the chunks it held.
pub fn encode_chunks_into(samples: &[(i64, Value)], out: &mut Vec<EncodedChunk>) {
    let mut n = 0usize;
    let mut emit = |s: &[(i64, Value)], cut: Cut| {
        let buf = out
            .get_mut(n)
            .map(|c| std::mem::take(&mut c.data))
            .unwrap_or_default();
        let c = encode_group(s, cut, buf);
        match out.get_mut(n) {
            Some(slot) => *slot = c,
            None => out.push(c),
        }
        n += 1;
    };
    if samples.iter().all(|(_, v)| matches!(v, Value::Float(_))) {
        // Floats only: a chunk every SAMPLES_PER_CHUNK samples.
        for s in samples.chunks(SAMPLES_PER_CHUNK) {
            emit(s, Cut::None);
        }
        out.truncate(n);
        return;
    }
    let mut start = 0usize;
    let mut start_cut = Cut::None;
    let mut layout: Option<&Value> = None;
    for (i, (_, v)) in samples.iter().enumerate() {
        if i > start {
            let prev = &samples[i - 1].1;
            let c = cut_before(i - start, prev, v, layout);
            if c != Cut::None {
                emit(&samples[start..i], start_cut);
                start = i;
                start_cut = c;
                layout = None;
            }
        }
        if layout.is_none() && !v.is_stale() {
            layout = Some(v);
        }
    }
    if start < samples.len() {
        emit(&samples[start..], start_cut);
    }
    out.truncate(n);
}

/// One chunk of `s`; `buf` is an allocation to reuse for its data.
fn encode_group(s: &[(i64, Value)], cut: Cut, buf: Vec<u8>) -> EncodedChunk {
    let mint = s.first().map_or(0, |x| x.0);
    let maxt = s.last().map_or(0, |x| x.0);
    let n = s.len().min(usize::from(u16::MAX)) as u16;
    let first = s.first().map(|x| &x.1);
    let (encoding, data) = match first {
        None | Some(Value::Float(_)) => {
            let fl = s.iter().map(|(t, v)| match v {
                Value::Float(f) => (*t, f.to_bits()),
                _ => (*t, 0),
            });
            (Encoding::Xor, encode_xor_into(buf, s.len(), fl))
        }
        Some(v) => {
            let float = matches!(v, Value::FloatHistogram(_));
            let crh = if is_gauge(v) {
                CounterResetHint::Gauge
            } else if cut == Cut::Reset || hint(v) == CounterResetHint::CounterReset {
                CounterResetHint::CounterReset
            } else {
                CounterResetHint::Unknown
            };
            let layout = s
                .iter()
                .find(|(_, v)| !v.is_stale())
                .map_or_else(empty_layout, |(_, v)| layout_of(v));
            let hs: Vec<HistIn> = s.iter().map(|(t, v)| hist_in(*t, v)).collect();
            let enc = if float {
                Encoding::FloatHistogram
            } else {
                Encoding::Histogram
            };
            (enc, encode_hist(enc, crh, &layout, &hs))
        }
    };
    EncodedChunk {
        encoding,
        mint,
        maxt,
        samples: n,
        data,
    }
}

fn empty_layout() -> LayoutIn {
    LayoutIn {
        schema: 0,
        zero_threshold: 0.0,
        pos_spans: Vec::new(),
        neg_spans: Vec::new(),
        custom_values: Vec::new(),
    }
}

fn layout_of(v: &Value) -> LayoutIn {
    match v {
        Value::Histogram(h) => LayoutIn {
            schema: h.schema,
            zero_threshold: h.zero_threshold,
            pos_spans: h.positive_spans.clone(),
            neg_spans: h.negative_spans.clone(),
            custom_values: h.custom_values.clone(),
        },
        Value::FloatHistogram(h) => LayoutIn {
            schema: h.schema,
            zero_threshold: h.zero_threshold,
            pos_spans: h.positive_spans.clone(),
            neg_spans: h.negative_spans.clone(),
            custom_values: h.custom_values.clone(),
        },
        Value::Float(_) => empty_layout(),
    }
}

fn hist_in(t: i64, v: &Value) -> HistIn {
    match v {
        Value::Histogram(h) => int_hist(t, h),
        Value::FloatHistogram(h) => float_hist(t, h),
        Value::Float(f) => HistIn {
            st: 0,
            t,
            count: 0,
            zero_count: 0,
            sum: f.to_bits(),
            pos: Vec::new(),
            neg: Vec::new(),
        },
    }
}

fn int_hist(t: i64, h: &Histogram) -> HistIn {
    let stale = h.is_stale();
    HistIn {
        st: 0,
        t,
        count: h.count,
        zero_count: h.zero_count,
        sum: h.sum.to_bits(),
        pos: if stale {
            Vec::new()
        } else {
            h.positive_buckets.iter().map(|&c| c as u64).collect()
        },
        neg: if stale {
            Vec::new()
        } else {
            h.negative_buckets.iter().map(|&c| c as u64).collect()
        },
    }
}

fn float_hist(t: i64, h: &FloatHistogram) -> HistIn {
    let stale = h.is_stale();
    HistIn {
        st: 0,
        t,
        count: h.count.to_bits(),
        zero_count: h.zero_count.to_bits(),
        sum: h.sum.to_bits(),
        pos: if stale {
            Vec::new()
        } else {
            h.positive_buckets.iter().map(|c| c.to_bits()).collect()
        },
        neg: if stale {
            Vec::new()
        } else {
            h.negative_buckets.iter().map(|c| c.to_bits()).collect()
        },
    }
}
