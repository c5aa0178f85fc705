//! SharedMemory: create/attach/unlink, errors, cross-process writes, and nothing left in
//! /dev/shm (after CPython's `_TestSharedMemory`).

spindle_process::test_support!();

mod support;

use std::path::Path;

use spindle_process::shared_memory::{SharedMemory, ShmError};
use spindle_process::{Pipe, Process};
use support::{join_or_kill, process_lock, LIMIT};

fn in_dev_shm(name: &str) -> bool {
    Path::new("/dev/shm").join(name).exists()
}

#[test]
fn smoke_create_attach_unlink() {
    let mut a = SharedMemory::create(None, 4096).unwrap();
    assert_eq!(a.size(), 4096);
    assert!(a.buf().iter().all(|&b| b == 0), "new segments are zeroed");
    a.as_slice_mut()[100] = 42;
    let b = SharedMemory::attach(a.name()).unwrap();
    assert_eq!(b.buf()[100], 42);
    assert!(in_dev_shm(a.name()));
    a.unlink().unwrap();
    assert!(!in_dev_shm(a.name()));
    // Mappings stay valid after unlink.
    assert_eq!(b.buf()[100], 42);
}

#[test]
fn named_create_twice_is_file_exists() {
    let name = format!("spindle_test_exists_{}", std::process::id());
    let a = SharedMemory::create(Some(&name), 10).unwrap();
    assert_eq!(a.name(), name);
    let err = SharedMemory::create(Some(&name), 10).unwrap_err();
    assert!(
        matches!(&err, ShmError::FileExists { name: n } if *n == name),
        "{err:?}"
    );
    assert!(err.to_string().contains(&name));
    a.unlink().unwrap();
    assert!(!in_dev_shm(&name));
}

#[test]
fn leading_slash_is_accepted() {
    let name = format!("spindle_test_slash_{}", std::process::id());
    let a = SharedMemory::create(Some(&format!("/{name}")), 10).unwrap();
    assert_eq!(a.name(), name);
    SharedMemory::attach(&format!("/{name}")).unwrap();
    a.unlink().unwrap();
}

#[test]
fn attach_missing_is_file_not_found() {
    let err = SharedMemory::attach("spindle_test_no_such_segment").unwrap_err();
    assert!(matches!(err, ShmError::FileNotFound { .. }), "{err:?}");
}

#[test]
fn zero_size_is_invalid() {
    assert!(matches!(
        SharedMemory::create(None, 0),
        Err(ShmError::InvalidSize)
    ));
}

#[test]
fn bad_names_are_invalid() {
    for bad in ["", "/", "a/b", "nul\0byte", &"x".repeat(300)] {
        let err = SharedMemory::create(Some(bad), 8).unwrap_err();
        assert!(
            matches!(err, ShmError::InvalidName { .. }),
            "{bad:?}: {err:?}"
        );
    }
}

#[test]
fn unlink_exactly_once() {
    let a = SharedMemory::create(None, 8).unwrap();
    let b = SharedMemory::attach(a.name()).unwrap();
    a.unlink().unwrap();
    assert!(matches!(a.unlink(), Err(ShmError::FileNotFound { .. })));
    // Another handle's unlink finds nothing either.
    assert!(matches!(b.unlink(), Err(ShmError::FileNotFound { .. })));
}

#[test]
fn generated_names_are_unique() {
    let segs: Vec<SharedMemory> = (0..50)
        .map(|_| SharedMemory::create(None, 8).unwrap())
        .collect();
    let mut names: Vec<&str> = segs.iter().map(|s| s.name()).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 50);
    for s in &segs {
        s.unlink().unwrap();
    }
}

fn fill_half((shm, half): (SharedMemory, usize)) {
    let mut shm = shm;
    let n = shm.size() / 2;
    for (i, b) in shm.as_slice_mut()[half * n..(half + 1) * n]
        .iter_mut()
        .enumerate()
    {
        *b = (half as u8 + 1).wrapping_mul(i as u8 | 1);
    }
}

#[test]
fn two_children_fill_halves() {
    let _g = process_lock();
    const SIZE: usize = 1 << 16;
    let shm = SharedMemory::create(None, SIZE).unwrap();
    let mut kids: Vec<Process> = (0..2)
        .map(|half| {
            let mut p = Process::new(fill_half, (SharedMemory::attach(shm.name()).unwrap(), half));
            p.start().unwrap();
            p
        })
        .collect();
    for p in &mut kids {
        assert_eq!(join_or_kill(p), 0);
    }
    for half in 0..2 {
        for i in 0..SIZE / 2 {
            assert_eq!(
                shm.buf()[half * SIZE / 2 + i],
                (half as u8 + 1).wrapping_mul(i as u8 | 1)
            );
        }
    }
    shm.unlink().unwrap();
    assert!(!in_dev_shm(shm.name()));
}

fn create_and_report(conn: spindle_process::Connection) {
    let shm = SharedMemory::create(None, 64).unwrap();
    conn.send(&shm.name().to_string()).unwrap();
    // Exit without unlinking: the parent picks the segment up by name.
}

#[test]
fn segment_created_by_a_child_outlives_it() {
    let _g = process_lock();
    let (a, b) = Pipe(true).unwrap();
    let mut p = Process::new(create_and_report, b);
    p.start().unwrap();
    let name: String = a.recv_timeout(LIMIT).unwrap();
    assert_eq!(join_or_kill(&p), 0);
    let shm = SharedMemory::attach(&name).expect("the tree is alive, so the tracker keeps it");
    shm.unlink().unwrap();
}
