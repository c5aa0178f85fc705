//! `wait` with each `ReturnWhen`, timeouts, duplicates and futures of different executors
//! (CPython's `test_wait.py`).

mod support;

use std::thread;
use std::time::Duration;

use spindle_futures::{wait, Future, FutureError, ReturnWhen, ThreadPoolExecutor};
use support::{Gate, LIMIT, SHORT};

fn done_with(v: i32) -> Future<i32> {
    let f = Future::new();
    f.set_result(v).unwrap();
    f
}

fn failed() -> Future<i32> {
    let f = Future::new();
    f.set_exception(FutureError::Panicked("e".into())).unwrap();
    f
}

fn ids(v: &[&Future<i32>], all: &[Future<i32>]) -> Vec<usize> {
    v.iter()
        .map(|f| all.iter().position(|g| g.ptr_eq(f)).unwrap())
        .collect()
}

#[test]
fn empty_input_returns_at_once() {
    let none: Vec<Future<i32>> = Vec::new();
    let (done, not_done) = wait(&none, None, ReturnWhen::AllCompleted);
    assert!(done.is_empty() && not_done.is_empty());
}

#[test]
fn first_completed_returns_when_one_finishes() {
    let futures = vec![Future::new(), Future::new(), Future::new()];
    thread::scope(|s| {
        s.spawn(|| futures[1].set_result(1).unwrap());
        let (done, not_done) = wait(&futures, Some(LIMIT), ReturnWhen::FirstCompleted);
        assert!(ids(&done, &futures).contains(&1));
        assert_eq!(done.len() + not_done.len(), 3);
    });
}

#[test]
fn first_completed_counts_a_cancellation() {
    let futures: Vec<Future<i32>> = vec![Future::new(), Future::new()];
    thread::scope(|s| {
        s.spawn(|| assert!(futures[0].cancel()));
        let (done, not_done) = wait(&futures, Some(LIMIT), ReturnWhen::FirstCompleted);
        assert_eq!(ids(&done, &futures), vec![0]);
        assert_eq!(ids(&not_done, &futures), vec![1]);
    });
}

#[test]
fn first_exception_waits_for_an_error_not_a_value() {
    let futures: Vec<Future<i32>> = vec![Future::new(), Future::new(), Future::new()];
    thread::scope(|s| {
        s.spawn(|| {
            futures[0].set_result(0).unwrap();
            assert!(futures[2].cancel());
            futures[1]
                .set_exception(FutureError::Panicked("bad".into()))
                .unwrap();
        });
        let (done, not_done) = wait(&futures, Some(LIMIT), ReturnWhen::FirstException);
        assert!(
            ids(&done, &futures).contains(&1),
            "returned on the exception"
        );
        assert_eq!(done.len() + not_done.len(), 3);
    });
}

#[test]
fn first_exception_already_failed_returns_at_once() {
    let futures = vec![done_with(1), failed(), Future::new()];
    let (done, not_done) = wait(&futures, None, ReturnWhen::FirstException);
    assert_eq!(ids(&done, &futures), vec![0, 1]);
    assert_eq!(ids(&not_done, &futures), vec![2]);
}

#[test]
fn first_exception_without_errors_waits_for_all() {
    let futures = vec![done_with(1), Future::new()];
    thread::scope(|s| {
        s.spawn(|| futures[1].set_result(2).unwrap());
        let (done, not_done) = wait(&futures, Some(LIMIT), ReturnWhen::FirstException);
        assert_eq!(done.len(), 2);
        assert!(not_done.is_empty());
    });
}

#[test]
fn all_completed_and_timeout() {
    let futures = vec![done_with(1), failed(), Future::new()];
    let (done, not_done) = wait(&futures, Some(SHORT), ReturnWhen::AllCompleted);
    assert_eq!(ids(&done, &futures), vec![0, 1]);
    assert_eq!(ids(&not_done, &futures), vec![2]);
    let (done, not_done) = wait(&futures, Some(Duration::ZERO), ReturnWhen::FirstCompleted);
    assert_eq!((done.len(), not_done.len()), (2, 1));
    futures[2].set_result(3).unwrap();
    let (done, _) = wait(&futures, Some(Duration::MAX), ReturnWhen::AllCompleted);
    assert_eq!(done.len(), 3);
}

#[test]
fn duplicates_count_once_like_a_set() {
    let a = Future::new();
    let b = done_with(2);
    let futures = vec![a.clone(), b.clone(), a.clone(), b.clone(), a.clone()];
    let (done, not_done) = wait(&futures, Some(SHORT), ReturnWhen::AllCompleted);
    assert_eq!(done.len(), 1);
    assert_eq!(not_done.len(), 1);
    assert!(done[0].ptr_eq(&b) && not_done[0].ptr_eq(&a));
    thread::scope(|s| {
        s.spawn(|| a.set_result(1).unwrap());
        let (done, not_done) = wait(&futures, Some(LIMIT), ReturnWhen::AllCompleted);
        assert_eq!((done.len(), not_done.len()), (2, 0));
    });
}

#[test]
fn futures_of_two_pools_and_a_bare_future() {
    let p1 = ThreadPoolExecutor::builder().max_workers(1).build();
    let p2 = ThreadPoolExecutor::builder().max_workers(1).build();
    let gate = Gate::new();
    let g = gate.clone();
    let futures = vec![
        p1.submit(|| 1),
        p2.submit(move || {
            g.hold();
            2
        }),
        Future::new(),
    ];
    let (done, not_done) = wait(&futures, Some(LIMIT), ReturnWhen::FirstCompleted);
    assert!(ids(&done, &futures).contains(&0));
    assert!(ids(&not_done, &futures).contains(&2));
    gate.open();
    futures[2].set_result(3).unwrap();
    let (done, not_done) = wait(&futures, Some(LIMIT), ReturnWhen::AllCompleted);
    assert_eq!((done.len(), not_done.len()), (3, 0));
    let values: Vec<i32> = done.iter().map(|f| f.result().unwrap()).collect();
    assert_eq!(values, vec![1, 2, 3]);
}
