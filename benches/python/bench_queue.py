"""Python twin of benches/queue.rs: the same queue workloads under the same group names.

Prints one JSON object per line: {"group": ..., "impl": "python", "ns_per_op": ...}
(parameterised groups add "param"). Python 3.11+ stdlib only.
Usage: python3 benches/python/bench_queue.py [--quick]
"""

import json
import queue
import sys
import threading
import time

BOUND = 1024
QUICK = "--quick" in sys.argv
N = 20_000 if QUICK else 200_000


def emit(group, ns, param=None):
    row = {"group": group, "impl": "python", "ns_per_op": round(ns, 1)}
    if param is not None:
        row["param"] = param
    print(json.dumps(row), flush=True)


def mpsc(q, put, get, n, producers=1):
    """Moves n items from `producers` threads to this one; returns ns per item."""
    shares = [n // producers + (1 if k < n % producers else 0) for k in range(producers)]

    def produce(share):
        for i in range(share):
            put(i)

    threads = [threading.Thread(target=produce, args=(s,)) for s in shares]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for _ in range(n):
        get()
    elapsed = time.perf_counter() - start
    for t in threads:
        t.join()
    return elapsed / n * 1e9


def bounded_1p1c():
    q = queue.Queue(maxsize=BOUND)
    emit("queue_1p1c_bounded1024", mpsc(q, q.put, q.get, N))


def unbounded_1p1c():
    q = queue.SimpleQueue()
    emit("queue_1p1c_unbounded", mpsc(q, q.put, q.get, N))
    q = queue.Queue()
    row = mpsc(q, q.put, q.get, N)
    print(json.dumps({"group": "queue_1p1c_unbounded", "impl": "python_queue", "ns_per_op": round(row, 1)}), flush=True)


def uncontended_put_get():
    q = queue.Queue(maxsize=BOUND)
    put, get = q.put, q.get
    start = time.perf_counter()
    for i in range(N):
        put(i)
        get()
    emit("queue_uncontended_put_get", (time.perf_counter() - start) / N * 1e9)


def scaling_producers():
    for producers in (1, 2):
        q = queue.Queue(maxsize=BOUND)
        emit("queue_scaling_producers", mpsc(q, q.put, q.get, N, producers), producers)


def scaling_payload():
    """64 bytes objects circulate: the producer takes one from `back`, puts it on `out`."""
    n = N // 4
    for size in (64, 4 << 10, 64 << 10, 1 << 20):
        out, back = queue.Queue(maxsize=BOUND), queue.Queue(maxsize=BOUND)
        for _ in range(64):
            back.put(bytes(size))

        def produce():
            for _ in range(n):
                out.put(back.get())

        t = threading.Thread(target=produce)
        start = time.perf_counter()
        t.start()
        for _ in range(n):
            buf = out.get()
            back.put(buf)
        elapsed = time.perf_counter() - start
        t.join()
        emit("queue_scaling_payload", elapsed / n * 1e9, size)


if __name__ == "__main__":
    bounded_1p1c()
    unbounded_1p1c()
    uncontended_put_get()
    scaling_producers()
    scaling_payload()
