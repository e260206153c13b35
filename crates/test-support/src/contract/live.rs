//! The contract of [`EventLog`](conduit_domain::ports::EventLog), the outbox of live events:
//! every article, comment, new favourite and revoked session appends one event in the same
//! write, a refused write appends none, and reads go in id order.

use conduit_domain::Timestamp;
use conduit_domain::accounts::UserId;
use conduit_domain::articles::ArticleId;
use std::sync::Arc;

use conduit_domain::live::{Change, Dispatch, EventId, Live, LivePorts, Replay, StoredEvent};
use conduit_domain::ports::{StoreError, UniqueField};
use time::macros::datetime;

use super::sessions::{hash, session};
use super::{
    ContractStore, RawEvent, T0, article, author_and_follower, comment_on, insert_article, user,
};
use crate::builders::{NewArticleBuilder, unique};

const LONG_AGO: Timestamp = Timestamp::from_offset(datetime!(2000-01-01 00:00:00.000 UTC));
const FAR_AHEAD: Timestamp = Timestamp::from_offset(datetime!(2200-01-01 00:00:00.000 UTC));

/// Gives every event committed so far its id, as the store's sequencer does after each write.
async fn sequenced(store: &ContractStore) {
    store.events.sequence().await.expect("sequences");
}

async fn head(store: &ContractStore) -> EventId {
    sequenced(store).await;
    store.events.bounds().await.expect("reads the bounds").head
}

async fn after(store: &ContractStore, since: EventId) -> Vec<StoredEvent> {
    sequenced(store).await;
    store.events.after(since, 1000).await.expect("reads events")
}

/// The live use cases over this store.
fn live(store: &ContractStore) -> Live {
    Live::new(
        LivePorts {
            log: store.events.clone(),
            articles: store.articles.clone(),
            comments: store.comments.clone(),
            profiles: store.profiles.clone(),
            clock: Arc::new(crate::FakeClock::starting_now()),
        },
        time::Duration::DAY,
    )
}

/// `reader` follows a new author, who publishes `count` articles: their ids.
async fn followed_articles(store: &ContractStore, count: usize) -> (UserId, Vec<EventId>) {
    let (author, reader) = author_and_follower(store).await;
    let since = head(store).await;
    for _ in 0..count {
        published(store, author).await;
    }
    let ids = after(store, since)
        .await
        .iter()
        .map(|event| event.id)
        .collect();
    (reader, ids)
}

fn ids(replay: &Replay) -> Vec<EventId> {
    match replay {
        Replay::Events(deliveries) => deliveries.iter().map(|delivery| delivery.id).collect(),
        Replay::Reset => panic!("a reset, not events"),
    }
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
        .favorite(&article.slug, reader)
        .await
        .expect("favourites");
    store
        .articles
        .favorite(&article.slug, reader)
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

    let refused = insert_article(store, NewArticleBuilder::new(author).title(title).build()).await;

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
    let doomed = article(store, NewArticleBuilder::new(author)).await;
    store
        .articles
        .favorite(&doomed.slug, reader)
        .await
        .expect("favourites");
    let last = head(store).await;

    assert!(store.articles.delete(doomed.id).await.expect("deletes"));

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

pub async fn sequencing_twice_gives_nothing_more(store: &ContractStore) {
    let (author, _) = user(store).await;
    published(store, author).await;
    let newest = head(store).await;

    let again = store.events.sequence().await;

    assert_eq!(again, Ok(0));
    assert_eq!(head(store).await, newest);
}

/// One bad row must not stop delivery for everyone: a row of a known kind missing what it needs,
/// and a kind this version does not know, are each read (and dispatched) as unreadable, and the
/// events after them are read as ever.
pub async fn an_unreadable_row_or_unknown_kind_is_read_as_such_and_holds_nothing_up(
    store: &ContractStore,
) {
    let (author, _) = user(store).await;
    let since = head(store).await;
    (store.raw_event)(RawEvent::MissingArticle).await;
    (store.raw_event)(RawEvent::UnknownKind("article.translated")).await;
    let next = published(store, author).await;

    let events = after(store, since).await;

    let changes: Vec<&Change> = events.iter().map(|event| &event.change).collect();
    assert_eq!(changes.len(), 3, "{changes:?}");
    assert_eq!(
        changes[0],
        &Change::Unreadable {
            kind: "comment.created".to_owned()
        }
    );
    assert_eq!(
        changes[1],
        &Change::Unreadable {
            kind: "article.translated".to_owned()
        }
    );
    assert!(
        matches!(changes[2], Change::ArticleCreated { article, .. } if *article == next),
        "{changes:?}"
    );
    let dispatched = live(store)
        .next(since)
        .await
        .expect("reads past the bad rows");
    let kinds: Vec<_> = dispatched.iter().map(|(_, dispatch)| dispatch).collect();
    assert!(
        matches!(
            kinds.as_slice(),
            [
                Dispatch::Unreadable { .. },
                Dispatch::Unreadable { .. },
                Dispatch::Nothing
            ]
        ),
        "{kinds:?}"
    );
}

/// A client resumes from an id that this instance's fan-out has not reached yet (it lags): the
/// replay up to where the fan-out is repeats nothing at or before `since`, and the events after
/// `since` are all still to come, once each.
pub async fn a_resume_ahead_of_the_fan_out_repeats_nothing_and_skips_nothing(
    store: &ContractStore,
) {
    let (reader, events) = followed_articles(store, 5).await;
    let live = live(store);
    let (fan_out_at, since) = (events[1], events[3]);

    let replayed = live
        .replay(reader, since, fan_out_at)
        .await
        .expect("replays");
    let caught_up = live
        .replay(reader, since, events[4])
        .await
        .expect("replays");

    assert_eq!(ids(&replayed), []);
    assert_eq!(ids(&caught_up), [events[4]]);
}

/// A prune between a replay's start and its reads takes events from under it: the replay says
/// so (a reset) rather than leaving a silent gap.
pub async fn a_prune_during_a_replay_makes_it_a_reset(store: &ContractStore) {
    let (reader, events) = followed_articles(store, 4).await;
    let live = live(store);
    let since = events[0];
    let until = events[3];
    let start = live.replay_from(since, until).await.expect("starts");
    assert!(
        matches!(start, conduit_domain::live::Resume::After(after) if after == since),
        "{start:?}"
    );

    store.events.prune(FAR_AHEAD).await.expect("prunes");
    let (page, _) = live.replay_page(reader, since, until).await.expect("reads");

    assert!(page.len() < 3, "the pruned events are gone: {page:?}");
    assert!(!live.replay_held(since).await.expect("checks"), "a reset");
    assert_eq!(
        live.replay(reader, since, until).await.expect("replays"),
        Replay::Reset
    );
}
