//! Fault drills for `Connection` (issue 14, item 2): a child writes frames through the raw
//! descriptor and stops half-way — staying alive, completing the frame later, or closing —
//! and the receiver's deadlines must cover the whole frame, keep the partial frame, name a
//! truncation, and never allocate what a lying header announces.

spindle_process::test_support!();

mod support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use spindle_process::connection::{wait, DEFAULT_MAX_MESSAGE};
use spindle_process::{Connection, ConnectionError, Pipe};
use support::{join_or_kill, process_lock, spawn, KillOnDrop, Watchdog, LIMIT};

/// The receive timeout under test.
const TIMEOUT: Duration = Duration::from_secs(1);
/// Generous upper bound for a receive with [`TIMEOUT`]: a bound check, not a speed test.
const BOUND: Duration = Duration::from_secs(3);
/// How long each test may run before the watchdog fails the binary.
const WATCHDOG: Duration = Duration::from_secs(60);
/// Largest single allocation a receive may make while a header lies about its body.
const ALLOC_BOUND: usize = 8 << 20;

// ---- allocation watch: the largest single request made by a watched thread ----

struct Tracking;

thread_local! {
    static WATCHED: Cell<bool> = const { Cell::new(false) };
}
static LARGEST: AtomicUsize = AtomicUsize::new(0);

fn note(size: usize) {
    if WATCHED.try_with(Cell::get).unwrap_or(false) {
        LARGEST.fetch_max(size, Ordering::Relaxed);
    }
}

// SAFETY:
// - every method forwards to `System` with the caller's arguments unchanged; `note` only
//   reads a thread-local `Cell` and updates an atomic, and never allocates.
unsafe impl GlobalAlloc for Tracking {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY:
        // - the caller upholds `GlobalAlloc::alloc`'s contract, which `System` shares.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY:
        // - as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        // SAFETY:
        // - `ptr` was allocated by `System` (every allocation here is) with `layout`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY:
        // - `ptr` was allocated by `System` with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOC: Tracking = Tracking;

/// Runs `f` on this thread and returns its result with the largest single allocation it made.
/// Callers hold the process lock, so no other test watches at the same time.
fn largest_allocation<R>(f: impl FnOnce() -> R) -> (R, usize) {
    LARGEST.store(0, Ordering::Relaxed);
    WATCHED.with(|w| w.set(true));
    let r = f();
    WATCHED.with(|w| w.set(false));
    (r, LARGEST.load(Ordering::Relaxed))
}

// ---- the peer: a child that writes raw bytes on command ----

/// Writes, through the raw descriptor of `data`, each byte string the parent sends on `ctl`,
/// acknowledging each; `None` (or the parent gone) ends it, closing its end mid-frame.
fn raw_writer((data, ctl): (Connection, Connection)) {
    let mut out = std::fs::File::from(data.as_fd().try_clone_to_owned().unwrap());
    while let Ok(Some(bytes)) = ctl.recv_timeout::<Option<Vec<u8>>>(LIMIT) {
        out.write_all(&bytes).unwrap();
        ctl.send(&()).unwrap();
    }
}

/// A child holding the only other copy of a connection end, writing raw bytes on command.
struct Peer {
    child: KillOnDrop,
    ctl: Connection,
}

impl Peer {
    /// Starts a writer on `end` (moved to the child; this process keeps no copy of it).
    fn start(end: Connection) -> Peer {
        let (ctl, child_ctl) = Pipe(true).unwrap();
        let child = spawn(raw_writer, (end, child_ctl));
        Peer { child, ctl }
    }

    /// Has the child write `bytes` and waits until it did.
    fn write(&self, bytes: &[u8]) {
        self.ctl.send(&Some(bytes.to_vec())).unwrap();
        self.ctl.recv_timeout::<()>(LIMIT).unwrap();
    }

    /// Has the child exit, closing its end wherever the stream stands.
    fn close(self) {
        self.ctl.send(&None::<Vec<u8>>).unwrap();
        assert_eq!(join_or_kill(&self.child), 0);
    }
}

/// The 4-byte header of a frame with a `len`-byte body.
fn header(len: u32) -> [u8; 4] {
    len.to_le_bytes()
}

/// Exactly the bytes `Connection::send(value)` writes, captured from a local pipe.
fn frame_of<T: serde::Serialize + Sync>(value: &T) -> Vec<u8> {
    let (rx, tx) = Pipe(false).unwrap();
    let mut raw = std::fs::File::from(rx.as_fd().try_clone_to_owned().unwrap());
    drop(rx);
    std::thread::scope(|s| {
        s.spawn(move || tx.send(value).unwrap()); // `tx` drops when sent: end of file
        let mut bytes = Vec::new();
        raw.read_to_end(&mut bytes).unwrap();
        bytes
    })
}

/// Runs `f`, asserting it took about [`TIMEOUT`]: not before it, and within [`BOUND`].
fn timed<R>(what: &str, f: impl FnOnce() -> R) -> R {
    let start = Instant::now();
    let r = f();
    let took = start.elapsed();
    assert!(
        took >= TIMEOUT - Duration::from_millis(50) && took < BOUND,
        "{what} took {took:?}, expected about {TIMEOUT:?}"
    );
    r
}

fn message(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

#[test]
fn truncated_frame_times_out_then_the_next_recv_completes_it() {
    let _g = process_lock();
    let _w = Watchdog::new("truncated frame, completed later", WATCHDOG);
    let (a, b) = Pipe(true).unwrap();
    let peer = Peer::start(b);
    let text: String = "spindle ".repeat(12_500); // 100 000 bytes: body reads bypass the buffer
    let frame = frame_of(&text);
    let cut = 4 + 40_000;
    peer.write(&frame[..cut]);
    let r = timed("recv_timeout on a truncated frame", || {
        a.recv_timeout::<String>(TIMEOUT)
    });
    assert!(matches!(r, Err(ConnectionError::Timeout)), "{r:?}");
    // The same again: the partial frame is kept, not re-read as a new header.
    let r = a.recv_timeout::<String>(Duration::from_millis(100));
    assert!(matches!(r, Err(ConnectionError::Timeout)), "{r:?}");
    peer.write(&frame[cut..]);
    peer.write(&frame_of(&"next".to_string()));
    assert_eq!(a.recv_timeout::<String>(LIMIT).unwrap(), text);
    assert_eq!(a.recv_timeout::<String>(LIMIT).unwrap(), "next");
    peer.close();
    assert!(matches!(
        a.recv_bytes_timeout(LIMIT),
        Err(ConnectionError::Eof)
    ));
}

#[test]
fn truncated_frame_on_a_one_way_pipe_times_out_then_completes() {
    let _g = process_lock();
    let _w = Watchdog::new("truncated frame on a pipe", WATCHDOG);
    let (rx, tx) = Pipe(false).unwrap();
    let peer = Peer::start(tx);
    let body = message(50_000);
    // Cut inside the header first, then inside the body.
    peer.write(&header(50_000)[..2]);
    let r = timed("recv_bytes_timeout on half a header", || {
        rx.recv_bytes_timeout(TIMEOUT)
    });
    assert!(matches!(r, Err(ConnectionError::Timeout)), "{r:?}");
    let mut rest = header(50_000)[2..].to_vec();
    rest.extend_from_slice(&body[..30_000]);
    peer.write(&rest);
    let r = timed("recv_bytes_timeout on a truncated body", || {
        rx.recv_bytes_timeout(TIMEOUT)
    });
    assert!(matches!(r, Err(ConnectionError::Timeout)), "{r:?}");
    peer.write(&body[30_000..]);
    // A blocking receive finishes what the timed ones started.
    assert_eq!(rx.recv_bytes().unwrap(), body);
    peer.close();
}

#[test]
fn peer_closing_mid_frame_is_truncated_not_eof() {
    let _g = process_lock();
    let _w = Watchdog::new("peer closes mid-frame", WATCHDOG);
    // Mid-body, after a timed receive already holds part of it.
    let (a, b) = Pipe(true).unwrap();
    let peer = Peer::start(b);
    peer.write(&frame_of(&1u8));
    let mut partial = header(1000).to_vec();
    partial.extend_from_slice(&message(10));
    peer.write(&partial);
    assert_eq!(a.recv_timeout::<u8>(LIMIT).unwrap(), 1);
    let r = timed("recv_timeout mid-body", || a.recv_bytes_timeout(TIMEOUT));
    assert!(matches!(r, Err(ConnectionError::Timeout)), "{r:?}");
    peer.close();
    let err = a.recv_bytes_timeout(LIMIT).unwrap_err();
    assert!(
        matches!(
            err,
            ConnectionError::Truncated {
                expected: 1004,
                got: 14
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("14 of its 1004 bytes"), "{err}");
    assert!(matches!(
        a.recv_bytes_timeout(LIMIT),
        Err(ConnectionError::Eof)
    ));

    // Mid-header, seen by a blocking receive over a one-way pipe.
    let (rx, tx) = Pipe(false).unwrap();
    let peer = Peer::start(tx);
    peer.write(&header(7)[..3]);
    peer.close();
    let err = rx.recv_bytes().unwrap_err();
    assert!(
        matches!(
            err,
            ConnectionError::Truncated {
                expected: 4,
                got: 3
            }
        ),
        "{err:?}"
    );
    assert!(matches!(rx.recv_bytes(), Err(ConnectionError::Eof)));
}

#[test]
fn header_announcing_200_mib_times_out_without_allocating_it() {
    let _g = process_lock();
    let _w = Watchdog::new("200 MiB header, no body", WATCHDOG);
    const LEN: u32 = 200 << 20;
    let (a, b) = Pipe(true).unwrap();
    assert!(LEN as usize <= a.max_message_size());
    let peer = Peer::start(b);
    peer.write(&header(LEN));
    let (r, largest) = largest_allocation(|| {
        timed("recv_bytes_timeout on a 200 MiB header", || {
            a.recv_bytes_timeout(TIMEOUT)
        })
    });
    assert!(matches!(r, Err(ConnectionError::Timeout)), "{r:?}");
    assert!(largest < ALLOC_BOUND, "allocated {largest} bytes at once");
    // Some body arrives, not all: still a timeout, still no big allocation.
    peer.write(&message(100_000));
    let (r, largest) = largest_allocation(|| a.recv_bytes_timeout(Duration::from_millis(200)));
    assert!(matches!(r, Err(ConnectionError::Timeout)), "{r:?}");
    assert!(largest < ALLOC_BOUND, "allocated {largest} bytes at once");
    peer.close();
    let err = a.recv_bytes_timeout(LIMIT).unwrap_err();
    assert!(
        matches!(err, ConnectionError::Truncated { expected, got: 100_004 }
            if expected == LEN as usize + 4),
        "{err:?}"
    );
}

#[test]
fn header_announcing_4_gib_is_refused_or_times_out_without_allocating_it() {
    let _g = process_lock();
    let _w = Watchdog::new("4 GiB header, no body", WATCHDOG);
    // Over the default limit: a typed error as soon as the header is in.
    let (a, b) = Pipe(true).unwrap();
    let peer = Peer::start(b);
    peer.write(&header(u32::MAX));
    let (r, largest) = largest_allocation(|| a.recv_bytes_timeout(LIMIT));
    let err = r.unwrap_err();
    assert!(
        matches!(err, ConnectionError::TooLarge { size, max: DEFAULT_MAX_MESSAGE }
            if size == u32::MAX as usize),
        "{err:?}"
    );
    assert!(largest < ALLOC_BOUND, "allocated {largest} bytes at once");
    // The body is being skipped: the next receive waits for it, within its own timeout.
    let r = a.recv_bytes_timeout(Duration::from_millis(200));
    assert!(matches!(r, Err(ConnectionError::Timeout)), "{r:?}");
    peer.write(&message(5000));
    peer.close();
    assert!(matches!(
        a.recv_bytes_timeout(LIMIT),
        Err(ConnectionError::Truncated { got: 5004, .. })
    ));

    // With the limit raised to what a header can say: a bounded timeout, no 4 GiB buffer.
    let (a, b) = Pipe(true).unwrap();
    a.set_max_message_size(usize::MAX);
    assert_eq!(a.max_message_size(), u32::MAX as usize);
    let peer = Peer::start(b);
    peer.write(&header(u32::MAX));
    let (r, largest) = largest_allocation(|| {
        timed("recv_timeout on a 4 GiB header", || {
            a.recv_timeout::<Vec<u8>>(TIMEOUT)
        })
    });
    assert!(matches!(r, Err(ConnectionError::Timeout)), "{r:?}");
    assert!(largest < ALLOC_BOUND, "allocated {largest} bytes at once");
    peer.close();
}

/// Whether thread `tid` of this process is blocked in `read(fd, ..)`.
fn blocked_in_read(tid: i32, fd: i32) -> bool {
    let path = format!("/proc/self/task/{tid}/syscall");
    let Ok(s) = std::fs::read_to_string(path) else {
        return false;
    };
    let mut words = s.split_whitespace();
    let nr = words.next().and_then(|w| w.parse::<i64>().ok());
    let arg0 = words
        .next()
        .and_then(|w| i64::from_str_radix(w.trim_start_matches("0x"), 16).ok());
    nr == Some(libc::SYS_read) && arg0 == Some(i64::from(fd))
}

#[test]
fn a_receiver_stuck_mid_frame_does_not_hold_up_a_timed_one() {
    use std::os::fd::AsRawFd;
    let _g = process_lock();
    let _w = Watchdog::new("two receivers, one stuck mid-frame", WATCHDOG);
    let (a, b) = Pipe(true).unwrap();
    let peer = Peer::start(b);
    let body = message(20_000);
    let mut first = header(20_000).to_vec();
    first.extend_from_slice(&body[..5_000]);
    peer.write(&first);
    std::thread::scope(|s| {
        let (tid_tx, tid_rx) = std::sync::mpsc::channel();
        let a = &a;
        let stuck = s.spawn(move || {
            // SAFETY:
            // - gettid has no preconditions.
            tid_tx.send(unsafe { libc::gettid() }).unwrap();
            a.recv_bytes() // blocks mid-frame, holding the read side
        });
        let tid = tid_rx.recv_timeout(LIMIT).unwrap();
        let give_up = Instant::now() + LIMIT;
        while !blocked_in_read(tid, a.as_raw_fd()) {
            assert!(
                Instant::now() < give_up,
                "the first receiver never blocked in read"
            );
            std::thread::yield_now();
        }
        let r = timed("recv_bytes_timeout behind a stuck receiver", || {
            a.recv_bytes_timeout(TIMEOUT)
        });
        assert!(matches!(r, Err(ConnectionError::Timeout)), "{r:?}");
        assert!(!a.poll(Some(Duration::from_millis(50))));
        peer.write(&body[5_000..]);
        assert_eq!(stuck.join().unwrap().unwrap(), body);
    });
    peer.close();
}

#[test]
fn poll_and_wait_report_whole_frames_only() {
    let _g = process_lock();
    let _w = Watchdog::new("poll with a partial frame", WATCHDOG);
    let (a, b) = Pipe(true).unwrap();
    let (idle, _idle_peer) = Pipe(true).unwrap();
    let peer = Peer::start(b);
    let body = message(40_000);
    let mut partial = header(40_000).to_vec();
    partial.extend_from_slice(&body[..100]);
    peer.write(&partial);
    let start = Instant::now();
    assert!(!a.poll(Some(Duration::from_millis(300))));
    assert!(start.elapsed() < BOUND);
    assert!(!a.poll(Some(Duration::ZERO)));
    assert!(wait(&[&idle, &a], Some(Duration::from_millis(300)))
        .unwrap()
        .is_empty());
    peer.write(&body[100..]);
    assert!(a.poll(Some(LIMIT)));
    // Ready means ready: even a zero timeout receives it.
    assert_eq!(a.recv_bytes_timeout(Duration::ZERO).unwrap(), body);
    peer.write(&frame_of(&9u8));
    assert_eq!(wait(&[&idle, &a], Some(LIMIT)).unwrap(), vec![1]);
    assert_eq!(a.recv_timeout::<u8>(Duration::ZERO).unwrap(), 9);
    // End of file mid-frame is ready too: the receive reports it at once.
    peer.write(&header(10));
    peer.close();
    assert!(a.poll(Some(LIMIT)));
    assert!(matches!(
        a.recv_bytes_timeout(Duration::ZERO),
        Err(ConnectionError::Truncated {
            expected: 14,
            got: 4
        })
    ));
}

#[test]
fn io_errors_keep_their_cause() {
    use std::error::Error as _;
    let err = ConnectionError::Io(std::io::Error::from_raw_os_error(libc::EBADF));
    let shown = err.to_string();
    assert!(shown.contains("os error 9"), "{shown}");
    let source = err.source().expect("the io::Error is the source");
    assert_eq!(
        source
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::raw_os_error),
        Some(libc::EBADF)
    );
}

/// Wherever the stream is cut — inside a header, a body, between frames — timed receives
/// that give up at the cut and a blocking receive after it deliver the same frames, whole and
/// in order, over a socket and over a pipe. (In one process: the cut is what is under test.)
#[test]
fn any_cut_of_the_stream_delivers_the_same_frames() {
    let _w = Watchdog::new("stream cut everywhere", WATCHDOG);
    let frames: Vec<Vec<u8>> = vec![message(3), Vec::new(), message(40_000), message(17)];
    let mut stream = Vec::new();
    for f in &frames {
        stream.extend_from_slice(&header(f.len() as u32));
        stream.extend_from_slice(f);
    }
    let near_edges = [
        0usize, 1, 3, 4, 5, 7, 8, 11, 12, 40_011, 40_012, 40_013, 40_016,
    ];
    let cuts: Vec<usize> = (0..stream.len())
        .step_by(4_999)
        .chain(near_edges)
        .chain([stream.len()])
        .collect();
    for duplex in [true, false] {
        for &cut in &cuts {
            let (rx, tx) = if duplex {
                Pipe(true).unwrap()
            } else {
                Pipe(false).unwrap()
            };
            let mut raw = std::fs::File::from(tx.as_fd().try_clone_to_owned().unwrap());
            drop(tx);
            raw.write_all(&stream[..cut]).unwrap();
            let mut got = Vec::new();
            loop {
                match rx.recv_bytes_timeout(Duration::ZERO) {
                    Ok(f) => got.push(f),
                    Err(ConnectionError::Timeout) => break,
                    Err(e) => panic!("cut at {cut}: {e}"),
                }
            }
            assert!(
                !rx.poll(Some(Duration::ZERO)),
                "cut at {cut}: nothing whole is left"
            );
            let tail = stream[cut..].to_vec();
            let writer = std::thread::spawn(move || raw.write_all(&tail).unwrap());
            while got.len() < frames.len() {
                got.push(rx.recv_bytes().unwrap());
            }
            writer.join().unwrap();
            assert_eq!(got, frames, "cut at {cut}, duplex {duplex}");
        }
    }
}
