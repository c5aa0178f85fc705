//! The event loop: call ordering, timers on the loop's clock, stop/close, threadsafe wake-ups,
//! debug settings. Modelled on CPython's `test_asyncio/test_base_events.py` and `test_events.py`.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use spindle_async::{get_running_loop, run, EventLoop, LoopError, RunError};

#[test]
fn call_soon_runs_fifo() {
    let lp = EventLoop::new().unwrap();
    let log = Rc::new(RefCell::new(Vec::new()));
    for i in 0..100 {
        let log = log.clone();
        lp.call_soon(move || log.borrow_mut().push(i));
    }
    lp.run_until_complete(async {}).unwrap();
    assert_eq!(*log.borrow(), (0..100).collect::<Vec<_>>());
    lp.close().unwrap();
}

#[test]
fn callbacks_scheduled_by_callbacks_wait_one_iteration() {
    let lp = EventLoop::new().unwrap();
    let log = Rc::new(RefCell::new(Vec::new()));
    let (l1, l2) = (log.clone(), log.clone());
    let lp2 = lp.clone();
    lp.call_soon(move || {
        l1.borrow_mut().push("a");
        let l3 = l1.clone();
        lp2.call_soon(move || l3.borrow_mut().push("c"));
    });
    lp.call_soon(move || l2.borrow_mut().push("b"));
    let lp3 = lp.clone();
    lp.call_soon(move || lp3.stop());
    lp.run_forever().unwrap();
    // "c" was queued during the iteration, so it runs in the next one: after stop.
    assert_eq!(*log.borrow(), ["a", "b"]);
    lp.call_soon(|| get_running_loop().unwrap().stop());
    lp.run_forever().unwrap();
    assert_eq!(*log.borrow(), ["a", "b", "c"]);
}

#[test]
fn call_later_orders_by_deadline_on_the_loop_clock() {
    let lp = EventLoop::new().unwrap();
    let log = Rc::new(RefCell::new(Vec::new()));
    let base = lp.time();
    for (name, ms) in [("late", 30u64), ("early", 10), ("mid", 20), ("mid2", 20)] {
        let log = log.clone();
        let when = base + Duration::from_millis(ms);
        lp.call_at(when, move || {
            let now = get_running_loop().unwrap().time();
            assert!(now >= when, "{name} ran before its deadline");
            log.borrow_mut().push(name);
            if name == "late" {
                get_running_loop().unwrap().stop();
            }
        });
    }
    lp.run_forever().unwrap();
    assert_eq!(*log.borrow(), ["early", "mid", "mid2", "late"]);
}

#[test]
fn cancelled_handles_do_not_run() {
    let lp = EventLoop::new().unwrap();
    let log = Rc::new(RefCell::new(Vec::new()));
    let l = log.clone();
    let h = lp.call_soon(move || l.borrow_mut().push(1));
    let l = log.clone();
    let t = lp.call_later(Duration::from_millis(1), move || l.borrow_mut().push(2));
    h.cancel();
    t.cancel();
    assert!(h.cancelled() && t.cancelled());
    lp.call_later(Duration::from_millis(2), || {
        get_running_loop().unwrap().stop()
    });
    lp.run_forever().unwrap();
    assert!(log.borrow().is_empty());
}

#[test]
fn many_cancelled_timers_are_purged() {
    const TIMERS: usize = 1_000;
    let lp = EventLoop::new().unwrap();
    let handles: Vec<_> = (0..TIMERS)
        .map(|_| lp.call_later(Duration::from_secs(3600), || unreachable!()))
        .collect();
    for h in &handles {
        h.cancel();
    }
    lp.run_until_complete(async {}).unwrap();
}

#[test]
fn stop_before_run_forever_runs_one_iteration() {
    let lp = EventLoop::new().unwrap();
    let ran = Rc::new(RefCell::new(false));
    let r = ran.clone();
    lp.call_soon(move || *r.borrow_mut() = true);
    lp.stop();
    lp.run_forever().unwrap();
    assert!(*ran.borrow());
}

#[test]
fn run_until_complete_reports_stop_and_close() {
    let lp = EventLoop::new().unwrap();
    let err = lp
        .run_until_complete(async {
            get_running_loop().unwrap().stop();
            std::future::pending::<()>().await
        })
        .unwrap_err();
    assert_eq!(err, RunError::Stopped);
    lp.close().unwrap();
    assert!(lp.is_closed());
    assert_eq!(
        lp.run_until_complete(async {}).unwrap_err(),
        RunError::Loop(LoopError::Closed)
    );
    assert_eq!(lp.run_forever().unwrap_err(), LoopError::Closed);
}

#[test]
fn loops_do_not_nest() {
    run(async {
        let other = EventLoop::new().unwrap();
        assert_eq!(
            other.run_until_complete(async {}).unwrap_err(),
            RunError::Loop(LoopError::AlreadyRunning)
        );
        let me = get_running_loop().unwrap();
        assert!(me.is_running());
        assert_eq!(me.close().unwrap_err(), LoopError::AlreadyRunning);
    });
}

#[test]
fn get_running_loop_outside_fails() {
    assert_eq!(get_running_loop().unwrap_err(), LoopError::NoRunningLoop);
}

#[test]
fn call_soon_threadsafe_wakes_a_blocked_loop() {
    const CALLS: usize = 200;
    let lp = EventLoop::new().unwrap();
    let h = lp.handle();
    let (tx, rx) = mpsc::channel::<usize>();
    let count = Rc::new(RefCell::new(0usize));
    // The loop blocks in its reactor (no timers, no ready work) until the thread calls in.
    let worker = std::thread::spawn(move || {
        for i in 0..CALLS {
            let tx = tx.clone();
            h.call_soon_threadsafe(move || tx.send(i).unwrap()).unwrap();
        }
        h.stop().unwrap();
    });
    let c = count.clone();
    lp.call_soon(move || *c.borrow_mut() += 1);
    lp.run_forever().unwrap();
    worker.join().unwrap();
    let got: Vec<usize> = rx.try_iter().collect();
    assert_eq!(
        got,
        (0..CALLS).collect::<Vec<_>>(),
        "threadsafe calls keep their order"
    );
    assert_eq!(*count.borrow(), 1);
}

#[test]
fn threadsafe_calls_are_refused_after_close() {
    let lp = EventLoop::new().unwrap();
    let h = lp.handle();
    lp.close().unwrap();
    assert!(h.is_closed());
    assert_eq!(
        h.call_soon_threadsafe(|| ()).unwrap_err(),
        LoopError::Closed
    );
}

#[test]
fn threadsafe_handle_cancel() {
    let lp = EventLoop::new().unwrap();
    let (tx, rx) = mpsc::channel::<()>();
    let th = lp
        .call_soon_threadsafe(move || tx.send(()).unwrap())
        .unwrap();
    th.cancel();
    assert!(th.cancelled());
    lp.run_until_complete(async {}).unwrap();
    assert!(rx.try_recv().is_err());
}

#[test]
fn task_woken_from_another_thread() {
    let out = run(async {
        let (tx, rx) = std::sync::mpsc::channel::<std::task::Waker>();
        let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let d2 = done.clone();
        let t = std::thread::spawn(move || {
            let w = rx.recv().unwrap();
            d2.store(true, std::sync::atomic::Ordering::SeqCst);
            w.wake();
        });
        let mut sent = Some(tx);
        std::future::poll_fn(|cx| {
            if done.load(std::sync::atomic::Ordering::SeqCst) {
                return std::task::Poll::Ready(());
            }
            if let Some(tx) = sent.take() {
                tx.send(cx.waker().clone()).unwrap();
            }
            std::task::Poll::Pending
        })
        .await;
        t.join().unwrap();
        7
    });
    assert_eq!(out, 7);
}

#[test]
fn debug_settings() {
    let lp = EventLoop::new().unwrap();
    lp.set_debug(true);
    assert!(lp.get_debug());
    assert_eq!(lp.slow_callback_duration(), Duration::from_millis(100));
    lp.set_slow_callback_duration(Duration::ZERO);
    // Every step is now "slow" and gets reported on stderr; the loop goes on.
    lp.call_soon(|| ());
    let t = lp.create_task(std::future::pending::<()>());
    lp.run_until_complete(async {}).unwrap();
    assert!(!t.done());
    lp.close().unwrap(); // reports the pending task
    assert!(t.cancelled());
}

#[test]
fn panicking_callback_does_not_stop_the_loop() {
    let lp = EventLoop::new().unwrap();
    lp.call_soon(|| panic!("callback failure"));
    let ok = Rc::new(RefCell::new(false));
    let o = ok.clone();
    lp.call_soon(move || *o.borrow_mut() = true);
    lp.run_until_complete(async {}).unwrap();
    assert!(*ok.borrow());
}

#[test]
fn time_is_monotonic() {
    let lp = EventLoop::new().unwrap();
    let a = lp.time();
    let b = lp.time();
    assert!(b >= a);
    assert!(Instant::now() >= b);
}
