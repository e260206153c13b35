//! The SQLite store: the embedded default, so that `cargo run` needs no database server.
//!
//! SQLite keeps times as text, RFC 3339 in UTC with exactly three fractional digits, so that
//! comparing the text compares the times (`db::DbTime`). sqlx's own encoding drops trailing
//! zeros, and `12:00:00Z` would sort after `12:00:00.5Z`.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};

use crate::PoolSettings;

/// The SQLite migrations, embedded in the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// Opens (creating if need be) the database file at `url`, in WAL mode with foreign keys on and a
/// busy timeout, so concurrent writers wait for each other instead of failing.
pub async fn connect(url: &str, settings: PoolSettings) -> Result<SqlitePool, sqlx::Error> {
    let options = SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5));
    SqlitePoolOptions::new()
        .max_connections(settings.max_connections)
        .acquire_timeout(settings.acquire_timeout)
        .connect_with(options)
        .await
}
