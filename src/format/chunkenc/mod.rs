//! TEMPORARY shim (replaced by the full chunkenc module): XOR only.
#![allow(missing_docs, clippy::indexing_slicing)]
use crate::format::error::{DecodeError, Section};
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Encoding {
    Xor,
    Histogram,
    FloatHistogram,
    Xor2,
    HistogramSt,
    FloatHistogramSt,
}
impl Encoding {
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Xor => "XOR",
            Encoding::Histogram => "Histogram",
            _ => "FloatHistogram",
        }
    }
    pub fn is_float(self) -> bool {
        matches!(self, Encoding::Xor | Encoding::Xor2)
    }
    pub fn from_u8(b: u8) -> Option<Encoding> {
        match b {
            1 => Some(Encoding::Xor),
            2 => Some(Encoding::Histogram),
            3 => Some(Encoding::FloatHistogram),
            _ => None,
        }
    }
}
#[derive(Debug, Clone, PartialEq)]
pub struct Histogram;
impl std::fmt::Display for Histogram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("{}")
    }
}
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Float(f64),
    Histogram(Box<Histogram>),
    FloatHistogram(Box<Histogram>),
}
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub t: i64,
    pub st: i64,
    pub value: Value,
}
pub struct SampleIter;
impl Iterator for SampleIter {
    type Item = Result<Sample, DecodeError>;
    fn next(&mut self) -> Option<Self::Item> {
        None
    }
}
pub fn samples(_e: Encoding, _d: &[u8], _o: u64) -> Result<SampleIter, DecodeError> {
    Ok(SampleIter)
}
pub fn go_format_g(v: f64, out: &mut String) {
    if v.is_nan() {
        out.push_str("NaN");
        return;
    }
    if v.is_infinite() {
        out.push_str(if v > 0.0 { "+Inf" } else { "-Inf" });
        return;
    }
    if v == 0.0 {
        out.push_str(if v.is_sign_negative() { "-0" } else { "0" });
        return;
    }
    let e = format!("{v:e}");
    let (mant, exp) = e.split_once('e').unwrap();
    let exp: i32 = exp.parse().unwrap();
    if exp < -4 || exp >= 6 {
        out.push_str(mant);
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        out.push_str(&format!("{:02}", exp.abs()));
    } else {
        out.push_str(&format!("{v}"));
    }
}
struct Bits<'a> {
    d: &'a [u8],
    pos: usize,
}
impl Bits<'_> {
    fn bit(&mut self) -> Option<bool> {
        let b = self.d.get(self.pos / 8)?;
        let r = (b >> (7 - self.pos % 8)) & 1 == 1;
        self.pos += 1;
        Some(r)
    }
    fn bits(&mut self, n: u32) -> Option<u64> {
        let mut v = 0u64;
        for _ in 0..n {
            v = (v << 1) | self.bit()? as u64;
        }
        Some(v)
    }
    fn uvarint(&mut self) -> Option<u64> {
        let mut v = 0u64;
        for i in 0..10 {
            let b = self.bits(8)?;
            v |= (b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    }
    fn varint(&mut self) -> Option<i64> {
        let u = self.uvarint()?;
        Some(((u >> 1) as i64) ^ -((u & 1) as i64))
    }
}
pub struct XorIter<'a> {
    b: Bits<'a>,
    n: u16,
    i: u16,
    t: i64,
    delta: u64,
    v: u64,
    lead: u32,
    trail: u32,
    off: u64,
    failed: bool,
}
impl<'a> XorIter<'a> {
    pub fn new(data: &'a [u8], base_offset: u64) -> Result<Self, DecodeError> {
        if data.len() < 2 {
            return Err(DecodeError::UnexpectedEof {
                offset: base_offset,
                wanted: 2,
                available: data.len() as u64,
            });
        }
        let n = u16::from_be_bytes([data[0], data[1]]);
        Ok(XorIter {
            b: Bits {
                d: &data[2..],
                pos: 0,
            },
            n,
            i: 0,
            t: 0,
            delta: 0,
            v: 0,
            lead: 0,
            trail: 0,
            off: base_offset + 2,
            failed: false,
        })
    }
    fn step(&mut self) -> Option<(i64, f64)> {
        if self.i == 0 {
            self.t = self.b.varint()?;
            self.v = self.b.bits(64)?;
        } else {
            if self.i == 1 {
                self.delta = self.b.uvarint()?;
                self.t = self.t.wrapping_add(self.delta as i64);
            } else {
                let mut p = 0;
                for _ in 0..4 {
                    if self.b.bit()? { p += 1 } else { break }
                }
                let sz = match p {
                    0 => 0,
                    1 => 14,
                    2 => 17,
                    3 => 20,
                    _ => 64,
                };
                let mut dod = self.b.bits(sz)? as i64;
                if sz != 0 && sz != 64 && dod > (1i64 << (sz - 1)) {
                    dod -= 1i64 << sz;
                }
                self.delta = self.delta.wrapping_add(dod as u64);
                self.t = self.t.wrapping_add(self.delta as i64);
            }
            if self.b.bit()? {
                if self.b.bit()? {
                    self.lead = self.b.bits(5)? as u32;
                    let mut s = self.b.bits(6)? as u32;
                    if s == 0 {
                        s = 64
                    }
                    self.trail = 64u32.checked_sub(self.lead + s)?;
                }
                let m = 64 - self.lead - self.trail;
                let bits = self.b.bits(m)?;
                self.v ^= bits << self.trail;
            }
        }
        Some((self.t, f64::from_bits(self.v)))
    }
}
impl Iterator for XorIter<'_> {
    type Item = Result<(i64, f64), DecodeError>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.i >= self.n {
            return None;
        }
        let r = self.step();
        self.i += 1;
        match r {
            Some(s) => Some(Ok(s)),
            None => {
                self.failed = true;
                Some(Err(DecodeError::invalid(
                    Section::ChunkData,
                    self.off,
                    "sample",
                    "eof",
                )))
            }
        }
    }
}
pub fn num_samples(_e: Encoding, d: &[u8], o: u64) -> Result<u16, DecodeError> {
    if d.len() < 2 {
        return Err(DecodeError::UnexpectedEof {
            offset: o,
            wanted: 2,
            available: d.len() as u64,
        });
    }
    Ok(u16::from_be_bytes([d[0], d[1]]))
}
