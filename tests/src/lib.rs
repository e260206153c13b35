//! The end-to-end suite's library: [`TestApp`] starts the real server, built exactly as `main`
//! builds it, on port 0 over SQLite or a PostgreSQL database of its own, with a clock the test
//! moves, and gives the test a small HTTP client for it. The tests live in `it/` and in the two
//! binaries beside it (`statements.rs`, `secrets.rs`) that need a process of their own.

pub mod held_link;

use std::sync::Arc;

use conduit_security::HashingParams;
use conduit_server::{AppEnv, Application, Config};
use conduit_test_support::client::HttpConduit;
use conduit_test_support::client::Method;
use conduit_test_support::{FakeClock, TestDb};
use serde_json::Value;

pub use conduit_test_support::client::{Call, Conduit, PASSWORD, Reply, TestUser, slugs};

/// The configuration a [`TestApp`] runs with: these environment variables (defaults for the
/// rest), on `database_url`, on a free port, one worker, and (outside production, which refuses
/// them) cheap password hashing to keep the suite fast.
///
/// # Panics
/// When the variables are not a valid configuration: a mistake in the test.
pub fn test_config(database_url: &str, variables: &[(&str, &str)]) -> Config {
    let config = Config::from_lookup(|name| {
        if name == "DATABASE_URL" {
            return Some(database_url.to_owned());
        }
        variables
            .iter()
            .find(|(variable, _)| *variable == name)
            .map(|(_, value)| (*value).to_owned())
    });
    let mut config = config.expect("the test's configuration is valid");
    config.bind_addr = "127.0.0.1:0".to_owned();
    config.workers = Some(1);
    if config.app_env != AppEnv::Production {
        config.password_hashing = HashingParams::INSECURE_FOR_TESTS;
    }
    config
}

/// A running server and what it runs on; dropping it stops nothing the test still needs. A test
/// talks to it as to any [`Conduit`] (`app.register("jake")`, `app.call(Call::get(..))`), or
/// through its `address` and reqwest `client` for what [`Call`] does not say.
#[derive(Debug)]
pub struct TestApp {
    http: HttpConduit,
    pub clock: Arc<FakeClock>,
    /// Stops this server as SIGTERM would.
    pub shutdown: conduit_server::Shutdown,
    /// How the server ended, once it has.
    running: Arc<tokio::sync::Mutex<Option<tokio::sync::oneshot::Receiver<std::io::Result<()>>>>>,
    database_url: String,
    _database: Arc<Database>,
}

/// Held only for its `Drop`: the temporary directory or test database outlives the server's use.
#[allow(dead_code)] // The fields are never read: holding them is their whole purpose.
#[derive(Debug)]
enum Database {
    Sqlite(tempfile::TempDir),
    Postgres(TestDb),
}

impl TestApp {
    pub async fn on_sqlite() -> Self {
        Self::on_sqlite_with(&[]).await
    }

    pub async fn on_postgres() -> Self {
        Self::on_postgres_with(&[]).await
    }

    /// On SQLite, configured by these environment variables (and defaults for the rest).
    pub async fn on_sqlite_with(variables: &[(&str, &str)]) -> Self {
        let directory = tempfile::tempdir().expect("a temporary directory");
        let url = format!("sqlite://{}", directory.path().join("conduit.db").display());
        let clock = Arc::new(FakeClock::starting_now());
        Self::start(url, Arc::new(Database::Sqlite(directory)), variables, clock).await
    }

    /// On PostgreSQL, configured by these environment variables (and defaults for the rest).
    pub async fn on_postgres_with(variables: &[(&str, &str)]) -> Self {
        let database = TestDb::new().await;
        let url = database.url().to_owned();
        let clock = Arc::new(FakeClock::starting_now());
        Self::start(
            url,
            Arc::new(Database::Postgres(database)),
            variables,
            clock,
        )
        .await
    }

    /// Another server on the same database and clock, configured anew: what a restart with a
    /// changed environment looks like to clients.
    pub async fn restart_with(&self, variables: &[(&str, &str)]) -> Self {
        Self::start(
            self.database_url.clone(),
            Arc::clone(&self._database),
            variables,
            Arc::clone(&self.clock),
        )
        .await
    }

    /// Another server on this one's database and clock, reaching the database at
    /// `database_url` (the same database through a link the test controls, say).
    pub async fn restart_through(&self, database_url: &str, variables: &[(&str, &str)]) -> Self {
        Self::start(
            database_url.to_owned(),
            Arc::clone(&self._database),
            variables,
            Arc::clone(&self.clock),
        )
        .await
    }

    async fn start(
        database_url: String,
        database: Arc<Database>,
        variables: &[(&str, &str)],
        clock: Arc<FakeClock>,
    ) -> Self {
        let config = test_config(&database_url, variables);
        // The server runs on a runtime of its own, as it would in a process of its own: its
        // background work (the live fan-out, the LISTEN connection) goes on while the test's
        // runtime is blocked, as it is in the test database's `Drop`. A connection left half-open
        // there would hold `DROP DATABASE` for PostgreSQL's `authentication_timeout`.
        let (started, starting) = tokio::sync::oneshot::channel();
        let (ended, running) = tokio::sync::oneshot::channel();
        let server_clock = clock.clone();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("a runtime for the server");
            runtime.block_on(async move {
                match Application::build_with_clock(config, server_clock).await {
                    Ok(application) => {
                        let _ = started.send(Ok((application.port(), application.shutdown())));
                        let _ = ended.send(application.run_until_stopped().await);
                    }
                    Err(error) => {
                        let _ = started.send(Err(error.to_string()));
                    }
                }
            });
        });
        let (port, shutdown) = starting
            .await
            .expect("the server's thread answers")
            .unwrap_or_else(|error| panic!("the application does not start: {error}"));
        let address = format!("http://127.0.0.1:{port}");
        Self {
            http: HttpConduit::new(address),
            clock,
            shutdown,
            running: Arc::new(tokio::sync::Mutex::new(Some(running))),
            database_url,
            _database: database,
        }
    }

    /// The URL of this server's database.
    pub fn database_url(&self) -> &str {
        &self.database_url
    }

    /// Waits for the server to stop (after [`Self::shutdown`]) and answers how it ended.
    ///
    /// # Panics
    /// When called twice, or when the server's thread panicked.
    pub async fn stopped(&self) -> std::io::Result<()> {
        let running = self.running.lock().await.take();
        running
            .expect("the server is awaited once")
            .await
            .expect("the server's thread did not panic")
    }

    /// Ends every other session on this test's PostgreSQL database, the server's pooled
    /// connections among them, as a database restart would; answers how many ended.
    ///
    /// # Panics
    /// On a SQLite app, which has no sessions to end.
    pub async fn end_database_sessions(&self) -> i64 {
        let Database::Postgres(database) = self._database.as_ref() else {
            panic!("only an app on PostgreSQL has database sessions to end");
        };
        sqlx::query_scalar(
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()) AS ended",
        )
        .fetch_one(database.pool())
        .await
        .expect("ends the sessions")
    }

    /// Sends a request with an optional JSON body and `Authorization: Token`, answering status and JSON.
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let method = match method {
            reqwest::Method::GET => Method::Get,
            reqwest::Method::POST => Method::Post,
            reqwest::Method::PUT => Method::Put,
            reqwest::Method::DELETE => Method::Delete,
            other => panic!("the API has no {other}"),
        };
        let mut call = Call::new(method, path);
        call.token = token.map(str::to_owned);
        call.body = body;
        let reply = self.call(call).await;
        (reply.status, reply.body)
    }
}

impl std::ops::Deref for TestApp {
    type Target = HttpConduit;

    fn deref(&self) -> &HttpConduit {
        &self.http
    }
}

impl Conduit for TestApp {
    fn address(&self) -> Option<&str> {
        Some(&self.http.address)
    }

    async fn try_call(&self, call: Call) -> Result<Reply, String> {
        self.http.try_call(call).await
    }
}
