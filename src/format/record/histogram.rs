//! Histogram sample records (types 7–10, 12, 13): integer and float native
//! histograms as the WAL stores them (spans as (offset, length), integer
//! buckets delta-encoded).

#[allow(clippy::wildcard_imports)]
use super::*;

/// A histogram span as stored in WAL records: `(offset, length)`, where
/// offset is the gap to the previous span (or the start index for the first)
/// and length the number of consecutive buckets.
pub type Span = (i32, u32);

/// An integer native histogram as stored in a WAL record.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct WalHistogram {
    /// 0 unknown, 1 counter reset, 2 not a reset, 3 gauge.
    pub counter_reset_hint: u8,
    /// Resolution; −53 = custom buckets.
    pub schema: i32,
    /// Width of the zero bucket.
    pub zero_threshold: f64,
    /// Observations in the zero bucket.
    pub zero_count: u64,
    /// Total observations.
    pub count: u64,
    /// Sum of observations.
    pub sum: f64,
    /// Positive bucket spans, `(offset, length)`.
    pub positive_spans: Vec<Span>,
    /// Negative bucket spans, `(offset, length)`.
    pub negative_spans: Vec<Span>,
    /// Positive bucket counts, each a delta to the previous bucket.
    pub positive_deltas: Vec<i64>,
    /// Negative bucket counts, delta-encoded.
    pub negative_deltas: Vec<i64>,
    /// Upper bounds of custom buckets (schema −53 only).
    pub custom_values: Vec<f64>,
}

/// A float native histogram as stored in a WAL record.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct WalFloatHistogram {
    /// 0 unknown, 1 counter reset, 2 not a reset, 3 gauge.
    pub counter_reset_hint: u8,
    /// Resolution; −53 = custom buckets.
    pub schema: i32,
    /// Width of the zero bucket.
    pub zero_threshold: f64,
    /// Observations in the zero bucket.
    pub zero_count: f64,
    /// Total observations.
    pub count: f64,
    /// Sum of observations.
    pub sum: f64,
    /// Positive bucket spans, `(offset, length)`.
    pub positive_spans: Vec<Span>,
    /// Negative bucket spans, `(offset, length)`.
    pub negative_spans: Vec<Span>,
    /// Positive bucket counts (absolute).
    pub positive_buckets: Vec<f64>,
    /// Negative bucket counts (absolute).
    pub negative_buckets: Vec<f64>,
    /// Upper bounds of custom buckets (schema −53 only).
    pub custom_values: Vec<f64>,
}

/// Reads a uvarint count and checks that `count × min_size` bytes could follow.
fn count(d: &mut Decoder<'_>, min_size: usize, what: &'static str) -> Result<usize> {
    let at = d.offset();
    let n = d.uvarint()?;
    let fits = usize::try_from(n)
        .ok()
        .filter(|&n| n.checked_mul(min_size).is_some_and(|b| b <= d.remaining()));
    fits.ok_or(DecodeError::OutOfBounds {
        what,
        offset: at,
        target: n,
        len: d.remaining() as u64,
    })
}

fn read_i32(d: &mut Decoder<'_>, what: &'static str) -> Result<i32> {
    let at = d.offset();
    let v = d.varint()?;
    i32::try_from(v).map_err(|_| DecodeError::RecordFieldRange {
        offset: at,
        what,
        found: v,
    })
}

fn read_spans(d: &mut Decoder<'_>, out: &mut Vec<Span>) -> Result<()> {
    out.clear();
    let n = count(d, 2, "histogram span count")?;
    out.reserve(n);
    for _ in 0..n {
        let offset = read_i32(d, "span offset")?;
        let length = d.uvarint32()?;
        out.push((offset, length));
    }
    Ok(())
}

fn read_custom_values(d: &mut Decoder<'_>, schema: i32, out: &mut Vec<f64>) -> Result<()> {
    out.clear();
    if schema == CUSTOM_BUCKETS_SCHEMA {
        let n = count(d, 8, "custom bucket count")?;
        out.reserve(n);
        for _ in 0..n {
            out.push(d.be_f64()?);
        }
    }
    Ok(())
}

impl WalHistogram {
    /// Decodes one histogram in place (reusing the vectors' memory).
    pub fn read_from(&mut self, d: &mut Decoder<'_>) -> Result<()> {
        self.counter_reset_hint = d.u8()?;
        self.schema = read_i32(d, "schema")?;
        self.zero_threshold = d.be_f64()?;
        self.zero_count = d.uvarint()?;
        self.count = d.uvarint()?;
        self.sum = d.be_f64()?;
        read_spans(d, &mut self.positive_spans)?;
        read_spans(d, &mut self.negative_spans)?;
        for buckets in [&mut self.positive_deltas, &mut self.negative_deltas] {
            buckets.clear();
            let n = count(d, 1, "histogram bucket count")?;
            buckets.reserve(n);
            for _ in 0..n {
                buckets.push(d.varint()?);
            }
        }
        read_custom_values(d, self.schema, &mut self.custom_values)
    }
}

impl WalFloatHistogram {
    /// Decodes one float histogram in place (reusing the vectors' memory).
    pub fn read_from(&mut self, d: &mut Decoder<'_>) -> Result<()> {
        self.counter_reset_hint = d.u8()?;
        self.schema = read_i32(d, "schema")?;
        self.zero_threshold = d.be_f64()?;
        self.zero_count = d.be_f64()?;
        self.count = d.be_f64()?;
        self.sum = d.be_f64()?;
        read_spans(d, &mut self.positive_spans)?;
        read_spans(d, &mut self.negative_spans)?;
        for buckets in [&mut self.positive_buckets, &mut self.negative_buckets] {
            buckets.clear();
            let n = count(d, 8, "histogram bucket count")?;
            buckets.reserve(n);
            for _ in 0..n {
                buckets.push(d.be_f64()?);
            }
        }
        read_custom_values(d, self.schema, &mut self.custom_values)
    }
}

/// Where a histogram sample sits: series, time, start time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistogramSampleRef {
    /// Head series reference.
    pub series_ref: SeriesRef,
    /// Timestamp (ms).
    pub t: i64,
    /// Start timestamp (ms), 0 if none or for v1 records.
    pub st: i64,
}

/// Shared framing of histogram records (v1: BE64 bases, v2: varints + ST).
fn for_each_histogram_framed<H>(
    rec: &[u8],
    base_offset: u64,
    types: &[RecordType; 3],
    what: &'static str,
    h: &mut H,
    read: impl Fn(&mut H, &mut Decoder<'_>) -> Result<()>,
    mut f: impl FnMut(HistogramSampleRef, &H),
) -> Result<usize> {
    let (t, mut d) = body(rec, base_offset, types, what)?;
    if d.is_empty() {
        return Ok(0);
    }
    let mut n = 0;
    if t != types[2] {
        let base_ref = d.be_u64()?;
        let base_t = d.be_i64()?;
        while !d.is_empty() {
            let dref = d.varint()?;
            let dt = d.varint()?;
            read(h, &mut d)?;
            let at = HistogramSampleRef {
                series_ref: SeriesRef(base_ref.wrapping_add(dref as u64)),
                t: base_t.wrapping_add(dt),
                st: 0,
            };
            f(at, h);
            n += 1;
        }
    } else {
        let first_ref = d.varint()?;
        let first_t = d.varint()?;
        let first_st = d.varint()?;
        let (mut prev_ref, mut prev_st) = (first_ref, first_st);
        let mut first = true;
        while !d.is_empty() {
            let (r, t, st) = if first {
                first = false;
                (first_ref, first_t, first_st)
            } else {
                let r = prev_ref.wrapping_add(d.varint()?);
                let t = first_t.wrapping_add(d.varint()?);
                let st = read_st(&mut d, prev_st, first_st)?;
                (r, t, st)
            };
            (prev_ref, prev_st) = (r, st);
            read(h, &mut d)?;
            f(
                HistogramSampleRef {
                    series_ref: SeriesRef(r as u64),
                    t,
                    st,
                },
                h,
            );
            n += 1;
        }
    }
    Ok(n)
}

/// Calls `f` for each sample of an integer histogram record (types 7, 9 and
/// 12). The histogram passed to `f` is reused between samples. Returns the
/// number of samples.
pub fn for_each_histogram(
    rec: &[u8],
    base_offset: u64,
    f: impl FnMut(HistogramSampleRef, &WalHistogram),
) -> Result<usize> {
    let mut h = WalHistogram::default();
    for_each_histogram_framed(
        rec,
        base_offset,
        &[
            RecordType::HistogramSamples,
            RecordType::CustomBucketsHistogramSamples,
            RecordType::HistogramSamplesV2,
        ],
        "histogram samples record (type 7, 9 or 12)",
        &mut h,
        WalHistogram::read_from,
        f,
    )
}

/// Calls `f` for each sample of a float histogram record (types 8, 10 and
/// 13). The histogram passed to `f` is reused between samples. Returns the
/// number of samples.
pub fn for_each_float_histogram(
    rec: &[u8],
    base_offset: u64,
    f: impl FnMut(HistogramSampleRef, &WalFloatHistogram),
) -> Result<usize> {
    let mut h = WalFloatHistogram::default();
    for_each_histogram_framed(
        rec,
        base_offset,
        &[
            RecordType::FloatHistogramSamples,
            RecordType::CustomBucketsFloatHistogramSamples,
            RecordType::FloatHistogramSamplesV2,
        ],
        "float histogram samples record (type 8, 10 or 13)",
        &mut h,
        WalFloatHistogram::read_from,
        f,
    )
}
