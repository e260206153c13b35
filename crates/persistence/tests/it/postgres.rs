use conduit_persistence::Store;
use conduit_test_support::TestDb;
use conduit_test_support::contract::ContractStore;

conduit_test_support::store_contract!(async {
    let database = TestDb::new().await;
    let store = Store::Postgres(database.pool().clone());
    ContractStore::of(&store, database)
});
