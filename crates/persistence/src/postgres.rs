//! The PostgreSQL store: production's.

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use time::OffsetDateTime;

use crate::PoolSettings;
use crate::content::content_repositories;
use crate::sessions::session_repository;
use crate::users::user_repository;

/// The PostgreSQL migrations, embedded in the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Opens a pool on `url`; no migrations are applied here.
pub async fn connect(url: &str, settings: PoolSettings) -> Result<PgPool, sqlx::Error> {
    let options: PgConnectOptions = url.parse()?;
    PgPoolOptions::new()
        .max_connections(settings.max_connections)
        .acquire_timeout(settings.acquire_timeout)
        .connect_with(options)
        .await
}

user_repository!(
    /// Users in PostgreSQL.
    PgUserRepository,
    PgPool
);

/// PostgreSQL keeps times as `timestamptz`: bound as they are.
fn time(at: OffsetDateTime) -> OffsetDateTime {
    at
}

content_repositories!(
    pool = PgPool,
    time = time,
    profiles = PgProfileRepository,
    articles = PgArticleRepository,
    comments = PgCommentRepository,
);

session_repository!(
    /// Sessions and refresh tokens.
    PgSessionRepository,
    PgPool,
    time = time
);
