//! Login throttling: after too many failed logins in a window, for one account or from one client
//! address, further attempts are refused until the oldest failure leaves the window.
//!
//! The counts live in this process's memory: behind several replicas each keeps its own, so the
//! effective limit is per replica.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use time::Duration;

use crate::Timestamp;

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

/// The failures seen, per account and per client address.
#[derive(Debug, Default)]
pub struct LoginThrottle {
    policy: ThrottlePolicy,
    failures: Mutex<HashMap<Key, VecDeque<Timestamp>>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Account(String),
    Client(String),
}

/// Above this many keys, keys with no failure inside the window are forgotten, so that a flood of
/// made-up addresses cannot grow the map without bound.
const PRUNE_ABOVE: usize = 10_000;

impl LoginThrottle {
    pub fn new(policy: ThrottlePolicy) -> Self {
        Self {
            policy,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// How long the caller must wait before trying again, if either limit is reached.
    pub fn retry_after(
        &self,
        account: &str,
        client: Option<&str>,
        now: Timestamp,
    ) -> Option<Duration> {
        let mut failures = self.lock();
        let account_wait = self.wait(
            &mut failures,
            &Key::Account(account.to_lowercase()),
            self.policy.max_failures_per_account,
            now,
        );
        let client_wait = client.and_then(|client| {
            self.wait(
                &mut failures,
                &Key::Client(client.to_owned()),
                self.policy.max_failures_per_client,
                now,
            )
        });
        account_wait.max(client_wait)
    }

    pub fn record_failure(&self, account: &str, client: Option<&str>, now: Timestamp) {
        let mut failures = self.lock();
        if failures.len() > PRUNE_ABOVE {
            let window = self.policy.window;
            failures.retain(|_, times| times.back().is_some_and(|last| *last > now - window));
        }
        let keys = std::iter::once(Key::Account(account.to_lowercase()))
            .chain(client.map(|client| Key::Client(client.to_owned())));
        for key in keys {
            failures.entry(key).or_default().push_back(now);
        }
    }

    /// A successful login clears the account's failures (not the client's: one right password
    /// must not reset the count of an address that tries many accounts).
    pub fn record_success(&self, account: &str) {
        self.lock().remove(&Key::Account(account.to_lowercase()));
    }

    /// Drops failures older than the window; when `limit` remain, the wait until the oldest leaves.
    fn wait(
        &self,
        failures: &mut HashMap<Key, VecDeque<Timestamp>>,
        key: &Key,
        limit: u32,
        now: Timestamp,
    ) -> Option<Duration> {
        let times = failures.get_mut(key)?;
        while times
            .front()
            .is_some_and(|first| *first <= now - self.policy.window)
        {
            times.pop_front();
        }
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        if limit == 0 || times.len() < limit {
            return None;
        }
        let oldest_relevant = times[times.len() - limit];
        Some(oldest_relevant + self.policy.window - now)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, VecDeque<Timestamp>>> {
        self.failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    const T0: Timestamp = Timestamp::from_offset(datetime!(2026-01-01 12:00 UTC));

    fn throttle() -> LoginThrottle {
        LoginThrottle::new(ThrottlePolicy {
            max_failures_per_account: 3,
            max_failures_per_client: 5,
            window: Duration::minutes(10),
        })
    }

    #[test]
    fn an_account_is_locked_after_the_limit_until_the_oldest_failure_leaves_the_window() {
        let throttle = throttle();
        for minute in 0..3 {
            assert_eq!(
                throttle.retry_after("jake@x.io", None, T0 + Duration::minutes(minute)),
                None
            );
            throttle.record_failure("jake@x.io", None, T0 + Duration::minutes(minute));
        }

        let locked = throttle.retry_after("JAKE@x.io", None, T0 + Duration::minutes(4));
        let freed = throttle.retry_after("jake@x.io", None, T0 + Duration::minutes(10));

        assert_eq!(locked, Some(Duration::minutes(6)));
        assert_eq!(freed, None);
    }

    #[test]
    fn a_success_resets_the_account_but_not_the_client() {
        let throttle = throttle();
        for n in 0..5 {
            throttle.record_failure(
                if n < 3 { "jake@x.io" } else { "jane@x.io" },
                Some("10.0.0.1"),
                T0,
            );
        }

        throttle.record_success("jake@x.io");

        assert_eq!(throttle.retry_after("jake@x.io", None, T0), None);
        assert_eq!(
            throttle.retry_after("jake@x.io", Some("10.0.0.1"), T0),
            Some(Duration::minutes(10))
        );
    }

    #[test]
    fn one_client_trying_many_accounts_is_locked() {
        let throttle = throttle();
        for n in 0..5 {
            throttle.record_failure(&format!("user{n}@x.io"), Some("10.0.0.9"), T0);
        }

        assert!(
            throttle
                .retry_after("new@x.io", Some("10.0.0.9"), T0)
                .is_some()
        );
        assert_eq!(
            throttle.retry_after("new@x.io", Some("10.0.0.10"), T0),
            None
        );
    }

    fn tracked_keys(throttle: &LoginThrottle) -> usize {
        throttle.lock().len()
    }

    #[test]
    fn past_its_bound_the_map_forgets_the_keys_with_no_failure_inside_the_window() {
        let throttle = throttle();
        for n in 0..PRUNE_ABOVE {
            throttle.record_failure(&format!("user{n}@x.io"), None, T0);
        }
        let one_window_later = T0 + Duration::minutes(10);

        // At the bound itself nothing is forgotten.
        throttle.record_failure("late@x.io", None, one_window_later);
        let at_the_bound = tracked_keys(&throttle);
        // Above it, a key whose last failure is a whole window old is forgotten; a recent one stays.
        throttle.record_failure("later@x.io", None, one_window_later);

        assert_eq!(at_the_bound, PRUNE_ABOVE + 1);
        assert_eq!(tracked_keys(&throttle), 2);
        assert!(
            throttle
                .retry_after("late@x.io", None, one_window_later)
                .is_none()
        );
    }
}
