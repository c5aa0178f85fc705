//! The seeds' prime checking spread over MPI ranks: each of Python's six big candidates is one
//! task, then the primes below two million are counted in chunks; the program prints which
//! rank did what, per-rank counts and the total.
//!
//! Needs the `mpi` feature and Open MPI; run it under mpirun (rank 0 runs `main`, the other
//! ranks are the workers):
//!
//! ```text
//! cargo build --release -p spindle --features mpi --example mpi_primes
//! mpirun --oversubscribe -n 3 target/release/examples/mpi_primes
//! ```

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::Instant;

use spindle::mpi::{current_rank, MpiPoolExecutor};

const PRIMES: [u64; 6] = [
    112_272_535_095_293,
    112_582_705_942_171,
    112_272_535_095_293,
    115_280_095_190_773,
    115_797_848_077_099,
    1_099_726_899_285_419,
];

/// Primes below two million (a known value, checked at the end).
const LIMIT: u64 = 2_000_000;
const PRIMES_BELOW_LIMIT: usize = 148_933;
const CHUNK: u64 = 50_000;

/// Python's example uses trial division by odd numbers up to the square root.
fn is_prime(n: u64) -> bool {
    if n < 2 {
        return false;
    }
    if n % 2 == 0 {
        return n == 2;
    }
    let limit = (n as f64).sqrt() as u64;
    (3..=limit).step_by(2).all(|d| n % d != 0)
}

/// Whether `n` is prime, and the rank that found out.
fn check(n: u64) -> (bool, i32) {
    (is_prime(n), current_rank().unwrap_or(-1))
}

/// Primes in `[lo, hi)`, and the rank that counted them.
fn count_primes((lo, hi): (u64, u64)) -> (usize, i32) {
    (
        (lo..hi).filter(|&n| is_prime(n)).count(),
        current_rank().unwrap_or(-1),
    )
}

fn main() -> ExitCode {
    let pool = match MpiPoolExecutor::start() {
        Ok(pool) => pool,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    println!(
        "rank 0 with {} workers: {:?}",
        pool.max_workers(),
        pool.workers()
    );

    let t = Instant::now();
    let futures: Vec<_> = PRIMES.iter().map(|&n| pool.submit(check, n)).collect();
    for (n, fut) in PRIMES.iter().zip(&futures) {
        let (prime, rank) = fut.result().expect("task");
        println!("{n} is prime: {prime} (rank {rank})");
    }
    let verdicts: Vec<bool> = futures
        .iter()
        .map(|f| f.result().expect("task").0)
        .collect();
    assert_eq!(verdicts, [true, true, true, true, true, false]);
    println!("six candidates in {:?}", t.elapsed());

    let t = Instant::now();
    let ranges = (0..LIMIT)
        .step_by(CHUNK as usize)
        .map(|lo| (lo, (lo + CHUNK).min(LIMIT)));
    let mut per_rank: BTreeMap<i32, usize> = BTreeMap::new();
    for result in pool.map(count_primes, ranges, 1) {
        let (count, rank) = result.expect("chunk");
        *per_rank.entry(rank).or_default() += count;
    }
    for (rank, count) in &per_rank {
        println!("rank {rank} counted {count} primes");
    }
    let total: usize = per_rank.values().sum();
    println!("{total} primes below {LIMIT} in {:?}", t.elapsed());
    assert_eq!(total, PRIMES_BELOW_LIMIT);
    assert!(
        per_rank.keys().all(|&r| r >= 1),
        "only worker ranks run tasks"
    );
    ExitCode::SUCCESS
}
