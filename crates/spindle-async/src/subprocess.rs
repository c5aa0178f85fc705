//! Subprocesses: [`create_subprocess_exec`], [`create_subprocess_shell`] and [`Process`]
//! (Python's `asyncio.create_subprocess_exec` and `asyncio.subprocess.Process`).
//!
//! Pipes are non-blocking and registered with the reactor; child exit is a pidfd registered
//! with the reactor on Linux, elsewhere a helper thread blocked in `waitid(WNOWAIT)` that
//! sets an [`Event`](crate::Event).

use std::cell::RefCell;
use std::ffi::OsStr;
use std::fmt;
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, Command, ExitStatus};
use std::rc::Rc;
use std::sync::Arc;

use crate::gather::gather3;
use crate::reactor::{AsyncFd, Direction};
use crate::stream_io::PipeIo;
use crate::stream_reader::{StreamReader, DEFAULT_LIMIT};
use crate::stream_writer::StreamWriter;
use crate::{get_running_loop, sys, Event};

/// Where a child's standard stream goes. Python's `PIPE`, `DEVNULL` and `None`.
///
/// # Examples
///
/// ```
/// use spindle_async::{create_subprocess_exec, run, Stdio, StdioConfig};
///
/// run(async {
///     let cfg = StdioConfig { stdin: Stdio::Null, stdout: Stdio::Pipe, stderr: Stdio::Inherit };
///     let p = create_subprocess_exec("cat", &[] as &[&str], cfg).await.unwrap();
///     assert!(p.stdin.is_none() && p.stderr.is_none());
///     let (out, _) = p.communicate(None).await.unwrap(); // /dev/null in: EOF at once
///     assert!(out.is_empty());
/// });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stdio {
    /// A pipe to this process: Python's `asyncio.subprocess.PIPE`.
    Pipe,
    /// The parent's own stream: Python's `None`.
    Inherit,
    /// `/dev/null`: Python's `asyncio.subprocess.DEVNULL`.
    Null,
}

impl From<Stdio> for std::process::Stdio {
    fn from(s: Stdio) -> Self {
        match s {
            Stdio::Pipe => std::process::Stdio::piped(),
            Stdio::Inherit => std::process::Stdio::inherit(),
            Stdio::Null => std::process::Stdio::null(),
        }
    }
}

/// How to connect the child's stdin, stdout and stderr (all [`Stdio::Pipe`] by default).
///
/// # Examples
///
/// ```
/// use spindle_async::{create_subprocess_exec, run, Stdio, StdioConfig};
///
/// run(async {
///     let cfg = StdioConfig { stdout: Stdio::Null, ..StdioConfig::default() };
///     let p = create_subprocess_exec("echo", &["hidden"], cfg).await.unwrap();
///     assert!(p.stdout.is_none());
///     let (out, _) = p.communicate(None).await.unwrap();
///     assert!(out.is_empty());
///     assert_eq!(p.returncode(), Some(0));
/// });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StdioConfig {
    /// The child's stdin.
    pub stdin: Stdio,
    /// The child's stdout.
    pub stdout: Stdio,
    /// The child's stderr.
    pub stderr: Stdio,
}

impl Default for StdioConfig {
    fn default() -> Self {
        StdioConfig {
            stdin: Stdio::Pipe,
            stdout: Stdio::Pipe,
            stderr: Stdio::Pipe,
        }
    }
}

/// How the loop learns that the child exited.
enum ExitWatch {
    Pidfd(AsyncFd<OwnedFd>),
    Thread(Arc<Event>),
}

/// A child process started by [`create_subprocess_exec`]. Python's `asyncio.subprocess.Process`.
///
/// # Differences from Python
///
/// Dropping a `Process` whose child still runs leaves the child running (as Python does);
/// it is reaped if it has already exited.
///
/// # Examples
///
/// ```
/// use spindle_async::{create_subprocess_exec, run, StdioConfig};
///
/// run(async {
///     let p = create_subprocess_exec("echo", &["hi"], StdioConfig::default()).await.unwrap();
///     let out = p.stdout.as_ref().unwrap().read_to_end().await.unwrap();
///     assert_eq!(out, b"hi\n");
///     assert_eq!(p.wait().await.unwrap(), 0);
/// });
/// ```
pub struct Process {
    child: RefCell<Child>,
    status: RefCell<Option<ExitStatus>>,
    watch: ExitWatch,
    /// The child's stdin, if piped. Python's `process.stdin`.
    pub stdin: Option<StreamWriter>,
    /// The child's stdout, if piped. Python's `process.stdout`.
    pub stdout: Option<StreamReader>,
    /// The child's stderr, if piped. Python's `process.stderr`.
    pub stderr: Option<StreamReader>,
}

fn pipe_io(fd: OwnedFd) -> io::Result<Rc<PipeIo>> {
    sys::set_nonblocking(fd.as_fd())?;
    Ok(Rc::new(PipeIo::new(AsyncFd::new(File::from(fd))?)))
}

/// Starts `program` with `args`. Python's
/// `await asyncio.create_subprocess_exec(program, *args, stdin=PIPE, stdout=PIPE, stderr=PIPE)`.
///
/// # Errors
///
/// The spawn error (for example `NotFound`); an error of kind `Other` outside a running loop.
///
/// # Platform-specific behavior
///
/// Unix only. On Linux child exit is a pidfd in the reactor; elsewhere a helper thread waits.
///
/// # Examples
///
/// ```
/// use spindle_async::{create_subprocess_exec, run, StdioConfig};
///
/// run(async {
///     let p = create_subprocess_exec("cat", &[] as &[&str], StdioConfig::default()).await.unwrap();
///     let (out, _err) = p.communicate(Some(b"meow")).await.unwrap();
///     assert_eq!(out, b"meow");
///     assert_eq!(p.returncode(), Some(0));
/// });
/// ```
pub async fn create_subprocess_exec<S: AsRef<OsStr>>(
    program: impl AsRef<OsStr>,
    args: &[S],
    stdio: StdioConfig,
) -> io::Result<Process> {
    let mut cmd = Command::new(program);
    cmd.args(args);
    spawn_command(cmd, stdio)
}

/// Runs `cmd` through `/bin/sh -c`. Python's `await asyncio.create_subprocess_shell(cmd, ...)`.
///
/// # Errors
///
/// As [`create_subprocess_exec`].
///
/// # Examples
///
/// ```
/// use spindle_async::{create_subprocess_shell, run, StdioConfig};
///
/// run(async {
///     let p = create_subprocess_shell("exit 3", StdioConfig::default()).await.unwrap();
///     assert_eq!(p.wait().await.unwrap(), 3);
/// });
/// ```
pub async fn create_subprocess_shell(cmd: &str, stdio: StdioConfig) -> io::Result<Process> {
    let mut c = Command::new("/bin/sh");
    c.arg("-c").arg(cmd);
    spawn_command(c, stdio)
}

fn spawn_command(mut cmd: Command, stdio: StdioConfig) -> io::Result<Process> {
    let lp = get_running_loop()
        .map_err(|e| io::Error::other(e.to_string()))?
        .inner;
    cmd.stdin(stdio.stdin)
        .stdout(stdio.stdout)
        .stderr(stdio.stderr);
    let mut child = cmd.spawn()?;
    let stdin = match child.stdin.take() {
        Some(s) => Some(StreamWriter::new(
            pipe_io(s.into())?,
            lp.clone(),
            None,
            None,
        )),
        None => None,
    };
    let stdout = match child.stdout.take() {
        Some(s) => Some(StreamReader::with_io(pipe_io(s.into())?, DEFAULT_LIMIT)),
        None => None,
    };
    let stderr = match child.stderr.take() {
        Some(s) => Some(StreamReader::with_io(pipe_io(s.into())?, DEFAULT_LIMIT)),
        None => None,
    };
    let pid = child.id();
    let watch = match sys::pidfd_open(pid) {
        Ok(fd) => ExitWatch::Pidfd(AsyncFd::new(fd)?),
        Err(_) => {
            let ev = Arc::new(Event::new());
            let ev2 = ev.clone();
            std::thread::Builder::new()
                .name(format!("spindle-waitpid-{pid}"))
                .spawn(move || {
                    let _ = sys::wait_exit_blocking(pid);
                    ev2.set();
                })?;
            ExitWatch::Thread(ev)
        }
    };
    Ok(Process {
        child: RefCell::new(child),
        status: RefCell::new(None),
        watch,
        stdin,
        stdout,
        stderr,
    })
}

/// Python's `returncode`: the exit code, or minus the signal number.
fn returncode(s: ExitStatus) -> i32 {
    match (s.code(), s.signal()) {
        (Some(c), _) => c,
        (None, Some(sig)) => -sig,
        (None, None) => -1,
    }
}

impl Process {
    /// The child's process id. Python's `process.pid`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{create_subprocess_exec, run, StdioConfig};
    ///
    /// run(async {
    ///     let p = create_subprocess_exec("true", &[] as &[&str], StdioConfig::default()).await.unwrap();
    ///     assert!(p.pid() > 0);
    ///     p.wait().await.unwrap();
    /// });
    /// ```
    pub fn pid(&self) -> u32 {
        self.child.borrow().id()
    }

    /// The exit code once the child was waited for; minus the signal number if a signal killed
    /// it. Python's `process.returncode`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{create_subprocess_exec, run, StdioConfig};
    ///
    /// run(async {
    ///     let p = create_subprocess_exec("false", &[] as &[&str], StdioConfig::default()).await.unwrap();
    ///     p.wait().await.unwrap();
    ///     assert_eq!(p.returncode(), Some(1));
    /// });
    /// ```
    pub fn returncode(&self) -> Option<i32> {
        self.status.borrow().map(returncode)
    }

    fn try_reap(&self) -> io::Result<Option<ExitStatus>> {
        if let Some(s) = *self.status.borrow() {
            return Ok(Some(s));
        }
        let s = self.child.borrow_mut().try_wait()?;
        if let Some(s) = s {
            *self.status.borrow_mut() = Some(s);
        }
        Ok(s)
    }

    /// Waits for the child to exit; returns its return code. Python's `await process.wait()`.
    ///
    /// # Errors
    ///
    /// The OS error of `waitpid`.
    ///
    /// # Cancel safety
    ///
    /// Safe: it only waits; the status is kept once seen.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{create_subprocess_exec, run, StdioConfig};
    ///
    /// run(async {
    ///     let p = create_subprocess_exec("sh", &["-c", "exit 4"], StdioConfig::default()).await.unwrap();
    ///     assert_eq!(p.wait().await.unwrap(), 4);
    ///     assert_eq!(p.returncode(), Some(4));
    /// });
    /// ```
    pub async fn wait(&self) -> io::Result<i32> {
        let status = match &self.watch {
            ExitWatch::Pidfd(fd) => {
                fd.io(Direction::Read, |_| match self.try_reap()? {
                    Some(s) => Ok(s),
                    None => Err(io::Error::from(io::ErrorKind::WouldBlock)),
                })
                .await?
            }
            ExitWatch::Thread(ev) => {
                ev.wait().await;
                loop {
                    if let Some(s) = self.try_reap()? {
                        break s;
                    }
                    crate::yield_now().await;
                }
            }
        };
        Ok(returncode(status))
    }

    /// Sends `input` to stdin (then closes it), reads stdout and stderr to EOF, and waits for
    /// the child. Returns `(stdout, stderr)`; a stream that is not piped reads as empty.
    /// Python's `await process.communicate(input)`.
    ///
    /// # Errors
    ///
    /// A read error or the `waitpid` error. A child that exits without reading its input
    /// (`BrokenPipe`) is not an error, as in Python.
    ///
    /// # Cancel safety
    ///
    /// Not cancel-safe: output read so far is lost if the future is dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{create_subprocess_exec, run, StdioConfig};
    ///
    /// run(async {
    ///     let p = create_subprocess_exec("sh", &["-c", "tr a-z A-Z; echo oops >&2"], StdioConfig::default())
    ///         .await.unwrap();
    ///     let (out, err) = p.communicate(Some(b"shout")).await.unwrap();
    ///     assert_eq!((out.as_slice(), err.as_slice()), (&b"SHOUT"[..], &b"oops\n"[..]));
    /// });
    /// ```
    pub async fn communicate(&self, input: Option<&[u8]>) -> io::Result<(Vec<u8>, Vec<u8>)> {
        let feed = async {
            if let Some(w) = &self.stdin {
                if let Some(data) = input {
                    w.write(data);
                }
                w.close();
                let _ = w.wait_closed().await;
            }
        };
        let read = |r: Option<StreamReader>| async move {
            match r {
                Some(r) => r.read_to_end().await.map_err(|e| match e {
                    crate::StreamError::Io(e) => e,
                    other => io::Error::other(other.to_string()),
                }),
                None => Ok(Vec::new()),
            }
        };
        let (_, out, err) =
            gather3(feed, read(self.stdout.clone()), read(self.stderr.clone())).await;
        let (out, err) = (out?, err?);
        self.wait().await?;
        Ok((out, err))
    }

    /// Sends signal `sig` to the child. Python's `process.send_signal(sig)`.
    ///
    /// # Errors
    ///
    /// The OS error of `kill` (a child already reaped is not signalled: `Ok`).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{create_subprocess_exec, run, StdioConfig};
    ///
    /// run(async {
    ///     // A child that would wait for input forever.
    ///     let p = create_subprocess_exec("cat", &[] as &[&str], StdioConfig::default()).await.unwrap();
    ///     p.send_signal(2).unwrap(); // SIGINT
    ///     assert_eq!(p.wait().await.unwrap(), -2);
    /// });
    /// ```
    pub fn send_signal(&self, sig: i32) -> io::Result<()> {
        if self.try_reap()?.is_some() {
            return Ok(());
        }
        sys::kill(self.pid(), sig)
    }

    /// Sends SIGTERM. Python's `process.terminate()`.
    ///
    /// # Errors
    ///
    /// As [`send_signal`](Process::send_signal).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{create_subprocess_exec, run, StdioConfig};
    ///
    /// run(async {
    ///     // A child that would wait for input forever.
    ///     let p = create_subprocess_exec("cat", &[] as &[&str], StdioConfig::default()).await.unwrap();
    ///     p.terminate().unwrap();
    ///     assert_eq!(p.wait().await.unwrap(), -15);
    /// });
    /// ```
    pub fn terminate(&self) -> io::Result<()> {
        self.send_signal(libc::SIGTERM)
    }

    /// Sends SIGKILL. Python's `process.kill()`.
    ///
    /// # Errors
    ///
    /// As [`send_signal`](Process::send_signal).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_async::{create_subprocess_exec, run, StdioConfig};
    ///
    /// run(async {
    ///     // A child that would wait for input forever.
    ///     let p = create_subprocess_exec("cat", &[] as &[&str], StdioConfig::default()).await.unwrap();
    ///     p.kill().unwrap();
    ///     assert_eq!(p.wait().await.unwrap(), -9);
    /// });
    /// ```
    pub fn kill(&self) -> io::Result<()> {
        if self.try_reap()?.is_some() {
            return Ok(());
        }
        self.child.borrow_mut().kill()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.try_reap();
    }
}

impl fmt::Debug for Process {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Process")
            .field("pid", &self.pid())
            .field("returncode", &self.returncode())
            .finish()
    }
}
