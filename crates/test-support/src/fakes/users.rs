//! [`UserRepository`] over the in-memory state.

use async_trait::async_trait;
use conduit_domain::Timestamp;
use conduit_domain::accounts::{Email, NewUser, User, UserChanges, UserId};
use conduit_domain::ports::{SessionId, StoreError, UserRepository};

use super::*;

#[async_trait]
impl UserRepository for InMemoryStore {
    async fn insert(&self, new: NewUser) -> Result<User, StoreError> {
        let mut state = self.lock();
        let users = &mut state.users;
        let id = users.keys().next_back().map_or(1, |last| last + 1);
        let user = User {
            id: UserId(id),
            username: new.username,
            email: new.email,
            bio: None,
            image: None,
            password_hash: new.password_hash,
            created_at: new.created_at,
            updated_at: new.created_at,
        };
        if let Some(field) = conflict(users, None, &user) {
            return Err(StoreError::Conflict { field });
        }
        users.insert(id, user.clone());
        Ok(user)
    }

    async fn find_by_id(&self, id: UserId) -> Result<Option<User>, StoreError> {
        Ok(self.lock().users.get(&id.0).cloned())
    }

    async fn find_by_live_session(
        &self,
        session: SessionId,
        now: Timestamp,
    ) -> Result<Option<User>, StoreError> {
        let state = self.lock();
        Ok(state
            .sessions
            .get(&session.0)
            .filter(|stored| !stored.revoked && stored.expires_at > now)
            .and_then(|stored| state.users.get(&stored.user.0))
            .cloned())
    }

    async fn find_by_email(&self, email: &Email) -> Result<Option<User>, StoreError> {
        Ok(self
            .lock()
            .users
            .values()
            .find(|user| &user.email == email)
            .cloned())
    }

    async fn update(
        &self,
        id: UserId,
        changes: UserChanges,
        now: Timestamp,
    ) -> Result<Option<User>, StoreError> {
        let mut state = self.lock();
        let users = &mut state.users;
        let Some(current) = users.get(&id.0) else {
            return Ok(None);
        };
        let updated = changes.apply_to(current, now);
        if let Some(field) = conflict(users, Some(id.0), &updated) {
            return Err(StoreError::Conflict { field });
        }
        users.insert(id.0, updated.clone());
        Ok(Some(updated))
    }
}
