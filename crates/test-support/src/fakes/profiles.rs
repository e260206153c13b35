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

    async fn find_by_id(
        &self,
        id: UserId,
        viewer: Option<UserId>,
    ) -> Result<Option<Author>, StoreError> {
        Ok(self.lock().author(id.0, viewer))
    }

    async fn followers(&self, followee: UserId) -> Result<Vec<UserId>, StoreError> {
        Ok(self
            .lock()
            .follows
            .iter()
            .filter(|(_, followed)| *followed == followee.0)
            .map(|(follower, _)| UserId(*follower))
            .collect())
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
