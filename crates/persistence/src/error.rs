use conduit_domain::ports::{StoreError, UniqueField};

/// Why a store could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("DATABASE_URL must start with postgres:// or sqlite:")]
    UnsupportedUrl,
    #[error("could not connect to the database: {0}")]
    Connect(#[from] sqlx::Error),
    #[error("could not apply migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// Maps a driver error to the domain's: unique violations become conflicts on the field the
/// violated constraint guards; everything else is logged here and reported as unavailable.
pub(crate) fn store_error(error: sqlx::Error) -> StoreError {
    if let Some(database_error) = error.as_database_error()
        && database_error.is_unique_violation()
    {
        // Postgres names the constraint; SQLite names it in the message only.
        let constraint = database_error
            .constraint()
            .map(str::to_owned)
            .unwrap_or_else(|| database_error.message().to_owned());
        if constraint.contains("username") {
            return StoreError::Conflict {
                field: UniqueField::Username,
            };
        }
        if constraint.contains("email") {
            return StoreError::Conflict {
                field: UniqueField::Email,
            };
        }
        if constraint.contains("slug") {
            return StoreError::Conflict {
                field: UniqueField::Slug,
            };
        }
    }
    // sqlx errors carry the server's message and never the SQL text or its parameters.
    tracing::error!(error = %error, "database operation failed");
    StoreError::Unavailable(error.to_string())
}

/// Runs a statement with its parameters on an executor (a pool or a transaction) and answers the
/// number of rows it changed, with driver errors mapped by [`store_error`].
macro_rules! execute {
    ($executor:expr, $sql:expr $(, $param:expr)* $(,)?) => {
        sqlx::query($sql)
            $(.bind($param))*
            .execute($executor)
            .await
            .map(|done| done.rows_affected())
            .map_err($crate::error::store_error)
    };
}

pub(crate) use execute;
