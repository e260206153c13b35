//! [`ProfileRepository`] over the in-memory state.

use async_trait::async_trait;
use conduit_domain::accounts::{UserId, Username};
use conduit_domain::ports::{ProfileRepository, StoreError};
use conduit_domain::profiles::Author;

use super::*;

#[async_trait]
impl ProfileRepository for InMemoryStore {
    async fn find_by_username(
        &self,
        username: &Username,
        viewer: Option<UserId>,
    ) -> Result<Option<Author>, StoreError> {
        let state = self.lock();
        Ok(state
            .user_id(username)
            .and_then(|id| state.author(id, viewer)))
    }

    async fn follow(&self, follower: UserId, followee: UserId) -> Result<(), StoreError> {
        self.lock().follows.insert((follower.0, followee.0));
        Ok(())
    }

    async fn unfollow(&self, follower: UserId, followee: UserId) -> Result<(), StoreError> {
        self.lock().follows.remove(&(follower.0, followee.0));
        Ok(())
    }
}
