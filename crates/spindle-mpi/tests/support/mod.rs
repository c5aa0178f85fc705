//! Runs an MPI test binary as a job: relaunches it under `mpirun` when started directly (as
//! `cargo test` does), then runs its checks on rank 0 and reports like libtest.

#![allow(dead_code)] // each test binary uses a different part

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// No MPI job of the tests may run longer than this; one that does fails instead of hanging.
pub(crate) const JOB_LIMIT: Duration = Duration::from_secs(120);

pub(crate) use spindle_mpi::launch::under_mpirun;

/// Runs this binary again as a job of `ranks` ranks and returns its exit status, killing it
/// after [`JOB_LIMIT`].
pub(crate) fn relaunch(ranks: usize) -> ExitCode {
    let exe = std::env::current_exe().expect("test binary path");
    let mut cmd = spindle_mpi::launch::mpirun_command(ranks);
    cmd.arg(exe).args(std::env::args().skip(1));
    let mut child = match cmd.spawn() {
        Ok(child) => child,
        Err(e) => {
            eprintln!("cannot run mpirun ({e}): install Open MPI (`apt-get install openmpi-bin libopenmpi-dev`)");
            return ExitCode::FAILURE;
        }
    };
    let started = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return ExitCode::SUCCESS,
            Ok(Some(status)) => {
                eprintln!("the MPI job ended with {status}");
                return ExitCode::FAILURE;
            }
            Ok(None) if started.elapsed() > JOB_LIMIT => {
                let _ = child.kill();
                let _ = child.wait();
                eprintln!("the MPI job did not finish within {JOB_LIMIT:?}");
                return ExitCode::FAILURE;
            }
            Ok(None) => {
                // sleep-ok: polling a child's exit status; std has no timed wait.
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => {
                eprintln!("cannot wait for mpirun: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
}

/// A named check run on rank 0 with the pool.
pub(crate) type Check<P> = (&'static str, fn(&P));

/// Runs the checks whose names contain the first non-flag argument (all if none), printing
/// one line each as libtest does; failure if any panicked.
pub(crate) fn run_checks<P>(pool: &P, checks: &[Check<P>]) -> ExitCode {
    let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let selected: Vec<_> = checks
        .iter()
        .filter(|(name, _)| filter.as_deref().is_none_or(|f| name.contains(f)))
        .collect();
    println!("\nrunning {} tests", selected.len());
    let total = selected.len();
    let mut failed = Vec::new();
    for (name, check) in selected {
        match catch_unwind(AssertUnwindSafe(|| check(pool))) {
            Ok(()) => println!("test {name} ... ok"),
            Err(_) => {
                println!("test {name} ... FAILED");
                failed.push(*name);
            }
        }
    }
    if failed.is_empty() {
        println!("\ntest result: ok. {total} passed");
        ExitCode::SUCCESS
    } else {
        println!("\ntest result: FAILED. failures: {failed:?}");
        ExitCode::FAILURE
    }
}
