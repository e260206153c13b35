use reqwest::Method;
use serde_json::json;

use conduit_e2e::TestApp;

#[tokio::test]
async fn the_users_journey_on_sqlite() {
    users_journey(TestApp::on_sqlite().await).await;
}

#[tokio::test]
async fn the_users_journey_on_postgres() {
    users_journey(TestApp::on_postgres().await).await;
}

/// Register, duplicate, login, wrong password, current user, update, tampered token, expired
/// token, unknown route: every step of the contract's users area, over real HTTP.
async fn users_journey(app: TestApp) {
    let suffix = conduit_test_support::unique();
    let username = format!("jake{suffix}");
    let email = format!("jake{suffix}@example.com");
    let registration = json!({"user": {"username": username, "email": email, "password": "correct horse battery"}});

    let (status, registered) = app
        .send(Method::POST, "/api/users", None, Some(registration.clone()))
        .await;
    assert_eq!(status, 201, "{registered}");
    assert_eq!(registered["user"]["username"], username.as_str());
    assert_eq!(registered["user"]["bio"], json!(null));

    let mut duplicate = registration.clone();
    duplicate["user"]["username"] = json!(username.to_uppercase());
    duplicate["user"]["email"] = json!(format!("other{suffix}@example.com"));
    let (status, duplicate) = app
        .send(Method::POST, "/api/users", None, Some(duplicate))
        .await;
    assert_eq!(
        (status, duplicate),
        (
            409,
            json!({"errors": {"username": ["has already been taken"]}})
        )
    );

    let login =
        |password: &str| json!({"user": {"email": email.to_uppercase(), "password": password}});
    let (status, logged_in) = app
        .send(
            Method::POST,
            "/api/users/login",
            None,
            Some(login("correct horse battery")),
        )
        .await;
    assert_eq!(status, 200, "{logged_in}");
    let token = logged_in["user"]["token"]
        .as_str()
        .expect("a token")
        .to_owned();

    let (status, refused) = app
        .send(
            Method::POST,
            "/api/users/login",
            None,
            Some(login("wrong password!")),
        )
        .await;
    assert_eq!(
        (status, refused),
        (
            401,
            json!({"errors": {"email or password": ["is invalid"]}})
        )
    );

    let (status, current) = app.send(Method::GET, "/api/user", Some(&token), None).await;
    assert_eq!(status, 200);
    assert_eq!(current["user"]["email"], email.as_str());

    let update =
        json!({"user": {"bio": "I work at statefarm", "image": "https://example.com/jake.png"}});
    let (status, updated) = app
        .send(Method::PUT, "/api/user", Some(&token), Some(update))
        .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["user"]["bio"], "I work at statefarm");
    let (_, reread) = app.send(Method::GET, "/api/user", Some(&token), None).await;
    assert_eq!(reread["user"]["image"], "https://example.com/jake.png");

    let mut tampered = token.clone().into_bytes();
    let middle = tampered.len() / 2;
    tampered[middle] = if tampered[middle] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).expect("still ASCII");
    let (status, body) = app
        .send(Method::GET, "/api/user", Some(&tampered), None)
        .await;
    assert_eq!(
        (status, body),
        (401, json!({"errors": {"token": ["is invalid"]}}))
    );

    let (status, body) = app.send(Method::GET, "/api/user", None, None).await;
    assert_eq!(
        (status, body),
        (401, json!({"errors": {"token": ["is missing"]}}))
    );

    app.clock.advance(time::Duration::hours(2));
    let (status, body) = app.send(Method::GET, "/api/user", Some(&token), None).await;
    assert_eq!(
        (status, body),
        (401, json!({"errors": {"token": ["has expired"]}}))
    );

    let (status, body) = app
        .send(Method::GET, "/api/no-such-route", None, None)
        .await;
    assert_eq!(
        (status, body),
        (404, json!({"errors": {"route": ["not found"]}}))
    );
}
