//! The fork-server start method: exit codes, panics, signals, handles as arguments, identity.

spindle_process::test_support!();

mod support;

use std::time::Duration;

use spindle_process::{
    current_process, parent_process, Connection, Pipe, Process, StartMethod, Value,
};
use support::{join_or_kill, process_lock, KillOnDrop, LIMIT};

fn exit_with(code: i32) {
    std::process::exit(code);
}

fn panics(_: ()) {
    panic!("deliberate panic in a fork-server child");
}

fn stuck(conn: Connection) {
    let _ = conn.recv_bytes();
}

fn report((conn, v): (Connection, Value<u64>)) {
    *v.lock() += 1;
    let parent = parent_process().expect("has a parent");
    conn.send(&(current_process().name().to_string(), parent.pid()))
        .unwrap();
}

fn fs(p: Process) -> Process {
    p.start_method(StartMethod::ForkServer)
}

#[test]
fn exit_codes_and_panics() {
    let _g = process_lock();
    for code in [0, 5] {
        let mut p = fs(Process::new(exit_with, code));
        p.start().unwrap();
        assert_eq!(join_or_kill(&p), code);
    }
    let mut p = fs(Process::new(panics, ()));
    p.start().unwrap();
    assert_eq!(join_or_kill(&p), 1);
}

#[test]
fn handles_identity_and_shared_memory() {
    let _g = process_lock();
    let (a, b) = Pipe(true).unwrap();
    let v = Value::new(10u64).unwrap();
    let mut p = fs(Process::new(report, (b, v.clone())).name("served"));
    p.start().unwrap();
    let (name, ppid): (String, u32) = a.recv_timeout(LIMIT).unwrap();
    assert_eq!(join_or_kill(&p), 0);
    assert_eq!(name, "served");
    assert_eq!(
        ppid,
        std::process::id(),
        "the logical parent is the client, not the server"
    );
    assert_eq!(v.get(), 11);
}

#[test]
fn terminate_and_join_timeout() {
    let _g = process_lock();
    let (_keep, there) = Pipe(true).unwrap();
    let mut p = fs(Process::new(stuck, there));
    p.start().unwrap();
    let p = KillOnDrop(p);
    assert!(!p.join_timeout(Duration::from_millis(30)));
    assert!(p.is_alive());
    p.terminate().unwrap();
    assert_eq!(join_or_kill(&p), -libc::SIGTERM);
}

#[test]
fn many_children_in_a_row() {
    let _g = process_lock();
    const CHILDREN: i32 = 20;
    let kids: Vec<Process> = (0..CHILDREN)
        .map(|i| {
            let mut p = fs(Process::new(exit_with, i % 7));
            p.start().unwrap();
            p
        })
        .collect();
    for (i, p) in kids.iter().enumerate() {
        assert_eq!(join_or_kill(p), i as i32 % 7);
    }
    // The server is internal: not among the active children.
    assert!(spindle_process::active_children()
        .iter()
        .all(|c| c.name() != "ForkServer"));
}
