//! The options' plausibility: each is named by its meaning and its field
//! ([`crate::error::Error::BadOption`]), never by a front end's flag.

use super::{CoverageOptions, PLAUSIBLE_MS, plausible};

/// Refuses an option value no real setup has (a time, a duration or an
/// HTTP status out of range).
pub(super) fn check(opts: &CoverageOptions) -> crate::error::Result<()> {
    let f = &opts.facts;
    for (name, what, t) in [
        ("observed_at", "the WAL observation time", opts.observed_at),
        ("slave_up", "the slave's ready time", opts.slave_up),
        ("rw_start", "the remote write start", opts.rw_start),
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
    for (name, what, d) in [
        ("block_range", "the block range", opts.block_range),
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
    if let Some(code) = f.receiver_rejects
        && !(400..=599).contains(&code)
    {
        return Err(crate::error::Error::bad_option(
            "receiver_rejects",
            format!(
                "the receiver's reject status {code}: give the HTTP status the receiver answered, 400…599"
            ),
        ));
    }
    Ok(())
}
