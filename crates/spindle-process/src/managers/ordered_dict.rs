//! The dict a manager serves: encoded keys and values, in insertion order like Python's dict
//! (an overwritten key keeps its place; a removed and re-added key goes to the end).

use super::wire::Bytes;
use std::collections::{BTreeMap, HashMap};

/// A dict that keeps insertion order, like Python's.
#[derive(Default)]
pub(crate) struct Dict {
    entries: HashMap<Bytes, (u64, Bytes)>,
    order: BTreeMap<u64, Bytes>,
    next: u64,
}

impl Dict {
    pub(crate) fn insert(&mut self, k: Bytes, v: Bytes) -> Option<Bytes> {
        if let Some(slot) = self.entries.get_mut(&k) {
            return Some(std::mem::replace(&mut slot.1, v));
        }
        self.next += 1;
        self.order.insert(self.next, k.clone());
        self.entries.insert(k, (self.next, v));
        None
    }

    pub(crate) fn remove(&mut self, k: &[u8]) -> Option<Bytes> {
        let (seq, v) = self.entries.remove(k)?;
        self.order.remove(&seq);
        Some(v)
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(crate) fn get(&self, k: &[u8]) -> Option<&Bytes> {
        self.entries.get(k).map(|e| &e.1)
    }

    pub(crate) fn keys(&self) -> Vec<Bytes> {
        self.order.values().cloned().collect()
    }

    pub(crate) fn items(&self) -> Vec<(Bytes, Bytes)> {
        self.order
            .values()
            .map(|k| (k.clone(), self.entries[k].1.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn dict_keeps_insertion_order_and_position_on_overwrite() {
        let mut d = Dict::default();
        d.insert(b"b".to_vec(), b"1".to_vec());
        d.insert(b"a".to_vec(), b"2".to_vec());
        d.insert(b"b".to_vec(), b"3".to_vec());
        assert_eq!(d.keys(), vec![b"b".to_vec(), b"a".to_vec()]);
        assert_eq!(d.remove(b"b"), Some(b"3".to_vec()));
        d.insert(b"b".to_vec(), b"4".to_vec());
        assert_eq!(d.keys(), vec![b"a".to_vec(), b"b".to_vec()]);
    }

    #[derive(Debug, Clone)]
    enum Step {
        Insert(u8, u8),
        Remove(u8),
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            (0u8..8, any::<u8>()).prop_map(|(k, v)| Step::Insert(k, v)),
            (0u8..8).prop_map(Step::Remove),
        ]
    }

    proptest! {
        /// Against a model: a vector of pairs searched linearly, which is Python's dict order
        /// by construction.
        #[test]
        fn matches_an_ordered_model(steps in proptest::collection::vec(step(), 0..64)) {
            let mut d = Dict::default();
            let mut model: Vec<(u8, u8)> = Vec::new();
            for s in steps {
                match s {
                    Step::Insert(k, v) => {
                        let old = d.insert(vec![k], vec![v]);
                        let want = match model.iter_mut().find(|e| e.0 == k) {
                            Some(e) => Some(std::mem::replace(&mut e.1, v)),
                            None => { model.push((k, v)); None }
                        };
                        prop_assert_eq!(old, want.map(|v| vec![v]));
                    }
                    Step::Remove(k) => {
                        let old = d.remove(&[k]);
                        let want = model.iter().position(|e| e.0 == k).map(|i| model.remove(i).1);
                        prop_assert_eq!(old, want.map(|v| vec![v]));
                    }
                }
                let items: Vec<(Bytes, Bytes)> =
                    model.iter().map(|&(k, v)| (vec![k], vec![v])).collect();
                prop_assert_eq!(d.items(), items);
                prop_assert_eq!(d.len(), model.len());
            }
        }
    }
}
