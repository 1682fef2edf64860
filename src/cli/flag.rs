//! The library names an option by its meaning and its field
//! ([`promsnap::error::Error::BadOption`]); this is where the field becomes
//! the flag the user typed.

use promsnap::check::FindingCode;
use promsnap::error::Error;

/// The flag of a library option field.
pub fn of(option: &str) -> String {
    match option {
        "master_restarts" => "--master-restart".into(),
        "blocks" => "--block".into(),
        "external_labels" => "--external-label".into(),
        "drop_labels" => "--drop-label".into(),
        o => format!("--{}", o.replace('_', "-")),
    }
}

/// A library error as the CLI prints it: an option's error leads with its
/// flag.
pub fn message(e: &Error) -> String {
    match e {
        Error::BadOption { option, message } => format!("{}: {message}", of(option)),
        e => e.to_string(),
    }
}

/// [`message`] for an error that reached `main`; other errors print with
/// their cause chain.
pub fn describe(e: &anyhow::Error) -> String {
    match e.downcast_ref::<Error>() {
        Some(lib) if e.chain().count() == 1 => message(lib),
        _ => format!("{e:#}"),
    }
}

/// A copy notice's or refusal's message with the flag it is about (the
/// library's reason says what, by its code), for the human summary.
pub fn with_reason_flag(code: FindingCode, message: &str) -> String {
    match code {
        FindingCode::Overlap | FindingCode::HeadOverlap => {
            format!("{message} (--allow-overlap copies it anyway)")
        }
        FindingCode::RetentionDefault => format!("{message} (--retention gives it)"),
        FindingCode::NotVerified => format!("--verify none: {message}"),
        FindingCode::VerifiedQuick => format!("--verify quick: {message}"),
        FindingCode::LinkFallback => format!("--link: {message}"),
        _ => message.to_string(),
    }
}

/// The most worker threads `--jobs` takes: more only costs memory (each
/// thread a stack) and fails to start on a small host.
pub const MAX_JOBS: usize = 256;

/// `--jobs N`: a count of worker threads, 1 to [`MAX_JOBS`]. `0` and huge
/// counts are usage errors, not "default" or a thread-spawn failure.
pub fn parse_jobs(s: &str) -> Result<usize, String> {
    let n: usize = s.trim().parse().map_err(|_| {
        format!("invalid count {s:?}: expected a whole number from 1 to {MAX_JOBS}")
    })?;
    if !(1..=MAX_JOBS).contains(&n) {
        return Err(format!(
            "{n} worker threads: expected 1 to {MAX_JOBS} (leave --jobs out for one per core)"
        ));
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn option_errors_lead_with_the_flag() {
        let e = Error::bad_option("master_restarts", "a master restart time 1: not plausible");
        assert_eq!(
            message(&e),
            "--master-restart: a master restart time 1: not plausible"
        );
        assert_eq!(of("observed_at"), "--observed-at");
        let any = anyhow::Error::from(Error::bad_option("min_time", "x"));
        assert_eq!(describe(&any), "--min-time: x");
    }
}
