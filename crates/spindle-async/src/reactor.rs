//! I/O readiness: file descriptors registered with the loop's `mio::Poll` (epoll on Linux).
//!
//! Each source is registered once, edge-triggered, for both directions; one loop iteration
//! that blocks costs one `epoll_wait` and nothing else. Readiness is a flag per direction, set
//! by the reactor and cleared by the operation that hits `WouldBlock`; since the reactor only
//! runs between task polls on the loop's one thread, no edge can slip in between the failed
//! attempt and the clearing of the flag.
//!
//! Stream reads go one step further, as tokio does: a read that returns fewer bytes than asked
//! for has drained the kernel buffer, so read readiness is cleared at once and the `read` that
//! would only say `WouldBlock` is skipped. Anything arriving later raises a new edge. The one
//! state that would not is a peer close that arrived together with the data, which is why the
//! reactor keeps a sticky `read_closed` flag (`EPOLLRDHUP`/`EPOLLHUP`, mio's
//! `is_read_closed`) and a short read leaves readiness set once it is seen.

use std::cell::{Cell, RefCell};
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use mio::unix::SourceFd;
use mio::{Interest, Token};

use crate::scheduler::LoopInner;

/// The token of the loop's `mio::Waker` (`call_soon_threadsafe`, wake-ups from other threads);
/// source keys are slab indices and never reach it.
pub(crate) const WAKER_TOKEN: Token = Token(usize::MAX);

/// Readiness state of one registered source.
#[derive(Default)]
pub(crate) struct IoState {
    read_ready: Cell<bool>,
    write_ready: Cell<bool>,
    /// The peer closed its side (or the pipe's writers are gone): never cleared.
    read_closed: Cell<bool>,
    read_waker: RefCell<Option<Waker>>,
    write_waker: RefCell<Option<Waker>>,
}

/// The loop's table of registered sources, indexed by poller key.
#[derive(Default)]
pub(crate) struct IoTable {
    slots: Vec<Option<Rc<IoState>>>,
    free: Vec<usize>,
    len: usize,
}

impl IoTable {
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn insert(&mut self, st: Rc<IoState>) -> usize {
        self.len += 1;
        match self.free.pop() {
            Some(i) => {
                self.slots[i] = Some(st);
                i
            }
            None => {
                self.slots.push(Some(st));
                self.slots.len() - 1
            }
        }
    }

    fn remove(&mut self, key: usize) {
        if let Some(slot) = self.slots.get_mut(key) {
            if slot.take().is_some() {
                self.len -= 1;
                self.free.push(key);
            }
        }
    }

    /// Applies one reactor event, collecting the wakers to wake once borrows are released.
    pub(crate) fn dispatch(&self, ev: &mio::event::Event, wakers: &mut Vec<Waker>) {
        let Some(Some(st)) = self.slots.get(ev.token().0) else {
            return;
        };
        let failed = ev.is_error();
        if ev.is_read_closed() {
            st.read_closed.set(true);
        }
        if ev.is_readable() || ev.is_read_closed() || failed {
            st.read_ready.set(true);
            wakers.extend(st.read_waker.borrow_mut().take());
        }
        if ev.is_writable() || ev.is_write_closed() || failed {
            st.write_ready.set(true);
            wakers.extend(st.write_waker.borrow_mut().take());
        }
    }
}

/// Which way an operation goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    Read,
    Write,
}

/// A non-blocking I/O object registered with the running loop; deregistered on drop.
pub(crate) struct AsyncFd<T: AsFd> {
    lp: Rc<LoopInner>,
    key: usize,
    state: Rc<IoState>,
    io: T,
}

impl<T: AsFd> AsyncFd<T> {
    /// Registers `io` (already non-blocking) with the loop running on this thread.
    pub(crate) fn new(io: T) -> io::Result<AsyncFd<T>> {
        let lp = crate::get_running_loop()
            .map_err(|e| io::Error::other(e.to_string()))?
            .inner;
        let state = Rc::new(IoState {
            read_ready: Cell::new(true),
            write_ready: Cell::new(true),
            ..IoState::default()
        });
        let key = lp.io.borrow_mut().insert(state.clone());
        let raw = io.as_fd().as_raw_fd();
        // mio registers edge-triggered, with `EPOLLRDHUP`; the fd is deregistered in `Drop`,
        // before `io` (and so the fd) is dropped.
        let added = lp.registry.register(
            &mut SourceFd(&raw),
            Token(key),
            Interest::READABLE | Interest::WRITABLE,
        );
        if let Err(e) = added {
            lp.io.borrow_mut().remove(key);
            return Err(e);
        }
        Ok(AsyncFd { lp, key, state, io })
    }

    pub(crate) fn get_ref(&self) -> &T {
        &self.io
    }

    fn ready(&self, dir: Direction) -> &Cell<bool> {
        match dir {
            Direction::Read => &self.state.read_ready,
            Direction::Write => &self.state.write_ready,
        }
    }

    /// Runs `op` when the source is ready in `dir`, until it does not hit `WouldBlock`.
    pub(crate) fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
        mut op: impl FnMut(&T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        loop {
            if !self.ready(dir).get() {
                let slot = match dir {
                    Direction::Read => &self.state.read_waker,
                    Direction::Write => &self.state.write_waker,
                };
                let mut w = slot.borrow_mut();
                match &*w {
                    Some(old) if old.will_wake(cx.waker()) => {}
                    _ => *w = Some(cx.waker().clone()),
                }
                return Poll::Pending;
            }
            match op(&self.io) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.ready(dir).set(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                r => return Poll::Ready(r),
            }
        }
    }

    /// Reads into `buf` with `op` when readable, like [`poll_io`](Self::poll_io), but a short
    /// read clears read readiness (see the module docs) unless the peer's close was seen.
    ///
    /// Only for byte streams (TCP, pipes), where a short read means the buffer was drained;
    /// never for datagrams or `accept`.
    pub(crate) fn poll_read_stream(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
        mut op: impl FnMut(&T, &mut [u8]) -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        let want = buf.len();
        let r = self.poll_io(cx, Direction::Read, |io| op(io, buf));
        if let Poll::Ready(Ok(n)) = r {
            if n > 0 && n < want && !self.state.read_closed.get() {
                self.state.read_ready.set(false);
            }
        }
        r
    }

    /// Waits until `op` succeeds (or fails with something other than `WouldBlock`).
    pub(crate) async fn io<R>(
        &self,
        dir: Direction,
        mut op: impl FnMut(&T) -> io::Result<R>,
    ) -> io::Result<R> {
        std::future::poll_fn(|cx| self.poll_io(cx, dir, &mut op)).await
    }
}

impl<T: AsFd> AsFd for AsyncFd<T> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.as_fd()
    }
}

impl<T: AsFd> Drop for AsyncFd<T> {
    fn drop(&mut self) {
        let raw = self.io.as_fd().as_raw_fd();
        let _ = self.lp.registry.deregister(&mut SourceFd(&raw));
        if let Ok(mut io) = self.lp.io.try_borrow_mut() {
            io.remove(self.key);
        }
    }
}
