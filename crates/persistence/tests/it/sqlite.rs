use conduit_persistence::{PoolSettings, Store};
use conduit_test_support::contract::ContractStore;

/// A migrated SQLite store in a temporary directory that lives as long as the test.
async fn sqlite_store() -> ContractStore {
    let directory = tempfile::tempdir().expect("a temporary directory");
    let url = format!("sqlite://{}", directory.path().join("conduit.db").display());
    let store = Store::connect(&url, PoolSettings::default())
        .await
        .expect("opens and migrates");
    ContractStore::of(&store, directory)
}

conduit_test_support::store_contract!(sqlite_store());
