//! Several processes update one dict owned by a `Manager`: each worker records the words it
//! counted under its own key and adds to shared totals under a managed lock; the parent prints
//! and checks the result.
//!
//! Python:
//! ```python
//! with multiprocessing.Manager() as m:
//!     d, lock = m.dict(), m.Lock()
//!     procs = [Process(target=count, args=(d, lock, i, text)) for i, text in enumerate(TEXTS)]
//! ```

use spindle::multiprocessing::managers::{DictProxy, LockProxy, Manager};
use spindle::multiprocessing::Process;
use std::time::Duration;

const TEXTS: [&str; 4] = [
    "the quick brown fox",
    "jumps over the lazy dog",
    "the dog sleeps",
    "a fox and a dog",
];

type Args = (DictProxy<String, u64>, LockProxy, usize, String);

fn count((d, lock, worker, text): Args) {
    let words = text.split_whitespace().count() as u64;
    // One atomic call: no lock needed for a plain insert.
    d.insert(&format!("worker-{worker}"), &words)
        .expect("insert");
    // Read-modify-write across two calls: the managed lock makes it exact.
    for word in text.split_whitespace() {
        let _held = lock.lock().expect("lock");
        let key = format!("word:{word}");
        let n = d.get(&key).expect("get").unwrap_or(0);
        d.insert(&key, &(n + 1)).expect("insert");
    }
}

fn main() {
    spindle::multiprocessing::init();

    let manager = Manager::start().expect("start the manager");
    println!("manager listening at {}", manager.address().display());
    let d = manager.dict::<String, u64>().expect("dict");
    let lock = manager.lock().expect("lock");

    let mut procs: Vec<Process> = TEXTS
        .iter()
        .enumerate()
        .map(|(i, text)| Process::new(count, (d.clone(), lock.clone(), i, text.to_string())))
        .collect();
    for p in &mut procs {
        p.start().expect("start a worker");
    }
    for p in &procs {
        assert!(
            p.join_timeout(Duration::from_secs(30)),
            "worker did not finish"
        );
        assert_eq!(p.exitcode(), Some(0));
    }

    let items = d.items().expect("items");
    for (k, v) in &items {
        println!("{k:>14} = {v}");
    }
    let total_words: usize = TEXTS.iter().map(|t| t.split_whitespace().count()).sum();
    let per_worker: u64 = (0..TEXTS.len())
        .map(|i| d.get_item(&format!("worker-{i}")).expect("worker entry"))
        .sum();
    assert_eq!(per_worker as usize, total_words);
    assert_eq!(d.get_item(&"word:the".to_string()).unwrap(), 3);
    assert_eq!(d.get_item(&"word:dog".to_string()).unwrap(), 3);
    assert_eq!(d.get_item(&"word:a".to_string()).unwrap(), 2);
    let counted: u64 = items
        .iter()
        .filter(|(k, _)| k.starts_with("word:"))
        .map(|(_, v)| v)
        .sum();
    assert_eq!(counted as usize, total_words);

    manager.shutdown().expect("shutdown");
    assert!(d.len().is_err(), "the dict is gone with its manager");
    println!(
        "{} workers counted {total_words} words; manager shut down",
        TEXTS.len()
    );
}
