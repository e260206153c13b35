use super::*;

/// Tokens end up in `Debug` output through logs and failed assertions: none may show itself.
#[test]
fn tokens_and_token_hashes_never_show_in_debug_output() {
    let secret = "eyJhbGciOiJIUzI1NiJ9.c2VjcmV0.c2lnbmF0dXJl";

    let printed = [
        format!("{:?}", AccessToken::new(secret.to_owned())),
        format!("{:?}", RefreshToken::new(secret.to_owned())),
        format!("{:?}", RefreshTokenHash(secret.to_owned())),
    ];

    assert_eq!(
        printed,
        [
            "AccessToken(<redacted>)",
            "RefreshToken(<redacted>)",
            "RefreshTokenHash(<redacted>)"
        ]
    );
}

/// Until a range API is configured, no password is refused as breached.
#[tokio::test]
async fn with_no_breach_check_every_password_passes() {
    let password =
        crate::accounts::Password::parse("violet staple quarry 42").expect("valid password");

    assert_eq!(NoBreachCheck.check(&password).await, Ok(None));
}
