//! The contract of [`SessionRepository`]: what every store must do with sessions and refresh
//! tokens.

use std::sync::Arc;

use conduit_domain::Timestamp;
use conduit_domain::accounts::UserId;
use conduit_domain::ports::{NewSession, RefreshTokenHash, SessionId, SessionState, TokenUse};
use time::Duration;
use time::macros::datetime;

use super::ContractStore;
use crate::builders::{NewUserBuilder, unique};

const T0: Timestamp = Timestamp::from_offset(datetime!(2026-04-01 08:00:00.000 UTC));

async fn user(store: &ContractStore) -> UserId {
    store
        .users
        .insert(NewUserBuilder::new().build())
        .await
        .expect("inserts a user")
        .id
}

pub(super) fn hash() -> RefreshTokenHash {
    RefreshTokenHash(format!("hash-{}", unique()))
}

pub(super) async fn session(
    store: &ContractStore,
    user: UserId,
    token: &RefreshTokenHash,
) -> SessionId {
    store
        .sessions
        .start(NewSession {
            user,
            token: token.clone(),
            created_at: T0,
            token_expires_at: T0 + Duration::days(14),
            expires_at: T0 + Duration::days(90),
        })
        .await
        .expect("starts a session")
}

async fn revoked(store: &ContractStore, session: SessionId) -> bool {
    let probe = hash();
    store
        .sessions
        .add_token(session, probe.clone(), T0, T0 + Duration::days(1))
        .await
        .expect("adds a token");
    match store.sessions.use_token(&probe, T0).await.expect("uses") {
        TokenUse::Fresh(state) => state.revoked,
        other => panic!("a new token is fresh, got {other:?}"),
    }
}

pub async fn a_token_is_fresh_once_then_used(store: &ContractStore) {
    let owner = user(store).await;
    let token = hash();
    let id = session(store, owner, &token).await;

    let first = store
        .sessions
        .use_token(&token, T0 + Duration::hours(1))
        .await;
    let second = store
        .sessions
        .use_token(&token, T0 + Duration::hours(2))
        .await;

    assert_eq!(
        first,
        Ok(TokenUse::Fresh(SessionState {
            id,
            user: owner,
            token_expires_at: T0 + Duration::days(14),
            expires_at: T0 + Duration::days(90),
            revoked: false,
        }))
    );
    assert_eq!(second, Ok(TokenUse::AlreadyUsed(id)));
    assert_eq!(
        store.sessions.use_token(&hash(), T0).await,
        Ok(TokenUse::Unknown)
    );
}

pub async fn added_tokens_belong_to_their_session_with_their_own_expiry(store: &ContractStore) {
    let owner = user(store).await;
    let id = session(store, owner, &hash()).await;
    let next = hash();

    store
        .sessions
        .add_token(
            id,
            next.clone(),
            T0 + Duration::days(1),
            T0 + Duration::days(15),
        )
        .await
        .expect("adds");

    let Ok(TokenUse::Fresh(state)) = store.sessions.use_token(&next, T0).await else {
        panic!("the added token is fresh");
    };
    assert_eq!((state.id, state.user), (id, owner));
    assert_eq!(state.token_expires_at, T0 + Duration::days(15));
}

pub async fn revoking_a_session_reaches_all_its_tokens_and_no_other_session(store: &ContractStore) {
    let owner = user(store).await;
    let doomed = session(store, owner, &hash()).await;
    let other = session(store, owner, &hash()).await;

    store.sessions.revoke(doomed, T0).await.expect("revokes");
    store
        .sessions
        .revoke(doomed, T0)
        .await
        .expect("revokes again");

    assert!(revoked(store, doomed).await);
    assert!(!revoked(store, other).await);
}

pub async fn revoking_all_spares_the_excepted_session_and_other_users(store: &ContractStore) {
    let owner = user(store).await;
    let stranger = user(store).await;
    let current = session(store, owner, &hash()).await;
    let elsewhere = session(store, owner, &hash()).await;
    let strangers = session(store, stranger, &hash()).await;

    store
        .sessions
        .revoke_all(owner, Some(current), T0)
        .await
        .expect("revokes");

    assert!(!revoked(store, current).await);
    assert!(revoked(store, elsewhere).await);
    assert!(!revoked(store, strangers).await);
    store
        .sessions
        .revoke_all(owner, None, T0)
        .await
        .expect("revokes");
    assert!(revoked(store, current).await);
}

pub async fn concurrent_uses_of_one_token_find_it_fresh_exactly_once(store: &ContractStore) {
    let owner = user(store).await;
    let token = hash();
    session(store, owner, &token).await;

    let attempts: Vec<_> = (0..8)
        .map(|_| {
            let sessions = Arc::clone(&store.sessions);
            let token = token.clone();
            tokio::spawn(async move { sessions.use_token(&token, T0).await })
        })
        .collect();
    let mut fresh = 0;
    for attempt in attempts {
        match attempt.await.expect("task completes").expect("uses") {
            TokenUse::Fresh(_) => fresh += 1,
            TokenUse::AlreadyUsed(_) => {}
            TokenUse::Unknown => panic!("the token exists"),
        }
    }

    assert_eq!(fresh, 1);
}

pub async fn a_live_session_names_its_user_until_revoked_or_past_its_expiry(store: &ContractStore) {
    let jake = user(store).await;
    let live = session(store, jake, &hash()).await;
    let ended = session(store, jake, &hash()).await;
    store.sessions.revoke(ended, T0).await.expect("revokes");

    let during = store
        .sessions
        .live_user(live, T0 + Duration::days(89))
        .await;
    let after = store
        .sessions
        .live_user(live, T0 + Duration::days(90))
        .await;
    let revoked = store.sessions.live_user(ended, T0).await;
    let unknown = store.sessions.live_user(SessionId(i64::MAX), T0).await;

    assert_eq!(during, Ok(Some(jake)));
    assert_eq!(after, Ok(None), "the absolute expiry is exclusive");
    assert_eq!(revoked, Ok(None));
    assert_eq!(unknown, Ok(None));
}

/// The session check that reads the user with it decides as [`SessionRepository::live_user`].
///
/// [`SessionRepository::live_user`]: conduit_domain::ports::SessionRepository::live_user
pub async fn the_user_of_a_live_session_is_read_with_the_check(store: &ContractStore) {
    let jake = user(store).await;
    let live = session(store, jake, &hash()).await;
    let ended = session(store, jake, &hash()).await;
    store.sessions.revoke(ended, T0).await.expect("revokes");
    let find = |session, at| store.users.find_by_live_session(session, at);

    let during = find(live, T0 + Duration::days(89)).await.expect("reads");
    let after = find(live, T0 + Duration::days(90)).await;
    let revoked = find(ended, T0).await;
    let unknown = find(SessionId(i64::MAX), T0).await;

    let during = during.expect("the user");
    assert_eq!(during.id, jake);
    let stored = store.users.find_by_id(jake).await.expect("reads");
    assert_eq!(Some(during), stored, "the whole user, as stored");
    assert_eq!(after, Ok(None), "the absolute expiry is exclusive");
    assert_eq!(revoked, Ok(None));
    assert_eq!(unknown, Ok(None));
}
