#![no_main]
//! salvage: a block whose index is arbitrary bytes (its symbol table read
//! even when its CRC fails, labels recovered from postings, the series
//! section walked past damage) is rewritten on a dry run without a panic.
use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;
use std::sync::OnceLock;

static DIR: OnceLock<PathBuf> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let dir = DIR.get_or_init(|| {
        let d = std::env::temp_dir().join(format!(
            "promsnap-fuzz-salvage-{}/01M88Z547SWC2057Y39068VCCB",
            std::process::id()
        ));
        std::fs::create_dir_all(d.join("chunks")).unwrap();
        std::fs::write(
            d.join("meta.json"),
            br#"{"ulid":"01M88Z547SWC2057Y39068VCCB","minTime":0,"maxTime":1000000,"version":1}"#,
        )
        .unwrap();
        d
    });
    std::fs::write(dir.join("index"), data).unwrap();
    let parent = dir.parent().unwrap();
    let _ = promsnap::salvage::block::rewrite_block(dir, parent, true);
});
