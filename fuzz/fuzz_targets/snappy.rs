//! Decodes arbitrary bytes as a snappy block with promsnap's decoder and
//! with `snap`: both accept or both refuse, and what both accept is equal.
#![no_main]

use libfuzzer_sys::fuzz_target;
use promsnap::format::wal::snappy::decompress_into;

fuzz_target!(|data: &[u8]| {
    let mut out = Vec::new();
    let ours = decompress_into(data, &mut out, 1 << 24).map(|n| out[..n].to_vec());
    let theirs = match snap::raw::decompress_len(data) {
        Ok(n) if n <= 1 << 24 => snap::raw::Decoder::new().decompress_vec(data).ok(),
        _ => None,
    };
    assert_eq!(ours.ok(), theirs);
});
