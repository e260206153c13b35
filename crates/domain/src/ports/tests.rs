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
