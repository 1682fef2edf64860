//! The XOR time scan (with its fast path) against the sample iterator, on
//! real chunks (whole or cut short), damaged ones and random bytes.

#![allow(clippy::indexing_slicing)]

use super::*;

proptest! {
    #[test]
    fn xor_scan_times_matches_the_iterator(
        t0 in any::<i64>(),
        rows in proptest::collection::vec((delta_strategy(), value_strategy()), 0..200),
        cut in any::<u16>(),
        skip in 0usize..4,
    ) {
        let series = accumulate(t0, &rows);
        let mut data = encode_xor(&series);
        // Sometimes cut short, so that the scan meets damage.
        if cut % 3 == 0 && data.len() > 2 {
            data.truncate(2 + usize::from(cut) % (data.len() - 1));
        }
        let mut it = XorIter::new(&data, 7).unwrap();
        for _ in 0..skip {
            let _ = it.next();
        }
        // The reference: the iterator, one sample at a time.
        let (want, want_err) = reference_scan(it.clone());
        let (got, got_err) = it.scan_times();
        prop_assert_eq!(got, want);
        prop_assert_eq!(&got_err, &want_err);
        prop_assert!(it.next().is_none());
        if skip == 0 {
            let (got, got_err) = scan_chunk_times(&data, 7).unwrap();
            prop_assert_eq!(got, want);
            prop_assert_eq!(got_err, want_err);
        }
    }

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
            prop_assert!(scan_chunk_times(&data, 3).is_err());
            return Ok(());
        };
        let (want, want_err) = reference_scan(it.clone());
        let mut it = it;
        let (got, got_err) = it.scan_times();
        prop_assert_eq!(got, want);
        prop_assert_eq!(&got_err, &want_err);
        let (got, got_err) = scan_chunk_times(&data, 3).unwrap();
        prop_assert_eq!(got, want);
        prop_assert_eq!(got_err, want_err);
    }
}

/// What `scan_times` must find, from the sample iterator one sample at a
/// time: first and last time, count, the first unordered pair, the error.
fn reference_scan(it: XorIter<'_>) -> (TimeScan, Option<DecodeError>) {
    let mut want = TimeScan::default();
    let mut want_err = None;
    let mut prev = None;
    for r in it {
        match r {
            Ok((t, _)) => {
                if let Some(p) = prev
                    && t <= p
                    && want.unordered.is_none()
                {
                    want.unordered = Some((want.count, t, p));
                }
                want.first = want.first.or(Some(t));
                want.last = Some(t);
                want.count += 1;
                prev = Some(t);
            }
            Err(e) => want_err = Some(e),
        }
    }
    (want, want_err)
}
