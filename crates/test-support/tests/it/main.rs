//! Tests of the test support itself.

// The PostgreSQL harness leaves no container behind, even when a test process is killed.
mod containers;
// The in-memory fake keeps the same store contract as the real stores, or tests that use it prove
// nothing.
mod fake_store;
