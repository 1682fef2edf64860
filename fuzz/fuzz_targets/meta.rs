#![no_main]
//! meta.json: any bytes parse or fail cleanly.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = promsnap::format::meta::BlockMeta::parse(data) {
        let _ = m.is_snapshot_head_block(7_200_000);
        let _ = promsnap::format::meta::ulid_time(&m.ulid);
    }
});
