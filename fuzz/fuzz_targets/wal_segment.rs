//! Reads arbitrary bytes as a WAL segment (32 KiB pages and, from the first
//! byte, a tiny page size) and decodes every record it yields.
#![no_main]

use std::collections::HashSet;

use libfuzzer_sys::fuzz_target;
use promsnap::format::wal::{FragmentReader, RecordReader};
use promsnap::walinfo::scan_segment;

fuzz_target!(|data: &[u8]| {
    let mut r = RecordReader::new(data);
    let mut last_end = 0;
    while let Some(item) = r.next_record() {
        match item {
            Ok(rec) => {
                assert!(rec.offset < rec.end_offset && rec.end_offset <= data.len() as u64);
                assert!(rec.offset >= last_end);
                last_end = rec.end_offset;
            }
            Err(e) => {
                let _ = (e.offset(), e.to_string());
            }
        }
    }
    assert!(r.valid_offset() <= data.len() as u64);
    for f in FragmentReader::new(data) {
        let _ = f;
    }
    let mut series = HashSet::new();
    let scan = scan_segment(data, &mut series);
    assert_eq!(scan.valid_offset, r.valid_offset());
});
