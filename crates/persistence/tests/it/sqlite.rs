use conduit_persistence::{PoolSettings, Store};
use conduit_test_support::contract::ContractStore;

/// A migrated SQLite store in a temporary directory that lives as long as the test.
async fn sqlite_store() -> ContractStore {
    let directory = tempfile::tempdir().expect("a temporary directory");
    let url = format!("sqlite://{}", directory.path().join("conduit.db").display());
    let store = Store::connect(&url, PoolSettings::default())
        .await
        .expect("opens and migrates");
    ContractStore::of(&store, directory)
}

conduit_test_support::store_contract!(sqlite_store());

/// The settings that serialise writes (see the `sqlite` module): each is checked on the
/// connections the store really opens, since each is what keeps concurrent writers from failing
/// or waiting out the busy timeout.
mod write_serialisation {
    use std::time::Duration;

    use conduit_persistence::PoolSettings;
    use conduit_persistence::sqlite::{self, SqlitePools};
    use sqlx::{Connection, Row, SqliteConnection};

    async fn pools() -> (SqlitePools, tempfile::TempDir, String) {
        let directory = tempfile::tempdir().expect("a temporary directory");
        let url = format!("sqlite://{}", directory.path().join("conduit.db").display());
        let pools = sqlite::connect(&url, PoolSettings::default())
            .await
            .expect("opens");
        sqlite::MIGRATOR.run(&pools.writer).await.expect("migrates");
        (pools, directory, url)
    }

    /// The value of `PRAGMA name` on a connection of `pool`, as text.
    async fn pragma(pool: &sqlx::SqlitePool, name: &str) -> String {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("PRAGMA {name}")))
            .fetch_one(pool)
            .await
            .expect("reads a pragma");
        row.try_get::<String, _>(0)
            .or_else(|_| row.try_get::<i64, _>(0).map(|value| value.to_string()))
            .expect("a text or integer pragma")
    }

    #[tokio::test]
    async fn there_is_one_writer_in_wal_mode_with_normal_sync_and_a_busy_timeout() {
        let (pools, _directory, _) = pools().await;

        assert_eq!(pools.writer.options().get_max_connections(), 1);
        assert_eq!(pragma(&pools.writer, "journal_mode").await, "wal");
        assert_eq!(
            pragma(&pools.writer, "synchronous").await,
            "1",
            "1 is NORMAL"
        );
        assert_eq!(pragma(&pools.writer, "busy_timeout").await, "5000");
        assert_eq!(pragma(&pools.reader, "busy_timeout").await, "5000");
        assert!(pools.reader.options().get_max_connections() > 1);
    }

    #[tokio::test]
    async fn readers_cannot_write() {
        let (pools, _directory, _) = pools().await;

        let outcome = sqlx::query("CREATE TABLE scratch (id INTEGER)")
            .execute(&pools.reader)
            .await;

        let error = outcome.expect_err("a reader refuses to write");
        assert!(error.to_string().contains("readonly"), "{error}");
    }

    #[tokio::test]
    async fn a_write_transaction_takes_the_write_lock_when_it_begins() {
        let (pools, _directory, url) = pools().await;
        let mut other = SqliteConnection::connect(&url).await.expect("connects");
        sqlx::query("PRAGMA busy_timeout = 0")
            .execute(&mut other)
            .await
            .expect("sets");

        let transaction = pools
            .writer
            .begin_with(sqlite::BEGIN_WRITE)
            .await
            .expect("begins");
        let blocked = sqlx::query("BEGIN IMMEDIATE").execute(&mut other).await;
        drop(transaction);

        let error = blocked.expect_err("the lock is held from BEGIN on");
        assert!(error.to_string().contains("locked"), "{error}");
    }

    #[tokio::test]
    async fn a_reader_is_not_blocked_by_an_open_write_transaction() {
        let (pools, _directory, _) = pools().await;
        sqlx::query("CREATE TABLE scratch (id INTEGER)")
            .execute(&pools.writer)
            .await
            .expect("creates");

        let mut transaction = pools
            .writer
            .begin_with(sqlite::BEGIN_WRITE)
            .await
            .expect("begins");
        sqlx::query("INSERT INTO scratch (id) VALUES (1)")
            .execute(&mut *transaction)
            .await
            .expect("writes");
        let read = tokio::time::timeout(
            Duration::from_secs(5),
            sqlx::query_as::<_, (i64,)>("SELECT COUNT(*) FROM scratch").fetch_one(&pools.reader),
        )
        .await;

        let (count,) = read.expect("does not wait").expect("reads");
        assert_eq!(count, 0, "the uncommitted write is not seen");
    }
}

/// A row of the outbox this version cannot read (here a comment event without its article, as
/// a hand-made or half-migrated row would be) is read as `Unreadable`, and the events after it
/// are read as ever: one bad row must not stop delivery for everyone.
#[tokio::test]
async fn an_unreadable_outbox_row_is_read_as_such_and_holds_nothing_up() {
    use conduit_domain::live::{Change, EventId};
    use sqlx::Connection;

    let directory = tempfile::tempdir().expect("a temporary directory");
    let url = format!("sqlite://{}", directory.path().join("conduit.db").display());
    let store = Store::connect(&url, PoolSettings::default())
        .await
        .expect("opens and migrates");
    let mut connection = sqlx::SqliteConnection::connect(&url)
        .await
        .expect("connects");
    for statement in [
        "INSERT INTO live_events (kind, actor_id) VALUES ('comment.created', 1)",
        "INSERT INTO live_events (kind, session_id) VALUES ('session.ended', 7)",
    ] {
        sqlx::query(statement)
            .execute(&mut connection)
            .await
            .expect("a row");
    }

    let events = store
        .event_log()
        .after(EventId(0), 10)
        .await
        .expect("reads past the bad row");

    let changes: Vec<&Change> = events.iter().map(|event| &event.change).collect();
    assert_eq!(changes.len(), 2, "{changes:?}");
    assert_eq!(
        changes[0],
        &Change::Unreadable {
            kind: "comment.created".to_owned()
        }
    );
    assert!(
        matches!(changes[1], Change::SessionEnded { .. }),
        "{changes:?}"
    );
}
