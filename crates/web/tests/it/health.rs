use actix_web::test::TestRequest;

use crate::support::{Ports, send};

#[actix_web::test]
async fn liveness_answers_whatever_the_database_does() {
    let state = Ports {
        ready: false,
        ..Ports::default()
    }
    .state();

    let reply = send(&state, TestRequest::get().uri("/health/live")).await;

    assert_eq!(
        (reply.status, reply.body),
        (200, serde_json::json!({"status": "ok"}))
    );
}

#[actix_web::test]
async fn readiness_follows_the_database() {
    let up = Ports::default().state();
    let down = Ports {
        ready: false,
        ..Ports::default()
    }
    .state();

    let ready = send(&up, TestRequest::get().uri("/health/ready")).await;
    let not_ready = send(&down, TestRequest::get().uri("/health/ready")).await;

    assert_eq!(ready.status, 200);
    assert_eq!(
        (not_ready.status, not_ready.body),
        (503, serde_json::json!({"status": "unavailable"}))
    );
}
