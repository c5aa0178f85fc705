//! Done callbacks: before and after completion, order, cancellation, panicking callbacks
//! (CPython's `FutureTests.test_done_callback_*`).

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use spindle_futures::{Future, FutureError, State, ThreadPoolExecutor};
use support::{Gate, LIMIT};

#[test]
fn callback_added_before_completion_sees_the_result() {
    let seen = Arc::new(Mutex::new(None));
    let f = Future::new();
    let s = Arc::clone(&seen);
    f.add_done_callback(move |f: &Future<i32>| *s.lock().unwrap() = Some(f.result()));
    assert_eq!(*seen.lock().unwrap(), None, "not run before completion");
    f.set_result(5).unwrap();
    assert_eq!(*seen.lock().unwrap(), Some(Ok(5)));
}

#[test]
fn callback_added_after_completion_runs_at_once() {
    let f = Future::new();
    f.set_exception(FutureError::Panicked("x".into())).unwrap();
    let seen = Arc::new(Mutex::new(None));
    let s = Arc::clone(&seen);
    f.add_done_callback(move |f: &Future<()>| *s.lock().unwrap() = Some(f.exception()));
    assert_eq!(
        *seen.lock().unwrap(),
        Some(Some(FutureError::Panicked("x".into())))
    );
}

#[test]
fn callbacks_run_in_registration_order_exactly_once() {
    let order = Arc::new(Mutex::new(Vec::new()));
    let f = Future::new();
    for i in 0..5 {
        let o = Arc::clone(&order);
        f.add_done_callback(move |_: &Future<()>| o.lock().unwrap().push(i));
    }
    f.set_result(()).unwrap();
    assert!(f.set_result(()).is_err());
    assert_eq!(*order.lock().unwrap(), vec![0, 1, 2, 3, 4]);
}

#[test]
fn cancel_runs_callbacks() {
    let seen = Arc::new(Mutex::new(None));
    let f: Future<u8> = Future::new();
    let s = Arc::clone(&seen);
    f.add_done_callback(move |f| *s.lock().unwrap() = Some(f.cancelled()));
    assert!(f.cancel());
    assert_eq!(*seen.lock().unwrap(), Some(true));
}

#[test]
fn panicking_callback_does_not_stop_the_others() {
    let ran = Arc::new(AtomicUsize::new(0));
    let f = Future::new();
    let r = Arc::clone(&ran);
    f.add_done_callback(move |_: &Future<i32>| {
        r.fetch_add(1, Ordering::SeqCst);
    });
    f.add_done_callback(|_| panic!("callback failure (expected by the test)"));
    let r = Arc::clone(&ran);
    f.add_done_callback(move |_| {
        r.fetch_add(1, Ordering::SeqCst);
    });
    f.set_result(1).unwrap();
    assert_eq!(ran.load(Ordering::SeqCst), 2);
    // And when added after completion, the panic stays inside add_done_callback too.
    f.add_done_callback(|_| panic!("late callback failure (expected by the test)"));
    assert_eq!(f.result(), Ok(1));
}

#[test]
fn callback_may_use_the_future_without_deadlock() {
    let f = Future::new();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = Arc::clone(&seen);
    f.add_done_callback(move |f: &Future<i32>| {
        let s2 = Arc::clone(&s);
        // Registering from inside a callback runs the new one at once.
        f.add_done_callback(move |f| s2.lock().unwrap().push(f.result().unwrap() + 1));
        s.lock().unwrap().push(f.result().unwrap());
        assert!(!f.cancel());
    });
    f.set_result(10).unwrap();
    assert_eq!(*seen.lock().unwrap(), vec![11, 10]);
}

#[test]
fn pool_runs_callbacks_on_the_worker_and_survives_a_panicking_one() {
    let pool = ThreadPoolExecutor::builder()
        .max_workers(1)
        .thread_name_prefix("cb")
        .build();
    let gate = Gate::new();
    let g = gate.clone();
    let fut = pool.submit(move || g.hold());
    let thread_name = Arc::new(Mutex::new(String::new()));
    let t = Arc::clone(&thread_name);
    fut.add_done_callback(move |_| {
        *t.lock().unwrap() = spindle_sync::threading::current_thread().name().to_owned();
    });
    fut.add_done_callback(|_| panic!("callback failure on a worker (expected by the test)"));
    gate.wait_entered();
    assert_eq!(fut.state(), State::Running);
    gate.open();
    assert_eq!(fut.result_timeout(LIMIT), Ok(()));
    // The worker survived the panicking callback and runs the next task.
    assert_eq!(pool.submit(|| 3).result_timeout(LIMIT), Ok(3));
    assert_eq!(*thread_name.lock().unwrap(), "cb_0");
}
