use actix_web::test::{TestRequest, call_service, init_service, read_body};
use actix_web::{App, HttpResponse, ResponseError, web};
use conduit_domain::ports::TokenError;
use conduit_domain::sessions::AuthError;

use super::{ApiError, into_envelope, json_config, path_config};

fn retry_after(wait: time::Duration) -> u64 {
    match ApiError::from(AuthError::Throttled { retry_after: wait }) {
        ApiError::TooManyRequests { retry_after_secs } => retry_after_secs,
        other => panic!("a throttled login must be a 429, not {other:?}"),
    }
}

/// `Retry-After` is in whole seconds: a part second rounds up, so a client that waits as long
/// as it is told is let in; it never says 0, which would invite an immediate retry.
#[test]
fn the_wait_is_rounded_up_to_whole_seconds_and_never_zero() {
    assert_eq!(retry_after(time::Duration::seconds(900)), 900);
    assert_eq!(retry_after(time::Duration::milliseconds(1_200)), 2);
    assert_eq!(retry_after(time::Duration::milliseconds(300)), 1);
    assert_eq!(retry_after(time::Duration::ZERO), 1);
}

/// The log lines written while `action` runs, from a subscriber of this thread only.
fn logged(action: impl FnOnce()) -> String {
    let buffer = conduit_test_support::LogBuffer::default();
    tracing::subscriber::with_default(buffer.subscriber(), action);
    buffer.text()
}

/// A 500 tells the client nothing, so its cause must reach the operator: it is logged as an
/// error. A refused token is logged too, at info, with why.
#[test]
fn the_cause_of_a_500_and_the_reason_a_token_was_refused_are_logged() {
    let log = logged(|| {
        let _ = ApiError::Internal("the pool timed out".to_owned()).error_response();
        let _ = ApiError::Unauthorized(TokenError::Expired).error_response();
    });

    assert!(log.contains("ERROR"), "{log}");
    assert!(log.contains("the pool timed out"), "{log}");
    assert!(log.contains("INFO"), "{log}");
    assert!(log.contains("has expired"), "{log}");
}

#[derive(Debug, serde::Deserialize)]
struct Probe {
    #[allow(dead_code)] // Read only to make serde check its type.
    count: u32,
}

/// A body of the wrong shape read by a typed `Json` extractor is a 422 in the envelope, and the
/// value sent (it could be a password) is not repeated back, as serde's message would.
#[actix_web::test]
async fn a_body_of_the_wrong_shape_is_a_422_that_does_not_echo_the_value() {
    let app = init_service(App::new().app_data(json_config()).route(
        "/probe",
        web::post().to(|_: web::Json<Probe>| async { HttpResponse::Ok().finish() }),
    ))
    .await;
    let request = TestRequest::post()
        .uri("/probe")
        .insert_header(("content-type", "application/json"))
        .set_payload(r#"{"count":"hunter2"}"#);

    let response = call_service(&app, request.to_request()).await;

    assert_eq!(response.status().as_u16(), 422);
    let body = read_body(response).await;
    let body = String::from_utf8_lossy(&body);
    assert!(body.contains(r#""body""#), "{body}");
    assert!(!body.contains("hunter2"), "{body}");
}

/// Every path parameter of the API is a string, which always reads; a typed one that does not
/// (a number, say) is a 422 in the envelope naming the path, not actix's plain-text 404.
#[actix_web::test]
async fn a_path_parameter_that_cannot_be_read_is_a_422_in_the_envelope() {
    let app = init_service(App::new().app_data(path_config()).route(
        "/items/{id}",
        web::get().to(|_: web::Path<u32>| async { HttpResponse::Ok().finish() }),
    ))
    .await;

    let response = call_service(&app, TestRequest::get().uri("/items/many").to_request()).await;

    assert_eq!(response.status().as_u16(), 422);
    let body: serde_json::Value =
        serde_json::from_slice(&read_body(response).await).expect("a JSON body");
    assert!(body["errors"]["path"][0].is_string(), "{body}");
}

/// A middleware's own plain-text refusal becomes the envelope: its status and headers stay, but
/// not its content type and length, which described the text, not the JSON.
#[actix_web::test]
async fn a_plain_text_refusal_keeps_its_headers_but_not_its_content_type_or_length() {
    use actix_web::body::MessageBody;
    use actix_web::dev::ServiceResponse;
    use actix_web::http::header;
    use actix_web::middleware::ErrorHandlerResponse;

    let refusal = HttpResponse::BadRequest()
        .insert_header((header::CONTENT_TYPE, "text/plain"))
        .insert_header((header::CONTENT_LENGTH, "7"))
        .insert_header((header::VARY, "Origin"))
        .body("refused");
    let response = ServiceResponse::new(TestRequest::default().to_http_request(), refusal);

    let Ok(ErrorHandlerResponse::Response(envelope)) = into_envelope(response) else {
        panic!("the refusal is answered at once");
    };

    assert_eq!(envelope.status().as_u16(), 400);
    let headers = envelope.headers().clone();
    assert_eq!(
        headers
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok()),
        Some("application/json")
    );
    assert_eq!(headers.get(header::CONTENT_LENGTH), None);
    assert_eq!(
        headers
            .get(header::VARY)
            .and_then(|value| value.to_str().ok()),
        Some("Origin")
    );
    let body = envelope
        .into_body()
        .try_into_bytes()
        .map_err(|_| "a streamed body")
        .expect("a body in memory");
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&body).expect("a JSON body"),
        serde_json::json!({"errors": {"request": ["bad request"]}})
    );
}
