//! What the most used RealWorld clients do, against the server as `cargo run` starts it: the
//! official API test runner registers with `password`, the Angular frontend with `password123`,
//! and the frontend sends some requests with a trailing slash (`POST /api/articles/`).

use conduit_e2e::{Conduit, PASSWORD, TestApp, TestUser, test_config};
use conduit_server::Application;
use conduit_test_support::live::LiveClient;
use conduit_test_support::{LogBuffer, unique};
use reqwest::Method;
use serde_json::{Value, json};

/// The contract's operations, `METHOD PATH CODE...`, paths under `/api`.
const CONTRACT: &str = include_str!("../../crates/web/tests/contract-operations.txt");

/// Every operation served over plain HTTP, the contract's and the extensions, with the status it
/// answers when it succeeds.
const OPERATIONS: [(&str, &str, u16); 25] = [
    ("POST", "/api/users/login", 200),
    ("POST", "/api/users", 201),
    ("GET", "/api/user", 200),
    ("PUT", "/api/user", 200),
    ("GET", "/api/profiles/{username}", 200),
    ("POST", "/api/profiles/{username}/follow", 200),
    ("DELETE", "/api/profiles/{username}/follow", 200),
    ("GET", "/api/articles/feed", 200),
    ("GET", "/api/articles", 200),
    ("POST", "/api/articles", 201),
    ("GET", "/api/articles/{slug}", 200),
    ("PUT", "/api/articles/{slug}", 200),
    ("DELETE", "/api/articles/{slug}", 204),
    ("GET", "/api/articles/{slug}/comments", 200),
    ("POST", "/api/articles/{slug}/comments", 201),
    ("DELETE", "/api/articles/{slug}/comments/{id}", 204),
    ("POST", "/api/articles/{slug}/favorite", 200),
    ("DELETE", "/api/articles/{slug}/favorite", 200),
    ("GET", "/api/tags", 200),
    ("POST", "/api/users/refresh", 200),
    ("POST", "/api/users/logout", 204),
    ("POST", "/api/users/logout-all", 204),
    ("GET", "/api/openapi.json", 200),
    ("GET", "/health/live", 200),
    ("GET", "/health/ready", 200),
];

/// What an operation acts on: a user, logged in a second time, with an article that has a
/// comment, and another user to follow.
struct World {
    token: String,
    username: String,
    refresh_token: String,
    other: String,
    slug: String,
    comment_id: i64,
}

async fn world(app: &TestApp) -> World {
    let author = app.register(&format!("author{}", unique())).await;
    let other = app.register(&format!("other{}", unique())).await;
    let logged_in = app.login(&author.email, PASSWORD).await.expect(200);
    let again = TestUser::signed_in(app, &logged_in);
    let slug = author.publish(&format!("Slashes {}", unique()), &[]).await;
    let comment_id = author.comment(&slug, "First").await;
    World {
        token: author.token,
        username: author.username,
        refresh_token: again.refresh_token,
        other: other.username,
        slug,
        comment_id,
    }
}

/// The request that performs an operation in `world`: its path, token and body.
fn request(method: &str, template: &str, world: &World) -> (String, Option<String>, Option<Value>) {
    let path = template
        .replace("{username}", &world.other)
        .replace("{slug}", &world.slug)
        .replace("{id}", &world.comment_id.to_string());
    let username = format!("new{}", unique());
    let body = match (method, template) {
        ("POST", "/api/users") => Some(json!({"user": {
            "username": username, "email": format!("{username}@example.com"), "password": PASSWORD
        }})),
        ("POST", "/api/users/login") => Some(json!({"user": {
            "email": format!("{}@example.com", world.username), "password": PASSWORD
        }})),
        ("POST", "/api/users/refresh") => Some(json!({"refreshToken": world.refresh_token})),
        ("PUT", "/api/user") => Some(json!({"user": {"bio": "Slashes"}})),
        ("POST", "/api/articles") => Some(json!({"article": {
            "title": format!("Published {}", unique()), "description": "About slashes",
            "body": "Text", "tagList": ["slashes"]
        }})),
        ("PUT", "/api/articles/{slug}") => Some(json!({"article": {"body": "Edited"}})),
        ("POST", "/api/articles/{slug}/comments") => Some(json!({"comment": {"body": "Second"}})),
        _ => None,
    };
    let anonymous = ["/api/users", "/api/users/login", "/api/users/refresh"].contains(&template);
    (path, (!anonymous).then(|| world.token.clone()), body)
}

#[test]
fn the_table_lists_every_operation_of_the_contract() {
    let contract = CONTRACT
        .lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty());

    for line in contract {
        let mut words = line.split_whitespace();
        let (Some(method), Some(path)) = (words.next(), words.next()) else {
            panic!("malformed line: {line}");
        };
        let listed = OPERATIONS
            .iter()
            .any(|(listed, template, _)| *listed == method && *template == format!("/api{path}"));
        assert!(listed, "{method} {path} is not in OPERATIONS");
    }
}

/// Each operation is called twice, without and with a trailing slash, each time in a world of
/// its own (a delete or a logout must not change what the other call meets), and must succeed
/// both times.
#[tokio::test]
async fn every_operation_answers_the_same_with_one_trailing_slash() {
    let app = TestApp::on_sqlite().await;
    let mut answered = Vec::new();

    for (method, template, _) in OPERATIONS {
        let mut statuses = Vec::new();
        for slash in ["", "/"] {
            let world = world(&app).await;
            let (path, token, body) = request(method, template, &world);
            let method = Method::from_bytes(method.as_bytes()).expect("a method");
            let (status, _) = app
                .send(method, &format!("{path}{slash}"), token.as_deref(), body)
                .await;
            statuses.push(status);
        }
        answered.push(format!("{method} {template}: {statuses:?}"));
    }

    let expected: Vec<String> = OPERATIONS
        .iter()
        .map(|(method, template, status)| format!("{method} {template}: [{status}, {status}]"))
        .collect();
    assert_eq!(answered, expected);
}

#[tokio::test]
async fn the_live_socket_upgrades_with_one_trailing_slash() {
    let app = TestApp::on_sqlite().await;
    let TestUser { token, .. } = app.register("reader").await;
    let authorization = format!("Token {token}");

    // The client appends its second argument to `/api/live`: here, the path's last slash.
    for slash in ["", "/"] {
        let mut client =
            LiveClient::connect(&app.address, slash, &[("authorization", &authorization)]).await;

        client.ready().await;
    }
}

/// One row: a server configured by `variables`, a new user registering with `password`, and the
/// status and body it answers (a 201's body is not compared).
async fn check_registration(variables: &[(&str, &str)], password: &str, expected: (u16, Value)) {
    let app = TestApp::on_sqlite_with(variables).await;
    let username = format!("jake{}", unique());
    let registration = json!({"user": {
        "username": username, "email": format!("{username}@example.com"), "password": password
    }});

    let (status, body) = app
        .send(Method::POST, "/api/users", None, Some(registration))
        .await;

    let body = if status == 201 { Value::Null } else { body };
    assert_eq!((status, body), expected, "{variables:?} {password:?}");
}

/// The official API test runner's default password and the Angular frontend's register, and
/// then log in, on a server with no configuration.
#[tokio::test]
async fn with_no_configuration_the_clients_passwords_register_and_log_in() {
    let app = TestApp::on_sqlite().await;

    for password in ["password", "password123"] {
        let username = format!("jake{}", unique());
        let email = format!("{username}@example.com");
        let (registered, body) = app
            .send(
                Method::POST,
                "/api/users",
                None,
                Some(json!({"user": {"username": username, "email": email, "password": password}})),
            )
            .await;
        assert_eq!(registered, 201, "{password}: {body}");
        let logged_in = app.login(&email, password).await;
        assert_eq!(logged_in.status, 200, "{password}: {}", logged_in.body);
        let body = logged_in.body;
        let token = body["user"]["token"].as_str().expect("a token");
        let (status, current) = app.send(Method::GET, "/api/user", Some(token), None).await;
        assert_eq!(
            (status, current["user"]["username"].as_str()),
            (200, Some(username.as_str()))
        );
    }
}

const SECRET: &str = "a production secret of at least 32 bytes";

#[tokio::test]
async fn in_production_a_common_password_is_refused_saying_why() {
    let production = [("APP_ENV", "production"), ("JWT_SECRET", SECRET)];
    let too_common = json!({"errors": {"password": ["is too common"]}});

    check_registration(&production, "password", (422, too_common.clone())).await;
    check_registration(&production, "password123", (422, too_common.clone())).await;
    check_registration(&production, PASSWORD, (201, Value::Null)).await;
}

/// `PASSWORD_POLICY` overrides the environment's default either way; the length bounds hold
/// under both.
#[tokio::test]
async fn the_password_policy_is_chosen_explicitly() {
    let too_common = json!({"errors": {"password": ["is too common"]}});
    let strict_development = [("PASSWORD_POLICY", "strict")];
    let contract_production = [
        ("APP_ENV", "production"),
        ("JWT_SECRET", SECRET),
        ("PASSWORD_POLICY", "contract"),
    ];

    check_registration(&strict_development, "password123", (422, too_common)).await;
    check_registration(&contract_production, "password123", (201, Value::Null)).await;
    let short = (
        422,
        json!({"errors": {"password": ["is too short (minimum is 8 characters)"]}}),
    );
    check_registration(&[], "passwor", short.clone()).await;
    check_registration(&contract_production, "passwor", short).await;
}

/// The line an operator reads when the server starts names the password policy in force.
#[tokio::test]
async fn the_start_up_line_names_the_password_policy_in_force() {
    for (variables, expected) in [
        (vec![], "contract"),
        (vec![("PASSWORD_POLICY", "strict")], "strict"),
        (
            vec![("APP_ENV", "production"), ("JWT_SECRET", SECRET)],
            "strict",
        ),
    ] {
        let directory = tempfile::tempdir().expect("a temporary directory");
        let url = format!("sqlite://{}", directory.path().join("conduit.db").display());
        let config = test_config(
            &url,
            &[variables.as_slice(), &[("LOG_FORMAT", "json")]].concat(),
        );
        let logs = LogBuffer::default();
        let writer = logs.clone();
        let subscriber = conduit_server::telemetry::subscriber(&config, move || writer.clone());

        let application = {
            let _default = tracing::subscriber::set_default(subscriber);
            Application::build(config).await.expect("starts")
        };

        let text = logs.text();
        let line: Value = text
            .lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .find(|line| line["message"] == "conduit is serving")
            .unwrap_or_else(|| panic!("no start-up line in {text}"));
        assert_eq!(line["password_policy"], expected, "{variables:?}: {line}");
        application.shutdown().request();
        application.run_until_stopped().await.expect("stops");
    }
}
