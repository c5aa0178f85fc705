//! Stress: N producers x M consumers on small bounds so that both sides park and wake, every
//! item received exactly once; shutdown racing with puts never strands an accepted item; and
//! `task_done`/`join` under contention. Counts are named constants sized for two cores; every
//! blocking call uses its timeout form so a bug fails instead of hanging.

#[macro_use]
mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Barrier;
use std::thread;
use std::time::Duration;

use spindle_sync::queue::{GetError, PutError, SimpleQueue};

const PRODUCERS: usize = 3;
const CONSUMERS: usize = 3;
const ITEMS_PER_PRODUCER: usize = 10_000;
const TOTAL: usize = PRODUCERS * ITEMS_PER_PRODUCER;
// Each consumer takes an equal share.
const _: () = assert!(TOTAL % CONSUMERS == 0);
// The short-timeout test splits a tenth of the items evenly both ways.
const _: () = assert!((TOTAL / 10 / CONSUMERS * CONSUMERS) % PRODUCERS == 0);
const ROUNDS: usize = 20;
const LIMIT: Duration = Duration::from_secs(20);

/// Checks that `received` holds each of `0..TOTAL` exactly once.
fn assert_exactly_once(received: impl IntoIterator<Item = usize>, accepted: &[bool]) {
    let mut seen = vec![false; accepted.len()];
    for item in received {
        assert!(!seen[item], "item {item} received twice");
        seen[item] = true;
    }
    for (item, (&got, &put)) in seen.iter().zip(accepted).enumerate() {
        assert_eq!(got, put, "item {item}: accepted {put}, received {got}");
    }
}

/// Checks that `received` holds exactly once each item of `accepted` (the items puts took
/// before a shutdown), and nothing else.
fn assert_accepted_exactly_once(accepted: Vec<usize>, received: Vec<usize>) {
    let mut put = vec![false; TOTAL];
    for item in accepted {
        put[item] = true;
    }
    assert_exactly_once(received, &put);
}

/// The consumer of a shutdown race: `get`s until the queue reports it is shut down, calling
/// `shutdown` itself once it holds `shutdown_after` items (while producers are mid-put), and
/// returns what it received. A `get` that times out fails the test.
fn consume_until_shut_down(
    shutdown_after: usize,
    mut get: impl FnMut() -> Result<usize, GetError>,
    shutdown: impl Fn(),
) -> Vec<usize> {
    let mut got = Vec::new();
    loop {
        match get() {
            Ok(item) => {
                got.push(item);
                if got.len() == shutdown_after {
                    shutdown();
                }
            }
            Err(GetError::ShutDown) => return got,
            Err(GetError::Empty) => panic!("get timed out"),
        }
    }
}

for_each_kind! {
    fn producers_and_consumers(maxsize: usize) {
        let q = Q::new(maxsize);
        let received: Vec<usize> = thread::scope(|s| {
            for p in 0..PRODUCERS {
                let q = &q;
                s.spawn(move || {
                    for i in 0..ITEMS_PER_PRODUCER {
                        q.put_timeout(p * ITEMS_PER_PRODUCER + i, LIMIT).unwrap();
                    }
                });
            }
            let consumers: Vec<_> = (0..CONSUMERS)
                .map(|_| {
                    let q = &q;
                    let share = TOTAL / CONSUMERS;
                    s.spawn(move || (0..share).map(|_| q.get_timeout(LIMIT).unwrap()).collect::<Vec<_>>())
                })
                .collect();
            consumers.into_iter().flat_map(|c| c.join().unwrap()).collect()
        });
        assert_exactly_once(received, &vec![true; TOTAL]);
        assert!(q.empty());
        assert_eq!(q.unfinished_tasks(), TOTAL as u64);
    }

    #[test]
    fn stress_mpmc_bound_1() {
        producers_and_consumers(1);
    }

    #[test]
    fn stress_mpmc_bound_7() {
        producers_and_consumers(7);
    }

    #[test]
    fn stress_mpmc_unbounded() {
        producers_and_consumers(0);
    }

    #[test]
    fn stress_short_timeouts_racing_wake_ups() {
        // Waits time out while puts and gets wake them: a wake-up that lands on a waiter that
        // is just giving up must not be lost (the retries would stall until LIMIT).
        const SHORT: Duration = Duration::from_micros(50);
        let q = Q::new(2);
        let deadline = std::time::Instant::now() + LIMIT;
        let per_consumer = TOTAL / 10 / CONSUMERS;
        let received: Vec<usize> = thread::scope(|s| {
            for p in 0..PRODUCERS {
                let q = &q;
                s.spawn(move || {
                    for i in 0..per_consumer * CONSUMERS / PRODUCERS {
                        let mut item = p * ITEMS_PER_PRODUCER + i;
                        loop {
                            match q.put_timeout(item, SHORT) {
                                Ok(()) => break,
                                Err(e) => item = e.into_inner(),
                            }
                            assert!(std::time::Instant::now() < deadline, "producer stalled");
                        }
                    }
                });
            }
            let consumers: Vec<_> = (0..CONSUMERS)
                .map(|_| {
                    let q = &q;
                    s.spawn(move || {
                        let mut got = Vec::new();
                        while got.len() < per_consumer {
                            match q.get_timeout(SHORT) {
                                Ok(item) => got.push(item),
                                Err(GetError::Empty) => {
                                    assert!(std::time::Instant::now() < deadline, "consumer stalled");
                                }
                                Err(GetError::ShutDown) => panic!("not shut down"),
                            }
                        }
                        got
                    })
                })
                .collect();
            consumers.into_iter().flat_map(|c| c.join().unwrap()).collect()
        });
        let mut expected = vec![false; TOTAL];
        for p in 0..PRODUCERS {
            for i in 0..per_consumer * CONSUMERS / PRODUCERS {
                expected[p * ITEMS_PER_PRODUCER + i] = true;
            }
        }
        assert_exactly_once(received, &expected);
    }

    #[test]
    fn stress_shutdown_racing_puts_strands_nothing() {
        for round in 0..ROUNDS {
            let q = Q::new(4);
            let start = Barrier::new(PRODUCERS + 1);
            let (accepted, received) = thread::scope(|s| {
                let producers: Vec<_> = (0..PRODUCERS)
                    .map(|p| {
                        let (q, start) = (&q, &start);
                        s.spawn(move || {
                            start.wait();
                            let mut ok = Vec::new();
                            for i in 0..ITEMS_PER_PRODUCER / 10 {
                                let item = p * ITEMS_PER_PRODUCER + i;
                                match q.put_timeout(item, LIMIT) {
                                    Ok(()) => ok.push(item),
                                    Err(PutError::ShutDown(back)) => {
                                        assert_eq!(back, item);
                                        break;
                                    }
                                    Err(PutError::Full(_)) => panic!("put timed out"),
                                }
                            }
                            ok
                        })
                    })
                    .collect();
                let consumer = s.spawn(|| {
                    consume_until_shut_down(
                        50 + round * 20,
                        || q.get_timeout(LIMIT),
                        || q.shutdown(false),
                    )
                });
                start.wait();
                let accepted: Vec<usize> =
                    producers.into_iter().flat_map(|p| p.join().unwrap()).collect();
                (accepted, consumer.join().unwrap())
            });
            assert_accepted_exactly_once(accepted, received);
        }
    }

    #[test]
    fn stress_immediate_shutdown_releases_join() {
        static DROPPED: AtomicUsize = AtomicUsize::new(0);
        #[derive(PartialEq, Eq, PartialOrd, Ord)]
        struct Counted(usize);
        impl Drop for Counted {
            fn drop(&mut self) {
                DROPPED.fetch_add(1, Ordering::Relaxed);
            }
        }
        for _ in 0..ROUNDS {
            DROPPED.store(0, Ordering::Relaxed);
            let q = Q::new(8);
            let accepted = AtomicUsize::new(0);
            let refused = AtomicUsize::new(0);
            let done = AtomicUsize::new(0);
            thread::scope(|s| {
                for _ in 0..PRODUCERS {
                    s.spawn(|| {
                        for i in 0..ITEMS_PER_PRODUCER / 10 {
                            if q.put_timeout(Counted(i), LIMIT).is_err() {
                                // The refused item came back inside the error and is dropped.
                                refused.fetch_add(1, Ordering::Relaxed);
                                break;
                            }
                            accepted.fetch_add(1, Ordering::Relaxed);
                        }
                    });
                }
                s.spawn(|| {
                    let mut n = 0;
                    while let Ok(item) = q.get_timeout(LIMIT) {
                        drop(item);
                        q.task_done().unwrap();
                        done.fetch_add(1, Ordering::Relaxed);
                        n += 1;
                        if n == 100 {
                            q.shutdown(true);
                        }
                    }
                });
                assert!(q.join_timeout(LIMIT), "join stuck after an immediate shutdown");
            });
            // Every accepted item was either processed or dropped by the shutdown.
            assert!(q.join_timeout(Duration::ZERO));
            assert_eq!(
                DROPPED.load(Ordering::Relaxed),
                accepted.load(Ordering::Relaxed) + refused.load(Ordering::Relaxed)
            );
            assert!(done.load(Ordering::Relaxed) >= 100);
        }
    }
}

#[test]
fn stress_simple_queue_mpmc() {
    let q = SimpleQueue::new();
    let received: Vec<usize> = thread::scope(|s| {
        for p in 0..PRODUCERS {
            let q = &q;
            s.spawn(move || {
                for i in 0..ITEMS_PER_PRODUCER {
                    q.put(p * ITEMS_PER_PRODUCER + i);
                }
            });
        }
        let consumers: Vec<_> = (0..CONSUMERS)
            .map(|_| {
                let q = &q;
                let share = TOTAL / CONSUMERS;
                s.spawn(move || {
                    (0..share)
                        .map(|_| q.get_timeout(LIMIT).unwrap())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        consumers
            .into_iter()
            .flat_map(|c| c.join().unwrap())
            .collect()
    });
    assert_exactly_once(received, &vec![true; TOTAL]);
}

#[test]
fn stress_simple_queue_shutdown_racing_puts() {
    for round in 0..ROUNDS {
        let q = SimpleQueue::new();
        let (accepted, received) = thread::scope(|s| {
            let producers: Vec<_> = (0..PRODUCERS)
                .map(|p| {
                    let q = &q;
                    s.spawn(move || {
                        let mut ok = Vec::new();
                        for i in 0..ITEMS_PER_PRODUCER / 10 {
                            let item = p * ITEMS_PER_PRODUCER + i;
                            if q.try_put(item).is_err() {
                                break;
                            }
                            ok.push(item);
                        }
                        ok
                    })
                })
                .collect();
            let consumer = s.spawn(|| {
                consume_until_shut_down(
                    10 + round * 30,
                    || q.get_timeout(LIMIT),
                    || q.shutdown(false),
                )
            });
            let accepted: Vec<usize> = producers
                .into_iter()
                .flat_map(|p| p.join().unwrap())
                .collect();
            // If the producers finished before the consumer's trigger, shut down here.
            q.shutdown(false);
            (accepted, consumer.join().unwrap())
        });
        assert_accepted_exactly_once(accepted, received);
    }
}
