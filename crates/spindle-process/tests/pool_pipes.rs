//! The same guarantees with the shared-memory rings turned off (pipes only): order, faults,
//! timeouts, recycling and big payloads.

spindle_process::test_support!();

mod pool_support;

use pool_support::*;
use spindle_process::pool::{Pool, PoolError, ProcessPoolExecutor};
use std::time::Duration;

fn pipes(n: usize) -> Pool {
    Pool::new(n).shared_memory_rings(false)
}

fn reverse(mut v: Vec<u8>) -> Vec<u8> {
    v.reverse();
    v
}

#[test]
fn map_order_and_unordered_completeness() {
    let pool = pipes(2);
    let want: Vec<u64> = (0..300).map(|x| x * x).collect();
    assert_eq!(pool.map(square, 0..300u64, Some(1)).unwrap(), want);
    assert_eq!(pool.map(square, 0..300u64, None).unwrap(), want);
    let mut got: Vec<u64> = pool
        .imap_unordered(square, 0..300u64, 3)
        .map(Result::unwrap)
        .collect();
    got.sort_unstable();
    assert_eq!(got, want);
}

#[test]
fn faults_stay_local() {
    let pool = pipes(2).maxtasksperchild(5);
    let others: Vec<_> = (0..20).map(|x| pool.apply_async(square, x)).collect();
    assert!(matches!(
        pool.apply(kill_self, ()),
        Err(PoolError::WorkerDied {
            signal: Some(9),
            ..
        })
    ));
    assert!(matches!(
        pool.apply(segfault_self, ()),
        Err(PoolError::WorkerDied {
            signal: Some(11),
            ..
        })
    ));
    assert_eq!(
        pool.apply(panics, 4),
        Err(PoolError::Panicked("task 4 failed on purpose".into()))
    );
    assert_eq!(
        pool.apply_timeout(stuck, (), Duration::from_millis(100)),
        Err(PoolError::Timeout)
    );
    for (x, r) in others.iter().enumerate() {
        assert_eq!(r.get(Some(LIMIT)), Ok((x * x) as u64));
    }
}

#[test]
fn executor_with_big_payloads() {
    let ex = ProcessPoolExecutor::builder()
        .max_workers(2)
        .shared_memory_rings(false)
        .build();
    let data: Vec<u8> = (0..200_000u32).map(|i| i as u8).collect();
    let futs: Vec<_> = (0..4).map(|_| ex.submit(reverse, data.clone())).collect();
    for f in futs {
        let mut back = f.result_timeout(LIMIT).unwrap();
        back.reverse();
        assert!(back == data);
    }
}
