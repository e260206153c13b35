//! [`LoginFailures`] over the in-memory state.

use async_trait::async_trait;
use conduit_domain::Timestamp;
use conduit_domain::ports::{LoginFailures, StoreError, ThrottleKey};

use super::*;

#[async_trait]
impl LoginFailures for InMemoryStore {
    async fn record(
        &self,
        keys: &[ThrottleKey],
        at: Timestamp,
        forget_until: Timestamp,
    ) -> Result<(), StoreError> {
        let mut state = self.lock();
        // As the SQL store deletes every row at or before `forget_until`.
        state.login_failures.retain(|_, times| {
            times.retain(|time| *time > forget_until);
            !times.is_empty()
        });
        for key in keys {
            state
                .login_failures
                .entry(key.to_stored())
                .or_default()
                .push(at);
        }
        Ok(())
    }

    async fn attempt(
        &self,
        limits: &[(ThrottleKey, u32)],
        at: Timestamp,
        since: Timestamp,
        forget_until: Timestamp,
    ) -> Result<Vec<Vec<Timestamp>>, StoreError> {
        // One lock over the count and the record: attempts on one key are ordered.
        let mut state = self.lock();
        state.login_failures.retain(|_, times| {
            times.retain(|time| *time > forget_until);
            !times.is_empty()
        });
        let latest: Vec<Vec<Timestamp>> = limits
            .iter()
            .map(|(key, limit)| {
                let mut latest: Vec<Timestamp> = state
                    .login_failures
                    .get(&key.to_stored())
                    .map(|times| times.iter().copied().filter(|time| *time > since).collect())
                    .unwrap_or_default();
                latest.sort_unstable_by(|a, b| b.cmp(a));
                latest.truncate(usize::try_from(*limit).unwrap_or(usize::MAX));
                latest
            })
            .collect();
        let under = limits.iter().zip(&latest).all(|((_, limit), latest)| {
            latest.len() < usize::try_from(*limit).unwrap_or(usize::MAX)
        });
        if under {
            for (key, _) in limits {
                state
                    .login_failures
                    .entry(key.to_stored())
                    .or_default()
                    .push(at);
            }
        }
        Ok(latest)
    }

    async fn latest(
        &self,
        key: &ThrottleKey,
        since: Timestamp,
        limit: u32,
    ) -> Result<Vec<Timestamp>, StoreError> {
        let state = self.lock();
        let mut latest: Vec<Timestamp> = state
            .login_failures
            .get(&key.to_stored())
            .map(|times| times.iter().copied().filter(|at| *at > since).collect())
            .unwrap_or_default();
        latest.sort_unstable_by(|a, b| b.cmp(a));
        latest.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        Ok(latest)
    }

    async fn withdraw(&self, keys: &[ThrottleKey], at: Timestamp) -> Result<(), StoreError> {
        let mut state = self.lock();
        for key in keys {
            if let Some(times) = state.login_failures.get_mut(&key.to_stored())
                && let Some(found) = times.iter().position(|time| *time == at)
            {
                times.remove(found);
            }
        }
        Ok(())
    }

    async fn clear(&self, key: &ThrottleKey) -> Result<(), StoreError> {
        self.lock().login_failures.remove(&key.to_stored());
        Ok(())
    }
}
