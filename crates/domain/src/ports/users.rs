//! The users a store keeps.

use async_trait::async_trait;

use super::sessions::SessionId;
use super::store::StoreError;
use crate::Timestamp;
use crate::accounts::{Email, NewUser, User, UserChanges, UserId};

/// Users, as a store keeps them. Uniqueness of username (case-insensitive) and e-mail is the
/// store's to enforce, atomically, so that concurrent registrations cannot both succeed.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait UserRepository: Send + Sync {
    /// Stores a new user and returns it as stored, with its id.
    async fn insert(&self, user: NewUser) -> Result<User, StoreError>;
    async fn find_by_id(&self, id: UserId) -> Result<Option<User>, StoreError>;
    /// The user of the session `session` if it is live at `now`, as
    /// [`SessionRepository::live_user`](super::SessionRepository::live_user) decides: the
    /// session check and the read of the user in one lookup, for a request that needs the user
    /// anyway (`GET /user`).
    async fn find_by_live_session(
        &self,
        session: SessionId,
        now: Timestamp,
    ) -> Result<Option<User>, StoreError>;
    async fn find_by_email(&self, email: &Email) -> Result<Option<User>, StoreError>;
    /// Applies `changes` and returns the user as stored now, or `None` when there is no such user.
    async fn update(
        &self,
        id: UserId,
        changes: UserChanges,
        now: Timestamp,
    ) -> Result<Option<User>, StoreError>;
}
