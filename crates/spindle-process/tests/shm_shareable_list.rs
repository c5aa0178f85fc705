//! ShareableList: every item type, slot overflow, bad indices, sharing with a child (after
//! CPython's `test_shared_memory_ShareableList_basics`).

spindle_process::test_support!();

mod support;

use spindle_process::shared_memory::{Item, ListError, ShareableList};
use spindle_process::Process;
use support::{join_or_kill, process_lock};

fn sample() -> Vec<Item> {
    vec![
        Item::from("howdy"),
        Item::Bytes(b"HoWdY".to_vec()),
        Item::Float(-273.154),
        Item::Int(100),
        Item::None,
        Item::Bool(true),
        Item::Int(42),
        Item::from(""),
    ]
}

#[test]
fn smoke_round_trip_every_type() {
    let list = ShareableList::new(&sample(), None).unwrap();
    assert_eq!(list.len(), 8);
    assert_eq!(list.to_vec().unwrap(), sample());
    assert_eq!(list.count(&Item::Int(42)).unwrap(), 1);
    assert_eq!(list.index(&Item::None).unwrap(), Some(4));
    assert_eq!(list.index(&Item::Int(7)).unwrap(), None);
    list.shm().unlink().unwrap();
}

#[test]
fn types_may_change_within_a_slot() {
    let list = ShareableList::new(&sample(), None).unwrap();
    list.set(0, Item::Int(-5)).unwrap();
    assert_eq!(list.get(0).unwrap(), Item::Int(-5));
    list.set(0, Item::from("again")).unwrap();
    assert_eq!(list.get(0).unwrap(), Item::from("again"));
    list.set(3, Item::Float(1.5)).unwrap();
    assert_eq!(list.get(3).unwrap(), Item::Float(1.5));
    list.set(2, Item::None).unwrap();
    assert_eq!(list.get(2).unwrap(), Item::None);
    list.shm().unlink().unwrap();
}

#[test]
fn text_longer_than_its_slot_is_refused() {
    let list = ShareableList::new(&sample(), None).unwrap();
    // "howdy" got 8 bytes of storage: 8 fits, 9 does not.
    list.set(0, Item::from("12345678")).unwrap();
    let err = list.set(0, Item::from("123456789")).unwrap_err();
    assert_eq!(
        err,
        ListError::TooLarge {
            index: 0,
            capacity: 8,
            size: 9
        }
    );
    // A slot created for a number has no text storage.
    assert!(matches!(
        list.set(3, Item::from("x")),
        Err(ListError::TooLarge { capacity: 0, .. })
    ));
    // The refused value changed nothing.
    assert_eq!(list.get(0).unwrap(), Item::from("12345678"));
    list.shm().unlink().unwrap();
}

#[test]
fn index_out_of_range_is_an_error() {
    let list = ShareableList::new(&[Item::Int(1)], None).unwrap();
    assert_eq!(
        list.get(1),
        Err(ListError::IndexOutOfRange { index: 1, len: 1 })
    );
    assert_eq!(
        list.set(9, Item::None),
        Err(ListError::IndexOutOfRange { index: 9, len: 1 })
    );
    list.shm().unlink().unwrap();
}

#[test]
fn empty_list_is_allowed() {
    let list = ShareableList::new(&[], None).unwrap();
    assert!(list.is_empty());
    assert_eq!(list.to_vec().unwrap(), vec![]);
    list.shm().unlink().unwrap();
}

#[test]
fn attaching_a_plain_segment_is_refused() {
    let plain = spindle_process::shared_memory::SharedMemory::create(None, 64).unwrap();
    assert!(matches!(
        ShareableList::attach(plain.name()),
        Err(spindle_process::shared_memory::ShmError::NotAList { .. })
    ));
    plain.unlink().unwrap();
}

fn double_ints(list: ShareableList) {
    for i in 0..list.len() {
        if let Item::Int(v) = list.get(i).unwrap() {
            list.set(i, Item::Int(v * 2)).unwrap();
        }
    }
    list.set(0, Item::from("child")).unwrap();
}

#[test]
fn a_child_updates_the_list() {
    let _g = process_lock();
    let list = ShareableList::new(&sample(), None).unwrap();
    let mut p = Process::new(
        double_ints,
        ShareableList::attach(list.shm().name()).unwrap(),
    );
    p.start().unwrap();
    assert_eq!(join_or_kill(&p), 0);
    assert_eq!(list.get(0).unwrap(), Item::from("child"));
    assert_eq!(list.get(3).unwrap(), Item::Int(200));
    assert_eq!(list.get(6).unwrap(), Item::Int(84));
    list.shm().unlink().unwrap();
}
