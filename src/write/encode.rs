//! Chunk encoders for every chunk encoding, written from the format facts
//! (docs/FORMAT.md §3): the
//! bit-level mirror of the decoders in [`crate::format::chunkenc`].
//!
//! The block writer uses [`encode_xor`] and [`encode_hist`] (encodings 1, 2
//! and 3, what Prometheus 2.42 writes); the decoder tests also use the
//! XOR2 and ST encoders, for which no real data exists.
//!
//! Callers keep a chunk within what its header can count (≤ 65535 samples,
//! 14 bits for the ST histograms): the block writer cuts chunks at 120.
//! Indexing below is by positions the loops just checked (`i >= 1`).
#![allow(clippy::indexing_slicing)]

use crate::format::chunkenc::{
    CUSTOM_BUCKETS_SCHEMA, CounterResetHint, Encoding, STALE_NAN_BITS, Span,
};

/// The `varbit` classes of §3.7 after the zero bit: (prefix, its bits,
/// value bits); past the last, `0xff` and 64 bits.
const VARBIT_WIDTHS: [(u64, u32, u32); 7] = [
    (0b10, 2, 3),
    (0b110, 3, 6),
    (0b1110, 4, 9),
    (0b11110, 5, 12),
    (0b111110, 6, 18),
    (0b1111110, 7, 25),
    (0b11111110, 8, 56),
];

/// MSB-first bit writer.
#[derive(Default)]
pub(crate) struct BitWriter {
    pub(crate) bytes: Vec<u8>,
    used: u32, // bits used in the last byte (0 = none / full)
}

impl BitWriter {
    pub(crate) fn bit(&mut self, b: bool) {
        if self.used == 0 {
            self.bytes.push(0);
        }
        if b && let Some(last) = self.bytes.last_mut() {
            *last |= 0x80 >> self.used;
        }
        self.used = (self.used + 1) % 8;
    }

    /// The low `n` bits of `v`, most significant first.
    pub(crate) fn bits(&mut self, v: u64, n: u32) {
        let mut n = n.min(64);
        if n == 0 {
            return;
        }
        if n < 64 {
            // Only the low n bits count.
            let v = v & ((1u64 << n) - 1);
            return self.bits_masked(v, n);
        }
        // 64 bits: the high byte first, then the rest (masked).
        n -= 8;
        self.bits_masked(v >> 56, 8);
        self.bits_masked(v & ((1u64 << n) - 1), n);
    }

    /// `bits` for `v < 2^n`, `n < 64`.
    fn bits_masked(&mut self, v: u64, mut n: u32) {
        if self.used != 0 {
            // Fill the partial last byte.
            let free = 8 - self.used;
            let take = free.min(n);
            let part = (v >> (n - take)) as u8;
            if let Some(last) = self.bytes.last_mut() {
                *last |= part << (free - take);
            }
            self.used = (self.used + take) % 8;
            n -= take;
        }
        while n >= 8 {
            n -= 8;
            self.bytes.push((v >> n) as u8);
        }
        if n > 0 {
            self.bytes.push((v << (8 - n)) as u8);
            self.used = n;
        }
    }

    pub(crate) fn uvarint(&mut self, mut v: u64) {
        loop {
            let b = v & 0x7f;
            v >>= 7;
            if v == 0 {
                self.bits(b, 8);
                return;
            }
            self.bits(b | 0x80, 8);
        }
    }

    pub(crate) fn varint(&mut self, v: i64) {
        self.uvarint(((v << 1) ^ (v >> 63)) as u64);
    }

    pub(crate) fn varbit_int(&mut self, v: i64) {
        if v == 0 {
            self.bit(false);
            return;
        }
        for (prefix, plen, n) in VARBIT_WIDTHS {
            if bit_range(v, n) {
                self.bits(prefix, plen);
                self.bits(v as u64, n);
                return;
            }
        }
        self.bits(0xff, 8);
        self.bits(v as u64, 64);
    }

    pub(crate) fn varbit_uint(&mut self, v: u64) {
        if v == 0 {
            self.bit(false);
            return;
        }
        for (prefix, plen, n) in VARBIT_WIDTHS {
            if v < (1u64 << n) {
                self.bits(prefix, plen);
                self.bits(v, n);
                return;
            }
        }
        self.bits(0xff, 8);
        self.bits(v, 64);
    }
}

/// docs/FORMAT.md §3.7: `-(2^(n-1) - 1) <= x <= 2^(n-1)`.
pub(crate) fn bit_range(x: i64, n: u32) -> bool {
    let h = 1i64 << (n - 1);
    -(h - 1) <= x && x <= h
}

/// Writer-side Gorilla XOR state ("no window" at first).
#[derive(Clone, Copy, Default)]
pub(crate) struct XorState {
    leading: u32,
    trailing: u32,
    have: bool,
}

impl XorState {
    /// The bits after the "changed" marker: reuse (`prefix_reuse`) or new
    /// window (`prefix_new`).
    fn changed(&mut self, w: &mut BitWriter, x: u64, reuse: (u64, u32), new: (u64, u32)) {
        let mut l = x.leading_zeros().min(31);
        let t = x.trailing_zeros();
        if self.have && l >= self.leading && t >= self.trailing {
            w.bits(reuse.0, reuse.1);
            w.bits(x >> self.trailing, 64 - self.leading - self.trailing);
            return;
        }
        if l + t > 64 {
            l = 64 - t;
        }
        let m = 64 - l - t;
        w.bits(new.0, new.1);
        w.bits(u64::from(l), 5);
        w.bits(u64::from(m % 64), 6);
        w.bits(x >> t, m);
        *self = XorState {
            leading: l,
            trailing: t,
            have: true,
        };
    }

    /// `varbit_xor` of §3.7.
    pub(crate) fn write(&mut self, w: &mut BitWriter, new: u64, old: u64) {
        let x = new ^ old;
        if x == 0 {
            w.bit(false);
            return;
        }
        self.changed(w, x, (0b10, 2), (0b11, 2));
    }
}

fn header(w: &mut BitWriter, n: u16) {
    w.bits(u64::from(n), 16);
}

/// XOR chunk data for `(t, v bits)` samples.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) fn encode_xor(s: &[(i64, u64)]) -> Vec<u8> {
    super::xor::encode_xor_into(Vec::new(), s.len(), s.iter().copied())
}

/// [`encode_xor`] written bit by bit with [`BitWriter`]: the reference the
/// fast encoder (`super::xor`) is held against.
#[cfg(test)]
pub(crate) fn encode_xor_bitwise(s: &[(i64, u64)]) -> Vec<u8> {
    let mut w = BitWriter::default();
    header(&mut w, s.len() as u16);
    let mut x = XorState::default();
    let (mut delta, mut prev_t, mut prev_v) = (0i64, 0i64, 0u64);
    for (i, &(t, v)) in s.iter().enumerate() {
        match i {
            0 => {
                w.varint(t);
                w.bits(v, 64);
            }
            1 => {
                delta = t.wrapping_sub(prev_t);
                w.uvarint(delta as u64);
                x.write(&mut w, v, prev_v);
            }
            _ => {
                let d = t.wrapping_sub(prev_t);
                let dod = d.wrapping_sub(delta);
                delta = d;
                if dod == 0 {
                    w.bit(false);
                } else if bit_range(dod, 14) {
                    w.bits(0b10, 2);
                    w.bits(dod as u64, 14);
                } else if bit_range(dod, 17) {
                    w.bits(0b110, 3);
                    w.bits(dod as u64, 17);
                } else if bit_range(dod, 20) {
                    w.bits(0b1110, 4);
                    w.bits(dod as u64, 20);
                } else {
                    w.bits(0b1111, 4);
                    w.bits(dod as u64, 64);
                }
                x.write(&mut w, v, prev_v);
            }
        }
        (prev_t, prev_v) = (t, v);
    }
    w.bytes
}

/// ST header for start timestamps `st` (one per sample): (first_known, changed_on).
pub(crate) fn st_header(st: &[i64]) -> (bool, u8) {
    let first_known = st.first().is_some_and(|&s| s != 0);
    let change = (1..st.len()).find(|&i| st[i] != st[i - 1]);
    let on = match change {
        Some(i) if i < 127 => i,
        _ if st.len() > 127 => 127,
        _ => 0,
    };
    (first_known, on as u8)
}

/// Writer of the ST fields of §3.11 / §3.12.
pub(crate) struct StWriter {
    first_known: bool,
    on: usize,
    diff: i64,
}

impl StWriter {
    pub(crate) fn new(st: &[i64]) -> (StWriter, u8) {
        let (first_known, on) = st_header(st);
        (
            StWriter {
                first_known,
                on: usize::from(on),
                diff: 0,
            },
            (u8::from(first_known) << 7) | on,
        )
    }

    /// The field after sample `i` (timestamp `t`, previous timestamp `prev_t`).
    pub(crate) fn write(&mut self, w: &mut BitWriter, i: usize, t: i64, prev_t: i64, st: i64) {
        if i == 0 {
            if self.first_known {
                w.varint(t.wrapping_sub(st));
            }
            return;
        }
        if self.on == 0 || i < self.on {
            return;
        }
        let d = prev_t.wrapping_sub(st);
        if i == self.on {
            w.varbit_int(d);
        } else {
            w.varbit_int(d.wrapping_sub(self.diff));
        }
        self.diff = d;
    }
}

/// XOR2 chunk data for `(st, t, v bits)` samples.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) fn encode_xor2(s: &[(i64, i64, u64)]) -> Vec<u8> {
    let sts: Vec<i64> = s.iter().map(|x| x.0).collect();
    let (mut stw, st_byte) = StWriter::new(&sts);
    let mut w = BitWriter::default();
    header(&mut w, s.len() as u16);
    w.bits(u64::from(st_byte), 8);
    let mut x = XorState::default();
    let mut baseline = 0u64;
    let mut delta = 0i64;
    // <xor2>: 0 unchanged, 10 reuse, 110 new, 111 stale.
    let value = |w: &mut BitWriter, x: &mut XorState, baseline: &mut u64, v: u64| {
        if v == STALE_NAN_BITS {
            w.bits(0b111, 3);
        } else if v == *baseline {
            w.bit(false);
        } else {
            x.changed(w, v ^ *baseline, (0b10, 2), (0b110, 3));
            *baseline = v;
        }
    };
    for (i, &(st, t, v)) in s.iter().enumerate() {
        let prev_t = if i > 0 { s[i - 1].1 } else { 0 };
        match i {
            0 => {
                w.varint(t);
                w.bits(v, 64);
                if v != STALE_NAN_BITS {
                    baseline = v;
                }
            }
            1 => {
                delta = t.wrapping_sub(prev_t);
                w.uvarint(delta as u64);
                value(&mut w, &mut x, &mut baseline, v);
            }
            _ => {
                let d = t.wrapping_sub(prev_t);
                let dod = d.wrapping_sub(delta);
                delta = d;
                if dod == 0 {
                    if v == STALE_NAN_BITS {
                        w.bits(0b11111, 5);
                    } else if v == baseline {
                        w.bit(false);
                    } else {
                        w.bits(0b10, 2);
                        // <xor2_nn>: 0 reuse, 1 new.
                        x.changed(&mut w, v ^ baseline, (0b0, 1), (0b1, 1));
                        baseline = v;
                    }
                } else {
                    if (-4096..=4095).contains(&dod) {
                        w.bits(0b110, 3);
                        w.bits(dod as u64, 13);
                    } else if (-524288..=524287).contains(&dod) {
                        w.bits(0b1110, 4);
                        w.bits(dod as u64, 20);
                    } else {
                        w.bits(0b11110, 5);
                        w.bits(dod as u64, 64);
                    }
                    value(&mut w, &mut x, &mut baseline, v);
                }
            }
        }
        stw.write(&mut w, i, t, prev_t, st);
    }
    w.bytes
}

/// One histogram sample to encode: absolute bucket counts (as f64 bits for
/// float histograms, as integers for integer ones).
#[derive(Clone, Debug)]
pub(crate) struct HistIn {
    pub st: i64,
    pub t: i64,
    pub count: u64,
    pub zero_count: u64,
    pub sum: u64,
    pub pos: Vec<u64>,
    pub neg: Vec<u64>,
}

/// The chunk layout of every sample.
#[derive(Clone, Debug)]
pub(crate) struct LayoutIn {
    pub schema: i32,
    pub zero_threshold: f64,
    pub pos_spans: Vec<Span>,
    pub neg_spans: Vec<Span>,
    pub custom_values: Vec<f64>,
}

fn write_layout(w: &mut BitWriter, l: &LayoutIn) {
    let zt = l.zero_threshold;
    let bits = zt.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i64 - 1022; // zt = 0.5 * 2^exp when mantissa is 0
    if zt == 0.0 && bits == 0 {
        w.bits(0, 8);
    } else if bits & 0x000f_ffff_ffff_ffff == 0 && zt > 0.0 && (-242..=11).contains(&exp) {
        w.bits((exp + 243) as u64, 8);
    } else {
        w.bits(255, 8);
        w.bits(bits, 64);
    }
    w.varbit_int(i64::from(l.schema));
    for spans in [&l.pos_spans, &l.neg_spans] {
        w.varbit_uint(spans.len() as u64);
        for s in spans.iter() {
            w.varbit_uint(u64::from(s.length));
            w.varbit_int(i64::from(s.offset));
        }
    }
    if l.schema == CUSTOM_BUCKETS_SCHEMA {
        w.varbit_uint(l.custom_values.len() as u64);
        for &b in &l.custom_values {
            let k = b * 1000.0;
            if (0.0..=33554430.0).contains(&k) && k.fract() == 0.0 {
                w.varbit_uint(k as u64 + 1);
            } else {
                w.varbit_uint(0);
                w.bits(b.to_bits(), 64);
            }
        }
    }
}

/// Histogram-family chunk data for `enc` (2, 3, 5 or 6). Stale samples
/// (sum = StaleNaN) may only come last, as Prometheus writes them.
pub(crate) fn encode_hist(
    enc: Encoding,
    crh: CounterResetHint,
    l: &LayoutIn,
    s: &[HistIn],
) -> Vec<u8> {
    let crh_bits: u64 = match crh {
        CounterResetHint::Unknown => 0,
        CounterResetHint::NotCounterReset => 1,
        CounterResetHint::CounterReset => 2,
        CounterResetHint::Gauge => 3,
    };
    let float = matches!(enc, Encoding::FloatHistogram | Encoding::FloatHistogramSt);
    let st_enc = matches!(enc, Encoding::HistogramSt | Encoding::FloatHistogramSt);
    let sts: Vec<i64> = s.iter().map(|x| x.st).collect();
    let (mut stw, st_byte) = StWriter::new(&sts);
    let mut w = BitWriter::default();
    if st_enc {
        w.bits((crh_bits << 14) | s.len() as u64, 16);
        w.bits(u64::from(st_byte), 8);
    } else {
        w.bits(s.len() as u64, 16);
        w.bits(crh_bits << 6, 8);
    }
    let mut fields = HistFields {
        float,
        ..HistFields::default()
    };
    for (i, h) in s.iter().enumerate() {
        let prev_t = if i > 0 { s[i - 1].t } else { 0 };
        if i == 0 {
            fields.first(&mut w, l, h);
        } else {
            fields.next(&mut w, h);
        }
        fields.prev_sum = h.sum;
        if st_enc {
            stw.write(&mut w, i, h.t, prev_t, h.st);
        }
    }
    w.bytes
}

/// A histogram sample's integer fields: t, count, zero count, then the
/// neighbour deltas of the buckets.
fn hist_ints(h: &HistIn) -> Vec<i64> {
    let mut v = vec![h.t, h.count as i64, h.zero_count as i64];
    for side in [&h.pos, &h.neg] {
        let mut prev = 0i64;
        for &a in side.iter() {
            v.push((a as i64).wrapping_sub(prev));
            prev = a as i64;
        }
    }
    v
}

/// A histogram sample's float fields: count, zero count, buckets.
fn hist_floats(h: &HistIn) -> Vec<u64> {
    let mut fbits = vec![h.count, h.zero_count];
    fbits.extend(&h.pos);
    fbits.extend(&h.neg);
    fbits
}

/// What [`encode_hist`] carries from one sample to the next.
#[derive(Default)]
struct HistFields {
    float: bool,
    /// Integer fields ([`hist_ints`]): each with its previous value and
    /// previous delta.
    prev: Vec<i64>,
    prev_delta: Vec<i64>,
    /// Float fields ([`hist_floats`]): each with its own window.
    fprev: Vec<u64>,
    fx: Vec<XorState>,
    sum_x: XorState,
    prev_sum: u64,
}

impl HistFields {
    /// The first sample: the layout, then every field in full.
    fn first(&mut self, w: &mut BitWriter, l: &LayoutIn, h: &HistIn) {
        let ints = hist_ints(h);
        let fbits = hist_floats(h);
        write_layout(w, l);
        w.varbit_int(h.t);
        if self.float {
            w.bits(h.count, 64);
            w.bits(h.zero_count, 64);
            w.bits(h.sum, 64);
            for b in &fbits[2..] {
                w.bits(*b, 64);
            }
        } else {
            w.varbit_uint(h.count);
            w.varbit_uint(h.zero_count);
            w.bits(h.sum, 64);
            for v in &ints[3..] {
                w.varbit_int(*v);
            }
        }
        self.prev_delta = vec![0; ints.len()];
        self.prev = ints;
        self.fx = vec![XorState::default(); fbits.len()];
        self.fprev = fbits;
    }

    /// A later sample: delta-of-deltas and XORs against the previous one.
    // `k` indexes the per-field arrays (values, deltas, windows) together.
    #[allow(clippy::needless_range_loop)]
    fn next(&mut self, w: &mut BitWriter, h: &HistIn) {
        let stale = h.sum == STALE_NAN_BITS;
        let ints = hist_ints(h);
        let fbits = hist_floats(h);
        let n_dod = if self.float { 1 } else { 3 };
        for k in 0..n_dod {
            // A stale sample's count dods are written as 0.
            let d = if stale && k > 0 {
                self.prev_delta[k]
            } else {
                ints[k].wrapping_sub(self.prev[k])
            };
            w.varbit_int(d.wrapping_sub(self.prev_delta[k]));
            self.prev_delta[k] = d;
            self.prev[k] = self.prev[k].wrapping_add(d);
        }
        if self.float {
            for k in 0..2 {
                let b = if stale { self.fprev[k] } else { fbits[k] };
                self.fx[k].write(w, b, self.fprev[k]);
                self.fprev[k] = b;
            }
        }
        self.sum_x.write(w, h.sum, self.prev_sum);
        if stale {
            return;
        }
        if self.float {
            for k in 2..fbits.len() {
                self.fx[k].write(w, fbits[k], self.fprev[k]);
                self.fprev[k] = fbits[k];
            }
        } else {
            for k in 3..ints.len() {
                let d = ints[k].wrapping_sub(self.prev[k]);
                w.varbit_int(d.wrapping_sub(self.prev_delta[k]));
                self.prev_delta[k] = d;
                self.prev[k] = ints[k];
            }
        }
    }
}
