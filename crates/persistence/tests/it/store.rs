use conduit_persistence::{ConnectError, PoolSettings, Store};
use conduit_test_support::TestDb;

#[tokio::test]
async fn an_unknown_url_scheme_is_refused_with_a_clear_error() {
    let outcome = Store::connect("mysql://localhost/conduit", PoolSettings::default()).await;

    assert!(matches!(outcome, Err(ConnectError::UnsupportedUrl)));
}

#[tokio::test]
async fn sqlite_creates_the_file_migrates_and_reports_ready() {
    let directory = tempfile::tempdir().expect("a temporary directory");
    let path = directory.path().join("fresh.db");
    let url = format!("sqlite://{}", path.display());

    let store = Store::connect(&url, PoolSettings::default())
        .await
        .expect("opens");

    assert!(path.exists());
    assert!(store.is_ready().await);
    // Applying the migrations again is a no-op, as at every start-up.
    store.migrate().await.expect("migrations are idempotent");
    store.close().await;
    assert!(!store.is_ready().await);
}

#[tokio::test]
async fn postgres_migrates_an_already_migrated_database_without_error() {
    let database = TestDb::new().await;

    let store = Store::connect(database.url(), PoolSettings::default())
        .await
        .expect("connects and migrates a database cloned from the migrated template");

    assert!(store.is_ready().await);
    store.close().await;
}
