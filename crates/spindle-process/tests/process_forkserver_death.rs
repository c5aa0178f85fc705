//! The fork server SIGKILLed while its children run: they are not reported dead. While they
//! run, `is_alive()` is true and `exitcode()` `None`; once they end, their exit status is
//! unknown (`join` gives `ProcessError::StatusUnknown`), `terminate`/`kill`/`join_timeout`
//! keep working, and the next fork-server start launches a new server.

spindle_process::test_support!();

mod support;

use std::os::fd::{FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

use spindle_process::{Connection, Pipe, Process, ProcessError, StartMethod};
use support::{join_or_kill, process_lock, KillOnDrop, Watchdog, LIMIT};

/// Reports its parent (the fork server), then exits with the code it is sent (or 99 if the
/// test goes away first).
fn report_then_exit(conn: Connection) {
    conn.send(&std::os::unix::process::parent_id()).unwrap();
    let code = conn.recv_timeout::<i32>(LIMIT).unwrap_or(99);
    std::process::exit(code);
}

fn exit_with(code: i32) {
    std::process::exit(code);
}

fn fork_server_child(conn: Connection, daemon: bool) -> KillOnDrop {
    let mut p = Process::new(report_then_exit, conn)
        .daemon(daemon)
        .start_method(StartMethod::ForkServer);
    p.start().unwrap();
    KillOnDrop(p)
}

/// A pidfd for `pid` (which must be our unreaped child, so it cannot be a recycled pid).
fn pidfd(pid: u32) -> OwnedFd {
    // SAFETY:
    // - pidfd_open takes a pid and flags and returns a new descriptor or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
    assert!(
        fd >= 0,
        "pidfd_open({pid}): {}",
        std::io::Error::last_os_error()
    );
    // SAFETY:
    // - the syscall returned a fresh descriptor that nothing else owns.
    unsafe { OwnedFd::from_raw_fd(fd as i32) }
}

/// Waits (bounded) until the process behind `fd` has exited.
fn wait_exited(fd: &OwnedFd, what: &str) {
    use std::os::fd::AsRawFd;
    let mut p = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    let deadline = Instant::now() + LIMIT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "{what} did not exit within {LIMIT:?}");
        // SAFETY:
        // - `p` is one valid pollfd that outlives the call.
        let r = unsafe { libc::poll(&mut p, 1, left.as_millis() as i32 + 1) };
        if r == 1 {
            return;
        }
    }
}

/// The parent pid and state letter of `pid` from `/proc/<pid>/stat`.
fn proc_stat(pid: u32) -> Option<(u32, char)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    let mut fields = rest.split(' ');
    let state = fields.next()?.chars().next()?;
    let ppid = fields.next()?.parse().ok()?;
    Some((ppid, state))
}

/// The API says `p` runs, and so does the kernel.
fn assert_running(p: &Process, what: &str) {
    let pid = p.pid().unwrap();
    for _ in 0..3 {
        assert!(p.is_alive(), "{what}: is_alive() after the server died");
        assert_eq!(p.exitcode(), None, "{what}: exitcode() while it runs");
        assert!(
            !p.join_timeout(Duration::from_millis(20)),
            "{what}: join_timeout"
        );
    }
    let state = proc_stat(pid).map(|(_, s)| s);
    assert!(
        matches!(state, Some(s) if s != 'Z' && s != 'X'),
        "{what}: the kernel says it runs ({state:?})"
    );
}

/// `p` has ended and its status is unknown: the documented answer.
fn assert_status_unknown(p: &Process, what: &str) {
    assert!(p.join_timeout(LIMIT), "{what}: join_timeout once it ended");
    assert!(!p.is_alive(), "{what}: is_alive() once it ended");
    assert_eq!(
        p.exitcode(),
        None,
        "{what}: exitcode() of an unknown status"
    );
    match p.join() {
        Err(ProcessError::StatusUnknown { pid }) => assert_eq!(Some(pid), p.pid()),
        other => panic!("{what}: join() should say the status is unknown, got {other:?}"),
    }
}

#[test]
fn children_outlive_a_killed_fork_server_and_are_not_reported_dead() {
    let _g = process_lock();
    let _w = Watchdog::new("fork server death drill", Duration::from_secs(60));

    // Three ordinary children and one daemon (which the server's death takes with it).
    let mut conns = Vec::new();
    let mut kids = Vec::new();
    for daemon in [false, false, false, true] {
        let (here, there) = Pipe(true).unwrap();
        kids.push(fork_server_child(there, daemon));
        conns.push(here);
    }
    let servers: Vec<u32> = conns
        .iter()
        .map(|c| c.recv_timeout::<u32>(LIMIT).unwrap())
        .collect();
    let server = servers[0];
    assert!(
        servers.iter().all(|&s| s == server),
        "one server forked them all: {servers:?}"
    );
    assert_eq!(
        proc_stat(server).map(|(ppid, _)| ppid),
        Some(std::process::id()),
        "the fork server is this process's child"
    );

    // SIGKILL the server and wait until it is gone.
    let server_fd = pidfd(server);
    // SAFETY:
    // - kill has no memory preconditions; `server` is our unreaped child (checked above).
    let killed = unsafe { libc::kill(server as libc::pid_t, libc::SIGKILL) };
    assert_eq!(killed, 0, "SIGKILL the fork server");
    wait_exited(&server_fd, "the fork server");

    // The ordinary children still run, and say so.
    for (i, p) in kids[..3].iter().enumerate() {
        assert_running(p, &format!("child {i}"));
    }

    // The daemon died with its server (death signal): ended, status unknown.
    assert_status_unknown(&kids[3], "daemon child");

    // Child 0 ends by itself: its exit code went nowhere, so it is unknown.
    conns[0].send(&3i32).unwrap();
    assert_status_unknown(&kids[0], "child that exited");

    // terminate and kill still reach the others (through the pidfd the server sent).
    kids[1].terminate().unwrap();
    assert_status_unknown(&kids[1], "terminated child");
    kids[2].kill().unwrap();
    assert_status_unknown(&kids[2], "killed child");
    // Signalling a child that has ended is a no-op, as for any child.
    kids[2].kill().unwrap();

    // The next fork-server child gets a new server and a real exit code.
    let (here, there) = Pipe(true).unwrap();
    let next = fork_server_child(there, false);
    let new_server = here.recv_timeout::<u32>(LIMIT).unwrap();
    assert_ne!(new_server, server, "a new server was launched");
    here.send(&7i32).unwrap();
    assert_eq!(join_or_kill(&next), 7);
    assert_eq!(next.join().unwrap(), 7);

    let mut p = Process::new(exit_with, 5).start_method(StartMethod::ForkServer);
    p.start().unwrap();
    assert_eq!(join_or_kill(&p), 5);
}
