//! The XOR time scan (with its fast path) against the sample iterator, on
//! damaged and random bytes.

#![allow(clippy::indexing_slicing)]

use super::*;

proptest! {
    #[test]
    fn xor_scan_times_matches_the_iterator_on_damaged_bytes(
        t0 in any::<i64>(),
        rows in proptest::collection::vec((delta_strategy(), value_strategy()), 0..200),
        flips in proptest::collection::vec(any::<u32>(), 0..4),
        noise in proptest::collection::vec(any::<u8>(), 0..300),
        raw in any::<bool>(),
    ) {
        // Either a real chunk with bits flipped, or bytes at random: the
        // scan's fast path must find what the iterator finds, errors included.
        let data = if raw {
            noise
        } else {
            let mut d = encode_xor(&accumulate(t0, &rows));
            for f in &flips {
                let bit = (*f as usize) % (d.len() * 8);
                d[bit / 8] ^= 0x80 >> (bit % 8);
            }
            d
        };
        let Ok(it) = XorIter::new(&data, 3) else {
            return Ok(());
        };
        let (want, want_err) = reference_scan(it.clone());
        let mut it = it;
        let (got, got_err) = it.scan_times();
        prop_assert_eq!(got, want);
        prop_assert_eq!(got_err, want_err);
    }
}
