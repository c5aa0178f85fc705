//! A segment whose creator dies without unlinking it is removed by the resource tracker once
//! the creator's process tree is gone.
//!
//! This file holds one test on purpose: the child must be the first process of its tree to
//! create a segment, so the tracker belongs to the child's tree, not to this test binary.

spindle_process::test_support!();

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use spindle_process::shared_memory::SharedMemory;
use spindle_process::{Connection, Pipe, Process};
use support::{join_or_kill, process_lock, LIMIT};

fn create_then_die(conn: Connection) {
    let shm = SharedMemory::create(None, 4096).unwrap();
    conn.send(&shm.name().to_string()).unwrap();
    // Crash: no unlink, no destructors, no exit handlers.
    // SAFETY: raise has no memory preconditions.
    unsafe { libc::raise(libc::SIGKILL) };
}

#[test]
fn tracker_unlinks_after_creator_is_killed() {
    let _g = process_lock();
    let (a, b) = Pipe(true).unwrap();
    let mut p = Process::new(create_then_die, b);
    p.start().unwrap();
    let name: String = a.recv_timeout(LIMIT).unwrap();
    assert_eq!(join_or_kill(&p), -libc::SIGKILL);
    let path = Path::new("/dev/shm").join(&name);
    let deadline = Instant::now() + LIMIT;
    while path.exists() {
        assert!(Instant::now() < deadline, "{} leaked", path.display());
        // sleep-ok: the tracker is not our child and signals nothing; poll the file system.
        std::thread::sleep(Duration::from_millis(2));
    }
}
