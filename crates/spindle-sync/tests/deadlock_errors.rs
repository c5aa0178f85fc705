//! The deadlock module's error and report types are proper errors, shareable across
//! threads, in every build.

use std::error::Error;

use spindle_sync::threading::deadlock::{
    AcquireError, DeadlockCycle, DeadlockedThread, HeldLock, LockInfo,
};

fn is_error<E: Error + Send + Sync + 'static>() {}
fn is_send_sync<T: Send + Sync + 'static>() {}

#[test]
fn acquire_error_is_an_error() {
    is_error::<AcquireError>();
    assert_eq!(
        AcquireError::Timeout.to_string(),
        "timed out waiting for the lock"
    );
    assert!(AcquireError::Timeout.source().is_none());
}

#[test]
fn reports_are_send_and_sync() {
    is_send_sync::<DeadlockCycle>();
    is_send_sync::<DeadlockedThread>();
    is_send_sync::<HeldLock>();
    is_send_sync::<LockInfo>();
}

#[cfg(feature = "deadlock-detection")]
#[test]
fn feature_only_types_are_send_and_sync() {
    use spindle_sync::threading::deadlock::{BlockedThread, DeadlockChecker};
    use spindle_sync::threading::lock_order::LockOrderViolation;
    is_send_sync::<BlockedThread>();
    is_send_sync::<LockOrderViolation>();
    fn is_send<T: Send>() {}
    is_send::<DeadlockChecker>();
}
