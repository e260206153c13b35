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

/// What [`LoginThrottle::admit`] decides about one attempt to log in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// The attempt may check its password. It is recorded as a failure already, and stays one
    /// unless [`LoginThrottle::succeeded`] takes it back.
    Admitted(Attempt),
    /// Too many failures: the wait until the oldest that counts leaves the window.
    Throttled(Duration),
}

/// An admitted attempt: its account, the keys it is recorded under, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    account: ThrottleKey,
    recorded: Vec<ThrottleKey>,
    at: Timestamp,
}

impl LoginThrottle {
    pub fn new(policy: ThrottlePolicy, failures: Arc<dyn LoginFailures>) -> Self {
        Self { policy, failures }
    }

    /// Counts the failures inside the window under the account and the client, and when both
    /// are under their limits records this attempt as a failure of each, before its password
    /// is checked: one step of the store, ordered with every other attempt on those keys
    /// ([`LoginFailures::attempt`]). Counted first and recorded after the check, a burst of
    /// attempts all passed the count before any was recorded; recorded before being counted
    /// and taken back when refused, an attacker's address that was locked could still record
    /// failures against any account by dropping its connection in between. A refused attempt
    /// records nothing, so refusals never lengthen a lock. Only keys with a limit are counted.
    pub async fn admit(
        &self,
        account: &str,
        client: Option<&str>,
        now: Timestamp,
    ) -> Result<Admission, StoreError> {
        let account = ThrottleKey::Account(account.to_lowercase());
        let limited: Vec<(ThrottleKey, u32)> =
            std::iter::once((account.clone(), self.policy.max_failures_per_account))
                .chain(client.map(|client| {
                    (
                        ThrottleKey::Client(client.to_owned()),
                        self.policy.max_failures_per_client,
                    )
                }))
                .filter(|(_, limit)| *limit > 0)
                .collect();
        let recorded: Vec<ThrottleKey> = limited.iter().map(|(key, _)| key.clone()).collect();
        if limited.is_empty() {
            return Ok(Admission::Admitted(Attempt {
                account,
                recorded,
                at: now,
            }));
        }
        let since = now - self.policy.window;
        let latest = self.failures.attempt(&limited, now, since, since).await?;
        let wait = limited
            .iter()
            .zip(&latest)
            .filter_map(|((_, limit), latest)| self.wait(latest, *limit, now))
            .max();
        Ok(match wait {
            None => Admission::Admitted(Attempt {
                account,
                recorded,
                at: now,
            }),
            Some(wait) => Admission::Throttled(wait),
        })
    }

    /// The attempt's password was right: it was no failure, and the account's failures are
    /// forgotten. The client's are not: one right password must not reset the count of an
    /// address that tries many accounts.
    pub async fn succeeded(&self, attempt: Attempt) -> Result<(), StoreError> {
        self.failures.clear(&attempt.account).await?;
        let clients: Vec<ThrottleKey> = attempt
            .recorded
            .into_iter()
            .filter(|key| matches!(key, ThrottleKey::Client(_)))
            .collect();
        if !clients.is_empty() {
            self.failures.withdraw(&clients, attempt.at).await?;
        }
        Ok(())
    }

    /// The attempt could not be decided (its password was never checked): it counts as nothing.
    pub async fn undecided(&self, attempt: Attempt) -> Result<(), StoreError> {
        if attempt.recorded.is_empty() {
            return Ok(());
        }
        self.failures.withdraw(&attempt.recorded, attempt.at).await
    }

    /// When `limit` failures (the latest, the latest first) lie inside the window, the wait
    /// until the oldest of them leaves it.
    fn wait(&self, latest: &[Timestamp], limit: u32, now: Timestamp) -> Option<Duration> {
        if latest.len() < usize::try_from(limit).unwrap_or(usize::MAX) {
            return None;
        }
        latest
            .last()
            .map(|oldest_counted| *oldest_counted + self.policy.window - now)
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

    fn jake() -> ThrottleKey {
        ThrottleKey::Account("jake@x.io".to_owned())
    }

    fn client() -> ThrottleKey {
        ThrottleKey::Client("10.0.0.1".to_owned())
    }

    #[tokio::test]
    async fn a_limit_of_zero_never_locks_and_asks_the_store_nothing() {
        let mut failures = MockLoginFailures::new();
        failures.expect_attempt().never();
        let throttle = LoginThrottle::new(
            ThrottlePolicy {
                max_failures_per_account: 0,
                max_failures_per_client: 0,
                window: Duration::minutes(10),
            },
            Arc::new(failures),
        );

        let admission = throttle.admit("jake@x.io", Some("10.0.0.1"), T0).await;

        assert!(
            matches!(admission, Ok(Admission::Admitted(_))),
            "{admission:?}"
        );
    }

    /// One step of the store counts and records: nothing is recorded to be taken back later.
    #[tokio::test]
    async fn an_attempt_over_a_limit_is_refused_with_the_wait_for_its_oldest_failure() {
        let mut failures = MockLoginFailures::new();
        failures
            .expect_attempt()
            .withf(|limits, at, since, forget_until| {
                limits == [(jake(), 3), (client(), 5)]
                    && *at == T0
                    && *since == T0 - Duration::minutes(10)
                    && *forget_until == T0 - Duration::minutes(10)
            })
            .times(1)
            .returning(|_, _, _, _| {
                Ok(vec![
                    vec![
                        T0 - Duration::minutes(1),
                        T0 - Duration::minutes(2),
                        T0 - Duration::minutes(7),
                    ],
                    vec![T0 - Duration::minutes(1)],
                ])
            });
        failures.expect_record().never();
        failures.expect_withdraw().never();
        let throttle = LoginThrottle::new(POLICY, Arc::new(failures));

        let admission = throttle.admit("JAKE@x.io", Some("10.0.0.1"), T0).await;

        assert_eq!(admission, Ok(Admission::Throttled(Duration::minutes(3))));
    }

    #[tokio::test]
    async fn an_attempt_within_every_limit_is_admitted_as_recorded() {
        let mut failures = MockLoginFailures::new();
        failures
            .expect_attempt()
            .times(1)
            .returning(|_, _, _, _| Ok(vec![vec![T0 - Duration::minutes(1)], vec![]]));
        failures.expect_withdraw().never();
        failures.expect_clear().never();
        let throttle = LoginThrottle::new(POLICY, Arc::new(failures));

        let admission = throttle.admit("jake@x.io", Some("10.0.0.1"), T0).await;

        assert_eq!(
            admission,
            Ok(Admission::Admitted(Attempt {
                account: jake(),
                recorded: vec![jake(), client()],
                at: T0,
            }))
        );
    }

    #[tokio::test]
    async fn a_store_that_cannot_answer_is_an_error_not_a_pass() {
        let mut failures = MockLoginFailures::new();
        failures
            .expect_attempt()
            .returning(|_, _, _, _| Err(StoreError::Unreachable("down".to_owned())));
        let throttle = LoginThrottle::new(POLICY, Arc::new(failures));

        let admission = throttle.admit("jake@x.io", None, T0).await;

        assert_eq!(admission, Err(StoreError::Unreachable("down".to_owned())));
    }

    #[test]
    fn a_key_is_stored_with_its_kind_so_an_account_and_a_client_never_share_one() {
        let account = ThrottleKey::Account("10.0.0.1".to_owned()).to_stored();
        let client = ThrottleKey::Client("10.0.0.1".to_owned()).to_stored();

        assert_eq!(account, "account:10.0.0.1");
        assert_eq!(client, "client:10.0.0.1");
    }

    #[tokio::test]
    async fn a_success_clears_the_account_s_failures_and_takes_back_only_its_own_at_the_client() {
        let mut failures = MockLoginFailures::new();
        failures
            .expect_clear()
            .withf(|key| *key == jake())
            .times(1)
            .returning(|_| Ok(()));
        failures
            .expect_withdraw()
            .withf(|keys, at| keys == [client()] && *at == T0)
            .times(1)
            .returning(|_, _| Ok(()));
        let throttle = LoginThrottle::new(POLICY, Arc::new(failures));
        let attempt = Attempt {
            account: jake(),
            recorded: vec![jake(), client()],
            at: T0,
        };

        assert_eq!(throttle.succeeded(attempt).await, Ok(()));
    }

    #[tokio::test]
    async fn an_undecided_attempt_is_taken_back_under_every_key() {
        let mut failures = MockLoginFailures::new();
        failures
            .expect_withdraw()
            .withf(|keys, at| keys == [jake(), client()] && *at == T0)
            .times(1)
            .returning(|_, _| Ok(()));
        failures.expect_clear().never();
        let throttle = LoginThrottle::new(POLICY, Arc::new(failures));
        let attempt = Attempt {
            account: jake(),
            recorded: vec![jake(), client()],
            at: T0,
        };

        assert_eq!(throttle.undecided(attempt).await, Ok(()));
    }
}
