//! Logging: `tracing` to stdout, human-readable or JSON, filtered by `RUST_LOG`.

use tracing_subscriber::EnvFilter;

use crate::config::{Config, LogFormat};

/// sqlx logs each statement's SQL text (at debug, or at warn when slow) under this target. SQL
/// text never goes to the logs, whatever `RUST_LOG` says: failures are logged by the stores
/// without it.
const SQL_TEXT: &str = "sqlx::query=off";

/// Installs the global subscriber. Calling it twice is harmless (the second call does nothing).
pub fn init(config: &Config) {
    let filter = EnvFilter::try_new(&config.log_filter)
        .unwrap_or_else(|_| EnvFilter::new("info"))
        .add_directive(SQL_TEXT.parse().unwrap_or_default());
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let _ = match config.log_format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Pretty => builder.try_init(),
    };
}
