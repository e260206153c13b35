use conduit_persistence::Store;
use conduit_test_support::TestDb;
use conduit_test_support::contract::ContractStore;

/// A store on the test's database with these pool settings: another instance, as it were.
pub(crate) async fn connected(
    database: &TestDb,
    settings: conduit_persistence::PoolSettings,
) -> Store {
    Store::Postgres(
        conduit_persistence::postgres::connect(database.url(), settings)
            .await
            .expect("connects")
            .into(),
    )
}

/// A new user of `store`.
pub(crate) async fn user(store: &Store) -> conduit_domain::accounts::User {
    store
        .users()
        .insert(conduit_test_support::builders::NewUserBuilder::new().build())
        .await
        .expect("inserts a user")
}

/// A new article by `author`, written in a live session of theirs.
pub(crate) async fn publish(
    store: &Store,
    author: conduit_domain::accounts::UserId,
) -> conduit_domain::articles::Article {
    let now = conduit_domain::Timestamp::from_offset(time::OffsetDateTime::now_utc());
    let session = store
        .sessions()
        .start(conduit_domain::ports::NewSession {
            user: author,
            token: conduit_domain::ports::RefreshTokenHash(format!(
                "hash-{}",
                conduit_test_support::builders::unique()
            )),
            created_at: now,
            token_expires_at: now + time::Duration::days(1),
            expires_at: now + time::Duration::days(1),
        })
        .await
        .expect("starts a session");
    store
        .articles()
        .insert(
            conduit_test_support::builders::NewArticleBuilder::new(author).build(),
            session,
        )
        .await
        .expect("publishes")
        .expect("in a live session")
}

conduit_test_support::store_contract!(async {
    let database = TestDb::new().await;
    let store = Store::Postgres(database.pool().clone().into());
    ContractStore::of(&store, database)
});

/// When PostgreSQL cannot serve now, the store says so (`Unreachable`, a 503 the client may
/// retry) instead of reporting a fault, and it says so within its timeouts instead of waiting.
mod faults {
    use std::time::Duration;

    use conduit_domain::accounts::Username;
    use conduit_domain::ports::StoreError;
    use conduit_persistence::{PoolSettings, Store};
    use conduit_test_support::TestDb;

    async fn look_up_a_profile(store: &Store) -> Result<(), StoreError> {
        let username = Username::parse("jake").expect("a valid username");
        store
            .profiles()
            .find_by_username(&username, None)
            .await
            .map(|_| ())
    }

    #[tokio::test]
    async fn a_statement_that_outlives_the_statement_timeout_is_unreachable() {
        let database = TestDb::new().await;
        let settings = PoolSettings {
            statement_timeout: Duration::from_millis(200),
            ..PoolSettings::default()
        };
        let store = crate::postgres::connected(&database, settings).await;
        // Another session holds the users table: the look-up waits until its timeout cancels it.
        let mut holder = database.pool().begin().await.expect("a transaction");
        sqlx::query("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")
            .execute(&mut *holder)
            .await
            .expect("takes the lock");

        let outcome = look_up_a_profile(&store).await;

        assert!(
            matches!(outcome, Err(StoreError::Unreachable(_))),
            "{outcome:?}"
        );
        holder.rollback().await.expect("releases the lock");
        assert_eq!(look_up_a_profile(&store).await, Ok(()));
    }

    #[tokio::test]
    async fn a_server_that_cannot_be_reached_is_unreachable() {
        // Port 1 on the loopback: nothing listens, so every connection attempt is refused.
        let pool = sqlx::postgres::PgPoolOptions::new()
            .acquire_timeout(Duration::from_millis(500))
            .connect_lazy("postgres://conduit:conduit@127.0.0.1:1/conduit")
            .expect("a lazy pool");

        let outcome = look_up_a_profile(&Store::Postgres(pool.into())).await;

        assert!(
            matches!(outcome, Err(StoreError::Unreachable(_))),
            "{outcome:?}"
        );
    }
}

/// A write that refers to an article deleted while it waited is told the article is gone (a
/// 404 for the client), not a fault.
mod races {
    use std::time::Duration;

    use conduit_domain::ports::StoreError;
    use conduit_persistence::Store;
    use conduit_test_support::TestDb;

    #[tokio::test]
    async fn a_favourite_of_an_article_deleted_while_it_waits_finds_it_gone() {
        let database = TestDb::new().await;
        let store = Store::Postgres(database.pool().clone().into());
        let author = crate::postgres::user(&store).await;
        let fan = crate::postgres::user(&store).await;
        let article = crate::postgres::publish(&store, author.id).await;
        // The deleter holds the article's row until it commits.
        let mut deleter = database.pool().begin().await.expect("a transaction");
        sqlx::query("DELETE FROM articles WHERE id = $1")
            .bind(article.summary.id.0)
            .execute(&mut *deleter)
            .await
            .expect("deletes, uncommitted");
        let articles = store.articles();
        let slug = article.summary.slug.clone();
        let favourite = tokio::spawn(async move { articles.favorite(&slug, fan.id).await });
        // Bounded: the favourite reaches the deleter's lock within milliseconds.
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            let (waiting,): (i64,) = sqlx::query_as(
                "SELECT count(*) FROM pg_stat_activity
                 WHERE datname = current_database() AND wait_event_type = 'Lock'",
            )
            .fetch_one(database.pool())
            .await
            .expect("reads the activity");
            if waiting > 0 {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the favourite never waited"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }

        deleter.commit().await.expect("commits");
        let outcome = favourite.await.expect("the task completes");

        assert!(
            matches!(outcome, Err(StoreError::Gone("article"))),
            "{outcome:?}"
        );
    }
}

/// Live events across instances: each instance `LISTEN`s on a connection of its own, and the
/// triggers' `NOTIFY` reaches it from any other.
mod live {
    use std::time::Duration;

    use conduit_domain::live::EventId;
    use conduit_persistence::{PoolSettings, Store};
    use conduit_test_support::TestDb;
    use tokio::sync::Notify;

    /// Generous: a wake takes milliseconds; this only bounds a failing test.
    const PATIENCE: Duration = Duration::from_secs(20);

    async fn woken(signal: &Notify) {
        tokio::time::timeout(PATIENCE, signal.notified())
            .await
            .expect("woken before the patience ran out");
    }

    /// Another instance: a pool of its own on the same database.
    async fn instance(database: &TestDb) -> Store {
        crate::postgres::connected(database, PoolSettings::default()).await
    }

    async fn publish(store: &Store) {
        let author = crate::postgres::user(store).await;
        crate::postgres::publish(store, author.id).await;
    }

    /// Waits for wakes until the log holds events after `since`, as the fan-out does.
    async fn caught_up(store: &Store, signal: &Notify, since: EventId) -> usize {
        loop {
            let events = store
                .event_log()
                .after(since, 100)
                .await
                .expect("reads events");
            if !events.is_empty() {
                return events.len();
            }
            woken(signal).await;
        }
    }

    #[tokio::test]
    async fn a_notify_reaches_a_listener_on_another_pool() {
        let database = TestDb::new().await;
        let listening = instance(&database).await;
        let writing = instance(&database).await;
        // The writer's sequencer gives its events ids and notifies every listener.
        let _writer_signal = writing.event_signal();
        let signal = listening.event_signal();
        woken(&signal).await; // the wake that follows LISTEN: from here on it hears everything
        let since = listening.event_log().bounds().await.expect("bounds").head;

        publish(&writing).await;

        woken(&signal).await;
        let events = listening
            .event_log()
            .after(since, 10)
            .await
            .expect("reads events");
        assert_eq!(events.len(), 1, "{events:?}");
    }

    #[tokio::test]
    async fn a_listener_whose_connection_is_killed_reconnects_and_catches_up() {
        let database = TestDb::new().await;
        let listening = instance(&database).await;
        let signal = listening.event_signal();
        woken(&signal).await;
        let since = listening.event_log().bounds().await.expect("bounds").head;

        let killed: Vec<(bool,)> = sqlx::query_as(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE datname = current_database() AND query LIKE 'LISTEN%'",
        )
        .fetch_all(database.pool())
        .await
        .expect("terminates the listener");
        assert_eq!(killed, [(true,)], "one listener, killed");
        // Written while the listener may be down: only catching up after reconnecting finds it.
        publish(&instance(&database).await).await;

        assert_eq!(caught_up(&listening, &signal, since).await, 1);
        // Listening again: a later event wakes it too.
        let since = listening.event_log().bounds().await.expect("bounds").head;
        publish(&instance(&database).await).await;
        assert_eq!(caught_up(&listening, &signal, since).await, 1);
    }

    /// The fold of the list counts runs in a task of its own: a fold that waits on a lock holds
    /// back no live event. Here another session locks the counts against writes, an article is
    /// published, and the fold that follows it waits; a second article is still sequenced and
    /// wakes the fan-out. With the fold in the sequencer's loop, the second waited for the
    /// fold's statement timeout (longer than the patience here).
    #[tokio::test]
    async fn a_fold_waiting_on_a_lock_holds_back_no_live_event() {
        let database = TestDb::new().await;
        let settings = PoolSettings {
            statement_timeout: PATIENCE * 3,
            ..PoolSettings::default()
        };
        let store = crate::postgres::connected(&database, settings).await;
        let signal = store.event_signal();
        woken(&signal).await;
        let mut locking = database.pool().begin().await.expect("a transaction");
        sqlx::raw_sql("LOCK TABLE tag_counts, author_counts IN EXCLUSIVE MODE")
            .execute(&mut *locking)
            .await
            .expect("locks the counts against writes");

        let since = store.event_log().bounds().await.expect("bounds").head;
        publish(&store).await;
        assert_eq!(caught_up(&store, &signal, since).await, 1);
        // The fold that follows the first article, waiting: a wait on a lock is visible in
        // `pg_stat_activity`, so this polls the database's state rather than sleeping.
        let waiting = "SELECT COUNT(*) FROM pg_stat_activity
            WHERE datname = current_database() AND wait_event_type = 'Lock'
            AND query = 'SELECT counts_fold($1)'";
        tokio::time::timeout(PATIENCE, async {
            loop {
                let folds: i64 = sqlx::query_scalar(waiting)
                    .fetch_one(database.pool())
                    .await
                    .expect("reads pg_stat_activity");
                if folds == 1 {
                    return;
                }
                tokio::task::yield_now().await;
            }
        })
        .await
        .expect("the fold waits on the lock");

        let since = store.event_log().bounds().await.expect("bounds").head;
        publish(&store).await;
        assert_eq!(caught_up(&store, &signal, since).await, 1);
        locking.rollback().await.expect("unlocks");
    }

    /// The sequencer, the fold and the fan-out's reads have a pool of their own: requests that
    /// hold every connection of the requests' pool (waiting on a lock, say) hold back no live
    /// event. Here the test holds them all, an article is written by another client, and it is
    /// still sequenced, announced and readable through the background store. With the sequencer
    /// on the requests' pool, it waited for a connection until the patience ran out.
    #[tokio::test]
    async fn a_full_request_pool_holds_back_no_live_event() {
        let database = TestDb::new().await;
        // Long enough for a handshake on a loaded machine: with 200 ms, a connection still
        // opening was taken for a full pool, and the store's own connect timed out.
        let settings = PoolSettings {
            max_connections: 2,
            acquire_timeout: Duration::from_secs(2),
            ..PoolSettings::default()
        };
        let store = crate::postgres::connected(&database, settings).await;
        let signal = store.event_signal();
        woken(&signal).await; // the listener holds one of the two connections from here on
        let Store::Postgres(pg) = &store else {
            panic!("a PostgreSQL store")
        };
        let mut held = Vec::new();
        while let Ok(connection) = pg.pool.acquire().await {
            held.push(connection);
        }
        assert_eq!(
            (pg.pool.size(), pg.pool.num_idle()),
            (2, 0),
            "every connection held"
        );
        let since = store
            .background()
            .event_log()
            .bounds()
            .await
            .expect("bounds")
            .head;
        let other = Store::Postgres(database.pool().clone().into());

        publish(&other).await;

        assert!(
            store.event_log().bounds().await.is_err(),
            "the pool is full"
        );
        assert_eq!(caught_up(&store.background(), &signal, since).await, 1);
        drop(held);
    }

    /// A backlog of count changes that no one statement could fold within the statement timeout
    /// (a bulk import, a restore) is folded a batch at a time, each well within it, and the
    /// counts come out exact. Folding it in one statement, as before, was cancelled each time,
    /// so the backlog never shrank. A batch may take a removal before the addition it removes
    /// (here the first change removes a tag added by the last): the totals on the way may be
    /// below 0, and readers still count right.
    #[tokio::test]
    async fn a_backlog_too_large_for_one_statement_is_folded_a_batch_at_a_time() {
        const BACKLOG: &str = "
            INSERT INTO tag_count_changes (tag, delta) VALUES ('late', -1);
            INSERT INTO tag_count_changes (tag, delta)
                SELECT 'tag' || (n % 7), 1 FROM generate_series(1, 1000000) n;
            INSERT INTO tag_count_changes (tag, delta) VALUES ('late', 1);
            INSERT INTO author_count_changes (author_id, delta)
                SELECT n % 100, 1 FROM generate_series(1, 25000) n;";
        let database = TestDb::new().await;
        // One statement over the backlog takes about 1.5 s here; a batch, 20 to 40 ms.
        let settings = PoolSettings {
            statement_timeout: Duration::from_millis(500),
            ..PoolSettings::default()
        };
        let store = crate::postgres::connected(&database, settings).await;
        let reader = Store::Postgres(database.pool().clone().into());
        sqlx::raw_sql(BACKLOG)
            .execute(database.pool())
            .await
            .expect("a backlog");

        let first: Option<i64> = sqlx::query_scalar("SELECT counts_fold(10000)")
            .fetch_one(database.pool())
            .await
            .expect("folds one batch");
        let partly: Vec<(String, i64)> =
            sqlx::query_as("SELECT tag, articles FROM tag_counts WHERE tag = 'late'")
                .fetch_all(database.pool())
                .await
                .expect("reads the totals");
        let listed_partly = reader.articles().tags(10).await.expect("reads the tags");
        store.fold_counts().await.expect("folds the whole backlog");
        let totals: Vec<(String, i64)> =
            sqlx::query_as("SELECT tag, articles FROM tag_counts ORDER BY tag")
                .fetch_all(database.pool())
                .await
                .expect("reads the totals");
        let (left, authors, articles): (i64, i64, i64) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM tag_count_changes)
                + (SELECT COUNT(*) FROM author_count_changes),
                (SELECT COUNT(*) FROM author_counts), (SELECT SUM(articles)::BIGINT FROM author_counts)",
        )
        .fetch_one(database.pool())
        .await
        .expect("reads what is left");

        assert_eq!(first, Some(10_000), "one batch of each table at most");
        assert_eq!(partly, [("late".to_owned(), -1)], "a removal folded first");
        assert!(
            !listed_partly.iter().any(|tag| tag.as_str() == "late"),
            "{listed_partly:?}"
        );
        let expected: Vec<(String, i64)> = (0..7)
            .map(|n| (format!("tag{n}"), 142_857 + i64::from(n == 1)))
            .collect();
        assert_eq!(totals, expected);
        assert_eq!((left, authors, articles), (0, 100, 25_000));
    }

    /// Commit order without a global lock: an event appended early but committed late is not
    /// passed over. The event committed first gets its id first, and the late one an id above it
    /// once it commits, so a reader that has read up to the first reads the late one next.
    #[tokio::test]
    async fn an_event_committed_late_is_never_passed_over() {
        let database = TestDb::new().await;
        let store = instance(&database).await;
        let log = store.event_log();
        let author = crate::postgres::user(&store).await;
        // Another author: one author's articles are counted in one row, locked until commit.
        let early_author = crate::postgres::user(&store).await;
        let since = log.bounds().await.expect("bounds").head;
        // The early writer: its event is appended, its transaction stays open.
        let mut early = database.pool().begin().await.expect("a transaction");
        sqlx::query(
            "INSERT INTO articles (slug, author_id, title, description, body, created_at, updated_at)
             VALUES ('early', $1, 'Early', 'd', 'b', now(), now())",
        )
        .bind(early_author.id.0)
        .execute(&mut *early)
        .await
        .expect("writes, uncommitted");
        // The late writer commits first.
        crate::postgres::publish(&store, author.id).await;

        let first = log.sequence().await;
        let read = log.after(since, 10).await.expect("reads");
        early.commit().await.expect("commits");
        let second = log.sequence().await;
        let next = log.after(read[0].id, 10).await.expect("reads");

        assert_eq!(first, Ok(1), "only the committed event gets an id");
        assert_eq!(read.len(), 1, "{read:?}");
        assert_eq!(second, Ok(1));
        let slugs: Vec<&str> = next
            .iter()
            .map(|event| match &event.change {
                conduit_domain::live::Change::ArticleCreated { slug, .. } => slug.as_str(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            slugs,
            ["early"],
            "the reader at the first event reads the late one next"
        );
        // The early event's `at` is older than the event below it: pruning what happened before
        // that one must not take it along with the early one.
        crate::postgres::publish(&store, author.id).await;
        assert_eq!(log.sequence().await, Ok(1));
        log.prune(read[0].at).await.expect("prunes");
        let kept = log.after(since, 10).await.expect("reads");
        assert_eq!(
            kept.first().map(|event| event.id),
            Some(read[0].id),
            "{kept:?}"
        );
    }

    /// A backlog (a bulk import of articles, say) is moved a batch at a time, each well within
    /// the statement timeout, and all of it by one call.
    #[tokio::test]
    async fn a_backlog_larger_than_a_batch_is_sequenced_whole_within_the_statement_timeout() {
        let database = TestDb::new().await;
        let settings = PoolSettings {
            statement_timeout: Duration::from_secs(2),
            ..PoolSettings::default()
        };
        let store = crate::postgres::connected(&database, settings).await;
        let log = store.event_log();
        let since = log.bounds().await.expect("bounds").head;
        sqlx::query(
            "INSERT INTO live_events_pending (kind, session_id)
             SELECT 'session.ended', n FROM generate_series(1, 25000) AS n",
        )
        .execute(database.pool())
        .await
        .expect("a backlog");

        let moved = log.sequence().await;

        assert_eq!(moved, Ok(25_000));
        let head = log.bounds().await.expect("bounds").head;
        assert_eq!(head.0 - since.0, 25_000);
        let first = log.after(since, 1).await.expect("reads");
        assert_eq!(first[0].id.0, since.0 + 1, "no id skipped");
    }
}
