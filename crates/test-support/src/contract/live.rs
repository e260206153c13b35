//! The contract of [`EventLog`](conduit_domain::ports::EventLog), the outbox of live events:
//! every article, comment, new favourite and revoked session appends one event in the same
//! write, a refused write appends none, and reads go in id order.

use conduit_domain::Timestamp;
use conduit_domain::accounts::UserId;
use conduit_domain::articles::ArticleId;
use conduit_domain::live::{Change, EventId, StoredEvent};
use conduit_domain::ports::{StoreError, UniqueField};
use time::macros::datetime;

use super::sessions::{hash, session};
use super::{ContractStore, T0, article, comment_on, user};
use crate::builders::{NewArticleBuilder, unique};

const LONG_AGO: Timestamp = Timestamp::from_offset(datetime!(2000-01-01 00:00:00.000 UTC));
const FAR_AHEAD: Timestamp = Timestamp::from_offset(datetime!(2200-01-01 00:00:00.000 UTC));

async fn head(store: &ContractStore) -> EventId {
    store.events.bounds().await.expect("reads the bounds").head
}

async fn after(store: &ContractStore, since: EventId) -> Vec<StoredEvent> {
    store.events.after(since, 1000).await.expect("reads events")
}

async fn published(store: &ContractStore, author: UserId) -> ArticleId {
    article(store, NewArticleBuilder::new(author)).await.id
}

pub async fn each_write_appends_one_event_in_order(store: &ContractStore) {
    let (author, _) = user(store).await;
    let (reader, _) = user(store).await;
    let since = head(store).await;
    let reader_session = session(store, reader, &hash()).await;

    store
        .profiles
        .follow(reader, author)
        .await
        .expect("follows");
    let article = article(store, NewArticleBuilder::new(author)).await;
    let comment = comment_on(store, article.id, reader, T0).await;
    store
        .articles
        .favorite(article.id, reader)
        .await
        .expect("favourites");
    store
        .articles
        .favorite(article.id, reader)
        .await
        .expect("favourites again");
    store
        .sessions
        .revoke(reader_session, T0)
        .await
        .expect("revokes");
    store
        .sessions
        .revoke(reader_session, T0)
        .await
        .expect("revokes again");

    let events = after(store, since).await;
    let changes: Vec<Change> = events.iter().map(|event| event.change.clone()).collect();
    assert_eq!(
        changes,
        [
            Change::ArticleCreated {
                article: article.id,
                slug: article.slug.clone(),
                author,
            },
            Change::CommentCreated {
                article: article.id,
                slug: article.slug.clone(),
                article_author: author,
                comment,
                commenter: reader,
            },
            Change::ArticleFavorited {
                article: article.id,
                slug: article.slug.clone(),
                article_author: author,
                by: reader,
            },
            Change::SessionEnded {
                session: reader_session,
            },
        ],
        "a follow, a second favourite and a second revocation append nothing"
    );
    assert!(
        events.windows(2).all(|pair| pair[0].id < pair[1].id),
        "{events:?}"
    );
    assert_eq!(head(store).await, events.last().expect("events").id);
}

pub async fn a_refused_write_appends_nothing(store: &ContractStore) {
    let (author, _) = user(store).await;
    let title = format!("Taken {}", unique());
    article(store, NewArticleBuilder::new(author).title(title.clone())).await;
    let since = head(store).await;

    let refused = store
        .articles
        .insert(NewArticleBuilder::new(author).title(title).build())
        .await;

    assert_eq!(
        refused.map(|_| ()),
        Err(StoreError::Conflict {
            field: UniqueField::Slug
        })
    );
    assert_eq!(head(store).await, since);
    assert_eq!(after(store, since).await, []);
}

pub async fn events_are_read_after_an_id_a_page_at_a_time(store: &ContractStore) {
    let (author, _) = user(store).await;
    let since = head(store).await;
    for _ in 0..5 {
        published(store, author).await;
    }
    let all = after(store, since).await;
    assert_eq!(all.len(), 5);

    let page = store
        .events
        .after(all[1].id, 2)
        .await
        .expect("reads a page");

    assert_eq!(page, all[2..4]);
}

pub async fn the_events_of_a_deleted_article_are_left_out_and_ids_never_go_back(
    store: &ContractStore,
) {
    let (author, _) = user(store).await;
    let (reader, _) = user(store).await;
    let since = head(store).await;
    let doomed = published(store, author).await;
    store
        .articles
        .favorite(doomed, reader)
        .await
        .expect("favourites");
    let last = head(store).await;

    assert!(store.articles.delete(doomed).await.expect("deletes"));

    assert_eq!(after(store, since).await, []);
    assert_eq!(head(store).await, last, "the newest id stays the newest");
    let next = published(store, author).await;
    let events = after(store, since).await;
    assert_eq!(events.len(), 1);
    assert!(events[0].id > last, "{events:?} after {last:?}");
    assert!(matches!(events[0].change, Change::ArticleCreated { article, .. } if article == next));
}

pub async fn pruning_removes_old_events_but_the_newest_and_says_how_far(store: &ContractStore) {
    let (author, _) = user(store).await;
    for _ in 0..3 {
        published(store, author).await;
    }
    let newest = head(store).await;

    assert_eq!(
        store.events.prune(LONG_AGO).await,
        Ok(0),
        "none is that old"
    );
    let removed = store.events.prune(FAR_AHEAD).await.expect("prunes");

    assert!(removed >= 2, "removed {removed}");
    let bounds = store.events.bounds().await.expect("reads the bounds");
    assert_eq!(bounds.head, newest);
    assert!(bounds.pruned_through < newest && bounds.pruned_through > EventId(0));
    let left = after(store, EventId(0)).await;
    assert_eq!(
        left.iter().map(|event| event.id).collect::<Vec<_>>(),
        [newest]
    );
    assert_eq!(store.events.prune(FAR_AHEAD).await, Ok(0));
}
