//! The `fork` start method, checked from a single-threaded `main` (libtest's threads would
//! make `fork` unsound, which is the point of its `unsafe` opt-in).

use std::time::Duration;

use spindle_process::{current_process, Connection, Pipe, Process, StartMethod, Value};

const LIMIT: Duration = Duration::from_secs(30);

fn exit_with(code: i32) {
    std::process::exit(code);
}

fn panics(_: ()) {
    panic!("deliberate panic in a forked child");
}

fn report((conn, v): (Connection, Value<u64>)) {
    *v.lock() += 5;
    conn.send(&current_process().name().to_string()).unwrap();
}

fn fork_method() -> StartMethod {
    // SAFETY: this program runs its checks on the main thread only and starts no threads.
    unsafe { StartMethod::fork() }
}

fn run(p: &mut Process) -> i32 {
    p.start().unwrap();
    assert!(p.join_timeout(LIMIT), "forked child did not finish");
    p.exitcode().unwrap()
}

fn main() {
    spindle_process::init();

    for code in [0, 4] {
        let mut p = Process::new(exit_with, code).start_method(fork_method());
        assert_eq!(run(&mut p), code);
    }
    println!("fork: exit codes ok");

    let mut p = Process::new(panics, ()).start_method(fork_method());
    assert_eq!(run(&mut p), 1);
    println!("fork: panic gives 1 ok");

    let (a, b) = Pipe(true).unwrap();
    let v = Value::new(1u64).unwrap();
    let mut p = Process::new(report, (b, v.clone()))
        .start_method(fork_method())
        .name("forked");
    assert_eq!(run(&mut p), 0);
    assert_eq!(a.recv_timeout::<String>(LIMIT).unwrap(), "forked");
    assert_eq!(v.get(), 6);
    println!("fork: arguments, identity and shared memory ok");

    // Killing a forked child that blocks.
    fn stuck(c: Connection) {
        let _ = c.recv_bytes();
    }
    let (_keep, there) = Pipe(true).unwrap();
    let mut p = Process::new(stuck, there).start_method(fork_method());
    p.start().unwrap();
    assert!(!p.join_timeout(Duration::from_millis(20)));
    p.kill().unwrap();
    assert!(p.join_timeout(LIMIT));
    assert_eq!(p.exitcode(), Some(-libc::SIGKILL));
    println!("fork: kill ok");
}
