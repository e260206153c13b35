//! Sessions: who a token speaks for, and the refresh tokens of each login.

use std::fmt;

use async_trait::async_trait;

use super::security::RefreshTokenHash;
use super::store::StoreError;
use crate::Timestamp;
use crate::accounts::UserId;

/// The store's identifier of a session: one login (or registration) and the chain of refresh
/// tokens rotated from it, the "family" that reuse of any one of them revokes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId(pub i64);

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Who a valid access token speaks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caller {
    pub user: UserId,
    pub session: SessionId,
}

/// A session to start, with its first refresh token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    pub user: UserId,
    pub token: RefreshTokenHash,
    pub created_at: Timestamp,
    /// When the first token stops working unless used (the idle expiry).
    pub token_expires_at: Timestamp,
    /// When the whole session ends, however often it is refreshed (the absolute expiry).
    pub expires_at: Timestamp,
}

/// A session as the store knows it, found through one of its tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionState {
    pub id: SessionId,
    pub user: UserId,
    /// The idle expiry of the token that was presented.
    pub token_expires_at: Timestamp,
    pub expires_at: Timestamp,
    pub revoked: bool,
}

/// What presenting a refresh token found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenUse {
    /// The token had not been used; it is used now.
    Fresh(SessionState),
    /// The token had been used before: a replay, or a stolen copy.
    AlreadyUsed(SessionId),
    /// No such token.
    Unknown,
}

/// Sessions and their refresh tokens.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait SessionRepository: Send + Sync {
    async fn start(&self, session: NewSession) -> Result<SessionId, StoreError>;
    /// Marks the token with this hash used, atomically: of two concurrent calls with the same
    /// token, exactly one finds it [`TokenUse::Fresh`].
    async fn use_token(
        &self,
        token: &RefreshTokenHash,
        now: Timestamp,
    ) -> Result<TokenUse, StoreError>;
    /// Adds the next token of a session.
    async fn add_token(
        &self,
        session: SessionId,
        token: RefreshTokenHash,
        created_at: Timestamp,
        expires_at: Timestamp,
    ) -> Result<(), StoreError>;
    /// The user of the session `session` if it is live at `now`: not revoked, not past its
    /// absolute expiry, and its user still there. One lookup by primary key: it runs on every
    /// authenticated request.
    async fn live_user(
        &self,
        session: SessionId,
        now: Timestamp,
    ) -> Result<Option<UserId>, StoreError>;
    /// Revokes a session: none of its tokens works again. Idempotent.
    async fn revoke(&self, session: SessionId, now: Timestamp) -> Result<(), StoreError>;
    /// Revokes every session of `user`, but `except`.
    async fn revoke_all(
        &self,
        user: UserId,
        except: Option<SessionId>,
        now: Timestamp,
    ) -> Result<(), StoreError>;
}
