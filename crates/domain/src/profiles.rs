//! The profiles use case: look a user up, follow, unfollow; and [`Profile`], a user as another
//! user sees them.

use std::sync::Arc;

use crate::accounts::{Bio, ImageUrl, UserId, Username};
use crate::errors::ResourceError;
use crate::ports::ProfileRepository;

/// Another user as the caller sees them: `following` is the caller's own relation to them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub username: Username,
    pub bio: Option<Bio>,
    pub image: Option<ImageUrl>,
    pub following: bool,
}

/// A user's profile together with the id the store knows them by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Author {
    pub id: UserId,
    pub profile: Profile,
}

const PROFILE: &str = "profile";

/// The profiles use cases, over the port they need.
#[derive(Clone)]
pub struct Profiles {
    repository: Arc<dyn ProfileRepository>,
}

impl std::fmt::Debug for Profiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Profiles").finish_non_exhaustive()
    }
}

impl Profiles {
    pub fn new(repository: Arc<dyn ProfileRepository>) -> Self {
        Self { repository }
    }

    /// The profile of `username` as `viewer` sees it; `following` is `false` for anonymous callers.
    pub async fn get(
        &self,
        username: &str,
        viewer: Option<UserId>,
    ) -> Result<Profile, ResourceError> {
        Ok(self.find(username, viewer).await?.profile)
    }

    /// Follows `username`; following someone already followed changes nothing.
    pub async fn follow(&self, follower: UserId, username: &str) -> Result<Profile, ResourceError> {
        let followee = self.find(username, Some(follower)).await?;
        if followee.id == follower {
            return Err(ResourceError::invalid(
                PROFILE,
                "cannot be followed by itself",
            ));
        }
        self.repository.follow(follower, followee.id).await?;
        Ok(Profile {
            following: true,
            ..followee.profile
        })
    }

    /// Stops following `username`; unfollowing someone not followed changes nothing.
    pub async fn unfollow(
        &self,
        follower: UserId,
        username: &str,
    ) -> Result<Profile, ResourceError> {
        let followee = self.find(username, Some(follower)).await?;
        if followee.id == follower {
            return Err(ResourceError::invalid(
                PROFILE,
                "cannot be unfollowed by itself",
            ));
        }
        self.repository.unfollow(follower, followee.id).await?;
        Ok(Profile {
            following: false,
            ..followee.profile
        })
    }

    /// A username that breaks the rules belongs to no one: 404 without asking the store.
    async fn find(&self, username: &str, viewer: Option<UserId>) -> Result<Author, ResourceError> {
        let username = Username::parse(username).map_err(|_| ResourceError::NotFound(PROFILE))?;
        self.repository
            .find_by_username(&username, viewer)
            .await?
            .ok_or(ResourceError::NotFound(PROFILE))
    }
}

#[cfg(test)]
mod tests;
