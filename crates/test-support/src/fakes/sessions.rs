//! [`SessionRepository`] over the in-memory state.

use async_trait::async_trait;
use conduit_domain::Timestamp;
use conduit_domain::accounts::UserId;
use conduit_domain::ports::{
    NewSession, RefreshTokenHash, SessionId, SessionRepository, SessionState, StoreError, TokenUse,
};

use super::*;

#[async_trait]
impl SessionRepository for InMemoryStore {
    async fn start(&self, session: NewSession) -> Result<SessionId, StoreError> {
        let mut state = self.lock();
        let id = state.sessions.keys().next_back().map_or(1, |last| last + 1);
        state.sessions.insert(
            id,
            StoredSession {
                user: session.user,
                expires_at: session.expires_at,
                revoked: false,
            },
        );
        state.refresh_tokens.insert(
            session.token,
            StoredRefreshToken {
                session: id,
                expires_at: session.token_expires_at,
                used: false,
            },
        );
        Ok(SessionId(id))
    }

    async fn use_token(
        &self,
        token: &RefreshTokenHash,
        _now: Timestamp,
    ) -> Result<TokenUse, StoreError> {
        let mut state = self.lock();
        let Some(stored) = state.refresh_tokens.get_mut(token) else {
            return Ok(TokenUse::Unknown);
        };
        if stored.used {
            return Ok(TokenUse::AlreadyUsed(SessionId(stored.session)));
        }
        stored.used = true;
        let (session_id, token_expires_at) = (stored.session, stored.expires_at);
        let session = state
            .sessions
            .get(&session_id)
            .ok_or_else(|| StoreError::Unavailable("a token of no session".into()))?;
        Ok(TokenUse::Fresh(SessionState {
            id: SessionId(session_id),
            user: session.user,
            token_expires_at,
            expires_at: session.expires_at,
            revoked: session.revoked,
        }))
    }

    async fn add_token(
        &self,
        session: SessionId,
        token: RefreshTokenHash,
        _created_at: Timestamp,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        self.lock().refresh_tokens.insert(
            token,
            StoredRefreshToken {
                session: session.0,
                expires_at,
                used: false,
            },
        );
        Ok(())
    }

    async fn live_user(
        &self,
        session: SessionId,
        now: Timestamp,
    ) -> Result<Option<UserId>, StoreError> {
        Ok(self.lock().live_user(session, now))
    }

    async fn revoke(&self, session: SessionId, _now: Timestamp) -> Result<(), StoreError> {
        let mut state = self.write();
        if let Some(stored) = state.sessions.get_mut(&session.0)
            && !stored.revoked
        {
            stored.revoked = true;
            state.append(live::Appended::SessionEnded { session: session.0 });
        }
        Ok(())
    }

    async fn revoke_all(
        &self,
        user: UserId,
        except: Option<SessionId>,
        _now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut state = self.write();
        let mut ended = Vec::new();
        for (id, session) in &mut state.sessions {
            if session.user == user && Some(SessionId(*id)) != except && !session.revoked {
                session.revoked = true;
                ended.push(*id);
            }
        }
        for session in ended {
            state.append(live::Appended::SessionEnded { session });
        }
        Ok(())
    }
}
