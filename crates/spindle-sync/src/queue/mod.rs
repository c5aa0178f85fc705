//! Python's `queue` module.
