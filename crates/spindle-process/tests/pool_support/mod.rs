//! Helpers for the pool and executor tests: tasks that block on a gate (a FIFO) until the
//! test opens it, and tasks that end their own worker in various ways.

#![allow(dead_code)]

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How long any test waits for a result before failing.
pub(crate) const LIMIT: Duration = Duration::from_secs(30);

/// A named FIFO in the temp directory, removed when dropped. It keeps a read-write descriptor
/// open for its whole life, so neither side ever blocks in `open` and bytes written before the
/// other side arrives are not lost.
pub(crate) struct Fifo {
    path: PathBuf,
    keep: File,
}

impl Fifo {
    fn new(kind: &str) -> Fifo {
        static N: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "spindle-pool-{kind}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_file(&path);
        let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
        // SAFETY:
        // - `c` is a valid NUL-terminated path that outlives the call.
        let made = unsafe { libc::mkfifo(c.as_ptr(), 0o600) };
        assert_eq!(made, 0, "mkfifo failed");
        let keep = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .unwrap();
        Fifo { path, keep }
    }

    /// The path to pass to a task.
    pub(crate) fn path(&self) -> String {
        self.path.to_str().unwrap().to_string()
    }
}

impl Drop for Fifo {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// A FIFO that tasks block on ([`wait_gate`]) until the test [`release`](Gate::release)s them.
///
pub(crate) struct Gate(Fifo);

impl Gate {
    pub(crate) fn new() -> Gate {
        Gate(Fifo::new("gate"))
    }

    /// The path to pass to [`wait_gate`].
    pub(crate) fn path(&self) -> String {
        self.0.path()
    }

    /// Lets `n` waiting (or future) tasks through.
    pub(crate) fn release(&self, n: usize) {
        (&self.0.keep).write_all(&vec![1u8; n]).unwrap();
    }
}

/// Task: blocks until the gate at `path` lets one task through; returns the worker's pid.
pub(crate) fn wait_gate(path: String) -> u32 {
    let mut f = File::open(path).unwrap();
    let mut b = [0u8; 1];
    f.read_exact(&mut b).unwrap();
    std::process::id()
}

/// Task: never returns (blocks on a condition that never comes).
pub(crate) fn stuck(_: ()) -> u32 {
    loop {
        std::thread::park();
    }
}

/// Task: the worker's pid.
pub(crate) fn pid(_: ()) -> u32 {
    std::process::id()
}

/// Task: `x * x`.
pub(crate) fn square(x: u64) -> u64 {
    x * x
}

/// Task: panics with a message naming `x`.
pub(crate) fn panics(x: u64) -> u64 {
    panic!("task {x} failed on purpose")
}

/// Task: kills its own worker with SIGKILL.
pub(crate) fn kill_self(_: ()) -> u32 {
    // SAFETY:
    // - kill with our own pid and a valid signal number touches no memory.
    unsafe { libc::kill(libc::getpid(), libc::SIGKILL) };
    loop {
        std::thread::park();
    }
}

/// Task: aborts its worker (SIGABRT).
pub(crate) fn abort_self(_: ()) -> u32 {
    std::process::abort()
}

/// Task: crashes its worker with a segmentation fault.
pub(crate) fn segfault_self(_: ()) -> u32 {
    // SAFETY:
    // - deliberately unsound: writing through a null pointer is the crash this test needs;
    //   the kernel stops the worker with SIGSEGV before anything else can observe the write.
    unsafe { std::ptr::null_mut::<u8>().write_volatile(1) };
    0
}

/// Task: exits its worker with status 3.
pub(crate) fn exit_self(_: ()) -> u32 {
    std::process::exit(3)
}

/// Whether process `pid` has ended (gone, or a zombie nobody reaped yet).
pub(crate) fn is_dead(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(s) => {
            let state = s
                .rsplit(')')
                .next()
                .and_then(|r| r.split_whitespace().next());
            matches!(state, Some("Z") | Some("X"))
        }
    }
}

/// Waits (blocking in `poll` on a pidfd, no sleeping) until `pid` has ended; false after
/// `limit`.
pub(crate) fn wait_dead(pid: u32, limit: Duration) -> bool {
    // SAFETY:
    // - pidfd_open takes a pid and flags and returns a new descriptor or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::c_int, 0) } as libc::c_int;
    if fd < 0 {
        return is_dead(pid); // already gone (ESRCH)
    }
    let deadline = Instant::now() + limit;
    let mut ok = false;
    while Instant::now() < deadline {
        let mut p = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = deadline
            .saturating_duration_since(Instant::now())
            .as_millis() as libc::c_int;
        // SAFETY:
        // - `p` is one valid pollfd that lives across the call.
        let r = unsafe { libc::poll(&mut p, 1, ms) };
        if r > 0 {
            ok = true;
            break;
        }
    }
    // SAFETY:
    // - `fd` is ours and closed once.
    unsafe { libc::close(fd) };
    ok || is_dead(pid)
}

/// CPU time (user + system, in clock ticks) process `pid` has used.
pub(crate) fn cpu_ticks(pid: u32) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let rest: Vec<&str> = s
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    // After the command: state is field 3, utime 14 and stime 15 (1-based) -> indices 11, 12.
    rest.get(11)
        .and_then(|u| u.parse::<u64>().ok())
        .unwrap_or(0)
        + rest
            .get(12)
            .and_then(|u| u.parse::<u64>().ok())
            .unwrap_or(0)
}

/// A FIFO that tasks and initializers write their pid into ([`signal_beacon`]), so that a
/// test knows, without sleeping, that one of them has reached a given point.
pub(crate) struct Beacon(Fifo);

impl Beacon {
    pub(crate) fn new() -> Beacon {
        Beacon(Fifo::new("beacon"))
    }

    /// The path to pass to [`signal_beacon`].
    pub(crate) fn path(&self) -> String {
        self.0.path()
    }
    /// The next pid signalled, waiting (in `poll`) at most `limit`.
    pub(crate) fn next_pid(&self, limit: Duration) -> Option<u32> {
        use std::os::fd::AsRawFd;
        let mut p = libc::pollfd {
            fd: self.0.keep.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let deadline = Instant::now() + limit;
        loop {
            let ms = deadline
                .saturating_duration_since(Instant::now())
                .as_millis() as libc::c_int;
            // SAFETY:
            // - `p` is one valid pollfd that lives across the call.
            let r = unsafe { libc::poll(&mut p, 1, ms) };
            if r > 0 {
                break;
            }
            if Instant::now() >= deadline {
                return None;
            }
        }
        let mut b = [0u8; 4];
        (&self.0.keep).read_exact(&mut b).unwrap();
        Some(u32::from_le_bytes(b))
    }
}

/// Writes this process's pid into the beacon at `path` (one write of 4 bytes: atomic).
pub(crate) fn signal_beacon(path: &str) {
    let mut f = OpenOptions::new().write(true).open(path).unwrap();
    f.write_all(&std::process::id().to_le_bytes()).unwrap();
}

/// Task: signals the beacon (it runs now), then blocks at the gate; returns the worker's pid.
pub(crate) fn beacon_then_gate((beacon, gate): (String, String)) -> u32 {
    signal_beacon(&beacon);
    wait_gate(gate)
}
