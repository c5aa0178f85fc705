"""Python twin of benches/futures.rs: concurrent.futures.ThreadPoolExecutor workloads.

Prints one JSON object per line: {"group": ..., "impl": "python", "ns_per_op": ...}.
Python 3.11 stdlib only. Sizes are smaller than the Rust benches' where Python is slow; the
figure is per task either way.
"""

import json
import time
from concurrent.futures import ThreadPoolExecutor

WORKERS = 2


def noop(x=None):
    return x


def small_cpu(seed):
    # The Rust bench's 64 rounds of an integer hash, in Python arithmetic.
    mask = (1 << 64) - 1
    x = (seed + 0x9E3779B97F4A7C15) & mask
    for _ in range(64):
        x ^= x >> 33
        x = (x * 0xFF51AFD7ED558CCD) & mask
    return x


def per_op(fn, n, repeat=3):
    best = None
    for _ in range(repeat):
        start = time.perf_counter()
        fn(n)
        elapsed = time.perf_counter() - start
        best = elapsed if best is None else min(best, elapsed)
    return best / n * 1e9


def submit_result(n):
    with ThreadPoolExecutor(max_workers=WORKERS) as ex:
        for i in range(n):
            ex.submit(noop, i).result()


def throughput(n):
    with ThreadPoolExecutor(max_workers=WORKERS) as ex:
        fs = [ex.submit(noop, i) for i in range(n)]
        for f in fs:
            f.result()


def fanout_cpu(n):
    with ThreadPoolExecutor(max_workers=WORKERS) as ex:
        sum(ex.map(small_cpu, range(n)))


def scaling(workers):
    def run(n):
        with ThreadPoolExecutor(max_workers=workers) as ex:
            fs = [ex.submit(small_cpu, i) for i in range(n)]
            for f in fs:
                f.result()
    return run


def emit(group, ns, **extra):
    print(json.dumps({"group": group, "impl": "python", "ns_per_op": round(ns, 1), **extra}))


def main():
    emit("threadpool_submit_result", per_op(submit_result, 20_000))
    emit("threadpool_throughput_1e5", per_op(throughput, 100_000))
    emit("fanout_cpu_1e4", per_op(fanout_cpu, 10_000))
    for workers in (1, 2):
        emit("threadpool_scaling_workers", per_op(scaling(workers), 20_000), workers=workers)


if __name__ == "__main__":
    main()
