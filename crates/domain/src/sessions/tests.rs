use mockall::predicate::eq;

use super::*;
use crate::accounts::UserId;
use crate::ports::{RefreshTokenHash, SessionId, SessionState, StoreError};
use crate::testing::{CALLER, NOW, Ports, stored_user};

#[tokio::test]
async fn authenticate_verifies_the_token_at_the_clocks_time() {
    let mut ports = Ports::new();
    ports
        .tokens
        .expect_verify()
        .with(eq("a.b.c"), eq(NOW))
        .times(1)
        .returning(|_, _| Ok(CALLER));
    ports
        .sessions
        .expect_live_user()
        .with(eq(CALLER.session), eq(NOW))
        .times(1)
        .returning(|_, _| Ok(Some(CALLER.user)));

    let caller = ports.sessions().authenticate(Some("a.b.c")).await;

    assert_eq!(caller.expect("valid token"), CALLER);
}

#[tokio::test]
async fn a_live_socket_learns_how_long_its_token_has_left() {
    for (expiry, left) in [
        (
            Some(NOW + Duration::seconds(90)),
            Some(Duration::seconds(90)),
        ),
        (None, None),
    ] {
        let mut ports = Ports::new();
        ports.tokens.expect_verify().returning(|_, _| Ok(CALLER));
        ports
            .tokens
            .expect_expiry()
            .with(eq("a.b.c"))
            .returning(move |_| expiry);
        ports
            .sessions
            .expect_live_user()
            .returning(|_, _| Ok(Some(CALLER.user)));

        let outcome = ports.sessions().authenticate_live("a.b.c").await;

        assert_eq!(outcome.expect("valid token"), (CALLER, left));
    }
}

#[tokio::test]
async fn a_genuine_token_of_an_ended_session_or_a_vanished_user_is_refused() {
    for live_user in [None, Some(UserId(CALLER.user.0 + 1))] {
        let mut ports = Ports::new();
        ports.tokens.expect_verify().returning(|_, _| Ok(CALLER));
        ports
            .sessions
            .expect_live_user()
            .returning(move |_, _| Ok(live_user));

        let outcome = ports.sessions().authenticate(Some("a.b.c")).await;

        assert!(
            matches!(
                outcome,
                Err(AuthError::Unauthenticated(TokenError::SessionEnded))
            ),
            "{live_user:?}: {outcome:?}"
        );
    }
}

#[tokio::test]
async fn the_user_is_read_with_the_session_check_in_one_lookup() {
    let mut ports = Ports::new();
    ports
        .tokens
        .expect_verify()
        .with(eq("a.b.c"), eq(NOW))
        .returning(|_, _| Ok(CALLER));
    ports.sessions.expect_live_user().never();
    ports
        .repository
        .expect_find_by_live_session()
        .with(eq(CALLER.session), eq(NOW))
        .times(1)
        .returning(|_, _| Ok(Some(stored_user(CALLER.user.0, "jake", "jake@example.com"))));

    let (caller, user) = ports
        .sessions()
        .authenticate_user(Some("a.b.c"))
        .await
        .expect("valid token");

    assert_eq!(caller, CALLER);
    assert_eq!(user.id, CALLER.user);
}

#[tokio::test]
async fn reading_the_user_refuses_an_ended_session_another_users_or_no_token() {
    for found in [None, Some(UserId(CALLER.user.0 + 1))] {
        let mut ports = Ports::new();
        ports.tokens.expect_verify().returning(|_, _| Ok(CALLER));
        ports
            .repository
            .expect_find_by_live_session()
            .returning(move |_, _| {
                Ok(found.map(|id| stored_user(id.0, "jane", "jane@example.com")))
            });

        let outcome = ports.sessions().authenticate_user(Some("a.b.c")).await;

        assert!(
            matches!(
                outcome,
                Err(AuthError::Unauthenticated(TokenError::SessionEnded))
            ),
            "{found:?}: {outcome:?}"
        );
    }
    let missing = Ports::new().sessions().authenticate_user(None).await;
    assert!(
        matches!(
            missing,
            Err(AuthError::Unauthenticated(TokenError::Missing))
        ),
        "{missing:?}"
    );
}

#[tokio::test]
async fn a_store_failure_while_checking_the_session_is_unavailable_not_a_pass() {
    let mut ports = Ports::new();
    ports.tokens.expect_verify().returning(|_, _| Ok(CALLER));
    ports
        .sessions
        .expect_live_user()
        .returning(|_, _| Err(StoreError::Unavailable("down".to_owned())));

    let outcome = ports.sessions().authenticate(Some("a.b.c")).await;

    assert!(
        matches!(outcome, Err(AuthError::Unavailable(_))),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn authenticate_refuses_a_missing_or_bad_token() {
    let mut ports = Ports::new();
    ports
        .tokens
        .expect_verify()
        .returning(|_, _| Err(TokenError::Expired));
    let sessions = ports.sessions();

    let missing = sessions.authenticate(None).await.expect_err("no token");
    let expired = sessions
        .authenticate(Some("a.b.c"))
        .await
        .expect_err("expired");

    assert!(matches!(
        missing,
        AuthError::Unauthenticated(TokenError::Missing)
    ));
    assert!(matches!(
        expired,
        AuthError::Unauthenticated(TokenError::Expired)
    ));
}

#[tokio::test]
async fn identifying_verifies_the_token_and_leaves_the_session_to_the_write() {
    let mut ports = Ports::new();
    ports
        .tokens
        .expect_verify()
        .with(eq("a.b.c"), eq(NOW))
        .returning(|_, _| Ok(CALLER));
    ports
        .tokens
        .expect_verify()
        .with(eq("x.y.z"), eq(NOW))
        .returning(|_, _| Err(TokenError::BadSignature));
    ports.sessions.expect_live_user().never();
    ports.repository.expect_find_by_live_session().never();
    let sessions = ports.sessions();

    assert_eq!(sessions.identify(Some("a.b.c")).expect("genuine"), CALLER);
    assert!(matches!(
        sessions.identify(Some("x.y.z")),
        Err(AuthError::Unauthenticated(TokenError::BadSignature))
    ));
    assert!(matches!(
        sessions.identify(None),
        Err(AuthError::Unauthenticated(TokenError::Missing))
    ));
}

/// A live session's state: its token expires in a day, the session in thirty.
fn state(session: i64, user: i64) -> SessionState {
    SessionState {
        id: SessionId(session),
        user: UserId(user),
        token_expires_at: NOW + time::Duration::days(1),
        expires_at: NOW + time::Duration::days(30),
        revoked: false,
    }
}

fn fresh(session: i64, user: i64) -> TokenUse {
    TokenUse::Fresh(state(session, user))
}

#[tokio::test]
async fn refreshing_uses_the_token_up_and_adds_the_next_one_to_the_session() {
    let mut ports = Ports::new().issuing_tokens();
    ports
        .sessions
        .expect_use_token()
        .with(eq(RefreshTokenHash("hash-of-old".to_owned())), eq(NOW))
        .times(1)
        .returning(|_, _| Ok(fresh(5, 3)));
    ports
        .repository
        .expect_find_by_id()
        .returning(|_| Ok(Some(stored_user(3, "jake", "jake@jake.jake"))));
    ports
        .sessions
        .expect_add_token()
        .with(
            eq(SessionId(5)),
            eq(RefreshTokenHash("hash-of-refresh-1".to_owned())),
            eq(NOW),
            // The idle expiry, capped by the session's absolute one.
            eq(NOW + time::Duration::days(14)),
        )
        .times(1)
        .returning(|_, _, _, _| Ok(()));

    let refreshed = ports.sessions().refresh("old").await.expect("refreshed");

    assert_eq!(refreshed.token.expose(), "token-for-3-in-5");
    assert_eq!(
        refreshed.refresh_token.as_ref().map(RefreshToken::expose),
        Some("refresh-1")
    );
}

#[tokio::test]
async fn a_reused_refresh_token_revokes_its_whole_session() {
    let mut ports = Ports::new().issuing_tokens();
    ports
        .sessions
        .expect_use_token()
        .returning(|_, _| Ok(TokenUse::AlreadyUsed(SessionId(5))));
    ports
        .sessions
        .expect_revoke()
        .with(eq(SessionId(5)), eq(NOW))
        .times(1)
        .returning(|_, _| Ok(()));
    ports.sessions.expect_add_token().never();

    let outcome = ports.sessions().refresh("stolen").await;

    assert!(matches!(outcome, Err(AuthError::RefreshTokenReused)));
}

#[tokio::test]
async fn expired_revoked_or_unknown_refresh_tokens_are_refused() {
    let expired_idle = TokenUse::Fresh(SessionState {
        token_expires_at: NOW,
        ..state(1, 3)
    });
    let expired_absolute = TokenUse::Fresh(SessionState {
        expires_at: NOW - time::Duration::seconds(1),
        ..state(1, 3)
    });
    let revoked = TokenUse::Fresh(SessionState {
        revoked: true,
        ..state(1, 3)
    });
    for found in [expired_idle, expired_absolute, revoked, TokenUse::Unknown] {
        let mut ports = Ports::new().issuing_tokens();
        let answer = found.clone();
        ports
            .sessions
            .expect_use_token()
            .returning(move |_, _| Ok(answer.clone()));
        ports.sessions.expect_add_token().never();

        let outcome = ports.sessions().refresh("presented").await;

        assert!(
            matches!(outcome, Err(AuthError::InvalidRefreshToken)),
            "{found:?}"
        );
    }
}

#[tokio::test]
async fn logout_revokes_the_callers_session_and_logout_everywhere_every_session() {
    let mut ports = Ports::new();
    ports
        .sessions
        .expect_revoke()
        .with(eq(SessionId(40)), eq(NOW))
        .times(1)
        .returning(|_, _| Ok(()));
    ports
        .sessions
        .expect_revoke_all()
        .with(eq(UserId(4)), eq(None), eq(NOW))
        .times(1)
        .returning(|_, _, _| Ok(()));
    let sessions = ports.sessions();

    sessions.logout(CALLER).await.expect("logged out");
    sessions
        .logout_everywhere(CALLER)
        .await
        .expect("logged out everywhere");
}
