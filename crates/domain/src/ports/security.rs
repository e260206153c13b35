//! Passwords, tokens and the breached-password check: what `conduit-security` adapts.

use std::fmt;

use async_trait::async_trait;

use super::sessions::{Caller, SessionId};
use crate::Timestamp;
use crate::accounts::{Password, PasswordHash, UserId};

/// The password hasher failed (not a wrong password: that is `Ok(false)`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(pub String);

/// One-way password hashing. Implementations are slow on purpose and must not block the caller's
/// executor.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait PasswordHasher: Send + Sync {
    async fn hash(&self, password: &Password) -> Result<PasswordHash, HashError>;
    /// `Ok(false)` for a wrong password.
    async fn verify(&self, password: &Password, hash: &PasswordHash) -> Result<bool, HashError>;
    /// Does the work of one `verify` against a hash of no real user, so that a login for an
    /// unknown e-mail costs as much time as one with a wrong password.
    async fn verify_against_dummy(&self, password: &Password);
}

/// A signed access token, as handed to a client.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessToken(String);

impl AccessToken {
    pub fn new(token: String) -> Self {
        Self(token)
    }

    /// The token itself, for the response body only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessToken(<redacted>)")
    }
}

/// Why a presented token was refused. The variants are for logs and tests; clients all get the
/// same 401.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("is missing")]
    Missing,
    #[error("is malformed")]
    Malformed,
    #[error("has an invalid signature")]
    BadSignature,
    #[error("has expired")]
    Expired,
    #[error("is not valid yet")]
    NotYetValid,
    #[error("was not issued for this service")]
    WrongAudience,
    /// Genuine, but its user no longer exists.
    #[error("speaks for no user")]
    UnknownUser,
    /// Genuine, but its session has ended: logged out, revoked, or past its absolute expiry.
    #[error("belongs to a session that has ended")]
    SessionEnded,
    #[error("could not be issued: {0}")]
    Issue(String),
}

/// Issues and checks access tokens. Time is passed in, so the clock stays injectable.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait TokenCodec: Send + Sync {
    /// A token for `user` in `session` (its `sid` claim).
    fn issue(
        &self,
        user: UserId,
        session: SessionId,
        now: Timestamp,
    ) -> Result<AccessToken, TokenError>;
    /// The user and session a valid token speaks for.
    fn verify(&self, token: &str, now: Timestamp) -> Result<Caller, TokenError>;
    /// The instant from which [`Self::verify`] refuses `token` as expired, for a token it
    /// accepts; `None` for a token that never expires or cannot be read. A live socket closes then.
    fn expiry(&self, token: &str) -> Option<Timestamp>;
}

/// A refresh token as handed to a client: opaque, random, never stored (only its hash is).
#[derive(Clone, PartialEq, Eq)]
pub struct RefreshToken(String);

impl RefreshToken {
    pub fn new(token: String) -> Self {
        Self(token)
    }

    /// The token itself, for the response body only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for RefreshToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RefreshToken(<redacted>)")
    }
}

/// The hash of a refresh token, as the store keeps it and looks it up.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RefreshTokenHash(pub String);

impl fmt::Debug for RefreshTokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RefreshTokenHash(<redacted>)")
    }
}

/// Makes refresh tokens and hashes presented ones.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait RefreshTokenSource: Send + Sync {
    /// A new token from a CSPRNG (at least 256 bits).
    fn generate(&self) -> RefreshToken;
    /// The hash under which the store keeps `token`.
    fn hash(&self, token: &str) -> RefreshTokenHash;
}

/// The breach check could not answer (and is configured to fail closed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the breached-password check is unavailable: {0}")]
pub struct BreachCheckError(pub String);

/// Whether a password appears in known data breaches.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait BreachedPasswords: Send + Sync {
    /// `Some(times seen)` when the password has been seen in breaches at least as often as the
    /// configured threshold, `None` when not (or when the check is off, or failed and fails open).
    async fn check(&self, password: &Password) -> Result<Option<u64>, BreachCheckError>;
}
