//! `Pool::stats` and `ProcessPoolExecutor::stats`: exact counts after a workload with a
//! panic and a worker killed by its task (one restart), live workers keyed by pid with busy
//! time, `running` while a task is held, and cancels by `shutdown(cancel_futures)`.

spindle_process::test_support!();

mod pool_support;

use pool_support::*;
use spindle_futures::PoolStats;
use spindle_process::pool::{Pool, PoolError, ProcessPoolExecutor};
use std::collections::HashSet;
use std::time::Duration;

/// Items mapped before the faults.
const BEFORE: u64 = 12;
/// Items mapped after the killed worker (at least 2: see below).
const AFTER: u64 = 8;
/// Tasks queued behind a held one and cancelled by `shutdown(cancel_futures)`.
const QUEUED: u64 = 3;

#[test]
fn a_pool_counts_returns_a_panic_and_a_killed_worker() {
    // One task per worker at a time, so the tasks after the death go through the supervisor
    // loop, which starts the replacement before it handles their replies.
    let pool = Pool::new(2).tasks_in_flight(1);
    assert_eq!(
        pool.stats(),
        PoolStats::default(),
        "nothing before the first task"
    );

    let squares = pool.map(square, 0..BEFORE, Some(1)).unwrap();
    assert_eq!(squares.len() as u64, BEFORE);
    assert!(matches!(pool.apply(panics, 7), Err(PoolError::Panicked(_))));
    assert!(matches!(
        pool.apply(kill_self, ()),
        Err(PoolError::WorkerDied { .. })
    ));
    let again = pool.map(square, 0..AFTER, Some(1)).unwrap();
    assert_eq!(again.len() as u64, AFTER);

    let stats = pool.stats();
    assert_eq!(stats.submitted, BEFORE + 2 + AFTER);
    assert_eq!(stats.completed, BEFORE + AFTER);
    assert_eq!(
        stats.failed, 2,
        "the panic and the task that killed its worker"
    );
    assert_eq!((stats.cancelled, stats.running, stats.queued()), (0, 0, 0));
    assert_eq!(stats.worker_restarts, 1);

    let live: HashSet<u64> = pool.worker_pids().into_iter().map(u64::from).collect();
    let listed: HashSet<u64> = stats.workers.iter().map(|w| w.id).collect();
    assert_eq!(listed, live, "workers are the live ones, keyed by pid");
    assert_eq!(stats.workers.len(), 2);
    let by_live: u64 = stats.workers.iter().map(|w| w.tasks_completed).sum();
    assert!(
        (AFTER..=BEFORE + 2 + AFTER).contains(&by_live),
        "the dead worker's items left the list: {by_live}"
    );
    for w in &stats.workers {
        assert_eq!(
            w.tasks_completed > 0,
            w.busy > Duration::ZERO,
            "busy time iff tasks: {w:?}"
        );
    }

    pool.close();
    pool.join().unwrap();
    let after = pool.stats();
    assert!(after.workers.is_empty(), "every worker left");
    assert_eq!(
        after.finished(),
        stats.finished(),
        "totals outlive the workers"
    );
}

#[test]
fn recycled_workers_count_as_restarts() {
    // One worker, retired after every 2 tasks: 6 single-item tasks need 3 workers, and a 4th
    // may already be starting when the last result arrives.
    let pool = Pool::new(1).maxtasksperchild(2).tasks_in_flight(1);
    assert_eq!(pool.map(square, 0..6u64, Some(1)).unwrap().len(), 6);
    let stats = pool.stats();
    assert_eq!((stats.submitted, stats.completed), (6, 6));
    assert!(
        (2..=3).contains(&stats.worker_restarts),
        "{}",
        stats.worker_restarts
    );
    pool.close();
    pool.join().unwrap();
}

#[test]
fn an_executor_counts_running_and_cancelled_tasks() {
    let ex = ProcessPoolExecutor::builder()
        .max_workers(1)
        .tasks_in_flight(1)
        .build();
    // The worker is up, so the next submit goes straight to it.
    let worker = ex.submit(pid, ()).result().unwrap();
    let gate = Gate::new();
    let held = ex.submit(wait_gate, gate.path());
    let queued: Vec<_> = (0..QUEUED).map(|x| ex.submit(square, x)).collect();

    let during = ex.stats();
    assert_eq!(during.submitted, 2 + QUEUED);
    assert_eq!((during.completed, during.running), (1, 1));
    assert_eq!(during.queued(), QUEUED);
    assert_eq!(during.workers.len(), 1);
    assert_eq!(during.workers[0].id, u64::from(worker));

    ex.shutdown(false, true);
    gate.release(1);
    assert_eq!(held.result_timeout(LIMIT), Ok(worker));
    assert!(queued.iter().all(|f| f.cancelled()));
    ex.shutdown(true, false);

    let stats = ex.stats();
    assert_eq!(stats.submitted, 2 + QUEUED);
    assert_eq!((stats.completed, stats.failed), (2, 0));
    assert_eq!(stats.cancelled, QUEUED);
    assert_eq!((stats.running, stats.worker_restarts), (0, 0));
}
