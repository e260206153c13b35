//! Integration tests of the store adapters: one binary, a module per store.
//!
//! Every store runs the same contract suite from `conduit-test-support`.

// EXPLAIN of every article list query on 100,000 PostgreSQL articles: indexes only.
mod plans;
// The contract suite against a PostgreSQL database of its own per test (needs Docker).
mod postgres;
// The contract suite against a SQLite file of its own per test.
mod sqlite;
// Connecting, migrating, readiness: what `Store` does beyond the repositories.
mod store;
