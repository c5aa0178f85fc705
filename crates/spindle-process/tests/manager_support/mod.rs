//! Helpers for the manager tests: run a function in several child processes and require
//! that each exits 0 within the common limit.

#![allow(dead_code)]

#[path = "../support/mod.rs"]
mod support;

#[allow(unused_imports)]
pub(crate) use support::{join_or_kill, process_lock, KillOnDrop, LIMIT};

use spindle_process::Process;

/// Starts `f(args(i))` in `n` children and asserts each one exits 0.
pub(crate) fn run_all<A>(n: usize, f: fn(A), args: impl Fn(usize) -> A)
where
    A: serde::Serialize + serde::de::DeserializeOwned + Send + 'static,
{
    let kids: Vec<KillOnDrop> = (0..n)
        .map(|i| {
            let mut p = Process::new(f, args(i));
            p.start().unwrap();
            KillOnDrop(p)
        })
        .collect();
    for p in &kids {
        assert_eq!(join_or_kill(p), 0, "child {i:?} failed", i = p.pid());
    }
}
