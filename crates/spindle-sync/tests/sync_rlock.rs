//! `threading::RLock`: ported from CPython's `Lib/test/lock_tests.py` (`RLockTests`; PSF
//! licence), float seconds made `Duration`, `RuntimeError` made `ReleaseError`.

mod support;

use std::sync::atomic::{AtomicU64, Ordering};

use spindle_sync::threading::{RLock, ReleaseError};
use support::{at_least, timed, LIMIT, SHORT};

#[test]
fn smoke_reentrant() {
    let r = RLock::new();
    r.acquire();
    r.acquire();
    assert_eq!(r.recursion_count(), 2);
    r.release().unwrap();
    assert!(r.locked());
    assert!(r.is_owned());
    r.release().unwrap();
    assert!(!r.locked());
    assert_eq!(r.recursion_count(), 0);
}

#[test]
fn guards_nest() {
    let r = RLock::new();
    let a = r.lock();
    let b = r.lock();
    let c = r.lock_timeout(SHORT).unwrap();
    assert_eq!(r.recursion_count(), 3);
    drop(c);
    drop(b);
    assert!(r.locked());
    drop(a);
    assert!(!r.locked());
}

#[test]
fn release_unlocked_is_an_error() {
    // RLockTests.test_release_unacquired
    let r = RLock::new();
    assert_eq!(r.release(), Err(ReleaseError::Unlocked));
    r.acquire();
    r.acquire();
    r.release().unwrap();
    r.release().unwrap();
    assert_eq!(r.release(), Err(ReleaseError::Unlocked));
}

#[test]
fn release_by_non_owner_is_an_error() {
    // RLockTests.test_different_thread
    let r = RLock::new();
    r.acquire();
    std::thread::scope(|s| {
        s.spawn(|| {
            assert_eq!(r.release(), Err(ReleaseError::NotOwner));
            assert!(!r.is_owned());
            assert_eq!(r.recursion_count(), 0);
        });
    });
    // Still held by us.
    assert!(r.is_owned());
    r.release().unwrap();
}

#[test]
fn other_thread_cannot_enter_and_times_out() {
    let r = RLock::new();
    let _g = r.lock();
    std::thread::scope(|s| {
        s.spawn(|| {
            assert!(!r.try_acquire());
            let (got, took) = timed(|| r.acquire_timeout(SHORT));
            assert!(!got);
            at_least(took, SHORT);
        });
    });
}

#[test]
fn other_thread_enters_after_full_release() {
    let r = RLock::new();
    r.acquire();
    r.acquire();
    std::thread::scope(|s| {
        let h = s.spawn(|| {
            assert!(r.acquire_timeout(LIMIT));
            r.release().unwrap();
        });
        r.release().unwrap();
        r.release().unwrap();
        h.join().unwrap();
    });
}

#[test]
fn stress_counter_is_exact() {
    const THREADS: u64 = 4;
    const OPS: u64 = 20_000;
    let r = RLock::new();
    let counter = AtomicU64::new(0);
    std::thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| {
                for _ in 0..OPS {
                    let _outer = r.lock();
                    let _inner = r.lock();
                    let v = counter.load(Ordering::Relaxed);
                    counter.store(v + 1, Ordering::Relaxed);
                }
            });
        }
    });
    assert_eq!(counter.load(Ordering::Relaxed), THREADS * OPS);
}

mod model {
    //! Single-thread model check: any sequence of acquires and releases on an `RLock`
    //! matches a recursion counter, and releasing at zero is `ReleaseError::Unlocked`.

    use proptest::prelude::*;
    use spindle_sync::threading::{RLock, ReleaseError};

    proptest! {
        #[test]
        fn rlock_matches_a_counter(ops in proptest::collection::vec(any::<bool>(), 0..64)) {
            let r = RLock::new();
            let mut depth = 0usize;
            for acquire in ops {
                if acquire {
                    prop_assert!(r.try_acquire());
                    depth += 1;
                } else if depth == 0 {
                    prop_assert_eq!(r.release(), Err(ReleaseError::Unlocked));
                } else {
                    prop_assert_eq!(r.release(), Ok(()));
                    depth -= 1;
                }
                prop_assert_eq!(r.recursion_count(), depth);
                prop_assert_eq!(r.locked(), depth > 0);
            }
            while depth > 0 {
                r.release().unwrap();
                depth -= 1;
            }
        }
    }
}
