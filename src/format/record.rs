//! WAL record payloads (`tsdb/record/record.go`, `tsdb/docs/format/wal.md`):
//! the bytes a [`crate::format::wal::RecordReader`] yields, first byte = type.
//!
//! ```text
//! 1  Series       (BE64 ref, uvarint n, n × (uvarint-str name, uvarint-str value))*
//! 2  Samples      [BE64 ref0, BE64 t0, (varint ref-ref0, varint t-t0, BE64 value)*]
//! 3  Tombstones   (BE64 ref, varint mint, varint maxt)*
//! 4  Exemplars    [BE64 ref0, BE64 t0, (varint dref, varint dt, BE64 value, labels)*]
//! 5  MmapMarkers  (BE64 ref, BE64 chunk ref)*
//! 6  Metadata     (uvarint ref, u8 type, uvarint n, n × (str name, str value))*
//! 7/9   HistogramSamples       [BE64 ref0, BE64 t0, (varint dref, varint dt, histogram)*]
//! 8/10  FloatHistogramSamples  [same, float histogram]
//! 11 SamplesV2    [varint ref0, varint t0, varint st0, BE64 v0,
//!                  (varint ref-prev, varint t-t0, u8 st marker [varint st-st0], BE64 v)*]
//! 12/13 (Float)HistogramSamplesV2  [varint ref0, varint t0, varint st0, h0,
//!                  (varint ref-prev, varint t-t0, u8 st marker [varint], h)*]
//! 14 MinValidTime BE64 mint (checkpoints only; since 3.x)
//! ```
//!
//! `varint` is zigzag (Go `PutVarint`); in V1 records every row, including
//! the first, carries deltas relative to the first sample (docs/FORMAT.md §11.1).
//! Histogram spans are stored `(varint offset, uvarint length)` here, the
//! other way round from chunks. The ST marker is 0 = no start time, 1 = same
//! as the previous sample, anything else = explicit (as Prometheus reads it).
//!
//! Decoders are callback-style and allocate nothing per sample. Errors carry
//! `base_offset` plus the position in the record's (decompressed) bytes, so
//! pass 0 for record-relative positions. Unlike Prometheus, histogram samples
//! with unknown schemas are passed through as stored, not dropped or
//! down-scaled.

use super::decode::Decoder;
use super::error::{DecodeError, Result};
use super::refs::{ChunkRef, SeriesRef};

/// The type of a WAL record (its first byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RecordType {
    /// 1: series labels for new head series refs.
    Series,
    /// 2: float samples (v1).
    Samples,
    /// 3: deletion intervals.
    Tombstones,
    /// 4: exemplars.
    Exemplars,
    /// 5: out-of-order m-map markers (WBL only).
    MmapMarkers,
    /// 6: metric metadata.
    Metadata,
    /// 7: integer histogram samples.
    HistogramSamples,
    /// 8: float histogram samples.
    FloatHistogramSamples,
    /// 9: integer histogram samples with custom buckets (NHCB).
    CustomBucketsHistogramSamples,
    /// 10: float histogram samples with custom buckets.
    CustomBucketsFloatHistogramSamples,
    /// 11: float samples with start timestamps.
    SamplesV2,
    /// 12: integer histogram samples with start timestamps.
    HistogramSamplesV2,
    /// 13: float histogram samples with start timestamps.
    FloatHistogramSamplesV2,
    /// 14: the min valid time a WAL truncation used (checkpoints only).
    MinValidTime,
    /// Any other type byte; Prometheus skips such records.
    Unknown(u8),
}

impl RecordType {
    /// The type of a type byte.
    pub fn from_byte(b: u8) -> Self {
        match b {
            1 => Self::Series,
            2 => Self::Samples,
            3 => Self::Tombstones,
            4 => Self::Exemplars,
            5 => Self::MmapMarkers,
            6 => Self::Metadata,
            7 => Self::HistogramSamples,
            8 => Self::FloatHistogramSamples,
            9 => Self::CustomBucketsHistogramSamples,
            10 => Self::CustomBucketsFloatHistogramSamples,
            11 => Self::SamplesV2,
            12 => Self::HistogramSamplesV2,
            13 => Self::FloatHistogramSamplesV2,
            14 => Self::MinValidTime,
            other => Self::Unknown(other),
        }
    }

    /// The type byte.
    pub fn byte(self) -> u8 {
        match self {
            Self::Series => 1,
            Self::Samples => 2,
            Self::Tombstones => 3,
            Self::Exemplars => 4,
            Self::MmapMarkers => 5,
            Self::Metadata => 6,
            Self::HistogramSamples => 7,
            Self::FloatHistogramSamples => 8,
            Self::CustomBucketsHistogramSamples => 9,
            Self::CustomBucketsFloatHistogramSamples => 10,
            Self::SamplesV2 => 11,
            Self::HistogramSamplesV2 => 12,
            Self::FloatHistogramSamplesV2 => 13,
            Self::MinValidTime => 14,
            Self::Unknown(b) => b,
        }
    }

    /// Prometheus's name for the type (`record.Type.String()`), except
    /// `mmap_markers` (Prometheus: `mmapmarkers`); `unknown` for others.
    pub fn name(self) -> &'static str {
        match self {
            Self::Series => "series",
            Self::Samples => "samples",
            Self::Tombstones => "tombstones",
            Self::Exemplars => "exemplars",
            Self::MmapMarkers => "mmap_markers",
            Self::Metadata => "metadata",
            Self::HistogramSamples => "histogram_samples",
            Self::FloatHistogramSamples => "float_histogram_samples",
            Self::CustomBucketsHistogramSamples => "custom_buckets_histogram_samples",
            Self::CustomBucketsFloatHistogramSamples => "custom_buckets_float_histogram_samples",
            Self::SamplesV2 => "samples_v2",
            Self::HistogramSamplesV2 => "histogram_samples_v2",
            Self::FloatHistogramSamplesV2 => "float_histogram_samples_v2",
            Self::MinValidTime => "min_valid_time",
            Self::Unknown(_) => "unknown",
        }
    }

    /// True for the types that carry float samples (2, 11).
    pub fn is_float_samples(self) -> bool {
        matches!(self, Self::Samples | Self::SamplesV2)
    }

    /// True for the types that carry integer histograms (7, 9, 12).
    pub fn is_histogram_samples(self) -> bool {
        matches!(
            self,
            Self::HistogramSamples | Self::CustomBucketsHistogramSamples | Self::HistogramSamplesV2
        )
    }

    /// True for the types that carry float histograms (8, 10, 13).
    pub fn is_float_histogram_samples(self) -> bool {
        matches!(
            self,
            Self::FloatHistogramSamples
                | Self::CustomBucketsFloatHistogramSamples
                | Self::FloatHistogramSamplesV2
        )
    }
}

impl std::fmt::Display for RecordType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unknown(b) => write!(f, "unknown({b})"),
            other => f.write_str(other.name()),
        }
    }
}

/// The type of a record, or `None` for an empty record.
pub fn record_type(rec: &[u8]) -> Option<RecordType> {
    rec.first().map(|&b| RecordType::from_byte(b))
}

/// Schema number marking custom-bucket histograms (NHCB).
pub const CUSTOM_BUCKETS_SCHEMA: i32 = -53;

/// A cursor for the per-sample hot loops: varints of up to 9 bytes with 10
/// bytes left, and 8-byte values, are read inline; anything else (10-byte
/// varints, the end of the data, errors) goes through [`Decoder`], so values
/// and errors are identical.
struct Fast<'a> {
    buf: &'a [u8],
    pos: usize,
    base: u64,
}

impl<'a> Fast<'a> {
    fn new(d: &Decoder<'a>) -> Self {
        Self {
            buf: d.rest(),
            pos: 0,
            base: d.offset(),
        }
    }

    #[inline(always)]
    fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    #[inline(always)]
    fn uvarint(&mut self) -> Result<u64> {
        if let Some(chunk) = self.buf.get(self.pos..).and_then(|r| r.first_chunk::<10>()) {
            let mut v = 0u64;
            for (i, &b) in chunk.iter().take(9).enumerate() {
                v |= u64::from(b & 0x7f) << (7 * i);
                if b < 0x80 {
                    self.pos += i + 1;
                    return Ok(v);
                }
            }
        }
        self.slow(|d| d.uvarint())
    }

    /// Skips a uvarint of at most 8 bytes branch-free (its length is where
    /// the first byte without a continuation bit is); else the checked path.
    #[inline(always)]
    fn skip_uvarint(&mut self) -> Result<()> {
        if let Some(w) = self.buf.get(self.pos..).and_then(|r| r.first_chunk::<8>()) {
            let stop = !u64::from_le_bytes(*w) & 0x8080_8080_8080_8080;
            if stop != 0 {
                self.pos += (stop.trailing_zeros() / 8 + 1) as usize;
                return Ok(());
            }
        }
        self.slow(|d| d.uvarint()).map(|_| ())
    }

    #[inline(always)]
    fn varint(&mut self) -> Result<i64> {
        let u = self.uvarint()?;
        Ok(((u >> 1) as i64) ^ -((u & 1) as i64))
    }

    #[inline(always)]
    fn be_u64(&mut self) -> Result<u64> {
        if let Some(b) = self.buf.get(self.pos..).and_then(|r| r.first_chunk::<8>()) {
            self.pos += 8;
            return Ok(u64::from_be_bytes(*b));
        }
        self.slow(|d| d.be_u64())
    }

    #[inline(always)]
    fn u8(&mut self) -> Result<u8> {
        if let Some(&b) = self.buf.get(self.pos) {
            self.pos += 1;
            return Ok(b);
        }
        self.slow(|d| d.u8())
    }

    #[cold]
    #[inline(never)]
    fn slow<T>(&mut self, f: impl FnOnce(&mut Decoder<'a>) -> Result<T>) -> Result<T> {
        let rest = self.buf.get(self.pos..).unwrap_or(&[]);
        let mut d = Decoder::new(rest, self.base + self.pos as u64);
        let v = f(&mut d)?;
        self.pos += rest.len() - d.remaining();
        Ok(v)
    }
}

/// Checks the type byte and returns a decoder over the body.
fn body<'a>(
    rec: &'a [u8],
    base: u64,
    want: &[RecordType],
    what: &'static str,
) -> Result<(RecordType, Decoder<'a>)> {
    let mut d = Decoder::new(rec, base);
    let b = d.u8()?;
    let t = RecordType::from_byte(b);
    if !want.contains(&t) {
        return Err(DecodeError::RecordType {
            offset: base,
            expected: what,
            byte: b,
        });
    }
    Ok((t, d))
}

/// A label set inside a record, validated when the record was decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Labels<'a> {
    bytes: &'a [u8],
    len: usize,
}

impl<'a> Labels<'a> {
    /// Reads `uvarint n, n × (name, value)` and checks it is well-formed.
    fn read(d: &mut Decoder<'a>) -> Result<Self> {
        let start = d.rest();
        let start_off = d.offset();
        let n = d.uvarint()?;
        let mut len = 0usize;
        for _ in 0..n {
            d.uvarint_bytes()?;
            d.uvarint_bytes()?;
            len += 1;
        }
        let used = usize::try_from(d.offset() - start_off).unwrap_or(usize::MAX);
        Ok(Self {
            bytes: start.get(..used).unwrap_or(&[]),
            len,
        })
    }

    /// Number of labels.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when there are no labels.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The `(name, value)` pairs, as stored (sorted by name by writers).
    pub fn iter(&self) -> impl Iterator<Item = (&'a [u8], &'a [u8])> + 'a {
        let mut d = Decoder::new(self.bytes, 0);
        let n = d.uvarint().unwrap_or(0);
        (0..n).map_while(move |_| Some((d.uvarint_bytes().ok()?, d.uvarint_bytes().ok()?)))
    }

    /// Owned `(name, value)` strings (invalid UTF-8 replaced).
    pub fn to_vec(&self) -> Vec<(String, String)> {
        self.iter()
            .map(|(n, v)| {
                (
                    String::from_utf8_lossy(n).into_owned(),
                    String::from_utf8_lossy(v).into_owned(),
                )
            })
            .collect()
    }

    /// The value of label `name`, if present.
    pub fn get(&self, name: &[u8]) -> Option<&'a [u8]> {
        self.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }
}

/// Calls `f(series_ref, labels)` for each entry of a Series record (type 1).
/// Returns the number of series.
pub fn for_each_series<'a>(
    rec: &'a [u8],
    base_offset: u64,
    mut f: impl FnMut(SeriesRef, Labels<'a>),
) -> Result<usize> {
    let (_, mut d) = body(
        rec,
        base_offset,
        &[RecordType::Series],
        "series record (type 1)",
    )?;
    let mut n = 0;
    while !d.is_empty() {
        let r = SeriesRef(d.be_u64()?);
        let labels = Labels::read(&mut d)?;
        f(r, labels);
        n += 1;
    }
    Ok(n)
}

/// One series of a Series record, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefSeries {
    /// Head series reference.
    pub series_ref: SeriesRef,
    /// Labels, sorted by name.
    pub labels: Vec<(String, String)>,
}

/// Decodes a Series record into owned values.
pub fn decode_series(rec: &[u8], base_offset: u64) -> Result<Vec<RefSeries>> {
    let mut out = Vec::new();
    for_each_series(rec, base_offset, |series_ref, l| {
        out.push(RefSeries {
            series_ref,
            labels: l.to_vec(),
        })
    })?;
    Ok(out)
}

/// One float sample, with its start timestamp (0 when none, and for v1 records).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RefSample {
    /// Head series reference.
    pub series_ref: SeriesRef,
    /// Timestamp (ms).
    pub t: i64,
    /// Start timestamp (ms), 0 if none.
    pub st: i64,
    /// Value.
    pub v: f64,
}

/// Reads an ST marker and returns the sample's start time.
#[inline]
fn read_st(d: &mut Decoder<'_>, prev_st: i64, first_st: i64) -> Result<i64> {
    Ok(match d.u8()? {
        0 => 0,
        1 => prev_st,
        _ => first_st.wrapping_add(d.varint()?),
    })
}

#[inline(always)]
fn read_st_fast(d: &mut Fast<'_>, prev_st: i64, first_st: i64) -> Result<i64> {
    Ok(match d.u8()? {
        0 => 0,
        1 => prev_st,
        _ => first_st.wrapping_add(d.varint()?),
    })
}

/// Calls `f` for each sample of a Samples (2) or SamplesV2 (11) record.
/// Returns the number of samples.
pub fn for_each_sample_with_st(
    rec: &[u8],
    base_offset: u64,
    mut f: impl FnMut(RefSample),
) -> Result<usize> {
    let (t, mut d) = body(
        rec,
        base_offset,
        &[RecordType::Samples, RecordType::SamplesV2],
        "samples record (type 2 or 11)",
    )?;
    if d.is_empty() {
        return Ok(0);
    }
    let mut n = 0usize;
    if t == RecordType::Samples {
        let base_ref = d.be_u64()?;
        let base_t = d.be_i64()?;
        let mut d = Fast::new(&d);
        while !d.is_empty() {
            let dref = d.varint()?;
            let dt = d.varint()?;
            let v = f64::from_bits(d.be_u64()?);
            f(RefSample {
                series_ref: SeriesRef(base_ref.wrapping_add(dref as u64)),
                t: base_t.wrapping_add(dt),
                st: 0,
                v,
            });
            n += 1;
        }
    } else {
        let first_ref = d.varint()?;
        let first_t = d.varint()?;
        let first_st = d.varint()?;
        let v = d.be_f64()?;
        f(RefSample {
            series_ref: SeriesRef(first_ref as u64),
            t: first_t,
            st: first_st,
            v,
        });
        n += 1;
        let (mut prev_ref, mut prev_st) = (first_ref, first_st);
        let mut d = Fast::new(&d);
        while !d.is_empty() {
            let r = prev_ref.wrapping_add(d.varint()?);
            let t = first_t.wrapping_add(d.varint()?);
            let st = read_st_fast(&mut d, prev_st, first_st)?;
            let v = f64::from_bits(d.be_u64()?);
            f(RefSample {
                series_ref: SeriesRef(r as u64),
                t,
                st,
                v,
            });
            (prev_ref, prev_st) = (r, st);
            n += 1;
        }
    }
    Ok(n)
}

/// Calls `f(series_ref, t, v)` for each sample of a Samples (2) or SamplesV2
/// (11) record. Returns the number of samples.
#[inline]
pub fn for_each_sample(
    rec: &[u8],
    base_offset: u64,
    mut f: impl FnMut(SeriesRef, i64, f64),
) -> Result<usize> {
    for_each_sample_with_st(rec, base_offset, |s| f(s.series_ref, s.t, s.v))
}

/// Counts the samples of a Samples (2) or SamplesV2 (11) record and their
/// min/max timestamp, fully validating the record. Faster than
/// [`for_each_sample`] for summaries: values are skipped, not decoded.
pub fn sample_time_range(rec: &[u8], base_offset: u64) -> Result<(usize, Option<(i64, i64)>)> {
    let (t, mut d) = body(
        rec,
        base_offset,
        &[RecordType::Samples, RecordType::SamplesV2],
        "samples record (type 2 or 11)",
    )?;
    if d.is_empty() {
        return Ok((0, None));
    }
    if t == RecordType::SamplesV2 {
        let mut n = 0;
        let (mut lo, mut hi) = (i64::MAX, i64::MIN);
        for_each_sample_with_st(rec, base_offset, |s| {
            n += 1;
            lo = lo.min(s.t);
            hi = hi.max(s.t);
        })?;
        return Ok((n, (n > 0).then_some((lo, hi))));
    }
    d.skip(8)?;
    let base_t = d.be_i64()?;
    let (mut lo, mut hi) = (i64::MAX, i64::MIN);
    let mut n = 0usize;
    let mut d = Fast::new(&d);
    while !d.is_empty() {
        d.skip_uvarint()?;
        let t = base_t.wrapping_add(d.varint()?);
        d.be_u64()?;
        lo = lo.min(t);
        hi = hi.max(t);
        n += 1;
    }
    Ok((n, (n > 0).then_some((lo, hi))))
}

/// Calls `f(series_ref, mint, maxt)` for each entry of a Tombstones record
/// (type 3). Returns the number of intervals.
pub fn for_each_tombstone(
    rec: &[u8],
    base_offset: u64,
    mut f: impl FnMut(SeriesRef, i64, i64),
) -> Result<usize> {
    let (_, mut d) = body(
        rec,
        base_offset,
        &[RecordType::Tombstones],
        "tombstones record (type 3)",
    )?;
    let mut n = 0;
    while !d.is_empty() {
        let r = SeriesRef(d.be_u64()?);
        let mint = d.varint()?;
        let maxt = d.varint()?;
        f(r, mint, maxt);
        n += 1;
    }
    Ok(n)
}

mod other;
pub use other::*;

mod histogram;
pub use histogram::*;

#[cfg(test)]
mod tests;
