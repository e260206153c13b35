//! The in-memory fake must keep the same store contract as the real stores, or tests that use it
//! prove nothing.

use conduit_test_support::contract::ContractStore;

conduit_test_support::store_contract!(async { ContractStore::in_memory() });
