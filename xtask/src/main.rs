//! `cargo xtask`: spindle's automation, in Rust instead of shell scripts.
//!
//! Subcommands, one file each:
//! - `ci` ([`ci`]): everything CI checks, in order; exits non-zero on the first failure.
//! - Open MPI for the `spindle-mpi` steps of `ci` ([`mpi`]).
//! - `soak` ([`soak`]): the process layer's bounded chaos run.
//! - `tidy` ([`tidy`]): source rules compilers do not check; also a `#[test]`.
//! - `bench` ([`mod@bench`]): criterion suites + Python twins, then `docs/bench/REPORT.md` ([`report`]).

mod bench;
mod ci;
mod mpi;
mod report;
mod soak;
mod tidy;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  ci [--fast] [--no-mpi]     fmt check, clippy -D warnings, tests (MPI ones under mpirun), docs,
                             a 30 s soak, tidy, benches once; installs Open MPI when CI is set
  soak [--secs N] [--seed S] [--only A,B]
                             random SIGKILLs of pool workers, queue and pipe peers, manager
                             clients; checks nothing is lost, corrupted, hung or leaked (30 s)
  tidy                       source rules: //! headers, SAFETY comments, no #[ignore], layering, ...
  bench [--quick | --smoke] [--filter NAME[,NAME..]] [--no-python]
                             run the criterion suites and Python twins, write docs/bench/REPORT.md
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci::run(&args[1..]),
        Some("tidy") => tidy::run(),
        Some("soak") => soak::run(&args[1..]),
        Some("bench") => bench::run(&args[1..]),
        Some("help") | Some("--help") | Some("-h") | None => {
            print!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(format!("unknown command `{other}`\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root: xtask lives one level below it.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask sits inside the workspace")
        .to_path_buf()
}

/// Runs `cmd` in the workspace root, echoing it first; an error names the failed step.
fn run_step(step: &str, cmd: &mut Command) -> Result<(), String> {
    cmd.current_dir(root());
    eprintln!("\n==> {step}: {cmd:?}");
    let status = cmd
        .status()
        .map_err(|e| format!("{step}: could not start {cmd:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{step} failed ({status})"))
    }
}

/// `cargo` as chosen by the cargo that started us.
fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}
