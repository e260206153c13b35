//! [`ArticleRepository`] over the in-memory state.

use std::collections::BTreeMap;

use async_trait::async_trait;
use conduit_domain::Timestamp;
use conduit_domain::accounts::UserId;
use conduit_domain::articles::{
    Article, ArticleChanges, ArticleFilter, ArticleId, ArticlePage, NewArticle, Page, Slug, Tag,
};
use conduit_domain::ports::{ArticleRepository, SessionId, StoreError, UniqueField};

use super::*;

#[async_trait]
impl ArticleRepository for InMemoryStore {
    async fn insert(
        &self,
        article: NewArticle,
        session: SessionId,
    ) -> Result<Option<Article>, StoreError> {
        let mut state = self.write();
        if state.live_user(session, article.created_at) != Some(article.author) {
            return Ok(None);
        }
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
        state.append(live::Appended::ArticleCreated { article: id });
        state
            .article(id, Some(author))
            .map(Some)
            .ok_or_else(|| StoreError::Unavailable("the author does not exist".into()))
    }

    async fn find_by_slug(
        &self,
        slug: &Slug,
        viewer: Option<UserId>,
    ) -> Result<Option<Article>, StoreError> {
        let state = self.lock();
        Ok(state.id_of(slug).and_then(|id| state.article(id, viewer)))
    }

    async fn find_by_ids(
        &self,
        ids: &[ArticleId],
        viewer: Option<UserId>,
    ) -> Result<Vec<Article>, StoreError> {
        let state = self.lock();
        Ok(ids
            .iter()
            .filter_map(|id| state.article(id.0, viewer))
            .collect())
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

    async fn favorite(&self, slug: &Slug, user: UserId) -> Result<Option<Article>, StoreError> {
        let mut state = self.write();
        let Some(article) = state.id_of(slug) else {
            return Ok(None);
        };
        if state.favorites.insert((user.0, article)) {
            state.append(live::Appended::ArticleFavorited { article, by: user });
        }
        Ok(state.article(article, Some(user)))
    }

    async fn unfavorite(&self, slug: &Slug, user: UserId) -> Result<Option<Article>, StoreError> {
        let mut state = self.write();
        let Some(article) = state.id_of(slug) else {
            return Ok(None);
        };
        state.favorites.remove(&(user.0, article));
        Ok(state.article(article, Some(user)))
    }

    async fn tags(&self, limit: u32) -> Result<Vec<Tag>, StoreError> {
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
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        Ok(tags
            .into_iter()
            .take(limit)
            .map(|(tag, _)| tag.clone())
            .collect())
    }
}
