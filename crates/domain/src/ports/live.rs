//! The outbox of live events.

use async_trait::async_trait;

use super::store::StoreError;
use crate::Timestamp;
use crate::live::{EventId, LogBounds, StoredEvent};

/// The outbox of live events: one row for each article, comment and favourite written, and for
/// each session ended, appended by the store in the same transaction as the change itself. Ids
/// grow in commit order, so reading after an id never skips an event committed later.
///
/// A store may give an event its id after the commit rather than at it (PostgreSQL does, so that
/// writers never wait for one another): its events are read only once [`EventLog::sequence`] has
/// given them ids.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait EventLog: Send + Sync {
    /// Up to `limit` events after `since`, in id order. An event whose article or comment has
    /// since been deleted is gone with it.
    async fn after(&self, since: EventId, limit: u32) -> Result<Vec<StoredEvent>, StoreError>;
    /// The newest id, and the newest id that pruning removed.
    async fn bounds(&self) -> Result<LogBounds, StoreError>;
    /// Removes the events that happened before `before`, but never the newest one (whose id
    /// clients hold as where they are); the number removed.
    async fn prune(&self, before: Timestamp) -> Result<u64, StoreError>;
    /// Gives ids to the events committed before this call, above every id given before; the
    /// number given. A store that gives ids at commit has nothing to do.
    async fn sequence(&self) -> Result<u64, StoreError>;
}
