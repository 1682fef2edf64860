//! Head chunk files, `chunks_head/NNNNNN` (`tsdb/chunks/head_chunks.go`,
//! `tsdb/docs/format/head_chunks.md`): chunks cut from the in-memory head and
//! memory-mapped until the head is compacted into a block.
//!
//! ```text
//! ┌──────────────────────────────┬─────────────────┬──────────────────┐
//! │ magic(0x0130BC91) <4 byte>   │ version(1) <1b> │ padding(0) <3b>  │
//! ├──────────────────────────────┴─────────────────┴──────────────────┤
//! │ chunk 1 ... chunk N │ zeros (files are preallocated, not truncated)│
//! └────────────────────────────────────────────────────────────────────┘
//! chunk:
//! ┌─────────────────┬────────────┬────────────┬──────────────┬─────────────────┬────────┬────────────┐
//! │ series ref <8b> │ mint <8b>  │ maxt <8b>  │ encoding <1b>│ len <uvarint≤5b>│ data   │ CRC32C <4b>│
//! └─────────────────┴────────────┴────────────┴──────────────┴─────────────────┴────────┴────────────┘
//! encoding bit 7 = out-of-order chunk; CRC over series ref .. end of data
//! ```
//!
//! The data ends at a chunk whose series ref, mint and maxt are all zero, or
//! where fewer than [`MAX_META_SIZE`] bytes are left and all of them are zero.
//! Anything else that does not parse is corruption. Unlike Prometheus we also
//! reject a length field longer than 5 bytes (Prometheus does not check).

use super::decode::{Decoder, crc32c};
use super::error::{DecodeError, Result, Section};
use super::refs::{ChunkRef, SeriesRef};

/// Head chunk file magic number.
pub const MAGIC_HEAD_CHUNKS: u32 = 0x0130_BC91;
/// The only head chunk file version.
pub const VERSION: u8 = 1;
/// Size of the file header.
pub const HEADER_SIZE: usize = 8;
/// Largest chunk overhead: ref 8 + mint 8 + maxt 8 + encoding 1 + len ≤5 + CRC 4.
pub const MAX_META_SIZE: usize = 34;
/// Maximum bytes of the data length uvarint.
pub const MAX_LEN_FIELD: usize = 5;
/// Encoding-byte flag of out-of-order chunks.
pub const OOO_FLAG: u8 = 0x80;

/// One chunk of a head chunk file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeadChunk<'a> {
    /// Offset of the chunk (its series ref field) in the file.
    pub offset: u64,
    /// Head series reference.
    pub series_ref: SeriesRef,
    /// First sample time (ms).
    pub mint: i64,
    /// Last sample time (ms).
    pub maxt: i64,
    /// Chunk encoding, without the OOO flag (1 XOR, 2 histogram, 3 float
    /// histogram, 4 XOR2, 5/6 ST histograms).
    pub encoding: u8,
    /// True for an out-of-order chunk (bit 7 of the encoding byte).
    pub ooo: bool,
    /// The chunk data (format of `format::chunkenc`).
    pub data: &'a [u8],
}

impl HeadChunk<'_> {
    /// The `ChunkDiskMapperRef` of this chunk in file number `file`.
    pub fn chunk_ref(&self, file: u32) -> ChunkRef {
        chunk_ref(file, self.offset)
    }
}

/// `ChunkDiskMapperRef`: file number in the upper 32 bits, offset in the lower.
pub fn chunk_ref(file: u32, offset: u64) -> ChunkRef {
    ChunkRef::new(file, offset as u32)
}

/// A readable name for a chunk encoding (without the OOO flag).
pub fn encoding_name(encoding: u8) -> &'static str {
    match encoding {
        0 => "none",
        1 => "XOR",
        2 => "Histogram",
        3 => "FloatHistogram",
        4 => "XOR2",
        5 => "HistogramST",
        6 => "FloatHistogramST",
        _ => "unknown",
    }
}

/// Checks the 8-byte file header (magic and version).
pub fn check_header(file: &[u8]) -> Result<()> {
    let mut d = Decoder::new(file, 0);
    let magic = d.be_u32()?;
    if magic != MAGIC_HEAD_CHUNKS {
        return Err(DecodeError::BadMagic {
            section: Section::HeadChunk,
            offset: 0,
            expected: MAGIC_HEAD_CHUNKS,
            found: magic,
        });
    }
    let version = d.u8()?;
    if version != VERSION {
        return Err(DecodeError::BadVersion {
            section: Section::HeadChunk,
            offset: 4,
            expected: "1",
            found: u64::from(version),
        });
    }
    d.skip(3)?;
    Ok(())
}

/// Iterates over the chunks of a head chunk file; see [`chunks`].
#[derive(Debug, Clone)]
pub struct HeadChunkIter<'a> {
    file: &'a [u8],
    pos: usize,
    done: bool,
    end: Option<u64>,
}

/// Checks the header of `file` and iterates over its chunks.
pub fn chunks(file: &[u8]) -> Result<HeadChunkIter<'_>> {
    check_header(file)?;
    Ok(HeadChunkIter {
        file,
        pos: HEADER_SIZE,
        done: false,
        end: None,
    })
}

impl<'a> HeadChunkIter<'a> {
    /// Where the chunk data ended (the end marker or the zero tail), once
    /// the iterator returned `None` without an error.
    pub fn end_offset(&self) -> Option<u64> {
        self.end
    }

    /// Offset of the next chunk to read.
    pub fn position(&self) -> u64 {
        self.pos as u64
    }

    fn read_chunk(&mut self) -> Result<Option<HeadChunk<'a>>> {
        let start = self.pos;
        let rest = self.file.get(start..).unwrap_or(&[]);
        let offset = start as u64;
        if rest.len() < MAX_META_SIZE {
            let Some(i) = rest.iter().position(|&b| b != 0) else {
                self.end = Some(offset);
                return Ok(None);
            };
            // Prometheus stops here; we still accept a small complete chunk.
            return self
                .parse_chunk(start, rest)
                .map_err(|_| DecodeError::HeadChunkTail {
                    offset,
                    left: rest.len() as u64,
                    nonzero: offset + i as u64,
                });
        }
        self.parse_chunk(start, rest)
    }

    fn parse_chunk(&mut self, start: usize, rest: &'a [u8]) -> Result<Option<HeadChunk<'a>>> {
        let offset = start as u64;
        let mut d = Decoder::new(rest, offset);
        let series_ref = SeriesRef(d.be_u64()?);
        let mint = d.be_i64()?;
        let maxt = d.be_i64()?;
        if series_ref.get() == 0 && mint == 0 && maxt == 0 {
            self.end = Some(offset);
            return Ok(None);
        }
        let enc = d.u8()?;
        let len_at = d.offset();
        let before = d.remaining();
        let len = d.uvarint()?;
        if before - d.remaining() > MAX_LEN_FIELD {
            return Err(DecodeError::HeadChunkLengthTooLong {
                offset: len_at,
                found: (before - d.remaining()) as u64,
            });
        }
        let data = usize::try_from(len)
            .ok()
            .and_then(|l| d.rest().get(..l))
            .ok_or(DecodeError::OutOfBounds {
                what: "head chunk data length",
                offset: len_at,
                target: (d.offset()).saturating_add(len),
                len: self.file.len() as u64,
            })?;
        d.skip(data.len())?;
        let covered_len = usize::try_from(d.offset() - offset).unwrap_or(usize::MAX);
        let covered = rest.get(..covered_len).unwrap_or(&[]);
        let crc_at = d.offset();
        let stored = d.be_u32().map_err(|_| DecodeError::OutOfBounds {
            what: "head chunk CRC",
            offset: crc_at,
            target: crc_at + 4,
            len: self.file.len() as u64,
        })?;
        let computed = crc32c(covered);
        if stored != computed {
            return Err(DecodeError::Checksum {
                section: Section::HeadChunk,
                offset,
                stored,
                computed,
            });
        }
        self.pos = start + covered_len + 4;
        Ok(Some(HeadChunk {
            offset,
            series_ref,
            mint,
            maxt,
            encoding: enc & !OOO_FLAG,
            ooo: enc & OOO_FLAG != 0,
            data,
        }))
    }
}

impl<'a> Iterator for HeadChunkIter<'a> {
    type Item = Result<HeadChunk<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.read_chunk() {
            Ok(Some(c)) => Some(Ok(c)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // tests may panic
mod tests {
    use super::*;

    fn header() -> Vec<u8> {
        let mut f = MAGIC_HEAD_CHUNKS.to_be_bytes().to_vec();
        f.extend_from_slice(&[1, 0, 0, 0]);
        f
    }

    fn push_chunk(f: &mut Vec<u8>, series: u64, mint: i64, maxt: i64, enc: u8, data: &[u8]) -> u64 {
        let start = f.len();
        f.extend_from_slice(&series.to_be_bytes());
        f.extend_from_slice(&mint.to_be_bytes());
        f.extend_from_slice(&maxt.to_be_bytes());
        f.push(enc);
        let mut l = data.len() as u64;
        loop {
            let b = (l & 0x7f) as u8;
            l >>= 7;
            if l == 0 {
                f.push(b);
                break;
            }
            f.push(b | 0x80);
        }
        f.extend_from_slice(data);
        let crc = crc32c(&f[start..]);
        f.extend_from_slice(&crc.to_be_bytes());
        start as u64
    }

    #[test]
    fn built_file_roundtrip() {
        let mut f = header();
        let a = push_chunk(&mut f, 1, 10, 20, 1, &[0, 1, 2, 3]);
        let b = push_chunk(&mut f, 7, 30, 40, 0x82, &[9; 200]);
        f.extend_from_slice(&[0u8; 100]);
        let mut it = chunks(&f).unwrap();
        let c1 = it.next().unwrap().unwrap();
        assert_eq!(
            (
                c1.offset,
                c1.series_ref.get(),
                c1.mint,
                c1.maxt,
                c1.encoding,
                c1.ooo
            ),
            (a, 1, 10, 20, 1, false)
        );
        assert_eq!(c1.data, &[0, 1, 2, 3]);
        let c2 = it.next().unwrap().unwrap();
        assert_eq!(
            (c2.offset, c2.encoding, c2.ooo, c2.data.len()),
            (b, 2, true, 200)
        );
        assert!(it.next().is_none());
        assert_eq!(it.end_offset(), Some(f.len() as u64 - 100));
        assert_eq!(c2.chunk_ref(3).get(), (3 << 32) | b);
    }

    #[test]
    fn short_zero_tail_and_no_tail() {
        let mut f = header();
        push_chunk(&mut f, 1, 10, 20, 1, &[0, 1]);
        let end = f.len() as u64;
        assert_eq!(chunks(&f).unwrap().filter_map(|c| c.ok()).count(), 1);
        f.extend_from_slice(&[0u8; 10]);
        let mut it = chunks(&f).unwrap();
        assert!(it.next().unwrap().is_ok());
        assert!(it.next().is_none());
        assert_eq!(it.end_offset(), Some(end));
        // A short tail that is not all zero is corruption.
        f.push(1);
        let errs: Vec<_> = chunks(&f).unwrap().filter_map(|c| c.err()).collect();
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].offset(), end);
    }

    #[test]
    fn damaged_chunks() {
        let mut f = header();
        push_chunk(&mut f, 1, 10, 20, 1, &[0, 1, 2, 3]);
        let second = push_chunk(&mut f, 2, 10, 20, 1, &[5; 40]);
        f.extend_from_slice(&[0u8; 64]);
        // Flip a data byte of the second chunk: checksum error at its offset.
        let mut bad = f.clone();
        bad[second as usize + 30] ^= 0xff;
        let res: Vec<_> = chunks(&bad).unwrap().collect();
        assert_eq!(res.len(), 2);
        assert!(res[0].is_ok());
        assert!(matches!(
            res[1],
            Err(DecodeError::Checksum {
                section: Section::HeadChunk,
                offset,
                ..
            }) if offset == second
        ));
        // A length running past the end.
        let mut bad = f.clone();
        bad[second as usize + 25] = 0xff;
        bad[second as usize + 26] = 0x7f;
        let res: Vec<_> = chunks(&bad).unwrap().collect();
        assert!(matches!(res[1], Err(DecodeError::OutOfBounds { .. })));
        // A 6-byte length field.
        let mut bad = f.clone();
        for i in 0..5 {
            bad[second as usize + 25 + i] = 0x80;
        }
        bad[second as usize + 30] = 0;
        let res: Vec<_> = chunks(&bad).unwrap().collect();
        assert!(matches!(
            res[1],
            Err(DecodeError::HeadChunkLengthTooLong { found: 6, .. })
        ));
        // Bad magic / version / short header.
        let mut bad = f.clone();
        bad[0] = 0;
        assert!(matches!(chunks(&bad), Err(DecodeError::BadMagic { .. })));
        let mut bad = f.clone();
        bad[4] = 2;
        assert!(matches!(chunks(&bad), Err(DecodeError::BadVersion { .. })));
        assert!(chunks(&f[..6]).is_err());
    }

    #[test]
    fn real_file_nativehist() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/testdata/wal/nativehist/chunks_head/000006"
        );
        let f = std::fs::read(path).unwrap();
        let mut enc = std::collections::BTreeMap::new();
        let mut n = 0;
        let mut it = chunks(&f).unwrap();
        for c in it.by_ref() {
            let c = c.unwrap();
            *enc.entry(encoding_name(c.encoding)).or_insert(0) += 1;
            assert!(!c.ooo);
            assert!(c.mint <= c.maxt);
            n += 1;
        }
        // oracle/inspect_data.json: 72 chunks; XOR 32, Histogram 14, FloatHistogram 26.
        assert_eq!(n, 72);
        assert_eq!(enc.get("XOR"), Some(&32));
        assert_eq!(enc.get("Histogram"), Some(&14));
        assert_eq!(enc.get("FloatHistogram"), Some(&26));
        let end = it.end_offset().unwrap() as usize;
        assert!(f[end..].iter().all(|&b| b == 0));
    }
}
