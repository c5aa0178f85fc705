//! `ProcessPoolExecutor`: futures, the chunked lazy `map`, timeouts, shutdown, the break
//! policy, and how pool errors reach futures.

spindle_process::test_support!();

mod pool_support;

use pool_support::*;
use spindle_futures::{FutureError, State};
use spindle_process::pool::{OnWorkerDeath, PoolError, ProcessPoolExecutor};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Items in the map tests.
const ITEMS: u64 = 300;

fn pool(n: usize) -> ProcessPoolExecutor {
    ProcessPoolExecutor::builder().max_workers(n).build()
}

#[test]
fn submit_and_map_in_order() {
    let ex = pool(2);
    assert_eq!(ex.max_workers(), 2);
    assert_eq!(ex.submit(square, 11).result_timeout(LIMIT), Ok(121));
    let want: Vec<u64> = (0..ITEMS).map(|x| x * x).collect();
    for chunk in [1, 5, 1000] {
        let got: Vec<u64> = ex
            .map(square, 0..ITEMS, chunk)
            .map(Result::unwrap)
            .collect();
        assert_eq!(got, want, "chunksize {chunk}");
    }
}

#[test]
fn map_is_lazy_and_bounded() {
    let ex = pool(2);
    let pulled = Arc::new(AtomicUsize::new(0));
    let p = Arc::clone(&pulled);
    let input = (0..ITEMS).inspect(move |_| {
        p.fetch_add(1, Ordering::SeqCst);
    });
    let mut it = ex.map(square, input, 2);
    assert_eq!(pulled.load(Ordering::SeqCst), 0);
    assert_eq!(it.next(), Some(Ok(0)));
    // 2 x workers chunks of 2 ahead, plus one refill.
    assert!(pulled.load(Ordering::SeqCst) <= (2 * 2 + 1) * 2);
    assert_eq!(it.count() as u64, ITEMS - 1);
}

#[test]
fn map_timeout_yields_one_timeout_then_ends() {
    let ex = pool(1);
    let mut it = ex
        .map(stuck, vec![(), ()], 1)
        .timeout(Duration::from_millis(50));
    assert_eq!(it.next(), Some(Err(FutureError::Timeout)));
    assert_eq!(it.next(), None);
    ex.terminate_workers();
}

#[test]
fn errors_reach_futures_typed() {
    let ex = pool(1);
    assert_eq!(
        ex.submit(panics, 3).result_timeout(LIMIT),
        Err(FutureError::Panicked("task 3 failed on purpose".into()))
    );
    let died = ex.submit(kill_self, ()).result_timeout(LIMIT).unwrap_err();
    match PoolError::from_future_error(&died) {
        PoolError::WorkerDied { signal, .. } => assert_eq!(signal, Some(libc::SIGKILL)),
        other => panic!("expected WorkerDied, got {other:?}"),
    }
    // The source of a Failed error is the PoolError itself.
    let FutureError::Failed(inner) = died else {
        panic!("expected Failed")
    };
    assert!(inner.downcast_ref::<PoolError>().is_some());
    assert_eq!(ex.submit(square, 2).result_timeout(LIMIT), Ok(4));
}

#[test]
fn submit_with_timeout_kills_only_the_overdue_task() {
    let ex = pool(2);
    let slow = ex.submit_with_timeout(stuck, (), Duration::from_millis(200));
    let fine: Vec<_> = (0..20).map(|x| ex.submit(square, x)).collect();
    let err = slow.result_timeout(LIMIT).unwrap_err();
    assert_eq!(PoolError::from_future_error(&err), PoolError::Timeout);
    for (x, f) in fine.iter().enumerate() {
        assert_eq!(f.result_timeout(LIMIT), Ok((x * x) as u64));
    }
    let strict = ProcessPoolExecutor::builder()
        .max_workers(1)
        .task_timeout(Duration::from_millis(200))
        .build();
    assert_eq!(
        PoolError::from_future_error(&strict.submit(stuck, ()).exception().unwrap()),
        PoolError::Timeout
    );
    assert_eq!(strict.submit(square, 3).result_timeout(LIMIT), Ok(9));
}

#[test]
fn shutdown_cancel_futures_cancels_what_has_not_started() {
    let ex = ProcessPoolExecutor::builder()
        .max_workers(1)
        .tasks_in_flight(1)
        .build();
    ex.submit(pid, ()).result_timeout(LIMIT).unwrap(); // the worker is up and idle
    let gate = Gate::new();
    let running = ex.submit(wait_gate, gate.path());
    assert_eq!(
        running.state(),
        State::Running,
        "an idle worker takes the task at once"
    );
    let queued: Vec<_> = (0..5).map(|x| ex.submit(square, x)).collect();
    ex.shutdown(false, true);
    for f in &queued {
        assert!(f.cancelled());
        assert_eq!(f.result_timeout(LIMIT), Err(FutureError::Cancelled));
    }
    assert_eq!(
        ex.submit(square, 1).result_timeout(LIMIT),
        Err(FutureError::ShutDown)
    );
    gate.release(1);
    assert!(
        running.result_timeout(LIMIT).is_ok(),
        "the running task finishes"
    );
    assert!(ex.shutdown_timeout(LIMIT, false));
}

#[test]
fn shutdown_wait_finishes_queued_work() {
    let ex = pool(2);
    let futs: Vec<_> = (0..50).map(|x| ex.submit(square, x)).collect();
    ex.shutdown(true, false);
    for (x, f) in futs.iter().enumerate() {
        assert_eq!(f.result_timeout(Duration::ZERO), Ok((x * x) as u64));
    }
    assert!(ex.worker_pids().is_empty());
}

#[test]
fn break_policy_is_pythons_broken_process_pool() {
    let ex = ProcessPoolExecutor::builder()
        .max_workers(1)
        .on_worker_death(OnWorkerDeath::Break)
        .build();
    ex.submit(pid, ()).result_timeout(LIMIT).unwrap();
    let gate = Gate::new();
    let crash = ex.submit(kill_self, ());
    let behind = ex.submit(wait_gate, gate.path());
    assert!(matches!(
        PoolError::from_future_error(&crash.exception().unwrap()),
        PoolError::WorkerDied { .. }
    ));
    assert!(matches!(
        behind.exception(),
        Some(FutureError::BrokenExecutor(_, _))
    ));
    assert!(
        matches!(ex.submit(square, 1).exception(), Some(FutureError::BrokenExecutor(m, _)) if m.contains("died"))
    );
}

fn bad_init(_: ()) {
    panic!("initializer refuses")
}

#[test]
fn failing_initializer_breaks_the_executor() {
    let ex = ProcessPoolExecutor::builder()
        .max_workers(2)
        .initializer(bad_init, ())
        .build();
    let futs: Vec<_> = (0..4).map(|x| ex.submit(square, x)).collect();
    for f in &futs {
        match f.exception_timeout(LIMIT) {
            Ok(Some(FutureError::BrokenExecutor(m, _))) => {
                assert!(m.contains("initializer refuses"), "{m}")
            }
            other => panic!("expected BrokenExecutor, got {other:?}"),
        }
    }
    assert!(ex.shutdown_timeout(LIMIT, false));
}

#[test]
fn max_tasks_per_child_loses_nothing() {
    let ex = ProcessPoolExecutor::builder()
        .max_workers(2)
        .max_tasks_per_child(2)
        .build();
    let futs: Vec<_> = (0..30).map(|x| ex.submit(square, x)).collect();
    for (x, f) in futs.iter().enumerate() {
        assert_eq!(f.result_timeout(LIMIT), Ok((x * x) as u64));
    }
}
