//! Native histogram chunks: Histogram (2), FloatHistogram (3) and their
//! start-timestamp variants HistogramST (5) / FloatHistogramST (6).
//!
//! ```text
//! encodings 2/3: bytes 0-1 BE16 num_samples
//!                byte 2    bits 7-6 counter-reset header, bits 5-0 zero
//! encodings 5/6: bytes 0-1 bits 15-14 counter-reset header, bits 13-0 num_samples
//!                byte 2    ST header (st.rs)
//! bit stream from byte 3:
//!   layout (once, before sample 0):
//!     zero threshold  8-bit code: 0 => 0, 255 => 64 raw bits, else 2^(code-244)
//!     schema          varbit_int
//!     positive spans  varbit_uint n, then n x (varbit_uint length, varbit_int offset)
//!     negative spans  same
//!     custom bounds   schema -53 only: varbit_uint n, then n x (varbit_uint u:
//!                     u == 0 => 64 raw bits, else (u - 1) / 1000)
//!   integer sample 0: varbit_int t | varbit_uint count | varbit_uint zero count
//!                     | 64 bits sum | varbit_int per bucket (positive, negative)
//!   integer sample i: varbit_int dod of t, count, zero count | varbit_xor sum
//!                     | (unless sum is StaleNaN) varbit_int dod per bucket
//!   float sample 0:   varbit_int t | 64 bits each: count, zero count, sum, buckets
//!   float sample i:   varbit_int dod t | varbit_xor count, zero count, sum
//!                     | (unless sum is StaleNaN) varbit_xor per bucket;
//!                     every field keeps its own XOR window
//!   [ST field after each sample, encodings 5/6 only]
//! ```
//!
//! Integer bucket values are deltas between neighbouring buckets; this module
//! returns absolute counts. See docs/FORMAT.md §3.9, §3.10, §3.12.
//!
//! Decoding follows Prometheus's iterator: the schema, span lengths and span
//! offsets are truncated to 32 bits as Go does; a schema outside `-9..=52`
//! and `-53` is an error; a stale sample (sum = StaleNaN) is returned with only
//! its sum set. Samples of the reserved schemas 9..=52 are reduced to schema
//! 8, as Prometheus's iterator does (merging buckets; a layout Go would panic
//! on is a decode error here).

use super::bounds::{CUSTOM_BUCKETS_SCHEMA, ldexp};
use super::bstream::{BitReader, Bits, Fail};
use super::hist_types::{CounterResetHint, FloatHistogram, Histogram, Span};
use super::st::StState;
use super::{Encoding, STALE_NAN_BITS, Sample, Value};
use crate::format::decode::Decoder;
use crate::format::error::{DecodeError, Result};

/// Bucket layout shared by all samples of a chunk.
#[derive(Debug, Clone, Default)]
struct Layout {
    schema: i32,
    zero_threshold: f64,
    positive_spans: Vec<Span>,
    negative_spans: Vec<Span>,
    custom_values: Vec<f64>,
    /// For reserved schemas 9..=52: how to reduce (positive, negative) to 8.
    reduce: Option<(Reduce, Reduce)>,
}

impl Layout {
    /// A sample's schema, (positive, negative) spans and buckets from its
    /// absolute bucket values: as stored, or reduced to schema 8 (adding
    /// with `add`) for a reserved schema.
    fn buckets<T: Copy + Default>(
        &self,
        pos: Vec<T>,
        neg: Vec<T>,
        add: impl Fn(T, T) -> T + Copy,
    ) -> (i32, [Vec<Span>; 2], [Vec<T>; 2]) {
        match &self.reduce {
            None => (
                self.schema,
                [self.positive_spans.clone(), self.negative_spans.clone()],
                [pos, neg],
            ),
            Some((rp, rn)) => (
                EXPONENTIAL_SCHEMA_MAX,
                [rp.spans.clone(), rn.spans.clone()],
                [rp.apply(&pos, add), rn.apply(&neg, add)],
            ),
        }
    }
}

/// How the buckets of one side map onto schema 8 (Go `reduceResolution`).
#[derive(Debug, Clone, Default)]
struct Reduce {
    spans: Vec<Span>,
    /// Target bucket of each origin bucket (`None`: dropped, as Go does for
    /// an index that wrapped backwards).
    map: Vec<Option<usize>>,
    len: usize,
}

/// The largest schema Prometheus computes bounds for.
const EXPONENTIAL_SCHEMA_MAX: i32 = 8;

impl Reduce {
    /// Plans the reduction of `spans` from `origin` to `target` schema;
    /// `None` when Go would reject the spans (a later span with a negative
    /// offset).
    fn plan(spans: &[Span], origin: i32, target: i32) -> Option<Reduce> {
        let shift = (origin - target).clamp(0, 31) as u32;
        let mut r = Reduce::default();
        let mut idx = 0i32;
        let mut last = 0i32;
        for (n, span) in spans.iter().enumerate() {
            if n > 0 && span.offset < 0 {
                return None;
            }
            idx = idx.wrapping_add(span.offset);
            for _ in 0..span.length {
                let t = (idx.wrapping_sub(1) >> shift).wrapping_add(1);
                let slot = if r.spans.is_empty() {
                    r.spans.push(Span {
                        offset: t,
                        length: 1,
                    });
                    last = t;
                    r.len += 1;
                    Some(r.len - 1)
                } else if last == t {
                    Some(r.len - 1)
                } else if last.wrapping_add(1) == t {
                    if let Some(s) = r.spans.last_mut() {
                        s.length += 1;
                    }
                    last = last.wrapping_add(1);
                    r.len += 1;
                    Some(r.len - 1)
                } else if last.wrapping_add(1) < t {
                    r.spans.push(Span {
                        offset: t.wrapping_sub(last).wrapping_sub(1),
                        length: 1,
                    });
                    last = t;
                    r.len += 1;
                    Some(r.len - 1)
                } else {
                    None
                };
                r.map.push(slot);
                idx = idx.wrapping_add(1);
            }
        }
        Some(r)
    }

    /// The reduced counts, adding in bucket order.
    fn apply<T: Copy + Default>(&self, counts: &[T], add: impl Fn(T, T) -> T) -> Vec<T> {
        let mut out = vec![T::default(); self.len];
        for (c, slot) in counts.iter().zip(&self.map) {
            if let Some(o) = slot.and_then(|j| out.get_mut(j)) {
                *o = add(*o, *c);
            }
        }
        out
    }
}

/// A Gorilla-XOR coded float field with its own window.
#[derive(Debug, Clone, Copy, Default)]
struct XorField {
    bits: u64,
    leading: u8,
    trailing: u8,
}

impl XorField {
    #[inline]
    fn read(&mut self, br: &mut BitReader<'_>) -> Bits<()> {
        br.read_xor(&mut self.bits, &mut self.leading, &mut self.trailing)
    }
}

/// Per-encoding sample state.
#[derive(Debug, Clone)]
enum Counts {
    Int {
        cnt: u64,
        cnt_delta: i64,
        zcnt: u64,
        zcnt_delta: i64,
        sum: XorField,
        /// Stored bucket values (deltas between neighbours) and their deltas.
        pos: Vec<(i64, i64)>,
        neg: Vec<(i64, i64)>,
    },
    Float {
        cnt: XorField,
        zcnt: XorField,
        sum: XorField,
        pos: Vec<XorField>,
        neg: Vec<XorField>,
    },
}

/// Iterator over the samples of a histogram-family chunk.
#[derive(Debug, Clone)]
pub(crate) struct HistIter<'a> {
    br: BitReader<'a>,
    total: u16,
    read: u16,
    header: CounterResetHint,
    st: Option<StState>,
    layout: Layout,
    t: i64,
    t_delta: i64,
    counts: Counts,
    failed: bool,
}

/// Header fields of a histogram-family chunk: (num_samples, counter-reset
/// header, ST header byte if any, header length).
pub(crate) fn read_header(
    encoding: Encoding,
    data: &[u8],
    base_offset: u64,
) -> Result<(u16, CounterResetHint, Option<u8>)> {
    let mut d = Decoder::new(data, base_offset);
    let n = d.be_u16()?;
    let b2 = d.u8()?;
    Ok(match encoding {
        Encoding::HistogramSt | Encoding::FloatHistogramSt => (
            n & 0x3fff,
            CounterResetHint::from_header_bits((n >> 14) as u8),
            Some(b2),
        ),
        _ => (n, CounterResetHint::from_header_bits(b2 >> 6), None),
    })
}

impl<'a> HistIter<'a> {
    /// `encoding` must be one of the four histogram encodings.
    pub(crate) fn new(encoding: Encoding, data: &'a [u8], base_offset: u64) -> Result<Self> {
        let (total, header, st) = read_header(encoding, data, base_offset)?;
        let rest = data.get(3..).unwrap_or(&[]);
        let float = matches!(
            encoding,
            Encoding::FloatHistogram | Encoding::FloatHistogramSt
        );
        let counts = if float {
            Counts::Float {
                cnt: XorField::default(),
                zcnt: XorField::default(),
                sum: XorField::default(),
                pos: Vec::new(),
                neg: Vec::new(),
            }
        } else {
            Counts::Int {
                cnt: 0,
                cnt_delta: 0,
                zcnt: 0,
                zcnt_delta: 0,
                sum: XorField::default(),
                pos: Vec::new(),
                neg: Vec::new(),
            }
        };
        Ok(HistIter {
            br: BitReader::new(rest, base_offset.wrapping_add(3)),
            total,
            read: 0,
            header,
            st: st.map(StState::new),
            layout: Layout::default(),
            t: 0,
            t_delta: 0,
            counts,
            failed: false,
        })
    }

    /// The chunk's counter-reset header.
    pub(crate) fn header(&self) -> CounterResetHint {
        self.header
    }

    fn hint(&self) -> CounterResetHint {
        match self.header {
            CounterResetHint::Gauge => CounterResetHint::Gauge,
            _ if self.read >= 1 => CounterResetHint::NotCounterReset,
            _ => CounterResetHint::Unknown,
        }
    }

    fn step(&mut self) -> Bits<Sample> {
        let prev_t = self.t;
        let value = if self.read == 0 {
            self.first()?
        } else {
            self.later()?
        };
        let st = match &mut self.st {
            Some(st) => {
                st.decode(&mut self.br, self.read, self.t, prev_t)?;
                st.st()
            }
            None => 0,
        };
        Ok(Sample {
            t: self.t,
            st,
            value,
        })
    }

    fn first(&mut self) -> Bits<Value> {
        self.layout = read_layout(&mut self.br)?;
        let n_pos = count_buckets(&self.layout.positive_spans);
        let n_neg = count_buckets(&self.layout.negative_spans);
        let per_bucket = if matches!(self.counts, Counts::Float { .. }) {
            64
        } else {
            1
        };
        let need = n_pos.saturating_add(n_neg).saturating_mul(per_bucket);
        if need > self.br.remaining_bits() {
            let f = Fail::Buckets {
                offset: self.br.offset(),
                buckets: n_pos.saturating_add(n_neg),
                bits: self.br.remaining_bits(),
            };
            return Err(self.br.fail(f));
        }
        // Both fit in the remaining bits, so in usize.
        let (n_pos, n_neg) = (n_pos as usize, n_neg as usize);
        self.t = self.br.read_varbit_int()?;
        let br = &mut self.br;
        match &mut self.counts {
            Counts::Int {
                cnt,
                zcnt,
                sum,
                pos,
                neg,
                ..
            } => {
                *cnt = br.read_varbit_uint()?;
                *zcnt = br.read_varbit_uint()?;
                sum.bits = br.read_u64()?;
                for side in [(&mut *pos, n_pos), (&mut *neg, n_neg)] {
                    let (v, n) = side;
                    v.clear();
                    v.reserve(n);
                    for _ in 0..n {
                        v.push((br.read_varbit_int()?, 0));
                    }
                }
            }
            Counts::Float {
                cnt,
                zcnt,
                sum,
                pos,
                neg,
            } => {
                cnt.bits = br.read_u64()?;
                zcnt.bits = br.read_u64()?;
                sum.bits = br.read_u64()?;
                for side in [(&mut *pos, n_pos), (&mut *neg, n_neg)] {
                    let (v, n) = side;
                    v.clear();
                    v.reserve(n);
                    for _ in 0..n {
                        v.push(XorField {
                            bits: br.read_u64()?,
                            ..XorField::default()
                        });
                    }
                }
            }
        }
        Ok(self.value())
    }

    fn later(&mut self) -> Bits<Value> {
        let br = &mut self.br;
        let tdod = br.read_varbit_int()?;
        self.t_delta = self.t_delta.wrapping_add(tdod);
        self.t = self.t.wrapping_add(self.t_delta);
        match &mut self.counts {
            Counts::Int {
                cnt,
                cnt_delta,
                zcnt,
                zcnt_delta,
                sum,
                pos,
                neg,
            } => {
                *cnt_delta = cnt_delta.wrapping_add(br.read_varbit_int()?);
                *cnt = (*cnt as i64).wrapping_add(*cnt_delta) as u64;
                *zcnt_delta = zcnt_delta.wrapping_add(br.read_varbit_int()?);
                *zcnt = (*zcnt as i64).wrapping_add(*zcnt_delta) as u64;
                sum.read(br)?;
                if sum.bits != STALE_NAN_BITS {
                    for (b, d) in pos.iter_mut().chain(neg.iter_mut()) {
                        *d = d.wrapping_add(br.read_varbit_int()?);
                        *b = b.wrapping_add(*d);
                    }
                }
            }
            Counts::Float {
                cnt,
                zcnt,
                sum,
                pos,
                neg,
            } => {
                cnt.read(br)?;
                zcnt.read(br)?;
                sum.read(br)?;
                if sum.bits != STALE_NAN_BITS {
                    for f in pos.iter_mut().chain(neg.iter_mut()) {
                        f.read(br)?;
                    }
                }
            }
        }
        Ok(self.value())
    }

    /// The current sample as a value.
    fn value(&self) -> Value {
        match &self.counts {
            Counts::Int {
                cnt,
                zcnt,
                sum,
                pos,
                neg,
                ..
            } => self.int_value(*cnt, *zcnt, sum, pos, neg),
            Counts::Float {
                cnt,
                zcnt,
                sum,
                pos,
                neg,
            } => self.float_value(cnt, zcnt, sum, pos, neg),
        }
    }

    /// An integer histogram from its counts and stored bucket deltas, in the
    /// chunk's layout (a reserved schema 9..=52 reduced to 8).
    fn int_value(
        &self,
        cnt: u64,
        zcnt: u64,
        sum: &XorField,
        pos: &[(i64, i64)],
        neg: &[(i64, i64)],
    ) -> Value {
        if sum.bits == STALE_NAN_BITS {
            return Value::Histogram(Box::new(Histogram::stale()));
        }
        let l = &self.layout;
        let (schema, [ps, ns], [pb, nb]) =
            l.buckets(absolute(pos), absolute(neg), i64::wrapping_add);
        Value::Histogram(Box::new(Histogram {
            counter_reset_hint: self.hint(),
            schema,
            zero_threshold: l.zero_threshold,
            zero_count: zcnt,
            count: cnt,
            sum: f64::from_bits(sum.bits),
            positive_spans: ps,
            negative_spans: ns,
            positive_buckets: pb,
            negative_buckets: nb,
            custom_values: l.custom_values.clone(),
        }))
    }

    /// A float histogram from its counts and bucket values, in the chunk's
    /// layout (a reserved schema 9..=52 reduced to 8).
    fn float_value(
        &self,
        cnt: &XorField,
        zcnt: &XorField,
        sum: &XorField,
        pos: &[XorField],
        neg: &[XorField],
    ) -> Value {
        if sum.bits == STALE_NAN_BITS {
            return Value::FloatHistogram(Box::new(FloatHistogram::stale()));
        }
        let floats =
            |v: &[XorField]| -> Vec<f64> { v.iter().map(|f| f64::from_bits(f.bits)).collect() };
        let l = &self.layout;
        let (schema, [ps, ns], [pb, nb]) = l.buckets(floats(pos), floats(neg), |a, b| a + b);
        Value::FloatHistogram(Box::new(FloatHistogram {
            counter_reset_hint: self.hint(),
            schema,
            zero_threshold: l.zero_threshold,
            zero_count: f64::from_bits(zcnt.bits),
            count: f64::from_bits(cnt.bits),
            sum: f64::from_bits(sum.bits),
            positive_spans: ps,
            negative_spans: ns,
            positive_buckets: pb,
            negative_buckets: nb,
            custom_values: l.custom_values.clone(),
        }))
    }
}

sample_iterator!(HistIter, Sample);

/// Running (wrapping) sums of neighbour deltas.
fn absolute(stored: &[(i64, i64)]) -> Vec<i64> {
    let mut acc = 0i64;
    stored
        .iter()
        .map(|(b, _)| {
            acc = acc.wrapping_add(*b);
            acc
        })
        .collect()
}

fn count_buckets(spans: &[Span]) -> u64 {
    spans.iter().map(|s| u64::from(s.length)).sum()
}

/// Go converts a count to `int` before looping; a count above `i64::MAX`
/// therefore means no items at all.
fn go_count(n: u64) -> u64 {
    if n > i64::MAX as u64 { 0 } else { n }
}

fn read_layout(br: &mut BitReader<'_>) -> Bits<Layout> {
    let zero_threshold = match br.read_bits(8)? {
        0 => 0.0,
        255 => f64::from_bits(br.read_u64()?),
        code => ldexp(0.5, code as i64 - 243),
    };
    let schema_at = br.offset();
    let schema = br.read_varbit_int()? as i32;
    let positive_spans = read_spans(br)?;
    let negative_spans = read_spans(br)?;
    let mut custom_values = Vec::new();
    if schema == CUSTOM_BUCKETS_SCHEMA {
        let n = go_count(br.read_varbit_uint()?);
        // Each bound takes at least one bit.
        custom_values.reserve(n.min(br.remaining_bits()) as usize);
        for _ in 0..n {
            let u = br.read_varbit_uint()?;
            custom_values.push(if u == 0 {
                f64::from_bits(br.read_u64()?)
            } else {
                (u - 1) as f64 / 1000.0
            });
        }
    }
    if !(schema == CUSTOM_BUCKETS_SCHEMA || (-9..=52).contains(&schema)) {
        return Err(br.fail(Fail::Schema {
            offset: schema_at,
            schema,
        }));
    }
    // Sample 0 takes at least one bit per bucket: refuse layouts whose bucket
    // count the data cannot hold before planning anything per bucket.
    let buckets = count_buckets(&positive_spans).saturating_add(count_buckets(&negative_spans));
    if buckets > br.remaining_bits() {
        let f = Fail::Buckets {
            offset: schema_at,
            buckets,
            bits: br.remaining_bits(),
        };
        return Err(br.fail(f));
    }
    let reduce = if schema > EXPONENTIAL_SCHEMA_MAX {
        let plan = |spans: &[Span]| Reduce::plan(spans, schema, EXPONENTIAL_SCHEMA_MAX);
        match (plan(&positive_spans), plan(&negative_spans)) {
            (Some(p), Some(n)) => Some((p, n)),
            _ => {
                return Err(br.fail(Fail::Reduce {
                    offset: schema_at,
                    schema,
                }));
            }
        }
    } else {
        None
    };
    Ok(Layout {
        schema,
        zero_threshold,
        positive_spans,
        negative_spans,
        custom_values,
        reduce,
    })
}

fn read_spans(br: &mut BitReader<'_>) -> Bits<Vec<Span>> {
    let n = go_count(br.read_varbit_uint()?);
    // Each span takes at least two bits.
    let mut spans = Vec::with_capacity((n.min(br.remaining_bits() / 2)) as usize);
    for _ in 0..n {
        let length = br.read_varbit_uint()? as u32;
        let offset = br.read_varbit_int()? as i32;
        spans.push(Span { offset, length });
    }
    Ok(spans)
}
