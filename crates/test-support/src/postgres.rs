//! [`TestDb`]: a fresh, migrated PostgreSQL database for each test, from one server per test run.
//!
//! How the pieces fit:
//! - One container per run. Under cargo-nextest, whose process-per-test model would otherwise start
//!   one per test, the setup script `conduit-test-postgres` (see `.config/nextest.toml`) starts it
//!   once, builds the template, and hands the URL to every test in `CONDUIT_TEST_DATABASE_URL`.
//!   Under plain `cargo test` the first test of each test binary starts one the same way.
//! - Migrations run once per run, into the template database `conduit_template`; each test's
//!   database is a copy of it, on a server tuned for tests (data in memory; `fsync`,
//!   `full_page_writes` and `synchronous_commit` off).
//! - Copies are made ahead: under nextest a detached filler ([`fill_pool`]) keeps a pool of ready
//!   databases, and a test claims one in a single statement. When the pool is empty (a burst of
//!   tests, or plain `cargo test`, which has no filler) the test makes its own copy.
//! - A passed test's database is dropped; a failed test's is kept and its URL printed.
//! - No container outlives the run: a detached reaper removes it when the process that owns the
//!   run (nextest, or the test binary) exits.

use std::time::{Duration, Instant};

use conduit_persistence::postgres::MIGRATOR;
use sqlx::postgres::{PgConnection, PgPool, PgPoolOptions};
use sqlx::{Connection, Executor};
use testcontainers::core::{IntoContainerPort, Mount, WaitFor};
use testcontainers::runners::AsyncRunner;
use testcontainers::{GenericImage, ImageExt};
use tokio::sync::OnceCell;

/// The variable through which the nextest setup script hands the server's URL to the tests.
pub const DATABASE_URL_VAR: &str = "CONDUIT_TEST_DATABASE_URL";
/// The image to start, `name:tag`; the official `postgres:15` image when unset.
pub const IMAGE_VAR: &str = "CONDUIT_TEST_PG_IMAGE";
/// Set to `1` to keep the container after the run, to inspect a failed test's database.
pub const KEEP_VAR: &str = "CONDUIT_TEST_KEEP_CONTAINER";

const TEMPLATE: &str = "conduit_template";
/// The table (in the server's `postgres` database) of databases made ready ahead of the tests
/// that will claim them, and the channel on which a claim asks for a refill.
const POOL_TABLE: &str = "conduit_test_pool";
const POOL_CHANNEL: &str = "conduit_test_pool";
/// How many ready databases the filler keeps: more than a burst of tests on a small machine uses
/// before it can catch up.
const POOL_TARGET: i64 = 24;
/// Serialises template creation between test processes that share a server.
const TEMPLATE_LOCK: i64 = 0x00c0_d017;

/// A test's own database. Dropped with the test: removed if the test passed, kept if it failed.
#[derive(Debug)]
pub struct TestDb {
    name: String,
    url: String,
    server_url: String,
    pool: PgPool,
    provisioning: Duration,
}

impl TestDb {
    /// A fresh database, migrated, with a pool on it.
    ///
    /// # Panics
    /// When no PostgreSQL can be had, with a message that says how to get Docker.
    pub async fn new() -> Self {
        let server_url = server_url().await;
        let mut admin = PgConnection::connect(&server_url)
            .await
            .unwrap_or_else(|error| panic!("cannot connect to the test server: {error}"));
        let started = Instant::now();
        let name = match claim_ready_database(&mut admin).await {
            Some(name) => name,
            None => {
                let name = format!("test_{}", uuid::Uuid::new_v4().simple());
                create_from_template(&mut admin, &name)
                    .await
                    .unwrap_or_else(|error| panic!("cannot create test database {name}: {error}"));
                name
            }
        };
        let provisioning = started.elapsed();
        let _ = admin.close().await;
        let url = database_url(&server_url, &name);
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .connect(&url)
            .await
            .unwrap_or_else(|error| panic!("cannot connect to test database {name}: {error}"));
        Self {
            name,
            url,
            server_url,
            pool,
            provisioning,
        }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// The URL of this test's database, for code that connects by itself (the server).
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// How long it took to get this database: a claim from the ready pool, or a
    /// `CREATE DATABASE ... TEMPLATE` when the pool was empty.
    pub fn provisioning_time(&self) -> Duration {
        self.provisioning
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "test database kept for inspection: {} (the container is removed when the run \
                 ends unless {KEEP_VAR}=1)",
                self.url
            );
            return;
        }
        if std::env::var_os("CONDUIT_TEST_REPORT_PROVISIONING").is_some() {
            eprintln!(
                "provisioned {} in {:.1} ms",
                self.name,
                self.provisioning.as_secs_f64() * 1000.0
            );
        }
        // Drop runs outside any async context we can rely on: use a thread with its own runtime.
        // The pool is not closed from there: its connections belong to the test's runtime, which
        // is blocked in this drop. `WITH (FORCE)` ends them on the server's side instead.
        let (name, server_url) = (self.name.clone(), self.server_url.clone());
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async move {
                let mut admin = PgConnection::connect(&server_url)
                    .await
                    .map_err(std::io::Error::other)?;
                admin
                    .execute(sqlx::AssertSqlSafe(format!(
                        r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#
                    )))
                    .await
                    .map_err(std::io::Error::other)?;
                Ok::<_, std::io::Error>(())
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop test database {}", self.name);
        }
    }
}

fn database_url(server_url: &str, database: &str) -> String {
    let base = server_url
        .rsplit_once('/')
        .map_or(server_url, |(base, _)| base);
    format!("{base}/{database}")
}

/// The URL of the run's server (its `postgres` database), starting one if this run has none yet.
async fn server_url() -> String {
    static SERVER: OnceCell<String> = OnceCell::const_new();
    SERVER
        .get_or_init(|| async {
            if let Ok(url) = std::env::var(DATABASE_URL_VAR) {
                return url;
            }
            let url = start_server(std::process::id()).await;
            ensure_template(&url).await;
            url
        })
        .await
        .clone()
}

/// Starts a PostgreSQL container that is removed once the process `owner` exits, and returns the
/// URL of its `postgres` database.
///
/// # Panics
/// When Docker cannot start the container, with instructions.
pub async fn start_server(owner: u32) -> String {
    let image = std::env::var(IMAGE_VAR).unwrap_or_else(|_| "postgres:15".to_owned());
    let (name, tag) = image.rsplit_once(':').unwrap_or((image.as_str(), "latest"));
    let container = GenericImage::new(name, tag)
        .with_exposed_port(5432.tcp())
        .with_wait_for(WaitFor::message_on_stderr(
            "database system is ready to accept connections",
        ))
        .with_env_var("POSTGRES_PASSWORD", "postgres")
        .with_label("org.conduit.test", "postgres")
        // The data directory in memory: nothing of a test run needs to survive it.
        .with_mount(Mount::tmpfs_mount("/var/lib/postgresql/data"))
        .with_cmd([
            "-c", "fsync=off",
            "-c", "full_page_writes=off",
            "-c", "synchronous_commit=off",
            "-c", "max_connections=500",
        ])
        .with_startup_timeout(Duration::from_secs(120))
        .start()
        .await
        .unwrap_or_else(|error| {
            panic!(
                "\n\nThe PostgreSQL tests need a running Docker engine, and none could start \
                 {image}: {error}\n\
                 Install and start Docker (https://docs.docker.com/engine/install/; on Debian or \
                 Ubuntu: `sudo apt-get install docker.io && sudo systemctl start docker`), or point \
                 {IMAGE_VAR} at a PostgreSQL image you have locally.\n\
                 Only the domain, security and web tests run without it: \
                 `cargo nextest run -p conduit-domain -p conduit-security -p conduit-web`.\n\n"
            )
        });
    let port = container
        .get_host_port_ipv4(5432.tcp())
        .await
        .unwrap_or_else(|error| panic!("the PostgreSQL container exposes no port: {error}"));
    let host = container
        .get_host()
        .await
        .map_or_else(|_| "127.0.0.1".to_owned(), |host| host.to_string());
    spawn_reaper(container.id(), owner);
    // The reaper owns the container's lifetime from here on: it must outlive this process's
    // handle, whose drop would remove it while other test processes still use it.
    std::mem::forget(container);
    format!("postgres://postgres:postgres@{host}:{port}/postgres")
}

/// A detached `sh` that waits for `owner` to exit and then removes the container.
fn spawn_reaper(container_id: &str, owner: u32) {
    if std::env::var(KEEP_VAR).is_ok_and(|keep| keep == "1") {
        eprintln!("keeping PostgreSQL container {container_id} ({KEEP_VAR}=1)");
        return;
    }
    let script = format!(
        "while kill -0 {owner} 2>/dev/null; do sleep 1; done; docker rm -f -v {container_id} >/dev/null 2>&1"
    );
    let spawned = std::process::Command::new("setsid")
        .args(["-f", "sh", "-c", &script])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
    if !matches!(spawned, Ok(status) if status.success()) {
        eprintln!("could not start the reaper; remove container {container_id} by hand");
    }
}

/// Creates the migrated template database once per server; later callers find it made.
pub async fn ensure_template(server_url: &str) {
    let mut admin = PgConnection::connect(server_url)
        .await
        .unwrap_or_else(|error| panic!("cannot connect to the test server: {error}"));
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(TEMPLATE_LOCK)
        .execute(&mut admin)
        .await
        .unwrap_or_else(|error| panic!("cannot lock the template: {error}"));
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(TEMPLATE)
            .fetch_one(&mut admin)
            .await
            .unwrap_or_else(|error| panic!("cannot look for the template: {error}"));
    if !exists {
        let building = format!("{TEMPLATE}_building");
        for statement in [
            format!("DROP DATABASE IF EXISTS {building}"),
            format!("CREATE DATABASE {building}"),
        ] {
            admin
                .execute(sqlx::AssertSqlSafe(statement))
                .await
                .unwrap_or_else(|error| panic!("cannot create the template: {error}"));
        }
        let mut template = PgConnection::connect(&database_url(server_url, &building))
            .await
            .unwrap_or_else(|error| panic!("cannot connect to the template: {error}"));
        MIGRATOR
            .run(&mut template)
            .await
            .unwrap_or_else(|error| panic!("cannot migrate the template: {error}"));
        let _ = template.close().await;
        for statement in [
            format!("ALTER DATABASE {building} RENAME TO {TEMPLATE}"),
            format!("ALTER DATABASE {TEMPLATE} IS_TEMPLATE true"),
        ] {
            admin
                .execute(sqlx::AssertSqlSafe(statement))
                .await
                .unwrap_or_else(|error| panic!("cannot finish the template: {error}"));
        }
    }
    admin
        .execute(sqlx::AssertSqlSafe(format!(
            "CREATE TABLE IF NOT EXISTS {POOL_TABLE} (
                 name TEXT PRIMARY KEY,
                 made_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp())"
        )))
        .await
        .unwrap_or_else(|error| panic!("cannot create the pool of ready databases: {error}"));
    let _ = sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(TEMPLATE_LOCK)
        .execute(&mut admin)
        .await;
    let _ = admin.close().await;
}

/// A database made ready ahead by [`fill_pool`], if there is one: claimed atomically, so no two
/// tests ever get the same; the filler is told to make another.
async fn claim_ready_database(admin: &mut PgConnection) -> Option<String> {
    let claimed: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "DELETE FROM {POOL_TABLE} WHERE name = (
             SELECT name FROM {POOL_TABLE} ORDER BY made_at LIMIT 1 FOR UPDATE SKIP LOCKED)
         RETURNING name"
    )))
    .fetch_optional(&mut *admin)
    .await
    .ok()
    .flatten();
    if claimed.is_some() {
        let _ = sqlx::query("SELECT pg_notify($1, '')")
            .bind(POOL_CHANNEL)
            .execute(&mut *admin)
            .await;
    }
    claimed
}

/// A copy of the migrated template. `FILE_COPY` copies the files at once, where PostgreSQL 15's
/// default (`WAL_LOG`) writes every block through the WAL: several times faster for a database
/// this small on a server without fsync.
async fn create_from_template(admin: &mut PgConnection, name: &str) -> Result<(), sqlx::Error> {
    admin
        .execute(sqlx::AssertSqlSafe(format!(
            r#"CREATE DATABASE "{name}" TEMPLATE {TEMPLATE} STRATEGY FILE_COPY"#
        )))
        .await
        .map(drop)
}

/// Keeps [`POOL_TARGET`] databases ready in the server at `server_url` until the process `owner`
/// exits: made one at a time, and again each time a test claims one. Run by the nextest setup
/// script in a detached process of its own, so the tests never wait for a `CREATE DATABASE`.
///
/// # Errors
/// When the server cannot be reached.
pub async fn fill_pool(server_url: &str, owner: u32) -> Result<(), sqlx::Error> {
    let mut admin = PgConnection::connect(server_url).await?;
    let mut listener = sqlx::postgres::PgListener::connect(server_url).await?;
    listener.listen(POOL_CHANNEL).await?;
    while std::path::Path::new(&format!("/proc/{owner}")).exists() {
        let ready: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM {POOL_TABLE}"
        )))
        .fetch_one(&mut admin)
        .await?;
        if ready < POOL_TARGET {
            let name = format!("ready_{}", uuid::Uuid::new_v4().simple());
            create_from_template(&mut admin, &name).await?;
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO {POOL_TABLE} (name) VALUES ($1)"
            )))
            .bind(&name)
            .execute(&mut admin)
            .await?;
        } else {
            // Woken by a claim; the timeout only bounds how long a dead owner goes unnoticed.
            let _ = tokio::time::timeout(Duration::from_secs(1), listener.recv()).await;
        }
    }
    Ok(())
}
