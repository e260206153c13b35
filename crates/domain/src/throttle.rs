//! Login throttling: after too many failed logins in a window, for one account or from one client
//! address, further attempts are refused until the oldest failure leaves the window.
//!
//! The counts live behind the [`LoginFailures`] port: in PostgreSQL, so that every replica sees
//! the same count, and in this process's memory ([`InMemoryLoginFailures`]) for the
//! single-instance SQLite default.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use time::Duration;

use crate::Timestamp;
use crate::ports::{LoginFailures, StoreError, ThrottleKey};

/// The limits, from configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottlePolicy {
    /// Failed logins for one e-mail address within `window` before it is locked.
    pub max_failures_per_account: u32,
    /// Failed logins from one client address within `window` before it is locked.
    pub max_failures_per_client: u32,
    pub window: Duration,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        Self {
            max_failures_per_account: 5,
            max_failures_per_client: 20,
            window: Duration::minutes(15),
        }
    }
}

/// The throttling rules over the failures a store keeps.
#[derive(Clone)]
pub struct LoginThrottle {
    policy: ThrottlePolicy,
    failures: Arc<dyn LoginFailures>,
}

impl std::fmt::Debug for LoginThrottle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginThrottle")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl LoginThrottle {
    pub fn new(policy: ThrottlePolicy, failures: Arc<dyn LoginFailures>) -> Self {
        Self { policy, failures }
    }

    /// How long the caller must wait before trying again, if either limit is reached.
    pub async fn retry_after(
        &self,
        account: &str,
        client: Option<&str>,
        now: Timestamp,
    ) -> Result<Option<Duration>, StoreError> {
        let account_wait = self
            .wait(
                &ThrottleKey::Account(account.to_lowercase()),
                self.policy.max_failures_per_account,
                now,
            )
            .await?;
        let client_wait = match client {
            Some(client) => {
                self.wait(
                    &ThrottleKey::Client(client.to_owned()),
                    self.policy.max_failures_per_client,
                    now,
                )
                .await?
            }
            None => None,
        };
        Ok(account_wait.max(client_wait))
    }

    pub async fn record_failure(
        &self,
        account: &str,
        client: Option<&str>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let keys: Vec<ThrottleKey> = std::iter::once(ThrottleKey::Account(account.to_lowercase()))
            .chain(client.map(|client| ThrottleKey::Client(client.to_owned())))
            .collect();
        self.failures
            .record(&keys, now, now - self.policy.window)
            .await
    }

    /// A successful login clears the account's failures (not the client's: one right password
    /// must not reset the count of an address that tries many accounts).
    pub async fn record_success(&self, account: &str) -> Result<(), StoreError> {
        self.failures
            .clear(&ThrottleKey::Account(account.to_lowercase()))
            .await
    }

    /// When `limit` failures lie inside the window, the wait until the oldest of them leaves it.
    async fn wait(
        &self,
        key: &ThrottleKey,
        limit: u32,
        now: Timestamp,
    ) -> Result<Option<Duration>, StoreError> {
        if limit == 0 {
            return Ok(None);
        }
        let latest = self
            .failures
            .latest(key, now - self.policy.window, limit)
            .await?;
        if latest.len() < usize::try_from(limit).unwrap_or(usize::MAX) {
            return Ok(None);
        }
        Ok(latest
            .last()
            .map(|oldest_relevant| *oldest_relevant + self.policy.window - now))
    }
}

/// Failed logins in this process's memory: the store for a single instance.
#[derive(Debug, Default)]
pub struct InMemoryLoginFailures {
    failures: Mutex<HashMap<ThrottleKey, VecDeque<Timestamp>>>,
}

/// Above this many keys, keys with no failure after `forget_until` are forgotten, so that a flood
/// of made-up addresses cannot grow the map without bound.
const PRUNE_ABOVE: usize = 10_000;

impl InMemoryLoginFailures {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ThrottleKey, VecDeque<Timestamp>>> {
        self.failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[async_trait]
impl LoginFailures for InMemoryLoginFailures {
    async fn record(
        &self,
        keys: &[ThrottleKey],
        at: Timestamp,
        forget_until: Timestamp,
    ) -> Result<(), StoreError> {
        let mut failures = self.lock();
        if failures.len() > PRUNE_ABOVE {
            failures.retain(|_, times| times.back().is_some_and(|last| *last > forget_until));
        }
        for key in keys {
            let times = failures.entry(key.clone()).or_default();
            while times.front().is_some_and(|first| *first <= forget_until) {
                times.pop_front();
            }
            times.push_back(at);
        }
        Ok(())
    }

    async fn latest(
        &self,
        key: &ThrottleKey,
        since: Timestamp,
        limit: u32,
    ) -> Result<Vec<Timestamp>, StoreError> {
        let failures = self.lock();
        let Some(times) = failures.get(key) else {
            return Ok(Vec::new());
        };
        let mut latest: Vec<Timestamp> = times.iter().copied().filter(|at| *at > since).collect();
        latest.sort_unstable_by(|a, b| b.cmp(a));
        latest.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        Ok(latest)
    }

    async fn clear(&self, key: &ThrottleKey) -> Result<(), StoreError> {
        self.lock().remove(key);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;
    use crate::ports::MockLoginFailures;

    const T0: Timestamp = Timestamp::from_offset(datetime!(2026-01-01 12:00 UTC));

    const POLICY: ThrottlePolicy = ThrottlePolicy {
        max_failures_per_account: 3,
        max_failures_per_client: 5,
        window: Duration::minutes(10),
    };

    fn in_memory() -> (LoginThrottle, Arc<InMemoryLoginFailures>) {
        let failures = Arc::new(InMemoryLoginFailures::default());
        (LoginThrottle::new(POLICY, failures.clone()), failures)
    }

    fn throttle() -> LoginThrottle {
        in_memory().0
    }

    #[tokio::test]
    async fn an_account_is_locked_after_the_limit_until_the_oldest_failure_leaves_the_window() {
        let throttle = throttle();
        for minute in 0..3 {
            let at = T0 + Duration::minutes(minute);
            assert_eq!(throttle.retry_after("jake@x.io", None, at).await, Ok(None));
            throttle.record_failure("jake@x.io", None, at).await.ok();
        }

        let locked = throttle
            .retry_after("JAKE@x.io", None, T0 + Duration::minutes(4))
            .await;
        let freed = throttle
            .retry_after("jake@x.io", None, T0 + Duration::minutes(10))
            .await;

        assert_eq!(locked, Ok(Some(Duration::minutes(6))));
        assert_eq!(freed, Ok(None));
    }

    #[tokio::test]
    async fn a_success_resets_the_account_but_not_the_client() {
        let throttle = throttle();
        for n in 0..5 {
            let account = if n < 3 { "jake@x.io" } else { "jane@x.io" };
            throttle
                .record_failure(account, Some("10.0.0.1"), T0)
                .await
                .ok();
        }

        throttle.record_success("JAKE@x.io").await.ok();

        assert_eq!(throttle.retry_after("jake@x.io", None, T0).await, Ok(None));
        assert_eq!(
            throttle
                .retry_after("jake@x.io", Some("10.0.0.1"), T0)
                .await,
            Ok(Some(Duration::minutes(10)))
        );
    }

    #[tokio::test]
    async fn one_client_trying_many_accounts_is_locked() {
        let throttle = throttle();
        for n in 0..5 {
            throttle
                .record_failure(&format!("user{n}@x.io"), Some("10.0.0.9"), T0)
                .await
                .ok();
        }

        let same_client = throttle.retry_after("new@x.io", Some("10.0.0.9"), T0).await;
        let other_client = throttle
            .retry_after("new@x.io", Some("10.0.0.10"), T0)
            .await;

        assert!(matches!(same_client, Ok(Some(_))));
        assert_eq!(other_client, Ok(None));
    }

    #[tokio::test]
    async fn a_limit_of_zero_never_locks_and_asks_the_store_nothing() {
        let mut failures = MockLoginFailures::new();
        failures.expect_latest().never();
        let throttle = LoginThrottle::new(
            ThrottlePolicy {
                max_failures_per_account: 0,
                max_failures_per_client: 0,
                window: Duration::minutes(10),
            },
            Arc::new(failures),
        );

        assert_eq!(
            throttle
                .retry_after("jake@x.io", Some("10.0.0.1"), T0)
                .await,
            Ok(None)
        );
    }

    #[tokio::test]
    async fn the_store_is_asked_for_the_latest_failures_inside_the_window_up_to_the_limit() {
        let mut failures = MockLoginFailures::new();
        failures
            .expect_latest()
            .withf(|key, since, limit| {
                *key == ThrottleKey::Account("jake@x.io".to_owned())
                    && *since == T0 - Duration::minutes(10)
                    && *limit == 3
            })
            .returning(|_, _, _| {
                Ok(vec![
                    T0,
                    T0 - Duration::minutes(1),
                    T0 - Duration::minutes(7),
                ])
            });
        failures
            .expect_record()
            .withf(|keys, at, forget_until| {
                keys == [
                    ThrottleKey::Account("jake@x.io".to_owned()),
                    ThrottleKey::Client("10.0.0.1".to_owned()),
                ] && *at == T0
                    && *forget_until == T0 - Duration::minutes(10)
            })
            .times(1)
            .returning(|_, _, _| Ok(()));
        let throttle = LoginThrottle::new(POLICY, Arc::new(failures));

        let wait = throttle.retry_after("Jake@X.io", None, T0).await;
        let recorded = throttle
            .record_failure("JAKE@x.io", Some("10.0.0.1"), T0)
            .await;

        assert_eq!(wait, Ok(Some(Duration::minutes(3))));
        assert_eq!(recorded, Ok(()));
    }

    #[tokio::test]
    async fn a_store_that_cannot_answer_is_an_error_not_a_pass() {
        let mut failures = MockLoginFailures::new();
        failures
            .expect_latest()
            .returning(|_, _, _| Err(StoreError::Unreachable("down".to_owned())));
        let throttle = LoginThrottle::new(POLICY, Arc::new(failures));

        let wait = throttle.retry_after("jake@x.io", None, T0).await;

        assert_eq!(wait, Err(StoreError::Unreachable("down".to_owned())));
    }

    #[test]
    fn a_key_is_stored_with_its_kind_so_an_account_and_a_client_never_share_one() {
        let account = ThrottleKey::Account("10.0.0.1".to_owned()).to_stored();
        let client = ThrottleKey::Client("10.0.0.1".to_owned()).to_stored();

        assert_eq!(account, "account:10.0.0.1");
        assert_eq!(client, "client:10.0.0.1");
    }

    fn tracked_keys(failures: &InMemoryLoginFailures) -> usize {
        failures.lock().len()
    }

    #[tokio::test]
    async fn past_its_bound_the_map_forgets_the_keys_with_no_failure_inside_the_window() {
        let (throttle, failures) = in_memory();
        for n in 0..PRUNE_ABOVE {
            throttle
                .record_failure(&format!("user{n}@x.io"), None, T0)
                .await
                .ok();
        }
        let one_window_later = T0 + Duration::minutes(10);

        // At the bound itself nothing is forgotten.
        throttle
            .record_failure("late@x.io", None, one_window_later)
            .await
            .ok();
        let at_the_bound = tracked_keys(&failures);
        // Above it, a key whose last failure is a whole window old is forgotten; a recent one stays.
        throttle
            .record_failure("later@x.io", None, one_window_later)
            .await
            .ok();

        assert_eq!(at_the_bound, PRUNE_ABOVE + 1);
        assert_eq!(tracked_keys(&failures), 2);
        assert_eq!(
            throttle
                .retry_after("late@x.io", None, one_window_later)
                .await,
            Ok(None)
        );
    }
}
