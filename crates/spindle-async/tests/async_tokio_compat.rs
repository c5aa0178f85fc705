//! The async primitives rely only on `std::task::Waker`: they work under tokio's runtimes
//! (current-thread and multi-thread) and a hand-rolled `block_on`.

use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::Thread;

use spindle_async::{Event, Lock, Queue, Semaphore};

#[test]
fn queue_and_event_under_tokio_current_thread() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        let local = tokio::task::LocalSet::new();
        local
            .run_until(async {
                let q = Arc::new(Queue::new(2));
                let done = Arc::new(Event::new());
                let (q2, d2) = (q.clone(), done.clone());
                let consumer = tokio::task::spawn_local(async move {
                    let mut sum = 0;
                    for _ in 0..100 {
                        sum += q2.get().await.unwrap();
                    }
                    d2.set();
                    sum
                });
                for i in 0..100 {
                    q.put(i).await.unwrap();
                }
                done.wait().await;
                assert_eq!(consumer.await.unwrap(), 4950);
            })
            .await;
    });
}

#[test]
fn lock_under_tokio_multi_thread() {
    const TASKS: usize = 8;
    const ROUNDS: usize = 200;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let total = rt.block_on(async {
        let lock = Arc::new(Lock::new());
        let sem = Arc::new(Semaphore::new(2));
        let counter = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut hs = Vec::new();
        for _ in 0..TASKS {
            let (lock, sem, counter) = (lock.clone(), sem.clone(), counter.clone());
            hs.push(tokio::spawn(async move {
                for _ in 0..ROUNDS {
                    let _p = sem.permit().await;
                    let _g = lock.lock().await;
                    let v = counter.load(std::sync::atomic::Ordering::Relaxed);
                    tokio::task::yield_now().await;
                    counter.store(v + 1, std::sync::atomic::Ordering::Relaxed);
                }
            }));
        }
        for h in hs {
            h.await.unwrap();
        }
        counter.load(std::sync::atomic::Ordering::Relaxed)
    });
    assert_eq!(total, TASKS * ROUNDS);
}

/// A minimal `block_on`: park the thread until the waker unparks it.
fn block_on<F: std::future::Future>(fut: F) -> F::Output {
    struct Unpark(Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut fut = std::pin::pin!(fut);
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::park();
    }
}

#[test]
fn event_under_a_hand_rolled_block_on_woken_by_a_thread() {
    let ev = Arc::new(Event::new());
    let e2 = ev.clone();
    let t = std::thread::spawn(move || e2.set());
    block_on(ev.wait());
    t.join().unwrap();
    assert!(ev.is_set());
}
