//! Logging: `tracing` to stdout, human-readable or JSON, filtered by `RUST_LOG`.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::util::SubscriberInitExt;

use crate::config::{Config, LogFormat};

/// sqlx logs each statement's SQL text (at debug, or at warn when slow) under this target. SQL
/// text never goes to the logs, whatever `RUST_LOG` says: failures are logged by the stores
/// without it.
const SQL_TEXT: &str = "sqlx::query=off";

/// The subscriber the server logs through, writing to `writer`: what `init` installs with
/// stdout, and what tests install with a buffer to read what the server would have logged.
pub fn subscriber<W>(config: &Config, writer: W) -> Box<dyn tracing::Subscriber + Send + Sync>
where
    W: for<'writer> MakeWriter<'writer> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_new(&config.log_filter)
        .unwrap_or_else(|_| EnvFilter::new("info"))
        .add_directive(SQL_TEXT.parse().unwrap_or_default());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    match config.log_format {
        LogFormat::Json => Box::new(builder.json().flatten_event(true).finish()),
        LogFormat::Pretty => Box::new(builder.finish()),
    }
}

/// Installs the global subscriber. Calling it twice is harmless (the second call does nothing).
pub fn init(config: &Config) {
    let _ = subscriber(config, std::io::stdout).try_init();
}
