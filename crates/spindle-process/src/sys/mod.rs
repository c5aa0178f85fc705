//! Operating-system layer: every system call the crate makes goes through here.
//!
//! What each platform provides (the portable files use only these names):
//!
//! - process: [`spawn_worker`] (re-exec `/proc/self/exe`), [`fork_worker`], [`wait_exit`]
//!   (non-blocking `waitpid` turned into Python's exit code), [`pidfd_open`], [`send_signal`],
//!   [`process_is_dead`], [`getpid`], [`gettid`], [`getppid`], [`cpu_count`];
//! - descriptors: [`pipe`], [`socketpair`], [`poll_fds`], [`poll_readable`], [`read_some`],
//!   [`read_append`], [`write_all_vectored`], [`write_vectored_from`], [`set_cloexec`],
//!   [`read_exact_fd`]; non-blocking pipes for the process queues: [`set_nonblocking`],
//!   [`bytes_readable`], [`poll_writable`];
//! - shared memory: [`shm`] (`shm_open` + `mmap` for named segments, `memfd_create` for anonymous
//!   blocks) and [`futex`] (wait/wake on a `u32` shared between processes);
//! - the resource tracker process: [`tracker`];
//! - manager sockets: [`socket`] (private directory, random key, Unix stream sockets);
//! - a helper process's signals: [`ignore_interrupt`], [`block_stop_signals`],
//!   [`wait_stop_signal`];
//! - pool workers' allocator setting: [`keep_freed_memory`];
//! - the program's identity for function shipping: [`gnu_build_id`].
//!
//! Only Linux is implemented: the process-shared locks need the futex system call and spawn needs
//! `/proc/self/exe`. Other targets fail to compile with a clear message rather than half-working.

#[cfg(target_os = "linux")]
mod unix;
#[cfg(target_os = "linux")]
pub(crate) use unix::*;

#[cfg(not(target_os = "linux"))]
compile_error!("spindle-process supports Linux only (futex, /proc/self/exe, memfd)");
