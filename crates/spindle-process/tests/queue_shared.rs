//! Process queues: put/get across processes, timeouts, Full/Empty, close, JoinableQueue's
//! task accounting, SimpleQueue (after CPython's `_TestQueue`).

spindle_process::test_support!();

mod support;

use std::time::{Duration, Instant};

use spindle_process::queues::{GetError, PutError};
use spindle_process::{JoinableQueue, Queue, SimpleQueue};
use support::{join_or_kill, process_lock, spawn, KillOnDrop, LIMIT};

/// Producers in the many-to-one test.
const PRODUCERS: usize = 3;
/// Items per producer.
const ITEMS: u64 = 2_000;

fn produce((q, id): (Queue<(u64, u64)>, u64)) {
    for i in 0..ITEMS {
        q.put((id, i)).unwrap();
    }
}

#[test]
fn smoke_fifo_in_one_process() {
    let q = Queue::<String>::new(0).unwrap();
    assert!(q.empty());
    for s in ["a", "b", "c"] {
        q.put(s.to_string()).unwrap();
    }
    assert_eq!(q.qsize(), 3);
    assert_eq!(q.get().unwrap(), "a");
    assert_eq!(q.get_nowait().unwrap(), "b");
    assert_eq!(q.get_timeout(LIMIT).unwrap(), "c");
    assert_eq!(q.get_nowait(), Err(GetError::Empty));
}

#[test]
fn many_producers_to_one_consumer_in_order_per_producer() {
    let _g = process_lock();
    let q = Queue::<(u64, u64)>::new(100).unwrap();
    let kids: Vec<KillOnDrop> = (0..PRODUCERS as u64)
        .map(|id| spawn(produce, (q.clone(), id)))
        .collect();
    let mut next = [0u64; PRODUCERS];
    for _ in 0..PRODUCERS as u64 * ITEMS {
        let (id, i) = q.get_timeout(LIMIT).unwrap();
        assert_eq!(next[id as usize], i, "FIFO per producer");
        next[id as usize] += 1;
    }
    for p in &kids {
        assert_eq!(join_or_kill(p), 0);
    }
    assert!(q.empty());
}

fn consume((q, out): (Queue<u64>, Queue<u64>)) {
    let mut sum = 0;
    loop {
        match q.get_timeout(LIMIT) {
            Ok(x) => sum += x,
            Err(GetError::Closed) => break,
            Err(e) => panic!("{e}"),
        }
    }
    out.put(sum).unwrap();
}

#[test]
fn close_drains_then_every_reader_sees_closed() {
    let _g = process_lock();
    const N: u64 = 1_000;
    let q = Queue::<u64>::new(0).unwrap();
    let out = Queue::<u64>::new(0).unwrap();
    let kids: Vec<KillOnDrop> = (0..2)
        .map(|_| spawn(consume, (q.clone(), out.clone())))
        .collect();
    for i in 1..=N {
        q.put(i).unwrap();
    }
    q.close();
    assert!(matches!(q.put(5), Err(PutError::Closed(5))));
    let total: u64 = (0..2).map(|_| out.get_timeout(LIMIT).unwrap()).sum();
    assert_eq!(total, N * (N + 1) / 2);
    for p in &kids {
        assert_eq!(join_or_kill(p), 0);
    }
    assert_eq!(q.get_nowait(), Err(GetError::Closed));
}

#[test]
fn full_and_empty_with_timeouts() {
    let q = Queue::<u8>::new(1).unwrap();
    q.put_nowait(1).unwrap();
    assert!(q.full());
    let t0 = Instant::now();
    let err = q.put_timeout(2, Duration::from_millis(30)).unwrap_err();
    assert!(t0.elapsed() >= Duration::from_millis(30));
    assert_eq!(err.into_inner(), 2);
    assert!(matches!(q.put_nowait(3), Err(PutError::Full(3))));
    assert_eq!(q.get().unwrap(), 1);
    let t0 = Instant::now();
    assert_eq!(
        q.get_timeout(Duration::from_millis(30)),
        Err(GetError::Empty)
    );
    assert!(t0.elapsed() >= Duration::from_millis(30));
    // A huge timeout means "no limit", never a panic.
    q.put_timeout(4, Duration::MAX).unwrap();
    assert_eq!(q.get_timeout(Duration::MAX).unwrap(), 4);
}

fn task_worker(q: JoinableQueue<u32>) {
    while let Ok(x) = q.get_timeout(LIMIT) {
        if x == u32::MAX {
            q.task_done().unwrap();
            break;
        }
        q.task_done().unwrap();
    }
}

#[test]
fn joinable_queue_join_waits_for_task_done_in_a_child() {
    let _g = process_lock();
    let q = JoinableQueue::<u32>::new(0).unwrap();
    for i in 0..100 {
        q.put(i).unwrap();
    }
    assert!(!q.join_timeout(Duration::from_millis(5)));
    let p = spawn(task_worker, q.clone());
    q.put(u32::MAX).unwrap();
    assert!(q.join_timeout(LIMIT));
    assert_eq!(join_or_kill(&p), 0);
    assert!(q.task_done().is_err(), "too many task_done calls");
}

fn simple_echo((inq, outq): (SimpleQueue<String>, SimpleQueue<String>)) {
    while let Ok(s) = inq.get_timeout(LIMIT) {
        outq.put(s.to_uppercase()).unwrap();
    }
}

#[test]
fn simple_queue_round_trip_through_a_child() {
    let _g = process_lock();
    let inq = SimpleQueue::<String>::new().unwrap();
    let outq = SimpleQueue::<String>::new().unwrap();
    let p = spawn(simple_echo, (inq.clone(), outq.clone()));
    for w in ["alpha", "beta"] {
        inq.put(w.to_string()).unwrap();
        assert_eq!(outq.get_timeout(LIMIT).unwrap(), w.to_uppercase());
    }
    inq.close();
    assert_eq!(join_or_kill(&p), 0);
    assert!(outq.empty());
    assert!(matches!(inq.put("late".into()), Err(PutError::Closed(_))));
}

#[test]
fn queue_outside_a_start_cannot_be_serialised() {
    let q = Queue::<u8>::new(0).unwrap();
    let (a, _b) = spindle_process::Pipe(true).unwrap();
    assert!(a.send(&q).is_err());
}

mod model {
    use super::*;
    use proptest::prelude::*;
    use std::collections::VecDeque;

    #[derive(Debug, Clone)]
    enum Op {
        Put(u16),
        Get,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![any::<u16>().prop_map(Op::Put), Just(Op::Get)]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// A bounded queue used from one process behaves like a bounded `VecDeque`.
        #[test]
        fn bounded_queue_matches_a_vecdeque(ops in proptest::collection::vec(op(), 0..60), cap in 1usize..5) {
            let q = Queue::<u16>::new(cap).unwrap();
            let mut model = VecDeque::new();
            for op in ops {
                match op {
                    Op::Put(x) => {
                        let r = q.put_nowait(x);
                        if model.len() < cap {
                            prop_assert!(r.is_ok());
                            model.push_back(x);
                        } else {
                            prop_assert!(matches!(r, Err(PutError::Full(y)) if y == x));
                        }
                    }
                    Op::Get => match model.pop_front() {
                        Some(x) => prop_assert_eq!(q.get_nowait().unwrap(), x),
                        None => prop_assert_eq!(q.get_nowait(), Err(GetError::Empty)),
                    },
                }
                prop_assert_eq!(q.qsize(), model.len());
                prop_assert_eq!(q.full(), model.len() == cap);
            }
        }
    }
}
