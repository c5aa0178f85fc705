"""Python twin of benches/collections.rs: the same workloads under the same group names.

The dict groups use a plain dict guarded by a threading.Lock (the pattern ThreadSafeDict
replaces); the cache groups call a functools.lru_cache-decorated function whose keys are all
cached. Two-thread groups run two threads started together and divide the wall time by the
operations of both, as the Rust bench does.

Prints one JSON object per line: {"group": ..., "impl": "python", "ns_per_op": ...}.
Python 3.11+ stdlib only.
Usage: python3 benches/python/bench_collections.py [--quick]
"""

import functools
import json
import random
import sys
import threading
import time

QUICK = "--quick" in sys.argv
N = 40_000 if QUICK else 400_000
THREADS = 2
READ_KEYS = 4096
INSERT_KEYS = 16_384
CACHE_CAPACITY = 4096
CACHE_KEYS = 1024


def emit(group, ns, impl="python"):
    print(json.dumps({"group": group, "impl": impl, "ns_per_op": round(ns, 1)}), flush=True)


def keys_for(thread, count, key_range):
    rng = random.Random(thread + 1)
    return [rng.randrange(key_range) for _ in range(count)]


def on_threads(n, work):
    """Runs work(thread, share) on THREADS threads started together; returns ns per op.

    Each worker reads the clock itself: under the GIL the main thread may not run again
    until a worker has done much of its share, so its clock would start late."""
    share = n // THREADS
    start_line = threading.Barrier(THREADS)
    spans = [None] * THREADS

    def run(t):
        prepared = work(t, share)
        start_line.wait()
        begin = time.perf_counter()
        prepared()
        spans[t] = (begin, time.perf_counter())

    threads = [threading.Thread(target=run, args=(t,)) for t in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = max(end for _, end in spans) - min(begin for begin, _ in spans)
    return wall / (share * THREADS) * 1e9


def dict_read_heavy():
    d = {k: k for k in range(READ_KEYS)}
    lock = threading.Lock()

    def work(t, share):
        keys = keys_for(t, share, READ_KEYS)

        def go():
            for i, k in enumerate(keys):
                if i % 20 == 0:
                    with lock:
                        d[k] = i
                else:
                    with lock:
                        d.get(k)

        return go

    emit("dict_read_heavy", on_threads(N, work))


def dict_write_heavy():
    d = {k: k for k in range(READ_KEYS)}
    lock = threading.Lock()

    def work(t, share):
        keys = keys_for(t, share, READ_KEYS)

        def go():
            for i, k in enumerate(keys):
                if i % 5 == 0:
                    with lock:
                        d.get(k)
                else:
                    with lock:
                        d[k] = d.get(k, 0) + 1

        return go

    emit("dict_write_heavy", on_threads(N, work))


def dict_get_or_insert():
    d = {}
    lock = threading.Lock()

    def work(t, share):
        keys = keys_for(t, share, INSERT_KEYS)

        def go():
            for k in keys:
                with lock:
                    d.setdefault(k, k * 2)

        return go

    emit("dict_get_or_insert", on_threads(N, work))


@functools.lru_cache(maxsize=CACHE_CAPACITY)
def cached(k):
    return k


def cache_get_hit():
    for k in range(CACHE_KEYS):
        cached(k)
    keys = keys_for(0, N, CACHE_KEYS)
    start = time.perf_counter()
    for k in keys:
        cached(k)
    emit("cache_get_hit", (time.perf_counter() - start) / N * 1e9)


def cache_get_hit_2threads():
    for k in range(CACHE_KEYS):
        cached(k)

    def work(t, share):
        keys = keys_for(t, share, CACHE_KEYS)

        def go():
            for k in keys:
                cached(k)

        return go

    emit("cache_get_hit_2threads", on_threads(N, work))


def main():
    dict_read_heavy()
    dict_write_heavy()
    dict_get_or_insert()
    cache_get_hit()
    cache_get_hit_2threads()
    info = cached.cache_info()
    assert info.misses == CACHE_KEYS, info  # every timed call was a hit


if __name__ == "__main__":
    main()
