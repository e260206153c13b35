use std::sync::Arc;

use conduit_persistence::postgres::PgUserRepository;
use conduit_test_support::TestDb;
use conduit_test_support::contract::ContractStore;

conduit_test_support::store_contract!(async {
    let database = TestDb::new().await;
    let users = Arc::new(PgUserRepository::new(database.pool().clone()));
    ContractStore::with_guard(users, database)
});
