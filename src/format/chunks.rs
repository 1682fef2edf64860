//! Block chunk segment files (`<block>/chunks/NNNNNN`).
//!
//! ```text
//! 0   BE32 magic 0x85BD40DD | u8 version 1 | 3 zero bytes
//! 8   chunk records back to back:
//!       uvarint data_len | u8 encoding | data[data_len] | BE32 CRC32C(encoding + data)
//! ```
//! A chunk reference is `segment_index << 32 | offset`, where `segment_index`
//! is the 0-based position of the file in the sorted `chunks/` listing and
//! `offset` points at the record's `data_len`.
//! Upstream spec: prometheus `tsdb/docs/format/chunks.md`.

use crate::format::decode::{Decoder, crc32c, slice_from};
use crate::format::error::{DecodeError, Result, Section};

/// Chunk segment magic number.
pub const MAGIC_CHUNKS: u32 = 0x85BD_40DD;
/// Segment header length.
pub const SEGMENT_HEADER_LEN: usize = 8;
/// The chunk record's `data_len` uvarint may take at most 5 bytes.
pub const MAX_DATA_LEN_BYTES: u64 = 5;

/// Checks a segment file's header.
pub fn parse_segment_header(file: &[u8]) -> Result<()> {
    let mut d = Decoder::new(file, 0);
    let magic = d.be_u32()?;
    if magic != MAGIC_CHUNKS {
        return Err(DecodeError::BadMagic {
            section: Section::ChunkSegmentHeader,
            offset: 0,
            expected: MAGIC_CHUNKS,
            found: magic,
        });
    }
    let version = d.u8()?;
    if version != 1 {
        return Err(DecodeError::BadVersion {
            section: Section::ChunkSegmentHeader,
            offset: 4,
            expected: "1",
            found: u64::from(version),
        });
    }
    let pad = d.array::<3>()?;
    if pad != [0, 0, 0] {
        return Err(DecodeError::SegmentPadding {
            offset: 5,
            found: pad,
        });
    }
    Ok(())
}

/// One chunk record, framing decoded, CRC not yet checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkRecord<'a> {
    /// Absolute offset of the record (its `data_len`).
    pub offset: u64,
    /// Encoding byte.
    pub encoding: u8,
    /// Absolute offset of the first data byte.
    pub data_offset: u64,
    /// The chunk data.
    pub data: &'a [u8],
    /// CRC stored after the data.
    pub stored_crc: u32,
    /// Total record length (varint + encoding + data + CRC).
    pub len: u64,
}

impl ChunkRecord<'_> {
    /// CRC32C over encoding byte and data, as Prometheus computes it.
    pub fn computed_crc(&self) -> u32 {
        let c = super::crc::crc32c_append(0, &[self.encoding]);
        super::crc::crc32c_append(c, self.data)
    }

    /// Checks the stored CRC.
    pub fn check_crc(&self) -> Result<()> {
        let computed = self.computed_crc();
        if computed != self.stored_crc {
            return Err(DecodeError::Checksum {
                section: Section::Chunk,
                offset: self.offset,
                stored: self.stored_crc,
                computed,
            });
        }
        Ok(())
    }
}

/// Reads the chunk record at absolute `offset` of a segment file.
#[inline]
pub fn read_chunk(file: &[u8], offset: u64) -> Result<ChunkRecord<'_>> {
    read_chunk_at(file, 0, offset)
}

/// Reads the chunk record at absolute `offset` of a segment of which
/// `window` holds the bytes from absolute offset `base` on (a ranged read);
/// offsets in the record and in errors are the segment's.
#[inline]
pub fn read_chunk_at(window: &[u8], base: u64, offset: u64) -> Result<ChunkRecord<'_>> {
    if offset < SEGMENT_HEADER_LEN as u64 || offset < base {
        return Err(DecodeError::OutOfBounds {
            what: "chunk reference",
            offset,
            target: offset,
            len: base + window.len() as u64,
        });
    }
    let rel = slice_from(window, offset - base, "chunk reference").map_err(|_| {
        DecodeError::OutOfBounds {
            what: "chunk reference",
            offset,
            target: offset,
            len: base + window.len() as u64,
        }
    })?;
    let mut d = Decoder::new(rel, offset);
    let len = d.uvarint()?;
    if d.offset() - offset > MAX_DATA_LEN_BYTES {
        return Err(DecodeError::ChunkLengthTooLong {
            offset,
            found: d.offset() - offset,
        });
    }
    let encoding = d.u8()?;
    let data_offset = d.offset();
    let data = d.bytes(usize::try_from(len).unwrap_or(usize::MAX))?;
    let stored_crc = d.be_u32()?;
    Ok(ChunkRecord {
        offset,
        encoding,
        data_offset,
        data,
        stored_crc,
        len: d.offset() - offset,
    })
}

/// CRC32C helper re-exported for callers computing CRCs over whole files.
pub fn crc(bytes: &[u8]) -> u32 {
    crc32c(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The worked XOR record of docs/FORMAT.md §3.8.
    #[rustfmt::skip]
    const RECORD: &[u8] = &[
        0x1d,                   // data_len 29
        0x01,                   // encoding XOR
        0x00, 0x05,             // 5 samples
        0x80, 0xa0, 0xab, 0xfe, 0xf9, 0x62, // varint t0
        0x3f, 0xf0, 0, 0, 0, 0, 0, 0,       // v0 = 1.0
        0x98, 0x75,                         // uvarint 15000
        0x30, 0x97, 0xff, 0xe0, 0x19, 0x17, 0xe7, 0x1b, 0x02, 0xc0, 0x28,
        0x87, 0x8b, 0x55, 0x0e, // CRC32C(encoding + data)
    ];

    fn segment() -> Vec<u8> {
        let mut f = vec![0x85, 0xbd, 0x40, 0xdd, 1, 0, 0, 0];
        f.extend_from_slice(RECORD);
        f
    }

    #[test]
    fn reads_worked_example() {
        let f = segment();
        parse_segment_header(&f).unwrap();
        let c = read_chunk(&f, 8).unwrap();
        assert_eq!(c.encoding, 1);
        assert_eq!(c.data.len(), 29);
        assert_eq!(c.data_offset, 10);
        assert_eq!(c.len, RECORD.len() as u64);
        c.check_crc().unwrap();
    }

    #[test]
    fn flipped_byte_is_a_checksum_error_at_record_offset() {
        let mut f = segment();
        f[20] ^= 0x40;
        let c = read_chunk(&f, 8).unwrap();
        assert!(matches!(
            c.check_crc(),
            Err(DecodeError::Checksum {
                offset: 8,
                stored: 0x878b_550e,
                ..
            })
        ));
    }

    #[test]
    fn truncated_and_bad_refs() {
        let f = segment();
        for cut in 9..f.len() {
            assert!(read_chunk(&f[..cut], 8).is_err());
        }
        assert!(read_chunk(&f, 3).is_err());
        assert!(read_chunk(&f, 1 << 40).is_err());
        let mut bad = f.clone();
        bad[0] = 0;
        assert!(matches!(
            parse_segment_header(&bad),
            Err(DecodeError::BadMagic { .. })
        ));
    }
}
