#![no_main]
//! index: header, TOC, symbols, every series entry with its labels, the
//! postings offset table, every postings list, the legacy label indices.
use libfuzzer_sys::fuzz_target;
use promsnap::format::index::{IndexReader, SeriesEntry, postings};

fuzz_target!(|data: &[u8]| {
    let Ok(r) = IndexReader::open(data) else { return };
    let _ = r.symbols.first_unsorted();
    let mut it = r.series();
    let mut e = SeriesEntry::default();
    let mut labels = Vec::new();
    let mut n = 0;
    while let Some(x) = it.next_into(&mut e) {
        if x.is_ok() {
            let _ = r.resolve_labels(&e, &mut labels);
        }
        n += 1;
        if n > 100_000 {
            break;
        }
    }
    if let Ok(t) = r.postings_table() {
        for p in t.iter().take(10_000) {
            if let Ok(l) = r.postings(p.offset) {
                let _ = l.iter().count();
            }
        }
    }
    if let Ok(t) = r.label_offset_table() {
        for l in t.iter().take(10_000) {
            let _ = postings::parse_label_index(data, l.offset);
        }
    }
});
