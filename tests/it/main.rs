//! End-to-end: the real server, built exactly as `main` builds it, bound to port 0, driven over
//! real HTTP by reqwest, against SQLite and against PostgreSQL.

// The users and authentication journey, once per store.
mod users;
// Two users who follow, write, favourite, comment, read the feed and page through lists, once
// per store.
mod publishing;
// Refresh, replay, logout, logout-all, password change, key rotation across a restart, and
// throttling.
mod sessions;
// GET /api/live: events across instances, resume, logout, expiry and shutdown.
mod live;
// What a client sees when the database drops the server's connections.
mod faults;
// What the common clients do with no configuration: the test runner's and the Angular
// frontend's passwords, the password policy per environment, and a trailing slash on every route.
mod clients;
