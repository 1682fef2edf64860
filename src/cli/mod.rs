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
mod fill;
mod gaps;
mod ls;
mod seed;
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
    Ls(ls::LsArgs),
    /// Print every sample, byte-identical to `promtool tsdb dump`.
    Dump(dump::DumpArgs),
    /// Seed a Prometheus data dir from a snapshot: verified, parallel, atomic, resumable.
    Copy(copy::CopyArgs),
    /// Seed a replica from a live primary: snapshot, verify, copy, coverage and deadline.
    Seed(seed::SeedArgs),
    /// The data-loss window of a snapshot + remote-write replica, from files.
    Coverage(Box<coverage::CoverageArgs>),
    /// Per-series holes; with --against, what another directory has and this one has not.
    Gaps(gaps::GapsArgs),
    /// Write into a replica, as new blocks, the samples another directory has and it lacks.
    Fill(fill::FillArgs),
    /// Check every checksum, structure and sample; findings name file, offset and series.
    Verify(verify::VerifyArgs),
    /// Summarise the WAL, WBL, checkpoints and head chunk files: per segment records, samples, time range, torn tail.
    Wal(wal::WalArgs),
    /// Cardinality, churn and chunk statistics of one block, like `promtool tsdb analyze`.
    Analyze(analyze::AnalyzeArgs),
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
    let cli = Cli::parse();
    if stdout_was_closed() {
        eprintln!("promsnap: stdout is closed: nothing could be written");
        return ExitCode::from(2);
    }
    let stdout = io::stdout();
    let mut out = io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let result = match &cli.command {
        Command::Ls(a) => ls::run(a, &mut out),
        Command::Dump(a) => dump::run(a, &mut out),
        Command::Copy(a) => copy::run(a, &mut out),
        Command::Seed(a) => seed::run(a, &mut out),
        Command::Coverage(a) => coverage::run(a, &mut out),
        Command::Gaps(a) => gaps::run(a, &mut out),
        Command::Fill(a) => fill::run(a, &mut out),
        Command::Verify(a) => verify::run(a, &mut out),
        Command::Wal(a) => wal::run(a, &mut out),
        Command::Analyze(a) => analyze::run(a, &mut out),
    };
    let result = result.and_then(|o| out.flush().map(|_| o).map_err(Into::into));
    match result {
        Ok(Outcome::Ok) => ExitCode::SUCCESS,
        Ok(Outcome::Findings) => ExitCode::from(1),
        Err(e) => {
            if e.chain().any(|c| {
                c.downcast_ref::<io::Error>()
                    .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::SUCCESS;
            }
            eprintln!("promsnap: {e:#}");
            ExitCode::from(2)
        }
    }
}
