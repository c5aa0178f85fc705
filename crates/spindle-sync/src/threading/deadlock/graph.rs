//! The wait-for graph behind the detector (built only with the `deadlock-detection` feature).
//!
//! One global table, behind a `std::sync::Mutex` (never a spindle or parking_lot lock: the
//! release hook runs inside `parking_lot_core::park`'s `before_sleep` when a `Condition`
//! waits, where parking again would corrupt the thread's parking state):
//!
//! | table     | key              | value                                                   |
//! |-----------|------------------|---------------------------------------------------------|
//! | `holders` | lock address     | who holds it (one exclusive holder, or the readers)      |
//! | `waits`   | thread ident     | the lock the thread is parked on, while it is parked     |
//! | `order`   | (first, second)  | lock-order checker: the first time a named lock was taken while another named lock was held |
//!
//! Thread `t` waiting for lock `L` has an edge to every holder of `L` and, for an `RwLock`
//! read, to every writer queued on `L` (writer preference makes readers wait for them). A
//! deadlock is an elementary cycle of that graph; [`all_cycles`] lists them all (each once,
//! starting at its smallest ident), the way parking_lot's `deadlock` module reports cycles.

use std::backtrace::Backtrace;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::cycle::{DeadlockCycle, DeadlockedThread, HeldLock};
use super::lock_info::{Access, LockIdentity, LockInfo};
use crate::threading::thread_info::{current_thread, get_ident};

/// At most this many cycles are listed by one search (a graph of many waiting threads can
/// hold exponentially many).
const MAX_CYCLES: usize = 64;

/// At most this many graph steps per search, so a huge graph cannot stall the caller.
const MAX_STEPS: usize = 100_000;

/// One hold of a lock.
#[derive(Debug, Clone)]
pub(crate) struct Hold {
    pub(crate) thread: u64,
    pub(crate) lock: LockInfo,
    pub(crate) access: Access,
    pub(crate) backtrace: Option<Arc<Backtrace>>,
}

/// A parked thread's wait.
#[derive(Debug, Clone)]
pub(crate) struct Wait {
    pub(crate) name: String,
    pub(crate) lock: LockInfo,
    pub(crate) access: Access,
}

/// Who first took `second` while holding `first`.
#[derive(Debug, Clone)]
pub(crate) struct OrderWitness {
    pub(crate) thread: String,
    pub(crate) backtrace: Option<Arc<Backtrace>>,
}

#[derive(Debug)]
pub(crate) struct State {
    pub(crate) holders: BTreeMap<usize, Vec<Hold>>,
    pub(crate) waits: BTreeMap<u64, Wait>,
    pub(crate) order: BTreeMap<(LockIdentity, LockIdentity), OrderWitness>,
    pub(crate) reported: BTreeSet<(LockIdentity, LockIdentity)>,
}

static STATE: Mutex<State> = Mutex::new(State {
    holders: BTreeMap::new(),
    waits: BTreeMap::new(),
    order: BTreeMap::new(),
    reported: BTreeSet::new(),
});

/// The graph, locked. Never held while calling user code.
pub(crate) fn state() -> MutexGuard<'static, State> {
    STATE.lock().unwrap_or_else(PoisonError::into_inner)
}

/// 0: not decided yet (read `SPINDLE_DEADLOCK_BACKTRACE`), 1: off, 2: on.
static BACKTRACES: AtomicU8 = AtomicU8::new(0);

pub(crate) fn set_backtraces(on: bool) {
    BACKTRACES.store(if on { 2 } else { 1 }, Ordering::Relaxed);
}

pub(crate) fn backtraces_on() -> bool {
    match BACKTRACES.load(Ordering::Relaxed) {
        0 => {
            let on = std::env::var_os("SPINDLE_DEADLOCK_BACKTRACE")
                .is_some_and(|v| !v.is_empty() && v != "0");
            // A setter call that raced with us wins.
            let _ = BACKTRACES.compare_exchange(
                0,
                if on { 2 } else { 1 },
                Ordering::Relaxed,
                Ordering::Relaxed,
            );
            BACKTRACES.load(Ordering::Relaxed) == 2
        }
        state => state == 2,
    }
}

pub(crate) fn capture() -> Option<Arc<Backtrace>> {
    backtraces_on().then(|| Arc::new(Backtrace::force_capture()))
}

/// Records that the calling thread now holds `lock`.
pub(crate) fn acquired(lock: LockInfo, access: Access) {
    let hold = Hold {
        thread: get_ident(),
        lock,
        access,
        backtrace: capture(),
    };
    let mut s = state();
    let holds = s.holders.entry(lock.addr()).or_default();
    match access {
        // An exclusive hold replaces whatever is left of a lock that was dropped or moved
        // while held at this address.
        Access::Exclusive => {
            holds.clear();
            holds.push(hold);
        }
        Access::Shared => {
            holds.retain(|h| h.access == Access::Shared);
            holds.push(hold);
        }
    }
}

/// Forgets one hold of the lock at `addr` (called before the lock word is released, so a
/// new holder's record cannot be the one removed). Runs inside `before_sleep` for a
/// `Condition` wait: it only takes the table's std mutex.
pub(crate) fn released(addr: usize, access: Access) {
    let me = get_ident();
    let mut s = state();
    if let Some(holds) = s.holders.get_mut(&addr) {
        match access {
            // An owner-less `Lock` may be released by any thread: the hold goes either way.
            Access::Exclusive => holds.clear(),
            Access::Shared => {
                let mine = holds.iter().position(|h| h.thread == me);
                // A read guard may have been sent to another thread: end any read hold.
                if let Some(i) =
                    mine.or_else(|| holds.iter().position(|h| h.access == Access::Shared))
                {
                    holds.swap_remove(i);
                }
            }
        }
        if holds.is_empty() {
            s.holders.remove(&addr);
        }
    }
}

/// A lock was dropped (while held): forget it.
pub(crate) fn forget(addr: usize) {
    state().holders.remove(&addr);
}

/// The calling thread is about to park on `lock`.
pub(crate) fn parking(lock: LockInfo, access: Access) {
    let name = current_thread().name().to_owned();
    let me = get_ident();
    state().waits.insert(me, Wait { name, lock, access });
}

/// The calling thread is back from parking.
pub(crate) fn unparked() {
    let me = get_ident();
    state().waits.remove(&me);
}

/// How `to` blocks `from`'s wait: it holds the lock, or (`None`) it is a writer queued ahead.
type Link = Option<HeldLock>;

/// The threads that `thread`'s wait is blocked by.
fn successors(s: &State, thread: u64) -> Vec<(u64, Link)> {
    let Some(wait) = s.waits.get(&thread) else {
        return Vec::new();
    };
    let mut next: Vec<(u64, Link)> = s
        .holders
        .get(&wait.lock.addr())
        .into_iter()
        .flatten()
        // Readers do not block a reader; anyone blocks a writer (itself too: an upgrade).
        .filter(|h| wait.access == Access::Exclusive || h.access == Access::Exclusive)
        .map(|h| {
            (
                h.thread,
                Some(HeldLock {
                    lock: h.lock,
                    access: h.access,
                    backtrace: h.backtrace.clone(),
                }),
            )
        })
        .collect();
    if wait.access == Access::Shared {
        next.extend(
            s.waits
                .iter()
                .filter(|(&t, w)| {
                    t != thread
                        && w.lock.addr() == wait.lock.addr()
                        && w.access == Access::Exclusive
                })
                .map(|(&t, _)| (t, None)),
        );
    }
    next.sort_by_key(|(t, _)| *t);
    next.dedup_by_key(|(t, _)| *t);
    next
}

/// Builds the report for a cycle given as `(thread, link into it)` pairs, where the link of
/// entry `i` is how thread `i` blocks thread `i - 1`.
fn make_cycle(s: &State, path: &[(u64, Link)]) -> DeadlockCycle {
    let threads = path
        .iter()
        .map(|(t, link)| {
            let wait = &s.waits[t];
            DeadlockedThread {
                name: wait.name.clone(),
                ident: *t,
                waits_for: wait.lock,
                wait_access: wait.access,
                holds: link.clone(),
            }
        })
        .collect();
    DeadlockCycle { threads }.normalized()
}

/// Every elementary cycle of the wait-for graph (at most [`MAX_CYCLES`], within
/// [`MAX_STEPS`]), each once.
pub(crate) fn all_cycles(s: &State) -> Vec<DeadlockCycle> {
    let mut found = Vec::new();
    let mut steps = 0;
    let starts: Vec<u64> = s.waits.keys().copied().collect();
    for &start in &starts {
        // Cycles whose smallest ident is `start`: search only larger idents.
        let mut path: Vec<(u64, Link)> = vec![(start, None)];
        let mut stack: Vec<std::vec::IntoIter<(u64, Link)>> =
            vec![successors(s, start).into_iter()];
        while let Some(iter) = stack.last_mut() {
            steps += 1;
            if found.len() >= MAX_CYCLES || steps > MAX_STEPS {
                return found;
            }
            match iter.next() {
                Some((next, link)) if next == start => {
                    let mut cycle = path.clone();
                    cycle[0].1 = link;
                    found.push(make_cycle(s, &cycle));
                }
                Some((next, link)) => {
                    if next > start
                        && s.waits.contains_key(&next)
                        && !path.iter().any(|(t, _)| *t == next)
                    {
                        path.push((next, link));
                        stack.push(successors(s, next).into_iter());
                    }
                }
                None => {
                    stack.pop();
                    path.pop();
                }
            }
        }
    }
    found
}

/// A cycle the wait of `me` for `lock` runs into, if any: the cycle through `me`, or one
/// further down the chain when `me` only waits behind a deadlock of others.
pub(crate) fn cycle_from(
    me: u64,
    name: String,
    lock: LockInfo,
    access: Access,
) -> Option<DeadlockCycle> {
    let mut s = state();
    let previous = s.waits.insert(me, Wait { name, lock, access });
    let result = find_from(&s, me);
    match previous {
        Some(w) => {
            s.waits.insert(me, w);
        }
        None => {
            s.waits.remove(&me);
        }
    }
    result
}

fn find_from(s: &State, me: u64) -> Option<DeadlockCycle> {
    let mut path: Vec<(u64, Link)> = vec![(me, None)];
    let mut done: BTreeSet<u64> = BTreeSet::new();
    let mut stack: Vec<std::vec::IntoIter<(u64, Link)>> = vec![successors(s, me).into_iter()];
    while let Some(iter) = stack.last_mut() {
        match iter.next() {
            Some((next, link)) => {
                if let Some(i) = path.iter().position(|(t, _)| *t == next) {
                    let mut cycle: Vec<(u64, Link)> = path[i..].to_vec();
                    cycle[0].1 = link;
                    return Some(make_cycle(s, &cycle));
                }
                if s.waits.contains_key(&next) && !done.contains(&next) {
                    path.push((next, link));
                    stack.push(successors(s, next).into_iter());
                }
            }
            None => {
                stack.pop();
                if let Some((t, _)) = path.pop() {
                    done.insert(t);
                }
            }
        }
    }
    None
}

/// Every thread parked on a tracked lock now.
pub(crate) fn blocked() -> Vec<(u64, Wait)> {
    state().waits.iter().map(|(&t, w)| (t, w.clone())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::threading::deadlock::lock_info::{LockKind, LockMeta};

    fn info(addr: usize, kind: LockKind) -> LockInfo {
        LockInfo::new(addr, &LockMeta::new(kind))
    }

    fn hold(thread: u64, lock: LockInfo, access: Access) -> Hold {
        Hold {
            thread,
            lock,
            access,
            backtrace: None,
        }
    }

    fn wait(lock: LockInfo, access: Access) -> Wait {
        Wait {
            name: String::from("t"),
            lock,
            access,
        }
    }

    fn empty() -> State {
        State {
            holders: BTreeMap::new(),
            waits: BTreeMap::new(),
            order: BTreeMap::new(),
            reported: BTreeSet::new(),
        }
    }

    #[test]
    fn two_cycle_is_found_once_starting_at_the_smallest_ident() {
        let (a, b) = (info(0x10, LockKind::Lock), info(0x20, LockKind::Lock));
        let mut s = empty();
        s.holders
            .insert(a.addr(), vec![hold(7, a, Access::Exclusive)]);
        s.holders
            .insert(b.addr(), vec![hold(5, b, Access::Exclusive)]);
        s.waits.insert(7, wait(b, Access::Exclusive));
        s.waits.insert(5, wait(a, Access::Exclusive));
        let cycles = all_cycles(&s);
        assert_eq!(cycles.len(), 1);
        let t = cycles[0].threads();
        assert_eq!((t[0].ident(), t[1].ident()), (5, 7));
        assert_eq!(t[0].holds().unwrap().lock().addr(), b.addr());
        assert_eq!(t[0].waits_for().addr(), a.addr());
        assert_eq!(find_from(&s, 7).unwrap(), cycles[0]);
    }

    #[test]
    fn a_chain_without_a_cycle_is_no_deadlock() {
        let (a, b) = (info(0x10, LockKind::Lock), info(0x20, LockKind::Lock));
        let mut s = empty();
        s.holders
            .insert(a.addr(), vec![hold(1, a, Access::Exclusive)]);
        s.holders
            .insert(b.addr(), vec![hold(2, b, Access::Exclusive)]);
        s.waits.insert(2, wait(a, Access::Exclusive)); // 2 -> 1, and 1 is running
        s.waits.insert(3, wait(b, Access::Exclusive)); // 3 -> 2
        assert!(all_cycles(&s).is_empty());
        assert!(find_from(&s, 3).is_none());
    }

    #[test]
    fn reader_behind_a_queued_writer_closes_a_cycle() {
        let rw = info(0x30, LockKind::RwLock);
        let mut s = empty();
        s.holders
            .insert(rw.addr(), vec![hold(1, rw, Access::Shared)]);
        s.waits.insert(2, wait(rw, Access::Exclusive)); // writer 2 waits for reader 1
        s.waits.insert(1, wait(rw, Access::Shared)); // reader 1 re-reads behind writer 2
        let cycles = all_cycles(&s);
        assert_eq!(cycles.len(), 1);
        let t = cycles[0].threads();
        assert_eq!(t[0].ident(), 1);
        assert!(t[1].holds().is_none()); // 2 blocks 1 by being queued
        assert_eq!(t[0].holds().unwrap().access(), Access::Shared);
    }

    #[test]
    fn three_threads_two_cycles_are_both_listed() {
        let (a, b, c) = (
            info(0x10, LockKind::RwLock),
            info(0x20, LockKind::Lock),
            info(0x30, LockKind::Lock),
        );
        let mut s = empty();
        // 1 holds a (read), 2 holds a (read) and b, 3 holds c.
        s.holders.insert(
            a.addr(),
            vec![hold(1, a, Access::Shared), hold(2, a, Access::Shared)],
        );
        s.holders
            .insert(b.addr(), vec![hold(2, b, Access::Exclusive)]);
        s.holders
            .insert(c.addr(), vec![hold(3, c, Access::Exclusive)]);
        s.waits.insert(3, wait(a, Access::Exclusive)); // 3 -> 1, 2
        s.waits.insert(1, wait(c, Access::Exclusive)); // 1 -> 3
        s.waits.insert(2, wait(c, Access::Exclusive)); // 2 -> 3
        let cycles = all_cycles(&s);
        assert_eq!(cycles.len(), 2);
        assert!(cycles.iter().all(|c| c.len() == 2 && c.contains_thread(3)));
    }
}
