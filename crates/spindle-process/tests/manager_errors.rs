//! Manager failures: a wrong key, every kind of call after shutdown (including one blocked at
//! that moment), Python's KeyError/IndexError/AttributeError shapes, and the error type's
//! traits (after `_TestManagerRestart` and the `AuthenticationError` checks in CPython's
//! `Lib/test/_test_multiprocessing.py`).

spindle_process::test_support!();

mod manager_support;

use manager_support::{process_lock, LIMIT};
use spindle_process::managers::{
    ArrayProxy, ConditionProxy, DictProxy, EventProxy, ListProxy, LockProxy, Manager, ManagerError,
    NamespaceProxy, QueueProxy, RLockProxy, SemaphoreProxy, ValueProxy,
};
use std::error::Error;
use std::time::Duration;

fn is_error<E: Error + Send + Sync + 'static>() {}
fn is_send_sync<T: Send + Sync>() {}

#[test]
fn error_and_proxy_traits() {
    is_error::<ManagerError>();
    is_send_sync::<Manager>();
    is_send_sync::<DictProxy<String, Vec<u8>>>();
    is_send_sync::<ListProxy<String>>();
    is_send_sync::<NamespaceProxy>();
    is_send_sync::<ValueProxy<String>>();
    is_send_sync::<ArrayProxy<u8>>();
    is_send_sync::<QueueProxy<String>>();
    is_send_sync::<LockProxy>();
    is_send_sync::<RLockProxy>();
    is_send_sync::<SemaphoreProxy>();
    is_send_sync::<EventProxy>();
    is_send_sync::<ConditionProxy>();
    assert_eq!(
        ManagerError::ShutDown.to_string(),
        "the manager has shut down"
    );
    assert_eq!(ManagerError::KeyError.to_string(), "key not found");
    assert_eq!(ManagerError::IndexError.to_string(), "index out of range");
}

#[test]
fn wrong_key_is_refused() {
    let _g = process_lock();
    let m = Manager::start().unwrap();
    assert_eq!(m.authkey().len(), 32);
    let mut key = m.authkey().to_vec();
    key[31] ^= 1;
    assert!(matches!(
        Manager::connect(m.address(), &key),
        Err(ManagerError::Auth)
    ));
    assert!(matches!(
        Manager::connect(m.address(), &m.authkey()[..16]),
        Err(ManagerError::Auth)
    ));
    let mut longer = m.authkey().to_vec();
    longer.push(0);
    assert!(matches!(
        Manager::connect(m.address(), &longer),
        Err(ManagerError::Auth)
    ));
    // The right key works, and a connected manager's drop leaves the server running.
    let other = Manager::connect(m.address(), m.authkey()).unwrap();
    let d = other.dict::<u8, u8>().unwrap();
    d.insert(&1, &2).unwrap();
    drop(other);
    assert_eq!(d.get(&1).unwrap(), Some(2));
}

#[test]
fn python_exception_shapes() {
    let _g = process_lock();
    let m = Manager::start().unwrap();
    let d = m.dict::<String, u32>().unwrap();
    assert!(matches!(
        d.get_item(&"nope".into()),
        Err(ManagerError::KeyError)
    ));
    assert!(matches!(d.pop(&"nope".into()), Err(ManagerError::KeyError)));
    let l = m.list::<u32>().unwrap();
    assert!(matches!(l.get(0), Err(ManagerError::IndexError)));
    let ns = m.namespace().unwrap();
    assert!(matches!(ns.get::<u32>("x"), Err(ManagerError::AttributeError(n)) if n == "x"));
    ns.set("x", &-1i64).unwrap();
    assert!(matches!(
        ns.get::<String>("x"),
        Err(ManagerError::Decode(_))
    ));
    let lock = m.lock().unwrap();
    let e = lock.release().unwrap_err();
    assert!(matches!(e, ManagerError::NotHeld(_)));
    assert_eq!(e.to_string(), "release unlocked lock");
}

#[test]
fn every_call_after_shutdown_is_shut_down() {
    let _g = process_lock();
    let m = Manager::start().unwrap();
    let d = m.dict::<u8, u8>().unwrap();
    let l = m.list::<u8>().unwrap();
    let ns = m.namespace().unwrap();
    let v = m.value(&1u8).unwrap();
    let a = m.array(&[1u8]).unwrap();
    let q = m.queue::<u8>(0).unwrap();
    let lock = m.lock().unwrap();
    let r = m.rlock().unwrap();
    let sem = m.semaphore(1).unwrap();
    let ev = m.event().unwrap();
    let cond = m.condition().unwrap();
    d.insert(&1, &1).unwrap(); // leaves a pooled connection behind, to test that path too
    let address = m.address().to_path_buf();
    m.shutdown().unwrap();
    m.shutdown().unwrap(); // idempotent
    assert!(!address.exists());

    fn down<T: std::fmt::Debug>(r: Result<T, ManagerError>) {
        assert!(matches!(r, Err(ManagerError::ShutDown)), "got {r:?}");
    }
    down(d.get(&1));
    down(d.insert(&2, &2));
    down(l.append(&1));
    down(l.get(0));
    down(ns.get::<u8>("x"));
    down(v.get());
    down(a.to_vec());
    down(q.put(&1));
    down(q.get());
    down(lock.acquire());
    down(lock.release());
    down(r.acquire_timeout(Duration::from_millis(1)));
    down(sem.acquire());
    down(ev.wait());
    down(cond.wait());
    down(m.dict::<u8, u8>());
    down(m.number_of_objects());
    down(Manager::connect(&address, m.authkey()));
    // Cloning and dropping proxies of a dead manager neither panics nor hangs.
    let d2 = d.clone();
    drop(d2);
}

#[test]
fn calls_blocked_at_shutdown_fail_instead_of_hanging() {
    let _g = process_lock();
    let m = Manager::start().unwrap();
    let q = m.queue::<u8>(0).unwrap();
    let lock = m.lock().unwrap();
    let ev = m.event().unwrap();
    lock.acquire().unwrap();
    let started = m.event().unwrap();
    std::thread::scope(|s| {
        let getter = s.spawn(|| {
            // The server may exit between applying `set` and sending its reply (the set is
            // what lets the shutdown start), so that reply may be lost: either is fine.
            let set = started.set();
            assert!(matches!(set, Ok(()) | Err(ManagerError::ShutDown)));
            q.get() // no timeout: only the shutdown can end it
        });
        let acquirer = s.spawn(|| lock.acquire());
        let waiter = s.spawn(|| ev.wait());
        assert!(started.wait_timeout(LIMIT).unwrap());
        m.shutdown().unwrap();
        assert!(matches!(
            getter.join().unwrap(),
            Err(ManagerError::ShutDown)
        ));
        assert!(matches!(
            acquirer.join().unwrap(),
            Err(ManagerError::ShutDown)
        ));
        assert!(matches!(
            waiter.join().unwrap(),
            Err(ManagerError::ShutDown)
        ));
    });
}

#[test]
fn dropping_the_manager_shuts_it_down() {
    let _g = process_lock();
    let m = Manager::start().unwrap();
    let d = m.dict::<u8, u8>().unwrap();
    let address = m.address().to_path_buf();
    assert!(address.exists());
    drop(m);
    assert!(!address.exists());
    assert!(matches!(d.len(), Err(ManagerError::ShutDown)));
}

#[test]
fn two_managers_are_independent() {
    let _g = process_lock();
    let (m1, m2) = (Manager::start().unwrap(), Manager::start().unwrap());
    assert_ne!(m1.address(), m2.address());
    assert_ne!(m1.authkey(), m2.authkey());
    let (d1, d2) = (m1.dict::<u8, u8>().unwrap(), m2.dict::<u8, u8>().unwrap());
    d1.insert(&1, &1).unwrap();
    m1.shutdown().unwrap();
    d2.insert(&2, &2).unwrap();
    assert_eq!(d2.items().unwrap(), [(2, 2)]);
    assert!(matches!(d1.len(), Err(ManagerError::ShutDown)));
}

fn own_manager(tx: spindle_process::Connection) {
    // Started from a helper thread, so only the owner pipe (not PR_SET_PDEATHSIG, which
    // follows the spawning thread) can tell the server that this process died.
    let m = std::thread::spawn(|| Manager::start().unwrap())
        .join()
        .unwrap();
    let d = m.dict::<u8, u8>().unwrap();
    d.insert(&1, &1).unwrap();
    tx.send(&(m.address().to_path_buf(), m.authkey().to_vec()))
        .unwrap();
    loop {
        std::thread::park(); // until the test kills this process
    }
}

#[test]
fn server_exits_when_its_owner_is_killed() {
    let _g = process_lock();
    let (rx, tx) = spindle_process::Pipe(false).unwrap();
    let p = manager_support::spawn(own_manager, tx);
    let (address, key): (std::path::PathBuf, Vec<u8>) = rx.recv_timeout(LIMIT).unwrap();
    let other = Manager::connect(&address, &key).unwrap();
    assert_eq!(other.number_of_objects().unwrap(), 1);
    p.kill().unwrap();
    assert!(p.join_timeout(LIMIT));
    // The server is our grandchild, so it cannot be joined: poll until it is gone.
    let deadline = std::time::Instant::now() + LIMIT;
    loop {
        match other.number_of_objects() {
            Err(ManagerError::ShutDown) => break,
            Ok(_) => {}
            Err(e) => panic!("unexpected error {e}"),
        }
        assert!(
            std::time::Instant::now() < deadline,
            "server outlived its owner"
        );
        std::thread::sleep(Duration::from_millis(5)); // sleep-ok: polling a grandchild we cannot join
    }
    assert!(!address.exists());
    assert!(!address.parent().unwrap().exists());
}
