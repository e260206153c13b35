//! The cargo-nextest setup script for the PostgreSQL tests (see `.config/nextest.toml`).
//!
//! Starts one PostgreSQL container for the whole run, builds the migrated template in it, starts a
//! detached filler that keeps databases ready for the tests (`conduit-test-postgres fill URL PID`),
//! and hands the server's URL to every test through the file named by `NEXTEST_ENV`. The container
//! is removed, and the filler stops, when the nextest process exits.

use std::io::Write;

use conduit_test_support::postgres::{DATABASE_URL_VAR, ensure_template, fill_pool, start_server};

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    if let [command, url, owner] = arguments.as_slice()
        && command == "fill"
    {
        let Ok(owner) = owner.parse() else {
            eprintln!("usage: conduit-test-postgres fill <server-url> <owner-pid>");
            return std::process::ExitCode::FAILURE;
        };
        return match fill_pool(url, owner).await {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(_) => std::process::ExitCode::FAILURE,
        };
    }
    let Some(env_file) = std::env::var_os("NEXTEST_ENV") else {
        eprintln!("conduit-test-postgres is a cargo-nextest setup script: NEXTEST_ENV is not set");
        return std::process::ExitCode::FAILURE;
    };
    let owner = nextest_pid();
    let url = start_server(owner).await;
    ensure_template(&url).await;
    spawn_filler(&url, owner);
    let written = std::fs::OpenOptions::new()
        .append(true)
        .open(&env_file)
        .and_then(|mut file| writeln!(file, "{DATABASE_URL_VAR}={url}"));
    if let Err(error) = written {
        eprintln!("cannot write {}: {error}", env_file.to_string_lossy());
        return std::process::ExitCode::FAILURE;
    }
    std::process::ExitCode::SUCCESS
}

/// The nextest process that runs this script, found by walking up the process tree (the script is
/// started through `cargo run`). Falls back to the parent process.
fn nextest_pid() -> u32 {
    let parent = std::os::unix::process::parent_id();
    let mut pid = parent;
    for _ in 0..8 {
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        if String::from_utf8_lossy(&cmdline).contains("nextest") {
            return pid;
        }
        let Some(next) = parent_of(pid) else { break };
        pid = next;
    }
    parent
}

fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may contain spaces and parentheses: the fields we want follow the last ')'.
    let after_name = stat.rsplit_once(')')?.1;
    after_name.split_whitespace().nth(1)?.parse().ok()
}

/// Starts `conduit-test-postgres fill` detached from this script, which nextest waits for.
fn spawn_filler(url: &str, owner: u32) {
    let started = std::env::current_exe().and_then(|exe| {
        std::process::Command::new("setsid")
            .arg("-f")
            .arg(exe)
            .args(["fill", url, &owner.to_string()])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
    });
    if !matches!(started, Ok(status) if status.success()) {
        // Not fatal: every test then makes its own copy of the template.
        eprintln!("could not start the filler of ready databases");
    }
}
