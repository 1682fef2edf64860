//! Decodes arbitrary bytes as a WAL record payload with every decoder.
#![no_main]

use libfuzzer_sys::fuzz_target;
use promsnap::format::record;

fuzz_target!(|data: &[u8]| {
    let _ = record::record_type(data);
    let _ = record::for_each_series(data, 0, |_, l| {
        for (n, v) in l.iter() {
            let _ = (n.len(), v.len());
        }
    });
    let n1 = record::for_each_sample_with_st(data, 0, |_| {});
    let n2 = record::sample_time_range(data, 0);
    if let (Ok(a), Ok((b, _))) = (&n1, &n2) {
        assert_eq!(a, b);
    }
    let _ = record::for_each_tombstone(data, 0, |_, _, _| {});
    let _ = record::for_each_exemplar(data, 0, |e| {
        let _ = e.labels.to_vec();
    });
    let _ = record::for_each_mmap_marker(data, 0, |_, _| {});
    let _ = record::for_each_metadata(data, 0, |_| {});
    let _ = record::for_each_histogram(data, 0, |_, _| {});
    let _ = record::for_each_float_histogram(data, 0, |_, _| {});
    let _ = record::min_valid_time(data, 0);
});
