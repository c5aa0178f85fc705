//! A task kills its own worker (as the OOM killer or a segfault would) and the process pool
//! carries on: only that task fails, with an error naming the worker's pid and signal; the
//! worker is replaced and every other task completes. Python's `Pool` would hang here and
//! `ProcessPoolExecutor` would break for good.

use spindle::multiprocessing::pool::{Pool, PoolError};

fn square(x: u64) -> u64 {
    x * x
}

/// Kills the worker running it with SIGKILL.
fn die(_: ()) -> u64 {
    // SAFETY:
    // - kill with our own pid and a valid signal number touches no memory.
    unsafe { libc_kill(std::process::id() as i32, 9) };
    unreachable!("SIGKILL cannot be caught")
}

extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, sig: i32) -> i32;
}

fn main() {
    spindle::multiprocessing::init();
    let pool = Pool::new(2);
    let before = pool.apply(square, 3).unwrap();
    let others: Vec<_> = (0..10).map(|x| pool.apply_async(square, x)).collect();
    match pool.apply(die, ()) {
        Err(e @ PoolError::WorkerDied { pid, signal, .. }) => {
            println!("the crashing task failed alone: {e}");
            assert!(pid > 0);
            assert_eq!(signal, Some(9));
        }
        other => panic!("expected WorkerDied, got {other:?}"),
    }
    let done: Vec<u64> = others.iter().map(|r| r.get(None).unwrap()).collect();
    println!("the other tasks finished: {done:?}");
    assert_eq!(done, (0..10).map(|x| x * x).collect::<Vec<_>>());
    let after = pool.map(square, 0..100u64, None).unwrap();
    println!(
        "the pool lives on: {} more results, workers now {:?}",
        after.len(),
        pool.worker_pids()
    );
    assert_eq!(after.len(), 100);
    assert_eq!(before, 9);
    pool.close();
    pool.join().unwrap();
}
