//! Counting primes with a process pool and with a thread pool, timing both: Python's
//! classic `ProcessPoolExecutor` prime-checking example, plus `Pool.map` on the same work.
//!
//! Run with `cargo run --release -p spindle --example prime_pool`.

use spindle::futures::ThreadPoolExecutor;
use spindle::multiprocessing::pool::{Pool, ProcessPoolExecutor};
use std::time::Instant;

const PRIMES: [u64; 6] = [
    112_272_535_095_293,
    112_582_705_942_171,
    112_272_535_095_293,
    115_280_095_190_773,
    115_797_848_077_099,
    1_099_726_899_285_419,
];

/// Python's example uses trial division by odd numbers up to the square root.
fn is_prime(n: u64) -> bool {
    if n < 2 {
        return false;
    }
    if n % 2 == 0 {
        return n == 2;
    }
    let limit = (n as f64).sqrt() as u64;
    let mut d = 3;
    while d <= limit {
        if n % d == 0 {
            return false;
        }
        d += 2;
    }
    true
}

/// Primes in `[lo, hi)`.
fn count_primes((lo, hi): (u64, u64)) -> usize {
    (lo..hi).filter(|&n| is_prime(n)).count()
}

fn main() {
    spindle::multiprocessing::init();
    let workers = spindle::multiprocessing::cpu_count().max(2);
    let want = [true, true, true, true, true, false];

    let t = Instant::now();
    let processes = ProcessPoolExecutor::builder().max_workers(workers).build();
    let by_process: Vec<bool> = processes
        .map(is_prime, PRIMES, 1)
        .map(Result::unwrap)
        .collect();
    println!(
        "process pool ({workers} workers): {:?} in {:?}",
        by_process,
        t.elapsed()
    );
    assert_eq!(by_process, want);

    let t = Instant::now();
    let threads = ThreadPoolExecutor::builder().max_workers(workers).build();
    let by_thread: Vec<bool> = threads.map(is_prime, PRIMES).map(Result::unwrap).collect();
    println!(
        "thread pool  ({workers} workers): {:?} in {:?}",
        by_thread,
        t.elapsed()
    );
    assert_eq!(by_thread, want);

    // Pool.map over ranges, checked against a serial count.
    let ranges: Vec<(u64, u64)> = (0..16)
        .map(|i| (1_000_000 + i * 25_000, 1_000_000 + (i + 1) * 25_000))
        .collect();
    let t = Instant::now();
    let serial: usize = ranges.iter().copied().map(count_primes).sum();
    let serial_time = t.elapsed();
    let pool = Pool::new(workers);
    pool.apply(count_primes, (0, 10)).unwrap(); // start the workers before timing
    let t = Instant::now();
    let parallel: usize = pool
        .map(count_primes, ranges, Some(1))
        .unwrap()
        .into_iter()
        .sum();
    let parallel_time = t.elapsed();
    println!(
        "primes in [1e6, 1.4e6): {parallel} (serial {serial_time:?}, Pool.map {parallel_time:?})"
    );
    assert_eq!(parallel, serial);
    pool.close();
    pool.join().unwrap();
    processes.shutdown(true, false);
}
