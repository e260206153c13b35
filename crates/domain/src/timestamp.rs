//! [`Timestamp`]: an instant in UTC to the millisecond, the one precision of the whole service.

use std::fmt;
use std::ops::{Add, AddAssign, Sub};

use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime, UtcOffset};

use crate::validation::InvalidValue;

/// An instant in UTC, to the millisecond: the precision the contract shows
/// (`2026-02-18T03:22:56.637Z`) and every store keeps, so that a time read back from any store
/// equals the time written.
///
/// Every constructor truncates to the millisecond, so the clock, the fakes, the stores and the
/// formatters agree by construction. `Display` writes the one text form: RFC 3339 in UTC with
/// exactly three fractional digits, whose text order is the time order.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(OffsetDateTime);

impl Timestamp {
    /// `at` in UTC, truncated to the millisecond.
    pub const fn from_offset(at: OffsetDateTime) -> Self {
        let utc = match at.checked_to_offset(UtcOffset::UTC) {
            Some(utc) => utc,
            // Only an instant at the very edge of the representable range has no UTC form;
            // it keeps its offset rather than panicking.
            None => at,
        };
        match utc.replace_millisecond(utc.millisecond()) {
            Ok(truncated) => Self(truncated),
            // Unreachable: a millisecond read from a time is always a valid millisecond.
            Err(_) => Self(utc),
        }
    }

    /// Parses an RFC 3339 time (any offset, any precision), truncated to the millisecond.
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        OffsetDateTime::parse(raw, &Rfc3339)
            .map(Self::from_offset)
            .map_err(|_| InvalidValue::Rule("is not an RFC 3339 time"))
    }

    /// The instant as the `time` crate's type, for adapters that store or encode it.
    pub const fn as_offset(self) -> OffsetDateTime {
        self.0
    }

    /// Whole seconds since the Unix epoch, as JWT claims count time.
    pub const fn unix_seconds(self) -> i64 {
        self.0.unix_timestamp()
    }
}

impl From<OffsetDateTime> for Timestamp {
    fn from(at: OffsetDateTime) -> Self {
        Self::from_offset(at)
    }
}

impl Add<Duration> for Timestamp {
    type Output = Self;

    /// Sub-millisecond parts of `duration` are dropped with the result's.
    fn add(self, duration: Duration) -> Self {
        Self::from_offset(self.0 + duration)
    }
}

impl AddAssign<Duration> for Timestamp {
    fn add_assign(&mut self, duration: Duration) {
        *self = *self + duration;
    }
}

impl Sub<Duration> for Timestamp {
    type Output = Self;

    fn sub(self, duration: Duration) -> Self {
        Self::from_offset(self.0 - duration)
    }
}

impl Sub for Timestamp {
    type Output = Duration;

    fn sub(self, earlier: Self) -> Duration {
        self.0 - earlier.0
    }
}

impl fmt::Display for Timestamp {
    /// `2026-02-18T03:22:56.637Z`: written field by field, so it cannot fail.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = self.0;
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            at.year(),
            u8::from(at.month()),
            at.day(),
            at.hour(),
            at.minute(),
            at.second(),
            at.millisecond()
        )
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({self})")
    }
}

#[cfg(test)]
mod tests;
