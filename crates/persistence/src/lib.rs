//! Conduit's store adapters: PostgreSQL (production) and SQLite (the embedded default), both
//! through sqlx, behind the port traits of `conduit-domain`.
//!
//! This crate depends on `conduit-domain` and on no other crate of ours; it knows nothing about
//! HTTP. Every adapter passes the one store contract suite in `conduit-test-support`. Driver errors
//! never leave this crate: unique violations become `StoreError::Conflict`, everything else
//! `StoreError::Unavailable` with context for the logs.

mod articles;
mod comments;
mod db;
mod error;
mod list_query;
mod live;
mod login_failures;
pub mod postgres;
mod profiles;
pub mod queries;
mod sessions;
pub mod sqlite;
mod users;

use std::sync::Arc;

use conduit_domain::ports::{
    ArticleRepository, CommentRepository, EventLog, LoginFailures, ProfileRepository,
    SessionRepository, StoreError, UserRepository,
};
use tokio::sync::Notify;

use crate::articles::SqlArticleRepository;
use crate::comments::SqlCommentRepository;
use crate::live::SqlEventLog;
use crate::login_failures::SqlLoginFailures;
use crate::profiles::SqlProfileRepository;
use crate::sessions::SqlSessionRepository;
use crate::users::SqlUserRepository;

pub use error::ConnectError;

/// A connected, migrated store of either kind, chosen by the database URL's scheme.
#[derive(Debug, Clone)]
pub enum Store {
    Postgres(postgres::PgStore),
    Sqlite(sqlite::SqlitePools),
}

/// Pool settings shared by both kinds of store.
#[derive(Debug, Clone, Copy)]
pub struct PoolSettings {
    pub max_connections: u32,
    /// How long a request waits for a connection before the store answers `Unreachable`.
    pub acquire_timeout: std::time::Duration,
    /// PostgreSQL cancels a statement that runs longer (`statement_timeout`), and the store
    /// answers `Unreachable`. SQLite waits at most its busy timeout for the write lock instead.
    pub statement_timeout: std::time::Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            max_connections: 10,
            acquire_timeout: std::time::Duration::from_secs(5),
            statement_timeout: std::time::Duration::from_secs(10),
        }
    }
}

impl Store {
    /// Connects to `url` (`postgres://...` or `sqlite://...`) and applies pending migrations.
    pub async fn connect(url: &str, settings: PoolSettings) -> Result<Self, ConnectError> {
        let store = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Self::Postgres(
                postgres::PgStore::from(postgres::connect(url, settings).await?)
                    .answering_within(settings.statement_timeout),
            )
        } else if url.starts_with("sqlite:") {
            Self::Sqlite(sqlite::connect(url, settings).await?)
        } else {
            return Err(ConnectError::UnsupportedUrl);
        };
        store.migrate().await?;
        Ok(store)
    }

    /// Applies the migrations this build carries that the database has not seen yet.
    pub async fn migrate(&self) -> Result<(), ConnectError> {
        match self {
            Self::Postgres(pg) => postgres::MIGRATOR.run(&pg.pool).await?,
            Self::Sqlite(pools) => sqlite::MIGRATOR.run(&pools.writer).await?,
        }
        Ok(())
    }

    /// Whether the database answers a trivial query; on PostgreSQL, within the time a
    /// request's statement is given (`db::answered`): a database that stopped answering is not
    /// ready.
    pub async fn is_ready(&self) -> bool {
        match self {
            Self::Postgres(pg) => {
                let patience = pg.pool.options().get_acquire_timeout() + pg.deadline;
                let ping = sqlx::query("SELECT 1").execute(&pg.pool);
                matches!(tokio::time::timeout(patience, ping).await, Ok(Ok(_)))
            }
            Self::Sqlite(pools) => sqlx::query("SELECT 1").execute(&pools.reader).await.is_ok(),
        }
    }

    pub fn users(&self) -> Arc<dyn UserRepository> {
        Arc::new(SqlUserRepository::new(self.clone()))
    }

    pub fn sessions(&self) -> Arc<dyn SessionRepository> {
        Arc::new(SqlSessionRepository::new(self.clone()))
    }

    pub fn profiles(&self) -> Arc<dyn ProfileRepository> {
        Arc::new(SqlProfileRepository::new(self.clone()))
    }

    pub fn articles(&self) -> Arc<dyn ArticleRepository> {
        Arc::new(SqlArticleRepository::new(self.clone()))
    }

    pub fn comments(&self) -> Arc<dyn CommentRepository> {
        Arc::new(SqlCommentRepository::new(self.clone()))
    }

    /// Where failed logins are counted: the database, so that every replica (on PostgreSQL)
    /// counts the same failures, and a restart forgets none.
    pub fn login_failures(&self) -> Arc<dyn LoginFailures> {
        Arc::new(SqlLoginFailures::new(self.clone()))
    }

    /// The outbox of live events.
    pub fn event_log(&self) -> Arc<dyn EventLog> {
        Arc::new(SqlEventLog::new(self.clone()))
    }

    /// This store, reading and writing through the live events' own pool on PostgreSQL (at most
    /// [`postgres::BACKGROUND_CONNECTIONS`], beside the requests' pool), where the sequencer and
    /// the fold run: for the fan-out's reads, so that requests that fill the requests' pool hold
    /// back no live event. SQLite's store is returned as it is.
    #[must_use]
    pub fn background(&self) -> Self {
        match self {
            Self::Postgres(pg) => Self::Postgres(pg.background()),
            Self::Sqlite(_) => self.clone(),
        }
    }

    /// On PostgreSQL, `LISTEN`s for live events on a connection to `url` (`LIVE_DATABASE_URL`)
    /// instead of one of the pool's: see [`postgres::PgStore::listening_through`]. SQLite has
    /// nothing to listen to, and is returned as it is.
    pub fn listening_through(self, url: &str) -> Result<Self, ConnectError> {
        Ok(match self {
            Self::Postgres(pg) => Self::Postgres(pg.listening_through(url)?),
            Self::Sqlite(_) => self,
        })
    }

    /// What wakes the live fan-out when events may have been appended: on SQLite, every write of
    /// this process. On PostgreSQL, three tasks started here, which end when the store closes:
    /// the sequencer, which gives new events their ids after this process's writes (and once a
    /// second, for other writers; see `live::sequence`); the fold, which folds the changes of the
    /// list counts after each sequencing, in a task of its own so that it never delays one
    /// (`live::fold`); and the listener, which `LISTEN`s for the sequencers' `NOTIFY` (from any
    /// instance), reconnects when its connection drops, and wakes once after each connection so
    /// that the fan-out catches up. Must be called within a Tokio runtime.
    pub fn event_signal(&self) -> Arc<Notify> {
        match self {
            Self::Postgres(pg) => {
                let wake = Arc::new(Notify::new());
                let fold = Arc::new(Notify::new());
                tokio::spawn(live::sequence(pg.clone(), fold.clone()));
                tokio::spawn(live::fold(pg.background.clone(), fold));
                tokio::spawn(live::listen(pg.clone(), wake.clone()));
                wake
            }
            Self::Sqlite(pools) => pools.written.clone(),
        }
    }

    /// Folds the changes of the list counts that writes left into the counts now, as the
    /// PostgreSQL store does after its writes (`event_signal`'s sequencer). No answer changes:
    /// readers add the changes not yet folded. SQLite's triggers keep the counts themselves.
    pub async fn fold_counts(&self) -> Result<(), StoreError> {
        match self {
            Self::Postgres(pg) => live::fold_counts(&pg.pool).await.map(drop),
            Self::Sqlite(_) => Ok(()),
        }
    }

    /// Closes every connection; waits for those in use to be returned.
    pub async fn close(&self) {
        match self {
            Self::Postgres(pg) => pg.close().await,
            Self::Sqlite(pools) => pools.close().await,
        }
    }
}
