#![no_main]
//! The slave's log (`coverage --slave-log`): any bytes parse, memory
//! bounded, the counts agree with what is kept.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    use promsnap::coverage::slavelog;
    let a = slavelog::parse_bytes(data);
    assert!(a.refusals.len() <= slavelog::MAX_REFUSALS);
    assert!(a.ready.len() <= slavelog::MAX_READY);
    assert!(a.errs.len() <= slavelog::MAX_ERRS + 1);
    assert_eq!(a.refused as usize, a.refusals.len());
    assert_eq!(a.errs.values().sum::<u64>(), a.refused);
    assert_eq!(a.sample_max, a.refusals.iter().map(|r| r.sample).max());
    assert!(a.extent.lines >= a.extent.unreadable_lines);
    if let Some(last) = a.extent.last_ts {
        let t = slavelog::taken_at(a.clone(), Some(last));
        assert_eq!(t.map(|l| l.extent.reaches()), Ok(Some(last)));
        if last > i64::MIN {
            assert_eq!(slavelog::taken_at(a.clone(), Some(last - 1)).map(|_| ()), Err(last));
        }
    }
    // Lines read as JSON or out of an envelope are readable lines; a log
    // with no Prometheus line says so.
    let readable = a.extent.lines - a.extent.unreadable_lines;
    assert!(a.extent.json_lines <= readable && a.extent.envelope_lines <= readable);
    assert_eq!(a.extent.unrecognised, a.extent.log_lines == 0);
    assert_eq!(a.extent.unrecognised_note().is_some(), a.extent.unrecognised);
    let _ = a.summary();
    let _ = a.covers(i64::MIN, i64::MAX);
});
