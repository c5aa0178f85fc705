//! Errors keep their cause: when the operating system refuses a descriptor or a process, the
//! error says why in its message ("Too many open files (os error 24)") and carries the
//! `io::Error` as its `source()`. Drilled in child processes under real resource limits:
//! `RLIMIT_NOFILE` 32 under a pool of 16, and `RLIMIT_NPROC` 6 under a pool of 16 and under
//! the fork server (after dropping root, which the limit does not bind, to `nobody`).

spindle_process::test_support!();

mod pool_support;
mod support;

use pool_support::square;
use serde::{Deserialize, Serialize};
use spindle_futures::FutureError;
use spindle_process::pool::{Pool, PoolError, ProcessPoolExecutor};
use spindle_process::{Connection, Pipe, Process, ProcessError, StartMethod};
use std::error::Error;
use std::io;
use support::{join_or_kill, process_lock, spawn, Watchdog, LIMIT};

/// Workers each pool is asked for: more than the limits allow.
const WORKERS: usize = 16;

/// The uid and gid of `nobody`, whom `RLIMIT_NPROC` binds (root ignores it).
const NOBODY: u32 = 65534;

/// What a drill child saw.
#[derive(Debug, Serialize, Deserialize)]
struct Seen {
    /// The `Pool`'s error message.
    pool: String,
    /// The OS error code of its `source()`, if that is an `io::Error`.
    pool_os: Option<i32>,
    /// The same for `AsyncResult::get` of a single task.
    apply_os: Option<i32>,
    /// The executor's `BrokenExecutor` message.
    executor: String,
    /// The OS error code of the executor's `broken()` reason.
    executor_os: Option<i32>,
    /// `Process::start` with no descriptor (or process) left: its message and source's OS
    /// error code.
    process: Option<(String, Option<i32>)>,
}

fn os_code(e: &dyn Error) -> Option<i32> {
    e.source()
        .and_then(|s| s.downcast_ref::<io::Error>())
        .and_then(io::Error::raw_os_error)
}

/// The OS error code anywhere down `e`'s source chain.
fn chain_os_code(e: &dyn Error) -> Option<i32> {
    let mut next = e.source();
    while let Some(s) = next {
        if let Some(code) = s
            .downcast_ref::<io::Error>()
            .and_then(io::Error::raw_os_error)
        {
            return Some(code);
        }
        next = s.source();
    }
    None
}

fn set_limit(resource: libc::__rlimit_resource_t, n: u64) -> io::Result<()> {
    let lim = libc::rlimit {
        rlim_cur: n,
        rlim_max: n,
    };
    // SAFETY:
    // - `lim` is a valid rlimit that lives across the call.
    if unsafe { libc::setrlimit(resource, &lim) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Runs a pool and an executor of `WORKERS` workers under the limit in force.
fn run_pools() -> Seen {
    let pool = Pool::new(WORKERS);
    let (text, pool_os) = match pool.map(square, 0..64u64, Some(1)) {
        Err(e @ PoolError::Broken(_)) => (e.to_string(), os_code(&e)),
        other => (format!("expected Broken, got {other:?}"), None),
    };
    let apply_os = pool.apply(square, 2).err().and_then(|e| os_code(&e));
    drop(pool);
    let ex = ProcessPoolExecutor::builder().max_workers(WORKERS).build();
    let (executor, future_os) = match ex.submit(square, 1).exception_timeout(LIMIT) {
        Ok(Some(e @ FutureError::BrokenExecutor(..))) => (e.to_string(), chain_os_code(&e)),
        other => (format!("expected BrokenExecutor, got {other:?}"), None),
    };
    // The future's source chain and the executor's typed reason name the same cause.
    let executor_os = ex
        .broken()
        .and_then(|r| r.os_error().and_then(io::Error::raw_os_error))
        .filter(|&code| future_os == Some(code));
    ex.shutdown(true, false);
    Seen {
        pool: text,
        pool_os,
        apply_os,
        executor,
        executor_os,
        process: None,
    }
}

fn noop(_: ()) {}

/// Child: pools under `RLIMIT_NOFILE` 32, then a `Process::start` with every descriptor used.
fn nofile_drill(report: Connection) {
    let seen = set_limit(libc::RLIMIT_NOFILE, 32).map(|()| {
        let mut seen = run_pools();
        // Use up every descriptor left, then start a process.
        let mut hog = Vec::new();
        while let Ok(f) = std::fs::File::open("/dev/null") {
            hog.push(f);
        }
        seen.process = match Process::new(noop, ()).start() {
            Err(e @ ProcessError::Spawn(_)) => Some((e.to_string(), os_code(&e))),
            other => Some((format!("expected Spawn, got {other:?}"), None)),
        };
        seen
    });
    report
        .send(&seen.map_err(|e| format!("setrlimit(RLIMIT_NOFILE) failed: {e}")))
        .unwrap();
}

/// Drops root to `nobody` (all of uid, gid and groups) so that `RLIMIT_NPROC` applies.
fn drop_privileges() -> io::Result<()> {
    // SAFETY:
    // - setgroups with a count of 0 reads no memory; setgid and setuid take plain ids.
    unsafe {
        if libc::setgroups(0, std::ptr::null()) != 0
            || libc::setgid(NOBODY) != 0
            || libc::setuid(NOBODY) != 0
        {
            return Err(io::Error::last_os_error());
        }
    }
    // SAFETY:
    // - getuid has no preconditions.
    if unsafe { libc::getuid() } != NOBODY {
        return Err(io::Error::other("still not nobody after setuid"));
    }
    Ok(())
}

/// Child target: waits until its pipe's other end closes.
fn wait_for_eof(c: Connection) {
    let _ = c.recv_bytes();
}

/// Fills the process limit with children that wait for end of file, then asks the fork server
/// (already running, with one child) for one more: its `fork` fails with EAGAIN.
fn fork_server_at_the_limit() -> (String, Option<i32>) {
    let mut children = Vec::new();
    let mut ends = Vec::new();
    let mut start = |method: StartMethod| {
        let (rx, tx) = Pipe(false).unwrap();
        ends.push(tx);
        let mut p = Process::new(wait_for_eof, rx).start_method(method);
        let r = p.start();
        children.push(p);
        r
    };
    let seen = match start(StartMethod::ForkServer) {
        Err(e) => (format!("the fork server did not start: {e}"), None),
        Ok(()) => {
            // Bounded: the limit is 6 processes.
            for _ in 0..8 {
                if start(StartMethod::Spawn).is_err() {
                    break;
                }
            }
            match start(StartMethod::ForkServer) {
                Err(e @ ProcessError::Spawn(_)) => (e.to_string(), os_code(&e)),
                other => (format!("expected Spawn, got {other:?}"), None),
            }
        }
    };
    drop(ends);
    for p in children.iter().filter(|p| p.pid().is_some()) {
        p.join_timeout(LIMIT);
    }
    seen
}

/// Child: pools, then the fork server, as `nobody` under `RLIMIT_NPROC` 6.
fn nproc_drill(report: Connection) {
    let seen = drop_privileges()
        .map_err(|e| format!("cannot drop privileges to nobody ({NOBODY}): {e}"))
        .and_then(|()| {
            set_limit(libc::RLIMIT_NPROC, 6)
                .map_err(|e| format!("setrlimit(RLIMIT_NPROC) failed: {e}"))
        })
        .map(|()| {
            let mut seen = run_pools();
            seen.process = Some(fork_server_at_the_limit());
            seen
        });
    report.send(&seen).unwrap();
}

/// Runs `drill` in a child and returns what it saw (failing the test if it could not set up).
fn drill(f: fn(Connection)) -> Seen {
    let (rx, tx) = Pipe(false).unwrap();
    let child = spawn(f, tx);
    let seen: Result<Seen, String> = rx.recv_timeout(LIMIT).expect("the drill reported");
    assert_eq!(join_or_kill(&child), 0);
    match seen {
        Ok(s) => s,
        Err(why) => panic!("the drill could not set up its limit: {why}"),
    }
}

#[test]
fn descriptor_limit_names_emfile_in_message_and_source() {
    let _l = process_lock();
    let _w = Watchdog::new("RLIMIT_NOFILE drill", LIMIT * 2);
    let seen = drill(nofile_drill);
    const EMFILE_TEXT: &str = "Too many open files (os error 24)";
    assert!(seen.pool.contains(EMFILE_TEXT), "{seen:?}");
    assert!(
        seen.pool.starts_with("process pool is broken: cannot "),
        "{seen:?}"
    );
    assert_eq!(seen.pool_os, Some(libc::EMFILE), "{seen:?}");
    assert_eq!(seen.apply_os, Some(libc::EMFILE), "{seen:?}");
    assert!(seen.executor.contains(EMFILE_TEXT), "{seen:?}");
    assert_eq!(seen.executor_os, Some(libc::EMFILE), "{seen:?}");
    let (process, process_os) = seen.process.clone().unwrap();
    assert!(
        process.starts_with("failed to start the child process: ") && process.contains(EMFILE_TEXT),
        "{seen:?}"
    );
    assert_eq!(process_os, Some(libc::EMFILE), "{seen:?}");
}

#[test]
fn process_limit_names_eagain_in_message_and_source() {
    let _l = process_lock();
    let _w = Watchdog::new("RLIMIT_NPROC drill", LIMIT * 2);
    let seen = drill(nproc_drill);
    const EAGAIN_TEXT: &str = "Resource temporarily unavailable (os error 11)";
    assert!(seen.pool.contains(EAGAIN_TEXT), "{seen:?}");
    assert_eq!(seen.pool_os, Some(libc::EAGAIN), "{seen:?}");
    assert_eq!(seen.apply_os, Some(libc::EAGAIN), "{seen:?}");
    assert!(seen.executor.contains(EAGAIN_TEXT), "{seen:?}");
    assert_eq!(seen.executor_os, Some(libc::EAGAIN), "{seen:?}");
    // The fork server's own `fork` failed: the errno came back across its socket.
    let (server, server_os) = seen.process.clone().unwrap();
    assert!(server.contains(EAGAIN_TEXT), "{seen:?}");
    assert_eq!(server_os, Some(libc::EAGAIN), "{seen:?}");
}

#[test]
fn spawn_and_signal_errors_show_and_keep_their_cause() {
    let e = ProcessError::Spawn(io::Error::from_raw_os_error(libc::EAGAIN));
    assert_eq!(
        e.to_string(),
        "failed to start the child process: Resource temporarily unavailable (os error 11)"
    );
    assert_eq!(os_code(&e), Some(libc::EAGAIN));
    let e = ProcessError::Signal(io::Error::from_raw_os_error(libc::EPERM));
    assert!(e.to_string().ends_with("(os error 1)"), "{e}");
    assert_eq!(os_code(&e), Some(libc::EPERM));
}
