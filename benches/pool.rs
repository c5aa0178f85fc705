//! Process pools: spindle's `ProcessPoolExecutor` / `Pool` against rayon (threads) and a serial
//! loop, on the workloads of `python/bench_pool.py`.
//!
//! `main` is written by hand because this binary is also the pool's worker: it must call
//! `spindle::multiprocessing::init()` before criterion looks at the arguments.

use criterion::{BenchmarkId, Criterion, Throughput};
use spindle::multiprocessing::pool::{ByteBuf, Pool};
use std::hint::black_box;
use std::time::Duration;

mod workloads;
use workloads::{count_primes, noop, ranges, warm_executor as executor, PRIME_BASE, PRIME_COUNT};

/// Tasks in the throughput group (Python's reference figure is for 2 x 10^4).
const THROUGHPUT_TASKS: u64 = 20_000;
/// Items in the map groups.
const MAP_ITEMS: u64 = 10_000;
fn payload_len(v: Vec<u8>) -> usize {
    v.len()
}

fn bytebuf_len(v: ByteBuf) -> usize {
    v.len()
}

fn warm_pool(workers: usize) -> Pool {
    let pool = Pool::new(workers);
    pool.map(noop, 0..4 * workers as u64, Some(1)).unwrap();
    pool
}

fn rayon_pool(workers: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(workers)
        .build()
        .unwrap()
}

fn roundtrip(c: &mut Criterion) {
    let mut g = c.benchmark_group("pool_roundtrip_noop");
    let ex = executor(2);
    g.bench_function("spindle", |b| {
        b.iter(|| ex.submit(noop, black_box(1)).into_result().unwrap())
    });
    let rp = rayon_pool(2);
    g.bench_function("rayon", |b| b.iter(|| rp.install(|| noop(black_box(1)))));
    g.finish();
}

fn throughput(c: &mut Criterion) {
    let mut g = c.benchmark_group("pool_throughput_noop_2e4");
    g.sample_size(10)
        .throughput(Throughput::Elements(THROUGHPUT_TASKS));
    let ex = executor(2);
    g.bench_function("spindle", |b| {
        b.iter(|| {
            let futs: Vec<_> = (0..THROUGHPUT_TASKS).map(|i| ex.submit(noop, i)).collect();
            futs.into_iter()
                .map(|f| f.into_result().unwrap())
                .sum::<u64>()
        })
    });
    let rp = rayon_pool(2);
    g.bench_function("rayon", |b| {
        b.iter(|| {
            let (tx, rx) = std::sync::mpsc::channel();
            for i in 0..THROUGHPUT_TASKS {
                let tx = tx.clone();
                rp.spawn(move || tx.send(noop(i)).unwrap());
            }
            drop(tx);
            rx.iter().sum::<u64>()
        })
    });
    g.finish();
}

fn map_chunksize1(c: &mut Criterion) {
    let mut g = c.benchmark_group("pool_map_chunksize1");
    g.sample_size(10)
        .throughput(Throughput::Elements(MAP_ITEMS));
    let pool = warm_pool(2);
    g.bench_function("spindle", |b| {
        b.iter(|| pool.map(noop, 0..MAP_ITEMS, Some(1)).unwrap())
    });
    g.finish();
}

fn map_default(c: &mut Criterion) {
    use rayon::prelude::*;
    let mut g = c.benchmark_group("pool_map_default_chunksize");
    g.sample_size(10)
        .throughput(Throughput::Elements(MAP_ITEMS));
    let pool = warm_pool(2);
    g.bench_function("spindle", |b| {
        b.iter(|| pool.map(noop, 0..MAP_ITEMS, None).unwrap())
    });
    let rp = rayon_pool(2);
    g.bench_function("rayon", |b| {
        b.iter(|| rp.install(|| (0..MAP_ITEMS).into_par_iter().map(noop).collect::<Vec<_>>()))
    });
    g.finish();
}

fn cpu_primes(c: &mut Criterion) {
    use rayon::prelude::*;
    let mut g = c.benchmark_group("pool_cpu_primes");
    g.sample_size(10)
        .throughput(Throughput::Elements(PRIME_COUNT));
    let want = count_primes((PRIME_BASE, PRIME_BASE + PRIME_COUNT));
    let pool = warm_pool(2);
    g.bench_function("spindle", |b| {
        b.iter(|| {
            assert_eq!(
                pool.map(count_primes, ranges(), Some(1))
                    .unwrap()
                    .iter()
                    .sum::<u64>(),
                want
            )
        })
    });
    let rp = rayon_pool(2);
    g.bench_function("rayon", |b| {
        b.iter(|| {
            assert_eq!(
                rp.install(|| ranges().into_par_iter().map(count_primes).sum::<u64>()),
                want
            )
        })
    });
    g.bench_function("serial", |b| {
        b.iter(|| assert_eq!(ranges().into_iter().map(count_primes).sum::<u64>(), want))
    });
    g.finish();
}

fn scaling_workers(c: &mut Criterion) {
    let mut g = c.benchmark_group("pool_scaling_workers");
    g.sample_size(10)
        .throughput(Throughput::Elements(PRIME_COUNT));
    for workers in [1usize, 2] {
        let pool = warm_pool(workers);
        g.bench_with_input(BenchmarkId::new("spindle", workers), &workers, |b, _| {
            b.iter(|| {
                pool.map(count_primes, ranges(), Some(1))
                    .unwrap()
                    .iter()
                    .sum::<u64>()
            })
        });
    }
    g.finish();
}

fn scaling_payload(c: &mut Criterion) {
    let mut g = c.benchmark_group("pool_scaling_payload");
    let ex = executor(2);
    for size in [64usize, 4 << 10, 64 << 10, 1 << 20] {
        g.throughput(Throughput::Bytes(size as u64));
        // The idiomatic byte payload: `ByteBuf` (serde_bytes) moves as one copy.
        let buf = ByteBuf::from(vec![7u8; size]);
        g.bench_with_input(BenchmarkId::new("spindle", size), &buf, |b, buf| {
            b.iter(|| {
                assert_eq!(
                    ex.submit(bytebuf_len, buf.clone()).into_result().unwrap(),
                    size
                )
            })
        });
        // A plain `Vec<u8>`: serde moves it one byte at a time.
        let data = vec![7u8; size];
        g.bench_with_input(
            BenchmarkId::new("spindle_plain_vec", size),
            &data,
            |b, data| {
                b.iter(|| {
                    assert_eq!(
                        ex.submit(payload_len, data.clone()).into_result().unwrap(),
                        size
                    )
                })
            },
        );
    }
    g.finish();
}

fn main() {
    spindle::multiprocessing::init();
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    roundtrip(&mut c);
    throughput(&mut c);
    map_chunksize1(&mut c);
    map_default(&mut c);
    cpu_primes(&mut c);
    scaling_workers(&mut c);
    scaling_payload(&mut c);
    c.final_summary();
}
