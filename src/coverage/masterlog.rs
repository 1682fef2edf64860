//! The master's log (`coverage --master-log`): the remote-write queue's
//! reshards and refused requests, and the master's head compactions and
//! WAL checkpoints, as Prometheus 2.42 logs them.
//!
//! 2.42 logs in logfmt (go-kit) by default: `ts=… caller=… level=…
//! component=remote remote_name=… url=… msg=…` and the message's own keys;
//! with `--log.format=json` the same keys in one JSON object per line. The
//! queue of a `remote_write` entry logs with its `remote_name` and `url`
//! (`storage/remote/queue_manager.go`):
//!
//! * `msg="Remote storage resharding" from=N to=M` when `updateShardsLoop`
//!   hands a new shard count to `reshardLoop` (every 10 s tick at most);
//! * `msg="non-recoverable error" count=N …` when `sendSamples` drops a
//!   request the receiver refused (a 4xx, such as the slave's 400 "out of
//!   bounds"): `count` samples lost, the line written when the answer came;
//! * `msg="Starting WAL watcher"` when `QueueManager.Start` starts the
//!   queue's WAL reader (`wlog.Watcher.Start`), right before it starts
//!   `updateShardsLoop`, whose 10 s ticker then fires at that instant + k ×
//!   10 s: the phase of the queue's reshard ticks;
//! * `msg="Stopping remote storage..."` when the queue stops: at the
//!   master's stop (right after its scrape manager stopped), or at a reload
//!   that replaced the queue (right before the new one starts);
//! * `msg="error tailing WAL"` when the reader's `Run` failed (`wlog/
//!   watcher.go`, `loop`: such as a segment deleted under a stalled reader
//!   that it then cannot open), then, after a fixed 5 s wait, `msg="Replaying
//!   WAL"` when `Run` starts again: its start time, taken right before, is
//!   the reader's new origin (only samples newer than it are sent). Every
//!   start replays too: only a replay after an error, with no `Starting
//!   WAL watcher` between them, is read as the restart.
//!
//! The master's own TSDB lines (`component=tsdb`, any queue) date its head
//! compactions and WAL checkpoints ([`TsdbLog`], `masterlog_tsdb.rs`): where
//! the log holds them, they take the place of the truncation forecast.
//!
//! Lines are read one at a time, each cut at [`MAX_LINE`] bytes, in any of
//! the formats [`super::logline`] reads, detected per line: logfmt (a
//! journal or stderr copy too: words before `ts=` have no `=` and are
//! skipped), `--log.format=json`'s objects (the same keys), or either in a
//! `journalctl -o json` or Docker `json-file` envelope. A log in which no
//! line is one of these says so (`unrecognised`) and is not used. Lines of
//! other queues are told apart by `remote_name` (or
//! `url`): the caller names the slave's queue, or the log must hold one.
//! Memory is bounded: at most [`MAX_QUEUES`] queues and [`MAX_EVENTS`]
//! events are kept (the log says when it was cut).

use std::collections::BTreeMap;
use std::io::BufRead;

use serde::Serialize;

use super::logline::{Fields, Format, fields};

#[path = "masterlog_tsdb.rs"]
mod tsdb;
pub use tsdb::{HeadCompaction, TsdbLog, WalCheckpoint};
#[path = "masterlog_start.rs"]
mod start;
pub use start::{MAX_STARTS, ProcessStart};

/// Longest line kept (bytes); the rest of a longer line is skipped.
pub const MAX_LINE: usize = 64 * 1024;
/// Most queues told apart.
pub const MAX_QUEUES: usize = 64;
/// Most events (reshards and refusals, all queues) kept.
pub const MAX_EVENTS: usize = 100_000;

/// One reshard of the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Reshard {
    /// When it was logged (Unix ms).
    pub at: i64,
    /// Shards before.
    pub from: u64,
    /// Shards after.
    pub to: u64,
}

/// One request the receiver refused and the queue dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Refusal {
    /// When it was logged (Unix ms): after the answer came.
    pub at: i64,
    /// Samples in the request (`count`).
    pub samples: u64,
}

/// A restart of the queue's WAL reader after an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ReaderRestart {
    /// When the error was logged (`error tailing WAL`, Unix ms).
    pub error_at: i64,
    /// When the reader started again (the next `Replaying WAL`), if the
    /// log holds it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replay_at: Option<i64>,
}

/// Where a server's log starts and how far it reaches (the master's and
/// the slave's alike).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct LogSpan {
    /// Lines read.
    pub lines: u64,
    /// Lines without a readable `ts` (no log line, or cut at [`MAX_LINE`]).
    pub unreadable_lines: u64,
    /// Lines read as Prometheus's JSON (`--log.format=json`), bare or in
    /// an envelope.
    #[serde(skip_serializing_if = "is_zero")]
    pub json_lines: u64,
    /// Lines read out of a JSON envelope (journald's `MESSAGE`, Docker's
    /// `log`).
    #[serde(skip_serializing_if = "is_zero")]
    pub envelope_lines: u64,
    /// Lines with a readable `ts` and a `msg`: Prometheus's log lines.
    #[serde(skip)]
    pub log_lines: u64,
    /// True when no line is a Prometheus log line (logfmt or JSON, bare or
    /// in an envelope, with a readable `ts` and a `msg`): the log is not
    /// one the server wrote, or not in a format read.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub unrecognised: bool,
    /// The oldest `ts` of any line (ms): where the log starts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_ts: Option<i64>,
    /// The newest `ts` of any line (ms).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_ts: Option<i64>,
    /// When the log was taken, as the operator says: every line up to it
    /// is in the log, which so reaches this far.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub taken_at: Option<i64>,
}

impl LogSpan {
    /// Counts a line of fields `f`; `cut`: the line was cut at
    /// [`MAX_LINE`] (it is read if its `msg` came before the cut). Its
    /// time, when the line is readable.
    pub(crate) fn line(&mut self, f: &Fields, cut: bool) -> Option<i64> {
        self.lines += 1;
        let msg = f.get("msg").is_some();
        let ts = f
            .get("ts")
            .and_then(crate::vocab::parse_rfc3339_ms)
            .filter(|_| !cut || msg);
        let Some(t) = ts else {
            self.unreadable_lines += 1;
            return None;
        };
        if f.format == Format::Json {
            self.json_lines += 1;
        }
        if f.envelope.is_some() {
            self.envelope_lines += 1;
        }
        if msg {
            self.log_lines += 1;
        }
        self.last_ts = self.last_ts.max(Some(t));
        self.first_ts = Some(self.first_ts.map_or(t, |f| f.min(t)));
        Some(t)
    }

    /// Marks the log read to its end: [`LogSpan::unrecognised`] when no
    /// line was a Prometheus log line.
    pub(crate) fn finish(&mut self) {
        self.unrecognised = self.log_lines == 0;
    }

    /// Why the log is not used when nothing in it was recognised.
    pub fn unrecognised_note(&self) -> Option<String> {
        if !self.unrecognised {
            return None;
        }
        Some(if self.lines == 0 {
            "it holds no line".to_string()
        } else {
            format!(
                "none of its {} lines is a Prometheus log line (logfmt `ts=… msg=…`, or JSON \
                 with \"ts\" and \"msg\", bare or in a journald MESSAGE or Docker log envelope)",
                self.lines
            )
        })
    }

    /// How far the log reaches: when it was taken if the operator says
    /// so, else its newest line.
    pub fn reaches(&self) -> Option<i64> {
        self.taken_at.or(self.last_ts)
    }

    /// `first → how far it reaches` of the log's times, for a human.
    pub fn span(&self) -> String {
        match (self.first_ts, self.reaches()) {
            (Some(a), Some(b)) => format!(
                "{} → {}{}",
                super::fmt_time(a),
                super::fmt_time(b),
                if self.taken_at.is_some() {
                    " (taken then)"
                } else {
                    ""
                }
            ),
            _ => "no time".to_string(),
        }
    }

    /// The log as taken at `at` (every line up to it in it): `Err` with
    /// its last line's time when that comes after `at`.
    pub fn taken_at(&mut self, at: Option<i64>) -> Result<(), i64> {
        if let Some(at) = at {
            if let Some(last) = self.last_ts.filter(|&l| l > at) {
                return Err(last);
            }
            self.taken_at = Some(at);
        }
        Ok(())
    }
}

/// What the master's log says about the slave's queue.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MasterLog {
    /// The queue read (`remote_name`, or `url` when it has none); absent
    /// when no line of a queue was found or several queues were and none
    /// was named.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue: Option<String>,
    /// Its `url`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Its reshards, in log order.
    pub reshards: Vec<Reshard>,
    /// Its dropped requests, in log order.
    pub refusals: Vec<Refusal>,
    /// When its WAL reader started (`Starting WAL watcher`), in log order:
    /// the origin of the reshard ticks from then on.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub starts: Vec<i64>,
    /// Its WAL reader's restarts after an error, in log order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reader_restarts: Vec<ReaderRestart>,
    /// Lines of the queue read.
    pub queue_lines: u64,
    /// Where the log starts and how far it reaches (`master_log_at`). A
    /// reshard outside it is not in the log.
    #[serde(flatten)]
    pub extent: LogSpan,
    /// The other queues seen (at most [`MAX_QUEUES`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub other_queues: Vec<String>,
    /// True when several queues log and none was named: no queue is read.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub ambiguous: bool,
    /// True when events past [`MAX_EVENTS`] (or queues past
    /// [`MAX_QUEUES`]) were not kept.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
    /// The master's head compactions and WAL checkpoints (any queue).
    #[serde(skip_serializing_if = "TsdbLog::is_empty")]
    pub tsdb: TsdbLog,
    /// The master's process starts, in log order (the newest
    /// [`MAX_STARTS`]).
    #[serde(skip)]
    pub process_starts: Vec<ProcessStart>,
    /// When the master was told to stop (`Received SIGTERM, exiting
    /// gracefully...`, or the web API's quit: the newest [`MAX_STARTS`]) or
    /// the queue was (`Stopping remote storage...`: at a stop, after the
    /// scrape manager stopped; at a reload that replaced it, right before
    /// the new queue's start), in order of time.
    #[serde(skip)]
    pub process_stops: Vec<i64>,
}

impl MasterLog {
    /// True when the log decides the queue's reshards: one queue read,
    /// nothing cut.
    pub fn decides(&self) -> bool {
        self.queue.is_some() && !self.ambiguous && !self.truncated
    }

    /// True when the log decides the master's head compactions and WAL
    /// truncations over its span ([`MasterLog::truncation_span`]): it holds
    /// the TSDB's lines, nothing cut.
    pub fn decides_truncations(&self) -> bool {
        !self.tsdb.is_empty() && !self.truncated && !self.extent.unrecognised
    }

    /// Where the log holds every head compaction and WAL checkpoint: from
    /// its first line to how far it reaches.
    pub fn truncation_span(&self) -> Option<(i64, i64)> {
        if !self.decides_truncations() {
            return None;
        }
        Some((self.extent.first_ts?, self.extent.reaches()?))
    }

    /// One line for a human: the queue read, its reshards and refusals,
    /// how far the log reaches; or why it is not used.
    pub fn summary(&self) -> String {
        let tsdb = if self.decides_truncations() {
            format!(
                "; head compactions {}, WAL checkpoints {}",
                self.tsdb.head_compactions.len(),
                self.tsdb.checkpoints.len()
            )
        } else {
            String::new()
        };
        self.queue_summary() + &tsdb
    }

    fn queue_summary(&self) -> String {
        let Some(q) = self.queue.as_deref().filter(|_| self.decides()) else {
            return if let Some(n) = self.extent.unrecognised_note() {
                format!("not used: {n}")
            } else if self.ambiguous {
                format!(
                    "not used: several remote-write queues ({}), none named",
                    self.other_queues.join(", ")
                )
            } else if self.truncated {
                "not used: more events than are kept".to_string()
            } else {
                "not used: no line of the slave's remote-write queue".to_string()
            };
        };
        let first = self.reshards.first().map_or(String::new(), |r| {
            format!(
                " (first {} → {} at {})",
                r.from,
                r.to,
                super::fmt_time(r.at)
            )
        });
        format!(
            "queue {q}: reshards {}{first}, refused requests logged {}; covers {}",
            self.reshards.len(),
            self.refusals.len(),
            self.extent.span()
        )
    }

    /// The first reshard logged in `(after, until]`.
    pub fn first_reshard(&self, after: i64, until: i64) -> Option<Reshard> {
        self.reshards
            .iter()
            .copied()
            .find(|r| r.at > after && r.at <= until && r.to != r.from)
    }

    /// The latest queue start logged at or before `t` (the origin of the
    /// reshard ticks then).
    pub fn queue_start(&self, t: i64) -> Option<i64> {
        self.starts.iter().copied().filter(|&s| s <= t).max()
    }

    /// The first restart of the WAL reader whose error was logged at or
    /// after `t`, with the restart itself logged.
    pub fn reader_restart(&self, t: i64) -> Option<ReaderRestart> {
        self.reader_restarts
            .iter()
            .copied()
            .find(|r| r.error_at >= t)
            .filter(|r| r.replay_at.is_some())
    }

    /// The start of the WAL's lineage when the log shows it: the latest
    /// start on an empty WAL from which the master could append a sample
    /// at or before `oldest` (the oldest sample on file).
    pub fn empty_wal_start(&self, oldest: i64) -> Option<ProcessStart> {
        start::first_start(&self.process_starts, oldest)
    }

    /// The stop of the master that a restart at `r` (given within `slack`)
    /// followed, when the log shows it: the master appended nothing from
    /// it to `r` ([`start::stop_before`]).
    pub fn stop_before(&self, r: i64, slack: i64) -> Option<i64> {
        if self.extent.unrecognised {
            return None;
        }
        start::stop_before(
            &self.process_stops,
            &self.process_starts,
            r,
            slack,
            self.extent.reaches(),
        )
    }

    /// The last refusal logged in `[from, until]`.
    pub fn last_refusal(&self, from: i64, until: i64) -> Option<Refusal> {
        self.refusals
            .iter()
            .copied()
            .filter(|r| r.at >= from && r.at <= until)
            .max_by_key(|r| r.at)
    }
}

/// The events of one queue while reading.
#[derive(Default)]
struct Acc {
    url: Option<String>,
    reshards: Vec<Reshard>,
    refusals: Vec<Refusal>,
    starts: Vec<i64>,
    reader_restarts: Vec<ReaderRestart>,
    stops: Vec<i64>,
    /// An error logged and no start of the reader since: the next replay
    /// is its restart.
    pending_error: bool,
    lines: u64,
}

/// One event of a queue's log.
enum Event {
    Reshard(Reshard),
    Refusal(Refusal),
    Start(i64),
    Stop(i64),
    TailError(i64),
    Replay(i64),
}

/// Reads a master's log; `select` names the slave's queue by its
/// `remote_name` or `url` (absent: the log's only queue).
pub fn parse<R: BufRead>(mut r: R, select: Option<&str>) -> std::io::Result<MasterLog> {
    let mut out = MasterLog::default();
    let mut queues: BTreeMap<String, Acc> = BTreeMap::new();
    let mut events = 0usize;
    let mut tsdb = tsdb::TsdbAcc::default();
    let mut starts = start::StartAcc::default();
    let mut buf = Vec::new();
    while let Some(cut) = next_line(&mut r, &mut buf)? {
        let f = fields(&String::from_utf8_lossy(&buf));
        let get = |k: &str| f.get(k);
        let Some(ts) = out.extent.line(&f, cut) else {
            continue;
        };
        starts.line(&f, ts);
        if get("component") == Some("tsdb") {
            out.truncated |= !tsdb.line_within(&f, ts, &mut events);
            continue;
        }
        let (name, url) = (get("remote_name"), get("url"));
        let Some(key) = name.or(url) else {
            continue;
        };
        if let Some(sel) = select
            && name != Some(sel)
            && url != Some(sel)
        {
            if !out.other_queues.iter().any(|q| q == key) && out.other_queues.len() < MAX_QUEUES {
                out.other_queues.push(key.to_string());
            }
            continue;
        }
        if !queues.contains_key(key) && queues.len() >= MAX_QUEUES {
            out.truncated = true;
            continue;
        }
        let acc = queues.entry(key.to_string()).or_default();
        acc.lines += 1;
        if acc.url.is_none() {
            acc.url = url.map(str::to_string);
        }
        let num = |k: &str| get(k).and_then(|v| v.parse::<u64>().ok());
        let event = match get("msg") {
            Some("Remote storage resharding") => match (num("from"), num("to")) {
                (Some(from), Some(to)) => Some(Event::Reshard(Reshard { at: ts, from, to })),
                _ => None,
            },
            Some("non-recoverable error") => Some(Event::Refusal(Refusal {
                at: ts,
                samples: num("count").unwrap_or(0),
            })),
            Some("Starting WAL watcher") => Some(Event::Start(ts)),
            Some("Stopping remote storage...") => Some(Event::Stop(ts)),
            Some("error tailing WAL") => Some(Event::TailError(ts)),
            // Only a replay after an error is a restart (every start
            // replays too, and a new watcher's start ends the wait).
            Some("Replaying WAL") if acc.pending_error => Some(Event::Replay(ts)),
            _ => None,
        };
        if let Some(ev) = event {
            if events >= MAX_EVENTS {
                out.truncated = true;
                continue;
            }
            events += 1;
            acc.apply(ev);
        }
    }
    out.extent.finish();
    out.tsdb = tsdb.log;
    out.process_starts = starts.starts;
    out.process_stops = starts.stops;
    Ok(choose(out, queues, select.is_some()))
}

impl Acc {
    /// Keeps event `ev` of the queue.
    fn apply(&mut self, ev: Event) {
        match ev {
            Event::Reshard(r) => self.reshards.push(r),
            Event::Refusal(r) => self.refusals.push(r),
            Event::Start(t) => {
                self.starts.push(t);
                self.pending_error = false;
            }
            Event::Stop(t) => self.stops.push(t),
            Event::TailError(t) => {
                self.reader_restarts.push(ReaderRestart {
                    error_at: t,
                    replay_at: None,
                });
                self.pending_error = true;
            }
            Event::Replay(t) => {
                if let Some(r) = self.reader_restarts.last_mut() {
                    r.replay_at = Some(t);
                }
                self.pending_error = false;
            }
        }
    }
}

/// The log as taken at `at` (every line up to it in it): `Err` with its
/// last line's time when that comes after `at`.
pub fn taken_at(mut log: MasterLog, at: Option<i64>) -> Result<MasterLog, i64> {
    log.extent.taken_at(at)?;
    Ok(log)
}

/// Reads a master's log held in memory (never fails).
pub fn parse_bytes(data: &[u8], select: Option<&str>) -> MasterLog {
    parse(data, select).unwrap_or_default()
}

/// The queue read: the named one, or the only one.
fn choose(mut out: MasterLog, mut queues: BTreeMap<String, Acc>, named: bool) -> MasterLog {
    if queues.len() > 1 && !named {
        out.ambiguous = true;
        let keys: Vec<String> = queues.keys().take(MAX_QUEUES).cloned().collect();
        out.other_queues = keys;
        return out;
    }
    if let Some((key, acc)) = queues.pop_first() {
        out.queue = Some(key);
        out.url = acc.url;
        out.reshards = acc.reshards;
        out.refusals = acc.refusals;
        out.starts = acc.starts;
        out.reader_restarts = acc.reader_restarts;
        out.queue_lines = acc.lines;
        out.process_stops.extend(acc.stops);
        out.process_stops.sort_unstable();
    }
    out
}

pub(crate) fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// The next line into `buf` (without its newline), at most [`MAX_LINE`]
/// bytes of it: `Some(true)` when it was cut, `None` at the end.
pub(crate) fn next_line<R: BufRead>(r: &mut R, buf: &mut Vec<u8>) -> std::io::Result<Option<bool>> {
    buf.clear();
    let mut cut = false;
    let mut any = false;
    loop {
        let avail = match r.fill_buf() {
            Ok(a) => a,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if avail.is_empty() {
            return Ok(any.then_some(cut));
        }
        any = true;
        let nl = avail.iter().position(|&b| b == b'\n');
        let chunk = &avail[..nl.unwrap_or(avail.len())];
        let room = MAX_LINE.saturating_sub(buf.len());
        if chunk.len() > room {
            cut = true;
        }
        buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
        let used = nl.map_or(avail.len(), |i| i + 1);
        r.consume(used);
        if nl.is_some() {
            if buf.last() == Some(&b'\r') {
                buf.pop();
            }
            return Ok(Some(cut));
        }
    }
}

/// The `key=value` pairs of a logfmt line; a quoted value is unescaped
/// (`\"`, `\\`, `\n`, `\t`); words without `=` are skipped.
pub fn logfmt(line: &str) -> Vec<(&str, String)> {
    let mut out = Vec::new();
    let b = line.as_bytes();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        let k0 = i;
        while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'=' {
            i += 1;
        }
        let key = &line[k0..i];
        if i >= b.len() || b[i] != b'=' {
            continue;
        }
        i += 1;
        let mut val = String::new();
        if i < b.len() && b[i] == b'"' {
            i += 1;
            let mut esc = false;
            let v0 = i;
            let mut plain = true;
            while i < b.len() {
                let c = b[i];
                if esc {
                    esc = false;
                } else if c == b'\\' {
                    esc = true;
                    plain = false;
                } else if c == b'"' {
                    break;
                }
                i += 1;
            }
            let raw = &line[v0..i];
            val = if plain {
                raw.to_string()
            } else {
                unescape(raw)
            };
            i = (i + 1).min(b.len());
        } else {
            let v0 = i;
            while i < b.len() && !b[i].is_ascii_whitespace() {
                i += 1;
            }
            val.push_str(&line[v0..i]);
        }
        if !key.is_empty() {
            out.push((key, val));
        }
    }
    out
}

fn unescape(raw: &str) -> String {
    let mut s = String::with_capacity(raw.len());
    let mut it = raw.chars();
    while let Some(c) = it.next() {
        if c != '\\' {
            s.push(c);
            continue;
        }
        match it.next() {
            Some('n') => s.push('\n'),
            Some('t') => s.push('\t'),
            Some(o) => s.push(o),
            None => {}
        }
    }
    s
}

#[cfg(test)]
#[path = "masterlog_tests.rs"]
mod tests;
