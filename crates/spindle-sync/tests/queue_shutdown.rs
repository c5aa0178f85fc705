//! Python 3.13 `shutdown(immediate)` on `Queue`, `LifoQueue` and `PriorityQueue`: puts refused
//! with the item handed back, gets drain then fail, `immediate` drops and counts the rest as
//! done, and blocked getters, putters and joiners in other threads are released.
//!
//! Ported in spirit from the `test_shutdown_*` cases of CPython's `Lib/test/test_queue.py`
//! (PSF licence): `test_shutdown_empty`, `test_shutdown_nonempty`,
//! `test_shutdown_[immediate_]all_methods_in_one_thread`, `test_shutdown_allowed_transitions`,
//! `test_shutdown_pending_get`, `test_shutdown_[immediate_]put_join`. Threads hand off through
//! the waiter counts instead of sleeps; timeouts are `Duration`s.

#[macro_use]
mod support;

use std::sync::Arc;
use std::thread;
use std::time::Duration;

use spindle_sync::queue::{GetError, PutError, TaskDoneError};
use support::{wait_until, wake_parked};

const LIMIT: Duration = Duration::from_secs(10);
const WAITERS: usize = 3;

for_each_kind! {
    #[test]
    fn shutdown_empty_refuses_puts_and_gets() {
        let q: Q<u32> = Q::new(0);
        assert!(!q.is_shut_down());
        q.shutdown(false);
        assert!(q.is_shut_down());
        assert!(matches!(q.put(1), Err(PutError::ShutDown(1))));
        assert!(matches!(q.put_nowait(2), Err(PutError::ShutDown(2))));
        assert!(matches!(q.put_timeout(3, LIMIT), Err(PutError::ShutDown(3))));
        assert_eq!(q.get(), Err(GetError::ShutDown));
        assert_eq!(q.get_nowait(), Err(GetError::ShutDown));
        assert_eq!(q.get_timeout(LIMIT), Err(GetError::ShutDown));
        q.join();
    }

    #[test]
    fn shutdown_takes_precedence_over_full() {
        let q = Q::new(1);
        q.put(1).unwrap();
        q.shutdown(false);
        assert!(matches!(q.put_nowait(2), Err(PutError::ShutDown(2))));
    }

    #[test]
    fn all_methods_in_one_thread_after_plain_shutdown() {
        let q = Q::new(2);
        q.put(7).unwrap();
        q.put_nowait(7).unwrap();
        q.shutdown(false);
        assert!(matches!(q.put(8), Err(PutError::ShutDown(8))));
        assert!(matches!(q.put_nowait(8), Err(PutError::ShutDown(8))));
        assert_eq!(q.qsize(), 2);
        assert_eq!(q.get(), Ok(7));
        assert_eq!(q.get_nowait(), Ok(7));
        assert_eq!(q.get(), Err(GetError::ShutDown));
        assert_eq!(q.get_nowait(), Err(GetError::ShutDown));
        assert!(!q.join_timeout(Duration::ZERO));
        q.task_done().unwrap();
        q.task_done().unwrap();
        assert_eq!(q.task_done(), Err(TaskDoneError));
        q.join();
    }

    #[test]
    fn all_methods_in_one_thread_after_immediate_shutdown() {
        let q = Q::new(2);
        q.put(7).unwrap();
        q.put_nowait(7).unwrap();
        q.shutdown(true);
        assert_eq!(q.qsize(), 0);
        assert_eq!(q.unfinished_tasks(), 0);
        assert!(matches!(q.put(8), Err(PutError::ShutDown(8))));
        assert!(matches!(q.put_nowait(8), Err(PutError::ShutDown(8))));
        assert_eq!(q.get(), Err(GetError::ShutDown));
        assert_eq!(q.get_nowait(), Err(GetError::ShutDown));
        // The dropped items were counted as done, so there is nothing left to mark.
        assert_eq!(q.task_done(), Err(TaskDoneError));
        q.join();
    }

    #[test]
    fn allowed_transitions() {
        let q: Q<u8> = Q::new(0);
        q.shutdown(false);
        q.shutdown(false);
        assert!(q.is_shut_down());
        q.shutdown(true);
        q.shutdown(true);
        assert!(q.is_shut_down());

        let q = Q::new(0);
        q.put(1).unwrap();
        q.shutdown(false);
        q.shutdown(true); // immediate after plain still drops what is left
        assert_eq!(q.get_nowait(), Err(GetError::ShutDown));
    }

    #[test]
    fn immediate_drops_items_but_not_taken_ones() {
        let token = Arc::new(());
        let q = Q::new(0);
        for _ in 0..3 {
            q.put(Arc::clone(&token)).unwrap();
        }
        let taken = q.get().unwrap();
        q.shutdown(true);
        assert_eq!(Arc::strong_count(&token), 2, "two queued items dropped");
        // The taken item is still an unfinished task, as in Python.
        assert_eq!(q.unfinished_tasks(), 1);
        assert!(!q.join_timeout(Duration::ZERO));
        drop(taken);
        q.task_done().unwrap();
        assert!(q.join_timeout(Duration::ZERO));
    }

    #[test]
    fn shutdown_wakes_every_blocked_getter() {
        let q: Q<u32> = Q::new(1);
        thread::scope(|s| {
            let getters: Vec<_> = (0..WAITERS).map(|_| s.spawn(|| q.get_timeout(LIMIT))).collect();
            wait_until("every getter is parked", || q.waiting_getters() >= WAITERS);
            q.shutdown(false);
            for getter in getters {
                assert_eq!(getter.join().unwrap(), Err(GetError::ShutDown));
            }
        });
        assert_eq!(q.waiting_getters(), 0);
    }

    #[test]
    fn shutdown_wakes_untimed_getters_too() {
        let q: Q<u32> = Q::new(0);
        let got = wake_parked(|| q.get(), || q.waiting_getters() > 0, || q.shutdown(true));
        assert_eq!(got, Err(GetError::ShutDown));
    }

    #[test]
    fn shutdown_wakes_every_blocked_putter_and_hands_items_back() {
        for immediate in [false, true] {
            let q = Q::new(1);
            q.put(0).unwrap();
            thread::scope(|s| {
                let putters: Vec<_> = (1..=WAITERS as u32)
                    .map(|i| {
                        let q = &q;
                        s.spawn(move || (i, q.put_timeout(i, LIMIT)))
                    })
                    .collect();
                wait_until("every putter is parked", || q.waiting_putters() >= WAITERS);
                q.shutdown(immediate);
                for putter in putters {
                    let (i, result) = putter.join().unwrap();
                    assert!(matches!(result, Err(PutError::ShutDown(back)) if back == i));
                }
            });
            // Plain shutdown leaves the first item for getters; immediate drops it.
            assert_eq!(q.get_nowait().is_ok(), !immediate);
            assert_eq!(q.get_nowait(), Err(GetError::ShutDown));
        }
    }

    #[test]
    fn pending_get_is_released_by_a_put_before_shutdown() {
        let q = Q::new(0);
        let got = wake_parked(
            || q.get_timeout(LIMIT),
            || q.waiting_getters() > 0,
            || q.put(42).unwrap(),
        );
        assert_eq!(got, Ok(42));
        q.shutdown(false);
        assert_eq!(q.get(), Err(GetError::ShutDown));
    }

    #[test]
    fn immediate_shutdown_releases_join() {
        let q = Q::new(0);
        for i in 0..5 {
            q.put(i).unwrap();
        }
        thread::scope(|s| {
            let joiner = s.spawn(|| q.join_timeout(LIMIT));
            q.shutdown(true);
            assert!(joiner.join().unwrap());
        });
    }

    #[test]
    fn plain_shutdown_then_drain_releases_join() {
        let q = Q::new(0);
        for i in 0..5 {
            q.put(i).unwrap();
        }
        q.shutdown(false);
        thread::scope(|s| {
            let joiner = s.spawn(|| q.join_timeout(LIMIT));
            while let Ok(_item) = q.get() {
                q.task_done().unwrap();
            }
            assert!(joiner.join().unwrap());
        });
    }

    #[test]
    fn consumers_stop_after_shutdown_and_receive_everything() {
        const ITEMS: u32 = 2_000;
        let q = Q::new(8);
        let mut got: Vec<u32> = thread::scope(|s| {
            let consumers: Vec<_> = (0..2)
                .map(|_| {
                    s.spawn(|| {
                        let mut mine = Vec::new();
                        loop {
                            match q.get_timeout(LIMIT) {
                                Ok(item) => mine.push(item),
                                Err(GetError::ShutDown) => return mine,
                                Err(GetError::Empty) => panic!("consumer timed out"),
                            }
                        }
                    })
                })
                .collect();
            for i in 0..ITEMS {
                q.put_timeout(i, LIMIT).unwrap();
            }
            q.shutdown(false);
            consumers.into_iter().flat_map(|c| c.join().unwrap()).collect()
        });
        got.sort_unstable();
        assert_eq!(got, (0..ITEMS).collect::<Vec<_>>());
    }
}
