//! Property tests: the three queues against simple models (VecDeque, Vec, sorted insert)
//! under random sequences of `put_nowait`/`get_nowait`/`task_done`, with a bound.

use std::collections::VecDeque;

use proptest::prelude::*;
use spindle_async::{GetError, LifoQueue, PriorityQueue, PutError, Queue, TaskDoneError};

#[derive(Debug, Clone)]
enum Op {
    Put(u8),
    Get,
    Done,
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    prop::collection::vec(
        prop_oneof![(0u8..8).prop_map(Op::Put), Just(Op::Get), Just(Op::Done)],
        0..200,
    )
}

/// Applies `ops` to a queue (through closures) and to a model; checks every answer.
fn check(
    ops: &[Op],
    maxsize: usize,
    put: &dyn Fn(u8) -> Result<(), PutError<u8>>,
    get: &dyn Fn() -> Result<u8, GetError>,
    done: &dyn Fn() -> Result<(), TaskDoneError>,
    model_pop: &dyn Fn(&mut VecDeque<u8>) -> Option<u8>,
) {
    let mut model: VecDeque<u8> = VecDeque::new();
    let mut unfinished = 0usize;
    for op in ops {
        match op {
            Op::Put(x) => {
                if maxsize > 0 && model.len() >= maxsize {
                    assert_eq!(put(*x), Err(PutError::Full(*x)));
                } else {
                    assert_eq!(put(*x), Ok(()));
                    model.push_back(*x);
                    unfinished += 1;
                }
            }
            Op::Get => match model_pop(&mut model) {
                Some(x) => assert_eq!(get(), Ok(x)),
                None => assert_eq!(get(), Err(GetError::Empty)),
            },
            Op::Done => {
                if unfinished == 0 {
                    assert_eq!(done(), Err(TaskDoneError));
                } else {
                    assert_eq!(done(), Ok(()));
                    unfinished -= 1;
                }
            }
        }
    }
}

proptest! {
    #[test]
    fn fifo_matches_vecdeque(ops in ops(), maxsize in 0usize..5) {
        let q = Queue::new(maxsize);
        check(&ops, maxsize, &|x| q.put_nowait(x), &|| q.get_nowait(), &|| q.task_done(),
              &|m| m.pop_front());
        prop_assert_eq!(q.qsize() <= maxsize || maxsize == 0, true);
    }

    #[test]
    fn lifo_matches_a_stack(ops in ops(), maxsize in 0usize..5) {
        let q = LifoQueue::new(maxsize);
        check(&ops, maxsize, &|x| q.put_nowait(x), &|| q.get_nowait(), &|| q.task_done(),
              &|m| m.pop_back());
    }

    #[test]
    fn priority_gives_the_smallest(ops in ops(), maxsize in 0usize..5) {
        let q = PriorityQueue::new(maxsize);
        check(&ops, maxsize, &|x| q.put_nowait(x), &|| q.get_nowait(), &|| q.task_done(),
              &|m| {
                  let (i, _) = m.iter().enumerate().min_by_key(|(_, v)| **v)?;
                  m.remove(i)
              });
    }
}
