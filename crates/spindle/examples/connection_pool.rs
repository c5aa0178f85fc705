//! A connection pool guarded by a `BoundedSemaphore`: at most `POOL_SIZE` workers hold a
//! connection at once, however many want one (Python's `threading.BoundedSemaphore` recipe).
//!
//! Each worker takes a permit (`with pool_sema:`), borrows a connection, runs a few
//! "queries", and gives both back. The program records the highest number of connections
//! in use at once and asserts it never passed the bound. A release too many is refused with
//! an error, which is why the bounded kind exists.
//!
//! Run: `cargo run -p spindle --example connection_pool`

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use spindle::threading::{Barrier, BoundedSemaphore, Thread};

const POOL_SIZE: usize = 3;
const WORKERS: usize = 8;
const QUERIES_PER_WORKER: usize = 50;
/// How long one simulated query keeps its connection busy.
const QUERY_TIME: Duration = Duration::from_micros(300);

struct Connection {
    id: usize,
    queries: usize,
}

struct Pool {
    permits: BoundedSemaphore,
    idle: Mutex<Vec<Connection>>,
    in_use: AtomicUsize,
    max_in_use: AtomicUsize,
}

impl Pool {
    fn new(size: usize) -> Self {
        Self {
            permits: BoundedSemaphore::new(size),
            idle: Mutex::new((0..size).map(|id| Connection { id, queries: 0 }).collect()),
            in_use: AtomicUsize::new(0),
            max_in_use: AtomicUsize::new(0),
        }
    }

    /// Runs `f` with a borrowed connection, waiting for a free one.
    fn with_connection<R>(&self, f: impl FnOnce(&mut Connection) -> R) -> R {
        let _permit = self.permits.permit(); // at most POOL_SIZE get past this line
        let now = self.in_use.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_use.fetch_max(now, Ordering::SeqCst);
        let mut conn = self
            .idle
            .lock()
            .unwrap()
            .pop()
            .expect("a permit guarantees a connection");
        let result = f(&mut conn);
        self.idle.lock().unwrap().push(conn);
        self.in_use.fetch_sub(1, Ordering::SeqCst);
        result
    }
}

fn main() {
    let pool = Arc::new(Pool::new(POOL_SIZE));
    let start = Arc::new(Barrier::new(WORKERS, None));
    let workers: Vec<_> = (0..WORKERS)
        .map(|w| {
            let (pool, start) = (pool.clone(), start.clone());
            Thread::builder()
                .name(format!("worker-{w}"))
                .spawn(move || {
                    start.wait(None).expect("barrier broken");
                    let mut used = Vec::new();
                    for _ in 0..QUERIES_PER_WORKER {
                        let id = pool.with_connection(|conn| {
                            conn.queries += 1;
                            // sleep-ok: stands for the query's network round trip, not a hand-off.
                            std::thread::sleep(QUERY_TIME);
                            conn.id
                        });
                        used.push(id);
                    }
                    used
                })
                .expect("spawn worker")
        })
        .collect();
    let mut per_connection = [0usize; POOL_SIZE];
    for w in workers {
        for id in w.join().expect("worker panicked") {
            per_connection[id] += 1;
        }
    }

    let max = pool.max_in_use.load(Ordering::SeqCst);
    println!("{WORKERS} workers, {POOL_SIZE} connections: at most {max} in use at once");
    println!("queries per connection: {per_connection:?}");
    assert!(max <= POOL_SIZE, "the semaphore let {max} workers in");
    assert_eq!(
        per_connection.iter().sum::<usize>(),
        WORKERS * QUERIES_PER_WORKER
    );
    let conns = pool.idle.lock().unwrap();
    assert_eq!(conns.len(), POOL_SIZE);
    assert_eq!(
        conns.iter().map(|c| c.queries).sum::<usize>(),
        WORKERS * QUERIES_PER_WORKER
    );

    // Every permit is back; one more release is a bug, and the bounded semaphore says so.
    let err = pool.permits.release(1).unwrap_err();
    println!("an extra release is refused: {err}");
}
