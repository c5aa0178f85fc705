//! `cargo xtask soak [--secs N] [--seed S] [--only A,B]`: the process layer's chaos run
//! (`crates/spindle-process/examples/soak.rs`): random `SIGKILL`s of pool workers, queue
//! writers and readers, connection peers and manager clients, with the promises checked after
//! every round. Bounded: the run stops after `N` seconds (default 30), and the soak binary
//! fails itself if any wait hangs. Release mode: a debug build spends each round making
//! test data instead of racing the kill.

use crate::{cargo, run_step};

/// Builds and runs the soak with the given arguments.
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    for pair in args.chunks(2) {
        match pair {
            [flag, value]
                if (flag == "--secs" || flag == "--seed") && value.parse::<u64>().is_ok() => {}
            _ => {
                return Err(format!(
                    "soak: expected --secs N and/or --seed S, got {pair:?}"
                ))
            }
        }
    }
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
