//! `conduit`: serves the Conduit API. Configuration comes from the environment (and `.env` in
//! development) or the same as flags (`conduit --help`); with none at all it serves on
//! http://127.0.0.1:8080 from `conduit.db`.
//!
//! `conduit healthcheck` asks the instance at `BIND_ADDR` whether it is ready (exit 0) or not
//! (exit 1): the container image's `HEALTHCHECK`.

use std::process::ExitCode;

use conduit_server::{Application, Config, Refusal, healthcheck, telemetry};

#[actix_web::main]
async fn main() -> ExitCode {
    if std::env::args().nth(1).as_deref() == Some("healthcheck") {
        let bind_addr = std::env::var("BIND_ADDR").unwrap_or_else(|_| "127.0.0.1:8080".to_owned());
        return match healthcheck::check(&bind_addr, std::time::Duration::from_secs(3)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(unhealthy) => {
                eprintln!("conduit: not ready: {unhealthy}");
                ExitCode::FAILURE
            }
        };
    }
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(Refusal::Invalid(errors)) => {
            // Telemetry is configured from the same variables, so these go straight to stderr.
            eprintln!("conduit: invalid configuration:");
            for error in errors {
                eprintln!("  - {error}");
            }
            return ExitCode::FAILURE;
        }
        // --help, --version, or flags clap cannot read: its own text and exit code.
        Err(Refusal::Arguments(told)) => {
            let _ = told.print();
            return ExitCode::from(u8::try_from(told.exit_code()).unwrap_or(2));
        }
    };
    telemetry::init(&config);
    for warning in &config.warnings {
        tracing::warn!("{warning}");
    }

    // `build` logs the start-up line: address, port, environment and password policy.
    let application = match Application::build(config).await {
        Ok(application) => application,
        Err(error) => {
            tracing::error!(error = %error, "conduit could not start");
            return ExitCode::FAILURE;
        }
    };
    match application.run_until_stopped().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error = %error, "conduit stopped with an error");
            ExitCode::FAILURE
        }
    }
}
