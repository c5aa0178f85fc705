//! A bounded chaos run over the process layer:
//! `cargo xtask soak [--secs N] [--seed S] [--only pool,queue_writer,..]`.
//!
//! Each round picks one scenario, kills a real process with `SIGKILL` at a random moment and
//! checks the promises of `docs/guide.md` ("What a fault can cost"):
//!
//! - `pool`: pool workers killed while tasks run; every task completes, or fails with
//!   `WorkerDied` because it ran on a killed worker; the pool stays usable.
//! - `queue_writer` / `queue_reader`: a process `Queue` writer or reader killed mid-stream of
//!   large items; what arrives is intact and in order, at most the killed item is lost, and a
//!   fault is reported at most once.
//! - `connection`: the sending peer of a `Pipe` killed mid-frame; every frame received is intact
//!   and in order, then the receiver learns the peer is gone.
//! - `manager`: a client of a `Manager` killed mid-call; the manager goes on serving.
//!
//! After every round: no wait lasted past its timeout (plus [`SLACK`]), and no descriptor,
//! child process, `/dev/shm` entry or manager directory outlived the round. The first broken
//! promise ends the run with status 1 and says which, with the seed that reproduces the order.

use spindle_process::managers::{DictProxy, Manager};
use spindle_process::pool::{Pool, PoolError};
use spindle_process::queues::GetError;
use spindle_process::{Connection, ConnectionError, Event, Pipe, Process, Queue};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

/// How far past its timeout a wait may return on a loaded two-core machine.
const SLACK: Duration = Duration::from_millis(1500);
/// The timeout of every blocking receive in the soak.
const WAIT: Duration = Duration::from_millis(500);
/// The longest a round may run: several [`LIMIT`]s.
const ROUND_LIMIT: Duration = Duration::from_secs(120);
/// Waits for things that must happen (a child ending, a result arriving).
const LIMIT: Duration = Duration::from_secs(30);
/// Largest item or frame sent: several pipe buffers, so kills land mid-message.
const MAX_ITEM: usize = 3 << 20;

type Outcome = Result<String, String>;
/// A scenario: its name and one round of it.
type Scenario = (&'static str, fn(&mut Rng) -> Outcome);

/// xorshift64*: the soak needs reproducible randomness, not a crate.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    /// Mostly small items, some several pipe buffers long.
    fn size(&mut self) -> usize {
        if self.below(3) == 0 {
            16 + self.below(4096) as usize
        } else {
            (256 << 10) + self.below(MAX_ITEM as u64) as usize
        }
    }
    fn millis(&mut self, lo: u64, hi: u64) -> Duration {
        Duration::from_millis(lo + self.below(hi - lo))
    }
}

/// An item that proves its own integrity: sender, sequence number, length, then a pattern
/// derived from all three.
fn item(sender: u8, seq: u32, len: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(len.max(9));
    v.push(sender);
    v.extend_from_slice(&seq.to_le_bytes());
    v.extend_from_slice(&(len.max(9) as u32).to_le_bytes());
    let salt = (seq as u8) ^ sender;
    v.extend((9..len.max(9)).map(|i| (i as u8).wrapping_mul(31) ^ salt));
    v
}

/// `(sender, seq)` if `v` is an intact item.
fn check(v: &[u8]) -> Option<(u8, u32)> {
    if v.len() < 9 {
        return None;
    }
    let seq = u32::from_le_bytes(v[1..5].try_into().ok()?);
    let len = u32::from_le_bytes(v[5..9].try_into().ok()?) as usize;
    (len == v.len() && *v == item(v[0], seq, len)[..]).then_some((v[0], seq))
}

/// Runs `f`, failing if it returned later than `timeout + SLACK`.
fn bounded<T>(what: &str, timeout: Duration, f: impl FnOnce() -> T) -> Result<T, String> {
    let t = Instant::now();
    let r = f();
    let took = t.elapsed();
    if took > timeout + SLACK {
        return Err(format!(
            "{what} returned after {took:?}, its timeout was {timeout:?}"
        ));
    }
    Ok(r)
}

fn kill(pid: u32) {
    // SAFETY: plain syscall on a pid we started and have not reaped.
    unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
}

/// Starts `f((args, ready))` and returns once the child has set `ready`, so that the kill
/// that follows lands while it works, not while it starts.
fn start<A>(f: fn((A, Event)), args: A) -> Result<Process, String>
where
    A: serde::Serialize + serde::de::DeserializeOwned + Send + 'static,
{
    let ready = Event::new().map_err(|e| format!("Event::new: {e}"))?;
    let mut p = Process::new(f, (args, ready.clone())).daemon(true);
    p.start()
        .map_err(|e| format!("cannot start a soak child: {e}"))?;
    if !ready.wait_timeout(LIMIT) {
        return Err(format!(
            "soak child {:?} did not start within {LIMIT:?}",
            p.pid()
        ));
    }
    Ok(p)
}

/// Kills `p` after `delay` and reaps it.
fn kill_after(p: &Process, delay: Duration) -> Result<(), String> {
    std::thread::sleep(delay); // the fault lands at a random moment, on purpose
    kill(p.pid().expect("started"));
    if !p.join_timeout(LIMIT) {
        return Err(format!(
            "killed child {:?} was not reaped within {LIMIT:?}",
            p.pid()
        ));
    }
    Ok(())
}

// ---- pool ---------------------------------------------------------------------------------

fn work(x: u64) -> u64 {
    let t = Instant::now();
    while t.elapsed() < Duration::from_micros(300) {
        std::hint::spin_loop();
    }
    x * 2
}

fn pool_round(rng: &mut Rng) -> Outcome {
    let pool = Pool::new(3);
    let tasks: Vec<_> = (0..300u64).map(|x| pool.apply_async(work, x)).collect();
    let kills = 1 + rng.below(5) as usize;
    for _ in 0..kills {
        std::thread::sleep(rng.millis(1, 15)); // random fault timing, on purpose
        let pids = pool.worker_pids();
        if let Some(&pid) = pids.get(rng.below(pids.len() as u64) as usize) {
            kill(pid);
        }
    }
    let (mut died, deadline) = (0, Instant::now() + LIMIT);
    for (x, t) in tasks.iter().enumerate() {
        let left = deadline.saturating_duration_since(Instant::now());
        match bounded("AsyncResult::get", left, || t.get(Some(left)))? {
            Ok(v) if v == 2 * x as u64 => {}
            Ok(v) => return Err(format!("task {x} returned {v}, expected {}", 2 * x)),
            Err(PoolError::WorkerDied { .. }) => died += 1,
            Err(PoolError::NotReady) => {
                return Err(format!("task {x} still pending after {LIMIT:?}"))
            }
            Err(e) => return Err(format!("task {x} failed with {e:?} ({e})")),
        }
    }
    if died > kills {
        return Err(format!(
            "{died} tasks failed with WorkerDied after only {kills} kills"
        ));
    }
    let after = pool
        .map(work, 0..20u64, Some(1))
        .map_err(|e| format!("the pool is unusable after the kills: {e}"))?;
    if after != (0..20).map(|x| 2 * x).collect::<Vec<_>>() {
        return Err("the pool returned wrong results after the kills".into());
    }
    Ok(format!(
        "{kills} kills, {died} tasks lost with their worker"
    ))
}

// ---- queue --------------------------------------------------------------------------------

fn queue_writer(((q, seed), ready): ((Queue<Vec<u8>>, u64), Event)) {
    let mut rng = Rng(seed);
    ready.set();
    for seq in 0..10_000 {
        if q.put(item(1, seq, rng.size())).is_err() {
            return;
        }
    }
}

/// Reads until `done(received)` holds, checking each item; returns the sequence numbers per
/// sender and the number of faults reported.
fn drain(
    q: &Queue<Vec<u8>>,
    mut done: impl FnMut(&[(u8, u32)]) -> bool,
) -> Result<(Vec<(u8, u32)>, usize), String> {
    let (mut got, mut faults, mut empties) = (Vec::new(), 0, 0);
    while !done(&got) {
        match bounded("Queue::get_timeout", WAIT, || q.get_timeout(WAIT))? {
            Ok(v) => {
                let id = check(&v).ok_or_else(|| format!("corrupted item of {} bytes", v.len()))?;
                if let Some(prev) = got.iter().rev().find(|(s, _)| *s == id.0) {
                    if prev.1 >= id.1 {
                        return Err(format!("item {id:?} arrived after {prev:?}"));
                    }
                }
                got.push(id);
                empties = 0;
            }
            Err(GetError::Empty) => {
                empties += 1;
                if empties * WAIT > LIMIT {
                    return Err(format!("items lost: nothing arrived for {LIMIT:?}"));
                }
            }
            Err(e) => {
                faults += 1;
                eprintln!("  reported: {e}");
            }
        }
    }
    Ok((got, faults))
}

fn queue_writer_round(rng: &mut Rng) -> Outcome {
    let q = Queue::<Vec<u8>>::new(0).map_err(|e| format!("Queue::new: {e}"))?;
    let writer = start(queue_writer, (q.clone(), rng.next()))?;
    let delay = rng.millis(5, 120);
    let (got, faults) = std::thread::scope(|s| {
        let killer = s.spawn(|| -> Result<(), String> {
            kill_after(&writer, delay)?;
            // Honest items after the kill must all arrive, whole and in order.
            for seq in 0..3 {
                q.put(item(2, seq, 1 << 20))
                    .map_err(|e| format!("put after the kill: {e}"))?;
            }
            Ok(())
        });
        let r = drain(&q, |got| got.iter().filter(|(s, _)| *s == 2).count() == 3);
        killer.join().expect("killer thread")?;
        r
    })?;
    let ours: Vec<u32> = got
        .iter()
        .filter(|(s, _)| *s == 1)
        .map(|(_, n)| *n)
        .collect();
    if let Some(w) = ours.windows(2).find(|w| w[1] != w[0] + 1) {
        return Err(format!(
            "writer items {} to {} are missing",
            w[0] + 1,
            w[1] - 1
        ));
    }
    if faults > 1 {
        return Err(format!("{faults} faults reported for one killed writer"));
    }
    Ok(format!("{} items intact, {faults} torn", got.len()))
}

fn queue_reader(((q, seen), ready): ((Queue<Vec<u8>>, Connection), Event)) {
    ready.set();
    while let Ok(v) = q.get() {
        match check(&v) {
            Some((_, seq)) => {
                if seen.send(&seq).is_err() {
                    return;
                }
            }
            None => std::process::exit(3),
        }
    }
}

fn queue_reader_round(rng: &mut Rng) -> Outcome {
    let q = Queue::<Vec<u8>>::new(0).map_err(|e| format!("Queue::new: {e}"))?;
    let (seen_rx, seen_tx) = Pipe(false).map_err(|e| format!("Pipe: {e}"))?;
    let reader = start(queue_reader, (q.clone(), seen_tx))?;
    let n = 40u32;
    let delay = rng.millis(5, 150);
    let sizes: Vec<usize> = (0..n).map(|_| rng.size()).collect();
    let put_done = std::sync::atomic::AtomicBool::new(false);
    let (got, faults, taken) = std::thread::scope(|s| {
        // Puts go on while the reader dies and after: they block on a full pipe until the
        // drain below takes over from the dead reader.
        s.spawn(|| {
            for (seq, &len) in sizes.iter().enumerate() {
                if q.put(item(3, seq as u32, len)).is_err() {
                    break;
                }
            }
            put_done.store(true, std::sync::atomic::Ordering::Release);
        });
        kill_after(&reader, delay)?;
        if reader.exitcode() == Some(3) {
            return Err("the reader saw a corrupted item".to_string());
        }
        let mut taken = BTreeSet::new();
        while let Ok(seq) = seen_rx.recv_timeout::<u32>(Duration::ZERO) {
            taken.insert(seq);
        }
        let (got, faults) = drain(&q, |got| {
            let last = |s: u32| s == n - 1;
            got.iter().any(|&(_, s)| last(s))
                || taken.iter().any(|&s| last(s))
                || (put_done.load(std::sync::atomic::Ordering::Acquire) && q.qsize() == 0)
        })?;
        Ok((got, faults, taken))
    })?;
    let missing: Vec<u32> = (0..n)
        .filter(|s| !taken.contains(s) && !got.iter().any(|(_, g)| g == s))
        .collect();
    if missing.len() > 1 || faults > 1 {
        return Err(format!(
            "one killed reader cost items {missing:?} and {faults} faults"
        ));
    }
    Ok(format!(
        "{} taken by the reader, {} after it, lost {missing:?}",
        taken.len(),
        got.len()
    ))
}

// ---- connection ---------------------------------------------------------------------------

fn conn_sender(((tx, seed), ready): ((Connection, u64), Event)) {
    let mut rng = Rng(seed);
    ready.set();
    for seq in 0..10_000 {
        if tx.send_bytes(&item(4, seq, rng.size())).is_err() {
            return;
        }
    }
}

fn connection_round(rng: &mut Rng) -> Outcome {
    let (rx, tx) = Pipe(rng.below(2) == 0).map_err(|e| format!("Pipe: {e}"))?;
    let sender = start(conn_sender, (tx, rng.next()))?;
    let delay = rng.millis(5, 120);
    std::thread::scope(|s| {
        let killer = s.spawn(|| kill_after(&sender, delay));
        let mut next = 0;
        let waited = Instant::now();
        let end = loop {
            match bounded("Connection::recv_bytes_timeout", WAIT, || {
                rx.recv_bytes_timeout(WAIT)
            })? {
                Ok(v) => match check(&v) {
                    Some((4, seq)) if seq == next => next += 1,
                    Some(id) => return Err(format!("frame {id:?} arrived, expected {next}")),
                    None => return Err(format!("corrupted frame of {} bytes", v.len())),
                },
                Err(ConnectionError::Timeout) if waited.elapsed() < LIMIT => {}
                Err(e) => break e,
            }
        };
        killer.join().expect("killer thread")?;
        match end {
            ConnectionError::Timeout => Err("the peer's death was never reported".into()),
            e => Ok(format!("{next} frames intact, then: {e}")),
        }
    })
}

// ---- manager ------------------------------------------------------------------------------

fn manager_client((d, ready): (DictProxy<u32, Vec<u8>>, Event)) {
    ready.set();
    for k in 0..100_000u32 {
        if d.insert(&(k % 64), &item(5, k, 64 + (k as usize % 8) * 4096))
            .is_err()
        {
            return;
        }
    }
}

fn manager_round(rng: &mut Rng) -> Outcome {
    let manager = Manager::start().map_err(|e| format!("Manager::start: {e}"))?;
    let d = manager
        .dict::<u32, Vec<u8>>()
        .map_err(|e| format!("dict: {e}"))?;
    let client = start(manager_client, d.clone())?;
    kill_after(&client, rng.millis(5, 100))?;
    let items = bounded("DictProxy::items", LIMIT, || d.items())?
        .map_err(|e| format!("the manager stopped serving after a client died: {e}"))?;
    if let Some((k, _)) = items
        .iter()
        .find(|(k, v)| check(v).is_none_or(|(_, s)| s % 64 != *k))
    {
        return Err(format!("value under key {k} is corrupted"));
    }
    d.insert(&1000, &item(5, 1000, 10))
        .map_err(|e| format!("insert after a client died: {e}"))?;
    manager
        .shutdown()
        .map_err(|e| format!("Manager::shutdown: {e}"))?;
    Ok(format!("{} keys intact", items.len()))
}

// ---- leaks --------------------------------------------------------------------------------

#[derive(Debug, PartialEq)]
struct Census {
    fds: usize,
    children: BTreeSet<u32>,
    shm: BTreeSet<String>,
    manager_dirs: BTreeSet<String>,
}

fn names(dir: &str, keep: impl Fn(&str) -> bool) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| keep(n))
        .collect()
}

fn census() -> Census {
    let me = std::process::id();
    let children = names("/proc/self/task", |_| true)
        .iter()
        .filter_map(|t| std::fs::read_to_string(format!("/proc/self/task/{t}/children")).ok())
        .flat_map(|s| {
            s.split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect::<Vec<_>>()
        })
        .collect();
    Census {
        fds: names("/proc/self/fd", |_| true).len(),
        children,
        shm: names("/dev/shm", |n| n.starts_with(&format!("spindle_{me}_"))),
        manager_dirs: names(&std::env::temp_dir().to_string_lossy(), |n| {
            n.starts_with("spindle-manager")
        }),
    }
}

/// Waits (bounded) for the census to come back to `base`: children are reaped and
/// descriptors closed by threads that may finish just after the round.
fn no_leaks(base: &Census) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let now = census();
        let grown = now.fds > base.fds
            || !now.children.is_subset(&base.children)
            || !now.shm.is_subset(&base.shm)
            || !now.manager_dirs.is_subset(&base.manager_dirs);
        if !grown {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("leak: before the round {base:?}, after it {now:?}"));
        }
        std::thread::sleep(Duration::from_millis(20)); // polling the census with a deadline
    }
}

// ---- main ---------------------------------------------------------------------------------

const SCENARIOS: [Scenario; 5] = [
    ("pool", pool_round),
    ("queue_writer", queue_writer_round),
    ("queue_reader", queue_reader_round),
    ("connection", connection_round),
    ("manager", manager_round),
];

/// The command line: `--secs N`, `--seed S`, `--only a,b`; anything else ends the run with
/// status 2 and the usage.
struct Args {
    secs: u64,
    seed: Option<u64>,
    scenarios: Vec<Scenario>,
}

fn parse_args() -> Args {
    let names: Vec<_> = SCENARIOS.iter().map(|(n, _)| *n).collect();
    let usage = || -> ! {
        eprintln!(
            "usage: soak [--secs N] [--seed S] [--only A,B] (scenarios: {})",
            names.join(", ")
        );
        std::process::exit(2);
    };
    let mut args = Args {
        secs: 30,
        seed: None,
        scenarios: SCENARIOS.to_vec(),
    };
    let rest: Vec<String> = std::env::args().skip(1).collect();
    for pair in rest.chunks(2) {
        match pair {
            [flag, v] if flag == "--secs" => args.secs = v.parse().unwrap_or_else(|_| usage()),
            [flag, v] if flag == "--seed" => {
                args.seed = Some(v.parse().unwrap_or_else(|_| usage()))
            }
            [flag, v] if flag == "--only" => {
                args.scenarios = SCENARIOS
                    .into_iter()
                    .filter(|(name, _)| v.split(',').any(|n| n == *name))
                    .collect();
                if args.scenarios.is_empty() {
                    usage();
                }
            }
            _ => usage(),
        }
    }
    args
}

fn main() {
    spindle_process::init();
    let Args {
        secs,
        seed,
        scenarios,
    } = parse_args();
    let seed = seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64
            | 1
    });
    watchdog(seed);
    println!("soak: {secs} s, seed {seed}");
    let mut rng = Rng(seed);
    // One round of each first, so lazily created helpers (resource tracker, fork server)
    // are part of the baseline rather than counted as leaks.
    for &(name, round) in &scenarios {
        *CURRENT.lock().unwrap() = (0, name, Some(Instant::now()));
        match round(&mut rng) {
            Ok(report) => println!("warm-up   {name:<13} ok: {report}"),
            Err(e) => fail(name, 0, seed, &e),
        }
    }
    let base = census();
    let end = Instant::now() + Duration::from_secs(secs);
    let mut counts = vec![0usize; scenarios.len()];
    let mut n = 0;
    while Instant::now() < end {
        n += 1;
        let i = rng.below(scenarios.len() as u64) as usize;
        let (name, round) = scenarios[i];
        *CURRENT.lock().unwrap() = (n, name, Some(Instant::now()));
        match round(&mut rng).and_then(|r| no_leaks(&base).map(|()| r)) {
            Ok(report) => println!("round {n:>4} {name:<13} ok: {report}"),
            Err(e) => fail(name, n, seed, &e),
        }
        counts[i] += 1;
    }
    let summary: Vec<String> = scenarios
        .iter()
        .zip(counts)
        .map(|((name, _), c)| format!("{name} {c}"))
        .collect();
    println!("soak: {n} rounds passed ({})", summary.join(", "));
}

/// The round now running and when it started, for the watchdog.
static CURRENT: std::sync::Mutex<(usize, &str, Option<Instant>)> =
    std::sync::Mutex::new((0, "", None));

/// Fails the run when one round lasts past [`ROUND_LIMIT`]: a wait that never returns cannot
/// be caught by [`bounded`], so the soak names the hung round from another thread.
fn watchdog(seed: u64) {
    std::thread::spawn(move || loop {
        std::thread::sleep(Duration::from_millis(250)); // polling a deadline, not synchronising
        let (n, name, since) = *CURRENT.lock().unwrap_or_else(|e| e.into_inner());
        if since.is_some_and(|t| t.elapsed() > ROUND_LIMIT) {
            fail(
                name,
                n,
                seed,
                &format!("the round hangs: still running after {ROUND_LIMIT:?}"),
            );
        }
    });
}

fn fail(name: &str, round: usize, seed: u64, e: &str) -> ! {
    eprintln!("soak: round {round} ({name}) broke a promise: {e}");
    eprintln!("soak: reproduce the order with --seed {seed}");
    std::process::exit(1);
}
