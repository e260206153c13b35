//! Builders with valid defaults and unique values: a test states only what it asserts on, and no
//! two tests ever share a row.

use std::sync::atomic::{AtomicU64, Ordering};

use conduit_domain::user::{Email, NewUser, PasswordHash, Username};
use time::OffsetDateTime;
use time::macros::datetime;

/// A short suffix unique within this process and, with high probability, across processes.
pub fn unique() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let random = uuid::Uuid::new_v4().simple().to_string();
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{}{count}", &random[..8])
}

/// Builds a [`NewUser`] for a store: `NewUserBuilder::new().username("jake").build()`.
#[derive(Debug, Clone)]
pub struct NewUserBuilder {
    username: String,
    email: String,
    password_hash: String,
    created_at: OffsetDateTime,
}

impl Default for NewUserBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl NewUserBuilder {
    pub fn new() -> Self {
        let suffix = unique();
        Self {
            username: format!("user{suffix}"),
            email: format!("user{suffix}@example.com"),
            password_hash: "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaA".to_owned(),
            created_at: datetime!(2026-01-02 03:04:05.678 UTC),
        }
    }

    pub fn username(mut self, username: impl Into<String>) -> Self {
        self.username = username.into();
        self
    }

    pub fn email(mut self, email: impl Into<String>) -> Self {
        self.email = email.into();
        self
    }

    pub fn password_hash(mut self, hash: impl Into<String>) -> Self {
        self.password_hash = hash.into();
        self
    }

    pub fn created_at(mut self, at: OffsetDateTime) -> Self {
        self.created_at = at;
        self
    }

    /// # Panics
    /// When a field set on the builder is not valid: a mistake in the test, not in the code.
    pub fn build(self) -> NewUser {
        NewUser {
            username: Username::parse(&self.username).expect("builder username is valid"),
            email: Email::parse(&self.email).expect("builder email is valid"),
            password_hash: PasswordHash::from_phc(self.password_hash),
            created_at: self.created_at,
        }
    }
}
