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

/// Every unique constraint a write can break, with the field it guards: by the constraint's name
/// (as the migrations declare it and PostgreSQL reports it) and by the columns SQLite names in its
/// message instead (`UNIQUE constraint failed: users.email`).
const UNIQUE_CONSTRAINTS: [(&str, &str, UniqueField); 3] = [
    (
        "users_username_key",
        "users.username_key",
        UniqueField::Username,
    ),
    ("users_email_key", "users.email", UniqueField::Email),
    ("articles_slug_key", "articles.slug", UniqueField::Slug),
];

/// The field a unique violation is about, found by exact name.
fn violated_field(error: &dyn sqlx::error::DatabaseError) -> Option<UniqueField> {
    let sqlite_columns = error.message().strip_prefix("UNIQUE constraint failed: ");
    UNIQUE_CONSTRAINTS
        .iter()
        .find(|(constraint, columns, _)| {
            error.constraint() == Some(*constraint) || sqlite_columns == Some(*columns)
        })
        .map(|(_, _, field)| *field)
}

/// Maps a driver error to the domain's: unique violations become conflicts on the field the
/// violated constraint guards; everything else is logged here and reported as unavailable.
pub(crate) fn store_error(error: sqlx::Error) -> StoreError {
    if let Some(database_error) = error.as_database_error()
        && database_error.is_unique_violation()
        && let Some(field) = violated_field(database_error)
    {
        return StoreError::Conflict { field };
    }
    // sqlx errors carry the server's message and never the SQL text or its parameters.
    tracing::error!(error = %error, "database operation failed");
    StoreError::Unavailable(error.to_string())
}
