use reqwest::Method;
use serde_json::{Value, json};

use conduit_e2e::{Call, Conduit, PASSWORD, TestApp};
use conduit_test_support::client::registration;

#[tokio::test]
async fn the_session_journey_on_sqlite() {
    session_journey(TestApp::on_sqlite().await).await;
}

#[tokio::test]
async fn the_session_journey_on_postgres() {
    session_journey(TestApp::on_postgres().await).await;
}

#[tokio::test]
async fn concurrent_refreshes_with_one_token_let_exactly_one_through_on_sqlite() {
    concurrent_refreshes(TestApp::on_sqlite().await).await;
}

#[tokio::test]
async fn concurrent_refreshes_with_one_token_let_exactly_one_through_on_postgres() {
    concurrent_refreshes(TestApp::on_postgres().await).await;
}

/// A new user's `user` object, as its registration answered it.
async fn register(app: &TestApp) -> Value {
    let username = format!("jake{}", conduit_test_support::unique());
    let body = app
        .call(Call::post("/api/users", registration(&username)))
        .await
        .expect(201);
    body["user"].clone()
}

/// The status and `user` object of a login.
async fn login(app: &TestApp, email: &str, password: &str) -> (u16, Value) {
    let reply = app.login(email, password).await;
    (reply.status, reply.body["user"].clone())
}

async fn refresh(app: &TestApp, token: &Value) -> (u16, Value) {
    let reply = app.refresh(token).await;
    (reply.status, reply.body)
}

fn text(value: &Value) -> &str {
    value.as_str().expect("a string")
}

/// Refresh, replay, logout, logout-all and a password change, over real HTTP.
async fn session_journey(app: TestApp) {
    let registered = register(&app).await;
    let email = text(&registered["email"]).to_owned();
    let first_refresh = registered["refreshToken"].clone();
    assert!(
        text(&first_refresh).len() >= 43,
        "at least 256 bits, base64url"
    );

    // A refresh answers a new pair; the old refresh token is used up.
    let (status, refreshed) = refresh(&app, &first_refresh).await;
    assert_eq!(status, 200, "{refreshed}");
    let second_refresh = refreshed["user"]["refreshToken"].clone();
    assert_ne!(second_refresh, first_refresh);
    let (status, _) = app
        .send(
            Method::GET,
            "/api/user",
            Some(text(&refreshed["user"]["token"])),
            None,
        )
        .await;
    assert_eq!(status, 200);

    // Replaying the used token is refused and revokes the session: the newest token dies too.
    let (status, replayed) = refresh(&app, &first_refresh).await;
    assert_eq!(
        (status, replayed),
        (401, json!({"errors": {"refreshToken": ["is invalid"]}}))
    );
    let (status, _) = refresh(&app, &second_refresh).await;
    assert_eq!(status, 401, "the whole session is revoked");

    // Tokens cannot stand in for each other.
    let (status, _) = refresh(&app, &registered["token"]).await;
    assert_eq!(status, 401);
    let (status, _) = app
        .send(Method::GET, "/api/user", Some(text(&second_refresh)), None)
        .await;
    assert_eq!(status, 401);

    // Three more sessions; a password change in one ends the others.
    let (_, kept) = login(&app, &email, PASSWORD).await;
    let (_, other) = login(&app, &email, PASSWORD).await;
    let (status, _) = app
        .send(
            Method::PUT,
            "/api/user",
            Some(text(&kept["token"])),
            Some(json!({"user": {"password": "a new passphrase"}})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = refresh(&app, &other["refreshToken"]).await;
    assert_eq!(status, 401, "another session ends with the password change");
    let (status, _) = app
        .send(Method::GET, "/api/user", Some(text(&other["token"])), None)
        .await;
    assert_eq!(status, 401, "and so does its access token, at once");
    let (status, kept_refreshed) = refresh(&app, &kept["refreshToken"]).await;
    assert_eq!(
        status, 200,
        "the session that changed the password lives on"
    );
    let (status, _) = login(&app, &email, PASSWORD).await;
    assert_eq!(status, 401, "the old password is gone");

    // Logout ends the caller's session.
    let (status, _) = app
        .send(
            Method::POST,
            "/api/users/logout",
            Some(text(&kept_refreshed["user"]["token"])),
            None,
        )
        .await;
    assert_eq!(status, 204);
    let (status, _) = refresh(&app, &kept_refreshed["user"]["refreshToken"]).await;
    assert_eq!(status, 401);
    let (status, body) = app
        .send(
            Method::GET,
            "/api/user",
            Some(text(&kept_refreshed["user"]["token"])),
            None,
        )
        .await;
    assert_eq!(
        (status, body),
        (401, json!({"errors": {"token": ["is invalid"]}})),
        "an access token ends with its session"
    );

    // Logout-all ends every session.
    let (_, one) = login(&app, &email, "a new passphrase").await;
    let (_, two) = login(&app, &email, "a new passphrase").await;
    let (status, _) = app
        .send(
            Method::POST,
            "/api/users/logout-all",
            Some(text(&one["token"])),
            None,
        )
        .await;
    assert_eq!(status, 204);
    for session in [&one, &two] {
        let (status, _) = refresh(&app, &session["refreshToken"]).await;
        assert_eq!(status, 401);
        let (status, _) = app
            .send(
                Method::POST,
                "/api/articles",
                Some(text(&session["token"])),
                Some(json!({"article": {"title": "After", "description": "d", "body": "b"}})),
            )
            .await;
        assert_eq!(status, 401, "no authenticated route takes it any more");
    }
}

async fn concurrent_refreshes(app: TestApp) {
    let registered = register(&app).await;
    let url = format!("{}/api/users/refresh", app.address);

    let attempts: Vec<_> = (0..6)
        .map(|_| {
            let request = app
                .client
                .post(&url)
                .json(&json!({"refreshToken": registered["refreshToken"]}))
                .send();
            tokio::spawn(request)
        })
        .collect();
    let mut statuses = Vec::new();
    for attempt in attempts {
        let response = attempt
            .await
            .expect("task completes")
            .expect("the server answers");
        statuses.push(response.status().as_u16());
    }
    statuses.sort_unstable();

    assert_eq!(statuses, [200, 401, 401, 401, 401, 401]);
}

#[tokio::test]
async fn tokens_survive_a_key_rotation_until_the_old_key_is_removed() {
    const OLD: &str = "the-old-signing-secret-of-32-bytes-or-more";
    const NEW: &str = "the-new-signing-secret-of-32-bytes-or-more";
    let before = TestApp::on_sqlite_with(&[("JWT_SECRET", OLD)]).await;
    let old_token = register(&before).await["token"].clone();

    // Restarted with a new signing key; the old one verifies only.
    let rotated = before
        .restart_with(&[("JWT_SECRET", NEW), ("JWT_PREVIOUS_SECRETS", OLD)])
        .await;
    let (status, _) = rotated
        .send(Method::GET, "/api/user", Some(text(&old_token)), None)
        .await;
    assert_eq!(status, 200, "a token of the previous key still works");
    let new_token = register(&rotated).await["token"].clone();

    // Restarted without the old key: its tokens stop working, the new ones do not.
    let retired = rotated.restart_with(&[("JWT_SECRET", NEW)]).await;
    let (old_status, _) = retired
        .send(Method::GET, "/api/user", Some(text(&old_token)), None)
        .await;
    let (new_status, _) = retired
        .send(Method::GET, "/api/user", Some(text(&new_token)), None)
        .await;
    assert_eq!((old_status, new_status), (401, 200));
}

#[tokio::test]
async fn failed_logins_are_throttled_until_the_window_passes() {
    let app =
        TestApp::on_sqlite_with(&[("LOGIN_MAX_FAILURES", "3"), ("LOGIN_FAILURE_WINDOW", "10m")])
            .await;
    let registered = register(&app).await;
    let email = text(&registered["email"]).to_owned();

    for _ in 0..3 {
        let (status, _) = login(&app, &email, "not the password").await;
        assert_eq!(status, 401);
    }
    let locked = app.login(&email, PASSWORD).await;
    assert_eq!(
        locked.status, 429,
        "locked, even with the right password: {}",
        locked.body
    );
    assert_eq!(locked.header("retry-after"), Some("600"));

    app.clock.advance(time::Duration::minutes(10));
    let (status, _) = login(&app, &email, PASSWORD).await;
    assert_eq!(status, 200);
}

/// A burst of wrong passwords for one account, all at once and across both stores' real
/// concurrency: exactly the limit are checked, the rest answer 429. When the throttle counted
/// before it recorded, every attempt of a burst was checked (134 of 150 in an attack run).
#[tokio::test]
async fn a_burst_of_failed_logins_is_checked_exactly_as_often_as_the_limit() {
    for app in [
        TestApp::on_sqlite_with(&[("LOGIN_MAX_FAILURES", "3")]).await,
        TestApp::on_postgres_with(&[("LOGIN_MAX_FAILURES", "3")]).await,
    ] {
        let registered = register(&app).await;
        let email = text(&registered["email"]).to_owned();
        let burst = (0..24).map(|_| login(&app, &email, "not the password"));
        let statuses: Vec<u16> = futures_util::future::join_all(burst)
            .await
            .into_iter()
            .map(|(status, _)| status)
            .collect();

        let checked = statuses.iter().filter(|status| **status == 401).count();
        let refused = statuses.iter().filter(|status| **status == 429).count();
        assert_eq!(checked, 3, "checked against a limit of 3: {statuses:?}");
        assert_eq!(checked + refused, 24, "{statuses:?}");
    }
}

/// `TRUSTED_PROXIES` reaches the running server: with the test client's 127.0.0.1 trusted as a
/// proxy, each forwarded client has its own count of failed logins.
#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_is_throttled_on_its_own() {
    let app = TestApp::on_sqlite_with(&[
        ("LOGIN_MAX_FAILURES_PER_ADDRESS", "2"),
        ("TRUSTED_PROXIES", "127.0.0.1"),
    ])
    .await;
    let attempt = |n: usize, client: &'static str| {
        let request = app
            .client
            .post(format!("{}/api/users/login", app.address))
            .header("x-forwarded-for", client)
            .json(&json!({"user": {"email": format!("nobody{n}@example.com"), "password": "wrong password"}}));
        async move {
            let response = request.send().await.expect("the server answers");
            response.status().as_u16()
        }
    };

    let mut statuses = Vec::new();
    for (n, client) in ["203.0.113.7", "203.0.113.7", "203.0.113.7", "198.51.100.9"]
        .into_iter()
        .enumerate()
    {
        statuses.push(attempt(n, client).await);
    }

    assert_eq!(statuses, [401, 401, 429, 401]);
}
