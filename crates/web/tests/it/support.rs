use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use actix_web::test;
use actix_web::test::TestRequest;
use conduit_domain::live::EventId;
use conduit_domain::ports::{
    ArticleRepository, BreachedPasswords, CommentRepository, EventLog, PasswordHasher,
    ProfileRepository, SessionRepository, TokenCodec, UserRepository,
};
use conduit_domain::sessions::SessionPolicy;
use conduit_domain::throttle::ThrottlePolicy;
use conduit_domain::wiring::{Policies, UseCases};
pub(crate) use conduit_test_support::client::Call;
use conduit_test_support::client::Method;
pub(crate) use conduit_test_support::client::{Conduit, Reply};
pub(crate) use conduit_test_support::client::{TestUser, registration, slugs};
use conduit_test_support::{
    FakeBreaches, FakeClock, FakeHasher, FakeRefreshTokens, FakeTokens, InMemoryStore,
};
use conduit_web::{AppState, HttpSettings, LiveHub, LiveSettings, Readiness};

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
            breaches: Arc::new(FakeBreaches),
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
    /// The app over these ports, served with the default settings.
    pub(crate) fn state(self) -> App {
        App {
            state: self.app_state(),
            settings: HttpSettings::default(),
        }
    }

    fn app_state(self) -> AppState {
        let cases = UseCases::wire(
            conduit_domain::wiring::Ports {
                users: self.repository,
                profiles: self.profiles,
                articles: self.articles,
                comments: self.comments,
                sessions: self.sessions,
                events: self.events,
                login_failures: Arc::new(InMemoryStore::new()),
                hasher: self.hasher,
                breaches: self.breaches,
                tokens: self.tokens,
                refresh_tokens: Arc::new(FakeRefreshTokens::default()),
                clock: Arc::new(FakeClock::starting_now()),
            },
            // Production's password rules, which the password tests here meet; the end-to-end
            // tests meet the contract's, the default in development.
            Policies {
                sessions: self.policy,
                throttle: self.throttle,
                ..Policies::default()
            },
        );
        AppState::new(
            cases,
            LiveHub::new(self.live, EventId(0)),
            Arc::new(FixedReadiness(self.ready)),
        )
    }
}

/// The app under test, in-process: its state, served with these settings. It is the state for
/// everything else (`app.hub`, `app.live`).
#[derive(Clone)]
pub(crate) struct App {
    pub(crate) state: AppState,
    pub(crate) settings: HttpSettings,
}

impl std::ops::Deref for App {
    type Target = AppState;

    fn deref(&self) -> &AppState {
        &self.state
    }
}

impl Conduit for App {
    async fn try_call(&self, call: Call) -> Result<Reply, String> {
        let mut request = match call.method {
            Method::Get => TestRequest::get(),
            Method::Post => TestRequest::post(),
            Method::Put => TestRequest::put(),
            Method::Delete => TestRequest::delete(),
        }
        .uri(&call.path);
        if let Some(token) = &call.token {
            request = authed(request, token);
        }
        if let Some(body) = &call.body {
            request = request.set_json(body);
        }
        for (name, value) in call.headers {
            request = request.insert_header((name, value));
        }
        try_send_with(&self.state, self.settings.clone(), request).await
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
    try_send_with(state, settings, request)
        .await
        .unwrap_or_else(|error| panic!("{error}"))
}

async fn try_send_with(
    state: &AppState,
    settings: HttpSettings,
    request: TestRequest,
) -> Result<Reply, String> {
    let app = test::init_service(conduit_web::app(state.clone(), settings)).await;
    let response = test::call_service(&app, request.to_request()).await;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = test::read_body(response).await;
    let headers = headers
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_bytes()));
    Reply::read(status, headers, &body)
}

/// `request` with `Authorization: Token <token>`.
pub(crate) fn authed(request: TestRequest, token: &str) -> TestRequest {
    request.insert_header(("authorization", format!("Token {token}")))
}
