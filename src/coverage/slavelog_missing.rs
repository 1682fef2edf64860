//! Lines missing from the slave's log, as the log itself says (issue 14: a
//! log with lines missing). Two forms are read:
//!
//! * **journald's rate limit.** When a unit logs more than its burst
//!   (`RateLimitBurst=`, 10 000 by default, scaled up with free disk) in
//!   one interval (`RateLimitIntervalSec=`, 30 s), journald drops its
//!   messages until the interval is over, and before the first one it lets
//!   through again it writes one of its own (systemd,
//!   `src/journal/journald-server.c`, `server_dispatch_message`):
//!   `Suppressed N messages from UNIT`, `SYSLOG_IDENTIFIER=systemd-journald`,
//!   `MESSAGE_ID=a596d6fe7bfa4994828e72309e95d61e` (`SD_MESSAGE_JOURNAL_DROPPED`)
//!   and `N_DROPPED=N`; it names the unit (`OBJECT_SYSTEMD_UNIT`), so
//!   `journalctl -u UNIT` shows it. Read in `journalctl`'s text forms
//!   (`… systemd-journald[PID]: Suppressed N messages from UNIT`) and in
//!   `-o json` (its `MESSAGE`, `N_DROPPED` when given). The N messages
//!   were logged between the line before the notice and the line after
//!   it: only that span of wall time and N are known, not what they said.
//! * **a `# cut` note**, the project's own form for a thinned log (the
//!   recorded runs' `slave-log.txt`): one comment line standing for the
//!   `lines` lines of one `msg` and `err` it replaced, with the first and
//!   the last of them kept around it:
//!   `# cut lines=N msg="…" err="…" ts_first=RFC3339 ts_last=RFC3339
//!   timestamp_min=MS timestamp_max=MS [timestamps=MS:COUNT,…]` — when they
//!   were logged (`ts_first` … `ts_last`) and, for refusal lines, the
//!   oldest and newest `timestamp` among them, and optionally every
//!   distinct one with its count. Series are not kept. A note of another
//!   `msg` says nothing about refusals and is only counted.
//!
//! Every other line starting with `#` is a comment and is skipped.

use serde::Serialize;

use super::{REFUSED_MSG, Refused, SlaveLog};
use crate::coverage::plausible;

/// Most missing spans kept (past that the log is not used: `truncated`).
pub const MAX_MISSING: usize = 4096;
/// journald's `MESSAGE_ID` of its rate-limit notice.
pub const JOURNAL_DROPPED_ID: &str = "a596d6fe7bfa4994828e72309e95d61e";

/// What a missing span is known from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MissingKind {
    /// journald's `Suppressed N messages`: N and the wall-time span only.
    Suppressed,
    /// A `# cut` note of refusal lines: N, the span, the range of their
    /// first refused samples (and maybe each one).
    Cut,
}

/// A span of wall time from which lines are missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Missing {
    /// How the log says so.
    pub kind: MissingKind,
    /// Lines missing.
    pub lines: u64,
    /// The earliest they were logged (ms): a note's `ts_first`; for
    /// journald the line before the notice (the line after it when the
    /// notice is the log's first).
    pub from_at: i64,
    /// The latest they were logged (ms): a note's `ts_last`; for journald
    /// the line after the notice (none: its own time, or the log's last
    /// line).
    pub to_at: i64,
    /// The oldest first refused sample among them (ms; a note only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sample_min: Option<i64>,
    /// The newest (ms; a note only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sample_max: Option<i64>,
    /// True when the note lists every distinct first refused sample
    /// (`timestamps=`): each hidden request's start is known.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub starts_listed: bool,
}

/// The reader's state for journald notices still waiting for the line
/// after them.
#[derive(Debug, Default)]
pub(super) struct Pending {
    /// A notice read, not yet closed: its count, the line before it, its
    /// own time (JSON).
    open: Option<(u64, Option<i64>, Option<i64>)>,
    /// The time of the last line with one.
    last_ts: Option<i64>,
}

impl Pending {
    /// A line with time `t` was read: it closes a notice before it (the
    /// messages were dropped between the line before the notice and this
    /// one, the first let through again).
    pub(super) fn line_at(&mut self, log: &mut SlaveLog, t: i64) {
        if let Some((n, from, _)) = self.open.take() {
            push(log, suppressed(n, from.unwrap_or(t).min(t), t));
        }
        self.last_ts = Some(t);
    }

    /// The log's end: a notice followed by no line reaches its own time
    /// (when it has one) or the log's last line.
    pub(super) fn finish(&mut self, log: &mut SlaveLog) {
        if let Some((n, from, own)) = self.open.take() {
            let to = own.max(log.extent.last_ts).or(from).unwrap_or(0);
            push(log, suppressed(n, from.unwrap_or(to).min(to), to));
        }
    }
}

fn suppressed(lines: u64, from_at: i64, to_at: i64) -> Missing {
    Missing {
        kind: MissingKind::Suppressed,
        lines,
        from_at,
        to_at,
        sample_min: None,
        sample_max: None,
        starts_listed: false,
    }
}

fn push(log: &mut SlaveLog, m: Missing) {
    if log.missing.len() >= MAX_MISSING {
        log.truncated = true;
        return;
    }
    log.missing_lines = log.missing_lines.saturating_add(m.lines);
    log.missing.push(m);
}

/// Reads `line` when it is a comment or journald's rate-limit notice;
/// false when it is neither (a log line to read as such).
pub(super) fn read(line: &str, log: &mut SlaveLog, pending: &mut Pending) -> bool {
    let t = line.trim();
    if let Some(note) = t.strip_prefix("# cut ") {
        log.extent.lines += 1;
        cut_note(note, log);
        return true;
    }
    if t.starts_with('#') {
        log.extent.lines += 1;
        log.extent.unreadable_lines += 1;
        return true;
    }
    let Some((n, own)) = journald_notice(t) else {
        return false;
    };
    log.extent.lines += 1;
    match pending.open.as_mut() {
        // Two notices with no line between: one span.
        Some((m, _, at)) => {
            *m = m.saturating_add(n);
            *at = (*at).max(own);
        }
        None => pending.open = Some((n, pending.last_ts, own)),
    }
    true
}

/// journald's notice in `line`: the count and, in JSON, its own time
/// (written as the first message after the dropped ones was let through:
/// the span's end, not its start).
fn journald_notice(line: &str) -> Option<(u64, Option<i64>)> {
    if !line.contains("Suppressed ") {
        return None;
    }
    if line.starts_with('{') {
        let v: serde_json::Value = serde_json::from_str(line).ok()?;
        let msg = v.get("MESSAGE")?.as_str()?;
        let ours = v.get("MESSAGE_ID").and_then(|m| m.as_str()) == Some(JOURNAL_DROPPED_ID)
            || v.get("SYSLOG_IDENTIFIER").and_then(|m| m.as_str()) == Some("systemd-journald");
        if !ours {
            return None;
        }
        let n = v
            .get("N_DROPPED")
            .and_then(|n| n.as_str().and_then(|s| s.parse().ok()).or(n.as_u64()))
            .or_else(|| count(msg))?;
        let at = v
            .get("__REALTIME_TIMESTAMP")
            .and_then(|t| t.as_str())
            .and_then(|t| t.parse::<i64>().ok())
            .map(|us| us / 1_000)
            .filter(|&t| plausible(t));
        return Some((n, at));
    }
    // Text forms: the identifier, then the message.
    let i = line.find("systemd-journald")?;
    let rest = line.get(i + "systemd-journald".len()..)?;
    let rest = match rest.strip_prefix('[') {
        Some(r) => r.split_once(']')?.1,
        None => rest,
    };
    count(rest.strip_prefix(':')?.trim_start()).map(|n| (n, None))
}

/// N of `Suppressed N messages from …`.
fn count(msg: &str) -> Option<u64> {
    let rest = msg.strip_prefix("Suppressed ")?;
    let (n, rest) = rest.split_once(' ')?;
    rest.starts_with("messages from ")
        .then(|| n.parse().ok())
        .flatten()
}

/// A `# cut` note (after `# cut `): the refusals it names — its oldest
/// first refused sample answered at `ts_first`, its newest and every other
/// one it lists answered at `ts_last` (the latest each can have been) —
/// and the span it stands for. A note of another `msg`, or one that does
/// not parse, is counted only.
fn cut_note(note: &str, log: &mut SlaveLog) {
    let kv = crate::coverage::masterlog::logfmt(note);
    let get = |k: &str| kv.iter().find(|(a, _)| *a == k).map(|(_, v)| v.as_str());
    let ms = |k: &str| get(k).and_then(crate::vocab::parse_rfc3339_ms);
    let sample = |k: &str| {
        get(k)
            .and_then(|v| v.parse::<i64>().ok())
            .filter(|&t| plausible(t))
    };
    if get("msg") != Some(REFUSED_MSG) {
        log.other_cut_notes = log.other_cut_notes.saturating_add(1);
        return;
    }
    let (Some(lines), Some(first), Some(last)) = (
        get("lines").and_then(|v| v.parse::<u64>().ok()),
        ms("ts_first"),
        ms("ts_last"),
    ) else {
        log.extent.unreadable_lines += 1;
        return;
    };
    let (lo, hi) = (sample("timestamp_min"), sample("timestamp_max"));
    let err = get("err");
    let mut starts: Vec<(i64, i64)> = lo.map(|s| (first, s)).into_iter().collect();
    starts.extend(hi.filter(|&h| Some(h) != lo).map(|s| (last, s)));
    let listed = get("timestamps").filter(|l| !l.is_empty());
    for t in listed.unwrap_or("").split(',') {
        let s = t.split(':').next().and_then(|s| s.parse::<i64>().ok());
        if let Some(s) = s.filter(|&s| plausible(s) && Some(s) != lo && Some(s) != hi) {
            starts.push((last, s));
        }
    }
    for (at, sample) in starts {
        log.push(
            Refused {
                at,
                sample,
                series: None,
            },
            err,
        );
    }
    push(
        log,
        Missing {
            kind: MissingKind::Cut,
            lines,
            from_at: first.min(last),
            to_at: first.max(last),
            sample_min: lo,
            sample_max: hi,
            starts_listed: listed.is_some() && lo.is_some(),
        },
    );
}

#[cfg(test)]
#[path = "slavelog_missing_tests.rs"]
mod tests;
