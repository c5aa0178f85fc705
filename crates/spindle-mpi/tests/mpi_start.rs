//! Starting the pool: what a plain run (one rank, no mpirun) gets, that MPI starts only once,
//! and that on a job of 3 ranks `max_workers(1)` uses one worker and the job still ends when
//! the pool drops (the unused rank was told to exit), and that a done callback may shut the
//! pool down. Started by `cargo test`, it checks the
//! one-rank errors itself, then relaunches itself under `mpirun -n 1` (the same error) and
//! `mpirun -n 3`.

mod support;

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use spindle_mpi::{MpiError, MpiPoolExecutor};
use support::Check;

const PATIENCE: Duration = Duration::from_secs(60);

fn double(x: i64) -> i64 {
    2 * x
}

fn a_single_rank_gets_no_workers_then_already_initialized() {
    let err = MpiPoolExecutor::start().unwrap_err();
    assert_eq!(err, MpiError::NoWorkers { size: 1 });
    assert!(err.to_string().contains("mpirun -n 3"), "{err}");
    // MPI starts once per process.
    let again = MpiPoolExecutor::start().unwrap_err();
    assert_eq!(again, MpiError::AlreadyInitialized);
    println!("test a_single_rank_gets_no_workers_then_already_initialized ... ok");
}

fn max_workers_limits_the_ranks_used(pool: &Arc<MpiPoolExecutor>) {
    assert_eq!(pool.max_workers(), 1);
    assert_eq!(pool.workers()[0].rank, 1);
    let out: Vec<i64> = pool
        .map(double, 0..10, 3)
        .timeout(PATIENCE)
        .map(Result::unwrap)
        .collect();
    assert_eq!(out, (0..10).map(double).collect::<Vec<_>>());
    assert_eq!(pool.stats().workers.len(), 1);
}

fn shutdown_without_waiting_still_finishes_the_queue(pool: &Arc<MpiPoolExecutor>) {
    let futures: Vec<_> = (0..10).map(|i| pool.submit(double, i)).collect();
    // First from a done callback, which runs on the pool thread: that thread cannot wait for
    // itself, so there `shutdown(wait = true)` must return without waiting.
    let (tx, rx) = std::sync::mpsc::channel();
    let handle = Arc::clone(pool);
    futures[0].add_done_callback(move |_| {
        handle.shutdown(true, false);
        let _ = tx.send(());
    });
    assert_eq!(rx.recv_timeout(PATIENCE), Ok(()), "the callback returned");
    pool.shutdown(false, false);
    for (i, f) in futures.iter().enumerate() {
        assert_eq!(f.result_timeout(PATIENCE), Ok(2 * i as i64));
    }
    assert_eq!(
        pool.submit(double, 1).result_timeout(PATIENCE),
        Err(spindle_futures::FutureError::ShutDown)
    );
    pool.shutdown(true, false);
}

/// Under `mpirun -n 1`: the same error as a plain run.
fn a_one_rank_job_gets_no_workers() -> ExitCode {
    assert_eq!(
        MpiPoolExecutor::start().unwrap_err(),
        MpiError::NoWorkers { size: 1 }
    );
    println!("test a_one_rank_job_gets_no_workers ... ok");
    ExitCode::SUCCESS
}

fn main() -> ExitCode {
    if !support::under_mpirun() {
        a_single_rank_gets_no_workers_then_already_initialized();
        if support::relaunch(1) != ExitCode::SUCCESS {
            return ExitCode::FAILURE;
        }
        return support::relaunch(3);
    }
    if std::env::var("OMPI_COMM_WORLD_SIZE").as_deref() == Ok("1") {
        return a_one_rank_job_gets_no_workers();
    }
    let pool = Arc::new(
        MpiPoolExecutor::builder()
            .max_workers(1)
            .tasks_in_flight(1)
            .start()
            .expect("a pool on 3 ranks"),
    );
    let checks: &[Check<Arc<MpiPoolExecutor>>] = &[
        (
            "max_workers_limits_the_ranks_used",
            max_workers_limits_the_ranks_used,
        ),
        (
            "shutdown_without_waiting_still_finishes_the_queue",
            shutdown_without_waiting_still_finishes_the_queue,
        ),
    ];
    support::run_checks(&pool, checks)
}
