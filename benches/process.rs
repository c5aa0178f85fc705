//! Process benches: spindle's `multiprocessing` pieces beside a raw `std` floor. Python twin:
//! `benches/python/bench_process.py` (same group names). The C floor for the ping-pong is
//! `/work/shared/reference/pingpong.c` (run it in the same session to compare).
//!
//! Groups:
//! - `pipe_pingpong`: one 1-byte message to a child and back. `spindle` uses
//!   `Connection::send_bytes`/`recv_bytes` over `Pipe(true)` (a socket pair, like Python's
//!   default); `std` is a raw `UnixStream` pair doing 1-byte `write`/`read` on both sides (the
//!   floor spindle's framing adds to); `spindle_oneway` uses two `Pipe(false)` OS pipes, the
//!   transport of the C floor `pingpong.c`.
//! - `process_start_join`: start a child that does nothing and join it; `spindle` uses the
//!   default spawn method (re-exec), `spindle_forkserver` the fork server (started once,
//!   before measuring), `spindle_fork` the `unsafe` fork method.
//! - `shared_lock_counter`: two processes increment a shared `Value<u64>` under one
//!   process-shared `Lock`; time per increment.
//!
//! - `mp_queue_roundtrip`: one small item to a child through a process `Queue` and back
//!   through a second one (Python: `multiprocessing.Queue`, whose feeder thread it includes).
//! - `mp_queue_stream`: a stream of `u64`s through one process `Queue` to a child that sums
//!   them; time per item, including the child's drain.
//! - `mp_queue_1mib`: one 1 MiB `Vec<u8>` (Python: `bytes`) to a child and back.
//!
//! `main` is written by hand (no `criterion_main!`) so that `init()` runs first: the bench
//! binary is re-executed as the worker of every spawned child.

use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use criterion::Criterion;
use spindle::multiprocessing::{Connection, Event, Lock, Pipe, Process, Queue, StartMethod, Value};

const LIMIT: Duration = Duration::from_secs(60);

fn echo(conn: Connection) {
    while let Ok(m) = conn.recv_bytes() {
        if conn.send_bytes(&m).is_err() {
            break;
        }
    }
}

fn oneway_echo((rx, tx): (Connection, Connection)) {
    while let Ok(m) = rx.recv_bytes() {
        if tx.send_bytes(&m).is_err() {
            break;
        }
    }
}

fn raw_echo(conn: Connection) {
    let mut s = UnixStream::from(conn.as_fd().try_clone_to_owned().unwrap());
    drop(conn);
    let mut b = [0u8; 1];
    while s.read_exact(&mut b).is_ok() {
        if s.write_all(&b).is_err() {
            break;
        }
    }
}

fn pipe_pingpong(c: &mut Criterion) {
    let mut g = c.benchmark_group("pipe_pingpong");
    {
        let (a, b) = Pipe(true).unwrap();
        let mut p = Process::new(echo, b);
        p.start().unwrap();
        g.bench_function("spindle", |bch| {
            bch.iter(|| {
                a.send_bytes(b"x").unwrap();
                a.recv_bytes().unwrap()
            })
        });
        drop(a);
        assert!(p.join_timeout(LIMIT));
    }
    {
        let (child_rx, parent_tx) = Pipe(false).unwrap();
        let (parent_rx, child_tx) = Pipe(false).unwrap();
        let mut p = Process::new(oneway_echo, (child_rx, child_tx));
        p.start().unwrap();
        g.bench_function("spindle_oneway", |bch| {
            bch.iter(|| {
                parent_tx.send_bytes(b"x").unwrap();
                parent_rx.recv_bytes().unwrap()
            })
        });
        drop(parent_tx);
        assert!(p.join_timeout(LIMIT));
    }
    {
        let (a, b) = Pipe(true).unwrap();
        let mut p = Process::new(raw_echo, b);
        p.start().unwrap();
        let mut s = UnixStream::from(a.as_fd().try_clone_to_owned().unwrap());
        drop(a);
        let mut buf = [0u8; 1];
        g.bench_function("std", |bch| {
            bch.iter(|| {
                s.write_all(b"x").unwrap();
                s.read_exact(&mut buf).unwrap();
            })
        });
        drop(s);
        assert!(p.join_timeout(LIMIT));
    }
    g.finish();
}

fn noop(_: ()) {}

fn process_start_join(c: &mut Criterion) {
    let mut g = c.benchmark_group("process_start_join");
    g.sample_size(20);
    g.bench_function("spindle", |b| {
        b.iter(|| {
            let mut p = Process::new(noop, ());
            p.start().unwrap();
            assert_eq!(p.join().unwrap(), 0);
        })
    });
    // Start the fork server outside the measurement.
    let mut warm = Process::new(noop, ()).start_method(StartMethod::ForkServer);
    warm.start().unwrap();
    assert_eq!(warm.join().unwrap(), 0);
    g.bench_function("spindle_forkserver", |b| {
        b.iter(|| {
            let mut p = Process::new(noop, ()).start_method(StartMethod::ForkServer);
            p.start().unwrap();
            assert_eq!(p.join().unwrap(), 0);
        })
    });
    g.bench_function("spindle_fork", |b| {
        b.iter(|| {
            // SAFETY: criterion (built without its rayon feature) measures on this one thread;
            // the bench starts no threads of its own.
            let m = unsafe { StartMethod::fork() };
            let mut p = Process::new(noop, ()).start_method(m);
            p.start().unwrap();
            assert_eq!(p.join().unwrap(), 0);
        })
    });
    g.finish();
}

fn increment((lock, v, ready, go, n): (Lock, Value<u64>, Event, Event, u64)) {
    ready.set();
    go.wait();
    for _ in 0..n {
        let _g = lock.lock();
        v.set(v.get() + 1);
    }
}

fn shared_lock_counter(c: &mut Criterion) {
    let mut g = c.benchmark_group("shared_lock_counter");
    g.sample_size(20);
    g.bench_function("spindle", |b| {
        b.iter_custom(|iters| {
            let lock = Lock::new().unwrap();
            let v = Value::new(0u64).unwrap();
            let (ready, go) = (Event::new().unwrap(), Event::new().unwrap());
            let theirs = iters / 2;
            let mut p = Process::new(
                increment,
                (lock.clone(), v.clone(), ready.clone(), go.clone(), theirs),
            );
            p.start().unwrap();
            assert!(ready.wait_timeout(LIMIT));
            let t = Instant::now();
            go.set();
            for _ in 0..iters - theirs {
                let _g = lock.lock();
                v.set(v.get() + 1);
            }
            assert!(p.join_timeout(LIMIT));
            let d = t.elapsed();
            assert_eq!(v.get(), iters);
            d
        })
    });
    g.finish();
}

fn queue_echo<T>((rx, tx): (Queue<T>, Queue<T>))
where
    T: serde::Serialize + serde::de::DeserializeOwned,
{
    while let Ok(m) = rx.get() {
        if tx.put(m).is_err() {
            break;
        }
    }
}

fn queue_sum((rx, tx, n): (Queue<u64>, Queue<u64>, u64)) {
    let mut sum = 0;
    for _ in 0..n {
        sum += rx.get().unwrap();
    }
    tx.put(sum).unwrap();
}

/// One item there and back through two process queues, per iteration.
fn queue_roundtrip<T>(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    item: T,
) where
    T: serde::Serialize + serde::de::DeserializeOwned + Clone + Send + 'static,
{
    let (to, back) = (Queue::<T>::new(0).unwrap(), Queue::<T>::new(0).unwrap());
    let mut p = Process::new(queue_echo::<T>, (to.clone(), back.clone()));
    p.start().unwrap();
    g.bench_function(name, |b| {
        b.iter(|| {
            to.put(item.clone()).unwrap();
            back.get_timeout(LIMIT).unwrap()
        })
    });
    to.close();
    assert!(p.join_timeout(LIMIT));
}

fn mp_queue(c: &mut Criterion) {
    let mut g = c.benchmark_group("mp_queue_roundtrip");
    queue_roundtrip(&mut g, "spindle", 7u64);
    g.finish();
    let mut g = c.benchmark_group("mp_queue_1mib");
    g.sample_size(20);
    queue_roundtrip(&mut g, "spindle", vec![1u8; 1 << 20]);
    g.finish();
    let mut g = c.benchmark_group("mp_queue_stream");
    g.sample_size(20);
    g.bench_function("spindle", |b| {
        b.iter_custom(|iters| {
            let (q, back) = (Queue::new(0).unwrap(), Queue::new(0).unwrap());
            let mut p = Process::new(queue_sum, (q.clone(), back.clone(), iters));
            p.start().unwrap();
            let t = Instant::now();
            for i in 0..iters {
                q.put(i).unwrap();
            }
            let sum = back.get_timeout(LIMIT).unwrap();
            let d = t.elapsed();
            assert_eq!(sum, iters * iters.saturating_sub(1) / 2);
            assert!(p.join_timeout(LIMIT));
            d
        })
    });
    g.finish();
}

fn main() {
    spindle::multiprocessing::init();
    let mut c = Criterion::default().configure_from_args();
    pipe_pingpong(&mut c);
    process_start_join(&mut c);
    shared_lock_counter(&mut c);
    mp_queue(&mut c);
    c.final_summary();
}
