//! Any chunk: the first byte is the encoding byte, the rest its data. Decode
//! every sample (and render histograms), ignoring errors; at most one error,
//! and never more samples than the header announces.
#![no_main]

use libfuzzer_sys::fuzz_target;
use promsnap::format::chunkenc::{
    Encoding, Value, counter_reset_header, go_format_g, num_samples, samples_for_byte,
};

fuzz_target!(|data: &[u8]| {
    let Some((&enc, rest)) = data.split_first() else {
        return;
    };
    let Ok(it) = samples_for_byte(enc, 0, rest, 1) else {
        return;
    };
    let Some(encoding) = Encoding::from_u8(enc) else {
        return;
    };
    let _ = counter_reset_header(encoding, rest, 1);
    let n = num_samples(encoding, rest, 1).unwrap_or(0);
    let (mut ok, mut errs) = (0usize, 0usize);
    let mut s = String::new();
    for r in it {
        match r {
            Ok(sample) => {
                ok += 1;
                match &sample.value {
                    Value::Float(v) => go_format_g(*v, &mut s),
                    Value::Histogram(h) => s.push_str(&h.to_string()),
                    Value::FloatHistogram(h) => s.push_str(&h.to_string()),
                }
                s.clear();
            }
            Err(_) => errs += 1,
        }
    }
    assert!(errs <= 1);
    assert!(ok <= usize::from(n));
});
