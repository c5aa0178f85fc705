//! `task_done` / `join` / `join_timeout` / `unfinished_tasks` on `Queue`, `LifoQueue` and
//! `PriorityQueue`: counting, too many calls, workers releasing a joiner. Ported in spirit from
//! `test_queue_task_done` and `test_queue_join` of CPython's `Lib/test/test_queue.py`.

// `for_each_kind!` (from `support`) runs each test on every queue kind. `Queue` tests with
// `new(0)` run on the growable list and the bounded ones on the ring.
#[macro_use]
mod support;

use std::thread;
use std::time::Duration;

use spindle_sync::queue::{GetError, TaskDoneError};

const LIMIT: Duration = Duration::from_secs(10);
const WORKERS: usize = 2;
const JOBS: u64 = 1_000;

for_each_kind! {
    #[test]
    fn task_done_on_a_fresh_queue_is_an_error() {
        let q: Q<u64> = Q::new(0);
        assert_eq!(q.task_done(), Err(TaskDoneError));
        assert_eq!(q.unfinished_tasks(), 0);
        q.join();
        assert!(q.join_timeout(Duration::ZERO));
    }

    #[test]
    fn every_put_is_one_task() {
        let q = Q::new(0);
        for i in 0..3u64 {
            q.put(i).unwrap();
        }
        assert_eq!(q.unfinished_tasks(), 3);
        // Marking done does not need the items to have been taken, as in Python.
        q.task_done().unwrap();
        assert_eq!(q.unfinished_tasks(), 2);
        q.task_done().unwrap();
        q.task_done().unwrap();
        assert_eq!(q.task_done(), Err(TaskDoneError));
        assert_eq!(q.unfinished_tasks(), 0, "a refused task_done leaves the count alone");
        assert!(q.join_timeout(Duration::ZERO));
    }

    #[test]
    fn refused_puts_are_not_tasks() {
        let q = Q::new(1);
        q.put(1u64).unwrap();
        assert!(q.put_nowait(2).is_err());
        assert_eq!(q.unfinished_tasks(), 1);
    }

    #[test]
    fn bound_too_large_for_a_ring_counts_tasks_too() {
        let q = Q::new(100_000);
        q.put(1u64).unwrap();
        q.put(2).unwrap();
        assert_eq!(q.unfinished_tasks(), 2);
        q.task_done().unwrap();
        q.task_done().unwrap();
        assert_eq!(q.task_done(), Err(TaskDoneError));
        assert!(q.join_timeout(Duration::ZERO));
    }

    #[test]
    fn join_timeout_reports_unfinished_work() {
        let q = Q::new(0);
        q.put(1u64).unwrap();
        assert!(!q.join_timeout(Duration::from_millis(20)));
        assert!(!q.join_timeout(Duration::ZERO));
        q.get().unwrap();
        q.task_done().unwrap();
        assert!(q.join_timeout(Duration::from_millis(20)));
    }

    #[test]
    fn workers_release_join() {
        let q = Q::new(16);
        let total: u64 = thread::scope(|s| {
            let workers: Vec<_> = (0..WORKERS)
                .map(|_| {
                    s.spawn(|| {
                        let mut sum = 0;
                        loop {
                            match q.get_timeout(LIMIT) {
                                Ok(job) => {
                                    sum += job;
                                    q.task_done().unwrap();
                                }
                                Err(GetError::ShutDown) => return sum,
                                Err(GetError::Empty) => panic!("worker timed out"),
                            }
                        }
                    })
                })
                .collect();
            for job in 0..JOBS {
                q.put_timeout(job, LIMIT).unwrap();
            }
            assert!(q.join_timeout(LIMIT), "join did not return");
            assert_eq!(q.unfinished_tasks(), 0);
            q.shutdown(false);
            workers.into_iter().map(|w| w.join().unwrap()).sum()
        });
        assert_eq!(total, JOBS * (JOBS - 1) / 2);
    }

    #[test]
    fn several_joiners_are_all_released() {
        let q = Q::new(0);
        q.put(1u64).unwrap();
        thread::scope(|s| {
            let joiners: Vec<_> = (0..3).map(|_| s.spawn(|| q.join_timeout(LIMIT))).collect();
            q.get().unwrap();
            q.task_done().unwrap();
            for joiner in joiners {
                assert!(joiner.join().unwrap());
            }
        });
    }

    #[test]
    fn untimed_join_returns_once_done() {
        let q = Q::new(0);
        for i in 0..10u64 {
            q.put(i).unwrap();
        }
        thread::scope(|s| {
            s.spawn(|| {
                while q.get_timeout(LIMIT).is_ok() {
                    q.task_done().unwrap();
                    if q.empty() {
                        break;
                    }
                }
            });
            q.join();
        });
        assert_eq!(q.unfinished_tasks(), 0);
    }
}
