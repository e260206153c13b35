//! The sessions use case: what an access token speaks for, refreshing, and logging out.
//!
//! Registration and login (see [`crate::accounts`]) start a session and hand out an access token
//! (a JWT whose `sid` names the session) and a refresh token (opaque, stored only as a hash).
//! Refreshing uses the presented refresh token up and hands out a new pair; presenting a used one
//! again revokes the whole session, since only a thief or a replay would. Logout revokes the
//! caller's session, logout-all every session of the user, and a password change every session
//! but the caller's.

use std::sync::Arc;

use time::Duration;

use crate::Timestamp;
use crate::accounts::{User, UserId};
use crate::ports::{
    AccessToken, Caller, Clock, HashError, NewSession, RefreshToken, RefreshTokenSource,
    SessionRepository, StoreError, TokenCodec, TokenError, TokenUse, UniqueField, UserRepository,
};
use crate::validation::ValidationErrors;

/// A user together with a freshly issued access token, and a refresh token when a session was
/// started or refreshed.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub user: User,
    pub token: AccessToken,
    pub refresh_token: Option<RefreshToken>,
}

/// Why an accounts or sessions use case refused.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
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
    /// A store could not be reached in time; the same request may succeed shortly.
    #[error("unreachable: {0}")]
    Unreachable(String),
}

impl From<StoreError> for AuthError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Conflict { field } => Self::Taken(field),
            // No account write refers to a row that can go meanwhile: a fault if it happens.
            StoreError::Gone(kind) => Self::Unavailable(format!("{kind} is gone")),
            StoreError::Unavailable(context) => Self::Unavailable(context),
            StoreError::Unreachable(context) => Self::Unreachable(context),
        }
    }
}

impl From<HashError> for AuthError {
    fn from(error: HashError) -> Self {
        Self::Unavailable(error.to_string())
    }
}

/// The ports the sessions use case needs.
#[derive(Clone)]
pub struct SessionPorts {
    pub users: Arc<dyn UserRepository>,
    pub sessions: Arc<dyn SessionRepository>,
    pub tokens: Arc<dyn TokenCodec>,
    pub refresh_tokens: Arc<dyn RefreshTokenSource>,
    pub clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for SessionPorts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionPorts").finish_non_exhaustive()
    }
}

/// How long sessions last, from configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    /// A refresh token unused for this long stops working.
    pub idle_timeout: Duration,
    /// A session ends this long after login, however often it is refreshed.
    pub absolute_timeout: Duration,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self {
            idle_timeout: Duration::days(14),
            absolute_timeout: Duration::days(90),
        }
    }
}

/// The sessions use case, over the ports it needs.
#[derive(Debug, Clone)]
pub struct Sessions {
    ports: SessionPorts,
    policy: SessionPolicy,
}

impl Sessions {
    pub fn new(ports: SessionPorts, policy: SessionPolicy) -> Self {
        Self { ports, policy }
    }

    /// Who an access token speaks for: a genuine, unexpired token whose session is still live.
    /// An access token ends with its session (logout, logout-all, a password change elsewhere),
    /// not an hour later: the check costs one lookup by primary key per request.
    pub async fn authenticate(&self, token: Option<&str>) -> Result<Caller, AuthError> {
        let (caller, now) = self.verify(token)?;
        match self.ports.sessions.live_user(caller.session, now).await? {
            Some(user) if user == caller.user => Ok(caller),
            _ => Err(AuthError::Unauthenticated(TokenError::SessionEnded)),
        }
    }

    /// Whom a genuine, unexpired token names, without asking whether its session is live: for a
    /// write that checks the session in its own statement ([`crate::articles::Articles::create`]).
    /// Anything else goes through [`Self::authenticate`].
    pub fn identify(&self, token: Option<&str>) -> Result<Caller, AuthError> {
        self.verify(token).map(|(caller, _)| caller)
    }

    /// [`Self::authenticate`] and the caller's user, read in the same lookup.
    pub async fn authenticate_user(
        &self,
        token: Option<&str>,
    ) -> Result<(Caller, User), AuthError> {
        let (caller, now) = self.verify(token)?;
        match self
            .ports
            .users
            .find_by_live_session(caller.session, now)
            .await?
        {
            Some(user) if user.id == caller.user => Ok((caller, user)),
            _ => Err(AuthError::Unauthenticated(TokenError::SessionEnded)),
        }
    }

    /// Whom a genuine, unexpired token names, and the time it was checked at; whether its
    /// session is live is not looked at.
    fn verify(&self, token: Option<&str>) -> Result<(Caller, Timestamp), AuthError> {
        let token = token.ok_or(AuthError::Unauthenticated(TokenError::Missing))?;
        let now = self.ports.clock.now();
        let caller = self
            .ports
            .tokens
            .verify(token, now)
            .map_err(AuthError::Unauthenticated)?;
        Ok((caller, now))
    }

    /// [`Self::authenticate`] for a live socket, which closes when its token expires: the caller,
    /// and how long the token has left (`None`: it never expires).
    pub async fn authenticate_live(
        &self,
        token: &str,
    ) -> Result<(Caller, Option<Duration>), AuthError> {
        let caller = self.authenticate(Some(token)).await?;
        let left = self
            .ports
            .tokens
            .expiry(token)
            .map(|expiry| expiry - self.ports.clock.now());
        Ok((caller, left))
    }

    /// Exchanges a refresh token for a new access token and a new refresh token. The presented
    /// token is used up; presenting a used one again revokes its whole session (a replay, or a
    /// stolen copy: either way the session can no longer be trusted).
    pub async fn refresh(&self, presented: &str) -> Result<Authenticated, AuthError> {
        if presented.is_empty() {
            return Err(AuthError::Invalid(ValidationErrors::single(
                "refreshToken",
                "can't be blank",
            )));
        }
        let SessionPorts {
            users,
            sessions,
            refresh_tokens,
            clock,
            ..
        } = &self.ports;
        let now = clock.now();
        let hash = refresh_tokens.hash(presented);
        let state = match sessions.use_token(&hash, now).await? {
            TokenUse::Fresh(state) => state,
            TokenUse::AlreadyUsed(session) => {
                sessions.revoke(session, now).await?;
                return Err(AuthError::RefreshTokenReused);
            }
            TokenUse::Unknown => return Err(AuthError::InvalidRefreshToken),
        };
        if state.revoked || now >= state.token_expires_at || now >= state.expires_at {
            return Err(AuthError::InvalidRefreshToken);
        }
        let user = users
            .find_by_id(state.user)
            .await?
            .ok_or(AuthError::InvalidRefreshToken)?;
        let next = refresh_tokens.generate();
        let expires_at = (now + self.policy.idle_timeout).min(state.expires_at);
        sessions
            .add_token(
                state.id,
                refresh_tokens.hash(next.expose()),
                now,
                expires_at,
            )
            .await?;
        let caller = Caller {
            user: user.id,
            session: state.id,
        };
        self.issue(user, caller, Some(next))
    }

    /// Ends the caller's session: its refresh tokens stop working.
    pub async fn logout(&self, caller: Caller) -> Result<(), AuthError> {
        let now = self.ports.clock.now();
        Ok(self.ports.sessions.revoke(caller.session, now).await?)
    }

    /// Ends every session of the caller's user, this one included.
    pub async fn logout_everywhere(&self, caller: Caller) -> Result<(), AuthError> {
        let now = self.ports.clock.now();
        Ok(self
            .ports
            .sessions
            .revoke_all(caller.user, None, now)
            .await?)
    }

    /// Starts a session for `user`: its first refresh token and an access token naming it.
    pub(crate) async fn start(&self, user: User) -> Result<Authenticated, AuthError> {
        let now = self.ports.clock.now();
        let refresh_token = self.ports.refresh_tokens.generate();
        let session = self
            .ports
            .sessions
            .start(NewSession {
                user: user.id,
                token: self.ports.refresh_tokens.hash(refresh_token.expose()),
                created_at: now,
                token_expires_at: now + self.policy.idle_timeout.min(self.policy.absolute_timeout),
                expires_at: now + self.policy.absolute_timeout,
            })
            .await?;
        let caller = Caller {
            user: user.id,
            session,
        };
        self.issue(user, caller, Some(refresh_token))
    }

    /// Ends every session of `user` but the caller's (after a password change).
    pub(crate) async fn end_others(&self, user: UserId, caller: Caller) -> Result<(), AuthError> {
        let now = self.ports.clock.now();
        Ok(self
            .ports
            .sessions
            .revoke_all(user, Some(caller.session), now)
            .await?)
    }

    /// `user` with a fresh access token in the caller's session.
    pub(crate) fn issue(
        &self,
        user: User,
        caller: Caller,
        refresh_token: Option<RefreshToken>,
    ) -> Result<Authenticated, AuthError> {
        let token = self
            .ports
            .tokens
            .issue(user.id, caller.session, self.ports.clock.now())
            .map_err(|error| AuthError::Unavailable(error.to_string()))?;
        Ok(Authenticated {
            user,
            token,
            refresh_token,
        })
    }
}

#[cfg(test)]
mod tests;
