//! `cargo xtask ci`: the same steps locally and in CI, stopping at the first failure.

use crate::{cargo, run_step};

/// Runs every CI step in order. `--fast` skips the release-mode and bench passes;
/// `--no-mpi` skips `spindle-mpi` (which needs Open MPI: installed here when `CI` is set,
/// otherwise the run stops and says how to get it).
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let fast = args.iter().any(|a| a == "--fast");
    let mpi = !args.iter().any(|a| a == "--no-mpi");
    let started = std::time::Instant::now();

    if mpi {
        crate::mpi::ensure(std::env::var_os("CI").is_some())?;
    }
    // Without MPI, the workspace steps leave out spindle-mpi and the facade's `mpi` feature.
    let (packages, features): (&[&str], &[&str]) = if mpi {
        (&["--workspace"], &["--all-features"])
    } else {
        (
            &["--workspace", "--exclude", "spindle-mpi"],
            &["--features", "spindle/deadlock-detection,spindle/progress"],
        )
    };

    crate::tidy::run()?;
    run_step("fmt", cargo().args(["fmt", "--all", "--check"]))?;
    run_step(
        "clippy",
        cargo().arg("clippy").args(packages).args(features).args([
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]),
    )?;
    run_step("test", cargo().arg("test").args(packages))?;
    run_step(
        "doc",
        cargo()
            .arg("doc")
            .args(packages)
            .arg("--no-deps")
            .env("RUSTDOCFLAGS", "-D warnings"),
    )?;
    if mpi {
        // The facade with `mpi`: its re-export test, and the MPI example run under mpirun
        // (selecting test targets stops cargo from building the examples, hence the build).
        run_step(
            "build examples --features mpi",
            cargo().args(["build", "-p", "spindle", "--features", "mpi", "--examples"]),
        )?;
        run_step(
            "test --features mpi",
            cargo().args([
                "test",
                "-p",
                "spindle",
                "--features",
                "mpi",
                "--test",
                "examples",
                "--test",
                "subcrates",
            ]),
        )?;
    }
    // The opt-in deadlock detector changes the lock paths: test them with it on too.
    run_step(
        "test --features deadlock-detection",
        cargo().args([
            "test",
            "-p",
            "spindle-sync",
            "--features",
            "deadlock-detection",
            // Unit and integration tests; the doctests do not change with the feature.
            "--tests",
        ]),
    )?;
    run_step(
        "test --features progress",
        cargo().args([
            "test",
            "-p",
            "spindle-futures",
            "--features",
            "progress",
            "--tests",
        ]),
    )?;
    // The process layer's promises under random kills (bounded: 30 s of rounds).
    crate::soak::run(&["--secs", "30"].map(String::from))?;
    if !fast {
        // Ordering bugs hide in one profile: run the lock-free cores' tests optimised too.
        run_step(
            "test --release (sync)",
            cargo().args(["test", "--release", "-p", "spindle-sync", "--tests"]),
        )?;
        // The bench pipeline end to end (criterion, Python twin, report) on one suite, tiny n.
        crate::bench::run(&["--smoke", "--filter", "sync"].map(String::from))?;
        // Each bench once, in test mode, so none rots.
        let mut benches = cargo();
        benches.args(["test", "-p", "spindle-benches", "--benches"]);
        if mpi {
            benches.args(["--features", "mpi"]);
        }
        run_step("benches once", &mut benches)?;
    }
    eprintln!("\nxtask ci: all green in {:.0?}", started.elapsed());
    Ok(())
}
