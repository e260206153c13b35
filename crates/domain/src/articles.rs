//! The articles use cases: write, read, list, feed, favourite, tags, and comments on articles.

mod model;

use std::sync::Arc;

use crate::accounts::{UserId, Username};
use crate::errors::ResourceError;
use crate::ports::{ArticleRepository, Caller, Clock, CommentRepository, StoreError};
use crate::validation::ValidationErrors;
pub use model::{
    Article, ArticleBody, ArticleChanges, ArticleFilter, ArticleId, ArticlePage, ArticleSummary,
    Comment, CommentBody, CommentId, Description, NewArticle, NewComment, Page, Slug, Tag, Title,
};

const ARTICLE: &str = "article";
const COMMENT: &str = "comment";

/// A new article as the client sent it, not yet validated.
#[derive(Debug, Clone, Default)]
pub struct ArticleDraft {
    pub title: String,
    pub description: String,
    pub body: String,
    pub tag_list: Vec<String>,
}

/// An article update as the client sent it: absent fields stay as they are.
#[derive(Debug, Clone, Default)]
pub struct ArticleEdit {
    pub title: Option<String>,
    pub description: Option<String>,
    pub body: Option<String>,
}

/// The query string of an article list, as the client sent it.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub tag: Option<String>,
    pub author: Option<String>,
    pub favorited: Option<String>,
    pub limit: Option<String>,
    pub offset: Option<String>,
}

/// The articles and comments use cases, over the ports they need.
#[derive(Clone)]
pub struct Articles {
    articles: Arc<dyn ArticleRepository>,
    comments: Arc<dyn CommentRepository>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Articles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Articles").finish_non_exhaustive()
    }
}

impl Articles {
    /// How many tags `GET /api/tags` lists at most.
    pub const TAGS_LISTED: u32 = 100;

    pub fn new(
        articles: Arc<dyn ArticleRepository>,
        comments: Arc<dyn CommentRepository>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            articles,
            comments,
            clock,
        }
    }

    /// Publishes an article by `caller`, whose token has been verified but whose session has not
    /// been looked at: the store checks that the session is live in the statement that writes
    /// ([`ResourceError::SessionEnded`] when it is not), which spares every new article a round
    /// trip. Its slug comes from the title; a title whose slug another article already has is
    /// refused with [`ResourceError::Taken`] (the contract's 409), never renamed.
    pub async fn create(
        &self,
        caller: Caller,
        draft: ArticleDraft,
    ) -> Result<Article, ResourceError> {
        let mut errors = ValidationErrors::new();
        let title = errors.check("title", &draft.title, Title::parse);
        let description = errors.check("description", &draft.description, Description::parse);
        let body = errors.check("body", &draft.body, ArticleBody::parse);
        let tags = match Tag::parse_list(&draft.tag_list) {
            Ok(tags) => Some(tags),
            Err(error) => {
                errors.add("tagList", error.to_string());
                None
            }
        };
        let (Some(title), Some(description), Some(body), Some(tags)) =
            (title, description, body, tags)
        else {
            return Err(ResourceError::Invalid(errors));
        };
        let article = NewArticle {
            author: caller.user,
            slug: Slug::from_title(&title),
            title,
            description,
            body,
            tags,
            created_at: self.clock.now(),
        };
        self.articles
            .insert(article, caller.session)
            .await?
            .ok_or(ResourceError::SessionEnded)
    }

    /// The article at `slug`, as `viewer` sees it.
    pub async fn get(&self, slug: &str, viewer: Option<UserId>) -> Result<Article, ResourceError> {
        let slug = Slug::parse(slug).map_err(|_| ResourceError::NotFound(ARTICLE))?;
        self.articles
            .find_by_slug(&slug, viewer)
            .await?
            .ok_or(ResourceError::NotFound(ARTICLE))
    }

    /// Changes an article; only its author may. A new title gives a new slug; one that another
    /// article has is refused as invalid input (the contract gives this operation no 409).
    pub async fn update(
        &self,
        caller: UserId,
        slug: &str,
        edit: ArticleEdit,
    ) -> Result<Article, ResourceError> {
        let mut errors = ValidationErrors::new();
        let changes = ArticleChanges {
            title: edit
                .title
                .as_deref()
                .and_then(|raw| errors.check("title", raw, Title::parse))
                .map(|title| {
                    let slug = Slug::from_title(&title);
                    (title, slug)
                }),
            description: edit
                .description
                .as_deref()
                .and_then(|raw| errors.check("description", raw, Description::parse)),
            body: edit
                .body
                .as_deref()
                .and_then(|raw| errors.check("body", raw, ArticleBody::parse)),
        };
        errors.into_result().map_err(ResourceError::Invalid)?;

        let article = self.own(caller, slug).await?;
        if changes.is_empty() {
            return Ok(article);
        }
        self.articles
            .update(article.summary.id, changes, self.clock.now(), caller)
            .await
            .map_err(|error| match error {
                StoreError::Conflict { field } => {
                    ResourceError::invalid(field.as_str(), "has already been taken")
                }
                other => other.into(),
            })?
            .ok_or(ResourceError::NotFound(ARTICLE))
    }

    /// Deletes an article, with its comments and favourites; only its author may.
    pub async fn delete(&self, caller: UserId, slug: &str) -> Result<(), ResourceError> {
        let article = self.own(caller, slug).await?;
        if self.articles.delete(article.summary.id).await? {
            Ok(())
        } else {
            Err(ResourceError::NotFound(ARTICLE))
        }
    }

    /// Articles that match the query, most recent first. Filters are exact matches; a filter
    /// value that no user or tag could have matches nothing. Bad paging is invalid input.
    pub async fn list(
        &self,
        query: ListQuery,
        viewer: Option<UserId>,
    ) -> Result<ArticlePage, ResourceError> {
        let page = Page::parse(query.limit.as_deref(), query.offset.as_deref())
            .map_err(ResourceError::Invalid)?;
        let given = |value: Option<String>| value.filter(|value| !value.is_empty());
        let (tag, author, favorited) = (
            given(query.tag),
            given(query.author),
            given(query.favorited),
        );
        let filter = ArticleFilter {
            tag: match tag.as_deref().map(Tag::parse) {
                Some(Err(_)) => return Ok(ArticlePage::default()),
                parsed => parsed.and_then(Result::ok),
            },
            author: match author.as_deref().map(Username::parse) {
                Some(Err(_)) => return Ok(ArticlePage::default()),
                parsed => parsed.and_then(Result::ok),
            },
            favorited_by: match favorited.as_deref().map(Username::parse) {
                Some(Err(_)) => return Ok(ArticlePage::default()),
                parsed => parsed.and_then(Result::ok),
            },
        };
        Ok(self.articles.list(&filter, page, viewer).await?)
    }

    /// Articles by the authors `reader` follows, most recent first.
    pub async fn feed(
        &self,
        reader: UserId,
        limit: Option<&str>,
        offset: Option<&str>,
    ) -> Result<ArticlePage, ResourceError> {
        let page = Page::parse(limit, offset).map_err(ResourceError::Invalid)?;
        Ok(self.articles.feed(reader, page).await?)
    }

    /// Favourites an article; doing it twice counts once.
    pub async fn favorite(&self, caller: UserId, slug: &str) -> Result<Article, ResourceError> {
        let slug = Slug::parse(slug).map_err(|_| ResourceError::NotFound(ARTICLE))?;
        self.articles
            .favorite(&slug, caller)
            .await?
            .ok_or(ResourceError::NotFound(ARTICLE))
    }

    /// Takes a favourite back; taking back one never given changes nothing.
    pub async fn unfavorite(&self, caller: UserId, slug: &str) -> Result<Article, ResourceError> {
        let slug = Slug::parse(slug).map_err(|_| ResourceError::NotFound(ARTICLE))?;
        self.articles
            .unfavorite(&slug, caller)
            .await?
            .ok_or(ResourceError::NotFound(ARTICLE))
    }

    /// The [`Self::TAGS_LISTED`] most used tags, the most used first: a client shows them as a
    /// tag cloud, and a list of every tag ever used would grow without bound.
    pub async fn tags(&self) -> Result<Vec<Tag>, ResourceError> {
        Ok(self.articles.tags(Self::TAGS_LISTED).await?)
    }

    /// An article's comments, oldest first.
    pub async fn comments(
        &self,
        slug: &str,
        viewer: Option<UserId>,
    ) -> Result<Vec<Comment>, ResourceError> {
        let article = self.get(slug, viewer).await?;
        Ok(self.comments.list(article.summary.id, viewer).await?)
    }

    pub async fn add_comment(
        &self,
        caller: UserId,
        slug: &str,
        body: &str,
    ) -> Result<Comment, ResourceError> {
        let body = CommentBody::parse(body)
            .map_err(|error| ResourceError::invalid("body", error.to_string()))?;
        let article = self.get(slug, Some(caller)).await?;
        Ok(self
            .comments
            .insert(NewComment {
                article: article.summary.id,
                author: caller,
                body,
                created_at: self.clock.now(),
            })
            .await?)
    }

    /// Deletes a comment; only its author may. A comment of another article is not found here.
    pub async fn delete_comment(
        &self,
        caller: UserId,
        slug: &str,
        id: CommentId,
    ) -> Result<(), ResourceError> {
        let article = self.get(slug, Some(caller)).await?;
        let comment = self
            .comments
            .find(id, Some(caller))
            .await?
            .filter(|comment| comment.article == article.summary.id)
            .ok_or(ResourceError::NotFound(COMMENT))?;
        if comment.author.id != caller {
            return Err(ResourceError::Forbidden(COMMENT));
        }
        if self.comments.delete(id).await? {
            Ok(())
        } else {
            Err(ResourceError::NotFound(COMMENT))
        }
    }

    /// The article at `slug`, if `caller` wrote it.
    async fn own(&self, caller: UserId, slug: &str) -> Result<Article, ResourceError> {
        let article = self.get(slug, Some(caller)).await?;
        if article.summary.author.id == caller {
            Ok(article)
        } else {
            Err(ResourceError::Forbidden(ARTICLE))
        }
    }
}

#[cfg(test)]
mod tests;
