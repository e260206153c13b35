//! Conduit's business rules: value types, entities, use cases and the port traits they need.
//!
//! This crate is the centre of the workspace and the fastest place to practise TDD.
//! It knows nothing about HTTP, SQL, JSON, cryptography libraries or an async runtime:
//! every effect (storage, hashing, tokens, time) is reached through a port trait in [`ports`],
//! implemented by adapters in `conduit-persistence` and `conduit-security`, and by mocks
//! (`mocks` feature) or fakes (`conduit-test-support`) in tests.
//! It depends on no other crate of ours and must never depend on actix, sqlx, reqwest or tokio.

pub mod accounts;
pub mod articles;
pub mod errors;
pub mod live;
pub mod ports;
pub mod profiles;
pub mod sessions;
pub mod throttle;
pub mod timestamp;
pub mod validation;
pub mod wiring;

#[cfg(test)]
mod testing;

pub use timestamp::Timestamp;
pub use validation::{InvalidValue, ValidationErrors};
