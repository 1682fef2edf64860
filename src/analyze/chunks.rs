//! The compaction analysis: per-chunk figures counted by value.

use std::collections::BTreeMap;

use super::{ChunkStats, Compaction, Distribution, MAX_SAMPLES_PER_CHUNK};
use crate::format::chunkenc::Encoding;

/// Accumulates the chunk statistics.
#[derive(Debug, Default)]
pub(super) struct ChunkAcc {
    chunks: u64,
    fullness: [u64; 10],
    empty: u64,
    float_samples: Counts,
    float_bytes: Counts,
    hist_samples: Counts,
    hist_bytes: Counts,
}

/// How many chunks have each value of a figure: memory grows with the
/// number of distinct values, not with the number of chunks.
pub(super) type Counts = BTreeMap<u64, u64>;

pub(super) fn bump(counts: &mut Counts, v: u64) {
    *counts.entry(v).or_insert(0) += 1;
}

impl ChunkAcc {
    pub(super) fn add(&mut self, enc: Encoding, samples: u64, bytes: u64) {
        self.chunks += 1;
        if samples == 0 {
            self.empty += 1;
        } else {
            let s = samples.min(MAX_SAMPLES_PER_CHUNK);
            // ceil(10 * s / 120) - 1, exact in integers.
            let b = (10 * s).div_ceil(MAX_SAMPLES_PER_CHUNK) - 1;
            if let Some(c) = self.fullness.get_mut(b as usize) {
                *c += 1;
            }
        }
        if enc.is_float() {
            bump(&mut self.float_samples, samples);
            bump(&mut self.float_bytes, bytes);
        } else {
            bump(&mut self.hist_samples, samples);
            bump(&mut self.hist_bytes, bytes);
        }
    }

    pub(super) fn finish(self) -> Compaction {
        let mut pct = [0u64; 10];
        for (p, c) in pct.iter_mut().zip(self.fullness) {
            *p = (100 * c).checked_div(self.chunks).unwrap_or(0);
        }
        let stats = |samples: &Counts, bytes: &Counts| ChunkStats {
            chunks: samples.values().sum(),
            samples: distribution(samples),
            bytes: distribution(bytes),
        };
        Compaction {
            chunks: self.chunks,
            fullness: self.fullness,
            fullness_percent: pct,
            empty_chunks: self.empty,
            float: stats(&self.float_samples, &self.float_bytes),
            histogram: stats(&self.hist_samples, &self.hist_bytes),
        }
    }
}

/// A [`Distribution`] from per-value counts.
pub(super) fn distribution(counts: &Counts) -> Distribution {
    let (Some((&min, _)), Some((&max, _))) = (counts.first_key_value(), counts.last_key_value())
    else {
        return Distribution::default();
    };
    let n: u64 = counts.values().sum();
    let sum: u64 = counts
        .iter()
        .fold(0u64, |s, (v, c)| s.wrapping_add(v.wrapping_mul(*c)));
    // Newer promtool's bucketing: a power-of-ten step >= 10 close to a tenth
    // of the spread; bucket k holds start + k*step ..= start + (k+1)*step - 1
    // and is labelled [start + k*step + 1, start + (k+1)*step].
    let spread = (max - min) / 10;
    let mut step = 10u64;
    while step < spread && step <= 10_000 {
        step *= 10;
    }
    let start = min - min % step;
    let end = max - max % step + step;
    let nb = (end - start) / step + 1;
    let mut buckets: Vec<(u64, u64, u64)> = (0..nb)
        .map(|k| (start + k * step + 1, start + (k + 1) * step, 0))
        .collect();
    for (v, c) in counts {
        if let Some(b) = buckets.get_mut(((v - start) / step) as usize) {
            b.2 += c;
        }
    }
    Distribution {
        min,
        avg: sum / n,
        max,
        sum,
        buckets,
    }
}
