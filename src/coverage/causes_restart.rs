//! L6: master restarts before the slave has caught up (`restart_windows`).

use super::super::model::{Cause, Certainty, LossWindow};
use super::super::{fmt_dur, fmt_time};

/// L6: master restarts (or remote_write config / external label changes).
/// Each one before the slave is up restarts the WAL watcher at that instant:
/// everything unsent before it is never sent. Returns the windows and the
/// effective stall position (the watcher start after the last such restart).
/// A restart at or after the slave's ready time is judged against the
/// catch-up given; with none (`None`) it is left to the caller, who places
/// the catch-up from the files (`model::l6_stop::catching_up`).
pub fn restart_windows(
    coverage_end: i64,
    rw_start: i64,
    slave_up: Option<i64>,
    catch_up: Option<i64>,
    restarts: &[i64],
    assumptions: &mut Vec<String>,
) -> (Vec<LossWindow>, i64) {
    let mut out = Vec::new();
    if restarts.is_empty() {
        assumptions.push(
            "no master restart and no change of its remote_write block or external labels until \
             the slave has caught up (none given): each one would restart the WAL reader from \
             'now' (L6)"
                .into(),
        );
        return (out, rw_start);
    }
    let mut sorted = restarts.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    if slave_up.is_none() {
        assumptions.push(
            "master restarts without the slave's ready time: every restart is taken to be before \
             the slave was up"
                .into(),
        );
    }
    let mut stall = rw_start;
    for r in sorted {
        if r <= stall {
            continue; // before remote write started: no reader to reset
        }
        let from = coverage_end.max(stall.saturating_add(1));
        match slave_up {
            Some(up) if r >= up && catch_up.is_none() => {}
            Some(up) if r >= up.saturating_add(catch_up.unwrap_or(0)) => {
                assumptions.push(format!(
                    "master restart at {} is after the slave was up and caught up: only what was \
                     still queued at shutdown and not flushed within the flush deadline (1m) is at \
                     risk; no window",
                    fmt_time(r)
                ));
            }
            Some(up) if r >= up => {
                if r >= from {
                    out.push(LossWindow::new(
                        Cause::L6,
                        from,
                        r,
                        Certainty::Bound,
                        format!(
                            "the master restarted (or its remote_write block changed) at {} while \
                             the queue was still catching up (slave up {}, catch-up {}): the new \
                             WAL reader starts at the restart, so whatever the old one had not \
                             sent yet, at most this range, is never sent",
                            fmt_time(r),
                            fmt_time(up),
                            fmt_dur(catch_up.unwrap_or(0))
                        ),
                    ));
                }
            }
            _ => before_up(&mut out, from, stall, r),
        }
        if slave_up.is_none_or(|up| r < up) {
            stall = r;
        }
    }
    (out, stall)
}

/// A restart before the slave is up: the new reader sends only samples
/// newer than it. After another restart before the slave was up, the
/// reader that one started is reset in turn, so the loss runs on from the
/// window before (nothing between them).
fn before_up(out: &mut Vec<LossWindow>, from: i64, stall: i64, r: i64) {
    if let Some(w) = out
        .last_mut()
        .filter(|w| w.cause == Cause::L6 && w.certainty == Certainty::Expected && w.to == stall)
    {
        w.to = r;
        w.why.push_str(&format!(
            "; the master restarted again at {} before the slave was up: the reader started at {} \
             was reset in turn, so everything up to then is never sent",
            fmt_time(r),
            fmt_time(stall)
        ));
    } else if r >= from {
        out.push(LossWindow::new(
            Cause::L6,
            from,
            r,
            Certainty::Expected,
            format!(
                "the master restarted (or its remote_write block changed) at {} before the slave \
                 was up: the new WAL reader sends only samples newer than the restart, and the old \
                 one's backlog (everything after {}) is never sent",
                fmt_time(r),
                fmt_time(from.saturating_sub(1))
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two restarts before the slave is up: the second resets the reader
    /// the first started, so the loss is one window from the coverage end
    /// to the second restart (the master scraped nothing between its stop
    /// and its next start: no gap between two windows to show).
    #[test]
    fn two_restarts_before_the_slave_is_up_make_one_window() {
        let (c, r1, r2, up) = (100_000, 115_000, 170_000, 210_000);
        let mut assumptions = Vec::new();
        let (w, stall) = restart_windows(c, c - 1, Some(up), Some(0), &[r2, r1], &mut assumptions);
        assert_eq!(w.len(), 1, "{w:#?}");
        assert_eq!((w[0].from, w[0].to), (c, r2));
        assert_eq!(w[0].certainty, Certainty::Expected);
        assert!(w[0].why.contains("restarted again"), "{}", w[0].why);
        assert_eq!(stall, r2);
        // One restart: the window ends at it.
        let (w, _) = restart_windows(c, c - 1, Some(up), Some(0), &[r1], &mut assumptions);
        assert_eq!((w.len(), w[0].from, w[0].to), (1, c, r1));
    }
}
