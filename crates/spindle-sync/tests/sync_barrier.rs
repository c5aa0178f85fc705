//! `threading::Barrier`: ported from CPython's `Lib/test/lock_tests.py` (`BarrierTests`;
//! PSF licence), float seconds made `Duration`, exceptions made `BrokenBarrierError` and
//! panics.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use spindle_sync::threading::{Barrier, BrokenBarrierError, Event};
use support::{at_least, timed, wait_until, LIMIT, SHORT};

const N: usize = 4;

fn run_parties<R: Send>(n: usize, f: impl Fn(usize) -> R + Sync) -> Vec<R> {
    std::thread::scope(|s| {
        let hs: Vec<_> = (0..n)
            .map(|i| {
                s.spawn({
                    let f = &f;
                    move || f(i)
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

#[test]
fn smoke_indices_are_distinct() {
    let b = Barrier::new(N, None);
    assert_eq!(b.parties(), N);
    let mut idx = run_parties(N, |_| b.wait(Some(LIMIT)).unwrap());
    idx.sort_unstable();
    assert_eq!(idx, (0..N).collect::<Vec<_>>());
    assert!(!b.broken());
    assert_eq!(b.n_waiting(), 0);
}

#[test]
fn several_rounds() {
    // BarrierTests.test_barrier with passes
    const ROUNDS: usize = 50;
    let b = Barrier::new(N, None);
    let phase = AtomicUsize::new(0);
    run_parties(N, |_| {
        for round in 0..ROUNDS {
            // Nobody can be a round ahead.
            assert!(phase.load(Ordering::SeqCst) / N >= round);
            phase.fetch_add(1, Ordering::SeqCst);
            b.wait(Some(LIMIT)).unwrap();
            assert!(phase.load(Ordering::SeqCst) >= (round + 1) * N);
            b.wait(Some(LIMIT)).unwrap();
        }
    });
    assert_eq!(phase.load(Ordering::SeqCst), ROUNDS * N);
}

#[test]
fn action_runs_once_per_round_on_one_thread() {
    // BarrierTests.test_action
    let runs = Arc::new(AtomicUsize::new(0));
    let r = runs.clone();
    let b = Barrier::new(
        N,
        Some(Box::new(move || {
            r.fetch_add(1, Ordering::SeqCst);
        })),
    );
    run_parties(N, |_| {
        b.wait(Some(LIMIT)).unwrap();
        b.wait(Some(LIMIT)).unwrap();
    });
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}

#[test]
fn n_waiting_counts_the_current_round() {
    let b = Barrier::new(3, None);
    std::thread::scope(|s| {
        let h1 = s.spawn(|| b.wait(Some(LIMIT)));
        let h2 = s.spawn(|| b.wait(Some(LIMIT)));
        wait_until("two threads wait", || b.n_waiting() == 2);
        b.wait(Some(LIMIT)).unwrap();
        h1.join().unwrap().unwrap();
        h2.join().unwrap().unwrap();
    });
}

#[test]
fn timeout_breaks_the_barrier_for_everyone() {
    // BarrierTests.test_timeout / test_default_timeout
    let b = Barrier::new(3, None);
    std::thread::scope(|s| {
        let other = s.spawn(|| b.wait(Some(LIMIT)));
        wait_until("the other thread waits", || b.n_waiting() == 1);
        let (r, took) = timed(|| b.wait(Some(SHORT)));
        assert_eq!(r, Err(BrokenBarrierError));
        at_least(took, SHORT);
        assert_eq!(other.join().unwrap(), Err(BrokenBarrierError));
    });
    assert!(b.broken());
    assert_eq!(b.wait(None), Err(BrokenBarrierError));
}

#[test]
fn abort_breaks_waiters_and_later_calls() {
    // BarrierTests.test_abort
    let b = Barrier::new(N, None);
    std::thread::scope(|s| {
        let hs: Vec<_> = (0..N - 1)
            .map(|_| s.spawn(|| b.wait(Some(LIMIT))))
            .collect();
        wait_until("waiters arrived", || b.n_waiting() == N - 1);
        b.abort();
        for h in hs {
            assert_eq!(h.join().unwrap(), Err(BrokenBarrierError));
        }
    });
    assert!(b.broken());
    assert_eq!(b.n_waiting(), 0);
    assert_eq!(b.wait(Some(LIMIT)), Err(BrokenBarrierError));
}

#[test]
fn reset_wakes_waiters_with_an_error_then_works_again() {
    // BarrierTests.test_reset
    let b = Barrier::new(3, None);
    std::thread::scope(|s| {
        let hs: Vec<_> = (0..2).map(|_| s.spawn(|| b.wait(Some(LIMIT)))).collect();
        wait_until("two waiters", || b.n_waiting() == 2);
        b.reset();
        for h in hs {
            assert_eq!(h.join().unwrap(), Err(BrokenBarrierError));
        }
    });
    assert!(!b.broken());
    let mut idx = run_parties(3, |_| b.wait(Some(LIMIT)).unwrap());
    idx.sort_unstable();
    assert_eq!(idx, [0, 1, 2]);
}

#[test]
fn reset_after_abort_makes_it_usable() {
    // BarrierTests.test_abort_and_reset
    let b = Barrier::new(2, None);
    b.abort();
    assert!(b.broken());
    b.reset();
    assert!(!b.broken());
    run_parties(2, |_| b.wait(Some(LIMIT)).unwrap());
}

#[test]
fn panicking_action_breaks_the_barrier_and_resumes_in_its_thread() {
    // BarrierTests.test_action_exception
    let b = Barrier::new(3, Some(Box::new(|| panic!("action failed"))));
    let results = run_parties(3, |_| {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| b.wait(Some(LIMIT))))
    });
    let panicked = results.iter().filter(|r| r.is_err()).count();
    let broken = results
        .iter()
        .filter(|r| matches!(r, Ok(Err(BrokenBarrierError))))
        .count();
    assert_eq!((panicked, broken), (1, 2));
    assert!(b.broken());
}

#[test]
fn drain_blocks_new_arrivals_until_the_round_left() {
    // A fast thread that re-enters while others still leave the last round must not be
    // counted in it.
    const ROUNDS: usize = 200;
    let b = Barrier::new(2, None);
    let seen = [AtomicUsize::new(0), AtomicUsize::new(0)];
    run_parties(2, |me| {
        for round in 0..ROUNDS {
            seen[me].store(round, Ordering::SeqCst);
            b.wait(Some(LIMIT)).unwrap();
            assert!(seen[1 - me].load(Ordering::SeqCst) >= round);
        }
    });
}

#[test]
#[should_panic(expected = "a barrier needs at least one party")]
fn zero_parties_panics() {
    let _ = Barrier::new(0, None);
}

#[test]
fn one_party_passes_alone() {
    let b = Barrier::new(1, None);
    assert_eq!(b.wait(None), Ok(0));
    assert_eq!(b.wait(Some(Duration::ZERO)), Ok(0));
}

#[test]
fn waiter_released_by_event_driven_last_party() {
    let b = Barrier::new(2, None);
    let go = Event::new();
    std::thread::scope(|s| {
        let h = s.spawn(|| {
            assert!(go.wait_timeout(LIMIT));
            b.wait(Some(LIMIT))
        });
        go.set();
        b.wait(Some(LIMIT)).unwrap();
        h.join().unwrap().unwrap();
    });
}
