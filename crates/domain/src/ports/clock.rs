//! The time.

use crate::Timestamp;

/// The current time. Production reads the system clock; tests move a fake one by hand.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}
