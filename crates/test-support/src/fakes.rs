//! In-memory fakes of the ports, for tests of multi-step flows: one module per port, as in
//! `conduit-persistence`. [`InMemoryStore`] implements every store port over one state, so that
//! reads see the relations (follows, favourites) that other ports wrote.

mod articles;
mod clock;
mod comments;
mod live;
mod login_failures;
mod profiles;
mod security;
mod sessions;
mod users;

pub use clock::FakeClock;
pub use security::{FakeBreaches, FakeHasher, FakeRefreshTokens, FakeTokens};

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;

use conduit_domain::Timestamp;
use conduit_domain::accounts::{User, UserId, Username};
use conduit_domain::articles::{
    Article, ArticleId, ArticlePage, ArticleSummary, Comment, CommentId, NewArticle, NewComment,
    Page, Slug,
};
use conduit_domain::ports::{RefreshTokenHash, SessionId, UniqueField};
use conduit_domain::profiles::{Author, Profile};

/// Every store port over maps in memory. It passes the same contract suite as the real stores.
#[derive(Debug, Default)]
pub struct InMemoryStore {
    state: Mutex<State>,
    /// Woken after every write, as the SQLite store's is.
    written: std::sync::Arc<tokio::sync::Notify>,
}

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
    /// The outbox of live events, in id order.
    events: Vec<live::FakeEvent>,
    next_event: i64,
    pruned_through: i64,
    /// Failed logins by stored key.
    login_failures: HashMap<String, Vec<Timestamp>>,
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

    /// What wakes the live fan-out: every write of this store.
    pub fn event_signal(&self) -> std::sync::Arc<tokio::sync::Notify> {
        self.written.clone()
    }

    /// The state, for a write: whoever waits on [`Self::event_signal`] is woken afterwards.
    fn write(&self) -> Written<'_> {
        Written {
            state: self.lock(),
            written: &self.written,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic in another test thread cannot leave the state half-changed: every change is
        // made under one lock, after every check.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The state locked for a write; unlocking wakes the live fan-out.
struct Written<'a> {
    state: std::sync::MutexGuard<'a, State>,
    written: &'a tokio::sync::Notify,
}

impl std::ops::Deref for Written<'_> {
    type Target = State;

    fn deref(&self) -> &State {
        &self.state
    }
}

impl std::ops::DerefMut for Written<'_> {
    fn deref_mut(&mut self) -> &mut State {
        &mut self.state
    }
}

impl Drop for Written<'_> {
    fn drop(&mut self) {
        self.written.notify_one();
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

    /// The id of the article with this slug.
    fn id_of(&self, slug: &Slug) -> Option<i64> {
        self.articles
            .iter()
            .find(|(_, stored)| &stored.new.slug == slug)
            .map(|(id, _)| *id)
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

    /// The user of `session`, if it is live at `now`: not revoked, not expired, its user there.
    fn live_user(&self, session: SessionId, now: Timestamp) -> Option<UserId> {
        self.sessions
            .get(&session.0)
            .filter(|stored| !stored.revoked && stored.expires_at > now)
            .filter(|stored| self.users.contains_key(&stored.user.0))
            .map(|stored| stored.user)
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
    // The username first, when both are taken: the rule every store keeps.
    let mut others = users.values().filter(|user| Some(user.id.0) != except);
    if others
        .clone()
        .any(|other| other.username.canonical() == candidate.username.canonical())
    {
        return Some(UniqueField::Username);
    }
    others
        .any(|other| other.email == candidate.email)
        .then_some(UniqueField::Email)
}
