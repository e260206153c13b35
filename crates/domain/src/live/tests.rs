use std::sync::Arc;

use mockall::predicate::eq;
use proptest::prelude::*;
use time::macros::datetime;

use super::*;
use crate::articles::{Article, CommentBody};
use crate::ports::{
    MockArticleRepository, MockClock, MockCommentRepository, MockEventLog, MockProfileRepository,
};
use crate::profiles::Author;
use crate::testing::{author, stored_article};

const NOW: Timestamp = Timestamp::from_offset(datetime!(2026-01-01 12:00 UTC));
const AUTHOR: UserId = UserId(1);
const READER: UserId = UserId(2);
const OTHER_AUTHOR: UserId = UserId(3);

fn slug(raw: &str) -> Slug {
    Slug::parse(raw).expect("valid slug")
}

/// [`author`] as someone who follows them sees them.
fn followed(id: UserId) -> Author {
    let mut author = author(id);
    author.profile.following = true;
    author
}

fn article(raw_slug: &str, by: UserId, favorites_count: u64) -> Article {
    let mut article = stored_article(raw_slug, by);
    article.summary.favorites_count = favorites_count;
    article
}

fn event(id: i64, change: Change) -> StoredEvent {
    StoredEvent {
        id: EventId(id),
        at: NOW,
        change,
    }
}

fn favorited(id: i64, article_author: UserId, by: UserId) -> StoredEvent {
    event(
        id,
        Change::ArticleFavorited {
            article: ArticleId(10),
            slug: slug(&format!("by-{}", article_author.0)),
            article_author,
            by,
        },
    )
}

fn article_created(id: i64) -> StoredEvent {
    event(
        id,
        Change::ArticleCreated {
            article: ArticleId(10),
            slug: slug("hello"),
            author: AUTHOR,
        },
    )
}

fn comment_created(id: i64) -> StoredEvent {
    event(
        id,
        Change::CommentCreated {
            article: ArticleId(10),
            slug: slug("hello"),
            article_author: AUTHOR,
            comment: CommentId(5),
            commenter: READER,
        },
    )
}

/// The recipients and delivery of a dispatch that delivers.
fn delivered(dispatch: Dispatch) -> (Vec<UserId>, Delivery) {
    match dispatch {
        Dispatch::Deliver {
            recipients,
            delivery,
        } => (recipients, *delivery),
        other => panic!("expected a delivery, got {other:?}"),
    }
}

struct Ports {
    log: MockEventLog,
    articles: MockArticleRepository,
    comments: MockCommentRepository,
    profiles: MockProfileRepository,
    clock: MockClock,
}

impl Ports {
    fn new() -> Self {
        Self {
            log: MockEventLog::new(),
            articles: MockArticleRepository::new(),
            comments: MockCommentRepository::new(),
            profiles: MockProfileRepository::new(),
            clock: MockClock::new(),
        }
    }

    /// The outbox holds `events` (in id order) and nothing was pruned.
    fn holding(mut self, events: Vec<StoredEvent>) -> Self {
        let head = events.last().map_or(EventId(0), |event| event.id);
        self.log.expect_bounds().returning(move || {
            Ok(LogBounds {
                head,
                pruned_through: EventId(0),
            })
        });
        self.log.expect_after().returning(move |since, limit| {
            Ok(events
                .iter()
                .filter(|event| event.id > since)
                .take(usize::try_from(limit).expect("small"))
                .cloned()
                .collect())
        });
        self
    }

    /// Every article at `by-<n>` is by user `n`; every user exists.
    fn knowing_everyone(mut self) -> Self {
        self.articles.expect_find_by_slug().returning(|slug, _| {
            let by = slug
                .as_str()
                .strip_prefix("by-")
                .and_then(|id| id.parse().ok())
                .expect("a slug of the tests");
            Ok(Some(article(slug.as_str(), UserId(by), 1)))
        });
        self.profiles
            .expect_find_by_id()
            .returning(|id, _| Ok(Some(author(id))));
        self
    }

    fn live(mut self) -> Live {
        let log = Arc::new(std::mem::replace(&mut self.log, MockEventLog::new()));
        self.live_over(log)
    }

    /// The use cases over another log than the mock's.
    fn live_over(self, log: Arc<dyn EventLog>) -> Live {
        Live::new(
            LivePorts {
                log,
                articles: Arc::new(self.articles),
                comments: Arc::new(self.comments),
                profiles: Arc::new(self.profiles),
                clock: Arc::new(self.clock),
            },
            Duration::hours(24),
        )
    }
}

#[test]
fn the_audience_is_the_followers_for_an_article_and_the_author_for_the_rest() {
    let article = ArticleId(10);
    let cases = [
        (
            Change::ArticleCreated {
                article,
                slug: slug("a"),
                author: AUTHOR,
            },
            Audience::FollowersOf(AUTHOR),
        ),
        (
            Change::CommentCreated {
                article,
                slug: slug("a"),
                article_author: AUTHOR,
                comment: CommentId(5),
                commenter: READER,
            },
            Audience::One(AUTHOR),
        ),
        (
            Change::CommentCreated {
                article,
                slug: slug("a"),
                article_author: AUTHOR,
                comment: CommentId(5),
                commenter: AUTHOR,
            },
            Audience::Nobody,
        ),
        (favorited(1, AUTHOR, READER).change, Audience::One(AUTHOR)),
        (favorited(1, AUTHOR, AUTHOR).change, Audience::Nobody),
        (
            Change::SessionEnded {
                session: SessionId(7),
            },
            Audience::Session(SessionId(7)),
        ),
    ];
    for (change, expected) in cases {
        assert_eq!(audience(&change), expected, "{change:?}");
    }
}

#[test]
fn event_ids_are_non_negative_decimal_integers() {
    assert_eq!(EventId::parse("0"), Ok(EventId(0)));
    assert_eq!(EventId::parse("42"), Ok(EventId(42)));
    for bad in ["", "-1", "+1", "1.5", "x", "99999999999999999999"] {
        assert_eq!(EventId::parse(bad), Err(InvalidValue::Malformed), "{bad:?}");
    }
    assert_eq!(EventId(42).to_string(), "42");
}

#[test]
fn a_since_that_was_pruned_or_is_ahead_of_the_log_is_a_reset() {
    let bounds = LogBounds {
        head: EventId(50),
        pruned_through: EventId(10),
    };
    assert_eq!(resume_from(EventId(9), bounds), Resume::Reset);
    assert_eq!(resume_from(EventId(10), bounds), Resume::After(EventId(10)));
    assert_eq!(resume_from(EventId(50), bounds), Resume::After(EventId(50)));
    assert_eq!(resume_from(EventId(51), bounds), Resume::Reset);
    // Nothing pruned yet: a client that connected to an empty log resumes from 0.
    assert_eq!(
        resume_from(EventId(0), LogBounds::default()),
        Resume::After(EventId(0))
    );
}

#[tokio::test]
async fn a_new_article_goes_to_the_authors_followers_as_a_follower_sees_it() {
    let mut ports = Ports::new();
    ports
        .profiles
        .expect_followers()
        .with(eq(AUTHOR))
        .returning(|_| Ok(vec![UserId(9), READER]));
    ports
        .articles
        .expect_find_by_slug()
        .returning(|slug, viewer| {
            assert_eq!(viewer, None, "one message for every follower");
            Ok(Some(article(slug.as_str(), AUTHOR, 0)))
        });
    let created = article_created(3);

    let dispatch = ports.live().dispatch(&created).await.expect("dispatched");

    let (recipients, delivery) = delivered(dispatch);
    assert_eq!(recipients, vec![READER, UserId(9)]);
    assert_eq!((delivery.id, delivery.at), (EventId(3), NOW));
    let Message::ArticleCreated { article } = delivery.message else {
        panic!("expected an article");
    };
    assert_eq!(article.slug.as_str(), "hello");
    assert!(article.author.profile.following, "the followers follow him");
}

/// A busy author's articles come in runs: a batch reads its new articles in one go, and an
/// author's followers once; an article gone since is not delivered.
#[tokio::test]
async fn a_batch_reads_its_new_articles_at_once_and_an_authors_followers_once() {
    let created = |id: i64, article: i64, raw_slug: &str| {
        event(
            id,
            Change::ArticleCreated {
                article: ArticleId(article),
                slug: slug(raw_slug),
                author: AUTHOR,
            },
        )
    };
    let events = vec![
        created(1, 11, "first"),
        created(2, 12, "gone"),
        created(3, 13, "third"),
    ];
    let mut ports = Ports::new().holding(events);
    ports
        .profiles
        .expect_followers()
        .with(eq(AUTHOR))
        .times(1)
        .returning(|_| Ok(vec![READER]));
    ports
        .articles
        .expect_find_by_ids()
        .withf(|ids, viewer| {
            ids == [ArticleId(11), ArticleId(12), ArticleId(13)] && viewer.is_none()
        })
        .times(1)
        .returning(|_, _| {
            let mut first = article("first", AUTHOR, 0);
            first.summary.id = ArticleId(11);
            let mut third = article("third", AUTHOR, 0);
            third.summary.id = ArticleId(13);
            Ok(vec![third, first])
        });
    ports.articles.expect_find_by_slug().never();

    let batch = ports.live().next(EventId(0)).await.expect("read");

    let slugs: Vec<_> = batch
        .into_iter()
        .map(|(id, dispatch)| match dispatch {
            Dispatch::Deliver { delivery, .. } => match delivery.message {
                Message::ArticleCreated { article } => (id.0, article.slug.as_str().to_owned()),
                other => panic!("{other:?}"),
            },
            other => (id.0, format!("{other:?}")),
        })
        .collect();
    assert_eq!(
        slugs,
        [
            (1, "first".to_owned()),
            (2, "Nothing".to_owned()),
            (3, "third".to_owned())
        ]
    );
}

#[tokio::test]
async fn a_new_article_of_an_author_nobody_follows_reads_nothing_more() {
    let mut ports = Ports::new();
    ports.profiles.expect_followers().returning(|_| Ok(vec![]));
    ports.articles.expect_find_by_slug().never();
    let created = article_created(3);

    let dispatch = ports.live().dispatch(&created).await.expect("dispatched");

    assert_eq!(dispatch, Dispatch::Nothing);
}

#[tokio::test]
async fn a_comment_goes_to_the_articles_author_as_they_see_it() {
    let mut ports = Ports::new();
    ports
        .comments
        .expect_find()
        .with(eq(CommentId(5)), eq(Some(AUTHOR)))
        .returning(|id, _| {
            Ok(Some(Comment {
                id,
                article: ArticleId(10),
                body: CommentBody::parse("Nice").expect("valid"),
                created_at: NOW,
                updated_at: NOW,
                author: followed(READER),
            }))
        });
    let commented = comment_created(4);

    let dispatch = ports.live().dispatch(&commented).await.expect("dispatched");

    let (recipients, delivery) = delivered(dispatch);
    assert_eq!(recipients, vec![AUTHOR]);
    let Message::CommentCreated { slug, comment } = delivery.message else {
        panic!("expected a comment");
    };
    assert_eq!((slug.as_str(), comment.id), ("hello", CommentId(5)));
}

#[tokio::test]
async fn ones_own_comment_or_favourite_reads_nothing_and_goes_nowhere() {
    let mut ports = Ports::new();
    ports.comments.expect_find().never();
    ports.articles.expect_find_by_slug().never();
    let live = ports.live();

    let own_favourite = live
        .dispatch(&favorited(1, AUTHOR, AUTHOR))
        .await
        .expect("dispatched");

    assert_eq!(own_favourite, Dispatch::Nothing);
}

#[tokio::test]
async fn a_comment_deleted_before_delivery_is_not_delivered() {
    let mut ports = Ports::new();
    ports.comments.expect_find().returning(|_, _| Ok(None));
    let commented = comment_created(4);

    let dispatch = ports.live().dispatch(&commented).await.expect("dispatched");

    assert_eq!(dispatch, Dispatch::Nothing);
}

#[tokio::test]
async fn a_favourite_tells_the_author_who_and_the_count() {
    let mut ports = Ports::new().knowing_everyone();
    ports.profiles.checkpoint();
    ports
        .profiles
        .expect_find_by_id()
        .with(eq(READER), eq(Some(AUTHOR)))
        .returning(|id, _| Ok(Some(followed(id))));

    let dispatch = ports
        .live()
        .dispatch(&favorited(6, AUTHOR, READER))
        .await
        .expect("dispatched");

    let (recipients, delivery) = delivered(dispatch);
    assert_eq!(recipients, vec![AUTHOR]);
    assert_eq!(
        delivery.message,
        Message::ArticleFavorited {
            slug: slug("by-1"),
            favorites_count: 1,
            profile: followed(READER).profile,
        }
    );
}

#[tokio::test]
async fn a_session_ended_closes_its_sockets() {
    let ended = event(
        8,
        Change::SessionEnded {
            session: SessionId(40),
        },
    );

    let dispatch = Ports::new()
        .live()
        .dispatch(&ended)
        .await
        .expect("dispatched");

    assert_eq!(dispatch, Dispatch::EndSession(SessionId(40)));
}

#[tokio::test]
async fn next_reads_one_batch_after_the_id_in_order() {
    let events: Vec<StoredEvent> = (1..=300).map(|id| favorited(id, AUTHOR, READER)).collect();
    let live = Ports::new().holding(events).knowing_everyone().live();

    let batch = live.next(EventId(10)).await.expect("read");

    let ids: Vec<i64> = batch.iter().map(|(id, _)| id.0).collect();
    assert_eq!(ids, (11..=266).collect::<Vec<_>>(), "one batch of 256");
}

#[tokio::test]
async fn a_replay_from_a_pruned_id_is_a_reset() {
    let mut ports = Ports::new();
    ports.log.expect_bounds().returning(|| {
        Ok(LogBounds {
            head: EventId(90),
            pruned_through: EventId(40),
        })
    });
    ports.log.expect_after().never();

    let replay = ports
        .live()
        .replay(AUTHOR, EventId(39), EventId(90))
        .await
        .expect("read");

    assert_eq!(replay, Replay::Reset);
}

#[tokio::test]
async fn a_replay_stops_at_the_id_the_socket_went_live_from_across_batches() {
    let events: Vec<StoredEvent> = (1..=600).map(|id| favorited(id, AUTHOR, READER)).collect();
    let live = Ports::new().holding(events).knowing_everyone().live();

    let replay = live
        .replay(AUTHOR, EventId(5), EventId(550))
        .await
        .expect("read");

    let Replay::Events(deliveries) = replay else {
        panic!("expected events");
    };
    let ids: Vec<i64> = deliveries.iter().map(|delivery| delivery.id.0).collect();
    assert_eq!(ids, (6..=550).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_replay_further_behind_than_its_limit_is_a_reset_without_reading_an_event() {
    let mut ports = Ports::new();
    ports.log.expect_bounds().returning(|| {
        Ok(LogBounds {
            head: EventId(5_000),
            pruned_through: EventId(0),
        })
    });
    ports.log.expect_after().never();

    let replay = ports
        .live()
        .with_replay_limit(1000)
        .replay(AUTHOR, EventId(0), EventId(1001))
        .await
        .expect("read");

    assert_eq!(replay, Replay::Reset);
}

#[tokio::test]
async fn a_prune_while_the_replay_reads_makes_it_a_reset_rather_than_a_silent_gap() {
    let events: Vec<StoredEvent> = (1..=30).map(|id| favorited(id, AUTHOR, READER)).collect();
    let mut ports = Ports::new().knowing_everyone();
    let mut reads = 0;
    // The first read of the bounds sees nothing pruned; by the second, events up to 20 are gone.
    ports.log.expect_bounds().returning(move || {
        reads += 1;
        Ok(LogBounds {
            head: EventId(30),
            pruned_through: EventId(if reads == 1 { 0 } else { 20 }),
        })
    });
    ports.log.expect_after().returning(move |since, _| {
        Ok(events
            .iter()
            .filter(|event| event.id > since)
            .cloned()
            .collect())
    });

    let replay = ports
        .live()
        .replay(AUTHOR, EventId(5), EventId(30))
        .await
        .expect("read");

    assert_eq!(replay, Replay::Reset);
}

/// The event row reads fine, but what it speaks of does not (here, the profile of whoever
/// favourited, stored breaking a rule): that event alone is unreadable, live and in a replay,
/// and the events after it go on. A store that cannot be reached still stops the batch, to be
/// read again.
#[tokio::test]
async fn an_event_whose_data_cannot_be_read_is_skipped_alone() {
    let events = vec![
        favorited(1, AUTHOR, READER),
        favorited(2, AUTHOR, OTHER_AUTHOR),
        favorited(3, AUTHOR, READER),
    ];
    let mut ports = Ports::new().holding(events);
    ports
        .articles
        .expect_find_by_slug()
        .returning(|slug, _| Ok(Some(article(slug.as_str(), AUTHOR, 1))));
    ports.profiles.expect_find_by_id().returning(|id, _| {
        if id == OTHER_AUTHOR {
            Err(StoreError::Unavailable(
                "user 3 has an invalid bio".to_owned(),
            ))
        } else {
            Ok(Some(author(id)))
        }
    });
    let live = ports.live();

    let batch = live
        .next(EventId(0))
        .await
        .expect("reads past the bad data");
    let replay = live.replay(AUTHOR, EventId(0), EventId(3)).await;

    let dispatches: Vec<_> = batch.iter().map(|(_, dispatch)| dispatch).collect();
    assert!(
        matches!(
            dispatches.as_slice(),
            [Dispatch::Deliver { .. }, Dispatch::Unreadable { kind }, Dispatch::Deliver { .. }]
                if kind == "article.favorited"
        ),
        "{dispatches:?}"
    );
    let Ok(Replay::Events(deliveries)) = replay else {
        panic!("expected events, got {replay:?}");
    };
    let ids: Vec<i64> = deliveries.iter().map(|delivery| delivery.id.0).collect();
    assert_eq!(ids, [1, 3]);
}

/// A new article that cannot be read fails the batch's one read of them all: each is then read
/// by itself, and only the bad one is skipped.
#[tokio::test]
async fn a_new_article_that_cannot_be_read_is_skipped_alone_in_its_batch() {
    let created = |id: i64, raw_slug: &str| {
        event(
            id,
            Change::ArticleCreated {
                article: ArticleId(10 + id),
                slug: slug(raw_slug),
                author: AUTHOR,
            },
        )
    };
    let mut ports = Ports::new().holding(vec![created(1, "bad"), created(2, "good")]);
    ports
        .profiles
        .expect_followers()
        .returning(|_| Ok(vec![READER]));
    ports.articles.expect_find_by_ids().returning(|_, _| {
        Err(StoreError::Unavailable(
            "article 11 has an invalid title".into(),
        ))
    });
    ports.articles.expect_find_by_slug().returning(|slug, _| {
        if slug.as_str() == "bad" {
            Err(StoreError::Unavailable(
                "article 11 has an invalid title".into(),
            ))
        } else {
            Ok(Some(article(slug.as_str(), AUTHOR, 0)))
        }
    });

    let batch = ports
        .live()
        .next(EventId(0))
        .await
        .expect("reads past the bad article");

    assert!(
        matches!(
            batch.as_slice(),
            [
                (_, Dispatch::Unreadable { .. }),
                (_, Dispatch::Deliver { .. })
            ]
        ),
        "{batch:?}"
    );
}

#[tokio::test]
async fn a_store_that_cannot_be_reached_stops_the_batch_to_be_read_again() {
    let mut ports = Ports::new().holding(vec![favorited(1, AUTHOR, READER)]);
    ports
        .articles
        .expect_find_by_slug()
        .returning(|_, _| Err(StoreError::Unreachable("down".to_owned())));
    let live = ports.live();

    let batch = live.next(EventId(0)).await;

    assert_eq!(batch, Err(StoreError::Unreachable("down".to_owned())));
}

#[tokio::test]
async fn an_unreadable_event_is_handed_out_as_such_and_replayed_to_nobody() {
    let unknown = event(
        2,
        Change::Unreadable {
            kind: "article.translated".to_owned(),
        },
    );
    let events = vec![
        favorited(1, AUTHOR, READER),
        unknown,
        favorited(3, AUTHOR, READER),
    ];
    let live = Ports::new().holding(events).knowing_everyone().live();

    let batch = live.next(EventId(0)).await.expect("read");
    let replay = live
        .replay(AUTHOR, EventId(0), EventId(3))
        .await
        .expect("read");

    assert_eq!(
        batch[1],
        (
            EventId(2),
            Dispatch::Unreadable {
                kind: "article.translated".to_owned()
            }
        )
    );
    let Replay::Events(deliveries) = replay else {
        panic!("expected events");
    };
    let ids: Vec<i64> = deliveries.iter().map(|delivery| delivery.id.0).collect();
    assert_eq!(ids, [1, 3]);
}

#[tokio::test]
async fn a_replay_exactly_its_limit_behind_is_replayed() {
    let events: Vec<StoredEvent> = (1..=10).map(|id| favorited(id, AUTHOR, READER)).collect();
    let live = Ports::new()
        .holding(events)
        .knowing_everyone()
        .live()
        .with_replay_limit(10);

    let replay = live
        .replay(AUTHOR, EventId(0), EventId(10))
        .await
        .expect("read");

    let Replay::Events(deliveries) = replay else {
        panic!("expected events");
    };
    assert_eq!(deliveries.len(), 10);
}

#[tokio::test]
async fn pruning_forgets_what_is_older_than_the_retention() {
    let mut ports = Ports::new();
    ports.clock.expect_now().return_const(NOW);
    ports
        .log
        .expect_prune()
        .with(eq(NOW - Duration::hours(24)))
        .times(1)
        .returning(|_| Ok(3));

    assert_eq!(ports.live().prune().await, Ok(3));
}

proptest! {
    /// Resuming from any id of the log yields exactly the later events the user receives, in
    /// order: favourites of their articles by others, never those of other authors' articles or
    /// their own.
    #[test]
    fn resuming_from_any_id_yields_exactly_the_later_events_in_order(
        changes in proptest::collection::vec((any::<bool>(), any::<bool>()), 0..60),
        since in 0..60i64,
    ) {
        let events: Vec<StoredEvent> = changes
            .iter()
            .zip(1..)
            .map(|(&(on_mine, by_me), id)| {
                let article_author = if on_mine { AUTHOR } else { OTHER_AUTHOR };
                let by = if by_me { AUTHOR } else { READER };
                favorited(id, article_author, by)
            })
            .collect();
        let head = EventId(i64::try_from(events.len()).expect("small"));
        let since = EventId(since.min(head.0));
        let expected: Vec<EventId> = events
            .iter()
            .filter(|event| event.id > since)
            .filter(|event| audience(&event.change) == Audience::One(AUTHOR))
            .map(|event| event.id)
            .collect();
        let live = Ports::new().holding(events).knowing_everyone().live();
        let runtime = tokio::runtime::Builder::new_current_thread().build().expect("a runtime");

        let replay = runtime.block_on(live.replay(AUTHOR, since, head)).expect("read");

        let Replay::Events(deliveries) = replay else {
            panic!("expected events, got a reset");
        };
        let ids: Vec<EventId> = deliveries.iter().map(|delivery| delivery.id).collect();
        prop_assert_eq!(ids, expected);
    }
}

/// The outbox as PostgreSQL keeps it: a transaction's events get ids only once it has committed
/// and the sequencer has run, above every id given before. `true` marks an event the user `AUTHOR` receives (someone else favouring
/// one of their articles), `false` one they do not.
#[derive(Debug, Default)]
struct ModelLog {
    next_tx: u64,
    in_flight: std::collections::BTreeMap<u64, Vec<bool>>,
    committed: Vec<(u64, bool)>,
    sequenced: Vec<StoredEvent>,
    pruned_through: i64,
    /// Every id ever sequenced that `AUTHOR` receives.
    history: Vec<EventId>,
}

#[derive(Debug, Default)]
struct SharedModel(std::sync::Mutex<ModelLog>);

impl SharedModel {
    fn with<T>(&self, change: impl FnOnce(&mut ModelLog) -> T) -> T {
        change(&mut self.0.lock().expect("not poisoned"))
    }
}

#[async_trait::async_trait]
impl EventLog for SharedModel {
    async fn after(&self, since: EventId, limit: u32) -> Result<Vec<StoredEvent>, StoreError> {
        Ok(self.with(|model| {
            model
                .sequenced
                .iter()
                .filter(|event| event.id > since)
                .take(usize::try_from(limit).expect("small"))
                .cloned()
                .collect()
        }))
    }

    async fn bounds(&self) -> Result<LogBounds, StoreError> {
        Ok(self.with(|model| LogBounds {
            head: model
                .sequenced
                .last()
                .map_or(EventId(model.pruned_through), |event| event.id),
            pruned_through: EventId(model.pruned_through),
        }))
    }

    async fn prune(&self, _before: Timestamp) -> Result<u64, StoreError> {
        unreachable!("the model prunes through Step::Prune")
    }

    async fn sequence(&self) -> Result<u64, StoreError> {
        Ok(self.with(|model| {
            let ready: Vec<(u64, bool)> = model.committed.drain(..).collect();
            let mut next = model
                .sequenced
                .last()
                .map_or(model.pruned_through, |e| e.id.0);
            for (_, received) in &ready {
                next += 1;
                let (article_author, by) = if *received {
                    (AUTHOR, READER)
                } else {
                    (OTHER_AUTHOR, READER)
                };
                model.sequenced.push(favorited(next, article_author, by));
                if *received {
                    model.history.push(EventId(next));
                }
            }
            ready.len() as u64
        }))
    }
}

/// One thing that happens, in any order, to the log, the fan-out or a client.
#[derive(Debug, Clone)]
enum Step {
    Begin,
    /// The `n`th transaction in flight (modulo how many) appends an event.
    Append(usize, bool),
    /// The `n`th transaction in flight commits.
    Commit(usize),
    Sequence,
    /// The fan-out reads what is new and hands it out to the sockets joined.
    FanOut,
    /// Events the fan-out has read, all but the newest, are pruned.
    Prune,
    /// A client resumes from the `n`th id of the log (modulo how many, 0 included).
    Resume(usize),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        2 => Just(Step::Begin),
        4 => (any::<usize>(), any::<bool>()).prop_map(|(n, received)| Step::Append(n, received)),
        2 => any::<usize>().prop_map(Step::Commit),
        3 => Just(Step::Sequence),
        3 => Just(Step::FanOut),
        1 => Just(Step::Prune),
        2 => (0..1000usize).prop_map(Step::Resume),
    ]
}

/// A resumed socket: what its `ready` said and every event it was sent, replayed or live.
#[derive(Debug)]
struct Client {
    since: EventId,
    given: EventId,
    received: Vec<EventId>,
    reset: bool,
}

proptest! {
    /// For any interleaving of commits (in any order, some transactions held open), sequencing,
    /// fan-out reads, prunes and resumes, a client that was not told to reset sees exactly the
    /// events after its `since`, in id order, once each: the socket's rule of replaying up to
    /// where the fan-out is and dropping the live frames at or before what `ready` said.
    #[test]
    fn a_resumed_client_sees_exactly_the_events_after_its_since_whatever_the_interleaving(
        steps in proptest::collection::vec(step(), 0..80),
    ) {
        let model = Arc::new(SharedModel::default());
        let live = Ports::new().knowing_everyone().live_over(model.clone());
        let runtime = tokio::runtime::Builder::new_current_thread().build().expect("a runtime");
        let mut at = EventId(0);
        let mut clients: Vec<Client> = Vec::new();
        let fan_out = |at: &mut EventId, clients: &mut Vec<Client>| loop {
            let batch = runtime.block_on(live.next(*at)).expect("reads");
            if batch.is_empty() {
                return;
            }
            for (id, dispatch) in batch {
                *at = id;
                let Dispatch::Deliver { recipients, .. } = dispatch else { continue };
                if !recipients.contains(&AUTHOR) {
                    continue;
                }
                for client in clients.iter_mut().filter(|client| !client.reset) {
                    if id > client.given {
                        client.received.push(id);
                    }
                }
            }
        };
        let all = steps.into_iter().chain([Step::Sequence, Step::FanOut]);
        let steps: Vec<Step> = model.with(|m| {
            // Whatever is still open commits at the end, so every event gets its id.
            let open = m.in_flight.len();
            all.chain((0..open).map(|_| Step::Commit(0)))
                .chain([Step::Sequence, Step::FanOut])
                .collect()
        });
        for step in steps {
            match step {
                Step::Begin => model.with(|m| {
                    m.next_tx += 1;
                    m.in_flight.insert(m.next_tx, Vec::new());
                }),
                Step::Append(n, received) => model.with(|m| {
                    let len = m.in_flight.len();
                    if let Some(events) = m.in_flight.values_mut().nth(n % len.max(1)) {
                        events.push(received);
                    }
                }),
                Step::Commit(n) => model.with(|m| {
                    let len = m.in_flight.len();
                    if let Some(tx) = m.in_flight.keys().nth(n % len.max(1)).copied() {
                        let events = m.in_flight.remove(&tx).unwrap_or_default();
                        m.committed.extend(events.into_iter().map(|received| (tx, received)));
                    }
                }),
                Step::Sequence => {
                    runtime.block_on(model.sequence()).expect("sequences");
                }
                Step::FanOut => fan_out(&mut at, &mut clients),
                Step::Prune => model.with(|m| {
                    let newest = m.sequenced.last().map_or(0, |event| event.id.0);
                    let through = at.0.min(newest - 1);
                    if through > m.pruned_through {
                        m.sequenced.retain(|event| event.id.0 > through);
                        m.pruned_through = through;
                    }
                }),
                Step::Resume(n) => {
                    let head = runtime.block_on(model.bounds()).expect("bounds").head;
                    let since = EventId(i64::try_from(n).expect("small") % (head.0 + 1));
                    let live_from = at;
                    let given = resumed_at(since, live_from);
                    let replay = runtime
                        .block_on(live.replay(AUTHOR, since, live_from))
                        .expect("replays");
                    let (received, reset) = match replay {
                        Replay::Events(deliveries) => {
                            (deliveries.iter().map(|delivery| delivery.id).collect(), false)
                        }
                        Replay::Reset => (Vec::new(), true),
                    };
                    clients.push(Client { since, given, received, reset });
                }
            }
        }

        let (history, pruned_through) = model.with(|m| (m.history.clone(), m.pruned_through));
        for client in clients {
            if client.reset {
                prop_assert!(
                    client.since.0 < pruned_through,
                    "a reset only for a since that was pruned: {client:?}"
                );
                continue;
            }
            let expected: Vec<EventId> =
                history.iter().copied().filter(|id| *id > client.since).collect();
            prop_assert_eq!(&client.received, &expected, "{:?}", client);
        }
    }
}

/// A fan-out with no socket reads nothing beyond the events: a session's end is still handed
/// out (a socket checked before it must not join after it), an unreadable event still counted,
/// and every message is nothing, since nobody is there to receive it.
#[test]
fn an_unheard_event_asks_only_what_its_row_says() {
    let ended = event(
        4,
        Change::SessionEnded {
            session: SessionId(7),
        },
    );
    let unknown = event(
        5,
        Change::Unreadable {
            kind: "article.translated".to_owned(),
        },
    );

    assert_eq!(unheard(&ended), Dispatch::EndSession(SessionId(7)));
    assert_eq!(
        unheard(&unknown),
        Dispatch::Unreadable {
            kind: "article.translated".to_owned()
        }
    );
    for message in [
        article_created(1),
        comment_created(2),
        favorited(3, AUTHOR, READER),
    ] {
        assert_eq!(unheard(&message), Dispatch::Nothing, "{message:?}");
    }
}
