#![no_main]
//! The master's log (`coverage --master-log`): any bytes parse, memory
//! bounded, with and without a queue named.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let a = promsnap::coverage::masterlog::parse_bytes(data, None);
    assert!(a.reshards.len() + a.refusals.len() <= promsnap::coverage::masterlog::MAX_EVENTS);
    let _ = a.first_reshard(i64::MIN, i64::MAX);
    let _ = a.last_refusal(i64::MIN, i64::MAX);
    let b = promsnap::coverage::masterlog::parse_bytes(data, Some("q"));
    assert!(b.queue.is_none() || b.queue.as_deref() == Some("q") || b.url.as_deref() == Some("q"));
});
