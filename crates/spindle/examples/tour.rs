//! A tour of spindle: each Python concurrency module, by its Python name, in one program.
//!
//! Run it with `cargo run -p spindle --example tour`. It shows
//! 1. `threading`: named threads, a `Lock` guarding a counter, an `Event` hand-off;
//! 2. `queue`: a producer/consumer pipeline with `task_done`, `join` and `shutdown`;
//! 3. `concurrent.futures`: a `ThreadPoolExecutor` with a lazy `map` and `as_completed`;
//! 4. `multiprocessing`: a child `Process` answering over a `Pipe`;
//! 5. `asyncio`: an event loop running tasks concurrently with `gather`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use spindle::asyncio;
use spindle::futures::{as_completed, ThreadPoolExecutor};
use spindle::multiprocessing::{self, Connection, Pipe, Process};
use spindle::queue::{GetError, Queue};
use spindle::threading::{current_thread, Event, Lock, Thread};

/// Nothing in the tour waits longer than this; a bug fails instead of hanging.
const LIMIT: Duration = Duration::from_secs(10);

fn main() {
    // A worker process re-executes this program: `init` makes that copy run its job instead.
    multiprocessing::init();
    let started = Instant::now();
    threads_and_locks();
    queue_pipeline();
    thread_pool();
    child_process();
    event_loop();
    println!("\ntour finished in {:.0?}", started.elapsed());
}

fn threads_and_locks() {
    println!("== threading: four threads add 10 000 each to a counter under a Lock");
    let lock = Arc::new(Lock::new());
    let counter = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let ready = Arc::new(Event::new());
    let workers: Vec<Thread<String>> = (0..4)
        .map(|i| {
            let (lock, counter, ready) = (lock.clone(), counter.clone(), ready.clone());
            Thread::builder()
                .name(format!("adder-{i}"))
                .spawn(move || {
                    assert!(ready.wait_timeout(LIMIT), "the start signal came");
                    for _ in 0..10_000 {
                        let _held = lock.lock(); // Python's `with lock:`
                                                 // A read-modify-write that is only correct because of the lock.
                        let v = counter.load(std::sync::atomic::Ordering::Relaxed);
                        counter.store(v + 1, std::sync::atomic::Ordering::Relaxed);
                    }
                    current_thread().name().to_string()
                })
                .expect("spawn a thread")
        })
        .collect();
    ready.set(); // all four start together
    for worker in workers {
        let name = worker.join().expect("the adder finished");
        println!("   {name} done");
    }
    let total = counter.load(std::sync::atomic::Ordering::Relaxed);
    println!("   counter = {total} (exactly 4 x 10 000: no update was lost)");
    assert_eq!(total, 40_000);
}

fn queue_pipeline() {
    println!("\n== queue: a producer feeds two consumers through a bounded Queue(8)");
    let q = Arc::new(Queue::new(8));
    let results = Arc::new(Queue::new(0));
    let consumers: Vec<Thread<usize>> = (0..2)
        .map(|i| {
            let (q, results) = (q.clone(), results.clone());
            Thread::builder()
                .name(format!("consumer-{i}"))
                .spawn(move || {
                    let mut handled = 0;
                    loop {
                        match q.get_timeout(LIMIT) {
                            Ok(n) => {
                                results.put(n * n).expect("results queue is open");
                                q.task_done().expect("one task_done per get");
                                handled += 1;
                            }
                            Err(GetError::ShutDown) => return handled,
                            Err(GetError::Empty) => panic!("producer went quiet"),
                        }
                    }
                })
                .expect("spawn a consumer")
        })
        .collect();
    for n in 1..=20u64 {
        q.put(n).expect("queue is open"); // blocks while 8 items wait: back-pressure
    }
    q.join(); // every item handed out and marked done
    q.shutdown(false); // wakes the consumers, which see ShutDown once it is drained
    for consumer in consumers {
        let name = consumer.name().to_string();
        println!("   {name} handled {} items", consumer.join().unwrap());
    }
    let mut sum = 0;
    while let Ok(square) = results.get_nowait() {
        sum += square;
    }
    println!("   sum of squares 1..=20 = {sum}");
    assert_eq!(sum, (1..=20u64).map(|n| n * n).sum::<u64>());
}

fn thread_pool() {
    println!("\n== concurrent.futures: a ThreadPoolExecutor with map and as_completed");
    let pool = ThreadPoolExecutor::builder()
        .max_workers(4)
        .thread_name_prefix("tour")
        .build();
    // `map` is lazy and ordered: results come back in input order as they are needed.
    let lengths: Vec<usize> = pool
        .map(
            |w: &str| w.len(),
            ["threading", "queue", "futures", "asyncio"],
        )
        .timeout(LIMIT)
        .map(|r| r.expect("task ran"))
        .collect();
    println!("   map(len, words) = {lengths:?}");
    assert_eq!(lengths, vec![9, 5, 7, 7]);
    let futures: Vec<_> = (1..=5u64)
        .map(|n| pool.submit(move || (n, (1..=n).product::<u64>())))
        .collect();
    let mut seen = 0;
    for fut in as_completed(&futures, Some(LIMIT)) {
        let (n, factorial) = fut.expect("in time").result().expect("task ran");
        println!("   {n}! = {factorial}");
        seen += 1;
    }
    assert_eq!(seen, 5);
}

/// Runs in the child process: answers each number with its square until the pipe closes.
fn square_server(conn: Connection) {
    while let Ok(n) = conn.recv::<u64>() {
        conn.send(&(n * n)).expect("parent is listening");
    }
}

fn child_process() {
    println!("\n== multiprocessing: a child process answers over a Pipe");
    let (mut ours, theirs) = Pipe(true).expect("a pipe");
    let mut child = Process::new(square_server, theirs).name("squarer");
    child.start().expect("start the child");
    for n in [3u64, 4, 12] {
        ours.send(&n).expect("child is listening");
        let square: u64 = ours.recv().expect("child answered");
        println!(
            "   child {} says {n}^2 = {square}",
            child.pid().unwrap_or(0)
        );
        assert_eq!(square, n * n);
    }
    ours.close();
    assert!(
        child.join_timeout(LIMIT),
        "the child exits once the pipe closes"
    );
    println!("   child exit code: {:?}", child.exitcode());
    assert_eq!(child.exitcode(), Some(0));
}

fn event_loop() {
    println!("\n== asyncio: three tasks sleep concurrently on one thread");
    let started = Instant::now();
    let names = asyncio::run(async {
        let tasks: Vec<_> = [("a", 30u64), ("b", 10), ("c", 20)]
            .into_iter()
            .map(|(name, ms)| {
                asyncio::create_task(async move {
                    asyncio::sleep(Duration::from_millis(ms)).await;
                    println!("   task {name} woke after {ms} ms");
                    name
                })
            })
            .collect();
        asyncio::gather(tasks).await
    });
    let names: Vec<&str> = names.into_iter().map(|r| r.expect("task ran")).collect();
    assert_eq!(
        names,
        ["a", "b", "c"],
        "gather keeps input order, whatever finishes first"
    );
    let elapsed = started.elapsed();
    println!("   gather -> {names:?} in {elapsed:.0?} (concurrent, not 60 ms in a row)");
}
