//! The port traits: everything the use cases need from the outside world.
//!
//! Adapters live elsewhere (`conduit-persistence`, `conduit-security`); tests use the mockall
//! mocks generated here (`MockUserRepository`, ...) or the fakes in `conduit-test-support`.
//! Ports return domain errors only, never a driver's error type.

use std::fmt;

use crate::Timestamp;
use async_trait::async_trait;

use crate::accounts::{
    Email, NewUser, Password, PasswordHash, User, UserChanges, UserId, Username,
};
use crate::articles::{
    Article, ArticleChanges, ArticleFilter, ArticleId, ArticlePage, Comment, CommentId, NewArticle,
    NewComment, Page, Slug, Tag,
};
use crate::live::{EventId, LogBounds, StoredEvent};
use crate::profiles::Author;

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
    /// What the write refers to is gone (an article deleted while a favourite or a comment of it
    /// was being written); nothing was written. Names the kind of resource, as
    /// [`ResourceError::NotFound`](crate::errors::ResourceError::NotFound) does.
    #[error("{0} is gone")]
    Gone(&'static str),
    /// The store failed; the context is for logs, never for clients.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// The store could not be reached or did not answer in time (down, restarting, out of
    /// connections, a statement over its timeout): the same request may succeed shortly. The
    /// context is for logs.
    #[error("store unreachable: {0}")]
    Unreachable(String),
}

/// Users, as a store keeps them. Uniqueness of username (case-insensitive) and e-mail is the
/// store's to enforce, atomically, so that concurrent registrations cannot both succeed.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait UserRepository: Send + Sync {
    /// Stores a new user and returns it as stored, with its id.
    async fn insert(&self, user: NewUser) -> Result<User, StoreError>;
    async fn find_by_id(&self, id: UserId) -> Result<Option<User>, StoreError>;
    /// The user of the session `session` if it is live at `now` (as
    /// [`SessionRepository::live_user`] decides): the session check and the read of the user in
    /// one lookup, for a request that needs the user anyway (`GET /user`).
    async fn find_by_live_session(
        &self,
        session: SessionId,
        now: Timestamp,
    ) -> Result<Option<User>, StoreError>;
    async fn find_by_email(&self, email: &Email) -> Result<Option<User>, StoreError>;
    /// Applies `changes` and returns the user as stored now, or `None` when there is no such user.
    async fn update(
        &self,
        id: UserId,
        changes: UserChanges,
        now: Timestamp,
    ) -> Result<Option<User>, StoreError>;
}

/// What login throttling counts failures by. An account is its e-mail address, lower-cased; a
/// client is its address as the web layer determined it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ThrottleKey {
    Account(String),
    Client(String),
}

impl ThrottleKey {
    /// The key as one string, distinct between the two kinds (an account and a client with the
    /// same text are different keys): how a store keeps it.
    pub fn to_stored(&self) -> String {
        match self {
            Self::Account(email) => format!("account:{email}"),
            Self::Client(address) => format!("client:{address}"),
        }
    }
}

/// Failed logins, counted per [`ThrottleKey`]. Where several replicas serve one database, the
/// store is that database, so that they share one count.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait LoginFailures: Send + Sync {
    /// Records one failure at `at` under each key, and forgets every failure (under any key) at
    /// or before `forget_until`.
    async fn record(
        &self,
        keys: &[ThrottleKey],
        at: Timestamp,
        forget_until: Timestamp,
    ) -> Result<(), StoreError>;
    /// The times of the latest `limit` failures under `key` after `since`, the latest first.
    async fn latest(
        &self,
        key: &ThrottleKey,
        since: Timestamp,
        limit: u32,
    ) -> Result<Vec<Timestamp>, StoreError>;
    /// Forgets every failure under `key`.
    async fn clear(&self, key: &ThrottleKey) -> Result<(), StoreError>;
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
    /// Stores a new article and returns it as its author sees it. A slug in use is a
    /// `Conflict { field: Slug }`, and nothing is written.
    async fn insert(&self, article: NewArticle) -> Result<Article, StoreError>;
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
    /// Genuine, but its session has ended: logged out, revoked, or past its absolute expiry.
    #[error("belongs to a session that has ended")]
    SessionEnded,
    #[error("could not be issued: {0}")]
    Issue(String),
}

/// Issues and checks access tokens. Time is passed in, so the clock stays injectable.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait TokenCodec: Send + Sync {
    /// A token for `user` in `session` (its `sid` claim).
    fn issue(
        &self,
        user: UserId,
        session: SessionId,
        now: Timestamp,
    ) -> Result<AccessToken, TokenError>;
    /// The user and session a valid token speaks for.
    fn verify(&self, token: &str, now: Timestamp) -> Result<Caller, TokenError>;
    /// The instant from which [`Self::verify`] refuses `token` as expired, for a token it
    /// accepts; `None` for a token that never expires or cannot be read. A live socket closes then.
    fn expiry(&self, token: &str) -> Option<Timestamp>;
}

/// The store's identifier of a session: one login (or registration) and the chain of refresh
/// tokens rotated from it, the "family" that reuse of any one of them revokes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId(pub i64);

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Who a valid access token speaks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caller {
    pub user: UserId,
    pub session: SessionId,
}

/// A refresh token as handed to a client: opaque, random, never stored (only its hash is).
#[derive(Clone, PartialEq, Eq)]
pub struct RefreshToken(String);

impl RefreshToken {
    pub fn new(token: String) -> Self {
        Self(token)
    }

    /// The token itself, for the response body only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for RefreshToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RefreshToken(<redacted>)")
    }
}

/// The hash of a refresh token, as the store keeps it and looks it up.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RefreshTokenHash(pub String);

impl fmt::Debug for RefreshTokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RefreshTokenHash(<redacted>)")
    }
}

/// Makes refresh tokens and hashes presented ones.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait RefreshTokenSource: Send + Sync {
    /// A new token from a CSPRNG (at least 256 bits).
    fn generate(&self) -> RefreshToken;
    /// The hash under which the store keeps `token`.
    fn hash(&self, token: &str) -> RefreshTokenHash;
}

/// A session to start, with its first refresh token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    pub user: UserId,
    pub token: RefreshTokenHash,
    pub created_at: Timestamp,
    /// When the first token stops working unless used (the idle expiry).
    pub token_expires_at: Timestamp,
    /// When the whole session ends, however often it is refreshed (the absolute expiry).
    pub expires_at: Timestamp,
}

/// A session as the store knows it, found through one of its tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionState {
    pub id: SessionId,
    pub user: UserId,
    /// The idle expiry of the token that was presented.
    pub token_expires_at: Timestamp,
    pub expires_at: Timestamp,
    pub revoked: bool,
}

/// What presenting a refresh token found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenUse {
    /// The token had not been used; it is used now.
    Fresh(SessionState),
    /// The token had been used before: a replay, or a stolen copy.
    AlreadyUsed(SessionId),
    /// No such token.
    Unknown,
}

/// Sessions and their refresh tokens.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait SessionRepository: Send + Sync {
    async fn start(&self, session: NewSession) -> Result<SessionId, StoreError>;
    /// Marks the token with this hash used, atomically: of two concurrent calls with the same
    /// token, exactly one finds it [`TokenUse::Fresh`].
    async fn use_token(
        &self,
        token: &RefreshTokenHash,
        now: Timestamp,
    ) -> Result<TokenUse, StoreError>;
    /// Adds the next token of a session.
    async fn add_token(
        &self,
        session: SessionId,
        token: RefreshTokenHash,
        created_at: Timestamp,
        expires_at: Timestamp,
    ) -> Result<(), StoreError>;
    /// The user of the session `session` if it is live at `now`: not revoked, not past its
    /// absolute expiry, and its user still there. One lookup by primary key: it runs on every
    /// authenticated request.
    async fn live_user(
        &self,
        session: SessionId,
        now: Timestamp,
    ) -> Result<Option<UserId>, StoreError>;
    /// Revokes a session: none of its tokens works again. Idempotent.
    async fn revoke(&self, session: SessionId, now: Timestamp) -> Result<(), StoreError>;
    /// Revokes every session of `user`, but `except`.
    async fn revoke_all(
        &self,
        user: UserId,
        except: Option<SessionId>,
        now: Timestamp,
    ) -> Result<(), StoreError>;
}

/// The breach check could not answer (and is configured to fail closed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the breached-password check is unavailable: {0}")]
pub struct BreachCheckError(pub String);

/// Whether a password appears in known data breaches.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait BreachedPasswords: Send + Sync {
    /// `Some(times seen)` when the password has been seen in breaches at least as often as the
    /// configured threshold, `None` when not (or when the check is off, or failed and fails open).
    async fn check(&self, password: &Password) -> Result<Option<u64>, BreachCheckError>;
}

/// No breach check: every password passes. The default until a range API is configured.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoBreachCheck;

#[async_trait]
impl BreachedPasswords for NoBreachCheck {
    async fn check(&self, _password: &Password) -> Result<Option<u64>, BreachCheckError> {
        Ok(None)
    }
}

/// The current time. Production reads the system clock; tests move a fake one by hand.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

/// The system clock, read to the millisecond like every [`Timestamp`].
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_offset(time::OffsetDateTime::now_utc())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tokens end up in `Debug` output through logs and failed assertions: none may show itself.
    #[test]
    fn tokens_and_token_hashes_never_show_in_debug_output() {
        let secret = "eyJhbGciOiJIUzI1NiJ9.c2VjcmV0.c2lnbmF0dXJl";

        let printed = [
            format!("{:?}", AccessToken::new(secret.to_owned())),
            format!("{:?}", RefreshToken::new(secret.to_owned())),
            format!("{:?}", RefreshTokenHash(secret.to_owned())),
        ];

        assert_eq!(
            printed,
            [
                "AccessToken(<redacted>)",
                "RefreshToken(<redacted>)",
                "RefreshTokenHash(<redacted>)"
            ]
        );
    }

    /// Until a range API is configured, no password is refused as breached.
    #[tokio::test]
    async fn with_no_breach_check_every_password_passes() {
        let password =
            crate::accounts::Password::parse("violet staple quarry 42").expect("valid password");

        assert_eq!(NoBreachCheck.check(&password).await, Ok(None));
    }
}

/// The outbox of live events: one row for each article, comment and favourite written, and for
/// each session ended, appended by the store in the same transaction as the change itself. Ids
/// grow in commit order, so reading after an id never skips an event committed later.
///
/// A store may give an event its id after the commit rather than at it (PostgreSQL does, so that
/// writers never wait for one another): its events are read only once [`EventLog::sequence`] has
/// given them ids.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait EventLog: Send + Sync {
    /// Up to `limit` events after `since`, in id order. An event whose article or comment has
    /// since been deleted is gone with it.
    async fn after(&self, since: EventId, limit: u32) -> Result<Vec<StoredEvent>, StoreError>;
    /// The newest id, and the newest id that pruning removed.
    async fn bounds(&self) -> Result<LogBounds, StoreError>;
    /// Removes the events that happened before `before`, but never the newest one (whose id
    /// clients hold as where they are); the number removed.
    async fn prune(&self, before: Timestamp) -> Result<u64, StoreError>;
    /// Gives ids to the events committed before this call, above every id given before; the
    /// number given. A store that gives ids at commit has nothing to do.
    async fn sequence(&self) -> Result<u64, StoreError>;
}
