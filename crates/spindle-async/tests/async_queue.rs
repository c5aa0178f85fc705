//! `Queue`, `LifoQueue`, `PriorityQueue`: bounds, order, task_done/join, shutdown (3.13),
//! cancellation safety, async iteration. Modelled on CPython's `test_asyncio/test_queues.py`.

use std::sync::Arc;
use std::time::Duration;

use spindle_async::{
    gather, run, spawn, timeout, yield_now, GetError, LifoQueue, PriorityQueue, PutError, Queue,
    TaskDoneError,
};

#[test]
fn nowait_forms_and_sizes() {
    let q = Queue::new(2);
    assert!(q.empty() && !q.full());
    assert_eq!(q.maxsize(), 2);
    q.put_nowait(1).unwrap();
    q.put_nowait(2).unwrap();
    assert!(q.full());
    assert_eq!(q.put_nowait(3), Err(PutError::Full(3)));
    assert_eq!(q.qsize(), 2);
    assert_eq!(q.get_nowait(), Ok(1));
    assert_eq!(q.get_nowait(), Ok(2));
    assert_eq!(q.get_nowait(), Err(GetError::Empty));
}

#[test]
fn orders() {
    let l = LifoQueue::new(0);
    let p = PriorityQueue::new(0);
    for x in [3, 1, 2] {
        l.put_nowait(x).unwrap();
        p.put_nowait(x).unwrap();
    }
    assert_eq!(
        [l.get_nowait(), l.get_nowait(), l.get_nowait()],
        [Ok(2), Ok(1), Ok(3)]
    );
    assert_eq!(
        [p.get_nowait(), p.get_nowait(), p.get_nowait()],
        [Ok(1), Ok(2), Ok(3)]
    );
    // FIFO among equal priorities.
    let p = PriorityQueue::new(0);
    for (k, v) in [(1, 'a'), (0, 'z'), (1, 'b')] {
        p.put_nowait((k, std::cmp::Reverse(0), v)).unwrap();
    }
    let order: Vec<char> = (0..3).map(|_| p.get_nowait().unwrap().2).collect();
    assert_eq!(order, ['z', 'a', 'b']);
}

#[test]
fn bounded_producer_consumer() {
    const ITEMS: usize = 5_000;
    let sum = run(async {
        let q = Arc::new(Queue::new(4));
        let q2 = q.clone();
        let producer = spawn(async move {
            for i in 0..ITEMS {
                q2.put(i).await.unwrap();
                assert!(q2.qsize() <= 4);
            }
        });
        let mut sum = 0;
        for _ in 0..ITEMS {
            sum += q.get().await.unwrap();
        }
        producer.await.unwrap();
        sum
    });
    assert_eq!(sum, ITEMS * (ITEMS - 1) / 2);
}

#[test]
fn join_waits_for_task_done() {
    run(async {
        let q = Arc::new(Queue::new(0));
        for i in 0..10 {
            q.put_nowait(i).unwrap();
        }
        let workers: Vec<_> = (0..3)
            .map(|_| {
                let q = q.clone();
                spawn(async move {
                    while let Ok(_item) = q.get().await {
                        yield_now().await;
                        q.task_done().unwrap();
                    }
                })
            })
            .collect();
        q.join().await;
        assert!(q.empty());
        q.shutdown(false);
        gather(workers).await;
        assert_eq!(q.task_done(), Err(TaskDoneError));
    });
}

#[test]
fn shutdown_fails_puts_and_drains_gets() {
    run(async {
        let q = Arc::new(Queue::new(1));
        q.put_nowait(1).unwrap();
        let q2 = q.clone();
        let blocked_put = spawn(async move { q2.put(2).await });
        yield_now().await;
        q.shutdown(false);
        assert!(q.is_shutdown());
        assert_eq!(blocked_put.await.unwrap(), Err(PutError::ShutDown(2)));
        assert_eq!(q.put_nowait(3).unwrap_err().into_inner(), 3);
        assert_eq!(q.get().await, Ok(1)); // drained first
        assert_eq!(q.get().await, Err(GetError::ShutDown));
        assert_eq!(q.get_nowait(), Err(GetError::ShutDown));
    });
}

#[test]
fn shutdown_immediate_drops_items_and_releases_join() {
    run(async {
        let q = Arc::new(Queue::new(0));
        for i in 0..3 {
            q.put_nowait(i).unwrap();
        }
        let q2 = q.clone();
        let joiner = spawn(async move { q2.join().await });
        yield_now().await;
        q.shutdown(true);
        joiner.await.unwrap();
        assert!(q.empty());
        assert_eq!(q.get().await, Err(GetError::ShutDown));
    });
}

#[test]
fn shutdown_wakes_a_blocked_getter() {
    run(async {
        let q: Arc<Queue<i32>> = Arc::new(Queue::new(0));
        let q2 = q.clone();
        let getter = spawn(async move { q2.get().await });
        yield_now().await;
        q.shutdown(false);
        assert_eq!(getter.await.unwrap(), Err(GetError::ShutDown));
    });
}

#[test]
fn cancelled_getter_does_not_lose_an_item() {
    run(async {
        let q = Arc::new(Queue::new(0));
        let (q1, q2) = (q.clone(), q.clone());
        let first = spawn(async move { q1.get().await });
        let second = spawn(async move { q2.get().await });
        yield_now().await;
        q.put_nowait("item").unwrap(); // wakes `first`...
        first.cancel(None); // ...which is dropped before taking it
        assert!(first.await.unwrap_err().is_cancelled());
        assert_eq!(
            second.await.unwrap(),
            Ok("item"),
            "the wake-up was passed on"
        );
    });
}

#[test]
fn cancelled_putter_frees_its_turn() {
    run(async {
        let q = Arc::new(Queue::new(1));
        q.put_nowait(0).unwrap();
        let (q1, q2) = (q.clone(), q.clone());
        let first = spawn(async move { q1.put(1).await });
        let second = spawn(async move { q2.put(2).await });
        yield_now().await;
        assert_eq!(q.get_nowait(), Ok(0)); // wakes `first`
        first.cancel(None);
        assert!(first.await.unwrap_err().is_cancelled());
        second.await.unwrap().unwrap();
        assert_eq!(q.get_nowait(), Ok(2));
    });
}

#[test]
fn timed_out_get_leaves_the_queue_intact() {
    run(async {
        let q: Queue<i32> = Queue::new(0);
        assert!(timeout(Duration::from_millis(1), q.get()).await.is_err());
        q.put_nowait(5).unwrap();
        assert_eq!(q.get().await, Ok(5));
    });
}

#[test]
fn stream_iterates_until_shutdown() {
    run(async {
        let q = Arc::new(Queue::new(0));
        let q2 = q.clone();
        let consumer = spawn(async move {
            let mut s = q2.stream();
            let mut got = Vec::new();
            while let Some(x) = s.next().await {
                got.push(x);
            }
            got
        });
        for i in 0..5 {
            q.put(i).await.unwrap();
            yield_now().await;
        }
        q.shutdown(false);
        assert_eq!(consumer.await.unwrap(), [0, 1, 2, 3, 4]);
    });
}
