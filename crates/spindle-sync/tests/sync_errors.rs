//! Every error type of `threading`: `Error + Send + Sync + 'static`, lowercase `Display`
//! without a trailing period, and Python's wording (tokio's tests/sync_errors.rs pattern).

use std::error::Error;

use spindle_sync::threading::{
    BrokenBarrierError, ConditionError, OverReleaseError, Panicked, ReleaseError, TimerError,
};

fn is_error<E: Error + Send + Sync + 'static>() {}

#[test]
fn error_types_are_errors() {
    is_error::<ReleaseError>();
    is_error::<ConditionError>();
    is_error::<OverReleaseError>();
    is_error::<BrokenBarrierError>();
    is_error::<TimerError>();
    is_error::<Panicked>();
}

fn check_display(e: &dyn Error, expected: &str) {
    let s = e.to_string();
    assert_eq!(s, expected);
    assert!(!s.ends_with('.'));
    assert_eq!(s.chars().next().map(char::is_lowercase), Some(true));
}

#[test]
fn messages_follow_python() {
    check_display(&ReleaseError::Unlocked, "release unlocked lock");
    check_display(&ReleaseError::NotOwner, "cannot release un-acquired lock");
    check_display(
        &ConditionError::WaitUnacquired,
        "cannot wait on un-acquired lock",
    );
    check_display(
        &ConditionError::NotifyUnacquired,
        "cannot notify on un-acquired lock",
    );
    check_display(
        &OverReleaseError { requested: 2 },
        "semaphore released too many times",
    );
    check_display(&BrokenBarrierError, "barrier is broken");
    check_display(
        &TimerError::AlreadyStarted,
        "threads can only be started once",
    );
    let spawn = TimerError::Spawn(std::io::Error::other("no threads left"));
    check_display(&spawn, "could not spawn the timer thread");
    assert!(spawn.source().is_some());
}

#[test]
fn debug_needs_nothing_from_the_payload() {
    struct Opaque;
    let t = spindle_sync::threading::Thread::spawn(|| -> () {
        std::panic::panic_any(Opaque);
    })
    .unwrap();
    let err = t.join().unwrap_err();
    let dbg = format!("{err:?}");
    assert!(dbg.contains("Panicked"));
}
