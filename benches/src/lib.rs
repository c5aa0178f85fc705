//! Shared helpers for spindle's criterion benches.
