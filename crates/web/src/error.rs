//! [`ApiError`]: every failure a client can see, and the one place that turns it into a response.

use actix_web::dev::ServiceResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use conduit_domain::ValidationErrors;
use conduit_domain::errors::ResourceError;
use conduit_domain::ports::TokenError;
use conduit_domain::sessions::AuthError;
use serde_json::json;

/// An error answered to a client, in the contract's error envelope.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the body is not JSON at all.
    #[error("malformed request body")]
    MalformedBody(String),
    /// 401: the access token is missing, malformed, forged, expired, or speaks for no user.
    #[error("unauthorized")]
    Unauthorized(TokenError),
    /// 401: login with an unknown e-mail or a wrong password; the same answer for both.
    #[error("invalid credentials")]
    InvalidCredentials,
    /// 403: the caller may not change someone else's resource; the key names its kind.
    #[error("{0} forbidden")]
    Forbidden(&'static str),
    /// 401: the refresh token is unknown, used, expired or revoked; one answer for all.
    #[error("invalid refresh token")]
    InvalidRefreshToken,
    /// 400: the request is not what the route takes (a plain GET on the WebSocket route); the
    /// key names what is wrong.
    #[error("bad request")]
    BadRequest(&'static str, &'static str),
    /// 429: the user holds `LIVE_MAX_CONNECTIONS_PER_USER` live sockets already.
    #[error("too many live connections")]
    TooManyConnections,
    /// 429: this client address holds the most live sockets waiting to authenticate that one
    /// address may; the key and message say which.
    #[error("too many live sockets")]
    Crowded(&'static str, &'static str),
    /// 429: too many failed logins; try again after this many seconds.
    #[error("too many requests")]
    TooManyRequests { retry_after_secs: u64 },
    /// 503: a dependency needed to answer is down; the key names what could not be done.
    #[error("{0} unavailable")]
    Unavailable(&'static str, &'static str),
    /// 404: no such resource; the key names its kind (`route`, `profile`, `article`, `comment`).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// 405: the path exists, but not for this method; `Allow` lists the methods it has.
    #[error("method not allowed")]
    MethodNotAllowed { allowed: Vec<&'static str> },
    /// 409: a new user's username or e-mail, or a new article's slug, is taken; the key names the
    /// field.
    #[error("{0} has already been taken")]
    Conflict(&'static str),
    /// 413: the body is larger than [`crate::JSON_BODY_LIMIT`].
    #[error("payload too large")]
    PayloadTooLarge,
    /// 415: the body is not declared as JSON.
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// 422: well-formed input that breaks a rule; field-keyed messages.
    #[error("unprocessable entity")]
    Unprocessable(Vec<(String, String)>),
    /// 500: our fault. The cause is logged; the client gets an opaque message.
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    /// 422 on one field.
    pub(crate) fn unprocessable(field: &str, message: &str) -> Self {
        Self::Unprocessable(vec![(field.to_owned(), message.to_owned())])
    }

    fn envelope(&self) -> serde_json::Value {
        let errors: Vec<(String, String)> = match self {
            Self::MalformedBody(reason) => vec![("body".into(), reason.clone())],
            Self::Unauthorized(TokenError::Missing) => vec![("token".into(), "is missing".into())],
            Self::Unauthorized(TokenError::Expired) => vec![("token".into(), "has expired".into())],
            Self::Unauthorized(_) => vec![("token".into(), "is invalid".into())],
            Self::InvalidCredentials => vec![("email or password".into(), "is invalid".into())],
            Self::Forbidden(resource) => vec![((*resource).into(), "forbidden".into())],
            Self::InvalidRefreshToken => vec![("refreshToken".into(), "is invalid".into())],
            Self::TooManyRequests { retry_after_secs } => vec![(
                "login".into(),
                format!(
                    "is locked after too many failed attempts; try again in {retry_after_secs} seconds"
                ),
            )],
            Self::Unavailable(field, message)
            | Self::BadRequest(field, message)
            | Self::Crowded(field, message) => {
                vec![((*field).into(), (*message).into())]
            }
            Self::TooManyConnections => vec![(
                "connections".into(),
                "are at the most one user may hold; close one first".into(),
            )],
            Self::NotFound(resource) => vec![((*resource).into(), "not found".into())],
            Self::MethodNotAllowed { allowed } => vec![(
                "method".into(),
                format!("is not allowed here; use {}", allowed.join(", ")),
            )],
            Self::Conflict(field) => vec![((*field).into(), "has already been taken".into())],
            Self::PayloadTooLarge => vec![(
                "body".into(),
                format!("is too large (maximum is {} bytes)", crate::JSON_BODY_LIMIT),
            )],
            Self::UnsupportedMediaType => {
                vec![("body".into(), "must be sent as application/json".into())]
            }
            Self::Unprocessable(errors) => errors.clone(),
            Self::Internal(_) => vec![("server".into(), "something went wrong".into())],
        };
        let mut map = serde_json::Map::new();
        for (field, message) in errors {
            let messages = map.entry(field).or_insert_with(|| json!([]));
            if let Some(messages) = messages.as_array_mut() {
                messages.push(json!(message));
            }
        }
        json!({ "errors": map })
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::MalformedBody(_) | Self::BadRequest(..) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) | Self::InvalidCredentials | Self::InvalidRefreshToken => {
                StatusCode::UNAUTHORIZED
            }
            Self::TooManyRequests { .. } | Self::TooManyConnections | Self::Crowded(..) => {
                StatusCode::TOO_MANY_REQUESTS
            }
            Self::Unavailable(..) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::Internal(cause) => tracing::error!(cause = %cause, "request failed"),
            Self::Unauthorized(reason) => tracing::info!(reason = %reason, "token refused"),
            _ => {}
        }
        let mut response = HttpResponse::build(self.status_code());
        if matches!(self, Self::Unauthorized(_)) {
            response.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Token")));
        }
        if let Self::TooManyRequests { retry_after_secs } = self {
            response.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
        }
        // Whatever is away or crowded may well be back in a second: say when to try again.
        if matches!(self, Self::Unavailable(..) | Self::Crowded(..)) {
            response.insert_header((header::RETRY_AFTER, HeaderValue::from_static("1")));
        }
        if let Self::MethodNotAllowed { allowed } = self {
            response.insert_header((header::ALLOW, allowed.join(", ")));
        }
        response.json(self.envelope())
    }
}

fn unprocessable(errors: &ValidationErrors) -> ApiError {
    ApiError::Unprocessable(
        errors
            .iter()
            .map(|(field, message)| (field.to_owned(), message.to_owned()))
            .collect(),
    )
}

/// The database could not be reached, or did not answer in time (a statement timeout): a 503 the client may retry, logged as a warning
/// (the database's state is the operator's to see, not a fault in this request).
fn database_unreachable(cause: &str) -> ApiError {
    tracing::warn!(cause = %cause, "the database could not be reached or did not answer in time");
    ApiError::Unavailable(
        "database",
        "could not be reached or did not answer in time; try again shortly",
    )
}

impl From<ResourceError> for ApiError {
    fn from(error: ResourceError) -> Self {
        match error {
            ResourceError::Invalid(errors) => unprocessable(&errors),
            ResourceError::NotFound(resource) => Self::NotFound(resource),
            ResourceError::Forbidden(resource) => Self::Forbidden(resource),
            ResourceError::Taken(field) => Self::Conflict(field.as_str()),
            ResourceError::SessionEnded => Self::Unauthorized(TokenError::SessionEnded),
            ResourceError::Unavailable(cause) => Self::Internal(cause),
            ResourceError::Unreachable(cause) => database_unreachable(&cause),
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(error: AuthError) -> Self {
        match error {
            AuthError::Invalid(errors) => unprocessable(&errors),
            AuthError::Taken(field) => Self::Conflict(field.as_str()),
            AuthError::InvalidCredentials => Self::InvalidCredentials,
            AuthError::Unauthenticated(reason) => Self::Unauthorized(reason),
            AuthError::Unavailable(cause) => Self::Internal(cause),
            AuthError::Unreachable(cause) => database_unreachable(&cause),
            AuthError::Throttled { retry_after } => {
                // Whole seconds, rounded up: a client that waits this long is let in.
                let whole =
                    retry_after.whole_seconds() + i64::from(retry_after.subsec_nanoseconds() > 0);
                Self::TooManyRequests {
                    retry_after_secs: u64::try_from(whole).unwrap_or(0).max(1),
                }
            }
            AuthError::InvalidRefreshToken => Self::InvalidRefreshToken,
            AuthError::RefreshTokenReused => {
                tracing::warn!("a used refresh token was presented again; its session is revoked");
                Self::InvalidRefreshToken
            }
            AuthError::PasswordCheckUnavailable(cause) => {
                tracing::warn!(cause = %cause, "breached-password check failed (fails closed)");
                Self::Unavailable(
                    "password",
                    "could not be checked against known breaches; try again later",
                )
            }
        }
    }
}

/// JSON bodies: limited in size, and every way of being wrong answered in the envelope.
pub(crate) fn json_config() -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(crate::JSON_BODY_LIMIT)
        .error_handler(|error, _request| {
            use actix_web::error::JsonPayloadError as E;
            let api_error = match error {
                E::OverflowKnownLength { .. } | E::Overflow { .. } => ApiError::PayloadTooLarge,
                E::ContentType => ApiError::UnsupportedMediaType,
                // serde's message would repeat the value sent (a password, say): not echoed.
                E::Deserialize(error) if error.is_data() => ApiError::Unprocessable(vec![(
                    "body".into(),
                    "does not have the expected shape".into(),
                )]),
                E::Deserialize(error) => {
                    ApiError::MalformedBody(format!("is not valid JSON: {error}"))
                }
                other => ApiError::MalformedBody(other.to_string()),
            };
            api_error.into()
        })
}

pub(crate) fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|error, _request| {
        ApiError::Unprocessable(vec![("path".into(), error.to_string())]).into()
    })
}

pub(crate) fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|error, _request| {
        ApiError::Unprocessable(vec![query_violation(&error.to_string())]).into()
    })
}

/// A query that cannot be read, as an envelope entry. The only way a list's query fails to read
/// is a parameter given twice (each value's own rules are checked by its handler, naming it):
/// that names the parameter. Nothing else of the deserialiser's text is for clients.
fn query_violation(reason: &str) -> (String, String) {
    reason
        .split_once("duplicate field `")
        .and_then(|(_, rest)| rest.split_once('`'))
        .map_or_else(
            || ("query".to_owned(), "is invalid".to_owned()),
            |(name, _)| (name.to_owned(), "may be given only once".to_owned()),
        )
}

/// Rewrites a client error that a middleware answered in its own format (actix-cors answers a
/// refused origin in plain text) into the error envelope. Answers already in JSON, which
/// [`ApiError`] wrote, pass untouched.
pub(crate) fn into_envelope<B>(
    response: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/json"));
    if is_json {
        return Ok(ErrorHandlerResponse::Response(
            response.map_into_left_body(),
        ));
    }
    let status = response.status();
    let (field, message) = match response
        .response()
        .error()
        .and_then(|error| error.as_error::<actix_cors::CorsError>())
    {
        Some(actix_cors::CorsError::OriginNotAllowed) => ("origin", "is not allowed".to_owned()),
        Some(refusal) => ("origin", refusal.to_string().to_lowercase()),
        None => (
            "request",
            status
                .canonical_reason()
                .unwrap_or("is refused")
                .to_lowercase(),
        ),
    };
    let (request, refused) = response.into_parts();
    let mut envelope = HttpResponse::build(status);
    for (name, value) in refused.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            envelope.insert_header((name.clone(), value.clone()));
        }
    }
    let envelope = envelope.json(json!({ "errors": { field: [message.trim_end_matches('.')] } }));
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(request, envelope).map_into_right_body(),
    ))
}

/// What no route answers: a 405 with `Allow` for a path that exists under other methods (as the
/// API document lists them), else the JSON 404.
pub(crate) async fn route_not_found(request: HttpRequest) -> Result<HttpResponse, ApiError> {
    let allowed = crate::openapi::allowed_methods(request.path());
    if allowed.is_empty() {
        Err(ApiError::NotFound("route"))
    } else {
        Err(ApiError::MethodNotAllowed { allowed })
    }
}

#[cfg(test)]
mod tests;
