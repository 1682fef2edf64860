//! XOR2 float chunks (encoding 4, Prometheus >= 3.11): XOR with a joint
//! timestamp/value control code, explicit stale markers and optional start
//! timestamps (docs/FORMAT.md §3.11).
//!
//! ```text
//! bytes 0-1   BE16 num_samples
//! byte 2      ST header (see st.rs)
//! sample 0    varint t0 | 64 raw bits v0 | [ST]
//! sample 1    uvarint (t1 - t0) | <xor2> | [ST]
//! sample i>=2 control | ... | [ST]
//!   0              dod 0, value unchanged
//!   10             dod 0, <xor2_nn> value
//!   110  + 13 bits dod (two's complement), <xor2> value
//!   1110 + 20 bits dod, <xor2> value
//!   11110 + 64 bits dod, <xor2> value
//!   11111          dod 0, value StaleNaN
//! <xor2>    0 unchanged | 10 reuse window | 110 new window | 111 StaleNaN
//! <xor2_nn> 0 reuse window | 1 new window
//! ```
//!
//! The XOR baseline is the last non-stale value.

use super::STALE_NAN_BITS;
use super::bstream::{BitReader, Bits};
use super::st::StState;
use crate::format::decode::Decoder;
use crate::format::error::{DecodeError, Result};

/// Iterator over the `(st, t, v)` samples of an XOR2 chunk.
#[derive(Debug, Clone)]
pub(crate) struct Xor2Iter<'a> {
    br: BitReader<'a>,
    total: u16,
    read: u16,
    t: i64,
    delta: u64,
    val: u64,
    baseline: u64,
    leading: u8,
    trailing: u8,
    st: StState,
    failed: bool,
}

impl<'a> Xor2Iter<'a> {
    pub(crate) fn new(data: &'a [u8], base_offset: u64) -> Result<Self> {
        let mut d = Decoder::new(data, base_offset);
        let total = d.be_u16()?;
        let header = d.u8()?;
        Ok(Xor2Iter {
            br: BitReader::new(d.rest(), d.offset()),
            total,
            read: 0,
            t: 0,
            delta: 0,
            val: 0,
            baseline: 0,
            leading: 0,
            trailing: 0,
            st: StState::new(header),
            failed: false,
        })
    }

    /// Joint control code of samples >= 2 (0..=5, see the module doc).
    #[inline]
    fn control(&mut self) -> Bits<u8> {
        for code in 0..5u8 {
            if !self.br.read_bit()? {
                return Ok(code);
            }
        }
        Ok(5)
    }

    fn reuse_window(&mut self) -> Bits<()> {
        let m = 64 - u32::from(self.leading) - u32::from(self.trailing);
        let bits = self.br.read_bits_wide(m)?;
        self.val = self.baseline ^ (bits << self.trailing);
        self.baseline = self.val;
        Ok(())
    }

    fn new_window(&mut self) -> Bits<()> {
        let mut v = self.baseline;
        self.br
            .read_xor_new_window(&mut v, &mut self.leading, &mut self.trailing)?;
        self.val = v;
        self.baseline = v;
        Ok(())
    }

    /// `<xor2>` value form.
    fn value(&mut self) -> Bits<()> {
        if !self.br.read_bit()? {
            self.val = self.baseline;
        } else if !self.br.read_bit()? {
            self.reuse_window()?;
        } else if !self.br.read_bit()? {
            self.new_window()?;
        } else {
            self.val = STALE_NAN_BITS;
        }
        Ok(())
    }

    fn dod(&mut self, w: u32) -> Bits<()> {
        let b = self.br.read_bits_wide(w)?;
        let dod = if w < 64 && b >= 1u64 << (w - 1) {
            b.wrapping_sub(1u64 << w)
        } else {
            b
        };
        self.delta = self.delta.wrapping_add(dod);
        self.t = self.t.wrapping_add(self.delta as i64);
        Ok(())
    }

    fn step(&mut self) -> Bits<(i64, i64, f64)> {
        let prev_t = self.t;
        match self.read {
            0 => {
                self.t = self.br.read_varint()?;
                self.val = self.br.read_u64()?;
                if self.val != STALE_NAN_BITS {
                    self.baseline = self.val;
                }
            }
            1 => {
                self.delta = self.br.read_uvarint()?;
                self.t = self.t.wrapping_add(self.delta as i64);
                self.value()?;
            }
            _ => match self.control()? {
                0 => {
                    self.t = self.t.wrapping_add(self.delta as i64);
                    self.val = self.baseline;
                }
                1 => {
                    self.t = self.t.wrapping_add(self.delta as i64);
                    if !self.br.read_bit()? {
                        self.reuse_window()?;
                    } else {
                        self.new_window()?;
                    }
                }
                2 => {
                    self.dod(13)?;
                    self.value()?;
                }
                3 => {
                    self.dod(20)?;
                    self.value()?;
                }
                4 => {
                    self.dod(64)?;
                    self.value()?;
                }
                _ => {
                    self.t = self.t.wrapping_add(self.delta as i64);
                    self.val = STALE_NAN_BITS;
                }
            },
        }
        self.st.decode(&mut self.br, self.read, self.t, prev_t)?;
        Ok((self.st.st(), self.t, f64::from_bits(self.val)))
    }
}

sample_iterator!(Xor2Iter, (i64, i64, f64));
