//! `threading::Semaphore` and `BoundedSemaphore`: ported from CPython's
//! `Lib/test/lock_tests.py` (`BaseSemaphoreTests`, `SemaphoreTests`,
//! `BoundedSemaphoreTests`; PSF licence), float seconds made `Duration`, `ValueError` made
//! `OverReleaseError`.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};

use spindle_sync::threading::{BoundedSemaphore, OverReleaseError, Semaphore};
use support::{at_least, timed, wait_until, LIMIT, SHORT};

#[test]
fn smoke() {
    let sem = Semaphore::new(2);
    assert!(sem.try_acquire());
    assert!(sem.try_acquire());
    assert!(!sem.try_acquire());
    sem.release(1);
    assert_eq!(sem.value(), 1);
    sem.acquire();
    sem.release(2);
    assert_eq!(sem.value(), 2);
}

#[test]
fn default_has_one_permit() {
    assert_eq!(Semaphore::default().value(), 1);
    assert_eq!(BoundedSemaphore::default().value(), 1);
}

#[test]
fn acquire_timeout_false_after_roughly_the_timeout() {
    let sem = Semaphore::new(0);
    let (got, took) = timed(|| sem.acquire_timeout(SHORT));
    assert!(!got);
    at_least(took, SHORT);
    assert!(!sem.acquire_timeout(std::time::Duration::ZERO));
}

#[test]
fn release_n_wakes_n_waiters() {
    // BaseSemaphoreTests.test_multirelease / SemaphoreTests.test_acquire_contended
    const WAITERS: usize = 6;
    let sem = Semaphore::new(0);
    let started = AtomicUsize::new(0);
    let passed = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..WAITERS {
            s.spawn(|| {
                started.fetch_add(1, Ordering::SeqCst);
                assert!(sem.acquire_timeout(LIMIT));
                passed.fetch_add(1, Ordering::SeqCst);
            });
        }
        wait_until("waiters started", || {
            started.load(Ordering::SeqCst) == WAITERS
        });
        sem.release(2);
        wait_until("two passed", || passed.load(Ordering::SeqCst) >= 2);
        sem.release(4);
    });
    assert_eq!(passed.load(Ordering::SeqCst), WAITERS);
    assert_eq!(sem.value(), 0);
}

#[test]
fn permit_returns_on_drop() {
    let sem = Semaphore::new(1);
    {
        let _p = sem.permit();
        assert_eq!(sem.value(), 0);
        assert!(!sem.try_acquire());
    }
    assert_eq!(sem.value(), 1);
}

#[test]
fn bounded_over_release_is_an_error_and_changes_nothing() {
    // BoundedSemaphoreTests.test_release_unacquired
    let sem = BoundedSemaphore::new(3);
    assert_eq!(sem.release(1), Err(OverReleaseError { requested: 1 }));
    sem.acquire();
    sem.acquire();
    assert_eq!(sem.release(3), Err(OverReleaseError { requested: 3 }));
    assert_eq!(sem.value(), 1);
    sem.release(2).unwrap();
    assert_eq!(sem.value(), 3);
    assert!(sem.release(1).is_err());
}

#[test]
fn bounded_release_zero_is_fine() {
    let sem = BoundedSemaphore::new(1);
    sem.release(0).unwrap();
}

#[test]
#[should_panic(expected = "semaphore value overflow")]
fn unbounded_overflow_panics() {
    let sem = Semaphore::new(usize::MAX);
    sem.release(1);
}

#[test]
fn bounded_permit_after_over_release_keeps_the_bound() {
    let sem = BoundedSemaphore::new(1);
    let p = sem.permit();
    sem.release(1).unwrap(); // a wrong extra release, allowed because the value was 0
    drop(p); // would make 2 of 1: refused silently
    assert_eq!(sem.value(), 1);
}

#[test]
fn stress_semaphore_as_mutex_counter_exact() {
    const THREADS: usize = 4;
    const OPS: usize = 20_000;
    let sem = Semaphore::new(1);
    let counter = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| {
                for _ in 0..OPS {
                    assert!(sem.acquire_timeout(LIMIT));
                    let v = counter.load(Ordering::Relaxed);
                    counter.store(v + 1, Ordering::Relaxed);
                    sem.release(1);
                }
            });
        }
    });
    assert_eq!(counter.load(Ordering::Relaxed), THREADS * OPS);
    assert_eq!(sem.value(), 1);
}

#[test]
fn stress_bounded_limits_concurrency() {
    const THREADS: usize = 6;
    const BOUND: usize = 2;
    const OPS: usize = 5_000;
    let sem = BoundedSemaphore::new(BOUND);
    let inside = AtomicUsize::new(0);
    let max_inside = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| {
                for _ in 0..OPS {
                    let _p = sem.permit();
                    let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                    max_inside.fetch_max(now, Ordering::SeqCst);
                    inside.fetch_sub(1, Ordering::SeqCst);
                }
            });
        }
    });
    assert!(max_inside.load(Ordering::SeqCst) <= BOUND);
    assert_eq!(sem.value(), BOUND);
}

mod model {
    //! Single-thread model check: any sequence of `try_acquire` / `release(n)` on a
    //! `BoundedSemaphore` matches a plain counter with a bound.

    use proptest::prelude::*;
    use spindle_sync::threading::{BoundedSemaphore, OverReleaseError};

    #[derive(Debug, Clone)]
    enum Op {
        TryAcquire,
        Release(usize),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![Just(Op::TryAcquire), (0usize..4).prop_map(Op::Release)]
    }

    proptest! {
        #[test]
        fn bounded_semaphore_matches_a_counter(bound in 0usize..6, ops in proptest::collection::vec(op(), 0..64)) {
            let sem = BoundedSemaphore::new(bound);
            let mut value = bound;
            for op in ops {
                match op {
                    Op::TryAcquire => {
                        let expected = value > 0;
                        prop_assert_eq!(sem.try_acquire(), expected);
                        if expected { value -= 1; }
                    }
                    Op::Release(n) => {
                        let got = sem.release(n);
                        if value + n > bound {
                            prop_assert_eq!(got, Err(OverReleaseError { requested: n }));
                        } else {
                            prop_assert_eq!(got, Ok(()));
                            value += n;
                        }
                    }
                }
                prop_assert_eq!(sem.value(), value);
            }
        }
    }
}

#[test]
fn stress_timeouts_racing_releases_conserve_permits() {
    const THREADS: usize = 4;
    const OPS: usize = 5_000;
    const PERMITS: usize = 2;
    let sem = Semaphore::new(PERMITS);
    let inside = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| {
                for _ in 0..OPS {
                    if sem.acquire_timeout(std::time::Duration::from_micros(20)) {
                        let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                        assert!(now <= PERMITS, "{now} holders of {PERMITS} permits");
                        inside.fetch_sub(1, Ordering::SeqCst);
                        sem.release(1);
                    }
                }
            });
        }
    });
    // Every permit is back and no waiter count leaked: a fresh wait succeeds at once.
    assert_eq!(sem.value(), PERMITS);
    assert!(sem.acquire_timeout(LIMIT));
}
