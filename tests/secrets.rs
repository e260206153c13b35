//! No response body and no log line ever shows a password, a password hash, the JWT secret, or a
//! token where it does not belong, and no log line shows SQL text: a whole journey (with failures) runs against the real server,
//! logging through the server's own subscriber at `trace` into a buffer, and both are searched.
//!
//! A binary of its own: it installs the global subscriber.

use conduit_test_support::LogBuffer;

use conduit_server::Config;
use reqwest::Method;
use serde_json::{Value, json};

use conduit_e2e::TestApp;

const SECRET: &str = "the-jwt-secret-that-must-never-be-seen-anywhere";
const PASSWORD: &str = "first correct horse battery";
const NEW_PASSWORD: &str = "second correct horse battery";
const WRONG_PASSWORD: &str = "a wrong horse battery";

/// Every response of the journey: (what was asked, the body as sent).
#[derive(Default)]
struct Responses(Vec<(String, String)>);

impl Responses {
    async fn send(
        &mut self,
        app: &TestApp,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let (status, response) = app.send(method.clone(), path, token, body).await;
        self.0
            .push((format!("{method} {path} -> {status}"), response.to_string()));
        (status, response)
    }
}

fn field(body: &Value, name: &str) -> String {
    body["user"][name].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn no_response_or_log_line_shows_a_secret() {
    let variables = [
        ("JWT_SECRET", SECRET),
        ("RUST_LOG", "trace"),
        ("LOG_FORMAT", "json"),
        ("LOGIN_MAX_FAILURES", "2"),
    ];
    let config = Config::from_lookup(|name| {
        variables
            .iter()
            .find(|(variable, _)| *variable == name)
            .map(|(_, value)| (*value).to_owned())
    })
    .expect("a valid configuration");
    let logs = LogBuffer::default();
    let writer = logs.clone();
    tracing::subscriber::set_global_default(conduit_server::telemetry::subscriber(
        &config,
        move || writer.clone(),
    ))
    .expect("no other subscriber in this binary");
    let app = TestApp::on_sqlite_with(&variables).await;
    let mut responses = Responses::default();
    let username = format!("jake{}", conduit_test_support::unique());
    let email = format!("{username}@example.com");
    let mut issued_refresh = Vec::new();
    let mut access = Vec::new();

    // Register, log in wrongly until throttled, log in, refresh, replay, change the password,
    // write, and use a forged and a refresh token as access tokens.
    let (_, registered) = responses
        .send(
            &app,
            Method::POST,
            "/api/users",
            None,
            Some(json!({"user": {"username": username, "email": email, "password": PASSWORD}})),
        )
        .await;
    issued_refresh.push(field(&registered, "refreshToken"));
    access.push(field(&registered, "token"));
    for _ in 0..3 {
        responses
            .send(
                &app,
                Method::POST,
                "/api/users/login",
                None,
                Some(json!({"user": {"email": email, "password": WRONG_PASSWORD}})),
            )
            .await;
    }
    app.clock.advance(time::Duration::hours(1));
    let (_, logged_in) = responses
        .send(
            &app,
            Method::POST,
            "/api/users/login",
            None,
            Some(json!({"user": {"email": email, "password": PASSWORD}})),
        )
        .await;
    issued_refresh.push(field(&logged_in, "refreshToken"));
    access.push(field(&logged_in, "token"));
    let (_, refreshed) = responses
        .send(
            &app,
            Method::POST,
            "/api/users/refresh",
            None,
            Some(json!({"refreshToken": issued_refresh[1]})),
        )
        .await;
    issued_refresh.push(field(&refreshed, "refreshToken"));
    access.push(field(&refreshed, "token"));
    responses
        .send(
            &app,
            Method::POST,
            "/api/users/refresh",
            None,
            Some(json!({"refreshToken": issued_refresh[1]})),
        )
        .await;
    responses
        .send(
            &app,
            Method::PUT,
            "/api/user",
            Some(&access[0]),
            Some(json!({"user": {"password": NEW_PASSWORD}})),
        )
        .await;
    responses
        .send(
            &app,
            Method::POST,
            "/api/users",
            None,
            Some(json!({"user": {"username": 5, "email": email, "password": PASSWORD}})),
        )
        .await;
    responses
        .send(
            &app,
            Method::POST,
            "/api/articles",
            Some(&access[0]),
            Some(json!({"article": {"title": "Hello", "description": "d", "body": "b"}})),
        )
        .await;
    responses
        .send(
            &app,
            Method::GET,
            "/api/user",
            Some(&issued_refresh[0]),
            None,
        )
        .await;
    responses
        .send(
            &app,
            Method::GET,
            "/api/user",
            Some(&format!("{}x", access[0])),
            None,
        )
        .await;

    let logs = logs.text();
    assert!(
        logs.contains("token refused"),
        "the server's logs were captured"
    );
    assert!(logs.contains("presented again"), "the replay was logged");
    // Every line written while a request was served names it, so a response's X-Request-Id
    // finds its lines.
    for line in logs.lines().filter(|line| line.contains("token refused")) {
        assert!(line.contains("\"request_id\":\""), "no request id: {line}");
    }
    for sql in ["SELECT ", "INSERT INTO", "UPDATE users"] {
        assert!(!logs.contains(sql), "the logs show SQL text ({sql:?})");
    }
    let never_anywhere = [PASSWORD, NEW_PASSWORD, WRONG_PASSWORD, SECRET, "$argon2"];
    for secret in never_anywhere {
        assert!(!logs.contains(secret), "the logs show {secret:?}");
        for (request, body) in &responses.0 {
            assert!(!body.contains(secret), "{request} answers {secret:?}");
        }
    }
    for token in issued_refresh.iter().chain(&access) {
        assert!(!token.is_empty());
        assert!(!logs.contains(token.as_str()), "the logs show a token");
        // A token appears in the one answer that issued it, and in no other.
        let shown = responses
            .0
            .iter()
            .filter(|(_, body)| body.contains(token.as_str()))
            .count();
        assert_eq!(shown, 1, "a token shows in {shown} answers");
    }
}
