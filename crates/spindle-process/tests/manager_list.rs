//! Managed lists: every operation with Python's index rules, and appends from several
//! processes (after `_TestContainers.test_list` in CPython's `_test_multiprocessing.py`).

spindle_process::test_support!();

mod manager_support;

use manager_support::{process_lock, run_all};
use spindle_process::managers::{ListProxy, Manager, ManagerError};

/// Children appending to one list.
const PROCS: usize = 3;
/// Items each child appends.
const ITEMS: u32 = 300;

#[test]
fn smoke_every_list_operation() {
    let _g = process_lock();
    let m = Manager::start().unwrap();
    let l = m.list_from(&[0, 1, 2, 3, 4]).unwrap();
    assert_eq!(l.len().unwrap(), 5);
    assert_eq!(l.get(0).unwrap(), 0);
    assert_eq!(l.get(-1).unwrap(), 4);
    assert_eq!(l.get(-5).unwrap(), 0);
    l.set(-2, &30).unwrap();
    l.append(&5).unwrap();
    l.extend([6, 7]).unwrap();
    assert_eq!(l.to_vec().unwrap(), [0, 1, 2, 30, 4, 5, 6, 7]);
    l.insert(0, &-1).unwrap();
    l.insert(100, &8).unwrap(); // clamps to the end, like list.insert
    l.insert(-100, &-2).unwrap(); // clamps to the front
    l.insert(-1, &99).unwrap(); // before the last item
    assert_eq!(
        l.to_vec().unwrap(),
        [-2, -1, 0, 1, 2, 30, 4, 5, 6, 7, 99, 8]
    );
    assert_eq!(l.pop().unwrap(), 8);
    assert_eq!(l.pop_at(0).unwrap(), -2);
    assert_eq!(l.pop_at(-1).unwrap(), 99);
    l.clear().unwrap();
    assert!(l.is_empty().unwrap());
}

#[test]
fn index_errors() {
    let _g = process_lock();
    let m = Manager::start().unwrap();
    let l = m.list::<String>().unwrap();
    assert!(matches!(l.pop(), Err(ManagerError::IndexError)));
    assert!(matches!(l.get(0), Err(ManagerError::IndexError)));
    l.append(&"x".into()).unwrap();
    assert!(matches!(l.get(1), Err(ManagerError::IndexError)));
    assert!(matches!(l.get(-2), Err(ManagerError::IndexError)));
    assert!(matches!(
        l.set(1, &"y".into()),
        Err(ManagerError::IndexError)
    ));
    assert!(matches!(
        l.pop_at(isize::MIN),
        Err(ManagerError::IndexError)
    ));
    assert_eq!(l.to_vec().unwrap(), ["x"]);
}

fn append_many((l, id): (ListProxy<(u32, u32)>, u32)) {
    for i in 0..ITEMS {
        l.append(&(id, i)).unwrap();
    }
}

#[test]
fn children_append_concurrently() {
    let _g = process_lock();
    let m = Manager::start().unwrap();
    let l = m.list::<(u32, u32)>().unwrap();
    run_all(PROCS, append_many, |i| (l.clone(), i as u32));
    let items = l.to_vec().unwrap();
    assert_eq!(items.len(), PROCS * ITEMS as usize);
    // Each child's items arrive in its own order, whatever the interleaving.
    for id in 0..PROCS as u32 {
        let mine: Vec<u32> = items
            .iter()
            .filter(|(w, _)| *w == id)
            .map(|p| p.1)
            .collect();
        assert_eq!(mine, (0..ITEMS).collect::<Vec<_>>());
    }
}

#[test]
fn threads_share_one_proxy() {
    let _g = process_lock();
    let m = Manager::start().unwrap();
    let l = m.list::<u32>().unwrap();
    std::thread::scope(|s| {
        for t in 0..4u32 {
            let l = &l;
            s.spawn(move || {
                for i in 0..100 {
                    l.append(&(t * 1000 + i)).unwrap();
                }
            });
        }
    });
    let mut items = l.to_vec().unwrap();
    items.sort_unstable();
    let mut want: Vec<u32> = (0..4)
        .flat_map(|t| (0..100).map(move |i| t * 1000 + i))
        .collect();
    want.sort_unstable();
    assert_eq!(items, want);
}
