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

/// PostgreSQL's SQLSTATEs that say the server cannot serve now rather than that the statement is
/// wrong: a statement over `statement_timeout` (57014), a server shutting down or starting
/// (57P01 to 57P03), too many connections (53300), a deadlock it broke by failing this
/// statement (40P01: nothing was written, and the same request may pass), and every connection
/// exception (class 08).
fn postgres_cannot_serve_now(code: &str) -> bool {
    matches!(
        code,
        "57014" | "57P01" | "57P02" | "57P03" | "53300" | "40P01"
    ) || code.starts_with("08")
}

/// The kind of resource a foreign key violation says is gone: a write referred to an article
/// that was deleted meanwhile (PostgreSQL names the constraint, SQLite only says "FOREIGN KEY
/// constraint failed"; every foreign key a request's write can break points at an article).
fn gone(error: &dyn sqlx::error::DatabaseError) -> Option<&'static str> {
    let foreign_key = error.is_foreign_key_violation();
    let of_an_article = error
        .constraint()
        .is_none_or(|constraint| constraint.ends_with("_article_id_fkey"));
    (foreign_key && of_an_article).then_some("article")
}

/// Whether `error` says the database could not be reached or did not answer in time, so that
/// the same request may pass shortly: no connection within the acquire timeout, a connection
/// that broke, a server that cannot serve now, or (SQLite) a database still locked after the
/// busy timeout.
pub(crate) fn is_unreachable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(database_error) => {
            if database_error
                .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
                .is_some()
            {
                database_error
                    .code()
                    .is_some_and(|code| postgres_cannot_serve_now(&code))
            } else {
                // SQLite's extended result codes keep the primary code in their low byte:
                // SQLITE_BUSY is 5 and SQLITE_LOCKED 6.
                database_error
                    .code()
                    .and_then(|code| code.parse::<u32>().ok())
                    .is_some_and(|code| matches!(code & 0xff, 5 | 6))
            }
        }
        _ => false,
    }
}

/// Maps a driver error to the domain's: unique violations become conflicts on the field the
/// violated constraint guards; a database that cannot be reached in time is unreachable;
/// everything else is logged here and reported as unavailable.
pub(crate) fn store_error(error: sqlx::Error) -> StoreError {
    if let Some(database_error) = error.as_database_error()
        && database_error.is_unique_violation()
        && let Some(field) = violated_field(database_error)
    {
        return StoreError::Conflict { field };
    }
    if let Some(kind) = error.as_database_error().and_then(gone) {
        return StoreError::Gone(kind);
    }
    // sqlx errors carry the server's message and never the SQL text or its parameters.
    if is_unreachable(&error) {
        tracing::warn!(error = %error, "the database could not be reached or did not answer in time");
        return StoreError::Unreachable(error.to_string());
    }
    tracing::error!(error = %error, "database operation failed");
    StoreError::Unavailable(error.to_string())
}

#[cfg(test)]
mod tests {
    use super::postgres_cannot_serve_now;

    #[test]
    fn postgres_codes_that_mean_try_again_later_are_told_from_faults() {
        for code in [
            "57014", "57P01", "57P02", "57P03", "53300", "40P01", "08006", "08001",
        ] {
            assert!(postgres_cannot_serve_now(code), "{code}");
        }
        for code in ["23505", "42P01", "22P02", "40001", "57000"] {
            assert!(!postgres_cannot_serve_now(code), "{code}");
        }
    }
}
