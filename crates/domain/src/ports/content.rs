//! Profiles, articles and comments, as a store keeps them.

use async_trait::async_trait;

use super::sessions::SessionId;
use super::store::StoreError;
use crate::Timestamp;
use crate::accounts::{UserId, Username};
use crate::articles::{
    Article, ArticleChanges, ArticleFilter, ArticleId, ArticlePage, Comment, CommentId, NewArticle,
    NewComment, Page, Slug, Tag,
};
use crate::profiles::Author;

/// Profiles and who follows whom. Following is a set: following twice is following once.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ProfileRepository: Send + Sync {
    /// The user with this username (compared regardless of case), as `viewer` sees them.
    async fn find_by_username(
        &self,
        username: &Username,
        viewer: Option<UserId>,
    ) -> Result<Option<Author>, StoreError>;
    /// Idempotent. Both users exist; the follower is not the followee.
    async fn follow(&self, follower: UserId, followee: UserId) -> Result<(), StoreError>;
    /// Idempotent.
    async fn unfollow(&self, follower: UserId, followee: UserId) -> Result<(), StoreError>;
    /// The user with this id, as `viewer` sees them.
    async fn find_by_id(
        &self,
        id: UserId,
        viewer: Option<UserId>,
    ) -> Result<Option<Author>, StoreError>;
    /// Everyone who follows `followee`, in no particular order.
    async fn followers(&self, followee: UserId) -> Result<Vec<UserId>, StoreError>;
}

/// Articles, their tags and favourites. Every read is as `viewer` sees it (`favorited`, and
/// `following` of the author); every write is one transaction.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ArticleRepository: Send + Sync {
    /// Stores a new article and returns it as its author sees it, if `session` is the author's
    /// and is live (not revoked, not expired) at the article's `created_at`: the session check and
    /// the write are one statement. `None` when the session is not live, and nothing is written.
    /// A slug in use is a `Conflict { field: Slug }`, and nothing is written.
    async fn insert(
        &self,
        article: NewArticle,
        session: SessionId,
    ) -> Result<Option<Article>, StoreError>;
    async fn find_by_slug(
        &self,
        slug: &Slug,
        viewer: Option<UserId>,
    ) -> Result<Option<Article>, StoreError>;
    /// Those of the articles with these ids that exist, as `viewer` sees them, in any order: one
    /// read for many (the live fan-out's batch of new articles).
    async fn find_by_ids(
        &self,
        ids: &[ArticleId],
        viewer: Option<UserId>,
    ) -> Result<Vec<Article>, StoreError>;
    /// Applies `changes` and returns the article as `viewer` sees it now, or `None` when there is
    /// no such article. A new slug in use by another article is a conflict.
    async fn update(
        &self,
        id: ArticleId,
        changes: ArticleChanges,
        now: Timestamp,
        viewer: UserId,
    ) -> Result<Option<Article>, StoreError>;
    /// Deletes the article with its tags, favourites and comments; `false` if there was none.
    async fn delete(&self, id: ArticleId) -> Result<bool, StoreError>;
    /// Articles that match `filter`, most recent first (ties: the later-created first).
    async fn list(
        &self,
        filter: &ArticleFilter,
        page: Page,
        viewer: Option<UserId>,
    ) -> Result<ArticlePage, StoreError>;
    /// Articles by the authors `reader` follows, in the order of [`Self::list`].
    async fn feed(&self, reader: UserId, page: Page) -> Result<ArticlePage, StoreError>;
    /// Favourites the article with this slug, and reads it back as `user` sees it then, in one
    /// write; `None` when there is no such article. Idempotent: favouriting twice counts once,
    /// even when the two requests race.
    async fn favorite(&self, slug: &Slug, user: UserId) -> Result<Option<Article>, StoreError>;
    /// Takes the favourite back, as [`Self::favorite`] gives it. Idempotent.
    async fn unfavorite(&self, slug: &Slug, user: UserId) -> Result<Option<Article>, StoreError>;
    /// The `limit` most used tags, the most used first (ties in alphabetical order).
    async fn tags(&self, limit: u32) -> Result<Vec<Tag>, StoreError>;
}

/// Comments on articles.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait CommentRepository: Send + Sync {
    /// Stores a comment on an existing article and returns it as its author sees it.
    async fn insert(&self, comment: NewComment) -> Result<Comment, StoreError>;
    /// The article's comments, oldest first, as `viewer` sees them.
    async fn list(
        &self,
        article: ArticleId,
        viewer: Option<UserId>,
    ) -> Result<Vec<Comment>, StoreError>;
    async fn find(
        &self,
        id: CommentId,
        viewer: Option<UserId>,
    ) -> Result<Option<Comment>, StoreError>;
    /// `false` if there was no such comment.
    async fn delete(&self, id: CommentId) -> Result<bool, StoreError>;
}
