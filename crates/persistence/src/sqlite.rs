//! The SQLite store: the embedded default, so that `cargo run` needs no database server.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};

use time::OffsetDateTime;
use time::macros::format_description;

use crate::PoolSettings;
use crate::content::content_repositories;
use crate::sessions::session_repository;
use crate::users::user_repository;

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

user_repository!(
    /// Users in a SQLite file.
    SqliteUserRepository,
    SqlitePool
);

/// SQLite keeps times as text: RFC 3339 in UTC with exactly three fractional digits (the
/// precision of every clock here), so that comparing the text compares the times. sqlx's own
/// encoding drops trailing zeros, and `12:00:00Z` would sort after `12:00:00.5Z`.
fn time(at: OffsetDateTime) -> String {
    let format =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    at.to_offset(time::UtcOffset::UTC)
        .format(&format)
        .unwrap_or_else(|_| at.unix_timestamp().to_string())
}

content_repositories!(
    pool = SqlitePool,
    time = time,
    profiles = SqliteProfileRepository,
    articles = SqliteArticleRepository,
    comments = SqliteCommentRepository,
);

session_repository!(
    /// Sessions and refresh tokens.
    SqliteSessionRepository,
    SqlitePool,
    time = time
);
