//! Shutdown variants, drop, submit after shutdown, `try_submit`
//! (CPython's `test_shutdown.py`).

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use spindle_futures::{Executor, FutureError, State, ThreadPoolExecutor};
use spindle_sync::threading::enumerate;
use support::{Gate, LIMIT};

#[test]
fn submit_after_shutdown_is_refused() {
    let pool = ThreadPoolExecutor::new();
    pool.shutdown(true, false);
    assert_eq!(pool.submit(|| 1).result(), Err(FutureError::ShutDown));
    assert_eq!(pool.try_submit(|| 1).unwrap_err(), FutureError::ShutDown);
    assert_eq!(
        FutureError::ShutDown.to_string(),
        "cannot schedule new futures after shutdown"
    );
}

#[test]
fn shutdown_wait_runs_queued_work_then_joins() {
    const TASKS: usize = 50;
    let pool = ThreadPoolExecutor::builder()
        .max_workers(2)
        .thread_name_prefix("sdwait")
        .build();
    let ran = Arc::new(AtomicUsize::new(0));
    let futures: Vec<_> = (0..TASKS)
        .map(|_| {
            let r = Arc::clone(&ran);
            pool.submit(move || r.fetch_add(1, Ordering::SeqCst))
        })
        .collect();
    pool.shutdown(true, false);
    assert_eq!(ran.load(Ordering::SeqCst), TASKS);
    assert!(futures.iter().all(|f| f.state() == State::Finished));
    assert!(
        !enumerate().iter().any(|t| t.name().starts_with("sdwait_")),
        "workers are gone after shutdown(wait=true)"
    );
}

#[test]
fn shutdown_no_wait_returns_while_a_task_runs() {
    let pool = ThreadPoolExecutor::builder().max_workers(1).build();
    let gate = Gate::new();
    let g = gate.clone();
    let running = pool.submit(move || g.hold());
    let queued = pool.submit(|| 2);
    gate.wait_entered();
    pool.shutdown(false, false);
    assert_eq!(running.state(), State::Running);
    gate.open();
    assert_eq!(running.result_timeout(LIMIT), Ok(()));
    assert_eq!(
        queued.result_timeout(LIMIT),
        Ok(2),
        "queued work still runs"
    );
}

#[test]
fn shutdown_cancel_futures_cancels_what_has_not_started() {
    const QUEUED: usize = 10;
    let pool = ThreadPoolExecutor::builder().max_workers(1).build();
    let gate = Gate::new();
    let g = gate.clone();
    let running = pool.submit(move || g.hold());
    gate.wait_entered();
    let queued: Vec<_> = (0..QUEUED).map(|i| pool.submit(move || i)).collect();
    pool.shutdown(false, true);
    for f in &queued {
        assert_eq!(f.state(), State::Cancelled);
        assert_eq!(f.result(), Err(FutureError::Cancelled));
    }
    assert_eq!(running.state(), State::Running);
    gate.open();
    assert_eq!(running.result_timeout(LIMIT), Ok(()));
    pool.shutdown(true, true);
}

#[test]
fn drop_waits_for_queued_work() {
    const TASKS: usize = 20;
    let ran = Arc::new(AtomicUsize::new(0));
    {
        let pool = ThreadPoolExecutor::builder().max_workers(2).build();
        for _ in 0..TASKS {
            let r = Arc::clone(&ran);
            pool.submit(move || r.fetch_add(1, Ordering::SeqCst));
        }
    }
    assert_eq!(ran.load(Ordering::SeqCst), TASKS);
}

#[test]
fn shutdown_twice_and_from_the_trait() {
    let pool = ThreadPoolExecutor::new();
    let f = pool.submit(|| 1);
    Executor::shutdown(&pool, true, false);
    pool.shutdown(true, true);
    assert_eq!(f.result(), Ok(1));
}

#[test]
fn shutdown_of_an_unused_pool_is_immediate() {
    let pool = ThreadPoolExecutor::new();
    pool.shutdown(true, false);
    assert_eq!(pool.num_threads(), 0);
}

#[test]
fn shutdown_from_inside_a_task_does_not_deadlock() {
    let pool = Arc::new(ThreadPoolExecutor::builder().max_workers(1).build());
    let p = Arc::clone(&pool);
    let f = pool.submit(move || p.shutdown(true, false));
    assert_eq!(f.result_timeout(LIMIT), Ok(()));
    assert_eq!(pool.try_submit(|| ()).unwrap_err(), FutureError::ShutDown);
}

#[test]
fn idle_workers_wake_up_and_exit_on_shutdown() {
    let pool = ThreadPoolExecutor::builder()
        .max_workers(3)
        .thread_name_prefix("idleexit")
        .build();
    let gate = Gate::new();
    let futures: Vec<_> = (0..3)
        .map(|_| {
            let g = gate.clone();
            pool.submit(move || g.hold())
        })
        .collect();
    gate.open();
    for f in &futures {
        assert_eq!(f.result_timeout(LIMIT), Ok(()));
    }
    pool.shutdown(true, false);
    assert!(!enumerate()
        .iter()
        .any(|t| t.name().starts_with("idleexit_")));
}
