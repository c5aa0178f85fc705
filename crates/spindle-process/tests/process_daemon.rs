//! Daemon children are terminated when their parent exits, normally or by `SIGKILL`.

spindle_process::test_support!();

mod support;

use std::os::fd::{AsFd, FromRawFd, OwnedFd};
use std::time::Duration;

use spindle_process::{Connection, Pipe, Process};
use support::{join_or_kill, process_lock, spawn, LIMIT};

/// Blocks forever on a pipe nobody writes to (its peer lives in the test process).
fn stuck(conn: Connection) {
    let _ = conn.recv_bytes();
}

/// Starts a daemon grandchild stuck on `hold`, reports its pid, then returns or blocks.
fn parent_of_daemon((report, hold, block): (Connection, Connection, bool)) {
    let mut d = Process::new(stuck, hold).daemon(true);
    d.start().unwrap();
    report.send(&d.pid().unwrap()).unwrap();
    if block {
        let _ = report.recv_bytes();
    }
}

/// Waits until process `pid` (not our child) has gone, using a pidfd.
fn wait_gone(pid: u32) -> bool {
    // SAFETY: pidfd_open takes a pid and flags; the result is checked.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
    if fd < 0 {
        return true; // already gone
    }
    // SAFETY: a fresh descriptor from pidfd_open, owned here.
    let fd = unsafe { OwnedFd::from_raw_fd(fd as i32) };
    let mut pfd = libc::pollfd {
        fd: std::os::fd::AsRawFd::as_raw_fd(&fd.as_fd()),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd.
    let r = unsafe { libc::poll(&mut pfd, 1, LIMIT.as_millis() as i32) };
    r == 1
}

#[test]
fn daemon_is_terminated_when_parent_returns() {
    let _g = process_lock();
    let (report_here, report_there) = Pipe(true).unwrap();
    let (_hold_here, hold_there) = Pipe(true).unwrap();
    let p = spawn(parent_of_daemon, (report_there, hold_there, false));
    let daemon_pid: u32 = report_here.recv_timeout(LIMIT).unwrap();
    assert_eq!(join_or_kill(&p), 0);
    assert!(
        wait_gone(daemon_pid),
        "daemon {daemon_pid} survived its parent"
    );
}

#[test]
fn daemon_dies_with_a_killed_parent() {
    let _g = process_lock();
    let (report_here, report_there) = Pipe(true).unwrap();
    let (_hold_here, hold_there) = Pipe(true).unwrap();
    let p = spawn(parent_of_daemon, (report_there, hold_there, true));
    let daemon_pid: u32 = report_here.recv_timeout(LIMIT).unwrap();
    assert!(!p.join_timeout(Duration::from_millis(20)));
    p.kill().unwrap();
    assert_eq!(join_or_kill(&p), -libc::SIGKILL);
    assert!(
        wait_gone(daemon_pid),
        "daemon {daemon_pid} survived its killed parent"
    );
}
