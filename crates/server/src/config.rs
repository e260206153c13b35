//! Configuration from environment variables, validated at start-up with one clear error per problem.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `APP_ENV` | `development` | `development` or `production` |
//! | `DATABASE_URL` | `sqlite://conduit.db` | `sqlite://PATH` or `postgres://USER:PASS@HOST/DB` |
//! | `BIND_ADDR` | `127.0.0.1:8080` | address and port to listen on |
//! | `JWT_SECRET` | random in development | HMAC key, at least 32 bytes; required in production |
//! | `JWT_PREVIOUS_SECRETS` | none | comma-separated retired keys still accepted for verification |
//! | `ACCESS_TOKEN_TTL` | `1h` | access token lifetime (`90s`, `15m`, `1h`) |
//! | `RUST_LOG` | `info` | log filter (tracing-subscriber's `EnvFilter` syntax) |
//! | `LOG_FORMAT` | `pretty` (`json` in production) | `pretty` or `json` |
//! | `WORKERS` | one per core | actix-web worker threads |

use std::time::Duration;

use conduit_security::{HashingParams, JwtSettings, SigningKey};

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
    pub bind_addr: String,
    pub jwt: JwtSettings,
    pub log_filter: String,
    pub log_format: LogFormat,
    pub workers: Option<usize>,
    /// Always OWASP's minimum from the environment; tests build a `Config` with cheaper ones, and
    /// production refuses to start with anything below the minimum.
    pub password_hashing: HashingParams,
    pub hashing_concurrency: usize,
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

        let access_token_ttl = match get("ACCESS_TOKEN_TTL") {
            None => Duration::from_secs(60 * 60),
            Some(raw) => match humantime::parse_duration(&raw) {
                Ok(ttl)
                    if ttl >= Duration::from_secs(1)
                        && ttl <= Duration::from_secs(30 * 24 * 3600) =>
                {
                    ttl
                }
                _ => {
                    fail(
                        "ACCESS_TOKEN_TTL",
                        format!("must be a duration between 1s and 30d such as 15m, not {raw:?}"),
                    );
                    Duration::from_secs(60 * 60)
                }
            },
        };

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

        if !errors.is_empty() {
            return Err(errors);
        }
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        Ok(Self {
            app_env,
            database_url,
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
            password_hashing: HashingParams::OWASP_MINIMUM,
            hashing_concurrency: cores,
            warnings,
        })
    }
}

#[cfg(test)]
mod tests;
