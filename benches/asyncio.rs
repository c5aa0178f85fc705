//! spindle::asyncio against tokio's current-thread runtime: spawn+await of trivial tasks,
//! a TCP echo round trip on 127.0.0.1, and `call_soon` throughput.
//! Python twin: `benches/python/bench_asyncio.py` (same group names).

#![allow(
    missing_docs,
    reason = "criterion_group! generates an undocumented pub fn"
)]

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use spindle::asyncio::{self as aio, EventLoop};

/// Tasks per measured batch in `async_spawn_await`.
const TASKS: usize = 1_000;
/// Callbacks per measured batch in `async_call_soon`.
const CALLBACKS: usize = 1_000;
/// Bytes per echo message.
const MSG: usize = 64;

fn spawn_await(c: &mut Criterion) {
    let mut g = c.benchmark_group("async_spawn_await");
    g.throughput(Throughput::Elements(TASKS as u64));
    let lp = EventLoop::new().unwrap();
    g.bench_function("spindle", |b| {
        b.iter(|| {
            lp.run_until_complete(async {
                let mut sum = 0usize;
                for i in 0..TASKS {
                    sum += aio::spawn(async move { i }).await.unwrap();
                }
                sum
            })
            .unwrap()
        })
    });
    g.bench_function("spindle_batch", |b| {
        b.iter(|| {
            lp.run_until_complete(async {
                let tasks: Vec<_> = (0..TASKS).map(|i| aio::spawn(async move { i })).collect();
                let mut sum = 0usize;
                for t in tasks {
                    sum += t.await.unwrap();
                }
                sum
            })
            .unwrap()
        })
    });
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    g.bench_function("tokio", |b| {
        b.iter(|| {
            rt.block_on(async {
                let mut sum = 0usize;
                for i in 0..TASKS {
                    sum += tokio::spawn(async move { i }).await.unwrap();
                }
                sum
            })
        })
    });
    g.bench_function("tokio_batch", |b| {
        b.iter(|| {
            rt.block_on(async {
                let tasks: Vec<_> = (0..TASKS).map(|i| tokio::spawn(async move { i })).collect();
                let mut sum = 0usize;
                for t in tasks {
                    sum += t.await.unwrap();
                }
                sum
            })
        })
    });
    g.finish();
    lp.close().unwrap();
}

fn tcp_echo_rtt(c: &mut Criterion) {
    let mut g = c.benchmark_group("async_tcp_echo_rtt");
    g.throughput(Throughput::Elements(1));

    let lp = EventLoop::new().unwrap();
    let (r, w, server) = lp
        .run_until_complete(async {
            let server = aio::start_server(
                |r, w| async move {
                    while let Ok(buf) = r.readexactly(MSG).await {
                        w.write(&buf);
                        if w.drain().await.is_err() {
                            break;
                        }
                    }
                },
                "127.0.0.1",
                0,
            )
            .await
            .unwrap();
            let (r, w) = aio::open_connection("127.0.0.1", server.local_addr().port())
                .await
                .unwrap();
            (r, w, server)
        })
        .unwrap();
    let msg = [7u8; MSG];
    g.bench_function("spindle", |b| {
        b.iter_custom(|iters| {
            let (r, w) = (r.clone(), w.clone());
            lp.run_until_complete(async move {
                let t0 = Instant::now();
                for _ in 0..iters {
                    w.write(&msg);
                    w.drain().await.unwrap();
                    let back = r.readexactly(MSG).await.unwrap();
                    debug_assert_eq!(back.len(), MSG);
                }
                t0.elapsed()
            })
            .unwrap()
        })
    });
    w.close();
    server.close();
    lp.run_until_complete(async {}).unwrap();
    lp.close().unwrap();

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .unwrap();
    let (mut stream, _server) = rt.block_on(async {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            s.set_nodelay(true).unwrap();
            let mut buf = [0u8; MSG];
            while s.read_exact(&mut buf).await.is_ok() {
                if s.write_all(&buf).await.is_err() {
                    break;
                }
            }
        });
        let s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.set_nodelay(true).unwrap();
        (s, server)
    });
    g.bench_function("tokio", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                let mut buf = [0u8; MSG];
                let t0 = Instant::now();
                for _ in 0..iters {
                    stream.write_all(&msg).await.unwrap();
                    stream.read_exact(&mut buf).await.unwrap();
                }
                t0.elapsed()
            })
        })
    });
    g.finish();
}

fn call_soon(c: &mut Criterion) {
    let mut g = c.benchmark_group("async_call_soon");
    g.throughput(Throughput::Elements(CALLBACKS as u64));
    let lp = EventLoop::new().unwrap();
    let count = Rc::new(Cell::new(0usize));
    g.bench_function("spindle", |b| {
        b.iter(|| {
            for _ in 0..CALLBACKS {
                let c = count.clone();
                lp.call_soon(move || c.set(c.get() + 1));
            }
            let l2 = lp.clone();
            lp.call_soon(move || l2.stop());
            let before = count.get();
            lp.run_forever().unwrap();
            assert_eq!(count.get() - before, CALLBACKS);
        })
    });
    g.finish();
    lp.close().unwrap();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = spawn_await, tcp_echo_rtt, call_soon
}
criterion_main!(benches);
