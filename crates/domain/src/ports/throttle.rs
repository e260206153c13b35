//! Failed logins, counted for throttling.

use async_trait::async_trait;

use super::store::StoreError;
use crate::Timestamp;

/// What login throttling counts failures by. An account is its e-mail address, lower-cased; a
/// client is its address as the web layer determined it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ThrottleKey {
    Account(String),
    Client(String),
}

impl ThrottleKey {
    /// The key as one string, distinct between the two kinds (an account and a client with the
    /// same text are different keys): how a store keeps it.
    pub fn to_stored(&self) -> String {
        match self {
            Self::Account(email) => format!("account:{email}"),
            Self::Client(address) => format!("client:{address}"),
        }
    }
}

/// Failed logins, counted per [`ThrottleKey`]. Where several replicas serve one database, the
/// store is that database, so that they share one count.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait LoginFailures: Send + Sync {
    /// Records one failure at `at` under each key, and forgets every failure (under any key) at
    /// or before `forget_until`.
    async fn record(
        &self,
        keys: &[ThrottleKey],
        at: Timestamp,
        forget_until: Timestamp,
    ) -> Result<(), StoreError>;
    /// One attempt to log in, ordered with every other attempt on the same keys (none runs
    /// between this one's count and its record): forgets every failure at or before
    /// `forget_until`, reads the latest `limit` failures after `since` under each key (the
    /// latest first, as [`Self::latest`] does), and when every key has fewer than its limit,
    /// records a failure at `at` under each. Answers what it read, in the order of `limits`.
    async fn attempt(
        &self,
        limits: &[(ThrottleKey, u32)],
        at: Timestamp,
        since: Timestamp,
        forget_until: Timestamp,
    ) -> Result<Vec<Vec<Timestamp>>, StoreError>;
    /// The times of the latest `limit` failures under `key` after `since`, the latest first.
    async fn latest(
        &self,
        key: &ThrottleKey,
        since: Timestamp,
        limit: u32,
    ) -> Result<Vec<Timestamp>, StoreError>;
    /// Forgets one failure at `at` under each key, if there is one: an attempt recorded as a
    /// failure before it was known to be one, which turned out not to be (a right password, or
    /// one never checked). Ordered with [`Self::attempt`] and other withdrawals of those keys,
    /// so that two withdrawals of alike failures take two.
    async fn withdraw(&self, keys: &[ThrottleKey], at: Timestamp) -> Result<(), StoreError>;
    /// Forgets every failure under `key`.
    async fn clear(&self, key: &ThrottleKey) -> Result<(), StoreError>;
}
