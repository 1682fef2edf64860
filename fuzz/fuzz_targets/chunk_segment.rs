#![no_main]
//! A chunk segment file: header, then every chunk record back to back, its
//! CRC, and its samples.
use libfuzzer_sys::fuzz_target;
use promsnap::format::{chunkenc, chunks};

fuzz_target!(|data: &[u8]| {
    let _ = chunks::parse_segment_header(data);
    let mut off = chunks::SEGMENT_HEADER_LEN as u64;
    while let Ok(rec) = chunks::read_chunk(data, off) {
        let _ = rec.check_crc();
        if let Some(enc) = chunkenc::Encoding::from_u8(rec.encoding) {
            if let Ok(it) = chunkenc::samples(enc, rec.data, rec.data_offset) {
                for s in it.take(70_000) {
                    if s.is_err() {
                        break;
                    }
                }
            }
        }
        off += rec.len;
    }
});
