//! Bodies of the profiles routes (`routes/profiles.rs`), as the contract spells them.

use conduit_domain::profiles;
use serde::Serialize;
use utoipa::ToSchema;

/// The contract's `Profile`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Profile {
    username: String,
    bio: Option<String>,
    image: Option<String>,
    following: bool,
}

impl From<profiles::Profile> for Profile {
    fn from(profile: profiles::Profile) -> Self {
        Self {
            username: profile.username.to_string(),
            bio: profile.bio.map(|bio| bio.to_string()),
            image: profile.image.map(|image| image.to_string()),
            following: profile.following,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ProfileResponse {
    pub(crate) profile: Profile,
}
