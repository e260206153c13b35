//! The production topology as ordinary processes on 127.0.0.1: PostgreSQL from testcontainers,
//! release instances of `conduit`, and the system's nginx running `deploy/nginx.conf`. What
//! `docker-compose.yml` runs, for a machine that cannot pull images, and what the rehearsal
//! (`cargo xtask rehearse`) drives through restarts and faults.
//!
//! Every process writes its output to a file in the run's directory (`target/rehearsal/`), and
//! every wait is bounded: a step that does not happen in time is an error that names it.

use std::fs::File;
use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use testcontainers::core::WaitFor;
use testcontainers::runners::AsyncRunner;
use testcontainers::{ContainerAsync, GenericImage, ImageExt};

/// The image to run PostgreSQL from, `name:tag`, as the test harness takes it.
const IMAGE_VAR: &str = conduit_test_support::postgres::IMAGE_VAR;
/// The label on the rehearsal's container, so a run can find what an earlier one left.
pub const LABEL: (&str, &str) = ("org.conduit.rehearsal", "postgres");
/// How long a process may take to start answering, or to stop.
const START_LIMIT: Duration = Duration::from_secs(60);
const STOP_LIMIT: Duration = Duration::from_secs(45);

/// What to start.
#[derive(Debug, Clone)]
pub struct Options {
    /// The `conduit` binary the instances run (a release build).
    pub binary: PathBuf,
    /// `deploy/nginx.conf`.
    pub nginx_conf: PathBuf,
    /// Where the processes' output and nginx's files go; emptied first.
    pub dir: PathBuf,
    /// How many app instances.
    pub instances: usize,
    /// nginx's port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Extra environment for every instance (`LOGIN_MAX_FAILURES`, ...).
    pub environment: Vec<(String, String)>,
}

/// A running topology. [`Topology::stop`] stops it in order; dropping it kills what still runs.
pub struct Topology {
    /// nginx's base URL: `http://127.0.0.1:<port>`.
    pub address: String,
    dir: PathBuf,
    database: Database,
    instances: Vec<Instance>,
    nginx: Nginx,
}

struct Nginx {
    child: Child,
}

impl std::fmt::Debug for Topology {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Topology")
            .field("address", &self.address)
            .field("database", &self.database.url)
            .field("instances", &self.instances.len())
            .finish_non_exhaustive()
    }
}

struct Database {
    container: Option<ContainerAsync<GenericImage>>,
    url: String,
}

struct Instance {
    port: u16,
    child: Option<Child>,
    command: Command,
    log: PathBuf,
}

/// A step of the topology that failed, with what it was doing.
pub type Failure = String;

impl Topology {
    /// Starts PostgreSQL, then each instance (each ready before the next starts, so that one
    /// applies the migrations), then nginx, and waits until nginx answers ready.
    pub async fn start(options: &Options) -> Result<Self, Failure> {
        if options.dir.exists() {
            std::fs::remove_dir_all(&options.dir)
                .map_err(|error| format!("cannot empty {}: {error}", options.dir.display()))?;
        }
        std::fs::create_dir_all(&options.dir)
            .map_err(|error| format!("cannot create {}: {error}", options.dir.display()))?;
        // Absolute: nginx reads paths relative to its prefix.
        let dir = options
            .dir
            .canonicalize()
            .map_err(|error| format!("cannot find {}: {error}", options.dir.display()))?;
        if !options.binary.is_file() {
            return Err(format!(
                "no conduit binary at {}: build it with `cargo build --release -p conduit-server`",
                options.binary.display()
            ));
        }

        let database = start_database().await?;
        let jwt_secret = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        let mut instances = Vec::new();
        for number in 1..=options.instances {
            let port = free_port()?;
            let mut command = Command::new(&options.binary);
            command
                .env_clear()
                .env("APP_ENV", "production")
                .env("BIND_ADDR", format!("127.0.0.1:{port}"))
                .env("DATABASE_URL", &database.url)
                .env("JWT_SECRET", &jwt_secret)
                .env("TRUSTED_PROXIES", "127.0.0.1")
                .env("LOG_FORMAT", "json")
                .env("RUST_LOG", "info")
                .envs(options.environment.iter().map(|(k, v)| (k, v)));
            let mut instance = Instance {
                port,
                child: None,
                command,
                log: dir.join(format!("app{number}.log")),
            };
            instance.spawn()?;
            let child = instance.child.as_mut();
            wait_ready(&format!("http://127.0.0.1:{port}"), child, START_LIMIT).await?;
            instances.push(instance);
        }

        let port = if options.port == 0 {
            free_port()?
        } else {
            options.port
        };
        let template = std::fs::read_to_string(&options.nginx_conf)
            .map_err(|error| format!("cannot read {}: {error}", options.nginx_conf.display()))?;
        let conf_path = write_nginx_conf(&template, &instances, port, &dir)?;
        let nginx = Nginx {
            child: spawn_nginx(&dir, &conf_path)?,
        };
        let address = format!("http://127.0.0.1:{port}");
        let mut topology = Self {
            address,
            dir,
            database,
            instances,
            nginx,
        };
        wait_ready(
            &topology.address,
            Some(&mut topology.nginx.child),
            START_LIMIT,
        )
        .await?;
        Ok(topology)
    }

    /// The URL of the database the instances share.
    pub fn database_url(&self) -> &str {
        &self.database.url
    }

    /// The base URL of instance `index` (from 0), bypassing nginx.
    pub fn instance_address(&self, index: usize) -> String {
        format!("http://127.0.0.1:{}", self.instances[index].port)
    }

    pub fn instance_count(&self) -> usize {
        self.instances.len()
    }

    /// Where the processes' output is.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Sends SIGTERM to instance `index` and waits for it to exit: its exit status.
    pub async fn stop_instance(&mut self, index: usize) -> Result<ExitStatus, Failure> {
        self.instances[index].stop().await
    }

    /// Starts instance `index` again and waits until it answers ready.
    pub async fn start_instance(&mut self, index: usize) -> Result<(), Failure> {
        let address = self.instance_address(index);
        let instance = &mut self.instances[index];
        instance.spawn()?;
        wait_ready(&address, instance.child.as_mut(), START_LIMIT).await
    }

    /// nginx's error log so far: a failed request's line names its cause.
    pub fn nginx_errors(&self) -> String {
        std::fs::read_to_string(self.dir.join("nginx-error.log")).unwrap_or_default()
    }

    /// Resident memory of instance `index`, in KiB (from `/proc`).
    pub fn rss_kib(&self, index: usize) -> Option<u64> {
        let pid = self.instances[index].child.as_ref()?.id();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
    }

    /// The files instance `index` holds open (from `/proc`): sockets among them.
    pub fn open_files(&self, index: usize) -> Option<usize> {
        let pid = self.instances[index].child.as_ref()?.id();
        Some(std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count())
    }

    /// Stops the PostgreSQL container (a fast shutdown; the data stays).
    pub async fn stop_database(&self) -> Result<(), Failure> {
        let container = self.container()?;
        container
            .stop_with_timeout(Some(10))
            .await
            .map_err(|error| format!("cannot stop PostgreSQL: {error}"))
    }

    /// Starts the stopped PostgreSQL container again, on the same port.
    pub async fn start_database(&self) -> Result<(), Failure> {
        self.container()?
            .start()
            .await
            .map_err(|error| format!("cannot start PostgreSQL: {error}"))
    }

    fn container(&self) -> Result<&ContainerAsync<GenericImage>, Failure> {
        self.database
            .container
            .as_ref()
            .ok_or_else(|| "PostgreSQL is gone".to_owned())
    }

    /// Stops everything: each instance by SIGTERM (their exit statuses are returned), nginx, and
    /// the container.
    pub async fn stop(mut self) -> Result<Vec<ExitStatus>, Failure> {
        let mut statuses = Vec::new();
        for instance in &mut self.instances {
            if instance.child.is_some() {
                statuses.push(instance.stop().await?);
            }
        }
        terminate(&mut self.nginx.child, "nginx").await?;
        if let Some(container) = self.database.container.take() {
            container
                .rm()
                .await
                .map_err(|error| format!("cannot remove the PostgreSQL container: {error}"))?;
        }
        Ok(statuses)
    }
}

impl Drop for Topology {
    fn drop(&mut self) {
        for instance in &mut self.instances {
            if let Some(child) = instance.child.as_mut() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
        // SIGTERM, which nginx's master passes to its workers (SIGKILL would leave them).
        if matches!(self.nginx.child.try_wait(), Ok(None)) {
            let _ = signal(self.nginx.child.id(), "TERM", "nginx");
            let _ = self.nginx.child.wait();
        }
        // The container handle's own drop removes the container.
    }
}

impl Instance {
    fn spawn(&mut self) -> Result<(), Failure> {
        let log = File::options()
            .create(true)
            .append(true)
            .open(&self.log)
            .map_err(|error| format!("cannot open {}: {error}", self.log.display()))?;
        let errors = log
            .try_clone()
            .map_err(|error| format!("cannot open {}: {error}", self.log.display()))?;
        let child = self
            .command
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(errors)
            .spawn()
            .map_err(|error| format!("cannot start conduit: {error}"))?;
        self.child = Some(child);
        Ok(())
    }

    async fn stop(&mut self) -> Result<ExitStatus, Failure> {
        let mut child = self
            .child
            .take()
            .ok_or_else(|| format!("instance on port {} is not running", self.port))?;
        terminate(&mut child, &format!("conduit on port {}", self.port)).await
    }
}

/// Sends `signal` (`TERM`, `HUP`) to process `pid`.
fn signal(pid: u32, signal: &str, name: &str) -> Result<(), Failure> {
    let sent = Command::new("kill")
        .args([&format!("-{signal}"), &pid.to_string()])
        .status()
        .map_err(|error| format!("cannot signal {name}: {error}"))?;
    if sent.success() {
        Ok(())
    } else {
        Err(format!("cannot signal {name}: kill exited with {sent}"))
    }
}

/// SIGTERM, then waits at most [`STOP_LIMIT`] for the exit.
async fn terminate(child: &mut Child, name: &str) -> Result<ExitStatus, Failure> {
    signal(child.id(), "TERM", name)?;
    let deadline = Instant::now() + STOP_LIMIT;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Ok(status),
            Ok(None) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Ok(None) => {
                let _ = child.kill();
                return Err(format!(
                    "{name} did not exit within {STOP_LIMIT:?} of SIGTERM"
                ));
            }
            Err(error) => return Err(format!("cannot wait for {name}: {error}")),
        }
    }
}

/// A port free on 127.0.0.1 now.
pub fn free_port() -> Result<u16, Failure> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .map_err(|error| format!("no free port: {error}"))
}

/// Polls `<base>/health/ready` until it answers 200, for at most `limit`, and while `process` (the
/// one that should answer) runs.
pub async fn wait_ready(
    base: &str,
    mut process: Option<&mut Child>,
    limit: Duration,
) -> Result<(), Failure> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
        .map_err(|error| format!("no HTTP client: {error}"))?;
    let deadline = Instant::now() + limit;
    let url = format!("{base}/health/ready");
    loop {
        let answer = client.get(&url).send().await;
        if answer
            .as_ref()
            .is_ok_and(|response| response.status().is_success())
        {
            return Ok(());
        }
        if let Some(Ok(Some(status))) = process.as_mut().map(|child| child.try_wait()) {
            return Err(format!(
                "the process that should answer {url} exited with {status}; see its log"
            ));
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "{url} did not answer 200 within {limit:?} (last: {:?})",
                answer.map(|response| response.status())
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Starts PostgreSQL from the configured image on the host's network, listening on a fixed
/// loopback port so that the same URL serves after a stop and start, and waits until it accepts
/// connections. The host's network, not a published port: Docker forwards a published port
/// through a process of its own (docker-proxy), which spent as much CPU as an instance at 1,000
/// articles a second and stood between the instances and the database as nothing does in
/// production.
async fn start_database() -> Result<Database, Failure> {
    let image = std::env::var(IMAGE_VAR).unwrap_or_else(|_| "postgres:15".to_owned());
    let (name, tag) = image.rsplit_once(':').unwrap_or((image.as_str(), "latest"));
    let port = free_port()?;
    let container = GenericImage::new(name, tag)
        .with_wait_for(WaitFor::message_on_stderr(
            "database system is ready to accept connections",
        ))
        .with_env_var("POSTGRES_USER", "conduit")
        .with_env_var("POSTGRES_PASSWORD", "conduit")
        .with_env_var("POSTGRES_DB", "conduit")
        .with_label(LABEL.0, LABEL.1)
        .with_network("host")
        .with_cmd([
            "postgres".to_owned(),
            "-c".to_owned(),
            "max_connections=200".to_owned(),
            "-c".to_owned(),
            "listen_addresses=127.0.0.1".to_owned(),
            "-c".to_owned(),
            format!("port={port}"),
        ])
        .with_startup_timeout(Duration::from_secs(120))
        .start()
        .await
        .map_err(|error| {
            format!(
                "cannot start PostgreSQL from {image}: {error}. The rehearsal needs a running \
                 Docker engine (on Debian: `sudo apt-get install docker.io`), and {IMAGE_VAR} \
                 naming a PostgreSQL image it has (this project's machines: \
                 `bash ../shared/ci/ensure-docker.sh` builds local/postgres:15)"
            )
        })?;
    let url = format!("postgres://conduit:conduit@127.0.0.1:{port}/conduit");
    // The image's first start runs a temporary server for its initialisation: wait for the real one.
    let deadline = Instant::now() + START_LIMIT;
    loop {
        use sqlx::Connection;
        match sqlx::PgConnection::connect(&url).await {
            Ok(connection) => {
                let _ = connection.close().await;
                break;
            }
            Err(error) if Instant::now() >= deadline => {
                return Err(format!("PostgreSQL did not accept connections: {error}"));
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
    Ok(Database {
        container: Some(container),
        url,
    })
}

/// `deploy/nginx.conf` for processes on this machine: the upstream servers and the listen
/// address (the lines after `# rehearsal:` markers) rewritten, and nginx's files in `dir`.
pub fn local_nginx_conf(
    conf: &str,
    upstreams: &[u16],
    port: u16,
    dir: &Path,
) -> Result<String, Failure> {
    let mut out = Vec::new();
    let mut lines = conf.lines();
    let mut rewritten = 0;
    while let Some(line) = lines.next() {
        let indent = &line[..line.len() - line.trim_start().len()];
        match line.trim() {
            "# rehearsal: upstream servers" => {
                while lines
                    .clone()
                    .next()
                    .is_some_and(|next| next.trim_start().starts_with("server "))
                {
                    lines.next();
                }
                for upstream in upstreams {
                    out.push(format!(
                        "{indent}server 127.0.0.1:{upstream} max_fails=1 fail_timeout=2s;"
                    ));
                }
                rewritten += 1;
            }
            "# rehearsal: listen" => {
                // Whatever follows `listen ADDRESS` (`default_server`) stays.
                let rest = lines
                    .next()
                    .and_then(|next| next.trim().strip_prefix("listen "))
                    .and_then(|next| next.split_once([' ', ';']))
                    .map_or(";", |(_, rest)| rest);
                let rest = if rest.is_empty() {
                    ";".to_owned()
                } else {
                    format!(" {rest}")
                };
                out.push(format!("{indent}listen 127.0.0.1:{port}{rest}"));
                rewritten += 1;
            }
            "http {" => {
                out.push(line.to_owned());
                for (directive, name) in [
                    ("client_body_temp_path", "body"),
                    ("proxy_temp_path", "proxy"),
                    ("fastcgi_temp_path", "fastcgi"),
                    ("uwsgi_temp_path", "uwsgi"),
                    ("scgi_temp_path", "scgi"),
                ] {
                    out.push(format!("    {directive} {};", dir.join(name).display()));
                }
            }
            _ => out.push(line.to_owned()),
        }
    }
    if rewritten < 2 {
        return Err("deploy/nginx.conf lacks its `# rehearsal:` markers".to_owned());
    }
    Ok(out.join("\n") + "\n")
}

/// Writes the local nginx configuration for `instances` into `dir`; its path.
fn write_nginx_conf(
    template: &str,
    instances: &[Instance],
    port: u16,
    dir: &Path,
) -> Result<PathBuf, Failure> {
    let upstreams: Vec<u16> = instances.iter().map(|instance| instance.port).collect();
    let conf = local_nginx_conf(template, &upstreams, port, dir)?;
    let path = dir.join("nginx.conf");
    std::fs::write(&path, conf)
        .map_err(|error| format!("cannot write {}: {error}", path.display()))?;
    Ok(path)
}

fn spawn_nginx(dir: &Path, conf: &Path) -> Result<Child, Failure> {
    let log = File::create(dir.join("nginx.log"))
        .map_err(|error| format!("cannot create nginx.log: {error}"))?;
    let errors = log
        .try_clone()
        .map_err(|error| format!("cannot open nginx.log: {error}"))?;
    let directives = format!("daemon off; pid {};", dir.join("nginx.pid").display());
    Command::new(nginx_binary())
        .arg("-e")
        .arg(dir.join("nginx-error.log"))
        .arg("-p")
        .arg(dir)
        .arg("-c")
        .arg(conf)
        .args(["-g", &directives])
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(errors)
        .spawn()
        .map_err(|error| {
            format!(
                "cannot start nginx: {error}. Install it (Debian: `sudo apt-get install \
                 nginx-light`; macOS: `brew install nginx`)"
            )
        })
}

/// nginx from `PATH`, or where Debian installs it (`/usr/sbin`, often not on a user's `PATH`).
fn nginx_binary() -> PathBuf {
    let on_path = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join("nginx"))
            .find(|candidate| candidate.is_file())
    });
    on_path.unwrap_or_else(|| PathBuf::from("/usr/sbin/nginx"))
}
