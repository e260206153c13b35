use std::sync::Arc;

use mockall::predicate::eq;
use time::macros::datetime;

use super::*;
use crate::ports::{HashError, MockClock, MockPasswordHasher, MockTokenCodec, MockUserRepository};
use crate::user::PasswordHash;

const NOW: time::OffsetDateTime = datetime!(2026-01-01 12:00 UTC);

/// The mocks of every port, configured per test and then turned into the use cases.
struct Ports {
    repository: MockUserRepository,
    hasher: MockPasswordHasher,
    tokens: MockTokenCodec,
}

impl Ports {
    fn new() -> Self {
        Self {
            repository: MockUserRepository::new(),
            hasher: MockPasswordHasher::new(),
            tokens: MockTokenCodec::new(),
        }
    }

    /// Any token issued is "token-for-<id>".
    fn issuing_tokens(mut self) -> Self {
        self.tokens
            .expect_issue()
            .returning(|id, _| Ok(AccessToken::new(format!("token-for-{id}"))));
        self
    }

    fn users(self) -> Users {
        let mut clock = MockClock::new();
        clock.expect_now().return_const(NOW);
        Users::new(
            Arc::new(self.repository),
            Arc::new(self.hasher),
            Arc::new(self.tokens),
            Arc::new(clock),
        )
    }
}

fn stored_user(id: i64, username: &str, email: &str) -> User {
    User {
        id: UserId(id),
        username: Username::parse(username).expect("valid username"),
        email: Email::parse(email).expect("valid email"),
        bio: None,
        image: None,
        password_hash: PasswordHash::from_phc(format!("hash-of-{username}")),
        created_at: NOW,
        updated_at: NOW,
    }
}

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

fn field_errors(error: UserError) -> Vec<(String, String)> {
    match error {
        UserError::Invalid(errors) => errors
            .iter()
            .map(|(field, message)| (field.to_owned(), message.to_owned()))
            .collect(),
        other => panic!("expected invalid input, got {other:?}"),
    }
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected
        .iter()
        .map(|(field, message)| ((*field).to_owned(), (*message).to_owned()))
        .collect()
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
        .users()
        .register(registration("Jake", "JAKE@jake.jake", "correct horse"))
        .await
        .expect("registration succeeds");

    assert_eq!(authenticated.user.id, UserId(7));
    assert_eq!(authenticated.token.expose(), "token-for-7");
}

#[tokio::test]
async fn register_reports_every_invalid_field_and_touches_no_port() {
    // No expectations: any call to a port fails the test.
    let users = Ports::new().users();

    let error = users
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
        .users()
        .register(registration("jake", "jake@jake.jake", "correct horse"))
        .await
        .expect_err("a taken username is refused");

    assert!(matches!(error, UserError::Taken(UniqueField::Username)));
}

#[tokio::test]
async fn register_reports_a_store_failure_as_unavailable() {
    let mut ports = Ports::new();
    ports
        .hasher
        .expect_hash()
        .returning(|_| Ok(PasswordHash::from_phc("h".to_owned())));
    ports
        .repository
        .expect_insert()
        .returning(|_| Err(StoreError::Unavailable("connection refused".to_owned())));

    let error = ports
        .users()
        .register(registration("jake", "jake@jake.jake", "correct horse"))
        .await
        .expect_err("store failures propagate");

    assert!(matches!(error, UserError::Unavailable(_)));
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
        .users()
        .login(credentials("Jake@Jake.jake", "correct horse"))
        .await
        .expect("login succeeds");

    assert_eq!(authenticated.token.expose(), "token-for-3");
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
        .users()
        .login(credentials("jake@jake.jake", "wrong password"))
        .await
        .expect_err("wrong password");

    assert!(matches!(error, UserError::InvalidCredentials));
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
        .users()
        .login(credentials("nobody@example.com", "correct horse"))
        .await
        .expect_err("unknown e-mail");

    assert!(matches!(error, UserError::InvalidCredentials));
}

#[tokio::test]
async fn login_with_blank_fields_is_invalid_input() {
    let users = Ports::new().users();

    let error = users
        .login(credentials(" ", ""))
        .await
        .expect_err("blank credentials");

    assert_eq!(
        field_errors(error),
        pairs(&[("email", "can't be blank"), ("password", "can't be blank")])
    );
}

#[tokio::test]
async fn login_with_a_password_no_account_could_have_never_reaches_the_store() {
    let users = Ports::new().users();

    let error = users
        .login(credentials("jake@jake.jake", "short"))
        .await
        .expect_err("too short to be anyone's password");

    assert!(matches!(error, UserError::InvalidCredentials));
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
        .users()
        .login(credentials("jake@jake.jake", "correct horse"))
        .await
        .expect_err("hasher failure");

    assert!(matches!(error, UserError::Unavailable(_)));
}

#[tokio::test]
async fn authenticate_verifies_the_token_at_the_clocks_time() {
    let mut ports = Ports::new();
    ports
        .tokens
        .expect_verify()
        .with(eq("a.b.c"), eq(NOW))
        .times(1)
        .returning(|_, _| Ok(UserId(9)));

    let id = ports.users().authenticate(Some("a.b.c")).await;

    assert_eq!(id.expect("valid token"), UserId(9));
}

#[tokio::test]
async fn authenticate_refuses_a_missing_or_bad_token() {
    let mut ports = Ports::new();
    ports
        .tokens
        .expect_verify()
        .returning(|_, _| Err(TokenError::Expired));
    let users = ports.users();

    let missing = users.authenticate(None).await.expect_err("no token");
    let expired = users
        .authenticate(Some("a.b.c"))
        .await
        .expect_err("expired");

    assert!(matches!(
        missing,
        UserError::Unauthenticated(TokenError::Missing)
    ));
    assert!(matches!(
        expired,
        UserError::Unauthenticated(TokenError::Expired)
    ));
}

#[tokio::test]
async fn current_refuses_a_genuine_token_of_a_user_who_no_longer_exists() {
    let mut ports = Ports::new();
    ports
        .repository
        .expect_find_by_id()
        .with(eq(UserId(5)))
        .returning(|_| Ok(None));

    let error = ports.users().current(UserId(5)).await.expect_err("gone");

    assert!(matches!(
        error,
        UserError::Unauthenticated(TokenError::UnknownUser)
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

    let update = ProfileUpdate {
        email: Some("New@Example.com".to_owned()),
        password: Some("new password".to_owned()),
        bio: Some(Some(String::new())),
        image: Some(Some("https://example.com/me.png".to_owned())),
        ..ProfileUpdate::default()
    };
    let authenticated = ports.users().update(UserId(4), update).await;

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
        .users()
        .update(UserId(4), update)
        .await
        .expect_err("taken");

    assert_eq!(
        field_errors(error),
        pairs(&[("username", "has already been taken")])
    );
}

#[tokio::test]
async fn update_with_invalid_fields_changes_nothing() {
    let users = Ports::new().users();

    let update = ProfileUpdate {
        email: Some("nope".to_owned()),
        image: Some(Some("ftp://example.com/x".to_owned())),
        ..ProfileUpdate::default()
    };
    let error = users.update(UserId(4), update).await.expect_err("invalid");

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
        .users()
        .update(UserId(4), ProfileUpdate::default())
        .await
        .expect("nothing to change");

    assert_eq!(authenticated.user.username.as_str(), "jake");
}
