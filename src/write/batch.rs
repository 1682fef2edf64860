//! Series added in batches: their chunks encoded ahead, on any thread
//! ([`Encoded`]), then written in order by [`BlockWriter::add_encoded`].
//! The bytes are those [`BlockWriter::add_series`] writes.

use crate::error::{Error, Result};
use crate::format::chunkenc::Value;
use crate::format::crc::crc32c;

use super::chunk::{EncodedChunk, encode_chunks_into};
use super::index::put_uvarint;
use super::{BlockWriter, Framed, SampleSum, SeriesIn};

/// The chunks of consecutive series, encoded ahead of adding them with
/// [`BlockWriter::add_encoded`] (on any thread: it holds no writer
/// state), framed as chunk records (`uvarint len | encoding | data |
/// CRC32C`). Holds the records' bytes, not the samples.
#[derive(Default)]
pub struct Encoded {
    /// Per series: what the checks need, where its chunks end in
    /// `chunks`, where its records end in `data`, its segment-cut estimate.
    pub(super) series: Vec<(SampleSum, usize, usize, u64)>,
    /// Per chunk: mint, maxt, where its record starts in its series' bytes.
    pub(super) chunks: Vec<(i64, i64, usize)>,
    pub(super) data: Vec<u8>,
    scratch: Vec<EncodedChunk>,
}

impl Encoded {
    /// Empty, with room for about `series` series of `bytes` bytes of
    /// chunk records in all: a batch of known size fills it without
    /// growing it step by step.
    pub fn with_capacity(series: usize, bytes: usize) -> Self {
        Encoded {
            series: Vec::with_capacity(series),
            chunks: Vec::with_capacity(series),
            data: Vec::with_capacity(bytes),
            scratch: Vec::new(),
        }
    }

    /// Each series pushed, in order: what the checks need and its framed
    /// chunk records.
    pub(super) fn framed(&self) -> impl Iterator<Item = (SampleSum, Framed<'_>)> + '_ {
        let mut starts = (0usize, 0usize);
        self.series
            .iter()
            .map(move |&(sum, c_end, d_end, estimate)| {
                let (c0, d0) = std::mem::replace(&mut starts, (c_end, d_end));
                let framed = Framed {
                    bytes: self.data.get(d0..d_end).unwrap_or(&[]),
                    chunks: self.chunks.get(c0..c_end).unwrap_or(&[]),
                    estimate,
                };
                (sum, framed)
            })
    }

    /// Encodes one series' samples (its labels are given to
    /// [`BlockWriter::add_encoded`]).
    pub fn push(&mut self, samples: &[(i64, Value)]) {
        encode_chunks_into(samples, &mut self.scratch);
        let series_start = self.data.len();
        let mut estimate = 0u64;
        for c in &self.scratch {
            let start = self.data.len();
            put_uvarint(&mut self.data, c.data.len() as u64);
            let enc = self.data.len();
            self.data.push(c.encoding.to_u8());
            self.data.extend_from_slice(&c.data);
            let crc = crc32c(self.data.get(enc..).unwrap_or(&[]));
            self.data.extend_from_slice(&crc.to_be_bytes());
            self.chunks.push((c.mint, c.maxt, start - series_start));
            estimate += c.data.len() as u64 + 1 + 4 + 5;
        }
        self.series.push((
            SampleSum::of(samples),
            self.chunks.len(),
            self.data.len(),
            estimate,
        ));
    }

    /// Series pushed.
    pub fn len(&self) -> usize {
        self.series.len()
    }

    /// No series pushed.
    pub fn is_empty(&self) -> bool {
        self.series.is_empty()
    }

    /// Empties it, keeping its allocations.
    pub fn clear(&mut self) {
        self.series.clear();
        self.chunks.clear();
        self.data.clear();
    }
}

impl BlockWriter {
    /// Adds the series encoded in `enc`, their labels from `labels` (one
    /// label set per series pushed, in the same order), as
    /// [`add_series`](Self::add_series) would add them one after the
    /// other. On an error, the series before the failing one are added.
    pub fn add_encoded<'l, L: AsRef<[u8]> + 'l>(
        &mut self,
        labels: impl IntoIterator<Item = &'l [(L, L)]>,
        enc: &Encoded,
    ) -> Result<()> {
        let mut labels = labels.into_iter();
        for (sum, framed) in enc.framed() {
            let Some(ls) = labels.next() else {
                return Err(Error::Usage("fewer label sets than series encoded".into()));
            };
            if sum.n == 0 {
                continue;
            }
            let (span, shared) = self.check(ls, &sum)?;
            self.append(ls, shared, sum.n, span, framed)?;
        }
        if labels.next().is_some() {
            return Err(Error::Usage("more label sets than series encoded".into()));
        }
        Ok(())
    }

    /// Adds series as [`add_series`](Self::add_series) does, one after the
    /// other, their chunks encoded in parallel (the bytes written are the
    /// same). On an error, the series before the failing one are added.
    pub fn add_batch<L: AsRef<[u8]> + Sync>(&mut self, batch: &[SeriesIn<L>]) -> Result<()> {
        use rayon::prelude::*;
        const PART: usize = 256;
        let parts: Vec<Encoded> = batch
            .par_chunks(PART)
            .map(|part| {
                let mut e = Encoded::default();
                for (_, samples) in part {
                    e.push(samples);
                }
                e
            })
            .collect();
        for (part, e) in batch.chunks(PART).zip(&parts) {
            self.add_encoded(part.iter().map(|(l, _)| l.as_slice()), e)?;
        }
        Ok(())
    }
}
