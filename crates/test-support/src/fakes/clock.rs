//! A clock that tests move by hand.

use std::sync::Mutex;

use conduit_domain::Timestamp;
use conduit_domain::ports::Clock;

/// A clock that moves only when told to.
#[derive(Debug)]
pub struct FakeClock {
    now: Mutex<Timestamp>,
}

impl FakeClock {
    /// A clock at `now`, truncated to the millisecond like every [`Timestamp`].
    pub fn at(now: impl Into<Timestamp>) -> Self {
        Self {
            now: Mutex::new(now.into()),
        }
    }

    /// A fake clock set to the system time (to the millisecond), for tests that mix it with real tokens.
    pub fn starting_now() -> Self {
        Self::at(Timestamp::from_offset(time::OffsetDateTime::now_utc()))
    }

    pub fn advance(&self, by: time::Duration) {
        let mut now = self
            .now
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *now += by;
    }
}

impl Clock for FakeClock {
    fn now(&self) -> Timestamp {
        *self
            .now
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
