"""Workloads shared by bench_pool.py and bench_mpi.py (the twins of benches/workloads/mod.rs),
so both measure the same work as the Rust benches."""

import time

PRIME_COUNT = 40_000
PRIME_BASE = 10_000_000
PRIME_CHUNKS = 16


def noop(x=None):
    return 0


def is_prime(n):
    if n < 2:
        return False
    d = 2
    while d * d <= n:
        if n % d == 0:
            return False
        d += 1
    return True


def count_primes(bounds):
    lo, hi = bounds
    return sum(1 for n in range(lo, hi) if is_prime(n))


def ranges():
    step = PRIME_COUNT // PRIME_CHUNKS
    return [(PRIME_BASE + i * step, PRIME_BASE + (i + 1) * step) for i in range(PRIME_CHUNKS)]


def best_of(fn, repeat=3):
    best = None
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        elapsed = time.perf_counter() - start
        best = elapsed if best is None else min(best, elapsed)
    return best
