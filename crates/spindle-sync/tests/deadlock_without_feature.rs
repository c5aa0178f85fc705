//! Without the `deadlock-detection` feature the hooks are compiled out: the lock words keep
//! their size, names and levels are accepted and dropped, and a checked timeout is always
//! `AcquireError::Timeout`, even in a deadlock.

#![cfg(not(feature = "deadlock-detection"))]

use std::mem::size_of;
use std::time::Duration;

use spindle_sync::threading::{AcquireError, Lock, RLock, RawMutex, RwLock};

#[test]
fn lock_words_keep_their_size() {
    assert_eq!(size_of::<RawMutex>(), 1);
    assert_eq!(size_of::<Lock>(), 1);
    assert_eq!(size_of::<RwLock<()>>(), size_of::<usize>());
    // mutex byte + owner (u64) + count (usize), padded.
    assert_eq!(size_of::<RLock>(), 8 + 8 + size_of::<usize>());
}

#[test]
fn names_and_levels_compile_and_change_nothing() {
    static NAMED: Lock = Lock::named("static").with_level(3);
    assert!(NAMED.try_acquire());
    NAMED.release().unwrap();
    let r = RLock::named("r").with_level(1);
    let _g = r.lock();
    let rw = RwLock::new(5).with_name("rw").with_level(2);
    assert_eq!(*rw.read(), 5);
}

#[test]
fn checked_timeout_is_a_plain_timeout() {
    let lock = Lock::named("twice");
    let _held = lock.lock();
    // A self-deadlock the detector would report; without it, only the timeout is known.
    assert_eq!(
        lock.acquire_timeout_checked(Duration::from_millis(5)),
        Err(AcquireError::Timeout)
    );
    let rw = RwLock::new(());
    let _w = rw.write();
    assert_eq!(
        rw.try_read_for_checked(Duration::from_millis(5))
            .unwrap_err(),
        AcquireError::Timeout
    );
}
