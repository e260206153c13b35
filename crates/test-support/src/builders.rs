//! Builders with valid defaults and unique values: a test states only what it asserts on, and no
//! two tests ever share a row.

use std::sync::atomic::{AtomicU64, Ordering};

use conduit_domain::Timestamp;
use conduit_domain::accounts::{Email, NewUser, PasswordHash, UserId, Username};
use conduit_domain::articles::{ArticleBody, Description, NewArticle, Slug, Tag, Title};
use time::macros::datetime;

/// A short suffix unique within this process and, with high probability, across processes.
pub fn unique() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let random = uuid::Uuid::new_v4().simple().to_string();
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{}{count}", &random[..8])
}

/// Builds a [`NewUser`] for a store: `NewUserBuilder::new().username("jake").build()`.
#[derive(Debug, Clone)]
pub struct NewUserBuilder {
    username: String,
    email: String,
    password_hash: String,
    created_at: Timestamp,
}

impl Default for NewUserBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl NewUserBuilder {
    pub fn new() -> Self {
        let suffix = unique();
        Self {
            username: format!("user{suffix}"),
            email: format!("user{suffix}@example.com"),
            password_hash: "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaA".to_owned(),
            created_at: Timestamp::from_offset(datetime!(2026-01-02 03:04:05.678 UTC)),
        }
    }

    pub fn username(mut self, username: impl Into<String>) -> Self {
        self.username = username.into();
        self
    }

    pub fn email(mut self, email: impl Into<String>) -> Self {
        self.email = email.into();
        self
    }

    pub fn password_hash(mut self, hash: impl Into<String>) -> Self {
        self.password_hash = hash.into();
        self
    }

    pub fn created_at(mut self, at: impl Into<Timestamp>) -> Self {
        self.created_at = at.into();
        self
    }

    /// # Panics
    /// When a field set on the builder is not valid: a mistake in the test, not in the code.
    pub fn build(self) -> NewUser {
        NewUser {
            username: Username::parse(&self.username).expect("builder username is valid"),
            email: Email::parse(&self.email).expect("builder email is valid"),
            password_hash: PasswordHash::from_phc(self.password_hash),
            created_at: self.created_at,
        }
    }
}

/// Builds a [`NewArticle`] by `author`: `NewArticleBuilder::new(author).tags(["rust"]).build()`.
/// The title, and so the slug, is unique unless set.
#[derive(Debug, Clone)]
pub struct NewArticleBuilder {
    author: UserId,
    title: String,
    description: String,
    body: String,
    tags: Vec<String>,
    created_at: Timestamp,
}

impl NewArticleBuilder {
    pub fn new(author: UserId) -> Self {
        Self {
            author,
            title: format!("Article {}", unique()),
            description: "What it is about".to_owned(),
            body: "Some *Markdown*.".to_owned(),
            tags: Vec::new(),
            created_at: Timestamp::from_offset(datetime!(2026-01-02 03:04:05.678 UTC)),
        }
    }

    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = title.into();
        self
    }

    pub fn tags<const N: usize>(mut self, tags: [&str; N]) -> Self {
        self.tags = tags.into_iter().map(str::to_owned).collect();
        self
    }

    pub fn created_at(mut self, at: impl Into<Timestamp>) -> Self {
        self.created_at = at.into();
        self
    }

    /// # Panics
    /// When a field set on the builder is not valid: a mistake in the test, not in the code.
    pub fn build(self) -> NewArticle {
        let title = Title::parse(&self.title).expect("builder title is valid");
        NewArticle {
            author: self.author,
            slug: Slug::from_title(&title),
            title,
            description: Description::parse(&self.description)
                .expect("builder description is valid"),
            body: ArticleBody::parse(&self.body).expect("builder body is valid"),
            tags: Tag::parse_list(&self.tags).expect("builder tags are valid"),
            created_at: self.created_at,
        }
    }
}
