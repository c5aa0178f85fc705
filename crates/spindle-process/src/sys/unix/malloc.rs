//! How the C allocator keeps freed memory: the one allocator setting spindle makes, and only in
//! pool workers (processes spindle owns), never in the user's own process.

/// Largest allocation served from the heap, and freed heap kept for reuse, in a worker.
const MMAP_THRESHOLD: i32 = 16 << 20;
const TRIM_THRESHOLD: i32 = 32 << 20;

/// Lets a worker reuse the memory of its last big task.
///
/// With glibc's defaults each megabyte-sized buffer is a fresh `mmap` (or the heap is trimmed
/// as soon as it is freed), so every big task faults its buffers in page by page, inside the
/// pipe read that holds the pipe's lock: that was most of the cost of a 1 MiB argument.
/// Buffers up to 16 MiB now come from the heap and up to 32 MiB of freed heap is kept.
/// Best effort; a no-op outside glibc.
pub(crate) fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY:
    // - `mallopt` only changes allocator parameters; it is called once, at worker start,
    //   before the worker allocates task buffers, and takes plain integers.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
        libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD);
    }
}
