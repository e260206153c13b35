//! Request and response bodies, exactly as the contract spells them. Domain types stay inside:
//! everything is converted here, at the edge.

use conduit_domain::users::{Authenticated, Credentials, ProfileUpdate, Registration};
use serde::{Deserialize, Deserializer, Serialize};

/// `{"user": {...}}`, the wrapper of every users request and response.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct UserEnvelope<T> {
    pub(crate) user: T,
}

/// Missing fields arrive as empty strings, so the domain can name each one that is blank.
#[derive(Debug, Deserialize)]
pub(crate) struct NewUserBody {
    #[serde(default)]
    username: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

impl From<NewUserBody> for Registration {
    fn from(body: NewUserBody) -> Self {
        Self {
            username: body.username,
            email: body.email,
            password: body.password,
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct LoginBody {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

impl std::fmt::Debug for LoginBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginBody").finish_non_exhaustive()
    }
}

impl From<LoginBody> for Credentials {
    fn from(body: LoginBody) -> Self {
        Self {
            email: body.email,
            password: body.password,
        }
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct UpdateUserBody {
    username: Option<String>,
    email: Option<String>,
    password: Option<String>,
    #[serde(default, deserialize_with = "present")]
    bio: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    image: Option<Option<String>>,
}

/// Tells a field sent as `null` (`Some(None)`: clear it) from one not sent (`None`: leave it).
fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(deserializer).map(Some)
}

impl From<UpdateUserBody> for ProfileUpdate {
    fn from(body: UpdateUserBody) -> Self {
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
#[derive(Deserialize)]
pub(crate) struct RefreshBody {
    #[serde(rename = "refreshToken", default)]
    pub(crate) refresh_token: String,
}

impl std::fmt::Debug for RefreshBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefreshBody").finish_non_exhaustive()
    }
}

/// The contract's `User`: the caller's own account, with a token; and a refresh token when a
/// session was started or refreshed (an extension of the contract).
#[derive(Debug, Serialize)]
pub(crate) struct UserBody {
    email: String,
    token: String,
    username: String,
    bio: Option<String>,
    image: Option<String>,
    #[serde(rename = "refreshToken", skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
}

impl From<Authenticated> for UserBody {
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
