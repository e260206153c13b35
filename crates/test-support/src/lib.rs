//! Dev-only helpers for Conduit's tests: builders with valid, unique defaults, in-memory fakes of
//! the ports, the store contract suite every store adapter runs, and [`TestDb`], a fresh migrated
//! PostgreSQL database per test, [`LogBuffer`] to read back what was logged, and (with the `live`
//! feature) a WebSocket client of `GET /api/live` and [`hostile::RawSocket`], one that attacks it.
//!
//! Depends on `conduit-domain`; with the `stores` feature on `conduit-persistence` and sqlx (the
//! contract on the real stores), and with `postgres` on testcontainers too (for [`TestDb`]); never a
//! `[dependencies]` entry of any crate but the end-to-end suite's and the operations tooling's,
//! which are test-only themselves. With the `client` feature it holds the one HTTP client
//! every HTTP-level test uses ([`client::Conduit`] and [`client::TestUser`]), and with `http` that
//! client over the network.

pub mod builders;
#[cfg(feature = "client")]
pub mod client;
pub mod contract;
pub mod fakes;
#[cfg(feature = "live")]
pub mod hostile;
#[cfg(feature = "live")]
pub mod live;
pub mod logs;
#[cfg(feature = "postgres")]
pub mod postgres;

pub use builders::{NewArticleBuilder, NewUserBuilder, unique};
pub use fakes::{
    FakeBreaches, FakeClock, FakeHasher, FakeRefreshTokens, FakeTokens, InMemoryStore,
};
pub use logs::LogBuffer;
#[cfg(feature = "postgres")]
pub use postgres::TestDb;
