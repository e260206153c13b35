//! Conduit's composition root: configuration from the environment, telemetry, and the wiring of
//! stores, security adapters and use cases into the actix-web server.
//!
//! The only crate that sees every other crate of ours. It holds no business rule and no SQL:
//! [`Application::build`] is the one place where concrete adapters meet the ports, and the
//! end-to-end tests start the server through it exactly as `main` does.

pub mod config;
pub mod telemetry;

use std::future::Future;
use std::net::TcpListener;
use std::pin::Pin;
use std::sync::Arc;

use actix_web::{HttpServer, dev::Server};
use conduit_domain::accounts::{AccountPorts, Accounts};
use conduit_domain::articles::Articles;
use conduit_domain::ports::{BreachedPasswords, Clock, NoBreachCheck, SystemClock};
use conduit_domain::profiles::Profiles;
use conduit_domain::sessions::{SessionPorts, Sessions};
use conduit_persistence::Store;
use conduit_security::{Argon2Hasher, JwtCodec, RandomRefreshTokens, RangeApiBreachCheck};
use conduit_web::{AppState, HttpSettings, Readiness};

pub use config::{AppEnv, Config, ConfigError};

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
    store: Store,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

struct StoreReadiness(Store);

impl Readiness for StoreReadiness {
    fn is_ready(&self) -> Pin<Box<dyn Future<Output = bool> + Send + '_>> {
        Box::pin(self.0.is_ready())
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
        let store = Store::connect(&config.database_url, config.database_pool).await?;
        let hasher = Argon2Hasher::new(config.password_hashing, config.hashing_concurrency)?;
        let breaches: Arc<dyn BreachedPasswords> = match &config.breach_check {
            Some(settings) => Arc::new(
                RangeApiBreachCheck::new(settings.clone()).map_err(StartError::BreachCheck)?,
            ),
            None => Arc::new(NoBreachCheck),
        };
        let sessions = Sessions::new(
            SessionPorts {
                users: store.users(),
                sessions: store.sessions(),
                tokens: Arc::new(JwtCodec::new(config.jwt.clone())),
                refresh_tokens: Arc::new(RandomRefreshTokens),
                clock: clock.clone(),
            },
            config.sessions,
        );
        let accounts = Accounts::new(
            AccountPorts {
                users: store.users(),
                hasher: Arc::new(hasher),
                breaches,
                clock: clock.clone(),
            },
            sessions.clone(),
            config.throttle,
        );
        let state = AppState {
            accounts,
            sessions,
            profiles: Profiles::new(store.profiles()),
            articles: Articles::new(store.articles(), store.comments(), clock),
            readiness: Arc::new(StoreReadiness(store.clone())),
        };

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
        };
        let mut server = HttpServer::new(move || conduit_web::app(state.clone(), settings.clone()))
            .shutdown_timeout(30);
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
        Ok(Self {
            port,
            server,
            store,
        })
    }

    /// The port actually bound.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until the server is stopped (SIGINT or SIGTERM: in-flight requests finish first).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let outcome = self.server.await;
        self.store.close().await;
        outcome
    }
}
