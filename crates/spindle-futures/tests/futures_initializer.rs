//! Worker initializers: run once per thread; a panicking one breaks the pool without hangs
//! (CPython's `test_init.py`).

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use spindle_futures::{FutureError, ThreadPoolExecutor};
use spindle_sync::threading::Event;
use support::LIMIT;

thread_local! {
    static INITIALIZED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

#[test]
fn initializer_runs_once_per_worker_before_tasks() {
    const TASKS: usize = 20;
    let calls = Arc::new(AtomicUsize::new(0));
    let c = Arc::clone(&calls);
    let pool = ThreadPoolExecutor::builder()
        .max_workers(2)
        .initializer(move || {
            c.fetch_add(1, Ordering::SeqCst);
            INITIALIZED.with(|i| i.set(true));
        })
        .build();
    let futures: Vec<_> = (0..TASKS)
        .map(|_| pool.submit(|| INITIALIZED.with(std::cell::Cell::get)))
        .collect();
    for f in &futures {
        assert_eq!(f.result_timeout(LIMIT), Ok(true));
    }
    let threads = pool.num_threads();
    pool.shutdown(true, false);
    assert_eq!(calls.load(Ordering::SeqCst), threads);
}

#[test]
fn panicking_initializer_breaks_the_pool() {
    const QUEUED: usize = 5;
    let pool = ThreadPoolExecutor::builder()
        .max_workers(1)
        .initializer(|| panic!("initializer failure (expected by the test)"))
        .build();
    let futures: Vec<_> = (0..QUEUED).map(|i| pool.submit(move || i)).collect();
    for f in &futures {
        match f.result_timeout(LIMIT) {
            Err(FutureError::BrokenExecutor(msg, _)) => {
                assert!(
                    msg.contains("initializer failure (expected by the test)"),
                    "{msg}"
                );
                assert!(msg.contains("initializer failed"), "{msg}");
            }
            other => panic!("expected BrokenExecutor, got {other:?}"),
        }
    }
    assert!(matches!(
        pool.submit(|| 0).result_timeout(LIMIT),
        Err(FutureError::BrokenExecutor(_, _))
    ));
    assert!(matches!(
        pool.try_submit(|| 0),
        Err(FutureError::BrokenExecutor(_, _))
    ));
    pool.shutdown(true, false);
}

#[test]
fn a_late_initializer_failure_fails_queued_work() {
    // The first worker initializes fine and blocks; the second one fails and breaks the pool.
    let calls = Arc::new(AtomicUsize::new(0));
    let c = Arc::clone(&calls);
    let pool = ThreadPoolExecutor::builder()
        .max_workers(2)
        .initializer(move || {
            if c.fetch_add(1, Ordering::SeqCst) == 1 {
                panic!("second initializer failure (expected by the test)");
            }
        })
        .build();
    let entered = Arc::new(Event::new());
    let release = Arc::new(Event::new());
    let (e, r) = (Arc::clone(&entered), Arc::clone(&release));
    let first = pool.submit(move || {
        e.set();
        r.wait_timeout(LIMIT)
    });
    assert!(entered.wait_timeout(LIMIT));
    let second = pool.submit(|| 2);
    assert!(matches!(
        second.result_timeout(LIMIT),
        Err(FutureError::BrokenExecutor(_, _))
    ));
    release.set();
    assert_eq!(
        first.result_timeout(LIMIT),
        Ok(true),
        "the running task completes"
    );
}
