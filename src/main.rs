//! The `promsnap` binary: a thin layer over the `promsnap` library.
mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
