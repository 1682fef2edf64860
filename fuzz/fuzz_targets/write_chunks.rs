//! The block writer's chunk encoders: arbitrary samples (floats, stale
//! markers, integer and float native histograms, kinds mixed) → chunks →
//! our decoders give back exactly the samples put in (bit for bit), every
//! chunk within 120 samples and one kind. Never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use promsnap::format::chunkenc::{
    CounterResetHint, FloatHistogram, Histogram, STALE_NAN_BITS, Span, Value, samples,
};
use promsnap::write::{SAMPLES_PER_CHUNK, encode_chunks};

fn u64_of(b: &[u8]) -> u64 {
    let mut x = [0u8; 8];
    x[..b.len().min(8)].copy_from_slice(&b[..b.len().min(8)]);
    u64::from_le_bytes(x)
}

fn layout(bits: u64) -> (i32, f64, Vec<Span>, usize) {
    let schema = (bits % 13) as i32 - 4;
    let zt = if bits & 0x10 == 0 { 0.0 } else { 2f64.powi(-128) };
    let len = ((bits >> 8) % 4) as u32;
    let spans = if len == 0 {
        Vec::new()
    } else {
        vec![Span {
            offset: ((bits >> 12) % 5) as i32 - 2,
            length: len,
        }]
    };
    (schema, zt, spans, len as usize)
}

fn sample(kind: u8, bits: u64) -> Value {
    let stale = f64::from_bits(STALE_NAN_BITS);
    match kind % 6 {
        0 => Value::Float(f64::from_bits(bits)),
        1 => Value::Float(stale),
        2 | 3 => {
            let (schema, zt, spans, n) = layout(bits);
            let buckets: Vec<i64> = (0..n).map(|i| ((bits >> (20 + 8 * i)) & 0xff) as i64).collect();
            let zero = (bits >> 56) & 0x0f;
            let mut h = Histogram {
                counter_reset_hint: CounterResetHint::Unknown,
                schema,
                zero_threshold: zt,
                zero_count: zero,
                count: zero + buckets.iter().sum::<i64>() as u64,
                sum: (bits >> 40) as f64 / 8.0,
                positive_spans: spans,
                negative_spans: Vec::new(),
                positive_buckets: buckets,
                negative_buckets: Vec::new(),
                custom_values: Vec::new(),
            };
            if kind % 6 == 3 && bits & 1 == 1 {
                h = Histogram::stale();
            }
            Value::Histogram(Box::new(h))
        }
        _ => {
            let (schema, zt, spans, n) = layout(bits);
            let mut h = FloatHistogram {
                counter_reset_hint: CounterResetHint::Unknown,
                schema,
                zero_threshold: zt,
                zero_count: ((bits >> 56) & 0x0f) as f64,
                count: (bits >> 30) as f64 * 0.25,
                sum: f64::from_bits(bits.rotate_left(7)),
                positive_spans: spans.clone(),
                negative_spans: spans,
                positive_buckets: (0..n).map(|i| ((bits >> (8 * i)) & 0xff) as f64 * 0.5).collect(),
                negative_buckets: (0..n).map(|i| ((bits >> (8 * i + 4)) & 0xff) as f64).collect(),
                custom_values: Vec::new(),
            };
            if kind % 6 == 5 && bits & 1 == 1 {
                h = FloatHistogram::stale();
            }
            Value::FloatHistogram(Box::new(h))
        }
    }
}

/// Equal as stored: bits for floats; for stale markers only staleness.
fn same(a: &Value, b: &Value) -> bool {
    if a.is_stale() || b.is_stale() {
        return a.is_stale() == b.is_stale();
    }
    match (a, b) {
        (Value::Float(x), Value::Float(y)) => x.to_bits() == y.to_bits(),
        (Value::Histogram(x), Value::Histogram(y)) => {
            let mut y = (**y).clone();
            y.counter_reset_hint = x.counter_reset_hint;
            **x == y
        }
        (Value::FloatHistogram(x), Value::FloatHistogram(y)) => {
            x.schema == y.schema
                && x.zero_threshold.to_bits() == y.zero_threshold.to_bits()
                && x.zero_count.to_bits() == y.zero_count.to_bits()
                && x.count.to_bits() == y.count.to_bits()
                && x.sum.to_bits() == y.sum.to_bits()
                && x.positive_spans == y.positive_spans
                && x.negative_spans == y.negative_spans
                && x.positive_buckets.iter().map(|v| v.to_bits()).eq(y.positive_buckets.iter().map(|v| v.to_bits()))
                && x.negative_buckets.iter().map(|v| v.to_bits()).eq(y.negative_buckets.iter().map(|v| v.to_bits()))
        }
        _ => false,
    }
}

fuzz_target!(|data: &[u8]| {
    let mut t: i64 = i64::from(data.first().copied().unwrap_or(0)) * 1_000_000 - 100_000_000;
    let mut input: Vec<(i64, Value)> = Vec::new();
    for rec in data.get(1..).unwrap_or(&[]).chunks(11) {
        if rec.len() < 3 {
            break;
        }
        let dt = i64::from(u16::from_le_bytes([rec[1], rec[2]])) + 1;
        t += if rec[0] & 0x80 != 0 { dt * 1_000_003 } else { dt };
        input.push((t, sample(rec[0] & 0x7f, u64_of(&rec[3..]))));
    }
    let chunks = encode_chunks(&input);
    let mut back: Vec<(i64, Value)> = Vec::new();
    for c in &chunks {
        assert!(usize::from(c.samples) <= SAMPLES_PER_CHUNK);
        let n0 = back.len();
        for s in samples(c.encoding, &c.data, 0).expect("header") {
            let s = s.expect("our own chunk decodes");
            back.push((s.t, s.value));
        }
        assert_eq!(back.len() - n0, usize::from(c.samples));
        assert_eq!(back.get(n0).map(|x| x.0), Some(c.mint));
        assert_eq!(back.last().map(|x| x.0), Some(c.maxt));
    }
    assert_eq!(back.len(), input.len());
    for ((t1, v1), (t2, v2)) in input.iter().zip(&back) {
        assert_eq!(t1, t2);
        assert!(same(v1, v2), "{v1:?} != {v2:?}");
    }
});
