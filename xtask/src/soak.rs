//! `cargo xtask soak [--secs N] [--seed S] [--only A,B]`: the process layer's chaos run
//! (`crates/spindle-process/examples/soak.rs`): random `SIGKILL`s of pool workers, queue
//! writers and readers, connection peers and manager clients, with the promises checked after
//! every round. Bounded: the run stops after `N` seconds (default 30), and the soak binary
//! fails itself if any wait hangs. Release mode: a debug build spends each round making
//! test data instead of racing the kill.

use crate::{cargo, run_step};

/// Builds and runs the soak, passing `args` through (the soak checks them).
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    run_step(
        "soak",
        cargo()
            .args([
                "run",
                "-q",
                "--release",
                "-p",
                "spindle-process",
                "--example",
                "soak",
                "--",
            ])
            .args(args),
    )
}
