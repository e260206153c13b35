//! The PostgreSQL store: production's.

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use crate::PoolSettings;

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
        .connect_with(options)
        .await
}
