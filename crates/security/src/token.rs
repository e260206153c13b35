//! Access tokens: JWTs signed with HS256 (RFC 7519, with RFC 8725's advice followed).
//!
//! The algorithm is pinned, the `kid` header chooses the verification key, `jku`/`jwk` headers are
//! refused outright, and every registered claim is required. Time comes from the caller so that
//! tests can move the clock; jsonwebtoken's own wall-clock checks are switched off for that reason.

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use conduit_domain::Timestamp;
use conduit_domain::accounts::UserId;
use conduit_domain::ports::{AccessToken, Caller, SessionId, TokenCodec, TokenError};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The media type of our access tokens (RFC 9068), so that no other JWT can pass for one.
const ACCESS_TOKEN_TYPE: &str = "at+jwt";

/// An HMAC key and the id that tokens signed with it carry in their `kid` header.
#[derive(Clone)]
pub struct SigningKey {
    id: String,
    secret: Vec<u8>,
}

impl SigningKey {
    /// The key id is derived from the secret (a SHA-256 fingerprint prefix), so configuration
    /// holds only secrets and a key's id never changes.
    pub fn new(secret: impl Into<Vec<u8>>) -> Self {
        let secret = secret.into();
        let digest = Sha256::digest(&secret);
        let id = digest
            .iter()
            .take(6)
            .map(|byte| format!("{byte:02x}"))
            .collect();
        Self { id, secret }
    }

    pub fn id(&self) -> &str {
        &self.id
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("id", &self.id)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// Everything the codec needs to know.
#[derive(Debug, Clone)]
pub struct JwtSettings {
    /// Signs new tokens and verifies them.
    pub signing_key: SigningKey,
    /// Verify tokens only: keys being retired after a rotation.
    pub verification_keys: Vec<SigningKey>,
    pub issuer: String,
    pub audience: String,
    pub time_to_live: Duration,
    /// Tolerance for clock skew when checking `exp` and `nbf`.
    pub leeway: Duration,
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    /// The session the token was issued in (OpenID Connect's `sid`).
    sid: String,
    iss: String,
    aud: String,
    iat: i64,
    nbf: i64,
    exp: i64,
    jti: String,
}

/// The JWT adapter of [`TokenCodec`].
pub struct JwtCodec {
    settings: JwtSettings,
    encoding_key: EncodingKey,
    decoding_keys: HashMap<String, DecodingKey>,
    validation: Validation,
}

impl fmt::Debug for JwtCodec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtCodec")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl JwtCodec {
    pub fn new(settings: JwtSettings) -> Self {
        let decoding_keys = std::iter::once(&settings.signing_key)
            .chain(&settings.verification_keys)
            .map(|key| (key.id.clone(), DecodingKey::from_secret(&key.secret)))
            .collect();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp", "nbf", "iat", "iss", "aud", "sub"]);
        validation.set_issuer(&[&settings.issuer]);
        validation.set_audience(&[&settings.audience]);
        // Checked against the injected clock in `verify` instead of the system clock.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        Self {
            encoding_key: EncodingKey::from_secret(&settings.signing_key.secret),
            decoding_keys,
            validation,
            settings,
        }
    }
}

impl JwtCodec {
    /// The claims of a token this service signed for its audience, before any time check.
    fn genuine_claims(&self, token: &str) -> Result<Claims, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
        if header.alg != Algorithm::HS256
            || header.typ.as_deref() != Some(ACCESS_TOKEN_TYPE)
            || header.jku.is_some()
            || header.jwk.is_some()
            || header.crit.is_some()
        {
            return Err(TokenError::Malformed);
        }
        let key = header
            .kid
            .as_deref()
            .and_then(|kid| self.decoding_keys.get(kid))
            .ok_or(TokenError::BadSignature)?;
        let claims = jsonwebtoken::decode::<Claims>(token, key, &self.validation)
            .map_err(|error| match error.kind() {
                ErrorKind::InvalidSignature => TokenError::BadSignature,
                ErrorKind::InvalidAudience | ErrorKind::InvalidIssuer => TokenError::WrongAudience,
                _ => TokenError::Malformed,
            })?
            .claims;
        Ok(claims)
    }

    /// The leeway in whole seconds.
    fn leeway(&self) -> i64 {
        i64::try_from(self.settings.leeway.as_secs()).unwrap_or(i64::MAX)
    }
}

impl TokenCodec for JwtCodec {
    fn issue(
        &self,
        user: UserId,
        session: SessionId,
        now: Timestamp,
    ) -> Result<AccessToken, TokenError> {
        let issued_at = now.unix_seconds();
        let ttl = i64::try_from(self.settings.time_to_live.as_secs())
            .map_err(|_| TokenError::Issue("time to live out of range".to_owned()))?;
        let claims = Claims {
            sub: user.to_string(),
            sid: session.to_string(),
            iss: self.settings.issuer.clone(),
            aud: self.settings.audience.clone(),
            iat: issued_at,
            nbf: issued_at,
            exp: issued_at.saturating_add(ttl),
            jti: uuid::Uuid::new_v4().to_string(),
        };
        let mut header = Header::new(Algorithm::HS256);
        header.typ = Some(ACCESS_TOKEN_TYPE.to_owned());
        header.kid = Some(self.settings.signing_key.id.clone());
        jsonwebtoken::encode(&header, &claims, &self.encoding_key)
            .map(AccessToken::new)
            .map_err(|error| TokenError::Issue(error.to_string()))
    }

    fn verify(&self, token: &str, now: Timestamp) -> Result<Caller, TokenError> {
        let claims = self.genuine_claims(token)?;
        let now = now.unix_seconds();
        let leeway = self.leeway();
        if now > claims.exp.saturating_add(leeway) {
            return Err(TokenError::Expired);
        }
        if claims.nbf > now.saturating_add(leeway) {
            return Err(TokenError::NotYetValid);
        }
        let user = claims
            .sub
            .parse()
            .map(UserId)
            .map_err(|_| TokenError::Malformed)?;
        let session = claims
            .sid
            .parse()
            .map(SessionId)
            .map_err(|_| TokenError::Malformed)?;
        Ok(Caller { user, session })
    }

    fn expiry(&self, token: &str) -> Option<Timestamp> {
        let claims = self.genuine_claims(token).ok()?;
        let last_second = claims.exp.saturating_add(self.leeway());
        time::OffsetDateTime::from_unix_timestamp(last_second.saturating_add(1))
            .ok()
            .map(Timestamp::from)
    }
}

#[cfg(test)]
mod tests;
