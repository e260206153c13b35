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
use conduit_test_support::live::{LiveClient, Message, PATIENCE, upgrade_request};
use conduit_web::{Connections, HttpSettings, LiveSettings};
use serde_json::{Value, json};

use crate::support::{App, Call, Conduit, Ports, Reply, authed, send};

/// The app over one in-memory store, served on a loopback port with its fan-out running, as the
/// server serves it (`conduit_web::on_connect` included).
pub(crate) struct Served {
    pub(crate) address: SocketAddr,
    /// `http://` and the address.
    url: String,
    pub(crate) state: App,
    pub(crate) store: Arc<InMemoryStore>,
    /// The TCP connections the server holds.
    pub(crate) connections: Connections,
}

impl Served {
    pub(crate) fn url(&self) -> String {
        self.url.clone()
    }
}

/// Requests go to the app in-process; live sockets to its port.
impl Conduit for Served {
    fn address(&self) -> Option<&str> {
        Some(&self.url)
    }

    async fn try_call(&self, call: Call) -> Result<Reply, String> {
        self.state.try_call(call).await
    }
}

pub(crate) async fn serve(live: LiveSettings, http: HttpSettings) -> Served {
    let write_timeout = live.write_timeout;
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
    let connections = Connections::default();
    let server = HttpServer::new(move || conduit_web::app(app_state.state.clone(), http.clone()))
        .on_connect(conduit_web::on_connect(write_timeout, connections.clone()))
        .workers(1)
        .disable_signals()
        .listen(listener)
        .expect("listens")
        .run();
    actix_web::rt::spawn(server);
    Served {
        address,
        url: format!("http://{address}"),
        state,
        store,
        connections,
    }
}

async fn served() -> Served {
    serve(LiveSettings::default(), HttpSettings::default()).await
}

async fn connect(served: &Served, query: &str, headers: &[(&str, &str)]) -> LiveClient {
    LiveClient::connect(&served.url(), query, headers).await
}

/// A socket authenticated by its header.
async fn connect_as(served: &Served, token: &str) -> LiveClient {
    LiveClient::connect_as(&served.url(), token, "").await
}

/// The status and body of an upgrade the server refused.
async fn refused(served: &Served, query: &str, headers: &[(&str, &str)]) -> (u16, Value) {
    match LiveClient::try_connect(upgrade_request(&served.url(), query, headers)).await {
        Err(refused) => (refused.status, refused.body),
        Ok(_) => panic!("upgraded"),
    }
}

/// The user id behind a fake token (`fake-token-<user>.<session>`).
pub(crate) fn user_of(token: &str) -> UserId {
    let id = token
        .strip_prefix("fake-token-")
        .and_then(|rest| rest.split_once('.'))
        .and_then(|(user, _)| user.parse().ok())
        .expect("a fake token");
    UserId(id)
}

#[actix_web::test]
async fn a_valid_token_in_the_header_upgrades_and_the_server_says_ready() {
    let served = served().await;
    let token = served.state.register("jake").await.token;

    let mut client = connect_as(&served, &token).await;

    assert_eq!(client.ready().await, "0");
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
    let token = served.state.register("jake").await.token;
    let mut client = connect(&served, "", &[]).await;

    client
        .send_text(json!({"type": "auth", "token": token}).to_string())
        .await;

    assert_eq!(client.ready().await, "0");
}

#[actix_web::test]
async fn a_forged_token_closes_with_4401_and_a_first_message_that_is_no_auth_with_1002() {
    let served = served().await;
    let token = served.state.register("jake").await.token;

    for (first, code) in [
        (json!({"type": "auth", "token": "forged"}).to_string(), 4401),
        (json!({"type": "subscribe"}).to_string(), 1002),
        ("not json".to_owned(), 1002),
        (
            json!({"type": "auth", "token": token, "since": 11400}).to_string(),
            1002,
        ),
        (
            json!({"type": "auth", "token": token, "extra": true}).to_string(),
            1002,
        ),
        (
            json!({"type": "auth", "token": token, "since": "abc"}).to_string(),
            1002,
        ),
    ] {
        let mut client = connect(&served, "", &[]).await;
        client.send_text(first.clone()).await;

        assert_eq!(client.close_code().await, (code, 0), "{first}");
    }
    let mut binary = connect(&served, "", &[]).await;
    let auth = json!({"type": "auth", "token": token}).to_string();
    binary.send(Message::binary(auth.into_bytes())).await;
    assert_eq!(
        binary.close_code().await,
        (1002, 0),
        "a binary auth message"
    );
}

#[actix_web::test]
async fn no_auth_in_time_closes_with_4408() {
    let live = LiveSettings {
        auth_timeout: Duration::from_millis(200),
        ..LiveSettings::default()
    };
    let served = serve(live, HttpSettings::default()).await;
    let mut client = connect(&served, "", &[]).await;

    assert_eq!(client.close_code().await, (4408, 0));
}

#[actix_web::test]
async fn a_frame_over_the_limit_closes_with_1009() {
    let served = served().await;
    let token = served.state.register("jake").await.token;
    let mut client = connect_as(&served, &token).await;
    client.ready().await;

    client
        .send_text("x".repeat(LiveSettings::MAX_FRAME + 1))
        .await;

    assert_eq!(client.close_code().await, (1009, 0));
}

#[actix_web::test]
async fn a_ping_is_answered_with_its_pong() {
    let served = served().await;
    let token = served.state.register("jake").await.token;
    let mut client = connect_as(&served, &token).await;
    client.ready().await;

    client
        .send(Message::Ping(b"are you there".to_vec().into()))
        .await;

    let answer = client.next_message(PATIENCE).await;
    assert_eq!(
        answer,
        Some(Message::Pong(b"are you there".to_vec().into()))
    );
}

#[actix_web::test]
async fn the_server_pings_and_closes_a_peer_that_misses_two_pongs() {
    let live = LiveSettings {
        ping_interval: Duration::from_millis(100),
        ..LiveSettings::default()
    };
    let served = serve(live, HttpSettings::default()).await;
    let token = served.state.register("jake").await.token;
    let mut client = connect_as(&served, &token).await;
    client.ready().await;

    // Not reading, the client answers no ping: the server gives up on it.
    tokio::time::timeout(PATIENCE, served.state.hub.wait_for_connections(0))
        .await
        .expect("the server let go of the socket");

    let mut pings = 0;
    let code = loop {
        match client.next_message(PATIENCE).await {
            Some(Message::Ping(_)) => pings += 1,
            Some(Message::Close(Some(frame))) => break u16::from(frame.code),
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
    let token = served.state.register("jake").await.token;
    let mut client = connect_as(&served, &token).await;
    client.ready().await;

    // Reading answers each ping (tungstenite queues the pong); ten pings outlive two missed.
    let mut pings = 0;
    while pings < 10 {
        match client.next_message(PATIENCE).await {
            Some(Message::Ping(_)) => pings += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(served.state.hub.connections(), 1);
}

/// A client whose kernel buffers are small, so that a server's frames back up quickly.
async fn connect_slowly(served: &Served, token: &str) -> LiveClient {
    let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
    socket.set_recv_buffer_size(4096).expect("a small buffer");
    let stream = socket.connect(served.address).await.expect("connects");
    let authorization = format!("Token {token}");
    let request = upgrade_request(&served.url(), "", &[("authorization", &authorization)]);
    LiveClient::connect_over(request, stream).await
}

/// A client that stops reading while its frames keep coming: once the kernel's buffers and
/// its queue are full it is closed with 1008, which it reads after the frames before it once it
/// reads again. How much the kernel buffers depends on the machine, so comments keep coming
/// until the hub closes the socket; the write timeout is long, so that only the queue can.
/// (A client that never reads again is let go too, connection and all: see `hostile.rs`.)
#[actix_web::test]
async fn a_slow_consumer_whose_queue_fills_is_closed_with_1008() {
    let live = LiveSettings {
        queue: 8,
        write_timeout: Duration::from_secs(120),
        ..LiveSettings::default()
    };
    let served = serve(live, HttpSettings::default()).await;
    let (author, reader, article) = busy_article(&served).await;
    let mut client = connect_slowly(&served, &author).await;
    client.ready().await;

    // The author reads nothing while comments pour in: the frames back up to the queue.
    let mut comments = 0;
    tokio::time::timeout(PATIENCE, async {
        while served.state.hub.counters().closed("slow_consumer") == 0 {
            comments += add_comments(&served.store, article, user_of(&reader), 100).await;
        }
    })
    .await
    .expect("the server closed the slow socket");

    let (code, delivered) = client.close_code().await;
    assert_eq!(code, 1008);
    assert!(delivered < comments, "{delivered} of {comments} delivered");
}

/// Jake's article, and Jane, who will comment on it: the tokens of both and the article's id.
pub(crate) async fn busy_article(served: &Served) -> (String, String, ArticleId) {
    let author = served.state.register("jake").await;
    let reader = served.state.register("jane").await;
    let slug = author.publish("Busy", &[]).await;
    let article = served
        .state
        .articles
        .get(&slug, None)
        .await
        .expect("the article")
        .summary
        .id;
    (author.token, reader.token, article)
}

pub(crate) async fn add_comments(
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
    let author = served.state.register("jake").await;
    let reader = served.state.register("jane").await;
    reader.follow("jake").await;
    let mut authors = connect_as(&served, &author.token).await;
    let mut readers = connect_as(&served, &reader.token).await;
    authors.ready().await;
    readers.ready().await;

    let slug = author.publish("Live news", &["rust"]).await;
    let created = readers.next_json().await;
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
            &reader.token,
        )
        .set_json(json!({"comment": {"body": "Nice"}})),
    )
    .await;
    assert_eq!(commented.status, 201);
    let comment = authors.next_json().await;
    assert_eq!(comment["type"], "comment.created");
    assert_eq!(comment["slug"], slug.as_str());
    assert_eq!(comment["comment"]["body"], "Nice");
    assert_eq!(comment["comment"]["author"]["username"], "jane");

    let favourited = send(
        &served.state,
        authed(
            TestRequest::post().uri(&format!("/api/articles/{slug}/favorite")),
            &reader.token,
        ),
    )
    .await;
    assert_eq!(favourited.status, 200);
    let favourite = authors.next_json().await;
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
    let author = served.register("jake").await;
    let reader = served.register("jane").await;
    let slug = author.publish("Resumable", &[]).await;
    let since = author.live("").await.ready().await;

    for body in ["one", "two", "three"] {
        reader.comment(&slug, body).await;
    }
    let mut resumed = author.live(&format!("?since={since}")).await;

    resumed.ready().await;
    let missed = resumed.next_comment_bodies(3).await;
    assert_eq!(missed, ["one", "two", "three"]);
    // And then live: the next comment arrives once.
    reader.comment(&slug, "four").await;
    assert_eq!(resumed.next_json().await["comment"]["body"], "four");
}

#[actix_web::test]
async fn a_since_the_server_never_gave_is_a_reset() {
    let served = served().await;
    let token = served.state.register("jake").await.token;
    let mut client = connect_as(&served, &token).await;
    client.ready().await;
    client.send(Message::Close(None)).await;

    let mut client = connect(
        &served,
        "?since=999",
        &[("authorization", &format!("Token {token}"))],
    )
    .await;

    client.ready().await;
    assert_eq!(client.next_json().await, json!({"type": "reset"}));
}

#[actix_web::test]
async fn logging_out_closes_the_sessions_sockets_with_4401() {
    let served = served().await;
    let token = served.state.register("jake").await.token;
    let mut client = connect_as(&served, &token).await;
    client.ready().await;

    let reply = send(
        &served.state,
        authed(TestRequest::post().uri("/api/users/logout"), &token),
    )
    .await;
    assert_eq!(reply.status, 204);

    assert_eq!(client.close_code().await, (4401, 0));
}

#[actix_web::test]
async fn one_socket_more_than_a_user_may_hold_is_refused() {
    let live = LiveSettings {
        max_connections_per_user: 1,
        ..LiveSettings::default()
    };
    let served = serve(live, HttpSettings::default()).await;
    let token = served.state.register("jake").await.token;
    let mut held = connect_as(&served, &token).await;
    held.ready().await;

    let (status, body) =
        refused(&served, "", &[("authorization", &format!("Token {token}"))]).await;
    assert_eq!(status, 429);
    assert!(body["errors"]["connections"][0].is_string(), "{body}");

    let mut by_message = connect(&served, "", &[]).await;
    by_message
        .send_text(json!({"type": "auth", "token": token}).to_string())
        .await;
    assert_eq!(by_message.close_code().await, (4429, 0));
}

#[actix_web::test]
async fn shutting_down_closes_every_socket_with_1001_and_refuses_new_ones() {
    let served = served().await;
    let token = served.state.register("jake").await.token;
    let mut authenticated = connect_as(&served, &token).await;
    authenticated.ready().await;
    let mut authenticating = connect(&served, "", &[]).await;

    served.state.hub.shut_down();

    assert_eq!(authenticated.close_code().await, (1001, 0));
    assert_eq!(authenticating.close_code().await, (1001, 0));
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

#[actix_web::test]
async fn while_draining_a_new_socket_is_refused_and_open_ones_stay() {
    let http = HttpSettings::default();
    let draining = http.draining.clone();
    let served = serve(LiveSettings::default(), http).await;
    let token = served.state.register("jake").await.token;
    let mut open = connect_as(&served, &token).await;
    open.ready().await;

    draining.start();

    let (status, body) =
        refused(&served, "", &[("authorization", &format!("Token {token}"))]).await;
    assert_eq!(status, 503);
    assert!(body["errors"]["live"][0].is_string(), "{body}");
    assert_eq!(served.state.hub.connections(), 1, "the open socket stays");
}
