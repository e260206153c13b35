//! `cargo xtask up` and `cargo xtask rehearse`: the production topology (PostgreSQL, two release
//! instances, nginx) as processes on this machine, to use by hand or to put through restarts,
//! faults and load. Both build the release binary first, then hand over to the end-to-end crate's
//! `conduit-rehearsal` (see `tests/src/topology.rs` and `tests/src/rehearsal.rs`).

use std::path::PathBuf;
use std::process::{Command, ExitCode};

/// The arguments for `cargo` that run `conduit-rehearsal <command>` on `binary`.
pub(crate) fn runner_args(command: &str, binary: &str, extra: &[String]) -> Vec<String> {
    let mut args: Vec<String> = [
        "run",
        "--quiet",
        "--locked",
        "--package",
        "conduit-e2e",
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

pub(crate) fn run(command: &str, extra: &[String]) -> ExitCode {
    let target = match cargo_metadata::MetadataCommand::new().no_deps().exec() {
        Ok(metadata) => PathBuf::from(metadata.target_directory),
        Err(error) => {
            eprintln!("{command}: cannot read the workspace: {error}");
            return ExitCode::FAILURE;
        }
    };
    // Built as `scripts/schemathesis.sh` builds it (the workspace's features), so that CI, which
    // runs both, builds the release binary once.
    let built = Command::new("cargo")
        .args(["build", "--release", "--locked", "--bin", "conduit"])
        .status();
    if !built.is_ok_and(|status| status.success()) {
        eprintln!("{command}: the release build failed");
        return ExitCode::FAILURE;
    }
    let binary = target.join("release").join("conduit");
    let ran = Command::new("cargo")
        .args(runner_args(command, &binary.to_string_lossy(), extra))
        .status();
    match ran {
        Ok(status) if status.success() => ExitCode::SUCCESS,
        _ => ExitCode::FAILURE,
    }
}

#[cfg(test)]
mod tests {
    use super::runner_args;

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
