//! `Future` on its own: states, setters, results, timeouts, cancellation
//! (after CPython's `test_concurrent_futures/test_future.py`, with its `create_future` helper
//! replaced by the setters).

mod support;

use std::thread;
use std::time::Duration;

use spindle_futures::{Future, FutureError, State};
use support::{LIMIT, SHORT};

fn pending() -> Future<i32> {
    Future::new()
}

fn running() -> Future<i32> {
    let f = Future::new();
    assert!(f.set_running_or_notify_cancel());
    f
}

fn cancelled() -> Future<i32> {
    let f = Future::new();
    assert!(f.cancel());
    f
}

fn notified() -> Future<i32> {
    let f = cancelled();
    assert!(!f.set_running_or_notify_cancel());
    f
}

fn exception() -> Future<i32> {
    let f = Future::new();
    f.set_exception(FutureError::Panicked("boom".into()))
        .unwrap();
    f
}

fn successful() -> Future<i32> {
    let f = Future::new();
    f.set_result(42).unwrap();
    f
}

#[test]
fn states_and_predicates() {
    let table = [
        (pending(), State::Pending, false, false, false),
        (running(), State::Running, false, true, false),
        (cancelled(), State::Cancelled, true, false, true),
        (notified(), State::Cancelled, true, false, true),
        (exception(), State::Finished, false, false, true),
        (successful(), State::Finished, false, false, true),
    ];
    for (f, state, is_cancelled, is_running, is_done) in table {
        assert_eq!(f.state(), state);
        assert_eq!(f.cancelled(), is_cancelled, "{state}");
        assert_eq!(f.running(), is_running, "{state}");
        assert_eq!(f.done(), is_done, "{state}");
    }
}

#[test]
fn cancel_only_while_pending() {
    assert!(pending().cancel());
    assert!(!running().cancel());
    assert!(cancelled().cancel(), "already cancelled still says true");
    assert!(notified().cancel());
    assert!(!exception().cancel());
    assert!(!successful().cancel());
}

#[test]
fn set_running_or_notify_cancel_claims_once() {
    let f = pending();
    assert!(f.set_running_or_notify_cancel());
    assert!(
        !f.set_running_or_notify_cancel(),
        "running: Python raises, we refuse"
    );
    assert!(
        !successful().set_running_or_notify_cancel(),
        "finished: refused"
    );
    assert!(!cancelled().set_running_or_notify_cancel());
}

#[test]
fn results_of_each_state() {
    assert_eq!(successful().result(), Ok(42));
    assert_eq!(
        exception().result(),
        Err(FutureError::Panicked("boom".into()))
    );
    assert_eq!(cancelled().result(), Err(FutureError::Cancelled));
    assert_eq!(notified().result(), Err(FutureError::Cancelled));
    assert_eq!(pending().result_timeout(SHORT), Err(FutureError::Timeout));
    assert_eq!(
        running().result_timeout(Duration::ZERO),
        Err(FutureError::Timeout)
    );
}

#[test]
fn exceptions_of_each_state() {
    assert_eq!(successful().exception(), None);
    assert_eq!(
        exception().exception(),
        Some(FutureError::Panicked("boom".into()))
    );
    assert_eq!(cancelled().exception(), Some(FutureError::Cancelled));
    assert_eq!(
        pending().exception_timeout(SHORT),
        Err(FutureError::Timeout)
    );
    assert_eq!(successful().exception_timeout(Duration::ZERO), Ok(None));
}

#[test]
fn huge_timeouts_do_not_panic() {
    assert_eq!(successful().result_timeout(Duration::MAX), Ok(42));
    assert!(exception()
        .exception_timeout(Duration::MAX)
        .unwrap()
        .is_some());
}

#[test]
fn set_twice_is_invalid_state_and_hands_the_value_back() {
    let f = successful();
    let err = f.set_result(7).unwrap_err();
    assert_eq!(err.state(), State::Finished);
    assert_eq!(err.into_inner(), 7);
    let err = f.set_exception(FutureError::ShutDown).unwrap_err();
    assert_eq!(err.into_inner(), FutureError::ShutDown);
    assert_eq!(f.result(), Ok(42), "the first value stays");

    let c = cancelled();
    let err = c.set_result(1).unwrap_err();
    assert_eq!(err.state(), State::Cancelled);
    assert_eq!(err.to_string(), "future is already cancelled");
    assert!(exception().set_result(1).is_err());
}

#[test]
fn set_result_allowed_while_pending_or_running() {
    let p = pending();
    p.set_result(1).unwrap();
    assert_eq!(p.result(), Ok(1));
    let r = running();
    r.set_exception(FutureError::broken("gone")).unwrap();
    assert_eq!(r.result(), Err(FutureError::broken("gone")));
}

#[test]
fn result_wakes_on_set_from_another_thread() {
    let f = pending();
    thread::scope(|s| {
        let waiter = s.spawn(|| f.result_timeout(LIMIT));
        let waiter2 = s.spawn(|| f.exception_timeout(LIMIT));
        f.set_result(5).unwrap();
        assert_eq!(waiter.join().unwrap(), Ok(5));
        assert_eq!(waiter2.join().unwrap(), Ok(None));
    });
}

#[test]
fn cancel_wakes_waiters() {
    let f = pending();
    thread::scope(|s| {
        let waiter = s.spawn(|| f.result_timeout(LIMIT));
        assert!(f.cancel());
        assert_eq!(waiter.join().unwrap(), Err(FutureError::Cancelled));
    });
}

#[test]
fn into_result_takes_the_value_once() {
    let f: Future<Vec<u8>> = Future::new();
    let other = f.clone();
    let third = f.clone();
    f.set_result(vec![1]).unwrap();
    assert_eq!(f.into_result(), Ok(vec![1]));
    assert_eq!(other.result(), Err(FutureError::Taken));
    assert_eq!(
        other.exception(),
        None,
        "it finished fine; only the value is gone"
    );
    assert_eq!(third.into_result(), Err(FutureError::Taken));
}

#[test]
fn into_result_for_non_clone_values_and_errors() {
    struct NoClone(u8);
    let f = Future::new();
    f.set_result(NoClone(3)).unwrap();
    assert_eq!(f.into_result().map(|v| v.0).unwrap(), 3);
    let f: Future<NoClone> = Future::new();
    f.cancel();
    assert_eq!(f.into_result().err(), Some(FutureError::Cancelled));
}

#[test]
fn debug_and_ptr_eq() {
    let f = successful();
    assert_eq!(format!("{f:?}"), "Future { state: Finished, .. }");
    assert!(f.ptr_eq(&f.clone()));
    assert!(!f.ptr_eq(&successful()));
    assert_eq!(Future::<u8>::default().state(), State::Pending);
}
