//! Helpers shared by the integration tests: a time limit for every blocking call, and a gate
//! that holds a task "running" until the test opens it.

#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;
use std::time::Duration;

use spindle_sync::threading::Event;

/// Upper bound for any wait that should succeed; a bug fails the test instead of hanging it.
pub const LIMIT: Duration = Duration::from_secs(20);

/// A short wait that is expected to time out.
pub const SHORT: Duration = Duration::from_millis(20);

/// A pair of events: the task sets `entered` when it starts and waits for `release`.
#[derive(Clone, Debug, Default)]
pub struct Gate {
    entered: Arc<Event>,
    release: Arc<Event>,
}

impl Gate {
    pub fn new() -> Self {
        Self::default()
    }

    /// Called inside the task: reports that it runs, then waits for `open`.
    pub fn hold(&self) {
        self.entered.set();
        assert!(self.release.wait_timeout(LIMIT), "gate never opened");
    }

    /// Called by the test: waits until the task is inside `hold`.
    pub fn wait_entered(&self) {
        assert!(self.entered.wait_timeout(LIMIT), "task never started");
    }

    pub fn open(&self) {
        self.release.set();
    }
}
