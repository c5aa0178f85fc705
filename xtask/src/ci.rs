//! `cargo xtask ci`: the same steps locally and in CI, stopping at the first failure.

use crate::{cargo, run_step};

/// Runs every CI step in order. `--fast` skips the release-mode and bench passes.
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let fast = args.iter().any(|a| a == "--fast");
    let started = std::time::Instant::now();

    crate::tidy::run()?;
    run_step("fmt", cargo().args(["fmt", "--all", "--check"]))?;
    run_step(
        "clippy",
        cargo().args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--all-features",
            "--",
            "-D",
            "warnings",
        ]),
    )?;
    run_step("test", cargo().args(["test", "--workspace"]))?;
    run_step(
        "doc",
        cargo()
            .args(["doc", "--workspace", "--no-deps"])
            .env("RUSTDOCFLAGS", "-D warnings"),
    )?;
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
    if !fast {
        // Ordering bugs hide in one profile: run the lock-free cores' tests optimised too.
        run_step(
            "test --release (sync)",
            cargo().args(["test", "--release", "-p", "spindle-sync", "--tests"]),
        )?;
        // The bench pipeline end to end (criterion, Python twin, report) on one suite, tiny n.
        crate::bench::run(&["--smoke", "--filter", "sync"].map(String::from))?;
        // Each bench once, in test mode, so none rots.
        run_step(
            "benches once",
            cargo().args(["test", "-p", "spindle-benches", "--benches"]),
        )?;
    }
    eprintln!("\nxtask ci: all green in {:.0?}", started.elapsed());
    Ok(())
}
