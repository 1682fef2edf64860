//! How a command that fails (exit 2) ends: the human message on stderr and,
//! when `--json` was among the arguments, one JSON document on stdout,
//! `{"error":{"kind":"usage"|"io","message":"…"}}`, unless the command had
//! already written its own document (it printed its report, then failed).

use std::ffi::OsString;
use std::io::{self, Write};
use std::process::ExitCode;

use promsnap::error::Error;
use promsnap::seed::SeedError;

/// Whether `--json` is among the arguments (before a bare `--`): decided
/// from the raw arguments, so that it holds for arguments clap refuses too.
pub fn wants_json(args: &[OsString]) -> bool {
    args.iter()
        .skip(1)
        .take_while(|a| *a != "--")
        .any(|a| a == "--json")
}

/// `usage` for what the user can fix in the command line (a bad flag or
/// value, a path that cannot be used as given), `io` for a failure to read
/// or write, reach a server or decode what it read.
pub fn kind(e: &anyhow::Error) -> &'static str {
    for c in e.chain() {
        if let Some(lib) = c.downcast_ref::<Error>() {
            return lib_kind(lib);
        }
        if let Some(s) = c.downcast_ref::<SeedError>() {
            return match s {
                SeedError::Usage(_) => "usage",
                SeedError::Files(lib) => lib_kind(lib),
                _ => "io",
            };
        }
        if c.is::<io::Error>() || c.is::<serde_json::Error>() {
            return "io";
        }
    }
    // A message of the command line layer: a reversed range, a flag that
    // does not apply, an argument that is required.
    "usage"
}

fn lib_kind(e: &Error) -> &'static str {
    match e {
        Error::Usage(_) | Error::BadOption { .. } => "usage",
        _ => "io",
    }
}

/// The error document.
pub fn document(kind: &str, message: &str) -> String {
    serde_json::json!({"error": {"kind": kind, "message": message}}).to_string()
}

/// Writes the error document and a newline, ignoring a failure (stderr has
/// the message already).
pub fn print_document(out: &mut dyn Write, kind: &str, message: &str) {
    let _ = writeln!(out, "{}", document(kind, message)).and_then(|()| out.flush());
}

/// Ends the process for arguments clap refused (or `--help`/`--version`,
/// which it prints as usual).
pub fn parse_error(e: &clap::Error, json: bool) -> ExitCode {
    let code = e.exit_code();
    if json && e.use_stderr() {
        let text = e.render().to_string();
        let message = text.trim().trim_start_matches("error: ");
        print_document(&mut io::stdout(), "usage", message);
    }
    let _ = e.print();
    ExitCode::from(u8::try_from(code).unwrap_or(2))
}

/// Whether the error is a write to a closed pipe (`promsnap dump | head`):
/// the reader had what it wanted, not a failure.
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    let broken = |k: io::ErrorKind| k == io::ErrorKind::BrokenPipe;
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| broken(io.kind()))
            || matches!(
                c.downcast_ref::<Error>(),
                Some(Error::Io { cause, .. }) if broken(cause.kind())
            )
            || c.downcast_ref::<serde_json::Error>()
                .and_then(serde_json::Error::io_error_kind)
                .is_some_and(broken)
    })
}

/// A writer that remembers whether anything was written through it.
pub struct Tracked<W> {
    /// Where the bytes go.
    pub inner: W,
    /// Whether any byte was written.
    pub wrote: bool,
}

impl<W: Write> Write for Tracked<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.wrote |= !buf.is_empty();
        self.inner.write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.wrote |= !buf.is_empty();
        self.inner.write_all(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_seen_before_a_bare_double_dash_only() {
        let a = |v: &[&str]| v.iter().map(OsString::from).collect::<Vec<_>>();
        assert!(wants_json(&a(&["promsnap", "ls", "--json", "x"])));
        assert!(!wants_json(&a(&["promsnap", "ls", "--", "--json"])));
        assert!(!wants_json(&a(&["--json", "ls"])));
    }

    #[test]
    fn kinds_follow_the_error_type() {
        let usage = anyhow::Error::from(Error::bad_option("min_time", "x"));
        assert_eq!(kind(&usage), "usage");
        let io = anyhow::Error::from(Error::io("p", io::Error::other("disk")));
        assert_eq!(kind(&io), "io");
        assert!(!is_broken_pipe(&io));
        let pipe = anyhow::Error::from(Error::io(
            "<stdout>",
            io::Error::from(io::ErrorKind::BrokenPipe),
        ));
        assert!(is_broken_pipe(&pipe));
        assert_eq!(
            kind(&anyhow::anyhow!("--min-time after --max-time")),
            "usage"
        );
        let doc: serde_json::Value = serde_json::from_str(&document("io", "a \"b\"")).unwrap();
        assert_eq!(doc["error"]["message"], "a \"b\"");
    }
}
