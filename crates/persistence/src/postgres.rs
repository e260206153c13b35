//! The PostgreSQL store: production's.

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use tokio::sync::Notify;

use crate::PoolSettings;
use crate::db::ANSWER_GRACE;

/// A PostgreSQL store: its pool, the signal its commits wake, and where it listens for live
/// events.
#[derive(Debug, Clone)]
pub struct PgStore {
    pub pool: PgPool,
    /// Woken after every write of this process: the live-events sequencer then gives the events
    /// the triggers may have appended their ids (see `live::sequence`).
    pub written: Arc<Notify>,
    /// A pool of one connection for `LISTEN`, when it must not go through `pool` (a pooler in
    /// transaction mode in between); `None`: `pool` serves it.
    listen: Option<PgPool>,
    /// The live events' own pool, on the same server with the same settings: the sequencer,
    /// the fold of the list counts and the fan-out's reads ([`crate::Store::background`]), so
    /// that requests that fill `pool` (waiting on a lock, say) hold back no live event.
    pub(crate) background: PgPool,
    /// How long a request's statement may go unanswered before it is given up on: the
    /// statement timeout PostgreSQL applies, and a grace for its answer ([`Self::answering_within`]).
    pub(crate) deadline: Duration,
}

/// How many connections the live events' work holds at most: the sequencer, the fold and the
/// fan-out, one each.
pub const BACKGROUND_CONNECTIONS: u32 = 3;

/// How long the live events' work waits for a connection of its own pool, at the least. No
/// client waits on it, so it need not give up as soon as a request does: with the requests'
/// acquire timeout (200 ms in a test that fills the requests' pool), a fan-out's read under a
/// loaded machine gave up while the sequencer and the fold held the pool or a new connection
/// was still in its handshake, and the fan-out waited a whole retry for nothing.
const BACKGROUND_PATIENCE: Duration = Duration::from_secs(10);

impl From<PgPool> for PgStore {
    fn from(pool: PgPool) -> Self {
        let background = PgPoolOptions::new()
            .max_connections(BACKGROUND_CONNECTIONS)
            .acquire_timeout(
                pool.options()
                    .get_acquire_timeout()
                    .max(BACKGROUND_PATIENCE),
            )
            .connect_lazy_with(pool.connect_options().as_ref().clone());
        Self {
            pool,
            written: Arc::new(Notify::new()),
            listen: None,
            background,
            deadline: PoolSettings::default().statement_timeout + ANSWER_GRACE,
        }
    }
}

impl PgStore {
    /// Gives up on a request's statement that has no answer `statement_timeout` (the one the
    /// pool's connections set, [`connect`]) plus [`ANSWER_GRACE`] after it was sent.
    #[must_use]
    pub fn answering_within(mut self, statement_timeout: Duration) -> Self {
        self.deadline = statement_timeout + ANSWER_GRACE;
        self
    }

    /// Listens for live events on a connection to `url` instead of one of the pool's: a
    /// session-level `LISTEN` needs a connection of its own to the server, which a pooler in
    /// transaction mode (PgBouncer's `pool_mode = transaction`) does not give. Connects lazily.
    pub fn listening_through(mut self, url: &str) -> Result<Self, sqlx::Error> {
        let options: PgConnectOptions = url.parse()?;
        self.listen = Some(
            PgPoolOptions::new()
                .max_connections(1)
                .max_lifetime(None)
                .idle_timeout(None)
                .connect_lazy_with(options),
        );
        Ok(self)
    }

    /// This store through its [`Self::background`] pool.
    pub(crate) fn background(&self) -> Self {
        Self {
            pool: self.background.clone(),
            ..self.clone()
        }
    }

    /// Where `LISTEN` connects.
    pub(crate) fn listen_pool(&self) -> &PgPool {
        self.listen.as_ref().unwrap_or(&self.pool)
    }

    pub(crate) async fn close(&self) {
        self.pool.close().await;
        self.background.close().await;
        if let Some(listen) = &self.listen {
            listen.close().await;
        }
    }
}

/// The PostgreSQL migrations, embedded in the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Opens a pool on `url`; no migrations are applied here.
pub async fn connect(url: &str, settings: PoolSettings) -> Result<PgPool, sqlx::Error> {
    let options: PgConnectOptions = url.parse()?;
    let options = options.options([(
        "statement_timeout",
        settings.statement_timeout.as_millis().to_string(),
    )]);
    PgPoolOptions::new()
        .max_connections(settings.max_connections)
        .acquire_timeout(settings.acquire_timeout)
        // sqlx pings a connection when it is returned (always) and again when it is acquired:
        // two round trips beside each statement. The return's ping already found it alive, so
        // it is pinged on acquire only when it has been idle long enough for the server to have
        // gone away meanwhile (a restart, a failover). A connection that still breaks fails its
        // statement, which answers 503 like any other lost connection, and is not returned.
        .test_before_acquire(false)
        .before_acquire(|connection, meta| {
            Box::pin(async move {
                if meta.idle_for >= PING_WHEN_IDLE_FOR {
                    sqlx::Connection::ping(connection).await?;
                }
                Ok(true)
            })
        })
        .connect_with(options)
        .await
}

/// How long a connection may sit idle in the pool before it is pinged on acquire.
const PING_WHEN_IDLE_FOR: std::time::Duration = std::time::Duration::from_secs(1);
