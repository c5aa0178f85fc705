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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from workloads import PRIME_BASE, PRIME_COUNT, best_of, count_primes, noop, ranges  # noqa: E402

THROUGHPUT_TASKS = 10_000
QUICK = "--quick" in sys.argv


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

        data = bytes(1 << 20)
        k = 20 if QUICK else 100
        emit("mpi_payload_1mib",
             best_of(lambda: [ex.submit(len, data).result() for _ in range(k)]) / k * 1e9)

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
    # The workers unpickle the tasks' functions from `workloads`: let them import it.
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.abspath(__file__)))
    try:
        return subprocess.run(cmd, timeout=600, env=env).returncode
    except (OSError, subprocess.TimeoutExpired) as e:
        print(f"bench_mpi.py: cannot run the MPI job: {e}", file=sys.stderr)
        return 0


if __name__ == "__main__":
    if "OMPI_COMM_WORLD_SIZE" in os.environ or "PMI_SIZE" in os.environ:
        measure()
    else:
        sys.exit(relaunch())
