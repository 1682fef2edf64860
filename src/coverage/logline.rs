//! One line of a Prometheus server log, in the formats `coverage
//! --master-log` and `--slave-log` read: its keys and values, and how it
//! was written. The master's and the slave's readers share this step.
//!
//! * logfmt, 2.42's default (`--log.format=logfmt`, go-kit's logfmt
//!   logger): `ts=… caller=… level=… msg="…" key=value…`; words before the
//!   first `key=` (a journal's or stderr copy's prefix) are skipped.
//! * JSON (`--log.format=json`, go-kit's JSON logger): one object per line,
//!   its keys in sorted order (`{"caller":…,"level":…,"msg":…,"ts":…}`); a
//!   value is a JSON string (errors, durations, `ts`), number (counts,
//!   sample times), boolean or null, and may be an array or object. A
//!   number or boolean is read as the text it is written as, an array or
//!   object as its compact JSON text. Words before the object (a journal's
//!   text prefix, a CRI runtime's `<time> stderr F `) are skipped.
//! * An envelope holding either on one line: `journalctl -o json` (the
//!   line in `MESSAGE`, a string or, for bytes that are not UTF-8, an array
//!   of byte values) and Docker's `json-file` driver (the line in `log`,
//!   with `stream` or `time` next to it; its trailing newline dropped).
//!   journalctl writes a field over 4096 bytes as `null` unless given
//!   `--all`, and Docker splits a line over 16 KiB into several records:
//!   such a line is not read (`null`), or only its first part.
//!
//! A line is detected alone, so a log may mix them (a server restarted with
//! another flag). Lines come cut at [`super::masterlog::MAX_LINE`] bytes;
//! a JSON line that was cut does not parse and is not read.

use serde_json::{Map, Value};

/// How a line was written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Format {
    /// logfmt (or nothing readable).
    #[default]
    Logfmt,
    /// Prometheus's JSON.
    Json,
}

/// The envelope a line came in, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Envelope {
    /// `journalctl -o json`: the line in `MESSAGE`.
    Journald,
    /// Docker's `json-file` driver: the line in `log`.
    Docker,
}

/// One line's keys and values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fields {
    /// How the line (inside its envelope) was written.
    pub format: Format,
    /// Its envelope.
    pub envelope: Option<Envelope>,
    /// Its `key`/`value` pairs, in line order (JSON: key order).
    pub kv: Vec<(String, String)>,
}

impl Fields {
    /// The value of `key` (the first, if repeated).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.kv
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// The fields of one log line, whatever of the formats above it is in.
/// Outside an envelope they are the line's as [`fields`] reads it inside.
pub fn fields(line: &str) -> Fields {
    let t = line.trim();
    if t.starts_with('{')
        && let Some(obj) = object(t)
    {
        return match unwrap_envelope(&obj) {
            Some((env, inner)) => Fields {
                envelope: Some(env),
                ..bare(&inner)
            },
            None => from_json(obj),
        };
    }
    prefixed_or_logfmt(t)
}

/// A line outside any envelope: Prometheus's JSON (the whole line, or an
/// object with `ts` after a prefix), else logfmt. go-kit's logfmt quotes a
/// value holding `"`, so `{"` never starts a logfmt line's object.
fn bare(line: &str) -> Fields {
    let t = line.trim();
    if t.starts_with('{')
        && let Some(obj) = object(t)
    {
        return from_json(obj);
    }
    prefixed_or_logfmt(t)
}

/// A trimmed line that is not one JSON object as a whole: Prometheus's
/// JSON after a prefix (the first `{"` on, with `ts`), else logfmt. A line
/// that starts with `{"` was tried whole already, and its first `{"` is
/// that one, so it is not parsed again.
fn prefixed_or_logfmt(t: &str) -> Fields {
    if !t.starts_with("{\"")
        && let Some(i) = t.find("{\"")
        && let Some(obj) = t.get(i..).and_then(object)
        && obj.contains_key("ts")
    {
        return from_json(obj);
    }
    Fields {
        format: Format::Logfmt,
        envelope: None,
        kv: super::masterlog::logfmt(t)
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    }
}

/// `text` as one JSON object, if it is one.
fn object(text: &str) -> Option<Map<String, Value>> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(m)) => Some(m),
        _ => None,
    }
}

/// The line an envelope holds: journald's `MESSAGE`, Docker's `log`.
fn unwrap_envelope(obj: &Map<String, Value>) -> Option<(Envelope, String)> {
    if let Some(m) = obj.get("MESSAGE") {
        let text = match m {
            Value::String(s) => s.clone(),
            // journald's JSON writes a message that is not valid UTF-8 as
            // an array of its bytes.
            Value::Array(a) => {
                let bytes: Vec<u8> = a
                    .iter()
                    .filter_map(|b| b.as_u64().and_then(|b| u8::try_from(b).ok()))
                    .collect();
                String::from_utf8_lossy(&bytes).into_owned()
            }
            _ => return None,
        };
        return Some((Envelope::Journald, text));
    }
    if let Some(Value::String(s)) = obj.get("log")
        && (obj.contains_key("stream") || obj.contains_key("time"))
    {
        let s = s.strip_suffix('\n').unwrap_or(s);
        return Some((
            Envelope::Docker,
            s.strip_suffix('\r').unwrap_or(s).to_string(),
        ));
    }
    None
}

/// The fields of a Prometheus JSON object.
fn from_json(obj: Map<String, Value>) -> Fields {
    let kv = obj
        .into_iter()
        .map(|(k, v)| {
            let v = match v {
                Value::String(s) => s,
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                Value::Null => "null".to_string(),
                other => other.to_string(),
            };
            (k, v)
        })
        .collect();
    Fields {
        format: Format::Json,
        envelope: None,
        kv,
    }
}

#[cfg(test)]
#[path = "logline_tests.rs"]
mod tests;
