//! Bounded stress: many submitters, cancellers and waiters on one small pool. Sized for two
//! cores; every wait has a time limit so a lost wake-up fails instead of hanging.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use spindle_futures::{as_completed, wait, FutureError, ReturnWhen, ThreadPoolExecutor};
use support::LIMIT;

const SUBMITTERS: usize = 4;
const TASKS_PER_SUBMITTER: usize = 2_000;
const ROUNDS: usize = 200;

#[test]
fn stress_submit_cancel_and_wait_from_many_threads() {
    let pool = ThreadPoolExecutor::builder().max_workers(3).build();
    let total_runs = AtomicUsize::new(0);
    let total_cancelled = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for t in 0..SUBMITTERS {
            let (pool, total_runs, total_cancelled) = (&pool, &total_runs, &total_cancelled);
            s.spawn(move || {
                let runs = Arc::new(AtomicUsize::new(0));
                let futures: Vec<_> = (0..TASKS_PER_SUBMITTER)
                    .map(|i| {
                        let r = Arc::clone(&runs);
                        pool.submit(move || {
                            r.fetch_add(1, Ordering::Relaxed);
                            i * t
                        })
                    })
                    .collect();
                let cancelled = futures.iter().step_by(7).filter(|f| f.cancel()).count();
                let (done, not_done) = wait(&futures, Some(LIMIT), ReturnWhen::AllCompleted);
                assert!(not_done.is_empty());
                assert_eq!(done.len(), TASKS_PER_SUBMITTER);
                for (i, f) in futures.iter().enumerate() {
                    match f.result() {
                        Ok(v) => assert_eq!(v, i * t),
                        Err(FutureError::Cancelled) => {}
                        Err(e) => panic!("unexpected {e}"),
                    }
                }
                let runs = runs.load(Ordering::Relaxed);
                assert_eq!(
                    runs + cancelled,
                    TASKS_PER_SUBMITTER,
                    "each task ran or was cancelled"
                );
                total_runs.fetch_add(runs, Ordering::Relaxed);
                total_cancelled.fetch_add(cancelled, Ordering::Relaxed);
            });
        }
    });
    assert_eq!(
        total_runs.load(Ordering::Relaxed) + total_cancelled.load(Ordering::Relaxed),
        SUBMITTERS * TASKS_PER_SUBMITTER
    );
    assert!(pool.num_threads() <= 3);
}

#[test]
fn stress_as_completed_and_wake_ups_on_an_idle_pool() {
    // Each round lets the pool go idle, so workers sleep and must be woken again.
    let pool = ThreadPoolExecutor::builder().max_workers(2).build();
    for round in 0..ROUNDS {
        let futures: Vec<_> = (0..4).map(|i| pool.submit(move || round + i)).collect();
        let mut sum = 0;
        for f in as_completed(&futures, Some(LIMIT)) {
            sum += f.expect("no timeout").result().unwrap();
        }
        assert_eq!(sum, 4 * round + 6);
    }
    assert!(pool.num_threads() <= 2);
}

#[test]
fn stress_shutdown_racing_submitters() {
    const RACES: usize = 50;
    const SUBMITS: usize = 50;
    for _ in 0..RACES {
        let pool = ThreadPoolExecutor::builder().max_workers(2).build();
        let ok = AtomicUsize::new(0);
        std::thread::scope(|s| {
            let submitter = s.spawn(|| {
                (0..SUBMITS)
                    .map(|i| pool.submit(move || i))
                    .collect::<Vec<_>>()
            });
            s.spawn(|| pool.shutdown(false, true));
            for f in submitter.join().unwrap() {
                match f.result_timeout(LIMIT) {
                    Ok(_) => {
                        ok.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(FutureError::ShutDown | FutureError::Cancelled) => {}
                    Err(e) => panic!("unexpected {e}"),
                }
            }
        });
        pool.shutdown(true, false);
        assert!(ok.load(Ordering::Relaxed) <= SUBMITS);
    }
}

#[test]
fn stress_submits_racing_shutdown_without_cancel_all_run_or_are_refused() {
    // A submit accepted just before `shutdown(false, false)` must still run, even when every
    // worker is on its way out: nothing may be left pending.
    const RACES: usize = 200;
    const SUBMITS: usize = 8;
    for _ in 0..RACES {
        let pool = ThreadPoolExecutor::builder().max_workers(1).build();
        // Start the worker so that it is idle (and may exit) when the race begins.
        assert_eq!(pool.submit(|| 0).result_timeout(LIMIT), Ok(0));
        let barrier = std::sync::Barrier::new(2);
        std::thread::scope(|s| {
            let submitter = s.spawn(|| {
                barrier.wait();
                (1..=SUBMITS)
                    .map(|i| pool.submit(move || i))
                    .collect::<Vec<_>>()
            });
            s.spawn(|| {
                barrier.wait();
                pool.shutdown(false, false);
            });
            for (i, f) in submitter.join().unwrap().into_iter().enumerate() {
                match f.result_timeout(LIMIT) {
                    Ok(v) => assert_eq!(v, i + 1),
                    Err(FutureError::ShutDown) => {}
                    Err(e) => panic!("task {i}: unexpected {e}"),
                }
            }
        });
        pool.shutdown(true, false);
        assert_eq!(pool.num_threads(), 0);
    }
}
