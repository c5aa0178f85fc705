//! Platforms without a wrapped thread-id call: spindle's own ident stands in for the native id,
//! and the main thread is recognised by the name the Rust runtime gives it.

/// No kernel id is asked for here; the caller falls back to spindle's ident.
pub(crate) fn native_thread_id() -> Option<u64> {
    None
}

/// The Rust runtime names the main thread `"main"`.
pub(crate) fn is_main_thread() -> Option<bool> {
    Some(std::thread::current().name() == Some("main"))
}

/// Unknown from another thread; found when the main thread first asks.
pub(crate) fn main_native_id() -> Option<u64> {
    None
}
