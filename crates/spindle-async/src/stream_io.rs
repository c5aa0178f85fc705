//! The byte-stream transport behind [`StreamReader`](crate::StreamReader) and
//! [`StreamWriter`](crate::StreamWriter): a registered TCP socket or pipe end.

use std::cell::RefCell;
use std::fs::File;
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::task::{Context, Poll};

use crate::reactor::{AsyncFd, Direction};

/// What the stream reader and writer need from their transport.
pub(crate) trait StreamIo {
    fn poll_read(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>>;
    fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>>;
    /// Ends the write side (`write_eof`) or both sides (`close`).
    fn shutdown(&self, how: Shutdown) -> io::Result<()>;
}

impl StreamIo for AsyncFd<TcpStream> {
    fn poll_read(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.poll_read_stream(cx, buf, |s, b| (&*s).read(b))
    }

    fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.poll_io(cx, Direction::Write, |s| (&*s).write(buf))
    }

    fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        match self.get_ref().shutdown(how) {
            Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(()),
            r => r,
        }
    }
}

/// One end of a pipe (a child's stdin, stdout or stderr); `shutdown` closes it.
pub(crate) struct PipeIo {
    fd: RefCell<Option<AsyncFd<File>>>,
}

impl PipeIo {
    pub(crate) fn new(fd: AsyncFd<File>) -> PipeIo {
        PipeIo {
            fd: RefCell::new(Some(fd)),
        }
    }
}

fn closed() -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, "pipe closed")
}

impl StreamIo for PipeIo {
    fn poll_read(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        match &*self.fd.borrow() {
            Some(fd) => fd.poll_read_stream(cx, buf, |f, b| (&*f).read(b)),
            None => Poll::Ready(Ok(0)),
        }
    }

    fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match &*self.fd.borrow() {
            Some(fd) => fd.poll_io(cx, Direction::Write, |f| (&*f).write(buf)),
            None => Poll::Ready(Err(closed())),
        }
    }

    fn shutdown(&self, _how: Shutdown) -> io::Result<()> {
        drop(self.fd.borrow_mut().take());
        Ok(())
    }
}
