"""Python twin of benches/process.rs: the same multiprocessing workloads under the same
group names.

Prints one JSON object per line: {"group": ..., "impl": ..., "ns_per_op": ...}.
`process_start_join` is reported for each start method: impl "python" is spawn (what
spindle's default does), "python_fork" and "python_forkserver" the others.
Python 3.11+ stdlib only. Usage: python3 benches/python/bench_process.py [--quick]
"""

import json
import multiprocessing as mp
import sys
import time

QUICK = "--quick" in sys.argv


def emit(group, ns, impl="python"):
    print(json.dumps({"group": group, "impl": impl, "ns_per_op": round(ns, 1)}), flush=True)


def echo(conn):
    while True:
        m = conn.recv_bytes()
        if not m:
            break
        conn.send_bytes(m)


def pipe_pingpong(n):
    a, b = mp.Pipe()
    p = mp.Process(target=echo, args=(b,))
    p.start()
    a.send_bytes(b"x")
    a.recv_bytes()
    s = time.perf_counter()
    for _ in range(n):
        a.send_bytes(b"x")
        a.recv_bytes()
    d = time.perf_counter() - s
    a.send_bytes(b"")
    p.join()
    return d / n * 1e9


def noop():
    pass


def process_start_join(ctx, n):
    s = time.perf_counter()
    for _ in range(n):
        p = ctx.Process(target=noop)
        p.start()
        p.join()
    return (time.perf_counter() - s) / n * 1e9


def increment(lock, value, ready, go, n):
    ready.set()
    go.wait()
    for _ in range(n):
        with lock:
            value.value += 1


def shared_lock_counter(n):
    lock = mp.Lock()
    value = mp.Value("Q", 0, lock=False)
    ready, go = mp.Event(), mp.Event()
    theirs = n // 2
    p = mp.Process(target=increment, args=(lock, value, ready, go, theirs))
    p.start()
    ready.wait()
    s = time.perf_counter()
    go.set()
    for _ in range(n - theirs):
        with lock:
            value.value += 1
    p.join()
    d = time.perf_counter() - s
    assert value.value == n
    return d / n * 1e9


def queue_echo(rx, tx):
    while True:
        m = rx.get()
        if m is None:
            break
        tx.put(m)


def mp_queue_roundtrip(n, item):
    to, back = mp.Queue(), mp.Queue()
    p = mp.Process(target=queue_echo, args=(to, back))
    p.start()
    to.put(item)
    back.get()
    s = time.perf_counter()
    for _ in range(n):
        to.put(item)
        back.get()
    d = time.perf_counter() - s
    to.put(None)
    p.join()
    return d / n * 1e9


def queue_sum(rx, tx, n):
    total = 0
    for _ in range(n):
        total += rx.get()
    tx.put(total)


def mp_queue_stream(n):
    q, back = mp.Queue(), mp.Queue()
    p = mp.Process(target=queue_sum, args=(q, back, n))
    p.start()
    s = time.perf_counter()
    for i in range(n):
        q.put(i)
    total = back.get()
    d = time.perf_counter() - s
    assert total == n * (n - 1) // 2
    p.join()
    return d / n * 1e9


if __name__ == "__main__":
    mp.set_start_method("fork")
    emit("pipe_pingpong", pipe_pingpong(2_000 if QUICK else 20_000))
    runs = 10 if QUICK else 50
    emit("process_start_join", process_start_join(mp.get_context("spawn"), runs))
    emit("process_start_join", process_start_join(mp.get_context("fork"), runs), "python_fork")
    emit("process_start_join", process_start_join(mp.get_context("forkserver"), runs), "python_forkserver")
    emit("shared_lock_counter", shared_lock_counter(20_000 if QUICK else 200_000))
    emit("mp_queue_roundtrip", mp_queue_roundtrip(2_000 if QUICK else 20_000, 7))
    emit("mp_queue_1mib", mp_queue_roundtrip(50 if QUICK else 300, bytes(1 << 20)))
    emit("mp_queue_stream", mp_queue_stream(20_000 if QUICK else 200_000))
