//! `threading::Lock`: behaviour ported from CPython's `Lib/test/lock_tests.py` (`BaseLockTests`
//! and `LockTests`; PSF licence), with float seconds made `Duration`, `_wait()` sleeps
//! replaced by Events and polling of observable state, and `RuntimeError` made
//! `ReleaseError`.

mod support;

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use spindle_sync::threading::{Event, Lock, ReleaseError};
use support::{at_least, timed, wait_until, LIMIT, SHORT};

#[test]
fn smoke_acquire_release() {
    let lock = Lock::new();
    assert!(!lock.locked());
    lock.acquire();
    assert!(lock.locked());
    lock.release().unwrap();
    assert!(!lock.locked());
}

#[test]
fn guard_releases_on_drop() {
    let lock = Lock::new();
    {
        let _g = lock.lock();
        assert!(lock.locked());
    }
    assert!(!lock.locked());
}

#[test]
fn try_acquire_does_not_block() {
    let lock = Lock::new();
    assert!(lock.try_acquire());
    assert!(!lock.try_acquire());
    assert!(lock.try_lock().is_none());
    lock.release().unwrap();
    assert!(lock.try_lock().is_some());
}

#[test]
fn try_acquire_contended_from_other_thread() {
    let lock = Lock::new();
    lock.acquire();
    std::thread::scope(|s| {
        s.spawn(|| assert!(!lock.try_acquire()));
    });
    lock.release().unwrap();
}

#[test]
fn acquire_waits_for_release() {
    // lock_tests.test_acquire_contended
    let lock = Arc::new(Lock::new());
    lock.acquire();
    let started = Arc::new(Event::new());
    let got = Arc::new(AtomicBool::new(false));
    let h = {
        let (lock, started, got) = (lock.clone(), started.clone(), got.clone());
        std::thread::spawn(move || {
            started.set();
            lock.acquire();
            got.store(true, Ordering::SeqCst);
            lock.release().unwrap();
        })
    };
    assert!(started.wait_timeout(LIMIT));
    // The other thread cannot have the lock while we hold it.
    assert!(!got.load(Ordering::SeqCst));
    lock.release().unwrap();
    h.join().unwrap();
    assert!(got.load(Ordering::SeqCst));
    assert!(!lock.locked());
}

#[test]
fn release_from_another_thread() {
    // LockTests.test_different_thread: Python lets any thread release a Lock.
    let lock = Lock::new();
    lock.acquire();
    std::thread::scope(|s| {
        s.spawn(|| lock.release().unwrap());
    });
    assert!(!lock.locked());
    assert!(lock.try_acquire());
    lock.release().unwrap();
}

#[test]
fn reacquire_from_another_thread_after_release() {
    // LockTests.test_reacquire: a thread blocked on a held lock gets it once released.
    let lock = Lock::new();
    lock.acquire();
    let phase = AtomicUsize::new(0);
    std::thread::scope(|s| {
        s.spawn(|| {
            phase.store(1, Ordering::SeqCst);
            lock.acquire(); // blocks until main releases
            phase.store(2, Ordering::SeqCst);
            lock.release().unwrap();
        });
        wait_until("the helper started", || phase.load(Ordering::SeqCst) == 1);
        lock.release().unwrap();
    });
    assert_eq!(phase.load(Ordering::SeqCst), 2);
}

#[test]
fn release_unlocked_is_an_error() {
    let lock = Lock::new();
    assert_eq!(lock.release(), Err(ReleaseError::Unlocked));
    lock.acquire();
    lock.release().unwrap();
    assert_eq!(lock.release(), Err(ReleaseError::Unlocked));
}

#[test]
fn racing_releases_only_one_succeeds() {
    const ROUNDS: usize = 2_000;
    let lock = Lock::new();
    for _ in 0..ROUNDS {
        lock.acquire();
        let ok = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..2 {
                s.spawn(|| {
                    if lock.release().is_ok() {
                        ok.fetch_add(1, Ordering::SeqCst);
                    }
                });
            }
        });
        assert_eq!(ok.load(Ordering::SeqCst), 1);
        assert!(!lock.locked());
    }
}

#[test]
fn acquire_timeout_returns_false_after_roughly_the_timeout() {
    // lock_tests.test_timeout
    let lock = Lock::new();
    lock.acquire();
    std::thread::scope(|s| {
        s.spawn(|| {
            let (got, took) = timed(|| lock.acquire_timeout(SHORT));
            assert!(!got);
            at_least(took, SHORT);
        });
    });
    lock.release().unwrap();
    // Free: a timeout acquire succeeds at once.
    assert!(lock.acquire_timeout(SHORT));
    lock.release().unwrap();
}

#[test]
fn zero_timeout_tries_once() {
    let lock = Lock::new();
    assert!(lock.acquire_timeout(Duration::ZERO));
    assert!(!lock.acquire_timeout(Duration::ZERO));
    lock.release().unwrap();
}

#[test]
fn huge_timeout_does_not_panic() {
    let lock = Lock::new();
    assert!(lock.acquire_timeout(Duration::MAX));
    let got = std::thread::scope(|s| {
        let h = s.spawn(|| lock.acquire_timeout(Duration::MAX));
        lock.release().unwrap();
        h.join().unwrap()
    });
    assert!(got);
    lock.release().unwrap();
}

#[test]
fn lock_timeout_gives_a_guard_or_none() {
    let lock = Lock::new();
    let g = lock.lock_timeout(SHORT).unwrap();
    std::thread::scope(|s| {
        s.spawn(|| assert!(lock.lock_timeout(SHORT).is_none()));
    });
    drop(g);
    assert!(!lock.locked());
}

#[test]
fn guard_released_when_holder_panics() {
    // No poisoning: the lock is free and usable after a panicking holder.
    let lock = Lock::new();
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _g = lock.lock();
        panic!("holder panics");
    }));
    assert!(r.is_err());
    assert!(!lock.locked());
    drop(lock.lock());
}

#[test]
fn many_waiters_all_get_through() {
    // lock_tests.test_thread_leak-ish: threads blocked on one lock all finish.
    const THREADS: usize = 8;
    let lock = Lock::new();
    let done = AtomicUsize::new(0);
    lock.acquire();
    std::thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| {
                let _g = lock.lock();
                done.fetch_add(1, Ordering::SeqCst);
            });
        }
        lock.release().unwrap();
    });
    assert_eq!(done.load(Ordering::SeqCst), THREADS);
}

#[test]
fn stress_counter_is_exact() {
    const THREADS: u64 = 4;
    const OPS: u64 = 25_000;
    let lock = Lock::new();
    let counter = AtomicU64::new(0);
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let (lock, counter) = (&lock, &counter);
            s.spawn(move || {
                for i in 0..OPS {
                    // Mix the guard and the raw forms.
                    if (i + t) % 2 == 0 {
                        let _g = lock.lock();
                        let v = counter.load(Ordering::Relaxed);
                        counter.store(v + 1, Ordering::Relaxed);
                    } else {
                        assert!(lock.acquire_timeout(LIMIT));
                        let v = counter.load(Ordering::Relaxed);
                        counter.store(v + 1, Ordering::Relaxed);
                        lock.release().unwrap();
                    }
                }
            });
        }
    });
    assert_eq!(counter.load(Ordering::Relaxed), THREADS * OPS);
}

#[test]
fn stress_timeouts_under_contention_keep_exclusion() {
    const THREADS: usize = 4;
    const OPS: usize = 5_000;
    let lock = Lock::new();
    let inside = AtomicUsize::new(0);
    let got = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| {
                for _ in 0..OPS {
                    if lock.acquire_timeout(Duration::from_micros(50)) {
                        assert_eq!(inside.fetch_add(1, Ordering::SeqCst), 0);
                        inside.fetch_sub(1, Ordering::SeqCst);
                        got.fetch_add(1, Ordering::Relaxed);
                        lock.release().unwrap();
                    }
                }
            });
        }
    });
    assert!(got.load(Ordering::Relaxed) > 0);
    assert!(!lock.locked());
}
