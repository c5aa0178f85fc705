//! Linux and Android: thread ids from `gettid`, the main thread is the one whose tid is the pid.

/// `gettid()`: the kernel's id of the calling thread (what `top -H` and `/proc/<pid>/task` show).
pub(crate) fn native_thread_id() -> Option<u64> {
    // SAFETY:
    // - `SYS_gettid` takes no arguments, cannot fail and touches no memory.
    let tid = unsafe { libc::syscall(libc::SYS_gettid) };
    u64::try_from(tid).ok()
}

/// The main thread's tid equals the process id.
pub(crate) fn is_main_thread() -> Option<bool> {
    Some(native_thread_id() == main_native_id())
}

/// The process id, which is the main thread's tid.
pub(crate) fn main_native_id() -> Option<u64> {
    Some(u64::from(std::process::id()))
}
