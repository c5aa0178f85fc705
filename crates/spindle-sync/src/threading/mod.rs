//! Python's `threading` module.
