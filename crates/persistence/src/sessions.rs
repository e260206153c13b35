//! Sessions and refresh tokens: [`SqlSessionRepository`], one adapter for both databases.
//!
//! Using a token is one conditional `UPDATE ... WHERE used_at IS NULL`: of two concurrent uses,
//! the database lets exactly one change the row; the other finds it used.

use async_trait::async_trait;
use conduit_domain::Timestamp;
use conduit_domain::accounts::UserId;
use conduit_domain::ports::{
    NewSession, RefreshTokenHash, SessionId, SessionRepository, SessionState, StoreError, TokenUse,
};

use crate::Store;
use crate::db::{Args, DbTime};

const INSERT_SESSION: &str = "
    INSERT INTO sessions (user_id, created_at, expires_at) VALUES ($1, $2, $3) RETURNING id";

const INSERT_TOKEN: &str = "
    INSERT INTO refresh_tokens (token_hash, session_id, created_at, expires_at)
    VALUES ($1, $2, $3, $4)";

const USE_TOKEN: &str = "
    UPDATE refresh_tokens SET used_at = $2
    WHERE token_hash = $1 AND used_at IS NULL
    RETURNING session_id, expires_at";

const SESSION: &str = "
    SELECT id, user_id, expires_at, revoked_at IS NOT NULL AS revoked FROM sessions WHERE id = $1";

const SESSION_OF_TOKEN: &str = "SELECT session_id FROM refresh_tokens WHERE token_hash = $1";

const LIVE_USER: &str =
    "SELECT user_id FROM sessions WHERE id = $1 AND revoked_at IS NULL AND expires_at > $2";

const REVOKE: &str = "UPDATE sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL";

const REVOKE_ALL: &str = "
    UPDATE sessions SET revoked_at = $3
    WHERE user_id = $1 AND revoked_at IS NULL AND ($2 IS NULL OR id <> $2)";

#[derive(Debug, sqlx::FromRow)]
struct SessionRow {
    id: i64,
    user_id: i64,
    expires_at: DbTime,
    revoked: bool,
}

/// The arguments of `INSERT_TOKEN`.
fn token_args(
    token: RefreshTokenHash,
    session: i64,
    created_at: Timestamp,
    expires_at: Timestamp,
) -> Args {
    Args::new()
        .bind(token.0)
        .bind(session)
        .bind(created_at)
        .bind(expires_at)
}

/// Sessions and refresh tokens in either database.
#[derive(Debug, Clone)]
pub(crate) struct SqlSessionRepository {
    store: Store,
}

impl SqlSessionRepository {
    pub(crate) fn new(store: Store) -> Self {
        Self { store }
    }
}

#[async_trait]
impl SessionRepository for SqlSessionRepository {
    async fn start(&self, session: NewSession) -> Result<SessionId, StoreError> {
        let mut tx = self.store.begin().await?;
        let args = Args::new()
            .bind(session.user.0)
            .bind(session.created_at)
            .bind(session.expires_at);
        let (id,): (i64,) = tx.conn().fetch_one(INSERT_SESSION, args).await?;
        let args = token_args(
            session.token,
            id,
            session.created_at,
            session.token_expires_at,
        );
        tx.conn().execute(INSERT_TOKEN, args).await?;
        tx.commit().await?;
        Ok(SessionId(id))
    }

    async fn use_token(
        &self,
        token: &RefreshTokenHash,
        now: Timestamp,
    ) -> Result<TokenUse, StoreError> {
        let mut tx = self.store.begin().await?;
        let args = Args::new().bind(token.0.as_str()).bind(now);
        let used: Option<(i64, DbTime)> = tx.conn().fetch_optional(USE_TOKEN, args).await?;
        let outcome = match used {
            Some((session, token_expires_at)) => {
                let row: SessionRow = tx
                    .conn()
                    .fetch_one(SESSION, Args::new().bind(session))
                    .await?;
                TokenUse::Fresh(SessionState {
                    id: SessionId(row.id),
                    user: UserId(row.user_id),
                    token_expires_at: token_expires_at.into(),
                    expires_at: row.expires_at.into(),
                    revoked: row.revoked,
                })
            }
            None => {
                let args = Args::new().bind(token.0.as_str());
                let session: Option<(i64,)> =
                    tx.conn().fetch_optional(SESSION_OF_TOKEN, args).await?;
                session.map_or(TokenUse::Unknown, |(id,)| {
                    TokenUse::AlreadyUsed(SessionId(id))
                })
            }
        };
        tx.commit().await?;
        Ok(outcome)
    }

    async fn add_token(
        &self,
        session: SessionId,
        token: RefreshTokenHash,
        created_at: Timestamp,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        let args = token_args(token, session.0, created_at, expires_at);
        self.store.execute(INSERT_TOKEN, args).await?;
        Ok(())
    }

    async fn live_user(
        &self,
        session: SessionId,
        now: Timestamp,
    ) -> Result<Option<UserId>, StoreError> {
        let args = Args::new().bind(session.0).bind(now);
        let user: Option<(i64,)> = self.store.fetch_optional(LIVE_USER, args).await?;
        Ok(user.map(|(id,)| UserId(id)))
    }

    async fn revoke(&self, session: SessionId, now: Timestamp) -> Result<(), StoreError> {
        let args = Args::new().bind(session.0).bind(now);
        self.store.execute(REVOKE, args).await?;
        Ok(())
    }

    async fn revoke_all(
        &self,
        user: UserId,
        except: Option<SessionId>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let args = Args::new()
            .bind(user.0)
            .bind(except.map(|session| session.0))
            .bind(now);
        self.store.execute(REVOKE_ALL, args).await?;
        Ok(())
    }
}
