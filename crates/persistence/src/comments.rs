//! Comments: [`SqlCommentRepository`], one adapter for both databases.

use async_trait::async_trait;
use conduit_domain::accounts::UserId;
use conduit_domain::articles::{ArticleId, Comment, CommentBody, CommentId, NewComment};
use conduit_domain::ports::{CommentRepository, StoreError};
use sqlx::AssertSqlSafe;

use crate::Store;
use crate::db::{Args, DbTime};
use crate::profiles::{AUTHOR_COLUMNS, AuthorRow, corrupt};

/// Comments as the viewer `$1` sees their authors, narrowed by `condition` on `c`.
fn comments_where(condition: &str) -> AssertSqlSafe<String> {
    AssertSqlSafe(format!(
        "SELECT c.id, c.article_id, c.body, c.created_at, c.updated_at, {AUTHOR_COLUMNS}
        FROM comments c JOIN users u ON u.id = c.author_id
        WHERE {condition}"
    ))
}

const INSERT: &str = "
    INSERT INTO comments (article_id, author_id, body, created_at, updated_at)
    VALUES ($1, $2, $3, $4, $4)
    RETURNING id";
const DELETE: &str = "DELETE FROM comments WHERE id = $1";

#[derive(Debug, sqlx::FromRow)]
struct CommentRow {
    id: i64,
    article_id: i64,
    body: String,
    created_at: DbTime,
    updated_at: DbTime,
    #[sqlx(flatten)]
    author: AuthorRow,
}

impl TryFrom<CommentRow> for Comment {
    type Error = StoreError;

    fn try_from(row: CommentRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: CommentId(row.id),
            article: ArticleId(row.article_id),
            body: CommentBody::parse(&row.body).map_err(|_| corrupt("comment", row.id, "body"))?,
            created_at: row.created_at.into(),
            updated_at: row.updated_at.into(),
            author: row.author.try_into()?,
        })
    }
}

/// Comments in either database.
#[derive(Debug, Clone)]
pub(crate) struct SqlCommentRepository {
    store: Store,
}

impl SqlCommentRepository {
    pub(crate) fn new(store: Store) -> Self {
        Self { store }
    }
}

#[async_trait]
impl CommentRepository for SqlCommentRepository {
    async fn insert(&self, comment: NewComment) -> Result<Comment, StoreError> {
        let mut tx = self.store.begin().await?;
        let args = Args::new()
            .bind(comment.article.0)
            .bind(comment.author.0)
            .bind(comment.body.as_str())
            .bind(comment.created_at);
        let (id,): (i64,) = tx.conn().fetch_one(INSERT, args).await?;
        let args = Args::new().bind(comment.author.0).bind(id);
        let row: CommentRow = tx
            .conn()
            .fetch_one(comments_where("c.id = $2"), args)
            .await?;
        tx.commit().await?;
        row.try_into()
    }

    async fn list(
        &self,
        article: ArticleId,
        viewer: Option<UserId>,
    ) -> Result<Vec<Comment>, StoreError> {
        let args = Args::new().bind(viewer.map(|id| id.0)).bind(article.0);
        let sql = comments_where("c.article_id = $2 ORDER BY c.created_at, c.id");
        self.store
            .fetch_all::<CommentRow>(sql, args)
            .await?
            .into_iter()
            .map(TryInto::try_into)
            .collect()
    }

    async fn find(
        &self,
        id: CommentId,
        viewer: Option<UserId>,
    ) -> Result<Option<Comment>, StoreError> {
        let args = Args::new().bind(viewer.map(|id| id.0)).bind(id.0);
        self.store
            .fetch_optional::<CommentRow>(comments_where("c.id = $2"), args)
            .await?
            .map(TryInto::try_into)
            .transpose()
    }

    async fn delete(&self, id: CommentId) -> Result<bool, StoreError> {
        let changed = self.store.execute(DELETE, Args::new().bind(id.0)).await?;
        Ok(changed > 0)
    }
}
