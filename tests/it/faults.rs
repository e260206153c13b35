use conduit_e2e::TestApp;
use reqwest::Method;

/// A database restart ends every connection the server holds. Requests made after it answer as
/// before, or 503 while the pool reconnects, never 500, and the server recovers by itself.
#[tokio::test]
async fn after_the_database_ends_every_connection_requests_never_answer_500_and_recover() {
    let app = TestApp::on_postgres_with(&[("DATABASE_ACQUIRE_TIMEOUT", "2s")]).await;
    let (token, _) = app.register("jake").await;
    let (status, _) = app.send(Method::GET, "/api/user", Some(&token), None).await;
    assert_eq!(status, 200);

    let ended = app.end_database_sessions().await;

    assert!(ended >= 1, "the server held a connection");
    let mut statuses = Vec::new();
    // Bounded: each try ends within the acquire timeout, and a few are enough to reconnect.
    for _ in 0..20 {
        let (status, body) = app.send(Method::GET, "/api/user", Some(&token), None).await;
        assert!(
            status == 200 || status == 503,
            "only 200 or 503 while reconnecting, got {status}: {body}"
        );
        statuses.push(status);
        if status == 200 {
            break;
        }
    }
    assert_eq!(statuses.last(), Some(&200), "{statuses:?}");
    let (status, _) = app
        .send(Method::GET, "/api/articles", Some(&token), None)
        .await;
    assert_eq!(status, 200);
}
