//! Python's `concurrent.futures`, in Rust.
