//! Threading benches: spindle's locks beside parking_lot and std, per operation. Python
//! twin: `benches/python/bench_sync.py` (same group names).
//!
//! Groups:
//! - `lock_uncontended`: one thread, acquire + release. `spindle` takes the RAII guard
//!   (`lock()`), `spindle_acquire_release` the Python-style raw pair; peers lock a
//!   `Mutex<()>`.
//! - `lock_contended_2threads`: two threads each increment a shared counter under the lock
//!   `iters` times; time per increment (total time / (2 x iters)).
//! - `rlock_uncontended`: one thread, re-entrant acquire + release (peer:
//!   `parking_lot::ReentrantMutex<()>`).
//! - `semaphore_acquire_release`: one thread, take and give back one permit (peer: a
//!   semaphore built from `std::sync::Mutex<usize>` + `Condvar`, the textbook form).
//!
//! Two-thread groups use `iter_custom`; the thread start-up is a constant that criterion's
//! slope estimate discounts.

#![allow(
    missing_docs,
    reason = "criterion_group! generates an undocumented pub fn"
)]

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use spindle::threading::{Lock, RLock, Semaphore};

fn lock_uncontended(c: &mut Criterion) {
    let mut g = c.benchmark_group("lock_uncontended");
    g.throughput(Throughput::Elements(1));
    let ours = Lock::new();
    g.bench_function("spindle", |b| b.iter(|| drop(black_box(ours.lock()))));
    g.bench_function("spindle_acquire_release", |b| {
        b.iter(|| {
            ours.acquire();
            ours.release().unwrap();
        })
    });
    let pl = parking_lot::Mutex::new(());
    g.bench_function("parking_lot", |b| b.iter(|| drop(black_box(pl.lock()))));
    let std_mutex = Mutex::new(());
    g.bench_function("std", |b| {
        b.iter(|| drop(black_box(std_mutex.lock().unwrap())))
    });
    g.finish();
}

/// Two threads each run `op` `iters` times; returns the time per op.
fn two_threads(iters: u64, op: impl Fn() + Sync) -> Duration {
    let op = &op;
    let start = Instant::now();
    thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(move || {
                for _ in 0..iters {
                    op();
                }
            });
        }
    });
    start.elapsed() / 2
}

fn lock_contended_2threads(c: &mut Criterion) {
    let mut g = c.benchmark_group("lock_contended_2threads");
    g.throughput(Throughput::Elements(1));
    // The counter is a plain load + store: only correct under the lock.
    let counter = AtomicU64::new(0);
    let bump = || {
        let v = counter.load(Ordering::Relaxed);
        counter.store(v + 1, Ordering::Relaxed);
    };
    let ours = Lock::new();
    g.bench_function("spindle", |b| {
        b.iter_custom(|iters| {
            two_threads(iters, || {
                let _g = ours.lock();
                bump();
            })
        })
    });
    g.bench_function("spindle_acquire_release", |b| {
        b.iter_custom(|iters| {
            two_threads(iters, || {
                ours.acquire();
                bump();
                ours.release().unwrap();
            })
        })
    });
    let pl = parking_lot::Mutex::new(());
    g.bench_function("parking_lot", |b| {
        b.iter_custom(|iters| {
            two_threads(iters, || {
                let _g = pl.lock();
                bump();
            })
        })
    });
    let std_mutex = Mutex::new(());
    g.bench_function("std", |b| {
        b.iter_custom(|iters| {
            two_threads(iters, || {
                let _g = std_mutex.lock().unwrap();
                bump();
            })
        })
    });
    g.finish();
}

fn rlock_uncontended(c: &mut Criterion) {
    let mut g = c.benchmark_group("rlock_uncontended");
    g.throughput(Throughput::Elements(1));
    let ours = RLock::new();
    g.bench_function("spindle", |b| b.iter(|| drop(black_box(ours.lock()))));
    g.bench_function("spindle_acquire_release", |b| {
        b.iter(|| {
            ours.acquire();
            ours.release().unwrap();
        })
    });
    let pl = parking_lot::ReentrantMutex::new(());
    g.bench_function("parking_lot", |b| b.iter(|| drop(black_box(pl.lock()))));
    g.finish();
}

/// The textbook semaphore: a counter under a mutex, a condvar to wait on.
struct StdSemaphore {
    value: Mutex<usize>,
    cond: Condvar,
}

impl StdSemaphore {
    fn acquire(&self) {
        let mut v = self.value.lock().unwrap();
        while *v == 0 {
            v = self.cond.wait(v).unwrap();
        }
        *v -= 1;
    }

    fn release(&self) {
        *self.value.lock().unwrap() += 1;
        self.cond.notify_one();
    }
}

fn semaphore_acquire_release(c: &mut Criterion) {
    let mut g = c.benchmark_group("semaphore_acquire_release");
    g.throughput(Throughput::Elements(1));
    let ours = Semaphore::new(1);
    g.bench_function("spindle", |b| {
        b.iter(|| {
            ours.acquire();
            ours.release(1);
        })
    });
    let theirs = StdSemaphore {
        value: Mutex::new(1),
        cond: Condvar::new(),
    };
    g.bench_function("std", |b| {
        b.iter(|| {
            theirs.acquire();
            theirs.release();
        })
    });
    g.finish();
}

criterion_group!(
    benches,
    lock_uncontended,
    lock_contended_2threads,
    rlock_uncontended,
    semaphore_acquire_release
);
criterion_main!(benches);
