//! `Semaphore` and `BoundedSemaphore`: bound on concurrency, FIFO hand-off, over-release,
//! cancellation safety. Modelled on CPython's `test_asyncio/test_locks.py` (SemaphoreTests).

use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;

use spindle_async::{gather, run, spawn, yield_now, BoundedSemaphore, OverReleaseError, Semaphore};

#[test]
fn value_and_locked() {
    let s = Semaphore::new(2);
    assert_eq!(s.value(), 2);
    assert!(s.try_acquire() && s.try_acquire());
    assert!(s.locked());
    assert!(!s.try_acquire());
    s.release(2);
    assert_eq!(s.value(), 2);
    let z = Semaphore::new(0);
    assert!(z.locked());
}

#[test]
fn concurrency_never_exceeds_the_value() {
    const TASKS: usize = 40;
    const LIMIT: usize = 3;
    run(async {
        let sem = Arc::new(Semaphore::new(LIMIT));
        let (now, peak) = (Rc::new(Cell::new(0)), Rc::new(Cell::new(0)));
        let ts: Vec<_> = (0..TASKS)
            .map(|_| {
                let (sem, now, peak) = (sem.clone(), now.clone(), peak.clone());
                spawn(async move {
                    let _p = sem.permit().await;
                    now.set(now.get() + 1);
                    peak.set(peak.get().max(now.get()));
                    yield_now().await;
                    now.set(now.get() - 1);
                })
            })
            .collect();
        gather(ts).await;
        assert_eq!(peak.get(), LIMIT);
        assert_eq!(sem.value(), LIMIT);
    });
}

#[test]
fn dropped_waiter_gives_its_permit_back() {
    run(async {
        let sem = Arc::new(Semaphore::new(0));
        let (s1, s2) = (sem.clone(), sem.clone());
        let first = spawn(async move { s1.acquire().await });
        let second = spawn(async move {
            s2.acquire().await;
            "second"
        });
        yield_now().await;
        sem.release(1); // to `first`
        first.cancel(None);
        assert!(first.await.unwrap_err().is_cancelled());
        assert_eq!(second.await.unwrap(), "second");
        assert_eq!(sem.value(), 0);
    });
}

#[test]
fn bounded_refuses_over_release() {
    run(async {
        let b = BoundedSemaphore::new(2);
        assert_eq!(b.bound(), 2);
        assert_eq!(b.release(), Err(OverReleaseError));
        b.acquire().await;
        {
            let _p = b.permit().await;
            assert!(b.locked());
        }
        b.release().unwrap();
        assert_eq!(b.value(), 2);
        assert_eq!(b.release(), Err(OverReleaseError));
    });
}
