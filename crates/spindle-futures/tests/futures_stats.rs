//! `ThreadPoolExecutor::stats`: exact counts after a known workload (returns, panics,
//! cancels, drains, refusals, a broken pool), `running` while a task is held, busy time.

mod support;

use std::time::Duration;

use spindle_futures::{FutureError, PoolStats, State, ThreadPoolExecutor};
use support::{Gate, LIMIT};

/// Tasks that return in the mixed workload.
const OK_TASKS: u64 = 20;
/// Tasks that panic in the mixed workload.
const PANICKING_TASKS: u64 = 3;
/// Tasks cancelled by the user while queued behind a held task.
const USER_CANCELLED: u64 = 4;
/// Tasks still queued when `shutdown(cancel_futures = true)` drains them.
const DRAINED: u64 = 5;

#[test]
fn a_new_pool_has_all_zero_counters() {
    let pool = ThreadPoolExecutor::new();
    assert_eq!(pool.stats(), PoolStats::default());
}

#[test]
fn counts_are_exact_after_returns_and_panics() {
    let pool = ThreadPoolExecutor::builder().max_workers(3).build();
    let ok: Vec<_> = (0..OK_TASKS).map(|i| pool.submit(move || i)).collect();
    let bad: Vec<_> = (0..PANICKING_TASKS)
        .map(|_| pool.submit(|| -> u64 { panic!("task failure (expected by the test)") }))
        .collect();
    for (i, f) in ok.iter().enumerate() {
        assert_eq!(f.result_timeout(LIMIT), Ok(i as u64));
    }
    for f in &bad {
        assert!(matches!(
            f.result_timeout(LIMIT),
            Err(FutureError::Panicked(_))
        ));
    }
    // Counted before the futures settle: no shutdown needed to see exact numbers.
    let stats = pool.stats();
    assert_eq!(stats.submitted, OK_TASKS + PANICKING_TASKS);
    assert_eq!(stats.completed, OK_TASKS);
    assert_eq!(stats.failed, PANICKING_TASKS);
    assert_eq!((stats.cancelled, stats.running, stats.queued()), (0, 0, 0));
    assert_eq!(stats.worker_restarts, 0);
    assert!(!stats.workers.is_empty() && stats.workers.len() <= 3);
    let per_worker: u64 = stats.workers.iter().map(|w| w.tasks_completed).sum();
    assert_eq!(per_worker, OK_TASKS + PANICKING_TASKS);
}

#[test]
fn cancels_drains_and_refusals_are_counted() {
    let pool = ThreadPoolExecutor::builder().max_workers(1).build();
    let gate = Gate::new();
    let held = {
        let gate = gate.clone();
        pool.submit(move || gate.hold())
    };
    gate.wait_entered();
    let cancelled: Vec<_> = (0..USER_CANCELLED)
        .map(|i| pool.submit(move || i))
        .collect();
    let drained: Vec<_> = (0..DRAINED).map(|i| pool.submit(move || i)).collect();
    for f in &cancelled {
        assert!(f.cancel());
    }

    let during = pool.stats();
    assert_eq!(during.submitted, 1 + USER_CANCELLED + DRAINED);
    assert_eq!(during.running, 1, "the held task");
    assert_eq!(
        during.finished(),
        0,
        "user cancels count once the pool pops them"
    );
    assert_eq!(during.queued(), USER_CANCELLED + DRAINED);

    // The only worker is held, so the drain takes every queued task, cancelled by the user
    // or not; each counts once.
    pool.shutdown(false, true);
    gate.open();
    pool.shutdown(true, false);
    assert_eq!(held.result_timeout(LIMIT), Ok(()));
    assert!(drained.iter().all(|f| f.state() == State::Cancelled));
    assert_eq!(pool.submit(|| 0).result(), Err(FutureError::ShutDown));

    let stats = pool.stats();
    assert_eq!(
        stats.submitted,
        1 + USER_CANCELLED + DRAINED,
        "a refusal is not counted"
    );
    assert_eq!(stats.completed, 1);
    assert_eq!(stats.failed, 0);
    assert_eq!(stats.cancelled, USER_CANCELLED + DRAINED);
    assert_eq!((stats.running, stats.queued()), (0, 0));
    assert_eq!(stats.workers.len(), 1);
    assert_eq!(
        stats.workers[0].tasks_completed, 1,
        "cancelled tasks were not run"
    );
}

#[test]
fn a_broken_pool_counts_its_queued_tasks_as_failed() {
    const TASKS: u64 = 6;
    let pool = ThreadPoolExecutor::builder()
        .max_workers(2)
        .initializer(|| panic!("initializer failure (expected by the test)"))
        .build();
    let futures: Vec<_> = (0..TASKS).map(|i| pool.submit(move || i)).collect();
    for f in &futures {
        assert!(matches!(
            f.result_timeout(LIMIT),
            Err(FutureError::BrokenExecutor(_, _))
        ));
    }
    pool.shutdown(true, false);
    let stats = pool.stats();
    assert_eq!(stats.submitted, TASKS);
    assert_eq!(stats.failed, TASKS);
    assert_eq!((stats.completed, stats.cancelled, stats.running), (0, 0, 0));
    assert!(
        stats.workers.iter().all(|w| w.tasks_completed == 0),
        "no task ran"
    );
}

#[test]
fn a_worker_that_ran_a_task_has_busy_time() {
    let pool = ThreadPoolExecutor::builder().max_workers(1).build();
    let gate = Gate::new();
    let held = {
        let gate = gate.clone();
        pool.submit(move || gate.hold())
    };
    gate.wait_entered();
    let while_running = pool.stats().workers[0].busy;
    assert!(
        while_running > Duration::ZERO,
        "a stretch still going on counts"
    );
    gate.open();
    assert_eq!(held.result_timeout(LIMIT), Ok(()));
    pool.shutdown(true, false);
    let worker = pool.stats().workers[0].clone();
    assert_eq!((worker.id, worker.tasks_completed), (0, 1));
    assert!(worker.busy >= while_running);
    assert_eq!(
        pool.stats().workers[0].busy,
        worker.busy,
        "an exited worker's busy time stays put"
    );
}
