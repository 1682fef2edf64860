//! The options' plausibility: each is named by its meaning and its field
//! ([`crate::error::Error::BadOption`]), never by a front end's flag.

use super::{CoverageOptions, PLAUSIBLE_MS, plausible};

/// Refuses an option value no real setup has (a time, a duration or an
/// HTTP status out of range).
pub(super) fn check(opts: &CoverageOptions) -> crate::error::Result<()> {
    times(opts)?;
    durations(opts)?;
    counts(opts)?;
    master(opts)
}

/// `master`: a data directory holding `wal/`, or a `wal/` directory — one
/// with a segment or a checkpoint (a running Prometheus always has one). An
/// empty directory, a `snapshots/` directory or another path given by
/// mistake would answer "no segments: nothing to simulate".
fn master(opts: &CoverageOptions) -> crate::error::Result<()> {
    let Some(m) = &opts.master else {
        return Ok(());
    };
    let dir = super::walread::wal_dir(m);
    let segments = crate::walinfo::segments(&dir)?;
    let checkpoints = crate::walinfo::checkpoints(&dir).unwrap_or_default();
    if segments.is_empty() && checkpoints.is_empty() {
        return Err(crate::error::Error::bad_option(
            "master",
            format!(
                "{}: no WAL segment or checkpoint in it nor in a wal/ under it: not a master's data directory or wal/ directory",
                m.display()
            ),
        ));
    }
    Ok(())
}

/// Times: Unix ms within ±10^13.
fn times(opts: &CoverageOptions) -> crate::error::Result<()> {
    let f = &opts.facts;
    for (name, what, t) in [
        ("observed_at", "the WAL observation time", opts.observed_at),
        ("slave_up", "the slave's ready time", opts.slave_up),
        ("rw_start", "the remote write start", opts.rw_start),
        (
            "slave_received_until",
            "the time the slave seeded over was stopped",
            f.slave_received_until,
        ),
        (
            "rejects_until",
            "the end of the receiver's rejects",
            f.rejects_until,
        ),
    ]
    .into_iter()
    .chain(
        f.master_restarts
            .iter()
            .map(|&t| ("master_restarts", "a master restart time", Some(t))),
    )
    .chain(
        f.slave_restarts
            .iter()
            .flat_map(|&(a, b)| [a, b])
            .map(|t| ("slave_restarts", "a slave restart time", Some(t))),
    ) {
        if let Some(t) = t
            && !plausible(t)
        {
            return Err(crate::error::Error::bad_option(
                name,
                format!("{what} {t}: not a plausible time (Unix ms within ±10^13)"),
            ));
        }
    }
    Ok(())
}

/// Durations: positive (or 0 where 0 means something) and bounded.
fn durations(opts: &CoverageOptions) -> crate::error::Result<()> {
    let f = &opts.facts;
    for (name, what, d) in [
        ("block_range", "the block range", opts.block_range),
        (
            "slave_block_range",
            "the slave's block range",
            opts.facts.slave_block_range,
        ),
        (
            "scrape_interval",
            "the scrape interval",
            opts.scrape_interval,
        ),
    ] {
        if let Some(d) = d
            && !(1..=PLAUSIBLE_MS / 100).contains(&d)
        {
            return Err(crate::error::Error::bad_option(
                name,
                format!("{what}: must be positive and under about 3 years"),
            ));
        }
    }
    for (name, what, d) in [
        (
            "sample_age_limit",
            "the sample age limit",
            f.sample_age_limit,
        ),
        ("catch_up", "the catch-up time", f.catch_up),
        (
            "slave_retention",
            "the slave's retention time",
            f.slave_retention,
        ),
        (
            "slave_ooo_window",
            "the slave's out_of_order_time_window",
            f.slave_ooo_window,
        ),
    ] {
        if let Some(d) = d
            && !(0..=PLAUSIBLE_MS).contains(&d)
        {
            return Err(crate::error::Error::bad_option(
                name,
                format!("{what}: must be 0 or positive and under about 300 years"),
            ));
        }
    }
    let q = &f.queue;
    for (name, what, d) in [
        (
            "batch_send_deadline",
            "the queue's batch_send_deadline",
            q.batch_send_deadline,
        ),
        ("min_backoff", "the queue's min_backoff", q.min_backoff),
        ("max_backoff", "the queue's max_backoff", q.max_backoff),
    ] {
        if let Some(d) = d
            && !(1..=PLAUSIBLE_MS / 100).contains(&d)
        {
            return Err(crate::error::Error::bad_option(
                name,
                format!(
                    "{what}: must be positive (a timer of 0 never waits) and under about 3 years"
                ),
            ));
        }
    }
    Ok(())
}

/// Counts (at least 1, min ≤ max) and the receiver's HTTP status.
fn counts(opts: &CoverageOptions) -> crate::error::Result<()> {
    let (f, q) = (&opts.facts, &opts.facts.queue);
    for (name, what, n) in [
        (
            "max_samples_per_send",
            "the queue's max_samples_per_send",
            q.max_samples_per_send,
        ),
        ("queue_capacity", "the queue's capacity", q.capacity),
        ("min_shards", "the queue's min_shards", q.min_shards),
        ("max_shards", "the queue's max_shards", q.max_shards),
        ("sent_series", "the series the queue sends", f.sent_series),
    ] {
        if n == Some(0) {
            return Err(crate::error::Error::bad_option(
                name,
                format!("{what}: must be at least 1 (0 sends nothing)"),
            ));
        }
    }
    if let (Some(lo), Some(hi)) = (q.min_shards, q.max_shards)
        && lo > hi
    {
        return Err(crate::error::Error::bad_option(
            "min_shards",
            format!("the queue's min_shards {lo} is above its max_shards {hi}"),
        ));
    }
    if let Some(code) = f.receiver_rejects
        && !(400..=599).contains(&code)
    {
        return Err(crate::error::Error::bad_option(
            "receiver_rejects",
            format!(
                concat!(
                    "the receiver's reject status {}: give the HTTP status the receiver answered, ",
                    "400…599"
                ),
                code
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coverage::QueueSettings;

    fn refused(q: QueueSettings) -> Option<String> {
        let mut opts = CoverageOptions::default();
        opts.facts.queue = q;
        match check(&opts) {
            Err(crate::error::Error::BadOption { option, .. }) => Some(option.to_string()),
            _ => None,
        }
    }

    /// Queue settings no Prometheus runs with are refused by their field
    /// (the CLI turns that into a usage error); real ones pass.
    #[test]
    fn queue_settings_are_checked() {
        let ok = QueueSettings {
            max_samples_per_send: Some(100),
            capacity: Some(500),
            min_shards: Some(2),
            max_shards: Some(4),
            batch_send_deadline: Some(10_000),
            min_backoff: Some(30),
            max_backoff: Some(5_000),
        };
        assert_eq!(refused(ok.clone()), None);
        assert_eq!(refused(QueueSettings::default()), None);
        for (q, field) in [
            (
                QueueSettings {
                    batch_send_deadline: Some(0),
                    ..ok.clone()
                },
                "batch_send_deadline",
            ),
            (
                QueueSettings {
                    max_backoff: Some(-5),
                    ..ok.clone()
                },
                "max_backoff",
            ),
            (
                QueueSettings {
                    min_shards: Some(0),
                    ..ok.clone()
                },
                "min_shards",
            ),
            (
                QueueSettings {
                    capacity: Some(0),
                    ..ok.clone()
                },
                "queue_capacity",
            ),
            (
                QueueSettings {
                    min_shards: Some(5),
                    ..ok.clone()
                },
                "min_shards",
            ),
        ] {
            assert_eq!(refused(q).as_deref(), Some(field));
        }
    }
}
