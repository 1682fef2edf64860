#![no_main]
//! `dump --json`'s sample values: every f64 bit pattern is written as one
//! JSON value (a number, or a string naming a NaN or an infinity) and reads
//! back with the same bits; reading any text back never panics.
use libfuzzer_sys::fuzz_target;
use promsnap::dump::{json_value, push_json_value};

fuzz_target!(|data: &[u8]| {
    for c in data.chunks_exact(8) {
        let mut b = [0u8; 8];
        b.copy_from_slice(c);
        let bits = u64::from_le_bytes(b);
        let mut buf = Vec::new();
        push_json_value(&mut buf, f64::from_bits(bits));
        let s = std::str::from_utf8(&buf).expect("ASCII");
        let v: serde_json::Value = serde_json::from_str(s).expect("one JSON value");
        assert!(v.is_number() || v.is_string(), "{s}");
        assert_eq!(json_value(s).map(f64::to_bits), Some(bits), "{s}");
    }
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = json_value(s);
    }
});
