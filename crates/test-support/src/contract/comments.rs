//! The contract of [`CommentRepository`](conduit_domain::ports::CommentRepository): comments on
//! articles.

use conduit_domain::articles::CommentId;
use time::Duration;

use super::{ContractStore, T0, article, author_and_follower, comment_on, user};
use crate::builders::NewArticleBuilder;

pub async fn comments_are_listed_oldest_first_per_article(store: &ContractStore) {
    let (author, reader) = author_and_follower(store).await;
    let first = article(store, NewArticleBuilder::new(author)).await;
    let second = article(store, NewArticleBuilder::new(author)).await;
    let later = comment_on(store, first.id, author, T0 + Duration::minutes(1)).await;
    let earlier = comment_on(store, first.id, reader, T0).await;
    comment_on(store, second.id, reader, T0).await;

    let comments = store
        .comments
        .list(first.id, Some(reader))
        .await
        .expect("lists");

    let ids: Vec<CommentId> = comments.iter().map(|comment| comment.id).collect();
    assert_eq!(ids, [earlier, later]);
    assert!(comments[1].author.profile.following);
    assert!(!comments[0].author.profile.following);
    assert_eq!(comments[0].created_at, T0);
    assert_eq!(comments[0].article, first.id);
}

pub async fn a_comment_is_found_by_id_and_deleted_once(store: &ContractStore) {
    let (author, author_name) = user(store).await;
    let on = article(store, NewArticleBuilder::new(author)).await;
    let id = comment_on(store, on.id, author, T0).await;

    let found = store
        .comments
        .find(id, None)
        .await
        .expect("reads")
        .expect("found");
    assert_eq!((found.article, found.author.id), (on.id, author));
    assert_eq!(found.author.profile.username, author_name);
    assert_eq!(found.body.as_str(), "A comment");

    assert_eq!(store.comments.delete(id).await, Ok(true));
    assert_eq!(store.comments.delete(id).await, Ok(false));
    assert_eq!(store.comments.find(id, None).await, Ok(None));
}
