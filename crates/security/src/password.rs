//! Password hashing with argon2id, off the async executor and with bounded concurrency.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash as PhcHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
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
///
/// Argon2's working memory (19 MiB at OWASP's minimum) comes from a [`MemoryPool`] of at most
/// `max_concurrent` block sets, made on first need and reused for the life of the hasher. Letting
/// argon2 allocate its own would leave a freed 19 MiB block in the allocator arena of every
/// blocking-pool thread that ever hashed, and that thread count grows under load.
#[derive(Debug, Clone)]
pub struct Argon2Hasher {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    params: Params,
    permits: Semaphore,
    memory: MemoryPool,
    /// A hash of a random password, verified against when the e-mail is unknown.
    dummy: String,
}

/// Argon2 working memory, reused across hashes. A set is taken for one hash and given back after
/// it; a new set is made only when none is free (at most one per permit) or when a stored hash
/// asks for more memory than the free set has.
#[derive(Debug, Default)]
struct MemoryPool {
    free: Mutex<Vec<Vec<Block>>>,
    made: AtomicUsize,
    /// How many argon2 computations have run: one set is taken for each.
    taken: AtomicUsize,
}

impl MemoryPool {
    fn take(&self, blocks: usize) -> Vec<Block> {
        self.taken.fetch_add(1, Ordering::Relaxed);
        let free = self
            .free
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .pop();
        match free {
            Some(memory) if memory.len() >= blocks => memory,
            _ => {
                self.made.fetch_add(1, Ordering::Relaxed);
                vec![Block::new(); blocks]
            }
        }
    }

    fn give_back(&self, memory: Vec<Block>) {
        self.free
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(memory);
    }
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
        let memory = MemoryPool::default();
        let dummy_password = uuid::Uuid::new_v4().to_string();
        let dummy = hash_blocking(&params, &memory, &dummy_password)?;
        Ok(Self {
            inner: Arc::new(Inner {
                params,
                permits: Semaphore::new(max_concurrent.max(1)),
                memory,
                dummy,
            }),
        })
    }

    /// How many sets of argon2 working memory this hasher has ever made: at most its
    /// concurrency, however many hashes it runs.
    pub fn memory_sets_made(&self) -> usize {
        self.inner.memory.made.load(Ordering::Relaxed)
    }

    /// How many argon2 computations this hasher has run.
    #[cfg(test)]
    fn computations(&self) -> usize {
        self.inner.memory.taken.load(Ordering::Relaxed)
    }

    /// Runs `work` on the blocking pool once a permit is free.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Params, &MemoryPool) -> T + Send + 'static,
    ) -> Result<T, HashError> {
        let _permit = self
            .inner
            .permits
            .acquire()
            .await
            .map_err(|_| HashError("hasher is shut down".to_owned()))?;
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || work(&inner.params, &inner.memory))
            .await
            .map_err(|error| HashError(format!("hashing task failed: {error}")))
    }
}

/// Computes argon2 into `out` with memory from the pool.
fn compute(
    argon2: &Argon2<'_>,
    params: &Params,
    memory: &MemoryPool,
    password: &str,
    salt: &[u8],
    out: &mut [u8],
) -> Result<(), argon2::Error> {
    let mut blocks = memory.take(params.block_count());
    let outcome =
        argon2.hash_password_into_with_memory(password.as_bytes(), salt, out, &mut blocks);
    memory.give_back(blocks);
    outcome
}

fn hash_blocking(
    params: &Params,
    memory: &MemoryPool,
    password: &str,
) -> Result<String, HashError> {
    let failed =
        |error: &dyn std::fmt::Display| HashError(format!("argon2 hashing failed: {error}"));
    let salt = Salt::generate();
    let mut out = vec![0_u8; params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN)];
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    compute(&argon2, params, memory, password, &salt, &mut out).map_err(|error| failed(&error))?;
    let phc = PhcHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(params).map_err(|error| failed(&error))?,
        salt: Some(salt),
        hash: Some(Output::new(&out).map_err(|error| failed(&error))?),
    };
    Ok(phc.to_string())
}

/// Verifies with the parameters stored in the PHC string, so hashes made under older parameters
/// keep working after the cost is raised. The comparison is constant-time (`Output`'s `Eq`).
fn verify_blocking(memory: &MemoryPool, password: &str, phc: &str) -> Result<bool, HashError> {
    let unusable =
        |error: &dyn std::fmt::Display| HashError(format!("stored hash is unusable: {error}"));
    let stored = PhcHash::new(phc).map_err(|error| unusable(&error))?;
    let (Some(salt), Some(expected)) = (&stored.salt, &stored.hash) else {
        return Err(unusable(&"no salt or no hash"));
    };
    let algorithm =
        Algorithm::try_from(stored.algorithm.as_str()).map_err(|error| unusable(&error))?;
    let version = stored
        .version
        .map(Version::try_from)
        .transpose()
        .map_err(|error| unusable(&error))?
        .unwrap_or_default();
    let params = Params::try_from(&stored).map_err(|error| unusable(&error))?;
    let mut out = vec![0_u8; expected.len()];
    let argon2 = Argon2::new(algorithm, version, params.clone());
    compute(&argon2, &params, memory, password, salt, &mut out)
        .map_err(|error| unusable(&error))?;
    let computed = Output::new(&out).map_err(|error| unusable(&error))?;
    Ok(computed == *expected)
}

#[async_trait]
impl PasswordHasher for Argon2Hasher {
    async fn hash(&self, password: &Password) -> Result<PasswordHash, HashError> {
        let password = password.expose().to_owned();
        self.run(move |params, memory| hash_blocking(params, memory, &password))
            .await?
            .map(PasswordHash::from_phc)
    }

    async fn verify(&self, password: &Password, hash: &PasswordHash) -> Result<bool, HashError> {
        let password = password.expose().to_owned();
        let phc = hash.as_str().to_owned();
        self.run(move |_, memory| verify_blocking(memory, &password, &phc))
            .await?
    }

    async fn verify_against_dummy(&self, password: &Password) {
        let password = password.expose().to_owned();
        let dummy = self.inner.dummy.clone();
        // The outcome is irrelevant: only the time spent matters.
        let _ = self
            .run(move |_, memory| verify_blocking(memory, &password, &dummy))
            .await;
    }
}

#[cfg(test)]
mod tests;
