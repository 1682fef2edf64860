#![no_main]
//! One server log line (`coverage --master-log`/`--slave-log`): any bytes
//! give fields without panicking; a line outside an envelope gives the same
//! fields inside a Docker `json-file` or journald envelope.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    use promsnap::coverage::logline::{Envelope, fields};
    let Ok(line) = std::str::from_utf8(data) else {
        return;
    };
    let f = fields(line);
    let _ = f.get("ts");
    if f.envelope.is_some() || line.contains(['\n', '\r']) {
        return;
    }
    let docker = serde_json::json!({ "log": format!("{line}\n"), "stream": "stderr" }).to_string();
    let d = fields(&docker);
    assert_eq!(d.envelope, Some(Envelope::Docker));
    assert_eq!(d.kv, f.kv);
    let journal = serde_json::json!({ "MESSAGE": line, "_PID": "1" }).to_string();
    let j = fields(&journal);
    assert_eq!(j.envelope, Some(Envelope::Journald));
    assert_eq!(j.kv, f.kv);
});
