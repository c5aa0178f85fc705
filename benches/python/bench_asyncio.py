"""Python twin of benches/asyncio.rs: the same asyncio workloads under the same group names.

Prints one JSON object per line: {"group": ..., "impl": "python", "ns_per_op": ...}.
Python 3.11+ stdlib only. Usage: python3 benches/python/bench_asyncio.py [--quick]
"""

import asyncio
import json
import sys
import time

QUICK = "--quick" in sys.argv
TASKS = 1_000
ROUNDS = 5 if QUICK else 30
MSG = 64
ECHOES = 2_000 if QUICK else 20_000
CALLBACKS = 1_000


def emit(group, ns, impl="python"):
    print(json.dumps({"group": group, "impl": impl, "ns_per_op": ns}), flush=True)


async def one(i):
    return i


async def spawn_await():
    total = 0
    for i in range(TASKS):
        total += await asyncio.create_task(one(i))
    return total


async def spawn_gather():
    return sum(await asyncio.gather(*(asyncio.create_task(one(i)) for i in range(TASKS))))


def bench_spawn():
    loop = asyncio.new_event_loop()
    for impl, fn in (("python", spawn_await), ("python_batch", spawn_gather)):
        best = None
        for _ in range(ROUNDS):
            t0 = time.perf_counter()
            loop.run_until_complete(fn())
            dt = time.perf_counter() - t0
            best = dt if best is None else min(best, dt)
        emit("async_spawn_await", best / TASKS * 1e9, impl)
    loop.close()


async def echo_rtt():
    async def handle(r, w):
        try:
            while True:
                data = await r.readexactly(MSG)
                w.write(data)
                await w.drain()
        except asyncio.IncompleteReadError:
            pass
        w.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    r, w = await asyncio.open_connection("127.0.0.1", port)
    msg = b"x" * MSG
    for _ in range(200):  # warm-up
        w.write(msg)
        await w.drain()
        await r.readexactly(MSG)
    t0 = time.perf_counter()
    for _ in range(ECHOES):
        w.write(msg)
        await w.drain()
        await r.readexactly(MSG)
    dt = time.perf_counter() - t0
    w.close()
    await w.wait_closed()
    server.close()
    await server.wait_closed()
    return dt / ECHOES * 1e9


def bench_call_soon():
    loop = asyncio.new_event_loop()
    count = [0]

    def cb():
        count[0] += 1

    best = None
    for _ in range(ROUNDS):
        t0 = time.perf_counter()
        for _ in range(CALLBACKS):
            loop.call_soon(cb)
        loop.call_soon(loop.stop)
        loop.run_forever()
        dt = time.perf_counter() - t0
        best = dt if best is None else min(best, dt)
    loop.close()
    emit("async_call_soon", best / CALLBACKS * 1e9)


if __name__ == "__main__":
    bench_spawn()
    emit("async_tcp_echo_rtt", asyncio.run(echo_rtt()))
    bench_call_soon()
