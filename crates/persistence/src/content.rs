//! Profiles, articles and comments, written once for both kinds of store (as in `users.rs`).
//!
//! Reads return what the caller sees (`following`, `favorited`, `favoritesCount`) from one
//! statement per request, whatever the page size: the author is joined, the relations are
//! `EXISTS` subqueries, and the tag list is stored with the article. Lists are built from the
//! filters present, so that each shape of query gets a plan of its own (docs/query-plans.md).

use conduit_domain::article::{
    Article, ArticleBody, ArticleFilter, ArticleId, ArticleSummary, Author, Comment, CommentBody,
    CommentId, Description, Profile, Slug, Tag, Title,
};
use conduit_domain::ports::StoreError;
use conduit_domain::user::{Bio, ImageUrl, UserId, Username};
use time::OffsetDateTime;

/// The columns of an article as a viewer (`$1`) sees it; `$body` is `a.body` or `NULL`.
macro_rules! article_view {
    ($body:literal) => {
        concat!(
            "SELECT a.id, a.slug, a.title, a.description, ",
            $body,
            " AS body, a.tag_list, a.created_at, a.updated_at,
                u.id AS author_id, u.username AS author_username, u.bio AS author_bio,
                u.image AS author_image,
                EXISTS (SELECT 1 FROM follows f
                        WHERE f.follower_id = $1 AND f.followee_id = a.author_id) AS following,
                EXISTS (SELECT 1 FROM favorites fv
                        WHERE fv.user_id = $1 AND fv.article_id = a.id) AS favorited,
                (SELECT COUNT(*) FROM favorites fc WHERE fc.article_id = a.id) AS favorites_count
            FROM articles a JOIN users u ON u.id = a.author_id"
        )
    };
}

pub(crate) const ARTICLE_BY_SLUG: &str = concat!(article_view!("a.body"), " WHERE a.slug = $2");
pub(crate) const ARTICLE_BY_ID: &str = concat!(article_view!("a.body"), " WHERE a.id = $2");
const SUMMARIES: &str = article_view!("NULL");
/// No filter needs the author's row, so the count does without the join.
const COUNT: &str = "SELECT COUNT(*) FROM articles a";
/// Most recent first; among articles of the same instant, the later-created first.
const ORDER: &str = " ORDER BY a.created_at DESC, a.id DESC";

pub(crate) const INSERT_ARTICLE: &str = "
    INSERT INTO articles (slug, author_id, title, description, body, tag_list, created_at, updated_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
    RETURNING id";

pub(crate) const UPDATE_ARTICLE: &str = "
    UPDATE articles SET
        slug        = COALESCE($2, slug),
        title       = COALESCE($3, title),
        description = COALESCE($4, description),
        body        = COALESCE($5, body),
        updated_at  = $6
    WHERE id = $1
    RETURNING id";

pub(crate) const DELETE_ARTICLE: &str = "DELETE FROM articles WHERE id = $1";

/// Racing favourites of one user meet at the primary key: one row, whatever the order.
pub(crate) const FAVORITE: &str =
    "INSERT INTO favorites (user_id, article_id) VALUES ($1, $2) ON CONFLICT DO NOTHING";
pub(crate) const UNFAVORITE: &str = "DELETE FROM favorites WHERE user_id = $1 AND article_id = $2";

pub(crate) const TAGS: &str =
    "SELECT tag FROM article_tags GROUP BY tag ORDER BY COUNT(*) DESC, tag";

pub(crate) const PROFILE_BY_USERNAME: &str = "
    SELECT u.id AS author_id, u.username AS author_username, u.bio AS author_bio,
        u.image AS author_image,
        EXISTS (SELECT 1 FROM follows f
                WHERE f.follower_id = $2 AND f.followee_id = u.id) AS following
    FROM users u WHERE u.username_key = $1";

pub(crate) const FOLLOW: &str =
    "INSERT INTO follows (follower_id, followee_id) VALUES ($1, $2) ON CONFLICT DO NOTHING";
pub(crate) const UNFOLLOW: &str = "DELETE FROM follows WHERE follower_id = $1 AND followee_id = $2";

macro_rules! comment_view {
    () => {
        "SELECT c.id, c.article_id, c.body, c.created_at, c.updated_at,
            u.id AS author_id, u.username AS author_username, u.bio AS author_bio,
            u.image AS author_image,
            EXISTS (SELECT 1 FROM follows f
                    WHERE f.follower_id = $1 AND f.followee_id = c.author_id) AS following
        FROM comments c JOIN users u ON u.id = c.author_id"
    };
}

pub(crate) const INSERT_COMMENT: &str = "
    INSERT INTO comments (article_id, author_id, body, created_at, updated_at)
    VALUES ($1, $2, $3, $4, $4)
    RETURNING id";
pub(crate) const COMMENT_BY_ID: &str = concat!(comment_view!(), " WHERE c.id = $2");
pub(crate) const COMMENTS_OF_ARTICLE: &str = concat!(
    comment_view!(),
    " WHERE c.article_id = $2 ORDER BY c.created_at, c.id"
);
pub(crate) const DELETE_COMMENT: &str = "DELETE FROM comments WHERE id = $1";

/// A list query for one combination of filters: the SQL of the page (viewer `$1`, the filter
/// values, then limit and offset) and of the count (the filter values from `$1`), with the filter
/// values in binding order.
#[derive(Debug)]
pub(crate) struct ListSql {
    pub(crate) page: String,
    pub(crate) count: String,
    pub(crate) values: Vec<String>,
    /// Whether the count also takes the viewer as `$1` (the feed's reader).
    pub(crate) count_by_viewer: bool,
}

impl ListSql {
    pub(crate) fn new(filter: &ArticleFilter) -> Self {
        let mut conditions: Vec<&str> = Vec::new();
        let mut values = Vec::new();
        // Each filter narrows `a.id` or `a.author_id` by a subquery the planner can run first,
        // from an index, so a selective filter never walks the whole table.
        if let Some(tag) = &filter.tag {
            conditions.push("a.id IN (SELECT t.article_id FROM article_tags t WHERE t.tag = ?)");
            values.push(tag.as_str().to_owned());
        }
        if let Some(author) = &filter.author {
            conditions.push("a.author_id = (SELECT au.id FROM users au WHERE au.username_key = ?)");
            values.push(author.canonical());
        }
        if let Some(reader) = &filter.favorited_by {
            conditions.push(
                "a.id IN (SELECT ff.article_id FROM favorites ff WHERE ff.user_id =
                          (SELECT fu.id FROM users fu WHERE fu.username_key = ?))",
            );
            values.push(reader.canonical());
        }
        let filtered = |first: usize| {
            let mut sql = String::new();
            for (n, condition) in conditions.iter().enumerate() {
                sql.push_str(if n == 0 { " WHERE " } else { " AND " });
                sql.push_str(&condition.replace('?', &format!("${}", first + n)));
            }
            sql
        };
        let after_filters = values.len() + 2;
        Self {
            page: format!(
                "{SUMMARIES}{}{ORDER} LIMIT ${after_filters} OFFSET ${}",
                filtered(2),
                after_filters + 1
            ),
            count: format!("{COUNT}{}", filtered(1)),
            values,
            count_by_viewer: false,
        }
    }

    /// The feed of the reader `$1`: articles by the authors they follow.
    pub(crate) fn feed() -> Self {
        let following =
            " WHERE a.author_id IN (SELECT followee_id FROM follows WHERE follower_id = $1)";
        Self {
            page: format!("{SUMMARIES}{following}{ORDER} LIMIT $2 OFFSET $3"),
            count: format!("{COUNT}{following}"),
            values: Vec::new(),
            count_by_viewer: true,
        }
    }
}

/// `INSERT INTO article_tags` of `count` tags for the article `$1`, the tags from `$2`.
pub(crate) fn insert_tags(count: usize) -> String {
    let rows: Vec<String> = (0..count).map(|n| format!("(${}, $1)", n + 2)).collect();
    format!(
        "INSERT INTO article_tags (tag, article_id) VALUES {}",
        rows.join(", ")
    )
}

/// An article row as the views above return it.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct ArticleRow {
    id: i64,
    slug: String,
    title: String,
    description: String,
    body: Option<String>,
    tag_list: String,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
    #[sqlx(flatten)]
    author: AuthorRow,
    favorited: bool,
    favorites_count: i64,
}

/// The author columns of a view (and of `PROFILE_BY_USERNAME`), with the viewer's `following`.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct AuthorRow {
    author_id: i64,
    author_username: String,
    author_bio: Option<String>,
    author_image: Option<String>,
    following: bool,
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct CommentRow {
    id: i64,
    article_id: i64,
    body: String,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
    #[sqlx(flatten)]
    author: AuthorRow,
}

/// Rows are parsed like any other input: a row that breaks a rule is reported, never trusted.
fn corrupt(kind: &str, id: i64, field: &str) -> StoreError {
    StoreError::Unavailable(format!("{kind} {id} has an invalid {field}"))
}

impl TryFrom<AuthorRow> for Author {
    type Error = StoreError;

    fn try_from(row: AuthorRow) -> Result<Self, StoreError> {
        let id = row.author_id;
        Ok(Author {
            id: UserId(id),
            profile: Profile {
                username: Username::parse(&row.author_username)
                    .map_err(|_| corrupt("user", id, "username"))?,
                bio: row
                    .author_bio
                    .as_deref()
                    .map(Bio::parse)
                    .transpose()
                    .map_err(|_| corrupt("user", id, "bio"))?,
                image: row
                    .author_image
                    .as_deref()
                    .map(ImageUrl::parse)
                    .transpose()
                    .map_err(|_| corrupt("user", id, "image"))?,
                following: row.following,
            },
        })
    }
}

impl TryFrom<ArticleRow> for ArticleSummary {
    type Error = StoreError;

    fn try_from(row: ArticleRow) -> Result<Self, StoreError> {
        let id = row.id;
        let bad = |field| corrupt("article", id, field);
        let tags: Vec<String> = serde_json::from_str(&row.tag_list).map_err(|_| bad("tag list"))?;
        Ok(Self {
            id: ArticleId(id),
            slug: Slug::parse(&row.slug).map_err(|_| bad("slug"))?,
            title: Title::parse(&row.title).map_err(|_| bad("title"))?,
            description: Description::parse(&row.description).map_err(|_| bad("description"))?,
            tags: tags
                .iter()
                .map(|tag| Tag::parse(tag))
                .collect::<Result<_, _>>()
                .map_err(|_| bad("tag"))?,
            created_at: row.created_at,
            updated_at: row.updated_at,
            author: row.author.try_into()?,
            favorited: row.favorited,
            favorites_count: u64::try_from(row.favorites_count).unwrap_or(0),
        })
    }
}

impl TryFrom<ArticleRow> for Article {
    type Error = StoreError;

    fn try_from(mut row: ArticleRow) -> Result<Self, StoreError> {
        let id = row.id;
        let body = row
            .body
            .take()
            .ok_or_else(|| corrupt("article", id, "body"))
            .and_then(|body| {
                ArticleBody::parse(&body).map_err(|_| corrupt("article", id, "body"))
            })?;
        Ok(Self {
            summary: row.try_into()?,
            body,
        })
    }
}

impl TryFrom<CommentRow> for Comment {
    type Error = StoreError;

    fn try_from(row: CommentRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: CommentId(row.id),
            article: ArticleId(row.article_id),
            body: CommentBody::parse(&row.body).map_err(|_| corrupt("comment", row.id, "body"))?,
            created_at: row.created_at,
            updated_at: row.updated_at,
            author: row.author.try_into()?,
        })
    }
}

/// The tag list as stored with the article.
pub(crate) fn tag_list_json(tags: &[Tag]) -> String {
    let tags: Vec<&str> = tags.iter().map(Tag::as_str).collect();
    serde_json::to_string(&tags).unwrap_or_else(|_| "[]".to_owned())
}

/// A row count or offset as SQL's signed 64-bit integer.
pub(crate) fn sql_int(value: impl TryInto<i64>) -> i64 {
    value.try_into().unwrap_or(i64::MAX)
}

/// Generates the profile, article and comment adapters over one kind of pool. `$time` turns a
/// time into what this kind of store binds (see `sqlite::time`).
macro_rules! content_repositories {
    (
        pool = $pool:ty,
        time = $time:path,
        profiles = $profiles:ident,
        articles = $articles:ident,
        comments = $comments:ident $(,)?
    ) => {
        /// Profiles and follows.
        #[derive(Debug, Clone)]
        pub struct $profiles {
            pool: $pool,
        }

        impl $profiles {
            pub fn new(pool: $pool) -> Self {
                Self { pool }
            }
        }

        #[async_trait::async_trait]
        impl conduit_domain::ports::ProfileRepository for $profiles {
            async fn find_by_username(
                &self,
                username: &conduit_domain::user::Username,
                viewer: Option<conduit_domain::user::UserId>,
            ) -> Result<Option<conduit_domain::article::Author>, conduit_domain::ports::StoreError>
            {
                sqlx::query_as::<_, $crate::content::AuthorRow>(
                    $crate::content::PROFILE_BY_USERNAME,
                )
                .bind(username.canonical())
                .bind(viewer.map(|id| id.0))
                .fetch_optional(&self.pool)
                .await
                .map_err($crate::error::store_error)?
                .map(TryInto::try_into)
                .transpose()
            }

            async fn follow(
                &self,
                follower: conduit_domain::user::UserId,
                followee: conduit_domain::user::UserId,
            ) -> Result<(), conduit_domain::ports::StoreError> {
                $crate::error::execute!(
                    &self.pool,
                    $crate::content::FOLLOW,
                    follower.0,
                    followee.0
                )?;
                Ok(())
            }

            async fn unfollow(
                &self,
                follower: conduit_domain::user::UserId,
                followee: conduit_domain::user::UserId,
            ) -> Result<(), conduit_domain::ports::StoreError> {
                $crate::error::execute!(
                    &self.pool,
                    $crate::content::UNFOLLOW,
                    follower.0,
                    followee.0
                )?;
                Ok(())
            }
        }

        /// Articles, tags and favourites.
        #[derive(Debug, Clone)]
        pub struct $articles {
            pool: $pool,
        }

        impl $articles {
            pub fn new(pool: $pool) -> Self {
                Self { pool }
            }

            async fn page(
                &self,
                sql: $crate::content::ListSql,
                viewer: Option<i64>,
                page: conduit_domain::article::Page,
            ) -> Result<conduit_domain::article::ArticlePage, conduit_domain::ports::StoreError>
            {
                use $crate::content::sql_int;
                let mut count = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.count));
                let mut rows =
                    sqlx::query_as::<_, $crate::content::ArticleRow>(sqlx::AssertSqlSafe(sql.page))
                        .bind(viewer);
                if sql.count_by_viewer {
                    count = count.bind(viewer);
                }
                for value in sql.values {
                    count = count.bind(value.clone());
                    rows = rows.bind(value);
                }
                let rows = rows
                    .bind(sql_int(page.limit()))
                    .bind(sql_int(page.offset()))
                    .fetch_all(&self.pool)
                    .await
                    .map_err($crate::error::store_error)?;
                let total = count
                    .fetch_one(&self.pool)
                    .await
                    .map_err($crate::error::store_error)?;
                Ok(conduit_domain::article::ArticlePage {
                    articles: rows
                        .into_iter()
                        .map(TryInto::try_into)
                        .collect::<Result<_, _>>()?,
                    total: u64::try_from(total).unwrap_or(0),
                })
            }
        }

        #[async_trait::async_trait]
        impl conduit_domain::ports::ArticleRepository for $articles {
            async fn insert(
                &self,
                article: conduit_domain::article::NewArticle,
            ) -> Result<conduit_domain::article::Article, conduit_domain::ports::StoreError> {
                use $crate::error::store_error;
                let mut tx = self.pool.begin().await.map_err(store_error)?;
                let id: i64 = sqlx::query_scalar($crate::content::INSERT_ARTICLE)
                    .bind(article.slug.as_str())
                    .bind(article.author.0)
                    .bind(article.title.as_str())
                    .bind(article.description.as_str())
                    .bind(article.body.as_str())
                    .bind($crate::content::tag_list_json(&article.tags))
                    .bind($time(article.created_at))
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(store_error)?;
                if !article.tags.is_empty() {
                    let sql = $crate::content::insert_tags(article.tags.len());
                    let mut insert = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id);
                    for tag in &article.tags {
                        insert = insert.bind(tag.as_str().to_owned());
                    }
                    insert.execute(&mut *tx).await.map_err(store_error)?;
                }
                let row = sqlx::query_as::<_, $crate::content::ArticleRow>(
                    $crate::content::ARTICLE_BY_ID,
                )
                .bind(Some(article.author.0))
                .bind(id)
                .fetch_one(&mut *tx)
                .await
                .map_err(store_error)?;
                tx.commit().await.map_err(store_error)?;
                row.try_into()
            }

            async fn find_by_slug(
                &self,
                slug: &conduit_domain::article::Slug,
                viewer: Option<conduit_domain::user::UserId>,
            ) -> Result<Option<conduit_domain::article::Article>, conduit_domain::ports::StoreError>
            {
                sqlx::query_as::<_, $crate::content::ArticleRow>($crate::content::ARTICLE_BY_SLUG)
                    .bind(viewer.map(|id| id.0))
                    .bind(slug.as_str())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err($crate::error::store_error)?
                    .map(TryInto::try_into)
                    .transpose()
            }

            async fn update(
                &self,
                id: conduit_domain::article::ArticleId,
                changes: conduit_domain::article::ArticleChanges,
                now: time::OffsetDateTime,
                viewer: conduit_domain::user::UserId,
            ) -> Result<Option<conduit_domain::article::Article>, conduit_domain::ports::StoreError>
            {
                use $crate::error::store_error;
                let mut tx = self.pool.begin().await.map_err(store_error)?;
                let (title, slug) = changes.title.unzip();
                let updated: Option<i64> = sqlx::query_scalar($crate::content::UPDATE_ARTICLE)
                    .bind(id.0)
                    .bind(slug.as_ref().map(|slug| slug.as_str()))
                    .bind(title.as_ref().map(|title| title.as_str()))
                    .bind(changes.description.as_ref().map(|d| d.as_str()))
                    .bind(changes.body.as_ref().map(|b| b.as_str()))
                    .bind($time(now))
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(store_error)?;
                let Some(updated) = updated else {
                    return Ok(None);
                };
                let row = sqlx::query_as::<_, $crate::content::ArticleRow>(
                    $crate::content::ARTICLE_BY_ID,
                )
                .bind(Some(viewer.0))
                .bind(updated)
                .fetch_one(&mut *tx)
                .await
                .map_err(store_error)?;
                tx.commit().await.map_err(store_error)?;
                row.try_into().map(Some)
            }

            async fn delete(
                &self,
                id: conduit_domain::article::ArticleId,
            ) -> Result<bool, conduit_domain::ports::StoreError> {
                let changed =
                    $crate::error::execute!(&self.pool, $crate::content::DELETE_ARTICLE, id.0)?;
                Ok(changed > 0)
            }

            async fn list(
                &self,
                filter: &conduit_domain::article::ArticleFilter,
                page: conduit_domain::article::Page,
                viewer: Option<conduit_domain::user::UserId>,
            ) -> Result<conduit_domain::article::ArticlePage, conduit_domain::ports::StoreError>
            {
                self.page(
                    $crate::content::ListSql::new(filter),
                    viewer.map(|id| id.0),
                    page,
                )
                .await
            }

            async fn feed(
                &self,
                reader: conduit_domain::user::UserId,
                page: conduit_domain::article::Page,
            ) -> Result<conduit_domain::article::ArticlePage, conduit_domain::ports::StoreError>
            {
                self.page($crate::content::ListSql::feed(), Some(reader.0), page)
                    .await
            }

            async fn favorite(
                &self,
                article: conduit_domain::article::ArticleId,
                user: conduit_domain::user::UserId,
            ) -> Result<(), conduit_domain::ports::StoreError> {
                $crate::error::execute!(&self.pool, $crate::content::FAVORITE, user.0, article.0)?;
                Ok(())
            }

            async fn unfavorite(
                &self,
                article: conduit_domain::article::ArticleId,
                user: conduit_domain::user::UserId,
            ) -> Result<(), conduit_domain::ports::StoreError> {
                $crate::error::execute!(
                    &self.pool,
                    $crate::content::UNFAVORITE,
                    user.0,
                    article.0
                )?;
                Ok(())
            }

            async fn tags(
                &self,
            ) -> Result<Vec<conduit_domain::article::Tag>, conduit_domain::ports::StoreError> {
                let tags: Vec<String> = sqlx::query_scalar($crate::content::TAGS)
                    .fetch_all(&self.pool)
                    .await
                    .map_err($crate::error::store_error)?;
                tags.iter()
                    .map(|tag| {
                        conduit_domain::article::Tag::parse(tag).map_err(|_| {
                            conduit_domain::ports::StoreError::Unavailable(format!(
                                "an invalid tag is stored: {tag:?}"
                            ))
                        })
                    })
                    .collect()
            }
        }

        /// Comments.
        #[derive(Debug, Clone)]
        pub struct $comments {
            pool: $pool,
        }

        impl $comments {
            pub fn new(pool: $pool) -> Self {
                Self { pool }
            }
        }

        #[async_trait::async_trait]
        impl conduit_domain::ports::CommentRepository for $comments {
            async fn insert(
                &self,
                comment: conduit_domain::article::NewComment,
            ) -> Result<conduit_domain::article::Comment, conduit_domain::ports::StoreError> {
                use $crate::error::store_error;
                let mut tx = self.pool.begin().await.map_err(store_error)?;
                let id: i64 = sqlx::query_scalar($crate::content::INSERT_COMMENT)
                    .bind(comment.article.0)
                    .bind(comment.author.0)
                    .bind(comment.body.as_str())
                    .bind($time(comment.created_at))
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(store_error)?;
                let row = sqlx::query_as::<_, $crate::content::CommentRow>(
                    $crate::content::COMMENT_BY_ID,
                )
                .bind(Some(comment.author.0))
                .bind(id)
                .fetch_one(&mut *tx)
                .await
                .map_err(store_error)?;
                tx.commit().await.map_err(store_error)?;
                row.try_into()
            }

            async fn list(
                &self,
                article: conduit_domain::article::ArticleId,
                viewer: Option<conduit_domain::user::UserId>,
            ) -> Result<Vec<conduit_domain::article::Comment>, conduit_domain::ports::StoreError>
            {
                sqlx::query_as::<_, $crate::content::CommentRow>(
                    $crate::content::COMMENTS_OF_ARTICLE,
                )
                .bind(viewer.map(|id| id.0))
                .bind(article.0)
                .fetch_all(&self.pool)
                .await
                .map_err($crate::error::store_error)?
                .into_iter()
                .map(TryInto::try_into)
                .collect()
            }

            async fn find(
                &self,
                id: conduit_domain::article::CommentId,
                viewer: Option<conduit_domain::user::UserId>,
            ) -> Result<Option<conduit_domain::article::Comment>, conduit_domain::ports::StoreError>
            {
                sqlx::query_as::<_, $crate::content::CommentRow>($crate::content::COMMENT_BY_ID)
                    .bind(viewer.map(|id| id.0))
                    .bind(id.0)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err($crate::error::store_error)?
                    .map(TryInto::try_into)
                    .transpose()
            }

            async fn delete(
                &self,
                id: conduit_domain::article::CommentId,
            ) -> Result<bool, conduit_domain::ports::StoreError> {
                let changed =
                    $crate::error::execute!(&self.pool, $crate::content::DELETE_COMMENT, id.0)?;
                Ok(changed > 0)
            }
        }
    };
}

pub(crate) use content_repositories;
