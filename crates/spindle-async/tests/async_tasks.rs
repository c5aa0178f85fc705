//! Tasks: spawning, awaiting, names, results, done callbacks, panics, current/all tasks.
//! Modelled on CPython's `test_asyncio/test_tasks.py`.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use spindle_async::{
    all_tasks, create_task, create_task_named, current_task, run, spawn, yield_now, EventLoop,
    Outcome, RunError, TaskError,
};

#[test]
fn spawn_and_await_many() {
    const TASKS: usize = 10_000;
    let total = run(async {
        let tasks: Vec<_> = (0..TASKS).map(|i| spawn(async move { i })).collect();
        let mut sum = 0;
        for t in tasks {
            sum += t.await.unwrap();
        }
        sum
    });
    assert_eq!(total, TASKS * (TASKS - 1) / 2);
}

#[test]
fn tasks_run_without_being_awaited() {
    let hit = Rc::new(Cell::new(false));
    let h = hit.clone();
    run(async move {
        drop(spawn(async move { h.set(true) })); // detached
        yield_now().await;
    });
    assert!(hit.get());
}

#[test]
fn tasks_start_in_creation_order() {
    let log = Rc::new(RefCell::new(Vec::new()));
    let l = log.clone();
    run(async move {
        let ts: Vec<_> = (0..5)
            .map(|i| {
                let l = l.clone();
                create_task(async move { l.borrow_mut().push(i) })
            })
            .collect();
        for t in ts {
            t.await.unwrap();
        }
    });
    assert_eq!(*log.borrow(), [0, 1, 2, 3, 4]);
}

#[test]
fn names_and_ids() {
    run(async {
        let t = create_task_named("alpha", async {});
        assert_eq!(t.name(), "alpha");
        t.set_name("beta");
        assert_eq!(t.name(), "beta");
        let h = t.handle();
        assert_eq!(h.name(), "beta");
        let u = spawn(async {});
        assert!(u.name().starts_with("Task-"));
        assert_ne!(h.id(), u.handle().id());
        t.await.unwrap();
        u.await.unwrap();
    });
}

#[test]
fn result_and_exception_states() {
    run(async {
        let t = spawn(async { 5 });
        assert!(!t.done());
        assert_eq!(t.result(), None); // Python: InvalidStateError
        yield_now().await;
        assert!(t.done());
        assert_eq!(t.result(), Some(Ok(5)));
        assert_eq!(t.exception(), None);
        assert_eq!(t.await, Ok(5));
    });
}

#[test]
fn panic_fails_only_that_task() {
    run(async {
        let bad = spawn(async { panic!("kaboom") });
        let good = spawn(async { 1 });
        let err: Result<(), TaskError> = bad.await;
        assert_eq!(err, Err(TaskError::Panicked("kaboom".into())));
        assert_eq!(good.await, Ok(1));
    });
}

#[test]
fn panicking_main_task_is_reported_by_run_until_complete() {
    let lp = EventLoop::new().unwrap();
    let e = lp
        .run_until_complete(async { panic!("main failed") })
        .unwrap_err();
    assert_eq!(e, RunError::Task(TaskError::Panicked("main failed".into())));
    lp.close().unwrap();
}

#[test]
#[should_panic(expected = "main failed")]
fn run_re_raises_a_panic_of_main() {
    run(async { panic!("main failed") })
}

#[test]
fn done_callbacks_run_soon_after_completion() {
    let log = Rc::new(RefCell::new(Vec::new()));
    let l = log.clone();
    run(async move {
        let t = spawn(async { 1 });
        let l1 = l.clone();
        t.add_done_callback(move |o| l1.borrow_mut().push(o));
        let _ = t.await;
        yield_now().await;
        let bad = spawn(async { panic!("x") });
        let l2 = l.clone();
        bad.add_done_callback(move |o| l2.borrow_mut().push(o));
        let _ = bad.await;
        let c = spawn(std::future::pending::<()>());
        let l3 = l.clone();
        c.add_done_callback(move |o| l3.borrow_mut().push(o));
        c.cancel(None);
        let _ = c.await;
        // Registered after completion: scheduled at once.
        let d = spawn(async {});
        yield_now().await;
        let l4 = l.clone();
        d.add_done_callback(move |o| l4.borrow_mut().push(o));
        yield_now().await;
        yield_now().await;
    });
    assert_eq!(
        *log.borrow(),
        [
            Outcome::Finished,
            Outcome::Panicked,
            Outcome::Cancelled,
            Outcome::Finished
        ]
    );
}

#[test]
fn current_and_all_tasks() {
    assert!(current_task().is_none());
    assert!(all_tasks().is_empty());
    run(async {
        let me = current_task().unwrap();
        let child = spawn(async { current_task().unwrap().id() });
        let child_id = child.handle().id();
        assert_eq!(all_tasks().len(), 2);
        assert!(all_tasks().contains(&me));
        assert_eq!(child.await.unwrap(), child_id);
        assert_eq!(all_tasks(), vec![me]);
    });
}

#[test]
fn create_task_on_a_loop_before_it_runs() {
    let lp = EventLoop::new().unwrap();
    let t = lp.create_task(async { 3 });
    let t2 = lp.create_task_named("n", async { 4 });
    let out = lp.run_until_complete(async move { t.await.unwrap() + t2.await.unwrap() });
    assert_eq!(out, Ok(7));
    assert_eq!(lp.task_count(), 0);
    lp.close().unwrap();
}

#[test]
fn run_cancels_leftover_tasks() {
    let cleaned = Rc::new(Cell::new(0));
    let c = cleaned.clone();
    run(async move {
        for _ in 0..3 {
            let c = c.clone();
            spawn(async move {
                struct Guard(Rc<Cell<i32>>);
                impl Drop for Guard {
                    fn drop(&mut self) {
                        self.0.set(self.0.get() + 1);
                    }
                }
                let _g = Guard(c);
                std::future::pending::<()>().await
            });
        }
        yield_now().await;
    });
    assert_eq!(cleaned.get(), 3);
}

#[test]
#[should_panic(expected = "no running event loop")]
fn spawn_outside_a_loop_panics() {
    drop(spawn(async {}));
}
