//! Adapters for Conduit's crypto and credential ports: argon2id password hashing
//! ([`Argon2Hasher`]), signed JWT access tokens ([`JwtCodec`]), opaque refresh tokens
//! ([`RandomRefreshTokens`]) and the breached-password check against a k-anonymity range API
//! ([`RangeApiBreachCheck`]).
//!
//! This crate depends on `conduit-domain` for the port traits and on nothing else of ours.
//! It knows nothing about HTTP routes or storage; it never logs a password, a hash, a token or a
//! key.

mod breach;
mod password;
mod refresh;
mod token;

pub use breach::{BreachCheckSettings, NoBreachCheck, RangeApiBreachCheck};
pub use password::{Argon2Hasher, HashingParams};
pub use refresh::RandomRefreshTokens;
pub use token::{JwtCodec, JwtSettings, SigningKey};

/// Installs ring as the process's rustls crypto provider, which every outbound HTTPS client of the
/// process (reqwest is built without one of its own) uses. Installing again changes nothing.
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
