//! Platforms without the Unix calls: every operation returns `Unsupported`.

use std::io;
use std::net::{SocketAddr, TcpStream};

fn unsupported<T>() -> io::Result<T> {
    Err(io::Error::from(io::ErrorKind::Unsupported))
}

pub(crate) fn connect_start(_addr: SocketAddr) -> io::Result<(TcpStream, bool)> {
    unsupported()
}

pub(crate) fn take_socket_error(_s: &TcpStream) -> io::Result<Option<io::Error>> {
    unsupported()
}

pub(crate) fn wait_exit_blocking(_pid: u32) -> io::Result<()> {
    unsupported()
}

pub(crate) fn kill(_pid: u32, _sig: i32) -> io::Result<()> {
    unsupported()
}
