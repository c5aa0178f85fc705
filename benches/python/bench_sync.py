"""Python twin of benches/sync.rs: the same threading workloads under the same group names.

Prints one JSON object per line: {"group": ..., "impl": "python", "ns_per_op": ...}.
Python 3.11+ stdlib only.
Usage: python3 benches/python/bench_sync.py [--quick]
"""

import json
import sys
import threading
import time

QUICK = "--quick" in sys.argv
N = 100_000 if QUICK else 1_000_000
N_CONTENDED = 20_000 if QUICK else 200_000


def emit(group, ns):
    print(json.dumps({"group": group, "impl": "python", "ns_per_op": round(ns, 1)}), flush=True)


def per_op(fn, n):
    start = time.perf_counter()
    fn(n)
    return (time.perf_counter() - start) * 1e9 / n


def lock_uncontended(n):
    lock = threading.Lock()
    acquire, release = lock.acquire, lock.release
    for _ in range(n):
        acquire()
        release()


def lock_contended_2threads(n):
    """Two threads each do n increments; returns ns per increment."""
    lock = threading.Lock()
    counter = [0]

    def work():
        for _ in range(n):
            with lock:
                counter[0] += 1

    threads = [threading.Thread(target=work) for _ in range(2)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    assert counter[0] == 2 * n
    return elapsed * 1e9 / (2 * n)


def rlock_uncontended(n):
    rlock = threading.RLock()
    acquire, release = rlock.acquire, rlock.release
    for _ in range(n):
        acquire()
        release()


def semaphore_acquire_release(n):
    sem = threading.Semaphore(1)
    acquire, release = sem.acquire, sem.release
    for _ in range(n):
        acquire()
        release()


def main():
    emit("lock_uncontended", per_op(lock_uncontended, N))
    emit("lock_contended_2threads", lock_contended_2threads(N_CONTENDED))
    emit("rlock_uncontended", per_op(rlock_uncontended, N))
    emit("semaphore_acquire_release", per_op(semaphore_acquire_release, N // 4))


if __name__ == "__main__":
    main()
