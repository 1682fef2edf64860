//! The master's process starts, as 2.42 logs them, for `coverage
//! --master-log`: which start began with an empty WAL, and from when that
//! process could append its first sample.
//!
//! 2.42's startup order (cmd/prometheus/main.go): the TSDB opens and
//! replays its WAL (`Head.Init`, tsdb/head.go: `msg="Replaying WAL, this
//! may take a while"`, `msg="WAL checkpoint loaded"` when a checkpoint was
//! replayed, one `msg="WAL segment loaded" segment=i maxSegment=n` per
//! segment, then `msg="WAL replay completed"`, all `component=tsdb`); then
//! the configuration loads (`msg="Completed loading of configuration
//! file"`, written at the end of the load), and only after it do the scrape
//! manager and the rule manager run (both wait for the load's
//! `reloadReady`). Before that line the process appends no sample of its
//! own: a scrape waits further for the scrape manager's first reload (its
//! ticker, at least 5 s), a rule group for its first evaluation tick.
//!
//! Every start's WAL writer opens a new segment past the last one on disk
//! (`wlog.NewSize`), so a start on an empty WAL directory replays segment 0
//! alone (`maxSegment=0`, no checkpoint) and a restart replays at least
//! two segments, or a checkpoint: the replay lines tell a first start from
//! a restart. A start whose lines are not all in the log is no first start.

use serde::Serialize;

use crate::coverage::logline::Fields;

/// Most starts kept (the newest: the start of the WAL's lineage is the
/// latest one on an empty WAL before its oldest sample).
pub const MAX_STARTS: usize = 1_000;

/// One start of the master's process, as its WAL replay shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ProcessStart {
    /// When the WAL replay completed (Unix ms).
    pub replayed_at: i64,
    /// True when the WAL directory was empty at the start: segment 0
    /// replayed alone, no checkpoint.
    pub empty_wal: bool,
    /// When the first configuration load after it completed (Unix ms),
    /// if the log holds that line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_at: Option<i64>,
}

impl ProcessStart {
    /// The earliest the process can have appended a sample of its own: its
    /// configuration's load (the replay's end without that line).
    pub fn first_append(&self) -> i64 {
        self.config_at.unwrap_or(self.replayed_at)
    }
}

/// 2.42's stop on SIGTERM or an interrupt (cmd/prometheus/main.go's
/// signal actor): when it returns, the run group interrupts every other
/// actor, the scrape manager first among the ones that append, so the
/// process appends no sample of a scrape started after this line.
const STOP_SIGNAL: &str = "Received SIGTERM, exiting gracefully...";
/// The same stop asked through the web API (`/-/quit`).
const STOP_WEB: &str = "Received termination request via web service, exiting gracefully...";

/// The latest stop logged at or before `r` (or up to a second after it: a
/// restart given as the stop an operator noted) after which the master
/// appended nothing until `r`: the next start's first append (its
/// configuration's load, see [`ProcessStart::first_append`]) comes at or
/// after `r` less `slack` (a time given to the second), or no start follows
/// the stop and the log reaches `r` (`reaches`). `None` when the log shows
/// no such stop (a crash logs none; a stop followed by a start that ran
/// before `r` is not `r`'s).
pub(super) fn stop_before(
    stops: &[i64],
    starts: &[ProcessStart],
    r: i64,
    slack: i64,
    reaches: Option<i64>,
) -> Option<i64> {
    let s = (stops.iter().copied())
        .filter(|&s| s <= r.saturating_add(1_000))
        .max()?;
    let next = starts
        .iter()
        .filter(|p| p.replayed_at > s)
        .map(ProcessStart::first_append)
        .min();
    let quiet = match next {
        Some(a) => a.saturating_add(slack) >= r,
        None => reaches.is_some_and(|t| t >= r),
    };
    quiet.then_some(s)
}

/// A WAL replay being read.
#[derive(Default)]
struct Replay {
    max_segment: Option<u64>,
    checkpoint: bool,
}

/// The reading state.
#[derive(Default)]
pub(super) struct StartAcc {
    pub(super) starts: Vec<ProcessStart>,
    /// When the process was told to stop (the newest [`MAX_STARTS`]).
    pub(super) stops: Vec<i64>,
    replay: Option<Replay>,
}

impl StartAcc {
    /// Reads one line at `ts`.
    pub(super) fn line(&mut self, f: &Fields, ts: i64) {
        let tsdb = f.get("component") == Some("tsdb");
        match f.get("msg") {
            Some("Replaying WAL, this may take a while") if tsdb => {
                self.replay = Some(Replay::default());
            }
            Some("WAL checkpoint loaded") if tsdb => {
                if let Some(r) = self.replay.as_mut() {
                    r.checkpoint = true;
                }
            }
            Some("WAL segment loaded") if tsdb => {
                let max = f.get("maxSegment").and_then(|v| v.parse::<u64>().ok());
                if let Some(r) = self.replay.as_mut() {
                    r.max_segment = match (r.max_segment, max) {
                        (Some(a), Some(b)) => Some(a.max(b)),
                        (a, b) => a.or(b),
                    };
                }
            }
            Some("WAL replay completed") if tsdb => {
                let Some(r) = self.replay.take() else {
                    return;
                };
                if self.starts.len() >= MAX_STARTS {
                    self.starts.remove(0);
                }
                self.starts.push(ProcessStart {
                    replayed_at: ts,
                    empty_wal: !r.checkpoint && r.max_segment == Some(0),
                    config_at: None,
                });
            }
            Some(STOP_SIGNAL | STOP_WEB) => {
                if self.stops.len() >= MAX_STARTS {
                    self.stops.remove(0);
                }
                self.stops.push(ts);
            }
            Some("Completed loading of configuration file") => {
                if let Some(s) = self.starts.last_mut().filter(|s| s.config_at.is_none()) {
                    s.config_at = Some(ts);
                }
            }
            _ => {}
        }
    }
}

/// The latest start on an empty WAL whose first append is at or before
/// `oldest` (the oldest sample on file): the start of the WAL's lineage.
pub(super) fn first_start(starts: &[ProcessStart], oldest: i64) -> Option<ProcessStart> {
    starts
        .iter()
        .copied()
        .filter(|s| s.empty_wal && s.first_append() <= oldest)
        .max_by_key(|s| s.replayed_at)
}
