//! Cancellation semantics: before start, at an await, observed with `catch_cancelled`,
//! inside `shield`, inside `wait_for` and `timeout`. Modelled on CPython's
//! `test_asyncio/test_tasks.py` (`test_cancel_*`) and `test_timeouts.py`.

mod support;

use std::cell::{Cell, RefCell};
use std::future::pending;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use spindle_async::{
    catch_cancelled, current_task, run, shield, sleep, spawn, timeout, wait_for, yield_now,
    Cancelled, Event, TaskError,
};

use support::gated;

/// Counts drops, to see where a cancelled future was cleaned up.
struct DropFlag(Rc<Cell<u32>>);
impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.set(self.0.get() + 1);
    }
}

#[test]
fn cancel_before_start_never_polls() {
    run(async {
        let polled = Rc::new(Cell::new(false));
        let p = polled.clone();
        let t = spawn(async move { p.set(true) });
        assert!(t.cancel(Some("early".into())));
        let err = t.await.unwrap_err();
        assert_eq!(
            err,
            TaskError::Cancelled(Cancelled::new(Some("early".into())))
        );
        assert!(!polled.get());
    });
}

#[test]
fn cancel_at_an_await_drops_the_future_there() {
    run(async {
        let drops = Rc::new(Cell::new(0));
        let d = drops.clone();
        let reached = Rc::new(Cell::new(false));
        let r = reached.clone();
        let t = spawn(async move {
            let _flag = DropFlag(d);
            sleep(Duration::from_secs(3600)).await;
            r.set(true);
        });
        yield_now().await; // let it reach the sleep
        assert!(!t.done());
        assert!(t.cancel(None));
        assert_eq!(t.cancelling(), 1);
        assert!(t.await.unwrap_err().is_cancelled());
        assert_eq!(drops.get(), 1);
        assert!(!reached.get());
    });
}

#[test]
fn cancel_of_a_done_task_returns_false() {
    run(async {
        let t = spawn(async { 1 });
        yield_now().await;
        assert!(t.done());
        assert!(!t.cancel(None));
        assert!(!t.cancelled());
        assert_eq!(t.await, Ok(1));
    });
}

#[test]
fn catch_cancelled_observes_and_allows_async_cleanup() {
    run(async {
        let log = Rc::new(RefCell::new(Vec::new()));
        let l = log.clone();
        let ev = Arc::new(Event::new());
        let e = ev.clone();
        let t = spawn(async move {
            match catch_cancelled(e.wait()).await {
                Ok(()) => l.borrow_mut().push("set".to_string()),
                Err(c) => {
                    l.borrow_mut().push(format!("cancelled: {:?}", c.message()));
                    sleep(Duration::from_millis(1)).await; // awaiting during cleanup
                    l.borrow_mut().push("cleaned".to_string());
                }
            }
            42
        });
        yield_now().await;
        t.cancel(Some("bye".into()));
        assert_eq!(t.await, Ok(42)); // the cancellation was caught
        assert_eq!(
            *log.borrow(),
            [
                "cancelled: Some(\"bye\")".to_string(),
                "cleaned".to_string()
            ]
        );
    });
}

#[test]
fn second_cancel_after_catching_drops_the_task() {
    run(async {
        let ev = Arc::new(Event::new());
        let e = ev.clone();
        let stage = Rc::new(Cell::new(0));
        let s = stage.clone();
        let t = spawn(async move {
            let _ = catch_cancelled(e.wait()).await;
            s.set(1);
            pending::<()>().await; // not protected: a second cancel ends the task
            s.set(2);
        });
        yield_now().await;
        t.cancel(None);
        yield_now().await;
        assert_eq!(stage.get(), 1);
        t.cancel(None);
        assert!(t.await.unwrap_err().is_cancelled());
        assert_eq!(stage.get(), 1);
    });
}

#[test]
fn nested_catch_delivers_to_the_innermost() {
    run(async {
        let t = spawn(async {
            let outer = catch_cancelled(async {
                let inner = catch_cancelled(pending::<()>()).await;
                assert!(inner.is_err());
                "inner caught"
            })
            .await;
            outer.unwrap()
        });
        yield_now().await;
        t.cancel(None);
        assert_eq!(t.await, Ok("inner caught"));
    });
}

#[test]
fn self_cancel_is_delivered_at_the_next_await() {
    run(async {
        let after = Rc::new(Cell::new(false));
        let a = after.clone();
        let t = spawn(async move {
            current_task().unwrap().cancel(None);
            a.set(true); // still runs: no await in between
            yield_now().await;
            unreachable!("cancelled at the await");
        });
        assert!(t.await.unwrap_err().is_cancelled());
        assert!(after.get());
    });
}

#[test]
fn uncancel_withdraws_a_request() {
    run(async {
        let t = spawn(async {
            let me = current_task().unwrap();
            me.cancel(None);
            assert_eq!(me.cancelling(), 1);
            assert_eq!(me.uncancel(), 0);
            yield_now().await;
            "survived"
        });
        assert_eq!(t.await, Ok("survived"));
    });
}

#[test]
fn shield_protects_the_inner_work() {
    run(async {
        let done = Rc::new(Cell::new(false));
        let d = done.clone();
        let gate = Arc::new(Event::new());
        let g = gate.clone();
        let outer = spawn(async move {
            shield(async move {
                g.wait().await;
                d.set(true);
                5
            })
            .await
        });
        yield_now().await;
        outer.cancel(None);
        assert!(outer.await.unwrap_err().is_cancelled());
        assert!(!done.get());
        gate.set();
        for _ in 0..3 {
            yield_now().await;
        }
        assert!(done.get(), "the shielded coroutine finished");
    });
}

#[test]
fn shield_gives_the_inner_result() {
    run(async {
        let s = shield(async { 9 });
        assert!(!s.task().done());
        assert_eq!(s.await, Ok(9));
    });
}

#[test]
fn cancel_inside_wait_for_cancels_the_inner_future() {
    run(async {
        let drops = Rc::new(Cell::new(0));
        let d = drops.clone();
        let t = spawn(async move {
            wait_for(
                async move {
                    let _f = DropFlag(d);
                    pending::<()>().await
                },
                Some(Duration::from_secs(3600)),
            )
            .await
        });
        yield_now().await;
        t.cancel(None);
        assert!(
            t.await.unwrap_err().is_cancelled(),
            "cancelled, not timed out"
        );
        assert_eq!(drops.get(), 1);
    });
}

#[test]
fn cancel_inside_timeout_is_not_a_timeout() {
    run(async {
        let t = spawn(async {
            catch_cancelled(timeout(Duration::from_secs(3600), pending::<()>())).await
        });
        yield_now().await;
        t.cancel(None);
        let inner = t.await.unwrap();
        assert!(
            inner.is_err(),
            "the catch saw a cancellation, not Ok(Err(TimeoutError))"
        );
    });
}

#[test]
fn cancelling_a_task_awaiting_another_leaves_the_other_running() {
    run(async {
        let (gate, inner) = gated(1);
        let inner_ref = inner.handle();
        // A separate task that awaits the inner one (spawning `inner` itself would not be).
        #[allow(clippy::redundant_async_block)]
        let outer = spawn(async move { inner.await });
        yield_now().await;
        outer.cancel(None);
        assert!(outer.await.unwrap_err().is_cancelled());
        assert!(!inner_ref.done());
        gate.set();
        yield_now().await;
        assert!(inner_ref.done() && !inner_ref.cancelled());
    });
}
