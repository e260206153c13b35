//! In-memory fakes of the ports, for tests of multi-step flows.

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;
use conduit_domain::ports::{
    AccessToken, Clock, HashError, PasswordHasher, StoreError, TokenCodec, TokenError, UniqueField,
    UserRepository,
};
use conduit_domain::user::{Email, NewUser, Password, PasswordHash, User, UserChanges, UserId};
use time::OffsetDateTime;

/// Users in a map. It passes the same contract suite as the real stores.
#[derive(Debug, Default)]
pub struct InMemoryUserRepository {
    users: Mutex<BTreeMap<i64, User>>,
}

impl InMemoryUserRepository {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<i64, User>> {
        // A panic in another test thread cannot leave the map half-changed: every change is one insert.
        self.users
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn conflict(
    users: &BTreeMap<i64, User>,
    except: Option<i64>,
    candidate: &User,
) -> Option<UniqueField> {
    let others = users.values().filter(|user| Some(user.id.0) != except);
    for other in others {
        if other.username.canonical() == candidate.username.canonical() {
            return Some(UniqueField::Username);
        }
        if other.email == candidate.email {
            return Some(UniqueField::Email);
        }
    }
    None
}

#[async_trait]
impl UserRepository for InMemoryUserRepository {
    async fn insert(&self, new: NewUser) -> Result<User, StoreError> {
        let mut users = self.lock();
        let id = users.keys().next_back().map_or(1, |last| last + 1);
        let user = User {
            id: UserId(id),
            username: new.username,
            email: new.email,
            bio: None,
            image: None,
            password_hash: new.password_hash,
            created_at: new.created_at,
            updated_at: new.created_at,
        };
        if let Some(field) = conflict(&users, None, &user) {
            return Err(StoreError::Conflict { field });
        }
        users.insert(id, user.clone());
        Ok(user)
    }

    async fn find_by_id(&self, id: UserId) -> Result<Option<User>, StoreError> {
        Ok(self.lock().get(&id.0).cloned())
    }

    async fn find_by_email(&self, email: &Email) -> Result<Option<User>, StoreError> {
        Ok(self
            .lock()
            .values()
            .find(|user| &user.email == email)
            .cloned())
    }

    async fn update(
        &self,
        id: UserId,
        changes: UserChanges,
        now: OffsetDateTime,
    ) -> Result<Option<User>, StoreError> {
        let mut users = self.lock();
        let Some(current) = users.get(&id.0) else {
            return Ok(None);
        };
        let updated = changes.apply_to(current, now);
        if let Some(field) = conflict(&users, Some(id.0), &updated) {
            return Err(StoreError::Conflict { field });
        }
        users.insert(id.0, updated.clone());
        Ok(Some(updated))
    }
}

/// A clock that moves only when told to.
#[derive(Debug)]
pub struct FakeClock {
    now: Mutex<OffsetDateTime>,
}

impl FakeClock {
    pub fn at(now: OffsetDateTime) -> Self {
        Self {
            now: Mutex::new(now),
        }
    }

    /// A fake clock set to the system time (to the millisecond), for tests that mix it with real tokens.
    pub fn starting_now() -> Self {
        Self::at(conduit_domain::ports::SystemClock.now())
    }

    pub fn advance(&self, by: time::Duration) {
        let mut now = self
            .now
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *now += by;
    }
}

impl Clock for FakeClock {
    fn now(&self) -> OffsetDateTime {
        *self
            .now
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A hasher that is fast and obviously not secure: `fake$<password>`. For web and flow tests that
/// are not about hashing.
#[derive(Debug, Default, Clone, Copy)]
pub struct FakeHasher;

#[async_trait]
impl PasswordHasher for FakeHasher {
    async fn hash(&self, password: &Password) -> Result<PasswordHash, HashError> {
        Ok(PasswordHash::from_phc(format!(
            "fake${}",
            password.expose()
        )))
    }

    async fn verify(&self, password: &Password, hash: &PasswordHash) -> Result<bool, HashError> {
        Ok(hash.as_str() == format!("fake${}", password.expose()))
    }

    async fn verify_against_dummy(&self, _password: &Password) {}
}

/// Tokens of the form `fake-token-<id>`, easy to read in assertions; anything else is refused.
/// For web tests that are not about signing: the real codec has tests of its own.
#[derive(Debug, Default, Clone, Copy)]
pub struct FakeTokens;

impl FakeTokens {
    pub fn token_for(user: UserId) -> String {
        format!("fake-token-{user}")
    }
}

impl TokenCodec for FakeTokens {
    fn issue(&self, user: UserId, _now: OffsetDateTime) -> Result<AccessToken, TokenError> {
        Ok(AccessToken::new(Self::token_for(user)))
    }

    fn verify(&self, token: &str, _now: OffsetDateTime) -> Result<UserId, TokenError> {
        token
            .strip_prefix("fake-token-")
            .and_then(|id| id.parse().ok())
            .map(UserId)
            .ok_or(TokenError::Malformed)
    }
}
