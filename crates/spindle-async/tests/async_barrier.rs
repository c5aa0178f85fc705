//! `Barrier`: trips at `parties`, indices, reuse, abort/reset, a dropped waiter leaves.
//! Modelled on CPython's `test_asyncio/test_locks.py` (BarrierTests).

use std::sync::Arc;
use std::time::Duration;

use spindle_async::{gather, run, spawn, timeout, yield_now, Barrier, BrokenBarrierError};

#[test]
fn trips_and_is_reusable() {
    const PARTIES: usize = 5;
    const ROUNDS: usize = 3;
    run(async {
        let b = Arc::new(Barrier::new(PARTIES));
        for _ in 0..ROUNDS {
            let ts: Vec<_> = (0..PARTIES)
                .map(|_| {
                    let b = b.clone();
                    spawn(async move { b.wait().await.unwrap() })
                })
                .collect();
            let mut idx: Vec<usize> = gather(ts).await.into_iter().map(Result::unwrap).collect();
            idx.sort();
            assert_eq!(idx, (0..PARTIES).collect::<Vec<_>>());
            assert_eq!(b.n_waiting(), 0);
        }
    });
}

#[test]
fn abort_breaks_waiters_and_later_calls() {
    run(async {
        let b = Arc::new(Barrier::new(3));
        let b2 = b.clone();
        let w = spawn(async move { b2.wait().await });
        yield_now().await;
        assert_eq!(b.n_waiting(), 1);
        b.abort();
        assert_eq!(w.await.unwrap(), Err(BrokenBarrierError));
        assert!(b.broken());
        assert_eq!(b.wait().await, Err(BrokenBarrierError));
        b.reset();
        assert!(!b.broken());
    });
}

#[test]
fn reset_fails_current_waiters() {
    run(async {
        let b = Arc::new(Barrier::new(2));
        let b2 = b.clone();
        let w = spawn(async move { b2.wait().await });
        yield_now().await;
        b.reset();
        assert_eq!(w.await.unwrap(), Err(BrokenBarrierError));
        assert_eq!(b.parties(), 2);
    });
}

#[test]
fn a_dropped_waiter_leaves_the_count() {
    run(async {
        let b = Barrier::new(2);
        assert!(timeout(Duration::from_millis(1), b.wait()).await.is_err());
        assert_eq!(b.n_waiting(), 0);
    });
}

#[test]
#[should_panic(expected = "a barrier needs at least one party")]
fn zero_parties_panics() {
    let _ = Barrier::new(0);
}
