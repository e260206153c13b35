//! The port traits: everything the use cases need from the outside world.
//!
//! Adapters live elsewhere (`conduit-persistence`, `conduit-security`); tests use the mockall
//! mocks generated here (`MockUserRepository`, ...) or the fakes in `conduit-test-support`.
//! Ports return domain errors only, never a driver's error type.

use std::fmt;

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::article::{
    Article, ArticleChanges, ArticleFilter, ArticleId, ArticlePage, Author, Comment, CommentId,
    NewArticle, NewComment, Page, Slug, Tag,
};
use crate::user::{Email, NewUser, Password, PasswordHash, User, UserChanges, UserId, Username};

/// A field whose value must be unique across users.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UniqueField {
    Username,
    Email,
    /// An article's slug.
    Slug,
}

impl UniqueField {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Username => "username",
            Self::Email => "email",
            Self::Slug => "slug",
        }
    }
}

/// Why a store could not do what it was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule refused the write; nothing was written.
    #[error("{} is already taken", .field.as_str())]
    Conflict { field: UniqueField },
    /// The store failed or could not be reached; the context is for logs, never for clients.
    #[error("store unavailable: {0}")]
    Unavailable(String),
}

/// Users, as a store keeps them. Uniqueness of username (case-insensitive) and e-mail is the
/// store's to enforce, atomically, so that concurrent registrations cannot both succeed.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait UserRepository: Send + Sync {
    /// Stores a new user and returns it as stored, with its id.
    async fn insert(&self, user: NewUser) -> Result<User, StoreError>;
    async fn find_by_id(&self, id: UserId) -> Result<Option<User>, StoreError>;
    async fn find_by_email(&self, email: &Email) -> Result<Option<User>, StoreError>;
    /// Applies `changes` and returns the user as stored now, or `None` when there is no such user.
    async fn update(
        &self,
        id: UserId,
        changes: UserChanges,
        now: OffsetDateTime,
    ) -> Result<Option<User>, StoreError>;
}

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
}

/// Articles, their tags and favourites. Every read is as `viewer` sees it (`favorited`, and
/// `following` of the author); every write is one transaction.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ArticleRepository: Send + Sync {
    /// Stores a new article and returns it as its author sees it. A slug in use is a
    /// `Conflict { field: Slug }`, and nothing is written.
    async fn insert(&self, article: NewArticle) -> Result<Article, StoreError>;
    async fn find_by_slug(
        &self,
        slug: &Slug,
        viewer: Option<UserId>,
    ) -> Result<Option<Article>, StoreError>;
    /// Applies `changes` and returns the article as `viewer` sees it now, or `None` when there is
    /// no such article. A new slug in use by another article is a conflict.
    async fn update(
        &self,
        id: ArticleId,
        changes: ArticleChanges,
        now: OffsetDateTime,
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
    /// Idempotent: favouriting twice counts once, even when the two requests race.
    async fn favorite(&self, article: ArticleId, user: UserId) -> Result<(), StoreError>;
    /// Idempotent.
    async fn unfavorite(&self, article: ArticleId, user: UserId) -> Result<(), StoreError>;
    /// Every tag some article carries, the most used first (ties in alphabetical order).
    async fn tags(&self) -> Result<Vec<Tag>, StoreError>;
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

/// The password hasher failed (not a wrong password: that is `Ok(false)`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(pub String);

/// One-way password hashing. Implementations are slow on purpose and must not block the caller's
/// executor.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait PasswordHasher: Send + Sync {
    async fn hash(&self, password: &Password) -> Result<PasswordHash, HashError>;
    /// `Ok(false)` for a wrong password.
    async fn verify(&self, password: &Password, hash: &PasswordHash) -> Result<bool, HashError>;
    /// Does the work of one `verify` against a hash of no real user, so that a login for an
    /// unknown e-mail costs as much time as one with a wrong password.
    async fn verify_against_dummy(&self, password: &Password);
}

/// A signed access token, as handed to a client.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessToken(String);

impl AccessToken {
    pub fn new(token: String) -> Self {
        Self(token)
    }

    /// The token itself, for the response body only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessToken(<redacted>)")
    }
}

/// Why a presented token was refused. The variants are for logs and tests; clients all get the
/// same 401.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("is missing")]
    Missing,
    #[error("is malformed")]
    Malformed,
    #[error("has an invalid signature")]
    BadSignature,
    #[error("has expired")]
    Expired,
    #[error("is not valid yet")]
    NotYetValid,
    #[error("was not issued for this service")]
    WrongAudience,
    /// Genuine, but its user no longer exists.
    #[error("speaks for no user")]
    UnknownUser,
    #[error("could not be issued: {0}")]
    Issue(String),
}

/// Issues and checks access tokens. Time is passed in, so the clock stays injectable.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait TokenCodec: Send + Sync {
    fn issue(&self, user: UserId, now: OffsetDateTime) -> Result<AccessToken, TokenError>;
    /// The user a valid token speaks for.
    fn verify(&self, token: &str, now: OffsetDateTime) -> Result<UserId, TokenError>;
}

/// The current time. Production reads the system clock; tests move a fake one by hand.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait Clock: Send + Sync {
    fn now(&self) -> OffsetDateTime;
}

/// The system clock, read to the millisecond: the precision the contract shows
/// (`2026-02-18T03:22:56.637Z`) and every store keeps, so a stored time reads back unchanged.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        let now = OffsetDateTime::now_utc();
        now.replace_millisecond(now.millisecond()).unwrap_or(now)
    }
}
