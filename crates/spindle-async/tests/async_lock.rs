//! `Lock`: exclusion, FIFO fairness, raw acquire/release, errors, cancellation safety.
//! Modelled on CPython's `test_asyncio/test_locks.py` (LockTests).

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use spindle_async::{gather, run, spawn, timeout, yield_now, Lock, ReleaseError};
use std::time::Duration;

#[test]
fn release_unlocked_is_an_error() {
    let l = Lock::new();
    assert_eq!(l.release(), Err(ReleaseError));
    assert!(l.try_acquire());
    assert!(l.locked());
    assert!(!l.try_acquire());
    l.release().unwrap();
    assert!(!l.locked());
}

#[test]
fn waiters_get_the_lock_in_fifo_order() {
    const WAITERS: usize = 20;
    let order = run(async {
        let lock = Arc::new(Lock::new());
        let log = Rc::new(RefCell::new(Vec::new()));
        lock.acquire().await;
        let ts: Vec<_> = (0..WAITERS)
            .map(|i| {
                let (lock, log) = (lock.clone(), log.clone());
                spawn(async move {
                    let _g = lock.lock().await;
                    log.borrow_mut().push(i);
                })
            })
            .collect();
        yield_now().await; // all queue up
        lock.release().unwrap();
        gather(ts).await;
        let v = log.borrow().clone();
        v
    });
    assert_eq!(order, (0..WAITERS).collect::<Vec<_>>());
}

#[test]
fn try_acquire_does_not_jump_the_queue() {
    run(async {
        let lock = Arc::new(Lock::new());
        lock.acquire().await;
        let l2 = lock.clone();
        let waiter = spawn(async move {
            l2.acquire().await;
            l2.release().unwrap();
        });
        yield_now().await;
        lock.release().unwrap(); // handed to the waiter
        assert!(!lock.try_acquire(), "the lock is in transit to the waiter");
        waiter.await.unwrap();
        assert!(!lock.locked());
    });
}

#[test]
fn dropped_waiter_passes_the_lock_on() {
    run(async {
        let lock = Arc::new(Lock::new());
        lock.acquire().await;
        let (l1, l2) = (lock.clone(), lock.clone());
        let first = spawn(async move { l1.acquire().await });
        let second = spawn(async move {
            let _g = l2.lock().await;
            "second got it"
        });
        yield_now().await;
        lock.release().unwrap(); // handed to `first`...
        first.cancel(None); // ...which is cancelled before it runs
        assert!(first.await.unwrap_err().is_cancelled());
        assert_eq!(second.await.unwrap(), "second got it");
        assert!(!lock.locked());
    });
}

#[test]
fn timed_out_waiter_leaves_no_trace() {
    run(async {
        let lock = Lock::new();
        let _g = lock.lock().await;
        assert!(timeout(Duration::from_millis(2), lock.acquire())
            .await
            .is_err());
        drop(_g);
        assert!(!lock.locked());
        assert!(lock.try_acquire());
    });
}

#[test]
fn stress_counter_under_contention() {
    const TASKS: usize = 50;
    const ROUNDS: usize = 100;
    let total = run(async {
        let lock = Arc::new(Lock::new());
        let counter = Rc::new(RefCell::new(0usize));
        let ts: Vec<_> = (0..TASKS)
            .map(|_| {
                let (lock, counter) = (lock.clone(), counter.clone());
                spawn(async move {
                    for _ in 0..ROUNDS {
                        let _g = lock.lock().await;
                        let v = *counter.borrow();
                        yield_now().await; // a race would lose updates here
                        *counter.borrow_mut() = v + 1;
                    }
                })
            })
            .collect();
        gather(ts).await;
        let v = *counter.borrow();
        v
    });
    assert_eq!(total, TASKS * ROUNDS);
}
