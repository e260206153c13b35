//! `conduit-rehearsal`: the production topology as processes on this machine (see
//! `conduit_ops::topology`). Run through `cargo xtask up` and `cargo xtask rehearse`, which build
//! the release binary first.
//!
//! - `conduit-rehearsal up [--port N]`: PostgreSQL, two instances and nginx, serving on
//!   http://127.0.0.1:N (8080 by default) until Ctrl-C, which stops everything.
//! - `conduit-rehearsal check [--load-secs S]`: the rehearsal (`conduit_ops::rehearsal`); exits 0
//!   when every step passed, and writes its figures to `target/rehearsal/report.md`.
//!   `--only rolling-restart [--repeat N]` runs only the rolling restart, N rounds (each
//!   instance stopped once a round) under one load.
//!
//! - `conduit-rehearsal live-bench [--sockets N] [--rate N] [--secs S] [--across N]`: the
//!   live-updates benchmark
//!   (`conduit_ops::live_bench`) on a topology of its own; its figures go to
//!   `target/rehearsal/live-bench.md`.
//!
//! - `conduit-rehearsal hostile-bench [--sockets N]`: the hostile-clients benchmark
//!   (`conduit_ops::hostile_bench`) on one instance of its own; its figures go to
//!   `target/rehearsal/hostile-bench.md`.
//!
//! - `conduit-rehearsal journey --address URL`: only the journey, against a topology already
//!   running (what the GitHub job runs against `docker compose up`).
//!
//! `--binary PATH` names the conduit binary (default `target/release/conduit`); `--dir PATH` the
//! directory for logs (default `target/rehearsal`).

// A command-line tool: its report and its address are its output.
#![allow(clippy::print_stdout)]

use std::path::PathBuf;
use std::process::ExitCode;

use conduit_ops::topology::{Options, Topology};
use conduit_ops::{hostile_bench, live_bench, rehearsal};

const USAGE: &str = "usage: conduit-rehearsal <up [--port N] | check [--load-secs S] [--only rolling-restart [--repeat N]] | \
                     live-bench [--sockets N] [--rate N] [--secs S] [--across N] | hostile-bench [--sockets N] | journey --address URL> [--binary PATH] [--dir PATH]";

#[tokio::main]
async fn main() -> ExitCode {
    // reqwest is built without a TLS provider of its own (as the server installs ring's).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut args = std::env::args().skip(1);
    let command = args.next();
    let mut options = Options {
        binary: PathBuf::from("target/release/conduit"),
        nginx_conf: PathBuf::from("deploy/nginx.conf"),
        dir: PathBuf::from("target/rehearsal"),
        instances: 2,
        port: 8080,
        environment: rehearsal::environment(),
    };
    let mut load_secs = 60;
    let mut only = None;
    let mut repeat = 1;
    let mut plan = live_bench::Plan::default();
    let mut hostile = hostile_bench::Plan::default();
    let mut address = None;
    while let Some(flag) = args.next() {
        let value = args.next();
        let parsed = match (flag.as_str(), value) {
            ("--port", Some(value)) => value.parse().map(|port| options.port = port).is_ok(),
            ("--load-secs", Some(value)) => value.parse().map(|secs| load_secs = secs).is_ok(),
            ("--only", Some(value)) if value == "rolling-restart" => {
                only = Some(value);
                true
            }
            ("--repeat", Some(value)) => {
                value.parse().map(|n| repeat = n).is_ok_and(|()| repeat > 0)
            }
            ("--sockets", Some(value)) => value
                .parse()
                .map(|n| {
                    plan.sockets = n;
                    hostile.sockets = n;
                })
                .is_ok(),
            ("--rate", Some(value)) => value.parse().map(|n| plan.rate = n).is_ok(),
            ("--secs", Some(value)) => value.parse().map(|n| plan.secs = n).is_ok(),
            ("--across", Some(value)) => value.parse().map(|n| plan.across = n).is_ok(),
            ("--address", Some(value)) => {
                address = Some(value);
                true
            }
            ("--binary", Some(value)) => {
                options.binary = PathBuf::from(value);
                true
            }
            ("--dir", Some(value)) => {
                options.dir = PathBuf::from(value);
                true
            }
            _ => false,
        };
        if !parsed {
            eprintln!("{USAGE}");
            return ExitCode::FAILURE;
        }
    }
    match command.as_deref() {
        Some("up") => up(&options).await,
        Some("check") => {
            let plan = match only {
                Some(_) => rehearsal::Plan::RollingRestart { rounds: repeat },
                None => rehearsal::Plan::Everything { load_secs },
            };
            check(options, plan).await
        }
        Some("live-bench") => bench(options, plan).await,
        Some("hostile-bench") => {
            options.port = 0;
            let outcome = hostile_bench::run(&options, hostile).await;
            reported(
                &options,
                "hostile-bench.md",
                "the benchmark FAILED",
                outcome,
            )
        }
        Some("journey") if address.is_some() => {
            match rehearsal::journey(address.as_deref().unwrap_or_default()).await {
                Ok(()) => {
                    println!("the journey passed");
                    ExitCode::SUCCESS
                }
                Err(failure) => {
                    eprintln!("conduit-rehearsal: the journey FAILED: {failure}");
                    ExitCode::FAILURE
                }
            }
        }
        _ => {
            eprintln!("{USAGE}");
            ExitCode::FAILURE
        }
    }
}

async fn up(options: &Options) -> ExitCode {
    let topology = match Topology::start(options).await {
        Ok(topology) => topology,
        Err(failure) => {
            eprintln!("conduit-rehearsal: {failure}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "Conduit is serving on {} (nginx, {} instances, PostgreSQL at {}).\n\
         Logs: {}. Ctrl-C stops everything.",
        topology.address,
        topology.instance_count(),
        topology.database_url(),
        topology.dir().display()
    );
    if let Err(error) = tokio::signal::ctrl_c().await {
        eprintln!("conduit-rehearsal: cannot wait for Ctrl-C: {error}");
    }
    match topology.stop().await {
        Ok(_) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("conduit-rehearsal: {failure}");
            ExitCode::FAILURE
        }
    }
}

async fn check(mut options: Options, plan: rehearsal::Plan) -> ExitCode {
    options.port = 0;
    let outcome = rehearsal::run(&options, plan).await;
    reported(&options, "report.md", "FAILED", outcome)
}

async fn bench(mut options: Options, plan: live_bench::Plan) -> ExitCode {
    options.port = 0;
    let outcome = live_bench::run(&options, plan).await;
    reported(&options, "live-bench.md", "the benchmark FAILED", outcome)
}

/// Prints the report and writes it to `file` in the run's directory, or says what failed.
fn reported(
    options: &Options,
    file: &str,
    failed: &str,
    outcome: Result<String, conduit_ops::topology::Failure>,
) -> ExitCode {
    match outcome {
        Ok(report) => {
            println!("{report}");
            let path = options.dir.join(file);
            if let Err(error) = std::fs::write(&path, &report) {
                eprintln!("cannot write {}: {error}", path.display());
            }
            ExitCode::SUCCESS
        }
        Err(failure) => {
            eprintln!(
                "conduit-rehearsal: {failed}: {failure}\nThe processes' output is in {}.",
                options.dir.display()
            );
            ExitCode::FAILURE
        }
    }
}
