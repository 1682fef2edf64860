#![no_main]
//! The tombstones file.
use libfuzzer_sys::fuzz_target;
use promsnap::format::tombstones;

fuzz_target!(|data: &[u8]| {
    if let Ok(stones) = tombstones::parse(data) {
        let t = tombstones::Tombstones::from_stones(&stones);
        for s in stones.iter().take(1000) {
            let _ = tombstones::is_deleted(s.interval.mint, t.get(s.series_ref));
        }
    }
});
