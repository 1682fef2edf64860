//! Chunk encodings: the sample data inside one chunk, decoded bit by bit.
//!
//! A chunk record (see [`crate::format::chunks`]) is
//! `uvarint len | u8 encoding | data[len] | BE32 CRC32C(encoding + data)`.
//! This module decodes `data` for every encoding byte Prometheus writes:
//!
//! | byte | [`Encoding`] | header | samples | module |
//! |---|---|---|---|---|
//! | 1 | `XOR` | BE16 count | float, Gorilla | `xor` |
//! | 2 | `Histogram` | BE16 count, counter-reset byte | integer native histograms | `histogram` |
//! | 3 | `FloatHistogram` | same | float native histograms | `histogram` |
//! | 4 | `XOR2` | BE16 count, ST byte | float + start timestamp | `xor2` |
//! | 5 | `HistogramST` | 2-bit counter reset + 14-bit count, ST byte | as 2, + ST | `histogram`, `st` |
//! | 6 | `FloatHistogramST` | same | as 3, + ST | `histogram`, `st` |
//!
//! Every bit stream is MSB-first (`bstream`). Decoders stop after the header's
//! sample count and never require the data to be exhausted: writers older
//! than 3.0 may leave one extra zero byte.
//!
//! Errors are [`DecodeError`]s with
//! [`Section::ChunkData`](crate::format::Section::ChunkData) and absolute
//! offsets: callers pass `base_offset`, the file offset of `data[0]`; an error
//! inside the bit stream names the byte that holds the failing bit.
//!
//! Facts: docs/FORMAT.md §3, Prometheus `tsdb/chunkenc/*.go` and
//! `model/histogram/*.go`.

/// `Iterator` for a sample iterator with `failed`, `read`, `total`, a
/// `step()` that decodes one sample and a bit reader `br` holding the error:
/// samples until `total` are read or the first error, which ends it; at
/// most the samples left as the size hint.
macro_rules! sample_iterator {
    ($iter:ident, $item:ty) => {
        impl Iterator for $iter<'_> {
            type Item = std::result::Result<$item, DecodeError>;

            #[inline]
            fn next(&mut self) -> Option<Self::Item> {
                if self.failed || self.read >= self.total {
                    return None;
                }
                match self.step() {
                    Ok(s) => {
                        self.read += 1;
                        Some(Ok(s))
                    }
                    Err(_) => {
                        self.failed = true;
                        Some(Err(self.br.take_error()))
                    }
                }
            }

            fn size_hint(&self) -> (usize, Option<usize>) {
                if self.failed {
                    (0, Some(0))
                } else {
                    let n = usize::from(self.total - self.read.min(self.total));
                    (0, Some(n))
                }
            }
        }
    };
}

mod bounds;
mod bstream;
mod gofmt;
mod hist_types;
mod histogram;
mod st;
mod xor;
mod xor2;
mod xor_skim;

pub use bounds::{CUSTOM_BUCKETS_SCHEMA, bucket_bound, exponential_bound};
pub use gofmt::{go_format_g, go_format_g_bytes, go_g};
pub use hist_types::{CounterResetHint, FloatHistogram, Histogram, Span};
pub use xor::{TimeScan, XorIter, scan_chunk_times};

use crate::format::decode::Decoder;
use crate::format::error::{DecodeError, Result};

/// Bit pattern of Prometheus's stale marker (`value.StaleNaN`).
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

/// The encoding byte of a chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Encoding {
    /// 1: Gorilla-compressed floats.
    Xor,
    /// 2: integer native histograms.
    Histogram,
    /// 3: float native histograms.
    FloatHistogram,
    /// 4: floats with optional start timestamps (Prometheus >= 3.11).
    Xor2,
    /// 5: integer native histograms with start timestamps (>= 3.14).
    HistogramSt,
    /// 6: float native histograms with start timestamps (>= 3.14).
    FloatHistogramSt,
}

impl Encoding {
    /// The encoding for an encoding byte (1..=6), if known.
    pub fn from_u8(b: u8) -> Option<Encoding> {
        Some(match b {
            1 => Encoding::Xor,
            2 => Encoding::Histogram,
            3 => Encoding::FloatHistogram,
            4 => Encoding::Xor2,
            5 => Encoding::HistogramSt,
            6 => Encoding::FloatHistogramSt,
            _ => return None,
        })
    }

    /// The encoding byte.
    pub fn to_u8(self) -> u8 {
        match self {
            Encoding::Xor => 1,
            Encoding::Histogram => 2,
            Encoding::FloatHistogram => 3,
            Encoding::Xor2 => 4,
            Encoding::HistogramSt => 5,
            Encoding::FloatHistogramSt => 6,
        }
    }

    /// Prometheus's name for the encoding (`Encoding.String()`).
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Xor => "XOR",
            Encoding::Histogram => "Histogram",
            Encoding::FloatHistogram => "FloatHistogram",
            Encoding::Xor2 => "XOR2",
            Encoding::HistogramSt => "HistogramST",
            Encoding::FloatHistogramSt => "FloatHistogramST",
        }
    }

    /// True for the float-sample encodings (XOR, XOR2).
    pub fn is_float(self) -> bool {
        matches!(self, Encoding::Xor | Encoding::Xor2)
    }

    /// Length of the fixed header before the bit stream (2 or 3 bytes).
    pub fn header_len(self) -> usize {
        match self {
            Encoding::Xor => 2,
            _ => 3,
        }
    }
}

impl std::fmt::Display for Encoding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The value of one sample.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A float sample (XOR, XOR2). Stale markers are [`STALE_NAN_BITS`].
    Float(f64),
    /// An integer native histogram.
    Histogram(Box<Histogram>),
    /// A float native histogram.
    FloatHistogram(Box<FloatHistogram>),
}

impl Value {
    /// True for a stale marker (a float or histogram sum that is StaleNaN).
    pub fn is_stale(&self) -> bool {
        match self {
            Value::Float(v) => v.to_bits() == STALE_NAN_BITS,
            Value::Histogram(h) => h.is_stale(),
            Value::FloatHistogram(h) => h.is_stale(),
        }
    }
}

/// One decoded sample.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Timestamp, ms since the Unix epoch.
    pub t: i64,
    /// Start timestamp (ST encodings), 0 if none.
    pub st: i64,
    /// The value.
    pub value: Value,
}

/// Number of samples from the chunk header (BE16, or the low 14 bits for the
/// ST histogram encodings).
pub fn num_samples(encoding: Encoding, data: &[u8], base_offset: u64) -> Result<u16> {
    let n = Decoder::new(data, base_offset).be_u16()?;
    Ok(match encoding {
        Encoding::HistogramSt | Encoding::FloatHistogramSt => n & 0x3fff,
        _ => n,
    })
}

/// The counter-reset header of a histogram-family chunk; `None` for the float
/// encodings.
pub fn counter_reset_header(
    encoding: Encoding,
    data: &[u8],
    base_offset: u64,
) -> Result<Option<CounterResetHint>> {
    if encoding.is_float() {
        return Ok(None);
    }
    histogram::read_header(encoding, data, base_offset).map(|(_, h, _)| Some(h))
}

/// The first timestamp of an XOR chunk, read without bit decoding (a varint
/// at data offset 2). `None` for an empty chunk.
pub fn xor_first_timestamp(data: &[u8], base_offset: u64) -> Result<Option<i64>> {
    let mut d = Decoder::new(data, base_offset);
    if d.be_u16()? == 0 {
        return Ok(None);
    }
    d.varint().map(Some)
}

/// Iterator over all samples of one chunk's data (the bytes after the
/// encoding byte). Yields `num_samples` items, or fewer followed by one
/// `Err` if the data is damaged; it is fused after the first error.
#[derive(Debug, Clone)]
pub struct SampleIter<'a> {
    inner: Inner<'a>,
}

#[derive(Debug, Clone)]
enum Inner<'a> {
    Xor(XorIter<'a>),
    Xor2(xor2::Xor2Iter<'a>),
    // Boxed: much larger than the float iterators, and it allocates anyway.
    Hist(Box<histogram::HistIter<'a>>),
}

impl SampleIter<'_> {
    /// The chunk's counter-reset header (histogram encodings only).
    pub fn counter_reset_header(&self) -> Option<CounterResetHint> {
        match &self.inner {
            Inner::Hist(h) => Some(h.header()),
            _ => None,
        }
    }
}

/// Iterator over all samples of one chunk's data (the bytes after the
/// encoding byte), whose first byte lies at absolute `base_offset`.
pub fn samples(encoding: Encoding, data: &[u8], base_offset: u64) -> Result<SampleIter<'_>> {
    let inner = match encoding {
        Encoding::Xor => Inner::Xor(XorIter::new(data, base_offset)?),
        Encoding::Xor2 => Inner::Xor2(xor2::Xor2Iter::new(data, base_offset)?),
        _ => Inner::Hist(Box::new(histogram::HistIter::new(
            encoding,
            data,
            base_offset,
        )?)),
    };
    Ok(SampleIter { inner })
}

/// [`samples`] for a raw encoding byte: an unknown byte is
/// [`DecodeError::UnsupportedEncoding`] at `encoding_offset`.
pub fn samples_for_byte(
    encoding: u8,
    encoding_offset: u64,
    data: &[u8],
    base_offset: u64,
) -> Result<SampleIter<'_>> {
    let enc = Encoding::from_u8(encoding).ok_or(DecodeError::UnsupportedEncoding {
        offset: encoding_offset,
        encoding,
    })?;
    samples(enc, data, base_offset)
}

impl Iterator for SampleIter<'_> {
    type Item = std::result::Result<Sample, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.inner {
            Inner::Xor(it) => it.next().map(|r| {
                r.map(|(t, v)| Sample {
                    t,
                    st: 0,
                    value: Value::Float(v),
                })
            }),
            Inner::Xor2(it) => it.next().map(|r| {
                r.map(|(st, t, v)| Sample {
                    t,
                    st,
                    value: Value::Float(v),
                })
            }),
            Inner::Hist(it) => it.next(),
        }
    }
}

impl std::iter::FusedIterator for SampleIter<'_> {}

#[cfg(test)]
mod tests;
