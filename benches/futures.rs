//! concurrent.futures workloads: spindle's `ThreadPoolExecutor` beside the `threadpool` crate,
//! rayon and plain std threads. Python twin: `benches/python/bench_futures.py`.

#![allow(missing_docs)]

use std::hint::black_box;
use std::sync::mpsc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use spindle::futures::ThreadPoolExecutor;

const WORKERS: usize = 2;
const THROUGHPUT_TASKS: u64 = 100_000;
const FANOUT_TASKS: u64 = 10_000;
const SCALING_TASKS: u64 = 20_000;

fn rayon_pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("rayon pool")
}

/// A small CPU-bound task (~0.1-0.3 us): a few rounds of an integer hash.
fn small_cpu(seed: u64) -> u64 {
    let mut x = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    for _ in 0..64 {
        x ^= x >> 33;
        x = x.wrapping_mul(0xFF51_AFD7_ED55_8CCD);
    }
    x
}

/// Submits `task(i)` for each `i` in `0..n` to a spindle pool and folds the results in
/// submission order with `wrapping_add`.
fn spindle_fan_out(pool: &ThreadPoolExecutor, n: u64, task: fn(u64) -> u64) -> u64 {
    let futures: Vec<_> = (0..n).map(|i| pool.submit(move || task(i))).collect();
    futures
        .into_iter()
        .map(|f| f.into_result().unwrap())
        .fold(0u64, u64::wrapping_add)
}

/// The same fan-out on a `threadpool` pool, each task sending its result down a channel.
fn threadpool_fan_out(tp: &threadpool::ThreadPool, n: u64, task: fn(u64) -> u64) -> u64 {
    let (tx, rx) = mpsc::channel::<u64>();
    for i in 0..n {
        let tx = tx.clone();
        tp.execute(move || tx.send(task(i)).unwrap());
    }
    drop(tx);
    rx.iter().fold(0u64, u64::wrapping_add)
}

/// Submit one no-op task and wait for its result, one at a time (latency of a round trip).
fn threadpool_submit_result(c: &mut Criterion) {
    let mut g = c.benchmark_group("threadpool_submit_result");
    g.throughput(Throughput::Elements(1));

    let pool = ThreadPoolExecutor::builder().max_workers(WORKERS).build();
    g.bench_function("spindle", |b| {
        b.iter(|| pool.submit(|| black_box(1u64)).into_result().unwrap())
    });

    let tp = threadpool::ThreadPool::new(WORKERS);
    let (tx, rx) = mpsc::channel::<u64>();
    g.bench_function("threadpool", |b| {
        b.iter(|| {
            let tx = tx.clone();
            tp.execute(move || tx.send(black_box(1)).unwrap());
            rx.recv().unwrap()
        })
    });

    let rp = rayon_pool(WORKERS);
    let (ctx, crx) = crossbeam_channel::unbounded::<u64>();
    g.bench_function("rayon", |b| {
        b.iter(|| {
            let tx = ctx.clone();
            rp.spawn(move || tx.send(black_box(1)).unwrap());
            crx.recv().unwrap()
        })
    });

    g.bench_function("std", |b| {
        b.iter(|| std::thread::spawn(|| black_box(1u64)).join().unwrap())
    });
    g.finish();
}

/// Submit 10^5 no-op tasks, then wait for all of them (per-task cost under load).
fn threadpool_throughput_1e5(c: &mut Criterion) {
    let mut g = c.benchmark_group("threadpool_throughput_1e5");
    g.throughput(Throughput::Elements(THROUGHPUT_TASKS));
    g.sample_size(10);

    let pool = ThreadPoolExecutor::builder().max_workers(WORKERS).build();
    g.bench_function("spindle", |b| {
        b.iter(|| spindle_fan_out(&pool, THROUGHPUT_TASKS, black_box))
    });

    let tp = threadpool::ThreadPool::new(WORKERS);
    g.bench_function("threadpool", |b| {
        b.iter(|| threadpool_fan_out(&tp, THROUGHPUT_TASKS, black_box))
    });

    let rp = rayon_pool(WORKERS);
    g.bench_function("rayon", |b| {
        b.iter(|| {
            let (tx, rx) = crossbeam_channel::unbounded::<u64>();
            for i in 0..THROUGHPUT_TASKS {
                let tx = tx.clone();
                rp.spawn(move || tx.send(black_box(i)).unwrap());
            }
            drop(tx);
            rx.iter().sum::<u64>()
        })
    });
    g.finish();
}

/// 10^4 small CPU tasks fanned out and gathered in order.
fn fanout_cpu_1e4(c: &mut Criterion) {
    let mut g = c.benchmark_group("fanout_cpu_1e4");
    g.throughput(Throughput::Elements(FANOUT_TASKS));
    g.sample_size(20);

    let pool = ThreadPoolExecutor::builder().max_workers(WORKERS).build();
    g.bench_function("spindle", |b| {
        b.iter(|| spindle_fan_out(&pool, FANOUT_TASKS, small_cpu))
    });
    g.bench_function("spindle_map", |b| {
        b.iter(|| {
            pool.map(small_cpu, 0..FANOUT_TASKS)
                .read_ahead(256)
                .map(Result::unwrap)
                .fold(0u64, u64::wrapping_add)
        })
    });

    let rp = rayon_pool(WORKERS);
    g.bench_function("rayon", |b| {
        use rayon::prelude::*;
        b.iter(|| {
            rp.install(|| {
                (0..FANOUT_TASKS)
                    .into_par_iter()
                    .map(small_cpu)
                    .reduce(|| 0, u64::wrapping_add)
            })
        })
    });

    let tp = threadpool::ThreadPool::new(WORKERS);
    g.bench_function("threadpool", |b| {
        b.iter(|| threadpool_fan_out(&tp, FANOUT_TASKS, small_cpu))
    });
    g.finish();
}

/// The same small-CPU fan-out on pools of 1 and 2 workers.
fn threadpool_scaling_workers(c: &mut Criterion) {
    let mut g = c.benchmark_group("threadpool_scaling_workers");
    g.throughput(Throughput::Elements(SCALING_TASKS));
    g.sample_size(10);
    for workers in [1usize, 2] {
        let pool = ThreadPoolExecutor::builder().max_workers(workers).build();
        g.bench_with_input(BenchmarkId::new("spindle", workers), &workers, |b, _| {
            b.iter(|| spindle_fan_out(&pool, SCALING_TASKS, small_cpu))
        });
        let tp = threadpool::ThreadPool::new(workers);
        g.bench_with_input(BenchmarkId::new("threadpool", workers), &workers, |b, _| {
            b.iter(|| threadpool_fan_out(&tp, SCALING_TASKS, small_cpu))
        });
    }
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = benches;
    config = config();
    targets = threadpool_submit_result, threadpool_throughput_1e5, fanout_cpu_1e4,
        threadpool_scaling_workers
}
criterion_main!(benches);
