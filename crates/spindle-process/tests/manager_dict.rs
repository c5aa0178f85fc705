//! Managed dicts, namespaces, values and arrays: every operation, insertion order, updates
//! from several processes, proxies passed to children, and reference counting (after the
//! dict/namespace/value shapes of CPython's `_TestContainers` and `_TestNamespace` in
//! `Lib/test/_test_multiprocessing.py`).

spindle_process::test_support!();

mod manager_support;

use manager_support::{process_lock, run_all};
use spindle_process::managers::{
    ArrayProxy, DictProxy, Manager, ManagerError, NamespaceProxy, ValueProxy,
};

/// Child processes updating one dict.
const PROCS: usize = 3;
/// Keys each child writes.
const KEYS: u32 = 200;

#[test]
fn smoke_every_dict_operation() {
    let _g = process_lock();
    let m = Manager::start().unwrap();
    let d = m.dict::<String, i32>().unwrap();
    assert!(d.is_empty().unwrap());
    assert_eq!(d.insert(&"b".into(), &1).unwrap(), None);
    assert_eq!(d.insert(&"a".into(), &2).unwrap(), None);
    assert_eq!(d.insert(&"b".into(), &3).unwrap(), Some(1));
    // Overwriting keeps the key's place, as in a Python dict.
    assert_eq!(d.keys().unwrap(), ["b", "a"]);
    assert_eq!(d.values().unwrap(), [3, 2]);
    assert_eq!(d.len().unwrap(), 2);
    assert!(d.contains_key(&"a".into()).unwrap());
    assert!(!d.contains_key(&"z".into()).unwrap());
    assert_eq!(d.get(&"z".into()).unwrap(), None);
    assert_eq!(d.get_item(&"a".into()).unwrap(), 2);
    assert_eq!(d.setdefault(&"c".into(), &7).unwrap(), 7);
    assert_eq!(d.setdefault(&"c".into(), &8).unwrap(), 7);
    d.update([("d".to_string(), 4), ("a".to_string(), 5)])
        .unwrap();
    assert_eq!(
        d.items().unwrap(),
        [
            ("b".to_string(), 3),
            ("a".to_string(), 5),
            ("c".to_string(), 7),
            ("d".to_string(), 4)
        ]
    );
    assert_eq!(d.pop(&"b".into()).unwrap(), 3);
    assert_eq!(d.remove(&"b".into()).unwrap(), None);
    assert!(matches!(d.pop(&"b".into()), Err(ManagerError::KeyError)));
    d.clear().unwrap();
    assert_eq!(d.len().unwrap(), 0);
}

#[test]
fn structured_keys_and_values() {
    let _g = process_lock();
    let m = Manager::start().unwrap();
    let d = m.dict::<(u8, String), Vec<Option<f64>>>().unwrap();
    let k = (1, "x".to_string());
    d.insert(&k, &vec![Some(1.5), None]).unwrap();
    assert_eq!(d.get_item(&k).unwrap(), vec![Some(1.5), None]);
}

fn fill((d, id): (DictProxy<u32, u32>, u32)) {
    for k in 0..KEYS {
        d.insert(&(id * KEYS + k), &id).unwrap();
    }
    // setdefault is atomic on the server: exactly one child creates the shared entry.
    d.setdefault(&u32::MAX, &id).unwrap();
}

#[test]
fn children_update_one_dict() {
    let _g = process_lock();
    let m = Manager::start().unwrap();
    let d = m.dict::<u32, u32>().unwrap();
    run_all(PROCS, fill, |i| (d.clone(), i as u32));
    assert_eq!(d.len().unwrap(), PROCS * KEYS as usize + 1);
    for (k, v) in d.items().unwrap() {
        if k != u32::MAX {
            assert_eq!(k / KEYS, v);
        }
    }
    assert!(d.get_item(&u32::MAX).unwrap() < PROCS as u32);
}

fn read_back((d, ns): (DictProxy<String, String>, NamespaceProxy)) {
    let v = d.get_item(&"from".into()).unwrap();
    ns.set("seen", &v).unwrap();
}

#[test]
fn proxy_survives_the_trip_after_the_sender_drops_it() {
    let _g = process_lock();
    let m = Manager::start().unwrap();
    let d = m.dict::<String, String>().unwrap();
    d.insert(&"from".into(), &"parent".into()).unwrap();
    let ns = m.namespace().unwrap();
    let mut p = spindle_process::Process::new(read_back, (d, ns.clone()));
    p.start().unwrap();
    // The parent no longer holds a proxy to the dict (the Process consumed it); the
    // serialised copy's reference keeps it alive until the child has it.
    assert_eq!(manager_support::join_or_kill(&p), 0);
    assert_eq!(ns.get::<String>("seen").unwrap(), "parent");
}

#[test]
fn objects_are_freed_when_the_last_proxy_goes() {
    let _g = process_lock();
    let m = Manager::start().unwrap();
    assert_eq!(m.number_of_objects().unwrap(), 0);
    let d = m.dict::<u8, u8>().unwrap();
    let d2 = d.clone();
    let l = m.list::<u8>().unwrap();
    assert_eq!(m.number_of_objects().unwrap(), 2);
    drop(d);
    d2.insert(&1, &1).unwrap();
    assert_eq!(m.number_of_objects().unwrap(), 2);
    drop(d2);
    drop(l);
    assert_eq!(m.number_of_objects().unwrap(), 0);
}

#[test]
fn namespace_attributes() {
    let _g = process_lock();
    let m = Manager::start().unwrap();
    let ns = m.namespace().unwrap();
    ns.set("name", "Bob").unwrap();
    ns.set("job", "Builder").unwrap();
    ns.set("count", &3u64).unwrap();
    assert_eq!(ns.names().unwrap(), ["count", "job", "name"]);
    assert_eq!(ns.get::<String>("name").unwrap(), "Bob");
    ns.del("job").unwrap();
    assert!(matches!(
        ns.get::<String>("job"),
        Err(ManagerError::AttributeError(n)) if n == "job"
    ));
    assert!(matches!(
        ns.del("job"),
        Err(ManagerError::AttributeError(_))
    ));
    assert!(matches!(
        ns.get::<String>("count"),
        Err(ManagerError::Decode(_))
    ));
}

fn set_items((v, a): (ValueProxy<String>, ArrayProxy<i64>)) {
    v.set(&"child".to_string()).unwrap();
    for i in 0..a.len().unwrap() as isize {
        a.set(i, &(i as i64 * 10)).unwrap();
    }
}

#[test]
fn value_and_array_across_processes() {
    let _g = process_lock();
    let m = Manager::start().unwrap();
    let v = m.value(&"parent".to_string()).unwrap();
    let a = m.array(&[0i64; 5]).unwrap();
    assert_eq!(v.get().unwrap(), "parent");
    run_all(1, set_items, |_| (v.clone(), a.clone()));
    assert_eq!(v.get().unwrap(), "child");
    assert_eq!(a.to_vec().unwrap(), [0, 10, 20, 30, 40]);
    assert_eq!(a.get(-1).unwrap(), 40);
    assert!(matches!(a.get(5), Err(ManagerError::IndexError)));
    assert!(matches!(a.set(-6, &1), Err(ManagerError::IndexError)));
    assert!(!a.is_empty().unwrap());
}

#[test]
fn references_follow_proxies_through_children_pipes_and_nesting() {
    let _g = process_lock();
    let m = Manager::start().unwrap();
    // Through child processes: once they are done and we drop ours, nothing is left.
    let d = m.dict::<u32, u32>().unwrap();
    run_all(2, fill, |i| (d.clone(), i as u32));
    assert_eq!(m.number_of_objects().unwrap(), 1);
    drop(d);
    assert_eq!(m.number_of_objects().unwrap(), 0);

    // Through a pipe: the bytes hold a reference while the sender's proxy is gone.
    let (a, b) = spindle_process::Pipe(true).unwrap();
    let l = m.list_from(&[1, 2]).unwrap();
    a.send(&l).unwrap();
    drop(l);
    assert_eq!(m.number_of_objects().unwrap(), 1);
    let l: spindle_process::managers::ListProxy<i32> = b.recv().unwrap();
    assert_eq!(l.to_vec().unwrap(), [1, 2]);
    drop(l);
    assert_eq!(m.number_of_objects().unwrap(), 0);

    // Nested: a proxy stored in a managed dict, read back twice.
    let outer = m
        .dict::<String, spindle_process::managers::ListProxy<i32>>()
        .unwrap();
    let inner = m.list_from(&[7]).unwrap();
    outer.insert(&"inner".into(), &inner).unwrap();
    drop(inner);
    let first = outer.get_item(&"inner".into()).unwrap();
    let second = outer.get_item(&"inner".into()).unwrap();
    first.append(&8).unwrap();
    drop(first);
    assert_eq!(second.to_vec().unwrap(), [7, 8]);
    assert_eq!(m.number_of_objects().unwrap(), 2);
    drop(second);
    assert_eq!(m.number_of_objects().unwrap(), 1);
}
