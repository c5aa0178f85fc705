//! Process queues under faults: a writer or reader SIGKILLed (or stopped) in the middle of a
//! 4 MiB item costs at most that item, reported once as `GetError::Torn`; no get or put waits
//! past its timeout; counts, free slots and unfinished tasks stay true.

spindle_process::test_support!();

mod support;

use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_bytes::ByteBuf;
use spindle_process::queues::{GetError, PutError, TornCause};
use spindle_process::{Array, Event, JoinableQueue, Queue};
use support::{join_or_kill, process_lock, spawn, KillOnDrop, Watchdog};

/// The item a writer is killed in the middle of (four times the pipe buffer).
const BIG: usize = 4 << 20;
/// The honest items that follow it.
const MIB: usize = 1 << 20;
/// How long a test waits for a child to reach the state it needs.
const SETTLE: Duration = Duration::from_secs(20);
/// Every drill together must end well within this.
const DRILL: Duration = Duration::from_secs(90);

/// What the drills need from a queue kind.
trait Fifo: Clone + Serialize + DeserializeOwned + Send + 'static {
    fn put_item(&self, v: Vec<u8>);
    fn get_item(&self, t: Duration) -> Result<Vec<u8>, GetError>;
    fn size(&self) -> usize;
    /// Marks a taken item processed (`JoinableQueue` only).
    fn done(&self) {}
}

impl Fifo for Queue<Vec<u8>> {
    fn put_item(&self, v: Vec<u8>) {
        self.put(v).unwrap();
    }
    fn get_item(&self, t: Duration) -> Result<Vec<u8>, GetError> {
        self.get_timeout(t)
    }
    fn size(&self) -> usize {
        self.qsize()
    }
}

impl Fifo for JoinableQueue<Vec<u8>> {
    fn put_item(&self, v: Vec<u8>) {
        self.put(v).unwrap();
    }
    fn get_item(&self, t: Duration) -> Result<Vec<u8>, GetError> {
        self.get_timeout(t)
    }
    fn size(&self) -> usize {
        self.qsize()
    }
    fn done(&self) {
        self.task_done().unwrap();
    }
}

/// Child: puts one `BIG` item (it blocks once the pipe is full, since nobody reads yet).
fn put_big<Q: Fifo>(q: Q) {
    q.put_item(vec![0xab; BIG]);
}

/// Child: says it is about to read, then takes one item (it blocks mid-item when the writer
/// is stopped).
fn get_one<Q: Fifo>((q, started): (Q, Event)) {
    started.set();
    let _ = q.get_item(Duration::from_secs(600));
}

/// The state letter of `/proc/<pid>/stat` (`R`, `S`, `T`, `Z`, ...).
fn proc_state(pid: u32) -> Option<u8> {
    let stat = std::fs::read(format!("/proc/{pid}/stat")).ok()?;
    let close = stat.iter().rposition(|&b| b == b')')?;
    stat.get(close + 2).copied()
}

/// Polls `cond` until it holds, failing the test after [`SETTLE`].
fn settle(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + SETTLE;
    while !cond() {
        assert!(
            Instant::now() < deadline,
            "{what}: not reached within {SETTLE:?}"
        );
        // sleep-ok: polls a condition read from /proc and the queue, bounded by SETTLE.
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Sends `sig` to `pid`.
fn signal(pid: u32, sig: i32) {
    // SAFETY:
    // - kill(2) takes plain integers; `pid` is our own child, still unreaped.
    let r = unsafe { libc::kill(pid as libc::pid_t, sig) };
    assert_eq!(
        r,
        0,
        "kill({pid}, {sig}): {}",
        std::io::Error::last_os_error()
    );
}

/// Starts a writer child and waits until it is blocked in the middle of its `BIG` item.
fn writer_stuck_mid_item<Q: Fifo>(q: &Q) -> KillOnDrop {
    let w = spawn(put_big::<Q>, q.clone());
    let pid = w.pid().unwrap();
    settle("writer blocked mid-item", || {
        q.size() == 1 && proc_state(pid) == Some(b'S')
    });
    w
}

/// Kills `p` with SIGKILL and reaps it.
fn kill9(p: &KillOnDrop) {
    p.kill().unwrap();
    assert_eq!(join_or_kill(p), -libc::SIGKILL);
}

fn item(i: u8) -> Vec<u8> {
    vec![i; MIB]
}

/// Puts three honest 1 MiB items from a thread (each is larger than what the pipe has free,
/// so the puts need a reader at the same time).
fn put_three<Q: Fifo>(q: &Q) -> std::thread::JoinHandle<()> {
    let q = q.clone();
    std::thread::spawn(move || {
        for i in 1..=3 {
            q.put_item(item(i));
        }
    })
}

/// Takes the three honest items, in order and intact.
fn take_three<Q: Fifo>(q: &Q) {
    for i in 1..=3 {
        let got = q.get_item(Duration::from_secs(10)).unwrap();
        assert!(got == item(i), "item {i} corrupted or out of order");
        q.done();
    }
}

/// Asserts that `r` is the one report of a torn item of `cause`.
fn assert_torn(r: Result<Vec<u8>, GetError>, cause: TornCause) {
    match r {
        Err(GetError::Torn {
            announced: Some(n),
            cause: c,
        }) if c == cause => assert!(n >= BIG, "announced {n} bytes"),
        other => panic!("expected Torn({cause:?}), got {:?}", other.map(|v| v.len())),
    }
}

/// The queue is empty, and a get with a timeout says so after that timeout, not much later.
fn assert_drained<Q: Fifo>(q: &Q) {
    assert_eq!(q.size(), 0);
    let t = Instant::now();
    assert_eq!(q.get_item(Duration::from_millis(300)), Err(GetError::Empty));
    let waited = t.elapsed();
    assert!(
        waited >= Duration::from_millis(300) && waited < Duration::from_millis(1300),
        "get_timeout(300 ms) returned after {waited:?}"
    );
}

/// Writer killed mid-item; a reader comes first: it gets `Torn` within its timeout, then the
/// honest items arrive whole and in order.
fn drill_writer_killed_reader_first<Q: Fifo>(q: &Q) {
    let w = writer_stuck_mid_item(q);
    kill9(&w);
    let t = Instant::now();
    let r = q.get_item(Duration::from_secs(2));
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "get waited {:?}",
        t.elapsed()
    );
    assert_torn(r, TornCause::WriterDied);
    assert_eq!(q.size(), 0);
    let producer = put_three(q);
    take_three(q);
    producer.join().unwrap();
    assert_drained(q);
}

/// Writer killed mid-item; honest writers come before any reader. The first of them settles
/// the torn frame and goes on; the reader then sees `Torn` once and every honest item.
fn drill_writer_killed_writers_first<Q: Fifo>(q: &Q) {
    let w = writer_stuck_mid_item(q);
    kill9(&w);
    let producer = put_three(q);
    // The dead item still counts until a reader reports it; the first honest one is in flight.
    settle("next writer took over", || q.size() == 2);
    assert_torn(q.get_item(Duration::from_secs(2)), TornCause::WriterDied);
    take_three(q);
    producer.join().unwrap();
    assert_drained(q);
}

/// Reader killed while blocked in the middle of an item (its writer stopped): the next reader
/// skips the rest of that item, reports it once, and the honest items follow.
fn drill_reader_killed<Q: Fifo>(q: &Q) {
    let w = writer_stuck_mid_item(q);
    let wpid = w.pid().unwrap();
    signal(wpid, libc::SIGSTOP);
    let started = Event::new().unwrap();
    let r = spawn(get_one::<Q>, (q.clone(), started.clone()));
    let rpid = r.pid().unwrap();
    assert!(started.wait_timeout(SETTLE), "reader did not start");
    // Asleep after starting its get: it has read all there was and waits for the rest.
    settle("reader blocked mid-item", || proc_state(rpid) == Some(b'S'));
    kill9(&r);
    signal(wpid, libc::SIGCONT);
    let t = Instant::now();
    let got = q.get_item(Duration::from_secs(10));
    assert!(t.elapsed() < Duration::from_secs(10));
    assert_torn(got, TornCause::ReaderDied);
    assert_eq!(join_or_kill(&w), 0, "the writer finishes its put");
    let producer = put_three(q);
    take_three(q);
    producer.join().unwrap();
    assert_drained(q);
}

/// The three kill drills, in order, for one queue type.
fn drills<Q: Fifo>() -> [fn(&Q); 3] {
    [
        drill_writer_killed_reader_first,
        drill_writer_killed_writers_first,
        drill_reader_killed,
    ]
}

#[test]
fn queue_writer_killed_mid_put_then_a_reader() {
    let _g = process_lock();
    let _w = Watchdog::new("queue_writer_killed_mid_put_then_a_reader", DRILL);
    drill_writer_killed_reader_first(&Queue::<Vec<u8>>::new(0).unwrap());
}

#[test]
fn queue_writer_killed_mid_put_then_more_writers() {
    let _g = process_lock();
    let _w = Watchdog::new("queue_writer_killed_mid_put_then_more_writers", DRILL);
    drill_writer_killed_writers_first(&Queue::<Vec<u8>>::new(0).unwrap());
}

#[test]
fn queue_reader_killed_mid_get() {
    let _g = process_lock();
    let _w = Watchdog::new("queue_reader_killed_mid_get", DRILL);
    drill_reader_killed(&Queue::<Vec<u8>>::new(0).unwrap());
}

#[test]
fn joinable_queue_counts_a_torn_item_as_done() {
    let _g = process_lock();
    let _w = Watchdog::new("joinable_queue_counts_a_torn_item_as_done", DRILL);
    let q = JoinableQueue::<Vec<u8>>::new(0).unwrap();
    for drill in drills() {
        drill(&q);
        assert!(
            q.join_timeout(Duration::from_secs(1)),
            "unfinished count leaked"
        );
    }
    assert!(q.task_done().is_err(), "no task is left to mark");
}

/// After each drill on a bounded queue every slot is free again: exactly `maxsize` items fit.
fn assert_slots_free(q: &Queue<Vec<u8>>, maxsize: usize) {
    for i in 0..maxsize {
        q.put_nowait(vec![i as u8]).unwrap();
    }
    assert!(matches!(q.put_nowait(vec![0]), Err(PutError::Full(_))));
    for i in 0..maxsize {
        assert_eq!(q.get_item(Duration::from_secs(1)).unwrap(), vec![i as u8]);
    }
    assert!(q.empty());
}

#[test]
fn bounded_queue_gives_back_the_slot_of_a_torn_item() {
    let _g = process_lock();
    let _w = Watchdog::new("bounded_queue_gives_back_the_slot_of_a_torn_item", DRILL);
    let q = Queue::<Vec<u8>>::new(4).unwrap();
    for drill in drills() {
        drill(&q);
        assert_slots_free(&q, 4);
    }
}

#[test]
fn stalled_writer_costs_a_timeout_not_a_hang_and_the_item_completes_later() {
    let _g = process_lock();
    let _w = Watchdog::new("stalled_writer", DRILL);
    let q = Queue::<Vec<u8>>::new(0).unwrap();
    let w = writer_stuck_mid_item(&q);
    let wpid = w.pid().unwrap();
    signal(wpid, libc::SIGSTOP);
    // A partial frame that does not complete: the get returns at its deadline.
    for _ in 0..2 {
        let t = Instant::now();
        assert_eq!(
            q.get_timeout(Duration::from_millis(300)),
            Err(GetError::Empty)
        );
        let waited = t.elapsed();
        assert!(waited < Duration::from_millis(1300), "waited {waited:?}");
    }
    signal(wpid, libc::SIGCONT);
    // This process kept what it had read; its next get completes the item.
    let got = q.get_timeout(Duration::from_secs(10)).unwrap();
    assert!(got == vec![0xab; BIG], "the stalled item arrives whole");
    assert_eq!(join_or_kill(&w), 0);
    assert_drained(&q);
}

#[test]
fn put_timeout_covers_the_whole_item() {
    let _g = process_lock();
    let _w = Watchdog::new("put_timeout_covers_the_whole_item", DRILL);
    let q = Queue::<Vec<u8>>::new(0).unwrap();
    let t = Instant::now();
    let back = match q.put_timeout(vec![7; BIG], Duration::from_millis(300)) {
        Err(PutError::Full(v)) => v,
        other => panic!("expected Full, got {other:?}"),
    };
    assert!(
        t.elapsed() < Duration::from_millis(1300),
        "put waited {:?}",
        t.elapsed()
    );
    assert_eq!(back.len(), BIG, "the item comes back whole");
    assert_eq!(q.qsize(), 0);
    // The part that went out is skipped without a report; honest items follow.
    let producer = put_three(&q);
    take_three(&q);
    producer.join().unwrap();
    assert_drained(&q);
}

/// A checkable item: `(writer, seq, payload)` whose payload bytes follow from `seq` (as bytes,
/// so that encoding a few MiB costs a copy, not a loop over every byte).
type Tagged = (u32, u64, ByteBuf);

/// Consecutive items differ in every byte, so a value glued from two items shows.
fn payload(seq: u64, len: usize) -> ByteBuf {
    ByteBuf::from(vec![(seq % 251) as u8; len])
}

fn intact(t: &Tagged) -> bool {
    t.2 == payload(t.1, t.2.len())
}

/// A small xorshift generator: the storms' random sizes and kill moments.
struct Rng(u64);

impl Rng {
    fn seeded() -> Rng {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64;
        eprintln!("storm seed {t}");
        Rng(t | 1)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Child: puts items `0..` of sizes from 1 KiB to 1.5 MiB (drawn from `seed`) until killed or
/// `n` are put.
fn put_tagged((q, writer, seed, n, started): (Queue<Tagged>, u32, u64, u64, Event)) {
    let mut rng = Rng(seed | 1);
    started.set();
    for seq in 0..n {
        let len = 1024 + rng.below(3 << 19) as usize;
        q.put((writer, seq, payload(seq, len))).unwrap();
    }
}

/// Takes items until the queue stays empty for 300 ms; every get returns by its timeout.
/// Returns the items and the cause of each torn report.
fn drain_checked(q: &Queue<Tagged>) -> (Vec<Tagged>, Vec<TornCause>) {
    let (mut got, mut torn) = (Vec::new(), Vec::new());
    let deadline = Instant::now() + SETTLE;
    loop {
        assert!(Instant::now() < deadline, "the queue never went quiet");
        let t = Instant::now();
        let r = q.get_timeout(Duration::from_millis(300));
        assert!(
            t.elapsed() < Duration::from_millis(1300),
            "get waited {:?}",
            t.elapsed()
        );
        match r {
            Ok(item) => {
                assert!(intact(&item), "item {:?} corrupted", (item.0, item.1));
                got.push(item);
            }
            Err(GetError::Torn { cause, .. }) => torn.push(cause),
            Err(GetError::Empty) => return (got, torn),
            Err(e) => panic!("unexpected {e}"),
        }
    }
}

#[test]
fn writers_killed_at_random_moments_cost_one_item_each() {
    let _g = process_lock();
    let _w = Watchdog::new("writers_killed_at_random_moments", DRILL);
    let q = Queue::<Tagged>::new(0).unwrap();
    let mut rng = Rng::seeded();
    let mut torn_total = 0;
    for round in 0..4 {
        let started = Event::new().unwrap();
        let w = spawn(
            put_tagged,
            (
                q.clone(),
                round,
                rng.below(u64::MAX),
                1_000_000,
                started.clone(),
            ),
        );
        assert!(started.wait_timeout(SETTLE), "writer did not start");
        // Even rounds read while the writer runs; odd rounds let it fill the pipe and block
        // inside an item. Then kill it at a random moment.
        let reader = (round % 2 == 0).then(|| {
            let q = q.clone();
            std::thread::spawn(move || drain_checked(&q))
        });
        // sleep-ok: the kill moment is the injected fault, not a synchronisation.
        std::thread::sleep(Duration::from_millis(50 + rng.below(350)));
        kill9(&w);
        let (mut got, mut torn) = reader.map_or((Vec::new(), Vec::new()), |r| r.join().unwrap());
        let (more, torn_more) = drain_checked(&q);
        got.extend(more);
        torn.extend(torn_more);
        let torn = torn.len();
        assert!(torn <= 1, "round {round}: {torn} torn reports for one kill");
        eprintln!("round {round}: {} items, {torn} torn", got.len());
        torn_total += torn;
        // This writer's items arrive as a gap-free prefix: only the killed one may be lost.
        for (i, item) in got.iter().enumerate() {
            assert_eq!(
                (item.0, item.1),
                (round, i as u64),
                "round {round}: lost or reordered"
            );
        }
        assert_eq!(q.qsize(), 0, "round {round}: qsize counts a lost item");
    }
    eprintln!("{torn_total} torn items in 4 kills");
}

/// Child: says it started, then takes items until killed, marking each one it got in `taken`
/// (indexed by sequence number).
fn take_marking((q, taken, started): (Queue<Tagged>, Array<u8>, Event)) {
    started.set();
    loop {
        if let Ok(item) = q.get_timeout(Duration::from_secs(600)) {
            taken.set(item.1 as usize, 1);
        }
    }
}

/// Sequence numbers below `end` that nobody accounts for: neither in `seen` nor marked in
/// `taken` by a reader child before it died.
fn lost(seen: &[u64], taken: &Array<u8>, end: u64) -> Vec<u64> {
    (0..end)
        .filter(|s| !seen.contains(s) && taken.get(*s as usize) != Some(1))
        .collect()
}

#[test]
fn readers_killed_at_random_moments_never_corrupt_or_hang() {
    let _g = process_lock();
    let _w = Watchdog::new("readers_killed_at_random_moments", DRILL);
    const ITEMS: u64 = 60;
    let q = Queue::<Tagged>::new(0).unwrap();
    let taken = Array::<u8>::new(ITEMS as usize).unwrap();
    let mut rng = Rng::seeded();
    let started = Event::new().unwrap();
    let w = spawn(
        put_tagged,
        (q.clone(), 0, rng.below(u64::MAX), ITEMS, started.clone()),
    );
    assert!(started.wait_timeout(SETTLE), "writer did not start");
    let mut seen = Vec::new();
    for kill in 1..=4 {
        let up = Event::new().unwrap();
        let r = spawn(take_marking, (q.clone(), taken.clone(), up.clone()));
        assert!(up.wait_timeout(SETTLE), "reader did not start");
        // sleep-ok: the kill moment is the injected fault.
        std::thread::sleep(Duration::from_millis(rng.below(300)));
        kill9(&r);
        let (got, torn) = drain_checked(&q);
        seen.extend(got.into_iter().map(|item| item.1));
        // One killed reader: at most its item reported, and only as its own death.
        assert!(torn.len() <= 1, "kill {kill}: torn reports {torn:?}");
        assert!(
            torn.iter().all(|c| *c == TornCause::ReaderDied),
            "kill {kill}: torn reports {torn:?}"
        );
        // Everything below the newest item is accounted for, but for one item per kill.
        let newest = seen.iter().max().map_or(0, |m| m + 1);
        let gone = lost(&seen, &taken, newest);
        assert!(
            gone.len() <= kill,
            "after {kill} kills, items {gone:?} lost"
        );
    }
    assert_eq!(join_or_kill(&w), 0, "the writer finishes");
    let (got, torn) = drain_checked(&q);
    seen.extend(got.into_iter().map(|item| item.1));
    assert!(torn.is_empty(), "no kill, yet torn reports {torn:?}");
    assert!(
        seen.windows(2).all(|p| p[0] < p[1]),
        "items out of order: {seen:?}"
    );
    let gone = lost(&seen, &taken, ITEMS);
    eprintln!("items {gone:?} lost in 4 reader kills");
    assert!(gone.len() <= 4, "items {gone:?} lost in 4 reader kills");
    assert_eq!(q.qsize(), 0);
}

/// Whether `pid` sleeps in `poll`: what a `get` on an empty queue waits in.
fn in_poll(pid: u32) -> bool {
    let Ok(s) = std::fs::read_to_string(format!("/proc/{pid}/syscall")) else {
        return false;
    };
    let nr = s
        .split_whitespace()
        .next()
        .and_then(|n| n.parse::<i64>().ok());
    #[cfg(target_arch = "x86_64")]
    let polls = [libc::SYS_poll, libc::SYS_ppoll];
    #[cfg(not(target_arch = "x86_64"))]
    let polls = [libc::SYS_ppoll];
    nr.is_some_and(|n| polls.contains(&n))
}

/// The kill that used to cost two items: a reader waiting on an empty queue is SIGKILLed at a
/// random moment after an item arrives — often inside the `read` that copies the body, after
/// the kernel took the bytes and before the reader could note its new position. The next
/// reader must resume at the next frame: at most the killed reader's item is lost, reported
/// at most once, and the item after it always arrives whole.
#[test]
fn reader_killed_inside_its_last_read_costs_only_its_item() {
    let _g = process_lock();
    let _w = Watchdog::new("reader_killed_inside_its_last_read", DRILL);
    const ROUNDS: u64 = 200;
    let q = Queue::<Tagged>::new(0).unwrap();
    let taken = Array::<u8>::new(2 * ROUNDS as usize).unwrap();
    let mut rng = Rng::seeded();
    let (mut torn_total, mut lost_total) = (0, 0);
    for round in 0..ROUNDS {
        let (first, next) = (2 * round, 2 * round + 1);
        let up = Event::new().unwrap();
        let r = spawn(take_marking, (q.clone(), taken.clone(), up.clone()));
        let pid = r.pid().unwrap();
        assert!(up.wait_timeout(SETTLE), "reader did not start");
        settle("reader waiting in get", || in_poll(pid));
        // Items of 64 KiB to 2 MiB; a put larger than the pipe needs a reader, so a thread
        // puts them, the second only once the reader is dead.
        let (go, wait_go) = std::sync::mpsc::channel::<()>();
        let producer = {
            let q = q.clone();
            let sizes = [65536 + rng.below(2 << 20), 65536 + rng.below(2 << 20)];
            std::thread::spawn(move || {
                q.put((0, first, payload(first, sizes[0] as usize)))
                    .unwrap();
                wait_go.recv().unwrap();
                q.put((0, next, payload(next, sizes[1] as usize))).unwrap();
            })
        };
        // sleep-ok: the kill moment is the injected fault.
        std::thread::sleep(Duration::from_micros(rng.below(4000)));
        kill9(&r);
        go.send(()).unwrap();
        let (mut seen, mut torn) = (Vec::new(), Vec::new());
        while !seen.contains(&next) {
            match q.get_timeout(Duration::from_secs(5)) {
                Ok(item) => {
                    assert!(intact(&item), "round {round}: item {} corrupted", item.1);
                    seen.push(item.1);
                }
                Err(GetError::Torn { cause, .. }) => torn.push(cause),
                Err(e) => panic!(
                    "round {round}: item {next} never came ({e}); got {seen:?}, torn {torn:?}"
                ),
            }
        }
        producer.join().unwrap();
        assert!(
            torn.len() <= 1 && torn.iter().all(|c| *c == TornCause::ReaderDied),
            "round {round}: one killed reader, torn reports {torn:?}"
        );
        let gone = lost(&seen, &taken, next + 1)
            .into_iter()
            .filter(|s| *s >= first)
            .count();
        assert!(
            gone <= 1,
            "round {round}: one killed reader cost {gone} items"
        );
        if seen.contains(&first) {
            assert!(
                torn.is_empty(),
                "round {round}: item {first} arrived and torn"
            );
        }
        assert_eq!(q.qsize(), 0, "round {round}: qsize counts a lost item");
        torn_total += torn.len();
        lost_total += gone;
    }
    eprintln!("{ROUNDS} reader kills: {torn_total} torn reports, {lost_total} items lost");
}
