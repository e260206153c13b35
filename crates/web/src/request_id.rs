//! `X-Request-Id`: one id per request, in every log line written while it is served and in its
//! response, so a client's report, the proxy's access log and the server's log meet.
//!
//! A proxy in front (nginx's `$request_id`) or a client may send one; it is kept when a log line
//! can carry it safely, and otherwise replaced by a new UUID.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, web};
use tracing::Span;
use tracing::field::Empty;
use tracing_actix_web::{DefaultRootSpanBuilder, RootSpanBuilder};

use crate::TrustedProxies;

pub(crate) const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The id of the request being served, kept in its extensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RequestId(String);

impl RequestId {
    /// The id sent, when it is 1 to 128 of `A-Z a-z 0-9 . _ : -`; otherwise a new UUID.
    pub(crate) fn from_header(sent: Option<&HeaderValue>) -> Self {
        let safe = |id: &&str| {
            (1..=128).contains(&id.len())
                && id
                    .bytes()
                    .all(|byte| byte.is_ascii_alphanumeric() || b"._:-".contains(&byte))
        };
        sent.and_then(|value| value.to_str().ok())
            .filter(safe)
            .map_or_else(
                || Self(uuid::Uuid::new_v4().to_string()),
                |id| Self(id.to_owned()),
            )
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

/// The span each request is served in: tracing-actix-web's fields, with our request id and the
/// client's address as [`TrustedProxies`] reads it (not as any `X-Forwarded-For` claims). The
/// path is logged without its query.
#[derive(Debug)]
pub(crate) struct RequestSpan;

impl RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let id = RequestId::from_header(request.headers().get(X_REQUEST_ID));
        let client = request
            .app_data::<web::Data<TrustedProxies>>()
            .and_then(|proxies| proxies.client_of(request.request()))
            .map(|address| address.to_string())
            .unwrap_or_default();
        // Before routing, and before the trailing slash is trimmed: the pattern of the route that
        // will serve the request, found by the path it will be routed by.
        let route = request
            .resource_map()
            .match_pattern(crate::trailing_slash::routed_path(request.path()))
            .unwrap_or_else(|| "default".to_owned());
        let span = tracing::info_span!(
            "HTTP request",
            http.method = %request.method(),
            http.route = %route,
            http.target = %request.path(),
            http.client_ip = %client,
            http.status_code = Empty,
            otel.status_code = Empty,
            exception.message = Empty,
            exception.details = Empty,
            request_id = %id.as_str(),
        );
        request.extensions_mut().insert(id);
        span
    }

    /// Records the status (and the error, if any) on the span, and writes the request's access
    /// log line: one a request, in its span, so it carries the request id.
    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        let status = match outcome {
            Ok(response) => response.status(),
            Err(error) => error.as_response_error().status_code(),
        };
        DefaultRootSpanBuilder::on_request_end(span.clone(), outcome);
        span.in_scope(|| tracing::info!(status = status.as_u16(), "answered"));
    }
}

/// Middleware: the response carries its request's id; while the server drains, it also closes
/// its connection; the request counts as in flight until its handler answers (see
/// [`crate::Draining`]); and its body, if it announces one, is read with an idle timeout, and
/// the connection closes after the answer if the body was not read to its end
/// ([`crate::body`]).
pub(crate) async fn answer_with_id(
    mut request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let serving = request
        .app_data::<crate::Draining>()
        .map(crate::Draining::serving);
    let body =
        crate::body::announces_body(request.request()).then(|| crate::body::watch(&mut request));
    let mut response = next.call(request).await?;
    drop(serving);
    let draining = response
        .request()
        .app_data::<crate::Draining>()
        .is_some_and(crate::Draining::is_draining);
    // A body the handler did not read to its end is drained now, within the idle timeout; one
    // that does not end closes its connection, else actix would wait for it after the answer.
    let unread = match body {
        Some(body) => !body.drain().await,
        None => false,
    };
    if draining || unread {
        response
            .response_mut()
            .head_mut()
            .set_connection_type(actix_web::http::ConnectionType::Close);
    }
    let id = response
        .request()
        .extensions()
        .get::<RequestId>()
        .and_then(|id| HeaderValue::from_str(id.as_str()).ok());
    if let Some(id) = id {
        response.headers_mut().insert(X_REQUEST_ID, id);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::HeaderValue;

    use super::RequestId;

    #[test]
    fn an_id_sent_is_kept_when_a_log_line_can_carry_it_and_replaced_otherwise() {
        let sent = |text: &str| {
            RequestId::from_header(Some(&HeaderValue::from_str(text).expect("a header value")))
        };
        let is_new_uuid = |id: RequestId| uuid::Uuid::parse_str(id.as_str()).is_ok();

        assert_eq!(sent("7f3a9c2e41d04b6f").as_str(), "7f3a9c2e41d04b6f");
        assert_eq!(sent("edge-1.a_b:c").as_str(), "edge-1.a_b:c");
        assert_eq!(sent(&"a".repeat(128)).as_str(), "a".repeat(128));
        assert!(is_new_uuid(sent(&"a".repeat(129))));
        assert!(is_new_uuid(sent("two words")));
        assert!(is_new_uuid(sent("quote\"d")));
        assert!(is_new_uuid(sent("")));
        assert!(is_new_uuid(RequestId::from_header(None)));
        assert_ne!(RequestId::from_header(None), RequestId::from_header(None));
    }
}
