use conduit_persistence::Store;
use conduit_test_support::TestDb;
use conduit_test_support::contract::ContractStore;

conduit_test_support::store_contract!(async {
    let database = TestDb::new().await;
    let store = Store::Postgres(database.pool().clone());
    ContractStore::of(&store, database)
});

/// When PostgreSQL cannot serve now, the store says so (`Unreachable`, a 503 the client may
/// retry) instead of reporting a fault, and it says so within its timeouts instead of waiting.
mod faults {
    use std::time::Duration;

    use conduit_domain::accounts::Username;
    use conduit_domain::ports::StoreError;
    use conduit_persistence::{PoolSettings, Store};
    use conduit_test_support::TestDb;

    async fn look_up_a_profile(store: &Store) -> Result<(), StoreError> {
        let username = Username::parse("jake").expect("a valid username");
        store
            .profiles()
            .find_by_username(&username, None)
            .await
            .map(|_| ())
    }

    #[tokio::test]
    async fn a_statement_that_outlives_the_statement_timeout_is_unreachable() {
        let database = TestDb::new().await;
        let settings = PoolSettings {
            statement_timeout: Duration::from_millis(200),
            ..PoolSettings::default()
        };
        let store = Store::Postgres(
            conduit_persistence::postgres::connect(database.url(), settings)
                .await
                .expect("connects"),
        );
        // Another session holds the users table: the look-up waits until its timeout cancels it.
        let mut holder = database.pool().begin().await.expect("a transaction");
        sqlx::query("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")
            .execute(&mut *holder)
            .await
            .expect("takes the lock");

        let outcome = look_up_a_profile(&store).await;

        assert!(
            matches!(outcome, Err(StoreError::Unreachable(_))),
            "{outcome:?}"
        );
        holder.rollback().await.expect("releases the lock");
        assert_eq!(look_up_a_profile(&store).await, Ok(()));
    }

    #[tokio::test]
    async fn a_server_that_cannot_be_reached_is_unreachable() {
        // Port 1 on the loopback: nothing listens, so every connection attempt is refused.
        let pool = sqlx::postgres::PgPoolOptions::new()
            .acquire_timeout(Duration::from_millis(500))
            .connect_lazy("postgres://conduit:conduit@127.0.0.1:1/conduit")
            .expect("a lazy pool");

        let outcome = look_up_a_profile(&Store::Postgres(pool)).await;

        assert!(
            matches!(outcome, Err(StoreError::Unreachable(_))),
            "{outcome:?}"
        );
    }
}
