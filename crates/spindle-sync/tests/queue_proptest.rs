//! Property tests: random single-threaded operation sequences on each queue kind, checked step
//! by step against a model (`VecDeque` for FIFO, `Vec` for LIFO, a `BinaryHeap` keyed by
//! `(item, insertion number)` for priority) that also tracks Python's `unfinished_tasks` and
//! 3.13 shutdown state.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::time::Duration;

use proptest::prelude::*;
use spindle_sync::queue::{
    GetError, LifoQueue, PriorityQueue, PutError, Queue, SimpleQueue, TaskDoneError,
};

#[derive(Debug, Clone)]
enum Op {
    PutNowait(u8),
    PutZeroTimeout(u8),
    GetNowait,
    GetZeroTimeout,
    TaskDone,
    Shutdown(bool),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => any::<u8>().prop_map(Op::PutNowait),
        1 => any::<u8>().prop_map(Op::PutZeroTimeout),
        3 => Just(Op::GetNowait),
        1 => Just(Op::GetZeroTimeout),
        2 => Just(Op::TaskDone),
        1 => any::<bool>().prop_map(Op::Shutdown),
    ]
}

/// The order a model keeps.
trait Order: Default {
    fn push(&mut self, item: u8);
    fn pop(&mut self) -> Option<u8>;
    fn len(&self) -> usize;
    fn clear(&mut self) -> usize {
        let mut n = 0;
        while self.pop().is_some() {
            n += 1;
        }
        n
    }
}

#[derive(Default)]
struct Fifo(VecDeque<u8>);
impl Order for Fifo {
    fn push(&mut self, item: u8) {
        self.0.push_back(item);
    }
    fn pop(&mut self) -> Option<u8> {
        self.0.pop_front()
    }
    fn len(&self) -> usize {
        self.0.len()
    }
}

#[derive(Default)]
struct Lifo(Vec<u8>);
impl Order for Lifo {
    fn push(&mut self, item: u8) {
        self.0.push(item);
    }
    fn pop(&mut self) -> Option<u8> {
        self.0.pop()
    }
    fn len(&self) -> usize {
        self.0.len()
    }
}

#[derive(Default)]
struct Heap(BinaryHeap<Reverse<(u8, u64)>>, u64);
impl Order for Heap {
    fn push(&mut self, item: u8) {
        self.1 += 1;
        self.0.push(Reverse((item, self.1)));
    }
    fn pop(&mut self) -> Option<u8> {
        self.0.pop().map(|Reverse((item, _))| item)
    }
    fn len(&self) -> usize {
        self.0.len()
    }
}

/// Python's queue semantics, sequentially.
struct Model<O> {
    items: O,
    maxsize: usize,
    unfinished: u64,
    shut_down: bool,
}

impl<O: Order> Model<O> {
    fn new(maxsize: usize) -> Self {
        Self {
            items: O::default(),
            maxsize,
            unfinished: 0,
            shut_down: false,
        }
    }
    fn put(&mut self, item: u8) -> Result<(), PutError<u8>> {
        if self.shut_down {
            Err(PutError::ShutDown(item))
        } else if self.maxsize > 0 && self.items.len() >= self.maxsize {
            Err(PutError::Full(item))
        } else {
            self.items.push(item);
            self.unfinished += 1;
            Ok(())
        }
    }
    fn get(&mut self) -> Result<u8, GetError> {
        match self.items.pop() {
            Some(item) => Ok(item),
            None if self.shut_down => Err(GetError::ShutDown),
            None => Err(GetError::Empty),
        }
    }
    fn task_done(&mut self) -> Result<(), TaskDoneError> {
        if self.unfinished == 0 {
            return Err(TaskDoneError);
        }
        self.unfinished -= 1;
        Ok(())
    }
    fn shutdown(&mut self, immediate: bool) {
        self.shut_down = true;
        if immediate {
            let dropped = self.items.clear() as u64;
            self.unfinished = self.unfinished.saturating_sub(dropped);
        }
    }
}

/// Runs `ops` on `$q` and a `Model<$order>` side by side.
macro_rules! check_against_model {
    ($q:expr, $order:ty, $maxsize:expr, $ops:expr) => {{
        let q = $q;
        let mut model = Model::<$order>::new($maxsize);
        for (step, op) in $ops.iter().enumerate() {
            match *op {
                Op::PutNowait(item) => {
                    prop_assert_eq!(q.put_nowait(item), model.put(item), "step {}", step)
                }
                Op::PutZeroTimeout(item) => {
                    prop_assert_eq!(
                        q.put_timeout(item, Duration::ZERO),
                        model.put(item),
                        "step {}",
                        step
                    )
                }
                Op::GetNowait => prop_assert_eq!(q.get_nowait(), model.get(), "step {}", step),
                Op::GetZeroTimeout => {
                    prop_assert_eq!(q.get_timeout(Duration::ZERO), model.get(), "step {}", step)
                }
                Op::TaskDone => prop_assert_eq!(q.task_done(), model.task_done(), "step {}", step),
                Op::Shutdown(immediate) => {
                    q.shutdown(immediate);
                    model.shutdown(immediate);
                }
            }
            prop_assert_eq!(q.qsize(), model.items.len());
            prop_assert_eq!(q.empty(), model.items.len() == 0);
            prop_assert_eq!(q.full(), $maxsize > 0 && model.items.len() >= $maxsize);
            prop_assert_eq!(q.unfinished_tasks(), model.unfinished);
            prop_assert_eq!(q.join_timeout(Duration::ZERO), model.unfinished == 0);
            prop_assert_eq!(q.is_shut_down(), model.shut_down);
        }
    }};
}

fn maxsize() -> impl Strategy<Value = usize> {
    // 0 and 70 000 run on the growable list, 1..=5 on the ring (small, so it fills and wraps).
    prop_oneof![Just(0usize), 1usize..=5, Just(70_000usize)]
}

proptest! {
    #[test]
    fn queue_matches_fifo_model(maxsize in maxsize(), ops in prop::collection::vec(op(), 0..200)) {
        check_against_model!(Queue::new(maxsize), Fifo, maxsize, ops);
    }

    #[test]
    fn lifo_queue_matches_lifo_model(maxsize in maxsize(), ops in prop::collection::vec(op(), 0..200)) {
        check_against_model!(LifoQueue::new(maxsize), Lifo, maxsize, ops);
    }

    #[test]
    fn priority_queue_matches_heap_model(maxsize in maxsize(), ops in prop::collection::vec(op(), 0..200)) {
        check_against_model!(PriorityQueue::new(maxsize), Heap, maxsize, ops);
    }

    #[test]
    fn simple_queue_matches_fifo_model(ops in prop::collection::vec(op(), 0..200)) {
        let q = SimpleQueue::new();
        let mut model = Model::<Fifo>::new(0);
        for op in ops {
            match op {
                Op::PutNowait(item) | Op::PutZeroTimeout(item) => {
                    prop_assert_eq!(q.try_put(item), model.put(item));
                }
                Op::GetNowait => prop_assert_eq!(q.get_nowait(), model.get()),
                Op::GetZeroTimeout => prop_assert_eq!(q.get_timeout(Duration::ZERO), model.get()),
                Op::TaskDone => {} // SimpleQueue has no task tracking
                Op::Shutdown(immediate) => {
                    q.shutdown(immediate);
                    model.shutdown(immediate);
                }
            }
            prop_assert_eq!(q.qsize(), model.items.len());
            prop_assert_eq!(q.empty(), model.items.len() == 0);
            prop_assert_eq!(q.is_shut_down(), model.shut_down);
        }
    }
}
