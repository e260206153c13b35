//! [`CommentRepository`] over the in-memory state.

use async_trait::async_trait;
use conduit_domain::accounts::UserId;
use conduit_domain::articles::{ArticleId, Comment, CommentId, NewComment};
use conduit_domain::ports::{CommentRepository, StoreError};

use super::*;

#[async_trait]
impl CommentRepository for InMemoryStore {
    async fn insert(&self, comment: NewComment) -> Result<Comment, StoreError> {
        let mut state = self.write();
        if !state.articles.contains_key(&comment.article.0) {
            return Err(StoreError::Unavailable("the article does not exist".into()));
        }
        state.next_comment += 1;
        let id = state.next_comment;
        let author = comment.author;
        let article = comment.article.0;
        state.comments.insert(id, StoredComment { new: comment });
        state.append(live::Appended::CommentCreated {
            article,
            comment: id,
            by: author,
        });
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
