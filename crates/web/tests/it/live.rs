//! `GET /api/live` in-process: a real actix server on a loopback port over the fakes, with its
//! live fan-out, and tokio-tungstenite as the client. Every wait is for something to happen
//! (a frame, a close, a count of sockets), bounded by [`PATIENCE`] so that a failure fails
//! instead of hanging.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use actix_web::HttpServer;
use actix_web::test::TestRequest;
use conduit_domain::accounts::UserId;
use conduit_domain::articles::{ArticleId, CommentBody, NewComment};
use conduit_domain::ports::CommentRepository;
use conduit_test_support::InMemoryStore;
use conduit_web::{AppState, HttpSettings, LiveSettings};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::support::{Ports, authed, published, registered, send};

/// Bounds every wait: a frame or a close takes milliseconds.
const PATIENCE: Duration = Duration::from_secs(20);

type Client = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The app over one in-memory store, served on a loopback port with its fan-out running.
struct Served {
    address: SocketAddr,
    state: AppState,
    store: Arc<InMemoryStore>,
}

async fn serve(live: LiveSettings, http: HttpSettings) -> Served {
    let store = Arc::new(InMemoryStore::new());
    let ports = Ports {
        repository: store.clone(),
        profiles: store.clone(),
        articles: store.clone(),
        comments: store.clone(),
        sessions: store.clone(),
        events: store.clone(),
        live,
        ..Ports::default()
    };
    let state = ports.state();
    actix_web::rt::spawn(
        state
            .hub
            .clone()
            .run(state.live.clone(), store.event_signal()),
    );
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let address = listener.local_addr().expect("bound");
    let app_state = state.clone();
    let server = HttpServer::new(move || conduit_web::app(app_state.clone(), http.clone()))
        .workers(1)
        .disable_signals()
        .listen(listener)
        .expect("listens")
        .run();
    actix_web::rt::spawn(server);
    Served {
        address,
        state,
        store,
    }
}

async fn served() -> Served {
    serve(LiveSettings::default(), HttpSettings::default()).await
}

/// The upgrade request, with these headers.
fn upgrade(
    served: &Served,
    query: &str,
    headers: &[(&str, &str)],
) -> tokio_tungstenite::tungstenite::handshake::client::Request {
    let mut request = format!("ws://{}/api/live{query}", served.address)
        .into_client_request()
        .expect("a valid request");
    for (name, value) in headers {
        request.headers_mut().insert(
            tokio_tungstenite::tungstenite::http::HeaderName::from_bytes(name.as_bytes())
                .expect("a header name"),
            value.parse().expect("a header value"),
        );
    }
    request
}

async fn connect(served: &Served, query: &str, headers: &[(&str, &str)]) -> Client {
    let (client, _) = tokio_tungstenite::connect_async(upgrade(served, query, headers))
        .await
        .expect("upgrades");
    client
}

/// A socket authenticated by its header.
async fn connect_as(served: &Served, token: &str) -> Client {
    let authorization = format!("Token {token}");
    connect(served, "", &[("authorization", &authorization)]).await
}

/// The status and body of an upgrade the server refused.
async fn refused(served: &Served, query: &str, headers: &[(&str, &str)]) -> (u16, Value) {
    match tokio_tungstenite::connect_async(upgrade(served, query, headers)).await {
        Err(WsError::Http(response)) => {
            let body = response.body().clone().unwrap_or_default();
            (
                response.status().as_u16(),
                serde_json::from_slice(&body).expect("a JSON body"),
            )
        }
        Ok(_) => panic!("upgraded"),
        Err(other) => panic!("failed otherwise: {other}"),
    }
}

/// The next text frame, as JSON; pings and pongs are skipped.
async fn next_json(client: &mut Client) -> Value {
    loop {
        let message = tokio::time::timeout(PATIENCE, client.next())
            .await
            .expect("a frame in time")
            .expect("the socket is open")
            .expect("a frame");
        match message {
            Message::Text(text) => return serde_json::from_str(&text).expect("JSON"),
            Message::Ping(_) | Message::Pong(_) => {}
            other => panic!("expected a text frame, got {other:?}"),
        }
    }
}

/// Reads until the server's close frame; its code. Text frames before it are counted.
async fn close_code(client: &mut Client) -> (u16, usize) {
    let mut texts = 0;
    loop {
        let message = tokio::time::timeout(PATIENCE, client.next())
            .await
            .expect("a frame in time")
            .expect("the socket is open");
        match message {
            Ok(Message::Close(Some(CloseFrame { code, .. }))) => return (u16::from(code), texts),
            Ok(Message::Close(None)) => panic!("closed without a code"),
            Ok(Message::Text(_)) => texts += 1,
            Ok(_) => {}
            Err(error) => panic!("failed before a close frame: {error}"),
        }
    }
}

async fn ready(client: &mut Client) -> String {
    let frame = next_json(client).await;
    assert_eq!(frame["type"], "ready", "{frame}");
    frame["lastEventId"]
        .as_str()
        .expect("an id as a string")
        .to_owned()
}

/// The user id behind a fake token (`fake-token-<user>.<session>`).
fn user_of(token: &str) -> UserId {
    let id = token
        .strip_prefix("fake-token-")
        .and_then(|rest| rest.split_once('.'))
        .and_then(|(user, _)| user.parse().ok())
        .expect("a fake token");
    UserId(id)
}

async fn follow(state: &AppState, token: &str, username: &str) {
    let reply = send(
        state,
        authed(
            TestRequest::post().uri(&format!("/api/profiles/{username}/follow")),
            token,
        ),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
}

#[actix_web::test]
async fn a_valid_token_in_the_header_upgrades_and_the_server_says_ready() {
    let served = served().await;
    let token = registered(&served.state, "jake").await;

    let mut client = connect_as(&served, &token).await;

    assert_eq!(ready(&mut client).await, "0");
    assert_eq!(served.state.hub.connections(), 1);
}

#[actix_web::test]
async fn an_invalid_or_malformed_header_token_is_401_in_the_envelope_and_never_upgraded() {
    let served = served().await;

    for authorization in ["Token forged", "Basic abc"] {
        let (status, body) = refused(&served, "", &[("authorization", authorization)]).await;

        assert_eq!(status, 401, "{authorization}");
        assert_eq!(body, json!({"errors": {"token": ["is invalid"]}}));
    }
    assert_eq!(served.state.hub.connections(), 0);
}

#[actix_web::test]
async fn a_token_in_the_url_or_a_bad_since_is_refused_before_the_upgrade() {
    let served = served().await;

    let (status, body) = refused(&served, "?token=abc", &[]).await;
    assert_eq!(status, 422);
    assert!(body["errors"]["token"][0].as_str().is_some(), "{body}");

    let (status, body) = refused(&served, "?since=-1", &[]).await;
    assert_eq!(status, 422);
    assert_eq!(body, json!({"errors": {"since": ["is not an event id"]}}));
}

#[actix_web::test]
async fn a_foreign_origin_is_403_and_the_servers_own_or_none_is_allowed() {
    let served = served().await;
    let own = format!("http://{}", served.address);

    let (status, body) = refused(&served, "", &[("origin", "https://evil.example")]).await;
    assert_eq!(
        (status, body),
        (403, json!({"errors": {"origin": ["forbidden"]}}))
    );

    // Allowed origins then wait for the auth message: they were upgraded.
    connect(&served, "", &[("origin", &own)]).await;
    connect(&served, "", &[]).await;
}

#[actix_web::test]
async fn configured_origins_are_the_only_foreign_ones_allowed() {
    let http = HttpSettings {
        cors_allowed_origins: vec!["https://app.example".to_owned()],
        ..HttpSettings::default()
    };
    let served = serve(LiveSettings::default(), http).await;

    connect(&served, "", &[("origin", "https://app.example")]).await;
    let (status, _) = refused(&served, "", &[("origin", "https://evil.example")]).await;
    assert_eq!(status, 403);
}

#[actix_web::test]
async fn without_a_header_the_first_message_authenticates() {
    let served = served().await;
    let token = registered(&served.state, "jake").await;
    let mut client = connect(&served, "", &[]).await;

    client
        .send(Message::text(
            json!({"type": "auth", "token": token}).to_string(),
        ))
        .await
        .expect("sends");

    assert_eq!(ready(&mut client).await, "0");
}

#[actix_web::test]
async fn a_bad_first_message_closes_with_4401() {
    let served = served().await;

    for first in [
        json!({"type": "auth", "token": "forged"}).to_string(),
        json!({"type": "subscribe"}).to_string(),
        "not json".to_owned(),
    ] {
        let mut client = connect(&served, "", &[]).await;
        client
            .send(Message::text(first.clone()))
            .await
            .expect("sends");

        assert_eq!(close_code(&mut client).await, (4401, 0), "{first}");
    }
}

#[actix_web::test]
async fn no_auth_in_time_closes_with_4408() {
    let live = LiveSettings {
        auth_timeout: Duration::from_millis(200),
        ..LiveSettings::default()
    };
    let served = serve(live, HttpSettings::default()).await;
    let mut client = connect(&served, "", &[]).await;

    assert_eq!(close_code(&mut client).await, (4408, 0));
}

#[actix_web::test]
async fn a_frame_over_64_kib_closes_with_1009() {
    let served = served().await;
    let token = registered(&served.state, "jake").await;
    let mut client = connect_as(&served, &token).await;
    ready(&mut client).await;

    client
        .send(Message::text("x".repeat(LiveSettings::MAX_FRAME + 1)))
        .await
        .expect("sends");

    assert_eq!(close_code(&mut client).await, (1009, 0));
}

#[actix_web::test]
async fn a_ping_is_answered_with_its_pong() {
    let served = served().await;
    let token = registered(&served.state, "jake").await;
    let mut client = connect_as(&served, &token).await;
    ready(&mut client).await;

    client
        .send(Message::Ping(b"are you there".to_vec().into()))
        .await
        .expect("sends");

    let answer = tokio::time::timeout(PATIENCE, client.next())
        .await
        .expect("in time")
        .expect("open")
        .expect("a frame");
    assert_eq!(answer, Message::Pong(b"are you there".to_vec().into()));
}

#[actix_web::test]
async fn the_server_pings_and_closes_a_peer_that_misses_two_pongs() {
    let live = LiveSettings {
        ping_interval: Duration::from_millis(100),
        ..LiveSettings::default()
    };
    let served = serve(live, HttpSettings::default()).await;
    let token = registered(&served.state, "jake").await;
    let mut client = connect_as(&served, &token).await;
    ready(&mut client).await;

    // Not reading, the client answers no ping: the server gives up on it.
    tokio::time::timeout(PATIENCE, served.state.hub.wait_for_connections(0))
        .await
        .expect("the server let go of the socket");

    let mut pings = 0;
    let code = loop {
        match client.next().await.expect("open").expect("a frame") {
            Message::Ping(_) => pings += 1,
            Message::Close(Some(frame)) => break u16::from(frame.code),
            other => panic!("unexpected {other:?}"),
        }
    };
    assert_eq!((pings, code), (2, 4000));
}

#[actix_web::test]
async fn a_peer_that_answers_pings_stays() {
    let live = LiveSettings {
        ping_interval: Duration::from_millis(50),
        ..LiveSettings::default()
    };
    let served = serve(live, HttpSettings::default()).await;
    let token = registered(&served.state, "jake").await;
    let mut client = connect_as(&served, &token).await;
    ready(&mut client).await;

    // Reading answers each ping (tungstenite queues the pong); ten pings outlive two missed.
    let mut pings = 0;
    while pings < 10 {
        match tokio::time::timeout(PATIENCE, client.next())
            .await
            .expect("a ping in time")
            .expect("open")
            .expect("a frame")
        {
            Message::Ping(_) => pings += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(served.state.hub.connections(), 1);
}

/// A client whose kernel buffers are small, so that a server's frames back up quickly.
async fn connect_slowly(served: &Served, token: &str) -> Client {
    let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
    socket.set_recv_buffer_size(4096).expect("a small buffer");
    let stream = socket.connect(served.address).await.expect("connects");
    let authorization = format!("Token {token}");
    let (client, _) = tokio_tungstenite::client_async(
        upgrade(served, "", &[("authorization", &authorization)]),
        MaybeTlsStream::Plain(stream),
    )
    .await
    .expect("upgrades");
    client
}

#[actix_web::test]
async fn a_slow_consumer_whose_queue_fills_is_closed_with_1008() {
    let live = LiveSettings {
        queue: 8,
        ..LiveSettings::default()
    };
    let served = serve(live, HttpSettings::default()).await;
    let author = registered(&served.state, "jake").await;
    let reader = registered(&served.state, "jane").await;
    let slug = published(&served.state, &author, "Busy", &[]).await;
    let article = served
        .state
        .articles
        .get(&slug, None)
        .await
        .expect("the article")
        .summary
        .id;
    let mut client = connect_slowly(&served, &author).await;
    ready(&mut client).await;

    // The author reads nothing while comments pour in: the frames back up to the queue.
    let comments = add_comments(&served.store, article, user_of(&reader), 3000).await;
    tokio::time::timeout(PATIENCE, served.state.hub.wait_for_connections(0))
        .await
        .expect("the server let go of the slow socket");

    let (code, delivered) = close_code(&mut client).await;
    assert_eq!(code, 1008);
    assert!(delivered < comments, "{delivered} of {comments} delivered");
}

async fn add_comments(
    store: &InMemoryStore,
    article: ArticleId,
    by: UserId,
    count: usize,
) -> usize {
    for _ in 0..count {
        store
            .insert(NewComment {
                article,
                author: by,
                body: CommentBody::parse(&"A long comment. ".repeat(40)).expect("valid"),
                created_at: conduit_domain::Timestamp::from_offset(time::OffsetDateTime::now_utc()),
            })
            .await
            .expect("comments");
        // Let the fan-out run between writes, as it would between requests.
        tokio::task::yield_now().await;
    }
    count
}

#[actix_web::test]
async fn followers_get_new_articles_and_authors_get_comments_and_favourites() {
    let served = served().await;
    let author = registered(&served.state, "jake").await;
    let reader = registered(&served.state, "jane").await;
    follow(&served.state, &reader, "jake").await;
    let mut authors = connect_as(&served, &author).await;
    let mut readers = connect_as(&served, &reader).await;
    ready(&mut authors).await;
    ready(&mut readers).await;

    let slug = published(&served.state, &author, "Live news", &["rust"]).await;
    let created = next_json(&mut readers).await;
    assert_eq!(created["type"], "article.created");
    assert_eq!(created["article"]["slug"], slug.as_str());
    assert_eq!(created["article"]["tagList"], json!(["rust"]));
    assert_eq!(created["article"]["author"]["following"], true);
    assert!(created["article"].get("body").is_none(), "as in lists");
    assert!(
        created["id"].is_string() && created["at"].is_string(),
        "{created}"
    );

    let commented = send(
        &served.state,
        authed(
            TestRequest::post().uri(&format!("/api/articles/{slug}/comments")),
            &reader,
        )
        .set_json(json!({"comment": {"body": "Nice"}})),
    )
    .await;
    assert_eq!(commented.status, 201);
    let comment = next_json(&mut authors).await;
    assert_eq!(comment["type"], "comment.created");
    assert_eq!(comment["slug"], slug.as_str());
    assert_eq!(comment["comment"]["body"], "Nice");
    assert_eq!(comment["comment"]["author"]["username"], "jane");

    let favourited = send(
        &served.state,
        authed(
            TestRequest::post().uri(&format!("/api/articles/{slug}/favorite")),
            &reader,
        ),
    )
    .await;
    assert_eq!(favourited.status, 200);
    let favourite = next_json(&mut authors).await;
    assert_eq!(favourite["type"], "article.favorited");
    assert_eq!(favourite["favoritesCount"], 1);
    assert_eq!(favourite["profile"]["username"], "jane");

    // Ids grow; the author was told nothing of his own article.
    let ids: Vec<i64> = [&created, &comment, &favourite]
        .iter()
        .map(|frame| {
            frame["id"]
                .as_str()
                .and_then(|id| id.parse().ok())
                .expect("an id")
        })
        .collect();
    assert!(ids.windows(2).all(|pair| pair[0] < pair[1]), "{ids:?}");
}

#[actix_web::test]
async fn a_client_that_resumes_gets_exactly_what_it_missed_then_goes_live() {
    let served = served().await;
    let author = registered(&served.state, "jake").await;
    let reader = registered(&served.state, "jane").await;
    let slug = published(&served.state, &author, "Resumable", &[]).await;
    let mut first = connect_as(&served, &author).await;
    let since = ready(&mut first).await;
    drop(first);

    for body in ["one", "two", "three"] {
        let reply = send(
            &served.state,
            authed(
                TestRequest::post().uri(&format!("/api/articles/{slug}/comments")),
                &reader,
            )
            .set_json(json!({"comment": {"body": body}})),
        )
        .await;
        assert_eq!(reply.status, 201);
    }
    let mut resumed = connect(
        &served,
        &format!("?since={since}"),
        &[("authorization", &format!("Token {author}"))],
    )
    .await;

    ready(&mut resumed).await;
    let mut missed = Vec::new();
    for _ in 0..3 {
        missed.push(next_json(&mut resumed).await["comment"]["body"].clone());
    }
    assert_eq!(missed, [json!("one"), json!("two"), json!("three")]);
    // And then live: the next comment arrives once.
    let reply = send(
        &served.state,
        authed(
            TestRequest::post().uri(&format!("/api/articles/{slug}/comments")),
            &reader,
        )
        .set_json(json!({"comment": {"body": "four"}})),
    )
    .await;
    assert_eq!(reply.status, 201);
    assert_eq!(next_json(&mut resumed).await["comment"]["body"], "four");
}

#[actix_web::test]
async fn a_since_the_server_never_gave_is_a_reset() {
    let served = served().await;
    let token = registered(&served.state, "jake").await;
    let mut client = connect_as(&served, &token).await;
    ready(&mut client).await;
    client.send(Message::Close(None)).await.expect("closes");

    let mut client = connect(
        &served,
        "?since=999",
        &[("authorization", &format!("Token {token}"))],
    )
    .await;

    ready(&mut client).await;
    assert_eq!(next_json(&mut client).await, json!({"type": "reset"}));
}

#[actix_web::test]
async fn logging_out_closes_the_sessions_sockets_with_4401() {
    let served = served().await;
    let token = registered(&served.state, "jake").await;
    let mut client = connect_as(&served, &token).await;
    ready(&mut client).await;

    let reply = send(
        &served.state,
        authed(TestRequest::post().uri("/api/users/logout"), &token),
    )
    .await;
    assert_eq!(reply.status, 204);

    assert_eq!(close_code(&mut client).await, (4401, 0));
}

#[actix_web::test]
async fn one_socket_more_than_a_user_may_hold_is_refused() {
    let live = LiveSettings {
        max_connections_per_user: 1,
        ..LiveSettings::default()
    };
    let served = serve(live, HttpSettings::default()).await;
    let token = registered(&served.state, "jake").await;
    let mut held = connect_as(&served, &token).await;
    ready(&mut held).await;

    let (status, body) =
        refused(&served, "", &[("authorization", &format!("Token {token}"))]).await;
    assert_eq!(status, 429);
    assert!(body["errors"]["connections"][0].is_string(), "{body}");

    let mut by_message = connect(&served, "", &[]).await;
    by_message
        .send(Message::text(
            json!({"type": "auth", "token": token}).to_string(),
        ))
        .await
        .expect("sends");
    assert_eq!(close_code(&mut by_message).await, (4429, 0));
}

#[actix_web::test]
async fn shutting_down_closes_every_socket_with_1001_and_refuses_new_ones() {
    let served = served().await;
    let token = registered(&served.state, "jake").await;
    let mut authenticated = connect_as(&served, &token).await;
    ready(&mut authenticated).await;
    let mut authenticating = connect(&served, "", &[]).await;

    served.state.hub.shut_down();

    assert_eq!(close_code(&mut authenticated).await, (1001, 0));
    assert_eq!(close_code(&mut authenticating).await, (1001, 0));
    let (status, _) = refused(&served, "", &[("authorization", &format!("Token {token}"))]).await;
    assert_eq!(status, 503);
}

#[actix_web::test]
async fn a_plain_get_is_400_in_the_envelope() {
    let served = served().await;

    let reply = send(&served.state, TestRequest::get().uri("/api/live")).await;

    assert_eq!(reply.status, 400);
    assert!(
        reply.body["errors"]["upgrade"][0].is_string(),
        "{}",
        reply.body
    );
}
