//! `threading::Event`: ported from CPython's `Lib/test/lock_tests.py` (`EventTests`; PSF
//! licence), float seconds made `Duration`, sleeps replaced by Events and counters.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};

use spindle_sync::threading::Event;
use support::{at_least, timed, wait_until, LIMIT, SHORT};

#[test]
fn smoke_set_clear() {
    // EventTests.test_is_set
    let e = Event::new();
    assert!(!e.is_set());
    e.set();
    assert!(e.is_set());
    e.set();
    assert!(e.is_set());
    e.clear();
    assert!(!e.is_set());
    e.clear();
    assert!(!e.is_set());
}

#[test]
fn set_wakes_every_waiter() {
    // EventTests.test_notify
    const WAITERS: usize = 5;
    let e = Event::new();
    let started = AtomicUsize::new(0);
    let woken = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..WAITERS {
            s.spawn(|| {
                started.fetch_add(1, Ordering::SeqCst);
                assert!(e.wait_timeout(LIMIT));
                woken.fetch_add(1, Ordering::SeqCst);
            });
        }
        wait_until("waiters started", || {
            started.load(Ordering::SeqCst) == WAITERS
        });
        e.set();
    });
    assert_eq!(woken.load(Ordering::SeqCst), WAITERS);
}

#[test]
fn wait_timeout_false_after_roughly_the_timeout() {
    // EventTests.test_timeout
    let e = Event::new();
    let (set, took) = timed(|| e.wait_timeout(SHORT));
    assert!(!set);
    at_least(took, SHORT);
    assert!(!e.wait_timeout(std::time::Duration::ZERO));
    e.set();
    assert!(e.wait_timeout(SHORT));
    assert!(e.wait_timeout(std::time::Duration::ZERO));
}

#[test]
fn wait_returns_true_even_if_cleared_before_the_waiter_runs() {
    // EventTests.test_set_and_clear (CPython issue 13502): a waiter woken by set() reports
    // true even though clear() followed at once.
    const WAITERS: usize = 4;
    let e = Event::new();
    let started = AtomicUsize::new(0);
    std::thread::scope(|s| {
        let hs: Vec<_> = (0..WAITERS)
            .map(|_| {
                s.spawn(|| {
                    started.fetch_add(1, Ordering::SeqCst);
                    e.wait_timeout(LIMIT)
                })
            })
            .collect();
        wait_until("waiters started", || {
            started.load(Ordering::SeqCst) == WAITERS
        });
        e.set();
        e.clear();
        for h in hs {
            assert!(h.join().unwrap());
        }
    });
}

#[test]
fn clear_then_wait_blocks_again() {
    let e = Event::new();
    e.set();
    e.wait();
    e.clear();
    assert!(!e.wait_timeout(SHORT));
}

#[test]
fn stress_ping_pong() {
    const ROUNDS: usize = 2_000;
    let ping = Event::new();
    let pong = Event::new();
    std::thread::scope(|s| {
        s.spawn(|| {
            for _ in 0..ROUNDS {
                assert!(ping.wait_timeout(LIMIT));
                ping.clear();
                pong.set();
            }
        });
        for _ in 0..ROUNDS {
            ping.set();
            assert!(pong.wait_timeout(LIMIT));
            pong.clear();
        }
    });
}

#[test]
fn stress_set_clear_with_timed_waiters_never_hangs() {
    const WAITERS: usize = 3;
    const ROUNDS: usize = 3_000;
    let e = Event::new();
    let stop = Event::new();
    std::thread::scope(|s| {
        for _ in 0..WAITERS {
            s.spawn(|| {
                while !stop.is_set() {
                    e.wait_timeout(std::time::Duration::from_micros(50));
                }
            });
        }
        for _ in 0..ROUNDS {
            e.set();
            e.clear();
        }
        stop.set();
        e.set();
    });
    assert!(e.wait_timeout(std::time::Duration::ZERO));
}
