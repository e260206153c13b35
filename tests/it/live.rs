//! Live updates end to end: real servers over real sockets, on SQLite (one instance, an
//! in-process broadcast) and on two instances sharing one PostgreSQL (NOTIFY between them).

use std::time::Instant;

use conduit_e2e::held_link::HeldLink;
use conduit_e2e::{Conduit, TestApp, TestUser};
use conduit_test_support::live::LiveClient;
use serde_json::json;

/// Two instances on one PostgreSQL database, with one signing key, as replicas run.
async fn two_instances() -> (TestApp, TestApp) {
    let shared = [("JWT_SECRET", "one key for every replica, 32 bytes or more")];
    let first = TestApp::on_postgres_with(&shared).await;
    let second = first.restart_with(&shared).await;
    (first, second)
}

/// A follower on `reader_side` is told of an article published through `writer_side`.
async fn a_follower_hears_of_a_new_article(writer_side: &TestApp, reader_side: &TestApp) {
    let author = writer_side.register("author").await;
    let reader = writer_side.register("reader").await;
    reader.follow(&author.username).await;
    let mut socket = reader.through(reader_side).live("").await;
    socket.ready().await;

    let published = Instant::now();
    let slug = author.publish("Heard everywhere", &[]).await;
    let frame = socket.next_json().await;
    let delivered = published.elapsed();

    assert_eq!(frame["type"], "article.created", "{frame}");
    assert_eq!(frame["article"]["slug"], slug.as_str());
    assert_eq!(frame["article"]["author"]["username"], author.username);
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
    let author = first.register("author").await;
    let reader = first.register("reader").await;
    let slug = author.publish("Resumed", &[]).await;
    let mut socket = author.through(&second).live("").await;
    let since = socket.ready().await;
    reader.comment(&slug, "seen live").await;
    let seen = socket.next_json().await;
    let since = seen["id"].as_str().map_or(since, str::to_owned);
    drop(socket);

    for body in ["one", "two", "three"] {
        reader.comment(&slug, body).await;
    }
    let mut resumed = author
        .through(&second)
        .live(&format!("?since={since}"))
        .await;

    resumed.ready().await;
    let missed = resumed.next_comment_bodies(3).await;
    assert_eq!(missed, ["one", "two", "three"]);
    reader.comment(&slug, "four").await;
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
    let (link, through_link) = HeldLink::to_database(first.database_url()).await;
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
    let author = first.register("author").await;
    let reader = first.register("reader").await;
    let slug = author.publish("Lagging", &[]).await;
    let mut on_first = author.live("").await;
    on_first.ready().await;
    let mut ids = Vec::new();
    for body in ["one", "two", "three", "four", "five"] {
        reader.comment(&slug, body).await;
        let frame = on_first.next_json().await;
        assert_eq!(frame["comment"]["body"], body, "{frame}");
        ids.push(frame["id"].as_str().expect("an id").to_owned());
    }
    let since = &ids[2];
    let mut resumed = author
        .through(&lagging)
        .live(&format!("?since={since}"))
        .await;

    let ready = resumed.ready().await;
    link.release();
    reader.comment(&slug, "six").await;

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
    let leaver = first.register("leaver").await;
    let mut socket = leaver.through(&second).live("").await;
    socket.ready().await;

    leaver.logout().await;

    assert_eq!(socket.close_code().await, (4401, 0));
}

#[tokio::test]
async fn a_socket_closes_with_4401_when_its_token_expires() {
    let app = TestApp::on_sqlite_with(&[("ACCESS_TOKEN_TTL", "1s")]).await;
    let brief = app.register("brief").await;
    // Verification allows 30 s of leeway: move to within two seconds of its end.
    app.clock.advance(time::Duration::seconds(30));
    let mut socket = brief.live("").await;
    socket.ready().await;

    assert_eq!(socket.close_code().await, (4401, 0));
}

#[tokio::test]
async fn shutdown_closes_every_socket_with_1001_and_the_server_stops() {
    let app = TestApp::on_sqlite_with(&[("SHUTDOWN_DRAIN", "1s")]).await;
    let mut socket = app.register("stayer").await.live("").await;
    socket.ready().await;

    app.shutdown.request();

    assert_eq!(socket.close_code().await, (1001, 0));
    assert!(app.stopped().await.is_ok(), "the server stopped cleanly");
}

/// A browser's first message (it cannot set headers) gets `ready`, with the id to resume from.
#[tokio::test]
async fn a_browser_authenticates_with_its_first_message() {
    let app = TestApp::on_sqlite().await;
    let TestUser { token, .. } = app.register("browser").await;
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
    let author = app.register("prolific").await;
    let reader = app.register("stuck").await;
    reader.follow(&author.username).await;
    let mut probe = reader.live("").await;
    let since = probe.ready().await;
    drop(probe);
    for number in 0..200 {
        author
            .publish(&format!("Unread {number}"), &["unread"])
            .await;
    }
    let address = app
        .address
        .trim_start_matches("http://")
        .parse()
        .expect("a socket address");
    // It resumes from before the 200 articles, and reads none of them.
    let _socket = RawSocket::non_reader(address, &reader.token, &since)
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
    let author = first.register("author").await;
    let reader = first.register("reader").await;
    let slug = author.publish("Polled", &[]).await;
    let mut socket = author.through(&stalled).live("").await;
    socket.ready().await;

    reader.comment(&slug, "heard anyway").await;

    let frame = socket.next_json().await;
    assert_eq!(frame["comment"]["body"], "heard anyway", "{frame}");
}
