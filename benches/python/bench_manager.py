"""Python twin of benches/manager.rs: the same multiprocessing.Manager workloads under the
same group names.

Prints one JSON object per line: {"group": ..., "impl": "python", "ns_per_op": ...}.
Python 3.11+ stdlib only. Usage: python3 benches/python/bench_manager.py [--quick]
"""

import json
import multiprocessing as mp
import sys
import time

QUICK = "--quick" in sys.argv
N = 2_000 if QUICK else 20_000


def emit(group, ns):
    print(json.dumps({"group": group, "impl": "python", "ns_per_op": round(ns, 1)}), flush=True)


def timed(n, body):
    s = time.perf_counter()
    body(n)
    return (time.perf_counter() - s) * 1e9 / n


def main():
    with mp.Manager() as m:
        d = m.dict()

        def setitem(n):
            for i in range(n):
                d[i % 1024] = i % 1024

        def getitem(n):
            for _ in range(n):
                d.get(7)

        emit("manager_dict_setitem", timed(N, setitem))
        emit("manager_dict_getitem", timed(N, getitem))
        lock = m.Lock()

        def acquire_release(n):
            for _ in range(n):
                lock.acquire()
                lock.release()

        emit("manager_lock_acquire_release", timed(N, acquire_release))
        q = m.Queue()

        def put_get(n):
            for _ in range(n):
                q.put(1)
                q.get()

        emit("manager_queue_put_get", timed(N, put_get))


if __name__ == "__main__":
    main()
