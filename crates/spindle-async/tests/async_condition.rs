//! `Condition`: wait/notify(n)/notify_all, wait_for, cancellation passing notifications on.
//! Modelled on CPython's `test_asyncio/test_locks.py` (ConditionTests).

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;

use spindle_async::{run, spawn, yield_now, Condition};

#[test]
fn notify_n_wakes_exactly_n_in_order() {
    run(async {
        let c = Arc::new(Condition::new());
        let woke = Rc::new(RefCell::new(Vec::new()));
        let ts: Vec<_> = (0..3)
            .map(|i| {
                let (c, woke) = (c.clone(), woke.clone());
                spawn(async move {
                    let g = c.lock().await;
                    let _g = c.wait(g).await;
                    woke.borrow_mut().push(i);
                })
            })
            .collect();
        for _ in 0..3 {
            yield_now().await;
        }
        c.notify(2);
        for _ in 0..3 {
            yield_now().await;
        }
        assert_eq!(*woke.borrow(), [0, 1]);
        c.notify_all();
        for t in ts {
            t.await.unwrap();
        }
        assert_eq!(*woke.borrow(), [0, 1, 2]);
    });
}

#[test]
fn wait_gives_the_lock_back_while_waiting() {
    run(async {
        let c = Arc::new(Condition::new());
        let c2 = c.clone();
        let t = spawn(async move {
            let g = c2.lock().await;
            let _g = c2.wait(g).await;
            assert!(c2.locked());
        });
        yield_now().await;
        assert!(!c.locked(), "the waiter released the lock");
        {
            let _g = c.lock().await;
            c.notify(1);
        }
        t.await.unwrap();
        assert!(!c.locked());
    });
}

#[test]
fn wait_for_checks_the_predicate() {
    run(async {
        let c = Arc::new(Condition::new());
        let value = Rc::new(Cell::new(0));
        let (c2, v2) = (c.clone(), value.clone());
        let t = spawn(async move {
            let g = c2.lock().await;
            let _g = c2.wait_for(g, || v2.get() >= 3).await;
            v2.get()
        });
        for _ in 0..5 {
            yield_now().await;
            let _g = c.lock().await;
            value.set(value.get() + 1);
            c.notify_all();
        }
        assert!(t.await.unwrap() >= 3);
    });
}

#[test]
fn cancelled_notified_waiter_passes_the_notification_on() {
    run(async {
        let c = Arc::new(Condition::new());
        let (c1, c2) = (c.clone(), c.clone());
        let first = spawn(async move {
            let g = c1.lock().await;
            let _g = c1.wait(g).await;
        });
        let second = spawn(async move {
            let g = c2.lock().await;
            let _g = c2.wait(g).await;
            "second woke"
        });
        for _ in 0..3 {
            yield_now().await;
        }
        c.notify(1); // goes to `first`...
        first.cancel(None); // ...which is dropped before it sees it
        assert!(first.await.unwrap_err().is_cancelled());
        assert_eq!(second.await.unwrap(), "second woke");
    });
}

#[test]
#[should_panic(expected = "Condition::wait given the guard of another lock")]
fn wait_with_a_foreign_guard_panics() {
    run(async {
        let c = Condition::new();
        let other = spindle_async::Lock::new();
        let g = other.lock().await;
        let _ = c.wait(g).await;
    });
}
