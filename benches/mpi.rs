//! MPI pool: spindle's `MpiPoolExecutor` on local ranks against its `ProcessPoolExecutor` and
//! a serial loop, on the workloads of `python/bench_mpi.py` (mpi4py.futures on the same ranks).
//!
//! Started by cargo, the binary relaunches itself twice under mpirun: a job of 2 ranks (one
//! worker) measures `mpi_primes/spindle_1_rank`, a job of 3 ranks (two workers) measures the
//! rest, so the primes group shows the speed-up from one worker rank to two. `main` is
//! written by hand: the binary is also the process pool's worker and the MPI pool's workers.

use std::hint::black_box;
use std::process::ExitCode;
use std::time::Duration;

use criterion::{Criterion, Throughput};
use spindle::mpi::launch::{mpirun_command, under_mpirun};
use spindle::mpi::MpiPoolExecutor;
use spindle::multiprocessing::pool::{ByteBuf, ProcessPoolExecutor};

mod workloads;
use workloads::{count_primes, noop, ranges, warm_executor, PRIME_BASE, PRIME_COUNT};

/// Tasks in the throughput group.
const THROUGHPUT_TASKS: u64 = 10_000;
fn round_trip(c: &mut Criterion, mpi: &MpiPoolExecutor, procs: &ProcessPoolExecutor) {
    let mut g = c.benchmark_group("mpi_round_trip");
    g.bench_function("spindle", |b| {
        b.iter(|| mpi.submit(noop, black_box(1)).into_result().unwrap())
    });
    g.bench_function("process_pool", |b| {
        b.iter(|| procs.submit(noop, black_box(1)).into_result().unwrap())
    });
    g.finish();
}

fn throughput(c: &mut Criterion, mpi: &MpiPoolExecutor, procs: &ProcessPoolExecutor) {
    let mut g = c.benchmark_group("mpi_throughput_1e4");
    g.throughput(Throughput::Elements(THROUGHPUT_TASKS));
    g.sample_size(10);
    g.bench_function("spindle", |b| {
        b.iter(|| {
            let futures: Vec<_> = (0..THROUGHPUT_TASKS).map(|i| mpi.submit(noop, i)).collect();
            futures
                .into_iter()
                .map(|f| f.into_result().unwrap())
                .sum::<u64>()
        })
    });
    g.bench_function("spindle_map", |b| {
        b.iter(|| {
            mpi.map(noop, 0..THROUGHPUT_TASKS, 100)
                .map(Result::unwrap)
                .sum::<u64>()
        })
    });
    g.bench_function("process_pool", |b| {
        b.iter(|| {
            let futures: Vec<_> = (0..THROUGHPUT_TASKS)
                .map(|i| procs.submit(noop, i))
                .collect();
            futures
                .into_iter()
                .map(|f| f.into_result().unwrap())
                .sum::<u64>()
        })
    });
    g.finish();
}

fn bytes_len(data: ByteBuf) -> usize {
    data.len()
}

/// One task carrying 1 MiB of bytes to a worker and back its length.
fn payload(c: &mut Criterion, mpi: &MpiPoolExecutor, procs: &ProcessPoolExecutor) {
    const SIZE: usize = 1 << 20;
    let data = ByteBuf::from(vec![7u8; SIZE]);
    let mut g = c.benchmark_group("mpi_payload_1mib");
    g.bench_function("spindle", |b| {
        b.iter(|| assert_eq!(mpi.submit(bytes_len, data.clone()).into_result(), Ok(SIZE)))
    });
    g.bench_function("process_pool", |b| {
        b.iter(|| {
            assert_eq!(
                procs.submit(bytes_len, data.clone()).into_result(),
                Ok(SIZE)
            )
        })
    });
    g.finish();
}

/// The CPU-bound group: `name` is `spindle` on two worker ranks, `spindle_1_rank` on one.
fn primes(
    c: &mut Criterion,
    mpi: &MpiPoolExecutor,
    name: &str,
    procs: Option<&ProcessPoolExecutor>,
) {
    let want = count_primes((PRIME_BASE, PRIME_BASE + PRIME_COUNT));
    let mut g = c.benchmark_group("mpi_primes");
    g.throughput(Throughput::Elements(PRIME_COUNT));
    g.sample_size(10);
    g.bench_function(name, |b| {
        b.iter(|| {
            assert_eq!(
                mpi.map(count_primes, ranges(), 1)
                    .map(Result::unwrap)
                    .sum::<u64>(),
                want
            )
        })
    });
    if let Some(procs) = procs {
        g.bench_function("process_pool", |b| {
            b.iter(|| {
                assert_eq!(
                    procs
                        .map(count_primes, ranges(), 1)
                        .map(Result::unwrap)
                        .sum::<u64>(),
                    want
                )
            })
        });
        g.bench_function("serial", |b| {
            b.iter(|| assert_eq!(ranges().into_iter().map(count_primes).sum::<u64>(), want))
        });
    }
    g.finish();
}

/// Runs this binary as a job of `ranks` ranks with the same arguments; whether it succeeded.
fn relaunch(ranks: usize) -> bool {
    let exe = std::env::current_exe().expect("bench binary path");
    let status = mpirun_command(ranks)
        .arg(exe)
        .args(std::env::args().skip(1))
        .status();
    match status {
        Ok(s) if s.success() => true,
        Ok(s) => {
            eprintln!("the {ranks}-rank bench job ended with {s}");
            false
        }
        Err(e) => {
            eprintln!("cannot run mpirun ({e}): install Open MPI to run this bench");
            false
        }
    }
}

fn main() -> ExitCode {
    spindle::multiprocessing::init();
    if !under_mpirun() {
        let ok = relaunch(2) && relaunch(3);
        return if ok {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        };
    }
    let mpi = MpiPoolExecutor::start().expect("an MPI pool");
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .configure_from_args();
    if mpi.max_workers() == 1 {
        primes(&mut c, &mpi, "spindle_1_rank", None);
    } else {
        let procs = warm_executor(mpi.max_workers());
        round_trip(&mut c, &mpi, &procs);
        throughput(&mut c, &mpi, &procs);
        payload(&mut c, &mpi, &procs);
        primes(&mut c, &mpi, "spindle", Some(&procs));
    }
    c.final_summary();
    ExitCode::SUCCESS
}
