use actix_web::test::TestRequest;
use serde_json::json;

use crate::support::{Ports, send};

/// One row: a method and path, each sent without and with one trailing slash; both must get the
/// same status and body.
async fn check_same(method: &str, path: &str) {
    let state = Ports::default().state();
    let method = actix_web::http::Method::from_bytes(method.as_bytes()).expect("a method");

    let bare = send(
        &state,
        TestRequest::default().method(method.clone()).uri(path),
    )
    .await;
    let slashed = send(
        &state,
        TestRequest::default()
            .method(method)
            .uri(&format!("{path}/")),
    )
    .await;

    assert_eq!(
        (slashed.status, slashed.header("allow"), &slashed.body),
        (bare.status, bare.header("allow"), &bare.body),
        "{path}/"
    );
}

#[actix_web::test]
async fn a_trailing_slash_changes_nothing_for_reads_refusals_404s_and_405s() {
    check_same("GET", "/api/tags").await;
    check_same("GET", "/api/articles").await;
    check_same("GET", "/api/user").await;
    check_same("GET", "/api/articles/feed").await;
    check_same("GET", "/api/profiles/nobody").await;
    check_same("POST", "/api/articles").await;
    check_same("GET", "/health/live").await;
    check_same("GET", "/health/ready").await;
    check_same("GET", "/api/openapi.json").await;
    check_same("TRACE", "/api/user").await;
    check_same("PATCH", "/api/articles/how-to-train").await;
    check_same("DELETE", "/health/ready").await;
    check_same("GET", "/api/nope").await;
}

#[actix_web::test]
async fn a_trailing_slash_keeps_the_query() {
    let state = Ports::default().state();

    let reply = send(&state, TestRequest::get().uri("/api/articles/?limit=0")).await;

    assert_eq!(
        (reply.status, reply.body),
        (
            422,
            json!({"errors": {"limit": ["must be a whole number of at least 1"]}})
        )
    );
}

/// Only one slash is ignored, and repeated slashes inside a path are not merged: an empty
/// username or slug is still no route.
#[actix_web::test]
async fn two_trailing_slashes_and_empty_segments_are_still_404() {
    let state = Ports::default().state();

    for path in [
        "/api/tags//",
        "/api/articles//",
        "/api/profiles//follow/",
        "/api/articles//comments/",
        "//",
    ] {
        let reply = send(&state, TestRequest::get().uri(path)).await;

        assert_eq!(
            (reply.status, reply.body),
            (404, json!({"errors": {"route": ["not found"]}})),
            "{path}"
        );
    }
}

/// The access log line names the path as it was sent, slash included, and the route it was
/// served by.
#[actix_web::test]
async fn the_path_is_logged_as_it_was_sent_with_the_route_that_served_it() {
    let buffer = conduit_test_support::LogBuffer::default();
    let _default = tracing::subscriber::set_default(buffer.subscriber());
    let state = Ports::default().state();

    let tags = send(&state, TestRequest::get().uri("/api/tags/")).await;
    let article = send(&state, TestRequest::get().uri("/api/articles/no-such/")).await;

    assert_eq!((tags.status, article.status), (200, 404));
    let log = buffer.text();
    let answered: Vec<&str> = log
        .lines()
        .filter(|line| line.contains("answered"))
        .collect();
    assert_eq!(answered.len(), 2, "{log}");
    assert!(answered[0].contains("http.target=/api/tags/"), "{log}");
    assert!(answered[0].contains("http.route=/api/tags "), "{log}");
    assert!(
        answered[1].contains("http.route=/api/articles/{slug} "),
        "{log}"
    );
}
