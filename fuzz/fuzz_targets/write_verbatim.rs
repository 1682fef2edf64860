//! The block writer's check that a source XOR chunk is what its encoder
//! writes (`canonical_xor`, which lets a rewrite copy the chunk): on
//! arbitrary bytes, never a panic, and whatever it accepts, our decoder
//! reads to strictly increasing samples that the encoder writes back to
//! exactly the accepted bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use promsnap::format::chunkenc::{Value, XorIter};
use promsnap::write::{SAMPLES_PER_CHUNK, canonical_xor, encode_chunks};

fuzz_target!(|data: &[u8]| {
    let Some(sum) = canonical_xor(data) else {
        return;
    };
    let back: Vec<(i64, Value)> = XorIter::new(data, 0)
        .expect("accepted chunk has a header")
        .map(|s| s.map(|(t, v)| (t, Value::Float(v))).expect("accepted chunk decodes"))
        .collect();
    assert_eq!(back.len(), sum.samples);
    assert_eq!(back.first().map(|s| s.0), Some(sum.first));
    assert_eq!(back.last().map(|s| s.0), Some(sum.last));
    assert!(back.windows(2).all(|w| w[0].0 < w[1].0));
    if sum.samples <= SAMPLES_PER_CHUNK {
        let chunks = encode_chunks(&back);
        assert_eq!(chunks.len(), 1);
        assert_eq!(chunks[0].data, data[..sum.len]);
    }
});
