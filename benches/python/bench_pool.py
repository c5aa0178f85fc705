"""Python twin of benches/pool.rs: multiprocessing.Pool and ProcessPoolExecutor workloads.

Prints one JSON object per line: {"group": ..., "impl": "python", "ns_per_op": ...}; the
scaling groups add "param" (workers, or payload bytes) like the criterion ids "spindle/<n>".
Python 3.11 stdlib only. Pools are started (and warmed) outside the timed region, as in the
Rust bench. Sizes match the Rust bench unless noted; figures are per task / item either way.
"""

import json
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import Pool

from workloads import PRIME_BASE, PRIME_COUNT, best_of, count_primes, noop, ranges

WORKERS = 2
THROUGHPUT_TASKS = 20_000
MAP_ITEMS = 10_000
def payload_len(b):
    return len(b)


def emit(group, ns, **extra):
    print(json.dumps({"group": group, "impl": "python", "ns_per_op": ns, **extra}), flush=True)


def warm_executor(workers):
    ex = ProcessPoolExecutor(max_workers=workers)
    for f in [ex.submit(noop, i) for i in range(4 * workers)]:
        f.result()
    return ex


def warm_pool(workers):
    pool = Pool(workers)
    pool.map(noop, range(4 * workers), chunksize=1)
    return pool


def main():
    with warm_executor(WORKERS) as ex:
        n = 2_000

        def roundtrip():
            for i in range(n):
                ex.submit(noop, i).result()

        emit("pool_roundtrip_noop", best_of(roundtrip) / n * 1e9)

        def throughput():
            for f in [ex.submit(noop, i) for i in range(THROUGHPUT_TASKS)]:
                f.result()

        emit("pool_throughput_noop_2e4", best_of(throughput) / THROUGHPUT_TASKS * 1e9)

        for size in (64, 4 << 10, 64 << 10, 1 << 20):
            data = bytes(size)
            k = 200 if size <= 64 << 10 else 40

            def payload():
                for _ in range(k):
                    assert ex.submit(payload_len, data).result() == size

            emit("pool_scaling_payload", best_of(payload) / k * 1e9, param=size)

    with warm_pool(WORKERS) as pool:
        emit("pool_map_chunksize1",
             best_of(lambda: pool.map(noop, range(MAP_ITEMS), chunksize=1)) / MAP_ITEMS * 1e9)
        emit("pool_map_default_chunksize",
             best_of(lambda: pool.map(noop, range(MAP_ITEMS))) / MAP_ITEMS * 1e9)
        want = count_primes((PRIME_BASE, PRIME_BASE + PRIME_COUNT))

        def primes():
            assert sum(pool.map(count_primes, ranges(), chunksize=1)) == want

        emit("pool_cpu_primes", best_of(primes, repeat=1) / PRIME_COUNT * 1e9)

    for workers in (1, 2):
        with warm_pool(workers) as pool:
            emit("pool_scaling_workers",
                 best_of(lambda: sum(pool.map(count_primes, ranges(), chunksize=1)), repeat=1)
                 / PRIME_COUNT * 1e9, param=workers)


if __name__ == "__main__":
    main()
