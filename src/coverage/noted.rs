//! Times as an operator notes them (issue 14): copied from `date` or a log
//! line's second, a time without sub-second digits means "somewhere in that
//! second" (without seconds: that minute). [`NotedTimes`] says how finely
//! each time was given; [`widen`] takes each at the side of its range that
//! never understates the loss, and says which.

use serde::Serialize;

use super::{CoverageOptions, fmt_time};

/// How finely each time of [`CoverageOptions`] was given (ms: 1 to the
/// millisecond, 1 000 to the second, 60 000 to the minute; 0 is taken as
/// 1): the time given is the start of that range.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct NotedTimes {
    /// The WAL observation time's.
    pub observed_at: i64,
    /// The slave's ready time's.
    pub slave_up: i64,
    /// The remote write start's.
    pub rw_start: i64,
    /// Each master restart's, in the order given (absent: exact).
    pub master_restarts: Vec<i64>,
    /// Each slave restart's stop and ready time's, in the order given.
    pub slave_restarts: Vec<(i64, i64)>,
    /// The time the slave seeded over was stopped.
    pub slave_received_until: i64,
    /// The end of the receiver's rejects.
    pub rejects_until: i64,
    /// When the master's log was taken.
    pub master_log_at: i64,
    /// When the slave's log was taken.
    pub slave_log_at: i64,
}

impl NotedTimes {
    /// True when every time was given to the millisecond.
    pub fn is_exact(&self) -> bool {
        [
            self.observed_at,
            self.slave_up,
            self.rw_start,
            self.slave_received_until,
            self.rejects_until,
            self.master_log_at,
            self.slave_log_at,
        ]
        .into_iter()
        .chain(self.master_restarts.iter().copied())
        .chain(self.slave_restarts.iter().flat_map(|&(a, b)| [a, b]))
        .all(|w| w <= 1)
    }
}

/// How much later than the time given the real one may be (`width` − 1,
/// at most a day: no time is noted coarser than that).
pub fn late(width: i64) -> i64 {
    width.clamp(1, 86_400_000) - 1
}

/// "to the second", "to the minute", or "to N ms".
fn precision(width: i64) -> String {
    match width {
        1_000 => "to the second".into(),
        60_000 => "to the minute".into(),
        w => format!("to {}", super::fmt_dur(w)),
    }
}

/// `opts` with each time given coarser than a millisecond moved to the side
/// of its range that never understates, and one assumption naming them:
/// the slave's ready time, a master restart, a slave's ready time after its
/// restart, the seeded-over slave's stop and the end of the receiver's
/// rejects at their range's end (each later one a longer loss); the WAL
/// observation, a slave restart's stop and the logs' taken-at times at its
/// start (the earlier, the more truncations forecast, the longer outage,
/// the fewer lines taken as read; a log's time is raised to its last line
/// within the range when read). The remote write start stays at its start
/// for the reader's position and reshard ticks (the earlier, the more
/// overtaking) and the model takes L1 to its end (`model::compute`).
pub(super) fn widen(opts: &CoverageOptions) -> (CoverageOptions, Option<String>) {
    let n = &opts.facts.noted;
    let mut o = opts.clone();
    let mut late_side = Vec::new();
    let mut early_side = Vec::new();
    let mut shift = |t: &mut Option<i64>, w: i64, what: &str| {
        if let Some(x) = t.as_mut().filter(|_| w > 1) {
            let given = *x;
            *x = x.saturating_add(late(w));
            late_side.push(format!(
                "{what} {} ({}) as {}",
                fmt_time(given),
                precision(w),
                fmt_time(*x)
            ));
        }
    };
    shift(&mut o.slave_up, n.slave_up, "the slave's ready time");
    shift(
        &mut o.facts.slave_received_until,
        n.slave_received_until,
        "the seeded-over slave's stop",
    );
    shift(
        &mut o.facts.rejects_until,
        n.rejects_until,
        "the end of the receiver's rejects",
    );
    for (i, r) in o.facts.master_restarts.iter_mut().enumerate() {
        let w = n.master_restarts.get(i).copied().unwrap_or(1);
        let mut t = Some(*r);
        shift(&mut t, w, "a master restart");
        *r = t.unwrap_or(*r);
    }
    for (i, r) in o.facts.slave_restarts.iter_mut().enumerate() {
        let (ws, wr) = n.slave_restarts.get(i).copied().unwrap_or((1, 1));
        let mut t = Some(r.1);
        shift(&mut t, wr, "a slave's ready time after its restart");
        r.1 = t.unwrap_or(r.1);
        if ws > 1 {
            early_side.push(format!("a slave restart's stop ({})", precision(ws)));
        }
    }
    for (t, w, what) in [
        (opts.observed_at, n.observed_at, "the WAL observation"),
        (opts.rw_start, n.rw_start, "the remote write start"),
        (
            opts.master_log_at,
            n.master_log_at,
            "the master's log taken",
        ),
        (opts.slave_log_at, n.slave_log_at, "the slave's log taken"),
    ] {
        if let Some(t) = t.filter(|_| w > 1) {
            early_side.push(format!("{what} at {} ({})", fmt_time(t), precision(w)));
        }
    }
    if late_side.is_empty() && early_side.is_empty() {
        return (o, None);
    }
    let mut s = String::from(
        "times given without sub-second digits mean somewhere in that second (without seconds: \
         that minute), and each is taken at the side that never understates the loss",
    );
    if !late_side.is_empty() {
        s.push_str(&format!(
            "; at its end (later, a longer loss): {}",
            late_side.join(", ")
        ));
    }
    if !early_side.is_empty() {
        s.push_str(&format!(
            "; at its start (earlier: more truncations forecast, a longer outage, fewer log lines \
             taken as read, the queue's reader placed earlier; L1 still runs to the remote write \
             start's end): {}",
            early_side.join(", ")
        ));
    }
    (o, Some(s))
}

/// A log's taken-at time given coarser than a millisecond and before its
/// last line, but within its range: the last line's time (the log was taken
/// after it). Otherwise the time as given.
pub(super) fn log_at(at: Option<i64>, width: i64, last: Option<i64>) -> Option<i64> {
    match (at, last) {
        (Some(a), Some(l)) if l > a && l <= a.saturating_add(late(width)) => Some(l),
        _ => at,
    }
}

/// How long before a given ready time a ready line of the slave's log
/// marks that time as its ready time (or later), not its process start.
const READY_BEFORE: i64 = 60_000;

/// `opts` with the slave's ready time moved to its log's ready line when
/// the log shows the slave ready only after the time given (its process
/// start, as `ps` or systemd show it, given for its ready time): 2.42
/// answers remote write with 503 until it is ready, so the outage runs to
/// that line. Only the first ready line after the time given, with none in
/// the minute before it (the time given is then a ready time) and before
/// any slave restart's stop given after it, in a log whose first line is
/// not after the time given; or the ready line within the
/// second (minute) of a time given to the second (minute); `None`
/// otherwise.
pub(super) fn ready_from_log(opts: &CoverageOptions) -> Option<(CoverageOptions, String)> {
    let up = opts.slave_up?;
    let log = opts.facts.slave_log.as_ref()?;
    let ready = &log.ready;
    // A ready time noted to the second (taken at its end by `widen`) whose
    // second holds the log's ready line: the line is the exact time.
    let width = opts.facts.noted.slave_up;
    let lo = up.saturating_sub(late(width));
    if let Some(r) = ready
        .iter()
        .copied()
        .find(|&r| width > 1 && r >= lo && r <= up)
    {
        let mut o = opts.clone();
        o.slave_up = Some(r);
        // The slave seeded over was stopped before it was ready again.
        if let Some(t) = o.facts.slave_received_until.as_mut() {
            *t = (*t).min(r);
        }
        let why = format!(
            "the slave's log says the slave was ready at {}, within the ready time given ({}, {}): \
             that is its ready time",
            fmt_time(r),
            fmt_time(lo),
            precision(width)
        );
        return Some((o, why));
    }
    // The log must reach back to the time given (a log that starts at the
    // ready line shows nothing of what came before it).
    if ready
        .iter()
        .any(|&r| r <= up && r >= up.saturating_sub(READY_BEFORE))
        || log.extent.first_ts.is_none_or(|f| f > up)
    {
        return None;
    }
    let r = ready.iter().copied().filter(|&r| r > up).min()?;
    let stop = opts
        .facts
        .slave_restarts
        .iter()
        .map(|&(a, _)| a)
        .filter(|&a| a >= up)
        .min();
    if stop.is_some_and(|s| r > s) {
        return None;
    }
    let mut o = opts.clone();
    o.slave_up = Some(r);
    let why = format!(
        "the slave's ready time {} comes before its log's ready line ({}, {} later): the \
         time given is taken as its process start (what ps or systemd show), and 2.42 \
         answers remote write with 503 (retried) until it is ready: the ready time is the \
         log's",
        fmt_time(up),
        fmt_time(r),
        super::fmt_dur(r.saturating_sub(up))
    );
    Some((o, why))
}

/// `o` with the remote write start and the slave's ready time taken from
/// the logs where they date them ([`rw_start_from_log`],
/// [`ready_from_log`]), and the assumptions that say so.
pub(super) fn from_logs(mut o: CoverageOptions, assumptions: &mut Vec<String>) -> CoverageOptions {
    if let Some((r, why)) = rw_start_from_log(&o) {
        o = r;
        assumptions.push(why);
    }
    if let Some((r, why)) = ready_from_log(&o) {
        o = r;
        assumptions.push(why);
    } else {
        assumptions.extend(undated_ready(&o));
    }
    assumptions.extend(restarts_from_log(&mut o));
    assumptions.extend(restarts_in_ready_second(&mut o));
    o
}

/// No master restart given, and the master's log (deciding the slave's
/// queue) shows the queue started again (a later `Starting WAL watcher`: a
/// master restart, or a reload that changed its remote_write): each such
/// start is taken as a restart at that line, to the millisecond (2.42's
/// new reader takes its start time right after it), with the assumption
/// that says so. The log's first start is the queue's own (the remote
/// write start), never taken.
fn restarts_from_log(o: &mut CoverageOptions) -> Option<String> {
    if !o.facts.master_restarts.is_empty() {
        return None;
    }
    let log = o.facts.master_log.as_ref().filter(|l| l.decides())?;
    let again: Vec<i64> = log.starts.iter().skip(1).copied().collect();
    if again.is_empty() {
        return None;
    }
    let at: Vec<String> = again.iter().map(|&s| fmt_time(s)).collect();
    o.facts.noted.master_restarts = vec![1; again.len()];
    o.facts.master_restarts = again;
    Some(format!(
        "no master restart given: the master's log shows the slave's queue started again at {} \
         (`Starting WAL watcher`: a master restart, or a reload that changed its remote_write), \
         taken as the master's restart(s) (L6); 2.42's new reader sends nothing stamped before \
         its start",
        at.join(", ")
    ))
}

/// A master restart given coarser than a millisecond whose range holds the
/// slave's ready time: taken at its range's end (`widen`) it would come
/// after the slave was up and its L6 window would go. Either side is in the
/// range, and before the slave was up is the longer loss: the restart is
/// taken just before the ready time, with the assumption that says so.
fn restarts_in_ready_second(o: &mut CoverageOptions) -> Option<String> {
    let up = o.slave_up?;
    let mut moved = Vec::new();
    for (i, r) in o.facts.master_restarts.iter_mut().enumerate() {
        let w = o.facts.noted.master_restarts.get(i).copied().unwrap_or(1);
        let given = r.saturating_sub(late(w));
        if w > 1 && given < up && up <= *r {
            moved.push(format!("{} ({})", fmt_time(given), precision(w)));
            *r = up - 1;
        }
    }
    (!moved.is_empty()).then(|| {
        format!(
            "a master restart given as {} holds the slave's ready time {} in its range: it is \
             taken just before that (the restart before the slave was up, the longer loss: the \
             new reader sends nothing older than its start)",
            moved.join(", "),
            fmt_time(up)
        )
    })
}

/// `opts` with a remote write start given coarser than a millisecond moved
/// to the master's log's `Starting WAL watcher` line of the queue within
/// that range (the reload or start that began the queue): the watcher takes
/// its start time right after that line, so the line, not the range's end,
/// is where L1 ends. Only where the log decides the queue and holds exactly
/// one such line in the range; `None` otherwise.
pub(super) fn rw_start_from_log(opts: &CoverageOptions) -> Option<(CoverageOptions, String)> {
    let given = opts.rw_start?;
    let width = opts.facts.noted.rw_start;
    let log = opts.facts.master_log.as_ref().filter(|l| l.decides())?;
    let end = given.saturating_add(late(width));
    let mut lines = log
        .starts
        .iter()
        .copied()
        .filter(|&s| width > 1 && s >= given && s <= end);
    let s = lines.next()?;
    if lines.next().is_some() {
        return None;
    }
    let mut o = opts.clone();
    o.rw_start = Some(s);
    o.facts.noted.rw_start = 1;
    let why = format!(
        "the master's log shows the queue's WAL watcher starting at {}, within the remote write \
         start given ({}, {}): the watcher takes its start time right after that line, so that \
         is the remote write start (L1 ends there, not at the range's end)",
        fmt_time(s),
        fmt_time(given),
        precision(width)
    );
    Some((o, why))
}

/// The assumption of a slave's ready time no file dates: no slave's log,
/// or one that shows no ready line in the minute up to the time given
/// (a log that starts at its ready line, or one taken before it). Given as
/// the process start (what ps or systemd show), the real ready time is
/// later by the slave's startup, which no file of the run records (its
/// `wal/` holds no clock; its blocks are the snapshot's).
pub(super) fn undated_ready(opts: &CoverageOptions) -> Option<String> {
    let up = opts.slave_up?;
    let dated = opts.facts.slave_log.as_ref().is_some_and(|log| {
        log.ready
            .iter()
            .any(|&r| r <= up && r >= up.saturating_sub(READY_BEFORE))
    });
    (!dated).then(|| {
        format!(
            "nothing dates the slave's ready time {} (no slave's log, or none whose ready line \
             falls in the minute up to it): it is taken as when the slave began to answer remote \
             write; if it is the process start (what ps or systemd show), the ready time is later \
             by the slave's startup (2.42 opens its blocks and replays its WAL first, and answers \
             remote write with 503, retried, until it is ready), and the windows that end at the \
             ready time (L1 of a queue started with the slave, the stalled reader's L2 and L3 \
             catch-up) end as much later, the catch-up deadline as much nearer; the slave's log \
             (its `Server is ready to receive web requests` line) dates it",
            fmt_time(up)
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A ready time to the second is taken at the second's end, the remote
    /// write start at its start, and the assumption names both.
    #[test]
    fn widen_takes_the_side_that_never_understates() {
        let mut opts = CoverageOptions {
            slave_up: Some(1_796_621_472_000),
            rw_start: Some(1_796_621_400_000),
            ..Default::default()
        };
        opts.facts.master_restarts = vec![1_796_621_440_000, 1_796_621_450_123];
        opts.facts.noted = NotedTimes {
            slave_up: 1_000,
            rw_start: 60_000,
            master_restarts: vec![1_000, 1],
            ..Default::default()
        };
        let (o, why) = widen(&opts);
        assert_eq!(o.slave_up, Some(1_796_621_472_999));
        assert_eq!(o.rw_start, Some(1_796_621_400_000));
        assert_eq!(
            o.facts.master_restarts,
            vec![1_796_621_440_999, 1_796_621_450_123]
        );
        let why = why.unwrap_or_default();
        assert!(why.contains("to the second"), "{why}");
        assert!(why.contains("the remote write start at"), "{why}");
        assert!(why.contains("to the minute"), "{why}");
        // Exact times: unchanged, nothing said.
        opts.facts.noted = NotedTimes::default();
        let (o, why) = widen(&opts);
        assert_eq!(o.slave_up, opts.slave_up);
        assert!(why.is_none());
    }

    /// A master restart given to the second whose second holds the slave's
    /// ready time (the master ready again 137 ms before the slave, round
    /// six): taken just before the ready time, not at the second's end
    /// after it; a restart whose second ends before it is left alone.
    #[test]
    fn a_restart_in_the_ready_second_is_taken_before_the_slave() {
        let up = 1_796_621_502_492;
        let mut o = CoverageOptions {
            slave_up: Some(up),
            ..Default::default()
        };
        o.facts.master_restarts = vec![1_796_621_440_999, 1_796_621_502_999];
        o.facts.noted.master_restarts = vec![1_000, 1_000];
        let why = restarts_in_ready_second(&mut o).unwrap_or_default();
        assert_eq!(o.facts.master_restarts, vec![1_796_621_440_999, up - 1]);
        assert!(why.contains("to the second"), "{why}");
        // Given to the millisecond: as given.
        o.facts.master_restarts = vec![1_796_621_502_999];
        o.facts.noted.master_restarts = vec![1];
        assert!(restarts_in_ready_second(&mut o).is_none());
        assert_eq!(o.facts.master_restarts, vec![1_796_621_502_999]);
    }

    /// A remote write start given to the second ("17:16:54", as `date`
    /// printed the reload's time) whose second holds the queue's `Starting
    /// WAL watcher` line in the master's recorded log (the reload that
    /// added the `remote_write`, at 17:16:54.435): that line is the start.
    /// The same second without the log, or a second that holds no such
    /// line: unchanged.
    #[test]
    fn a_remote_write_start_to_the_second_is_its_log_line() {
        let log = include_bytes!("../../testdata/master-log/reload-started-queue.log");
        let t = |s: &str| crate::vocab::parse_rfc3339_ms(s).unwrap();
        let mut opts = CoverageOptions {
            rw_start: Some(t("2026-12-07T17:16:54Z")),
            ..Default::default()
        };
        opts.facts.noted.rw_start = 1_000;
        assert!(rw_start_from_log(&opts).is_none());
        opts.facts.master_log = Some(crate::coverage::masterlog::parse_bytes(log, None));
        let (o, why) = rw_start_from_log(&opts).unwrap();
        assert_eq!(o.rw_start, Some(t("2026-12-07T17:16:54.435Z")));
        assert_eq!(o.facts.noted.rw_start, 1);
        assert!(why.contains("17:16:54.435"), "{why}");
        // The master's start (17:07:53) logged no watcher: no line there.
        opts.rw_start = Some(t("2026-12-07T17:07:53Z"));
        assert!(rw_start_from_log(&opts).is_none());
        // Given to the millisecond: as given.
        opts.rw_start = Some(t("2026-12-07T17:16:54Z"));
        opts.facts.noted.rw_start = 1;
        assert!(rw_start_from_log(&opts).is_none());
    }

    /// A log taken "at 05:31:12" whose last line is 05:31:12.400: taken at
    /// that line; a line a second later stays an error (as given).
    #[test]
    fn a_log_taken_in_the_second_of_its_last_line() {
        assert_eq!(log_at(Some(10_000), 1_000, Some(10_400)), Some(10_400));
        assert_eq!(log_at(Some(10_000), 1_000, Some(11_000)), Some(10_000));
        assert_eq!(log_at(Some(10_000), 1, Some(10_400)), Some(10_000));
        assert_eq!(log_at(Some(10_000), 1_000, Some(9_000)), Some(10_000));
    }
}
