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
    /// The times of the latest `limit` failures under `key` after `since`, the latest first.
    async fn latest(
        &self,
        key: &ThrottleKey,
        since: Timestamp,
        limit: u32,
    ) -> Result<Vec<Timestamp>, StoreError>;
    /// Forgets one failure at `at` under each key, if there is one: an attempt recorded as a
    /// failure before it was known to be one, which turned out not to be (refused, or right).
    async fn withdraw(&self, keys: &[ThrottleKey], at: Timestamp) -> Result<(), StoreError>;
    /// Forgets every failure under `key`.
    async fn clear(&self, key: &ThrottleKey) -> Result<(), StoreError>;
}
