//! The `conduit` binary's start-up, as an operator meets it: `--help`, and a configuration with
//! several mistakes, each named, before anything is opened.

use std::process::Command;

fn conduit() -> Command {
    let mut command = bare();
    // Production reads no .env, so none of the developer's counts.
    command.env("APP_ENV", "production");
    command
}

/// The binary with nothing from the developer's environment, but where a coverage run wants
/// its profile.
fn bare() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_conduit"));
    command.env_clear();
    if let Some(profile) = std::env::var_os("LLVM_PROFILE_FILE") {
        command.env("LLVM_PROFILE_FILE", profile);
    }
    command
}

#[test]
fn help_lists_every_variable_with_its_flag_and_exits_0() {
    let output = conduit().arg("--help").output().expect("conduit runs");

    assert!(output.status.success(), "{output:?}");
    let help = String::from_utf8_lossy(&output.stdout);
    for expected in [
        "--database-url <DATABASE_URL>",
        "[env: JWT_SECRET]",
        "[default: 1h]",
        "healthcheck",
    ] {
        assert!(
            help.contains(expected),
            "--help lacks {expected:?}:\n{help}"
        );
    }
}

#[test]
fn every_invalid_variable_is_named_at_once_and_nothing_starts() {
    let output = conduit()
        .env("WORKERS", "0")
        .env("LOG_FORMAT", "xml")
        .env("BIND_ADDR", "localhost")
        .output()
        .expect("conduit runs");

    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let said = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        said.lines().collect::<Vec<_>>(),
        [
            "conduit: invalid configuration:",
            "  - BIND_ADDR: must be an address and port such as 127.0.0.1:8080, not \"localhost\"",
            "  - LOG_FORMAT: must be pretty or json, not \"xml\"",
            "  - WORKERS: must be a whole number from 1 to 256, not \"0\"",
            "  - JWT_SECRET: is required in production (at least 32 random bytes)",
        ]
    );
    assert!(output.stdout.is_empty());
}

#[test]
fn production_refuses_to_start_without_a_secret() {
    let output = conduit().output().expect("conduit runs");

    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("JWT_SECRET: is required in production"),
        "{output:?}"
    );
}

#[test]
fn a_flag_clap_cannot_read_is_a_usage_error() {
    let output = conduit()
        .arg("--no-such-flag")
        .output()
        .expect("conduit runs");

    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(String::from_utf8_lossy(&output.stderr).contains("--no-such-flag"));
}

/// `conduit` in a directory of its own, whose `.env` holds `dotenv`, with no variable but `set`.
fn in_a_directory_with(dotenv: &str, set: &[(&str, &str)], args: &[&str]) -> std::process::Output {
    let dir = tempfile::tempdir().expect("a directory");
    std::fs::write(dir.path().join(".env"), dotenv).expect("written");
    let mut command = bare();
    command.current_dir(dir.path()).args(args);
    for (name, value) in set {
        command.env(name, value);
    }
    command.output().expect("conduit runs")
}

const SECRET_IN_DOTENV: &str = "JWT_SECRET=dotenv-secret-of-at-least-32-bytes-long\nWORKERS=abc\n";

#[test]
fn production_chosen_by_its_flag_reads_no_dotenv() {
    let output = in_a_directory_with(SECRET_IN_DOTENV, &[], &["--app-env", "production"]);

    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(
        said.contains("JWT_SECRET: is required in production"),
        "{said}"
    );
    assert!(!said.contains("WORKERS"), "the .env was read: {said}");
}

#[test]
fn a_dotenv_cannot_choose_production() {
    let output = in_a_directory_with(
        "APP_ENV=production\nJWT_SECRET=dotenv-secret-of-at-least-32-bytes-long\n",
        &[],
        &[],
    );

    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert!(
        String::from_utf8_lossy(&output.stderr).contains(
            "APP_ENV: production is chosen by the environment or --app-env, never by .env"
        ),
        "{output:?}"
    );
}

#[test]
fn a_dotenv_fills_a_blank_variable_and_help_answers_whatever_they_hold() {
    let filled = in_a_directory_with(SECRET_IN_DOTENV, &[("WORKERS", " ")], &[]);
    let help = in_a_directory_with(SECRET_IN_DOTENV, &[("WORKERS", "abc")], &["--help"]);

    assert_eq!(filled.status.code(), Some(1), "{filled:?}");
    assert!(
        String::from_utf8_lossy(&filled.stderr)
            .contains("WORKERS: must be a whole number from 1 to 256, not \"abc\""),
        "{filled:?}"
    );
    assert!(help.status.success(), "{help:?}");
    assert!(String::from_utf8_lossy(&help.stdout).contains("--workers <WORKERS>"));
}
