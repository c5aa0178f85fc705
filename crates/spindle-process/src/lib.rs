//! Python's `multiprocessing`, in Rust.
