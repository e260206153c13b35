//! Conduit's composition root: configuration from the environment, telemetry, and the wiring of
//! stores, security adapters and use cases into the actix-web server.
//!
//! The only crate that sees every other crate of ours. It holds no business rule and no SQL:
//! [`Application::build`] is the one place where concrete adapters meet the ports, and the
//! end-to-end tests start the server through it exactly as `main` does.

pub mod config;
pub mod healthcheck;
mod listener;
pub mod telemetry;

use std::future::Future;
use std::net::TcpListener;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use actix_web::{HttpServer, dev::Server};
use conduit_domain::Timestamp;
use conduit_domain::live::LivePorts;
use conduit_domain::ports::{BreachedPasswords, Clock};
use conduit_domain::wiring::{Policies, Ports, UseCases};
use conduit_persistence::Store;
use conduit_security::{Argon2Hasher, JwtCodec, RandomRefreshTokens, RangeApiBreachCheck};
use conduit_web::{AppState, Connections, Draining, HttpSettings, LiveHub, Readiness};

pub use config::{AppEnv, Config, ConfigError, Refusal, Variables};

/// The system clock, read to the millisecond like every [`Timestamp`]: the one adapter with no
/// crate of its own (tests inject a `FakeClock`).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_offset(time::OffsetDateTime::now_utc())
    }
}
/// Why the application could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] conduit_persistence::ConnectError),
    #[error("cannot set up password hashing: {0}")]
    Hasher(#[from] conduit_domain::ports::HashError),
    #[error("production refuses password hashing below OWASP's minimum (m=19 MiB, t=2, p=1)")]
    WeakHashing,
    #[error("cannot set up the breached-password check: {0}")]
    BreachCheck(String),
    #[error("cannot read the live events: {0}")]
    LiveEvents(conduit_domain::ports::StoreError),
    #[error("LIVE_DATABASE_URL cannot be used: {0}")]
    LiveDatabaseUrl(conduit_persistence::ConnectError),
    #[error("cannot listen on {address}: {source}")]
    Bind {
        address: String,
        source: std::io::Error,
    },
}

/// A bound, wired server, ready to run.
pub struct Application {
    port: u16,
    server: Server,
    /// The listening socket, which stops completing handshakes at the end of the drain.
    listener: TcpListener,
    store: Store,
    hub: LiveHub,
    /// The live fan-out, stopped with the server.
    fan_out: tokio::task::JoinHandle<()>,
    shutdown: Shutdown,
    grace: Duration,
    drain: Duration,
}

/// Asks a running [`Application`] to shut down gracefully, as SIGTERM does: readiness answers
/// 503 at once; for `SHUTDOWN_DRAIN` every answer closes its connection; then no new connection
/// is accepted, requests in flight finish within `SHUTDOWN_GRACE`, and the database pool closes.
#[derive(Debug, Clone, Default)]
pub struct Shutdown {
    draining: Draining,
    requested: Arc<tokio::sync::Notify>,
}

impl Shutdown {
    pub fn request(&self) {
        self.draining.start();
        self.requested.notify_one();
    }

    fn is_draining(&self) -> bool {
        self.draining.is_draining()
    }

    /// Until [`Shutdown::request`], SIGTERM or SIGINT, whichever comes first.
    async fn requested(&self) {
        let terminate = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut signal) => {
                    signal.recv().await;
                }
                // No handler can be installed: then only `request` and SIGINT stop the server.
                Err(_) => std::future::pending().await,
            }
        };
        tokio::select! {
            () = self.requested.notified() => {}
            () = terminate => {}
            _ = tokio::signal::ctrl_c() => {}
        }
        self.draining.start();
    }
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

/// Ready while not shutting down and the database answers.
struct StoreReadiness {
    store: Store,
    shutdown: Shutdown,
}

impl Readiness for StoreReadiness {
    fn is_ready(&self) -> Pin<Box<dyn Future<Output = bool> + Send + '_>> {
        Box::pin(async move { !self.shutdown.is_draining() && self.store.is_ready().await })
    }
}

impl Application {
    /// Connects and migrates the store, wires the use cases, and binds `config.bind_addr`
    /// (port 0 picks a free port: see [`Application::port`]).
    pub async fn build(config: Config) -> Result<Self, StartError> {
        Self::build_with_clock(config, Arc::new(SystemClock)).await
    }

    /// [`Application::build`] with a clock of the caller's choosing, for tests that move time.
    pub async fn build_with_clock(
        config: Config,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, StartError> {
        if config.app_env == AppEnv::Production && !config.password_hashing.meets_owasp_minimum() {
            return Err(StartError::WeakHashing);
        }
        conduit_security::install_tls_provider();
        let mut store = Store::connect(&config.database_url, config.database_pool).await?;
        if let Some(url) = &config.live_database_url {
            store = store
                .listening_through(url)
                .map_err(StartError::LiveDatabaseUrl)?;
        }
        let hasher = Argon2Hasher::new(config.password_hashing, config.hashing_concurrency)?;
        let breaches: Arc<dyn BreachedPasswords> = match &config.breach_check {
            Some(settings) => Arc::new(
                RangeApiBreachCheck::new(settings.clone()).map_err(StartError::BreachCheck)?,
            ),
            None => Arc::new(conduit_security::NoBreachCheck),
        };
        let shutdown = Shutdown::default();
        let fan_out_clock = clock.clone();
        let cases = UseCases::wire(
            Ports {
                users: store.users(),
                profiles: store.profiles(),
                articles: store.articles(),
                comments: store.comments(),
                sessions: store.sessions(),
                events: store.event_log(),
                login_failures: store.login_failures(),
                hasher: Arc::new(hasher),
                breaches,
                tokens: Arc::new(JwtCodec::new(config.jwt.clone())),
                refresh_tokens: Arc::new(RandomRefreshTokens),
                clock,
            },
            Policies {
                sessions: config.sessions,
                throttle: config.throttle,
                passwords: config.password_policy,
                live_retention: time::Duration::try_from(config.live_retention)
                    .unwrap_or(time::Duration::DAY),
                live_replay_max: config.live_replay_max,
            },
        );
        let live = cases.live.clone();
        let head = live.bounds().await.map_err(StartError::LiveEvents)?.head;
        let hub = LiveHub::new(config.live.clone(), head);
        // The fan-out reads through the live events' own pool, beside the sequencer and the
        // fold: requests that fill the requests' pool hold back no live event.
        let background = store.background();
        let fan_out_live = live.through(LivePorts {
            log: background.event_log(),
            articles: background.articles(),
            comments: background.comments(),
            profiles: background.profiles(),
            clock: fan_out_clock,
        });
        let fan_out = tokio::spawn(hub.clone().run(fan_out_live, store.event_signal()));
        let state = AppState::new(
            cases,
            hub.clone(),
            Arc::new(StoreReadiness {
                store: store.clone(),
                shutdown: shutdown.clone(),
            }),
        );

        let listener = TcpListener::bind(&config.bind_addr).map_err(|source| StartError::Bind {
            address: config.bind_addr.clone(),
            source,
        })?;
        let port = listener
            .local_addr()
            .map_err(|source| StartError::Bind {
                address: config.bind_addr.clone(),
                source,
            })?
            .port();
        let settings = HttpSettings {
            cors_allowed_origins: config.cors_allowed_origins.clone(),
            trusted_proxies: config.trusted_proxies.clone(),
            draining: shutdown.draining.clone(),
            body_timeout: None,
        };
        let filtered_listener = listener.try_clone().map_err(|source| StartError::Bind {
            address: config.bind_addr.clone(),
            source,
        })?;
        // Signals are ours to handle (see `run_until_stopped`), so readiness fails before the
        // server stops accepting. actix's own shutdown timeout only bounds what is left once
        // every handler has answered: answers and close frames still being written.
        let mut server = HttpServer::new(move || conduit_web::app(state.clone(), settings.clone()))
            .on_connect(conduit_web::on_connect(
                config.live.write_timeout,
                Connections::default(),
            ))
            .disable_signals()
            .shutdown_timeout(LINGER.as_secs());
        if let Some(workers) = config.workers {
            server = server.workers(workers);
        }
        let server = server
            .listen(listener)
            .map_err(|source| StartError::Bind {
                address: config.bind_addr.clone(),
                source,
            })?
            .run();
        // Here rather than in `main`, so that a test sees the line the operator sees.
        tracing::info!(
            address = %config.bind_addr,
            port,
            environment = ?config.app_env,
            password_policy = %config.password_policy,
            "conduit is serving"
        );
        Ok(Self {
            port,
            server,
            listener: filtered_listener,
            store,
            hub,
            fan_out,
            shutdown,
            grace: config.shutdown_grace,
            drain: config.shutdown_drain,
        })
    }

    /// The port actually bound.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// What stops this application gracefully, as SIGTERM does.
    pub fn shutdown(&self) -> Shutdown {
        self.shutdown.clone()
    }

    /// Serves until SIGTERM, SIGINT or [`Shutdown::request`], then shuts down in order:
    /// readiness answers 503 at once; for `SHUTDOWN_DRAIN` the server goes on serving, each answer
    /// closing its connection (a new live socket is refused with 503, those open stay live); the
    /// listening socket completes no new connection while its queue is served
    /// ([`finish_in_flight`]); every live socket closes with 1001 while requests in flight
    /// finish (for at most `SHUTDOWN_GRACE`); the listening socket closes; what is still being
    /// written then has [`LINGER`] before its connection is dropped, so that a client that does
    /// not read cannot hold the process; and the database pool closes.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let handle = self.server.handle();
        let mut server = std::pin::pin!(self.server);
        let outcome = tokio::select! {
            outcome = &mut server => outcome,
            () = self.shutdown.requested() => {
                tracing::info!(
                    drain_secs = self.drain.as_secs_f64(),
                    "shutting down: not ready; each answer closes its connection"
                );
                // The server serves on through the drain, unless it stops by itself.
                let drained = tokio::select! {
                    outcome = &mut server => Some(outcome),
                    () = tokio::time::sleep(self.drain) => None,
                };
                match drained {
                    Some(outcome) => outcome,
                    None => {
                        tracing::info!(
                            grace_secs = self.grace.as_secs(),
                            "shutting down: accepting nothing new, finishing requests in flight"
                        );
                        // The server's own future carries its commands out (the pause, then the
                        // stop): it is polled throughout.
                        let finished = tokio::select! {
                            outcome = &mut server => Some(outcome),
                            () = finish_in_flight(
                                &self.listener,
                                &self.hub,
                                &self.shutdown.draining,
                                self.grace,
                            ) => None,
                        };
                        match finished {
                            Some(outcome) => outcome,
                            None => {
                                // The server's own future carries the stop out: poll both.
                                let ((), outcome) = tokio::join!(handle.stop(true), &mut server);
                                outcome
                            }
                        }
                    }
                }
            }
        };
        self.fan_out.abort();
        self.store.close().await;
        tracing::info!("stopped");
        outcome
    }
}

/// The end of listening and of the requests in flight:
///
/// 1. the listening socket completes no new connection ([`listener::stop_handshakes`]): a proxy's
///    new connection request goes unanswered, and its retry is refused once the socket closes,
///    so that the proxy takes the request to another instance;
/// 2. for [`HANDSHAKES`], the server still accepts what the kernel completed: handshakes that were
///    under way, and the accept queue, whose requests are served. After that nothing is left in
///    the queue for the socket's closing (the stop, below) to reset;
/// 3. every live socket closes with 1001 (they would hold the server open; their clients
///    reconnect to another instance);
/// 4. the requests in flight finish, within `grace`.
async fn finish_in_flight(
    listener: &TcpListener,
    hub: &LiveHub,
    draining: &Draining,
    grace: Duration,
) {
    if let Err(error) = listener::stop_handshakes(listener) {
        tracing::warn!(%error, "cannot stop the listening socket's handshakes");
    }
    tokio::time::sleep(HANDSHAKES).await;
    hub.shut_down();
    if tokio::time::timeout(grace, draining.idle()).await.is_err() {
        tracing::warn!("requests still in flight after the grace");
    }
}

/// How long the server goes on accepting after it stopped completing handshakes: those under
/// way finish within a round trip, and the accept thread takes what is queued at once.
const HANDSHAKES: Duration = Duration::from_millis(200);

/// Once every handler has answered, how long connections may take to write what they still
/// hold (answers, live sockets' close frames) before the workers drop them.
pub const LINGER: Duration = Duration::from_secs(1);

#[cfg(test)]
mod tests {
    use conduit_persistence::{PoolSettings, Store};
    use conduit_web::Readiness;

    use super::{Shutdown, StoreReadiness};

    /// Orchestrators and proxies stop sending work to an instance whose readiness fails: it must
    /// fail the moment shutdown begins, while the database still answers.
    #[tokio::test]
    async fn readiness_fails_as_soon_as_shutdown_is_requested() {
        let directory = tempfile::tempdir().expect("a temporary directory");
        let url = format!("sqlite://{}", directory.path().join("conduit.db").display());
        let store = Store::connect(&url, PoolSettings::default())
            .await
            .expect("opens");
        let shutdown = Shutdown::default();
        let readiness = StoreReadiness {
            store,
            shutdown: shutdown.clone(),
        };

        let before = readiness.is_ready().await;
        shutdown.request();
        let after = readiness.is_ready().await;

        assert_eq!((before, after), (true, false));
    }
}
