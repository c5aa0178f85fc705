//! `Event`: set/clear/wait, waking every waiter, set-then-clear still wakes.
//! Modelled on CPython's `test_asyncio/test_locks.py` (EventTests).

use std::sync::Arc;
use std::time::Duration;

use spindle_async::{gather, run, spawn, timeout, yield_now, Event};

#[test]
fn wait_on_a_set_event_returns_at_once() {
    run(async {
        let e = Event::new();
        e.set();
        e.wait().await;
        assert!(e.is_set());
        e.clear();
        assert!(!e.is_set());
    });
}

#[test]
fn set_wakes_every_waiter() {
    const WAITERS: usize = 100;
    run(async {
        let e = Arc::new(Event::new());
        let ts: Vec<_> = (0..WAITERS)
            .map(|i| {
                let e = e.clone();
                spawn(async move {
                    e.wait().await;
                    i
                })
            })
            .collect();
        yield_now().await;
        e.set();
        let out = gather(ts).await;
        assert_eq!(out.len(), WAITERS);
    });
}

#[test]
fn set_then_clear_still_releases_the_waiters() {
    run(async {
        let e = Arc::new(Event::new());
        let e2 = e.clone();
        let w = spawn(async move { e2.wait().await });
        yield_now().await;
        e.set();
        e.clear();
        w.await.unwrap();
    });
}

#[test]
fn dropped_waiter_is_removed() {
    run(async {
        let e = Event::new();
        assert!(timeout(Duration::from_millis(1), e.wait()).await.is_err());
        e.set();
        e.wait().await;
    });
}
