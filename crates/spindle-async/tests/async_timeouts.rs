//! `sleep`, `timeout`/`timeout_at` scopes and `wait_for`. Modelled on CPython's
//! `test_asyncio/test_timeouts.py` and `test_waitfor.py`. Timing bounds are generous upper
//! limits only; no ordering depends on wall-clock sleeps.

use std::future::pending;
use std::pin::pin;
use std::time::{Duration, Instant};

use spindle_async::{
    run, sleep, sleep_until, spawn, timeout, timeout_at, wait_for, yield_now, TimeoutError,
};

#[test]
fn sleep_waits_at_least_its_delay() {
    run(async {
        let t0 = Instant::now();
        sleep(Duration::from_millis(10)).await;
        assert!(t0.elapsed() >= Duration::from_millis(10));
    });
}

#[test]
fn sleeps_wake_in_deadline_order() {
    let order = run(async {
        let log = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
        let base = Instant::now();
        let ts: Vec<_> = [30u64, 10, 20]
            .into_iter()
            .map(|ms| {
                let log = log.clone();
                spawn(async move {
                    sleep_until(base + Duration::from_millis(ms)).await;
                    log.borrow_mut().push(ms);
                })
            })
            .collect();
        for t in ts {
            t.await.unwrap();
        }
        let v = log.borrow().clone();
        v
    });
    assert_eq!(order, [10, 20, 30]);
}

#[test]
fn huge_sleep_is_forever_not_a_panic() {
    run(async {
        assert_eq!(
            timeout(Duration::from_millis(1), sleep(Duration::MAX)).await,
            Err(TimeoutError)
        );
    });
}

#[test]
fn timeout_expires_and_drops_the_body() {
    run(async {
        let r = timeout(Duration::from_millis(5), pending::<()>()).await;
        assert_eq!(r, Err(TimeoutError));
    });
}

#[test]
fn timeout_passes_the_value_through() {
    run(async {
        assert_eq!(timeout(Duration::from_secs(60), async { 4 }).await, Ok(4));
        assert_eq!(timeout(Duration::MAX, async { 5 }).await, Ok(5));
    });
}

#[test]
fn timeout_at_a_past_instant_expires_at_once() {
    run(async {
        let past = Instant::now();
        let r = timeout_at(past, pending::<()>()).await;
        assert_eq!(r, Err(TimeoutError));
        // A ready body still wins (it is polled first).
        assert_eq!(timeout_at(past, async { 1 }).await, Ok(1));
    });
}

#[test]
fn timeout_reschedule_and_expired() {
    run(async {
        let mut t = pin!(timeout(Duration::from_secs(3600), pending::<()>()));
        assert!(!t.expired());
        assert!(t.when().is_some());
        let soon = Instant::now() + Duration::from_millis(2);
        t.as_mut().reschedule(Some(soon));
        assert_eq!(t.when(), Some(soon));
        assert_eq!(t.as_mut().await, Err(TimeoutError));
        assert!(t.expired());
    });
}

#[test]
fn wait_for_none_waits_without_limit() {
    run(async {
        let t = spawn(async {
            yield_now().await;
            8
        });
        assert_eq!(wait_for(t, None).await, Ok(Ok(8)));
    });
}

#[test]
fn wait_for_zero_times_out_a_pending_future() {
    run(async {
        assert_eq!(
            wait_for(pending::<()>(), Some(Duration::ZERO)).await,
            Err(TimeoutError)
        );
    });
}

#[test]
fn many_short_timeouts_do_not_grow_the_heap_unboundedly() {
    const ROUNDS: usize = 2_000;
    run(async {
        for i in 0..ROUNDS {
            // Each completes at once: its hour-long timer is cancelled and purged lazily.
            assert_eq!(timeout(Duration::from_secs(3600), async { i }).await, Ok(i));
        }
    });
}
