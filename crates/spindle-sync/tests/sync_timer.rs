//! `threading::Timer`: CPython's `test_threading.TimerTests` in spirit (PSF licence): the
//! function runs once after the interval, `cancel` stops it and wakes the timer thread at
//! once, a second `start` is refused.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use spindle_sync::threading::{set_excepthook, Event, ExceptHookArgs, Timer, TimerError};
use support::{at_least, LIMIT, SHORT};

#[test]
fn fires_once_after_the_interval() {
    let fired = Arc::new(Event::new());
    let count = Arc::new(AtomicUsize::new(0));
    let (f, c) = (fired.clone(), count.clone());
    let start = Instant::now();
    let t = Timer::new(SHORT, move || {
        c.fetch_add(1, Ordering::SeqCst);
        f.set();
    });
    assert!(!t.fired());
    t.start().unwrap();
    assert!(fired.wait_timeout(LIMIT));
    at_least(start.elapsed(), SHORT);
    t.join().unwrap();
    assert!(t.fired());
    assert!(t.finished());
    assert_eq!(count.load(Ordering::SeqCst), 1);
}

#[test]
fn cancel_before_firing_wakes_the_thread_at_once() {
    let count = Arc::new(AtomicUsize::new(0));
    let c = count.clone();
    // An hour: if cancel did not wake the thread, join_timeout below would fail.
    let t = Timer::new(Duration::from_secs(3600), move || {
        c.fetch_add(1, Ordering::SeqCst);
    });
    t.start().unwrap();
    t.cancel();
    assert!(t.join_timeout(LIMIT));
    t.join().unwrap();
    assert!(!t.fired());
    assert!(t.finished());
    assert_eq!(count.load(Ordering::SeqCst), 0);
}

#[test]
fn cancel_before_start_means_it_never_fires() {
    let t = Timer::new(Duration::ZERO, || panic!("must not run"));
    t.cancel();
    t.start().unwrap();
    t.join().unwrap();
    assert!(!t.fired());
}

#[test]
fn second_start_is_an_error() {
    let t = Timer::new(Duration::ZERO, || {});
    t.start().unwrap();
    assert!(matches!(t.start(), Err(TimerError::AlreadyStarted)));
    t.join().unwrap();
}

#[test]
fn join_before_start_returns_at_once() {
    let t = Timer::new(Duration::from_secs(3600), || {});
    t.join().unwrap();
    assert!(t.join_timeout(Duration::ZERO));
}

#[test]
fn panicking_function_comes_back_from_join() {
    fn quiet(_: &ExceptHookArgs<'_>) {}
    // Only this test in this binary panics a thread, so swapping the global hook is safe.
    let previous = set_excepthook(quiet);
    let t = Timer::new(Duration::ZERO, || panic!("timer body failed"));
    t.start().unwrap();
    let err = t.join().unwrap_err();
    set_excepthook(previous);
    assert_eq!(err.message(), "timer body failed");
    assert!(t.finished());
}
