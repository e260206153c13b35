//! The SQLite store: the embedded default, so that `cargo run` needs no database server.
//!
//! SQLite keeps times as text, RFC 3339 in UTC with exactly three fractional digits, so that
//! comparing the text compares the times (`db::DbTime`). sqlx's own encoding drops trailing
//! zeros, and `12:00:00Z` would sort after `12:00:00.5Z`.
//!
//! SQLite lets one writer at a time into a database file. Left to find that out for themselves,
//! concurrent writers each start a deferred transaction, collide when they upgrade to a write,
//! and wait out `busy_timeout` in back-off sleeps: that is how 32 concurrent `POST /api/articles`
//! reached a p99 of 600 ms. So writes are serialised on purpose, in the open:
//!
//! - **one writer connection** ([`SqlitePools::writer`]): writers queue for it in the pool, in
//!   order, instead of polling a lock;
//! - **`BEGIN IMMEDIATE`** for every transaction: the write lock is taken at the start, so a
//!   transaction never fails half-way for want of it (this matters when another process, such as
//!   the `sqlite3` shell, writes to the same file);
//! - **WAL** journal: readers never block the writer nor the writer the readers;
//! - **`synchronous = NORMAL`**: in WAL mode a commit survives a crash of the process, and only
//!   a power loss can roll back the last commits; it saves an fsync per commit;
//! - **`busy_timeout` of 5 s**, for locks held by other processes;
//! - **read-only reader connections** ([`SqlitePools::reader`]), as many as the pool settings
//!   allow, so reads stay concurrent, and a write sent to the wrong pool fails loudly in tests.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use tokio::sync::Notify;

use crate::PoolSettings;

/// The SQLite migrations, embedded in the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// How long a connection waits for a lock that another process holds.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The statement that opens every write transaction.
pub const BEGIN_WRITE: &str = "BEGIN IMMEDIATE";

/// The two pools of one SQLite database: one writer connection, and read-only readers.
#[derive(Debug, Clone)]
pub struct SqlitePools {
    pub writer: SqlitePool,
    pub reader: SqlitePool,
    /// Woken after every write: SQLite serves one instance, whose live fan-out then reads the
    /// outbox (PostgreSQL's `NOTIFY` does this across instances).
    pub written: Arc<Notify>,
}

impl SqlitePools {
    pub async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }
}

/// Opens (creating if need be) the database file at `url`: the writer first, which creates the
/// file and puts it in WAL mode, then the readers.
pub async fn connect(url: &str, settings: PoolSettings) -> Result<SqlitePools, sqlx::Error> {
    let options = SqliteConnectOptions::from_str(url)?
        .foreign_keys(true)
        .busy_timeout(BUSY_TIMEOUT);
    let writer = SqlitePoolOptions::new()
        .max_connections(1)
        .acquire_timeout(settings.acquire_timeout)
        .connect_with(
            options
                .clone()
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal),
        )
        .await?;
    let reader = SqlitePoolOptions::new()
        .max_connections(settings.max_connections.max(1))
        .acquire_timeout(settings.acquire_timeout)
        .connect_with(options.read_only(true))
        .await?;
    Ok(SqlitePools {
        writer,
        reader,
        written: Arc::new(Notify::new()),
    })
}
