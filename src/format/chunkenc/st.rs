//! Start-timestamp (ST) fields of the XOR2, HistogramST and FloatHistogramST
//! encodings (docs/FORMAT.md §3.11, §3.12).
//!
//! ```text
//! ST header byte: bit 7 = first_st_known, bits 6-0 = st_changed_on
//! sample 0         [first_st_known]      varint (t0 - st0), 8-bit groups
//! sample 1         [st_changed_on == 1]  varbit_int d1 = t0 - st1
//! sample i >= 2    [0 < st_changed_on <= i]
//!                  varbit_int: d_i raw at i == st_changed_on, else d_i - d_{i-1},
//!                  where d_i = t_{i-1} - st_i
//! ```
//!
//! Without a field, a sample's ST is the previous one (st0, or 0 when
//! `first_st_known` is clear).

use super::bstream::{BitReader, Bits};

/// Decoder state of the ST fields of one chunk.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct StState {
    first_known: bool,
    changed_on: u8,
    st: i64,
    diff: i64,
}

impl StState {
    /// State for the ST header byte `header`.
    pub(crate) fn new(header: u8) -> Self {
        StState {
            first_known: header & 0x80 != 0,
            changed_on: header & 0x7f,
            st: 0,
            diff: 0,
        }
    }

    /// The current start timestamp.
    #[inline]
    pub(crate) fn st(&self) -> i64 {
        self.st
    }

    /// Reads the ST field (if any) that follows sample `index`, whose
    /// timestamp is `t`; `prev_t` is the timestamp of sample `index - 1`.
    #[inline]
    pub(crate) fn decode(
        &mut self,
        br: &mut BitReader<'_>,
        index: u16,
        t: i64,
        prev_t: i64,
    ) -> Bits<()> {
        match index {
            0 => {
                if self.first_known {
                    let d = br.read_varint()?;
                    self.st = t.wrapping_sub(d);
                }
            }
            1 => {
                if self.changed_on == 1 {
                    self.diff = br.read_varbit_int()?;
                    self.st = prev_t.wrapping_sub(self.diff);
                }
            }
            _ => {
                let on = u16::from(self.changed_on);
                if on > 0 && index >= on {
                    let d = br.read_varbit_int()?;
                    if index == on {
                        self.diff = d;
                    } else {
                        self.diff = self.diff.wrapping_add(d);
                    }
                    self.st = prev_t.wrapping_sub(self.diff);
                }
            }
        }
        Ok(())
    }
}
