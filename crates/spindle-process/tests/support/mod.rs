//! Helpers shared by the integration tests: the process-wide test lock and bounded joins.

#![allow(dead_code)]

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use spindle_process::Process;

/// How long any test waits for a child before failing.
pub(crate) const LIMIT: Duration = Duration::from_secs(30);

static PROCESS_LOCK: Mutex<()> = Mutex::new(());

/// Serialises tests that start or reap processes (STYLE §6.4).
pub(crate) fn process_lock() -> MutexGuard<'static, ()> {
    PROCESS_LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// Joins `p` within [`LIMIT`], killing it (and failing) if it does not end.
pub(crate) fn join_or_kill(p: &Process) -> i32 {
    if !p.join_timeout(LIMIT) {
        let _ = p.kill();
        let _ = p.join_timeout(LIMIT);
        panic!("child {:?} did not finish within {LIMIT:?}", p.pid());
    }
    p.exitcode().expect("joined child has an exit code")
}

/// Kills the child when dropped, so a failing assertion never leaves it running.
pub(crate) struct KillOnDrop(pub Process);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if self.0.is_alive() {
            let _ = self.0.kill();
            let _ = self.0.join_timeout(LIMIT);
        }
    }
}

impl std::ops::Deref for KillOnDrop {
    type Target = Process;
    fn deref(&self) -> &Process {
        &self.0
    }
}

/// Starts `f(args)` in a child that is killed if dropped while still running.
pub(crate) fn spawn<A>(f: fn(A), args: A) -> KillOnDrop
where
    A: serde::Serialize + serde::de::DeserializeOwned + Send + 'static,
{
    let mut p = Process::new(f, args);
    p.start().unwrap();
    KillOnDrop(p)
}

/// Starts `f(args(i))` in `n` children (see [`spawn`]).
pub(crate) fn spawn_all<A>(n: usize, f: fn(A), args: impl Fn(usize) -> A) -> Vec<KillOnDrop>
where
    A: serde::Serialize + serde::de::DeserializeOwned + Send + 'static,
{
    (0..n).map(|i| spawn(f, args(i))).collect()
}

/// Starts `f(args(i))` in `n` children and asserts each one exits 0 within [`LIMIT`].
pub(crate) fn run_all<A>(n: usize, f: fn(A), args: impl Fn(usize) -> A)
where
    A: serde::Serialize + serde::de::DeserializeOwned + Send + 'static,
{
    for p in &spawn_all(n, f, args) {
        assert_eq!(join_or_kill(p), 0, "child {i:?} failed", i = p.pid());
    }
}

/// Fails the whole test binary if it is still alive when the limit passes: a fault drill
/// that regresses into a hang must fail CI, not stall it. Disarmed when dropped.
///
/// The watchdog exits the process (status 101, as a failed test does) after printing what
/// was running, because a hung thread cannot be unwound from outside.
pub(crate) struct Watchdog {
    disarm: Option<std::sync::mpsc::Sender<()>>,
}

impl Watchdog {
    /// Arms a watchdog over `what` for `limit`.
    pub(crate) fn new(what: &'static str, limit: Duration) -> Watchdog {
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        std::thread::Builder::new()
            .name("watchdog".into())
            .spawn(move || {
                if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(limit) {
                    eprintln!(
                        "watchdog: `{what}` still running after {limit:?}: failing the test binary"
                    );
                    std::process::exit(101);
                }
            })
            .expect("start the watchdog thread");
        Watchdog { disarm: Some(tx) }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        if let Some(tx) = self.disarm.take() {
            let _ = tx.send(());
        }
    }
}
