//! The HTTP layer in-process: real routing, extractors and error mapping, with the use cases over
//! fakes (multi-step flows) or mockall mocks (one port's failure). No socket, no database.

// Shared set-up: the app over fakes, request helpers.
mod support;
// Malformed bodies, wrong content types, unknown routes: the error envelope everywhere.
mod errors;
// A trailing slash: routed as the path without it, 404s and 405s kept, logged as sent.
mod trailing_slash;
// Liveness and readiness.
mod health;
// POST /users, POST /users/login, GET /user, PUT /user.
mod users;
// GET /profiles/{username}, follow and unfollow.
mod profiles;
// Articles: list, feed, create, read, update, delete, favourite; and GET /tags.
mod articles;
// Comments: list, create, delete.
mod comments;
// Refresh, replay, logout, logout-all, throttling, password rules.
mod sessions;
// Security headers on every response; CORS for the configured origins only.
mod headers;
// GET /api/live: the WebSocket handshake, authentication, frames, events, resume and close codes.
mod live;
// GET /api/live attacked: each limit met as an attacker meets it, and what the server spends.
mod hostile;
// GET /api/openapi.json against the contract's operations; the /docs page.
mod openapi;
