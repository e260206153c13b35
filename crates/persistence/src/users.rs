//! Users: [`SqlUserRepository`], one adapter for both databases (see `db.rs`).

use async_trait::async_trait;
use conduit_domain::Timestamp;
use conduit_domain::accounts::{
    Bio, Email, ImageUrl, NewUser, PasswordHash, User, UserChanges, UserId, Username,
};
use conduit_domain::ports::{SessionId, StoreError, UniqueField, UserRepository};

use crate::Store;
use crate::db::{Args, DbTime};

const INSERT: &str = "
    INSERT INTO users (username, username_key, email, password_hash, created_at, updated_at)
    VALUES ($1, $2, $3, $4, $5, $5)
    RETURNING id, username, email, bio, image, password_hash, created_at, updated_at";

const FIND_BY_ID: &str = "
    SELECT id, username, email, bio, image, password_hash, created_at, updated_at
    FROM users WHERE id = $1";

/// The user of a live session (as `sessions::LIVE_USER` decides), `$1` the session, `$2` now.
const FIND_BY_LIVE_SESSION: &str = "
    SELECT u.id, u.username, u.email, u.bio, u.image, u.password_hash, u.created_at, u.updated_at
    FROM sessions s JOIN users u ON u.id = s.user_id
    WHERE s.id = $1 AND s.revoked_at IS NULL AND s.expires_at > $2";

const FIND_BY_EMAIL: &str = "
    SELECT id, username, email, bio, image, password_hash, created_at, updated_at
    FROM users WHERE email = $1";

/// `$n` for a field that may be left alone is paired with a flag, so that "clear it" (NULL) and
/// "leave it" can be told apart for the optional fields.
const UPDATE: &str = "
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

/// Whether a user other than `$2` has the canonical username `$1`.
const USERNAME_TAKEN: &str =
    "SELECT EXISTS (SELECT 1 FROM users WHERE username_key = $1 AND id <> $2) AS taken";

/// A `users` row as the database returns it.
#[derive(Debug, sqlx::FromRow)]
struct UserRow {
    id: i64,
    username: String,
    email: String,
    bio: Option<String>,
    image: Option<String>,
    password_hash: String,
    created_at: DbTime,
    updated_at: DbTime,
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
            created_at: row.created_at.into(),
            updated_at: row.updated_at.into(),
        })
    }
}

/// Users in either database.
#[derive(Debug, Clone)]
pub(crate) struct SqlUserRepository {
    store: Store,
}

impl SqlUserRepository {
    pub(crate) fn new(store: Store) -> Self {
        Self { store }
    }

    /// When both the username and the e-mail are taken, the conflict names the username, on every
    /// store: PostgreSQL reports the username's constraint first and SQLite the e-mail's, so an
    /// e-mail conflict looks for a taken username too (only on this failure path).
    async fn username_first(
        &self,
        outcome: Result<Option<UserRow>, StoreError>,
        username: Option<&Username>,
        except: i64,
    ) -> Result<Option<User>, StoreError> {
        let email_taken = StoreError::Conflict {
            field: UniqueField::Email,
        };
        match (outcome, username) {
            (Err(error), Some(username)) if error == email_taken => {
                let args = Args::new().bind(username.canonical()).bind(except);
                let (taken,): (bool,) = self.store.fetch_one(USERNAME_TAKEN, args).await?;
                Err(if taken {
                    StoreError::Conflict {
                        field: UniqueField::Username,
                    }
                } else {
                    email_taken
                })
            }
            (outcome, _) => outcome?.map(TryInto::try_into).transpose(),
        }
    }
}

#[async_trait]
impl UserRepository for SqlUserRepository {
    async fn insert(&self, user: NewUser) -> Result<User, StoreError> {
        let args = Args::new()
            .bind(user.username.as_str())
            .bind(user.username.canonical())
            .bind(user.email.as_str())
            .bind(user.password_hash.as_str())
            .bind(user.created_at);
        let outcome = self
            .store
            .write_one::<UserRow>(INSERT, args)
            .await
            .map(Some);
        self.username_first(outcome, Some(&user.username), 0)
            .await?
            .ok_or_else(|| StoreError::Unavailable("an insert returned no row".to_owned()))
    }

    async fn find_by_id(&self, id: UserId) -> Result<Option<User>, StoreError> {
        self.store
            .fetch_optional::<UserRow>(FIND_BY_ID, Args::new().bind(id.0))
            .await?
            .map(TryInto::try_into)
            .transpose()
    }

    async fn find_by_live_session(
        &self,
        session: SessionId,
        now: Timestamp,
    ) -> Result<Option<User>, StoreError> {
        let args = Args::new().bind(session.0).bind(now);
        self.store
            .fetch_optional::<UserRow>(FIND_BY_LIVE_SESSION, args)
            .await?
            .map(TryInto::try_into)
            .transpose()
    }

    async fn find_by_email(&self, email: &Email) -> Result<Option<User>, StoreError> {
        self.store
            .fetch_optional::<UserRow>(FIND_BY_EMAIL, Args::new().bind(email.as_str()))
            .await?
            .map(TryInto::try_into)
            .transpose()
    }

    async fn update(
        &self,
        id: UserId,
        changes: UserChanges,
        now: Timestamp,
    ) -> Result<Option<User>, StoreError> {
        let bio = changes
            .bio
            .as_ref()
            .map(|bio| bio.as_ref().map(Bio::as_str));
        let image = changes
            .image
            .as_ref()
            .map(|image| image.as_ref().map(ImageUrl::as_str));
        let args = Args::new()
            .bind(id.0)
            .bind(changes.username.as_ref().map(Username::as_str))
            .bind(changes.username.as_ref().map(Username::canonical))
            .bind(changes.email.as_ref().map(Email::as_str))
            .bind(changes.password_hash.as_ref().map(PasswordHash::as_str))
            .bind(bio.is_some())
            .bind(bio.flatten())
            .bind(image.is_some())
            .bind(image.flatten())
            .bind(now);
        let outcome = self.store.write_optional::<UserRow>(UPDATE, args).await;
        self.username_first(outcome, changes.username.as_ref(), id.0)
            .await
    }
}
