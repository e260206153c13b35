use std::sync::Arc;

use mockall::predicate::eq;

use super::*;
use crate::Timestamp;
use crate::ports::{
    BreachCheckError, HashError, MockBreachedPasswords, RefreshToken, RefreshTokenHash, SessionId,
    UniqueField,
};
use crate::testing::{CALLER, NOW, Ports, field_errors, pairs, stored_user};

fn registration(username: &str, email: &str, password: &str) -> Registration {
    Registration {
        username: username.to_owned(),
        email: email.to_owned(),
        password: password.to_owned(),
    }
}

fn credentials(email: &str, password: &str) -> Credentials {
    Credentials {
        email: email.to_owned(),
        password: password.to_owned(),
    }
}

#[tokio::test]
async fn register_hashes_the_password_and_stores_the_parsed_user() {
    let mut ports = Ports::new().issuing_tokens();
    ports
        .hasher
        .expect_hash()
        .withf(|password| password.expose() == "correct horse")
        .times(1)
        .returning(|_| Ok(PasswordHash::from_phc("$argon2id$hashed".to_owned())));
    ports
        .repository
        .expect_insert()
        .withf(|new| {
            new.username.as_str() == "Jake"
                && new.email.as_str() == "jake@jake.jake"
                && new.password_hash.as_str() == "$argon2id$hashed"
                && new.created_at == NOW
        })
        .times(1)
        .returning(|_| Ok(stored_user(7, "Jake", "jake@jake.jake")));

    let authenticated = ports
        .accounts()
        .register(registration("Jake", "JAKE@jake.jake", "correct horse"))
        .await
        .expect("registration succeeds");

    assert_eq!(authenticated.user.id, UserId(7));
    assert_eq!(authenticated.token.expose(), "token-for-7-in-1");
}

#[tokio::test]
async fn register_reports_every_invalid_field_and_touches_no_port() {
    // No expectations: any call to a port fails the test.
    let accounts = Ports::new().accounts();

    let error = accounts
        .register(registration("", "not-an-email", "short"))
        .await
        .expect_err("invalid input is refused");

    assert_eq!(
        field_errors(error),
        pairs(&[
            ("username", "can't be blank"),
            ("email", "is invalid"),
            ("password", "is too short (minimum is 8 characters)"),
        ])
    );
}

#[tokio::test]
async fn register_rejects_a_username_that_is_taken() {
    let mut ports = Ports::new();
    ports.breaches.expect_check().returning(|_| Ok(None));
    ports
        .hasher
        .expect_hash()
        .returning(|_| Ok(PasswordHash::from_phc("h".to_owned())));
    ports.repository.expect_insert().returning(|_| {
        Err(StoreError::Conflict {
            field: UniqueField::Username,
        })
    });

    let error = ports
        .accounts()
        .register(registration("jake", "jake@jake.jake", "correct horse"))
        .await
        .expect_err("a taken username is refused");

    assert!(matches!(error, AuthError::Taken(UniqueField::Username)));
}

/// The error a registration ends in when the store answers the insert with `error`.
async fn register_against_a_store_that_answers(error: StoreError) -> AuthError {
    let mut ports = Ports::new();
    ports.breaches.expect_check().returning(|_| Ok(None));
    ports
        .hasher
        .expect_hash()
        .returning(|_| Ok(PasswordHash::from_phc("h".to_owned())));
    ports
        .repository
        .expect_insert()
        .returning(move |_| Err(error.clone()));

    ports
        .accounts()
        .register(registration("jake", "jake@jake.jake", "correct horse"))
        .await
        .expect_err("store failures propagate")
}

#[tokio::test]
async fn register_reports_a_store_failure_as_unavailable_and_an_unreachable_store_as_unreachable() {
    let failed = register_against_a_store_that_answers(StoreError::Unavailable("bad row".into()));
    let unreachable =
        register_against_a_store_that_answers(StoreError::Unreachable("pool timed out".into()));

    assert!(matches!(failed.await, AuthError::Unavailable(_)));
    assert!(matches!(unreachable.await, AuthError::Unreachable(_)));
}

#[tokio::test]
async fn login_with_the_right_password_issues_a_token() {
    let mut ports = Ports::new().issuing_tokens();
    ports
        .repository
        .expect_find_by_email()
        .withf(|email| email.as_str() == "jake@jake.jake")
        .returning(|_| Ok(Some(stored_user(3, "jake", "jake@jake.jake"))));
    ports
        .hasher
        .expect_verify()
        .withf(|password, hash| {
            password.expose() == "correct horse" && hash.as_str() == "hash-of-jake"
        })
        .times(1)
        .returning(|_, _| Ok(true));

    let authenticated = ports
        .accounts()
        .login(credentials("Jake@Jake.jake", "correct horse"), None)
        .await
        .expect("login succeeds");

    assert_eq!(authenticated.token.expose(), "token-for-3-in-1");
}

#[tokio::test]
async fn login_with_a_wrong_password_is_refused() {
    let mut ports = Ports::new();
    ports
        .repository
        .expect_find_by_email()
        .returning(|_| Ok(Some(stored_user(3, "jake", "jake@jake.jake"))));
    ports.hasher.expect_verify().returning(|_, _| Ok(false));

    let error = ports
        .accounts()
        .login(credentials("jake@jake.jake", "wrong password"), None)
        .await
        .expect_err("wrong password");

    assert!(matches!(error, AuthError::InvalidCredentials));
}

#[tokio::test]
async fn login_for_an_unknown_email_spends_a_dummy_verification_and_answers_the_same() {
    let mut ports = Ports::new();
    ports
        .repository
        .expect_find_by_email()
        .returning(|_| Ok(None));
    ports
        .hasher
        .expect_verify_against_dummy()
        .times(1)
        .returning(|_| ());

    let error = ports
        .accounts()
        .login(credentials("nobody@example.com", "correct horse"), None)
        .await
        .expect_err("unknown e-mail");

    assert!(matches!(error, AuthError::InvalidCredentials));
}

#[tokio::test]
async fn login_with_blank_fields_is_invalid_input() {
    let accounts = Ports::new().accounts();

    let error = accounts
        .login(credentials(" ", ""), None)
        .await
        .expect_err("blank credentials");

    assert_eq!(
        field_errors(error),
        pairs(&[("email", "can't be blank"), ("password", "can't be blank")])
    );
}

#[tokio::test]
async fn login_with_a_password_no_account_could_have_never_reaches_the_store() {
    let accounts = Ports::new().accounts();

    let error = accounts
        .login(credentials("jake@jake.jake", "short"), None)
        .await
        .expect_err("too short to be anyone's password");

    assert!(matches!(error, AuthError::InvalidCredentials));
}

#[tokio::test]
async fn login_reports_a_hasher_failure_as_unavailable() {
    let mut ports = Ports::new();
    ports
        .repository
        .expect_find_by_email()
        .returning(|_| Ok(Some(stored_user(3, "jake", "jake@jake.jake"))));
    ports
        .hasher
        .expect_verify()
        .returning(|_, _| Err(HashError("corrupt hash".to_owned())));

    let error = ports
        .accounts()
        .login(credentials("jake@jake.jake", "correct horse"), None)
        .await
        .expect_err("hasher failure");

    assert!(matches!(error, AuthError::Unavailable(_)));
}

#[tokio::test]
async fn current_refuses_a_genuine_token_of_a_user_who_no_longer_exists() {
    let mut ports = Ports::new();
    ports
        .repository
        .expect_find_by_id()
        .with(eq(UserId(5)))
        .returning(|_| Ok(None));

    let gone = Caller {
        user: UserId(5),
        session: SessionId(1),
    };
    let error = ports.accounts().current(gone).await.expect_err("gone");

    assert!(matches!(
        error,
        AuthError::Unauthenticated(TokenError::UnknownUser)
    ));
}

#[tokio::test]
async fn update_parses_changes_hashes_a_new_password_and_clears_empty_optionals() {
    let mut ports = Ports::new().issuing_tokens();
    ports
        .hasher
        .expect_hash()
        .withf(|password| password.expose() == "new password")
        .times(1)
        .returning(|_| Ok(PasswordHash::from_phc("new-hash".to_owned())));
    ports
        .repository
        .expect_update()
        .withf(|id, changes, now| {
            *id == UserId(4)
                && changes.email.as_ref().map(Email::as_str) == Some("new@example.com")
                && changes.password_hash.as_ref().map(PasswordHash::as_str) == Some("new-hash")
                && changes.bio == Some(None)
                && changes
                    .image
                    .as_ref()
                    .and_then(|i| i.as_ref())
                    .map(ImageUrl::as_str)
                    == Some("https://example.com/me.png")
                && changes.username.is_none()
                && *now == NOW
        })
        .times(1)
        .returning(|_, _, _| Ok(Some(stored_user(4, "jake", "new@example.com"))));
    ports
        .repository
        .expect_find_by_id()
        .returning(|_| Ok(Some(stored_user(4, "jake", "jake@jake.jake"))));
    // A new password ends every session but the caller's.
    ports
        .sessions
        .expect_revoke_all()
        .with(eq(UserId(4)), eq(Some(SessionId(40))), eq(NOW))
        .times(1)
        .returning(|_, _, _| Ok(()));

    let update = ProfileUpdate {
        email: Some("New@Example.com".to_owned()),
        password: Some("new password".to_owned()),
        bio: Some(Some(String::new())),
        image: Some(Some("https://example.com/me.png".to_owned())),
        ..ProfileUpdate::default()
    };
    let authenticated = ports.accounts().update(CALLER, update).await;

    assert_eq!(
        authenticated.expect("update succeeds").user.email.as_str(),
        "new@example.com"
    );
}

#[tokio::test]
async fn update_answers_a_taken_username_as_invalid_input() {
    let mut ports = Ports::new();
    ports.repository.expect_update().returning(|_, _, _| {
        Err(StoreError::Conflict {
            field: UniqueField::Username,
        })
    });

    let update = ProfileUpdate {
        username: Some("taken".to_owned()),
        ..ProfileUpdate::default()
    };
    let error = ports
        .accounts()
        .update(CALLER, update)
        .await
        .expect_err("taken");

    assert_eq!(
        field_errors(error),
        pairs(&[("username", "has already been taken")])
    );
}

#[tokio::test]
async fn update_with_invalid_fields_changes_nothing() {
    let accounts = Ports::new().accounts();

    let update = ProfileUpdate {
        email: Some("nope".to_owned()),
        image: Some(Some("ftp://example.com/x".to_owned())),
        ..ProfileUpdate::default()
    };
    let error = accounts.update(CALLER, update).await.expect_err("invalid");

    assert_eq!(
        field_errors(error),
        pairs(&[
            ("email", "is invalid"),
            ("image", "must be an http or https URL")
        ])
    );
}

#[tokio::test]
async fn an_empty_update_returns_the_current_user_unchanged() {
    let mut ports = Ports::new().issuing_tokens();
    ports
        .repository
        .expect_find_by_id()
        .returning(|_| Ok(Some(stored_user(4, "jake", "jake@jake.jake"))));
    ports.repository.expect_update().never();

    let authenticated = ports
        .accounts()
        .update(CALLER, ProfileUpdate::default())
        .await
        .expect("nothing to change");

    assert_eq!(authenticated.user.username.as_str(), "jake");
}

#[tokio::test]
async fn registration_starts_a_session_with_a_hashed_refresh_token_and_its_expiries() {
    let mut ports = Ports::new().issuing_tokens();
    ports
        .hasher
        .expect_hash()
        .returning(|_| Ok(PasswordHash::from_phc("hash".to_owned())));
    ports
        .repository
        .expect_insert()
        .returning(|_| Ok(stored_user(7, "jake", "jake@jake.jake")));
    ports.sessions.checkpoint();
    ports
        .sessions
        .expect_start()
        .withf(|session| {
            session.user == UserId(7)
                && session.token == RefreshTokenHash("hash-of-refresh-1".to_owned())
                && session.created_at == NOW
                && session.token_expires_at == NOW + time::Duration::days(14)
                && session.expires_at == NOW + time::Duration::days(90)
        })
        .times(1)
        .returning(|_| Ok(SessionId(70)));

    let authenticated = ports
        .accounts()
        .register(registration("jake", "jake@jake.jake", "correct horse"))
        .await
        .expect("registered");

    assert_eq!(authenticated.token.expose(), "token-for-7-in-70");
    assert_eq!(
        authenticated
            .refresh_token
            .as_ref()
            .map(RefreshToken::expose),
        Some("refresh-1")
    );
}

#[tokio::test]
async fn a_common_password_or_ones_own_name_is_refused_before_hashing() {
    let accounts = Ports::new().accounts();

    let own_name = "must not be your username or e-mail address";
    for (username, password, message) in [
        ("jake", "Password123", "is too common"),
        ("JakeJakeJake", "jakejakejake", own_name),
        ("jake", "jake@jake.jake", own_name),
        ("jake", "        ", "must contain more than white space"),
        ("jake", "zzzzzzzz", "must not be one character repeated"),
    ] {
        let error = accounts
            .register(registration(username, "jake@jake.jake", password))
            .await
            .expect_err("refused");
        assert_eq!(
            field_errors(error),
            pairs(&[("password", message)]),
            "{password}"
        );
    }
}

/// The official API test runner registers with `password`, the Angular frontend with
/// `password123`: under the contract's policy they, and one's own name, are new passwords like
/// any other, and no range API is asked.
#[tokio::test]
async fn under_the_contract_policy_a_common_password_or_ones_own_name_registers_unchecked() {
    for (username, password) in [
        ("jake", "password"),
        ("jake", "password123"),
        ("JakeJakeJake", "jakejakejake"),
        ("jake", "jake@jake.jake"),
    ] {
        let mut ports = Ports::new().issuing_tokens();
        ports.password_policy = PasswordPolicy::Contract;
        ports.breaches = MockBreachedPasswords::new();
        ports.breaches.expect_check().never();
        ports
            .hasher
            .expect_hash()
            .withf(move |hashed| hashed.expose() == password)
            .times(1)
            .returning(|_| Ok(PasswordHash::from_phc("$argon2id$hashed".to_owned())));
        ports
            .repository
            .expect_insert()
            .times(1)
            .returning(|_| Ok(stored_user(7, "jake", "jake@jake.jake")));

        let registered = ports
            .accounts()
            .register(registration(username, "jake@jake.jake", password))
            .await;

        assert_eq!(
            registered.map(|authenticated| authenticated.user.id).ok(),
            Some(UserId(7)),
            "{password}"
        );
    }
}

/// Whatever the policy, a password is 8 to 128 characters, not white space alone and not one
/// character repeated.
#[tokio::test]
async fn under_the_contract_policy_blank_short_long_and_repeated_passwords_are_still_refused() {
    let mut ports = Ports::new();
    ports.password_policy = PasswordPolicy::Contract;
    // No other expectations: any call to a port fails the test.
    let accounts = ports.accounts();
    let too_long = "correct horse ".repeat(10);

    for (password, message) in [
        ("", "can't be blank"),
        ("passwor", "is too short (minimum is 8 characters)"),
        (too_long.as_str(), "is too long (maximum is 128 characters)"),
        ("        ", "must contain more than white space"),
        ("zzzzzzzz", "must not be one character repeated"),
    ] {
        let error = accounts
            .register(registration("jake", "jake@jake.jake", password))
            .await
            .expect_err("refused");

        assert_eq!(
            field_errors(error),
            pairs(&[("password", message)]),
            "{password:?}"
        );
    }
}

#[tokio::test]
async fn a_breached_password_is_refused_and_an_unavailable_check_is_reported() {
    let mut ports = Ports::new();
    ports
        .breaches
        .expect_check()
        .withf(|password| password.expose() == "seen it before")
        .returning(|_| Ok(Some(42)));
    ports
        .breaches
        .expect_check()
        .returning(|_| Err(BreachCheckError("timed out".to_owned())));
    let accounts = ports.accounts();

    let breached = accounts
        .register(registration("jake", "jake@jake.jake", "seen it before"))
        .await
        .expect_err("breached");
    let unchecked = accounts
        .register(registration("jake", "jake@jake.jake", "never seen before"))
        .await
        .expect_err("unchecked");

    assert_eq!(
        field_errors(breached),
        pairs(&[(
            "password",
            "has appeared in 42 known data breaches; choose one that has not"
        )])
    );
    assert!(matches!(unchecked, AuthError::PasswordCheckUnavailable(_)));
}

/// A clock the test moves.
#[derive(Debug)]
struct MovableClock(std::sync::Mutex<Timestamp>);

impl MovableClock {
    fn advance(&self, by: time::Duration) {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) += by;
    }
}

impl Clock for MovableClock {
    fn now(&self) -> Timestamp {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[tokio::test]
async fn logins_are_throttled_per_account_until_the_window_passes_and_a_success_resets_them() {
    let mut ports = Ports::new().issuing_tokens();
    ports
        .repository
        .expect_find_by_email()
        .returning(|_| Ok(Some(stored_user(3, "jake", "jake@jake.jake"))));
    ports
        .hasher
        .expect_verify()
        .returning(|password, _| Ok(password.expose() == "correct horse"));
    let clock = Arc::new(MovableClock(std::sync::Mutex::new(NOW)));
    ports.clock = Some(clock.clone());
    ports.throttle = crate::throttle::ThrottlePolicy {
        max_failures_per_account: 2,
        max_failures_per_client: 100,
        window: time::Duration::minutes(10),
    };
    let accounts = ports.accounts();
    let wrong = || credentials("jake@jake.jake", "wrong password");

    for _ in 0..2 {
        let refused = accounts.login(wrong(), Some("10.0.0.1")).await;
        assert!(matches!(refused, Err(AuthError::InvalidCredentials)));
    }
    clock.advance(time::Duration::minutes(4));
    // Locked: even the right password waits, and the answer says for how long.
    let locked = accounts
        .login(
            credentials("jake@jake.jake", "correct horse"),
            Some("10.0.0.2"),
        )
        .await;
    clock.advance(time::Duration::minutes(6));
    let after_the_window = accounts
        .login(
            credentials("jake@jake.jake", "correct horse"),
            Some("10.0.0.2"),
        )
        .await;
    let failure_after_reset = accounts.login(wrong(), None).await;

    assert!(matches!(
        locked,
        Err(AuthError::Throttled { retry_after }) if retry_after == time::Duration::minutes(6)
    ));
    assert!(after_the_window.is_ok());
    assert!(matches!(
        failure_after_reset,
        Err(AuthError::InvalidCredentials)
    ));
}

/// Credentials reach `Debug` output through request logs: the e-mail may show, the password never.
#[test]
fn credentials_show_the_email_but_never_the_password_in_debug_output() {
    let credentials = Credentials {
        email: "jake@jake.jake".to_owned(),
        password: "correct horse battery".to_owned(),
    };

    assert_eq!(
        format!("{credentials:?}"),
        r#"Credentials { email: "jake@jake.jake", password: "<redacted>" }"#
    );
}
