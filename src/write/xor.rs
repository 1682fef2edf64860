//! The XOR chunk encoder's fast path: the same bits as the generic
//! [`BitWriter`](super::encode::BitWriter) writes (docs/FORMAT.md §3.7),
//! gathered in a 64-bit accumulator and stored eight bytes at a time, each
//! sample's fields joined into as few appends as fit in 64 bits.

use super::encode::bit_range;

/// MSB-first bits gathered in a word: the top `n` bits of `acc` are
/// pending, whole words go to `out`.
struct Acc {
    out: Vec<u8>,
    acc: u64,
    n: u32,
}

impl Acc {
    /// Appends the low `nb` bits of `v` (`v < 2^nb`, `1 <= nb <= 64`).
    #[inline(always)]
    fn put(&mut self, v: u64, nb: u32) {
        let free = 64 - self.n; // 1..=64
        if nb < free {
            self.acc |= v << (free - nb);
            self.n += nb;
            return;
        }
        // Fill the word, store it, keep the remaining `nb - free` bits.
        let rest = nb - free; // 0..=63
        self.acc |= v >> rest;
        self.out.extend_from_slice(&self.acc.to_be_bytes());
        self.acc = if rest == 0 { 0 } else { v << (64 - rest) };
        self.n = rest;
    }

    /// [`put`](Self::put) for any `nb <= 64`, keeping only `v`'s low bits.
    #[inline(always)]
    fn put_low(&mut self, v: u64, nb: u32) {
        if nb == 0 {
            return;
        }
        let v = if nb >= 64 { v } else { v & ((1u64 << nb) - 1) };
        self.put(v, nb);
    }

    fn uvarint(&mut self, mut v: u64) {
        if v < 1 << 56 {
            // At most 8 bytes: gathered into one word, appended at once.
            let (mut word, mut nb) = (0u64, 0u32);
            loop {
                let b = v & 0x7f;
                v >>= 7;
                nb += 8;
                if v == 0 {
                    word = (word << 8) | b;
                    return self.put(word, nb);
                }
                word = (word << 8) | b | 0x80;
            }
        }
        while v >= 0x80 {
            self.put((v & 0x7f) | 0x80, 8);
            v >>= 7;
        }
        self.put(v, 8);
    }

    /// The bytes, the last one padded with zero bits.
    fn finish(mut self) -> Vec<u8> {
        let bytes = self.n.div_ceil(8) as usize;
        let word = self.acc.to_be_bytes();
        self.out.extend_from_slice(word.get(..bytes).unwrap_or(&[]));
        self.out
    }
}

/// The writer's XOR window (leading, trailing zeros; "none" at first).
#[derive(Clone, Copy, Default)]
struct Window {
    leading: u32,
    trailing: u32,
    have: bool,
}

impl Window {
    /// `varbit_xor` of `new ^ old`: `0`, or `10` + the bits in the window,
    /// or `11` + 5 bits leading + 6 bits length + the bits.
    #[inline(always)]
    fn write(&mut self, w: &mut Acc, new: u64, old: u64) {
        let x = new ^ old;
        if x == 0 {
            w.put(0, 1);
            return;
        }
        let mut l = x.leading_zeros().min(31);
        let t = x.trailing_zeros();
        if self.have && l >= self.leading && t >= self.trailing {
            let m = 64 - self.leading - self.trailing;
            let sig = x >> self.trailing;
            if m <= 62 {
                w.put((0b10 << m) | sig, m + 2);
            } else {
                w.put(0b10, 2);
                w.put_low(sig, m);
            }
            return;
        }
        if l + t > 64 {
            l = 64 - t;
        }
        let m = 64 - l - t;
        let head = (0b11 << 11) | (u64::from(l) << 6) | u64::from(m % 64);
        w.put(head, 13);
        w.put_low(x >> t, m);
        *self = Window {
            leading: l,
            trailing: t,
            have: true,
        };
    }
}

/// XOR chunk data for `n` samples `(t, v bits)` from `it`, written into
/// `out` (cleared first; its allocation reused).
pub(crate) fn encode_xor_into(
    mut out: Vec<u8>,
    n: usize,
    it: impl Iterator<Item = (i64, u64)>,
) -> Vec<u8> {
    out.clear();
    // Typical floats take 1–10 bytes a sample; one growth at most.
    out.reserve(24 + 4 * n);
    let mut w = Acc { out, acc: 0, n: 0 };
    w.put(n as u64 & 0xffff, 16);
    let mut x = Window::default();
    let (mut delta, mut prev_t, mut prev_v) = (0i64, 0i64, 0u64);
    for (i, (t, v)) in it.enumerate() {
        if i >= 2 {
            let d = t.wrapping_sub(prev_t);
            let dod = d.wrapping_sub(delta);
            delta = d;
            let u = dod as u64;
            if dod == 0 {
                w.put(0, 1);
            } else if bit_range(dod, 14) {
                w.put((0b10 << 14) | (u & 0x3fff), 16);
            } else if bit_range(dod, 17) {
                w.put((0b110 << 17) | (u & 0x1_ffff), 20);
            } else if bit_range(dod, 20) {
                w.put((0b1110 << 20) | (u & 0xf_ffff), 24);
            } else {
                w.put(0b1111, 4);
                w.put(u, 64);
            }
            x.write(&mut w, v, prev_v);
        } else if i == 1 {
            delta = t.wrapping_sub(prev_t);
            w.uvarint(delta as u64);
            x.write(&mut w, v, prev_v);
        } else {
            w.uvarint(((t << 1) ^ (t >> 63)) as u64);
            w.put(v, 64);
        }
        (prev_t, prev_v) = (t, v);
    }
    w.finish()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::indexing_slicing)]

    use super::super::encode::encode_xor_bitwise;
    use super::*;

    fn fast(s: &[(i64, u64)]) -> Vec<u8> {
        encode_xor_into(Vec::new(), s.len(), s.iter().copied())
    }

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

    /// The fast encoder writes exactly the generic bit writer's bytes, for
    /// every timestamp-delta class and every kind of value change: equal
    /// values, small and large windows, 63- and 64-bit windows, stale NaNs,
    /// negative and huge times.
    #[test]
    fn same_bytes_as_the_bit_writer() {
        let mut r = rng(0x9e37_79b9_7f4a_7c15);
        // A value after `prev`: equal, a few bits changed, random, all
        // 64 bits significant, 63 bits, stale NaN, a small integer.
        let next_value = |r: &mut dyn FnMut() -> u64, prev: u64, kind: u64| -> u64 {
            match kind {
                0 => prev,
                1 => prev ^ ((r() & 0xff) << 20),
                2 => r(),
                3 => r() | 1 | (1 << 63),
                4 => prev ^ ((r() | 1) & 0x7fff_ffff_ffff_ffff),
                5 => crate::format::chunkenc::STALE_NAN_BITS,
                _ => ((r() % 1000) as f64).to_bits(),
            }
        };
        let steps: [i64; 9] = [0, 1, 15_000, 8191, 8192, 65_536, 524_288, 1 << 40, -3];
        for round in 0..400 {
            let n = 1 + (r() % 130) as usize;
            let mut t = match round % 3 {
                0 => 1_700_000_000_000i64,
                1 => -(r() as i64 >> 3),
                _ => r() as i64,
            };
            let (mut v, mut d) = (r(), 15_000i64);
            let mut s = Vec::with_capacity(n);
            for _ in 0..n {
                s.push((t, v));
                let k = (r() % 9) as usize;
                d = d.wrapping_add(steps[k].wrapping_mul(if r().is_multiple_of(2) {
                    1
                } else {
                    -1
                }));
                t = t.wrapping_add(d);
                let kind = r() % 7;
                v = next_value(&mut r, v, kind);
            }
            assert_eq!(fast(&s), encode_xor_bitwise(&s), "round {round}: {s:?}");
        }
        assert_eq!(fast(&[]), encode_xor_bitwise(&[]));
    }
}
