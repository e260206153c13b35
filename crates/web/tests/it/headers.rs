use actix_web::http::header;
use actix_web::test::{self, TestRequest};

use crate::support::{Ports, registration, send};

#[actix_web::test]
async fn every_response_carries_the_security_headers_errors_included() {
    let state = Ports::default().state();

    for request in [
        TestRequest::get().uri("/api/articles"),
        TestRequest::get().uri("/api/no-such-route"),
        TestRequest::get().uri("/api/user"),
        TestRequest::post()
            .uri("/api/users")
            .set_json(registration("jake")),
    ] {
        let reply = send(&state, request).await;
        assert_eq!(
            reply.header("x-content-type-options"),
            Some("nosniff"),
            "{}",
            reply.status
        );
        assert_eq!(reply.header("x-frame-options"), Some("DENY"));
        assert_eq!(
            reply.header("content-security-policy"),
            Some("frame-ancestors 'none'")
        );
        assert_eq!(reply.header("cache-control"), Some("no-store"));
    }
}

/// The status and `Access-Control-Allow-*` headers of a CORS preflight from `origin`.
async fn preflight(origins: &[&str], origin: &str) -> (u16, actix_web::http::header::HeaderMap) {
    let origins: Vec<String> = origins.iter().map(|origin| (*origin).to_owned()).collect();
    let settings = conduit_web::HttpSettings {
        cors_allowed_origins: origins,
        ..conduit_web::HttpSettings::default()
    };
    let app = test::init_service(conduit_web::app(Ports::default().state().state, settings)).await;
    let request = TestRequest::default()
        .method(actix_web::http::Method::OPTIONS)
        .uri("/api/articles")
        .insert_header((header::ORIGIN, origin))
        .insert_header((header::ACCESS_CONTROL_REQUEST_METHOD, "POST"))
        .insert_header((
            header::ACCESS_CONTROL_REQUEST_HEADERS,
            "authorization, content-type",
        ))
        .to_request();
    let response = test::call_service(&app, request).await;
    (response.status().as_u16(), response.headers().clone())
}

fn allowed_origin(headers: &actix_web::http::header::HeaderMap) -> Option<&str> {
    headers
        .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
        .and_then(|value| value.to_str().ok())
}

#[actix_web::test]
async fn a_configured_origin_may_call_and_another_may_not() {
    let (status, allowed) = preflight(&["https://app.example"], "https://app.example").await;
    let (_, refused) = preflight(&["https://app.example"], "https://evil.example").await;

    assert_eq!(status, 200);
    assert_eq!(allowed_origin(&allowed), Some("https://app.example"));
    assert_eq!(allowed_origin(&refused), None);
}

#[actix_web::test]
async fn any_origin_never_comes_with_credentials() {
    let (_, headers) = preflight(&["*"], "https://anyone.example").await;

    assert_eq!(allowed_origin(&headers), Some("*"));
    assert!(
        headers
            .get(header::ACCESS_CONTROL_ALLOW_CREDENTIALS)
            .is_none()
    );
}

#[actix_web::test]
async fn a_refused_preflight_answers_in_the_error_envelope_with_the_security_headers() {
    let settings = conduit_web::HttpSettings {
        cors_allowed_origins: vec!["https://app.example".to_owned()],
        ..conduit_web::HttpSettings::default()
    };
    let app = test::init_service(conduit_web::app(Ports::default().state().state, settings)).await;
    let preflight = TestRequest::default()
        .method(actix_web::http::Method::OPTIONS)
        .uri("/api/articles")
        .insert_header((header::ORIGIN, "https://evil.example"))
        .insert_header((header::ACCESS_CONTROL_REQUEST_METHOD, "POST"));

    let response = test::call_service(&app, preflight.to_request()).await;

    assert_eq!(response.status().as_u16(), 400);
    assert_eq!(allowed_origin(response.headers()), None);
    assert_eq!(
        response.headers().get(header::X_CONTENT_TYPE_OPTIONS),
        Some(&header::HeaderValue::from_static("nosniff"))
    );
    // The refusal's own plain-text type and length are not carried over to the envelope.
    assert_eq!(
        response.headers().get(header::CONTENT_TYPE),
        Some(&header::HeaderValue::from_static("application/json"))
    );
    let body = test::read_body(response).await;
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&body).expect("a JSON body"),
        serde_json::json!({"errors": {"origin": ["is not allowed"]}})
    );
}

#[actix_web::test]
async fn every_answer_carries_a_request_id_the_callers_when_safe_else_a_new_one() {
    let state = Ports::default().state();
    let with_id = |uri: &str, id: &str| {
        TestRequest::get()
            .uri(uri)
            .insert_header(("x-request-id", id.to_owned()))
    };

    let tags = send(&state, TestRequest::get().uri("/api/tags")).await;
    let again = send(&state, TestRequest::get().uri("/api/tags")).await;
    let not_found = send(&state, with_id("/api/nope", "edge-7f3a9c2e")).await;
    let unsafe_id = send(&state, with_id("/api/tags", "two words")).await;

    let generated = tags.header("x-request-id").expect("an id");
    assert!(uuid_like(generated), "{generated}");
    assert_ne!(again.header("x-request-id"), Some(generated));
    assert_eq!(
        (not_found.status, not_found.header("x-request-id")),
        (404, Some("edge-7f3a9c2e"))
    );
    let replaced = unsafe_id.header("x-request-id").expect("an id");
    assert!(uuid_like(replaced), "{replaced}");
}

fn uuid_like(id: &str) -> bool {
    id.len() == 36 && id.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
}

/// What the server logs while it serves a request is in that request's span, which names the
/// request id: the line that says why a token was refused can be found from the response.
#[actix_web::test]
async fn the_log_lines_of_a_request_carry_its_id() {
    let buffer = conduit_test_support::LogBuffer::default();
    let _default = tracing::subscriber::set_default(buffer.subscriber());
    let state = Ports::default().state();

    let reply = send(
        &state,
        TestRequest::get()
            .uri("/api/user")
            .insert_header(("authorization", "Token not-a-jwt"))
            .insert_header(("x-request-id", "trace-me-42")),
    )
    .await;

    assert_eq!(reply.status, 401);
    let log = buffer.text();
    let refused: Vec<&str> = log
        .lines()
        .filter(|line| line.contains("token refused"))
        .collect();
    assert_eq!(refused.len(), 1, "{log}");
    assert!(refused[0].contains("request_id=trace-me-42"), "{log}");
    // And its access log line, with the status it was answered with.
    let answered: Vec<&str> = log
        .lines()
        .filter(|line| line.contains("answered"))
        .collect();
    assert_eq!(answered.len(), 1, "{log}");
    assert!(answered[0].contains("request_id=trace-me-42"), "{log}");
    assert!(answered[0].contains("status=401"), "{log}");
}

/// Once the server drains (shutdown has begun), every answer closes its connection, so that a
/// proxy stops reusing connections to this instance; before, connections are kept alive.
#[actix_web::test]
async fn while_the_server_drains_every_answer_closes_its_connection() {
    use actix_web::http::ConnectionType;
    let settings = conduit_web::HttpSettings::default();
    let draining = settings.draining.clone();
    let app = test::init_service(conduit_web::app(Ports::default().state().state, settings)).await;
    let live = || TestRequest::get().uri("/health/live").to_request();

    let before = test::call_service(&app, live()).await;
    draining.start();
    let during = test::call_service(&app, live()).await;

    assert_ne!(
        before.response().head().connection_type(),
        ConnectionType::Close
    );
    assert_eq!(during.status().as_u16(), 200);
    assert_eq!(
        during.response().head().connection_type(),
        ConnectionType::Close
    );
}
