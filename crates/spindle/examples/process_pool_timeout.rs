//! A per-task timeout on a process pool (Python's `ProcessPoolExecutor` has none): the worker
//! running an overdue task is killed and replaced, only that task fails with `Timeout`, and
//! the tasks around it are unaffected.

use spindle::futures::FutureError;
use spindle::multiprocessing::pool::{PoolError, ProcessPoolExecutor};
use std::time::{Duration, Instant};

/// A task stuck forever (waiting for a wake-up that never comes).
fn hang(_: ()) -> u32 {
    loop {
        std::thread::park();
    }
}

fn double(x: u32) -> u32 {
    2 * x
}

fn main() {
    spindle::multiprocessing::init();
    let pool = ProcessPoolExecutor::builder().max_workers(2).build();
    let t = Instant::now();
    let stuck = pool.submit_with_timeout(hang, (), Duration::from_millis(300));
    let fine: Vec<_> = (0..10).map(|x| pool.submit(double, x)).collect();
    let err = stuck.exception().expect("the stuck task fails");
    println!("stuck task after {:?}: {err}", t.elapsed());
    assert_eq!(PoolError::from_future_error(&err), PoolError::Timeout);
    assert!(matches!(err, FutureError::Failed(_)));
    let results: Vec<u32> = fine.iter().map(|f| f.result().unwrap()).collect();
    println!("the other tasks: {results:?}");
    assert_eq!(results, (0..10).map(|x| 2 * x).collect::<Vec<_>>());
    assert_eq!(pool.submit(double, 21).result(), Ok(42));
    println!("the pool still works; workers {:?}", pool.worker_pids());
    pool.shutdown(true, false);
}
