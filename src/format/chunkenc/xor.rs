//! XOR float chunks (encoding 1): Gorilla timestamps and values.
//!
//! ```text
//! bytes 0-1   BE16 num_samples
//! sample 0    varint t0 (8-bit groups)        | 64 raw bits of v0
//! sample 1    uvarint (t1 - t0)               | varbit_xor(v1 ^ v0)
//! sample i>=2 dod prefix 0 | 10+14 | 110+17 | 1110+20 | 1111+64 bits
//!                                             | varbit_xor(v_i ^ v_{i-1})
//! padding to a byte (and, from writers < 3.0, possibly one more zero byte)
//! ```
//!
//! See docs/FORMAT.md §3.8. Deltas accumulate with wrapping arithmetic, as Go's
//! two's-complement arithmetic does.

use super::bstream::{BitReader, Bits, sign_extend_asym};
use super::xor_skim::skim_chunk;
use crate::format::decode::Decoder;
use crate::format::error::{DecodeError, Result};

/// Fast iterator over the `(t, v)` samples of an XOR chunk.
///
/// Yields exactly `num_samples` items unless the data is damaged, in which
/// case it yields one `Err` and then stops (it is fused).
#[derive(Debug, Clone)]
pub struct XorIter<'a> {
    br: BitReader<'a>,
    total: u16,
    read: u16,
    t: i64,
    delta: u64,
    val: u64,
    leading: u8,
    trailing: u8,
    failed: bool,
}

impl<'a> XorIter<'a> {
    /// An iterator over the XOR chunk `data` (the bytes after the encoding
    /// byte), whose first byte lies at absolute offset `base_offset`.
    pub fn new(data: &'a [u8], base_offset: u64) -> Result<Self> {
        let mut d = Decoder::new(data, base_offset);
        let total = d.be_u16()?;
        Ok(XorIter {
            br: BitReader::new(d.rest(), d.offset()),
            total,
            read: 0,
            t: 0,
            delta: 0,
            val: 0,
            leading: 0,
            trailing: 0,
            failed: false,
        })
    }

    /// The sample count from the chunk header.
    pub fn num_samples(&self) -> u16 {
        self.total
    }

    /// Absolute offset of the byte holding the next unread bit.
    pub fn offset(&self) -> u64 {
        self.br.offset()
    }

    #[inline(always)]
    fn step(&mut self) -> Bits<(i64, f64)> {
        if self.read < 2 {
            return self.start();
        }
        self.step_rest()
    }

    /// A sample after the first two.
    #[inline(always)]
    fn step_rest(&mut self) -> Bits<(i64, f64)> {
        // Most samples keep the scrape interval (dod `0`), and many keep
        // their value too (`0` again).
        if self.br.ensure(2) && self.br.peek(2) == 0 {
            self.br.consume(2);
            self.t = self.t.wrapping_add(self.delta as i64);
            return Ok((self.t, f64::from_bits(self.val)));
        }
        if self.br.read_bit()? {
            let dod = self.read_dod()?;
            self.delta = self.delta.wrapping_add(dod as u64);
        }
        self.t = self.t.wrapping_add(self.delta as i64);
        self.br
            .read_xor(&mut self.val, &mut self.leading, &mut self.trailing)?;
        Ok((self.t, f64::from_bits(self.val)))
    }

    /// Samples 0 and 1.
    #[inline(always)]
    fn start(&mut self) -> Bits<(i64, f64)> {
        if self.read == 0 {
            self.t = self.br.read_varint()?;
            self.val = self.br.read_u64()?;
        } else {
            self.delta = self.br.read_uvarint()?;
            self.t = self.t.wrapping_add(self.delta as i64);
            self.br
                .read_xor(&mut self.val, &mut self.leading, &mut self.trailing)?;
        }
        Ok((self.t, f64::from_bits(self.val)))
    }

    /// The rest of a non-zero delta-of-delta, after its leading `1` bit.
    #[inline(always)]
    fn read_dod(&mut self) -> Bits<i64> {
        let sz = if !self.br.read_bit()? {
            14
        } else if !self.br.read_bit()? {
            17
        } else if !self.br.read_bit()? {
            20
        } else {
            return Ok(self.br.read_u64()? as i64);
        };
        let bits = self.br.read_bits(sz)?;
        Ok(sign_extend_asym(bits, sz))
    }
}

impl XorIter<'_> {
    /// Decodes every remaining sample, calling `f(t, v)` for each: the
    /// same samples the iterator yields, in a tight loop (no per-sample
    /// `Result` crosses a call). Stops at the first damage and returns it.
    #[inline]
    pub fn try_for_each_sample(
        &mut self,
        mut f: impl FnMut(i64, f64),
    ) -> std::result::Result<(), DecodeError> {
        self.try_for_each_until(|t, v| {
            f(t, v);
            true
        })
    }

    /// Like [`XorIter::try_for_each_sample`], but stops (without error)
    /// after the first sample for which `f` returns `false`; the samples
    /// after it stay unread.
    #[inline]
    pub fn try_for_each_until(
        &mut self,
        mut f: impl FnMut(i64, f64) -> bool,
    ) -> std::result::Result<(), DecodeError> {
        if self.failed {
            return Ok(());
        }
        while self.read < self.total {
            match self.step() {
                Ok((t, v)) => {
                    self.read += 1;
                    if !f(t, v) {
                        return Ok(());
                    }
                }
                Err(_) => {
                    self.failed = true;
                    return Err(self.br.take_error());
                }
            }
        }
        Ok(())
    }
}

/// What [`XorIter::scan_times`] found: the count and bounds of the
/// timestamps, and where they first fail to increase.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimeScan {
    /// Samples decoded.
    pub count: u64,
    /// First timestamp.
    pub first: Option<i64>,
    /// Last timestamp.
    pub last: Option<i64>,
    /// The first sample (index, its time, the previous time) whose time is
    /// not after the previous sample's.
    pub unordered: Option<(u64, i64, i64)>,
}

impl XorIter<'_> {
    /// Decodes every remaining sample (values included: their bits must
    /// parse) and summarises the timestamps, in one tight loop. Returns the
    /// summary of the samples read and, if the data is damaged, the error
    /// that stopped it.
    pub fn scan_times(&mut self) -> (TimeScan, Option<DecodeError>) {
        let mut s = TimeScan::default();
        if self.failed {
            return (s, None);
        }
        let begin = self.clone();
        let first_read = self.read;
        let (mut first, mut prev) = (None, i64::MIN);
        // Whether some time is not after the one before it: the tight loop
        // only notes that; where is found again, off the hot path.
        let mut disorder = false;
        let mut failed = false;
        // The bit position after samples 0 and 1 read from the bytes, not
        // yet given to the bit reader: the skim starts from it.
        let mut pending = None;
        if self.read == 0
            && self.total >= 2
            && let Some((t0, t1, next)) = self.start_bytes()
        {
            (first, prev) = (Some(t0), t1);
            disorder = t1 <= t0;
            pending = Some(next);
        }
        let mut note = |t: i64, first: &mut Option<i64>, prev: &mut i64| {
            if first.is_none() {
                *first = Some(t);
            } else {
                disorder |= t <= *prev;
            }
            *prev = t;
        };
        while self.read < self.total && (self.read < 2 || first.is_none()) {
            match self.step() {
                Ok((t, _)) => {
                    self.read += 1;
                    note(t, &mut first, &mut prev);
                }
                Err(_) => {
                    failed = true;
                    break;
                }
            }
        }
        if !failed {
            let mut left = self.total - self.read;
            // The fast path while it can; after it stops near the end, the
            // careful path alone.
            let mut skim = true;
            while left > 0 {
                if skim {
                    skim = self.skim(&mut left, &mut prev, &mut disorder, pending.take());
                    if left == 0 {
                        break;
                    }
                }
                match self.step_rest() {
                    Ok((t, _)) => {
                        disorder |= t <= prev;
                        prev = t;
                        left -= 1;
                    }
                    Err(_) => {
                        failed = true;
                        break;
                    }
                }
            }
            self.read = self.total - left;
            if let Some(p) = pending {
                self.br.seek_bit(p);
            }
        }
        s.count = u64::from(self.read - first_read);
        s.first = first;
        if s.count > 0 {
            s.last = Some(prev);
        }
        if disorder {
            s.unordered = first_unordered(begin, s.count);
        }
        if failed {
            self.failed = true;
            return (s, Some(self.br.take_error()));
        }
        (s, None)
    }
}

/// [`XorIter::new`] then [`XorIter::scan_times`] on the XOR chunk `data`
/// (whose first byte lies at absolute offset `base_offset`): the same
/// result, an error where `new` fails. A chunk whose samples all take the
/// scan's fast path (real chunks, nearly always) is scanned without a bit
/// reader; any other from the start by the iterator.
pub fn scan_chunk_times(data: &[u8], base_offset: u64) -> Result<(TimeScan, Option<DecodeError>)> {
    if let Some(s) = skim_chunk(data, base_offset) {
        return Ok((s, None));
    }
    Ok(XorIter::new(data, base_offset)?.scan_times())
}

/// A bit stream's last 8 bytes as one big-endian word, for [`Skim::run`]:
/// loads near the end shift it (zeros come in behind the data). None when
/// the stream is shorter.
pub(super) fn last_word(data: &[u8]) -> Option<u64> {
    data.last_chunk::<8>().map(|w| u64::from_be_bytes(*w))
}

impl XorIter<'_> {
    /// Samples 0 and 1 of an unread chunk straight from the bytes (both
    /// start on a byte: varint t0, 64 raw bits of v0, uvarint delta, then
    /// the width of value 1): their times and the bit position after them,
    /// where the caller moves the bit reader (the reader itself is left
    /// where it was). None, with nothing read, for anything less usual
    /// (long varints, a chunk ending within 8 bytes of value 1), which the
    /// careful path reads. The value is left stale, as after
    /// [`XorIter::skim`].
    #[inline(always)]
    fn start_bytes(&mut self) -> Option<(i64, i64, u64)> {
        let data = self.br.data();
        if self.br.bit_pos() != 0 {
            return None;
        }
        let (u, i) = uvarint_bytes(data)?;
        let t0 = ((u >> 1) as i64) ^ -((u & 1) as i64);
        let v0 = u64::from_be_bytes(*data.get(i..)?.first_chunk::<8>()?);
        let (delta, j) = uvarint_bytes(data.get(i + 8..)?)?;
        let at = i + 8 + j;
        let x = u64::from_be_bytes(*data.get(at..)?.first_chunk::<8>()?);
        let (lead, trail) = (u32::from(self.leading), u32::from(self.trailing));
        let (vused, l, tr) = value_width(x, lead, trail)?;
        let next = (at as u64) * 8 + u64::from(vused);
        if next > (data.len() as u64) * 8 {
            return None;
        }
        let t1 = t0.wrapping_add(delta as i64);
        (self.t, self.delta, self.val) = (t1, delta, v0);
        (self.leading, self.trailing) = (l as u8, tr as u8);
        self.read = 2;
        Some((t0, t1, next))
    }

    /// The scan's fast path over samples after the first two: reads each
    /// sample's time and the width of its value (not the value: after it,
    /// the iterator's value is stale, which [`XorIter::scan_times`] never
    /// reads) straight from the bytes, one load per sample.
    /// Stops before the first sample it leaves to the careful path: one
    /// that runs past the end, a 64-bit delta of delta, an impossible value
    /// window (the careful path reports their errors). Returns whether it
    /// stopped at an odd sample (not at the end), after which it is worth
    /// calling again. `from`: the bit to start at when the bit reader is
    /// not there yet (it is moved to where the skim stops).
    #[inline(always)]
    fn skim(
        &mut self,
        left: &mut u16,
        prev: &mut i64,
        disorder: &mut bool,
        from: Option<u64>,
    ) -> bool {
        let data = self.br.data();
        let last = last_word(data);
        let (lead, trail) = (u32::from(self.leading), u32::from(self.trailing));
        let mut k = Skim {
            p: from.unwrap_or_else(|| self.br.bit_pos()),
            t: self.t,
            delta: self.delta,
            lead,
            trail,
            reuse: 67u64.saturating_sub(u64::from(lead + trail)),
            n: *left,
            prev: *prev,
            disorder: false,
        };
        // The bulk without end checks, then the last samples with them.
        let mut odd = k.run::<false>(data, last);
        if !odd {
            odd = k.run::<true>(data, last);
        }
        if k.n == *left {
            if let Some(p) = from {
                self.br.seek_bit(p);
            }
            return odd;
        }
        (self.t, self.delta) = (k.t, k.delta);
        (self.leading, self.trailing) = (k.lead as u8, k.trail as u8);
        self.br.seek_bit(k.p);
        (*left, *prev) = (k.n, k.prev);
        *disorder |= k.disorder;
        odd
    }
}

/// The state of [`XorIter::skim`]: bit position, time, delta, value window
/// (and the bits of a `0 10` sample in it), samples left, previous time,
/// whether some time was not after the one before.
pub(super) struct Skim {
    pub(super) p: u64,
    pub(super) t: i64,
    pub(super) delta: u64,
    pub(super) lead: u32,
    pub(super) trail: u32,
    pub(super) reuse: u64,
    pub(super) n: u16,
    pub(super) prev: i64,
    pub(super) disorder: bool,
}

impl Skim {
    /// Skims samples of `data` (whose last 8 bytes are `last`) until none
    /// is left or one is odd (returns true then). With `TAIL` false, only
    /// samples that start at least 101 bits before the end (the longest
    /// sample skimmed: 24 bits of delta of delta, 13 + 64 of value), which
    /// the data holds whole: no end checks. With `TAIL`, up to the end.
    #[inline(always)]
    pub(super) fn run<const TAIL: bool>(&mut self, data: &[u8], last: Option<u64>) -> bool {
        let end = (data.len() as u64) * 8;
        let safe = end.saturating_sub(101);
        let (mut p, mut t, mut delta) = (self.p, self.t, self.delta);
        let (mut lead, mut trail, mut reuse) = (self.lead, self.trail, self.reuse);
        let (mut n, mut pv, mut dis) = (self.n, self.prev, false);
        let mut odd = false;
        while n > 0 && (TAIL || p <= safe) {
            let b = (p >> 3) as usize;
            let word = match data.get(b..).and_then(|s| s.first_chunk::<8>()) {
                Some(w) => u64::from_be_bytes(*w),
                None => match last {
                    Some(l) if TAIL && b < data.len() => l << ((b + 8 - data.len()) * 8),
                    _ => break,
                },
            };
            // At least 57 bits of the sample, left-aligned.
            let x = word << (p & 7);
            // The common samples: same interval, and the value unchanged
            // (`0 0`) or in the current window (`0 10`).
            let top = x >> 61;
            if top <= 0b010 {
                let next = p + if top == 0b010 { reuse } else { 2 };
                if TAIL && next > end {
                    break;
                }
                t = t.wrapping_add(delta as i64);
                p = next;
                dis |= t <= pv;
                pv = t;
                n -= 1;
                continue;
            }
            // Same interval, the value in a new window (`0 11`): the other
            // common sample of real chunks, without the general decoding.
            if top == 0b011 {
                let Some((m, l)) = new_window(x) else {
                    odd = true;
                    break;
                };
                let next = p + u64::from(14 + m);
                if TAIL && next > end {
                    break;
                }
                t = t.wrapping_add(delta as i64);
                // A later `0 10` sample: those bits and the window's m.
                (lead, trail, reuse) = (l, 64 - l - m, u64::from(3 + m));
                dis |= t <= pv;
                (p, pv) = (next, t);
                n -= 1;
                continue;
            }
            let (used, dod) = match x.leading_ones() {
                0 => (1, 0),
                1 => (16, sign_extend_asym((x << 2) >> 50, 14)),
                2 => (20, sign_extend_asym((x << 3) >> 47, 17)),
                3 => (24, sign_extend_asym((x << 4) >> 44, 20)),
                _ => {
                    odd = true;
                    break;
                }
            };
            let Some((vused, l, tr)) = value_width(x << used, lead, trail) else {
                odd = true;
                break;
            };
            let next = p + u64::from(used + vused);
            if TAIL && next > end {
                break;
            }
            delta = delta.wrapping_add(dod as u64);
            t = t.wrapping_add(delta as i64);
            (lead, trail) = (l, tr);
            reuse = 67u64.saturating_sub(u64::from(lead + trail));
            p = next;
            dis |= t <= pv;
            pv = t;
            n -= 1;
        }
        (self.p, self.t, self.delta) = (p, t, delta);
        (self.lead, self.trail, self.reuse) = (lead, trail, reuse);
        (self.n, self.prev) = (n, pv);
        self.disorder |= dis;
        odd
    }
}

/// The window of a sample `0 11…` (same interval, new value window) whose
/// first 15 bits are the top of `x`: (width, leading zeros); None for an
/// impossible window (`leading + width > 64`).
#[inline(always)]
pub(super) fn new_window(x: u64) -> Option<(u32, u32)> {
    let l = ((x >> 56) & 31) as u32;
    let m = match ((x >> 50) & 63) as u32 {
        0 => 64,
        m => m,
    };
    (l + m <= 64).then_some((m, l))
}

/// The bits of a value (`varbit_xor`, left-aligned in `v`, at least 13
/// of them) in window `lead`/`trail`: (bits used, new leading, new
/// trailing); None for an impossible window (`leading + width > 64`).
#[inline(always)]
pub(super) fn value_width(v: u64, lead: u32, trail: u32) -> Option<(u32, u32, u32)> {
    if v >> 63 == 0 {
        Some((1, lead, trail))
    } else if (v >> 62) & 1 == 0 {
        Some(((2 + 64u32).saturating_sub(lead + trail), lead, trail))
    } else {
        let l = ((v >> 57) & 31) as u32;
        let m = match ((v >> 51) & 63) as u32 {
            0 => 64,
            m => m,
        };
        if l + m > 64 {
            return None;
        }
        Some((13 + m, l, 64 - l - m))
    }
}

/// Go `binary.Uvarint` of the bytes at the start of `data`, when it ends
/// within 9 bytes: (value, bytes used). None otherwise (the bit reader's
/// careful path reads those).
#[inline(always)]
pub(super) fn uvarint_bytes(data: &[u8]) -> Option<(u64, usize)> {
    // Up to 8 bytes from one load: the 7-bit groups of the bytes up to the
    // first without its high bit, packed in three steps.
    if let Some(w) = data.first_chunk::<8>().map(|w| u64::from_le_bytes(*w)) {
        let stop = !w & 0x8080_8080_8080_8080;
        if stop != 0 {
            let low = stop & stop.wrapping_neg();
            let mut x = w & low.wrapping_shl(1).wrapping_sub(1) & 0x7f7f_7f7f_7f7f_7f7f;
            x = (x & 0x007f_007f_007f_007f) | ((x & 0x7f00_7f00_7f00_7f00) >> 1);
            x = (x & 0x0000_3fff_0000_3fff) | ((x & 0x3fff_0000_3fff_0000) >> 2);
            x = (x & 0x0000_0000_0fff_ffff) | ((x & 0x0fff_ffff_0000_0000) >> 4);
            return Some((x, (stop.trailing_zeros() / 8 + 1) as usize));
        }
    }
    let mut x = 0u64;
    for (i, &b) in data.iter().take(9).enumerate() {
        if b < 0x80 {
            return Some((x | (u64::from(b) << (7 * i)), i + 1));
        }
        x |= u64::from(b & 0x7f) << (7 * i);
    }
    None
}

/// The first of the next `count` samples of `it` whose time is not after the
/// previous one's: (its index among them, its time, the previous time).
#[cold]
pub(super) fn first_unordered(mut it: XorIter<'_>, count: u64) -> Option<(u64, i64, i64)> {
    let mut prev = None;
    for i in 0..count {
        let (t, _) = it.next()?.ok()?;
        if let Some(p) = prev
            && t <= p
        {
            return Some((i, t, p));
        }
        prev = Some(t);
    }
    None
}

sample_iterator!(XorIter, (i64, f64));

impl std::iter::FusedIterator for XorIter<'_> {}

#[cfg(test)]
mod tests {
    use super::uvarint_bytes;

    /// The one-load varint against Go's byte-at-a-time rule, for every
    /// length and with bytes after it.
    #[test]
    fn uvarint_bytes_of_every_length() {
        for v in (0..64).flat_map(|s| [1u64 << s, (1u64 << s) - 1, (1u64 << s) + 12345]) {
            let mut b = Vec::new();
            let mut x = v;
            while x >= 0x80 {
                b.push((x as u8) | 0x80);
                x >>= 7;
            }
            b.push(x as u8);
            let n = b.len();
            let want = (n <= 9).then_some((v, n));
            assert_eq!(uvarint_bytes(&b), want, "{v} alone");
            b.extend_from_slice(&[0xff; 9]);
            assert_eq!(uvarint_bytes(&b), want, "{v} then more");
        }
    }
}
