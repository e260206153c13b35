//! Login throttling: after too many failed logins in a window, for one account or from one client
//! address, further attempts are refused until the oldest failure leaves the window.
//!
//! The counts live behind the [`LoginFailures`] port, in the database, so that every replica sees
//! the same count. The contract suite (`conduit-test-support`) runs these rules over every store.

use std::sync::Arc;

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

    #[tokio::test]
    async fn a_success_clears_the_account_s_failures_and_never_the_client_s() {
        let mut failures = MockLoginFailures::new();
        failures
            .expect_clear()
            .withf(|key| *key == ThrottleKey::Account("jake@x.io".to_owned()))
            .times(1)
            .returning(|_| Ok(()));
        let throttle = LoginThrottle::new(POLICY, Arc::new(failures));

        assert_eq!(throttle.record_success("JAKE@x.io").await, Ok(()));
    }
}
