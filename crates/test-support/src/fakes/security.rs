//! Fast, predictable stand-ins for the password hasher, the token makers and the breach check.

use async_trait::async_trait;
use conduit_domain::Timestamp;
use conduit_domain::accounts::{Password, PasswordHash, UserId};
use conduit_domain::ports::{
    AccessToken, BreachCheckError, BreachedPasswords, Caller, HashError, PasswordHasher,
    RefreshToken, RefreshTokenHash, RefreshTokenSource, SessionId, TokenCodec, TokenError,
};

/// A hasher that is fast and obviously not secure: `fake$<password>`. For web and flow tests that
/// are not about hashing.
#[derive(Debug, Default, Clone, Copy)]
pub struct FakeHasher;

#[async_trait]
impl PasswordHasher for FakeHasher {
    async fn hash(&self, password: &Password) -> Result<PasswordHash, HashError> {
        Ok(PasswordHash::from_phc(format!(
            "fake${}",
            password.expose()
        )))
    }

    async fn verify(&self, password: &Password, hash: &PasswordHash) -> Result<bool, HashError> {
        Ok(hash.as_str() == format!("fake${}", password.expose()))
    }

    async fn verify_against_dummy(&self, _password: &Password) {}
}

/// Access tokens of the form `fake-token-<user>.<session>`, easy to read in assertions; anything
/// else is refused. For web tests that are not about signing: the real codec has tests of its own.
#[derive(Debug, Default, Clone, Copy)]
pub struct FakeTokens;

impl FakeTokens {
    pub fn token_for(user: UserId, session: SessionId) -> String {
        format!("fake-token-{user}.{session}")
    }
}

impl TokenCodec for FakeTokens {
    fn issue(
        &self,
        user: UserId,
        session: SessionId,
        _now: Timestamp,
    ) -> Result<AccessToken, TokenError> {
        Ok(AccessToken::new(Self::token_for(user, session)))
    }

    fn verify(&self, token: &str, _now: Timestamp) -> Result<Caller, TokenError> {
        let (user, session) = token
            .strip_prefix("fake-token-")
            .and_then(|rest| rest.split_once('.'))
            .ok_or(TokenError::Malformed)?;
        match (user.parse(), session.parse()) {
            (Ok(user), Ok(session)) => Ok(Caller {
                user: UserId(user),
                session: SessionId(session),
            }),
            _ => Err(TokenError::Malformed),
        }
    }

    /// Fake tokens never expire.
    fn expiry(&self, _token: &str) -> Option<Timestamp> {
        None
    }
}

/// Refresh tokens `refresh-1`, `refresh-2`, ... in order, hashed as `hashed:<token>`.
#[derive(Debug, Default)]
pub struct FakeRefreshTokens {
    issued: std::sync::atomic::AtomicU64,
}

impl RefreshTokenSource for FakeRefreshTokens {
    fn generate(&self) -> RefreshToken {
        let n = self
            .issued
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            + 1;
        RefreshToken::new(format!("refresh-{n}"))
    }

    fn hash(&self, token: &str) -> RefreshTokenHash {
        RefreshTokenHash(format!("hashed:{token}"))
    }
}

/// A breach check that has seen no password, for tests that are not about breaches: the range
/// API's client has tests of its own, against wiremock.
#[derive(Debug, Default, Clone, Copy)]
pub struct FakeBreaches;

#[async_trait]
impl BreachedPasswords for FakeBreaches {
    async fn check(&self, _password: &Password) -> Result<Option<u64>, BreachCheckError> {
        Ok(None)
    }
}
