//! A full `/dev/shm`: every segment spindle creates reserves its space at creation, so a full
//! file system is a typed `ENOSPC` error from `create`, never a `SIGBUS` at a later write, and
//! a failed creation leaves nothing behind.
//!
//! The drill runs in a child of this test binary that has its own mount namespace with a
//! 64 KiB tmpfs over `/dev/shm`, so the host's `/dev/shm` is never touched. Setting that up
//! needs root (CAP_SYS_ADMIN), as CI has; where it cannot be set up the test fails and says
//! why, rather than passing without having checked anything.

spindle_process::test_support!();

mod support;

use std::error::Error as _;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use spindle_process::pool::Pool;
use spindle_process::shared_memory::{Item, ShareableList, SharedMemory, ShmError};
use spindle_process::{Array, Lock, Process, Queue, Value};
use support::{join_or_kill, process_lock, Watchdog, LIMIT};

/// Set in the child that runs the drill inside the private namespace.
const INSIDE: &str = "SPINDLE_TEST_SHM_FULL_INSIDE";
/// Size of the tmpfs mounted over `/dev/shm` in the child.
const TINY: usize = 64 * 1024;
const MIB: usize = 1024 * 1024;
/// Bounds the whole drill, the child's start-up and its pool included.
const DRILL_LIMIT: Duration = Duration::from_secs(90);

/// Makes the calling (just forked, single-threaded) process's mounts private and mounts a
/// tiny tmpfs over `/dev/shm`. Runs between `fork` and `exec`: system calls only.
fn private_tiny_dev_shm() -> io::Result<()> {
    let check = |r: libc::c_int| {
        if r == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    };
    // SAFETY:
    // - unshare takes a flag word; it affects only this process, which is about to exec.
    check(unsafe { libc::unshare(libc::CLONE_NEWNS) })?;
    // SAFETY:
    // - every pointer is a static NUL-terminated string or null, as mount(2) allows for a
    //   propagation change; `MS_REC | MS_PRIVATE` keeps our mounts from reaching the host.
    check(unsafe {
        libc::mount(
            c"none".as_ptr(),
            c"/".as_ptr(),
            std::ptr::null(),
            libc::MS_REC | libc::MS_PRIVATE,
            std::ptr::null(),
        )
    })?;
    // SAFETY:
    // - static NUL-terminated strings; the data argument is tmpfs's option string.
    check(unsafe {
        libc::mount(
            c"tmpfs".as_ptr(),
            c"/dev/shm".as_ptr(),
            c"tmpfs".as_ptr(),
            libc::MS_NOSUID | libc::MS_NODEV,
            c"size=64k,mode=1777".as_ptr().cast(),
        )
    })
}

#[test]
fn full_dev_shm_is_an_error_at_create_never_a_sigbus() {
    if std::env::var_os(INSIDE).is_some() {
        drill_inside_the_tiny_dev_shm();
        return;
    }
    let _g = process_lock();
    let _w = Watchdog::new("full /dev/shm drill", DRILL_LIMIT + LIMIT);
    let exe = std::env::current_exe().expect("path of this test binary");
    let mut cmd = Command::new(exe);
    cmd.args([
        "--exact",
        "full_dev_shm_is_an_error_at_create_never_a_sigbus",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(INSIDE, "1")
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    // SAFETY:
    // - the hook only makes system calls (unshare, mount) and builds an io::Error from errno,
    //   which is what may run between fork and exec.
    unsafe { cmd.pre_exec(private_tiny_dev_shm) };
    let child = cmd.spawn().unwrap_or_else(|e| {
        panic!(
            "cannot run the drill: setting up a private mount namespace with a 64 KiB tmpfs \
             over /dev/shm (unshare(CLONE_NEWNS), mount --make-rprivate /, mount -t tmpfs) \
             failed: {e}. This test needs root (CAP_SYS_ADMIN); it fails rather than pass \
             without checking anything"
        )
    });
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let out = match rx.recv_timeout(DRILL_LIMIT) {
        Ok(out) => out.expect("wait for the drill child"),
        Err(_) => {
            // SAFETY:
            // - kill has no memory preconditions; `pid` is our unreaped child (its waiter
            //   thread is still blocked in wait).
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
            panic!("the drill child did not finish within {DRILL_LIMIT:?}");
        }
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the drill in the private namespace failed ({:?}; SIGBUS is signal {}):\n{stdout}\n{stderr}",
        out.status,
        libc::SIGBUS
    );
    println!("drill child output:\n{stdout}\n{stderr}");
    assert!(
        stdout.contains("drill complete"),
        "the drill child did not run the drill:\n{stdout}\n{stderr}"
    );
}

/// Names in `/dev/shm` (the private tmpfs in the drill child).
fn dev_shm_entries() -> Vec<String> {
    std::fs::read_dir("/dev/shm")
        .expect("list /dev/shm")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect()
}

/// Checks `r` is the typed out-of-space error with the OS error as its source.
fn assert_no_space<T: std::fmt::Debug>(r: Result<T, ShmError>, what: &str) {
    let e = match r {
        Err(e @ ShmError::NoSpace { .. }) => e,
        other => panic!("{what}: expected ShmError::NoSpace, got {other:?}"),
    };
    let text = e.to_string();
    assert!(
        text.contains("No space left on device (os error 28)"),
        "{what}: the message names the cause: {text}"
    );
    let source = e
        .source()
        .and_then(|s| s.downcast_ref::<io::Error>())
        .unwrap_or_else(|| panic!("{what}: source() is the io::Error"));
    assert_eq!(source.raw_os_error(), Some(libc::ENOSPC), "{what}");
}

/// Writes every byte of the segment (a page the file system could not back would `SIGBUS`
/// here) and reads it back.
fn fill_and_check(shm: &mut SharedMemory, byte: u8) {
    shm.as_slice_mut().fill(byte);
    let again = SharedMemory::attach(shm.name()).expect("attach a created segment");
    assert!(again.buf().iter().all(|&b| b == byte));
}

/// Fills `/dev/shm` with 8 KiB segments (each written in full) until one is refused.
fn fill_dev_shm() -> Vec<SharedMemory> {
    let mut held = Vec::new();
    for i in 0..=TINY / 8192 {
        match SharedMemory::create(None, 8192) {
            Ok(mut s) => {
                fill_and_check(&mut s, i as u8);
                held.push(s);
            }
            Err(e) => {
                assert_no_space(Err::<(), _>(e), "filling /dev/shm");
                return held;
            }
        }
    }
    panic!("{} segments of 8 KiB fit in a 64 KiB /dev/shm", held.len());
}

fn unlink_all(held: Vec<SharedMemory>) {
    for s in held {
        s.unlink().expect("unlink a held segment");
    }
}

/// Anonymous blocks (`memfd`, behind locks, values, arrays, queues and pool rings) of this
/// process whose pages are not all allocated.
fn unreserved_memfds() -> Vec<String> {
    let mut bad = Vec::new();
    for entry in std::fs::read_dir("/proc/self/fd").expect("list /proc/self/fd") {
        let path = entry.expect("fd entry").path();
        let Ok(target) = std::fs::read_link(&path) else {
            continue;
        };
        if !target
            .to_string_lossy()
            .starts_with("/memfd:spindle-shared")
        {
            continue;
        }
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        if meta.blocks() * 512 < meta.size() {
            bad.push(format!(
                "{}: {} of {} bytes allocated",
                path.display(),
                meta.blocks() * 512,
                meta.size()
            ));
        }
    }
    bad
}

/// In a child: tries to create a 1 MiB segment and write all of it; exits 0 if it got the
/// typed error (a `SIGBUS` would end it with signal 7 instead).
fn child_creates_too_much(_: ()) {
    match SharedMemory::create(None, MIB) {
        Err(ShmError::NoSpace { .. }) => {}
        Ok(mut s) => {
            s.as_slice_mut().fill(1);
            std::process::exit(2);
        }
        Err(_) => std::process::exit(3),
    }
}

fn child_puts(q: Queue<u64>) {
    q.put(7).unwrap();
}

/// A pool task: a 1 MiB segment in a worker; `true` if refused with the typed error.
fn task_creates_too_much(_: ()) -> bool {
    match SharedMemory::create(None, MIB) {
        Err(ShmError::NoSpace { .. }) => true,
        Ok(mut s) => {
            s.as_slice_mut().fill(1);
            let _ = s.unlink();
            false
        }
        Err(_) => false,
    }
}

fn square(x: u64) -> u64 {
    x * x
}

fn drill_inside_the_tiny_dev_shm() {
    let _w = Watchdog::new("full /dev/shm drill (inside)", DRILL_LIMIT);
    // SAFETY:
    // - `st` is a plain C struct the kernel fills; the path is a static C string.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY:
    // - as above: a valid path and out-pointer.
    assert_eq!(unsafe { libc::statvfs(c"/dev/shm".as_ptr(), &mut st) }, 0);
    let total = st.f_blocks as usize * st.f_frsize as usize;
    assert!(
        total <= TINY,
        "the drill must run on the tiny tmpfs, but /dev/shm holds {total} bytes"
    );
    assert!(dev_shm_entries().is_empty(), "a fresh tmpfs is empty");

    // 1. Too big for the file system: a typed error at create, and nothing left behind.
    assert_no_space(SharedMemory::create(None, MIB), "create(None, 1 MiB)");
    assert_no_space(
        SharedMemory::create(Some("spindle_full_named"), MIB),
        "create(name, 1 MiB)",
    );
    assert!(matches!(
        SharedMemory::attach("spindle_full_named"),
        Err(ShmError::FileNotFound { .. })
    ));
    assert_eq!(
        dev_shm_entries(),
        Vec::<String>::new(),
        "no leftover segment"
    );

    // 2. What fits still works; once full, the next create is refused before any write,
    //    and every accepted segment is backed to its last page.
    let held = fill_dev_shm();
    assert!(held.len() >= 2, "some 8 KiB segments fit in 64 KiB");
    assert_eq!(
        dev_shm_entries().len(),
        held.len(),
        "only the held segments"
    );
    assert_no_space(
        SharedMemory::create(None, 8192),
        "create on a full /dev/shm",
    );
    assert_eq!(
        dev_shm_entries().len(),
        held.len(),
        "the refused one left nothing"
    );
    unlink_all(held);
    assert!(dev_shm_entries().is_empty());

    // 3. ShareableList: a list too big is the same typed error, a small one works.
    let big = [Item::Bytes(vec![7; 256 * 1024]), Item::Int(1)];
    assert_no_space(
        ShareableList::new(&big, None),
        "ShareableList::new (256 KiB)",
    );
    assert!(dev_shm_entries().is_empty(), "no leftover list segment");
    let small = ShareableList::new(&[Item::Int(5), Item::from("fits")], None).unwrap();
    assert_eq!(small.get(1).unwrap(), Item::from("fits"));
    small.shm().unlink().unwrap();

    // 4. With /dev/shm full: values, arrays, locks and queues live in anonymous memory, not
    //    on /dev/shm, so they are still created, and their blocks are reserved too.
    let held = fill_dev_shm();
    let v = Value::new(41u64).unwrap();
    *v.lock() += 1;
    assert_eq!(v.get(), 42);
    let a = Array::<u8>::new(256 * 1024).unwrap();
    a.lock()[256 * 1024 - 1] = 9;
    assert_eq!(a.to_vec()[256 * 1024 - 1], 9);
    let lock = Lock::new().unwrap();
    assert!(lock.acquire_timeout(LIMIT));
    lock.release().unwrap();
    let q: Queue<u64> = Queue::new(0).unwrap();
    let mut p = Process::new(child_puts, q.clone());
    p.start().unwrap();
    assert_eq!(q.get_timeout(LIMIT).unwrap(), 7);
    assert_eq!(join_or_kill(&p), 0);
    let bad = unreserved_memfds();
    assert!(bad.is_empty(), "anonymous blocks not reserved: {bad:?}");

    // 5. A child that asks for too much gets the error too, not a SIGBUS.
    let mut p = Process::new(child_creates_too_much, ());
    p.start().unwrap();
    assert_eq!(
        join_or_kill(&p),
        0,
        "child exit code (-{} would be a SIGBUS)",
        libc::SIGBUS
    );

    // 6. A pool (its rings are anonymous blocks) starts and works with /dev/shm full, and a
    //    worker that asks for too much gets the typed error and lives on.
    let pool = Pool::new(2);
    assert_eq!(
        pool.map(square, 0..50u64, None).unwrap(),
        (0..50u64).map(|x| x * x).collect::<Vec<_>>()
    );
    for _ in 0..4 {
        assert_eq!(pool.apply(task_creates_too_much, ()), Ok(true));
    }
    assert_eq!(pool.apply(square, 12), Ok(144));
    pool.close();
    pool.join().unwrap();
    unlink_all(held);
    assert!(
        dev_shm_entries().is_empty(),
        "nothing left: {:?}",
        dev_shm_entries()
    );
    assert!(Path::new("/dev/shm").exists());
    println!("drill complete");
}
