//! Profiles and follows: [`SqlProfileRepository`], and the author columns every view reads.

use async_trait::async_trait;
use conduit_domain::accounts::{Bio, ImageUrl, UserId, Username};
use conduit_domain::ports::{ProfileRepository, StoreError};
use conduit_domain::profiles::{Author, Profile};

use crate::Store;
use crate::db::Args;

/// The columns of [`AuthorRow`] for the user `u`, as the viewer `$1` sees them (`following`).
/// Articles and comments join their author as `u` and select these.
pub(crate) const AUTHOR_COLUMNS: &str = "
    u.id AS author_id, u.username AS author_username, u.bio AS author_bio,
    u.image AS author_image,
    EXISTS (SELECT 1 FROM follows f
            WHERE f.follower_id = $1 AND f.followee_id = u.id) AS following";

const FOLLOW: &str =
    "INSERT INTO follows (follower_id, followee_id) VALUES ($1, $2) ON CONFLICT DO NOTHING";
const UNFOLLOW: &str = "DELETE FROM follows WHERE follower_id = $1 AND followee_id = $2";

/// `PROFILE_BY_USERNAME`: `$1` is the viewer, `$2` the canonical username.
fn profile_by_username() -> String {
    format!("SELECT {AUTHOR_COLUMNS} FROM users u WHERE u.username_key = $2")
}

/// `PROFILE_BY_ID`: `$1` is the viewer, `$2` the user's id.
fn profile_by_id() -> String {
    format!("SELECT {AUTHOR_COLUMNS} FROM users u WHERE u.id = $2")
}

const FOLLOWERS: &str = "SELECT follower_id FROM follows WHERE followee_id = $1";

/// The author columns of a view, with the viewer's `following`.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct AuthorRow {
    author_id: i64,
    author_username: String,
    author_bio: Option<String>,
    author_image: Option<String>,
    following: bool,
}

/// Rows are parsed like any other input: a row that breaks a rule is reported, never trusted.
pub(crate) fn corrupt(kind: &str, id: i64, field: &str) -> StoreError {
    StoreError::Unavailable(format!("{kind} {id} has an invalid {field}"))
}

impl TryFrom<AuthorRow> for Author {
    type Error = StoreError;

    fn try_from(row: AuthorRow) -> Result<Self, StoreError> {
        let id = row.author_id;
        let bad = |field| corrupt("user", id, field);
        Ok(Author {
            id: UserId(id),
            profile: Profile {
                username: Username::parse(&row.author_username).map_err(|_| bad("username"))?,
                bio: row
                    .author_bio
                    .as_deref()
                    .map(Bio::parse)
                    .transpose()
                    .map_err(|_| bad("bio"))?,
                image: row
                    .author_image
                    .as_deref()
                    .map(ImageUrl::parse)
                    .transpose()
                    .map_err(|_| bad("image"))?,
                following: row.following,
            },
        })
    }
}

/// Profiles and follows in either database.
#[derive(Debug, Clone)]
pub(crate) struct SqlProfileRepository {
    store: Store,
}

impl SqlProfileRepository {
    pub(crate) fn new(store: Store) -> Self {
        Self { store }
    }
}

#[async_trait]
impl ProfileRepository for SqlProfileRepository {
    async fn find_by_username(
        &self,
        username: &Username,
        viewer: Option<UserId>,
    ) -> Result<Option<Author>, StoreError> {
        let args = Args::new()
            .bind(viewer.map(|id| id.0))
            .bind(username.canonical());
        self.store
            .fetch_optional::<AuthorRow>(sqlx::AssertSqlSafe(profile_by_username()), args)
            .await?
            .map(TryInto::try_into)
            .transpose()
    }

    async fn find_by_id(
        &self,
        id: UserId,
        viewer: Option<UserId>,
    ) -> Result<Option<Author>, StoreError> {
        let args = Args::new().bind(viewer.map(|id| id.0)).bind(id.0);
        self.store
            .fetch_optional::<AuthorRow>(sqlx::AssertSqlSafe(profile_by_id()), args)
            .await?
            .map(TryInto::try_into)
            .transpose()
    }

    async fn followers(&self, followee: UserId) -> Result<Vec<UserId>, StoreError> {
        let rows: Vec<(i64,)> = self
            .store
            .fetch_all(FOLLOWERS, Args::new().bind(followee.0))
            .await?;
        Ok(rows.into_iter().map(|(id,)| UserId(id)).collect())
    }

    async fn follow(&self, follower: UserId, followee: UserId) -> Result<(), StoreError> {
        let args = Args::new().bind(follower.0).bind(followee.0);
        self.store.execute(FOLLOW, args).await?;
        Ok(())
    }

    async fn unfollow(&self, follower: UserId, followee: UserId) -> Result<(), StoreError> {
        let args = Args::new().bind(follower.0).bind(followee.0);
        self.store.execute(UNFOLLOW, args).await?;
        Ok(())
    }
}
