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
//! directory for logs (default `target/rehearsal`). `conduit-rehearsal --help` says the same.

// A command-line tool: its report and its address are its output.
#![allow(clippy::print_stdout)]

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser as _;
use conduit_ops::topology::{Options, Topology};
use conduit_ops::{hostile_bench, live_bench, rehearsal};

/// The production topology as processes on this machine: PostgreSQL, conduit instances, nginx.
#[derive(Debug, clap::Parser)]
#[command(name = "conduit-rehearsal")]
struct Cli {
    /// The conduit binary to run
    #[arg(long, global = true, default_value = "target/release/conduit")]
    binary: PathBuf,
    /// The directory for logs and reports
    #[arg(long, global = true, default_value = "target/rehearsal")]
    dir: PathBuf,
    #[command(subcommand)]
    task: Task,
}

#[derive(Debug, clap::Subcommand)]
enum Task {
    /// PostgreSQL, two instances and nginx, serving until Ctrl-C, which stops everything
    Up {
        /// nginx's port on 127.0.0.1
        #[arg(long, default_value_t = 8080)]
        port: u16,
    },
    /// The rehearsal; its figures go to report.md
    Check {
        /// How long the read load lasts
        #[arg(long, default_value_t = 60)]
        load_secs: u64,
        /// Only this step
        #[arg(long, value_enum)]
        only: Option<Only>,
        /// Rounds of the rolling restart (each instance stopped once a round), under one load
        #[arg(long, default_value_t = 1, requires = "only", value_parser = clap::value_parser!(u64).range(1..))]
        repeat: u64,
    },
    /// The live-updates benchmark; its figures go to live-bench.md
    LiveBench(live_bench::Plan),
    /// The hostile-clients benchmark on one instance; its figures go to hostile-bench.md
    HostileBench(hostile_bench::Plan),
    /// Only the journey, against a topology already running (as after `docker compose up`)
    Journey {
        /// Where it serves, such as http://127.0.0.1:8080
        #[arg(long)]
        address: String,
    },
}

/// The steps `check --only` can run alone.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Only {
    RollingRestart,
}

#[tokio::main]
async fn main() -> ExitCode {
    // reqwest is built without a TLS provider of its own (as the server installs ring's).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = Cli::parse();
    let mut options = Options {
        binary: cli.binary,
        nginx_conf: PathBuf::from("deploy/nginx.conf"),
        dir: cli.dir,
        instances: 2,
        port: 0,
        environment: rehearsal::environment(),
    };
    match cli.task {
        Task::Up { port } => {
            options.port = port;
            up(&options).await
        }
        Task::Check {
            load_secs,
            only,
            repeat,
        } => {
            let plan = match only {
                Some(Only::RollingRestart) => rehearsal::Plan::RollingRestart {
                    rounds: usize::try_from(repeat).unwrap_or(usize::MAX),
                },
                None => rehearsal::Plan::Everything { load_secs },
            };
            let outcome = rehearsal::run(&options, plan).await;
            reported(&options, "report.md", "FAILED", outcome)
        }
        Task::LiveBench(plan) => {
            let outcome = live_bench::run(&options, plan).await;
            reported(&options, "live-bench.md", "the benchmark FAILED", outcome)
        }
        Task::HostileBench(plan) => {
            let outcome = hostile_bench::run(&options, plan).await;
            reported(
                &options,
                "hostile-bench.md",
                "the benchmark FAILED",
                outcome,
            )
        }
        Task::Journey { address } => match rehearsal::journey(&address).await {
            Ok(()) => {
                println!("the journey passed");
                ExitCode::SUCCESS
            }
            Err(failure) => {
                eprintln!("conduit-rehearsal: the journey FAILED: {failure}");
                ExitCode::FAILURE
            }
        },
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
