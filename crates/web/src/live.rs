//! `GET /api/live`: live updates over a WebSocket.
//!
//! The handler checks what can be checked before the upgrade (the `Origin`, a token in the
//! `Authorization` header, `since`), then hands the socket to a task of its own
//! ([`socket::serve`]). The task authenticates by the first message when the upgrade carried no
//! header, joins the [`LiveHub`], says `ready`, replays what the client missed, and then moves
//! frames: the hub's to the client, pings and pongs both ways. Who receives which event is the
//! domain's rule; this module only moves frames.

mod guard;
mod hub;
mod metrics;
mod socket;

use std::time::Duration;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use conduit_domain::live::EventId;

pub use hub::LiveHub;
pub use metrics::LiveCounters;

use crate::auth::bearer_token;
use crate::{ApiError, AppState, TrustedProxies};

/// How live sockets behave, from configuration.
#[derive(Debug, Clone)]
pub struct LiveSettings {
    /// The server pings this often and closes a peer that missed two pongs.
    pub ping_interval: Duration,
    /// How long a socket without an `Authorization` header has to send its `auth` message.
    pub auth_timeout: Duration,
    /// `LIVE_MAX_CONNECTIONS_PER_USER`.
    pub max_connections_per_user: usize,
    /// How many frames may wait for a socket before it counts as a slow consumer.
    pub queue: usize,
    /// How often the events older than the retention are pruned.
    pub prune_every: Duration,
    /// `LIVE_POLL`: the fan-out reads the outbox at least this often, woken or not, so that a
    /// listener connection that stalls (or listens in the wrong place) delays delivery by this
    /// much at most instead of stopping it.
    pub poll_every: Duration,
    /// `LIVE_MAX_CONNECTIONS`: live sockets this instance holds at most, authenticated or not.
    pub max_connections: usize,
    /// `LIVE_MAX_UNAUTHENTICATED`: sockets waiting for their `auth` message, at most.
    pub max_unauthenticated: usize,
    /// `LIVE_MAX_UNAUTHENTICATED_PER_ADDRESS`: of those, from one client address.
    pub max_unauthenticated_per_address: usize,
    /// `WRITE_TIMEOUT`: a write to a socket that does not complete within this closes it.
    pub write_timeout: Duration,
    /// How many resuming sockets replay at once: a replay reads the database for every event it
    /// covers, so the others wait their turn rather than take every core.
    pub replays_at_once: usize,
}

impl LiveSettings {
    /// Frames, and fragmented messages, from a client larger than this are refused with close
    /// code 1009, from their header. The largest thing a client sends is its `auth` message (a
    /// token of a few hundred bytes); every byte of an incomplete frame is held until it is
    /// whole, so the bound is what one socket may make the server hold.
    pub const MAX_FRAME: usize = 4 * 1024;
}

impl Default for LiveSettings {
    fn default() -> Self {
        Self {
            ping_interval: Duration::from_secs(20),
            auth_timeout: Duration::from_secs(10),
            max_connections_per_user: 8,
            queue: 256,
            prune_every: Duration::from_secs(600),
            poll_every: Duration::from_secs(1),
            max_connections: 10_000,
            max_unauthenticated: 1_000,
            max_unauthenticated_per_address: 16,
            write_timeout: Duration::from_secs(10),
            replays_at_once: 2,
        }
    }
}

pub(crate) fn configure(config: &mut web::ServiceConfig) {
    config.route("/live", web::get().to(upgrade));
}

/// The query string of the upgrade.
#[derive(Debug, serde::Deserialize)]
struct LiveQuery {
    since: Option<String>,
    /// Never accepted: a token in a URL ends up in access logs.
    token: Option<String>,
}

/// `GET /api/live`: checks the origin, a token in the header and `since`, then upgrades.
async fn upgrade(
    request: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
    origins: web::Data<AllowedOrigins>,
    proxies: web::Data<TrustedProxies>,
) -> Result<HttpResponse, ApiError> {
    if !origins.allow(&request) {
        return Err(ApiError::Forbidden("origin"));
    }
    // What follows the upgrade is the socket's frames: a body would be read as frames, and one
    // that never ends would hold the connection after the socket closed.
    if crate::body::announces_body(&request) {
        return Err(ApiError::BadRequest("upgrade", "must carry no body"));
    }
    let query = web::Query::<LiveQuery>::from_query(request.query_string())
        .map_err(|_| ApiError::unprocessable("query", "is invalid"))?
        .into_inner();
    if query.token.is_some() {
        return Err(ApiError::unprocessable(
            "token",
            "must be sent in the Authorization header or the first message, never in the URL",
        ));
    }
    let since = query
        .since
        .as_deref()
        .map(EventId::parse)
        .transpose()
        .map_err(|_| ApiError::unprocessable("since", "is not an event id"))?;
    let draining = request
        .app_data::<crate::Draining>()
        .is_some_and(crate::Draining::is_draining);
    if draining || *state.hub.stopping().borrow() {
        return Err(ApiError::Unavailable(
            "live",
            "the server is shutting down; connect again",
        ));
    }
    let crowded = |crowded| match crowded {
        metrics::Crowded::Address => ApiError::Crowded(
            "live",
            "too many sockets from this address are waiting to authenticate; send auth first",
        ),
        metrics::Crowded::Instance | metrics::Crowded::Unauthenticated => ApiError::Unavailable(
            "live",
            "this server holds all the sockets it can; connect again",
        ),
    };
    let (authenticated, ticket) = match bearer_token(&request).map_err(ApiError::Unauthorized)? {
        Some(token) => {
            let (caller, left) = state.sessions.authenticate_live(&token).await?;
            let membership = state
                .hub
                .join(caller.user, caller.session)
                .map_err(|refusal| match refusal {
                    hub::Refusal::TooMany => ApiError::TooManyConnections,
                    hub::Refusal::ShuttingDown => {
                        ApiError::Unavailable("live", "the server is shutting down; connect again")
                    }
                    hub::Refusal::SessionEnded => {
                        ApiError::Unauthorized(conduit_domain::ports::TokenError::SessionEnded)
                    }
                })?;
            let ticket = state.hub.admit(None).map_err(crowded)?;
            let authenticated = socket::Authenticated {
                caller,
                left,
                membership,
            };
            (Some(authenticated), ticket)
        }
        None => {
            let address = proxies.client_of(&request);
            (None, state.hub.admit(Some(address)).map_err(crowded)?)
        }
    };
    // Frames over the limit are refused from their header, before their payload is buffered.
    let oversized = Arc::new(AtomicBool::new(false));
    let mut guarded: actix_web::dev::Payload = actix_web::dev::Payload::Stream {
        payload: Box::pin(guard::FrameGuard::new(
            body.into_inner(),
            LiveSettings::MAX_FRAME,
            Arc::clone(state.hub.metrics()),
            Arc::clone(&oversized),
        )),
    };
    let body = web::Payload::from_request(&request, &mut guarded)
        .await
        .map_err(|_| ApiError::Internal("the upgrade's payload was taken".to_owned()))?;
    let (response, session, stream) = actix_ws::handle(&request, body).map_err(|_| {
        ApiError::BadRequest(
            "upgrade",
            "must be a WebSocket upgrade (Upgrade: websocket)",
        )
    })?;
    let stream = stream.max_frame_size(LiveSettings::MAX_FRAME);
    actix_web::rt::spawn(socket::serve(
        socket::Socket::new(session, stream, state.into_inner(), ticket, oversized),
        authenticated,
        since,
    ));
    Ok(response)
}

/// Which browser origins may open a socket.
///
/// An `Origin` is compared whole (scheme, host and port, the host without regard to case and
/// default ports made explicit) with the configured public origins (`CORS_ALLOWED_ORIGINS`;
/// `*` allows any). With none configured, only origins on this machine's loopback names
/// (`localhost`, `127.0.0.0/8`, `[::1]`, over http or https) are allowed: a frontend in
/// development. The request's own `Host` is never trusted for this, since a page that rebinds
/// its DNS name to this server sends its own name as both. That is safe because nothing
/// ambient authenticates a socket: it must present a token, which a foreign page does not have;
/// the check keeps such a page from so much as holding sockets open. A client that sends no
/// `Origin` is not a browser, and is allowed.
#[derive(Debug, Clone, Default)]
pub(crate) struct AllowedOrigins {
    any: bool,
    origins: Vec<url::Origin>,
}

impl AllowedOrigins {
    /// From the configured origins; one that does not parse allows nothing (configuration
    /// validates them at start).
    pub(crate) fn new(configured: &[String]) -> Self {
        Self {
            any: configured.iter().any(|origin| origin == "*"),
            origins: configured
                .iter()
                .filter_map(|origin| url::Url::parse(origin).ok())
                .map(|url| url.origin())
                .filter(url::Origin::is_tuple)
                .collect(),
        }
    }

    fn allow(&self, request: &HttpRequest) -> bool {
        let Some(origin) = request.headers().get(header::ORIGIN) else {
            return true;
        };
        if self.any {
            return true;
        }
        let Some(origin) = origin
            .to_str()
            .ok()
            .and_then(|origin| url::Url::parse(origin).ok())
        else {
            return false;
        };
        if self.origins.is_empty() {
            return matches!(origin.scheme(), "http" | "https") && is_loopback(&origin);
        }
        self.origins.contains(&origin.origin())
    }
}

/// Whether `url` names this machine by a loopback name or address.
fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(address)) => address.is_loopback(),
        Some(url::Host::Ipv6(address)) => address.is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::AllowedOrigins;

    fn allowed(configured: &[&str], origin: &str) -> bool {
        let configured: Vec<String> = configured.iter().map(|&o| o.to_owned()).collect();
        let request = TestRequest::get()
            .insert_header(("origin", origin))
            .insert_header(("host", "evil.example"))
            .to_http_request();
        AllowedOrigins::new(&configured).allow(&request)
    }

    #[test]
    fn configured_origins_match_by_scheme_host_and_port_and_the_host_in_any_case() {
        let configured = ["https://conduit.example"];
        assert!(allowed(&configured, "https://conduit.example"));
        assert!(allowed(&configured, "https://CONDUIT.example:443"));
        for refused in [
            "http://conduit.example",
            "https://conduit.example:8443",
            "ftp://conduit.example",
            "chrome-extension://conduit.example",
            "https://conduit.example.evil.example",
            "null",
            "https://evil.example",
        ] {
            assert!(!allowed(&configured, refused), "{refused} was allowed");
        }
    }

    #[test]
    fn with_none_configured_only_loopback_origins_are_allowed_whatever_the_host_header_says() {
        for origin in [
            "http://localhost:4200",
            "http://LOCALHOST:4200",
            "https://127.0.0.1:8080",
            "http://[::1]:3000",
        ] {
            assert!(allowed(&[], origin), "{origin} was refused");
        }
        for origin in [
            // Host: evil.example, as a DNS-rebinding page sends it.
            "http://evil.example",
            "ftp://localhost",
            "chrome-extension://localhost",
            "http://localhost.evil.example",
        ] {
            assert!(!allowed(&[], origin), "{origin} was allowed");
        }
    }

    #[test]
    fn a_star_allows_any_origin() {
        assert!(allowed(&["*"], "https://anywhere.example"));
    }
}
