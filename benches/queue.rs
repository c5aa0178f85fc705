//! Queue benches: spindle's `Queue`/`SimpleQueue` beside crossbeam-channel, flume and std's
//! channels, per item moved. Python twin: `benches/python/bench_queue.py` (same group names).
//!
//! Groups:
//! - `queue_1p1c_bounded1024`: one producer thread, one consumer thread, bound 1024.
//! - `queue_1p1c_unbounded`: the same without a bound (`SimpleQueue` and `Queue::new(0)`).
//! - `queue_uncontended_put_get`: one thread, put then get (`spindle` is `Queue::new(1024)`,
//!   `spindle_simple` is `SimpleQueue`, `crossbeam_unbounded` its peer).
//! - `queue_scaling_producers`: 1 or 2 producers, 1 consumer, bound 1024.
//! - `queue_scaling_payload`: `Vec<u8>` payloads of 64 B .. 1 MiB circulating between two
//!   threads through two bound-1024 queues (so no allocation is timed); time per hop.
//!
//! Two-thread groups use `iter_custom`: criterion's `iters` items cross per sample, and the
//! thread start-up is a constant that criterion's slope estimate discounts.

#![allow(
    missing_docs,
    reason = "criterion_group! generates an undocumented pub fn"
)]

use std::hint::black_box;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{
    criterion_group, criterion_main, BenchmarkGroup, BenchmarkId, Criterion, Throughput,
};
use spindle::queue::{Queue, SimpleQueue};

const BOUND: usize = 1024;

/// Moves `iters` items from `producers` threads to this thread; `put`/`get` are one queue's.
fn run_mpsc<P, G>(iters: u64, producers: u64, put: P, get: G) -> Duration
where
    P: Fn(u64) + Sync,
    G: Fn() -> u64,
{
    let put = &put;
    thread::scope(|s| {
        let start = Instant::now();
        for k in 0..producers {
            // Producer `k` moves its share; the first ones take the remainder.
            let share = iters / producers + u64::from(k < iters % producers);
            s.spawn(move || {
                for i in 0..share {
                    put(i);
                }
            });
        }
        let mut sum = 0u64;
        for _ in 0..iters {
            sum = sum.wrapping_add(get());
        }
        black_box(sum);
        start.elapsed()
    })
}

fn bounded_1p1c(c: &mut Criterion) {
    let mut g = c.benchmark_group("queue_1p1c_bounded1024");
    g.throughput(Throughput::Elements(1));
    g.bench_function("spindle", |b| {
        b.iter_custom(|iters| {
            let q = Queue::new(BOUND);
            run_mpsc(iters, 1, |i| q.put(i).unwrap(), || q.get().unwrap())
        })
    });
    g.bench_function("crossbeam", |b| {
        b.iter_custom(|iters| {
            let (tx, rx) = crossbeam_channel::bounded(BOUND);
            run_mpsc(iters, 1, |i| tx.send(i).unwrap(), || rx.recv().unwrap())
        })
    });
    g.bench_function("flume", |b| {
        b.iter_custom(|iters| {
            let (tx, rx) = flume::bounded(BOUND);
            run_mpsc(iters, 1, |i| tx.send(i).unwrap(), || rx.recv().unwrap())
        })
    });
    g.bench_function("std_sync_channel", |b| {
        b.iter_custom(|iters| {
            let (tx, rx) = mpsc::sync_channel(BOUND);
            run_mpsc(iters, 1, |i| tx.send(i).unwrap(), || rx.recv().unwrap())
        })
    });
    g.finish();
}

fn unbounded_1p1c(c: &mut Criterion) {
    let mut g = c.benchmark_group("queue_1p1c_unbounded");
    g.throughput(Throughput::Elements(1));
    g.bench_function("spindle", |b| {
        b.iter_custom(|iters| {
            let q = SimpleQueue::new();
            run_mpsc(iters, 1, |i| q.put(i), || q.get().unwrap())
        })
    });
    g.bench_function("spindle_queue", |b| {
        b.iter_custom(|iters| {
            let q = Queue::new(0);
            run_mpsc(iters, 1, |i| q.put(i).unwrap(), || q.get().unwrap())
        })
    });
    g.bench_function("crossbeam", |b| {
        b.iter_custom(|iters| {
            let (tx, rx) = crossbeam_channel::unbounded();
            run_mpsc(iters, 1, |i| tx.send(i).unwrap(), || rx.recv().unwrap())
        })
    });
    g.bench_function("flume", |b| {
        b.iter_custom(|iters| {
            let (tx, rx) = flume::unbounded();
            run_mpsc(iters, 1, |i| tx.send(i).unwrap(), || rx.recv().unwrap())
        })
    });
    g.bench_function("std", |b| {
        b.iter_custom(|iters| {
            let (tx, rx) = mpsc::channel();
            run_mpsc(iters, 1, |i| tx.send(i).unwrap(), || rx.recv().unwrap())
        })
    });
    g.finish();
}

/// Benches one thread putting an item and taking it back, as `name` in `g`.
fn put_get(
    g: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    put: impl Fn(u64),
    get: impl Fn() -> u64,
) {
    g.bench_function(name, |b| {
        b.iter(|| {
            put(black_box(1u64));
            get()
        })
    });
}

fn uncontended_put_get(c: &mut Criterion) {
    let mut g = c.benchmark_group("queue_uncontended_put_get");
    g.throughput(Throughput::Elements(1));
    let q = Queue::new(BOUND);
    put_get(
        &mut g,
        "spindle",
        |v| q.put(v).unwrap(),
        || q.get().unwrap(),
    );
    let sq = SimpleQueue::new();
    put_get(
        &mut g,
        "spindle_simple",
        |v| sq.put(v),
        || sq.get().unwrap(),
    );
    let (tx, rx) = crossbeam_channel::bounded(BOUND);
    put_get(
        &mut g,
        "crossbeam",
        |v| tx.send(v).unwrap(),
        || rx.recv().unwrap(),
    );
    let (tx, rx) = crossbeam_channel::unbounded();
    put_get(
        &mut g,
        "crossbeam_unbounded",
        |v| tx.send(v).unwrap(),
        || rx.recv().unwrap(),
    );
    let (tx, rx) = flume::bounded(BOUND);
    put_get(
        &mut g,
        "flume",
        |v| tx.send(v).unwrap(),
        || rx.recv().unwrap(),
    );
    let (tx, rx) = mpsc::sync_channel(BOUND);
    put_get(
        &mut g,
        "std_sync_channel",
        |v| tx.send(v).unwrap(),
        || rx.recv().unwrap(),
    );
    let m = parking_lot::Mutex::new(std::collections::VecDeque::with_capacity(BOUND));
    put_get(
        &mut g,
        "parking_lot",
        |v| m.lock().push_back(v),
        || m.lock().pop_front().unwrap(),
    );
    g.finish();
}

fn scaling_producers(c: &mut Criterion) {
    let mut g = c.benchmark_group("queue_scaling_producers");
    g.throughput(Throughput::Elements(1));
    for producers in [1u64, 2] {
        g.bench_with_input(
            BenchmarkId::new("spindle", producers),
            &producers,
            |b, &p| {
                b.iter_custom(|iters| {
                    let q = Queue::new(BOUND);
                    run_mpsc(iters, p, |i| q.put(i).unwrap(), || q.get().unwrap())
                })
            },
        );
        g.bench_with_input(
            BenchmarkId::new("crossbeam", producers),
            &producers,
            |b, &p| {
                b.iter_custom(|iters| {
                    let (tx, rx) = crossbeam_channel::bounded(BOUND);
                    run_mpsc(iters, p, |i| tx.send(i).unwrap(), || rx.recv().unwrap())
                })
            },
        );
    }
    g.finish();
}

/// Circulates `SPARE` buffers of `size` bytes: the producer takes one from `back`, puts it on
/// `out`; the consumer touches it and returns it. Returns the time for `iters` hops of `out`.
fn circulate<PO, GO, PB, GB>(
    iters: u64,
    size: usize,
    put_out: PO,
    get_out: GO,
    put_back: PB,
    get_back: GB,
) -> Duration
where
    PO: Fn(Vec<u8>) + Sync,
    GO: Fn() -> Vec<u8>,
    PB: Fn(Vec<u8>),
    GB: Fn() -> Vec<u8> + Sync,
{
    const SPARE: usize = 64;
    for _ in 0..SPARE {
        put_back(vec![0u8; size]);
    }
    let elapsed = thread::scope(|s| {
        let start = Instant::now();
        s.spawn(|| {
            for _ in 0..iters {
                put_out(get_back());
            }
        });
        for _ in 0..iters {
            let mut buf = get_out();
            buf[0] = buf[0].wrapping_add(1);
            put_back(buf);
        }
        start.elapsed()
    });
    for _ in 0..SPARE {
        drop(get_back());
    }
    elapsed
}

fn scaling_payload(c: &mut Criterion) {
    let mut g = c.benchmark_group("queue_scaling_payload");
    g.throughput(Throughput::Elements(1));
    for size in [64usize, 4 << 10, 64 << 10, 1 << 20] {
        g.bench_with_input(BenchmarkId::new("spindle", size), &size, |b, &size| {
            b.iter_custom(|iters| {
                let out = Queue::new(BOUND);
                let back = Queue::new(BOUND);
                circulate(
                    iters,
                    size,
                    |v| out.put(v).unwrap(),
                    || out.get().unwrap(),
                    |v| back.put(v).unwrap(),
                    || back.get().unwrap(),
                )
            })
        });
        g.bench_with_input(BenchmarkId::new("crossbeam", size), &size, |b, &size| {
            b.iter_custom(|iters| {
                let (out_tx, out_rx) = crossbeam_channel::bounded(BOUND);
                let (back_tx, back_rx) = crossbeam_channel::bounded(BOUND);
                circulate(
                    iters,
                    size,
                    |v| out_tx.send(v).unwrap(),
                    || out_rx.recv().unwrap(),
                    |v| back_tx.send(v).unwrap(),
                    || back_rx.recv().unwrap(),
                )
            })
        });
    }
    g.finish();
}

criterion_group!(
    benches,
    bounded_1p1c,
    unbounded_1p1c,
    uncontended_put_get,
    scaling_producers,
    scaling_payload
);
criterion_main!(benches);
