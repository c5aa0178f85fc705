//! `TaskGroup`: success, first failure cancels siblings, all errors reported together,
//! panics, dropping the group. Modelled on CPython's `test_asyncio/test_taskgroups.py`.

use std::cell::Cell;
use std::future::pending;
use std::rc::Rc;

use spindle_async::{catch_cancelled, run, spawn, yield_now, TaskFailure, TaskGroup};

#[test]
fn all_succeed() {
    run(async {
        let tg: TaskGroup<String> = TaskGroup::new();
        let ts: Vec<_> = (0..10)
            .map(|i| {
                tg.create_task(async move {
                    yield_now().await;
                    Ok(i * 2)
                })
            })
            .collect();
        assert_eq!(tg.len(), 10);
        tg.join().await.unwrap();
        for (i, t) in ts.into_iter().enumerate() {
            assert_eq!(t.await, Ok(Some(i * 2)));
        }
    });
}

#[test]
fn first_failure_cancels_siblings() {
    run(async {
        let tg: TaskGroup<&'static str> = TaskGroup::new();
        let sibling = tg.create_task(pending::<Result<(), &str>>());
        let sib = sibling.handle();
        tg.create_task(async {
            yield_now().await;
            Err::<(), _>("first")
        });
        let err = tg.join().await.unwrap_err();
        assert_eq!(err.errors, [TaskFailure::Failed("first")]);
        assert!(sib.cancelled());
    });
}

#[test]
fn errors_are_aggregated_like_an_exception_group() {
    run(async {
        let tg: TaskGroup<String> = TaskGroup::new();
        // Both fail in the same iteration, before the cancellation can reach the second,
        // and a third catches the cancellation and then fails during cleanup.
        tg.create_task(async { Err::<(), _>("e1".to_string()) });
        tg.create_task(async { Err::<(), _>("e2".to_string()) });
        tg.create_task(async {
            let _ = catch_cancelled(pending::<()>()).await;
            Err::<(), _>("e3 during cleanup".to_string())
        });
        tg.create_task(async { panic!("p4") as Result<(), String> });
        let err = tg.join().await.unwrap_err();
        assert_eq!(
            err.errors,
            [
                TaskFailure::Failed("e1".to_string()),
                TaskFailure::Failed("e2".to_string()),
                TaskFailure::Panicked("p4".to_string()),
                TaskFailure::Failed("e3 during cleanup".to_string()),
            ]
        );
        let msg = err.to_string();
        assert!(
            msg.starts_with("unhandled errors in a task group (4 sub-errors)"),
            "{msg}"
        );
    });
}

#[test]
fn a_panic_counts_as_a_failure() {
    run(async {
        let tg: TaskGroup<()> = TaskGroup::new();
        let other = tg.create_task(pending::<Result<(), ()>>()).handle();
        tg.create_task(async { panic!("worker died") as Result<(), ()> });
        let err = tg.join().await.unwrap_err();
        assert_eq!(err.errors, [TaskFailure::Panicked("worker died".into())]);
        assert!(other.cancelled());
    });
}

#[test]
fn tasks_created_after_a_failure_are_cancelled() {
    run(async {
        let tg: TaskGroup<()> = TaskGroup::new();
        tg.create_task(async { Err::<(), _>(()) });
        yield_now().await;
        let late = tg.create_task(async { Ok(1) });
        assert!(late.await.unwrap_err().is_cancelled());
        assert!(tg.join().await.is_err());
    });
}

#[test]
fn empty_group_joins_at_once() {
    run(async {
        let tg: TaskGroup = TaskGroup::new();
        assert!(tg.is_empty());
        tg.join().await.unwrap();
    });
}

#[test]
fn dropping_the_group_cancels_its_tasks() {
    run(async {
        let ran_to_end = Rc::new(Cell::new(false));
        let r = ran_to_end.clone();
        let handle = {
            let tg: TaskGroup<()> = TaskGroup::new();
            let t = tg.create_task(async move {
                pending::<()>().await;
                r.set(true);
                Ok(())
            });
            t.handle()
        };
        yield_now().await;
        yield_now().await;
        assert!(handle.cancelled());
        assert!(!ran_to_end.get());
    });
}

#[test]
fn cancelling_the_parent_cancels_the_children() {
    run(async {
        let child = Rc::new(Cell::new(None));
        let c = child.clone();
        let parent = spawn(async move {
            let tg: TaskGroup<()> = TaskGroup::new();
            c.set(Some(tg.create_task(pending::<Result<(), ()>>()).handle()));
            tg.join().await
        });
        yield_now().await;
        parent.cancel(None);
        assert!(parent.await.unwrap_err().is_cancelled());
        yield_now().await;
        let child = child.take().unwrap();
        assert!(child.cancelled());
    });
}
