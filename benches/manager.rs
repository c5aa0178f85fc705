//! Manager benches: round trips to a `Manager`'s server process through proxies. Python twin:
//! `benches/python/bench_manager.py` (same group names). No Rust crate offers a manager
//! (a server process owning shared objects behind proxies), so spindle is compared with
//! Python only; `pipe_pingpong` in `benches/process.rs` is the transport floor.
//!
//! Groups (time per operation, each one request and one reply over a Unix socket):
//! - `manager_dict_setitem`: `d[k] = v` with a small integer key and value.
//! - `manager_dict_getitem`: `d[k]`.
//! - `manager_lock_acquire_release`: `lock.acquire(); lock.release()` (two round trips).
//! - `manager_queue_put_get`: `q.put(x); q.get()` (two round trips).
//!
//! `main` is written by hand (no `criterion_main!`) so that `init()` runs first: the bench
//! binary is re-executed as the manager's server process.

use criterion::Criterion;
use spindle::multiprocessing::managers::Manager;
use std::hint::black_box;

fn main() {
    spindle::multiprocessing::init();
    let mut c = Criterion::default().configure_from_args();
    let manager = Manager::start().expect("manager");
    let d = manager.dict::<u64, u64>().expect("dict");
    let mut k = 0u64;
    c.benchmark_group("manager_dict_setitem")
        .bench_function("spindle", |b| {
            b.iter(|| {
                k = (k + 1) % 1024;
                d.insert(&k, &k).unwrap()
            })
        });
    c.benchmark_group("manager_dict_getitem")
        .bench_function("spindle", |b| b.iter(|| d.get(black_box(&7)).unwrap()));
    let lock = manager.lock().expect("lock");
    c.benchmark_group("manager_lock_acquire_release")
        .bench_function("spindle", |b| {
            b.iter(|| {
                lock.acquire().unwrap();
                lock.release().unwrap()
            })
        });
    let q = manager.queue::<u64>(0).expect("queue");
    c.benchmark_group("manager_queue_put_get")
        .bench_function("spindle", |b| {
            b.iter(|| {
                q.put(black_box(&1)).unwrap();
                q.get().unwrap()
            })
        });
    manager.shutdown().expect("shutdown");
    c.final_summary();
}
