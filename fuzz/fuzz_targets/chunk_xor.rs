//! XOR chunk data (the bytes after the encoding byte): the fast iterator and
//! the generic one must agree, and neither may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use promsnap::format::chunkenc::{Encoding, Value, XorIter, num_samples, samples};

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
});
