//! Decoded native histogram samples, their buckets, and their text forms.
//!
//! Bucket counts are **absolute** here (Prometheus keeps integer histogram
//! buckets as deltas between neighbours; the decoder sums them up).
//! The `Display` impls reproduce Go's `Histogram.String()` /
//! `FloatHistogram.String()` of `model/histogram`, and
//! [`FloatHistogram::api_buckets`] the bucket list of the HTTP API.

use std::fmt::{self, Write as _};

use super::STALE_NAN_BITS;
use super::bounds::{CUSTOM_BUCKETS_SCHEMA, bucket_bound};
use super::gofmt::go_format_g;

/// Counter-reset information of a histogram sample (Go `CounterResetHint`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CounterResetHint {
    /// Nothing is known (a chunk's first sample unless it is a gauge).
    Unknown,
    /// A counter reset happened right before this sample.
    CounterReset,
    /// No counter reset happened right before this sample.
    NotCounterReset,
    /// A gauge histogram: counter resets do not apply.
    Gauge,
}

impl CounterResetHint {
    /// From the two bits of a histogram chunk's counter-reset header
    /// (`00` unknown, `01` not a reset, `10` reset, `11` gauge).
    pub fn from_header_bits(bits: u8) -> CounterResetHint {
        match bits & 0b11 {
            0b01 => CounterResetHint::NotCounterReset,
            0b10 => CounterResetHint::CounterReset,
            0b11 => CounterResetHint::Gauge,
            _ => CounterResetHint::Unknown,
        }
    }

    /// A lower-case name: `unknown`, `reset`, `not_reset`, `gauge`.
    pub fn name(self) -> &'static str {
        match self {
            CounterResetHint::Unknown => "unknown",
            CounterResetHint::CounterReset => "reset",
            CounterResetHint::NotCounterReset => "not_reset",
            CounterResetHint::Gauge => "gauge",
        }
    }
}

/// A run of consecutive buckets: `offset` is the index gap to the previous
/// span's end (or the first index, for the first span).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// Index gap before this span.
    pub offset: i32,
    /// Number of consecutive buckets.
    pub length: u32,
}

/// A native histogram sample with integer counts.
#[derive(Debug, Clone, PartialEq)]
pub struct Histogram {
    /// Counter-reset hint, as Prometheus's chunk iterator reports it.
    pub counter_reset_hint: CounterResetHint,
    /// Resolution: exponential `-4..=8` (`-9..=52` reserved), or `-53` for custom buckets.
    pub schema: i32,
    /// Width of the zero bucket (observations with |v| <= this).
    pub zero_threshold: f64,
    /// Observations in the zero bucket.
    pub zero_count: u64,
    /// Total number of observations.
    pub count: u64,
    /// Sum of observations (StaleNaN for a stale marker).
    pub sum: f64,
    /// Spans of the positive buckets.
    pub positive_spans: Vec<Span>,
    /// Spans of the negative buckets.
    pub negative_spans: Vec<Span>,
    /// Absolute counts of the positive buckets.
    pub positive_buckets: Vec<i64>,
    /// Absolute counts of the negative buckets.
    pub negative_buckets: Vec<i64>,
    /// Upper bounds of the custom buckets (schema -53 only).
    pub custom_values: Vec<f64>,
}

/// A native histogram sample with float counts.
#[derive(Debug, Clone, PartialEq)]
pub struct FloatHistogram {
    /// Counter-reset hint, as Prometheus's chunk iterator reports it.
    pub counter_reset_hint: CounterResetHint,
    /// Resolution: exponential `-4..=8` (`-9..=52` reserved), or `-53` for custom buckets.
    pub schema: i32,
    /// Width of the zero bucket.
    pub zero_threshold: f64,
    /// Observations in the zero bucket.
    pub zero_count: f64,
    /// Total number of observations.
    pub count: f64,
    /// Sum of observations (StaleNaN for a stale marker).
    pub sum: f64,
    /// Spans of the positive buckets.
    pub positive_spans: Vec<Span>,
    /// Spans of the negative buckets.
    pub negative_spans: Vec<Span>,
    /// Absolute counts of the positive buckets.
    pub positive_buckets: Vec<f64>,
    /// Absolute counts of the negative buckets.
    pub negative_buckets: Vec<f64>,
    /// Upper bounds of the custom buckets (schema -53 only).
    pub custom_values: Vec<f64>,
}

impl Histogram {
    /// The stale marker as Prometheus returns it: only `sum` is set (to StaleNaN).
    pub fn stale() -> Histogram {
        Histogram {
            counter_reset_hint: CounterResetHint::Unknown,
            schema: 0,
            zero_threshold: 0.0,
            zero_count: 0,
            count: 0,
            sum: f64::from_bits(STALE_NAN_BITS),
            positive_spans: Vec::new(),
            negative_spans: Vec::new(),
            positive_buckets: Vec::new(),
            negative_buckets: Vec::new(),
            custom_values: Vec::new(),
        }
    }

    /// True for a stale marker (sum is exactly StaleNaN).
    pub fn is_stale(&self) -> bool {
        self.sum.to_bits() == STALE_NAN_BITS
    }

    /// The same histogram with float counts (Go `Histogram.ToFloat`).
    pub fn to_float(&self) -> FloatHistogram {
        FloatHistogram {
            counter_reset_hint: self.counter_reset_hint,
            schema: self.schema,
            zero_threshold: self.zero_threshold,
            zero_count: self.zero_count as f64,
            count: self.count as f64,
            sum: self.sum,
            positive_spans: self.positive_spans.clone(),
            negative_spans: self.negative_spans.clone(),
            positive_buckets: self.positive_buckets.iter().map(|&c| c as f64).collect(),
            negative_buckets: self.negative_buckets.iter().map(|&c| c as f64).collect(),
            custom_values: self.custom_values.clone(),
        }
    }
}

impl FloatHistogram {
    /// The stale marker as Prometheus returns it: only `sum` is set (to StaleNaN).
    pub fn stale() -> FloatHistogram {
        Histogram::stale().to_float()
    }

    /// True for a stale marker (sum is exactly StaleNaN).
    pub fn is_stale(&self) -> bool {
        self.sum.to_bits() == STALE_NAN_BITS
    }

    /// Buckets as the Prometheus HTTP API lists them: negative buckets from
    /// the lowest bound up, then the zero bucket, then the positive buckets,
    /// skipping buckets whose count is 0. Each item is
    /// `(boundary_rule, lower, upper, count)`, where `boundary_rule` is 0 for
    /// left-open/right-closed, 1 for left-closed/right-open, 2 for open and 3
    /// for closed intervals. Bounds of buckets overlapping the zero bucket are
    /// clipped to the zero threshold, as Prometheus's `AllBucketIterator` does.
    pub fn api_buckets(&self) -> Vec<(u8, f64, f64, f64)> {
        let custom = self.schema == CUSTOM_BUCKETS_SCHEMA;
        let zt = self.zero_threshold;
        let mut out = Vec::new();
        let mut push = |mut b: Bucket<f64>| {
            if b.count == 0.0 {
                return;
            }
            if b.upper < 0.0 && b.upper > -zt {
                b.upper = -zt;
            } else if b.lower > 0.0 && b.lower < zt {
                b.lower = zt;
            }
            out.push((b.boundary_rule(), b.lower, b.upper, b.count));
        };
        let neg = buckets(
            self.schema,
            &self.negative_spans,
            &self.negative_buckets,
            &self.custom_values,
            false,
        );
        for b in neg.into_iter().rev() {
            push(b);
        }
        if self.zero_count > 0.0 && !custom {
            push(zero_bucket(self.zero_threshold, self.zero_count));
        }
        for b in buckets(
            self.schema,
            &self.positive_spans,
            &self.positive_buckets,
            &self.custom_values,
            true,
        ) {
            push(b);
        }
        out
    }
}

/// One bucket with its bounds (Go `histogram.Bucket`).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Bucket<C> {
    lower: f64,
    upper: f64,
    lower_inclusive: bool,
    upper_inclusive: bool,
    count: C,
}

impl<C> Bucket<C> {
    fn boundary_rule(&self) -> u8 {
        match (self.lower_inclusive, self.upper_inclusive) {
            (false, true) => 0,
            (true, false) => 1,
            (false, false) => 2,
            (true, true) => 3,
        }
    }

    /// Go `Bucket.String()`: `[`/`(` lower `,` upper `]`/`)` `:` count.
    fn write(&self, out: &mut String, count: impl FnOnce(&C, &mut String)) {
        out.push(if self.lower_inclusive { '[' } else { '(' });
        go_format_g(self.lower, out);
        out.push(',');
        go_format_g(self.upper, out);
        out.push(if self.upper_inclusive { ']' } else { ')' });
        out.push(':');
        count(&self.count, out);
    }
}

fn zero_bucket<C>(threshold: f64, count: C) -> Bucket<C> {
    Bucket {
        lower: -threshold,
        upper: threshold,
        lower_inclusive: true,
        upper_inclusive: true,
        count,
    }
}

/// The buckets of one side, in the order Go's bucket iterator walks them
/// (ascending index), including zero counts.
fn buckets<C: Copy>(
    schema: i32,
    spans: &[Span],
    counts: &[C],
    custom_values: &[f64],
    positive: bool,
) -> Vec<Bucket<C>> {
    let mut out = Vec::with_capacity(counts.len());
    let mut spans_iter = spans.iter();
    let Some(mut span) = spans_iter.next().copied() else {
        return out;
    };
    let mut idx = span.offset;
    let mut in_span = 0u32;
    for (i, &count) in counts.iter().enumerate() {
        if i > 0 {
            idx = idx.wrapping_add(1);
        }
        while in_span >= span.length {
            in_span = 0;
            let Some(next) = spans_iter.next() else {
                return out;
            };
            span = *next;
            idx = idx.wrapping_add(span.offset);
        }
        in_span += 1;
        let upper = bucket_bound(idx, schema, custom_values);
        let lower = bucket_bound(idx.wrapping_sub(1), schema, custom_values);
        let (lower, upper) = if positive {
            (lower, upper)
        } else {
            (-upper, -lower)
        };
        let (lower_inclusive, upper_inclusive) = if schema == CUSTOM_BUCKETS_SCHEMA {
            (idx == 0, true)
        } else {
            (lower < 0.0, upper > 0.0)
        };
        out.push(Bucket {
            lower,
            upper,
            lower_inclusive,
            upper_inclusive,
            count,
        });
    }
    out
}

/// Shared body of the two `String()` forms.
#[allow(clippy::too_many_arguments)]
fn write_string<C: Copy>(
    out: &mut String,
    head: &str,
    schema: i32,
    zero_threshold: f64,
    zero_count: C,
    sides: [(&[Span], &[C]); 2],
    custom_values: &[f64],
    is_zero: impl Fn(&C) -> bool,
    count: impl Fn(&C, &mut String),
) {
    let [(neg_spans, neg), (pos_spans, pos)] = sides;
    out.push_str(head);
    let negs = buckets(schema, neg_spans, neg, custom_values, false);
    for b in negs.iter().rev().filter(|b| !is_zero(&b.count)) {
        out.push_str(", ");
        b.write(out, &count);
    }
    // Go panics on a custom-bucket histogram with a zero count; skip it instead.
    if !is_zero(&zero_count) && schema != CUSTOM_BUCKETS_SCHEMA {
        out.push_str(", ");
        zero_bucket(zero_threshold, zero_count).write(out, &count);
    }
    for b in buckets(schema, pos_spans, pos, custom_values, true)
        .iter()
        .filter(|b| !is_zero(&b.count))
    {
        out.push_str(", ");
        b.write(out, &count);
    }
    out.push('}');
}

impl fmt::Display for Histogram {
    /// Go's `Histogram.String()`, e.g. `{count:3, sum:5, [-1,-0.5):1, (1,2]:2}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        let mut head = format!("{{count:{}, sum:", self.count);
        go_format_g(self.sum, &mut head);
        // Go's bucket iterator converts the int64 running sum to uint64.
        let pos: Vec<u64> = self.positive_buckets.iter().map(|&c| c as u64).collect();
        let neg: Vec<u64> = self.negative_buckets.iter().map(|&c| c as u64).collect();
        write_string(
            &mut s,
            &head,
            self.schema,
            self.zero_threshold,
            self.zero_count,
            [(&self.negative_spans, &neg), (&self.positive_spans, &pos)],
            &self.custom_values,
            |c| *c == 0,
            |c, out| {
                let _ = write!(out, "{c}");
            },
        );
        f.write_str(&s)
    }
}

impl fmt::Display for FloatHistogram {
    /// Go's `FloatHistogram.String()`, e.g. `{count:3, sum:5, (1,2]:2}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        let mut head = String::from("{count:");
        go_format_g(self.count, &mut head);
        head.push_str(", sum:");
        go_format_g(self.sum, &mut head);
        write_string(
            &mut s,
            &head,
            self.schema,
            self.zero_threshold,
            self.zero_count,
            [
                (&self.negative_spans, &self.negative_buckets),
                (&self.positive_spans, &self.positive_buckets),
            ],
            &self.custom_values,
            |c| *c == 0.0,
            |c, out| go_format_g(*c, out),
        );
        f.write_str(&s)
    }
}
