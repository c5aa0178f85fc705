//! The only file that calls MPI (rsmpi over Open MPI): start-up, the shape of the job, and
//! byte messages on `MPI_COMM_WORLD`.
//!
//! Sends from rank 0 are non-blocking (`MPI_Isend`) with the buffer kept until MPI is done
//! with it: a large message is a rendezvous that completes only when the receiver posts its
//! receive, and rank 0 must never sit in a send while a worker sits in a send to rank 0.
//! Workers send blocking (`MPI_Send`), since rank 0 always comes back to receive. Receives
//! probe first (`MPI_Improbe`) and receive into a vector of exactly the message's size, so a
//! MiB-sized payload is copied once, by MPI, into the buffer that is then decoded.

use mpi::environment::{Threading, Universe};
use mpi::point_to_point::{Destination, MatchedReceiveVec, Source};
use mpi::request::{Request, StaticScope};
use mpi::topology::{Communicator, SimpleCommunicator};

use crate::backoff::Backoff;
use crate::MpiError;

/// MPI's message tag.
pub(crate) type Tag = mpi::Tag;

/// The largest message one MPI call can carry: counts are C `int`s.
pub(crate) const MAX_MESSAGE: usize = i32::MAX as usize;

/// MPI, initialised; dropping it finalises MPI (`MPI_Finalize`).
pub(crate) struct Session {
    _universe: Universe,
    /// This process's rank in the world.
    pub(crate) rank: i32,
    /// Number of ranks in the world.
    pub(crate) size: usize,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("rank", &self.rank)
            .field("size", &self.size)
            .finish()
    }
}

/// Initialises MPI for a pool: rank 0 needs `MPI_THREAD_SERIALIZED`, as its pool thread makes
/// the calls while `main` runs.
pub(crate) fn initialize() -> Result<Session, MpiError> {
    let (universe, provided) = mpi::initialize_with_threading(Threading::Serialized)
        .ok_or(MpiError::AlreadyInitialized)?;
    let world = universe.world();
    let session = Session {
        rank: world.rank(),
        size: usize::try_from(world.size()).unwrap_or(0),
        _universe: universe,
    };
    if session.rank == 0 && matches!(provided, Threading::Single | Threading::Funneled) {
        let provided = if matches!(provided, Threading::Single) {
            "single"
        } else {
            "funneled"
        };
        return Err(MpiError::ThreadSupport { provided });
    }
    Ok(session)
}

/// This process's rank, if MPI is running (initialised and not yet finalised).
pub(crate) fn current_rank() -> Option<i32> {
    if mpi::environment::is_initialized() && !mpi::environment::is_finalized() {
        Some(SimpleCommunicator::world().rank())
    } else {
        None
    }
}

/// This host's name as MPI reports it (`MPI_Get_processor_name`).
pub(crate) fn host_name() -> String {
    mpi::environment::processor_name().unwrap_or_else(|_| "unknown host".to_string())
}

/// A received message.
#[derive(Debug)]
pub(crate) struct Message {
    pub(crate) source: i32,
    pub(crate) tag: Tag,
    pub(crate) bytes: Vec<u8>,
}

/// A send MPI has not finished with, and the buffer it reads from.
struct PendingSend {
    /// `None` only while `poll_sends` tests it (rsmpi's `test` takes the request by value).
    request: Option<Request<'static, [u8], StaticScope>>,
    /// The bytes behind `request`. Moving a `Vec` does not move its heap buffer, and nothing
    /// touches this one until the request has completed.
    _buffer: Vec<u8>,
}

// SAFETY:
// - the buffer is owned by this value alone, and an MPI request handle may be tested from any
//   thread under MPI_THREAD_SERIALIZED, which the pool guarantees by making every MPI call
//   from one thread at a time.
unsafe impl Send for PendingSend {}

/// One process's end of the world communicator.
pub(crate) struct Link {
    world: SimpleCommunicator,
    sends: Vec<PendingSend>,
}

impl std::fmt::Debug for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Link")
            .field("pending_sends", &self.sends.len())
            .finish()
    }
}

impl Link {
    /// The world communicator, for the thread that will make this process's MPI calls.
    pub(crate) fn world() -> Link {
        Link {
            world: SimpleCommunicator::world(),
            sends: Vec::new(),
        }
    }

    /// Starts sending `bytes` to `rank` without waiting for the receiver.
    pub(crate) fn send(&mut self, rank: i32, tag: Tag, bytes: Vec<u8>) -> Result<(), MpiError> {
        check_size(bytes.len())?;
        // SAFETY:
        // - the slice covers the initialised bytes of `bytes`' heap buffer, which stays where it
        //   is and unchanged while `PendingSend` owns the `Vec`; `PendingSend` is dropped (and
        //   the buffer freed) only after MPI completed the request that reads it, so the
        //   `'static` borrow is never used after the free.
        let buffer: &'static [u8] =
            unsafe { std::slice::from_raw_parts(bytes.as_ptr(), bytes.len()) };
        let request =
            self.world
                .process_at_rank(rank)
                .immediate_send_with_tag(StaticScope, buffer, tag);
        self.sends.push(PendingSend {
            request: Some(request),
            _buffer: bytes,
        });
        Ok(())
    }

    /// Sends `bytes` to `rank` and returns once MPI is done with them.
    pub(crate) fn send_blocking(&self, rank: i32, tag: Tag, bytes: &[u8]) -> Result<(), MpiError> {
        check_size(bytes.len())?;
        self.world.process_at_rank(rank).send_with_tag(bytes, tag);
        Ok(())
    }

    /// Frees the buffers of the sends MPI has completed; whether any did.
    pub(crate) fn poll_sends(&mut self) -> bool {
        let before = self.sends.len();
        self.sends.retain_mut(|send| {
            let Some(request) = send.request.take() else {
                return false;
            };
            match request.test() {
                Ok(_) => false,
                Err(request) => {
                    send.request = Some(request);
                    true
                }
            }
        });
        self.sends.len() != before
    }

    /// Waits for every pending send (the receivers must be receiving).
    pub(crate) fn flush_sends(&mut self) {
        for mut send in self.sends.drain(..) {
            if let Some(request) = send.request.take() {
                request.wait();
            }
        }
    }

    /// A message from `source` (any rank if `None`), if one has arrived.
    pub(crate) fn try_receive(&self, source: Option<i32>) -> Option<Message> {
        let probed = match source {
            Some(rank) => self.world.process_at_rank(rank).immediate_matched_probe(),
            None => self.world.any_process().immediate_matched_probe(),
        }?;
        let (bytes, status) = probed.matched_receive_vec::<u8>();
        Some(Message {
            source: status.source_rank(),
            tag: status.tag(),
            bytes,
        })
    }

    /// Waits for a message from `source`, polling with `backoff` (MPI has no wait that does
    /// not spin a core, so an idle rank sleeps between polls instead).
    pub(crate) fn receive(&self, source: Option<i32>, backoff: &mut Backoff) -> Message {
        backoff.reset();
        loop {
            if let Some(m) = self.try_receive(source) {
                return m;
            }
            if let Some(pause) = backoff.snooze() {
                // MPI offers no blocking wait that yields the core; a bounded sleep does.
                std::thread::sleep(pause);
            }
        }
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        self.flush_sends();
    }
}

fn check_size(bytes: usize) -> Result<(), MpiError> {
    if bytes > MAX_MESSAGE {
        return Err(MpiError::MessageTooLarge {
            bytes,
            limit: MAX_MESSAGE,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oversized_messages_are_refused_before_mpi_sees_them() {
        assert_eq!(check_size(MAX_MESSAGE), Ok(()));
        assert_eq!(
            check_size(MAX_MESSAGE + 1),
            Err(MpiError::MessageTooLarge {
                bytes: MAX_MESSAGE + 1,
                limit: MAX_MESSAGE
            })
        );
    }
}
