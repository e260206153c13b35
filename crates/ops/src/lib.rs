//! Operations tooling, outside the server and outside the tests: [`topology`] runs production's
//! topology from processes (nginx in front of two release instances on PostgreSQL, in a
//! testcontainers container), [`rehearsal`] drives it through a rolling restart, a database
//! restart and load, and [`live_bench`] and [`hostile_bench`] measure live updates on it. The
//! `conduit-rehearsal` binary runs them; `cargo xtask up`, `rehearse`, `live-bench` and
//! `hostile-bench` build the release binary first and call it.
//!
//! It depends on no crate of the server's: it meets the server over HTTP and WebSocket as a
//! client does, with the test support's clients (`LiveClient`, `RawSocket`).

pub mod hostile_bench;
pub mod live_bench;
pub mod rehearsal;
pub mod topology;
