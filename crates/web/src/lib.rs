//! Conduit's HTTP surface on actix-web: routes per area of the RealWorld contract, the
//! authentication extractor, request and response DTOs, and [`ApiError`], the one place where
//! errors become the contract's `{"errors": {"<field>": ["..."]}}` envelope.
//!
//! Depends on `conduit-domain` (use cases and ports) and never on `conduit-persistence` or
//! `conduit-security`: it receives ready-made use cases in [`AppState`], so its tests run the
//! handlers in-process against fakes and mocks. It knows nothing about SQL or how tokens are signed.

mod auth;
mod body;
mod client_address;
mod dto;
mod error;
mod live;
mod openapi;
mod request_id;
mod routes;
mod trailing_slash;
mod validated;

use std::any::Any;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{Extensions, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::{Condition, ErrorHandlers};
use actix_web::web::{self, ServiceConfig};
use actix_web::{App, Error};
use conduit_domain::accounts::Accounts;
use conduit_domain::articles::Articles;
use conduit_domain::live::Live;
use conduit_domain::profiles::Profiles;
use conduit_domain::sessions::Sessions;
use conduit_domain::wiring::UseCases;

pub use body::BODY_TIMEOUT;
pub use client_address::TrustedProxies;
pub use error::ApiError;
pub use live::{LiveCounters, LiveHub, LiveSettings};
pub use openapi::ApiDoc;

/// The largest JSON body any endpoint accepts. The biggest legitimate body is a new article: a
/// 50,000-character body (up to 4 bytes a character in UTF-8), a title, a description and ten
/// tags, with JSON escaping to spare.
pub const JSON_BODY_LIMIT: usize = 256 * 1024;

/// Whether the service's dependencies answer, for `/health/ready`.
pub trait Readiness: Send + Sync {
    fn is_ready(&self) -> Pin<Box<dyn Future<Output = bool> + Send + '_>>;
}

/// What the handlers need, shared by every worker.
#[derive(Clone)]
pub struct AppState {
    pub accounts: Accounts,
    pub sessions: Sessions,
    pub profiles: Profiles,
    pub articles: Articles,
    pub live: Live,
    /// The live sockets of this instance; its fan-out runs beside the server.
    pub hub: LiveHub,
    pub readiness: Arc<dyn Readiness>,
}

impl AppState {
    /// The state over these use cases, with this instance's hub and readiness check.
    pub fn new(cases: UseCases, hub: LiveHub, readiness: Arc<dyn Readiness>) -> Self {
        Self {
            accounts: cases.accounts,
            sessions: cases.sessions,
            profiles: cases.profiles,
            articles: cases.articles,
            live: cases.live,
            hub,
            readiness,
        }
    }
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").finish_non_exhaustive()
    }
}

/// How the HTTP surface is set up beyond the use cases, from configuration.
#[derive(Debug, Clone, Default)]
pub struct HttpSettings {
    /// Origins a browser may call the API from; `["*"]` for any; none for same-origin only.
    pub cors_allowed_origins: Vec<String>,
    /// Proxies whose `X-Forwarded-For` names the client; none: the socket's peer is the client.
    pub trusted_proxies: TrustedProxies,
    /// Set when the server begins to shut down: from then on every answer closes its connection.
    pub draining: Draining,
    /// How long a request body may pause between two chunks; `None`: [`BODY_TIMEOUT`].
    pub body_timeout: Option<Duration>,
}

/// Whether the server is shutting down, and how many requests it is serving. While it drains,
/// every answer carries `Connection: close`: a proxy that keeps connections to this instance open
/// stops reusing them, so that none is idle (and a request sent on it lost) when the instance
/// stops listening.
#[derive(Debug, Clone)]
pub struct Draining {
    draining: Arc<AtomicBool>,
    /// Requests whose handler has not answered yet (a live socket counts only until it is
    /// upgraded).
    in_flight: Arc<tokio::sync::watch::Sender<usize>>,
}

impl Default for Draining {
    fn default() -> Self {
        Self {
            draining: Arc::default(),
            in_flight: Arc::new(tokio::sync::watch::Sender::new(0)),
        }
    }
}

impl Draining {
    pub fn start(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }

    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }

    /// Until no request is being served.
    pub async fn idle(&self) {
        let mut in_flight = self.in_flight.subscribe();
        // The sender lives in `self`: waiting cannot fail.
        let _ = in_flight.wait_for(|count| *count == 0).await;
    }

    /// Counts a request as served until the guard drops.
    fn serving(&self) -> Serving {
        self.in_flight.send_modify(|count| *count += 1);
        Serving(Arc::clone(&self.in_flight))
    }
}

/// One request being served; see [`Draining::idle`].
struct Serving(Arc<tokio::sync::watch::Sender<usize>>);

impl Drop for Serving {
    fn drop(&mut self) {
        self.0.send_modify(|count| *count = count.saturating_sub(1));
    }
}

/// The TCP connections the server holds, counted from accept to close.
#[derive(Debug, Clone, Default)]
pub struct Connections(Arc<AtomicUsize>);

impl Connections {
    pub fn open(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// Held in a connection's extensions: the connection is counted until actix drops it.
struct Counted(Connections);

impl Drop for Counted {
    fn drop(&mut self) {
        (self.0).0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// For `HttpServer::on_connect`: every accepted connection is counted in `connections`, and gets
/// `write_timeout` as its `TCP_USER_TIMEOUT`: when what the server sends stays unacknowledged
/// that long (a peer whose receive window stays shut, one that never reads), the kernel drops
/// the connection. actix-web has no write timeout of its own, and a live socket's writes wait on
/// the peer forever without one.
pub fn on_connect(
    write_timeout: Duration,
    connections: Connections,
) -> impl Fn(&dyn Any, &mut Extensions) + Send + Sync + 'static {
    move |connection, extensions| {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        if let Some(stream) = connection.downcast_ref::<actix_web::rt::net::TcpStream>()
            && let Err(error) =
                socket2::SockRef::from(stream).set_tcp_user_timeout(Some(write_timeout))
        {
            tracing::warn!(%error, "cannot set a connection's write timeout");
        }
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        let _ = (connection, write_timeout);
        connections.0.fetch_add(1, Ordering::SeqCst);
        extensions.insert(Counted(connections.clone()));
    }
}

/// The whole actix `App`: every route, the extractor limits, security headers, CORS and the
/// request logger. The server runs it on each worker and the in-process tests call it directly,
/// so what they test is what is served.
pub fn app(
    state: AppState,
    settings: HttpSettings,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = Error,
        InitError = (),
    >,
> {
    let origins = settings.cors_allowed_origins;
    // The last `wrap` is the outermost: the security headers reach every answer, CORS refusals
    // included, and the envelope handler sees what CORS answers itself, in plain text. Every
    // answer carries the request id its span logged. The trailing slash is trimmed innermost,
    // just before routing, so that the logs show the path as it was sent.
    App::new()
        .wrap(actix_web::middleware::from_fn(
            trailing_slash::trim_trailing_slash,
        ))
        .wrap(Condition::new(!origins.is_empty(), cors(&origins)))
        .wrap(ErrorHandlers::new().default_handler_client(error::into_envelope))
        .wrap(security_headers())
        .wrap(tracing_actix_web::TracingLogger::<request_id::RequestSpan>::new())
        .wrap(actix_web::middleware::from_fn(request_id::answer_with_id))
        .app_data(web::Data::new(settings.trusted_proxies))
        .app_data(web::Data::new(live::AllowedOrigins::new(&origins)))
        .app_data(settings.draining)
        .app_data(body::BodyTimeout(
            settings.body_timeout.unwrap_or(body::BODY_TIMEOUT),
        ))
        .configure(configure(state))
}

/// Headers every response carries: no MIME sniffing, no framing, no referrer, and no caching
/// (every answer is per caller or changes with every write). A handler may set its own.
fn security_headers() -> actix_web::middleware::DefaultHeaders {
    use actix_web::http::header;
    actix_web::middleware::DefaultHeaders::new()
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::X_FRAME_OPTIONS, "DENY"))
        .add((header::CONTENT_SECURITY_POLICY, "frame-ancestors 'none'"))
        .add((header::REFERRER_POLICY, "no-referrer"))
        .add((header::CACHE_CONTROL, "no-store"))
}

/// Cross-origin access for browsers on the configured origins: `["*"]` lets any origin read the
/// API, without credentials (tokens travel in the `Authorization` header, never in cookies).
/// With no origins configured, wrap nothing: same-origin requests need no CORS.
fn cors(origins: &[String]) -> actix_cors::Cors {
    use actix_web::http::header;
    let mut cors = actix_cors::Cors::default()
        .allowed_methods(["GET", "POST", "PUT", "DELETE"])
        .allowed_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
        .expose_headers([header::RETRY_AFTER, header::WWW_AUTHENTICATE])
        .max_age(3600);
    if origins.iter().any(|origin| origin == "*") {
        cors = cors.allow_any_origin().send_wildcard();
    } else {
        for origin in origins {
            cors = cors.allowed_origin(origin);
        }
    }
    cors
}

/// Registers every route, the extractor configuration and the JSON 404.
fn configure(state: AppState) -> impl FnOnce(&mut ServiceConfig) {
    move |config| {
        config
            .app_data(web::Data::new(state))
            .app_data(error::json_config())
            .app_data(error::path_config())
            .app_data(error::query_config())
            .configure(routes::health::configure)
            .configure(openapi::configure)
            .service(
                web::scope("/api")
                    .configure(routes::users::configure)
                    .configure(routes::profiles::configure)
                    .configure(routes::articles::configure)
                    .configure(routes::comments::configure)
                    .configure(routes::tags::configure)
                    .configure(live::configure),
            )
            .default_service(web::to(error::route_not_found));
    }
}
