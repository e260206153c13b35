//! Conduit's HTTP surface on actix-web: routes per area of the RealWorld contract, the
//! authentication extractor, request and response DTOs, and [`ApiError`], the one place where
//! errors become the contract's `{"errors": {"<field>": ["..."]}}` envelope.
//!
//! Depends on `conduit-domain` (use cases and ports) and never on `conduit-persistence` or
//! `conduit-security`: it receives ready-made use cases in [`AppState`], so its tests run the
//! handlers in-process against fakes and mocks. It knows nothing about SQL or how tokens are signed.

mod auth;
mod client;
mod dto;
mod error;
mod live;
mod openapi;
mod request_id;
mod routes;
mod trailing_slash;
mod validated;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::{Condition, ErrorHandlers};
use actix_web::web::{self, ServiceConfig};
use actix_web::{App, Error};
use conduit_domain::accounts::Accounts;
use conduit_domain::articles::Articles;
use conduit_domain::live::Live;
use conduit_domain::profiles::Profiles;
use conduit_domain::sessions::Sessions;

pub use client::TrustedProxies;
pub use error::ApiError;
pub use live::{LiveHub, LiveSettings};
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
}

/// Whether the server is shutting down. While it drains, every answer carries
/// `Connection: close`: a proxy that keeps connections to this instance open stops reusing them,
/// so that none is idle (and a request sent on it lost) when the instance stops listening.
#[derive(Debug, Clone, Default)]
pub struct Draining(Arc<AtomicBool>);

impl Draining {
    pub fn start(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn is_draining(&self) -> bool {
        self.0.load(Ordering::SeqCst)
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
        .app_data(web::Data::new(live::AllowedOrigins(origins.clone())))
        .app_data(settings.draining)
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
