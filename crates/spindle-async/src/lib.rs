//! Python's `asyncio`, in Rust.
