//! Helpers shared by the integration tests (not a test target of its own).

use std::sync::Arc;

use spindle_async::{spawn, Event, Task};

/// Spawns a task on the running loop that returns `value` once the returned [`Event`] is set,
/// so a test decides exactly when it finishes.
///
/// # Panics
///
/// If no loop runs on this thread (as [`spawn`]).
pub(crate) fn gated<T: 'static>(value: T) -> (Arc<Event>, Task<T>) {
    let gate = Arc::new(Event::new());
    let g = gate.clone();
    let task = spawn(async move {
        g.wait().await;
        value
    });
    (gate, task)
}
