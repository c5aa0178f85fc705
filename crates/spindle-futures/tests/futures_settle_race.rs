//! Settling is lock-free unless someone listens: setters racing listeners (callbacks, sleeping
//! waiters, `wait`), other setters and `cancel` must never lose a wake-up or a callback, and
//! exactly one of several settlers wins.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use spindle_futures::{wait, Future, FutureError, ReturnWhen, State};

/// Races per test; each is a few microseconds, sized for 2 cores.
const ROUNDS: usize = 2_000;
/// Longest a racing waiter may wait before the test calls it a lost wake-up.
const PATIENCE: Duration = Duration::from_secs(10);

/// Runs `a` on a helper thread and `b` here, started together, `ROUNDS` times, each round on
/// a fresh future from `make`.
fn race<T: Send + 'static>(
    make: impl Fn() -> Future<T>,
    a: impl Fn(Future<T>) + Send + Sync + 'static,
    b: impl Fn(&Future<T>),
) {
    let a = Arc::new(a);
    for _ in 0..ROUNDS {
        let fut = make();
        let start = Arc::new(Barrier::new(2));
        let helper = {
            let (fut, start, a) = (fut.clone(), Arc::clone(&start), Arc::clone(&a));
            thread::spawn(move || {
                start.wait();
                a(fut);
            })
        };
        start.wait();
        b(&fut);
        helper.join().unwrap();
    }
}

#[test]
fn a_callback_added_while_the_future_settles_runs_exactly_once() {
    let runs = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&runs);
    race(
        Future::new,
        |fut| fut.set_result(7u32).unwrap(),
        move |fut| {
            let seen = Arc::clone(&seen);
            fut.add_done_callback(move |f| {
                assert_eq!(f.result(), Ok(7));
                seen.fetch_add(1, Ordering::SeqCst);
            });
        },
    );
    assert_eq!(runs.load(Ordering::SeqCst), ROUNDS);
}

#[test]
fn a_waiter_going_to_sleep_while_the_future_settles_wakes_up() {
    race(
        Future::new,
        |fut| fut.set_result(String::from("done")).unwrap(),
        |fut| assert_eq!(fut.result_timeout(PATIENCE), Ok(String::from("done"))),
    );
}

#[test]
fn wait_registered_while_the_future_settles_returns() {
    race(
        Future::<u8>::new,
        |fut| {
            fut.set_exception(FutureError::Panicked("late".into()))
                .unwrap();
        },
        |fut| {
            let (done, not_done) = wait(
                std::slice::from_ref(fut),
                Some(PATIENCE),
                ReturnWhen::FirstException,
            );
            assert_eq!((done.len(), not_done.len()), (1, 0));
        },
    );
}

#[test]
fn of_two_racing_setters_exactly_one_wins() {
    let wins = Arc::new(AtomicUsize::new(0));
    let helper_wins = Arc::clone(&wins);
    let here_wins = Arc::clone(&wins);
    race(
        Future::new,
        move |fut| {
            if fut.set_result(1u8).is_ok() {
                helper_wins.fetch_add(1, Ordering::SeqCst);
            }
        },
        move |fut| {
            match fut.set_result(2u8) {
                Ok(()) => {
                    here_wins.fetch_add(1, Ordering::SeqCst);
                }
                Err(refused) => {
                    // The other setter may still be writing; either way it is finished.
                    assert_eq!(refused.into_inner(), 2);
                }
            }
            assert!(matches!(fut.result_timeout(PATIENCE), Ok(1 | 2)));
        },
    );
    assert_eq!(wins.load(Ordering::SeqCst), ROUNDS);
}

#[test]
fn cancel_racing_a_setter_leaves_one_consistent_outcome() {
    race(
        Future::new,
        |fut| {
            let _ = fut.set_result(5u64);
        },
        |fut| {
            let cancelled = fut.cancel();
            match fut.result_timeout(PATIENCE) {
                Err(FutureError::Cancelled) => {
                    assert!(cancelled);
                    assert_eq!(fut.state(), State::Cancelled);
                }
                Ok(5) => {
                    assert!(!cancelled);
                    assert_eq!(fut.state(), State::Finished);
                }
                other => panic!("unexpected outcome {other:?}"),
            }
        },
    );
}
