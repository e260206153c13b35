use actix_web::test::TestRequest;
use serde_json::json;

use crate::support::{Conduit, Ports, authed, send};

#[actix_web::test]
async fn a_profile_answers_200_for_anyone_and_following_for_the_caller() {
    let state = Ports::default().state();
    state.register("jake").await;
    let jane = state.register("jane").await;
    send(
        &state,
        authed(
            TestRequest::post().uri("/api/profiles/jake/follow"),
            &jane.token,
        ),
    )
    .await;

    let anonymous = send(&state, TestRequest::get().uri("/api/profiles/jake")).await;
    let by_follower = send(
        &state,
        authed(TestRequest::get().uri("/api/profiles/JAKE"), &jane.token),
    )
    .await;

    assert_eq!(
        (anonymous.status, anonymous.body),
        (
            200,
            json!({"profile": {"username": "jake", "bio": null, "image": null, "following": false}})
        )
    );
    assert_eq!(by_follower.body["profile"]["following"], json!(true));
}

#[actix_web::test]
async fn an_unknown_profile_is_a_404_naming_the_profile() {
    let state = Ports::default().state();
    let jane = state.register("jane").await;

    for request in [
        TestRequest::get().uri("/api/profiles/nobody"),
        authed(
            TestRequest::post().uri("/api/profiles/nobody/follow"),
            &jane.token,
        ),
        authed(
            TestRequest::delete().uri("/api/profiles/nobody/follow"),
            &jane.token,
        ),
    ] {
        let reply = send(&state, request).await;
        assert_eq!(
            (reply.status, reply.body),
            (404, json!({"errors": {"profile": ["not found"]}}))
        );
    }
}

#[actix_web::test]
async fn follow_and_unfollow_are_idempotent_and_answer_the_profile() {
    let state = Ports::default().state();
    state.register("jake").await;
    let jane = state.register("jane").await;
    let follow = || {
        authed(
            TestRequest::post().uri("/api/profiles/jake/follow"),
            &jane.token,
        )
    };
    let unfollow = || {
        authed(
            TestRequest::delete().uri("/api/profiles/jake/follow"),
            &jane.token,
        )
    };

    for (request, following) in [
        (follow(), true),
        (follow(), true),
        (unfollow(), false),
        (unfollow(), false),
    ] {
        let reply = send(&state, request).await;
        assert_eq!(reply.status, 200);
        assert_eq!(reply.body["profile"]["following"], json!(following));
    }
}

#[actix_web::test]
async fn following_yourself_is_a_422() {
    let state = Ports::default().state();
    let jake = state.register("jake").await;

    let reply = send(
        &state,
        authed(
            TestRequest::post().uri("/api/profiles/jake/follow"),
            &jake.token,
        ),
    )
    .await;

    assert_eq!(reply.status, 422);
    assert!(reply.body["errors"]["profile"].is_array(), "{}", reply.body);
}

#[actix_web::test]
async fn following_needs_a_token_and_a_bad_optional_token_is_refused() {
    let state = Ports::default().state();
    state.register("jake").await;

    let anonymous_follow = send(&state, TestRequest::post().uri("/api/profiles/jake/follow")).await;
    let bad_token = send(
        &state,
        authed(TestRequest::get().uri("/api/profiles/jake"), "forged"),
    )
    .await;

    assert_eq!(
        (anonymous_follow.status, anonymous_follow.body),
        (401, json!({"errors": {"token": ["is missing"]}}))
    );
    assert_eq!(bad_token.status, 401);
}
