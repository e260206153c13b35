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

#[actix_web::test]
async fn a_known_path_with_an_unknown_method_is_a_json_404() {
    let state = Ports::default().state();

    let reply = send(&state, TestRequest::delete().uri("/api/users")).await;

    assert_eq!(reply.status, 404);
    assert_eq!(reply.body, json!({"errors": {"route": ["not found"]}}));
}

/// Each row: a raw body, its content type, and the status and envelope it must get.
#[actix_web::test]
async fn bad_bodies_get_the_error_envelope_and_never_a_500() {
    let state = Ports::default().state();
    let oversized = format!(
        r#"{{"user":{{"username":"{}"}}}}"#,
        "x".repeat(conduit_web::JSON_BODY_LIMIT + 1)
    );
    let cases: Vec<(&str, String, &str, u16, &str)> = vec![
        (
            "malformed JSON",
            "{\"user\": ".into(),
            "application/json",
            400,
            "body",
        ),
        ("not JSON", "hello".into(), "application/json", 400, "body"),
        (
            "wrong content type",
            r#"{"user":{}}"#.into(),
            "text/plain",
            415,
            "body",
        ),
        (
            "wrong type",
            r#"{"user":{"username":5}}"#.into(),
            "application/json",
            422,
            "username",
        ),
        (
            "missing wrapper",
            r#"{"username":"jake"}"#.into(),
            "application/json",
            422,
            "user",
        ),
        (
            "user is null",
            r#"{"user":null}"#.into(),
            "application/json",
            422,
            "user",
        ),
        ("too large", oversized, "application/json", 413, "body"),
    ];

    for (case, body, content_type, status, key) in cases {
        let request = TestRequest::post()
            .uri("/api/users")
            .insert_header(("content-type", content_type))
            .set_payload(body);

        let reply = send(&state, request).await;

        assert_eq!(reply.status, status, "{case}: {}", reply.body);
        assert!(
            reply.body["errors"][key][0].is_string(),
            "{case}: {}",
            reply.body
        );
    }
}

#[actix_web::test]
async fn a_store_failure_is_an_opaque_500_that_reveals_nothing() {
    let mut repository = conduit_domain::ports::MockUserRepository::new();
    repository.expect_find_by_email().returning(|_| {
        Err(conduit_domain::ports::StoreError::Unavailable(
            "error returned from database: password authentication failed for user \"conduit\""
                .into(),
        ))
    });
    let state = Ports {
        repository: std::sync::Arc::new(repository),
        ..Ports::default()
    }
    .state();
    let login = json!({"user": {"email": "jake@example.com", "password": "correct horse"}});

    let reply = send(
        &state,
        TestRequest::post().uri("/api/users/login").set_json(login),
    )
    .await;

    assert_eq!(reply.status, 500);
    assert_eq!(
        reply.body,
        json!({"errors": {"server": ["something went wrong"]}})
    );
}
