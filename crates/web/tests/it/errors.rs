use actix_web::test::TestRequest;
use serde_json::json;

use crate::support::{Ports, send};

#[actix_web::test]
async fn an_unknown_route_is_a_json_404() {
    let state = Ports::default().state();

    let reply = send(&state, TestRequest::get().uri("/api/nope")).await;

    assert_eq!(
        (reply.status, reply.body),
        (404, json!({"errors": {"route": ["not found"]}}))
    );
}

/// One row: a method and path no route serves, and the `Allow` header its 405 must carry.
async fn check_not_allowed(method: &str, path: &str, allow: &str) {
    let state = Ports::default().state();
    let method = actix_web::http::Method::from_bytes(method.as_bytes()).expect("a method");

    let reply = send(&state, TestRequest::default().method(method).uri(path)).await;

    assert_eq!(
        (reply.status, reply.header("allow")),
        (405, Some(allow)),
        "{path}"
    );
    assert!(
        reply.body["errors"]["method"][0].is_string(),
        "{}",
        reply.body
    );
}

#[actix_web::test]
async fn a_known_path_with_an_undeclared_method_is_a_405_listing_the_allowed_ones() {
    check_not_allowed("DELETE", "/api/users", "POST").await;
    check_not_allowed("TRACE", "/api/user", "GET, PUT").await;
    check_not_allowed("PATCH", "/api/articles/how-to-train", "GET, PUT, DELETE").await;
    check_not_allowed("GET", "/api/articles/how-to-train/favorite", "POST, DELETE").await;
    check_not_allowed("POST", "/api/profiles/jake", "GET").await;
    check_not_allowed("PUT", "/api/tags", "GET").await;
    check_not_allowed("DELETE", "/health/ready", "GET").await;
}

#[actix_web::test]
async fn an_unknown_path_under_any_method_is_a_json_404() {
    let state = Ports::default().state();

    for request in [
        TestRequest::delete().uri("/api/nope"),
        TestRequest::get().uri("/api/articles/a/b/c"),
        TestRequest::post().uri("/api/profiles//follow"),
    ] {
        let reply = send(&state, request).await;

        assert_eq!(reply.status, 404);
        assert_eq!(reply.body, json!({"errors": {"route": ["not found"]}}));
    }
}

const JSON: &str = "application/json";

/// One row: a raw body sent to `POST /api/users` with `content_type`, and the status and the
/// envelope's error key it must get.
async fn check(body: &str, content_type: &str, (status, key): (u16, &str)) {
    let state = Ports::default().state();
    let request = TestRequest::post()
        .uri("/api/users")
        .insert_header(("content-type", content_type))
        .set_payload(body.to_owned());

    let reply = send(&state, request).await;

    let shown: String = body.chars().take(40).collect();
    assert_eq!(reply.status, status, "{shown}: {}", reply.body);
    assert!(
        reply.body["errors"][key][0].is_string(),
        "{shown}: {}",
        reply.body
    );
}

#[actix_web::test]
async fn bad_bodies_get_the_error_envelope_and_never_a_500() {
    let oversized = format!(
        r#"{{"user":{{"username":"{}"}}}}"#,
        "x".repeat(conduit_web::JSON_BODY_LIMIT + 1)
    );

    check("{\"user\": ", JSON, (400, "body")).await; // malformed JSON
    check("hello", JSON, (400, "body")).await; // not JSON
    check(r#"{"user":{}}"#, "text/plain", (415, "body")).await;
    check(r#"{"user":{"username":5}}"#, JSON, (422, "username")).await;
    check(r#"{"username":"jake"}"#, JSON, (422, "user")).await; // missing wrapper
    check(r#"{"user":null}"#, JSON, (422, "user")).await;
    check(&oversized, JSON, (413, "body")).await;
}

#[actix_web::test]
async fn a_query_that_cannot_be_read_is_a_422_in_the_envelope() {
    let state = Ports::default().state();

    // Each filter is one value: a second `tag` cannot be read into it.
    let bad_query = send(&state, TestRequest::get().uri("/api/articles?tag=a&tag=b")).await;

    assert_eq!(
        (bad_query.status, bad_query.body),
        (
            422,
            serde_json::json!({"errors": {"tag": ["may be given only once"]}})
        )
    );
}

/// The limit is sized for the largest legitimate body (a 50,000-character article in four-byte
/// characters): a body of exactly `JSON_BODY_LIMIT` bytes is read and judged on its content, one
/// byte more is refused unread.
#[actix_web::test]
async fn a_body_of_exactly_the_limit_is_read_and_one_byte_more_is_refused() {
    let wrapper = r#"{"user":{"username":""}}"#.len();
    let at_limit = |extra: usize| {
        format!(
            r#"{{"user":{{"username":"{}"}}}}"#,
            "x".repeat(conduit_web::JSON_BODY_LIMIT - wrapper + extra)
        )
    };
    const { assert!(conduit_web::JSON_BODY_LIMIT >= 50_000 * 4) };
    assert_eq!(at_limit(0).len(), conduit_web::JSON_BODY_LIMIT);

    check(&at_limit(0), JSON, (422, "username")).await; // read, then too long a name
    check(&at_limit(1), JSON, (413, "body")).await;
}

/// A login answered by a store whose user lookup fails with `error`.
async fn login_against_a_store_that_answers(
    error: conduit_domain::ports::StoreError,
) -> crate::support::Reply {
    let mut repository = conduit_domain::ports::MockUserRepository::new();
    repository
        .expect_find_by_email()
        .returning(move |_| Err(error.clone()));
    let state = Ports {
        repository: std::sync::Arc::new(repository),
        ..Ports::default()
    }
    .state();
    let login = json!({"user": {"email": "jake@example.com", "password": "correct horse"}});

    send(
        &state,
        TestRequest::post().uri("/api/users/login").set_json(login),
    )
    .await
}

#[actix_web::test]
async fn a_store_failure_is_an_opaque_500_that_reveals_nothing() {
    let reply = login_against_a_store_that_answers(conduit_domain::ports::StoreError::Unavailable(
        "error returned from database: password authentication failed for user \"conduit\"".into(),
    ))
    .await;

    assert_eq!(reply.status, 500);
    assert_eq!(
        reply.body,
        json!({"errors": {"server": ["something went wrong"]}})
    );
}

/// A database that is down, restarting or out of connections is not a fault of the request: a
/// 503 the client may retry, saying no more than that.
#[actix_web::test]
async fn an_unreachable_database_is_a_503_that_reveals_nothing() {
    let reply = login_against_a_store_that_answers(conduit_domain::ports::StoreError::Unreachable(
        "pool timed out while waiting for an open connection to db.internal:5432".into(),
    ))
    .await;

    assert_eq!(reply.status, 503);
    assert_eq!(
        reply.body,
        json!({"errors": {"database": ["could not be reached or did not answer in time; try again shortly"]}})
    );
}
