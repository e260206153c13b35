//! Articles, their tags and favourites: [`SqlArticleRepository`], one adapter for both databases.
//!
//! Reads return what the caller sees (`following`, `favorited`, `favoritesCount`) from one
//! statement, whatever the page size: the author is joined, the relations are `EXISTS`
//! subqueries, and the tag list is stored with the article. A list takes two statements, the page
//! and the count (`list_query.rs`).

use async_trait::async_trait;
use conduit_domain::Timestamp;
use conduit_domain::accounts::UserId;
use conduit_domain::articles::{
    Article, ArticleBody, ArticleChanges, ArticleFilter, ArticleId, ArticlePage, ArticleSummary,
    Description, NewArticle, Page, Slug, Tag, Title,
};
use conduit_domain::ports::{ArticleRepository, SessionId, StoreError};
use sqlx::AssertSqlSafe;

use crate::Store;
use crate::db::{Args, DbTime, Dialect};
use crate::list_query::ListSql;
use crate::profiles::{AUTHOR_COLUMNS, AuthorRow, corrupt};

/// Whether the viewer `$1` favours the article `a`, and how many do.
const FAVORITED: &str = "EXISTS (SELECT 1 FROM favorites fv
    WHERE fv.user_id = $1 AND fv.article_id = a.id)";
const FAVORITES_COUNT: &str = "(SELECT COUNT(*) FROM favorites fc WHERE fc.article_id = a.id)";

/// The columns of an article as the viewer `$1` sees it; `body` is `a.body` or `NULL` (lists).
pub(crate) fn article_view(body: &str) -> String {
    view(body, FAVORITED, FAVORITES_COUNT)
}

/// [`article_view`] with the two favourite columns given.
fn view(body: &str, favorited: &str, favorites_count: &str) -> String {
    format!(
        "SELECT a.id, a.slug, a.title, a.description, {body} AS body, a.tag_list,
            a.created_at, a.updated_at, {AUTHOR_COLUMNS},
            {favorited} AS favorited, {favorites_count} AS favorites_count
        FROM articles a JOIN users u ON u.id = a.author_id"
    )
}

/// A favourite of the article with slug `$2` by `$1` and the article as `$1` then sees it, in
/// one statement (PostgreSQL). The outer query's snapshot sees neither the row its own `INSERT`
/// adds (or its `DELETE` removes) nor one that a concurrent request of the same user committed
/// while this one waited for it; but after the statement the user's favourite is there (or
/// gone) either way. So the count is the snapshot's, corrected by whether the snapshot had it.
/// `given`: whether `change` gives the favourite (or takes it back).
fn favoured_in_one(change: &str, given: bool) -> AssertSqlSafe<String> {
    let had = "EXISTS (SELECT 1 FROM favorites fh WHERE fh.user_id = $1 AND fh.article_id = a.id)";
    let (favorited, count) = if given {
        ("TRUE", format!("{FAVORITES_COUNT} + (NOT {had})::INT"))
    } else {
        ("FALSE", format!("{FAVORITES_COUNT} - ({had})::INT"))
    };
    AssertSqlSafe(format!(
        "WITH changed AS ({change})
        {} WHERE a.slug = $2",
        view("a.body", favorited, &count)
    ))
}

/// One article with its body, as the viewer `$1` sees it; `$2` is the value of `column`.
fn article_by(column: &str) -> AssertSqlSafe<String> {
    AssertSqlSafe(format!("{} WHERE a.{column} = $2", article_view("a.body")))
}

/// Whether the author `$2` is in the session `$8`, live at `$7` (the article's time): what every
/// new article's statement asks, so that a request needs no round trip of its own to check its
/// session (the condition of `sessions.rs`' `LIVE_USER`).
const AUTHOR_IN_LIVE_SESSION: &str = "EXISTS (SELECT 1 FROM sessions s
    WHERE s.id = $8 AND s.user_id = $2 AND s.revoked_at IS NULL AND s.expires_at > $7)";

/// An article written if its author's session is live ([`AUTHOR_IN_LIVE_SESSION`]): its id, or
/// no row.
fn insert() -> AssertSqlSafe<String> {
    AssertSqlSafe(format!(
        "INSERT INTO articles
            (slug, author_id, title, description, body, tag_list, created_at, updated_at)
        SELECT $1, $2, $3, $4, $5, $6, $7, $7 WHERE {AUTHOR_IN_LIVE_SESSION}
        RETURNING id"
    ))
}

/// An article written if its author's session is live ([`AUTHOR_IN_LIVE_SESSION`]) and read back
/// as its author sees it, with `tags` tags (`$9` on), in one
/// statement (PostgreSQL): no round trip for a transaction's `BEGIN` and `COMMIT`, none for the
/// read. Nobody follows themselves, and nobody has favourited an article not yet written.
fn insert_in_one(tags: usize) -> AssertSqlSafe<String> {
    let tagged = if tags == 0 {
        String::new()
    } else {
        let values: Vec<String> = (0..tags).map(|n| format!("(${})", n + 9)).collect();
        format!(
            ", tagged AS (
                INSERT INTO article_tags (tag, article_id)
                SELECT t.tag, a.id FROM article a CROSS JOIN (VALUES {}) AS t (tag)
            )",
            values.join(", ")
        )
    };
    AssertSqlSafe(format!(
        "WITH article AS (
            INSERT INTO articles
                (slug, author_id, title, description, body, tag_list, created_at, updated_at)
            SELECT $1, $2, $3, $4, $5, $6, $7, $7 WHERE {AUTHOR_IN_LIVE_SESSION}
            RETURNING *
        ){tagged}
        SELECT a.id, a.slug, a.title, a.description, a.body, a.tag_list, a.created_at,
            a.updated_at, u.id AS author_id, u.username AS author_username,
            u.bio AS author_bio, u.image AS author_image, FALSE AS following,
            FALSE AS favorited, 0::BIGINT AS favorites_count
        FROM article a JOIN users u ON u.id = a.author_id"
    ))
}

const UPDATE: &str = "
    UPDATE articles SET
        slug        = COALESCE($2, slug),
        title       = COALESCE($3, title),
        description = COALESCE($4, description),
        body        = COALESCE($5, body),
        updated_at  = $6
    WHERE id = $1
    RETURNING id";

const DELETE: &str = "DELETE FROM articles WHERE id = $1";

/// Racing favourites of one user meet at the primary key: one row, whatever the order. `$1` the
/// user, `$2` the article's slug.
const FAVORITE: &str = "
    INSERT INTO favorites (user_id, article_id)
    SELECT $1, id FROM articles WHERE slug = $2
    ON CONFLICT DO NOTHING
    RETURNING article_id";
const UNFAVORITE: &str = "
    DELETE FROM favorites
    WHERE user_id = $1 AND article_id = (SELECT id FROM articles WHERE slug = $2)
    RETURNING article_id";

/// What the `$1` most used tags are chosen from: the counts (migration `list_counts`), and the
/// changes not yet folded into them (migration `count_changes`), without reading every count.
/// Rows `(tag, count, 0)` are the top of `tag_counts_most_used`, as deep as `$1` plus the number
/// of changed tags; rows `(tag, count or NULL, change)` are each changed tag's changes, summed
/// here (a backlog of a million changes to ten tags sends ten rows), with its count.
/// [`most_used`] adds them up. A tag in neither has no change, and at least `$1` tags without a
/// change are ahead of it, so it cannot be among the first `$1`. Ties go by the tag's bytes on
/// both databases (`COLLATE "C"` on PostgreSQL, SQLite's default), as [`most_used`] sorts them.
fn tags_sql(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Postgres => {
            "WITH changed AS (
                SELECT tag, SUM(delta)::BIGINT AS delta FROM tag_count_changes GROUP BY tag
            )
            SELECT tag, articles, 0 AS delta FROM (
                SELECT tag, articles FROM tag_counts ORDER BY articles DESC, tag COLLATE \"C\"
                LIMIT $1 + (SELECT COUNT(*) FROM changed)) ahead
            UNION ALL
            SELECT c.tag, t.articles, c.delta
            FROM changed c LEFT JOIN tag_counts t ON t.tag = c.tag"
        }
        // The same, but SQLite's triggers keep the counts themselves: there are no changes.
        Dialect::Sqlite => {
            "SELECT tag, articles, 0 AS delta FROM tag_counts ORDER BY articles DESC, tag LIMIT $1"
        }
    }
}

/// The first `limit` tags by count (folded count plus changes), most used first, ties by the
/// tag's bytes, from the rows of [`tags_sql`]; tags counted at 0 are left out.
fn most_used(rows: Vec<(String, Option<i64>, i64)>, limit: u32) -> Vec<String> {
    let mut counts: std::collections::HashMap<String, i64> = std::collections::HashMap::new();
    let mut counted: std::collections::HashSet<String> = std::collections::HashSet::new();
    for (tag, count, delta) in rows {
        let total = counts.entry(tag.clone()).or_default();
        // A tag's count comes with each of its rows: it is added once.
        if counted.insert(tag) {
            *total += count.unwrap_or(0);
        }
        *total += delta;
    }
    let mut ranked: Vec<(String, i64)> = counts.into_iter().filter(|(_, n)| *n > 0).collect();
    ranked.sort_unstable_by(|(a, m), (b, n)| n.cmp(m).then_with(|| a.as_bytes().cmp(b.as_bytes())));
    ranked.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    ranked.into_iter().map(|(tag, _)| tag).collect()
}

/// `INSERT INTO article_tags` of `count` tags for the article `$1`, the tags from `$2`.
fn insert_tags(count: usize) -> String {
    let rows: Vec<String> = (0..count).map(|n| format!("(${}, $1)", n + 2)).collect();
    format!(
        "INSERT INTO article_tags (tag, article_id) VALUES {}",
        rows.join(", ")
    )
}

/// An article row as [`article_view`] returns it.
#[derive(Debug, sqlx::FromRow)]
struct ArticleRow {
    id: i64,
    slug: String,
    title: String,
    description: String,
    body: Option<String>,
    tag_list: String,
    created_at: DbTime,
    updated_at: DbTime,
    #[sqlx(flatten)]
    author: AuthorRow,
    favorited: bool,
    favorites_count: i64,
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
            created_at: row.created_at.into(),
            updated_at: row.updated_at.into(),
            author: row.author.try_into()?,
            favorited: row.favorited,
            favorites_count: u64::try_from(row.favorites_count).map_err(|_| bad("count"))?,
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

/// The tag list as stored with the article.
fn tag_list_json(tags: &[Tag]) -> Result<String, StoreError> {
    let tags: Vec<&str> = tags.iter().map(Tag::as_str).collect();
    serde_json::to_string(&tags)
        .map_err(|error| StoreError::Unavailable(format!("cannot encode a tag list: {error}")))
}

/// A row count or offset as SQL's signed 64-bit integer.
fn sql_int(value: impl TryInto<i64>) -> i64 {
    value.try_into().unwrap_or(i64::MAX)
}

/// Articles, tags and favourites in either database.
#[derive(Debug, Clone)]
pub(crate) struct SqlArticleRepository {
    store: Store,
}

impl SqlArticleRepository {
    pub(crate) fn new(store: Store) -> Self {
        Self { store }
    }

    /// The two statements of a list, on one connection.
    async fn page(
        &self,
        sql: ListSql,
        viewer: Option<i64>,
        page: Page,
    ) -> Result<ArticlePage, StoreError> {
        let mut rows_args = Args::new().bind(viewer);
        let mut count_args = Args::new();
        if sql.count_by_viewer {
            count_args = count_args.bind(viewer);
        }
        for value in sql.values {
            count_args = count_args.bind(value.clone());
            rows_args = rows_args.bind(value);
        }
        let mut rows_args = rows_args
            .bind(sql_int(page.limit()))
            .bind(sql_int(page.offset()));
        if sql.binds_page_end {
            let end = u64::from(page.limit()).saturating_add(page.offset());
            rows_args = rows_args.bind(sql_int(end));
        }
        let mut pooled = self.store.acquire().await?;
        let read = async {
            let rows: Vec<ArticleRow> = pooled
                .conn()
                .fetch_all(AssertSqlSafe(sql.page), rows_args)
                .await?;
            let (total,): (i64,) = pooled
                .conn()
                .fetch_one(AssertSqlSafe(sql.count), count_args)
                .await?;
            Ok((rows, total))
        }
        .await;
        pooled.settle(&read);
        let (rows, total) = read?;
        Ok(ArticlePage {
            articles: rows
                .into_iter()
                .map(TryInto::try_into)
                .collect::<Result<_, _>>()?,
            total: u64::try_from(total).unwrap_or(0),
        })
    }
}

impl SqlArticleRepository {
    /// Runs `change` (a favourite given when `given`, else taken back) and reads the article back as `user`
    /// sees it then: on PostgreSQL one statement, on SQLite (which has no `INSERT` in `WITH`)
    /// two in one transaction.
    async fn favoured(
        &self,
        change: &'static str,
        given: bool,
        slug: &Slug,
        user: UserId,
    ) -> Result<Option<Article>, StoreError> {
        let args = || Args::new().bind(user.0).bind(slug.as_str());
        let row: Option<ArticleRow> = match self.store.dialect() {
            Dialect::Postgres => {
                let sql = favoured_in_one(change, given);
                self.store.write_optional(sql, args()).await?
            }
            Dialect::Sqlite => {
                let mut tx = self.store.begin().await?;
                tx.conn().execute(change, args()).await?;
                let row = tx.conn().fetch_optional(article_by("slug"), args()).await?;
                tx.commit().await?;
                row
            }
        };
        row.map(TryInto::try_into).transpose()
    }
}

#[async_trait]
impl ArticleRepository for SqlArticleRepository {
    async fn insert(
        &self,
        article: NewArticle,
        session: SessionId,
    ) -> Result<Option<Article>, StoreError> {
        let args = Args::new()
            .bind(article.slug.as_str())
            .bind(article.author.0)
            .bind(article.title.as_str())
            .bind(article.description.as_str())
            .bind(article.body.as_str())
            .bind(tag_list_json(&article.tags)?)
            .bind(article.created_at)
            .bind(session.0);
        if self.store.dialect() == Dialect::Postgres {
            // Sorted, as below; the author's order is kept in `tag_list`.
            let mut tags: Vec<&str> = article.tags.iter().map(Tag::as_str).collect();
            tags.sort_unstable();
            let args = tags.into_iter().fold(args, |args, tag| args.bind(tag));
            let row: Option<ArticleRow> = self
                .store
                .write_optional(insert_in_one(article.tags.len()), args)
                .await?;
            return row.map(TryInto::try_into).transpose();
        }
        let mut tx = self.store.begin().await?;
        let Some((id,)): Option<(i64,)> = tx.conn().fetch_optional(insert(), args).await? else {
            // The session is not live: nothing was written, and the transaction is rolled back.
            return Ok(None);
        };
        let args = Args::new().bind(article.author.0).bind(id);
        let row: ArticleRow = tx.conn().fetch_one(article_by("id"), args).await?;
        // Last before the commit: inserting tags locks their counts (migration `list_counts`)
        // until the commit, so the lock is held for as short a time as can be. Sorted, so that
        // writers sharing tags lock their counts in one order (no deadlock); the author's order
        // is kept in `tag_list`, which is what the article reads back.
        if !article.tags.is_empty() {
            let mut tags: Vec<&str> = article.tags.iter().map(Tag::as_str).collect();
            tags.sort_unstable();
            let args = tags
                .into_iter()
                .fold(Args::new().bind(id), |args, tag| args.bind(tag));
            let sql = AssertSqlSafe(insert_tags(article.tags.len()));
            tx.conn().execute(sql, args).await?;
        }
        tx.commit().await?;
        row.try_into().map(Some)
    }

    async fn find_by_slug(
        &self,
        slug: &Slug,
        viewer: Option<UserId>,
    ) -> Result<Option<Article>, StoreError> {
        let args = Args::new().bind(viewer.map(|id| id.0)).bind(slug.as_str());
        self.store
            .fetch_optional::<ArticleRow>(article_by("slug"), args)
            .await?
            .map(TryInto::try_into)
            .transpose()
    }

    async fn find_by_ids(
        &self,
        ids: &[ArticleId],
        viewer: Option<UserId>,
    ) -> Result<Vec<Article>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders: Vec<String> = (0..ids.len()).map(|n| format!("${}", n + 2)).collect();
        let sql = AssertSqlSafe(format!(
            "{} WHERE a.id IN ({})",
            article_view("a.body"),
            placeholders.join(", ")
        ));
        let args = ids
            .iter()
            .fold(Args::new().bind(viewer.map(|id| id.0)), |args, id| {
                args.bind(id.0)
            });
        let rows: Vec<ArticleRow> = self.store.fetch_all(sql, args).await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn update(
        &self,
        id: ArticleId,
        changes: ArticleChanges,
        now: Timestamp,
        viewer: UserId,
    ) -> Result<Option<Article>, StoreError> {
        let mut tx = self.store.begin().await?;
        let (title, slug) = changes.title.unzip();
        let args = Args::new()
            .bind(id.0)
            .bind(slug.as_ref().map(Slug::as_str))
            .bind(title.as_ref().map(Title::as_str))
            .bind(changes.description.as_ref().map(Description::as_str))
            .bind(changes.body.as_ref().map(ArticleBody::as_str))
            .bind(now);
        let updated: Option<(i64,)> = tx.conn().fetch_optional(UPDATE, args).await?;
        let Some((updated,)) = updated else {
            return Ok(None);
        };
        let args = Args::new().bind(viewer.0).bind(updated);
        let row: ArticleRow = tx.conn().fetch_one(article_by("id"), args).await?;
        tx.commit().await?;
        row.try_into().map(Some)
    }

    async fn delete(&self, id: ArticleId) -> Result<bool, StoreError> {
        let changed = self.store.execute(DELETE, Args::new().bind(id.0)).await?;
        Ok(changed > 0)
    }

    async fn list(
        &self,
        filter: &ArticleFilter,
        page: Page,
        viewer: Option<UserId>,
    ) -> Result<ArticlePage, StoreError> {
        self.page(ListSql::new(filter), viewer.map(|id| id.0), page)
            .await
    }

    async fn feed(&self, reader: UserId, page: Page) -> Result<ArticlePage, StoreError> {
        let sql = ListSql::feed(self.store.dialect());
        self.page(sql, Some(reader.0), page).await
    }

    async fn favorite(&self, slug: &Slug, user: UserId) -> Result<Option<Article>, StoreError> {
        self.favoured(FAVORITE, true, slug, user).await
    }

    async fn unfavorite(&self, slug: &Slug, user: UserId) -> Result<Option<Article>, StoreError> {
        self.favoured(UNFAVORITE, false, slug, user).await
    }

    async fn tags(&self, limit: u32) -> Result<Vec<Tag>, StoreError> {
        let args = Args::new().bind(i64::from(limit));
        let rows: Vec<(String, Option<i64>, i64)> = self
            .store
            .fetch_all(tags_sql(self.store.dialect()), args)
            .await?;
        most_used(rows, limit)
            .iter()
            .map(|tag| {
                Tag::parse(tag).map_err(|_| {
                    StoreError::Unavailable(format!("an invalid tag is stored: {tag:?}"))
                })
            })
            .collect()
    }
}
