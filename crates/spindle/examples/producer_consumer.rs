//! Producers and consumers two ways: by hand with `Condition`, then with `queue::Queue`.
//!
//! 1. A bounded buffer guarded by one `Lock` with two `Condition`s over it, `not_full` and
//!    `not_empty` — how Python's `queue.Queue` is built inside. Producers wait while the
//!    buffer is full, consumers while it is empty, each wakes the other side with
//!    `notify(1)`.
//! 2. The same job with `spindle::queue::Queue`: `put` and `get` block, and Python 3.13's
//!    `shutdown()` tells consumers that no more items will come.
//!
//! Both runs check that every item was consumed exactly once.
//!
//! Run: `cargo run -p spindle --example producer_consumer`

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use spindle::queue::{GetError, Queue};
use spindle::threading::{Condition, Lock, Thread};

const PRODUCERS: u64 = 2;
const CONSUMERS: u64 = 2;
const ITEMS_PER_PRODUCER: u64 = 5_000;
const CAPACITY: usize = 8;

/// A ring of `CAPACITY` slots. Its fields are atomics only so the type is `Sync`: every
/// access happens with the conditions' lock held, which is what makes the
/// read-modify-writes correct.
#[derive(Default)]
struct Buffer {
    slots: [AtomicU64; CAPACITY],
    head: AtomicUsize,
    len: AtomicUsize,
}

impl Buffer {
    fn push(&self, item: u64) {
        let tail =
            (self.head.load(Ordering::Relaxed) + self.len.load(Ordering::Relaxed)) % CAPACITY;
        self.slots[tail].store(item, Ordering::Relaxed);
        self.len.fetch_add(1, Ordering::Relaxed);
    }

    fn pop(&self) -> u64 {
        let head = self.head.load(Ordering::Relaxed);
        let item = self.slots[head].load(Ordering::Relaxed);
        self.head.store((head + 1) % CAPACITY, Ordering::Relaxed);
        self.len.fetch_sub(1, Ordering::Relaxed);
        item
    }
}

fn expected_sum() -> u64 {
    let n = PRODUCERS * ITEMS_PER_PRODUCER;
    n * (n - 1) / 2
}

struct Shared {
    buffer: Buffer,
    not_full: Condition<Arc<Lock>>,
    not_empty: Condition<Arc<Lock>>,
}

fn with_conditions() -> u64 {
    // Two conditions sharing one lock, as inside Python's queue.Queue.
    let mutex = Arc::new(Lock::new());
    let shared = Arc::new(Shared {
        buffer: Buffer::default(),
        not_full: Condition::new(Arc::clone(&mutex)),
        not_empty: Condition::new(mutex),
    });
    let total = Arc::new(AtomicU64::new(0));

    let producers: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            let shared = shared.clone();
            Thread::spawn(move || {
                let Shared {
                    buffer,
                    not_full,
                    not_empty,
                } = &*shared;
                for i in 0..ITEMS_PER_PRODUCER {
                    let mut held = not_full.lock();
                    not_full.wait_for(
                        &mut held,
                        || buffer.len.load(Ordering::Relaxed) < CAPACITY,
                        None,
                    );
                    buffer.push(p * ITEMS_PER_PRODUCER + i);
                    // The guard came from `not_full`, but it is the same lock.
                    not_empty.notify(1).expect("lock is held");
                }
            })
            .expect("spawn producer")
        })
        .collect();
    let consumers: Vec<_> = (0..CONSUMERS)
        .map(|_| {
            let (shared, total) = (shared.clone(), total.clone());
            Thread::spawn(move || {
                let Shared {
                    buffer,
                    not_full,
                    not_empty,
                } = &*shared;
                for _ in 0..PRODUCERS * ITEMS_PER_PRODUCER / CONSUMERS {
                    let mut held = not_empty.lock();
                    not_empty.wait_for(&mut held, || buffer.len.load(Ordering::Relaxed) > 0, None);
                    let item = buffer.pop();
                    not_full.notify(1).expect("lock is held");
                    drop(held);
                    total.fetch_add(item, Ordering::Relaxed);
                }
            })
            .expect("spawn consumer")
        })
        .collect();
    for t in producers.into_iter().chain(consumers) {
        t.join().expect("thread panicked");
    }
    assert_eq!(shared.buffer.len.load(Ordering::Relaxed), 0);
    total.load(Ordering::Relaxed)
}

fn with_queue() -> u64 {
    let q = Arc::new(Queue::new(CAPACITY));
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            let q = q.clone();
            Thread::spawn(move || {
                for i in 0..ITEMS_PER_PRODUCER {
                    q.put(p * ITEMS_PER_PRODUCER + i)
                        .expect("queue shut down early");
                }
            })
            .expect("spawn producer")
        })
        .collect();
    let consumers: Vec<_> = (0..CONSUMERS)
        .map(|_| {
            let q = q.clone();
            Thread::spawn(move || {
                let mut sum = 0;
                loop {
                    match q.get() {
                        Ok(item) => sum += item,
                        // Shut down and drained: no more items will come.
                        Err(GetError::ShutDown) => return sum,
                        Err(e) => panic!("unexpected: {e}"),
                    }
                }
            })
            .expect("spawn consumer")
        })
        .collect();
    for p in producers {
        p.join().expect("producer panicked");
    }
    q.shutdown(false); // let consumers drain what is left, then stop
    consumers
        .into_iter()
        .map(|c| c.join().expect("consumer panicked"))
        .sum()
}

fn main() {
    let expected = expected_sum();

    let by_hand = with_conditions();
    println!("Condition buffer: consumed sum {by_hand} (expected {expected})");
    assert_eq!(by_hand, expected);

    let by_queue = with_queue();
    println!("queue.Queue:      consumed sum {by_queue} (expected {expected})");
    assert_eq!(by_queue, expected);
}
