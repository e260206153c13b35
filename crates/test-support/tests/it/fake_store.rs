use conduit_test_support::contract::ContractStore;

conduit_test_support::store_contract!(async { ContractStore::in_memory() });
