//! One generic function over `RemoteExecutor`, run unchanged on a thread pool and on a
//! process pool.

spindle_process::test_support!();

mod pool_support;

use pool_support::{panics, square, LIMIT};
use spindle_futures::{FutureError, RemoteExecutor, ThreadPoolExecutor};
use spindle_process::pool::ProcessPoolExecutor;

fn run_on<E: RemoteExecutor>(e: &E) {
    assert_eq!(e.submit_fn(square, 12).result_timeout(LIMIT), Ok(144));
    let all: Vec<u64> = e.map_fn(square, 0..40u64).map(Result::unwrap).collect();
    assert_eq!(all, (0..40u64).map(|x| x * x).collect::<Vec<_>>());
    assert_eq!(
        e.submit_fn(panics, 5).result_timeout(LIMIT),
        Err(FutureError::Panicked("task 5 failed on purpose".into()))
    );
    assert!(e.parallelism() >= 1);
    e.shutdown(true, false);
    assert_eq!(
        e.submit_fn(square, 1).result_timeout(LIMIT),
        Err(FutureError::ShutDown)
    );
}

#[test]
fn on_threads() {
    run_on(&ThreadPoolExecutor::builder().max_workers(2).build());
}

#[test]
fn on_processes() {
    run_on(&ProcessPoolExecutor::builder().max_workers(2).build());
}
