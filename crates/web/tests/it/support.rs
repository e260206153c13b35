use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use actix_web::test;
use actix_web::test::TestRequest;
use conduit_domain::accounts::{AccountPorts, Accounts, PasswordPolicy};
use conduit_domain::articles::Articles;
use conduit_domain::live::{EventId, Live, LivePorts};
use conduit_domain::ports::{
    ArticleRepository, BreachedPasswords, Clock, CommentRepository, EventLog, NoBreachCheck,
    PasswordHasher, ProfileRepository, SessionRepository, TokenCodec, UserRepository,
};
use conduit_domain::profiles::Profiles;
use conduit_domain::sessions::{SessionPolicy, SessionPorts, Sessions};
use conduit_domain::throttle::{InMemoryLoginFailures, ThrottlePolicy};
use conduit_test_support::{FakeClock, FakeHasher, FakeRefreshTokens, FakeTokens, InMemoryStore};
use conduit_web::{AppState, HttpSettings, LiveHub, LiveSettings, Readiness};
use serde_json::Value;

/// The ports behind the app under test; each defaults to a fake (all stores one in-memory
/// store) and can be swapped for a mock.
pub(crate) struct Ports {
    pub(crate) repository: Arc<dyn UserRepository>,
    pub(crate) profiles: Arc<dyn ProfileRepository>,
    pub(crate) articles: Arc<dyn ArticleRepository>,
    pub(crate) comments: Arc<dyn CommentRepository>,
    pub(crate) sessions: Arc<dyn SessionRepository>,
    pub(crate) events: Arc<dyn EventLog>,
    pub(crate) live: LiveSettings,
    pub(crate) breaches: Arc<dyn BreachedPasswords>,
    pub(crate) policy: SessionPolicy,
    pub(crate) throttle: ThrottlePolicy,
    pub(crate) hasher: Arc<dyn PasswordHasher>,
    pub(crate) tokens: Arc<dyn TokenCodec>,
    pub(crate) ready: bool,
}

impl Default for Ports {
    fn default() -> Self {
        let store = Arc::new(InMemoryStore::new());
        Self {
            repository: store.clone(),
            profiles: store.clone(),
            articles: store.clone(),
            comments: store.clone(),
            sessions: store.clone(),
            events: store,
            live: LiveSettings::default(),
            breaches: Arc::new(NoBreachCheck),
            policy: SessionPolicy::default(),
            throttle: ThrottlePolicy::default(),
            hasher: Arc::new(FakeHasher),
            tokens: Arc::new(FakeTokens),
            ready: true,
        }
    }
}

struct FixedReadiness(bool);

impl Readiness for FixedReadiness {
    fn is_ready(&self) -> Pin<Box<dyn Future<Output = bool> + Send + '_>> {
        Box::pin(async move { self.0 })
    }
}

impl Ports {
    pub(crate) fn state(self) -> AppState {
        let clock: Arc<dyn Clock> = Arc::new(FakeClock::starting_now());
        let sessions = Sessions::new(
            SessionPorts {
                users: self.repository.clone(),
                sessions: self.sessions,
                tokens: self.tokens,
                refresh_tokens: Arc::new(FakeRefreshTokens::default()),
                clock: clock.clone(),
            },
            self.policy,
        );
        AppState {
            accounts: Accounts::new(
                AccountPorts {
                    users: self.repository,
                    hasher: self.hasher,
                    breaches: self.breaches,
                    clock: clock.clone(),
                    login_failures: Arc::new(InMemoryLoginFailures::default()),
                },
                sessions.clone(),
                self.throttle,
                // Production's rules, which the password tests here meet; the end-to-end tests
                // meet the contract's, the default in development.
                PasswordPolicy::Strict,
            ),
            sessions,
            profiles: Profiles::new(self.profiles.clone()),
            live: Live::new(
                LivePorts {
                    log: self.events,
                    articles: self.articles.clone(),
                    comments: self.comments.clone(),
                    profiles: self.profiles,
                    clock: clock.clone(),
                },
                time::Duration::DAY,
            ),
            hub: LiveHub::new(self.live, EventId(0)),
            articles: Articles::new(self.articles, self.comments, clock),
            readiness: Arc::new(FixedReadiness(self.ready)),
        }
    }
}

/// The answer to one request, as a client sees it.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: actix_web::http::header::HeaderMap,
    pub(crate) body: Value,
}

impl Reply {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }
}

/// Sends `request` to the whole app, in-process, over `state`. The body must be JSON, whatever
/// the status: no handler and no error path may answer otherwise.
pub(crate) async fn send(state: &AppState, request: TestRequest) -> Reply {
    send_with(state, HttpSettings::default(), request).await
}

/// [`send`] to an app set up with these settings.
pub(crate) async fn send_with(
    state: &AppState,
    settings: HttpSettings,
    request: TestRequest,
) -> Reply {
    let app = test::init_service(conduit_web::app(state.clone(), settings)).await;
    let response = test::call_service(&app, request.to_request()).await;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = test::read_body(response).await;
    if status == 204 {
        assert!(body.is_empty(), "a 204 has no body");
        return Reply {
            status,
            headers,
            body: Value::Null,
        };
    }
    let content_type = headers
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    assert!(
        content_type.starts_with("application/json"),
        "status {status}: expected JSON, got {content_type:?}: {}",
        String::from_utf8_lossy(&body)
    );
    let body = serde_json::from_slice(&body).expect("the body is JSON");
    Reply {
        status,
        headers,
        body,
    }
}

/// Registers `username` and returns its token.
pub(crate) async fn registered(state: &AppState, username: &str) -> String {
    let reply = send(
        state,
        TestRequest::post()
            .uri("/api/users")
            .set_json(registration(username)),
    )
    .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    reply.body["user"]["token"]
        .as_str()
        .expect("a token")
        .to_owned()
}

pub(crate) fn registration(username: &str) -> Value {
    serde_json::json!({ "user": {
        "username": username,
        "email": format!("{username}@example.com"),
        "password": "correct horse battery",
    }})
}

/// `request` with `Authorization: Token <token>`.
pub(crate) fn authed(request: TestRequest, token: &str) -> TestRequest {
    request.insert_header(("authorization", format!("Token {token}")))
}

/// Publishes an article as the holder of `token` and returns its slug.
pub(crate) async fn published(state: &AppState, token: &str, title: &str, tags: &[&str]) -> String {
    let reply = send(
        state,
        authed(TestRequest::post().uri("/api/articles"), token).set_json(serde_json::json!({
            "article": {"title": title, "description": "About it", "body": "Text", "tagList": tags}
        })),
    )
    .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    reply.body["article"]["slug"]
        .as_str()
        .expect("a slug")
        .to_owned()
}
