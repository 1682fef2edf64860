//! Source chunks the writer would write byte for byte: an XOR chunk whose
//! bits are exactly what [`encode_xor_into`](super::xor::encode_xor_into)
//! writes for its own samples, in a series whose chunks the writer would
//! cut the same way (120 samples each but the last, times strictly
//! increasing across them), is re-encoded into the very same bytes. Such
//! a chunk is decoded and checked ([`canonical_xor`]) but not encoded
//! again: its bytes are copied ([`Encoded::push_from_block`]).
//!
//! "Exactly what the encoder writes" is checked field by field while
//! decoding (docs/FORMAT.md §3.7): the header's count; minimal uvarints;
//! each delta of delta in the smallest class that holds it; a value
//! written with the previous window exactly when the encoder reuses it
//! (there is one, and the XOR fits it), else with a new window of the
//! XOR's own leading (at most 31) and trailing zeros; no XOR of zero
//! written as a window; zero padding, and after it at most the zero byte
//! Prometheus < 3.0 may leave (dropped: the encoder does not write it, so
//! the record is framed and its CRC computed again). Anything else (chunks
//! of other writers, damaged data, histograms) is left to the
//! decode-and-encode path, which gives the same bytes it always did.

use crate::block::BlockReader;
use crate::format::chunkenc::Encoding;
use crate::format::crc::crc32c_append;
use crate::format::index::SeriesEntry;

use super::SampleSum;
use super::batch::Encoded;
use super::chunk::SAMPLES_PER_CHUNK;
use super::encode::bit_range;
use super::index::put_uvarint;

/// Where [`Bits`] loads its words from.
trait Words {
    /// The 8 bytes from byte `b` on as a big-endian word, zeros past the
    /// end of the data (`b` is at most the data's length).
    fn at(&self, b: usize) -> u64;
}

/// Data of any length; loads within its last 8 bytes come from `tail`
/// (those bytes, then zeros).
struct Tailed<'a> {
    data: &'a [u8],
    tail: [u8; 16],
    tail_at: usize,
}

impl<'a> Tailed<'a> {
    fn new(data: &'a [u8]) -> Tailed<'a> {
        let tail_at = data.len().saturating_sub(8);
        let mut tail = [0u8; 16];
        for (d, s) in tail.iter_mut().zip(data.get(tail_at..).unwrap_or(&[])) {
            *d = *s;
        }
        Tailed {
            data,
            tail,
            tail_at,
        }
    }
}

impl Words for Tailed<'_> {
    #[inline(always)]
    fn at(&self, b: usize) -> u64 {
        let w = if b < self.tail_at {
            self.data.get(b..).and_then(|s| s.first_chunk::<8>())
        } else {
            self.tail
                .get(b - self.tail_at..)
                .and_then(|s| s.first_chunk::<8>())
        };
        u64::from_be_bytes(w.copied().unwrap_or_default())
    }
}

/// Data of at most `N - 8` bytes (`N - 8` a power of two) copied to the
/// start of a zeroed array: every load in bounds without a check (only a
/// position at the very end wraps to the start, and nothing read there
/// is taken: it lies past the end).
struct Padded<'a, const N: usize>(&'a [u8; N]);

impl<const N: usize> Words for Padded<'_, N> {
    #[inline(always)]
    fn at(&self, b: usize) -> u64 {
        let w = self.0.get(b & (N - 9)..).and_then(|s| s.first_chunk::<8>());
        u64::from_be_bytes(w.copied().unwrap_or_default())
    }
}

/// MSB-first reader of a chunk's bits; `end` is the bit length.
struct Bits<W> {
    src: W,
    pos: u64,
    end: u64,
}

impl<W: Words> Bits<W> {
    fn new(src: W, len: usize) -> Bits<W> {
        Bits {
            src,
            pos: 0,
            end: len as u64 * 8,
        }
    }

    /// At least 57 bits from `pos` on, left-aligned (zeros past the end).
    #[inline(always)]
    fn word(&self) -> u64 {
        self.src.at((self.pos >> 3) as usize) << (self.pos & 7)
    }

    /// The next `n` bits (`1 <= n <= 56`), or `None` past the end.
    #[inline(always)]
    fn read(&mut self, n: u32) -> Option<u64> {
        let next = self.pos + u64::from(n);
        if next > self.end {
            return None;
        }
        let w = self.word();
        self.pos = next;
        Some(w >> (64 - n))
    }

    /// The next `n` bits, `1 <= n <= 64`.
    #[inline(always)]
    fn read_wide(&mut self, n: u32) -> Option<u64> {
        if n <= 56 {
            return self.read(n);
        }
        let hi = self.read(n - 32)?;
        let lo = self.read(32)?;
        Some((hi << 32) | lo)
    }

    /// Moves past `n` bits, if there are as many.
    #[inline(always)]
    fn skip(&mut self, n: u32) -> Option<()> {
        let next = self.pos + u64::from(n);
        if next > self.end {
            return None;
        }
        self.pos = next;
        Some(())
    }

    /// A uvarint in its minimal form (the reader is at a byte boundary
    /// where the encoder writes one).
    fn uvarint(&mut self) -> Option<u64> {
        // One that ends within the next 8 bytes (every time and interval
        // of real chunks), from one load: the 7-bit groups up to the first
        // byte without its high bit, packed in three steps.
        if self.pos & 7 == 0 && self.pos < self.end {
            let w = self.src.at((self.pos >> 3) as usize).swap_bytes();
            let stop = !w & 0x8080_8080_8080_8080;
            // Past the end only zeros come in: a uvarint that ends there
            // is not in the data.
            let used = u64::from(stop.trailing_zeros() / 8 + 1) * 8;
            if stop != 0 && self.pos + used <= self.end {
                let k = stop.trailing_zeros() / 8;
                // Minimal: no final zero group after the first byte.
                if k > 0 && (w >> (8 * k)) & 0xff == 0 {
                    return None;
                }
                let low = stop & stop.wrapping_neg();
                let mut x = w & low.wrapping_shl(1).wrapping_sub(1) & 0x7f7f_7f7f_7f7f_7f7f;
                x = (x & 0x007f_007f_007f_007f) | ((x & 0x7f00_7f00_7f00_7f00) >> 1);
                x = (x & 0x0000_3fff_0000_3fff) | ((x & 0x3fff_0000_3fff_0000) >> 2);
                x = (x & 0x0000_0000_0fff_ffff) | ((x & 0x0fff_ffff_0000_0000) >> 4);
                self.pos += used;
                return Some(x);
            }
        }
        let mut v = 0u64;
        for i in 0..10u32 {
            let b = self.read(8)?;
            if i == 9 && b > 1 {
                return None;
            }
            v |= (b & 0x7f) << (7 * i);
            if b < 0x80 {
                // Minimal: no final zero group after the first byte.
                return (i == 0 || b != 0).then_some(v);
            }
        }
        None
    }
}

/// The writer's value window while checking; `m` its width (64 while
/// there is none).
struct Window {
    leading: u32,
    trailing: u32,
    m: u32,
    have: bool,
}

impl Window {
    /// The XOR of the next value with the previous one, if written as the
    /// encoder writes it; `v` holds the next bits (at least 56 of them,
    /// left-aligned), as [`Bits::word`] loads them.
    #[inline(always)]
    fn read<W: Words>(&mut self, r: &mut Bits<W>, v: u64) -> Option<u64> {
        if v >> 63 == 0 {
            r.skip(1)?;
            return Some(0);
        }
        if (v >> 62) & 1 == 0 {
            // The previous window: only the encoder's choice if there is
            // one and the XOR is not zero (then it fits by construction).
            if !self.have {
                return None;
            }
            let m = self.m;
            let sig = if m <= 54 {
                r.skip(2 + m)?;
                (v << 2) >> (64 - m)
            } else {
                r.skip(2)?;
                r.read_wide(m)?
            };
            return (sig != 0).then_some(sig << self.trailing);
        }
        let head = (v >> 51) & 0x7ff;
        let l = (head >> 6) as u32;
        let m = match (head & 63) as u32 {
            0 => 64,
            m => m,
        };
        if l + m > 64 {
            return None;
        }
        let t = 64 - l - m;
        // The significant bits from `v` when they are in it.
        let x = if m <= 43 {
            r.skip(13 + m)?;
            ((v << 13) >> (64 - m)) << t
        } else {
            r.skip(13)?;
            r.read_wide(m)? << t
        };
        let (lx, tx) = (x.leading_zeros().min(31), x.trailing_zeros());
        let reusable = self.have && lx >= self.leading && tx >= self.trailing;
        if x == 0 || reusable || lx != l || tx != t {
            return None;
        }
        *self = Window {
            leading: l,
            trailing: t,
            m,
            have: true,
        };
        Some(x)
    }
}

/// A delta of delta, if in the smallest class that holds it (`0` alone
/// for zero); `x` is [`Bits::word`] at the reader's position.
#[inline(always)]
fn read_dod<W: Words>(r: &mut Bits<W>, x: u64) -> Option<i64> {
    let (used, dod, canonical) = match x.leading_ones() {
        0 => (1, 0, true),
        1 => {
            let d = sign_extend((x << 2) >> 50, 14);
            (16, d, d != 0)
        }
        2 => {
            let d = sign_extend((x << 3) >> 47, 17);
            (20, d, !bit_range(d, 14))
        }
        3 => {
            let d = sign_extend((x << 4) >> 44, 20);
            (24, d, !bit_range(d, 17))
        }
        _ => {
            r.skip(4)?;
            let d = r.read_wide(64)? as i64;
            (0, d, !bit_range(d, 20))
        }
    };
    r.skip(used)?;
    canonical.then_some(dod)
}

/// What [`canonical_xor`] found in a chunk: its sample count, first and
/// last time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct XorSummary {
    /// Samples.
    pub samples: usize,
    /// First time (ms).
    pub first: i64,
    /// Last time (ms).
    pub last: i64,
    /// Bytes the writer's encoder writes: the data's length, or one less
    /// when the data ends in the zero byte Prometheus < 3.0 may add.
    pub len: usize,
}

/// Decodes the XOR chunk `data` (after the encoding byte) and checks that
/// it holds at least one sample, its times strictly increase, and it is
/// exactly what the writer's encoder writes for those samples.
pub fn canonical_xor(data: &[u8]) -> Option<XorSummary> {
    // Short chunks (nearly all real ones) from a zero-padded copy.
    if data.len() <= 64 {
        let mut buf = [0u8; 64 + 8];
        buf.get_mut(..data.len())?.copy_from_slice(data);
        canonical(Bits::new(Padded(&buf), data.len()), data)
    } else if data.len() <= 256 {
        let mut buf = [0u8; 256 + 8];
        buf.get_mut(..data.len())?.copy_from_slice(data);
        canonical(Bits::new(Padded(&buf), data.len()), data)
    } else {
        canonical(Bits::new(Tailed::new(data), data.len()), data)
    }
}

/// [`canonical_xor`] of `data` read through `r`.
#[inline(never)]
fn canonical<W: Words>(mut r: Bits<W>, data: &[u8]) -> Option<XorSummary> {
    let n = r.read(16)? as usize;
    if n == 0 {
        return None;
    }
    let u = r.uvarint()?;
    let first = ((u >> 1) as i64) ^ -((u & 1) as i64);
    r.read_wide(64)?;
    let mut w = Window {
        leading: 0,
        trailing: 0,
        m: 64,
        have: false,
    };
    let (mut t, mut delta) = (first, 0u64);
    if n >= 2 {
        delta = r.uvarint()?;
        let v = r.word();
        w.read(&mut r, v)?;
        t = after(t, delta)?;
    }
    for _ in 2..n {
        // The common samples from one load: the same interval, and the
        // same value or one in the previous window.
        let x = r.word();
        let m = w.m;
        if x >> 62 == 0 {
            r.skip(2)?;
        } else if x >> 61 == 0b010 && m <= 54 {
            if (x << 3) >> (64 - m) == 0 {
                return None;
            }
            r.skip(3 + m)?;
        } else if x >> 63 == 0 {
            // The same interval, the value in a new window.
            r.skip(1)?;
            w.read(&mut r, x << 1)?;
        } else {
            delta = delta.wrapping_add(read_dod(&mut r, x)? as u64);
            let v = r.word();
            w.read(&mut r, v)?;
        }
        t = after(t, delta)?;
    }
    // The padding: zero bits up to the byte boundary, nothing after but
    // the zero byte Prometheus < 3.0 may leave (the writer does not).
    let pad = (8 - (r.pos & 7) as u32) % 8;
    let len = r.pos.div_ceil(8) as usize;
    let extra = data.len().checked_sub(len)?;
    if (pad > 0 && r.read(pad)? != 0) || extra > 1 || (extra == 1 && data.last() != Some(&0)) {
        return None;
    }
    Some(XorSummary {
        samples: n,
        first,
        last: t,
        len,
    })
}

/// The time `delta` after `t`, if later (wrapping, as the decoder adds).
#[inline(always)]
fn after(t: i64, delta: u64) -> Option<i64> {
    let next = t.wrapping_add(delta as i64);
    (next > t).then_some(next)
}

/// The `sz`-bit delta of delta `bits` as the decoder reads it.
#[inline(always)]
fn sign_extend(bits: u64, sz: u32) -> i64 {
    if bits > (1u64 << (sz - 1)) {
        bits.wrapping_sub(1u64 << sz) as i64
    } else {
        bits as i64
    }
}

impl Encoded {
    /// Pushes the series `entry` of `reader` with its chunk records copied
    /// as they are, when that gives the bytes [`push`](Self::push) would
    /// write for its samples as `fill` reads them (the whole time range):
    /// no tombstone, every chunk an XOR chunk with a good CRC that the
    /// writer's encoder would write (checked by decoding every sample),
    /// every chunk but the last holding 120 samples, times strictly
    /// increasing across them. Otherwise pushes nothing and returns false
    /// (the caller decodes and pushes the samples).
    pub fn push_from_block(&mut self, reader: &BlockReader<'_>, entry: &SeriesEntry) -> bool {
        if !reader.tombstones.get(entry.id).is_empty() || entry.chunks.is_empty() {
            return false;
        }
        let (data0, chunks0) = (self.data.len(), self.chunks.len());
        let mut sum: Option<(usize, i64, i64)> = None;
        let mut estimate = 0u64;
        let mut full = true;
        for meta in &entry.chunks {
            let Ok(rec) = reader.chunk(meta) else {
                return self.undo(data0, chunks0);
            };
            if rec.encoding != Encoding::Xor.to_u8() || !full {
                return self.undo(data0, chunks0);
            }
            let Some(s) = canonical_xor(rec.data).filter(|s| s.samples <= SAMPLES_PER_CHUNK) else {
                return self.undo(data0, chunks0);
            };
            if sum.is_some_and(|(_, _, last)| s.first <= last)
                || crc32c_append(crc32c_append(0, &[rec.encoding]), rec.data) != rec.stored_crc
            {
                return self.undo(data0, chunks0);
            }
            full = s.samples == SAMPLES_PER_CHUNK;
            sum = Some(match sum {
                None => (s.samples, s.first, s.last),
                Some((n, first, _)) => (n + s.samples, first, s.last),
            });
            let data = rec.data.get(..s.len).unwrap_or(rec.data);
            let crc = if data.len() == rec.data.len() {
                rec.stored_crc
            } else {
                crc32c_append(crc32c_append(0, &[rec.encoding]), data)
            };
            let start = self.data.len();
            put_uvarint(&mut self.data, data.len() as u64);
            self.data.push(rec.encoding);
            self.data.extend_from_slice(data);
            self.data.extend_from_slice(&crc.to_be_bytes());
            self.chunks.push((s.first, s.last, start - data0));
            estimate += data.len() as u64 + 1 + 4 + 5;
        }
        let Some((n, first, last)) = sum else {
            return false;
        };
        let sum = SampleSum {
            n,
            first,
            last,
            increasing: true,
        };
        self.series
            .push((sum, self.chunks.len(), self.data.len(), estimate));
        true
    }

    /// Drops what a failed [`push_from_block`](Self::push_from_block)
    /// pushed; returns false.
    fn undo(&mut self, data: usize, chunks: usize) -> bool {
        self.data.truncate(data);
        self.chunks.truncate(chunks);
        false
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

    use super::super::encode::{BitWriter, encode_xor};
    use super::*;
    use crate::block::BlockFiles;
    use crate::format::chunkenc::{STALE_NAN_BITS, Value, XorIter};
    use crate::gaps::stream::{Select, read_samples};

    /// A small deterministic generator (xorshift).
    fn rng(seed: u64) -> impl FnMut() -> u64 {
        let mut x = seed | 1;
        move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        }
    }

    /// Samples with strictly increasing times: every delta-of-delta class
    /// and every kind of value change (as in the encoder's own test).
    fn series(r: &mut impl FnMut() -> u64, n: usize) -> Vec<(i64, u64)> {
        let steps: [i64; 8] = [0, 1, 15_000, 8191, 8192, 65_536, 524_288, 1 << 40];
        let mut t = (r() as i64) >> 2;
        let (mut v, mut d) = (r(), 15_000i64);
        let mut s = Vec::with_capacity(n);
        for _ in 0..n {
            s.push((t, v));
            d = (d + steps[(r() % 8) as usize] * if r().is_multiple_of(2) { 1 } else { -1 })
                .clamp(1, 1 << 41);
            t += d;
            v = match r() % 7 {
                0 => v,
                1 => v ^ ((r() & 0xff) << 20),
                2 => r(),
                3 => r() | 1 | (1 << 63),
                4 => v ^ ((r() | 1) & 0x7fff_ffff_ffff_ffff),
                5 => STALE_NAN_BITS,
                _ => ((r() % 1000) as f64).to_bits(),
            };
        }
        s
    }

    fn decode(data: &[u8]) -> Vec<(i64, u64)> {
        XorIter::new(data, 0)
            .unwrap()
            .map(|s| s.map(|(t, v)| (t, v.to_bits())).unwrap())
            .collect()
    }

    /// Every chunk the encoder writes (samples in order) is recognised,
    /// with its count and times, also with Prometheus's extra zero byte;
    /// other trailing bytes are not.
    #[test]
    fn the_encoders_chunks_are_canonical() {
        let mut r = rng(0x2545_f491_4f6c_dd1d);
        for round in 0..600 {
            let s = series(&mut r, 1 + round % 120);
            let bytes = encode_xor(&s);
            let want = XorSummary {
                samples: s.len(),
                first: s[0].0,
                last: s[s.len() - 1].0,
                len: bytes.len(),
            };
            assert_eq!(canonical_xor(&bytes), Some(want), "round {round}: {s:?}");
            let mut more = bytes.clone();
            more.push(0);
            assert_eq!(canonical_xor(&more), Some(want));
            more.push(0);
            assert_eq!(canonical_xor(&more), None);
            let mut other = bytes.clone();
            other.push(1);
            assert_eq!(canonical_xor(&other), None);
        }
    }

    /// Whatever bytes it accepts, the encoder writes again from their
    /// samples (as our decoder reads them): damaged chunks of every kind
    /// (a bit flipped, cut short, a byte changed) are accepted only then.
    #[test]
    fn accepted_bytes_are_what_the_encoder_writes() {
        let mut r = rng(0x9e37_79b9_7f4a_7c15);
        let (mut accepted, mut rejected) = (0, 0);
        for round in 0..3000 {
            let s = series(&mut r, 1 + round % 40);
            let mut bytes = encode_xor(&s);
            match r() % 3 {
                0 => {
                    let bit = (r() % (bytes.len() as u64 * 8)) as usize;
                    bytes[bit / 8] ^= 0x80 >> (bit % 8);
                }
                1 => bytes.truncate((r() % bytes.len() as u64) as usize),
                _ => {
                    let i = (r() % bytes.len() as u64) as usize;
                    bytes[i] = r() as u8;
                }
            }
            match canonical_xor(&bytes) {
                Some(sum) => {
                    accepted += 1;
                    let back = decode(&bytes);
                    assert_eq!(back.len(), sum.samples);
                    assert!(back.windows(2).all(|w| w[0].0 < w[1].0));
                    assert_eq!(encode_xor(&back), bytes[..sum.len], "round {round}");
                }
                None => rejected += 1,
            }
        }
        assert!(accepted > 100 && rejected > 100, "{accepted} {rejected}");
    }

    /// Chunks our decoder reads but the encoder would write otherwise are
    /// rejected: a zero delta of delta in the 14-bit class, a small one in
    /// the 64-bit class, a new window where the old one fits, a longer
    /// varint than needed, a repeated time, no sample.
    #[test]
    fn other_writers_chunks_are_not() {
        let head = |w: &mut BitWriter, n: u64| {
            w.bits(n, 16);
            w.uvarint(2000); // t0 = 1000
            w.bits(7f64.to_bits(), 64);
            w.uvarint(10); // t1 = 1010
            w.bit(false); // same value
        };
        let mut cases: Vec<Vec<u8>> = Vec::new();
        let mut w = BitWriter::default();
        head(&mut w, 3);
        w.bits(0b10, 2);
        w.bits(0, 14);
        w.bit(false);
        cases.push(w.bytes);
        let mut w = BitWriter::default();
        head(&mut w, 3);
        w.bits(0b1111, 4);
        w.bits(5, 64);
        w.bit(false);
        cases.push(w.bytes);
        let mut w = BitWriter::default();
        head(&mut w, 4);
        // 7 -> 7 ^ (1 << 40) with a new window, then the same change again
        // with a new window (the old one fits).
        for _ in 0..2 {
            w.bit(false);
            w.bits(0b11, 2);
            w.bits(23, 5);
            w.bits(1, 6);
            w.bits(1, 1);
        }
        cases.push(w.bytes);
        let mut w = BitWriter::default();
        w.bits(1, 16);
        w.bits(0x80 | 0x50, 8);
        w.bits(0, 8); // 0x50 with a needless second group
        w.bits(0, 64);
        cases.push(w.bytes);
        cases.push(encode_xor(&[(5, 1), (5, 2)]));
        cases.push(encode_xor(&[]));
        for (i, c) in cases.iter().enumerate() {
            assert!(XorIter::new(c, 0).unwrap().all(|s| s.is_ok()), "case {i}");
            assert_eq!(canonical_xor(c), None, "case {i}");
        }
        // The helper writes what the encoder does when the fields are its.
        let mut w = BitWriter::default();
        head(&mut w, 3);
        w.bit(false);
        w.bit(false);
        let seven = 7f64.to_bits();
        let s = [(1000, seven), (1010, seven), (1020, seven)];
        assert_eq!(w.bytes, encode_xor(&s));
        assert!(canonical_xor(&w.bytes).is_some());
    }

    /// Every series of Prometheus 2.42's blocks: pushed verbatim only when
    /// that gives the bytes of decoding and encoding its samples, and most
    /// of its float series are.
    #[test]
    fn verbatim_series_are_the_encoded_bytes_in_real_blocks() {
        let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("testdata/prom-2.42-nativehist/data");
        let sel = Select {
            selectors: Vec::new(),
            from: i64::MIN,
            to: i64::MAX,
        };
        let (mut verbatim, mut other) = (0, 0);
        for b in crate::layout::scan(&data).unwrap().blocks {
            let files = BlockFiles::open(&b).unwrap();
            let reader = files.reader().unwrap();
            let mut it = reader.index.series();
            let mut entry = SeriesEntry::default();
            while let Some(res) = it.next_into(&mut entry) {
                res.unwrap();
                let (mut a, mut b) = (Encoded::default(), Encoded::default());
                let mut s: Vec<(i64, Value)> = Vec::new();
                read_samples(&reader, &entry, &sel, &mut s, &mut |e| panic!("{e}"));
                b.push(&s);
                if a.push_from_block(&reader, &entry) {
                    verbatim += 1;
                    assert_eq!(a.data, b.data);
                    assert_eq!(a.chunks, b.chunks);
                    assert_eq!(a.series.len(), 1);
                    let (sa, sb) = (a.series[0], b.series[0]);
                    assert_eq!(
                        (sa.0.n, sa.0.first, sa.0.last),
                        (sb.0.n, sb.0.first, sb.0.last)
                    );
                    assert!(sb.0.increasing);
                    assert_eq!((sa.1, sa.2, sa.3), (sb.1, sb.2, sb.3));
                } else {
                    other += 1;
                    assert!(a.data.is_empty() && a.chunks.is_empty() && a.series.is_empty());
                }
            }
        }
        assert!(
            verbatim > other && other > 0,
            "{verbatim} verbatim, {other} not"
        );
    }
}
