//! `threading::Thread` and the module functions: CPython's `Lib/test/test_threading.py`
//! (`ThreadTests`, `ThreadJoinOnShutdown`, `ExceptHookTests`; PSF licence) in spirit.
//! Exceptions are panics; `threading._shutdown` is `shutdown`.
//!
//! Tests that touch process-wide state (the excepthook, `shutdown`) hold `SERIAL`.
//! Threads spawned from libtest's threads are daemons by default (those threads are
//! "dummy" threads, which are daemons, and the flag is inherited, as in Python), so other
//! tests do not disturb `shutdown`.

mod support;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use spindle_sync::threading::{
    active_count, current_thread, default_excepthook, enumerate, get_ident, get_native_id,
    main_thread, set_excepthook, shutdown, shutdown_timeout, Event, ExceptHookArgs, MainGuard,
    Thread,
};
use support::{wait_until, LIMIT, SHORT};

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

#[test]
fn smoke_spawn_and_join() {
    let t = Thread::spawn(|| 6 * 7).unwrap();
    assert_eq!(t.join().unwrap(), 42);
}

#[test]
fn builder_sets_name_daemon_and_stack_size() {
    let t = Thread::builder()
        .name("worker-1")
        .daemon(true)
        .stack_size(512 * 1024)
        .spawn(|| current_thread().name().to_owned())
        .unwrap();
    assert_eq!(t.name(), "worker-1");
    assert!(t.is_daemon());
    assert_eq!(t.join().unwrap(), "worker-1");
}

#[test]
fn default_names_count_up() {
    // ThreadTests.test_various_ops: default names are Thread-N.
    let a = Thread::spawn(|| ()).unwrap();
    let b = Thread::spawn(|| ()).unwrap();
    let n = |t: &Thread<()>| {
        t.name()
            .strip_prefix("Thread-")
            .unwrap()
            .parse::<u64>()
            .unwrap()
    };
    assert!(n(&b) > n(&a));
    a.join().unwrap();
    b.join().unwrap();
}

#[test]
fn ident_and_native_id_match_inside_the_thread() {
    let t = Thread::spawn(|| (get_ident(), get_native_id(), current_thread().ident())).unwrap();
    let (ident, native, info_ident) = (t.ident(), t.native_id(), t.info().ident());
    let (inside_ident, inside_native, inside_info) = t.join().unwrap();
    assert_eq!(ident, inside_ident);
    assert_eq!(ident, info_ident);
    assert_eq!(ident, inside_info);
    assert_eq!(native, inside_native);
    assert_ne!(ident, get_ident());
    assert_ne!(ident, 0);
}

#[test]
fn idents_are_unique() {
    const THREADS: usize = 8;
    let ts: Vec<_> = (0..THREADS)
        .map(|_| Thread::spawn(get_ident).unwrap())
        .collect();
    let mut ids: Vec<u64> = ts.into_iter().map(|t| t.join().unwrap()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), THREADS);
}

#[test]
#[cfg(target_os = "linux")]
fn native_id_is_the_kernel_tid() {
    let t = Thread::spawn(|| ()).unwrap();
    let tid = t.native_id();
    assert!(std::path::Path::new(&format!("/proc/self/task/{tid}")).exists() || !t.is_alive());
    t.join().unwrap();
    assert_eq!(main_thread().native_id(), u64::from(std::process::id()));
}

#[test]
fn is_alive_and_join_timeout() {
    let go = Arc::new(Event::new());
    let g = go.clone();
    let t = Thread::spawn(move || g.wait_timeout(LIMIT)).unwrap();
    assert!(t.is_alive());
    assert!(!t.join_timeout(SHORT));
    assert!(t.is_alive());
    go.set();
    assert!(t.join_timeout(LIMIT));
    assert!(!t.is_alive());
    assert!(t.join().unwrap());
}

#[test]
fn join_timeout_zero_on_a_finished_thread() {
    let t = Thread::spawn(|| ()).unwrap();
    assert!(t.join_timeout(LIMIT));
    assert!(t.join_timeout(Duration::ZERO));
    t.join().unwrap();
}

#[test]
fn enumerate_and_active_count_list_live_threads() {
    // ThreadTests.test_enumerate_after_join / test_active_count
    const THREADS: usize = 3;
    let stop = Arc::new(Event::new());
    let ts: Vec<_> = (0..THREADS)
        .map(|i| {
            let stop = stop.clone();
            Thread::builder()
                .name(format!("listed-{i}"))
                .spawn(move || stop.wait())
                .unwrap()
        })
        .collect();
    let listed = enumerate();
    for t in &ts {
        assert!(listed
            .iter()
            .any(|i| i.ident() == t.ident() && i.name() == t.name()));
    }
    assert!(listed.contains(&main_thread()));
    assert!(active_count() > THREADS); // ours plus the main thread
    stop.set();
    let idents: Vec<u64> = ts.iter().map(Thread::ident).collect();
    for t in ts {
        t.join().unwrap();
    }
    let after = enumerate();
    assert!(idents
        .iter()
        .all(|id| after.iter().all(|i| i.ident() != *id)));
}

#[test]
fn main_thread_is_listed_and_not_a_daemon() {
    let main = main_thread();
    assert_eq!(main.name(), "MainThread");
    assert!(!main.is_daemon());
    assert!(main.is_alive());
    // libtest runs tests on worker threads, so this thread is not the main one.
    assert_ne!(current_thread(), main);
    assert!(enumerate().contains(&main));
}

#[test]
fn foreign_threads_get_a_dummy_info_until_they_exit() {
    // ThreadTests.test_foreign_thread
    let (tx, rx) = std::sync::mpsc::channel();
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let h = std::thread::spawn(move || {
        let me = current_thread();
        tx.send(me.clone()).unwrap();
        done_rx.recv().unwrap();
        assert_eq!(me, current_thread());
        assert_eq!(me.ident(), get_ident());
    });
    let info = rx.recv().unwrap();
    assert!(info.name().starts_with("Dummy-"));
    assert!(info.is_daemon());
    assert!(info.is_alive());
    assert!(enumerate().contains(&info));
    done_tx.send(()).unwrap();
    h.join().unwrap();
    assert!(!info.is_alive());
    assert!(!enumerate().contains(&info));
}

#[test]
fn daemon_flag_is_inherited() {
    let parent = Thread::builder()
        .daemon(false)
        .spawn(|| {
            let child = Thread::spawn(|| current_thread().is_daemon()).unwrap();
            child.join().unwrap()
        })
        .unwrap();
    assert!(!parent.join().unwrap());
    // A libtest thread is a dummy thread, so a daemon: children inherit that.
    let t = Thread::spawn(|| ()).unwrap();
    assert!(t.is_daemon());
    t.join().unwrap();
}

static HOOK_CALLS: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());

fn recording_hook(args: &ExceptHookArgs<'_>) {
    assert!(
        args.thread().is_alive(),
        "the hook runs before the thread counts as ended"
    );
    assert!(args.payload().downcast_ref::<&str>().is_some());
    HOOK_CALLS
        .lock()
        .unwrap()
        .push((args.thread().name().to_owned(), args.message().to_owned()));
}

#[test]
fn panic_comes_back_from_join_and_goes_to_the_excepthook() {
    // ExceptHookTests.test_excepthook
    let _s = serial();
    let previous = set_excepthook(recording_hook);
    let t = Thread::builder()
        .name("doomed")
        .spawn(|| -> u32 { panic!("bad input") })
        .unwrap();
    let err = t.join().unwrap_err();
    set_excepthook(previous);
    assert_eq!(err.message(), "bad input");
    assert_eq!(err.thread_name(), "doomed");
    assert_eq!(err.to_string(), "thread doomed panicked: bad input");
    let calls = HOOK_CALLS.lock().unwrap().clone();
    assert!(calls.contains(&("doomed".to_owned(), "bad input".to_owned())));
    // The payload can be re-raised.
    let payload = err.into_payload();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"bad input"));
}

#[test]
fn a_panicking_hook_is_contained() {
    fn bad_hook(_: &ExceptHookArgs<'_>) {
        panic!("hook itself fails");
    }
    let _s = serial();
    let previous = set_excepthook(bad_hook);
    let t = Thread::spawn(|| -> () { panic!("first") }).unwrap();
    let err = t.join().unwrap_err();
    set_excepthook(previous);
    assert_eq!(err.message(), "first");
}

#[test]
fn default_hook_prints_and_join_still_reports() {
    let _s = serial();
    set_excepthook(default_excepthook);
    // Prints "Exception in thread NAME:" and the message to stderr, like Python.
    let t = Thread::builder()
        .name("printed")
        .spawn(|| -> () { panic!("shown") })
        .unwrap();
    assert_eq!(t.join().unwrap_err().message(), "shown");
}

#[test]
fn non_string_panic_payload() {
    fn quiet(_: &ExceptHookArgs<'_>) {}
    let _s = serial();
    let previous = set_excepthook(quiet);
    let t = Thread::spawn(|| std::panic::panic_any(42u8)).unwrap();
    let err = t.join().unwrap_err();
    set_excepthook(previous);
    assert_eq!(err.message(), "<non-string panic payload>");
    assert_eq!(err.into_payload().downcast_ref::<u8>(), Some(&42));
}

#[test]
fn shutdown_waits_for_non_daemon_threads_only() {
    // ThreadJoinOnShutdown: non-daemon threads are joined at exit, daemons are not.
    let _s = serial();
    let release = Arc::new(Event::new());
    let finished = Arc::new(AtomicBool::new(false));
    let daemon_release = Arc::new(Event::new());
    let daemon = {
        let r = daemon_release.clone();
        Thread::builder()
            .daemon(true)
            .spawn(move || r.wait())
            .unwrap()
    };
    let worker = {
        let (r, f) = (release.clone(), finished.clone());
        Thread::builder()
            .daemon(false)
            .spawn(move || {
                r.wait();
                f.store(true, Ordering::SeqCst);
            })
            .unwrap()
    };
    // The non-daemon thread blocks shutdown.
    assert!(!shutdown_timeout(SHORT));
    release.set();
    assert!(shutdown_timeout(LIMIT));
    assert!(finished.load(Ordering::SeqCst));
    // The daemon is still blocked, and shutdown did not wait for it.
    assert!(daemon.is_alive());
    daemon_release.set();
    daemon.join().unwrap();
    worker.join().unwrap();
}

#[test]
fn shutdown_waits_for_threads_started_while_it_waits() {
    let _s = serial();
    let count = Arc::new(AtomicUsize::new(0));
    let c = count.clone();
    let _ = Thread::builder()
        .daemon(false)
        .spawn(move || {
            let c2 = c.clone();
            // Started by a non-daemon thread: non-daemon too.
            let _ = Thread::spawn(move || c2.fetch_add(1, Ordering::SeqCst));
            c.fetch_add(1, Ordering::SeqCst);
        })
        .unwrap();
    shutdown();
    assert_eq!(count.load(Ordering::SeqCst), 2);
}

#[test]
fn main_guard_calls_shutdown_on_drop() {
    let _s = serial();
    let done = Arc::new(AtomicBool::new(false));
    {
        let _guard = MainGuard::new();
        let d = done.clone();
        let _ = Thread::builder()
            .daemon(false)
            .spawn(move || d.store(true, Ordering::SeqCst));
    }
    assert!(done.load(Ordering::SeqCst));
}

#[test]
fn spawn_failure_is_an_io_error_and_leaves_no_entry() {
    // A stack the OS cannot map: the bad input comes back as an error, not a panic.
    let before: Vec<u64> = enumerate().iter().map(|i| i.ident()).collect();
    let r = Thread::builder()
        .name("too-big")
        .stack_size(1 << 50)
        .spawn(|| ());
    assert!(r.is_err());
    assert!(enumerate()
        .iter()
        .all(|i| i.name() != "too-big" || before.contains(&i.ident())));
}

#[test]
fn thread_info_is_cheap_to_clone_and_shares_liveness() {
    let go = Arc::new(Event::new());
    let g = go.clone();
    let t = Thread::spawn(move || g.wait()).unwrap();
    let info = t.info().clone();
    assert!(info.is_alive());
    go.set();
    t.join().unwrap();
    wait_until("the clone sees the end", || !info.is_alive());
    assert!(format!("{info:?}").contains("ThreadInfo"));
}
