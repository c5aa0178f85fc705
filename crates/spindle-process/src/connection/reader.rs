//! The receive side of a [`Connection`](super::Connection): a frame reader whose state lives in
//! the connection, not on a caller's stack, so a frame that a deadline cuts short is kept and
//! completed by the next receive.
//!
//! States: at a frame boundary (read-ahead bytes may hold a partial header); inside a body
//! (`body.len()` of `len` bytes arrived); skipping an oversize body already reported as
//! `TooLarge`. The body grows with the bytes that arrive, never to the length a header merely
//! announces, so a lying header costs at most [`EAGER_BODY`] of memory.

use super::ConnectionError;
use crate::codec::{self, HEADER};
use crate::sys;
use std::io;
use std::os::fd::BorrowedFd;
use std::time::Instant;

/// Bytes read from the descriptor at a time for headers and small bodies.
const READ_CHUNK: usize = 16 * 1024;

/// A body is first given room for this much (or its whole length, if smaller); beyond, its
/// room doubles as bytes arrive.
const EAGER_BODY: usize = 1 << 20;

/// How long a read may wait.
#[derive(Debug, Clone, Copy)]
pub(super) enum Wait {
    /// Block in `read` (the plain `recv_bytes` path: one system call per fill).
    Forever,
    /// Poll until the instant, then give up with `Timeout`.
    Until(Instant),
    /// Use only what is already buffered: no system call at all.
    NoIo,
}

impl Wait {
    /// `Until(deadline)`, or `Forever` for no deadline.
    pub(super) fn from_deadline(deadline: Option<Instant>) -> Wait {
        deadline.map_or(Wait::Forever, Wait::Until)
    }
}

/// The descriptor to read and how long to wait for it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Source<'a> {
    pub(super) fd: BorrowedFd<'a>,
    /// A socket can be read without blocking per call (`MSG_DONTWAIT`); a pipe is polled first.
    pub(super) socket: bool,
    pub(super) wait: Wait,
}

impl Source<'_> {
    /// One read of up to `max` bytes appended to `out`; `Ok(0)` at end of file (a reset
    /// counts as end of file: the peer is gone either way).
    fn read(&self, out: &mut Vec<u8>, max: usize) -> Result<usize, ConnectionError> {
        let deadline = match self.wait {
            Wait::Forever => return eof_on_reset(sys::read_append(self.fd, out, max, false)),
            Wait::NoIo => return Err(ConnectionError::Timeout),
            Wait::Until(d) => d,
        };
        loop {
            if self.socket {
                match sys::read_append(self.fd, out, max, true) {
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    r => return eof_on_reset(r),
                }
                if Instant::now() >= deadline {
                    return Err(ConnectionError::Timeout);
                }
            }
            match sys::poll_readable(self.fd, Some(deadline)) {
                Ok(false) => return Err(ConnectionError::Timeout),
                Err(e) => return Err(ConnectionError::Io(e)),
                // A pipe that polled readable has bytes (or end of file): this read returns at
                // once, unless another *process* reading the same pipe took them first.
                Ok(true) if !self.socket => {
                    return eof_on_reset(sys::read_append(self.fd, out, max, false))
                }
                Ok(true) => {} // the socket's recv above now finds the bytes
            }
        }
    }
}

fn eof_on_reset(r: io::Result<usize>) -> Result<usize, ConnectionError> {
    match r {
        Ok(n) => Ok(n),
        Err(e) if e.kind() == io::ErrorKind::ConnectionReset => Ok(0),
        Err(e) => Err(ConnectionError::Io(e)),
    }
}

/// Bytes read ahead of the current position: `buf[pos..]` is unread.
#[derive(Debug, Default)]
struct Ahead {
    buf: Vec<u8>,
    pos: usize,
}

impl Ahead {
    fn unread(&self) -> &[u8] {
        &self.buf[self.pos..]
    }

    fn consume(&mut self, n: usize) {
        self.pos += n;
    }

    /// Reads more after the unread bytes (moving those, at most a partial header, to the
    /// front); `Ok(0)` at end of file.
    fn fill(&mut self, src: &Source<'_>) -> Result<usize, ConnectionError> {
        self.buf.drain(..self.pos);
        self.pos = 0;
        if self.buf.capacity() < READ_CHUNK {
            self.buf.reserve_exact(READ_CHUNK - self.buf.len());
        }
        let room = self.buf.capacity() - self.buf.len();
        src.read(&mut self.buf, room)
    }
}

#[derive(Debug, Default)]
enum State {
    /// Between frames; the read-ahead may hold part of the next header.
    #[default]
    Boundary,
    /// The header announced `len` body bytes; `body` holds those that arrived.
    Body { len: usize, body: Vec<u8> },
    /// An oversize frame of `len` body bytes, reported; `left` of them still to drop.
    Skip { len: usize, left: usize },
}

/// What is ready to be received.
enum Ready {
    /// A whole frame: its body is complete in `State::Body`.
    Frame,
    /// A header announcing `len` body bytes, over the limit; not consumed yet.
    Oversize(usize),
}

/// The frame reader of one connection end (behind the connection's read lock).
#[derive(Debug, Default)]
pub(super) struct Reader {
    ahead: Ahead,
    state: State,
}

impl Reader {
    /// Whether any received byte is held here (read ahead or part of a frame).
    pub(super) fn holds_data(&self) -> bool {
        !matches!(self.state, State::Boundary) || !self.ahead.unread().is_empty()
    }

    /// Receives the next frame's body, reading and waiting as `src` allows.
    ///
    /// On `Timeout` everything read so far stays here for the next call. `TooLarge` consumes
    /// the header only; the next calls skip the body as it arrives. `Truncated` drops the
    /// partial frame (the stream is over). `Eof` and `Io` leave the state as it was.
    pub(super) fn recv(
        &mut self,
        src: &Source<'_>,
        max: usize,
    ) -> Result<Vec<u8>, ConnectionError> {
        match self.advance(src, max) {
            Ok(Ready::Frame) => match std::mem::take(&mut self.state) {
                State::Body { body, .. } => Ok(body),
                _ => unreachable!("a frame is reported ready only inside a body"),
            },
            Ok(Ready::Oversize(len)) => {
                self.ahead.consume(HEADER);
                self.state = State::Skip { len, left: len };
                Err(ConnectionError::TooLarge { size: len, max })
            }
            Err(e @ ConnectionError::Truncated { .. }) => {
                self.ahead = Ahead::default();
                self.state = State::Boundary;
                Err(e)
            }
            Err(e) => Err(e),
        }
    }

    /// Whether the next [`recv`](Reader::recv) returns without waiting for the peer: a whole
    /// frame, an oversize header, end of file or an error is ready. Reads what `src` allows
    /// into the buffer, consuming nothing a receive would report.
    pub(super) fn ready(&mut self, src: &Source<'_>, max: usize) -> bool {
        !matches!(self.advance(src, max), Err(ConnectionError::Timeout))
    }

    /// Reads until a whole frame (or an oversize header) is ready, or `src` stops it.
    fn advance(&mut self, src: &Source<'_>, max: usize) -> Result<Ready, ConnectionError> {
        loop {
            match &mut self.state {
                State::Boundary => {
                    let unread = self.ahead.unread();
                    if unread.len() >= HEADER {
                        let mut header = [0u8; HEADER];
                        header.copy_from_slice(&unread[..HEADER]);
                        let len = codec::frame_len(header);
                        if len > max {
                            return Ok(Ready::Oversize(len));
                        }
                        self.ahead.consume(HEADER);
                        let have = self.ahead.unread().len().min(len);
                        let mut body = Vec::with_capacity(len.min(EAGER_BODY.max(have)));
                        body.extend_from_slice(&self.ahead.unread()[..have]);
                        self.ahead.consume(have);
                        self.state = State::Body { len, body };
                        continue;
                    }
                    let got = unread.len();
                    if self.ahead.fill(src)? == 0 {
                        return Err(if got == 0 {
                            ConnectionError::Eof
                        } else {
                            ConnectionError::Truncated {
                                expected: HEADER,
                                got,
                            }
                        });
                    }
                }
                State::Body { len, body } => {
                    let want = *len - body.len();
                    if want == 0 {
                        return Ok(Ready::Frame);
                    }
                    let unread = self.ahead.unread();
                    if !unread.is_empty() {
                        let n = unread.len().min(want);
                        body.extend_from_slice(&unread[..n]);
                        self.ahead.consume(n);
                        continue;
                    }
                    let n = if want >= READ_CHUNK {
                        // Large rests go straight into the body, which grows only as bytes come.
                        if body.capacity() == body.len() {
                            body.reserve_exact(want.min(body.capacity().max(EAGER_BODY)));
                        }
                        src.read(body, want)?
                    } else {
                        self.ahead.fill(src)?
                    };
                    if n == 0 {
                        return Err(ConnectionError::Truncated {
                            expected: HEADER + *len,
                            got: HEADER + body.len(),
                        });
                    }
                }
                State::Skip { len, left } => {
                    let n = self.ahead.unread().len().min(*left);
                    self.ahead.consume(n);
                    *left -= n;
                    if *left == 0 {
                        self.state = State::Boundary;
                        continue;
                    }
                    if self.ahead.fill(src)? == 0 {
                        return Err(ConnectionError::Truncated {
                            expected: HEADER + *len,
                            got: HEADER + *len - *left,
                        });
                    }
                }
            }
        }
    }
}
