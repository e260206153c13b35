//! The user repository, written once for both kinds of store.
//!
//! The SQL is the same for PostgreSQL and SQLite (sqlx binds `$N` on both), so one macro
//! generates both adapters. Rejected alternative: sqlx's `Any` driver, which would lose
//! PostgreSQL's native types and constraint names.

use conduit_domain::ports::StoreError;
use conduit_domain::user::{Bio, Email, ImageUrl, PasswordHash, User, UserId, Username};
use time::OffsetDateTime;

pub(crate) const INSERT: &str = "
    INSERT INTO users (username, username_key, email, password_hash, created_at, updated_at)
    VALUES ($1, $2, $3, $4, $5, $5)
    RETURNING id, username, email, bio, image, password_hash, created_at, updated_at";

pub(crate) const FIND_BY_ID: &str = "
    SELECT id, username, email, bio, image, password_hash, created_at, updated_at
    FROM users WHERE id = $1";

pub(crate) const FIND_BY_EMAIL: &str = "
    SELECT id, username, email, bio, image, password_hash, created_at, updated_at
    FROM users WHERE email = $1";

/// `$n` for a field that may be left alone is paired with a flag, so that "clear it" (NULL) and
/// "leave it" can be told apart for the optional fields.
pub(crate) const UPDATE: &str = "
    UPDATE users SET
        username      = COALESCE($2, username),
        username_key  = COALESCE($3, username_key),
        email         = COALESCE($4, email),
        password_hash = COALESCE($5, password_hash),
        bio           = CASE WHEN $6 THEN $7 ELSE bio END,
        image         = CASE WHEN $8 THEN $9 ELSE image END,
        updated_at    = $10
    WHERE id = $1
    RETURNING id, username, email, bio, image, password_hash, created_at, updated_at";

/// A `users` row as the database returns it.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct UserRow {
    id: i64,
    username: String,
    email: String,
    bio: Option<String>,
    image: Option<String>,
    password_hash: String,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;

    /// Rows are parsed like any other input: a row that breaks a rule is reported, never trusted.
    fn try_from(row: UserRow) -> Result<Self, StoreError> {
        let corrupt = |field: &str| {
            StoreError::Unavailable(format!("user {} has an invalid {field}", row.id))
        };
        Ok(User {
            id: UserId(row.id),
            username: Username::parse(&row.username).map_err(|_| corrupt("username"))?,
            email: Email::parse(&row.email).map_err(|_| corrupt("email"))?,
            bio: row
                .bio
                .as_deref()
                .map(Bio::parse)
                .transpose()
                .map_err(|_| corrupt("bio"))?,
            image: row
                .image
                .as_deref()
                .map(ImageUrl::parse)
                .transpose()
                .map_err(|_| corrupt("image"))?,
            password_hash: PasswordHash::from_phc(row.password_hash),
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

/// Generates a [`UserRepository`](conduit_domain::ports::UserRepository) adapter over a pool.
macro_rules! user_repository {
    ($(#[$meta:meta])* $name:ident, $pool:ty) => {
        $(#[$meta])*
        #[derive(Debug, Clone)]
        pub struct $name {
            pool: $pool,
        }

        impl $name {
            pub fn new(pool: $pool) -> Self {
                Self { pool }
            }
        }

        #[async_trait::async_trait]
        impl conduit_domain::ports::UserRepository for $name {
            async fn insert(
                &self,
                user: conduit_domain::user::NewUser,
            ) -> Result<conduit_domain::user::User, conduit_domain::ports::StoreError> {
                sqlx::query_as::<_, $crate::users::UserRow>($crate::users::INSERT)
                    .bind(user.username.as_str())
                    .bind(user.username.canonical())
                    .bind(user.email.as_str())
                    .bind(user.password_hash.as_str())
                    .bind(user.created_at)
                    .fetch_one(&self.pool)
                    .await
                    .map_err($crate::error::store_error)?
                    .try_into()
            }

            async fn find_by_id(
                &self,
                id: conduit_domain::user::UserId,
            ) -> Result<Option<conduit_domain::user::User>, conduit_domain::ports::StoreError> {
                sqlx::query_as::<_, $crate::users::UserRow>($crate::users::FIND_BY_ID)
                    .bind(id.0)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err($crate::error::store_error)?
                    .map(TryInto::try_into)
                    .transpose()
            }

            async fn find_by_email(
                &self,
                email: &conduit_domain::user::Email,
            ) -> Result<Option<conduit_domain::user::User>, conduit_domain::ports::StoreError> {
                sqlx::query_as::<_, $crate::users::UserRow>($crate::users::FIND_BY_EMAIL)
                    .bind(email.as_str())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err($crate::error::store_error)?
                    .map(TryInto::try_into)
                    .transpose()
            }

            async fn update(
                &self,
                id: conduit_domain::user::UserId,
                changes: conduit_domain::user::UserChanges,
                now: time::OffsetDateTime,
            ) -> Result<Option<conduit_domain::user::User>, conduit_domain::ports::StoreError> {
                let bio = changes.bio.as_ref().map(|bio| bio.as_ref().map(|b| b.as_str()));
                let image = changes.image.as_ref().map(|image| image.as_ref().map(|i| i.as_str()));
                sqlx::query_as::<_, $crate::users::UserRow>($crate::users::UPDATE)
                    .bind(id.0)
                    .bind(changes.username.as_ref().map(|u| u.as_str()))
                    .bind(changes.username.as_ref().map(|u| u.canonical()))
                    .bind(changes.email.as_ref().map(|e| e.as_str()))
                    .bind(changes.password_hash.as_ref().map(|h| h.as_str()))
                    .bind(bio.is_some())
                    .bind(bio.flatten())
                    .bind(image.is_some())
                    .bind(image.flatten())
                    .bind(now)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err($crate::error::store_error)?
                    .map(TryInto::try_into)
                    .transpose()
            }
        }
    };
}

pub(crate) use user_repository;
