//! The users and authentication use cases: register, log in, authenticate a token, update.

use std::sync::Arc;

use crate::ports::{
    AccessToken, Clock, PasswordHasher, StoreError, TokenCodec, TokenError, UniqueField,
    UserRepository,
};
use crate::user::{Bio, Email, ImageUrl, NewUser, Password, User, UserChanges, UserId, Username};
use crate::validation::ValidationErrors;

/// A registration as the client sent it, not yet validated.
#[derive(Debug, Clone, Default)]
pub struct Registration {
    pub username: String,
    pub email: String,
    pub password: String,
}

/// Login credentials as the client sent them.
#[derive(Clone, Default)]
pub struct Credentials {
    pub email: String,
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("email", &self.email)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// A profile update as the client sent it: absent fields stay as they are; for `bio` and `image`,
/// `Some(None)` (JSON `null`) or an empty string clears the field.
#[derive(Debug, Clone, Default)]
pub struct ProfileUpdate {
    pub username: Option<String>,
    pub email: Option<String>,
    pub password: Option<String>,
    pub bio: Option<Option<String>>,
    pub image: Option<Option<String>>,
}

/// A user together with a freshly issued access token.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub user: User,
    pub token: AccessToken,
}

/// Why a users use case refused.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    /// The input broke a rule; the errors name the fields.
    #[error("invalid input: {0}")]
    Invalid(ValidationErrors),
    /// Registration: the username or e-mail belongs to someone else.
    #[error("{} has already been taken", .0.as_str())]
    Taken(UniqueField),
    /// Login: unknown e-mail or wrong password; deliberately the same answer for both.
    #[error("invalid credentials")]
    InvalidCredentials,
    /// The access token is missing or unusable, or its user no longer exists.
    #[error("token {0}")]
    Unauthenticated(TokenError),
    /// A store, the hasher or the token codec failed.
    #[error("unavailable: {0}")]
    Unavailable(String),
}

impl From<StoreError> for UserError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Conflict { field } => Self::Taken(field),
            StoreError::Unavailable(context) => Self::Unavailable(context),
        }
    }
}

impl From<crate::ports::HashError> for UserError {
    fn from(error: crate::ports::HashError) -> Self {
        Self::Unavailable(error.to_string())
    }
}

const TAKEN: &str = "has already been taken";

/// The users use cases, over the ports they need.
#[derive(Clone)]
pub struct Users {
    repository: Arc<dyn UserRepository>,
    hasher: Arc<dyn PasswordHasher>,
    tokens: Arc<dyn TokenCodec>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Users {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Users").finish_non_exhaustive()
    }
}

impl Users {
    pub fn new(
        repository: Arc<dyn UserRepository>,
        hasher: Arc<dyn PasswordHasher>,
        tokens: Arc<dyn TokenCodec>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            repository,
            hasher,
            tokens,
            clock,
        }
    }

    /// Registers a new user and logs them in.
    pub async fn register(&self, registration: Registration) -> Result<Authenticated, UserError> {
        let mut errors = ValidationErrors::new();
        let username = errors.check("username", &registration.username, Username::parse);
        let email = errors.check("email", &registration.email, Email::parse);
        let password = errors.check("password", &registration.password, Password::parse);
        let (Some(username), Some(email), Some(password)) = (username, email, password) else {
            return Err(UserError::Invalid(errors));
        };

        let password_hash = self.hasher.hash(&password).await?;
        let user = self
            .repository
            .insert(NewUser {
                username,
                email,
                password_hash,
                created_at: self.clock.now(),
            })
            .await?;
        self.authenticated(user)
    }

    /// Checks credentials. An unknown e-mail and a wrong password are indistinguishable to the
    /// caller, in the answer and (through the dummy verification) in the time it takes.
    pub async fn login(&self, credentials: Credentials) -> Result<Authenticated, UserError> {
        let mut errors = ValidationErrors::new();
        if credentials.email.trim().is_empty() {
            errors.add("email", "can't be blank");
        }
        if credentials.password.is_empty() {
            errors.add("password", "can't be blank");
        }
        errors.into_result().map_err(UserError::Invalid)?;

        // Neither can belong to an account if it breaks the rules every account was made under.
        let (Ok(email), Ok(password)) = (
            Email::parse(&credentials.email),
            Password::parse(&credentials.password),
        ) else {
            return Err(UserError::InvalidCredentials);
        };

        match self.repository.find_by_email(&email).await? {
            Some(user) => {
                if self.hasher.verify(&password, &user.password_hash).await? {
                    self.authenticated(user)
                } else {
                    Err(UserError::InvalidCredentials)
                }
            }
            None => {
                self.hasher.verify_against_dummy(&password).await;
                Err(UserError::InvalidCredentials)
            }
        }
    }

    /// The user an access token speaks for. A valid token of a user who no longer exists is refused.
    pub async fn authenticate(&self, token: Option<&str>) -> Result<UserId, UserError> {
        let token = token.ok_or(UserError::Unauthenticated(TokenError::Missing))?;
        self.tokens
            .verify(token, self.clock.now())
            .map_err(UserError::Unauthenticated)
    }

    /// The current user with a fresh token.
    pub async fn current(&self, id: UserId) -> Result<Authenticated, UserError> {
        let user = self.existing(id).await?;
        self.authenticated(user)
    }

    /// Applies a profile update. A username or e-mail that belongs to someone else is refused as
    /// invalid input (the contract gives `PUT /user` no 409).
    pub async fn update(
        &self,
        id: UserId,
        update: ProfileUpdate,
    ) -> Result<Authenticated, UserError> {
        let mut errors = ValidationErrors::new();
        let mut changes = UserChanges {
            username: update
                .username
                .as_deref()
                .and_then(|raw| errors.check("username", raw, Username::parse)),
            email: update
                .email
                .as_deref()
                .and_then(|raw| errors.check("email", raw, Email::parse)),
            bio: update
                .bio
                .map(|bio| optional(&mut errors, "bio", bio.as_deref(), Bio::parse)),
            image: update
                .image
                .map(|image| optional(&mut errors, "image", image.as_deref(), ImageUrl::parse)),
            password_hash: None,
        };
        let password = update
            .password
            .as_deref()
            .and_then(|raw| errors.check("password", raw, Password::parse));
        errors.into_result().map_err(UserError::Invalid)?;

        if let Some(password) = password {
            changes.password_hash = Some(self.hasher.hash(&password).await?);
        }
        if changes.is_empty() {
            return self.current(id).await;
        }

        let updated = self
            .repository
            .update(id, changes, self.clock.now())
            .await
            .map_err(|error| match error {
                StoreError::Conflict { field } => {
                    UserError::Invalid(ValidationErrors::single(field.as_str(), TAKEN))
                }
                other => other.into(),
            })?
            .ok_or(UserError::Unauthenticated(TokenError::UnknownUser))?;
        self.authenticated(updated)
    }

    async fn existing(&self, id: UserId) -> Result<User, UserError> {
        self.repository
            .find_by_id(id)
            .await?
            // The token was genuine, but its user has gone: the token no longer speaks for anyone.
            .ok_or(UserError::Unauthenticated(TokenError::UnknownUser))
    }

    fn authenticated(&self, user: User) -> Result<Authenticated, UserError> {
        let token = self
            .tokens
            .issue(user.id, self.clock.now())
            .map_err(|error| UserError::Unavailable(error.to_string()))?;
        Ok(Authenticated { user, token })
    }
}

/// An optional field of an update: absent or empty clears it, anything else must parse.
fn optional<T>(
    errors: &mut ValidationErrors,
    field: &'static str,
    raw: Option<&str>,
    parse: impl FnOnce(&str) -> Result<T, crate::InvalidValue>,
) -> Option<T> {
    match raw {
        None | Some("") => None,
        Some(raw) => errors.check(field, raw, parse),
    }
}

#[cfg(test)]
mod tests;
