//! The prefix reader of a torn WAL record (`walinfo::torn_record_time`):
//! complete fragments, the cut one, a snappy block decompressed as far as it
//! goes, and a samples record decoded as far as whole samples go. The first
//! two bytes pick the torn record's offset. Never a panic; a found range is
//! ordered.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((o, rest)) = data.split_first_chunk::<2>() else {
        return;
    };
    let off = u64::from(u16::from_le_bytes(*o)) % (rest.len() as u64 + 1);
    let t = promsnap::walinfo::torn_record_time(rest, off);
    if let (Some(a), Some(b)) = (t.min_t, t.max_t) {
        assert!(a <= b);
    }
});
