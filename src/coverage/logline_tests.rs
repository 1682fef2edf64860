use super::*;

/// Lines Prometheus 2.42 wrote with `--log.format=json` (its WAL watcher
/// start and a dropped request of a queue, and a line with a boolean), and
/// the dropped request's line in the form its default logfmt writes.
const JSON_START: &str = concat!(
    r#"{"caller":"dedupe.go:112","component":"remote","level":"info","msg":"Starting "#,
    r#"WAL watcher","queue":"259b86","remote_name":"259b86","#,
    r#""ts":"2026-12-06T17:24:13.361Z","url":"http://127.0.0.1:9/api/v1/write"}"#,
);
const JSON_DROP: &str = concat!(
    r#"{"caller":"dedupe.go:112","component":"remote","count":500,"err":"context "#,
    r#"canceled","exemplarCount":0,"level":"error","msg":"non-recoverable error","#,
    r#""remote_name":"259b86","ts":"2026-12-06T17:25:21.009Z","#,
    r#""url":"http://127.0.0.1:9/api/v1/write"}"#,
);
const JSON_TLS: &str = concat!(
    r#"{"address":"127.0.0.1:19391","caller":"tls_config.go:235","component":"web","#,
    r#""http2":false,"level":"info","msg":"TLS is disabled.","#,
    r#""ts":"2026-12-06T17:24:13.345Z"}"#,
);
const LOGFMT_DROP: &str = concat!(
    r#"ts=2026-12-06T17:25:21.009Z caller=dedupe.go:112 level=error component=remote "#,
    r#"remote_name=259b86 url=http://127.0.0.1:9/api/v1/write msg="non-recoverable "#,
    r#"error" count=500 exemplarCount=0 err="context canceled""#,
);

fn sorted(f: &Fields) -> Vec<(String, String)> {
    let mut v = f.kv.clone();
    v.sort();
    v
}

#[test]
fn json_and_logfmt_lines_give_the_same_fields() {
    let j = fields(JSON_DROP);
    let l = fields(LOGFMT_DROP);
    assert_eq!(j.format, Format::Json);
    assert_eq!(l.format, Format::Logfmt);
    assert_eq!(j.envelope, None);
    assert_eq!(sorted(&j), sorted(&l));
    assert_eq!(j.get("count"), Some("500"));
    assert_eq!(j.get("ts"), Some("2026-12-06T17:25:21.009Z"));
    let t = fields(JSON_TLS);
    assert_eq!(t.get("http2"), Some("false"));
    assert_eq!(t.get("msg"), Some("TLS is disabled."));
    assert_eq!(fields(JSON_START).get("msg"), Some("Starting WAL watcher"));
}

#[test]
fn journald_and_docker_envelopes_hold_either_format() {
    // `journalctl -o json`: the line in MESSAGE, next to journal fields.
    let j = serde_json::json!({
        "__REALTIME_TIMESTAMP": "1796491521009000",
        "_PID": "812",
        "SYSLOG_IDENTIFIER": "prometheus",
        "MESSAGE": JSON_DROP,
    })
    .to_string();
    let f = fields(&j);
    assert_eq!(f.envelope, Some(Envelope::Journald));
    assert_eq!(f.format, Format::Json);
    assert_eq!(sorted(&f), sorted(&fields(LOGFMT_DROP)));
    // MESSAGE as an array of bytes (journald's form for non-UTF-8 text).
    let bytes: Vec<u8> = LOGFMT_DROP.bytes().collect();
    let j = serde_json::json!({ "MESSAGE": bytes, "_PID": "812" }).to_string();
    let f = fields(&j);
    assert_eq!(f.envelope, Some(Envelope::Journald));
    assert_eq!(f.format, Format::Logfmt);
    assert_eq!(f.get("count"), Some("500"));
    // Docker's json-file driver: the line and its newline in `log`.
    for inner in [JSON_DROP, LOGFMT_DROP] {
        let d = serde_json::json!({
            "log": format!("{inner}\n"),
            "stream": "stderr",
            "time": "2026-12-06T17:25:21.009412345Z",
        })
        .to_string();
        let f = fields(&d);
        assert_eq!(f.envelope, Some(Envelope::Docker));
        assert_eq!(sorted(&f), sorted(&fields(LOGFMT_DROP)), "{d}");
    }
}

#[test]
fn a_prefix_before_the_json_object_is_skipped() {
    let journal = format!("Dec 06 17:25:21 host prometheus[812]: {JSON_DROP}");
    let cri = format!("2026-12-06T17:25:21.009412345Z stderr F {JSON_DROP}");
    for l in [journal, cri] {
        let f = fields(&l);
        assert_eq!(f.format, Format::Json, "{l}");
        assert_eq!(f.get("msg"), Some("non-recoverable error"));
    }
}

#[test]
fn other_text_has_no_time() {
    for l in [
        "",
        "{",
        "{\"a\":1}",
        "[1,2]",
        "{\"MESSAGE\":5}",
        "{\"MESSAGE\":null,\"_PID\":\"1\"}",
        "{\"log\":\"ts=1\"}",
        "plain words",
        &JSON_DROP[..JSON_DROP.len() - 3],
    ] {
        assert_eq!(fields(l).get("ts"), None, "{l}");
    }
}

#[test]
fn a_json_value_holding_ts_equals_is_no_logfmt_time() {
    let line =
        r#"{"caller":"x.go:1","level":"info","msg":"a ts=1 b","ts":"2026-12-06T17:24:13.361Z"}"#;
    let d = serde_json::json!({ "log": format!("{line}\n"), "stream": "stderr" }).to_string();
    for l in [line.to_string(), d] {
        let f = fields(&l);
        assert_eq!(f.format, Format::Json, "{l}");
        assert_eq!(f.get("ts"), Some("2026-12-06T17:24:13.361Z"));
        assert_eq!(f.get("msg"), Some("a ts=1 b"));
    }
}
