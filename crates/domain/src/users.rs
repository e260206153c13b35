//! The users and authentication use cases: register, log in, authenticate a token, refresh a
//! session, log out, update.
//!
//! Sessions: registration and login start a session and hand out an access token (a JWT whose
//! `sid` names the session) and a refresh token (opaque, stored only as a hash). Refreshing uses
//! the presented refresh token up and hands out a new pair; presenting a used one again revokes
//! the whole session, since only a thief or a replay would. Logout revokes the caller's session,
//! logout-all every session of the user, and a password change every session but the caller's.

use std::sync::Arc;

use time::Duration;

use crate::ports::{
    AccessToken, BreachedPasswords, Caller, Clock, NewSession, PasswordHasher, RefreshToken,
    RefreshTokenSource, SessionRepository, StoreError, TokenCodec, TokenError, TokenUse,
    UniqueField, UserRepository,
};
use crate::throttle::{LoginThrottle, ThrottlePolicy};
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

/// A user together with a freshly issued access token, and a refresh token when a session was
/// started or refreshed.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub user: User,
    pub token: AccessToken,
    pub refresh_token: Option<RefreshToken>,
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
    /// Login: too many failures for the account or from the client; try again after the wait.
    #[error("too many failed logins")]
    Throttled { retry_after: Duration },
    /// Refresh: the refresh token is unknown, expired, or its session revoked.
    #[error("refresh token refused")]
    InvalidRefreshToken,
    /// Refresh: the refresh token had been used before; its session is now revoked.
    #[error("refresh token reused; its session is revoked")]
    RefreshTokenReused,
    /// The breached-password check could not answer, and is configured to fail closed.
    #[error("password check unavailable: {0}")]
    PasswordCheckUnavailable(String),
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

/// The ports the users use cases need.
#[derive(Clone)]
pub struct UserPorts {
    pub users: Arc<dyn UserRepository>,
    pub sessions: Arc<dyn SessionRepository>,
    pub hasher: Arc<dyn PasswordHasher>,
    pub tokens: Arc<dyn TokenCodec>,
    pub refresh_tokens: Arc<dyn RefreshTokenSource>,
    pub breaches: Arc<dyn BreachedPasswords>,
    pub clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for UserPorts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserPorts").finish_non_exhaustive()
    }
}

/// How long sessions last and how logins are throttled, from configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    /// A refresh token unused for this long stops working.
    pub idle_timeout: Duration,
    /// A session ends this long after login, however often it is refreshed.
    pub absolute_timeout: Duration,
    pub throttle: ThrottlePolicy,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self {
            idle_timeout: Duration::days(14),
            absolute_timeout: Duration::days(90),
            throttle: ThrottlePolicy::default(),
        }
    }
}

/// The users use cases, over the ports they need.
#[derive(Clone)]
pub struct Users {
    repository: Arc<dyn UserRepository>,
    sessions: Arc<dyn SessionRepository>,
    hasher: Arc<dyn PasswordHasher>,
    tokens: Arc<dyn TokenCodec>,
    refresh_tokens: Arc<dyn RefreshTokenSource>,
    breaches: Arc<dyn BreachedPasswords>,
    clock: Arc<dyn Clock>,
    policy: SessionPolicy,
    throttle: Arc<LoginThrottle>,
}

impl std::fmt::Debug for Users {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Users").finish_non_exhaustive()
    }
}

impl Users {
    pub fn new(ports: UserPorts, policy: SessionPolicy) -> Self {
        Self {
            repository: ports.users,
            sessions: ports.sessions,
            hasher: ports.hasher,
            tokens: ports.tokens,
            refresh_tokens: ports.refresh_tokens,
            breaches: ports.breaches,
            clock: ports.clock,
            throttle: Arc::new(LoginThrottle::new(policy.throttle)),
            policy,
        }
    }

    /// Registers a new user and logs them in: a new session.
    pub async fn register(&self, registration: Registration) -> Result<Authenticated, UserError> {
        let mut errors = ValidationErrors::new();
        let username = errors.check("username", &registration.username, Username::parse);
        let email = errors.check("email", &registration.email, Email::parse);
        let password = errors.check("password", &registration.password, Password::parse);
        let (Some(username), Some(email), Some(password)) = (username, email, password) else {
            return Err(UserError::Invalid(errors));
        };
        self.check_password(&password, &username, &email).await?;

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
        self.start_session(user).await
    }

    /// Checks credentials and starts a session. An unknown e-mail and a wrong password are
    /// indistinguishable to the caller, in the answer and (through the dummy verification) in the
    /// time it takes. `client` is the caller's address, for throttling.
    pub async fn login(
        &self,
        credentials: Credentials,
        client: Option<&str>,
    ) -> Result<Authenticated, UserError> {
        let mut errors = ValidationErrors::new();
        if credentials.email.trim().is_empty() {
            errors.add("email", "can't be blank");
        }
        if credentials.password.is_empty() {
            errors.add("password", "can't be blank");
        }
        errors.into_result().map_err(UserError::Invalid)?;
        let account = credentials.email.trim().to_lowercase();
        let now = self.clock.now();
        if let Some(retry_after) = self.throttle.retry_after(&account, client, now) {
            return Err(UserError::Throttled { retry_after });
        }

        match self.verify_credentials(&credentials).await? {
            Some(user) => {
                self.throttle.record_success(&account);
                self.start_session(user).await
            }
            None => {
                self.throttle.record_failure(&account, client, now);
                Err(UserError::InvalidCredentials)
            }
        }
    }

    /// The user whose credentials these are, if they are right.
    async fn verify_credentials(
        &self,
        credentials: &Credentials,
    ) -> Result<Option<User>, UserError> {
        // Neither can belong to an account if it breaks the rules every account was made under.
        let (Ok(email), Ok(password)) = (
            Email::parse(&credentials.email),
            Password::parse(&credentials.password),
        ) else {
            return Ok(None);
        };
        match self.repository.find_by_email(&email).await? {
            Some(user) => Ok(self
                .hasher
                .verify(&password, &user.password_hash)
                .await?
                .then_some(user)),
            None => {
                self.hasher.verify_against_dummy(&password).await;
                Ok(None)
            }
        }
    }

    /// Who an access token speaks for.
    pub async fn authenticate(&self, token: Option<&str>) -> Result<Caller, UserError> {
        let token = token.ok_or(UserError::Unauthenticated(TokenError::Missing))?;
        self.tokens
            .verify(token, self.clock.now())
            .map_err(UserError::Unauthenticated)
    }

    /// The caller with a fresh access token in the same session. A valid token of a user who no
    /// longer exists is refused.
    pub async fn current(&self, caller: Caller) -> Result<Authenticated, UserError> {
        let user = self.existing(caller.user).await?;
        self.authenticated(user, caller, None)
    }

    /// Exchanges a refresh token for a new access token and a new refresh token. The presented
    /// token is used up; presenting a used one again revokes its whole session (a replay, or a
    /// stolen copy: either way the session can no longer be trusted).
    pub async fn refresh(&self, presented: &str) -> Result<Authenticated, UserError> {
        if presented.is_empty() {
            return Err(UserError::Invalid(ValidationErrors::single(
                "refreshToken",
                "can't be blank",
            )));
        }
        let now = self.clock.now();
        let hash = self.refresh_tokens.hash(presented);
        let state = match self.sessions.use_token(&hash, now).await? {
            TokenUse::Fresh(state) => state,
            TokenUse::AlreadyUsed(session) => {
                self.sessions.revoke(session, now).await?;
                return Err(UserError::RefreshTokenReused);
            }
            TokenUse::Unknown => return Err(UserError::InvalidRefreshToken),
        };
        if state.revoked || now >= state.token_expires_at || now >= state.expires_at {
            return Err(UserError::InvalidRefreshToken);
        }
        let user = self
            .repository
            .find_by_id(state.user)
            .await?
            .ok_or(UserError::InvalidRefreshToken)?;
        let next = self.refresh_tokens.generate();
        let expires_at = (now + self.policy.idle_timeout).min(state.expires_at);
        self.sessions
            .add_token(
                state.id,
                self.refresh_tokens.hash(next.expose()),
                now,
                expires_at,
            )
            .await?;
        let caller = Caller {
            user: user.id,
            session: state.id,
        };
        self.authenticated(user, caller, Some(next))
    }

    /// Ends the caller's session: its refresh tokens stop working.
    pub async fn logout(&self, caller: Caller) -> Result<(), UserError> {
        Ok(self
            .sessions
            .revoke(caller.session, self.clock.now())
            .await?)
    }

    /// Ends every session of the caller's user, this one included.
    pub async fn logout_everywhere(&self, caller: Caller) -> Result<(), UserError> {
        Ok(self
            .sessions
            .revoke_all(caller.user, None, self.clock.now())
            .await?)
    }

    /// Applies a profile update. A username or e-mail that belongs to someone else is refused as
    /// invalid input (the contract gives `PUT /user` no 409).
    /// A new password is checked like one at registration, and ends every other session.
    pub async fn update(
        &self,
        caller: Caller,
        update: ProfileUpdate,
    ) -> Result<Authenticated, UserError> {
        let id = caller.user;
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

        if let Some(password) = &password {
            let current = self.existing(id).await?;
            let username = changes.username.as_ref().unwrap_or(&current.username);
            let email = changes.email.as_ref().unwrap_or(&current.email);
            self.check_password(password, username, email).await?;
            changes.password_hash = Some(self.hasher.hash(password).await?);
        }
        if changes.is_empty() {
            return self.current(caller).await;
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
        if password.is_some() {
            self.sessions
                .revoke_all(id, Some(caller.session), self.clock.now())
                .await?;
        }
        self.authenticated(updated, caller, None)
    }

    /// The rules on a new password beyond its length: not common, not the user's own name or
    /// address, and (when configured) not seen in known breaches too often.
    async fn check_password(
        &self,
        password: &Password,
        username: &Username,
        email: &Email,
    ) -> Result<(), UserError> {
        password.check_policy(username, email).map_err(|refusal| {
            UserError::Invalid(ValidationErrors::single("password", refusal.to_string()))
        })?;
        match self.breaches.check(password).await {
            Ok(None) => Ok(()),
            Ok(Some(seen)) => Err(UserError::Invalid(ValidationErrors::single(
                "password",
                format!("has appeared in {seen} known data breaches; choose one that has not"),
            ))),
            Err(error) => Err(UserError::PasswordCheckUnavailable(error.to_string())),
        }
    }

    /// Starts a session for `user`: its first refresh token and an access token naming it.
    async fn start_session(&self, user: User) -> Result<Authenticated, UserError> {
        let now = self.clock.now();
        let refresh_token = self.refresh_tokens.generate();
        let session = self
            .sessions
            .start(NewSession {
                user: user.id,
                token: self.refresh_tokens.hash(refresh_token.expose()),
                created_at: now,
                token_expires_at: now + self.policy.idle_timeout.min(self.policy.absolute_timeout),
                expires_at: now + self.policy.absolute_timeout,
            })
            .await?;
        let caller = Caller {
            user: user.id,
            session,
        };
        self.authenticated(user, caller, Some(refresh_token))
    }

    async fn existing(&self, id: UserId) -> Result<User, UserError> {
        self.repository
            .find_by_id(id)
            .await?
            // The token was genuine, but its user has gone: the token no longer speaks for anyone.
            .ok_or(UserError::Unauthenticated(TokenError::UnknownUser))
    }

    fn authenticated(
        &self,
        user: User,
        caller: Caller,
        refresh_token: Option<RefreshToken>,
    ) -> Result<Authenticated, UserError> {
        let token = self
            .tokens
            .issue(user.id, caller.session, self.clock.now())
            .map_err(|error| UserError::Unavailable(error.to_string()))?;
        Ok(Authenticated {
            user,
            token,
            refresh_token,
        })
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
