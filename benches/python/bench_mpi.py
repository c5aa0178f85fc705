"""Python twin of benches/mpi.rs: mpi4py.futures on the same local ranks.

Run directly, it relaunches itself as `mpirun -n 3 python -m mpi4py.futures bench_mpi.py`
(rank 0 runs this file, ranks 1-2 are the MPIPoolExecutor's workers) and passes the job's
output through. Prints one JSON object per line: {"group": ..., "impl": "python",
"ns_per_op": ...}. Needs mpi4py (`pip install mpi4py`) and Open MPI; without them it says so
on stderr and prints no results, so the report leaves the Python column out.
"""

import json
import os
import subprocess
import sys
import time

THROUGHPUT_TASKS = 10_000
PRIME_COUNT = 40_000
PRIME_BASE = 10_000_000
PRIME_CHUNKS = 16
QUICK = "--quick" in sys.argv


def noop(x):
    return x


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


def emit(group, ns):
    print(json.dumps({"group": group, "impl": "python", "ns_per_op": ns}), flush=True)


def measure():
    from mpi4py.futures import MPIPoolExecutor

    with MPIPoolExecutor() as ex:
        for f in [ex.submit(noop, i) for i in range(8)]:
            f.result()  # workers up and warm

        n = 100 if QUICK else 1000
        emit("mpi_round_trip", best_of(lambda: [ex.submit(noop, 1).result() for _ in range(n)]) / n * 1e9)

        tasks = THROUGHPUT_TASKS // 10 if QUICK else THROUGHPUT_TASKS

        def throughput():
            futures = [ex.submit(noop, i) for i in range(tasks)]
            return sum(f.result() for f in futures)

        emit("mpi_throughput_1e4", best_of(throughput, repeat=1 if QUICK else 3) / tasks * 1e9)

        want = count_primes((PRIME_BASE, PRIME_BASE + PRIME_COUNT))

        def primes():
            assert sum(ex.map(count_primes, ranges(), chunksize=1)) == want

        emit("mpi_primes", best_of(primes, repeat=1) / PRIME_COUNT * 1e9)


def relaunch():
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        print("bench_mpi.py: mpi4py is not installed (pip install mpi4py); no Python figures",
              file=sys.stderr)
        return 0
    cmd = ["mpirun", "--oversubscribe", "-n", "3"]
    if os.geteuid() == 0:
        cmd.append("--allow-run-as-root")
    cmd += [sys.executable, "-m", "mpi4py.futures", os.path.abspath(__file__)] + sys.argv[1:]
    try:
        return subprocess.run(cmd, timeout=600).returncode
    except (OSError, subprocess.TimeoutExpired) as e:
        print(f"bench_mpi.py: cannot run the MPI job: {e}", file=sys.stderr)
        return 0


if __name__ == "__main__":
    if "OMPI_COMM_WORLD_SIZE" in os.environ or "PMI_SIZE" in os.environ:
        measure()
    else:
        sys.exit(relaunch())
