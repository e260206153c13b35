//! Refresh tokens: 256 random bits from the operating system, base64url-encoded, and stored only
//! as their SHA-256. Not JWTs, so one can never pass for an access token or the other way round.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use conduit_domain::ports::{RefreshToken, RefreshTokenHash, RefreshTokenSource};
use sha2::{Digest, Sha256};

/// The production [`RefreshTokenSource`].
#[derive(Debug, Clone, Copy, Default)]
pub struct RandomRefreshTokens;

impl RefreshTokenSource for RandomRefreshTokens {
    fn generate(&self) -> RefreshToken {
        let mut bytes = [0u8; 32];
        // The OS random source failing is no state to hand out credentials in.
        getrandom::fill(&mut bytes).expect("the operating system's random source works");
        RefreshToken::new(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// A fast hash is enough: the token has 256 bits of entropy, nothing to guess.
    fn hash(&self, token: &str) -> RefreshTokenHash {
        let digest = Sha256::digest(token.as_bytes());
        RefreshTokenHash(digest.iter().map(|byte| format!("{byte:02x}")).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_carry_256_bits_are_url_safe_and_never_repeat() {
        let source = RandomRefreshTokens;

        let tokens: Vec<String> = (0..100)
            .map(|_| source.generate().expose().to_owned())
            .collect();

        let unique: std::collections::HashSet<&String> = tokens.iter().collect();
        assert_eq!(unique.len(), tokens.len());
        for token in &tokens {
            assert_eq!(
                URL_SAFE_NO_PAD.decode(token).map(|bytes| bytes.len()),
                Ok(32)
            );
            assert!(!token.contains('.'), "looks nothing like a JWT");
        }
    }

    #[test]
    fn the_hash_is_stable_and_not_the_token() {
        let source = RandomRefreshTokens;
        let token = source.generate();

        let hash = source.hash(token.expose());

        assert_eq!(hash, source.hash(token.expose()));
        assert_ne!(hash.0, token.expose());
        assert_eq!(hash.0.len(), 64);
    }
}
