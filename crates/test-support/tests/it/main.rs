//! The in-memory fake must keep the same store contract as the real stores, or tests that use it
//! prove nothing.

use std::sync::Arc;

use conduit_test_support::InMemoryUserRepository;
use conduit_test_support::contract::ContractStore;

conduit_test_support::store_contract!(async {
    ContractStore::new(Arc::new(InMemoryUserRepository::new()))
});
