//! `RemoteExecutor` through a generic helper, as a process or MPI pool will be used.

mod support;

use serde::{Deserialize, Serialize};
use spindle_futures::{FutureError, RemoteExecutor, ThreadPoolExecutor};
use support::LIMIT;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Job {
    id: u32,
    words: Vec<String>,
}

fn count_words(job: Job) -> (u32, usize) {
    (job.id, job.words.len())
}

fn square(x: u64) -> u64 {
    x * x
}

/// Runs unchanged on any executor that can ship a function.
fn run_on<E: RemoteExecutor>(e: &E) -> (u64, Vec<(u32, usize)>) {
    let one = e.submit_fn(square, 12).result_timeout(LIMIT).unwrap();
    let jobs = (0..5).map(|id| Job {
        id,
        words: vec!["w".into(); id as usize],
    });
    let counted = e
        .map_fn(count_words, jobs)
        .timeout(LIMIT)
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    (one, counted)
}

#[test]
fn generic_helper_runs_on_the_thread_pool() {
    let pool = ThreadPoolExecutor::builder().max_workers(2).build();
    let (one, counted) = run_on(&pool);
    assert_eq!(one, 144);
    assert_eq!(counted, (0..5).map(|i| (i, i as usize)).collect::<Vec<_>>());
}

#[test]
fn non_capturing_closures_coerce_to_fn() {
    let pool = ThreadPoolExecutor::new();
    let f = pool.submit_fn(|s: String| s.len(), "four".to_owned());
    assert_eq!(f.result_timeout(LIMIT), Ok(4));
}

#[test]
fn remote_shutdown_refuses_later_submits() {
    let pool = ThreadPoolExecutor::new();
    RemoteExecutor::shutdown(&pool, true, false);
    assert_eq!(
        pool.submit_fn(square, 2).result(),
        Err(FutureError::ShutDown)
    );
}
