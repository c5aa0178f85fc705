//! A memoising cache shared by worker threads: each slow lookup runs once per key however many
//! threads ask for it at the same moment, later calls are hits, and entries expire after their
//! time-to-live, so the next call computes a fresh value.
//!
//! Python: a function decorated with `functools.lru_cache(maxsize=...)` called from a
//! `ThreadPoolExecutor`, plus the TTL that `lru_cache` lacks; and a `dict` with a `Lock` for
//! the per-worker tallies.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use spindle::collections::{ThreadSafeCache, ThreadSafeDict};
use spindle::threading::{Barrier, Thread};

const WORKERS: usize = 4;
const SYMBOLS: [&str; 3] = ["ACME", "GLOBEX", "INITECH"];
const TTL: Duration = Duration::from_millis(500);

/// Shared state: the cache, how often the slow lookup really ran, and who asked how often.
struct Shared {
    prices: ThreadSafeCache<&'static str, u64>,
    lookups: AtomicUsize,
    asked: ThreadSafeDict<String, usize>,
}

/// The slow part being memoised: a pretend quote service.
fn fetch_price(shared: &Shared, symbol: &str) -> u64 {
    shared.lookups.fetch_add(1, Ordering::SeqCst);
    thread::sleep(Duration::from_millis(20)); // sleep-ok: stands in for a slow network call
    symbol.bytes().map(u64::from).sum()
}

/// Every worker asks for every symbol, all released together by the barrier.
fn ask_all(shared: &Arc<Shared>, start: &Arc<Barrier>) -> Vec<u64> {
    let workers: Vec<_> = (0..WORKERS)
        .map(|w| {
            let (shared, start) = (Arc::clone(shared), Arc::clone(start));
            Thread::builder()
                .name(format!("worker-{w}"))
                .spawn(move || {
                    start.wait(Some(Duration::from_secs(10))).expect("barrier");
                    SYMBOLS
                        .iter()
                        .map(|&s| {
                            shared
                                .asked
                                .upsert(format!("worker-{w}"), || 0, |n| *n += 1);
                            shared
                                .prices
                                .get_or_insert_with(s, || fetch_price(&shared, s))
                        })
                        .collect::<Vec<_>>()
                })
                .expect("spawn worker")
        })
        .collect();
    let answers: Vec<Vec<u64>> = workers
        .into_iter()
        .map(|t| t.join().expect("worker"))
        .collect();
    for a in &answers {
        assert_eq!(a, &answers[0], "every worker saw the same prices");
    }
    answers[0].clone()
}

fn main() {
    let shared = Arc::new(Shared {
        prices: ThreadSafeCache::builder(128).ttl(TTL).build(),
        lookups: AtomicUsize::new(0),
        asked: ThreadSafeDict::new(),
    });
    let start = Arc::new(Barrier::new(WORKERS, None));
    let began = Instant::now();

    // Round 1: four workers miss the same three keys at once; each lookup runs once.
    let prices = ask_all(&shared, &start);
    let info = shared.prices.cache_info();
    println!("round 1: prices {prices:?}, {info:?}");
    assert_eq!(shared.lookups.load(Ordering::SeqCst), SYMBOLS.len());
    assert_eq!(info.misses, SYMBOLS.len() as u64);
    assert_eq!(info.hits, ((WORKERS - 1) * SYMBOLS.len()) as u64);

    // Round 2, at once: everything is cached, nothing is looked up again.
    ask_all(&shared, &start);
    let info = shared.prices.cache_info();
    println!("round 2: {info:?}");
    assert_eq!(shared.lookups.load(Ordering::SeqCst), SYMBOLS.len());
    assert_eq!(info.hits, ((2 * WORKERS - 1) * SYMBOLS.len()) as u64);

    // Round 3, after the TTL: the entries expired, so each symbol is fetched once more.
    thread::sleep(TTL + Duration::from_millis(20)); // sleep-ok: let the time-to-live run out
    assert!(
        shared.prices.peek("ACME").is_none(),
        "expired entries are never returned"
    );
    ask_all(&shared, &start);
    let info = shared.prices.cache_info();
    println!("round 3 (after {TTL:?} TTL): {info:?}");
    assert_eq!(shared.lookups.load(Ordering::SeqCst), 2 * SYMBOLS.len());
    assert_eq!(info.expirations, SYMBOLS.len() as u64);

    // The per-worker tally, read as one consistent snapshot.
    let mut asked = shared.asked.items();
    asked.sort();
    println!("asked per worker: {asked:?}");
    assert_eq!(asked.len(), WORKERS);
    assert!(asked.iter().all(|(_, n)| *n == 3 * SYMBOLS.len()));
    println!("done in {:?}", began.elapsed());
}
