//! `Pool`'s API behaviour: result order, laziness, completeness, callbacks, `AsyncResult`
//! waits, close / join / terminate.

spindle_process::test_support!();

mod pool_support;

use pool_support::*;
use spindle_process::pool::{Pool, PoolError};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::channel;
use std::sync::Arc;
use std::time::Duration;

/// Items in the map tests.
const ITEMS: u64 = 500;

fn add((a, b): (i64, i64)) -> i64 {
    a + b
}

#[test]
fn map_keeps_input_order_for_every_chunksize() {
    let pool = Pool::new(2);
    let want: Vec<u64> = (0..ITEMS).map(|x| x * x).collect();
    for chunk in [None, Some(1), Some(3), Some(64), Some(10_000)] {
        assert_eq!(
            pool.map(square, 0..ITEMS, chunk).unwrap(),
            want,
            "chunksize {chunk:?}"
        );
    }
    assert_eq!(
        pool.map(square, Vec::<u64>::new(), None).unwrap(),
        Vec::<u64>::new()
    );
    let ordered: Vec<u64> = pool.imap(square, 0..ITEMS, 7).map(Result::unwrap).collect();
    assert_eq!(ordered, want);
    assert_eq!(
        pool.starmap(add, vec![(1, 2), (-5, 5)], Some(1)).unwrap(),
        vec![3, 0]
    );
    let r = pool.starmap_async(add, vec![(1, 1)], None);
    assert_eq!(r.get(Some(LIMIT)), Ok(vec![2]));
}

#[test]
fn imap_reads_its_input_lazily() {
    let pool = Pool::new(2);
    let pulled = Arc::new(AtomicUsize::new(0));
    let p = Arc::clone(&pulled);
    let input = (0..ITEMS).inspect(move |_| {
        p.fetch_add(1, Ordering::SeqCst);
    });
    let mut it = pool.imap(square, input, 1);
    assert_eq!(
        pulled.load(Ordering::SeqCst),
        0,
        "nothing is read before the first next"
    );
    assert_eq!(it.next(), Some(Ok(0)));
    // At most 2 x processes chunks ahead, plus the refill after the first result.
    assert!(
        pulled.load(Ordering::SeqCst) <= 2 * 2 + 1,
        "pulled {}",
        pulled.load(Ordering::SeqCst)
    );
    assert_eq!(it.count() as u64, ITEMS - 1);
}

#[test]
fn imap_unordered_yields_every_item_once() {
    let pool = Pool::new(2);
    for chunk in [1, 4, 1000] {
        let mut got: Vec<u64> = pool
            .imap_unordered(square, 0..ITEMS, chunk)
            .map(Result::unwrap)
            .collect();
        got.sort_unstable();
        assert_eq!(
            got,
            (0..ITEMS).map(|x| x * x).collect::<Vec<_>>(),
            "chunksize {chunk}"
        );
    }
    let mut empty = pool.imap_unordered(square, Vec::<u64>::new(), 1);
    assert_eq!(empty.next(), None);
}

#[test]
fn imap_unordered_next_timeout_says_not_ready() {
    let pool = Pool::new(1);
    let gate = Gate::new();
    let mut it = pool.imap_unordered(wait_gate, vec![gate.path()], 1);
    assert_eq!(
        it.next_timeout(Duration::from_millis(50)),
        Some(Err(PoolError::NotReady))
    );
    gate.release(1);
    assert!(matches!(it.next_timeout(LIMIT), Some(Ok(_))));
    assert_eq!(it.next_timeout(LIMIT), None);
}

#[test]
fn imap_timeout_ends_the_stream() {
    let pool = Pool::new(1);
    let mut it = pool
        .imap(stuck, vec![()], 1)
        .timeout(Duration::from_millis(50));
    assert_eq!(it.next(), Some(Err(PoolError::NotReady)));
    assert_eq!(it.next(), None);
}

#[test]
fn callbacks_run_with_the_value_or_the_error() {
    let pool = Pool::new(2);
    let (tx, rx) = channel();
    let tx2 = tx.clone();
    let ok = pool
        .apply_async(square, 6)
        .callback(move |v| tx.send(Ok(*v)).unwrap())
        .error_callback(|e| panic!("unexpected error {e}"));
    let bad = pool
        .apply_async(panics, 1)
        .callback(|v| panic!("unexpected value {v}"))
        .error_callback(move |e| tx2.send(Err(e.clone())).unwrap());
    ok.wait();
    bad.wait();
    let mut got = [
        rx.recv_timeout(LIMIT).unwrap(),
        rx.recv_timeout(LIMIT).unwrap(),
    ];
    got.sort_by_key(|r| r.is_err());
    assert_eq!(got[0], Ok(36));
    assert_eq!(
        got[1],
        Err(PoolError::Panicked("task 1 failed on purpose".into()))
    );
    // map_async calls back once with the whole vector.
    let (tx, rx) = channel();
    pool.map_async(square, 0..10u64, Some(3))
        .callback(move |v| tx.send(v.clone()).unwrap());
    assert_eq!(
        rx.recv_timeout(LIMIT).unwrap(),
        (0..10).map(|x| x * x).collect::<Vec<_>>()
    );
}

#[test]
fn async_result_waits_and_reports_state() {
    let pool = Pool::new(1);
    let gate = Gate::new();
    let r = pool.apply_async(wait_gate, gate.path());
    assert_eq!(
        r.get(Some(Duration::from_millis(20))),
        Err(PoolError::NotReady)
    );
    assert!(!r.ready());
    assert_eq!(r.successful(), None);
    assert!(!r.wait_timeout(Duration::from_millis(20)));
    gate.release(1);
    assert!(r.wait_timeout(LIMIT));
    assert!(r.ready());
    assert_eq!(r.successful(), Some(true));
    let worker = r.get(None).unwrap();
    assert_eq!(r.clone().into_result(), Ok(worker));
    let failed = pool.apply_async(panics, 2);
    failed.wait();
    assert_eq!(failed.successful(), Some(false));
}

#[test]
fn close_then_join_finishes_accepted_work() {
    let pool = Pool::new(2);
    let results: Vec<_> = (0..20).map(|x| pool.apply_async(square, x)).collect();
    assert!(
        matches!(pool.join(), Err(PoolError::Broken(m)) if m.message().contains("still running"))
    );
    pool.close();
    assert_eq!(pool.apply(square, 1), Err(PoolError::Closed));
    assert_eq!(
        pool.apply_async(square, 1).get(Some(LIMIT)),
        Err(PoolError::Closed)
    );
    assert_eq!(pool.join_timeout(LIMIT), Ok(true));
    for (x, r) in results.iter().enumerate() {
        assert_eq!(r.get(Some(LIMIT)), Ok((x * x) as u64));
    }
    assert!(pool.worker_pids().is_empty());
}

#[test]
fn terminate_kills_workers_and_fails_unfinished_results() {
    let pool = Pool::new(2);
    let pids: Vec<u32> = pool.map(pid, vec![(); 8], Some(1)).unwrap();
    let stuck_ones: Vec<_> = (0..3).map(|_| pool.apply_async(stuck, ())).collect();
    pool.terminate();
    for r in &stuck_ones {
        assert_eq!(r.get(Some(LIMIT)), Err(PoolError::Closed));
    }
    assert_eq!(pool.join(), Ok(()));
    for p in pids {
        assert!(wait_dead(p, LIMIT), "worker {p} survived terminate");
    }
}

#[test]
fn drop_terminates_like_a_with_block() {
    let pids;
    let r;
    {
        let pool = Pool::new(1);
        pids = pool.map(pid, vec![(); 2], Some(1)).unwrap();
        r = pool.apply_async(stuck, ());
    }
    assert_eq!(r.get(Some(LIMIT)), Err(PoolError::Closed));
    assert!(wait_dead(pids[0], LIMIT));
}

#[test]
fn settings_can_be_chained_and_a_fresh_pool_costs_nothing() {
    let pool = Pool::new(0)
        .maxtasksperchild(10)
        .spin(Duration::ZERO)
        .tasks_in_flight(1);
    assert_eq!(pool.processes(), spindle_process::cpu_count());
    assert!(
        pool.worker_pids().is_empty(),
        "workers start with the first task"
    );
    assert_eq!(pool.map(square, 0..10u64, None).unwrap().len(), 10);
    let fork = Pool::new(1).start_method(
        // SAFETY: the pool refuses this method before any fork happens.
        unsafe { spindle_process::StartMethod::fork() },
    );
    assert!(
        matches!(fork.apply(square, 1), Err(PoolError::Broken(m)) if m.message().contains("not supported"))
    );
}

#[test]
fn terminate_from_a_callback_does_not_deadlock() {
    let pool = Arc::new(Pool::new(1));
    let gate = Gate::new();
    let inner = Arc::clone(&pool);
    let (tx, rx) = channel();
    // Registered while the task waits on the gate, so the callback runs on the pool's own
    // supervisor thread.
    let r = pool.apply_async(wait_gate, gate.path()).callback(move |_| {
        inner.terminate();
        tx.send(()).unwrap();
    });
    gate.release(1);
    rx.recv_timeout(LIMIT).unwrap();
    assert!(r.get(Some(LIMIT)).is_ok());
    assert_eq!(pool.join_timeout(LIMIT), Ok(true));
    assert_eq!(pool.apply(square, 1), Err(PoolError::Closed));
}
