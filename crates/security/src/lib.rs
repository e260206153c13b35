//! Adapters for Conduit's crypto ports: argon2id password hashing ([`Argon2Hasher`]) and signed
//! JWT access tokens ([`JwtCodec`]).
//!
//! This crate depends on `conduit-domain` for the port traits and on nothing else of ours.
//! It knows nothing about HTTP or storage; it never logs a password, a hash, a token or a key.

mod password;
mod token;

pub use password::{Argon2Hasher, HashingParams};
pub use token::{JwtCodec, JwtSettings, SigningKey};
