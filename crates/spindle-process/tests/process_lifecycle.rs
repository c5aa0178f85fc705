//! Process start, join, exit codes, signals, names and errors (after CPython's
//! `_test_multiprocessing.TestProcess`).

spindle_process::test_support!();

mod support;

use std::time::{Duration, Instant};

use spindle_process::{current_process, parent_process, Pipe, Process, ProcessError};
use support::{join_or_kill, process_lock, spawn, KillOnDrop, LIMIT};

fn noop(_: ()) {}

fn exit_with(code: i32) {
    std::process::exit(code);
}

fn panics(msg: String) {
    panic!("{msg}");
}

/// Blocks on a pipe nobody writes to: stuck until signalled.
fn stuck(conn: spindle_process::Connection) {
    let _ = conn.recv_bytes();
    // If the parent closed its end, exit with a code the test would flag.
    std::process::exit(99);
}

/// Starts [`stuck`] in a child; it stays blocked until killed or until the returned pipe end
/// is dropped.
fn spawn_stuck() -> (spindle_process::Connection, KillOnDrop) {
    let (parent_end, child_end) = Pipe(true).unwrap();
    (parent_end, spawn(stuck, child_end))
}

#[test]
fn smoke_start_join() {
    let _g = process_lock();
    let mut p = Process::new(noop, ());
    assert!(!p.is_alive());
    assert_eq!(p.exitcode(), None);
    p.start().unwrap();
    assert!(p.pid().is_some());
    assert_eq!(join_or_kill(&p), 0);
    assert!(!p.is_alive());
    assert_eq!(p.exitcode(), Some(0));
    assert_eq!(p.join().unwrap(), 0, "join after the end returns at once");
}

#[test]
fn exit_status_is_the_exitcode() {
    let _g = process_lock();
    for code in [0, 1, 3, 77] {
        let mut p = Process::new(exit_with, code);
        p.start().unwrap();
        assert_eq!(join_or_kill(&p), code);
    }
}

#[test]
fn panic_gives_exit_code_1() {
    let _g = process_lock();
    let mut p = Process::new(panics, "deliberate panic in a child".to_string());
    p.start().unwrap();
    assert_eq!(join_or_kill(&p), 1);
}

#[test]
fn terminate_a_stuck_child_gives_minus_sigterm() {
    let _g = process_lock();
    let (parent_end, p) = spawn_stuck();
    assert!(
        !p.join_timeout(Duration::from_millis(50)),
        "child is blocked on the pipe"
    );
    assert!(p.is_alive());
    p.terminate().unwrap();
    assert_eq!(join_or_kill(&p), -libc::SIGTERM);
    drop(parent_end);
}

#[test]
fn kill_a_stuck_child_gives_minus_sigkill() {
    let _g = process_lock();
    let (parent_end, p) = spawn_stuck();
    p.kill().unwrap();
    assert_eq!(join_or_kill(&p), -libc::SIGKILL);
    // Signalling an ended (reaped) child is a no-op, not an error.
    p.terminate().unwrap();
    p.kill().unwrap();
    drop(parent_end);
}

#[test]
fn join_timeout_returns_false_then_true() {
    let _g = process_lock();
    let (parent_end, p) = spawn_stuck();
    let t0 = Instant::now();
    assert!(!p.join_timeout(Duration::from_millis(100)));
    assert!(t0.elapsed() >= Duration::from_millis(100));
    // Closing our end makes the child's recv fail; it exits with 99.
    drop(parent_end);
    assert!(p.join_timeout(LIMIT));
    assert_eq!(p.exitcode(), Some(99));
}

#[test]
fn errors_before_start_twice_and_after_close() {
    let _g = process_lock();
    let mut p = Process::new(noop, ());
    assert!(matches!(p.join(), Err(ProcessError::NotStarted)));
    assert!(matches!(p.terminate(), Err(ProcessError::NotStarted)));
    assert!(!p.join_timeout(Duration::ZERO));
    p.start().unwrap();
    assert!(matches!(p.start(), Err(ProcessError::AlreadyStarted)));
    join_or_kill(&p);
    p.close().unwrap();
    p.close().unwrap();
    assert!(matches!(p.join(), Err(ProcessError::Closed)));
    assert!(matches!(p.start(), Err(ProcessError::Closed)));
    assert_eq!(p.pid(), None);
}

#[test]
fn close_while_running_is_refused() {
    let _g = process_lock();
    let (parent_end, child_end) = Pipe(true).unwrap();
    let mut p = Process::new(stuck, child_end);
    p.start().unwrap();
    assert!(matches!(p.close(), Err(ProcessError::StillRunning)));
    p.kill().unwrap();
    join_or_kill(&p);
    p.close().unwrap();
    drop(parent_end);
}

fn report_identity(conn: spindle_process::Connection) {
    let me = current_process();
    let parent = parent_process().expect("a child has a parent");
    conn.send(&(
        me.name().to_string(),
        me.pid(),
        parent.pid(),
        parent.name().to_string(),
    ))
    .unwrap();
}

#[test]
fn names_pids_and_parent() {
    let _g = process_lock();
    let (a, b) = Pipe(true).unwrap();
    let mut p = Process::new(report_identity, b).name("reporter");
    assert_eq!(p.get_name(), "reporter");
    p.start().unwrap();
    let (name, pid, ppid, pname): (String, u32, u32, String) = a.recv_timeout(LIMIT).unwrap();
    assert_eq!(join_or_kill(&p), 0);
    assert_eq!(name, "reporter");
    assert_eq!(Some(pid), p.pid());
    assert_eq!(ppid, std::process::id());
    assert_eq!(pname, "MainProcess");
}

#[test]
fn default_names_count_up() {
    let a = Process::new(noop, ());
    let b = Process::new(noop, ());
    let na: u32 = a
        .get_name()
        .strip_prefix("Process-")
        .unwrap()
        .parse()
        .unwrap();
    let nb: u32 = b
        .get_name()
        .strip_prefix("Process-")
        .unwrap()
        .parse()
        .unwrap();
    assert!(nb > na);
}

#[test]
fn argument_that_cannot_be_encoded_is_a_ship_error() {
    let _g = process_lock();
    // A connection that was closed cannot be serialised.
    let (mut a, _b) = Pipe(true).unwrap();
    a.close();
    fn take(_: spindle_process::Connection) {}
    let mut p = Process::new(take, a);
    assert!(matches!(p.start(), Err(ProcessError::Ship(_))));
}

#[test]
fn active_children_lists_running_ones() {
    let _g = process_lock();
    let (parent_end, p) = spawn_stuck();
    let pid = p.pid().unwrap();
    assert!(spindle_process::active_children()
        .iter()
        .any(|c| c.pid() == pid));
    p.kill().unwrap();
    join_or_kill(&p);
    assert!(!spindle_process::active_children()
        .iter()
        .any(|c| c.pid() == pid));
    drop(parent_end);
}

fn start_grandchild(conn: spindle_process::Connection) {
    let mut p = Process::new(noop, ());
    let r = p.start();
    conn.send(&matches!(r, Err(ProcessError::DaemonChildren)))
        .unwrap();
}

#[test]
fn daemon_cannot_start_children() {
    let _g = process_lock();
    let (a, b) = Pipe(true).unwrap();
    let mut p = Process::new(start_grandchild, b).daemon(true);
    assert!(p.is_daemon());
    p.start().unwrap();
    let refused: bool = a.recv_timeout(LIMIT).unwrap();
    assert!(refused);
    assert_eq!(join_or_kill(&p), 0);
}

fn nested_child(conn: spindle_process::Connection) {
    let mut p = Process::new(report_identity, conn);
    p.start().unwrap();
    std::process::exit(p.join().unwrap());
}

#[test]
fn a_child_can_start_its_own_child() {
    let _g = process_lock();
    let (a, b) = Pipe(true).unwrap();
    let mut p = Process::new(nested_child, b);
    p.start().unwrap();
    let (name, _pid, ppid, pname): (String, u32, u32, String) = a.recv_timeout(LIMIT).unwrap();
    assert_eq!(join_or_kill(&p), 0);
    assert_eq!(Some(ppid), p.pid());
    assert_eq!(pname, p.get_name());
    assert!(name.starts_with(&format!("{}:", p.get_name())), "{name}");
}

#[test]
fn cpu_count_is_positive() {
    assert!(spindle_process::cpu_count() >= 1);
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

#[test]
fn ended_children_do_not_keep_descriptors() {
    let _g = process_lock();
    const CHILDREN: usize = 30;
    let before = open_fds();
    for _ in 0..CHILDREN {
        let mut p = Process::new(noop, ());
        p.start().unwrap();
        assert_eq!(join_or_kill(&p), 0);
    }
    let after = open_fds();
    assert!(
        after < before + 3,
        "descriptors grew from {before} to {after}"
    );
}

/// Ignores SIGTERM, says so, then blocks until killed.
fn ignore_term(conn: spindle_process::Connection) {
    // SAFETY: installing SIG_IGN runs no handler code.
    unsafe { libc::signal(libc::SIGTERM, libc::SIG_IGN) };
    conn.send(&()).unwrap();
    let _ = conn.recv_bytes();
}

#[test]
fn kill_ends_a_child_that_ignores_terminate() {
    let _g = process_lock();
    let (a, b) = Pipe(true).unwrap();
    let p = spawn(ignore_term, b);
    a.recv_timeout::<()>(LIMIT).unwrap();
    p.terminate().unwrap();
    assert!(
        !p.join_timeout(Duration::from_millis(50)),
        "SIGTERM is ignored"
    );
    p.kill().unwrap();
    assert_eq!(join_or_kill(&p), -libc::SIGKILL);
}

/// Pretends to be a worker whose `main` skipped `init()`, then tries to start a process.
fn start_without_init(conn: spindle_process::Connection) {
    // This child runs one thread, so changing its environment races nothing.
    std::env::set_var("SPINDLE_WORKER_JOB_FD", "999");
    let mut p = Process::new(noop, ());
    conn.send(&matches!(p.start(), Err(ProcessError::NotInitialized)))
        .unwrap();
}

#[test]
fn a_worker_that_skipped_init_cannot_start_processes() {
    let _g = process_lock();
    let (a, b) = Pipe(true).unwrap();
    let mut p = Process::new(start_without_init, b);
    p.start().unwrap();
    assert!(a.recv_timeout::<bool>(LIMIT).unwrap());
    assert_eq!(join_or_kill(&p), 0);
}

fn die_by_signal(sig: i32) {
    // SAFETY: restoring the default action and raising a signal touch no memory of ours.
    unsafe {
        libc::signal(sig, libc::SIG_DFL);
        libc::raise(sig);
    }
}

#[test]
fn death_by_signal_is_minus_signal() {
    let _g = process_lock();
    for sig in [libc::SIGSEGV, libc::SIGABRT, libc::SIGINT] {
        let mut p = Process::new(die_by_signal, sig);
        p.start().unwrap();
        assert_eq!(join_or_kill(&p), -sig, "signal {sig}");
    }
}
