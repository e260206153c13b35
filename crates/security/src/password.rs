//! Password hashing with argon2id, off the async executor and with bounded concurrency.

use std::sync::Arc;

use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Params, Version};
use async_trait::async_trait;
use conduit_domain::accounts::{Password, PasswordHash};
use conduit_domain::ports::{HashError, PasswordHasher};
use tokio::sync::Semaphore;

/// Argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashingParams {
    /// Memory in KiB.
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl HashingParams {
    /// OWASP's minimum for argon2id (Password Storage Cheat Sheet): m=19 MiB, t=2, p=1.
    /// This is the production default, and production refuses anything cheaper.
    pub const OWASP_MINIMUM: Self = Self {
        memory_kib: 19 * 1024,
        iterations: 2,
        parallelism: 1,
    };

    /// The cheapest parameters argon2 accepts: for tests only, where hashing cost is noise.
    pub const INSECURE_FOR_TESTS: Self = Self {
        memory_kib: Params::MIN_M_COST,
        iterations: 1,
        parallelism: 1,
    };

    /// Whether these parameters cost at least as much as OWASP's minimum.
    pub fn meets_owasp_minimum(&self) -> bool {
        self.memory_kib >= Self::OWASP_MINIMUM.memory_kib
            && self.iterations >= Self::OWASP_MINIMUM.iterations
            && self.parallelism >= Self::OWASP_MINIMUM.parallelism
    }
}

impl Default for HashingParams {
    fn default() -> Self {
        Self::OWASP_MINIMUM
    }
}

/// The argon2id adapter of [`PasswordHasher`]. Each hash runs on tokio's blocking pool, and at
/// most `max_concurrent` run at once, so a burst of logins cannot take all memory or every thread.
#[derive(Debug, Clone)]
pub struct Argon2Hasher {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    params: Params,
    permits: Semaphore,
    /// A hash of a random password, verified against when the e-mail is unknown.
    dummy: String,
}

impl Argon2Hasher {
    pub fn new(params: HashingParams, max_concurrent: usize) -> Result<Self, HashError> {
        let params = Params::new(
            params.memory_kib,
            params.iterations,
            params.parallelism,
            None,
        )
        .map_err(|error| HashError(format!("invalid argon2 parameters: {error}")))?;
        let dummy_password = uuid::Uuid::new_v4().to_string();
        let dummy = hash_blocking(&params, &dummy_password)?;
        Ok(Self {
            inner: Arc::new(Inner {
                params,
                permits: Semaphore::new(max_concurrent.max(1)),
                dummy,
            }),
        })
    }

    /// Runs `work` on the blocking pool once a permit is free.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Params) -> T + Send + 'static,
    ) -> Result<T, HashError> {
        let _permit = self
            .inner
            .permits
            .acquire()
            .await
            .map_err(|_| HashError("hasher is shut down".to_owned()))?;
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || work(&inner.params))
            .await
            .map_err(|error| HashError(format!("hashing task failed: {error}")))
    }
}

fn argon2(params: &Params) -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
}

fn hash_blocking(params: &Params, password: &str) -> Result<String, HashError> {
    argon2(params)
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|error| HashError(format!("argon2 hashing failed: {error}")))
}

/// Verifies with the parameters stored in the PHC string, so hashes made under older parameters
/// keep working after the cost is raised.
fn verify_blocking(params: &Params, password: &str, phc: &str) -> Result<bool, HashError> {
    match argon2(params).verify_password(password.as_bytes(), phc) {
        Ok(()) => Ok(true),
        Err(argon2::password_hash::Error::PasswordInvalid) => Ok(false),
        Err(error) => Err(HashError(format!("stored hash is unusable: {error}"))),
    }
}

#[async_trait]
impl PasswordHasher for Argon2Hasher {
    async fn hash(&self, password: &Password) -> Result<PasswordHash, HashError> {
        let password = password.expose().to_owned();
        self.run(move |params| hash_blocking(params, &password))
            .await?
            .map(PasswordHash::from_phc)
    }

    async fn verify(&self, password: &Password, hash: &PasswordHash) -> Result<bool, HashError> {
        let password = password.expose().to_owned();
        let phc = hash.as_str().to_owned();
        self.run(move |params| verify_blocking(params, &password, &phc))
            .await?
    }

    async fn verify_against_dummy(&self, password: &Password) {
        let password = password.expose().to_owned();
        let dummy = self.inner.dummy.clone();
        // The outcome is irrelevant: only the time spent matters.
        let _ = self
            .run(move |params| verify_blocking(params, &password, &dummy))
            .await;
    }
}

#[cfg(test)]
mod tests;
