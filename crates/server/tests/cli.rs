//! The `conduit` binary's start-up, as an operator meets it: `--help`, and a configuration with
//! several mistakes, each named, before anything is opened.

use std::process::Command;

fn conduit() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_conduit"));
    // Nothing from the developer's environment or a .env file: production reads no .env.
    command.env_clear().env("APP_ENV", "production");
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
