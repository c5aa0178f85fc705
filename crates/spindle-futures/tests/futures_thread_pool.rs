//! `ThreadPoolExecutor`: submit, panics, thread names, lazy start, worker reuse and the
//! `max_workers` bound (CPython's `test_thread_pool.py` and `executor.py`).

mod support;

use std::collections::HashSet;
use std::sync::{Arc, Barrier, Mutex};

use spindle_futures::{FutureError, State, ThreadPoolExecutor};
use spindle_sync::threading::{current_thread, enumerate, get_ident};
use support::{Gate, LIMIT};

#[test]
fn smoke_submit_and_result() {
    let pool = ThreadPoolExecutor::new();
    let f = pool.submit(|| 6 * 7);
    assert_eq!(f.result_timeout(LIMIT), Ok(42));
    assert_eq!(f.state(), State::Finished);
}

#[test]
fn panic_fails_only_its_future() {
    let pool = ThreadPoolExecutor::builder().max_workers(1).build();
    let bad = pool.submit(|| -> i32 { panic!("task failure (expected by the test)") });
    let good = pool.submit(|| 1);
    assert_eq!(
        bad.result_timeout(LIMIT),
        Err(FutureError::Panicked(
            "task failure (expected by the test)".into()
        ))
    );
    assert_eq!(good.result_timeout(LIMIT), Ok(1));
    assert_eq!(pool.num_threads(), 1, "the worker survived the panic");
}

#[test]
fn non_clone_results_with_into_result() {
    let pool = ThreadPoolExecutor::new();
    let f = pool.submit(|| Box::new([7u8; 16]));
    assert_eq!(f.into_result().unwrap()[0], 7);
}

#[test]
fn tasks_returning_result_stay_typed() {
    let pool = ThreadPoolExecutor::new();
    let f = pool.submit(|| "x".parse::<i32>());
    let inner = f.into_result().expect("the task itself ran");
    assert!(inner.is_err(), "the parse error is the task's value");
}

#[test]
fn threads_start_lazily_and_are_named_like_python() {
    let pool = ThreadPoolExecutor::builder()
        .max_workers(3)
        .thread_name_prefix("lazy")
        .build();
    assert_eq!(pool.num_threads(), 0);
    let name = pool.submit(|| current_thread().name().to_owned());
    assert_eq!(name.result_timeout(LIMIT), Ok("lazy_0".to_owned()));
    assert_eq!(pool.num_threads(), 1);
    assert!(enumerate().iter().any(|t| t.name() == "lazy_0"));
}

#[test]
fn default_prefix_is_python_style() {
    let pool = ThreadPoolExecutor::new();
    let prefix = pool.thread_name_prefix().to_owned();
    assert!(prefix.starts_with("ThreadPoolExecutor-"), "{prefix}");
    let name = pool.submit(|| current_thread().name().to_owned());
    assert_eq!(name.result_timeout(LIMIT), Ok(format!("{prefix}_0")));
}

#[test]
fn default_max_workers_is_min_32_cpus_plus_4() {
    let cpus = std::thread::available_parallelism().unwrap().get();
    assert_eq!(ThreadPoolExecutor::new().max_workers(), (cpus + 4).min(32));
    assert_eq!(
        ThreadPoolExecutor::builder()
            .max_workers(0)
            .build()
            .max_workers(),
        1
    );
}

#[test]
fn idle_worker_is_reused() {
    // CPython's test_idle_thread_reuse.
    let pool = ThreadPoolExecutor::builder().max_workers(8).build();
    let first = pool.submit(get_ident).result_timeout(LIMIT).unwrap();
    for _ in 0..20 {
        let again = pool.submit(get_ident).result_timeout(LIMIT).unwrap();
        assert_eq!(again, first, "a sequential task runs on the idle worker");
    }
    assert_eq!(pool.num_threads(), 1);
}

#[test]
fn never_more_threads_than_max_workers() {
    const MAX: usize = 3;
    const TASKS: usize = 12;
    let pool = ThreadPoolExecutor::builder().max_workers(MAX).build();
    let gate = Gate::new();
    let seen = Arc::new(Mutex::new(HashSet::new()));
    let futures: Vec<_> = (0..TASKS)
        .map(|_| {
            let g = gate.clone();
            let s = Arc::clone(&seen);
            pool.submit(move || {
                s.lock().unwrap().insert(get_ident());
                g.hold();
            })
        })
        .collect();
    gate.wait_entered();
    assert!(pool.num_threads() <= MAX);
    gate.open();
    for f in &futures {
        assert_eq!(f.result_timeout(LIMIT), Ok(()));
    }
    assert!(pool.num_threads() <= MAX);
    assert!(seen.lock().unwrap().len() <= MAX);
}

#[test]
fn runs_max_workers_tasks_at_once() {
    const MAX: usize = 4;
    let pool = ThreadPoolExecutor::builder().max_workers(MAX).build();
    // Every task waits for all the others: only possible if MAX threads run at once.
    let barrier = Arc::new(Barrier::new(MAX));
    let futures: Vec<_> = (0..MAX)
        .map(|_| {
            let b = Arc::clone(&barrier);
            pool.submit(move || b.wait().is_leader())
        })
        .collect();
    let leaders = futures
        .iter()
        .filter(|f| f.result_timeout(LIMIT).unwrap())
        .count();
    assert_eq!(leaders, 1);
    assert_eq!(pool.num_threads(), MAX);
}

#[test]
fn cancel_a_queued_task() {
    let pool = ThreadPoolExecutor::builder().max_workers(1).build();
    let gate = Gate::new();
    let g = gate.clone();
    let blocker = pool.submit(move || g.hold());
    gate.wait_entered();
    let queued = pool.submit(|| unreachable!("a cancelled task never runs"));
    assert_eq!(blocker.state(), State::Running);
    assert!(!blocker.cancel(), "running: cannot cancel");
    assert!(queued.cancel());
    gate.open();
    assert_eq!(blocker.result_timeout(LIMIT), Ok(()));
    assert_eq!(
        queued.result_timeout(LIMIT),
        Err::<(), _>(FutureError::Cancelled)
    );
    assert_eq!(pool.submit(|| 5).result_timeout(LIMIT), Ok(5));
}

#[test]
fn submit_from_inside_a_task() {
    let pool = Arc::new(ThreadPoolExecutor::builder().max_workers(2).build());
    let p = Arc::clone(&pool);
    let outer = pool.submit(move || p.submit(|| 9).result_timeout(LIMIT));
    assert_eq!(outer.result_timeout(LIMIT), Ok(Ok(9)));
}

#[test]
fn pool_is_shared_by_reference_between_threads() {
    const THREADS: usize = 4;
    const PER_THREAD: usize = 200;
    let pool = ThreadPoolExecutor::builder().max_workers(2).build();
    let total: usize = std::thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|_| {
                s.spawn(|| {
                    (0..PER_THREAD)
                        .map(|i| pool.submit(move || i))
                        .collect::<Vec<_>>()
                        .into_iter()
                        .map(|f| f.result_timeout(LIMIT).unwrap())
                        .sum::<usize>()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    assert_eq!(total, THREADS * PER_THREAD * (PER_THREAD - 1) / 2);
    assert!(format!("{pool:?}").contains("max_workers: 2"));
}

#[test]
fn debug_shows_the_state() {
    let pool = ThreadPoolExecutor::builder().max_workers(1).build();
    assert!(format!("{pool:?}").contains("state: \"running\""));
    pool.shutdown(true, false);
    assert!(format!("{pool:?}").contains("state: \"shut down\""));
}

#[test]
fn builder_debug_and_default() {
    let b = spindle_futures::ThreadPoolBuilder::default().thread_name_prefix("dbg");
    let text = format!("{b:?}");
    assert!(
        text.contains("dbg") && text.contains("initializer: false"),
        "{text}"
    );
    assert_eq!(b.build().thread_name_prefix(), "dbg");
}
