//! The workspace-hack: no code, only the union of the features our crates ask of third-party
//! crates, so that building one package or the whole workspace compiles each dependency once.
//! Generated and kept current by `cargo hakari generate` (see `.config/hakari.toml`).
