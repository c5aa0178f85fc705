//! Manager faults with real processes and real signals: the owner killed (SIGKILL, SIGTERM),
//! Ctrl-C to its process group, the whole group killed, the owner exiting or panicking with
//! the manager alive; a client trickling its handshake or a request one byte at a time; more
//! connections than the server's cap.
//!
//! Every manager here runs in a child process, never in this test binary: the child is then
//! the first process of its tree to register with the resource tracker, so the tracker belongs
//! to the child's tree (as in `shm_crash_cleanup.rs`) and cleans up when that tree is gone.

spindle_process::test_support!();

mod support;

use serde::{Deserialize, Serialize};
use spindle_process::managers::{Manager, ManagerError};
use spindle_process::{Connection, Pipe};
use std::io::{ErrorKind, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use support::{join_or_kill, process_lock, spawn, KillOnDrop, Watchdog, LIMIT};

/// Bound of every test here, hangs included.
const WATCHDOG: Duration = Duration::from_secs(90);
/// Handshake deadline of the managers in the trickle and cap tests.
const HANDSHAKE: Duration = Duration::from_secs(2);
/// Length of the authentication key, and the server's answers (see `managers/wire.rs`).
const KEY_LEN: usize = 32;
const AUTH_OK: u8 = 1;
const AUTH_BUSY: u8 = 2;

/// How the host child ends its manager when told to.
#[derive(Debug, Serialize, Deserialize)]
enum End {
    /// Returns without dropping the manager (no shutdown; the exit handlers run).
    Leak,
    /// Panics with the manager on the stack.
    Panic,
}

/// What the host reports: the socket's directory, the socket, the key, the server's pid.
#[derive(Debug, Serialize, Deserialize)]
struct Report {
    dir: PathBuf,
    address: PathBuf,
    key: Vec<u8>,
    server_pid: u32,
}

/// Settings of the host child.
#[derive(Debug, Serialize, Deserialize)]
struct Host {
    /// Leave the test's process group first (so the test can signal the child's group).
    own_group: bool,
    max_connections: usize,
    handshake: Duration,
}

/// The child: starts a manager, reports it, then waits to be told how to end (or killed).
fn host((conn, cfg): (Connection, Host)) {
    if cfg.own_group {
        // SAFETY: setpgid on ourselves takes no pointers.
        assert_eq!(unsafe { libc::setpgid(0, 0) }, 0);
    }
    let manager = Manager::builder()
        .max_connections(cfg.max_connections)
        .handshake_timeout(cfg.handshake)
        .start()
        .unwrap();
    let address = manager.address().to_path_buf();
    let report = Report {
        dir: address.parent().unwrap().to_path_buf(),
        address,
        key: manager.authkey().to_vec(),
        server_pid: manager.server_pid().unwrap(),
    };
    conn.send(&report).unwrap();
    match conn.recv::<End>() {
        Ok(End::Leak) => std::mem::forget(manager),
        Ok(End::Panic) => panic!("the host panics with its manager alive"),
        Err(_) => drop(manager),
    }
}

/// Starts a host child and returns it with the test's end of the pipe and its report.
fn start_host(cfg: Host) -> (KillOnDrop, Connection, Report) {
    let (ours, theirs) = Pipe(true).unwrap();
    let child = spawn(host, (theirs, cfg));
    let report: Report = ours.recv_timeout(LIMIT).unwrap();
    assert!(report.address.exists(), "{report:?}");
    (child, ours, report)
}

fn default_host(own_group: bool) -> Host {
    Host {
        own_group,
        max_connections: 256,
        handshake: Duration::from_secs(10),
    }
}

fn signal(pid: i32, sig: i32) {
    // SAFETY: kill takes no pointers.
    assert_eq!(unsafe { libc::kill(pid, sig) }, 0, "kill({pid}, {sig})");
}

/// Whether `pid` has ended (gone, or a zombie waiting for its reaper).
fn ended(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        // The state follows the parenthesised command name.
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with(['Z', 'X'])),
    }
}

/// Polls until `done` holds, failing with `what` at the deadline.
fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "{what} within {limit:?}");
        // The state polled (a directory, another process's end) signals nothing to wait on.
        // sleep-ok: polling the file system with a deadline
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// The directory and the server are gone within the bound.
fn assert_cleaned(report: &Report) {
    wait_until(&format!("{} removed", report.dir.display()), LIMIT, || {
        !report.dir.exists()
    });
    wait_until(
        &format!("server {} ended", report.server_pid),
        LIMIT,
        || ended(report.server_pid),
    );
}

#[test]
fn sigkill_of_the_owner_removes_the_socket_directory() {
    let _g = process_lock();
    let _w = Watchdog::new("sigkill_of_the_owner", WATCHDOG);
    let (child, _conn, report) = start_host(default_host(false));
    signal(child.pid().unwrap() as i32, libc::SIGKILL);
    assert_eq!(join_or_kill(&child), -libc::SIGKILL);
    assert_cleaned(&report);
}

#[test]
fn sigterm_of_the_owner_removes_the_socket_directory() {
    let _g = process_lock();
    let _w = Watchdog::new("sigterm_of_the_owner", WATCHDOG);
    let (child, _conn, report) = start_host(default_host(false));
    signal(child.pid().unwrap() as i32, libc::SIGTERM);
    assert_eq!(join_or_kill(&child), -libc::SIGTERM);
    assert_cleaned(&report);
}

#[test]
fn ctrl_c_to_the_process_group_removes_the_socket_directory() {
    let _g = process_lock();
    let _w = Watchdog::new("ctrl_c_to_the_process_group", WATCHDOG);
    // SIGINT to the whole group, as a terminal's Ctrl-C: owner and server both get it.
    let (child, _conn, report) = start_host(default_host(true));
    let pid = child.pid().unwrap() as i32;
    signal(-pid, libc::SIGINT);
    assert_eq!(join_or_kill(&child), -libc::SIGINT);
    assert_cleaned(&report);
}

#[test]
fn sigkill_of_the_whole_group_leaves_the_cleanup_to_the_tracker() {
    let _g = process_lock();
    let _w = Watchdog::new("sigkill_of_the_whole_group", WATCHDOG);
    // Owner and server die at once: nobody of the tree can clean up, the tracker must.
    let (child, _conn, report) = start_host(default_host(true));
    let pid = child.pid().unwrap() as i32;
    signal(-pid, libc::SIGKILL);
    assert_eq!(join_or_kill(&child), -libc::SIGKILL);
    assert_cleaned(&report);
}

#[test]
fn exit_or_panic_without_shutdown_removes_the_socket_directory() {
    let _g = process_lock();
    let _w = Watchdog::new("exit_or_panic_without_shutdown", WATCHDOG);
    for (end, code) in [(End::Leak, 0), (End::Panic, 1)] {
        let (child, conn, report) = start_host(default_host(false));
        conn.send(&end).unwrap();
        assert_eq!(join_or_kill(&child), code, "{end:?}");
        assert_cleaned(&report);
    }
}

/// What the stale-registration host reports: the directory at the reused path, the tracker's
/// pid, and the inode numbers of the old and the new directory.
type StaleReport = (PathBuf, u32, u64, u64);

/// The tracker this process started (its child named `spindle-tracker`).
fn own_tracker() -> u32 {
    let me = std::process::id();
    let children = std::fs::read_to_string(format!("/proc/{me}/task/{me}/children")).unwrap();
    children
        .split_whitespace()
        .map(|p| p.parse::<u32>().unwrap())
        .find(|p| {
            std::fs::read_to_string(format!("/proc/{p}/comm"))
                .is_ok_and(|c| c.trim() == "spindle-tracker")
        })
        .expect("a tracker child")
}

/// Leaves a stale registration behind: the server is killed, its directory removed by hand
/// (no unregister) and another directory, with an entry of the same name, made at its path.
fn stale_host(conn: Connection) {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};
    let manager = Manager::start().unwrap();
    let dir = manager.address().parent().unwrap().to_path_buf();
    let old_ino = std::fs::metadata(&dir).unwrap().ino();
    let server = manager.server_pid().unwrap();
    signal(server as i32, libc::SIGKILL);
    wait_until("the server killed", LIMIT, || ended(server));
    std::fs::remove_file(manager.address()).unwrap();
    std::fs::remove_dir(&dir).unwrap();
    std::fs::DirBuilder::new().mode(0o700).create(&dir).unwrap();
    std::fs::write(dir.join("manager.sock"), b"not yours").unwrap();
    let new_ino = std::fs::metadata(&dir).unwrap().ino();
    conn.send(&(dir, own_tracker(), old_ino, new_ino)).unwrap();
    // No shutdown: it would remove the new directory as if it were the manager's.
    std::mem::forget(manager);
}

#[test]
fn a_stale_registration_spares_a_directory_that_reused_the_path() {
    let _g = process_lock();
    let _w = Watchdog::new("stale registration", WATCHDOG);
    let (ours, theirs) = Pipe(true).unwrap();
    let child = spawn(stale_host, theirs);
    let (dir, tracker, old_ino, new_ino): StaleReport = ours.recv_timeout(LIMIT).unwrap();
    assert_eq!(join_or_kill(&child), 0);
    // The tree is gone: the tracker runs its cleanup and exits.
    wait_until("the tracker ended", LIMIT, || ended(tracker));
    let entry = dir.join("manager.sock");
    let kept = std::fs::read(&entry);
    let _ = std::fs::remove_file(&entry);
    let _ = std::fs::remove_dir(&dir);
    // On ext4 the new directory usually gets the old inode number: only the birth time differs.
    assert_eq!(
        kept.ok().as_deref(),
        Some(&b"not yours"[..]),
        "the tracker removed a directory that reused the path (inode {old_ino} -> {new_ino})"
    );
}

/// Connects to the socket with a raw stream that fails reads after `timeout`.
fn raw(address: &Path, timeout: Duration) -> UnixStream {
    let s = UnixStream::connect(address).unwrap();
    s.set_read_timeout(Some(timeout)).unwrap();
    s
}

/// Connects and authenticates with a raw stream.
fn authenticated(report: &Report) -> UnixStream {
    let mut s = raw(&report.address, LIMIT);
    s.write_all(&report.key).unwrap();
    let mut answer = [0u8; 1];
    s.read_exact(&mut answer).unwrap();
    assert_eq!(answer[0], AUTH_OK);
    s
}

/// Sends `bytes` one at a time, about a second apart, until the server closes the connection;
/// returns how long after the first byte that happened, and how many bytes went out.
fn trickle(s: &mut UnixStream, bytes: &[u8]) -> Option<(Duration, usize)> {
    s.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
    let start = Instant::now();
    for (sent, b) in bytes.iter().enumerate() {
        if s.write_all(&[*b]).is_err() {
            return Some((start.elapsed(), sent));
        }
        // The read paces the trickle and notices the close at once (end of file).
        let mut buf = [0u8; 16];
        match s.read(&mut buf) {
            Ok(0) => return Some((start.elapsed(), sent + 1)),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return Some((start.elapsed(), sent + 1)),
            Ok(n) => panic!("the server answered a partial exchange: {:?}", &buf[..n]),
        }
    }
    None
}

/// The close came at the handshake deadline: not before, and not much after.
fn assert_at_deadline(what: &str, closed: Option<(Duration, usize)>, total: usize) {
    let (after, sent) = closed.unwrap_or_else(|| panic!("{what}: never disconnected"));
    assert!(sent < total, "{what}: all {total} bytes went out");
    assert!(
        after + Duration::from_millis(100) >= HANDSHAKE && after <= HANDSHAKE * 2,
        "{what}: disconnected after {after:?}, deadline {HANDSHAKE:?}"
    );
}

fn limited_host(max_connections: usize) -> Host {
    Host {
        own_group: false,
        max_connections,
        handshake: HANDSHAKE,
    }
}

#[test]
fn a_client_trickling_bytes_is_disconnected_at_the_whole_exchange_deadline() {
    let _g = process_lock();
    let _w = Watchdog::new("trickling client", WATCHDOG);
    let (child, conn, report) = start_host(limited_host(8));
    // Authenticated now, idle through both trickles (longer than the deadline).
    let idle = authenticated(&report);

    // The key, one byte a second: each read would meet a per-read limit, not the deadline.
    let mut s = raw(&report.address, LIMIT);
    let key = report.key.clone();
    assert_at_deadline("key", trickle(&mut s, &key), KEY_LEN);

    // A request frame after an honest handshake: 4-byte length header, then the body.
    let mut s = authenticated(&report);
    let mut frame = 64u32.to_le_bytes().to_vec();
    frame.extend([0u8; 64]);
    assert_at_deadline("request", trickle(&mut s, &frame), frame.len());

    // An honest client still gets in; the idle authenticated connection was left alone.
    let m = Manager::connect(&report.address, &report.key).unwrap();
    m.namespace().unwrap().set("x", &1u8).unwrap();
    let mut probe = [0u8; 1];
    idle.set_nonblocking(true).unwrap();
    let idle_read = (&idle).read(&mut probe);
    assert!(
        matches!(&idle_read, Err(e) if e.kind() == ErrorKind::WouldBlock),
        "idle connection closed: {idle_read:?}"
    );
    drop(m);
    drop(conn); // the host drops its manager
    assert_eq!(join_or_kill(&child), 0);
    assert!(!report.dir.exists());
}

/// Threads of process `pid` now.
fn threads(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .count()
}

/// Reads the server's first answer on a fresh connection.
fn first_answer(s: &mut UnixStream) -> std::io::Result<[u8; 5]> {
    let mut answer = [0u8; 5];
    s.read_exact(&mut answer)?;
    Ok(answer)
}

#[test]
fn connections_over_the_cap_are_refused_at_once_and_threads_stay_bounded() {
    let _g = process_lock();
    let _w = Watchdog::new("connection cap", WATCHDOG);
    const CAP: usize = 8;
    let (child, conn, report) = start_host(limited_host(CAP));
    // The server's own threads: accept loop, owner watch, signal wait.
    let base = 3;
    assert!(threads(report.server_pid) <= base);

    let mut held: Vec<UnixStream> = (0..CAP).map(|_| authenticated(&report)).collect();
    let now = threads(report.server_pid);
    assert!(now <= base + CAP, "{now} threads");

    // The library's client gets the typed error, promptly.
    let t = Instant::now();
    let refused = Manager::connect(&report.address, &report.key);
    assert!(
        matches!(
            refused,
            Err(ManagerError::TooManyConnections { limit: CAP })
        ),
        "{refused:?}"
    );
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());

    // 300 idle connections: each is answered "busy" at once and costs no thread.
    let t = Instant::now();
    let mut extra: Vec<UnixStream> = (0..300)
        .map(|_| raw(&report.address, Duration::from_secs(5)))
        .collect();
    for s in &mut extra {
        let answer = first_answer(s).unwrap();
        assert_eq!(answer[0], AUTH_BUSY);
        assert_eq!(
            u32::from_le_bytes(answer[1..].try_into().unwrap()),
            CAP as u32
        );
    }
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
    let now = threads(report.server_pid);
    assert!(now <= base + CAP, "{now} threads, {base} before, cap {CAP}");
    drop(extra);

    // Closing some gives their places back.
    held.truncate(CAP - 2);
    let mut m = None;
    wait_until("a place freed", LIMIT, || {
        match Manager::connect(&report.address, &report.key) {
            Ok(c) => {
                m = Some(c);
                true
            }
            Err(ManagerError::TooManyConnections { .. }) => false,
            Err(e) => panic!("{e}"),
        }
    });
    let m = m.unwrap();
    m.namespace().unwrap().set("y", &2u8).unwrap();
    held.push(authenticated(&report));
    assert!(threads(report.server_pid) <= base + CAP);
    drop((m, held));
    drop(conn);
    assert_eq!(join_or_kill(&child), 0);
}

#[test]
fn os_errors_keep_their_cause() {
    use std::error::Error;
    let e = ManagerError::Io(std::io::Error::from_raw_os_error(libc::EMFILE));
    assert!(e.to_string().contains("os error 24"), "{e}");
    let source = e
        .source()
        .unwrap()
        .downcast_ref::<std::io::Error>()
        .unwrap();
    assert_eq!(source.raw_os_error(), Some(libc::EMFILE));
    let busy = ManagerError::TooManyConnections { limit: 3 };
    assert!(busy.to_string().contains("maximum of 3"), "{busy}");
}
