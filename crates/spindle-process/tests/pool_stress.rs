//! Bounded stress: several threads submit at once to one pool while some tasks panic, some
//! kill their worker and workers are recycled; every task gets exactly its own outcome.

spindle_process::test_support!();

mod pool_support;

use pool_support::*;
use spindle_process::pool::{Pool, PoolError, ProcessPoolExecutor};

/// Threads submitting at once.
const THREADS: u64 = 4;
/// Tasks per thread.
const PER_THREAD: u64 = 300;

/// Task: fails in a way chosen by `x` (panic every 37th, worker death every 101st).
fn mixed(x: u64) -> u64 {
    if x % 101 == 100 {
        kill_self(());
    }
    if x % 37 == 36 {
        panic!("mixed {x}");
    }
    x * 3
}

fn check(x: u64, r: Result<u64, PoolError>) {
    match r {
        Ok(v) => assert_eq!(v, x * 3, "task {x}"),
        Err(PoolError::Panicked(m)) => assert_eq!(m, format!("mixed {x}")),
        Err(PoolError::WorkerDied { signal, .. }) => {
            assert_eq!(x % 101, 100, "task {x} died but should not have");
            assert_eq!(signal, Some(libc::SIGKILL));
        }
        Err(e) => panic!("task {x}: unexpected {e:?}"),
    }
}

#[test]
fn stress_concurrent_submitters_with_faults() {
    let pool = Pool::new(2).maxtasksperchild(50);
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let pool = &pool;
            s.spawn(move || {
                let xs: Vec<u64> = (t * PER_THREAD..(t + 1) * PER_THREAD).collect();
                let rs: Vec<_> = xs.iter().map(|&x| pool.apply_async(mixed, x)).collect();
                for (x, r) in xs.into_iter().zip(rs) {
                    check(x, r.get(Some(LIMIT)));
                }
            });
        }
    });
    // Every item of a chunked map gets its own outcome too.
    let items: Vec<u64> = (0..THREADS * PER_THREAD).collect();
    for (x, r) in items.iter().zip(pool.imap(mixed, items.clone(), 5)) {
        match r {
            // A death fails the whole chunk it was part of.
            Err(PoolError::WorkerDied { .. }) => {
                assert!((x / 5 * 5..x / 5 * 5 + 5).any(|y| y % 101 == 100))
            }
            other => check(*x, other),
        }
    }
}

#[test]
fn stress_executor_futures_from_threads() {
    let ex = ProcessPoolExecutor::builder().max_workers(2).build();
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let ex = &ex;
            s.spawn(move || {
                let futs: Vec<_> = (0..PER_THREAD)
                    .map(|i| (t * PER_THREAD + i, ex.submit(mixed, t * PER_THREAD + i)))
                    .collect();
                for (x, f) in futs {
                    check(
                        x,
                        f.into_result()
                            .map_err(|e| PoolError::from_future_error(&e)),
                    );
                }
            });
        }
    });
}
