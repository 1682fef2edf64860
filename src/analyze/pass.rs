//! The one pass over the index's series: per unique label pair a series
//! count and the summed uncovered time, and with `extended` each chunk's
//! header.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::path::Path;

use super::AnalyzeOptions;
use super::chunks::ChunkAcc;
use crate::block::BlockReader;
use crate::error::{Error, Result};
use crate::format::chunkenc::{self, Encoding};
use crate::format::index::{ChunkMeta, IndexReader, SeriesEntry};
use crate::selector;

/// One unique label pair (symbol references) and its figures.
#[derive(Debug, Clone, Copy)]
pub(super) struct PairStat {
    pub(super) name: u32,
    pub(super) value: u32,
    /// Series with the pair.
    pub(super) count: u64,
    /// Summed uncovered time of those series (ms, wrapping like Go's).
    pub(super) uncovered: u64,
}

/// What the series pass gathers.
#[derive(Debug)]
pub(super) struct SeriesPass {
    /// Unique label pairs in order of first appearance.
    pub(super) pairs: Vec<PairStat>,
    /// Series entries read and analyzed (matching the selectors).
    pub(super) series_analyzed: u64,
    /// Label pairs over all analyzed series.
    pub(super) entries: u64,
    /// The chunk statistics (`extended` only).
    pub(super) chunks: Option<ChunkAcc>,
}

/// Walks every series of the block once. `range` is the block's
/// `maxTime - minTime`.
pub(super) fn walk_series(
    block: &BlockReader<'_>,
    index_path: &Path,
    range: u64,
    opts: &AnalyzeOptions,
) -> Result<SeriesPass> {
    let ir = &block.index;
    let mut pairs = PairTable::default();
    let mut entry = SeriesEntry::default();
    let mut resolved: Vec<(&[u8], &[u8])> = Vec::new();
    let mut out = SeriesPass {
        pairs: Vec::new(),
        series_analyzed: 0,
        entries: 0,
        chunks: opts.extended.then(ChunkAcc::default),
    };
    let mut it = ir.series();
    while let Some(r) = it.next_into(&mut entry) {
        r.map_err(|e| Error::decode(index_path, e))?;
        if !opts.selectors.is_empty() {
            ir.resolve_labels(&entry, &mut resolved)
                .map_err(|e| Error::decode(index_path, e))?;
            if !selector::matches_any(&opts.selectors, &resolved) {
                continue;
            }
        }
        out.series_analyzed += 1;
        let uncovered = match (entry.chunks.first(), entry.chunks.last()) {
            (Some(f), Some(l)) => range.wrapping_sub((l.maxt as u64).wrapping_sub(f.mint as u64)),
            _ => range,
        };
        pairs.add_series(&entry.labels, uncovered);
        out.entries += entry.labels.len() as u64;
        if let Some(c) = out.chunks.as_mut() {
            add_chunks(c, block, &entry.chunks)?;
        }
    }
    out.pairs = pairs.pairs;
    Ok(out)
}

/// Reads the header of each of a series' chunks into the statistics.
fn add_chunks(acc: &mut ChunkAcc, block: &BlockReader<'_>, chunks: &[ChunkMeta]) -> Result<()> {
    for m in chunks {
        let rec = block.chunk(m)?;
        let Some(enc) = Encoding::from_u8(rec.encoding) else {
            return Err(Error::decode(
                block.segment_path(m.segment()),
                crate::block::unsupported_encoding(&rec),
            ));
        };
        let n = chunkenc::num_samples(enc, rec.data, rec.data_offset)
            .map_err(|e| Error::decode(block.segment_path(m.segment()), e))?;
        acc.add(enc, u64::from(n), rec.data.len() as u64);
    }
    Ok(())
}

/// The unique label pairs seen so far, and a shortcut: the previous series'
/// labels and their pair indexes. Consecutive series share most of their
/// labels, which then need no hash lookup.
#[derive(Debug, Default)]
struct PairTable {
    pairs: Vec<PairStat>,
    index: HashMap<u64, u32, BuildHasherDefault<MulHasher>>,
    prev: Vec<(u32, u32, u32)>,
}

impl PairTable {
    /// Counts one series with `labels` (symbol references).
    fn add_series(&mut self, labels: &[(u32, u32)], uncovered: u64) {
        for (i, &(n, v)) in labels.iter().enumerate() {
            let pi = match self.prev.get(i) {
                Some(&(pn, pv, pi)) if pn == n && pv == v => pi,
                _ => {
                    let pi = self.pair_index(n, v);
                    if let Some(slot) = self.prev.get_mut(i) {
                        *slot = (n, v, pi);
                    } else {
                        self.prev.push((n, v, pi));
                    }
                    pi
                }
            };
            if let Some(p) = self.pairs.get_mut(pi as usize) {
                p.count += 1;
                p.uncovered = p.uncovered.wrapping_add(uncovered);
            }
        }
        self.prev.truncate(labels.len());
    }

    /// The index of the pair `n=v`, added when new.
    fn pair_index(&mut self, n: u32, v: u32) -> u32 {
        let key = (u64::from(n) << 32) | u64::from(v);
        let next = self.pairs.len() as u32;
        let pi = *self.index.entry(key).or_insert(next);
        if pi == next {
            self.pairs.push(PairStat {
                name: n,
                value: v,
                count: 0,
                uncovered: 0,
            });
        }
        pi
    }
}

/// The strings of every pair, resolved once.
pub(super) fn resolve_pairs<'a>(
    ir: &IndexReader<'a>,
    pairs: &[PairStat],
    index_path: &Path,
) -> Result<Vec<(&'a [u8], &'a [u8])>> {
    let sym = |r: u32| -> Result<&'a [u8]> {
        ir.symbols.lookup(r).ok_or_else(|| {
            Error::decode(
                index_path,
                crate::format::DecodeError::OutOfBounds {
                    what: "symbol reference",
                    offset: ir.symbols.offset,
                    target: u64::from(r),
                    len: ir.symbols.len() as u64,
                },
            )
        })
    };
    pairs
        .iter()
        .map(|p| Ok((sym(p.name)?, sym(p.value)?)))
        .collect()
}

/// A multiply-shift hasher for the u64/u32 keys of the counters.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct MulHasher(u64);

impl Hasher for MulHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }
    fn write_u64(&mut self, n: u64) {
        let x = (self.0 ^ n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        self.0 = x ^ (x >> 29);
    }
}
