//! `cargo xtask up` and `cargo xtask rehearse`: the production topology (PostgreSQL, two release
//! instances, nginx) as processes on this machine, to use by hand or to put through restarts,
//! faults and load. Both build the release binary first, then hand over to the end-to-end crate's
//! `conduit-rehearsal` (see `crates/ops/src/topology.rs` and `crates/ops/src/rehearsal.rs`).

use std::path::PathBuf;
use std::process::{Command, ExitCode};

/// A `conduit-rehearsal` binary already built, to run instead of `cargo run`'s.
const RUNNER_VAR: &str = "CONDUIT_REHEARSAL_RUNNER";
/// A `conduit` binary already built, to run instead of building the release one.
const BINARY_VAR: &str = "CONDUIT_BINARY";
/// How many of [`runner_args`] are `cargo run`'s own, before the runner's (up to its `--`).
const RUNNER_PREFIX: usize = 10;

/// The runner's commands that are benchmarks: their load comes from the runner, on the cores the
/// server uses, so the runner is built with the release profile. A debug runner took more CPU
/// than both instances together at 1,000 articles a second, and its delivery figures measured
/// it.
const BENCHMARKS: [&str; 2] = ["live-bench", "hostile-bench"];

/// The arguments for `cargo` that run `conduit-rehearsal <command>` on `binary`.
pub(crate) fn runner_args(command: &str, binary: &str, extra: &[String]) -> Vec<String> {
    let profile = if BENCHMARKS.contains(&command) {
        "release"
    } else {
        "dev"
    };
    let mut args: Vec<String> = [
        "run",
        "--quiet",
        "--locked",
        "--profile",
        profile,
        "--package",
        "conduit-ops",
        "--bin",
        "conduit-rehearsal",
        "--",
        command,
        "--binary",
        binary,
    ]
    .iter()
    .map(|arg| (*arg).to_owned())
    .collect();
    args.extend(extra.iter().cloned());
    args
}

/// Whether `cargo run` set this variable for xtask itself (its package's name, version and
/// manifest). Build scripts such as ring's ask to be rerun when these change, so a cargo started
/// with them would rebuild, from ring up, what a cargo started from the shell already built.
pub(crate) fn set_for_xtask(name: &str) -> bool {
    name.starts_with("CARGO_PKG_")
        || name.starts_with("CARGO_MANIFEST_")
        || [
            "CARGO_CRATE_NAME",
            "CARGO_BIN_NAME",
            "CARGO_PRIMARY_PACKAGE",
        ]
        .contains(&name)
}

/// `cargo`, in the environment a shell would give it.
fn cargo() -> Command {
    let mut command = Command::new("cargo");
    for (name, _) in std::env::vars_os() {
        if name.to_str().is_some_and(set_for_xtask) {
            command.env_remove(name);
        }
    }
    command
}

pub(crate) fn run(command: &str, extra: &[String]) -> ExitCode {
    let target = match cargo_metadata::MetadataCommand::new().no_deps().exec() {
        Ok(metadata) => PathBuf::from(metadata.target_directory),
        Err(error) => {
            eprintln!("{command}: cannot read the workspace: {error}");
            return ExitCode::FAILURE;
        }
    };
    let binary = match std::env::var_os(BINARY_VAR) {
        // CI names the server binary it built for the tests (instrumented), so that no release
        // build is made only to be rehearsed.
        Some(binary) => PathBuf::from(binary),
        None => {
            // Built as `scripts/schemathesis.sh` builds it.
            let built = cargo()
                .args(["build", "--release", "--locked", "--bin", "conduit"])
                .status();
            if !built.is_ok_and(|status| status.success()) {
                eprintln!("{command}: the release build failed");
                return ExitCode::FAILURE;
            }
            target.join("release").join("conduit")
        }
    };
    // CI builds the runner beside the tests, on the dependencies they built (`.ci/run`), and
    // names it here, rather than have cargo build every dependency once more.
    let ran = match std::env::var_os(RUNNER_VAR) {
        Some(runner) => Command::new(runner)
            .args(runner_args(command, &binary.to_string_lossy(), extra).split_off(RUNNER_PREFIX))
            .status(),
        None => cargo()
            .args(runner_args(command, &binary.to_string_lossy(), extra))
            .status(),
    };
    match ran {
        Ok(status) if status.success() => ExitCode::SUCCESS,
        _ => ExitCode::FAILURE,
    }
}

#[cfg(test)]
mod tests {
    use super::{runner_args, set_for_xtask};

    #[test]
    fn the_package_variables_of_cargo_run_are_dropped_and_cargo_own_are_kept() {
        for dropped in [
            "CARGO_PKG_NAME",
            "CARGO_PKG_VERSION_MAJOR",
            "CARGO_MANIFEST_DIR",
            "CARGO_MANIFEST_LINKS",
            "CARGO_CRATE_NAME",
            "CARGO_PRIMARY_PACKAGE",
        ] {
            assert!(set_for_xtask(dropped), "{dropped}");
        }
        for kept in ["CARGO_HOME", "CARGO_TARGET_DIR", "CARGO_TERM_COLOR", "PATH"] {
            assert!(!set_for_xtask(kept), "{kept}");
        }
    }

    #[test]
    fn a_runner_built_already_gets_what_follows_cargo_runs_own_arguments() {
        let args = runner_args("check", "/t/release/conduit", &[]);

        assert_eq!(args[super::RUNNER_PREFIX - 1], "--");
        assert_eq!(
            args[super::RUNNER_PREFIX..],
            ["check", "--binary", "/t/release/conduit"]
        );
    }

    #[test]
    fn a_benchmark_runs_a_release_runner_and_a_rehearsal_a_debug_one() {
        let profile = |command| {
            let args = runner_args(command, "/t/release/conduit", &[]);
            let at = args.iter().position(|arg| arg == "--profile");
            at.map(|at| args[at + 1].clone())
        };

        assert_eq!(profile("live-bench").as_deref(), Some("release"));
        assert_eq!(profile("hostile-bench").as_deref(), Some("release"));
        assert_eq!(profile("check").as_deref(), Some("dev"));
        assert_eq!(profile("up").as_deref(), Some("dev"));
    }

    #[test]
    fn the_runner_gets_its_command_the_binary_and_the_extra_flags_in_order() {
        let args = runner_args(
            "check",
            "/t/release/conduit",
            &["--load-secs".into(), "5".into()],
        );

        assert_eq!(
            args[args.len() - 5..],
            [
                "check",
                "--binary",
                "/t/release/conduit",
                "--load-secs",
                "5"
            ]
        );
        assert!(args.contains(&"conduit-rehearsal".to_owned()));
    }
}
