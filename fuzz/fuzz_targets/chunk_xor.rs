//! XOR chunk data (the bytes after the encoding byte): the fast iterator,
//! the generic one and the time scans `verify` uses must agree, and none
//! may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use promsnap::format::chunkenc::{
    Encoding, Value, XorIter, num_samples, samples, scan_chunk_times,
};

fuzz_target!(|data: &[u8]| {
    let _ = num_samples(Encoding::Xor, data, 0);
    let fast: Vec<_> = match XorIter::new(data, 0) {
        Ok(it) => it.map(|r| r.map(|(t, v)| (t, v.to_bits()))).collect(),
        Err(_) => return,
    };
    let slow: Vec<_> = samples(Encoding::Xor, data, 0)
        .into_iter()
        .flatten()
        .map(|r| {
            r.map(|s| match s.value {
                Value::Float(v) => (s.t, v.to_bits()),
                _ => unreachable!("XOR yields floats"),
            })
        })
        .collect();
    assert_eq!(fast, slow);
    // The time scan: count, first, last, first unordered, error.
    let Ok(mut it) = XorIter::new(data, 0) else {
        return;
    };
    let (scan, err) = it.scan_times();
    let times: Vec<i64> = fast.iter().filter_map(|r| r.as_ref().ok().map(|s| s.0)).collect();
    assert_eq!(scan.count, times.len() as u64);
    assert_eq!(scan.first, times.first().copied());
    assert_eq!(scan.last, times.last().copied());
    let unordered = times
        .windows(2)
        .position(|w| w[1] <= w[0])
        .map(|i| ((i + 1) as u64, times[i + 1], times[i]));
    assert_eq!(scan.unordered, unordered);
    assert_eq!(err, fast.last().and_then(|r| r.as_ref().err().cloned()));
    // The same scan of a whole chunk, its fast path without a bit reader.
    assert_eq!(scan_chunk_times(data, 0).ok(), Some((scan, err)));
});
