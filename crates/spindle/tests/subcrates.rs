//! The facade re-exports each layer under its Python name: one test per module, each touching a
//! real item through the `spindle::` path (after crossbeam's tests/subcrates.rs).

use std::time::Duration;

// This test binary can be re-executed as a worker process (see `multiprocessing()`).
spindle::multiprocessing::test_support!();

#[test]
fn threading() {
    let lock = spindle::threading::Lock::new();
    assert!(lock.try_acquire());
    assert!(lock.locked());
    lock.release().unwrap();
    let t = spindle::threading::Thread::builder()
        .name("facade")
        .spawn(|| spindle::threading::current_thread().name().to_string())
        .unwrap();
    assert_eq!(t.join().unwrap(), "facade");
}

#[test]
fn queue() {
    let q = spindle::queue::Queue::new(1);
    q.put_nowait(7).unwrap();
    assert!(matches!(
        q.put_nowait(8),
        Err(spindle::queue::PutError::Full(8))
    ));
    assert_eq!(q.get_nowait().unwrap(), 7);
}

#[test]
fn collections() {
    let dict = spindle::collections::ThreadSafeDict::new();
    dict.insert("hits", 1);
    dict.update("hits", |v: Option<&i32>| v.copied().unwrap_or(0) + 1);
    assert_eq!(dict.get(&"hits"), Some(2));
}

#[test]
fn futures() {
    let pool = spindle::futures::ThreadPoolExecutor::builder()
        .max_workers(2)
        .build();
    let fut = pool.submit(|| 6 * 7);
    assert_eq!(fut.result_timeout(Duration::from_secs(10)).unwrap(), 42);
}

/// Runs in a child process: answers with the square of what it receives.
fn square_once(conn: spindle::multiprocessing::Connection) {
    let n: u64 = conn.recv().unwrap();
    conn.send(&(n * n)).unwrap();
}

#[test]
fn multiprocessing() {
    let (ours, theirs) = spindle::multiprocessing::Pipe(true).unwrap();
    let mut child = spindle::multiprocessing::Process::new(square_once, theirs);
    child.start().unwrap();
    ours.send(&12u64).unwrap();
    assert_eq!(ours.recv::<u64>().unwrap(), 144);
    assert!(child.join_timeout(Duration::from_secs(30)));
    assert_eq!(child.exitcode(), Some(0));

    let shm = spindle::multiprocessing::shared_memory::SharedMemory::create(None, 64).unwrap();
    assert_eq!(shm.size(), 64);
    shm.unlink().unwrap();
}

#[test]
fn asyncio() {
    let out = spindle::asyncio::run(async {
        let task = spindle::asyncio::create_task(async { 20 + 1 });
        task.await.unwrap() * 2
    });
    assert_eq!(out, 42);
}

#[cfg(feature = "mpi")]
#[test]
fn mpi() {
    use spindle::mpi::{MpiError, MpiPoolExecutor};
    // Starting MPI needs mpirun; the re-export is checked through the types and the error
    // a plain run gets.
    let builder = MpiPoolExecutor::builder().max_workers(2);
    assert!(format!("{builder:?}").contains("max_workers"));
    assert!(MpiError::NoWorkers { size: 1 }
        .to_string()
        .contains("mpirun"));
}
