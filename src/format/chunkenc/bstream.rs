//! MSB-first bit reader over the bit stream of a chunk, and the variable-width
//! integer codes built on it (`varbit_int`, `varbit_uint`, Gorilla XOR).
//!
//! The first bit of the stream is bit 7 of its first byte; an n-bit field is
//! stored most-significant bit first (docs/FORMAT.md §0, §3.7).
//!
//! The reader keeps up to 64 unread bits in a register, left-aligned. A refill
//! loads eight bytes at once while at least eight remain, so the hot loops of
//! the XOR decoder touch memory about once per 7 bytes. Errors carry the
//! absolute offset of the byte that holds the current bit position.

use crate::format::error::DecodeError;

/// A read failed; the reader holds the [`DecodeError`] (see
/// [`BitReader::take_error`]). Keeping the error out of the hot `Result`s lets
/// them travel in registers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stop;

/// Result of a bit-level read.
pub(crate) type Bits<T> = std::result::Result<T, Stop>;

/// What made the reader stop: plain data, so the reader stays `Copy` and its
/// hot fields can live in registers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fail {
    /// Not stopped.
    None,
    /// Fewer than `want` bits were left.
    Eof { want: u32 },
    /// A bit-stream varint longer than 64 bits, starting at `offset`.
    Varint { offset: u64 },
    /// An XOR window with `leading + significant > 64`.
    Window {
        offset: u64,
        leading: u32,
        significant: u32,
    },
    /// More buckets than the remaining bits could hold.
    Buckets {
        offset: u64,
        buckets: u64,
        bits: u64,
    },
    /// A histogram schema outside `-9..=52` and `-53`.
    Schema { offset: u64, schema: i32 },
    /// Spans of a reserved schema that cannot be reduced to schema 8.
    Reduce { offset: u64, schema: i32 },
}

/// Bit widths of the `varbit_int` / `varbit_uint` payloads, indexed by the
/// number of leading one bits in the prefix (0..=8; 8 means a raw 64-bit value).
const VARBIT_WIDTHS: [u32; 9] = [0, 3, 6, 9, 12, 18, 25, 56, 64];

/// MSB-first reader over a chunk's bit stream.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BitReader<'a> {
    data: &'a [u8],
    /// Bytes of `data` already (at least partly) moved into `buf`.
    pos: usize,
    /// Unread bits, left-aligned. Bits below the top `nbits` are either zero
    /// or the next bytes of `data` (never anything else), so OR-ing those
    /// bytes in again is harmless.
    buf: u64,
    /// Number of unread bits at the top of `buf` (0..=63 after a refill).
    nbits: u32,
    /// Absolute file offset of `data[0]`.
    base: u64,
    /// The reason for the last [`Stop`].
    fail: Fail,
}

impl<'a> BitReader<'a> {
    /// A reader over `data`, whose first byte lies at absolute offset `base`.
    pub(crate) fn new(data: &'a [u8], base: u64) -> Self {
        let mut r = BitReader {
            data,
            pos: 0,
            buf: 0,
            nbits: 0,
            base,
            fail: Fail::None,
        };
        r.refill();
        r
    }

    /// The bytes of the stream.
    #[inline(always)]
    pub(crate) fn data(&self) -> &'a [u8] {
        self.data
    }

    /// Moves the reader to bit `bit` of the stream (at most its length in
    /// bits; beyond that, to its end), as if the bits before had been read.
    #[inline]
    pub(crate) fn seek_bit(&mut self, bit: u64) {
        let bit = bit.min((self.data.len() as u64) * 8);
        self.pos = (bit / 8) as usize;
        self.buf = 0;
        self.nbits = 0;
        self.refill();
        let skip = (bit % 8) as u32;
        if skip > 0 && self.nbits >= skip {
            self.consume(skip);
        }
    }

    /// Number of bits consumed so far.
    #[inline]
    pub(crate) fn bit_pos(&self) -> u64 {
        (self.pos as u64) * 8 - u64::from(self.nbits)
    }

    /// Number of unread bits left in the stream.
    #[inline]
    pub(crate) fn remaining_bits(&self) -> u64 {
        (self.data.len() as u64) * 8 - self.bit_pos()
    }

    /// Absolute offset of the byte holding the next unread bit.
    #[inline]
    pub(crate) fn offset(&self) -> u64 {
        self.base.wrapping_add(self.bit_pos() / 8)
    }

    /// Tops `buf` up to at least 57 bits, or to the end of the data.
    #[inline(always)]
    fn refill(&mut self) {
        if self.nbits > 56 {
            return;
        }
        if let Some(chunk) = self.data.get(self.pos..).and_then(|s| s.first_chunk::<8>()) {
            self.buf |= u64::from_be_bytes(*chunk) >> self.nbits;
            let take = (63 - self.nbits) >> 3;
            self.pos += take as usize;
            self.nbits += take * 8;
        } else {
            self.refill_slow();
        }
    }

    #[inline]
    fn refill_slow(&mut self) {
        while self.nbits <= 56 {
            let Some(&b) = self.data.get(self.pos) else {
                break;
            };
            self.buf |= u64::from(b) << (56 - self.nbits);
            self.pos += 1;
            self.nbits += 8;
        }
    }

    /// Records `f` as the reason of the returned [`Stop`].
    #[inline(always)]
    pub(crate) fn fail(&mut self, f: Fail) -> Stop {
        self.fail = f;
        Stop
    }

    /// The error behind the last [`Stop`].
    #[cold]
    pub(crate) fn take_error(&self) -> DecodeError {
        match self.fail {
            Fail::None => self.eof(0),
            Fail::Eof { want } => self.eof(want),
            Fail::Varint { offset } => DecodeError::Varint { offset },
            Fail::Window {
                offset,
                leading,
                significant,
            } => DecodeError::XorWindow {
                offset,
                leading,
                significant,
            },
            Fail::Buckets {
                offset,
                buckets,
                bits,
            } => DecodeError::HistogramBuckets {
                offset,
                buckets,
                bits,
            },
            Fail::Reduce { offset, schema } => DecodeError::HistogramSpans { offset, schema },
            Fail::Schema { offset, schema } => DecodeError::HistogramSchema { offset, schema },
        }
    }

    #[inline(always)]
    fn fail_eof(&mut self, nbits: u32) -> Stop {
        self.fail(Fail::Eof { want: nbits })
    }

    #[cold]
    pub(crate) fn eof(&self, nbits: u32) -> DecodeError {
        let bit = self.bit_pos();
        let byte = bit / 8;
        DecodeError::UnexpectedEof {
            offset: self.base.wrapping_add(byte),
            wanted: (bit % 8 + u64::from(nbits)).div_ceil(8),
            available: (self.data.len() as u64).saturating_sub(byte),
        }
    }

    /// Reads `n` bits, 1 <= n <= 56.
    #[inline(always)]
    pub(crate) fn read_bits(&mut self, n: u32) -> Bits<u64> {
        debug_assert!((1..=56).contains(&n));
        if self.nbits < n {
            self.refill();
            if self.nbits < n {
                return Err(self.fail_eof(n));
            }
        }
        let v = self.buf >> (64 - n);
        self.buf <<= n;
        self.nbits -= n;
        Ok(v)
    }

    /// Reads one bit.
    #[inline(always)]
    pub(crate) fn read_bit(&mut self) -> Bits<bool> {
        self.read_bits(1).map(|b| b != 0)
    }

    /// Reads `n` bits, 0 <= n <= 64.
    #[inline(always)]
    pub(crate) fn read_bits_wide(&mut self, n: u32) -> Bits<u64> {
        match n {
            0 => Ok(0),
            1..=56 => self.read_bits(n),
            _ => {
                if self.nbits < n {
                    self.refill();
                }
                if n < 64 && self.nbits >= n {
                    // 57..=63 bits, all in the register.
                    let v = self.buf >> (64 - n);
                    self.buf <<= n;
                    self.nbits -= n;
                    return Ok(v);
                }
                if self.remaining_bits() < u64::from(n) {
                    return Err(self.fail_eof(n));
                }
                let hi = self.read_bits(n - 32)?;
                let lo = self.read_bits(32)?;
                Ok((hi << 32) | lo)
            }
        }
    }

    /// Reads 64 raw bits.
    #[inline]
    pub(crate) fn read_u64(&mut self) -> Bits<u64> {
        self.read_bits_wide(64)
    }

    /// Go `binary.ReadUvarint` over 8-bit groups of the bit stream (which need
    /// not be byte-aligned). At most 10 groups; the 10th must be 0 or 1.
    #[inline]
    pub(crate) fn read_uvarint(&mut self) -> Bits<u64> {
        let start = self.offset();
        let mut x = 0u64;
        for i in 0..10u32 {
            let b = self.read_bits(8)?;
            if b < 0x80 {
                if i == 9 && b > 1 {
                    return Err(self.fail(Fail::Varint { offset: start }));
                }
                return Ok(x | (b << (7 * i)));
            }
            x |= (b & 0x7f) << (7 * i);
        }
        Err(self.fail(Fail::Varint { offset: start }))
    }

    /// Go `binary.ReadVarint` (ZigZag over [`Self::read_uvarint`]).
    #[inline]
    pub(crate) fn read_varint(&mut self) -> Bits<i64> {
        let u = self.read_uvarint()?;
        Ok(((u >> 1) as i64) ^ -((u & 1) as i64))
    }

    /// Number of leading one bits of a `varbit` prefix (0..=8), consuming the
    /// terminating zero bit when there are fewer than 8.
    #[inline]
    fn varbit_prefix(&mut self) -> Bits<usize> {
        if self.nbits < 9 {
            self.refill();
        }
        if self.nbits >= 9 {
            let ones = (self.buf.leading_ones()).min(8);
            let used = if ones == 8 { 8 } else { ones + 1 };
            self.buf <<= used;
            self.nbits -= used;
            return Ok(ones as usize);
        }
        for i in 0..8 {
            if !self.read_bit()? {
                return Ok(i);
            }
        }
        Ok(8)
    }

    /// `varbit_int`: prefix of up to 8 bits, then a payload whose n-bit
    /// pattern `u` means `u - 2^n` when `u > 2^(n-1)` (docs/FORMAT.md §3.7).
    #[inline]
    pub(crate) fn read_varbit_int(&mut self) -> Bits<i64> {
        let prefix = self.varbit_prefix()?;
        match VARBIT_WIDTHS.get(prefix).copied().unwrap_or(64) {
            0 => Ok(0),
            64 => Ok(self.read_u64()? as i64),
            sz => {
                let bits = self.read_bits(sz)?;
                Ok(sign_extend_asym(bits, sz))
            }
        }
    }

    /// `varbit_uint`: as [`Self::read_varbit_int`], payload taken as-is.
    #[inline]
    pub(crate) fn read_varbit_uint(&mut self) -> Bits<u64> {
        let prefix = self.varbit_prefix()?;
        match VARBIT_WIDTHS.get(prefix).copied().unwrap_or(64) {
            0 => Ok(0),
            sz => self.read_bits_wide(sz),
        }
    }

    /// Makes at least `n` bits (n <= 56) available in the register if the
    /// data has them; returns whether it did.
    #[inline(always)]
    pub(crate) fn ensure(&mut self, n: u32) -> bool {
        if self.nbits < n {
            self.refill();
        }
        self.nbits >= n
    }

    /// The next `n` bits (1 <= n <= `nbits`), not consumed.
    #[inline(always)]
    pub(crate) fn peek(&self, n: u32) -> u64 {
        self.buf >> (64 - n)
    }

    /// Drops `n` bits (n <= `nbits`).
    #[inline(always)]
    pub(crate) fn consume(&mut self, n: u32) {
        self.buf <<= n;
        self.nbits -= n;
    }

    /// Gorilla value XOR (docs/FORMAT.md §3.7 `varbit_xor`): updates `value`
    /// (bit pattern), `leading` and `trailing` in place.
    #[inline(always)]
    pub(crate) fn read_xor(
        &mut self,
        value: &mut u64,
        leading: &mut u8,
        trailing: &mut u8,
    ) -> Bits<()> {
        if !self.ensure(2) {
            return self.read_xor_slow(value, leading, trailing);
        }
        let control = self.peek(2);
        if control != 0b11 {
            // `0` (same value) and `10` (same window) without a branch on
            // which, when the window's bits are already in the register:
            // random values make that branch a coin toss.
            let mbits = 64 - u32::from(*leading) - u32::from(*trailing);
            if mbits <= 61 && mbits + 2 <= self.nbits {
                let differs = control >> 1; // 1 for `10`, 0 for `0`
                let bits = (self.buf << 2) >> (63 - mbits) >> 1;
                *value ^= (bits << *trailing) & differs.wrapping_neg();
                let used = 1 + (differs as u32) * (mbits + 1);
                self.consume(used);
                return Ok(());
            }
            if control < 0b10 {
                self.consume(1);
                return Ok(());
            }
            self.consume(2);
            let bits = self.read_bits_wide(mbits)?;
            *value ^= bits << *trailing;
            return Ok(());
        }
        self.consume(2);
        self.read_xor_new_window(value, leading, trailing)
    }

    #[inline]
    fn read_xor_slow(&mut self, value: &mut u64, leading: &mut u8, trailing: &mut u8) -> Bits<()> {
        if !self.read_bit()? {
            return Ok(());
        }
        if !self.read_bit()? {
            let mbits = 64 - u32::from(*leading) - u32::from(*trailing);
            let bits = self.read_bits_wide(mbits)?;
            *value ^= bits << *trailing;
            return Ok(());
        }
        self.read_xor_new_window(value, leading, trailing)
    }

    /// The `11` (or XOR2 `110`) form after its control bits: 5 bits of leading
    /// zeros, 6 bits of significant-bit count (0 meaning 64), then the bits.
    #[inline(always)]
    pub(crate) fn read_xor_new_window(
        &mut self,
        value: &mut u64,
        leading: &mut u8,
        trailing: &mut u8,
    ) -> Bits<()> {
        let at = self.offset();
        let lm = self.read_bits(11)?;
        let l = (lm >> 6) as u32;
        let mut m = (lm & 0x3f) as u32;
        if m == 0 {
            m = 64;
        }
        if l + m > 64 {
            return Err(self.fail(Fail::Window {
                offset: at,
                leading: l,
                significant: m,
            }));
        }
        let t = 64 - l - m;
        let bits = self.read_bits_wide(m)?;
        *leading = l as u8;
        *trailing = t as u8;
        *value ^= bits << t;
        Ok(())
    }
}

/// Interprets the low `sz` bits of `bits` with the asymmetric rule of
/// docs/FORMAT.md §3.7: values above `2^(sz-1)` are negative.
#[inline(always)]
pub(crate) fn sign_extend_asym(bits: u64, sz: u32) -> i64 {
    if bits > (1u64 << (sz - 1)) {
        bits.wrapping_sub(1u64 << sz) as i64
    } else {
        bits as i64
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn reads_msb_first_across_refills() {
        let data: Vec<u8> = (0u8..20).collect();
        let mut r = BitReader::new(&data, 100);
        // 0x00 0x01 0x02 ...: read 4+4 bits, then 12, then bytes.
        assert_eq!(r.read_bits(4).unwrap(), 0);
        assert_eq!(r.read_bits(4).unwrap(), 0);
        assert_eq!(r.read_bits(12).unwrap(), 0x010);
        assert_eq!(r.read_bits(4).unwrap(), 0x2);
        for b in 3u64..11 {
            assert_eq!(r.read_bits(8).unwrap(), b);
        }
        assert_eq!(r.offset(), 111);
        assert_eq!(r.read_u64().unwrap(), 0x0b0c_0d0e_0f10_1112);
        assert_eq!(r.read_bits(8).unwrap(), 0x13);
        assert_eq!(r.remaining_bits(), 0);
        assert_eq!(r.read_bit(), Err(Stop));
        assert_eq!(
            r.take_error(),
            DecodeError::UnexpectedEof {
                offset: 120,
                wanted: 1,
                available: 0
            }
        );
    }

    #[test]
    fn eof_reports_byte_of_bit_position() {
        let data = [0xffu8, 0x00];
        let mut r = BitReader::new(&data, 10);
        r.read_bits(9).unwrap();
        assert_eq!(r.read_bits(8), Err(Stop));
        assert_eq!(
            r.take_error(),
            DecodeError::UnexpectedEof {
                offset: 11,
                wanted: 2,
                available: 1
            }
        );
    }

    #[test]
    fn varbit_int_table() {
        // (bit string, value)
        let cases: &[(&str, i64)] = &[
            ("0", 0),
            ("10 001", 1),
            ("10 100", 4),
            ("10 101", -3),
            ("10 111", -1),
            ("110 100000", 32),
            ("110 100001", -31),
            ("1110 100000000", 256),
            ("11110 111111111111", -1),
            ("111110 100000000000000000", 131072),
            ("1111110 1111111111111111111111111", -1),
            (
                "11111110 11111111111111111111111111111111111111111111111111111111",
                -1,
            ),
            (
                "11111111 1000000000000000000000000000000000000000000000000000000000000000",
                i64::MIN,
            ),
        ];
        for (bits, want) in cases {
            let data = pack(bits);
            let mut r = BitReader::new(&data, 0);
            assert_eq!(r.read_varbit_int().unwrap(), *want, "{bits}");
        }
        let data = pack(concat!(
            "10 111 110 111111 0 11111111 ",
            "1111111111111111111111111111111111111111111111111111111111111111",
        ));
        let mut r = BitReader::new(&data, 0);
        assert_eq!(r.read_varbit_uint().unwrap(), 7);
        assert_eq!(r.read_varbit_uint().unwrap(), 63);
        assert_eq!(r.read_varbit_uint().unwrap(), 0);
        assert_eq!(r.read_varbit_uint().unwrap(), u64::MAX);
    }

    #[test]
    fn unaligned_uvarint() {
        // 3 bits, then uvarint 300 = ac 02, shifted by 3 bits.
        let data = pack("101 10101100 00000010");
        let mut r = BitReader::new(&data, 0);
        assert_eq!(r.read_bits(3).unwrap(), 0b101);
        assert_eq!(r.read_uvarint().unwrap(), 300);
        let data = [0xffu8; 10];
        let mut r = BitReader::new(&data, 5);
        assert_eq!(r.read_uvarint(), Err(Stop));
        assert_eq!(r.take_error(), DecodeError::Varint { offset: 5 });
    }

    /// Packs a string of '0'/'1' (spaces ignored) MSB-first, zero-padded.
    pub(crate) fn pack(bits: &str) -> Vec<u8> {
        let mut out = Vec::new();
        for (n, c) in bits.chars().filter(|c| !c.is_whitespace()).enumerate() {
            if n % 8 == 0 {
                out.push(0);
            }
            if c == '1' {
                *out.last_mut().unwrap() |= 0x80 >> (n % 8);
            }
        }
        out
    }
}
