//! The contract of [`LoginFailures`](conduit_domain::ports::LoginFailures): what every store of
//! failed logins must do.

use std::sync::Arc;

use conduit_domain::Timestamp;
use conduit_domain::ports::ThrottleKey;
use conduit_domain::throttle::{Admission, LoginThrottle, ThrottlePolicy};
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

/// A failure recorded with `forget_until` drops every older one, of every key: what keeps the
/// store as small as one window of failures, however many addresses a flood makes up.
pub async fn recording_forgets_failures_of_every_key_up_to_forget_until(store: &ContractStore) {
    let old = account();
    let recent = account();
    record(store, std::slice::from_ref(&old), T0).await;
    record(
        store,
        std::slice::from_ref(&recent),
        T0 + Duration::minutes(5),
    )
    .await;

    store
        .login_failures
        .record(
            &[account()],
            T0 + Duration::minutes(10),
            T0 + Duration::minutes(1),
        )
        .await
        .expect("records a failure");

    assert!(latest(store, &old, LONG_AGO, 10).await.is_empty());
    assert_eq!(
        latest(store, &recent, LONG_AGO, 10).await,
        [T0 + Duration::minutes(5)]
    );
}

/// The throttle's rules over this store: 3 failures an account, 5 a client, in 10 minutes.
fn throttle(store: &ContractStore) -> LoginThrottle {
    LoginThrottle::new(
        ThrottlePolicy {
            max_failures_per_account: 3,
            max_failures_per_client: 5,
            window: Duration::minutes(10),
        },
        Arc::clone(&store.login_failures),
    )
}

fn email() -> String {
    format!("user{}@example.com", unique())
}

fn address() -> String {
    format!("client-{}", unique())
}

/// An attempt that fails: admitted (or the test fails), and left recorded.
async fn fail(throttle: &LoginThrottle, account: &str, client: Option<&str>, at: Timestamp) {
    let admission = throttle.admit(account, client, at).await;
    assert!(
        matches!(admission, Ok(Admission::Admitted(_))),
        "admitted at {at:?}: {admission:?}"
    );
}

pub async fn the_throttle_locks_an_account_after_the_limit_until_the_oldest_failure_leaves_the_window(
    store: &ContractStore,
) {
    let throttle = throttle(store);
    let jake = email();
    for minute in 0..3 {
        fail(&throttle, &jake, None, T0 + Duration::minutes(minute)).await;
    }

    let locked = throttle
        .admit(&jake.to_uppercase(), None, T0 + Duration::minutes(4))
        .await;
    let locked_again = throttle.admit(&jake, None, T0 + Duration::minutes(5)).await;
    let freed = throttle
        .admit(&jake, None, T0 + Duration::minutes(10))
        .await;

    assert_eq!(locked, Ok(Admission::Throttled(Duration::minutes(6))));
    // The refused attempt was taken back: it did not move the lock.
    assert_eq!(locked_again, Ok(Admission::Throttled(Duration::minutes(5))));
    assert!(matches!(freed, Ok(Admission::Admitted(_))), "{freed:?}");
}

pub async fn the_throttle_resets_an_account_on_success_but_not_its_client(store: &ContractStore) {
    let throttle = throttle(store);
    let (jake, jane, client) = (email(), email(), address());
    for n in 0..4 {
        let account = if n < 2 { &jake } else { &jane };
        fail(&throttle, account, Some(&client), T0).await;
    }
    let Ok(Admission::Admitted(right)) = throttle
        .admit(&jake.to_uppercase(), Some(&client), T0)
        .await
    else {
        panic!("the fifth attempt of the client is admitted");
    };
    throttle.succeeded(right).await.expect("clears");

    // The right password was no failure of the client's: it has 4 of its 5, and jake none.
    let client_key = ThrottleKey::Client(client.clone());
    assert_eq!(latest(store, &client_key, LONG_AGO, 10).await.len(), 4);
    let jake_key = ThrottleKey::Account(jake.clone());
    assert!(latest(store, &jake_key, LONG_AGO, 10).await.is_empty());
    fail(&throttle, &jake, Some(&client), T0).await;
    assert_eq!(
        throttle.admit(&jake, Some(&client), T0).await,
        Ok(Admission::Throttled(Duration::minutes(10)))
    );
}

pub async fn the_throttle_locks_one_client_trying_many_accounts(store: &ContractStore) {
    let throttle = throttle(store);
    let client = address();
    for _ in 0..5 {
        fail(&throttle, &email(), Some(&client), T0).await;
    }

    let same_client = throttle.admit(&email(), Some(&client), T0).await;
    let other_client = throttle.admit(&email(), Some(&address()), T0).await;

    assert!(
        matches!(same_client, Ok(Admission::Throttled(_))),
        "{same_client:?}"
    );
    assert!(
        matches!(other_client, Ok(Admission::Admitted(_))),
        "{other_client:?}"
    );
}

/// A burst of attempts at one account, all at once, as replicas meet them: exactly the limit
/// are admitted, however the store interleaves them, and the refused record nothing. When each
/// counted before it was recorded, every one of them passed; when each was recorded before it
/// was counted and taken back when refused, a refused one whose taking back never came (a
/// client gone meanwhile) stayed a failure.
pub async fn attempts_racing_on_one_account_admit_exactly_its_limit(store: &ContractStore) {
    let throttle = throttle(store);
    let jake = email();
    let attempts: Vec<_> = (0..24)
        .map(|n| {
            let (throttle, jake) = (throttle.clone(), jake.clone());
            tokio::spawn(async move {
                throttle
                    .admit(&jake, None, T0 + Duration::milliseconds(n))
                    .await
            })
        })
        .collect();
    let mut admitted = 0;
    for attempt in attempts {
        match attempt.await.expect("task completes") {
            Ok(Admission::Admitted(_)) => admitted += 1,
            Ok(Admission::Throttled(_)) => {}
            Err(error) => panic!("the store failed: {error:?}"),
        }
    }

    assert_eq!(
        admitted, 3,
        "{admitted} of 24 admitted, against a limit of 3"
    );
    let recorded = latest(store, &ThrottleKey::Account(jake), LONG_AGO, 100).await;
    assert_eq!(recorded.len(), 3, "only the admitted are failures");
}

/// Withdrawals racing on alike failures (one key, one instant) take one each: none is left.
pub async fn withdrawals_racing_on_alike_failures_take_one_each(store: &ContractStore) {
    let jake = account();
    for _ in 0..8 {
        record(store, std::slice::from_ref(&jake), T0).await;
    }
    let withdrawals: Vec<_> = (0..8)
        .map(|_| {
            let (failures, keys) = (Arc::clone(&store.login_failures), [jake.clone()]);
            tokio::spawn(async move { failures.withdraw(&keys, T0).await })
        })
        .collect();
    for withdrawal in withdrawals {
        withdrawal
            .await
            .expect("task completes")
            .expect("withdraws");
    }

    assert!(latest(store, &jake, LONG_AGO, 100).await.is_empty());
}

/// Withdrawing takes back one failure of each key at that time, and no other.
pub async fn withdrawing_takes_back_one_failure_of_each_key_at_that_time(store: &ContractStore) {
    let (jake, jane) = (account(), account());
    record(store, &[jake.clone(), jane.clone()], T0).await;
    record(store, std::slice::from_ref(&jake), T0).await;
    record(
        store,
        std::slice::from_ref(&jake),
        T0 + Duration::minutes(1),
    )
    .await;

    store
        .login_failures
        .withdraw(&[jake.clone(), jane.clone()], T0)
        .await
        .expect("withdraws");
    store
        .login_failures
        .withdraw(std::slice::from_ref(&jane), T0)
        .await
        .expect("withdrawing what is not there is no error");

    assert_eq!(
        latest(store, &jake, LONG_AGO, 10).await,
        [T0 + Duration::minutes(1), T0]
    );
    assert!(latest(store, &jane, LONG_AGO, 10).await.is_empty());
}
