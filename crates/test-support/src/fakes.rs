//! In-memory fakes of the ports, for tests of multi-step flows.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;

use async_trait::async_trait;
use conduit_domain::Timestamp;
use conduit_domain::accounts::{
    Email, NewUser, Password, PasswordHash, User, UserChanges, UserId, Username,
};
use conduit_domain::articles::{
    Article, ArticleChanges, ArticleFilter, ArticleId, ArticlePage, ArticleSummary, Comment,
    CommentId, NewArticle, NewComment, Page, Slug, Tag,
};
use conduit_domain::ports::{
    AccessToken, ArticleRepository, Caller, Clock, CommentRepository, HashError, NewSession,
    PasswordHasher, ProfileRepository, RefreshToken, RefreshTokenHash, RefreshTokenSource,
    SessionId, SessionRepository, SessionState, StoreError, TokenCodec, TokenError, TokenUse,
    UniqueField, UserRepository,
};
use conduit_domain::profiles::{Author, Profile};

/// Every store port over maps in memory. It passes the same contract suite as the real stores.
#[derive(Debug, Default)]
pub struct InMemoryStore {
    state: Mutex<State>,
}

/// The old name, from when the fake held users only.
pub type InMemoryUserRepository = InMemoryStore;

#[derive(Debug, Default)]
struct State {
    users: BTreeMap<i64, User>,
    /// (follower, followee)
    follows: BTreeSet<(i64, i64)>,
    articles: BTreeMap<i64, StoredArticle>,
    /// (user, article)
    favorites: BTreeSet<(i64, i64)>,
    comments: BTreeMap<i64, StoredComment>,
    next_article: i64,
    next_comment: i64,
    sessions: BTreeMap<i64, StoredSession>,
    /// By token hash.
    refresh_tokens: HashMap<RefreshTokenHash, StoredRefreshToken>,
}

#[derive(Debug, Clone)]
struct StoredSession {
    user: UserId,
    expires_at: Timestamp,
    revoked: bool,
}

#[derive(Debug, Clone)]
struct StoredRefreshToken {
    session: i64,
    expires_at: Timestamp,
    used: bool,
}

#[derive(Debug, Clone)]
struct StoredArticle {
    new: NewArticle,
    updated_at: Timestamp,
}

#[derive(Debug, Clone)]
struct StoredComment {
    new: NewComment,
}

impl InMemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic in another test thread cannot leave the state half-changed: every change is
        // made under one lock, after every check.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl State {
    fn author(&self, id: i64, viewer: Option<UserId>) -> Option<Author> {
        let user = self.users.get(&id)?;
        Some(Author {
            id: user.id,
            profile: Profile {
                username: user.username.clone(),
                bio: user.bio.clone(),
                image: user.image.clone(),
                following: viewer.is_some_and(|viewer| self.follows.contains(&(viewer.0, id))),
            },
        })
    }

    fn article(&self, id: i64, viewer: Option<UserId>) -> Option<Article> {
        let stored = self.articles.get(&id)?;
        let new = &stored.new;
        Some(Article {
            summary: ArticleSummary {
                id: ArticleId(id),
                slug: new.slug.clone(),
                title: new.title.clone(),
                description: new.description.clone(),
                tags: new.tags.clone(),
                created_at: new.created_at,
                updated_at: stored.updated_at,
                author: self.author(new.author.0, viewer)?,
                favorited: viewer.is_some_and(|viewer| self.favorites.contains(&(viewer.0, id))),
                favorites_count: self
                    .favorites
                    .iter()
                    .filter(|(_, article)| *article == id)
                    .count() as u64,
            },
            body: new.body.clone(),
        })
    }

    fn user_id(&self, username: &Username) -> Option<i64> {
        self.users
            .values()
            .find(|user| user.username.canonical() == username.canonical())
            .map(|user| user.id.0)
    }

    fn slug_taken(&self, slug: &Slug, except: Option<i64>) -> bool {
        self.articles
            .iter()
            .any(|(id, stored)| Some(*id) != except && &stored.new.slug == slug)
    }

    /// Most recent first, ties broken by the later id, then paged.
    fn page(&self, mut matching: Vec<i64>, page: Page, viewer: Option<UserId>) -> ArticlePage {
        matching.sort_by_key(|id| {
            let created = self.articles.get(id).map(|stored| stored.new.created_at);
            std::cmp::Reverse((created, *id))
        });
        let total = matching.len() as u64;
        let articles = matching
            .into_iter()
            .skip(usize::try_from(page.offset()).unwrap_or(usize::MAX))
            .take(page.limit() as usize)
            .filter_map(|id| self.article(id, viewer))
            .map(|article| article.summary)
            .collect();
        ArticlePage { articles, total }
    }

    fn comment(&self, id: i64, viewer: Option<UserId>) -> Option<Comment> {
        let stored = self.comments.get(&id)?;
        Some(Comment {
            id: CommentId(id),
            article: stored.new.article,
            body: stored.new.body.clone(),
            created_at: stored.new.created_at,
            updated_at: stored.new.created_at,
            author: self.author(stored.new.author.0, viewer)?,
        })
    }
}

fn conflict(
    users: &BTreeMap<i64, User>,
    except: Option<i64>,
    candidate: &User,
) -> Option<UniqueField> {
    let others = users.values().filter(|user| Some(user.id.0) != except);
    for other in others {
        if other.username.canonical() == candidate.username.canonical() {
            return Some(UniqueField::Username);
        }
        if other.email == candidate.email {
            return Some(UniqueField::Email);
        }
    }
    None
}

#[async_trait]
impl UserRepository for InMemoryStore {
    async fn insert(&self, new: NewUser) -> Result<User, StoreError> {
        let mut state = self.lock();
        let users = &mut state.users;
        let id = users.keys().next_back().map_or(1, |last| last + 1);
        let user = User {
            id: UserId(id),
            username: new.username,
            email: new.email,
            bio: None,
            image: None,
            password_hash: new.password_hash,
            created_at: new.created_at,
            updated_at: new.created_at,
        };
        if let Some(field) = conflict(users, None, &user) {
            return Err(StoreError::Conflict { field });
        }
        users.insert(id, user.clone());
        Ok(user)
    }

    async fn find_by_id(&self, id: UserId) -> Result<Option<User>, StoreError> {
        Ok(self.lock().users.get(&id.0).cloned())
    }

    async fn find_by_email(&self, email: &Email) -> Result<Option<User>, StoreError> {
        Ok(self
            .lock()
            .users
            .values()
            .find(|user| &user.email == email)
            .cloned())
    }

    async fn update(
        &self,
        id: UserId,
        changes: UserChanges,
        now: Timestamp,
    ) -> Result<Option<User>, StoreError> {
        let mut state = self.lock();
        let users = &mut state.users;
        let Some(current) = users.get(&id.0) else {
            return Ok(None);
        };
        let updated = changes.apply_to(current, now);
        if let Some(field) = conflict(users, Some(id.0), &updated) {
            return Err(StoreError::Conflict { field });
        }
        users.insert(id.0, updated.clone());
        Ok(Some(updated))
    }
}

#[async_trait]
impl ProfileRepository for InMemoryStore {
    async fn find_by_username(
        &self,
        username: &Username,
        viewer: Option<UserId>,
    ) -> Result<Option<Author>, StoreError> {
        let state = self.lock();
        Ok(state
            .user_id(username)
            .and_then(|id| state.author(id, viewer)))
    }

    async fn follow(&self, follower: UserId, followee: UserId) -> Result<(), StoreError> {
        self.lock().follows.insert((follower.0, followee.0));
        Ok(())
    }

    async fn unfollow(&self, follower: UserId, followee: UserId) -> Result<(), StoreError> {
        self.lock().follows.remove(&(follower.0, followee.0));
        Ok(())
    }
}

#[async_trait]
impl ArticleRepository for InMemoryStore {
    async fn insert(&self, article: NewArticle) -> Result<Article, StoreError> {
        let mut state = self.lock();
        if state.slug_taken(&article.slug, None) {
            return Err(StoreError::Conflict {
                field: UniqueField::Slug,
            });
        }
        state.next_article += 1;
        let id = state.next_article;
        let author = article.author;
        state.articles.insert(
            id,
            StoredArticle {
                updated_at: article.created_at,
                new: article,
            },
        );
        state
            .article(id, Some(author))
            .ok_or_else(|| StoreError::Unavailable("the author does not exist".into()))
    }

    async fn find_by_slug(
        &self,
        slug: &Slug,
        viewer: Option<UserId>,
    ) -> Result<Option<Article>, StoreError> {
        let state = self.lock();
        let id = state
            .articles
            .iter()
            .find(|(_, stored)| &stored.new.slug == slug)
            .map(|(id, _)| *id);
        Ok(id.and_then(|id| state.article(id, viewer)))
    }

    async fn update(
        &self,
        id: ArticleId,
        changes: ArticleChanges,
        now: Timestamp,
        viewer: UserId,
    ) -> Result<Option<Article>, StoreError> {
        let mut state = self.lock();
        if let Some((_, slug)) = &changes.title
            && state.slug_taken(slug, Some(id.0))
        {
            return Err(StoreError::Conflict {
                field: UniqueField::Slug,
            });
        }
        let Some(stored) = state.articles.get_mut(&id.0) else {
            return Ok(None);
        };
        if let Some((title, slug)) = changes.title {
            stored.new.title = title;
            stored.new.slug = slug;
        }
        if let Some(description) = changes.description {
            stored.new.description = description;
        }
        if let Some(body) = changes.body {
            stored.new.body = body;
        }
        stored.updated_at = now;
        Ok(state.article(id.0, Some(viewer)))
    }

    async fn delete(&self, id: ArticleId) -> Result<bool, StoreError> {
        let mut state = self.lock();
        let existed = state.articles.remove(&id.0).is_some();
        state.favorites.retain(|(_, article)| *article != id.0);
        state
            .comments
            .retain(|_, comment| comment.new.article != id);
        Ok(existed)
    }

    async fn list(
        &self,
        filter: &ArticleFilter,
        page: Page,
        viewer: Option<UserId>,
    ) -> Result<ArticlePage, StoreError> {
        let state = self.lock();
        let author = filter.author.as_ref().map(|name| state.user_id(name));
        let favorited_by = filter.favorited_by.as_ref().map(|name| state.user_id(name));
        let matching = state
            .articles
            .iter()
            .filter(|(id, stored)| {
                filter
                    .tag
                    .as_ref()
                    .is_none_or(|tag| stored.new.tags.contains(tag))
                    && author.is_none_or(|author| author == Some(stored.new.author.0))
                    && favorited_by.is_none_or(|user| {
                        user.is_some_and(|user| state.favorites.contains(&(user, **id)))
                    })
            })
            .map(|(id, _)| *id)
            .collect();
        Ok(state.page(matching, page, viewer))
    }

    async fn feed(&self, reader: UserId, page: Page) -> Result<ArticlePage, StoreError> {
        let state = self.lock();
        let matching = state
            .articles
            .iter()
            .filter(|(_, stored)| state.follows.contains(&(reader.0, stored.new.author.0)))
            .map(|(id, _)| *id)
            .collect();
        Ok(state.page(matching, page, Some(reader)))
    }

    async fn favorite(&self, article: ArticleId, user: UserId) -> Result<(), StoreError> {
        self.lock().favorites.insert((user.0, article.0));
        Ok(())
    }

    async fn unfavorite(&self, article: ArticleId, user: UserId) -> Result<(), StoreError> {
        self.lock().favorites.remove(&(user.0, article.0));
        Ok(())
    }

    async fn tags(&self) -> Result<Vec<Tag>, StoreError> {
        let state = self.lock();
        let mut counts: BTreeMap<&Tag, usize> = BTreeMap::new();
        for stored in state.articles.values() {
            for tag in &stored.new.tags {
                *counts.entry(tag).or_default() += 1;
            }
        }
        let mut tags: Vec<(&Tag, usize)> = counts.into_iter().collect();
        tags.sort_by(|(a, a_count), (b, b_count)| {
            b_count
                .cmp(a_count)
                .then_with(|| a.as_str().cmp(b.as_str()))
        });
        Ok(tags.into_iter().map(|(tag, _)| tag.clone()).collect())
    }
}

#[async_trait]
impl CommentRepository for InMemoryStore {
    async fn insert(&self, comment: NewComment) -> Result<Comment, StoreError> {
        let mut state = self.lock();
        if !state.articles.contains_key(&comment.article.0) {
            return Err(StoreError::Unavailable("the article does not exist".into()));
        }
        state.next_comment += 1;
        let id = state.next_comment;
        let author = comment.author;
        state.comments.insert(id, StoredComment { new: comment });
        state
            .comment(id, Some(author))
            .ok_or_else(|| StoreError::Unavailable("the author does not exist".into()))
    }

    async fn list(
        &self,
        article: ArticleId,
        viewer: Option<UserId>,
    ) -> Result<Vec<Comment>, StoreError> {
        let state = self.lock();
        let mut comments: Vec<Comment> = state
            .comments
            .iter()
            .filter(|(_, stored)| stored.new.article == article)
            .filter_map(|(id, _)| state.comment(*id, viewer))
            .collect();
        comments.sort_by_key(|comment| (comment.created_at, comment.id));
        Ok(comments)
    }

    async fn find(
        &self,
        id: CommentId,
        viewer: Option<UserId>,
    ) -> Result<Option<Comment>, StoreError> {
        Ok(self.lock().comment(id.0, viewer))
    }

    async fn delete(&self, id: CommentId) -> Result<bool, StoreError> {
        Ok(self.lock().comments.remove(&id.0).is_some())
    }
}

#[async_trait]
impl SessionRepository for InMemoryStore {
    async fn start(&self, session: NewSession) -> Result<SessionId, StoreError> {
        let mut state = self.lock();
        let id = state.sessions.keys().next_back().map_or(1, |last| last + 1);
        state.sessions.insert(
            id,
            StoredSession {
                user: session.user,
                expires_at: session.expires_at,
                revoked: false,
            },
        );
        state.refresh_tokens.insert(
            session.token,
            StoredRefreshToken {
                session: id,
                expires_at: session.token_expires_at,
                used: false,
            },
        );
        Ok(SessionId(id))
    }

    async fn use_token(
        &self,
        token: &RefreshTokenHash,
        _now: Timestamp,
    ) -> Result<TokenUse, StoreError> {
        let mut state = self.lock();
        let Some(stored) = state.refresh_tokens.get_mut(token) else {
            return Ok(TokenUse::Unknown);
        };
        if stored.used {
            return Ok(TokenUse::AlreadyUsed(SessionId(stored.session)));
        }
        stored.used = true;
        let (session_id, token_expires_at) = (stored.session, stored.expires_at);
        let session = state
            .sessions
            .get(&session_id)
            .ok_or_else(|| StoreError::Unavailable("a token of no session".into()))?;
        Ok(TokenUse::Fresh(SessionState {
            id: SessionId(session_id),
            user: session.user,
            token_expires_at,
            expires_at: session.expires_at,
            revoked: session.revoked,
        }))
    }

    async fn add_token(
        &self,
        session: SessionId,
        token: RefreshTokenHash,
        _created_at: Timestamp,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        self.lock().refresh_tokens.insert(
            token,
            StoredRefreshToken {
                session: session.0,
                expires_at,
                used: false,
            },
        );
        Ok(())
    }

    async fn revoke(&self, session: SessionId, _now: Timestamp) -> Result<(), StoreError> {
        if let Some(stored) = self.lock().sessions.get_mut(&session.0) {
            stored.revoked = true;
        }
        Ok(())
    }

    async fn revoke_all(
        &self,
        user: UserId,
        except: Option<SessionId>,
        _now: Timestamp,
    ) -> Result<(), StoreError> {
        for (id, session) in &mut self.lock().sessions {
            if session.user == user && Some(SessionId(*id)) != except {
                session.revoked = true;
            }
        }
        Ok(())
    }
}

/// A clock that moves only when told to.
#[derive(Debug)]
pub struct FakeClock {
    now: Mutex<Timestamp>,
}

impl FakeClock {
    /// A clock at `now`, truncated to the millisecond like every [`Timestamp`].
    pub fn at(now: impl Into<Timestamp>) -> Self {
        Self {
            now: Mutex::new(now.into()),
        }
    }

    /// A fake clock set to the system time (to the millisecond), for tests that mix it with real tokens.
    pub fn starting_now() -> Self {
        Self::at(conduit_domain::ports::SystemClock.now())
    }

    pub fn advance(&self, by: time::Duration) {
        let mut now = self
            .now
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *now += by;
    }
}

impl Clock for FakeClock {
    fn now(&self) -> Timestamp {
        *self
            .now
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A hasher that is fast and obviously not secure: `fake$<password>`. For web and flow tests that
/// are not about hashing.
#[derive(Debug, Default, Clone, Copy)]
pub struct FakeHasher;

#[async_trait]
impl PasswordHasher for FakeHasher {
    async fn hash(&self, password: &Password) -> Result<PasswordHash, HashError> {
        Ok(PasswordHash::from_phc(format!(
            "fake${}",
            password.expose()
        )))
    }

    async fn verify(&self, password: &Password, hash: &PasswordHash) -> Result<bool, HashError> {
        Ok(hash.as_str() == format!("fake${}", password.expose()))
    }

    async fn verify_against_dummy(&self, _password: &Password) {}
}

/// Access tokens of the form `fake-token-<user>.<session>`, easy to read in assertions; anything
/// else is refused. For web tests that are not about signing: the real codec has tests of its own.
#[derive(Debug, Default, Clone, Copy)]
pub struct FakeTokens;

impl FakeTokens {
    pub fn token_for(user: UserId, session: SessionId) -> String {
        format!("fake-token-{user}.{session}")
    }
}

impl TokenCodec for FakeTokens {
    fn issue(
        &self,
        user: UserId,
        session: SessionId,
        _now: Timestamp,
    ) -> Result<AccessToken, TokenError> {
        Ok(AccessToken::new(Self::token_for(user, session)))
    }

    fn verify(&self, token: &str, _now: Timestamp) -> Result<Caller, TokenError> {
        let (user, session) = token
            .strip_prefix("fake-token-")
            .and_then(|rest| rest.split_once('.'))
            .ok_or(TokenError::Malformed)?;
        match (user.parse(), session.parse()) {
            (Ok(user), Ok(session)) => Ok(Caller {
                user: UserId(user),
                session: SessionId(session),
            }),
            _ => Err(TokenError::Malformed),
        }
    }
}

/// Refresh tokens `refresh-1`, `refresh-2`, ... in order, hashed as `hashed:<token>`.
#[derive(Debug, Default)]
pub struct FakeRefreshTokens {
    issued: std::sync::atomic::AtomicU64,
}

impl RefreshTokenSource for FakeRefreshTokens {
    fn generate(&self) -> RefreshToken {
        let n = self
            .issued
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            + 1;
        RefreshToken::new(format!("refresh-{n}"))
    }

    fn hash(&self, token: &str) -> RefreshTokenHash {
        RefreshTokenHash(format!("hashed:{token}"))
    }
}
