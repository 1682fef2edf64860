//! The command line: parse arguments, call the library, render, exit.
//!
//! Exit codes: 0 ok; 1 findings (damaged data, refused blocks, unreadable
//! blocks); 2 usage error or an I/O failure of the tool itself.

use std::io::{self, Write};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod analyze;
mod copy;
mod coverage;
mod dump;
mod errout;
mod fill;
mod flag;
mod gaps;
mod ls;
mod s3;
mod salvage;
mod seed;
mod snapshot;
mod table;
pub mod time;
mod verify;
mod wal;

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything checked out.
    Ok,
    /// The command ran and found problems in the data.
    Findings,
}

/// Read, verify, inspect and copy Prometheus TSDB storage offline.
#[derive(Debug, Parser)]
#[command(name = "promsnap", version, about, max_term_width = 100)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List blocks, like `promtool tsdb list`, plus level and the snapshot head block.
    #[command(
        after_long_help = concat!(
            "Example (committed data, from the repository):\n",
            "  promsnap ls \
             testdata/prom-2.42-live/data/snapshots/20261125T091234Z-788eafc011a10c98\n",
            "  promsnap ls --json testdata/prom-2.42-live/data",
        )
    )]
    Ls(ls::LsArgs),
    /// Print every sample, byte-identical to `promtool tsdb dump`.
    #[command(
        after_long_help = concat!(
            "Example:\n",
            "  promsnap dump --match 'up{job=\"prometheus\"}' --min-time 2026-11-25T09:00:00Z \
             testdata/prom-2.42-live/data/snapshots/20261125T091234Z-788eafc011a10c98",
        )
    )]
    Dump(dump::DumpArgs),
    /// Seed a Prometheus data dir from a snapshot: verified, parallel, atomic, resumable.
    Copy(copy::CopyArgs),
    /// Seed a replica from a live primary: snapshot, verify, copy, coverage and deadline.
    Seed(seed::SeedArgs),
    /// The admin API's snapshot (blocks linked, head written as a block), offline, from a data dir.
    Snapshot(snapshot::SnapshotArgs),
    /// The data-loss window of a snapshot + remote-write replica, from files.
    #[command(
        after_long_help = concat!(
            "Example (the 1h55m / 2h01m question: what a replica seeded from this snapshot \
             loses):\n",
            "  promsnap coverage \
             testdata/prom-2.42-live/data/snapshots/20261125T091234Z-788eafc011a10c98 --master \
             testdata/prom-2.42-live/data --observed-at 2026-11-25T09:12:40Z",
        )
    )]
    Coverage(Box<coverage::CoverageArgs>),
    /// Per-series holes; with --against, what another directory has and this one has not.
    #[command(
        after_long_help = concat!(
            "Example:\n",
            "  promsnap gaps testdata/prom-2.42-live/data --interval 15s\n",
            "  promsnap gaps REPLICA_DIR --against MASTER_DIR --from 2026-11-25T08:00:00Z",
        )
    )]
    Gaps(gaps::GapsArgs),
    /// Write into a replica, as new blocks, the samples another directory has and it lacks.
    #[command(
        after_long_help = concat!(
            "Example:\n",
            "  promsnap fill --dry-run /var/lib/prometheus-replica --from /var/lib/prometheus",
        )
    )]
    Fill(fill::FillArgs),
    /// Rewrite damaged blocks without their damaged parts; --in-place: quarantine what blocks
    /// startup.
    Salvage(salvage::SalvageArgs),
    /// Check every checksum, structure and sample; findings name file, offset and series.
    #[command(
        after_long_help = concat!(
            "Example:\n",
            "  promsnap verify \
             testdata/prom-2.42-live/data/snapshots/20261125T091234Z-788eafc011a10c98\n",
            "  promsnap verify --json --quick /var/lib/prometheus\n",
            "\n",
            "Exit codes: 0 no error finding; 1 error findings; 2 usage or I/O.",
        )
    )]
    Verify(verify::VerifyArgs),
    /// Summarise the WAL, WBL, checkpoints and head chunk files: per segment records, samples, time
    /// range, torn tail.
    #[command(
        after_long_help = concat!(
            "Example:\n",
            "  promsnap wal testdata/prom-2.42-live/data\n",
            "  promsnap wal --json testdata/prom-2.42-live/data/wal",
        )
    )]
    Wal(wal::WalArgs),
    /// Cardinality, churn and chunk statistics of one block, like `promtool tsdb analyze`.
    #[command(
        after_long_help = concat!(
            "Example:\n",
            "  promsnap analyze testdata/prom-2.42-live/data\n",
            "  promsnap analyze --extended --limit 5 testdata/prom-2.42-live/data \
             01M88ZHZN1XRWVWM1RH4GVHSAJ",
        )
    )]
    Analyze(analyze::AnalyzeArgs),
    /// Print a shell completion script for promsnap (bash, zsh, fish, elvish, powershell).
    #[command(
        after_long_help = concat!(
            "Example:\n",
            "  promsnap completions bash > ~/.local/share/bash-completion/completions/promsnap\n",
            "  promsnap completions zsh > \"${fpath[1]}/_promsnap\"",
        )
    )]
    Completions {
        /// The shell to write the script for.
        shell: clap_complete::Shell,
    },
    /// Print promsnap's man page (roff) on stdout.
    #[command(
        after_long_help = concat!(
            "Example:\n",
            "  promsnap man > ~/.local/share/man/man1/promsnap.1 && man promsnap",
        )
    )]
    Man,
}

/// True when the process was started with fd 1 closed (`promsnap dump X >&-`).
/// Rust's runtime reopens a closed standard descriptor on `/dev/null`
/// read-write before `main`, so every write would silently "succeed"; a
/// shell's `>/dev/null` opens it write-only, which stays allowed.
fn stdout_was_closed() -> bool {
    // SAFETY: fcntl/fstat/stat only query; the structs are plain data.
    unsafe {
        let fl = libc::fcntl(1, libc::F_GETFL);
        if fl == -1 {
            return true;
        }
        if fl & libc::O_ACCMODE != libc::O_RDWR {
            return false;
        }
        let mut a: libc::stat = std::mem::zeroed();
        let mut b: libc::stat = std::mem::zeroed();
        libc::fstat(1, &mut a) == 0
            && libc::stat(c"/dev/null".as_ptr(), &mut b) == 0
            && (a.st_mode & libc::S_IFMT) == libc::S_IFCHR
            && a.st_rdev == b.st_rdev
    }
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let json = errout::wants_json(&args);
    let cli = match Cli::try_parse_from(&args) {
        Ok(c) => c,
        Err(e) => return errout::parse_error(&e, json),
    };
    if stdout_was_closed() {
        eprintln!("promsnap: stdout is closed: nothing could be written");
        return ExitCode::from(2);
    }
    let stdout = io::stdout();
    let mut out = errout::Tracked {
        inner: io::BufWriter::with_capacity(1 << 16, stdout.lock()),
        wrote: false,
    };
    let result = match &cli.command {
        Command::Ls(a) => ls::run(a, &mut out),
        Command::Dump(a) => dump::run(a, &mut out),
        Command::Copy(a) => copy::run(a, &mut out),
        Command::Seed(a) => seed::run(a, &mut out),
        Command::Snapshot(a) => snapshot::run(a, &mut out),
        Command::Coverage(a) => coverage::run(a, &mut out),
        Command::Gaps(a) => gaps::run(a, &mut out),
        Command::Fill(a) => fill::run(a, &mut out),
        Command::Salvage(a) => salvage::run(a, &mut out),
        Command::Verify(a) => verify::run(a, &mut out),
        Command::Wal(a) => wal::run(a, &mut out),
        Command::Analyze(a) => analyze::run(a, &mut out),
        Command::Completions { shell } => {
            use clap::CommandFactory;
            clap_complete::generate(*shell, &mut Cli::command(), "promsnap", &mut out);
            Ok(Outcome::Ok)
        }
        Command::Man => {
            use clap::CommandFactory;
            clap_mangen::Man::new(Cli::command())
                .render(&mut out)
                .map(|_| Outcome::Ok)
                .map_err(Into::into)
        }
    };
    let result = result.and_then(|o| out.flush().map(|_| o).map_err(Into::into));
    match result {
        Ok(Outcome::Ok) => ExitCode::SUCCESS,
        Ok(Outcome::Findings) => ExitCode::from(1),
        Err(e) => {
            if errout::is_broken_pipe(&e) {
                return ExitCode::SUCCESS;
            }
            let message = flag::describe(&e);
            eprintln!("promsnap: {message}");
            if json && !out.wrote {
                errout::print_document(&mut out.inner, errout::kind(&e), &message);
            }
            ExitCode::from(2)
        }
    }
}

/// A label's values as the texts name them: each quoted, `|`-separated.
fn quoted_values(values: &[String]) -> String {
    values
        .iter()
        .map(|v| format!("{v:?}"))
        .collect::<Vec<_>>()
        .join("|")
}
