//! Helpers for the manager tests: the shared helpers of `tests/support`, under the name the
//! manager tests use.

#![allow(dead_code)]

#[path = "../support/mod.rs"]
mod support;

#[allow(unused_imports)]
pub(crate) use support::{join_or_kill, process_lock, run_all, spawn, KillOnDrop, LIMIT};
