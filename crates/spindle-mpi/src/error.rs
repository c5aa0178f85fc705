//! [`MpiError`]: why the MPI pool could not start, or why one of its tasks has no result.

use spindle_futures::FutureError;
use spindle_process::shipping::ShipError;

/// Why [`MpiPoolExecutor::start`](crate::MpiPoolExecutor::start) failed, or why a task failed
/// (inside [`FutureError::Failed`]; get it back with [`MpiError::from_future_error`]).
///
/// A task that panics is not an `MpiError`: it fails with [`FutureError::Panicked`], as on
/// every spindle executor, and the message names the rank and host it ran on.
///
/// # Examples
///
/// ```
/// use spindle_mpi::MpiError;
///
/// let e = MpiError::NoWorkers { size: 1 };
/// assert!(e.to_string().contains("mpirun -n 3"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MpiError {
    /// The job has fewer than two ranks (run without `mpirun`, or with `-n 1`): rank 0 runs
    /// `main`, so there is no one to run the tasks.
    #[error(
        "spindle-mpi needs at least 2 MPI ranks but this job has {size}: start the program \
         with `mpirun -n 3 <program>` (rank 0 runs main, ranks 1.. run the tasks)"
    )]
    NoWorkers {
        /// The number of ranks the job has.
        size: usize,
    },
    /// MPI was initialised before (by an earlier `start`, or by other code in this process);
    /// MPI can be initialised only once per process.
    #[error(
        "this process has already initialised MPI: MpiPoolExecutor::start must be the only \
         MPI initialisation and may be called once"
    )]
    AlreadyInitialized,
    /// The MPI library cannot be used from the pool's own thread (it offers less than
    /// `MPI_THREAD_SERIALIZED`).
    #[error("the MPI library supports only {provided} threading; spindle-mpi needs serialized")]
    ThreadSupport {
        /// The level MPI granted, as MPI names it.
        provided: &'static str,
    },
    /// A worker rank runs a different build of the program than rank 0, so shipped functions
    /// would mean different code there.
    #[error("rank {rank} on {host} runs a different build of the program: {error}")]
    BuildMismatch {
        /// The worker's rank.
        rank: i32,
        /// The worker's host name.
        host: String,
        /// The mismatch, with both build ids.
        error: ShipError,
    },
    /// The function or its arguments could not be shipped (rank 0 could not encode them).
    #[error("cannot ship the task: {0}")]
    Ship(ShipError),
    /// A worker could not run the task or send its result: it could not decode the arguments,
    /// or could not encode the result.
    #[error("rank {rank} on {host} could not run the task: {error}")]
    Remote {
        /// The worker's rank.
        rank: i32,
        /// The worker's host name.
        host: String,
        /// What went wrong there.
        error: ShipError,
    },
    /// A message is larger than one MPI message can carry (`i32::MAX` bytes).
    #[error("a message of {bytes} bytes exceeds MPI's limit of {limit} bytes")]
    MessageTooLarge {
        /// The size of the message.
        bytes: usize,
        /// The largest message MPI takes.
        limit: usize,
    },
}

impl MpiError {
    /// The `MpiError` inside a task's [`FutureError::Failed`], if that is what it holds.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle_futures::FutureError;
    /// use spindle_mpi::MpiError;
    ///
    /// let e = MpiError::MessageTooLarge { bytes: 1 << 32, limit: i32::MAX as usize };
    /// let failed = FutureError::from(e.clone());
    /// assert_eq!(MpiError::from_future_error(&failed), Some(e));
    /// assert_eq!(MpiError::from_future_error(&FutureError::Cancelled), None);
    /// ```
    pub fn from_future_error(e: &FutureError) -> Option<MpiError> {
        match e {
            FutureError::Failed(inner) => inner.downcast_ref::<MpiError>().cloned(),
            _ => None,
        }
    }
}

impl From<MpiError> for FutureError {
    fn from(e: MpiError) -> Self {
        FutureError::Failed(std::sync::Arc::new(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_error<E: std::error::Error + Send + Sync + 'static>() {}

    #[test]
    fn messages_are_lowercase_without_a_period_and_name_what_to_do() {
        is_error::<MpiError>();
        let all = [
            MpiError::NoWorkers { size: 1 },
            MpiError::AlreadyInitialized,
            MpiError::ThreadSupport { provided: "single" },
            MpiError::Ship(ShipError::UnknownFunction),
            MpiError::Remote {
                rank: 2,
                host: "node7".into(),
                error: ShipError::Decode("eof".into()),
            },
            MpiError::MessageTooLarge { bytes: 5, limit: 4 },
        ];
        for e in &all {
            let text = e.to_string();
            assert!(!text.ends_with('.'), "{text}");
            assert!(text.starts_with(|c: char| !c.is_uppercase()), "{text}");
        }
        assert!(all[0].to_string().contains("mpirun -n 3"));
        assert!(all[4].to_string().contains("rank 2 on node7"));
    }
}
