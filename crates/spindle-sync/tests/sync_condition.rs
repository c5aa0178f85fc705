//! `threading::Condition`: ported from CPython's `Lib/test/lock_tests.py`
//! (`ConditionTests`; PSF licence): float seconds made `Duration`, `_wait()` sleeps replaced
//! by counting threads that hold the lock just before they wait (a waiter gives the lock up
//! only once it is queued, so taking the lock afterwards proves every counted thread waits),
//! `RuntimeError` made `ConditionError`.

mod support;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use spindle_sync::threading::{Condition, ConditionError, Lock, RLock, ReleaseError};
use support::{at_least, timed, wait_until, LIMIT, SHORT};

#[test]
fn smoke_wait_and_notify() {
    let cond = Condition::default();
    let flag = AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            let _g = cond.lock();
            flag.store(true, Ordering::Relaxed);
            cond.notify(1).unwrap();
        });
        let mut g = cond.lock();
        while !flag.load(Ordering::Relaxed) {
            assert!(cond.wait_timeout(&mut g, LIMIT));
        }
    });
}

/// `n` threads wait; returns (the condition, how many woke so far, joiner scope inside).
#[test]
fn notify_wakes_exactly_n() {
    const WAITERS: usize = 5;
    let cond = Condition::default();
    let ready = AtomicUsize::new(0);
    let woken = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..WAITERS {
            s.spawn(|| {
                let mut g = cond.lock();
                ready.fetch_add(1, Ordering::SeqCst);
                assert!(
                    cond.wait_timeout(&mut g, LIMIT),
                    "a waiter was never notified"
                );
                woken.fetch_add(1, Ordering::SeqCst);
            });
        }
        wait_until("all waiters counted", || {
            ready.load(Ordering::SeqCst) == WAITERS
        });
        {
            // Taking the lock proves all five are parked: each held it until queued.
            let _g = cond.lock();
            assert_eq!(woken.load(Ordering::SeqCst), 0);
            cond.notify(1).unwrap();
        }
        wait_until("one waiter woke", || woken.load(Ordering::SeqCst) >= 1);
        {
            let _g = cond.lock();
            assert_eq!(woken.load(Ordering::SeqCst), 1);
            cond.notify(3).unwrap();
        }
        wait_until("three more woke", || woken.load(Ordering::SeqCst) >= 4);
        {
            let _g = cond.lock();
            assert_eq!(woken.load(Ordering::SeqCst), 4);
            cond.notify_all().unwrap();
        }
    });
    assert_eq!(woken.load(Ordering::SeqCst), WAITERS);
}

#[test]
fn notify_zero_wakes_nobody_and_notify_more_than_waiting_is_fine() {
    let cond = Condition::default();
    let ready = AtomicUsize::new(0);
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut g = cond.lock();
            ready.fetch_add(1, Ordering::SeqCst);
            assert!(cond.wait_timeout(&mut g, LIMIT));
        });
        wait_until("the waiter counted", || ready.load(Ordering::SeqCst) == 1);
        let _g = cond.lock();
        cond.notify(0).unwrap();
        cond.notify(10).unwrap();
    });
}

#[test]
fn wait_timeout_returns_false_and_holds_the_lock_again() {
    let cond = Condition::default();
    let mut g = cond.lock();
    let (notified, took) = timed(|| cond.wait_timeout(&mut g, SHORT));
    assert!(!notified);
    at_least(took, SHORT);
    assert!(cond.get_lock().locked());
    drop(g);
    assert!(!cond.get_lock().locked());
}

#[test]
fn wait_releases_the_lock_while_waiting() {
    let cond = Condition::default();
    let ready = AtomicUsize::new(0);
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut g = cond.lock();
            ready.store(1, Ordering::SeqCst);
            assert!(cond.wait_timeout(&mut g, LIMIT));
        });
        wait_until("the waiter counted", || ready.load(Ordering::SeqCst) == 1);
        // The waiter holds its guard, yet we can take the lock: wait released it.
        let g = cond
            .get_lock()
            .lock_timeout(LIMIT)
            .expect("wait did not release the lock");
        cond.notify(1).unwrap();
        drop(g);
    });
}

#[test]
fn timed_out_waiters_are_not_counted_by_notify() {
    let cond = Condition::default();
    {
        let mut g = cond.lock();
        assert!(!cond.wait_timeout(&mut g, SHORT));
    }
    let ready = AtomicUsize::new(0);
    let woken = AtomicUsize::new(0);
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut g = cond.lock();
            ready.store(1, Ordering::SeqCst);
            assert!(cond.wait_timeout(&mut g, LIMIT));
            woken.store(1, Ordering::SeqCst);
        });
        wait_until("the waiter counted", || ready.load(Ordering::SeqCst) == 1);
        let _g = cond.lock();
        // One notify must reach the live waiter, not the one that timed out.
        cond.notify(1).unwrap();
    });
    assert_eq!(woken.load(Ordering::SeqCst), 1);
}

#[test]
fn wait_for_predicate_and_timeout() {
    // ConditionTests.test_waitfor / test_waitfor_timeout
    let cond = Condition::default();
    let state = AtomicUsize::new(0);
    std::thread::scope(|s| {
        s.spawn(|| {
            for _ in 0..4 {
                let _g = cond.lock();
                state.fetch_add(1, Ordering::Relaxed);
                cond.notify_all().unwrap();
            }
        });
        let mut g = cond.lock();
        assert!(cond.wait_for(&mut g, || state.load(Ordering::Relaxed) == 4, Some(LIMIT)));
        assert_eq!(state.load(Ordering::Relaxed), 4);
    });
    let mut g = cond.lock();
    let (ok, took) = timed(|| cond.wait_for(&mut g, || false, Some(SHORT)));
    assert!(!ok);
    at_least(took, SHORT);
    assert!(cond.wait_for(&mut g, || true, Some(std::time::Duration::ZERO)));
}

#[test]
fn raw_style_errors_without_the_lock() {
    // ConditionTests.test_unacquired_wait / test_unacquired_notify
    let cond = Condition::default();
    assert_eq!(
        cond.wait_unguarded(None),
        Err(ConditionError::WaitUnacquired)
    );
    assert_eq!(cond.notify(1), Err(ConditionError::NotifyUnacquired));
    assert_eq!(cond.notify_all(), Err(ConditionError::NotifyUnacquired));
    assert_eq!(cond.release(), Err(ReleaseError::Unlocked));
    cond.acquire();
    assert_eq!(cond.wait_unguarded(Some(SHORT)), Ok(false));
    cond.notify(1).unwrap();
    cond.release().unwrap();
}

#[test]
fn raw_style_wait_and_notify() {
    let cond = Arc::new(Condition::new(RLock::new()));
    let ready = Arc::new(AtomicUsize::new(0));
    let h = {
        let (cond, ready) = (cond.clone(), ready.clone());
        std::thread::spawn(move || {
            cond.acquire();
            ready.store(1, Ordering::SeqCst);
            let notified = cond.wait_unguarded(Some(LIMIT)).unwrap();
            cond.release().unwrap();
            notified
        })
    };
    wait_until("the waiter counted", || ready.load(Ordering::SeqCst) == 1);
    cond.acquire();
    cond.notify(1).unwrap();
    cond.release().unwrap();
    assert!(h.join().unwrap());
}

#[test]
fn rlock_condition_releases_every_level_and_restores_them() {
    let rlock = Arc::new(RLock::new());
    let cond = Condition::new(Arc::clone(&rlock));
    let ready = AtomicUsize::new(0);
    std::thread::scope(|s| {
        s.spawn(|| {
            let _outer = rlock.lock();
            let mut g = cond.lock(); // second level
            ready.store(1, Ordering::SeqCst);
            assert!(cond.wait_timeout(&mut g, LIMIT));
            assert_eq!(rlock.recursion_count(), 2);
        });
        wait_until("the waiter counted", || ready.load(Ordering::SeqCst) == 1);
        // Both levels were released: another thread can take the RLock.
        let _g = cond.lock();
        assert_eq!(rlock.recursion_count(), 1);
        // A non-owner cannot notify an RLock condition.
        std::thread::scope(|s2| {
            s2.spawn(|| assert_eq!(cond.notify(1), Err(ConditionError::NotifyUnacquired)));
        });
        cond.notify(1).unwrap();
    });
}

#[test]
fn condition_over_a_borrowed_lock() {
    let lock = Lock::new();
    let cond = Condition::new(&lock);
    let g = cond.lock();
    assert!(lock.locked());
    drop(g);
    assert!(!lock.locked());
}

#[test]
#[should_panic(expected = "Condition::wait called with a guard of another lock")]
fn wait_with_a_guard_of_another_lock_panics() {
    let cond = Condition::default();
    let other = Condition::default();
    let mut g = other.lock();
    cond.wait_timeout(&mut g, SHORT);
}

#[test]
fn stress_producer_consumer_counts_exact() {
    const PRODUCERS: usize = 2;
    const CONSUMERS: usize = 2;
    const ITEMS: usize = 10_000;
    let cond = Condition::default();
    let available = AtomicUsize::new(0);
    let consumed = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..PRODUCERS {
            s.spawn(|| {
                for _ in 0..ITEMS {
                    let _g = cond.lock();
                    available.fetch_add(1, Ordering::Relaxed);
                    cond.notify(1).unwrap();
                }
            });
        }
        for _ in 0..CONSUMERS {
            s.spawn(|| {
                for _ in 0..ITEMS * PRODUCERS / CONSUMERS {
                    let mut g = cond.lock();
                    assert!(
                        cond.wait_for(
                            &mut g,
                            || available.load(Ordering::Relaxed) > 0,
                            Some(LIMIT)
                        ),
                        "consumer starved"
                    );
                    available.fetch_sub(1, Ordering::Relaxed);
                    consumed.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });
    assert_eq!(consumed.load(Ordering::Relaxed), PRODUCERS * ITEMS);
    assert_eq!(available.load(Ordering::Relaxed), 0);
}

#[test]
fn stress_timed_waits_racing_notifies_never_lose_the_last_item() {
    const ROUNDS: usize = 2_000;
    let cond = Condition::default();
    let items = AtomicUsize::new(0);
    std::thread::scope(|s| {
        s.spawn(|| {
            for _ in 0..ROUNDS {
                let _g = cond.lock();
                items.fetch_add(1, Ordering::Relaxed);
                cond.notify(1).unwrap();
            }
        });
        let mut taken = 0;
        while taken < ROUNDS {
            let mut g = cond.lock();
            // Tiny timeouts race the notifies; the predicate loop must still see every item.
            if cond.wait_for(
                &mut g,
                || items.load(Ordering::Relaxed) > 0,
                Some(std::time::Duration::from_micros(10)),
            ) {
                items.fetch_sub(1, Ordering::Relaxed);
                taken += 1;
            }
        }
    });
    assert_eq!(items.load(Ordering::Relaxed), 0);
}
