//! End-to-end tests of the real server; the tests live in `it/`.
