//! The accounts use case: register, log in, read and update the current user.
//!
//! Registration and login start a session through [`Sessions`]; the account's own rules live here:
//! the value types of a user (`model.rs`), the password policy, the breached-password check, and
//! login throttling.

mod model;

use std::sync::Arc;

pub use model::{
    Bio, Email, ImageUrl, NewUser, Password, PasswordHash, PasswordPolicy, User, UserChanges,
    UserId, Username,
};

use crate::ports::{
    BreachedPasswords, Caller, Clock, LoginFailures, PasswordHasher, StoreError, TokenError,
    UserRepository,
};
use crate::sessions::{AuthError, Authenticated, Sessions};
use crate::throttle::{Admission, LoginThrottle, ThrottlePolicy};
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

const TAKEN: &str = "has already been taken";

/// The ports the accounts use case needs.
#[derive(Clone)]
pub struct AccountPorts {
    pub users: Arc<dyn UserRepository>,
    pub hasher: Arc<dyn PasswordHasher>,
    pub breaches: Arc<dyn BreachedPasswords>,
    pub clock: Arc<dyn Clock>,
    /// Failed logins, for throttling.
    pub login_failures: Arc<dyn LoginFailures>,
}

impl std::fmt::Debug for AccountPorts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountPorts").finish_non_exhaustive()
    }
}

/// The accounts use case, over its ports and the sessions it starts.
#[derive(Debug, Clone)]
pub struct Accounts {
    ports: AccountPorts,
    sessions: Sessions,
    throttle: LoginThrottle,
    password_policy: PasswordPolicy,
}

impl Accounts {
    pub fn new(
        ports: AccountPorts,
        sessions: Sessions,
        throttle: ThrottlePolicy,
        password_policy: PasswordPolicy,
    ) -> Self {
        let throttle = LoginThrottle::new(throttle, ports.login_failures.clone());
        Self {
            ports,
            sessions,
            throttle,
            password_policy,
        }
    }

    /// Registers a new user and logs them in: a new session.
    pub async fn register(&self, registration: Registration) -> Result<Authenticated, AuthError> {
        let mut errors = ValidationErrors::new();
        let username = errors.check("username", &registration.username, Username::parse);
        let email = errors.check("email", &registration.email, Email::parse);
        let password = errors.check("password", &registration.password, Password::parse);
        let (Some(username), Some(email), Some(password)) = (username, email, password) else {
            return Err(AuthError::Invalid(errors));
        };
        self.check_password(&password, &username, &email).await?;

        let password_hash = self.ports.hasher.hash(&password).await?;
        let user = self
            .ports
            .users
            .insert(NewUser {
                username,
                email,
                password_hash,
                created_at: self.ports.clock.now(),
            })
            .await?;
        self.sessions.start(user).await
    }

    /// Checks credentials and starts a session. An unknown e-mail and a wrong password are
    /// indistinguishable to the caller, in the answer and (through the dummy verification) in the
    /// time it takes. `client` is the caller's address, for throttling.
    pub async fn login(
        &self,
        credentials: Credentials,
        client: Option<&str>,
    ) -> Result<Authenticated, AuthError> {
        let mut errors = ValidationErrors::new();
        if credentials.email.trim().is_empty() {
            errors.add("email", "can't be blank");
        }
        if credentials.password.is_empty() {
            errors.add("password", "can't be blank");
        }
        errors.into_result().map_err(AuthError::Invalid)?;
        let account = credentials.email.trim().to_lowercase();
        let now = self.ports.clock.now();
        let attempt = match self.throttle.admit(&account, client, now).await? {
            Admission::Admitted(attempt) => attempt,
            Admission::Throttled(retry_after) => return Err(AuthError::Throttled { retry_after }),
        };

        let verified = match self.verify_credentials(&credentials).await {
            Ok(verified) => verified,
            Err(error) => {
                // Undecided, so no failure; a store that failed here may well fail again, and
                // the error that reaches the caller is the first.
                let _ = self.throttle.undecided(attempt).await;
                return Err(error);
            }
        };
        match verified {
            Some(user) => {
                self.throttle.succeeded(attempt).await?;
                self.sessions.start(user).await
            }
            // Recorded as a failure when it was admitted.
            None => Err(AuthError::InvalidCredentials),
        }
    }

    /// The user whose credentials these are, if they are right.
    async fn verify_credentials(
        &self,
        credentials: &Credentials,
    ) -> Result<Option<User>, AuthError> {
        // Neither can belong to an account if it breaks the rules every account was made under.
        let (Ok(email), Ok(password)) = (
            Email::parse(&credentials.email),
            Password::parse(&credentials.password),
        ) else {
            return Ok(None);
        };
        match self.ports.users.find_by_email(&email).await? {
            Some(user) => Ok(self
                .ports
                .hasher
                .verify(&password, &user.password_hash)
                .await?
                .then_some(user)),
            None => {
                self.ports.hasher.verify_against_dummy(&password).await;
                Ok(None)
            }
        }
    }

    /// The user an access token speaks for, with a fresh access token in the same session
    /// (`GET /user`): the session check and the read of the user are one lookup.
    pub async fn current_user(&self, token: Option<&str>) -> Result<Authenticated, AuthError> {
        let (caller, user) = self.sessions.authenticate_user(token).await?;
        self.sessions.issue(user, caller, None)
    }

    /// The caller with a fresh access token in the same session. A valid token of a user who no
    /// longer exists is refused.
    pub async fn current(&self, caller: Caller) -> Result<Authenticated, AuthError> {
        let user = self.existing(caller.user).await?;
        self.sessions.issue(user, caller, None)
    }

    /// Applies a profile update. A username or e-mail that belongs to someone else is refused as
    /// invalid input (the contract gives `PUT /user` no 409).
    /// A new password is checked like one at registration, and ends every other session.
    pub async fn update(
        &self,
        caller: Caller,
        update: ProfileUpdate,
    ) -> Result<Authenticated, AuthError> {
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
        errors.into_result().map_err(AuthError::Invalid)?;

        if let Some(password) = &password {
            let current = self.existing(id).await?;
            let username = changes.username.as_ref().unwrap_or(&current.username);
            let email = changes.email.as_ref().unwrap_or(&current.email);
            self.check_password(password, username, email).await?;
            changes.password_hash = Some(self.ports.hasher.hash(password).await?);
        }
        if changes.is_empty() {
            return self.current(caller).await;
        }

        let updated = self
            .ports
            .users
            .update(id, changes, self.ports.clock.now())
            .await
            .map_err(|error| match error {
                StoreError::Conflict { field } => {
                    AuthError::Invalid(ValidationErrors::single(field.as_str(), TAKEN))
                }
                other => other.into(),
            })?
            .ok_or(AuthError::Unauthenticated(TokenError::UnknownUser))?;
        if password.is_some() {
            self.sessions.end_others(id, caller).await?;
        }
        self.sessions.issue(updated, caller, None)
    }

    /// The rules on a new password beyond its length, as the policy has them: under
    /// [`PasswordPolicy::Strict`], not common, not the user's own name or address, and (when
    /// configured) not seen in known breaches too often.
    async fn check_password(
        &self,
        password: &Password,
        username: &Username,
        email: &Email,
    ) -> Result<(), AuthError> {
        password
            .check_policy(self.password_policy, username, email)
            .map_err(|refusal| {
                AuthError::Invalid(ValidationErrors::single("password", refusal.to_string()))
            })?;
        if self.password_policy == PasswordPolicy::Contract {
            return Ok(());
        }
        match self.ports.breaches.check(password).await {
            Ok(None) => Ok(()),
            Ok(Some(seen)) => Err(AuthError::Invalid(ValidationErrors::single(
                "password",
                format!("has appeared in {seen} known data breaches; choose one that has not"),
            ))),
            Err(error) => Err(AuthError::PasswordCheckUnavailable(error.to_string())),
        }
    }

    async fn existing(&self, id: UserId) -> Result<User, AuthError> {
        self.ports
            .users
            .find_by_id(id)
            .await?
            // The token was genuine, but its user has gone: the token no longer speaks for anyone.
            .ok_or(AuthError::Unauthenticated(TokenError::UnknownUser))
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
