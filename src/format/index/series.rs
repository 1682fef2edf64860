//! Series entries.
//!
//! ```text
//! [zero padding to a 16-byte boundary (v2)]
//! uvarint len | body[len] | BE32 CRC32C(body)
//! body: uvarint n_labels | n × (uvarint32 name_ref | uvarint32 value_ref)
//!       uvarint n_chunks
//!       chunk 0: varint mint | uvarint (maxt - mint) | uvarint ref
//!       chunk i: uvarint (mint_i - maxt_{i-1}) | uvarint (maxt_i - mint_i) | varint (ref_i - ref_{i-1})
//! ```
//! v2 series id = entry offset / 16; v1 series id = entry offset.

use crate::format::decode::{Decoder, crc32c, slice_from, uvarint8};
use crate::format::error::{DecodeError, Result, Section};
use crate::format::refs::{ChunkRef, SeriesRef};

/// One chunk's entry in a series: time range and where its bytes are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkMeta {
    /// Timestamp of the first sample.
    pub mint: i64,
    /// Timestamp of the last sample (inclusive).
    pub maxt: i64,
    /// Packed block chunk reference: segment index << 32 | byte offset.
    pub chunk_ref: ChunkRef,
}

impl ChunkMeta {
    /// 0-based index of the chunk segment file in the sorted `chunks/` listing.
    #[inline]
    pub fn segment(&self) -> u32 {
        self.chunk_ref.segment()
    }
    /// Byte offset of the chunk record in its segment.
    #[inline]
    pub fn offset(&self) -> u32 {
        self.chunk_ref.offset()
    }
}

/// A decoded series entry with unresolved label references.
///
/// Reused across entries by [`decode_series_into`] so that a scan over
/// millions of series allocates nothing per series.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeriesEntry {
    /// Series id (offset/16 in v2, offset in v1).
    pub id: SeriesRef,
    /// Absolute offset of the entry's length field.
    pub offset: u64,
    /// Total bytes of the entry (length field, body, CRC).
    pub encoded_len: u64,
    /// Label (name ref, value ref) pairs in file order.
    pub labels: Vec<(u32, u32)>,
    /// Chunk metas in file order.
    pub chunks: Vec<ChunkMeta>,
}

/// Decodes the series entry whose length field is at absolute `offset`,
/// checking its CRC, into `out`.
pub fn decode_series_into(
    file: &[u8],
    offset: u64,
    version: u8,
    out: &mut SeriesEntry,
) -> Result<()> {
    let mut d = Decoder::new(slice_from(file, offset, "series entry")?, offset);
    let len = d.uvarint()?;
    let len_bytes = d.offset() - offset;
    if len_bytes > 5 {
        return Err(DecodeError::SeriesLengthTooLong {
            offset,
            found: len_bytes,
        });
    }
    let body_start = d.offset();
    let body = d.bytes(usize::try_from(len).unwrap_or(usize::MAX))?;
    let stored = d.be_u32()?;
    let computed = crc32c(body);
    if stored != computed {
        return Err(DecodeError::Checksum {
            section: Section::Series,
            offset,
            stored,
            computed,
        });
    }
    out.offset = offset;
    out.encoded_len = d.offset() - offset;
    out.id = SeriesRef(if version == 1 { offset } else { offset / 16 });
    out.labels.clear();
    out.chunks.clear();
    // The body as a well-formed entry has it; anything else is decoded
    // again by the checked cursor, which says what is wrong and where.
    if let Some(ext) = file.get(usize::try_from(body_start).unwrap_or(usize::MAX)..)
        && decode_body_fast(ext, body.len(), out)
    {
        return Ok(());
    }
    out.labels.clear();
    out.chunks.clear();
    let mut b = Decoder::new(body, body_start);
    let n_labels = b.uvarint()?;
    for _ in 0..n_labels {
        let name = b.uvarint32()?;
        let value = b.uvarint32()?;
        out.labels.push((name, value));
    }
    let n_chunks = b.uvarint()?;
    if n_chunks > 0 {
        let mint = b.varint()?;
        let maxt = (b.uvarint()? as i64).wrapping_add(mint);
        let r = b.uvarint()?;
        out.chunks.push(ChunkMeta {
            mint,
            maxt,
            chunk_ref: ChunkRef(r),
        });
        let (mut prev_maxt, mut prev_ref) = (maxt, r);
        for _ in 1..n_chunks {
            let mint = (b.uvarint()? as i64).wrapping_add(prev_maxt);
            let maxt = (b.uvarint()? as i64).wrapping_add(mint);
            let r = (b.varint()? as u64).wrapping_add(prev_ref);
            out.chunks.push(ChunkMeta {
                mint,
                maxt,
                chunk_ref: ChunkRef(r),
            });
            prev_maxt = maxt;
            prev_ref = r;
        }
    }
    if !b.is_empty() {
        return Err(DecodeError::SeriesTrailingBytes {
            offset: b.offset(),
            found: b.remaining() as u64,
        });
    }
    Ok(())
}

/// Reads the uvarints of a series body for [`decode_body_fast`]: from the
/// body's first byte on, with loads that may look past the body's end (into
/// its CRC and beyond); the caller checks where the last one ended.
struct FastBody<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl FastBody<'_> {
    /// A uvarint of up to eight bytes (timestamps and chunk refs take
    /// several), gathered from one load; `None` for a longer one or fewer
    /// than eight bytes left in the file.
    #[inline(always)]
    fn uvarint(&mut self) -> Option<u64> {
        let rest = self.bytes.get(self.at..)?;
        let &first = rest.first()?;
        let (v, n) = if first < 0x80 {
            (u64::from(first), 1)
        } else {
            uvarint8(rest.first_chunk::<8>()?)?
        };
        self.at += n;
        Some(v)
    }

    #[inline(always)]
    fn varint(&mut self) -> Option<i64> {
        self.uvarint()
            .map(|u| ((u >> 1) as i64) ^ -((u & 1) as i64))
    }
}

/// Decodes a well-formed series body of `len` bytes starting at `ext[0]`
/// into `out` (empty), without a checked cursor: true if it is one (every
/// value where the checked decoding reads the same, ending exactly at the
/// body's end). False for anything else, leaving `out` to be cleared.
#[inline(always)]
fn decode_body_fast(ext: &[u8], len: usize, out: &mut SeriesEntry) -> bool {
    let mut f = FastBody { bytes: ext, at: 0 };
    let Some(n_labels) = f.uvarint() else {
        return false;
    };
    // A label takes two bytes at least, a chunk meta three.
    if n_labels > (len / 2) as u64 {
        return false;
    }
    // Symbol refs take one to three bytes (a table below 2^21 symbols).
    for _ in 0..n_labels {
        match (short_ref(ext, &mut f.at), short_ref(ext, &mut f.at)) {
            (Some(name), Some(value)) => out.labels.push((name, value)),
            _ => return false,
        }
    }
    let Some(n_chunks) = f.uvarint() else {
        return false;
    };
    if n_chunks > (len / 3) as u64 {
        return false;
    }
    if n_chunks > 0 {
        let (Some(mint), Some(span), Some(r)) = (f.varint(), f.uvarint(), f.uvarint()) else {
            return false;
        };
        let maxt = (span as i64).wrapping_add(mint);
        out.chunks.push(ChunkMeta {
            mint,
            maxt,
            chunk_ref: ChunkRef(r),
        });
        let (mut prev_maxt, mut prev_ref) = (maxt, r);
        for _ in 1..n_chunks {
            let (Some(gap), Some(span), Some(dr)) = (f.uvarint(), f.uvarint(), f.varint()) else {
                return false;
            };
            let mint = (gap as i64).wrapping_add(prev_maxt);
            let maxt = (span as i64).wrapping_add(mint);
            let r = (dr as u64).wrapping_add(prev_ref);
            out.chunks.push(ChunkMeta {
                mint,
                maxt,
                chunk_ref: ChunkRef(r),
            });
            prev_maxt = maxt;
            prev_ref = r;
        }
    }
    f.at == len
}

/// A uvarint of at most 3 bytes (a symbol ref below 2^21) at `bytes[*at..]`,
/// advancing `at`; `None` for anything longer or cut short.
#[inline(always)]
fn short_ref(bytes: &[u8], at: &mut usize) -> Option<u32> {
    let i = *at;
    let b0 = u32::from(*bytes.get(i)?);
    if b0 < 0x80 {
        *at = i + 1;
        return Some(b0);
    }
    let b1 = u32::from(*bytes.get(i + 1)?);
    if b1 < 0x80 {
        *at = i + 2;
        return Some((b0 & 0x7f) | (b1 << 7));
    }
    let b2 = u32::from(*bytes.get(i + 2)?);
    if b2 < 0x80 {
        *at = i + 3;
        return Some((b0 & 0x7f) | ((b1 & 0x7f) << 7) | (b2 << 14));
    }
    None
}

/// Sequential walk over the series region `[start, end)`, yielding the
/// absolute offset of each entry's length field. In v2 entries are 16-byte
/// aligned; padding between entries must be zero.
#[derive(Debug, Clone)]
pub struct SeriesOffsets<'a> {
    file: &'a [u8],
    pos: u64,
    end: u64,
    aligned: bool,
    done: bool,
}

impl<'a> SeriesOffsets<'a> {
    /// Walks `[start, end)` of `file`.
    pub fn new(file: &'a [u8], start: u64, end: u64, version: u8) -> Self {
        SeriesOffsets {
            file,
            pos: start,
            end: end.min(file.len() as u64),
            aligned: version != 1,
            done: false,
        }
    }

    /// Advances to the next entry start, skipping padding. Returns `None` at
    /// the end of the region; an error if the padding is not zero.
    fn next_start(&mut self) -> Option<Result<u64>> {
        loop {
            if self.aligned {
                let aligned = self.pos.div_ceil(16).saturating_mul(16);
                // Padding bytes between pos and aligned must be zero.
                let pad = self
                    .file
                    .get(self.pos as usize..(aligned.min(self.end)) as usize)
                    .unwrap_or(&[]);
                if let Some(i) = pad.iter().position(|&b| b != 0) {
                    let at = self.pos + i as u64;
                    return Some(Err(DecodeError::SeriesPadding {
                        offset: at,
                        found: pad.get(i).copied().unwrap_or(0),
                    }));
                }
                self.pos = aligned;
            }
            if self.pos >= self.end {
                return None;
            }
            // A zero byte where an entry would start: an all-zero tail of the
            // region (the writer pads before the next section).
            match self.file.get(self.pos as usize) {
                Some(0) => {
                    let rest = self
                        .file
                        .get(self.pos as usize..self.end as usize)
                        .unwrap_or(&[]);
                    if rest.iter().all(|&b| b == 0) {
                        return None;
                    }
                    if self.aligned {
                        return Some(Err(DecodeError::SeriesZeroLength { offset: self.pos }));
                    }
                    self.pos += 1;
                    continue;
                }
                Some(_) => return Some(Ok(self.pos)),
                None => return None,
            }
        }
    }

    /// Tells the walker how long the entry at the last yielded offset was.
    pub fn advance(&mut self, entry_len: u64) {
        self.pos = self.pos.saturating_add(entry_len.max(1));
    }

    /// The next entry offset; after an `Err` the walk stops.
    pub fn next_offset(&mut self) -> Option<Result<u64>> {
        if self.done {
            return None;
        }
        let r = self.next_start();
        if matches!(r, Some(Err(_)) | None) {
            self.done = true;
        }
        r
    }

    /// Length of the entry at `offset` from its length field alone (no CRC check).
    pub fn entry_len_at(&self, offset: u64) -> Result<u64> {
        let mut d = Decoder::new(slice_from(self.file, offset, "series entry")?, offset);
        let len = d.uvarint()?;
        Ok((d.offset() - offset).saturating_add(len).saturating_add(4))
    }
}
