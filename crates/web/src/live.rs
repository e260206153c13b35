//! `GET /api/live`: live updates over a WebSocket.
//!
//! The handler checks what can be checked before the upgrade (the `Origin`, a token in the
//! `Authorization` header, `since`), then hands the socket to a task of its own
//! ([`socket::serve`]). The task authenticates by the first message when the upgrade carried no
//! header, joins the [`LiveHub`], says `ready`, replays what the client missed, and then moves
//! frames: the hub's to the client, pings and pongs both ways. Who receives which event is the
//! domain's rule; this module only moves frames.

mod hub;
mod socket;

use std::time::Duration;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use conduit_domain::live::EventId;

pub use hub::LiveHub;

use crate::auth::bearer_token;
use crate::{ApiError, AppState};

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
}

impl LiveSettings {
    /// Frames from a client larger than this are refused with close code 1009.
    pub const MAX_FRAME: usize = 64 * 1024;
}

impl Default for LiveSettings {
    fn default() -> Self {
        Self {
            ping_interval: Duration::from_secs(20),
            auth_timeout: Duration::from_secs(10),
            max_connections_per_user: 8,
            queue: 256,
            prune_every: Duration::from_secs(600),
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
) -> Result<HttpResponse, ApiError> {
    if !origins.allow(&request) {
        return Err(ApiError::Forbidden("origin"));
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
    let authenticated = match bearer_token(&request).map_err(ApiError::Unauthorized)? {
        Some(token) => {
            let (caller, left) = state.sessions.authenticate_live(&token).await?;
            let membership = state
                .hub
                .join(caller.user, caller.session)
                .map_err(|_| ApiError::TooManyConnections)?;
            Some(socket::Authenticated {
                caller,
                left,
                membership,
            })
        }
        None => None,
    };
    let (response, session, stream) = actix_ws::handle(&request, body).map_err(|_| {
        ApiError::BadRequest(
            "upgrade",
            "must be a WebSocket upgrade (Upgrade: websocket)",
        )
    })?;
    let stream = stream.max_frame_size(LiveSettings::MAX_FRAME);
    actix_web::rt::spawn(socket::serve(
        socket::Socket {
            session,
            stream,
            state: state.into_inner(),
        },
        authenticated,
        since,
    ));
    Ok(response)
}

/// Which browser origins may open a socket: the configured CORS origins (`*` for any); with
/// none configured, only the server's own (the `Origin`'s host is the request's `Host`). A
/// client that sends no `Origin` is not a browser, and is allowed.
#[derive(Debug, Clone, Default)]
pub(crate) struct AllowedOrigins(pub(crate) Vec<String>);

impl AllowedOrigins {
    fn allow(&self, request: &HttpRequest) -> bool {
        let Some(origin) = request.headers().get(header::ORIGIN) else {
            return true;
        };
        let Ok(origin) = origin.to_str() else {
            return false;
        };
        if self.0.is_empty() {
            let host = request
                .headers()
                .get(header::HOST)
                .and_then(|host| host.to_str().ok());
            let origin_host = origin.split_once("://").map(|(_, host)| host);
            return host.is_some() && origin_host == host;
        }
        self.0
            .iter()
            .any(|allowed| allowed == "*" || allowed == origin)
    }
}
