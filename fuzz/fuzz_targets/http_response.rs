//! `seed`'s HTTP answer parser and URL parser: never a panic; a parsed
//! body is never longer than the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use promsnap::seed::http::{Url, parse_response};

fuzz_target!(|data: &[u8]| {
    if let Ok(r) = parse_response(data) {
        assert!(r.body.len() <= data.len());
    }
    if let Ok(s) = std::str::from_utf8(data)
        && let Ok(u) = Url::parse(s)
    {
        assert!(u.port > 0);
        let _ = u.join("/api/v1/status/flags");
    }
});
