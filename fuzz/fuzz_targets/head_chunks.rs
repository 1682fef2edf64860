//! Reads arbitrary bytes as a head chunk file (with and without a valid header).
#![no_main]

use libfuzzer_sys::fuzz_target;
use promsnap::format::head_chunks;
use promsnap::walinfo::scan_head_chunk_file;

fuzz_target!(|data: &[u8]| {
    let mut with_header = head_chunks::MAGIC_HEAD_CHUNKS.to_be_bytes().to_vec();
    with_header.extend_from_slice(&[1, 0, 0, 0]);
    with_header.extend_from_slice(data);
    for file in [data, &with_header[..]] {
        if let Ok(it) = head_chunks::chunks(file) {
            let mut last = 0;
            for c in it {
                match c {
                    Ok(c) => {
                        assert!(c.offset >= last);
                        last = c.offset;
                        assert!(c.data.len() <= file.len());
                    }
                    Err(e) => {
                        let _ = e.to_string();
                    }
                }
            }
        }
        let _ = scan_head_chunk_file(file);
    }
});
