//! The WAL scan's hot loop: a Samples record (type 2) summarised without
//! decoding its values.
//!
//! The scan needs, per sample, only its series reference (is it known?) and
//! its time (the range); the value is eight raw bytes whose only check is
//! that they are there. [`summarise_samples`] reads exactly the bytes
//! `record::for_each_sample_with_st` reads, but skips the values and keeps
//! the counts in registers. It gives up (`None`) on anything unusual — a
//! record of another type, a varint longer than eight bytes, a record cut
//! short — and the caller then runs the full decoder, which finds the same
//! samples or reports the same error, so the scan's results are unchanged.

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
    let mut x = 0u64;
    for i in 0..8 {
        let &byte = b.get(i)?;
        x |= u64::from(byte & 0x7f) << (7 * i);
        if byte < 0x80 {
            *b = b.get(i + 1..)?;
            return Some(((x >> 1) as i64) ^ -((x & 1) as i64));
        }
    }
    None
}

/// Summarises the Samples record (type 2) `rec`, or `None` when the full
/// decoder must look at it (see the module docs).
#[inline(never)]
pub(crate) fn summarise_samples(rec: &[u8], series: &RefSet) -> Option<SamplesSummary> {
    let body = rec.strip_prefix(&[2u8])?;
    let mut s = SamplesSummary {
        known: 0,
        unknown: 0,
        range: None,
    };
    if body.is_empty() {
        return Some(s);
    }
    let (base_ref, rest) = body.split_first_chunk::<8>()?;
    let (base_t, mut rest) = rest.split_first_chunk::<8>()?;
    let base_ref = u64::from_be_bytes(*base_ref);
    let base_t = i64::from_be_bytes(*base_t);
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
    s.known = known;
    s.unknown = unknown;
    if known > 0 {
        s.range = Some((min, max));
    }
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::record;

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
