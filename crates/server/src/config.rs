//! Configuration from environment variables, validated at start-up with one clear error per problem.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `APP_ENV` | `development` | `development` or `production` |
//! | `DATABASE_URL` | `sqlite://conduit.db` | `sqlite://PATH` or `postgres://USER:PASS@HOST/DB` |
//! | `DATABASE_ACQUIRE_TIMEOUT` | `5s` | how long a request waits for a database connection before answering 503 |
//! | `DATABASE_STATEMENT_TIMEOUT` | `10s` | PostgreSQL cancels a statement that runs longer, and the request answers 503 |
//! | `LIVE_DATABASE_URL` | `DATABASE_URL` | PostgreSQL only: where the live-events listener connects (`LISTEN` holds a session of its own). Set it to the server itself when `DATABASE_URL` goes through a pooler in transaction mode (PgBouncer) |
//! | `BIND_ADDR` | `127.0.0.1:8080` | address and port to listen on |
//! | `JWT_SECRET` | random in development | HMAC key, at least 32 bytes; required in production |
//! | `JWT_PREVIOUS_SECRETS` | none | comma-separated retired keys still accepted for verification |
//! | `ACCESS_TOKEN_TTL` | `1h` | access token lifetime (`90s`, `15m`, `1h`) |
//! | `RUST_LOG` | `info` | log filter (tracing-subscriber's `EnvFilter` syntax) |
//! | `LOG_FORMAT` | `pretty` (`json` in production) | `pretty` or `json` |
//! | `WORKERS` | one per core | actix-web worker threads |
//! | `REFRESH_TOKEN_IDLE_TTL` | `14d` | a refresh token unused this long stops working |
//! | `REFRESH_TOKEN_ABSOLUTE_TTL` | `90d` | a session ends this long after login, refreshed or not |
//! | `LOGIN_MAX_FAILURES` | `5` | failed logins per account within the window before a 429 |
//! | `LOGIN_MAX_FAILURES_PER_ADDRESS` | `20` | failed logins per client address within the window |
//! | `LOGIN_FAILURE_WINDOW` | `15m` | the throttling window |
//! | `PASSWORD_POLICY` | `contract` (`strict` in production) | `contract`: a new password is 8 to 128 characters, not white space alone or one character repeated, as the RealWorld clients expect (`password` registers); `strict` also refuses the most common passwords, the user's own username or e-mail address and (with `BREACH_CHECK_URL`) breached ones |
//! | `BREACH_CHECK_URL` | off | k-anonymity range API, e.g. `https://api.pwnedpasswords.com` |
//! | `BREACH_CHECK_THRESHOLD` | `1` | refuse a password seen in breaches this often or more |
//! | `BREACH_CHECK_TIMEOUT` | `2s` | how long to wait for the range API |
//! | `BREACH_CHECK_FAIL_OPEN` | `true` | when the API cannot answer: `true` lets the password through, `false` answers 503 |
//! | `SHUTDOWN_GRACE` | `30s` | on SIGTERM, how long requests in flight may take to finish |
//! | `SHUTDOWN_DRAIN` | `0s` | on SIGTERM, how long to keep serving (not ready, closing each connection after its answer) before the listener closes; behind nginx, longer than its upstream `keepalive_timeout` (`deploy/nginx.conf`: 4 s) |
//! | `CORS_ALLOWED_ORIGINS` | none | comma-separated origins allowed to call the API from a browser, or `*` for any (never with credentials); also the origins that may open a live socket (none: loopback origins only) |
//! | `LIVE_RETENTION` | `24h` | how long live events are kept for clients that resume with `since`; an older `since` gets `reset` |
//! | `LIVE_MAX_CONNECTIONS_PER_USER` | `8` | live sockets one user may hold on one instance; one more is refused (429, or close code 4429) |
//! | `LIVE_MAX_CONNECTIONS` | `10000` | live sockets one instance holds at most, authenticated or not; one more is refused (503) |
//! | `LIVE_MAX_UNAUTHENTICATED` | `1000` | live sockets waiting for their `auth` message, at most, on one instance; one more is refused (503) |
//! | `LIVE_MAX_UNAUTHENTICATED_PER_ADDRESS` | `16` | of those, from one client address (as `TRUSTED_PROXIES` reads it); one more is refused (429) |
//! | `LIVE_POLL` | `1s` | the live fan-out reads the outbox at least this often, besides each `NOTIFY`: the longest that a stalled or misdirected listener connection delays delivery |
//! | `LIVE_REPLAY_MAX` | `1000` | a resume replays at most this many events of the outbox (everyone's); a client further behind gets `reset` |
//! | `WRITE_TIMEOUT` | `10s` | a connection whose peer acknowledges nothing the server sends for this long is dropped (`TCP_USER_TIMEOUT`), and a live socket whose frame cannot be written in this time is closed |
//! | `TRUSTED_PROXIES` | none | comma-separated addresses and networks (`10.0.0.0/8`) of reverse proxies whose `X-Forwarded-For` names the client; otherwise the socket peer is the client (login throttling keys on it) |

use std::time::Duration;

use conduit_domain::accounts::PasswordPolicy;
use conduit_domain::sessions::SessionPolicy;
use conduit_domain::throttle::ThrottlePolicy;
use conduit_persistence::PoolSettings;
use conduit_security::{BreachCheckSettings, HashingParams, JwtSettings, SigningKey};
use conduit_web::{LiveSettings, TrustedProxies};

/// The shortest secret accepted in production: HS256's key should be at least its 256-bit output.
pub const MIN_SECRET_BYTES: usize = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppEnv {
    Development,
    Production,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// One problem with one variable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}: {message}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub message: String,
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub app_env: AppEnv,
    pub database_url: String,
    /// Where the live-events listener connects, when not through `database_url`.
    pub live_database_url: Option<String>,
    /// Connections, and how long to wait for one and for a statement.
    pub database_pool: PoolSettings,
    pub bind_addr: String,
    pub jwt: JwtSettings,
    pub log_filter: String,
    pub log_format: LogFormat,
    pub workers: Option<usize>,
    /// On SIGTERM, how long requests in flight may take to finish.
    pub shutdown_grace: Duration,
    /// On SIGTERM, how long the server keeps serving (not ready, closing each connection after
    /// its answer) before it stops accepting: long enough for a proxy to let go of its
    /// connections. Zero without a proxy.
    pub shutdown_drain: Duration,
    /// Always OWASP's minimum from the environment; tests build a `Config` with cheaper ones, and
    /// production refuses to start with anything below the minimum.
    pub password_hashing: HashingParams,
    pub hashing_concurrency: usize,
    pub sessions: SessionPolicy,
    pub throttle: ThrottlePolicy,
    /// `None` when no range API is configured: the check is off.
    pub breach_check: Option<BreachCheckSettings>,
    /// The rules a new password must keep beyond its length.
    pub password_policy: PasswordPolicy,
    /// Origins a browser may call the API from; `["*"]` for any.
    pub cors_allowed_origins: Vec<String>,
    /// Reverse proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: TrustedProxies,
    /// How long live events are kept for resuming clients.
    pub live_retention: Duration,
    /// How live sockets behave.
    pub live: LiveSettings,
    /// A resume replays at most this many events.
    pub live_replay_max: u64,
    /// Things worth telling the operator that do not stop start-up.
    pub warnings: Vec<String>,
}

impl Config {
    /// Reads the process environment, after `.env` unless `APP_ENV=production`.
    pub fn from_env() -> Result<Self, Vec<ConfigError>> {
        if std::env::var("APP_ENV").as_deref() != Ok("production") {
            // A missing .env is the normal case; a present one fills only unset variables.
            let _ = dotenvy::dotenv();
        }
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Builds the configuration from any source of variables.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Vec<ConfigError>> {
        let mut errors = Vec::new();
        let mut warnings = Vec::new();
        let mut fail = |variable, message: String| errors.push(ConfigError { variable, message });
        let get = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());

        let app_env = match get("APP_ENV").as_deref() {
            None | Some("development") => AppEnv::Development,
            Some("production") => AppEnv::Production,
            Some(other) => {
                fail(
                    "APP_ENV",
                    format!("must be development or production, not {other:?}"),
                );
                AppEnv::Development
            }
        };

        let database_url = get("DATABASE_URL").unwrap_or_else(|| "sqlite://conduit.db".to_owned());
        let known_scheme = ["postgres://", "postgresql://", "sqlite:"]
            .iter()
            .any(|scheme| database_url.starts_with(scheme));
        if !known_scheme {
            fail(
                "DATABASE_URL",
                "must start with postgres:// or sqlite://".to_owned(),
            );
        }

        let live_database_url = get("LIVE_DATABASE_URL");
        if let Some(url) = &live_database_url {
            let postgres = |url: &str| {
                ["postgres://", "postgresql://"]
                    .iter()
                    .any(|scheme| url.starts_with(scheme))
            };
            if !postgres(url) {
                fail(
                    "LIVE_DATABASE_URL",
                    "must start with postgres://".to_owned(),
                );
            } else if !postgres(&database_url) {
                fail(
                    "LIVE_DATABASE_URL",
                    "is for PostgreSQL only: DATABASE_URL is not a postgres:// URL".to_owned(),
                );
            }
        }

        let bind_addr = get("BIND_ADDR").unwrap_or_else(|| "127.0.0.1:8080".to_owned());
        if bind_addr.parse::<std::net::SocketAddr>().is_err() {
            fail(
                "BIND_ADDR",
                format!("must be an address and port such as 127.0.0.1:8080, not {bind_addr:?}"),
            );
        }

        let secret = match get("JWT_SECRET") {
            Some(secret) if secret.len() >= MIN_SECRET_BYTES => secret,
            Some(_) if app_env == AppEnv::Production => {
                fail(
                    "JWT_SECRET",
                    format!("must be at least {MIN_SECRET_BYTES} bytes in production"),
                );
                String::new()
            }
            None if app_env == AppEnv::Production => {
                fail(
                    "JWT_SECRET",
                    "is required in production (at least 32 random bytes)".to_owned(),
                );
                String::new()
            }
            Some(secret) => {
                warnings.push(format!("JWT_SECRET is shorter than {MIN_SECRET_BYTES} bytes; production would refuse it"));
                secret
            }
            None => {
                warnings.push(
                    "JWT_SECRET is not set: using a random secret, so tokens stop working when the server restarts"
                        .to_owned(),
                );
                format!(
                    "{}{}",
                    uuid::Uuid::new_v4().simple(),
                    uuid::Uuid::new_v4().simple()
                )
            }
        };
        let previous_secrets: Vec<SigningKey> = get("JWT_PREVIOUS_SECRETS")
            .map(|list| {
                list.split(',')
                    .map(str::trim)
                    .filter(|secret| !secret.is_empty())
                    .map(SigningKey::new)
                    .collect()
            })
            .unwrap_or_default();

        const DAY: u64 = 24 * 3600;
        let mut duration =
            |variable: &'static str, default: Duration, max: Duration| match get(variable) {
                None => default,
                Some(raw) => match humantime::parse_duration(&raw) {
                    Ok(value) if value >= Duration::from_secs(1) && value <= max => value,
                    _ => {
                        fail(
                            variable,
                            format!(
                                "must be a duration between 1s and {} such as 15m, not {raw:?}",
                                humantime::format_duration(max)
                            ),
                        );
                        default
                    }
                },
            };
        let access_token_ttl = duration(
            "ACCESS_TOKEN_TTL",
            Duration::from_secs(60 * 60),
            Duration::from_secs(30 * DAY),
        );
        let idle_ttl = duration(
            "REFRESH_TOKEN_IDLE_TTL",
            Duration::from_secs(14 * DAY),
            Duration::from_secs(365 * DAY),
        );
        let absolute_ttl = duration(
            "REFRESH_TOKEN_ABSOLUTE_TTL",
            Duration::from_secs(90 * DAY),
            Duration::from_secs(365 * DAY),
        );
        let failure_window = duration(
            "LOGIN_FAILURE_WINDOW",
            Duration::from_secs(15 * 60),
            Duration::from_secs(DAY),
        );
        let acquire_timeout = duration(
            "DATABASE_ACQUIRE_TIMEOUT",
            Duration::from_secs(5),
            Duration::from_secs(60),
        );
        let statement_timeout = duration(
            "DATABASE_STATEMENT_TIMEOUT",
            Duration::from_secs(10),
            Duration::from_secs(600),
        );
        let shutdown_grace = duration(
            "SHUTDOWN_GRACE",
            Duration::from_secs(30),
            Duration::from_secs(600),
        );
        let breach_timeout = duration(
            "BREACH_CHECK_TIMEOUT",
            Duration::from_secs(2),
            Duration::from_secs(60),
        );
        let live_retention = duration(
            "LIVE_RETENTION",
            Duration::from_secs(DAY),
            Duration::from_secs(30 * DAY),
        );
        let live_poll = duration(
            "LIVE_POLL",
            Duration::from_secs(1),
            Duration::from_secs(24 * 60 * 60),
        );
        let write_timeout = duration(
            "WRITE_TIMEOUT",
            Duration::from_secs(10),
            Duration::from_secs(600),
        );
        // Zero is allowed: with no proxy keeping connections open there is nothing to drain.
        let shutdown_drain = match get("SHUTDOWN_DRAIN") {
            None => Duration::ZERO,
            Some(raw) => match humantime::parse_duration(&raw) {
                Ok(value) if value <= Duration::from_secs(60) => value,
                _ => {
                    fail(
                        "SHUTDOWN_DRAIN",
                        format!("must be a duration between 0s and 1m such as 5s, not {raw:?}"),
                    );
                    Duration::ZERO
                }
            },
        };
        let mut count = |variable: &'static str, default: u64| match get(variable) {
            None => default,
            Some(raw) => match raw.parse::<u64>() {
                Ok(value) if value >= 1 => value,
                _ => {
                    fail(
                        variable,
                        format!("must be a whole number of at least 1, not {raw:?}"),
                    );
                    default
                }
            },
        };
        let max_failures = count("LOGIN_MAX_FAILURES", 5);
        let max_failures_per_address = count("LOGIN_MAX_FAILURES_PER_ADDRESS", 20);
        let breach_threshold = count("BREACH_CHECK_THRESHOLD", 1);
        let live_max_connections = count("LIVE_MAX_CONNECTIONS_PER_USER", 8);
        let live_defaults = LiveSettings::default();
        let live_max_total = count("LIVE_MAX_CONNECTIONS", live_defaults.max_connections as u64);
        let live_max_unauthenticated = count(
            "LIVE_MAX_UNAUTHENTICATED",
            live_defaults.max_unauthenticated as u64,
        );
        let live_max_unauthenticated_per_address = count(
            "LIVE_MAX_UNAUTHENTICATED_PER_ADDRESS",
            live_defaults.max_unauthenticated_per_address as u64,
        );
        let live_replay_max = count("LIVE_REPLAY_MAX", 1000);
        if live_max_connections > 1000 {
            fail(
                "LIVE_MAX_CONNECTIONS_PER_USER",
                format!("must be at most 1000, not {live_max_connections}"),
            );
        }
        let breach_fail_open = match get("BREACH_CHECK_FAIL_OPEN").as_deref() {
            None | Some("true") => true,
            Some("false") => false,
            Some(other) => {
                fail(
                    "BREACH_CHECK_FAIL_OPEN",
                    format!("must be true or false, not {other:?}"),
                );
                true
            }
        };
        let breach_check = get("BREACH_CHECK_URL").and_then(|url| {
            if url.starts_with("https://") || url.starts_with("http://") {
                Some(BreachCheckSettings {
                    base_url: url,
                    timeout: breach_timeout,
                    threshold: breach_threshold,
                    fail_open: breach_fail_open,
                })
            } else {
                fail(
                    "BREACH_CHECK_URL",
                    format!("must be an http(s) URL, not {url:?}"),
                );
                None
            }
        });
        // Development serves the RealWorld clients and test tools as they are; production keeps
        // NIST's rules. Either may be chosen explicitly, and the start-up log names the one in force.
        let password_policy = match get("PASSWORD_POLICY").as_deref() {
            None if app_env == AppEnv::Production => PasswordPolicy::Strict,
            None | Some("contract") => PasswordPolicy::Contract,
            Some("strict") => PasswordPolicy::Strict,
            Some(other) => {
                fail(
                    "PASSWORD_POLICY",
                    format!("must be contract or strict, not {other:?}"),
                );
                PasswordPolicy::Strict
            }
        };
        if password_policy == PasswordPolicy::Contract {
            if app_env == AppEnv::Production {
                warnings.push(
                    "PASSWORD_POLICY is contract in production: common passwords and a user's own name are accepted"
                        .to_owned(),
                );
            }
            if breach_check.is_some() {
                warnings.push(
                    "BREACH_CHECK_URL is set, but PASSWORD_POLICY is contract, which checks no breaches; set PASSWORD_POLICY=strict to use it"
                        .to_owned(),
                );
            }
        }
        let cors_allowed_origins: Vec<String> = get("CORS_ALLOWED_ORIGINS")
            .map(|list| {
                list.split(',')
                    .map(|origin| origin.trim().trim_end_matches('/').to_owned())
                    .filter(|origin| !origin.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        for origin in &cors_allowed_origins {
            let valid = origin == "*"
                || ((origin.starts_with("https://") || origin.starts_with("http://"))
                    && !origin.contains('*'));
            if !valid {
                fail(
                    "CORS_ALLOWED_ORIGINS",
                    format!(
                        "must list origins such as https://app.example.com, or *, not {origin:?}"
                    ),
                );
            }
        }
        if cors_allowed_origins.len() > 1 && cors_allowed_origins.iter().any(|origin| origin == "*")
        {
            fail(
                "CORS_ALLOWED_ORIGINS",
                "* allows any origin and cannot be combined with others".to_owned(),
            );
        }

        let trusted_proxies = get("TRUSTED_PROXIES")
            .map(|list| TrustedProxies::parse(&list))
            .transpose()
            .unwrap_or_else(|message| {
                fail("TRUSTED_PROXIES", message);
                None
            })
            .unwrap_or_default();

        let log_filter = get("RUST_LOG").unwrap_or_else(|| "info".to_owned());
        if tracing_subscriber::EnvFilter::try_new(&log_filter).is_err() {
            fail("RUST_LOG", format!("is not a valid filter: {log_filter:?}"));
        }
        let log_format = match get("LOG_FORMAT").as_deref() {
            None if app_env == AppEnv::Production => LogFormat::Json,
            None | Some("pretty") => LogFormat::Pretty,
            Some("json") => LogFormat::Json,
            Some(other) => {
                fail(
                    "LOG_FORMAT",
                    format!("must be pretty or json, not {other:?}"),
                );
                LogFormat::Pretty
            }
        };

        let workers = match get("WORKERS") {
            None => None,
            Some(raw) => match raw.parse::<usize>() {
                Ok(count) if (1..=256).contains(&count) => Some(count),
                _ => {
                    fail(
                        "WORKERS",
                        format!("must be a whole number from 1 to 256, not {raw:?}"),
                    );
                    None
                }
            },
        };

        if absolute_ttl < idle_ttl {
            warnings.push(
                "REFRESH_TOKEN_ABSOLUTE_TTL is shorter than REFRESH_TOKEN_IDLE_TTL: sessions end at the absolute limit"
                    .to_owned(),
            );
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let to_time = |duration: Duration| {
            time::Duration::try_from(duration).unwrap_or(time::Duration::seconds(1))
        };
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        Ok(Self {
            app_env,
            database_url,
            live_database_url,
            database_pool: PoolSettings {
                acquire_timeout,
                statement_timeout,
                ..PoolSettings::default()
            },
            bind_addr,
            jwt: JwtSettings {
                signing_key: SigningKey::new(secret),
                verification_keys: previous_secrets,
                issuer: "conduit".to_owned(),
                audience: "conduit-api".to_owned(),
                time_to_live: access_token_ttl,
                leeway: Duration::from_secs(30),
            },
            log_filter,
            log_format,
            workers,
            shutdown_grace,
            shutdown_drain,
            password_hashing: HashingParams::OWASP_MINIMUM,
            hashing_concurrency: cores,
            sessions: SessionPolicy {
                idle_timeout: to_time(idle_ttl),
                absolute_timeout: to_time(absolute_ttl),
            },
            throttle: ThrottlePolicy {
                max_failures_per_account: u32::try_from(max_failures).unwrap_or(u32::MAX),
                max_failures_per_client: u32::try_from(max_failures_per_address)
                    .unwrap_or(u32::MAX),
                window: to_time(failure_window),
            },
            breach_check,
            password_policy,
            cors_allowed_origins,
            trusted_proxies,
            live_retention,
            live: LiveSettings {
                max_connections_per_user: usize::try_from(live_max_connections).unwrap_or(1000),
                max_connections: usize::try_from(live_max_total).unwrap_or(usize::MAX),
                max_unauthenticated: usize::try_from(live_max_unauthenticated)
                    .unwrap_or(usize::MAX),
                max_unauthenticated_per_address: usize::try_from(
                    live_max_unauthenticated_per_address,
                )
                .unwrap_or(usize::MAX),
                write_timeout,
                poll_every: live_poll,
                ..LiveSettings::default()
            },
            live_replay_max,
            warnings,
        })
    }
}

#[cfg(test)]
mod tests;
