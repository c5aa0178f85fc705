//! The FIFO store behind `Queue` and `SimpleQueue`: a preallocated [`Ring`] for modest
//! bounds, a growable [`List`] for no bound or a very large one.

use super::list::List;
use super::ring::{Pop, Push, Ring};

/// Bounds up to this many slots get a ring allocated up front (one stamp word plus one `T`
/// per slot); larger bounds, and no bound, grow a linked list of blocks as items arrive.
pub(crate) const RING_MAX_SLOTS: usize = 1 << 16;

/// Either lock-free FIFO; every method is a two-way branch to the same-named one.
#[allow(
    clippy::large_enum_variant,
    reason = "one per queue, never moved on a hot path; boxing would add a pointer chase per operation"
)]
pub(crate) enum Store<T> {
    Ring(Ring<T>),
    List(List<T>),
}

impl<T> Store<T> {
    /// A store for Python's `maxsize` (0 = unbounded).
    pub(crate) fn with_maxsize(maxsize: usize) -> Self {
        if maxsize == 0 {
            Self::List(List::new(usize::MAX))
        } else if maxsize <= RING_MAX_SLOTS {
            Self::Ring(Ring::new(maxsize))
        } else {
            Self::List(List::new(maxsize))
        }
    }

    #[inline]
    pub(crate) fn try_push(&self, value: T) -> Result<(), Push<T>> {
        match self {
            Self::Ring(r) => r.try_push(value),
            Self::List(s) => s.try_push(value),
        }
    }

    #[inline]
    pub(crate) fn try_pop(&self) -> Result<T, Pop> {
        match self {
            Self::Ring(r) => r.try_pop(),
            Self::List(s) => s.try_pop(),
        }
    }

    pub(crate) fn close(&self) -> bool {
        match self {
            Self::Ring(r) => r.close(),
            Self::List(s) => s.close(),
        }
    }

    #[inline]
    pub(crate) fn is_closed(&self) -> bool {
        match self {
            Self::Ring(r) => r.is_closed(),
            Self::List(s) => s.is_closed(),
        }
    }

    #[inline]
    pub(crate) fn getter_may_park(&self) -> bool {
        match self {
            Self::Ring(r) => r.getter_may_park(),
            Self::List(s) => s.getter_may_park(),
        }
    }

    #[inline]
    pub(crate) fn putter_may_park(&self) -> bool {
        match self {
            Self::Ring(r) => r.putter_may_park(),
            Self::List(s) => s.putter_may_park(),
        }
    }

    pub(crate) fn len(&self) -> usize {
        match self {
            Self::Ring(r) => r.len(),
            Self::List(s) => s.len(),
        }
    }

    #[inline]
    pub(crate) fn pushed(&self) -> u64 {
        match self {
            Self::Ring(r) => r.pushed(),
            Self::List(s) => s.pushed(),
        }
    }
}
