//! The contract of [`LoginFailures`](conduit_domain::ports::LoginFailures): what every store of
//! failed logins must do.

use std::sync::Arc;

use conduit_domain::Timestamp;
use conduit_domain::ports::ThrottleKey;
use time::Duration;
use time::macros::datetime;

use super::ContractStore;
use crate::builders::unique;

const T0: Timestamp = Timestamp::from_offset(datetime!(2026-05-01 09:00:00.000 UTC));
const LONG_AGO: Timestamp = Timestamp::from_offset(datetime!(2000-01-01 00:00:00.000 UTC));

fn account() -> ThrottleKey {
    ThrottleKey::Account(format!("user{}@example.com", unique()))
}

async fn record(store: &ContractStore, keys: &[ThrottleKey], at: Timestamp) {
    store
        .login_failures
        .record(keys, at, LONG_AGO)
        .await
        .expect("records a failure");
}

async fn latest(
    store: &ContractStore,
    key: &ThrottleKey,
    since: Timestamp,
    limit: u32,
) -> Vec<Timestamp> {
    store
        .login_failures
        .latest(key, since, limit)
        .await
        .expect("reads failures")
}

pub async fn failures_are_counted_per_key_latest_first_up_to_the_limit(store: &ContractStore) {
    let jake = account();
    let jane = account();
    let client = ThrottleKey::Client(format!("client-{}", unique()));
    for minute in 0..3 {
        record(
            store,
            &[jake.clone(), client.clone()],
            T0 + Duration::minutes(minute),
        )
        .await;
    }
    record(store, std::slice::from_ref(&jane), T0).await;

    assert_eq!(
        latest(store, &jake, LONG_AGO, 2).await,
        [T0 + Duration::minutes(2), T0 + Duration::minutes(1)]
    );
    assert_eq!(latest(store, &client, LONG_AGO, 10).await.len(), 3);
    assert_eq!(latest(store, &jane, LONG_AGO, 10).await, [T0]);
}

pub async fn an_account_and_a_client_with_the_same_text_are_different_keys(store: &ContractStore) {
    let text = format!("same-{}", unique());
    record(store, &[ThrottleKey::Account(text.clone())], T0).await;

    assert!(
        latest(store, &ThrottleKey::Client(text), LONG_AGO, 10)
            .await
            .is_empty()
    );
}

pub async fn only_failures_after_since_count(store: &ContractStore) {
    let jake = account();
    for minute in 0..3 {
        record(
            store,
            std::slice::from_ref(&jake),
            T0 + Duration::minutes(minute),
        )
        .await;
    }

    assert_eq!(
        latest(store, &jake, T0 + Duration::minutes(1), 10).await,
        [T0 + Duration::minutes(2)]
    );
}

pub async fn clearing_a_key_forgets_its_failures_and_no_others(store: &ContractStore) {
    let jake = account();
    let client = ThrottleKey::Client(format!("client-{}", unique()));
    record(store, &[jake.clone(), client.clone()], T0).await;

    store
        .login_failures
        .clear(&jake)
        .await
        .expect("clears a key");

    assert!(latest(store, &jake, LONG_AGO, 10).await.is_empty());
    assert_eq!(latest(store, &client, LONG_AGO, 10).await, [T0]);
}

/// Replicas record failures of one account at once: every one counts.
pub async fn concurrent_failures_of_one_key_all_count(store: &ContractStore) {
    let jake = account();
    let writers: Vec<_> = (0..16)
        .map(|n| {
            let failures = Arc::clone(&store.login_failures);
            let keys = [jake.clone()];
            tokio::spawn(async move {
                failures
                    .record(&keys, T0 + Duration::milliseconds(n), LONG_AGO)
                    .await
            })
        })
        .collect();
    for writer in writers {
        writer
            .await
            .expect("task completes")
            .expect("every failure is recorded");
    }

    assert_eq!(latest(store, &jake, LONG_AGO, 100).await.len(), 16);
}
