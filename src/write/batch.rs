//! Series added in batches: their chunks encoded ahead, on any thread
//! ([`Encoded`]), then written in order by [`BlockWriter::add_encoded`].
//! The bytes are those [`BlockWriter::add_series`] writes.

use crate::error::{Error, Result};
use crate::format::chunkenc::{Encoding, Value};

use super::chunk::{EncodedChunk, encode_chunks_into};
use super::{BlockWriter, ChunkOut, SampleSum, SeriesIn};

/// The chunks of consecutive series, encoded ahead of adding them with
/// [`BlockWriter::add_encoded`] (on any thread: it holds no writer
/// state). Holds the chunks' bytes, not the samples.
#[derive(Default)]
pub struct Encoded {
    /// Per series: what the checks need, and where its chunks end in
    /// `chunks`.
    series: Vec<(SampleSum, usize)>,
    /// Per chunk: encoding, mint, maxt, where its data ends in `data`.
    chunks: Vec<(Encoding, i64, i64, usize)>,
    data: Vec<u8>,
    scratch: Vec<EncodedChunk>,
}

impl Encoded {
    /// Encodes one series' samples (its labels are given to
    /// [`BlockWriter::add_encoded`]).
    pub fn push(&mut self, samples: &[(i64, Value)]) {
        encode_chunks_into(samples, &mut self.scratch);
        for c in &self.scratch {
            self.data.extend_from_slice(&c.data);
            self.chunks.push((c.encoding, c.mint, c.maxt, self.data.len()));
        }
        self.series.push((SampleSum::of(samples), self.chunks.len()));
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
        let mut outs: Vec<ChunkOut<'_>> = Vec::new();
        let mut labels = labels.into_iter();
        let (mut c0, mut d0) = (0usize, 0usize);
        for &(sum, c_end) in &enc.series {
            let Some(ls) = labels.next() else {
                return Err(Error::Usage(
                    "fewer label sets than series encoded".into(),
                ));
            };
            outs.clear();
            for &(encoding, mint, maxt, d_end) in enc.chunks.get(c0..c_end).unwrap_or(&[]) {
                outs.push(ChunkOut {
                    encoding,
                    mint,
                    maxt,
                    data: enc.data.get(d0..d_end).unwrap_or(&[]),
                });
                d0 = d_end;
            }
            c0 = c_end;
            if sum.n == 0 {
                continue;
            }
            let (span, shared) = self.check(ls, &sum)?;
            self.append(ls, shared, sum.n, span, &outs)?;
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
