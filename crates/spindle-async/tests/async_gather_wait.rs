//! `gather`/`try_gather`/tuple gathers, `wait` with `ReturnWhen`, `as_completed`.
//! Modelled on CPython's `test_asyncio/test_tasks.py` (gather, wait, as_completed tests).

mod support;

use std::future::pending;
use std::time::Duration;

use spindle_async::{
    as_completed, gather, gather2, gather3, gather4, run, spawn, try_gather, wait, yield_now,
    ReturnWhen, TaskError, TimeoutError,
};

use support::gated;

#[test]
fn gather_keeps_input_order() {
    let out = run(async {
        let tasks: Vec<_> = (0..5u32)
            .map(|i| {
                spawn(async move {
                    for _ in 0..(5 - i) {
                        yield_now().await; // later inputs finish first
                    }
                    i
                })
            })
            .collect();
        gather(tasks).await
    });
    assert_eq!(out, vec![Ok(0), Ok(1), Ok(2), Ok(3), Ok(4)]);
}

#[test]
fn gather_with_failures_returns_them_in_place() {
    let out = run(async {
        let a = spawn(async { 1 });
        let b = spawn(async { panic!("b failed") });
        let c = spawn(async { 3 });
        gather(vec![a, b, c]).await
    });
    assert_eq!(out[0], Ok(1));
    assert_eq!(out[1], Err(TaskError::Panicked("b failed".into())));
    assert_eq!(out[2], Ok(3));
}

#[test]
fn try_gather_fails_fast_and_leaves_tasks_running() {
    run(async {
        let (gate, slow) = gated(Ok::<_, String>(1));
        let slow_ref = slow.handle();
        let bad = spawn(async { Err::<i32, _>("bad".to_string()) });
        let r = try_gather(vec![
            Box::pin(async move { slow.await.unwrap() })
                as std::pin::Pin<Box<dyn std::future::Future<Output = _>>>,
            Box::pin(async move { bad.await.unwrap() }),
        ])
        .await;
        assert_eq!(r, Err("bad".to_string()));
        assert!(
            !slow_ref.done(),
            "Python's gather does not cancel the others"
        );
        gate.set();
        yield_now().await;
        assert!(slow_ref.done());
    });
}

#[test]
fn try_gather_all_ok() {
    let r = run(try_gather((0..3).map(|i| async move { Ok::<_, ()>(i) })));
    assert_eq!(r, Ok(vec![0, 1, 2]));
}

#[test]
fn gather_empty() {
    let v: Vec<()> = run(gather(Vec::<std::future::Ready<()>>::new()));
    assert!(v.is_empty());
}

#[test]
fn tuple_gathers_mix_types() {
    run(async {
        assert_eq!(gather2(async { 1u8 }, async { "x" }).await, (1, "x"));
        assert_eq!(
            gather3(async { 1 }, async { 2 }, async { 3 }).await,
            (1, 2, 3)
        );
        let (a, b, c, d) = gather4(
            async {
                yield_now().await;
                'a'
            },
            async { 2.0 },
            async { vec![3] },
            async { Some(4) },
        )
        .await;
        assert_eq!((a, b, c, d), ('a', 2.0, vec![3], Some(4)));
    });
}

#[test]
fn wait_first_completed_all_completed() {
    run(async {
        let (gate, slow) = gated("slow");
        let fast = spawn(async { "fast" });
        let (done, pending) = wait(vec![slow, fast], None, ReturnWhen::FirstCompleted).await;
        assert_eq!(done.len(), 1);
        assert_eq!(pending.len(), 1);
        gate.set();
        let (done2, pending2) = wait(pending, None, ReturnWhen::AllCompleted).await;
        assert!(pending2.is_empty());
        assert_eq!(done2.into_iter().next().unwrap().await, Ok("slow"));
    });
}

#[test]
fn wait_first_exception_returns_on_a_panic() {
    run(async {
        let never = spawn(pending::<()>());
        let boom = spawn(async {
            yield_now().await;
            panic!("boom")
        });
        let (done, pending) = wait(vec![never, boom], None, ReturnWhen::FirstException).await;
        assert_eq!(done.len(), 1);
        assert!(matches!(done[0].exception(), Some(TaskError::Panicked(_))));
        assert_eq!(pending.len(), 1);
        pending[0].cancel(None);
    });
}

#[test]
fn wait_timeout_returns_what_is_done() {
    run(async {
        let never = spawn(pending::<()>());
        let (done, pending) = wait(
            vec![never],
            Some(Duration::from_millis(5)),
            ReturnWhen::AllCompleted,
        )
        .await;
        assert!(done.is_empty());
        assert_eq!(pending.len(), 1);
        assert!(!pending[0].done(), "wait does not cancel on timeout");
        pending[0].cancel(None);
    });
}

#[test]
fn wait_on_nothing_returns_at_once() {
    run(async {
        let (d, p) = wait(
            Vec::<spindle_async::Task<()>>::new(),
            None,
            ReturnWhen::AllCompleted,
        )
        .await;
        assert!(d.is_empty() && p.is_empty());
    });
}

#[test]
fn as_completed_yields_in_completion_order() {
    run(async {
        let mk = |n: u32| {
            spawn(async move {
                for _ in 0..n {
                    yield_now().await;
                }
                n
            })
        };
        let mut it = as_completed(vec![mk(3), mk(1), mk(2)], None);
        let mut order = Vec::new();
        while let Some(r) = it.next().await {
            order.push(r.unwrap().unwrap());
        }
        assert_eq!(order, [1, 2, 3]);
    });
}

#[test]
fn as_completed_times_out_once_then_ends() {
    run(async {
        let mut it = as_completed(
            vec![
                Box::pin(async { 1 }) as std::pin::Pin<Box<dyn std::future::Future<Output = i32>>>,
                Box::pin(pending::<i32>()),
            ],
            Some(Duration::from_millis(5)),
        );
        assert_eq!(it.next().await, Some(Ok(1)));
        assert_eq!(it.next().await, Some(Err(TimeoutError)));
        assert_eq!(it.next().await, None);
    });
}
