//! Sums `i * i` for `i < N` five ways on a `ThreadPoolExecutor` and prints a timing table:
//! one loop in the main thread, one `submit` per chunk, `map` over every number (one task per
//! item, the per-task cost made visible; with the default read-ahead of `2 x max_workers` the
//! stream waits for each hand-off, with a deeper read-ahead it pipelines), and `map` over
//! chunks (Python's `chunksize` done by hand). All results must agree.

use std::hint::black_box;
use std::time::{Duration, Instant};

use spindle::futures::{Future, ThreadPoolExecutor};

const N: u64 = 200_000;
const CHUNK: u64 = 10_000;

fn square_sum(range: std::ops::Range<u64>) -> u64 {
    // black_box keeps the compiler from replacing the loop by its closed form.
    range
        .map(|i| black_box(i).wrapping_mul(i))
        .fold(0, u64::wrapping_add)
}

fn chunks() -> impl Iterator<Item = std::ops::Range<u64>> {
    (0..N)
        .step_by(CHUNK as usize)
        .map(|s| s..(s + CHUNK).min(N))
}

fn timed(f: impl FnOnce() -> u64) -> (u64, Duration) {
    let start = Instant::now();
    let value = f();
    (value, start.elapsed())
}

fn main() {
    let pool = ThreadPoolExecutor::builder()
        .max_workers(2)
        .thread_name_prefix("sum")
        .build();

    let rows: Vec<(&str, u64, (u64, Duration))> = vec![
        ("sequential", 1, timed(|| square_sum(0..N))),
        (
            "submit per chunk",
            N / CHUNK,
            timed(|| {
                let futures: Vec<Future<u64>> = chunks()
                    .map(|r| pool.submit(move || square_sum(r)))
                    .collect();
                futures
                    .into_iter()
                    .map(|f| f.into_result().expect("chunk task"))
                    .fold(0, u64::wrapping_add)
            }),
        ),
        (
            "map per item",
            N,
            timed(|| {
                pool.map(|i: u64| i.wrapping_mul(i), 0..N)
                    .map(|r| r.expect("item task"))
                    .fold(0, u64::wrapping_add)
            }),
        ),
        (
            "map per item, ra 256",
            N,
            timed(|| {
                pool.map(|i: u64| i.wrapping_mul(i), 0..N)
                    .read_ahead(256)
                    .map(|r| r.expect("item task"))
                    .fold(0, u64::wrapping_add)
            }),
        ),
        (
            "map per chunk",
            N / CHUNK,
            timed(|| {
                pool.map(square_sum, chunks())
                    .map(|r| r.expect("chunk task"))
                    .fold(0, u64::wrapping_add)
            }),
        ),
    ];

    println!("sum of i*i for i < {N} on {} workers", pool.max_workers());
    println!(
        "{:<22} {:>8} {:>12} {:>14}  result",
        "method", "tasks", "time", "per task"
    );
    for (name, tasks, (value, took)) in &rows {
        let per_task = took.as_nanos() as f64 / *tasks as f64;
        println!("{name:<22} {tasks:>8} {took:>12.2?} {per_task:>11.0} ns  {value}");
    }

    let expected = rows[0].2 .0;
    for (name, _, (value, _)) in &rows {
        assert_eq!(*value, expected, "{name} disagrees");
    }
    pool.shutdown(true, false);
    println!("all {} methods agree", rows.len());
}
