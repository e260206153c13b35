//! Sessions and refresh tokens, written once for both kinds of store (as in `users.rs`).
//!
//! Using a token is one conditional `UPDATE ... WHERE used_at IS NULL`: of two concurrent uses,
//! the database lets exactly one change the row; the other finds it used.

pub(crate) const INSERT_SESSION: &str = "
    INSERT INTO sessions (user_id, created_at, expires_at) VALUES ($1, $2, $3) RETURNING id";

pub(crate) const INSERT_TOKEN: &str = "
    INSERT INTO refresh_tokens (token_hash, session_id, created_at, expires_at)
    VALUES ($1, $2, $3, $4)";

pub(crate) const USE_TOKEN: &str = "
    UPDATE refresh_tokens SET used_at = $2
    WHERE token_hash = $1 AND used_at IS NULL
    RETURNING session_id, expires_at";

pub(crate) const SESSION: &str = "
    SELECT id, user_id, expires_at, revoked_at IS NOT NULL AS revoked FROM sessions WHERE id = $1";

pub(crate) const SESSION_OF_TOKEN: &str =
    "SELECT session_id FROM refresh_tokens WHERE token_hash = $1";

pub(crate) const REVOKE: &str =
    "UPDATE sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL";

pub(crate) const REVOKE_ALL: &str = "
    UPDATE sessions SET revoked_at = $3
    WHERE user_id = $1 AND revoked_at IS NULL AND ($2 IS NULL OR id <> $2)";

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct SessionRow {
    pub(crate) id: i64,
    pub(crate) user_id: i64,
    pub(crate) expires_at: time::OffsetDateTime,
    pub(crate) revoked: bool,
}

/// Generates a [`SessionRepository`](conduit_domain::ports::SessionRepository) adapter.
macro_rules! session_repository {
    ($(#[$meta:meta])* $name:ident, $pool:ty, time = $time:path) => {
        $(#[$meta])*
        #[derive(Debug, Clone)]
        pub struct $name {
            pool: $pool,
        }

        impl $name {
            pub fn new(pool: $pool) -> Self {
                Self { pool }
            }
        }

        #[async_trait::async_trait]
        impl conduit_domain::ports::SessionRepository for $name {
            async fn start(
                &self,
                session: conduit_domain::ports::NewSession,
            ) -> Result<conduit_domain::ports::SessionId, conduit_domain::ports::StoreError> {
                use $crate::error::store_error;
                let mut tx = self.pool.begin().await.map_err(store_error)?;
                let id: i64 = sqlx::query_scalar($crate::sessions::INSERT_SESSION)
                    .bind(session.user.0)
                    .bind($time(session.created_at))
                    .bind($time(session.expires_at))
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(store_error)?;
                sqlx::query($crate::sessions::INSERT_TOKEN)
                    .bind(session.token.0)
                    .bind(id)
                    .bind($time(session.created_at))
                    .bind($time(session.token_expires_at))
                    .execute(&mut *tx)
                    .await
                    .map_err(store_error)?;
                tx.commit().await.map_err(store_error)?;
                Ok(conduit_domain::ports::SessionId(id))
            }

            async fn use_token(
                &self,
                token: &conduit_domain::ports::RefreshTokenHash,
                now: time::OffsetDateTime,
            ) -> Result<conduit_domain::ports::TokenUse, conduit_domain::ports::StoreError> {
                use conduit_domain::ports::{SessionId, SessionState, TokenUse};
                use conduit_domain::user::UserId;
                use $crate::error::store_error;
                let mut tx = self.pool.begin().await.map_err(store_error)?;
                let used: Option<(i64, time::OffsetDateTime)> =
                    sqlx::query_as($crate::sessions::USE_TOKEN)
                        .bind(&token.0)
                        .bind($time(now))
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(store_error)?;
                let outcome = match used {
                    Some((session, token_expires_at)) => {
                        let row: $crate::sessions::SessionRow =
                            sqlx::query_as($crate::sessions::SESSION)
                                .bind(session)
                                .fetch_one(&mut *tx)
                                .await
                                .map_err(store_error)?;
                        TokenUse::Fresh(SessionState {
                            id: SessionId(row.id),
                            user: UserId(row.user_id),
                            token_expires_at,
                            expires_at: row.expires_at,
                            revoked: row.revoked,
                        })
                    }
                    None => {
                        let session: Option<i64> =
                            sqlx::query_scalar($crate::sessions::SESSION_OF_TOKEN)
                                .bind(&token.0)
                                .fetch_optional(&mut *tx)
                                .await
                                .map_err(store_error)?;
                        session.map_or(TokenUse::Unknown, |id| TokenUse::AlreadyUsed(SessionId(id)))
                    }
                };
                tx.commit().await.map_err(store_error)?;
                Ok(outcome)
            }

            async fn add_token(
                &self,
                session: conduit_domain::ports::SessionId,
                token: conduit_domain::ports::RefreshTokenHash,
                created_at: time::OffsetDateTime,
                expires_at: time::OffsetDateTime,
            ) -> Result<(), conduit_domain::ports::StoreError> {
                $crate::error::execute!(&self.pool, $crate::sessions::INSERT_TOKEN, token.0, session.0, $time(created_at), $time(expires_at))?;
                Ok(())
            }

            async fn revoke(
                &self,
                session: conduit_domain::ports::SessionId,
                now: time::OffsetDateTime,
            ) -> Result<(), conduit_domain::ports::StoreError> {
                $crate::error::execute!(&self.pool, $crate::sessions::REVOKE, session.0, $time(now))?;
                Ok(())
            }

            async fn revoke_all(
                &self,
                user: conduit_domain::user::UserId,
                except: Option<conduit_domain::ports::SessionId>,
                now: time::OffsetDateTime,
            ) -> Result<(), conduit_domain::ports::StoreError> {
                $crate::error::execute!(&self.pool, $crate::sessions::REVOKE_ALL, user.0, except.map(|session| session.0), $time(now))?;
                Ok(())
            }
        }
    };
}

pub(crate) use session_repository;
