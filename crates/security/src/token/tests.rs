use proptest::prelude::*;
use time::macros::datetime;

use super::*;

const NOW: Timestamp = Timestamp::from_offset(datetime!(2026-03-01 09:00 UTC));
const SECRET: &str = "an-hmac-secret-of-at-least-32-bytes!!";

fn settings(secret: &str) -> JwtSettings {
    JwtSettings {
        signing_key: SigningKey::new(secret),
        verification_keys: Vec::new(),
        issuer: "conduit".to_owned(),
        audience: "conduit-api".to_owned(),
        time_to_live: Duration::from_secs(15 * 60),
        leeway: Duration::from_secs(5),
    }
}

fn codec() -> JwtCodec {
    JwtCodec::new(settings(SECRET))
}

/// User `n` in session `100 + n`.
fn caller(user: i64) -> Caller {
    Caller {
        user: UserId(user),
        session: SessionId(100 + user),
    }
}

fn issue(codec: &JwtCodec, user: i64) -> String {
    codec
        .issue(UserId(user), caller(user).session, NOW)
        .expect("issues")
        .expose()
        .to_owned()
}

/// Signs arbitrary header and claims with `secret`, for tokens the codec would never issue.
fn forge(header: &Header, claims: &serde_json::Value, secret: &str) -> String {
    jsonwebtoken::encode(header, claims, &EncodingKey::from_secret(secret.as_bytes()))
        .expect("encodes")
}

fn valid_claims() -> serde_json::Value {
    serde_json::json!({
        "sub": "1", "sid": "101", "iss": "conduit", "aud": "conduit-api",
        "iat": NOW.unix_seconds(), "nbf": NOW.unix_seconds(),
        "exp": NOW.unix_seconds() + 60, "jti": "x",
    })
}

fn our_header() -> Header {
    let mut header = Header::new(Algorithm::HS256);
    header.typ = Some(ACCESS_TOKEN_TYPE.to_owned());
    header.kid = Some(SigningKey::new(SECRET).id().to_owned());
    header
}

#[test]
fn a_forged_token_with_our_header_and_secret_is_accepted_so_the_forgery_tests_below_are_meaningful()
{
    let token = forge(&our_header(), &valid_claims(), SECRET);

    assert_eq!(codec().verify(&token, NOW), Ok(caller(1)));
}

#[test]
fn tokens_carry_every_registered_claim_and_a_kid_header() {
    let token = issue(&codec(), 42);

    let header = jsonwebtoken::decode_header(&token).expect("header");
    let claims: serde_json::Value = jsonwebtoken::dangerous::insecure_decode(&token)
        .expect("claims")
        .claims;

    assert_eq!(header.alg, Algorithm::HS256);
    assert_eq!(header.kid.as_deref(), Some(SigningKey::new(SECRET).id()));
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    for claim in ["sub", "iss", "aud", "iat", "nbf", "exp", "jti"] {
        assert!(
            claims.get(claim).is_some(),
            "claim {claim} is missing: {claims}"
        );
    }
    assert_eq!(claims["sub"], "42");
    assert_eq!(claims["exp"], NOW.unix_seconds() + 15 * 60);
}

#[test]
fn every_token_has_its_own_id() {
    let codec = codec();

    assert_ne!(issue(&codec, 1), issue(&codec, 1));
}

#[test]
fn the_expiry_is_the_first_instant_verify_refuses_the_token() {
    let codec = codec();
    let token = issue(&codec, 1);
    let refused_from = NOW + time::Duration::minutes(15) + time::Duration::seconds(6);

    assert_eq!(codec.expiry(&token), Some(refused_from));
    assert_eq!(codec.verify(&token, refused_from), Err(TokenError::Expired));
    assert_eq!(
        codec.verify(&token, refused_from - time::Duration::seconds(1)),
        Ok(caller(1))
    );
    let forged = format!("{token}x");
    assert_eq!(codec.expiry(&forged), None, "only a genuine token has one");
}

#[test]
fn expiry_is_checked_against_the_given_time_with_leeway() {
    let codec = codec();
    let token = issue(&codec, 1);
    let expiry = NOW + time::Duration::minutes(15);

    assert_eq!(
        codec.verify(&token, expiry + time::Duration::seconds(5)),
        Ok(caller(1))
    );
    assert_eq!(
        codec.verify(&token, expiry + time::Duration::seconds(6)),
        Err(TokenError::Expired)
    );
    assert_eq!(
        codec.verify(&token, NOW - time::Duration::minutes(1)),
        Err(TokenError::NotYetValid)
    );
    // The same leeway holds before the token's start as after its end.
    assert_eq!(
        codec.verify(&token, NOW - time::Duration::seconds(5)),
        Ok(caller(1))
    );
    assert_eq!(
        codec.verify(&token, NOW - time::Duration::seconds(6)),
        Err(TokenError::NotYetValid)
    );
}

#[test]
fn a_token_signed_with_another_secret_is_refused() {
    let other = JwtCodec::new(settings("another-secret-that-is-long-enough-too"));

    let token = issue(&other, 1);

    assert_eq!(codec().verify(&token, NOW), Err(TokenError::BadSignature));
}

#[test]
fn a_retired_key_listed_for_verification_still_verifies() {
    let old = JwtCodec::new(settings("the-old-secret-that-is-long-enough-too"));
    let mut rotated = settings(SECRET);
    rotated.verification_keys = vec![SigningKey::new("the-old-secret-that-is-long-enough-too")];

    let token = issue(&old, 3);

    assert_eq!(JwtCodec::new(rotated).verify(&token, NOW), Ok(caller(3)));
}

#[test]
fn headers_and_claims_we_never_issue_are_refused() {
    let codec = codec();
    let mut no_kid = our_header();
    no_kid.kid = None;
    let mut unknown_kid = our_header();
    unknown_kid.kid = Some("ffffffffffff".to_owned());
    let mut other_alg = our_header();
    other_alg.alg = Algorithm::HS512;
    let mut no_typ = our_header();
    no_typ.typ = Some("JWT".to_owned());
    let mut with_jku = our_header();
    with_jku.jku = Some("https://attacker.example/keys".to_owned());
    let mut with_crit = our_header();
    with_crit.crit = Some(vec!["exp".to_owned()]);
    let mut wrong_audience = valid_claims();
    wrong_audience["aud"] = "someone-else".into();
    let mut no_exp = valid_claims();
    no_exp.as_object_mut().expect("object").remove("exp");
    let mut non_numeric_subject = valid_claims();
    non_numeric_subject["sub"] = "jake".into();
    let mut no_session = valid_claims();
    no_session.as_object_mut().expect("object").remove("sid");

    let cases = [
        (
            "no kid",
            forge(&no_kid, &valid_claims(), SECRET),
            TokenError::BadSignature,
        ),
        (
            "unknown kid",
            forge(&unknown_kid, &valid_claims(), SECRET),
            TokenError::BadSignature,
        ),
        (
            "HS512",
            forge(&other_alg, &valid_claims(), SECRET),
            TokenError::Malformed,
        ),
        (
            "typ JWT",
            forge(&no_typ, &valid_claims(), SECRET),
            TokenError::Malformed,
        ),
        (
            "jku header",
            forge(&with_jku, &valid_claims(), SECRET),
            TokenError::Malformed,
        ),
        (
            "crit header",
            forge(&with_crit, &valid_claims(), SECRET),
            TokenError::Malformed,
        ),
        (
            "our kid, another secret",
            forge(
                &our_header(),
                &valid_claims(),
                "another-secret-that-is-long-enough-too",
            ),
            TokenError::BadSignature,
        ),
        (
            "audience",
            forge(&our_header(), &wrong_audience, SECRET),
            TokenError::WrongAudience,
        ),
        (
            "no exp",
            forge(&our_header(), &no_exp, SECRET),
            TokenError::Malformed,
        ),
        (
            "subject",
            forge(&our_header(), &non_numeric_subject, SECRET),
            TokenError::Malformed,
        ),
        (
            "no session",
            forge(&our_header(), &no_session, SECRET),
            TokenError::Malformed,
        ),
    ];
    for (case, token, expected) in cases {
        assert_eq!(codec.verify(&token, NOW), Err(expected), "{case}");
    }
}

#[test]
fn an_unsigned_alg_none_token_is_refused() {
    use base64_like::encode;
    let header = encode(r#"{"alg":"none","typ":"at+jwt"}"#);
    let claims = encode(&valid_claims().to_string());

    let token = format!("{header}.{claims}.");

    assert_eq!(codec().verify(&token, NOW), Err(TokenError::Malformed));
}

/// Unpadded base64url, enough to hand-craft a token the library would refuse to produce.
mod base64_like {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    pub(super) fn encode(text: &str) -> String {
        let bytes = text.as_bytes();
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let b = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            let chars = chunk.len() + 1;
            for i in 0..chars {
                let index = (n >> (18 - 6 * i)) & 63;
                out.push(char::from(ALPHABET[index as usize]));
            }
        }
        out
    }
}

#[test]
fn the_key_id_is_stable_and_reveals_nothing_usable() {
    let key = SigningKey::new(SECRET);

    assert_eq!(key.id(), SigningKey::new(SECRET).id());
    assert_eq!(key.id().len(), 12);
    assert_eq!(
        format!("{key:?}"),
        format!(
            r#"SigningKey {{ id: "{}", secret: "<redacted>" }}"#,
            key.id()
        )
    );
}

proptest! {
    #[test]
    fn any_issued_token_round_trips(user in 1..i64::MAX, offset in 0i64..900) {
        let codec = codec();
        let token = issue(&codec, user);

        prop_assert_eq!(codec.verify(&token, NOW + time::Duration::seconds(offset)), Ok(caller(user)));
    }

    #[test]
    fn changing_any_byte_of_a_token_gets_it_refused(index in any::<prop::sample::Index>(), replacement in any::<u8>()) {
        let codec = codec();
        let token = issue(&codec, 7);
        let mut bytes = token.clone().into_bytes();
        let position = index.index(bytes.len());
        prop_assume!(bytes[position] != replacement);
        bytes[position] = replacement;
        let tampered = String::from_utf8_lossy(&bytes);

        prop_assert!(codec.verify(&tampered, NOW).is_err(), "accepted a change at {}", position);
    }

    #[test]
    fn any_token_is_refused_once_expired(user in 1..i64::MAX, late_by in 6i64..1_000_000) {
        let codec = codec();
        let token = issue(&codec, user);
        let after_expiry = NOW + time::Duration::minutes(15) + time::Duration::seconds(late_by);

        prop_assert_eq!(codec.verify(&token, after_expiry), Err(TokenError::Expired));
    }

    #[test]
    fn no_input_panics_the_verifier(token in any::<String>()) {
        let _ = codec().verify(&token, NOW);
    }
}
