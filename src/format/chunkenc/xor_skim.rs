//! The fast path of [`super::scan_chunk_times`]: a whole XOR chunk skimmed
//! straight from its bytes (times summarised, values only measured), for
//! the chunks whose every sample is of a kind it knows; None for any other,
//! which the careful path ([`XorIter::scan_times`]) reads and reports.

use super::bstream::sign_extend_asym;
use super::xor::{
    Skim, TimeScan, XorIter, first_unordered, last_word, new_window, uvarint_bytes, value_width,
};

/// Chunks whose bit stream (after the sample count) is at most 256 bytes
/// are skimmed from a zero-padded copy on the stack ([`skim_padded`]):
/// one load per sample without a bounds check, and one end check. Real
/// chunks of 120 samples of a steady series take 100-300 bytes; bigger
/// ones take [`Skim::run`]. Two sizes: a short chunk is not padded to 256.
const SMALL: usize = 64;
const LARGE: usize = 256;

/// Samples 0 and 1 as [`XorIter::start_bytes`] reads them, then every
/// other one skimmed ([`skim_padded`] or [`Skim::run`]); None as soon as
/// one is left to the careful path.
#[inline]
pub(super) fn skim_chunk(data: &[u8], base_offset: u64) -> Option<TimeScan> {
    let (head, rest) = data.split_first_chunk::<2>()?;
    let total = u16::from_be_bytes(*head);
    if total < 2 {
        return None;
    }
    let (u, i) = uvarint_bytes(rest)?;
    let t0 = ((u >> 1) as i64) ^ -((u & 1) as i64);
    rest.get(i..)?.first_chunk::<8>()?;
    let (delta, j) = uvarint_bytes(rest.get(i + 8..)?)?;
    let at = i + 8 + j;
    let x = u64::from_be_bytes(*rest.get(at..)?.first_chunk::<8>()?);
    let (vused, lead, trail) = value_width(x, 0, 0)?;
    let next = (at as u64) * 8 + u64::from(vused);
    if next > (rest.len() as u64) * 8 {
        return None;
    }
    let t1 = t0.wrapping_add(delta as i64);
    let mut k = Skim {
        p: next,
        t: t1,
        delta,
        lead,
        trail,
        reuse: 67u64.saturating_sub(u64::from(lead + trail)),
        n: total - 2,
        prev: t1,
        disorder: t1 <= t0,
    };
    let end = (rest.len() as u64) * 8;
    if rest.len() <= SMALL {
        let mut buf = [0u8; SMALL + 8];
        buf.get_mut(..rest.len())?.copy_from_slice(rest);
        skim_padded(&mut k, &buf, end);
    } else if rest.len() <= LARGE {
        let mut buf = [0u8; LARGE + 8];
        buf.get_mut(..rest.len())?.copy_from_slice(rest);
        skim_padded(&mut k, &buf, end);
    } else {
        let last = last_word(rest);
        if !k.run::<false>(rest, last) {
            k.run::<true>(rest, last);
        }
    }
    if k.n != 0 {
        return None;
    }
    let count = u64::from(total);
    let unordered = if k.disorder {
        first_unordered(XorIter::new(data, base_offset).ok()?, count)
    } else {
        None
    };
    Some(TimeScan {
        count,
        first: Some(t0),
        last: Some(k.prev),
        unordered,
    })
}

/// [`Skim::run`] over a chunk's bit stream of `end` bits (at most
/// `8 * (N - 8)`, `N - 8` a power of two) copied to the start of `buf`
/// (zeros after it): the same samples skimmed, the same
/// stop before one it leaves to the careful path, but every load in
/// bounds by construction and one end check per sample. Only what
/// [`skim_chunk`] reads is kept up to date (not the value window's
/// leading and trailing zeros).
/// Not inlined: its loop keeps every variable in a register.
#[inline(never)]
fn skim_padded<const N: usize>(k: &mut Skim, buf: &[u8; N], end: u64) {
    let (mut p, mut t, mut delta, mut reuse) = (k.p, k.t, k.delta, k.reuse);
    let (mut n, mut dis) = (k.n, false);
    while n > 0 {
        // `end` is at most 8 * (N - 8), so only a position at the very
        // end wraps to the start; the sample read there runs past the end.
        let b = ((p >> 3) as usize) & (N - 9);
        let Some(w) = buf.get(b..).and_then(|s| s.first_chunk::<8>()) else {
            break;
        };
        // At least 57 bits of the sample, left-aligned.
        let x = u64::from_be_bytes(*w) << (p & 7);
        let top = x >> 61;
        let next;
        if top <= 0b010 {
            // Same interval, the value unchanged (`0 0`) or in the current
            // window (`0 10`).
            next = p + if top == 0b010 { reuse } else { 2 };
        } else if top == 0b011 {
            // Same interval, the value in a new window (`0 11`).
            let Some((m, _)) = new_window(x) else {
                break;
            };
            next = p + u64::from(14 + m);
            reuse = u64::from(3 + m);
        } else {
            let (used, dod) = match x.leading_ones() {
                1 => (16, sign_extend_asym((x << 2) >> 50, 14)),
                2 => (20, sign_extend_asym((x << 3) >> 47, 17)),
                3 => (24, sign_extend_asym((x << 4) >> 44, 20)),
                _ => break,
            };
            // The value's bits: `0`, `10` + the window's, `11` + a new one.
            let v = x << used;
            let vused = if v >> 63 == 0 {
                1
            } else if (v >> 62) & 1 == 0 {
                reuse - 1
            } else {
                let Some((m, _)) = new_window(v >> 1) else {
                    break;
                };
                reuse = u64::from(3 + m);
                u64::from(13 + m)
            };
            next = p + used + vused;
            delta = delta.wrapping_add(dod as u64);
        }
        if next > end {
            break;
        }
        let tn = t.wrapping_add(delta as i64);
        dis |= tn <= t;
        (p, t) = (next, tn);
        n -= 1;
    }
    (k.p, k.t, k.delta, k.reuse) = (p, t, delta, reuse);
    (k.n, k.prev) = (n, t);
    k.disorder |= dis;
}
