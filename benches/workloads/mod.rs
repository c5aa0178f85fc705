//! Workloads shared by the pool benches (`pool.rs`, `mpi.rs`), so both measure the same work;
//! `python/workloads.py` is the Python side.

use spindle::multiprocessing::pool::ProcessPoolExecutor;

/// Numbers checked for primality in the CPU-bound groups, from `PRIME_BASE`.
pub(crate) const PRIME_COUNT: u64 = 40_000;
pub(crate) const PRIME_BASE: u64 = 10_000_000;
/// Chunks (tasks) the prime range is split into.
pub(crate) const PRIME_CHUNKS: u64 = 16;

/// The no-op task.
pub(crate) fn noop(_: u64) -> u64 {
    0
}

/// Trial division, as the Python twins do it.
pub(crate) fn is_prime(n: u64) -> bool {
    if n < 2 {
        return false;
    }
    let mut d = 2;
    while d * d <= n {
        if n.is_multiple_of(d) {
            return false;
        }
        d += 1;
    }
    true
}

/// Primes in `[lo, hi)`.
pub(crate) fn count_primes((lo, hi): (u64, u64)) -> u64 {
    (lo..hi).filter(|&n| is_prime(n)).count() as u64
}

/// The prime range split into `PRIME_CHUNKS` tasks.
pub(crate) fn ranges() -> Vec<(u64, u64)> {
    let step = PRIME_COUNT / PRIME_CHUNKS;
    (0..PRIME_CHUNKS)
        .map(|i| (PRIME_BASE + i * step, PRIME_BASE + (i + 1) * step))
        .collect()
}

/// A process pool whose workers have started (outside the measurement).
pub(crate) fn warm_executor(workers: usize) -> ProcessPoolExecutor {
    let ex = ProcessPoolExecutor::builder().max_workers(workers).build();
    for f in (0..4 * workers as u64)
        .map(|i| ex.submit(noop, i))
        .collect::<Vec<_>>()
    {
        f.into_result().unwrap();
    }
    ex
}
