use std::sync::Arc;

use actix_web::test::TestRequest;
use conduit_domain::ports::{BreachCheckError, MockBreachedPasswords};
use conduit_domain::throttle::ThrottlePolicy;
use serde_json::json;

use crate::support::{Conduit, Ports, Reply, TestUser, authed, registration, send, send_with};

fn refresh(token: &str) -> TestRequest {
    TestRequest::post()
        .uri("/api/users/refresh")
        .set_json(json!({ "refreshToken": token }))
}

#[actix_web::test]
async fn a_refresh_answers_a_new_pair_and_uses_the_old_token_up() {
    let state = Ports::default().state();
    let TestUser {
        refresh_token: first,
        ..
    } = state.register("jake").await;

    let refreshed = send(&state, refresh(&first)).await;
    let replayed = send(&state, refresh(&first)).await;

    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    assert_eq!(refreshed.header("cache-control"), Some("no-store"));
    let user = &refreshed.body["user"];
    assert_eq!(user["username"], "jake");
    assert_eq!(user["refreshToken"], "refresh-2");
    assert_eq!(user["token"], "fake-token-1.1");
    assert_eq!(
        (replayed.status, replayed.body),
        (401, json!({"errors": {"refreshToken": ["is invalid"]}}))
    );
}

#[actix_web::test]
async fn a_replayed_token_revokes_the_session_so_the_newest_token_fails_too() {
    let state = Ports::default().state();
    let TestUser {
        refresh_token: first,
        ..
    } = state.register("jake").await;
    let second = send(&state, refresh(&first)).await.body["user"]["refreshToken"]
        .as_str()
        .expect("a refresh token")
        .to_owned();

    send(&state, refresh(&first)).await;
    let newest = send(&state, refresh(&second)).await;

    assert_eq!(newest.status, 401);
}

#[actix_web::test]
async fn an_access_token_is_no_refresh_token_and_a_blank_one_is_invalid_input() {
    let state = Ports::default().state();
    let TestUser { token: access, .. } = state.register("jake").await;

    let swapped = send(&state, refresh(&access)).await;
    let blank = send(&state, refresh("")).await;

    assert_eq!(swapped.status, 401);
    assert_eq!(
        (blank.status, blank.body),
        (422, json!({"errors": {"refreshToken": ["can't be blank"]}}))
    );
}

#[actix_web::test]
async fn a_refresh_token_is_no_access_token() {
    let state = Ports::default().state();
    let TestUser { refresh_token, .. } = state.register("jake").await;

    let reply = send(
        &state,
        authed(TestRequest::get().uri("/api/user"), &refresh_token),
    )
    .await;

    assert_eq!(reply.status, 401);
}

#[actix_web::test]
async fn logout_ends_the_session_and_logout_all_every_session() {
    let state = Ports::default().state();
    let TestUser {
        token: access,
        refresh_token: first_session,
        ..
    } = state.register("jake").await;
    let login = || {
        TestRequest::post().uri("/api/users/login").set_json(
            json!({"user": {"email": "jake@example.com", "password": "correct horse battery"}}),
        )
    };
    let second_session = send(&state, login()).await.body["user"]["refreshToken"]
        .as_str()
        .expect("a refresh token")
        .to_owned();
    let third = send(&state, login()).await.body["user"].clone();

    let logout = send(
        &state,
        authed(TestRequest::post().uri("/api/users/logout"), &access),
    )
    .await;
    let first_after = send(&state, refresh(&first_session)).await;
    let second_after_logout = send(&state, refresh(&second_session)).await;
    let third_access = third["token"].as_str().expect("a token");
    let logout_all = send(
        &state,
        authed(
            TestRequest::post().uri("/api/users/logout-all"),
            third_access,
        ),
    )
    .await;
    let third_after = send(
        &state,
        refresh(third["refreshToken"].as_str().expect("a token")),
    )
    .await;

    assert_eq!(logout.status, 204);
    assert_eq!(first_after.status, 401);
    assert_eq!(second_after_logout.status, 200, "another session lives on");
    assert_eq!(logout_all.status, 204);
    assert_eq!(third_after.status, 401);
}

#[actix_web::test]
async fn logging_out_needs_an_access_token() {
    let state = Ports::default().state();

    for path in ["/api/users/logout", "/api/users/logout-all"] {
        let reply = send(&state, TestRequest::post().uri(path)).await;
        assert_eq!(reply.status, 401, "{path}");
    }
}

#[actix_web::test]
async fn too_many_failed_logins_answer_429_with_retry_after() {
    let state = Ports {
        throttle: ThrottlePolicy {
            max_failures_per_account: 2,
            ..ThrottlePolicy::default()
        },
        ..Ports::default()
    }
    .state();
    state.register("jake").await;
    let wrong = || {
        TestRequest::post()
            .uri("/api/users/login")
            .set_json(json!({"user": {"email": "jake@example.com", "password": "wrong password"}}))
    };

    let first = send(&state, wrong()).await;
    let second = send(&state, wrong()).await;
    let third = send(&state, wrong()).await;

    assert_eq!((first.status, second.status), (401, 401));
    assert_eq!(third.status, 429);
    assert_eq!(third.header("retry-after"), Some("900"));
    assert!(third.body["errors"]["login"].is_array(), "{}", third.body);
}

/// Failed logins counted per client address, with `max_failures_per_client` of 2: behind a
/// trusted proxy each client has its own count, and a client that talks to the server directly
/// cannot escape its count by writing `X-Forwarded-For` itself.
#[actix_web::test]
async fn login_throttling_counts_each_client_behind_a_trusted_proxy_and_ignores_a_forged_header() {
    let state = Ports {
        throttle: ThrottlePolicy {
            max_failures_per_client: 2,
            ..ThrottlePolicy::default()
        },
        ..Ports::default()
    }
    .state();
    let settings = || conduit_web::HttpSettings {
        trusted_proxies: conduit_web::TrustedProxies::parse("10.0.0.0/8").expect("a valid list"),
        ..conduit_web::HttpSettings::default()
    };
    // Each attempt is for another unknown account, so only the address's count can refuse it.
    let attempt = |n: usize, peer: &str, forwarded_for: &str| {
        TestRequest::post()
            .uri("/api/users/login")
            .peer_addr(peer.parse().expect("a socket address"))
            .insert_header(("x-forwarded-for", forwarded_for.to_owned()))
            .set_json(json!({"user": {"email": format!("nobody{n}@example.com"), "password": "wrong password"}}))
    };
    let statuses = |replies: &[Reply]| replies.iter().map(|reply| reply.status).collect::<Vec<_>>();

    let mut behind_proxy = Vec::new();
    for (n, client) in ["203.0.113.7", "203.0.113.7", "203.0.113.7", "198.51.100.9"]
        .iter()
        .enumerate()
    {
        behind_proxy
            .push(send_with(&state, settings(), attempt(n, "10.0.0.5:40000", client)).await);
    }
    let mut direct = Vec::new();
    for (n, forged) in ["1.1.1.1", "2.2.2.2", "3.3.3.3"].iter().enumerate() {
        direct.push(
            send_with(
                &state,
                settings(),
                attempt(10 + n, "192.0.2.44:40000", forged),
            )
            .await,
        );
    }

    assert_eq!(statuses(&behind_proxy), [401, 401, 429, 401]);
    assert_eq!(statuses(&direct), [401, 401, 429]);
}

#[actix_web::test]
async fn a_breached_password_is_a_422_and_an_unavailable_check_a_503() {
    let mut breaches = MockBreachedPasswords::new();
    breaches
        .expect_check()
        .withf(|password| password.expose() == "correct horse battery")
        .returning(|_| Ok(Some(3)));
    breaches
        .expect_check()
        .returning(|_| Err(BreachCheckError("timed out".into())));
    let state = Ports {
        breaches: Arc::new(breaches),
        ..Ports::default()
    }
    .state();
    let mut other = registration("jane");
    other["user"]["password"] = json!("some other password");

    let breached = send(
        &state,
        TestRequest::post()
            .uri("/api/users")
            .set_json(registration("jake")),
    )
    .await;
    let unchecked = send(
        &state,
        TestRequest::post().uri("/api/users").set_json(other),
    )
    .await;

    assert_eq!(breached.status, 422);
    assert!(
        breached.body["errors"]["password"][0]
            .as_str()
            .is_some_and(|message| message.contains("3 known data breaches")),
        "{}",
        breached.body
    );
    assert_eq!(
        (unchecked.status, unchecked.body),
        (
            503,
            json!({"errors": {"password": ["could not be checked against known breaches; try again later"]}})
        )
    );
}

#[actix_web::test]
async fn a_common_password_is_refused_by_name() {
    let state = Ports::default().state();
    let mut common = registration("jake");
    common["user"]["password"] = json!("password123");

    let reply = send(
        &state,
        TestRequest::post().uri("/api/users").set_json(common),
    )
    .await;

    assert_eq!(
        (reply.status, reply.body),
        (422, json!({"errors": {"password": ["is too common"]}}))
    );
}
