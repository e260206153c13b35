//! Bodies of the users routes (`routes/users.rs`), as the contract spells them.

use conduit_domain::accounts::{Credentials, ProfileUpdate, Registration};
use conduit_domain::sessions::Authenticated;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

/// `{"user": {...}}` of a registration. Unknown fields are refused.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewUserRequest {
    // Inline: some tools resolve a nested `$ref` in a request body wrongly.
    #[schema(inline)]
    pub(crate) user: NewUser,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewUser {
    #[schema(
        min_length = 1,
        max_length = 32,
        pattern = r"^[^\s\x00-\x1f\x7f-\x9f\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u2800\u3164\ufe00-\ufe0f\uffa0\ufff0-\ufffb\ufeff!-,/:-@\[-^`{-~]+$"
    )]
    username: String,
    #[schema(
        min_length = 3,
        max_length = 254,
        pattern = r"^[^\s@\x00-\x1f\x7f-\x9f]+@[^\s@.\x00-\x1f\x7f-\x9f][^\s@\x00-\x1f\x7f-\x9f]*\.[^\s@\x00-\x1f\x7f-\x9f]*[^\s@.\x00-\x1f\x7f-\x9f]$"
    )]
    email: String,
    #[schema(min_length = 8, max_length = 128, pattern = r"^(?!(.)\1*$)[^\x00]*[^\s\x00][^\x00]*$", format = Password)]
    password: String,
}

impl From<NewUser> for Registration {
    fn from(body: NewUser) -> Self {
        Self {
            username: body.username,
            email: body.email,
            password: body.password,
        }
    }
}

/// `{"user": {...}}` of a login. Unknown fields are refused.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct LoginUserRequest {
    // Inline: some tools resolve a nested `$ref` in a request body wrongly.
    #[schema(inline)]
    pub(crate) user: LoginUser,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct LoginUser {
    #[schema(
        min_length = 1,
        max_length = 254,
        pattern = r"^[^\x00]*[^\s\x00][^\x00]*$"
    )]
    email: String,
    #[schema(min_length = 1, max_length = 128, format = Password)]
    password: String,
}

impl std::fmt::Debug for LoginUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginUser").finish_non_exhaustive()
    }
}

impl From<LoginUser> for Credentials {
    fn from(body: LoginUser) -> Self {
        Self {
            email: body.email,
            password: body.password,
        }
    }
}

/// `{"user": {...}}` of an update. Fields this API does not know are ignored rather than refused:
/// some frontends send back the whole user object they were given.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct UpdateUserRequest {
    // Inline: some tools resolve a nested `$ref` in a request body wrongly.
    #[schema(inline)]
    pub(crate) user: UpdateUser,
}

/// Every field is optional; `bio` and `image` may be `null` (or empty) to clear them.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct UpdateUser {
    #[schema(
        min_length = 1,
        max_length = 32,
        pattern = r"^[^\s\x00-\x1f\x7f-\x9f\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u2800\u3164\ufe00-\ufe0f\uffa0\ufff0-\ufffb\ufeff!-,/:-@\[-^`{-~]+$"
    )]
    username: Option<String>,
    #[schema(
        min_length = 3,
        max_length = 254,
        pattern = r"^[^\s@\x00-\x1f\x7f-\x9f]+@[^\s@.\x00-\x1f\x7f-\x9f][^\s@\x00-\x1f\x7f-\x9f]*\.[^\s@\x00-\x1f\x7f-\x9f]*[^\s@.\x00-\x1f\x7f-\x9f]$"
    )]
    email: Option<String>,
    #[schema(min_length = 8, max_length = 128, pattern = r"^(?!(.)\1*$)[^\x00]*[^\s\x00][^\x00]*$", format = Password)]
    password: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, max_length = 1000, pattern = r"^$|^[^\x00]*[^\s\x00][^\x00]*$")]
    bio: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    /// An http or https URL; empty or `null` clears it.
    #[schema(value_type = Option<String>, max_length = 2048,
        pattern = r"^$|^https?://[^\s\x00-\x1f\x7f-\x9f]+$")]
    image: Option<Option<String>>,
}

/// Tells a field sent as `null` (`Some(None)`: clear it) from one not sent (`None`: leave it).
fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(deserializer).map(Some)
}

impl From<UpdateUser> for ProfileUpdate {
    fn from(body: UpdateUser) -> Self {
        Self {
            username: body.username,
            email: body.email,
            password: body.password,
            bio: body.bio,
            image: body.image,
        }
    }
}

/// `POST /users/refresh`: `{"refreshToken": "..."}`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RefreshRequest {
    #[serde(rename = "refreshToken")]
    #[schema(min_length = 1, max_length = 2048)]
    pub(crate) refresh_token: String,
}

impl std::fmt::Debug for RefreshRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefreshRequest").finish_non_exhaustive()
    }
}

/// `{"user": {...}}` of every users response.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct UserResponse {
    pub(crate) user: User,
}

/// The contract's `User`: the caller's own account, with an access token; and a refresh token
/// when a session was started or refreshed (an extension of the contract).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct User {
    email: String,
    token: String,
    username: String,
    bio: Option<String>,
    image: Option<String>,
    #[serde(rename = "refreshToken", skip_serializing_if = "Option::is_none")]
    #[schema(required = false)]
    refresh_token: Option<String>,
}

impl From<Authenticated> for User {
    fn from(authenticated: Authenticated) -> Self {
        let user = authenticated.user;
        Self {
            email: user.email.to_string(),
            token: authenticated.token.expose().to_owned(),
            username: user.username.to_string(),
            bio: user.bio.map(|bio| bio.to_string()),
            image: user.image.map(|image| image.to_string()),
            refresh_token: authenticated
                .refresh_token
                .map(|token| token.expose().to_owned()),
        }
    }
}

#[cfg(test)]
mod tests;
