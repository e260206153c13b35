//! The cargo-nextest setup script for the PostgreSQL tests (see `.config/nextest.toml`).
//!
//! Starts one PostgreSQL container for the whole run, builds the migrated template in it, and
//! hands the server's URL to every test through the file named by `NEXTEST_ENV`. The container
//! removes itself once no test has been connected for a while (see `conduit_test_support::postgres`).
//!
//! `conduit-test-postgres hold` starts a container the same way, prints `container <id>`, and
//! holds a connection to it until killed: what a test process does, for the test that kills one.

use std::io::Write;

use conduit_test_support::postgres::{DATABASE_URL_VAR, ensure_template, start_server};
use sqlx::Connection;

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    if std::env::args().nth(1).as_deref() == Some("hold") {
        return hold().await;
    }
    let Some(env_file) = std::env::var_os("NEXTEST_ENV") else {
        eprintln!("conduit-test-postgres is a cargo-nextest setup script: NEXTEST_ENV is not set");
        return std::process::ExitCode::FAILURE;
    };
    let server = start_server().await;
    ensure_template(&server.url).await;
    let written = std::fs::OpenOptions::new()
        .append(true)
        .open(&env_file)
        .and_then(|mut file| writeln!(file, "{DATABASE_URL_VAR}={}", server.url));
    if let Err(error) = written {
        eprintln!("cannot write {}: {error}", env_file.to_string_lossy());
        return std::process::ExitCode::FAILURE;
    }
    std::process::ExitCode::SUCCESS
}

/// Starts a container, connects, says which container it is, and waits to be killed.
async fn hold() -> std::process::ExitCode {
    let server = start_server().await;
    let Ok(connection) = sqlx::PgConnection::connect(&server.url).await else {
        eprintln!("cannot connect to {}", server.container_id);
        return std::process::ExitCode::FAILURE;
    };
    // Standard output is this command's answer to the test that started it.
    #[allow(clippy::print_stdout)]
    {
        println!("container {}", server.container_id);
    }
    // Until killed: the connection stays open, as a running test's would.
    std::future::pending::<()>().await;
    drop(connection);
    std::process::ExitCode::SUCCESS
}
