//! The thread-pool bridge: `run_in_executor`, `to_thread`, `wrap_future`,
//! `run_coroutine_threadsafe`. Modelled on CPython's `test_asyncio/test_threads.py` and
//! `test_tasks.py` (RunCoroutineThreadsafeTests).

use std::sync::{Arc, Barrier};
use std::time::Duration;

use spindle_async::{
    gather, get_running_loop, run, run_coroutine_threadsafe, sleep, timeout, to_thread,
    wrap_future, EventLoop,
};
use spindle_futures::{FutureError, ThreadPoolExecutor};

const LIMIT: Duration = Duration::from_secs(20);

#[test]
fn run_in_executor_runs_off_the_loop_thread() {
    let pool = ThreadPoolExecutor::builder().max_workers(2).build();
    let loop_thread = std::thread::current().id();
    let ids = run(async move {
        let lp = get_running_loop().unwrap();
        let a = lp.run_in_executor(&pool, || std::thread::current().id());
        let b = lp.run_in_executor(&pool, || std::thread::current().id());
        gather(vec![a, b]).await
    });
    for id in ids {
        assert_ne!(id.unwrap(), loop_thread);
    }
}

#[test]
fn blocking_calls_run_in_parallel_while_the_loop_runs() {
    run(async {
        // Both calls wait for each other: only possible if they run at the same time.
        let b = Arc::new(Barrier::new(2));
        let (b1, b2) = (b.clone(), b.clone());
        let r = timeout(
            LIMIT,
            gather(vec![
                to_thread(move || b1.wait().is_leader()),
                to_thread(move || b2.wait().is_leader()),
            ]),
        )
        .await
        .unwrap();
        let leaders = r.into_iter().filter(|x| *x.as_ref().unwrap()).count();
        assert_eq!(leaders, 1);
    });
}

#[test]
fn a_panic_in_the_pool_is_an_error() {
    let r = run(async { to_thread(|| -> u8 { panic!("in the pool") }).await });
    assert_eq!(r, Err(FutureError::Panicked("in the pool".into())));
}

#[test]
fn wrap_future_of_a_cancelled_future() {
    run(async {
        let cf: spindle_futures::Future<()> = spindle_futures::Future::new();
        assert!(cf.cancel());
        assert_eq!(wrap_future(cf).await, Err(FutureError::Cancelled));
    });
}

#[test]
fn run_coroutine_threadsafe_from_another_thread() {
    const CALLS: usize = 20;
    let lp = EventLoop::new().unwrap();
    let h = lp.handle();
    let caller = std::thread::spawn(move || {
        let futs: Vec<_> = (0..CALLS)
            .map(|i| {
                run_coroutine_threadsafe(
                    move || async move {
                        sleep(Duration::from_millis(1)).await;
                        i * 2
                    },
                    &h,
                )
            })
            .collect();
        let total: usize = futs.iter().map(|f| f.result_timeout(LIMIT).unwrap()).sum();
        let bad = run_coroutine_threadsafe(|| async { panic!("coro failed") }, &h);
        let err = bad.result_timeout(LIMIT).unwrap_err();
        h.stop().unwrap();
        (total, err)
    });
    lp.run_forever().unwrap();
    let (total, err) = caller.join().unwrap();
    assert_eq!(total, (0..CALLS).map(|i| i * 2).sum());
    assert_eq!(err, FutureError::Panicked("coro failed".into()));
    lp.close().unwrap();
}

#[test]
fn run_coroutine_threadsafe_on_a_closed_loop() {
    let lp = EventLoop::new().unwrap();
    let h = lp.handle();
    lp.close().unwrap();
    let f = run_coroutine_threadsafe(|| async { 1 }, &h);
    assert_eq!(f.result_timeout(LIMIT), Err(FutureError::ShutDown));
}

#[test]
fn set_default_executor_is_used() {
    run(async {
        let lp = get_running_loop().unwrap();
        lp.set_default_executor(
            ThreadPoolExecutor::builder()
                .max_workers(1)
                .thread_name_prefix("custom")
                .build(),
        );
        let name = to_thread(|| std::thread::current().name().map(str::to_owned))
            .await
            .unwrap()
            .unwrap();
        assert!(name.starts_with("custom"), "{name}");
    });
}
