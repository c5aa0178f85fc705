//! Operating-system calls of the threading module; the rest of `threading` is portable.
//!
//! Each platform file provides:
//! - `native_thread_id() -> Option<u64>`: the kernel's id for the calling thread
//!   (Linux/Android: `gettid`), `None` where there is none to ask for;
//! - `is_main_thread() -> Option<bool>`: whether the calling thread is the process's first
//!   one (Linux: `gettid() == getpid()`), `None` where the OS cannot say;
//! - `main_native_id() -> Option<u64>`: the main thread's kernel id, known from any thread
//!   (Linux: the process id).

#[cfg(any(target_os = "linux", target_os = "android"))]
mod linux;
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) use linux::{is_main_thread, main_native_id, native_thread_id};

#[cfg(not(any(target_os = "linux", target_os = "android")))]
mod other;
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub(crate) use other::{is_main_thread, main_native_id, native_thread_id};
