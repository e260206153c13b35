//! [`TestDb`]: a fresh, migrated PostgreSQL database for each test, from one server per test run.
//!
//! How the pieces fit:
//! - One container per run. Under cargo-nextest, whose process-per-test model would otherwise start
//!   one per test, the setup script `conduit-test-postgres` (see `.config/nextest.toml`) starts it
//!   once, builds the template, and hands the URL to every test in `CONDUIT_TEST_DATABASE_URL`.
//!   Under plain `cargo test` the first test of each test binary starts one the same way.
//! - Migrations run once per run, into the template database `conduit_template`; each test's
//!   database is a copy of it (`CREATE DATABASE ... STRATEGY FILE_COPY`, about 11 ms), on a
//!   server tuned for tests (data in memory; `fsync`, `full_page_writes` and
//!   `synchronous_commit` off).
//! - A passed test's database is dropped; a failed test's is kept and its URL printed.
//! - No container outlives the run, however it ends (done, Ctrl-C, a killed test process): the
//!   container watches itself. A watchdog beside PostgreSQL inside it stops the server once no
//!   client has been connected for [`IDLE_VAR`] seconds (30 by default), and Docker removes the
//!   stopped container (`AutoRemove`). Nothing runs on the host after the run, so it works
//!   wherever Docker does: Linux, and macOS or Windows with Docker Desktop.
//!   Rejected alternatives: a reaper process on the host that waits for the test runner's pid
//!   (needs `/proc` and `setsid`, Linux only), and testcontainers' Ryuk (an image to pull).

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
/// Seconds without a client connection after which the container stops and is removed.
pub const IDLE_VAR: &str = "CONDUIT_TEST_PG_IDLE_SECS";
/// The label every container of the harness carries.
pub const LABEL: (&str, &str) = ("org.conduit.test", "postgres");

const TEMPLATE: &str = "conduit_template";
/// Serialises template creation between test processes that share a server.
const TEMPLATE_LOCK: i64 = 0x00c0_d017;

/// The container's command: the image's own entrypoint starts PostgreSQL in the background, and
/// the shell stays to watch it. Every second it counts the server's client connections over TCP
/// (its own excluded; the image's first-start initialisation listens on no TCP port, so it is
/// not mistaken for idleness); after `$1` seconds with none it stops the server with a fast
/// shutdown, and the container exits. `$1` of 0 watches nothing. The rest of the arguments go to
/// PostgreSQL.
const WATCHDOG: &str = r#"idle_limit=$1; shift
docker-entrypoint.sh postgres "$@" &
server=$!
trap 'kill -INT $server' INT TERM
export PGPASSWORD="$POSTGRES_PASSWORD"
alive() {
  state=$(sed -n 's/^State:[[:space:]]*\(.\).*/\1/p' /proc/$server/status 2>/dev/null)
  [ -n "$state" ] && [ "$state" != Z ]
}
idle=0
while alive; do
  sleep 1
  [ "$idle_limit" -gt 0 ] || continue
  clients=$(psql -h 127.0.0.1 -U postgres -d postgres -Atqc "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()" 2>/dev/null) || clients=starting
  case $clients in
    0) idle=$((idle + 1)) ;;
    starting) ;;
    *) idle=0 ;;
  esac
  if [ $idle -ge "$idle_limit" ]; then kill -INT $server; break; fi
done
wait $server"#;

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
        let name = format!("test_{}", uuid::Uuid::new_v4().simple());
        create_from_template(&mut admin, &name)
            .await
            .unwrap_or_else(|error| panic!("cannot create test database {name}: {error}"));
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

    /// How long it took to get this database: its `CREATE DATABASE ... TEMPLATE`.
    pub fn provisioning_time(&self) -> Duration {
        self.provisioning
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "test database kept for inspection: {} (the container is removed once idle \
                 unless {KEEP_VAR}=1)",
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
            let url = start_server().await.url;
            ensure_template(&url).await;
            url
        })
        .await
        .clone()
}

/// A started PostgreSQL container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    /// The URL of its `postgres` database.
    pub url: String,
    /// Docker's id of the container.
    pub container_id: String,
}

/// Starts a PostgreSQL container that removes itself once idle (see the module's docs).
///
/// # Panics
/// When Docker cannot start the container, with instructions.
pub async fn start_server() -> Server {
    let image = std::env::var(IMAGE_VAR).unwrap_or_else(|_| "postgres:15".to_owned());
    let (name, tag) = image.rsplit_once(':').unwrap_or((image.as_str(), "latest"));
    let keep = std::env::var(KEEP_VAR).is_ok_and(|keep| keep == "1");
    let idle_secs = if keep {
        "0".to_owned()
    } else {
        std::env::var(IDLE_VAR).unwrap_or_else(|_| "30".to_owned())
    };
    let mut command = vec!["-c".to_owned(), WATCHDOG.to_owned(), "watchdog".to_owned()];
    command.push(idle_secs);
    for setting in [
        "fsync=off",
        "full_page_writes=off",
        "synchronous_commit=off",
        "max_connections=500",
        // A test's database is dropped from its `Drop`, which blocks the test's runtime; a pool
        // of that runtime caught halfway through a connection's handshake leaves its server
        // process waiting in authentication, and every `DROP DATABASE` on the server waits for
        // that process (a barrier all processes must pass) until it times out: 60 s by default,
        // which two tests at a time paid in every run ("still waiting for backend with PID n to
        // accept ProcSignalBarrier", then "canceling authentication due to timeout"). A
        // handshake on the loopback takes milliseconds.
        "authentication_timeout=5s",
    ] {
        command.extend(["-c".to_owned(), setting.to_owned()]);
    }
    let container = GenericImage::new(name, tag)
        .with_entrypoint("sh")
        .with_exposed_port(5432.tcp())
        .with_wait_for(WaitFor::message_on_stderr(
            "database system is ready to accept connections",
        ))
        .with_env_var("POSTGRES_PASSWORD", "postgres")
        .with_label(LABEL.0, LABEL.1)
        // The data directory in memory: nothing of a test run needs to survive it.
        .with_mount(Mount::tmpfs_mount("/var/lib/postgresql/data"))
        .with_cmd(command)
        .with_host_config_modifier(move |host| host.auto_remove = Some(!keep))
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
    if keep {
        eprintln!(
            "keeping PostgreSQL container {} ({KEEP_VAR}=1)",
            container.id()
        );
    }
    let server = Server {
        url: format!("postgres://postgres:postgres@{host}:{port}/postgres"),
        container_id: container.id().to_owned(),
    };
    // The container's own watchdog ends it: this handle's drop would remove it while other test
    // processes of the run still use it.
    std::mem::forget(container);
    server
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
    let _ = sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(TEMPLATE_LOCK)
        .execute(&mut admin)
        .await;
    let _ = admin.close().await;
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
