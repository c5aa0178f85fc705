//! OS calls, the only place they are made. Each platform module provides:
//!
//! - `connect_start(addr)`: a non-blocking TCP socket whose connect is under way;
//! - `pidfd_open(pid)`: a descriptor that becomes readable when a child exits (Linux), or
//!   `Unsupported`;
//! - `wait_exit_blocking(pid)`: blocks until the child exits without reaping it (`waitid`
//!   with `WNOWAIT`), for platforms without pidfd;
//! - `set_nonblocking(fd)`: `O_NONBLOCK` on a pipe end.

#[cfg(unix)]
mod unix;
#[cfg(unix)]
pub(crate) use unix::*;

#[cfg(not(unix))]
mod unsupported;
#[cfg(not(unix))]
pub(crate) use unsupported::*;
