//! The shared objects as the server holds them, and how each answers an [`Op`].
//!
//! Values are opaque [`Bytes`]. Blocking operations (acquire, wait, put, get) block the
//! server thread that serves the caller's connection, so one slow caller never stalls
//! another. Locks record their owner as the client's [`Caller`] (process id, thread number),
//! which keeps `RLock` re-entrance and `Condition` ownership checks per client thread.

use super::ordered_dict::Dict;
use super::wire::{Bytes, Caller, Fault, Kind, Op, Reply};
use parking_lot::{Condvar, Mutex, MutexGuard};
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A deadline computed once from a relative timeout; `None` waits forever (also when the
/// timeout is too large to add to now).
fn deadline(timeout: Option<Duration>) -> Option<Instant> {
    timeout.and_then(|t| Instant::now().checked_add(t))
}

/// Waits on `cv` until `deadline`; returns false once the deadline has passed.
fn wait_until<T>(cv: &Condvar, guard: &mut MutexGuard<'_, T>, deadline: Option<Instant>) -> bool {
    match deadline {
        None => {
            cv.wait(guard);
            true
        }
        Some(d) => !cv.wait_until(guard, d).timed_out(),
    }
}

/// Resolves a Python index (negative counts from the end) against `len`.
fn resolve(index: i64, len: usize) -> Option<usize> {
    let len = i64::try_from(len).ok()?;
    let i = if index < 0 { index + len } else { index };
    (0..len).contains(&i).then_some(i as usize)
}

/// `Lock` (any caller may release) or `RLock` (owner re-enters; only the owner releases).
pub(crate) struct LockCore {
    /// Owner and recursion depth; `None` when free.
    state: Mutex<Option<(Caller, usize)>>,
    cv: Condvar,
    reentrant: bool,
}

impl LockCore {
    fn new(reentrant: bool) -> LockCore {
        LockCore {
            state: Mutex::new(None),
            cv: Condvar::new(),
            reentrant,
        }
    }

    fn acquire(&self, caller: Caller, deadline: Option<Instant>) -> bool {
        let mut st = self.state.lock();
        loop {
            match &mut *st {
                None => {
                    *st = Some((caller, 1));
                    return true;
                }
                Some((owner, depth)) if self.reentrant && *owner == caller => {
                    *depth += 1;
                    return true;
                }
                Some(_) => {
                    if !wait_until(&self.cv, &mut st, deadline) {
                        return false;
                    }
                }
            }
        }
    }

    fn release(&self, caller: Caller) -> Result<(), Fault> {
        let mut st = self.state.lock();
        match &mut *st {
            None if self.reentrant => Err(Fault::NotHeld("cannot release un-acquired lock".into())),
            None => Err(Fault::NotHeld("release unlocked lock".into())),
            Some((owner, _)) if self.reentrant && *owner != caller => {
                Err(Fault::NotHeld("cannot release un-acquired lock".into()))
            }
            Some((_, depth)) => {
                *depth -= 1;
                if *depth == 0 {
                    *st = None;
                    self.cv.notify_one();
                }
                Ok(())
            }
        }
    }

    fn is_owned_by(&self, caller: Caller) -> bool {
        matches!(*self.state.lock(), Some((owner, _)) if owner == caller)
    }

    /// Releases completely for a condition wait; returns the depth to restore.
    fn release_all(&self) -> usize {
        let mut st = self.state.lock();
        let depth = st.take().map_or(0, |(_, d)| d);
        self.cv.notify_one();
        depth
    }

    /// Takes the lock back after a condition wait, with the saved depth.
    fn reacquire(&self, caller: Caller, depth: usize) {
        let mut st = self.state.lock();
        while st.is_some() {
            self.cv.wait(&mut st);
        }
        *st = Some((caller, depth));
    }
}

/// A counting semaphore, bounded if `limit` is set.
pub(crate) struct Sem {
    value: Mutex<usize>,
    cv: Condvar,
    limit: Option<usize>,
}

/// A flag with waiters.
pub(crate) struct Flag {
    set: Mutex<bool>,
    cv: Condvar,
}

/// One thread waiting on a condition; its own flag, as in CPython's `threading.Condition`.
struct Waiter {
    notified: Mutex<bool>,
    cv: Condvar,
}

/// A condition variable over a managed lock.
pub(crate) struct Cond {
    lock: Arc<LockCore>,
    waiters: Mutex<VecDeque<Arc<Waiter>>>,
}

impl Cond {
    fn wait(&self, caller: Caller, deadline: Option<Instant>) -> Result<bool, Fault> {
        if !self.lock.is_owned_by(caller) {
            return Err(Fault::NotHeld("cannot wait on un-acquired lock".into()));
        }
        let me = Arc::new(Waiter {
            notified: Mutex::new(false),
            cv: Condvar::new(),
        });
        self.waiters.lock().push_back(me.clone());
        let depth = self.lock.release_all();
        let mut notified = {
            let mut n = me.notified.lock();
            while !*n {
                if !wait_until(&me.cv, &mut n, deadline) {
                    break;
                }
            }
            *n
        };
        if !notified {
            // Timed out: leave the queue. If a notify already took us out, it counts (its
            // wake-up must not be lost). Lock order is always `waiters` before `notified`.
            let mut ws = self.waiters.lock();
            let before = ws.len();
            ws.retain(|w| !Arc::ptr_eq(w, &me));
            notified = ws.len() == before;
        }
        self.lock.reacquire(caller, depth);
        Ok(notified)
    }

    fn notify(&self, caller: Caller, n: usize) -> Result<(), Fault> {
        if !self.lock.is_owned_by(caller) {
            return Err(Fault::NotHeld("cannot notify on un-acquired lock".into()));
        }
        let mut ws = self.waiters.lock();
        for _ in 0..n {
            let Some(w) = ws.pop_front() else { break };
            *w.notified.lock() = true;
            w.cv.notify_one();
        }
        Ok(())
    }
}

/// A FIFO queue with an optional bound.
pub(crate) struct Fifo {
    items: Mutex<VecDeque<Bytes>>,
    maxsize: usize,
    not_empty: Condvar,
    not_full: Condvar,
}

/// A shared object held by the server.
pub(crate) enum Object {
    Dict(Mutex<Dict>),
    List(Mutex<Vec<Bytes>>),
    Namespace(Mutex<BTreeMap<String, Bytes>>),
    Lock(Arc<LockCore>),
    Semaphore(Sem),
    Event(Flag),
    Condition(Cond),
    Queue(Fifo),
    Value(Mutex<Bytes>),
    Array(Mutex<Vec<Bytes>>),
}

impl Object {
    /// Builds the object `kind` asks for; `lookup` finds an existing lock for a condition.
    pub(crate) fn create(
        kind: Kind,
        lookup: impl FnOnce(u64) -> Option<Arc<Object>>,
    ) -> Result<Object, Fault> {
        Ok(match kind {
            Kind::Dict => Object::Dict(Mutex::default()),
            Kind::List(items) => Object::List(Mutex::new(items)),
            Kind::Namespace => Object::Namespace(Mutex::default()),
            Kind::Lock => Object::Lock(Arc::new(LockCore::new(false))),
            Kind::RLock => Object::Lock(Arc::new(LockCore::new(true))),
            Kind::Semaphore(value, limit) => Object::Semaphore(Sem {
                value: Mutex::new(value),
                cv: Condvar::new(),
                limit,
            }),
            Kind::Event => Object::Event(Flag {
                set: Mutex::new(false),
                cv: Condvar::new(),
            }),
            Kind::Condition(lock) => {
                let lock = match lock {
                    None => Arc::new(LockCore::new(true)),
                    Some(id) => match lookup(id).as_deref() {
                        Some(Object::Lock(core)) => core.clone(),
                        _ => return Err(Fault::Other(format!("object {id} is not a lock"))),
                    },
                };
                Object::Condition(Cond {
                    lock,
                    waiters: Mutex::default(),
                })
            }
            Kind::Queue(maxsize) => Object::Queue(Fifo {
                items: Mutex::default(),
                maxsize,
                not_empty: Condvar::new(),
                not_full: Condvar::new(),
            }),
            Kind::Value(v) => Object::Value(Mutex::new(v)),
            Kind::Array(items) => Object::Array(Mutex::new(items)),
        })
    }

    fn kind_name(&self) -> &'static str {
        match self {
            Object::Dict(_) => "dict",
            Object::List(_) => "list",
            Object::Namespace(_) => "namespace",
            Object::Lock(_) => "lock",
            Object::Semaphore(_) => "semaphore",
            Object::Event(_) => "event",
            Object::Condition(_) => "condition",
            Object::Queue(_) => "queue",
            Object::Value(_) => "value",
            Object::Array(_) => "array",
        }
    }

    /// Runs `op` for `caller`, blocking this server thread if the operation waits.
    pub(crate) fn apply(&self, caller: Caller, op: Op) -> Reply {
        match self.dispatch(caller, op) {
            Ok(r) => r,
            Err(f) => Reply::Fault(f),
        }
    }

    fn dispatch(&self, caller: Caller, op: Op) -> Result<Reply, Fault> {
        match self {
            Object::Dict(d) => dict_op(&mut d.lock(), op),
            Object::List(l) => seq_op(&mut l.lock(), op, true),
            Object::Array(a) => seq_op(&mut a.lock(), op, false),
            Object::Namespace(ns) => {
                let mut ns = ns.lock();
                match op {
                    Op::GetAttr(name) => ns
                        .get(&name)
                        .cloned()
                        .map(Reply::Value)
                        .ok_or(Fault::Attribute(name)),
                    Op::SetAttr(name, v) => {
                        ns.insert(name, v);
                        Ok(Reply::Unit)
                    }
                    Op::DelAttr(name) => match ns.remove(&name) {
                        Some(_) => Ok(Reply::Unit),
                        None => Err(Fault::Attribute(name)),
                    },
                    Op::Attrs => Ok(Reply::Names(ns.keys().cloned().collect())),
                    op => Err(self.unsupported(&op)),
                }
            }
            Object::Lock(core) => match op {
                Op::Acquire(t) => Ok(Reply::Bool(core.acquire(caller, deadline(t)))),
                Op::Release => core.release(caller).map(|()| Reply::Unit),
                Op::Locked => Ok(Reply::Bool(core.state.lock().is_some())),
                op => Err(self.unsupported(&op)),
            },
            Object::Condition(c) => match op {
                Op::Acquire(t) => Ok(Reply::Bool(c.lock.acquire(caller, deadline(t)))),
                Op::Release => c.lock.release(caller).map(|()| Reply::Unit),
                Op::Wait(t) => c.wait(caller, deadline(t)).map(Reply::Bool),
                Op::Notify(n) => c.notify(caller, n).map(|()| Reply::Unit),
                Op::NotifyAll => c.notify(caller, usize::MAX).map(|()| Reply::Unit),
                op => Err(self.unsupported(&op)),
            },
            Object::Semaphore(s) => match op {
                Op::Acquire(t) => {
                    let d = deadline(t);
                    let mut v = s.value.lock();
                    while *v == 0 {
                        if !wait_until(&s.cv, &mut v, d) {
                            return Ok(Reply::Bool(false));
                        }
                    }
                    *v -= 1;
                    Ok(Reply::Bool(true))
                }
                Op::Release => {
                    let mut v = s.value.lock();
                    if s.limit.is_some_and(|l| *v >= l) {
                        return Err(Fault::OverRelease);
                    }
                    *v += 1;
                    s.cv.notify_one();
                    Ok(Reply::Unit)
                }
                Op::SemValue => Ok(Reply::Usize(*s.value.lock())),
                op => Err(self.unsupported(&op)),
            },
            Object::Event(e) => match op {
                Op::Set => {
                    *e.set.lock() = true;
                    e.cv.notify_all();
                    Ok(Reply::Unit)
                }
                Op::ClearFlag => {
                    *e.set.lock() = false;
                    Ok(Reply::Unit)
                }
                Op::IsSet => Ok(Reply::Bool(*e.set.lock())),
                Op::Wait(t) => {
                    let d = deadline(t);
                    let mut set = e.set.lock();
                    while !*set {
                        if !wait_until(&e.cv, &mut set, d) {
                            break;
                        }
                    }
                    Ok(Reply::Bool(*set))
                }
                op => Err(self.unsupported(&op)),
            },
            Object::Queue(q) => queue_op(q, op),
            Object::Value(v) => match op {
                Op::Load => Ok(Reply::Value(v.lock().clone())),
                Op::Store(b) => {
                    *v.lock() = b;
                    Ok(Reply::Unit)
                }
                op => Err(self.unsupported(&op)),
            },
        }
    }

    fn unsupported(&self, op: &Op) -> Fault {
        Fault::Other(format!(
            "a managed {} has no operation {op:?}",
            self.kind_name()
        ))
    }
}

fn dict_op(d: &mut Dict, op: Op) -> Result<Reply, Fault> {
    Ok(match op {
        Op::Len => Reply::Usize(d.len()),
        Op::Clear => {
            *d = Dict::default();
            Reply::Unit
        }
        Op::Get(k) => Reply::MaybeValue(d.get(&k).cloned()),
        Op::Insert(k, v) => Reply::MaybeValue(d.insert(k, v)),
        Op::Pop(k) => Reply::MaybeValue(d.remove(&k)),
        Op::Contains(k) => Reply::Bool(d.get(&k).is_some()),
        Op::SetDefault(k, v) => match d.get(&k) {
            Some(e) => Reply::Value(e.clone()),
            None => {
                d.insert(k, v.clone());
                Reply::Value(v)
            }
        },
        Op::Keys => Reply::Many(d.keys()),
        Op::Values => Reply::Many(d.items().into_iter().map(|(_, v)| v).collect()),
        Op::Items => Reply::Pairs(d.items()),
        Op::Update(pairs) => {
            for (k, v) in pairs {
                d.insert(k, v);
            }
            Reply::Unit
        }
        op => {
            return Err(Fault::Other(format!(
                "a managed dict has no operation {op:?}"
            )))
        }
    })
}

/// List (`growable`) and array (fixed length) operations.
fn seq_op(items: &mut Vec<Bytes>, op: Op, growable: bool) -> Result<Reply, Fault> {
    Ok(match op {
        Op::Len => Reply::Usize(items.len()),
        Op::Values => Reply::Many(items.clone()),
        Op::Index(i) => Reply::Value(items[resolve(i, items.len()).ok_or(Fault::Index)?].clone()),
        Op::SetIndex(i, v) => {
            let i = resolve(i, items.len()).ok_or(Fault::Index)?;
            items[i] = v;
            Reply::Unit
        }
        Op::Clear if growable => {
            items.clear();
            Reply::Unit
        }
        Op::Append(v) if growable => {
            items.push(v);
            Reply::Unit
        }
        Op::Extend(vs) if growable => {
            items.extend(vs);
            Reply::Unit
        }
        Op::InsertAt(i, v) if growable => {
            // Python's list.insert clamps the index instead of raising.
            let len = i64::try_from(items.len()).unwrap_or(i64::MAX);
            let at = if i < 0 { (i + len).max(0) } else { i.min(len) };
            items.insert(at as usize, v);
            Reply::Unit
        }
        Op::PopAt(i) if growable => {
            let i = resolve(i, items.len()).ok_or(Fault::Index)?;
            Reply::Value(items.remove(i))
        }
        op => {
            let kind = if growable { "list" } else { "array" };
            return Err(Fault::Other(format!(
                "a managed {kind} has no operation {op:?}"
            )));
        }
    })
}

fn queue_op(q: &Fifo, op: Op) -> Result<Reply, Fault> {
    Ok(match op {
        Op::Put(item, t) => {
            let d = deadline(t);
            let mut items = q.items.lock();
            while q.maxsize > 0 && items.len() >= q.maxsize {
                if !wait_until(&q.not_full, &mut items, d) {
                    return Err(Fault::Full);
                }
            }
            items.push_back(item);
            q.not_empty.notify_one();
            Reply::Unit
        }
        Op::Take(t) => {
            let d = deadline(t);
            let mut items = q.items.lock();
            loop {
                if let Some(item) = items.pop_front() {
                    q.not_full.notify_one();
                    return Ok(Reply::Value(item));
                }
                if !wait_until(&q.not_empty, &mut items, d) {
                    return Err(Fault::Empty);
                }
            }
        }
        Op::Len => Reply::Usize(q.items.lock().len()),
        Op::Full => Reply::Bool(q.maxsize > 0 && q.items.lock().len() >= q.maxsize),
        op => {
            return Err(Fault::Other(format!(
                "a managed queue has no operation {op:?}"
            )))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_indexing() {
        assert_eq!(resolve(0, 3), Some(0));
        assert_eq!(resolve(-1, 3), Some(2));
        assert_eq!(resolve(-4, 3), None);
        assert_eq!(resolve(3, 3), None);
    }

    #[test]
    fn rlock_reenters_and_checks_owner() {
        let core = LockCore::new(true);
        assert!(core.acquire((1, 1), None));
        assert!(core.acquire((1, 1), None));
        assert!(!core.acquire((1, 2), deadline(Some(Duration::ZERO))));
        assert!(core.release((1, 2)).is_err());
        core.release((1, 1)).unwrap();
        core.release((1, 1)).unwrap();
        assert!(core.release((1, 1)).is_err());
    }
}
