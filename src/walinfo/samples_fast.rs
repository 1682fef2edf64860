//! The WAL scan's hot loop: a Samples record (type 2) summarised without
//! decoding its values.
//!
//! The scan needs, per sample, only its series reference (is it known?) and
//! its time (the range); the value is eight raw bytes whose only check is
//! that they are there. [`summarise_samples`] reads exactly the bytes
//! `record::for_each_sample_with_st` reads, but skips the values. It gives
//! up (`None`) on anything unusual — a record of another type, a varint
//! longer than eight bytes, a record cut short — and the caller then runs
//! the full decoder, which finds the same samples or reports the same
//! error, so the scan's results are unchanged.
//!
//! One pass ([`skim`]) keeps, in registers, only the count, the largest
//! zigzag-coded reference delta (and whether any is negative) and the
//! smallest and largest time delta: no per-sample series lookup. The
//! references then all lie in one range around the record's base
//! reference; when every reference of that range is known (one bitmap
//! run, [`RefSet::contains_range`]), so are all the samples and the time
//! range is the base time plus the delta range. Otherwise (samples of
//! series not yet created, a range too wide to test, a time that wraps)
//! [`summarise_exact`] looks every sample up. While 16 bytes are left (both
//! varints at their longest) the pass reads a fixed-size window, so no byte
//! needs its own bounds check: the reference delta's length (a branch for
//! each of one to three bytes, predictable on a real record, whose deltas
//! grow slowly) picks an arm that finds the time delta at a fixed place (a
//! zero byte in every sample of one scrape).

use super::RefSet;
use super::scan::ALL_SERIES_KNOWN;
use crate::format::SeriesRef;

/// What a Samples record holds, as the WAL scan counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SamplesSummary {
    /// Samples whose series is known.
    pub known: u64,
    /// Samples whose series is not known.
    pub unknown: u64,
    /// Smallest and largest time of the known samples.
    pub range: Option<(i64, i64)>,
}

/// Reads a zigzag varint of at most eight bytes from the front of `b`,
/// advancing `b`. `None` for a longer or cut varint. (A branch-free
/// eight-byte decode of it measured slower on a real WAL.)
#[inline(always)]
fn varint(b: &mut &[u8]) -> Option<i64> {
    uvarint(b).map(unzigzag)
}

/// [`varint`] without the zigzag step.
#[inline(always)]
fn uvarint(b: &mut &[u8]) -> Option<u64> {
    let mut x = 0u64;
    for i in 0..8 {
        let &byte = b.get(i)?;
        x |= u64::from(byte & 0x7f) << (7 * i);
        if byte < 0x80 {
            *b = b.get(i + 1..)?;
            return Some(x);
        }
    }
    None
}

#[inline(always)]
fn unzigzag(x: u64) -> i64 {
    ((x >> 1) as i64) ^ -((x & 1) as i64)
}

/// The varint at the front of the little-endian word `w` (the next eight
/// bytes), unzigzagged or not, and its length; `None` past eight bytes.
/// One- to three-byte varints take a branch each (predictable on a real
/// record); longer ones are packed from the continuation bits.
#[inline(always)]
fn uvarint_word(w: u64) -> Option<(u64, usize)> {
    if w & 0x80 == 0 {
        return Some((w & 0x7f, 1));
    }
    let two = (w & 0x7f) | ((w >> 1) & 0x3f80);
    if w & 0x8000 == 0 {
        return Some((two, 2));
    }
    if w & 0x80_0000 == 0 {
        return Some((two | ((w >> 2) & 0x1f_c000), 3));
    }
    let stops = !w & 0x8080_8080_8080_8080;
    if stops == 0 {
        return None;
    }
    let bits = stops.trailing_zeros() + 1; // 8 × the length
    let x = w & (u64::MAX >> (64 - bits));
    // Seven bits a byte, packed: pairs, then quads, then the two halves.
    let x = (x & 0x007f_007f_007f_007f) | ((x & 0x7f00_7f00_7f00_7f00) >> 1);
    let x = (x & 0x0000_3fff_0000_3fff) | ((x & 0x3fff_0000_3fff_0000) >> 2);
    let x = (x & 0x0000_0000_0fff_ffff) | ((x & 0x0fff_ffff_0000_0000) >> 4);
    Some((x, (bits / 8) as usize))
}

/// What one pass over a record's samples keeps (see the module docs).
#[derive(Debug, Clone, Copy)]
struct Skim {
    count: u64,
    /// Largest zigzag-coded reference delta.
    zmax: u64,
    /// Bit 0 set if any reference delta is negative (odd in zigzag).
    zor: u64,
    /// Smallest and largest time delta (0 counted apart: `zero_dt`).
    dt_lo: i64,
    dt_hi: i64,
    zero_dt: bool,
}

impl Skim {
    #[inline(always)]
    fn sample(&mut self, zref: u64, zdt: u64) {
        self.count += 1;
        self.zmax = self.zmax.max(zref);
        self.zor |= zref;
        if zdt == 0 {
            self.zero_dt = true;
        } else {
            let dt = unzigzag(zdt);
            self.dt_lo = self.dt_lo.min(dt);
            self.dt_hi = self.dt_hi.max(dt);
        }
    }

    /// The sample whose reference delta (zigzag code `zref`) takes the
    /// first `N` bytes of `c`: reads its time delta; returns its length.
    #[inline(always)]
    fn rest_of_sample<const N: usize>(&mut self, c: &[u8; 16], zref: u64) -> Option<usize> {
        let &b = c.get(N)?;
        let (zdt, n2) = if b < 0x80 {
            (u64::from(b), 1)
        } else {
            uvarint_word(u64::from_le_bytes(*c.get(N..)?.first_chunk::<8>()?))?
        };
        self.sample(zref, zdt);
        Some(N + n2 + 8)
    }

    /// The smallest and largest reference delta, or a range holding them.
    fn ref_deltas(&self) -> (i64, i64) {
        // Even codes are the deltas >= 0, odd ones the negative deltas.
        let hi = unzigzag(self.zmax & !1);
        let lo = if self.zor & 1 == 0 {
            0
        } else if self.zmax & 1 == 1 {
            unzigzag(self.zmax)
        } else {
            unzigzag(self.zmax.saturating_sub(1))
        };
        (lo, hi)
    }

    /// The smallest and largest time delta, if any sample.
    fn time_deltas(&self) -> Option<(i64, i64)> {
        let (mut lo, mut hi) = (self.dt_lo, self.dt_hi);
        if self.zero_dt {
            (lo, hi) = (lo.min(0), hi.max(0));
        }
        (self.count > 0).then_some((lo, hi))
    }
}

/// Reads every sample of `body` (after the base reference and time) into a
/// [`Skim`]; `None` for a long varint or a record cut short.
#[inline(never)]
fn skim(body: &[u8]) -> Option<Skim> {
    let mut s = Skim {
        count: 0,
        zmax: 0,
        zor: 0,
        dt_lo: i64::MAX,
        dt_hi: i64::MIN,
        zero_dt: false,
    };
    let mut rest = body;
    while let Some(c) = rest.first_chunk::<16>() {
        let w = u64::from_le_bytes(*c.first_chunk::<8>()?);
        // The reference delta's length picks the arm, so each arm finds the
        // time delta at a fixed place.
        let two = (w & 0x7f) | ((w >> 1) & 0x3f80);
        let n = if w & 0x80 == 0 {
            s.rest_of_sample::<1>(c, w & 0x7f)?
        } else if w & 0x8000 == 0 {
            s.rest_of_sample::<2>(c, two)?
        } else if w & 0x80_0000 == 0 {
            s.rest_of_sample::<3>(c, two | ((w >> 2) & 0x1f_c000))?
        } else {
            let (zref, n1) = uvarint_word(w)?;
            let wt = (u128::from_le_bytes(*c) >> (8 * n1)) as u64;
            let (zdt, n2) = uvarint_word(wt)?;
            s.sample(zref, zdt);
            n1 + n2 + 8
        };
        rest = rest.get(n..)?;
    }
    while !rest.is_empty() {
        let zref = uvarint(&mut rest)?;
        let zdt = uvarint(&mut rest)?;
        rest = rest.get(8..)?;
        s.sample(zref, zdt);
    }
    Some(s)
}

/// Summarises the Samples record (type 2) `rec`, or `None` when the full
/// decoder must look at it (see the module docs).
#[inline(never)]
pub(crate) fn summarise_samples(rec: &[u8], series: &RefSet) -> Option<SamplesSummary> {
    let body = rec.strip_prefix(&[2u8])?;
    if body.is_empty() {
        return Some(SamplesSummary {
            known: 0,
            unknown: 0,
            range: None,
        });
    }
    let (base_ref, rest) = body.split_first_chunk::<8>()?;
    let (base_t, rest) = rest.split_first_chunk::<8>()?;
    let base_ref = u64::from_be_bytes(*base_ref);
    let base_t = i64::from_be_bytes(*base_t);
    let s = skim(rest)?;
    let Some((dt_lo, dt_hi)) = s.time_deltas() else {
        return Some(SamplesSummary {
            known: 0,
            unknown: 0,
            range: None,
        });
    };
    let (dr_lo, dr_hi) = s.ref_deltas();
    let refs = base_ref
        .checked_add_signed(dr_lo)
        .zip(base_ref.checked_add_signed(dr_hi));
    // Every time lies between these two when neither wraps.
    let times = base_t.checked_add(dt_lo).zip(base_t.checked_add(dt_hi));
    let all_known = series.contains(ALL_SERIES_KNOWN)
        || refs.is_some_and(|(lo, hi)| {
            // A range much wider than the samples: cheaper to look each up.
            hi - lo <= s.count.saturating_mul(64).saturating_add(1 << 16)
                && series.contains_range(lo, hi)
        });
    match times {
        Some(range) if all_known => Some(SamplesSummary {
            known: s.count,
            unknown: 0,
            range: Some(range),
        }),
        _ => summarise_exact(base_ref, base_t, rest, series),
    }
}

/// The samples of `rest` looked up one by one (see the module docs).
#[cold]
fn summarise_exact(
    base_ref: u64,
    base_t: i64,
    mut rest: &[u8],
    series: &RefSet,
) -> Option<SamplesSummary> {
    let all_known = series.contains(ALL_SERIES_KNOWN);
    let dense = series.dense();
    let (mut min, mut max) = (i64::MAX, i64::MIN);
    let (mut known, mut unknown) = (0u64, 0u64);
    while !rest.is_empty() {
        let dref = varint(&mut rest)?;
        let dt = varint(&mut rest)?;
        // The value: eight bytes, not looked at.
        rest = rest.get(8..)?;
        let r = base_ref.wrapping_add(dref as u64);
        let in_bitmap = usize::try_from(r >> 6)
            .ok()
            .and_then(|w| dense.get(w))
            .is_some_and(|w| w & (1u64 << (r & 63)) != 0);
        if all_known || in_bitmap || series.contains(SeriesRef(r)) {
            let t = base_t.wrapping_add(dt);
            min = min.min(t);
            max = max.max(t);
            known += 1;
        } else {
            unknown += 1;
        }
    }
    Some(SamplesSummary {
        known,
        unknown,
        range: (known > 0).then_some((min, max)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::record;
    use proptest::prelude::*;

    /// The summary the full decoder gives, as the scan computes it.
    fn reference(rec: &[u8], series: &RefSet) -> Option<SamplesSummary> {
        let all_known = series.contains(ALL_SERIES_KNOWN);
        let mut s = SamplesSummary {
            known: 0,
            unknown: 0,
            range: None,
        };
        record::for_each_sample_with_st(rec, 0, |x| {
            if all_known || series.contains(x.series_ref) {
                s.known += 1;
                s.range = Some(match s.range {
                    None => (x.t, x.t),
                    Some((a, b)) => (a.min(x.t), b.max(x.t)),
                });
            } else {
                s.unknown += 1;
            }
        })
        .ok()?;
        Some(s)
    }

    fn uvarint(out: &mut Vec<u8>, mut x: u64) {
        while x >= 0x80 {
            out.push((x as u8) | 0x80);
            x >>= 7;
        }
        out.push(x as u8);
    }

    fn varint(out: &mut Vec<u8>, x: i64) {
        uvarint(out, (x.wrapping_shl(1) ^ (x >> 63)) as u64);
    }

    fn record_of(base_ref: u64, base_t: i64, samples: &[(i64, i64, f64)]) -> Vec<u8> {
        let mut r = vec![2u8];
        r.extend_from_slice(&base_ref.to_be_bytes());
        r.extend_from_slice(&base_t.to_be_bytes());
        for &(dref, dt, v) in samples {
            varint(&mut r, dref);
            varint(&mut r, dt);
            r.extend_from_slice(&v.to_bits().to_be_bytes());
        }
        r
    }

    /// `x` zigzag-coded as a varint of `extra` more bytes than it needs
    /// (a non-canonical encoding Go's reader accepts).
    fn padded_varint(out: &mut Vec<u8>, x: i64, extra: usize) {
        let mut u = (x.wrapping_shl(1) ^ (x >> 63)) as u64;
        let mut bytes = Vec::new();
        while u >= 0x80 {
            bytes.push((u as u8) | 0x80);
            u >>= 7;
        }
        bytes.push(u as u8);
        for _ in 0..extra {
            if let Some(last) = bytes.last_mut() {
                *last |= 0x80;
            }
            bytes.push(0);
        }
        out.extend_from_slice(&bytes);
    }

    /// The length of [`padded_varint`]'s encoding.
    fn varint_len(x: i64, extra: usize) -> usize {
        let mut v = Vec::new();
        padded_varint(&mut v, x, extra);
        v.len()
    }

    /// A record's base time: a real one, one near either end, any.
    fn base_time() -> impl Strategy<Value = i64> {
        prop_oneof![
            Just(1_764_000_000_000i64),
            Just(i64::MAX - 3),
            Just(i64::MIN + 3),
            any::<i64>(),
        ]
    }

    /// A reference or time delta: mostly what a scrape writes, sometimes
    /// negative, huge or at the ends of the range.
    fn delta() -> impl Strategy<Value = i64> {
        prop_oneof![
            4 => 0i64..300,
            2 => Just(0i64),
            1 => -300i64..0,
            1 => any::<i64>(),
            1 => prop_oneof![Just(i64::MIN), Just(i64::MAX), Just(1i64 << 55), Just(-(1i64 << 55))],
        ]
    }

    proptest! {
        #[test]
        fn agrees_with_the_full_decoder_on_random_records(
            base_ref in prop_oneof![0u64..200, Just(u64::MAX - 5), any::<u64>()],
            base_t in base_time(),
            samples in proptest::collection::vec((delta(), delta(), 0usize..3), 0..80),
            known in proptest::collection::vec(0u64..520, 0..400),
            known_all_below in 0u64..520,
            holes in proptest::collection::vec(any::<proptest::sample::Index>(), 0..3),
            tame in any::<bool>(),
            cut in any::<u16>(),
        ) {
            // Half the records as a scrape writes them: small reference
            // deltas, one time (the skim's range path); the rest anything.
            let samples: Vec<(i64, i64, usize)> = if tame {
                samples.iter().map(|&(r, _, p)| (r.rem_euclid(300), 0, p)).collect()
            } else {
                samples
            };
            let mut rec = vec![2u8];
            rec.extend_from_slice(&base_ref.to_be_bytes());
            rec.extend_from_slice(&base_t.to_be_bytes());
            for &(dref, dt, pad) in &samples {
                padded_varint(&mut rec, dref, pad % 2);
                padded_varint(&mut rec, dt, pad / 2);
                rec.extend_from_slice(&(dref ^ dt).to_be_bytes());
            }
            // Known: every reference below a bound (the usual case) but a
            // few holes where samples are, plus some.
            let holes: Vec<u64> = holes
                .iter()
                .filter(|_| !samples.is_empty())
                .map(|h| base_ref.wrapping_add(h.get(&samples).0 as u64))
                .collect();
            let mut series = RefSet::new();
            for r in (0..known_all_below)
                .filter(|r| !holes.contains(r))
                .chain(known.iter().copied())
            {
                series.insert(SeriesRef(r));
            }
            let mut parts = vec![rec.clone()];
            if cut % 4 == 0 {
                parts.push(rec[..usize::from(cut) % rec.len()].to_vec());
            }
            for part in &parts {
                for set in [&series, &RefSet::all_known()] {
                    let want = reference(part, set);
                    match summarise_samples(part, set) {
                        Some(got) => prop_assert_eq!(Some(got), want),
                        // Left to the decoder only for a cut record or a long varint.
                        None => {
                            let long = samples.iter().any(|&(r, t, p)| {
                                varint_len(r, p % 2) > 8 || varint_len(t, p / 2) > 8
                            });
                            prop_assert!(want.is_none() || part.len() != rec.len() || long);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn agrees_with_the_full_decoder() {
        let mut series = RefSet::new();
        for r in [5u64, 6, 7, 1000, 70_000] {
            series.insert(SeriesRef(r));
        }
        let samples = [
            (0, 0, 1.5),
            (1, 15_000, f64::NAN),
            (2, -30, 0.0),
            (995, 1 << 40, -2.0),
            (69_995, -(1 << 50), 3.0),
            (-3, 7, 4.0),
            (3, (1 << 54) - 1, 5.0),
        ];
        let rec = record_of(5, 1_764_000_000_000, &samples);
        let fast = summarise_samples(&rec, &series);
        assert!(fast.is_some());
        assert_eq!(fast, reference(&rec, &series));
        // Every cut of it: either the same as the decoder, or left to it.
        for cut in 0..rec.len() {
            let part = &rec[..cut];
            if let Some(f) = summarise_samples(part, &series) {
                assert_eq!(Some(f), reference(part, &series), "cut at {cut}");
            }
        }
        let all = RefSet::all_known();
        assert_eq!(summarise_samples(&rec, &all), reference(&rec, &all));
    }

    #[test]
    fn leaves_long_varints_and_other_types_to_the_decoder() {
        let series = RefSet::all_known();
        let rec = record_of(0, 0, &[(i64::MIN, 0, 1.0)]);
        assert_eq!(summarise_samples(&rec, &series), None);
        assert!(reference(&rec, &series).is_some());
        let mut v2 = rec.clone();
        v2[0] = 11;
        assert_eq!(summarise_samples(&v2, &series), None);
        assert_eq!(
            summarise_samples(&[2], &series).map(|s| (s.known, s.unknown)),
            Some((0, 0))
        );
    }
}
