//! Smoke tests of `Pool`: every method once, results in order.

spindle_process::test_support!();

use spindle_process::pool::{Pool, PoolError};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(30);

fn square(x: u64) -> u64 {
    x * x
}

fn add((a, b): (i32, i32)) -> i32 {
    a + b
}

#[test]
fn apply_and_map() {
    let pool = Pool::new(2);
    assert_eq!(pool.apply(square, 9), Ok(81));
    assert_eq!(
        pool.map(square, 0..100, None).unwrap(),
        (0..100).map(|x| x * x).collect::<Vec<_>>()
    );
    assert_eq!(
        pool.map(square, 0..7, Some(1)).unwrap(),
        vec![0, 1, 4, 9, 16, 25, 36]
    );
    assert_eq!(
        pool.starmap(add, vec![(1, 2), (3, 4)], None).unwrap(),
        vec![3, 7]
    );
    let r = pool.map_async(square, 1..=3, Some(2));
    assert_eq!(r.get(Some(LIMIT)), Ok(vec![1, 4, 9]));
    pool.close();
    pool.join().unwrap();
    assert_eq!(pool.apply(square, 1), Err(PoolError::Closed));
}
