//! Float histogram chunk data (encodings 3 and 6, chosen by the first bit of
//! the first byte): decode everything, print every sample as Go's `String()`
//! and as API buckets, ignoring errors.
#![no_main]

use libfuzzer_sys::fuzz_target;
use promsnap::format::chunkenc::{Encoding, Value, samples};

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let enc = if first & 1 == 0 {
        Encoding::FloatHistogram
    } else {
        Encoding::FloatHistogramSt
    };
    let Ok(it) = samples(enc, rest, 0) else {
        return;
    };
    for s in it.flatten() {
        if let Value::FloatHistogram(h) = &s.value {
            let _ = h.to_string();
            let _ = h.api_buckets();
        }
    }
});
