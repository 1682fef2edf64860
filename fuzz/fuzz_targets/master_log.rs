#![no_main]
//! The master's log (`coverage --master-log`): any bytes parse, memory
//! bounded, with and without a queue named, in any of the formats read.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let a = promsnap::coverage::masterlog::parse_bytes(data, None);
    assert!(
        a.reshards.len() + a.refusals.len() + a.starts.len()
            <= promsnap::coverage::masterlog::MAX_EVENTS
    );
    let _ = a.first_reshard(i64::MIN, i64::MAX);
    let _ = a.last_refusal(i64::MIN, i64::MAX);
    let _ = a.queue_start(i64::MAX);
    // A log taken at its last line (or later) reaches that far; earlier is refused.
    if let Some(last) = a.extent.last_ts {
        let t = promsnap::coverage::masterlog::taken_at(a.clone(), Some(last));
        assert_eq!(t.map(|l| l.extent.reaches()), Ok(Some(last)));
        assert_eq!(
            promsnap::coverage::masterlog::taken_at(a.clone(), Some(last.saturating_sub(1)))
                .map(|_| ()),
            if last == i64::MIN { Ok(()) } else { Err(last) }
        );
    }
    // Lines read as JSON or out of an envelope are readable lines; a log
    // with no Prometheus line says so.
    let readable = a.extent.lines - a.extent.unreadable_lines;
    assert!(a.extent.json_lines <= readable && a.extent.envelope_lines <= readable);
    assert_eq!(a.extent.unrecognised, a.extent.log_lines == 0);
    assert_eq!(a.extent.unrecognised_note().is_some(), a.extent.unrecognised);
    let _ = a.extent.span();
    let b = promsnap::coverage::masterlog::parse_bytes(data, Some("q"));
    assert!(b.queue.is_none() || b.queue.as_deref() == Some("q") || b.url.as_deref() == Some("q"));
});
