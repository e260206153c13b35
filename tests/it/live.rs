//! Live updates end to end: real servers over real sockets, on SQLite (one instance, an
//! in-process broadcast) and on two instances sharing one PostgreSQL (NOTIFY between them).

use std::time::Instant;

use conduit_e2e::TestApp;
use conduit_e2e::held_link::HeldLink;
use conduit_test_support::live::LiveClient;
use reqwest::Method;
use serde_json::json;

/// Two instances on one PostgreSQL database, with one signing key, as replicas run.
async fn two_instances() -> (TestApp, TestApp) {
    let shared = [("JWT_SECRET", "one key for every replica, 32 bytes or more")];
    let first = TestApp::on_postgres_with(&shared).await;
    let second = first.restart_with(&shared).await;
    (first, second)
}

async fn follow(app: &TestApp, token: &str, username: &str) {
    let (status, body) = app
        .send(
            Method::POST,
            &format!("/api/profiles/{username}/follow"),
            Some(token),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

/// Publishes an article; its slug.
pub(crate) async fn publish(app: &TestApp, token: &str, title: &str) -> String {
    let (status, body) = app
        .send(
            Method::POST,
            "/api/articles",
            Some(token),
            Some(json!({"article": {
                "title": title, "description": "About it", "body": "Text", "tagList": []
            }})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    body["article"]["slug"].as_str().expect("a slug").to_owned()
}

/// Comments on an article; the comment's id.
pub(crate) async fn comment(app: &TestApp, token: &str, slug: &str, body: &str) -> i64 {
    let (status, answer) = app
        .send(
            Method::POST,
            &format!("/api/articles/{slug}/comments"),
            Some(token),
            Some(json!({"comment": {"body": body}})),
        )
        .await;
    assert_eq!(status, 201, "{answer}");
    answer["comment"]["id"].as_i64().expect("an id")
}

/// A follower on `reader_side` is told of an article published through `writer_side`.
async fn a_follower_hears_of_a_new_article(writer_side: &TestApp, reader_side: &TestApp) {
    let (author, author_name) = writer_side.register("author").await;
    let (reader, _) = writer_side.register("reader").await;
    follow(writer_side, &reader, &author_name).await;
    let mut socket = LiveClient::connect_as(&reader_side.address, &reader, "").await;
    socket.ready().await;

    let published = Instant::now();
    let slug = publish(writer_side, &author, "Heard everywhere").await;
    let frame = socket.next_json().await;
    let delivered = published.elapsed();

    assert_eq!(frame["type"], "article.created", "{frame}");
    assert_eq!(frame["article"]["slug"], slug.as_str());
    assert_eq!(frame["article"]["author"]["username"], author_name.as_str());
    // The figure, not a limit: the benchmark measures latency (docs/performance.md).
    eprintln!("delivered {delivered:?} after the publishing request began");
}

#[tokio::test]
async fn on_sqlite_a_follower_hears_of_a_new_article() {
    let app = TestApp::on_sqlite().await;

    a_follower_hears_of_a_new_article(&app, &app).await;
}

#[tokio::test]
async fn a_write_through_one_instance_reaches_a_socket_on_the_other() {
    let (first, second) = two_instances().await;

    a_follower_hears_of_a_new_article(&first, &second).await;
}

#[tokio::test]
async fn a_client_that_missed_three_events_gets_exactly_those_when_it_resumes() {
    let (first, second) = two_instances().await;
    let (author, _) = first.register("author").await;
    let (reader, _) = first.register("reader").await;
    let slug = publish(&first, &author, "Resumed").await;
    let mut socket = LiveClient::connect_as(&second.address, &author, "").await;
    let since = socket.ready().await;
    comment(&first, &reader, &slug, "seen live").await;
    let seen = socket.next_json().await;
    let since = seen["id"].as_str().map_or(since, str::to_owned);
    drop(socket);

    for body in ["one", "two", "three"] {
        comment(&first, &reader, &slug, body).await;
    }
    let mut resumed =
        LiveClient::connect_as(&second.address, &author, &format!("?since={since}")).await;

    resumed.ready().await;
    let mut missed = Vec::new();
    for _ in 0..3 {
        missed.push(resumed.next_json().await["comment"]["body"].clone());
    }
    assert_eq!(missed, [json!("one"), json!("two"), json!("three")]);
    comment(&first, &reader, &slug, "four").await;
    assert_eq!(
        resumed.next_json().await["comment"]["body"],
        "four",
        "nothing more was replayed, and the socket is live"
    );
}

/// Two instances on one PostgreSQL database; the second's live-events listener connects through
/// a link that is held from before it starts, and its fan-out polls every `poll`. The link, to
/// release.
async fn behind_a_held_link(poll: &str) -> (TestApp, TestApp, HeldLink) {
    let key = ("JWT_SECRET", "one key for every replica, 32 bytes or more");
    let first = TestApp::on_postgres_with(&[key]).await;
    let database = reqwest::Url::parse(first.database_url()).expect("a database URL");
    let link = HeldLink::to(format!(
        "{}:{}",
        database.host_str().expect("a host"),
        database.port().expect("a port")
    ))
    .await;
    let mut through_link = database.clone();
    through_link
        .set_host(Some(&link.address.ip().to_string()))
        .expect("the link's host");
    through_link
        .set_port(Some(link.address.port()))
        .expect("the link's port");
    link.hold();
    let second = first
        .restart_with(&[
            key,
            ("LIVE_DATABASE_URL", through_link.as_str()),
            ("LIVE_POLL", poll),
        ])
        .await;
    (first, second, link)
}

/// A client resumes on an instance whose fan-out lags: its `since` is past every event that
/// instance has handed out. The lag is made, not waited for: the instance's live-events listener
/// goes through a link the test holds from before the instance starts, so that its fan-out, which
/// reads the outbox only when the listener wakes it, has read nothing until the link is
/// released. The client gets neither an event at or before `since` nor a gap after it.
#[tokio::test]
async fn a_resume_on_an_instance_whose_fan_out_lags_repeats_nothing_and_skips_nothing() {
    // And no poll of its own meanwhile: it reads the outbox when the listener wakes it.
    let (first, lagging, link) = behind_a_held_link("1h").await;
    let (author, _) = first.register("author").await;
    let (reader, _) = first.register("reader").await;
    let slug = publish(&first, &author, "Lagging").await;
    let mut on_first = LiveClient::connect_as(&first.address, &author, "").await;
    on_first.ready().await;
    let mut ids = Vec::new();
    for body in ["one", "two", "three", "four", "five"] {
        comment(&first, &reader, &slug, body).await;
        let frame = on_first.next_json().await;
        assert_eq!(frame["comment"]["body"], body, "{frame}");
        ids.push(frame["id"].as_str().expect("an id").to_owned());
    }
    let since = &ids[2];
    let mut resumed =
        LiveClient::connect_as(&lagging.address, &author, &format!("?since={since}")).await;

    let ready = resumed.ready().await;
    link.release();
    comment(&first, &reader, &slug, "six").await;

    assert_eq!(
        &ready, since,
        "the instance had handed out none of the five: it lags"
    );
    let mut heard = Vec::new();
    for _ in 0..3 {
        let frame = resumed.next_json().await;
        heard.push((frame["id"].clone(), frame["comment"]["body"].clone()));
    }
    assert_eq!(
        heard,
        [
            (json!(ids[3]), json!("four")),
            (json!(ids[4]), json!("five")),
            (heard[2].0.clone(), json!("six")),
        ],
        "after {since}: each later event once, in order, and none before it"
    );
}

#[tokio::test]
async fn a_logout_through_one_instance_closes_the_socket_on_the_other() {
    let (first, second) = two_instances().await;
    let (token, _) = first.register("leaver").await;
    let mut socket = LiveClient::connect_as(&second.address, &token, "").await;
    socket.ready().await;

    let (status, _) = first
        .send(Method::POST, "/api/users/logout", Some(&token), None)
        .await;

    assert_eq!(status, 204);
    assert_eq!(socket.close_code().await, (4401, 0));
}

#[tokio::test]
async fn a_socket_closes_with_4401_when_its_token_expires() {
    let app = TestApp::on_sqlite_with(&[("ACCESS_TOKEN_TTL", "1s")]).await;
    let (token, _) = app.register("brief").await;
    // Verification allows 30 s of leeway: move to within two seconds of its end.
    app.clock.advance(time::Duration::seconds(30));
    let mut socket = LiveClient::connect_as(&app.address, &token, "").await;
    socket.ready().await;

    assert_eq!(socket.close_code().await, (4401, 0));
}

#[tokio::test]
async fn shutdown_closes_every_socket_with_1001_and_the_server_stops() {
    let app = TestApp::on_sqlite_with(&[("SHUTDOWN_DRAIN", "1s")]).await;
    let (token, _) = app.register("stayer").await;
    let mut socket = LiveClient::connect_as(&app.address, &token, "").await;
    socket.ready().await;

    app.shutdown.request();

    assert_eq!(socket.close_code().await, (1001, 0));
    assert!(app.stopped().await.is_ok(), "the server stopped cleanly");
}

/// A browser's first message (it cannot set headers) gets `ready`, with the id to resume from.
#[tokio::test]
async fn a_browser_authenticates_with_its_first_message() {
    let app = TestApp::on_sqlite().await;
    let (token, _) = app.register("browser").await;
    let origin = app.address.clone();
    let mut socket = LiveClient::connect(&app.address, "", &[("origin", &origin)]).await;

    socket
        .send_text(json!({"type": "auth", "token": token}).to_string())
        .await;

    socket.ready().await;
}

/// A client that reads nothing, with what the server sent it stuck in the kernel's buffers,
/// cannot hold the process once the requests in flight have finished: the server stops within
/// its drain and a second, though the grace and the write timeout are a minute each.
#[tokio::test]
async fn a_client_that_never_reads_cannot_hold_the_shutdown() {
    use conduit_test_support::hostile::RawSocket;

    let app = TestApp::on_sqlite_with(&[
        ("SHUTDOWN_DRAIN", "1s"),
        ("SHUTDOWN_GRACE", "60s"),
        ("WRITE_TIMEOUT", "60s"),
    ])
    .await;
    let (author, author_name) = app.register("prolific").await;
    let (reader, _) = app.register("stuck").await;
    follow(&app, &reader, &author_name).await;
    let mut probe = LiveClient::connect_as(&app.address, &reader, "").await;
    let since = probe.ready().await;
    drop(probe);
    for number in 0..200 {
        let (status, body) = app
            .send(
                Method::POST,
                "/api/articles",
                Some(&author),
                Some(json!({"article": {
                    "title": format!("Unread {number}"),
                    "description": "Sent to a client that never reads it.",
                    "body": "b",
                    "tagList": ["unread"],
                }})),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }
    let address = app
        .address
        .trim_start_matches("http://")
        .parse()
        .expect("a socket address");
    let authorization = format!("Token {reader}");
    // It resumes from before the 200 articles, and reads none of them.
    let _socket = RawSocket::upgrade_from(
        None,
        address,
        &format!("?since={since}"),
        &[("authorization", &authorization)],
        Some(4096),
    )
    .await
    .expect("upgraded");

    app.shutdown.request();

    let stopped = tokio::time::timeout(conduit_test_support::live::PATIENCE, app.stopped()).await;
    assert!(
        stopped.is_ok_and(|outcome| outcome.is_ok()),
        "the server did not stop while the client held it"
    );
}

/// A listener that stalls (here held for good, as a firewall that drops an idle connection's
/// packets would) delays delivery on its instance by `LIVE_POLL` at most: the fan-out reads the
/// outbox by itself too.
#[tokio::test]
async fn an_instance_whose_listener_stalls_still_delivers_by_polling() {
    let (first, stalled, _link) = behind_a_held_link("1s").await;
    let (author, _) = first.register("author").await;
    let (reader, _) = first.register("reader").await;
    let slug = publish(&first, &author, "Polled").await;
    let mut socket = LiveClient::connect_as(&stalled.address, &author, "").await;
    socket.ready().await;

    comment(&first, &reader, &slug, "heard anyway").await;

    let frame = socket.next_json().await;
    assert_eq!(frame["comment"]["body"], "heard anyway", "{frame}");
}
