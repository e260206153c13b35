use conduit_domain::Timestamp;
use conduit_domain::ports::ThrottleKey;
use conduit_e2e::held_link::HeldLink;
use conduit_e2e::{Conduit, TestApp, TestUser};
use conduit_persistence::{PoolSettings, Store};
use conduit_test_support::postgres::TestDb;
use reqwest::Method;
use serde_json::json;

/// A database restart ends every connection the server holds. Requests made after it answer as
/// before, or 503 while the pool reconnects, never 500, and the server recovers by itself.
#[tokio::test]
async fn after_the_database_ends_every_connection_requests_never_answer_500_and_recover() {
    let app = TestApp::on_postgres_with(&[("DATABASE_ACQUIRE_TIMEOUT", "2s")]).await;
    let TestUser { token, .. } = app.register("jake").await;
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

/// A database that stops answering on the connections the server holds (frozen, paused, or
/// behind a partition that drops nothing, so TCP sees no error): a request gives its statement
/// up `DATABASE_STATEMENT_TIMEOUT` plus 2 s after sending it and answers 503, and closes that
/// connection; once the database answers again, so does the server. Before, the request
/// waited for as long as the database did (183 s in an attack run).
#[tokio::test]
async fn a_database_that_stops_answering_costs_a_request_a_503_not_a_hang() {
    let key = ("JWT_SECRET", "one key for both servers, 32 bytes or more");
    let first = TestApp::on_postgres_with(&[key]).await;
    let (link, through_link) = HeldLink::to_database(first.database_url()).await;
    let app = first
        .restart_through(
            &through_link,
            &[
                key,
                ("DATABASE_STATEMENT_TIMEOUT", "1s"),
                ("DATABASE_ACQUIRE_TIMEOUT", "2s"),
            ],
        )
        .await;
    let TestUser { token, email, .. } = app.register("jake").await;
    // Connections open and idle in the pool, so that what follows meets the silence with a
    // statement sent, not while connecting.
    let warm = (0..4).map(|_| app.send(Method::GET, "/api/user", Some(&token), None));
    for (status, _) in futures_util::future::join_all(warm).await {
        assert_eq!(status, 200);
    }

    link.hold();
    // The test's patience, far beyond the server's 3 s: a hang fails here instead of stalling.
    // A login begins a transaction (its throttle's count), so a `BEGIN` is given up on too.
    let (silent, begun) = tokio::time::timeout(std::time::Duration::from_secs(60), async {
        tokio::join!(
            app.send(Method::GET, "/api/user", Some(&token), None),
            app.login(&email, "not the password"),
        )
    })
    .await
    .expect("answers, not a hang");
    link.release();
    assert_eq!(begun.status, 503, "{}", begun.body);

    assert_eq!(
        silent,
        (
            503,
            serde_json::json!({"errors": {"database": [
                "could not be reached or did not answer in time; try again shortly"
            ]}})
        )
    );
    // Bounded: each try ends within the acquire timeout, and a few are enough to reconnect.
    let mut statuses = Vec::new();
    for _ in 0..20 {
        let (status, _) = app.send(Method::GET, "/api/user", Some(&token), None).await;
        statuses.push(status);
        if status == 200 {
            break;
        }
    }
    assert_eq!(statuses.last(), Some(&200), "{statuses:?}");
    // No connection was left inside a transaction that nothing owns: each write, whichever
    // connection takes it, is committed and seen by another server on the database. A `BEGIN`
    // given up on inside sqlx's transaction ran once the database answered, and the writes
    // that followed on that connection were answered 200 and never committed.
    for n in 0..12 {
        let bio = format!("bio {n}");
        let body = json!({"user": {"bio": bio}});
        let (status, _) = app
            .send(Method::PUT, "/api/user", Some(&token), Some(body))
            .await;
        assert_eq!(status, 200);
        let (status, seen) = first
            .send(Method::GET, "/api/user", Some(&token), None)
            .await;
        assert_eq!(
            (status, &seen["user"]["bio"]),
            (200, &json!(bio)),
            "write {n}"
        );
    }
}

/// A transaction dropped while its `BEGIN` is on the wire, as actix drops a request whose
/// client has gone, leaves no connection of the pool inside a transaction nothing owns. With
/// sqlx's transaction (and with the store's own, until `BEGIN` got a task of its own), the
/// connection went back to the pool with the `BEGIN` unanswered; it ran there, and later
/// writes on that connection were answered and never committed (80 logins whose clients reset
/// their connections, attack run 13). Here the `BEGIN` of a login's throttle count is held on
/// its way by a link the test holds, the count is dropped, and the link released.
#[tokio::test]
async fn a_transaction_dropped_while_its_begin_is_on_the_wire_leaves_nothing_open() {
    let database = TestDb::new().await;
    let (link, through_link) = HeldLink::to_database(database.url()).await;
    let store = Store::connect(&through_link, PoolSettings::default())
        .await
        .expect("connects through the link");
    let failures = store.login_failures();
    let now = Timestamp::from_offset(time::OffsetDateTime::now_utc());
    let limits = [(ThrottleKey::Account("jake@example.com".to_owned()), 5)];
    // A connection open and idle in the pool, so that the next count sends its BEGIN at once.
    failures
        .attempt(&limits, now, now, now)
        .await
        .expect("a first count");

    link.hold();
    let counting = tokio::spawn({
        let (failures, limits) = (failures.clone(), limits.clone());
        async move { failures.attempt(&limits, now, now, now).await }
    });
    // Patience, not a measure: the BEGIN is on the wire once the link holds bytes of it.
    tokio::time::timeout(std::time::Duration::from_secs(10), async {
        while link.held() == 0 {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the BEGIN reaches the link");
    counting.abort();
    let _ = counting.await;
    link.release();

    // Settled once the BEGIN has run (the last statement of a session of the database is the
    // BEGIN, or the ROLLBACK that follows it) and no session is left inside a transaction.
    let sessions = "SELECT COALESCE(state, ''), query FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid()";
    let settled = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        loop {
            let rows: Vec<(String, String)> = sqlx::query_as(sessions)
                .fetch_all(database.pool())
                .await
                .expect("reads pg_stat_activity");
            let begun = rows
                .iter()
                .any(|(_, query)| query == "BEGIN" || query == "ROLLBACK");
            let open = rows.iter().any(|(state, _)| state == "idle in transaction");
            if begun && !open {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(
        settled.is_ok(),
        "a connection of the pool stayed in a transaction nothing owns"
    );
}

/// Answers the breached-password check slowly, after telling the test the request arrived.
struct SlowAnswer(std::sync::Mutex<Option<tokio::sync::oneshot::Sender<()>>>);

impl wiremock::Respond for SlowAnswer {
    fn respond(&self, _: &wiremock::Request) -> wiremock::ResponseTemplate {
        if let Some(arrived) = self.0.lock().ok().and_then(|mut sender| sender.take()) {
            let _ = arrived.send(());
        }
        wiremock::ResponseTemplate::new(200)
            .set_body_string("")
            .set_delay(std::time::Duration::from_millis(1_500))
    }
}

/// A graceful shutdown (what SIGTERM starts) lets a request already in flight finish with its
/// answer, then the server stops cleanly and accepts nothing more.
#[tokio::test]
async fn a_request_in_flight_when_shutdown_begins_finishes_then_the_server_stops_cleanly() {
    let breach_check = wiremock::MockServer::start().await;
    let (arrived, arrival) = tokio::sync::oneshot::channel();
    wiremock::Mock::given(wiremock::matchers::method("GET"))
        .respond_with(SlowAnswer(std::sync::Mutex::new(Some(arrived))))
        .mount(&breach_check)
        .await;
    // The breach check holds the registration in flight; only the strict policy asks it.
    let app = TestApp::on_sqlite_with(&[
        ("BREACH_CHECK_URL", &breach_check.uri()),
        ("BREACH_CHECK_TIMEOUT", "30s"),
        ("PASSWORD_POLICY", "strict"),
    ])
    .await;
    let registration = app
        .client
        .post(format!("{}/api/users", app.address))
        .json(&serde_json::json!({"user": {
            "username": "drained", "email": "drained@example.com", "password": "correct horse battery"
        }}))
        .send();
    let registering = tokio::spawn(registration);

    arrival
        .await
        .expect("the registration reached the breach check");
    app.shutdown.request();

    let answered = registering
        .await
        .expect("the request's task did not panic")
        .expect("the request in flight was answered");
    assert_eq!(answered.status().as_u16(), 201);
    assert!(app.stopped().await.is_ok(), "the server stopped cleanly");
    let after = app
        .client
        .get(format!("{}/health/ready", app.address))
        .send()
        .await;
    assert!(after.is_err(), "a stopped server accepts no connection");
}

/// Behind a proxy that keeps connections open, `SHUTDOWN_DRAIN` keeps the server answering for a
/// while after SIGTERM, not ready, and each answer closes its connection, so that the proxy holds
/// no idle connection when the listener closes.
#[tokio::test]
async fn during_the_drain_the_server_answers_not_ready_and_closes_each_connection() {
    let app = TestApp::on_sqlite_with(&[("SHUTDOWN_DRAIN", "3s")]).await;
    let before = app
        .client
        .get(format!("{}/api/tags", app.address))
        .send()
        .await
        .expect("answered before the shutdown");

    app.shutdown.request();
    let ready = app
        .client
        .get(format!("{}/health/ready", app.address))
        .send()
        .await
        .expect("answered while draining");
    let served = app
        .client
        .get(format!("{}/api/tags", app.address))
        .send()
        .await
        .expect("answered while draining");

    let connection = |response: &reqwest::Response| {
        response
            .headers()
            .get("connection")
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };
    assert_eq!(connection(&before), None, "kept alive before the shutdown");
    assert_eq!(ready.status().as_u16(), 503);
    assert_eq!(served.status().as_u16(), 200);
    assert_eq!(connection(&served).as_deref(), Some("close"));
    assert!(app.stopped().await.is_ok(), "the server stopped cleanly");
}
