use std::sync::Arc;

use mockall::predicate::{always, eq};
use time::macros::datetime;

use super::*;
use crate::Timestamp;
use crate::articles::ArticleId;
use crate::ports::{
    Caller, MockArticleRepository, MockClock, MockCommentRepository, SessionId, UniqueField,
};
use crate::testing::{author, stored_article};

const NOW: Timestamp = Timestamp::from_offset(datetime!(2026-01-01 12:00 UTC));
const AUTHOR: UserId = UserId(1);
const READER: UserId = UserId(2);
/// The author, in session 7.
const CALLER: Caller = Caller {
    user: AUTHOR,
    session: SessionId(7),
};

struct Ports {
    articles: MockArticleRepository,
    comments: MockCommentRepository,
}

impl Ports {
    fn new() -> Self {
        Self {
            articles: MockArticleRepository::new(),
            comments: MockCommentRepository::new(),
        }
    }

    /// `find_by_slug` answers `article` for its slug, any number of times.
    fn finding(mut self, article: Article) -> Self {
        self.articles
            .expect_find_by_slug()
            .returning(move |slug, _| Ok((slug == &article.summary.slug).then(|| article.clone())));
        self
    }

    fn articles(self) -> Articles {
        let mut clock = MockClock::new();
        clock.expect_now().return_const(NOW);
        Articles::new(
            Arc::new(self.articles),
            Arc::new(self.comments),
            Arc::new(clock),
        )
    }
}

fn stored_comment(id: i64, article: ArticleId, by: UserId) -> Comment {
    Comment {
        id: CommentId(id),
        article,
        body: CommentBody::parse("Nice").expect("valid"),
        created_at: NOW,
        updated_at: NOW,
        author: author(by),
    }
}

fn draft(title: &str) -> ArticleDraft {
    ArticleDraft {
        title: title.into(),
        description: "About it".into(),
        body: "Text".into(),
        tag_list: vec!["rust".into(), "rust".into(), "web".into()],
    }
}

fn invalid_fields(outcome: Result<impl std::fmt::Debug, ResourceError>) -> Vec<&'static str> {
    match outcome {
        Err(ResourceError::Invalid(errors)) => errors.iter().map(|(field, _)| field).collect(),
        other => panic!("expected invalid input, got {other:?}"),
    }
}

#[tokio::test]
async fn creating_stores_the_article_with_its_slug_tags_and_time() {
    let mut ports = Ports::new();
    ports
        .articles
        .expect_insert()
        .withf(|new, session| {
            new.author == AUTHOR
                && new.slug.as_str() == "how-to-train-your-dragon"
                && new.tags.iter().map(Tag::as_str).eq(["rust", "web"])
                && new.created_at == NOW
                && *session == CALLER.session
        })
        .times(1)
        .returning(|_, _| Ok(Some(stored_article("how-to-train-your-dragon", AUTHOR))));

    let created = ports
        .articles()
        .create(CALLER, draft("How to train your dragon"))
        .await
        .expect("created");

    assert_eq!(created.summary.slug.as_str(), "how-to-train-your-dragon");
}

#[tokio::test]
async fn an_invalid_draft_names_every_bad_field_and_stores_nothing() {
    let mut ports = Ports::new();
    ports.articles.expect_insert().never();
    let bad = ArticleDraft {
        title: " ".into(),
        description: String::new(),
        body: "ok".into(),
        tag_list: vec![String::new()],
    };

    let outcome = ports.articles().create(CALLER, bad).await;

    assert_eq!(invalid_fields(outcome), ["title", "description", "tagList"]);
}

#[tokio::test]
async fn a_slug_in_use_is_a_conflict() {
    let mut ports = Ports::new();
    ports.articles.expect_insert().returning(|_, _| {
        Err(StoreError::Conflict {
            field: UniqueField::Slug,
        })
    });

    let outcome = ports.articles().create(CALLER, draft("Taken")).await;

    assert!(matches!(
        outcome,
        Err(ResourceError::Taken(UniqueField::Slug))
    ));
}

#[tokio::test]
async fn an_article_whose_session_has_ended_is_refused_as_the_token_would_be() {
    let mut ports = Ports::new();
    ports
        .articles
        .expect_insert()
        .times(1)
        .returning(|_, _| Ok(None));

    let outcome = ports.articles().create(CALLER, draft("Too late")).await;

    assert!(
        matches!(outcome, Err(ResourceError::SessionEnded)),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn a_malformed_slug_is_not_found_without_asking_the_store() {
    let mut ports = Ports::new();
    ports.articles.expect_find_by_slug().never();

    let outcome = ports.articles().get("Not A Slug", None).await;

    assert!(matches!(outcome, Err(ResourceError::NotFound("article"))));
}

#[tokio::test]
async fn only_the_author_may_update_and_nothing_is_written_otherwise() {
    let mut ports = Ports::new().finding(stored_article("mine", AUTHOR));
    ports.articles.expect_update().never();
    let edit = ArticleEdit {
        body: Some("Changed".into()),
        ..ArticleEdit::default()
    };

    let outcome = ports.articles().update(READER, "mine", edit).await;

    assert!(matches!(outcome, Err(ResourceError::Forbidden("article"))));
}

#[tokio::test]
async fn a_new_title_gives_a_new_slug() {
    let mut ports = Ports::new().finding(stored_article("old-title", AUTHOR));
    ports
        .articles
        .expect_update()
        .withf(|id, changes, now, viewer| {
            *id == ArticleId(10)
                && changes.title.as_ref().is_some_and(|(title, slug)| {
                    title.as_str() == "New Title" && slug.as_str() == "new-title"
                })
                && changes.body.is_none()
                && *now == NOW
                && *viewer == AUTHOR
        })
        .times(1)
        .returning(|_, _, _, _| Ok(Some(stored_article("new-title", AUTHOR))));
    let edit = ArticleEdit {
        title: Some("New Title".into()),
        ..ArticleEdit::default()
    };

    let updated = ports
        .articles()
        .update(AUTHOR, "old-title", edit)
        .await
        .expect("updated");

    assert_eq!(updated.summary.slug.as_str(), "new-title");
}

#[tokio::test]
async fn a_new_title_whose_slug_is_taken_is_invalid_input() {
    let mut ports = Ports::new().finding(stored_article("old-title", AUTHOR));
    ports.articles.expect_update().returning(|_, _, _, _| {
        Err(StoreError::Conflict {
            field: UniqueField::Slug,
        })
    });
    let edit = ArticleEdit {
        title: Some("Taken".into()),
        ..ArticleEdit::default()
    };

    let outcome = ports.articles().update(AUTHOR, "old-title", edit).await;

    assert_eq!(invalid_fields(outcome), ["slug"]);
}

#[tokio::test]
async fn an_empty_edit_answers_the_article_unchanged() {
    let mut ports = Ports::new().finding(stored_article("mine", AUTHOR));
    ports.articles.expect_update().never();

    let article = ports
        .articles()
        .update(AUTHOR, "mine", ArticleEdit::default())
        .await
        .expect("unchanged");

    assert_eq!(article, stored_article("mine", AUTHOR));
}

#[tokio::test]
async fn only_the_author_may_delete() {
    let mut ports = Ports::new().finding(stored_article("mine", AUTHOR));
    ports
        .articles
        .expect_delete()
        .with(eq(ArticleId(10)))
        .times(1)
        .returning(|_| Ok(true));
    let articles = ports.articles();

    let by_reader = articles.delete(READER, "mine").await;
    let by_author = articles.delete(AUTHOR, "mine").await;

    assert!(matches!(
        by_reader,
        Err(ResourceError::Forbidden("article"))
    ));
    assert!(by_author.is_ok());
}

#[tokio::test]
async fn bad_paging_is_refused_before_the_store_is_asked() {
    let mut ports = Ports::new();
    ports.articles.expect_list().never();
    let query = ListQuery {
        limit: Some("0".into()),
        offset: Some("-1".into()),
        ..ListQuery::default()
    };

    let outcome = ports.articles().list(query, None).await;

    assert_eq!(invalid_fields(outcome), ["limit", "offset"]);
}

#[tokio::test]
async fn a_filter_no_user_or_tag_could_match_gives_an_empty_page_without_asking_the_store() {
    let mut ports = Ports::new();
    ports.articles.expect_list().never();
    let query = ListQuery {
        author: Some("not a user name!".into()),
        ..ListQuery::default()
    };

    let page = ports.articles().list(query, None).await.expect("listed");

    assert_eq!(page, ArticlePage::default());
}

#[tokio::test]
async fn filters_and_paging_reach_the_store() {
    let mut ports = Ports::new();
    ports
        .articles
        .expect_list()
        .withf(|filter, page, viewer| {
            filter.tag.as_ref().map(Tag::as_str) == Some("rust")
                && filter.author.as_ref().map(Username::as_str) == Some("jake")
                && filter.favorited_by.as_ref().map(Username::as_str) == Some("jane")
                && page.limit() == 5
                && page.offset() == 10
                && *viewer == Some(READER)
        })
        .times(1)
        .returning(|_, _, _| Ok(ArticlePage::default()));
    let query = ListQuery {
        tag: Some("rust".into()),
        author: Some("jake".into()),
        favorited: Some("jane".into()),
        limit: Some("5".into()),
        offset: Some("10".into()),
    };

    ports
        .articles()
        .list(query, Some(READER))
        .await
        .expect("listed");
}

#[tokio::test]
async fn the_feed_is_the_readers_with_the_page_asked_for() {
    let mut ports = Ports::new();
    ports
        .articles
        .expect_feed()
        .withf(|reader, page| *reader == READER && page.limit() == 20 && page.offset() == 0)
        .times(1)
        .returning(|_, _| Ok(ArticlePage::default()));

    ports
        .articles()
        .feed(READER, None, None)
        .await
        .expect("feed");
}

#[tokio::test]
async fn favouriting_records_it_and_answers_the_article_as_it_is_now() {
    let mut ports = Ports::new();
    let mut favourited = stored_article("mine", AUTHOR);
    favourited.summary.favorited = true;
    favourited.summary.favorites_count = 1;
    ports
        .articles
        .expect_favorite()
        .withf(|slug, user| slug.as_str() == "mine" && *user == READER)
        .times(1)
        .return_once(move |_, _| Ok(Some(favourited)));

    let article = ports
        .articles()
        .favorite(READER, "mine")
        .await
        .expect("favourited");

    assert_eq!(article.summary.slug.as_str(), "mine");
    assert!(article.summary.favorited);
    assert_eq!(article.summary.favorites_count, 1);
}

#[tokio::test]
async fn favouriting_an_unknown_article_is_not_found() {
    let mut ports = Ports::new();
    ports
        .articles
        .expect_favorite()
        .times(1)
        .returning(|_, _| Ok(None));

    let outcome = ports.articles().favorite(READER, "other").await;

    assert!(matches!(outcome, Err(ResourceError::NotFound("article"))));
}

#[tokio::test]
async fn a_blank_comment_is_refused() {
    let mut ports = Ports::new();
    ports.comments.expect_insert().never();

    let outcome = ports.articles().add_comment(READER, "mine", " ").await;

    assert_eq!(invalid_fields(outcome), ["body"]);
}

#[tokio::test]
async fn a_comment_is_stored_on_the_article_by_the_caller() {
    let mut ports = Ports::new().finding(stored_article("mine", AUTHOR));
    ports
        .comments
        .expect_insert()
        .withf(|new| {
            new.article == ArticleId(10)
                && new.author == READER
                && new.body.as_str() == "Nice"
                && new.created_at == NOW
        })
        .times(1)
        .returning(|_| Ok(stored_comment(1, ArticleId(10), READER)));

    let comment = ports
        .articles()
        .add_comment(READER, "mine", "Nice")
        .await
        .expect("stored");

    assert_eq!(comment.id, CommentId(1));
}

#[tokio::test]
async fn a_comment_of_another_article_is_not_found_and_not_deleted() {
    let mut ports = Ports::new().finding(stored_article("mine", AUTHOR));
    ports
        .comments
        .expect_find()
        .returning(|_, _| Ok(Some(stored_comment(1, ArticleId(99), READER))));
    ports.comments.expect_delete().never();

    let outcome = ports
        .articles()
        .delete_comment(READER, "mine", CommentId(1))
        .await;

    assert!(matches!(outcome, Err(ResourceError::NotFound("comment"))));
}

#[tokio::test]
async fn only_a_comments_author_may_delete_it() {
    let mut ports = Ports::new().finding(stored_article("mine", AUTHOR));
    ports
        .comments
        .expect_find()
        .with(eq(CommentId(1)), always())
        .returning(|_, _| Ok(Some(stored_comment(1, ArticleId(10), READER))));
    ports
        .comments
        .expect_delete()
        .with(eq(CommentId(1)))
        .times(1)
        .returning(|_| Ok(true));
    let articles = ports.articles();

    // Not even the article's author may delete a reader's comment.
    let by_article_author = articles.delete_comment(AUTHOR, "mine", CommentId(1)).await;
    let by_comment_author = articles.delete_comment(READER, "mine", CommentId(1)).await;

    assert!(matches!(
        by_article_author,
        Err(ResourceError::Forbidden("comment"))
    ));
    assert!(by_comment_author.is_ok());
}

#[tokio::test]
async fn tags_lists_the_most_used_up_to_the_cap_as_the_store_ranks_them() {
    let mut ports = Ports::new();
    let ranked = vec![
        Tag::parse("rust").expect("valid"),
        Tag::parse("dragons").expect("valid"),
    ];
    let answer = ranked.clone();
    ports
        .articles
        .expect_tags()
        .with(eq(Articles::TAGS_LISTED))
        .times(1)
        .returning(move |_| Ok(answer.clone()));

    let tags = ports.articles().tags().await.expect("listed");

    assert_eq!(tags, ranked);
    assert_eq!(Articles::TAGS_LISTED, 100, "docs/api.md documents 100");
}

#[tokio::test]
async fn an_articles_comments_are_listed_by_its_id_as_the_viewer_sees_them() {
    let mut ports = Ports::new().finding(stored_article("mine", AUTHOR));
    let listed = vec![
        stored_comment(1, ArticleId(10), READER),
        stored_comment(2, ArticleId(10), AUTHOR),
    ];
    let answer = listed.clone();
    ports
        .comments
        .expect_list()
        .with(eq(ArticleId(10)), eq(Some(READER)))
        .times(1)
        .returning(move |_, _| Ok(answer.clone()));

    let comments = ports
        .articles()
        .comments("mine", Some(READER))
        .await
        .expect("listed");

    assert_eq!(comments, listed);
}
