//! One Prometheus API request and its answer.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::SeedError;
use super::http::{self, Response, Timeouts, Url};

/// Now, in Unix ms.
pub(super) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A Prometheus API answer: `{"status":"success","data":…}` or
/// `{"status":"error","errorType":…,"error":…}`.
pub(super) enum Api {
    Success(serde_json::Value),
    Error { status: u16, message: String },
}

/// `method path` on the server at `url`; an API error is an answer, a
/// transport failure or a foreign answer is an `Err`.
pub(super) fn call(
    url: &Url,
    method: &str,
    path: &str,
    read: Duration,
    connect: Duration,
) -> Result<Api, SeedError> {
    let full = url.join(path);
    let t = Timeouts { connect, io: read };
    let r: Response = http::request(url, method, path, t).map_err(|e| SeedError::Http {
        url: full.clone(),
        message: match e.kind() {
            std::io::ErrorKind::ConnectionRefused => {
                format!("{e} (is Prometheus listening there?)")
            }
            std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => {
                format!("no answer within the time-out ({e})")
            }
            _ => e.to_string(),
        },
    })?;
    let text = String::from_utf8_lossy(&r.body);
    let v: Option<serde_json::Value> = serde_json::from_slice(&r.body).ok();
    let status = v
        .as_ref()
        .and_then(|v| v.get("status"))
        .and_then(|s| s.as_str());
    match (status, v.as_ref()) {
        (Some("success"), Some(v)) => Ok(Api::Success(v.get("data").cloned().unwrap_or_default())),
        (Some("error"), Some(v)) => Ok(Api::Error {
            status: r.status,
            message: v
                .get("error")
                .and_then(|e| e.as_str())
                .unwrap_or("(no message)")
                .to_string(),
        }),
        _ if matches!(r.status, 404 | 405) => Ok(Api::Error {
            status: r.status,
            // The status is carried: the caller names it once.
            message: snippet(&text),
        }),
        _ => Err(SeedError::NotPrometheus {
            url: full,
            message: format!(
                "HTTP {}{}: {}",
                r.status,
                r.content_type
                    .as_deref()
                    .map(|c| format!(" ({c})"))
                    .unwrap_or_default(),
                snippet(&text)
            ),
        }),
    }
}

/// The start of an answer's body, for a message.
fn snippet(s: &str) -> String {
    let t: String = s.trim().chars().take(120).collect();
    if t.is_empty() {
        "empty body".into()
    } else {
        format!("{t:?}")
    }
}
