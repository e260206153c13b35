use std::sync::Arc;

use conduit_security::HashingParams;
use conduit_server::{Application, Config};
use conduit_test_support::{FakeClock, TestDb};
use serde_json::Value;

/// A running server and what it runs on; dropping it stops nothing the test still needs.
pub(crate) struct TestApp {
    pub(crate) address: String,
    pub(crate) clock: Arc<FakeClock>,
    pub(crate) client: reqwest::Client,
    _database: Database,
}

/// Held only for its `Drop`: the temporary directory or test database outlives the server's use.
#[allow(dead_code)]
enum Database {
    Sqlite(tempfile::TempDir),
    Postgres(TestDb),
}

impl TestApp {
    pub(crate) async fn on_sqlite() -> Self {
        let directory = tempfile::tempdir().expect("a temporary directory");
        let url = format!("sqlite://{}", directory.path().join("conduit.db").display());
        Self::start(url, Database::Sqlite(directory)).await
    }

    pub(crate) async fn on_postgres() -> Self {
        let database = TestDb::new().await;
        Self::start(database.url().to_owned(), Database::Postgres(database)).await
    }

    async fn start(database_url: String, database: Database) -> Self {
        let mut config = Config::from_lookup(|_| None).expect("the defaults are valid");
        config.database_url = database_url;
        config.bind_addr = "127.0.0.1:0".to_owned();
        config.workers = Some(1);
        // Cheap hashing keeps the suite fast; production refuses these parameters.
        config.password_hashing = HashingParams::INSECURE_FOR_TESTS;
        let clock = Arc::new(FakeClock::starting_now());
        let application = Application::build_with_clock(config, clock.clone())
            .await
            .expect("the application starts");
        let address = format!("http://127.0.0.1:{}", application.port());
        tokio::spawn(application.run_until_stopped());
        Self {
            address,
            clock,
            client: reqwest::Client::new(),
            _database: database,
        }
    }

    /// Sends a request with an optional JSON body and `Authorization: Token`, answering status and JSON.
    pub(crate) async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.address));
        if let Some(token) = token {
            request = request.header("authorization", format!("Token {token}"));
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status().as_u16();
        if status == 204 {
            let body = response.bytes().await.expect("the server answers");
            assert!(body.is_empty(), "a 204 has no body");
            return (status, Value::Null);
        }
        let body = response.json().await.expect("every answer is JSON");
        (status, body)
    }

    /// Registers a user with a unique name and returns its token and username.
    pub(crate) async fn register(&self, name: &str) -> (String, String) {
        let username = format!("{name}{}", conduit_test_support::unique());
        let (status, body) = self
            .send(
                reqwest::Method::POST,
                "/api/users",
                None,
                Some(serde_json::json!({"user": {
                    "username": username,
                    "email": format!("{username}@example.com"),
                    "password": "correct horse battery",
                }})),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        let token = body["user"]["token"].as_str().expect("a token").to_owned();
        (token, username)
    }
}
