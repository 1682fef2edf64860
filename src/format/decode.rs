//! Primitives shared by every file decoder: a bounds-checked cursor, Go varints,
//! and the `len | body | CRC32C` frame used by most index sections.
//!
//! Every integer in TSDB files is big-endian. `uvarint` is Go's
//! `encoding/binary` unsigned LEB128; `varint` is ZigZag over it (not signed
//! LEB128). Every CRC is CRC-32C (Castagnoli).

use super::error::{DecodeError, Result, Section};

/// CRC-32C (Castagnoli) of `bytes`, as every Prometheus TSDB file uses.
#[inline]
pub fn crc32c(bytes: &[u8]) -> u32 {
    super::crc::crc32c(bytes)
}

/// A zero-copy cursor over bytes taken from one file.
///
/// Every read either succeeds or returns a [`DecodeError`] naming the absolute
/// file offset where it failed. No method panics, whatever the input.
#[derive(Clone, Copy, Debug)]
pub struct Decoder<'a> {
    rest: &'a [u8],
    offset: u64,
}

impl<'a> Decoder<'a> {
    /// A cursor over `bytes`, whose first byte lies at absolute `offset` in its file.
    pub fn new(bytes: &'a [u8], offset: u64) -> Self {
        Self {
            rest: bytes,
            offset,
        }
    }

    /// Absolute offset of the next unread byte.
    #[inline]
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Number of unread bytes.
    #[inline]
    pub fn remaining(&self) -> usize {
        self.rest.len()
    }

    /// True when every byte has been read.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// The unread bytes.
    #[inline]
    pub fn rest(&self) -> &'a [u8] {
        self.rest
    }

    /// Reads `n` bytes.
    #[inline]
    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8]> {
        let (head, tail) = self.rest.split_at_checked(n).ok_or_else(|| self.eof(n))?;
        self.advance(tail, n);
        Ok(head)
    }

    /// Skips `n` bytes.
    #[inline]
    pub fn skip(&mut self, n: usize) -> Result<()> {
        self.bytes(n).map(|_| ())
    }

    /// Reads a fixed-size array.
    #[inline]
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let (head, tail) = self
            .rest
            .split_first_chunk::<N>()
            .ok_or_else(|| self.eof(N))?;
        self.advance(tail, N);
        Ok(*head)
    }

    /// Reads one byte.
    #[inline]
    pub fn u8(&mut self) -> Result<u8> {
        self.array::<1>().map(|[b]| b)
    }

    /// Reads a big-endian u16.
    #[inline]
    pub fn be_u16(&mut self) -> Result<u16> {
        self.array().map(u16::from_be_bytes)
    }

    /// Reads a big-endian u32.
    #[inline]
    pub fn be_u32(&mut self) -> Result<u32> {
        self.array().map(u32::from_be_bytes)
    }

    /// Reads a big-endian u64.
    #[inline]
    pub fn be_u64(&mut self) -> Result<u64> {
        self.array().map(u64::from_be_bytes)
    }

    /// Reads a big-endian i64.
    #[inline]
    pub fn be_i64(&mut self) -> Result<i64> {
        self.array().map(i64::from_be_bytes)
    }

    /// Reads a big-endian IEEE-754 binary64.
    #[inline]
    pub fn be_f64(&mut self) -> Result<f64> {
        self.be_u64().map(f64::from_bits)
    }

    /// Go `binary.Uvarint`: at most 10 bytes; the 10th byte must be 0 or 1.
    #[inline(always)]
    pub fn uvarint(&mut self) -> Result<u64> {
        // Most varints of the index and chunks (label refs, lengths, deltas)
        // fit in one byte.
        if let Some((&b, tail)) = self.rest.split_first()
            && b < 0x80
        {
            self.advance(tail, 1);
            return Ok(u64::from(b));
        }
        self.uvarint_long()
    }

    #[inline(never)]
    fn uvarint_long(&mut self) -> Result<u64> {
        // Eight bytes available and the varint ends within them (every
        // value below 2^56: timestamps, offsets, chunk refs).
        if let Some((x, n)) = self.rest.first_chunk::<8>().and_then(uvarint8) {
            let tail = self.rest.get(n..).unwrap_or(&[]);
            self.advance(tail, n);
            return Ok(x);
        }
        // Ten bytes available: no bounds check per byte.
        if let Some(bytes) = self.rest.first_chunk::<10>() {
            let mut value = 0u64;
            for (i, &byte) in bytes.iter().enumerate() {
                value |= u64::from(byte & 0x7f) << (7 * i);
                if byte < 0x80 {
                    if i == 9 && byte > 1 {
                        break;
                    }
                    let n = i + 1;
                    let tail = self.rest.get(n..).unwrap_or(&[]);
                    self.advance(tail, n);
                    return Ok(value);
                }
            }
            return Err(DecodeError::Varint {
                offset: self.offset,
            });
        }
        let start = self.offset;
        let mut value = 0u64;
        for (i, &byte) in self.rest.iter().enumerate().take(10) {
            if i == 9 && byte > 1 {
                return Err(DecodeError::Varint { offset: start });
            }
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                let n = i + 1;
                let tail = self.rest.get(n..).unwrap_or(&[]);
                self.advance(tail, n);
                return Ok(value);
            }
        }
        if self.rest.len() >= 10 {
            Err(DecodeError::Varint { offset: start })
        } else {
            Err(DecodeError::UnexpectedEof {
                offset: start,
                wanted: self.rest.len() as u64 + 1,
                available: self.rest.len() as u64,
            })
        }
    }

    /// A uvarint that must fit in 32 bits (Go's `Uvarint32`).
    #[inline]
    pub fn uvarint32(&mut self) -> Result<u32> {
        let start = self.offset;
        let v = self.uvarint()?;
        u32::try_from(v).map_err(|_| DecodeError::Varint { offset: start })
    }

    /// Go `binary.Varint`: ZigZag over uvarint.
    #[inline]
    pub fn varint(&mut self) -> Result<i64> {
        let u = self.uvarint()?;
        Ok(((u >> 1) as i64) ^ -((u & 1) as i64))
    }

    /// A uvarint-length-prefixed byte string.
    #[inline]
    pub fn uvarint_bytes(&mut self) -> Result<&'a [u8]> {
        let start = self.offset;
        let n = self.uvarint()?;
        let n = usize::try_from(n).map_err(|_| DecodeError::OutOfBounds {
            what: "string length",
            offset: start,
            target: n,
            len: self.rest.len() as u64,
        })?;
        self.bytes(n)
    }

    /// Splits off the next `n` bytes as their own decoder, keeping absolute offsets.
    pub fn take(&mut self, n: usize) -> Result<Decoder<'a>> {
        let offset = self.offset;
        Ok(Decoder::new(self.bytes(n)?, offset))
    }

    #[inline]
    fn advance(&mut self, tail: &'a [u8], n: usize) {
        self.rest = tail;
        self.offset += n as u64;
    }

    fn eof(&self, wanted: usize) -> DecodeError {
        DecodeError::UnexpectedEof {
            offset: self.offset,
            wanted: wanted as u64,
            available: self.rest.len() as u64,
        }
    }
}

/// A uvarint that ends within `bytes` (1 to 8 bytes long: a value below
/// 2^56), found and gathered from one load without a loop: its value and
/// length. `None` if all eight bytes continue it.
#[inline(always)]
pub(crate) fn uvarint8(bytes: &[u8; 8]) -> Option<(u64, usize)> {
    let w = u64::from_le_bytes(*bytes);
    let stops = !w & 0x8080_8080_8080_8080;
    if stops == 0 {
        return None;
    }
    // The last byte's top bit is bit 8k+7: keep bytes 0..=k.
    let last = stops.trailing_zeros();
    let x = w & (u64::MAX >> (63 - last)) & 0x7f7f_7f7f_7f7f_7f7f;
    // Pack the 7-bit groups: pairs, then fours, then all eight.
    let x = (x & 0x007f_007f_007f_007f) | ((x & 0x7f00_7f00_7f00_7f00) >> 1);
    let x = (x & 0x0000_3fff_0000_3fff) | ((x & 0x3fff_0000_3fff_0000) >> 2);
    let x = (x & 0x0000_0000_0fff_ffff) | ((x & 0x0fff_ffff_0000_0000) >> 4);
    Some((x, (last / 8 + 1) as usize))
}

/// Bytes of `file` starting at absolute `offset`, or an out-of-bounds error.
pub fn slice_from<'a>(file: &'a [u8], offset: u64, what: &'static str) -> Result<&'a [u8]> {
    usize::try_from(offset)
        .ok()
        .and_then(|o| file.get(o..))
        .ok_or(DecodeError::OutOfBounds {
            what,
            offset,
            target: offset,
            len: file.len() as u64,
        })
}

/// Reads `BE32 len | body[len] | BE32 CRC32C(body)` at absolute `offset` of
/// `file` and returns a decoder over the body, after checking the CRC.
pub fn crc_section(file: &[u8], offset: u64, section: Section) -> Result<Decoder<'_>> {
    let f = CrcFramed::read(file, offset, section)?;
    f.check_crc()?;
    Ok(f.body())
}

/// A CRC-framed section (`BE32 len | body | BE32 CRC32C(body)`) whose framing
/// was read but whose CRC is not checked yet: the body can be decoded while
/// the CRC is computed elsewhere (on another thread), the checksum error
/// winning over anything the body's decoding found, as in [`crc_section`].
#[derive(Debug, Clone, Copy)]
pub struct CrcFramed<'a> {
    section: Section,
    offset: u64,
    body_offset: u64,
    body: &'a [u8],
    stored: u32,
}

impl<'a> CrcFramed<'a> {
    /// Reads the framing of the section at `offset`: the errors of
    /// [`crc_section`] before its CRC comparison.
    #[inline]
    pub fn read(file: &'a [u8], offset: u64, section: Section) -> Result<CrcFramed<'a>> {
        let mut d = Decoder::new(slice_from(file, offset, section.name())?, offset);
        let len = d.be_u32()?;
        let body_offset = d.offset();
        let body = d.bytes(len as usize)?;
        let stored = d.be_u32()?;
        Ok(CrcFramed {
            section,
            offset,
            body_offset,
            body,
            stored,
        })
    }

    /// The body's CRC against the stored one: the checksum error of
    /// [`crc_section`] when they differ.
    #[inline]
    pub fn check_crc(&self) -> Result<()> {
        let computed = crc32c(self.body);
        if self.stored != computed {
            return Err(DecodeError::Checksum {
                section: self.section,
                offset: self.offset,
                stored: self.stored,
                computed,
            });
        }
        Ok(())
    }

    /// A decoder over the body (absolute offsets).
    #[inline]
    pub fn body(&self) -> Decoder<'a> {
        Decoder::new(self.body, self.body_offset)
    }
}

/// Total bytes `crc_section` occupies at `offset` (length field + body + CRC),
/// read without checking the CRC.
pub fn crc_section_len(file: &[u8], offset: u64, section: Section) -> Result<u64> {
    let mut d = Decoder::new(slice_from(file, offset, section.name())?, offset);
    let len = d.be_u32()?;
    Ok(4 + u64::from(len) + 4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32c_check_value() {
        // The CRC-32C check value; IEEE CRC-32 gives 0xCBF43926 instead.
        assert_eq!(crc32c(b"123456789"), 0xE306_9283);
        assert_eq!(crc32c(b""), 0);
    }

    #[test]
    fn uvarint_go_vectors() {
        // Values and encodings from Go's encoding/binary tests.
        let cases: &[(&[u8], u64)] = &[
            (&[0x00], 0),
            (&[0x01], 1),
            (&[0x7f], 127),
            (&[0x80, 0x01], 128),
            (&[0xac, 0x02], 300),
            (
                &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
                u64::MAX,
            ),
        ];
        for (bytes, want) in cases {
            let mut d = Decoder::new(bytes, 0);
            assert_eq!(d.uvarint().unwrap(), *want);
            assert!(d.is_empty());
        }
    }

    /// Every encoded length (1–10 bytes), with and without bytes after it,
    /// through the one-byte, eight-byte, ten-byte and short-buffer paths.
    #[test]
    fn uvarint_all_lengths_and_paths() {
        let mut x = 0x9E37_79B9_7F4A_7C15_u64;
        for i in 0..20_000u32 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let v = x >> (i % 64);
            let mut enc = Vec::new();
            let mut u = v;
            while u >= 0x80 {
                enc.push((u as u8) | 0x80);
                u >>= 7;
            }
            enc.push(u as u8);
            for pad in [0usize, 1, 9] {
                let mut buf = enc.clone();
                buf.extend(std::iter::repeat_n(0xffu8, pad));
                let mut d = Decoder::new(&buf, 100);
                assert_eq!(d.uvarint().unwrap(), v, "{enc:x?} pad {pad}");
                assert_eq!(d.offset(), 100 + enc.len() as u64);
                assert_eq!(d.remaining(), pad);
            }
        }
    }

    #[test]
    fn uvarint_overflow_and_eof() {
        let mut d = Decoder::new(&[0xff; 10], 7);
        assert_eq!(d.uvarint(), Err(DecodeError::Varint { offset: 7 }));
        let mut d = Decoder::new(&[0x80, 0x80], 3);
        assert!(matches!(
            d.uvarint(),
            Err(DecodeError::UnexpectedEof { offset: 3, .. })
        ));
    }

    #[test]
    fn varint_is_zigzag() {
        // zigzag: 0->0, 1->-1, 2->1, 3->-2
        for (b, want) in [(0u8, 0i64), (1, -1), (2, 1), (3, -2)] {
            assert_eq!(Decoder::new(&[b], 0).varint().unwrap(), want);
        }
    }

    #[test]
    fn crc_section_detects_flip() {
        let body = [0u8, 0, 0, 1, 1, b'a'];
        let mut file = vec![0u8; 3];
        file.extend_from_slice(&(body.len() as u32).to_be_bytes());
        file.extend_from_slice(&body);
        file.extend_from_slice(&crc32c(&body).to_be_bytes());
        let d = crc_section(&file, 3, Section::Symbols).unwrap();
        assert_eq!(d.offset(), 7);
        assert_eq!(d.remaining(), 6);
        file[8] ^= 1;
        assert!(matches!(
            crc_section(&file, 3, Section::Symbols),
            Err(DecodeError::Checksum { offset: 3, .. })
        ));
        assert!(matches!(
            crc_section(&file, 100, Section::Symbols),
            Err(DecodeError::OutOfBounds { .. })
        ));
    }
}
